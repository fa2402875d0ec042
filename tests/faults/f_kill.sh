# shellcheck shell=bash
# Fault class "kill": SIGKILL at a random moment of each command that
# writes to the repository or to a data directory: backup (full, incr,
# diff), archive-push, archive-get, restore, expire, verify and the
# scheduler. Each of the N trials kills every command once, at a moment
# drawn between its start and the duration of an undisturbed run of the
# same command (measured first), and then checks the invariants of
# common.sh. Extra per-command checks: a killed archive-get leaves no file
# under the destination name unless it is the complete segment; a killed
# restore must not be startable by PostgreSQL, and a --delta restore over
# it must recover every committed marker row.

KILL_CMDS=(backup-full backup-incr backup-diff archive-push archive-get restore expire verify schedule)
declare -gA KILL_MS=()

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# kill_cmd_start CMD: start one run of CMD in the background (BG_PID).
kill_cmd_start() {
    local out=$ROOT/work/kill-$1.out
    case $1 in
        backup-*) pgbkp_bg "$out" backup --no-expire --type "${1#backup-}" ;;
        archive-push) pgbkp_bg "$out" archive-push "${PG_DATA[main]}/pg_wal/$PUSH_SEG" ;;
        archive-get) as_pg rm -f "$ROOT/work/get/$GET_SEG"
                     pgbkp_bg "$out" archive-get "$GET_SEG" "$ROOT/work/get/$GET_SEG" ;;
        restore) pgbkp_bg "$out" restore --target-dir "$ROOT/pg/killed" ;;
        expire) pgbkp_bg "$out" expire --retention-full 2 ;;
        verify) pgbkp_bg "$out" verify ;;
        schedule)
            ( cd "$ROOT" && exec setsid setpriv --reuid=postgres --regid=postgres --init-groups --reset-env \
                env LANG=C.UTF-8 TZ=UTC "$INST/bin/pgbkp" --config "$ROOT/sched.yml" schedule ) \
                >"$out" 2>&1 </dev/null &
            BG_PID=$!; BG_PIDS+=("$BG_PID") ;;
    esac
}

# kill_prepare CMD: what a run of CMD needs before it starts.
kill_prepare() {
    case $1 in
        archive-push)
            # a completed segment PostgreSQL has not archived yet
            hold_new_segment ;;
        archive-get)
            GET_SEG=$(pg_switch_and_wait main)
            mkdir -p "$ROOT/work/get"; chown postgres "$ROOT/work/get"
            [ -f "$ROOT/work/get/$GET_SEG.good" ] || {
                pgbkp archive-get "$GET_SEG" "$ROOT/work/get/$GET_SEG.good" >/dev/null; } ;;
        restore) lib_stop_dir "$ROOT/pg/killed"; rm -rf "$ROOT/pg/killed" ;;
        expire) pgbkp backup --no-expire --type full >/dev/null 2>&1 ;;  # something to expire
    esac
}

# kill_after CMD: checks of what the killed run of CMD left, beyond common.sh.
kill_after() {
    case $1 in
        archive-push) archive_release ;;
        archive-get) check "archive-get: no partial segment under its name" get_dest_ok ;;
        restore)
            check "restore: the killed restore is not startable" restored_refused "$ROOT/pg/killed"
            check "restore: --delta over the killed restore recovers every row" restore_again_correct "$ROOT/pg/killed" ;;
    esac
}

get_dest_ok() {
    local d=$ROOT/work/get/$GET_SEG
    [ ! -e "$d" ] || cmp -s "$d" "$d.good" || { echo "archive-get left a different $d"; return 1; }
    [ -z "$(find "$ROOT/work/get" \( -name ".*" -o -name "*.pgbkp-tmp" \) -type f)" ] || { echo "archive-get left temporary files: $(ls -A "$ROOT/work/get")"; return 1; }
}

class_main() {
    local n i c t0 ms delay last
    n=$(fault_rounds "$1" ${#KILL_CMDS[@]})
    fault_setup
    sched_yml
    # an undisturbed run of each command: how long a kill may wait
    for c in "${KILL_CMDS[@]}"; do
        [ "$c" = schedule ] && { KILL_MS[$c]=4000; continue; }
        kill_prepare "$c"
        t0=$(now_ms)
        kill_cmd_start "$c"
        wait "$BG_PID" || true
        ms=$(( $(now_ms) - t0 ))
        KILL_MS[$c]=$ms
        [ "$c" = archive-push ] && archive_release
        echo "### undisturbed $c: ${ms} ms"
    done
    lib_stop_dir "$ROOT/pg/killed"; rm -rf "$ROOT/pg/killed"
    for ((i = 1; i <= n; i++)); do
        for c in "${KILL_CMDS[@]}"; do
            marker_commit
            kill_prepare "$c"
            delay=$(( RANDOM * 32768 + RANDOM ))
            delay=$(( delay % (KILL_MS[$c] + 1) ))
            kill_cmd_start "$c"
            sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
            if kill -9 "$BG_PID" 2>/dev/null; then injected; fi
            wait "$BG_PID" 2>/dev/null || true
            echo "### kill $c after ${delay} ms of ${KILL_MS[$c]}: $(tail -n 2 "$ROOT/work/kill-$c.out" | tr '\n' ' ')"
            kill_after "$c"
            last=0; [ $i = "$n" ] && [ "$c" = schedule ] && last=1
            trial_end "$c#$i" $last
        done
    done
}
