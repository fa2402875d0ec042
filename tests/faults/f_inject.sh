# shellcheck shell=bash
# Fault class "inject": the preload library tests/faults/faultinject.c makes
# one system call of a durable step fail (write, fsync, rename/link,
# unlink, open for writing) with ENOSPC, EIO or EDQUOT, in each command that
# writes: backup (full, incr, diff), archive-push of a WAL segment and of a
# timeline history file, archive-get, restore and expire. Only calls on the
# paths the command makes durable count (the repository, the restore's
# target, archive-get's destination), not its log.
#
# Per command, a counting run (no fault) says how many calls of each kind
# the command makes; the N trials then fail one call each: kinds in turn
# (from one drawn at random, so short runs cover every kind over time),
# and within a kind first the last call (a commit), then the first, then
# calls drawn at random, so that with N >= the number of calls every
# durable step is failed once. Expected of each faulted run: exit 0 with a
# correct result, or a documented exit code with an error message - never
# a crash (exit >= 128); archive-get, run in a directory with
# recovery.signal as during archive recovery, exits 126 (never 1 or 10,
# which PostgreSQL takes for the end of the archive); never a restore
# PostgreSQL would start after a failure. Then the invariants of common.sh.

INJ_CMDS=(backup-full backup-incr backup-diff archive-push history-push archive-get restore expire)
INJ_KINDS=(rename fsync write open unlink)
INJ_ERRNOS=(ENOSPC EIO EDQUOT)

# inj_prepare CMD: what one run of CMD needs; sets INJ_PATH (the fault filter).
inj_prepare() {
    INJ_PATH=$REPO/
    case $1 in
        archive-push)
            hold_new_segment ;;
        history-push)
            # a fresh scratch repository of the same cluster, and a
            # timeline history file it does not have
            rm -rf "$ROOT/repo-h"
            pgbkp_raw --cluster "$CLUSTER" --repo-path "$ROOT/repo-h" --pg-host "$SOCK" \
                --pg-port "${PG_PORT[main]}" --pg-user postgres --pg-data "${PG_DATA[main]}" init >/dev/null
            mkdir -p "$ROOT/work/h"
            printf '1\t0/3000000\tno recovery target specified\n' >"$ROOT/work/h/00000002.history"
            chown -R postgres "$ROOT/work/h"
            INJ_PATH=$ROOT/repo-h/ ;;
        archive-get)
            GET_SEG=$(pg_switch_and_wait main)
            mkdir -p "$ROOT/work/get"; chown postgres "$ROOT/work/get"
            rm -f "$ROOT/work/get/$GET_SEG"
            [ -f "$ROOT/work/get/$GET_SEG.good" ] ||
                pgbkp archive-get "$GET_SEG" "$ROOT/work/get/$GET_SEG.good" >/dev/null
            INJ_PATH=$ROOT/work/get/ ;;
        restore)
            lib_stop_dir "$ROOT/pg/inj"; rm -rf "$ROOT/pg/inj"
            INJ_PATH=$ROOT/pg/inj ;;
        expire) pgbkp backup --no-expire --type full >/dev/null 2>&1 ;;
    esac
}

# inj_args CMD: the pgbkp arguments of CMD (into ARGS).
inj_args() {
    local opts
    mapfile -t opts < <(pgbkp_opts main)
    case $1 in
        backup-*) ARGS=("${opts[@]}" backup --no-expire --type "${1#backup-}") ;;
        archive-push) ARGS=("${opts[@]}" archive-push "${PG_DATA[main]}/pg_wal/$PUSH_SEG") ;;
        history-push) ARGS=(--cluster "$CLUSTER" --repo-path "$ROOT/repo-h" archive-push "$ROOT/work/h/00000002.history") ;;
        archive-get) ARGS=("${opts[@]}" archive-get "$GET_SEG" "$ROOT/work/get/$GET_SEG") ;;
        restore) ARGS=("${opts[@]}" restore --target-dir "$ROOT/pg/inj") ;;
        expire) ARGS=("${opts[@]}" expire --retention-full 2) ;;
    esac
}

# inj_run CMD OUT [ENV...]: run CMD under the preload library; rc in INJ_RC.
# archive-get runs as PostgreSQL runs it during archive recovery: in a
# directory with recovery.signal (where a failure must exit 126, not 10).
inj_run() {
    local c=$1 out=$2 cwd=$ROOT; shift 2
    inj_args "$c"
    if [ "$c" = archive-get ]; then
        cwd=$ROOT/work/rec
        mkdir -p "$cwd"; touch "$cwd/recovery.signal"; chown -R postgres "$cwd"
    fi
    # shellcheck disable=SC2030  # as_pg runs in ROOT: here cwd
    ( ROOT=$cwd; as_pg LD_PRELOAD="$FAULTINJECT" PGBKP_FAULT_PATH="$INJ_PATH" "$@" \
        "$INST/bin/pgbkp" "${ARGS[@]}" ) >"$out" 2>&1 && INJ_RC=0 || INJ_RC=$?
}

# inj_after CMD: undo inj_prepare's holds.
inj_after() {
    [ "$1" != archive-push ] || archive_release
}

# the checks of the faulted run itself
inj_exit_ok() {
    if [ "$INJ_RC" -ge 128 ]; then echo "crashed (exit $INJ_RC)"; return 1; fi
    [ "$INJ_RC" = 0 ] && return 0
    if [ "$INJ_CMD" = archive-get ] && [ "$INJ_RC" != 126 ]; then
        echo "archive-get in archive recovery exits $INJ_RC on an I/O fault, not 126: PostgreSQL would take it for the end of the archive"
        return 1
    fi
    case $INJ_RC in 3|4|5|6|7|8|9|10|11|12|126) ;;
        *) echo "undocumented or unexpected exit $INJ_RC"; return 1 ;;
    esac
    grep -qi 'error' "$INJ_OUT" || { echo "exit $INJ_RC without an error message"; return 1; }
}

inj_result_ok() {
    case $INJ_CMD in
        archive-get)
            local d=$ROOT/work/get/$GET_SEG
            if [ "$INJ_RC" = 0 ]; then
                cmp -s "$d" "$d.good" || { echo "archive-get exit 0 but the copy differs"; return 1; }
            else
                [ ! -e "$d" ] || cmp -s "$d" "$d.good" || { echo "failed archive-get left a different $d"; return 1; }
            fi
            [ -z "$(find "$ROOT/work/get" \( -name ".*" -o -name "*.pgbkp-tmp" \) -type f)" ] || { echo "archive-get left temporary files"; return 1; } ;;
        restore)
            if [ "$INJ_RC" = 0 ]; then
                restored_holds_markers "$ROOT/pg/inj"
            else
                restored_refused "$ROOT/pg/inj" && restore_again_correct "$ROOT/pg/inj"
            fi ;;
        history-push)
            local opts=(--cluster "$CLUSTER" --repo-path "$ROOT/repo-h")
            pgbkp_raw "${opts[@]}" archive-push "$ROOT/work/h/00000002.history" >"$ROOT/work/h.out" 2>&1 ||
                { echo "pushing the history file again failed"; cat "$ROOT/work/h.out"; return 1; }
            pgbkp_raw "${opts[@]}" verify >"$ROOT/work/h.out" 2>&1 ||
                { echo "verify of the scratch repository failed"; cat "$ROOT/work/h.out"; return 1; }
            [ -z "$(find "$ROOT/repo-h" -name '.*.tmp.*')" ] || { echo "temporary files left in the scratch repository"; return 1; } ;;
    esac
}

# inj_pick KIND COUNT I: the call to fail in the I-th trial of KIND (1-based).
inj_pick() {
    local count=$2 i=$3
    case $i in
        1) echo "$count" ;;
        2) echo 1 ;;
        *) if [ "$count" -le "$N_TRIALS" ]; then echo $(( (i - 2) % count + 1 )); else echo $(( (RANDOM * 32768 + RANDOM) % count + 1 )); fi ;;
    esac
}

class_main() {
    local n c k i t nth e kinds first
    n=$(fault_rounds "$1" ${#INJ_CMDS[@]})
    local -A cnt=() seen=()
    N_TRIALS=$n
    fault_setup
    local t_total=$(( ${#INJ_CMDS[@]} * n )) t_done=0
    for c in "${INJ_CMDS[@]}"; do
        # counting run
        marker_commit
        inj_prepare "$c"
        rm -f "$ROOT/work/count"
        inj_run "$c" "$ROOT/work/count.out" PGBKP_FAULT_COUNT="$ROOT/work/count"
        inj_after "$c"
        [ "$INJ_RC" = 0 ] || { cat "$ROOT/work/count.out"; die "counting run of $c failed (exit $INJ_RC)"; }
        [ "$c" != restore ] || { lib_stop_dir "$ROOT/pg/inj"; rm -rf "$ROOT/pg/inj"; }
        cnt=()
        for k in "${INJ_KINDS[@]}"; do
            cnt[$k]=$(awk -v k="$k" '$1 == k { s += $2 } END { print s + 0 }' "$ROOT/work/count")
        done
        echo "### $c makes: $(for k in "${INJ_KINDS[@]}"; do printf '%s %s, ' "$k" "${cnt[$k]}"; done)"
        kinds=()
        for k in "${INJ_KINDS[@]}"; do [ "${cnt[$k]}" -gt 0 ] && kinds+=("$k"); done
        [ ${#kinds[@]} -gt 0 ] || die "$c makes no durable call the library sees"
        # the kind failed first: drawn, so that short runs cover every kind over time
        first=$((RANDOM % ${#kinds[@]}))
        seen=()
        # n trials of this command: each kind in turn; a kind with fewer calls
        # than its share fails them again with another errno; a (kind, call,
        # errno) is tried once, and a command with fewer of them than n gets
        # them all
        local made=0
        for ((t = 0; made < n && t < n * 8; t++)); do
            k=${kinds[(t + first) % ${#kinds[@]}]}
            i=$(( t / ${#kinds[@]} + 1 ))
            e=${INJ_ERRNOS[(t + (i - 1) / cnt[$k]) % ${#INJ_ERRNOS[@]}]}
            [ "$i" -le "${cnt[$k]}" ] || i=$(( (i - 1) % cnt[$k] + 1 ))
            nth=$(inj_pick "$k" "${cnt[$k]}" "$i")
            [ -z "${seen[$k.$nth.$e]:-}" ] || continue
            seen[$k.$nth.$e]=1
            made=$((made + 1))
            marker_commit
            inj_prepare "$c"
            rm -f "$ROOT/work/fired"
            INJ_CMD=$c INJ_OUT=$ROOT/work/inj-$c.out
            inj_run "$c" "$INJ_OUT" PGBKP_FAULT_CALL="$k" PGBKP_FAULT_N="$nth" \
                PGBKP_FAULT_ERRNO="$e" PGBKP_FAULT_LOG="$ROOT/work/fired"
            inj_after "$c"
            [ ! -s "$ROOT/work/fired" ] || injected "$(wc -l <"$ROOT/work/fired")"
            echo "### $c, $k #$nth of ${cnt[$k]} fails with $e: exit $INJ_RC; fired: $(cat "$ROOT/work/fired" 2>/dev/null | tr '\n' ' ')"
            tail -n 3 "$INJ_OUT" | sed 's/^/###   /'
            check "exit status" inj_exit_ok
            check "result" inj_result_ok
            t_done=$((t_done + 1))
            trial_end "$c:$k#$nth:$e" $([ "$c" = expire ] && [ "$made" = "$n" ] && echo 1 || echo 0)
        done
    done
}
