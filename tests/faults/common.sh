# shellcheck shell=bash
# The invariants every fault trial is checked by, and the bookkeeping the
# fault classes share. Sourced after scripts/lib.sh by tests/faults/run.
#
# A class script (f_*.sh) defines `class_main N`: at least N trials, in
# rounds that each try every kind of fault the class has once (fault_rounds).
# It calls fault_setup once
# (cluster "main", repository, a marker table, a first full backup), then
# for each trial commits marker rows (marker_commit), injects one fault,
# and calls trial_end NAME, which checks the invariants:
#   I1 nothing listed by `info` that is not complete (every listed backup
#      has its stop LSN and its manifest verifies, see I3);
#   I2 no process, lock, temporary file or open backup left behind
#      (pgbkp processes of this repository, the backup lock, `.*.tmp.*`
#      files in the repository, pg_backup_start sessions on the server);
#   I3 the next run succeeds without manual cleanup (an incremental
#      backup and a WAL switch that reaches the repository) and `verify`
#      is clean afterwards;
#   I4 a restore to the end holds every committed marker row (committed
#      before the fault). A restore and recovery cost a server start, so it
#      runs on every FAULT_RESTORE_EVERY-th trial and on each class's last
#      trial (default: every 5th trial for N >= 20, else only the last;
#      FAULT_RESTORE_EVERY=1 checks every trial).
# Results go to $FAULT_RESULTS as TAP-like lines (`ok - NAME`, `not ok -
# NAME`, `not ok - NAME # KNOWN: why`), figures to $FAULT_STATS.

FAULT_TRIALS=0
FAULT_INJECTED=0
FAULT_CHECKS=0
TRIAL_FAILS=()
MARKER_MAX=0

# Defects reported and not yet fixed: KNOWN_DEFECTS["NAME_GLOB|INVARIANT"]
# is why a trial whose name matches NAME_GLOB fails INVARIANT (the name a
# `check` gives it). A trial whose every failure is known prints
# `not ok - ... # KNOWN: why`, which the runner counts apart.
declare -gA KNOWN_DEFECTS=()

# fault_rounds N PER_ROUND: how many rounds of PER_ROUND trials make at
# least N trials.
fault_rounds() { echo $(( ($1 + $2 - 1) / $2 )); }

fault_stats() {
    printf 'trials %d\nfaults %d\nchecks %d\n' "$FAULT_TRIALS" "$FAULT_INJECTED" "$FAULT_CHECKS" >"$FAULT_STATS"
}

# injected [N]: count N (default 1) faults as injected in this trial.
injected() { FAULT_INJECTED=$((FAULT_INJECTED + ${1:-1})); }

# check WHAT CMD...: one invariant check; a failure is recorded, not fatal.
check() {
    local what=$1; shift
    FAULT_CHECKS=$((FAULT_CHECKS + 1))
    if ! "$@"; then
        TRIAL_FAILS+=("$what")
        echo "INVARIANT FAILED: $what"
    fi
}

# fault_setup [cipher]: cluster main (archiving into $REPO), `pgbkp init`,
# the marker table and a full backup. With "cipher", the repository is
# encrypted (a configuration file names it: REPO_CONFIG).
fault_setup() {
    pg_init main
    if [ "${1:-}" = cipher ]; then
        local secrets=$ROOT/secrets cfg=$ROOT/pgbkp.yml
        mkdir -p "$secrets"
        printf 'fault trial passphrase %s\n' "$RANDOM$RANDOM" >"$secrets/cipher"
        chown -R postgres "$secrets"; chmod 700 "$secrets"; chmod 600 "$secrets"/*
        printf 'pgbkp:\n  cluster: %s\n  repositories: [local]\npgbackrest_repo:\n  local:\n    path: %s\n    cipher_type: aes-256-cbc\n    cipher_pass_file: %s\n' \
            "$CLUSTER" "$REPO" "$secrets/cipher" >"$cfg"
        chmod 644 "$cfg"
        REPO_CONFIG=$cfg
        sed -i "s|^archive_command = .*|archive_command = '$(pg_archive_command)'|" "${PG_DATA[main]}/postgresql.conf"
    fi
    pg_start main
    pgbkp init >/dev/null
    pg_sql main "create table marker(id int primary key)"
    pgbkp backup --type full >/dev/null 2>&1 || die "fault_setup: first backup failed"
}

# marker_commit: commit one more batch of marker rows (and remember how many
# are committed), then switch WAL and wait until they reach the repository.
marker_commit() {
    MARKER_MAX=$((MARKER_MAX + 10))
    pg_sql main "insert into marker select generate_series($((MARKER_MAX - 9)), $MARKER_MAX)"
    pg_switch_and_wait main >/dev/null
}

# hold_new_segment: hold WAL archiving and complete a new WAL segment, which
# stays in pg_wal, not archived: its name in PUSH_SEG.
hold_new_segment() {
    archive_hold
    pg_sql main "select txid_current()" >/dev/null
    PUSH_SEG=$(pg_sql main "select pg_walfile_name(pg_switch_wal())")
}

# sched_yml: $ROOT/sched.yml, a scheduler configuration for cluster main
# (and the repository, encrypted or not) whose incremental backup job is due
# every minute and runs at start-up (a missed run within the grace time).
sched_yml() {
    {
        echo "pgbkp:"
        echo "  cluster: $CLUSTER"
        if [ -n "${REPO_CONFIG:-}" ]; then
            # the repository (and its cipher) of the configuration file
            sed -n '/^pgbackrest_repo:/,$p' "$REPO_CONFIG" >"$ROOT/work/repo.yml"
            echo "  repositories: [local]"
        else
            echo "  repo_path: $REPO"
        fi
        echo "  pg_host: $SOCK"
        echo "  pg_port: ${PG_PORT[main]}"
        echo "  pg_data: ${PG_DATA[main]}"
        echo "  progress: false"
        echo "  metrics_port: 0"
        echo "  schedule_grace: 5"
        echo "  schedule:"
        echo '    - {cron: "* * * * *", command: backup, type: incr, name: backup-incr}'
        [ -z "${REPO_CONFIG:-}" ] || cat "$ROOT/work/repo.yml"
    } >"$ROOT/sched.yml"
    chmod 644 "$ROOT/sched.yml"
}

# ---------------------------------------------------------------- invariants

inv_listed_complete() {
    local j
    j=$(pgbkp info --output json 2>"$ROOT/work/info.err") || { cat "$ROOT/work/info.err"; return 1; }
    # every listed backup ended: a stop LSN, a stop time
    if [ "$(jq '[.backups[]? | select(.stop_lsn == null or .stop_time == null or .wal_complete != true)] | length' <<<"$j")" != 0 ]; then
        echo "info lists a backup without its end: $j" | head -c 2000
        return 1
    fi
}

inv_no_processes() {
    local i left
    for ((i = 0; i < 100; i++)); do
        left=$(pgrep -f -- "$INST/bin/pgbkp .*$ROOT" | grep -vx "$$" || true)
        [ -z "$left" ] && return 0
        sleep 0.2
    done
    echo "pgbkp processes left: $(ps -o pid,args -p "$(echo $left | tr ' ' ',')" 2>/dev/null)"
    return 1
}

inv_no_open_backup() {
    local i n
    for ((i = 0; i < 50; i++)); do
        n=$(pg_sql main "select count(*) from pg_stat_activity where pid <> pg_backend_pid() and (query ilike '%pg_backup_start%' or application_name ilike 'pgbkp%')")
        [ "$n" = 0 ] && return 0
        sleep 0.2
    done
    echo "sessions of pgbkp left on the server:"
    pg_sql main "select pid, application_name, state, query from pg_stat_activity where pid <> pg_backend_pid()"
    return 1
}

inv_lock_free() {
    local lock
    # the backup lock is an flock on a file: free when nothing holds it
    for lock in "$REPO"/*/lock/*.lock; do
        [ -e "$lock" ] || continue
        flock -n "$lock" true || { echo "lock held: $lock"; return 1; }
    done
}

# (a file found once is reported by that trial only, not by every later one)
inv_no_temp_files() {
    local seen=$ROOT/work/temp-files-seen left
    touch "$seen"
    left=$(find "$REPO" -name '.*.tmp.*' 2>/dev/null | LC_ALL=C sort | LC_ALL=C comm -23 - "$seen")
    [ -z "$left" ] && return 0
    echo "$left" | LC_ALL=C sort -m - "$seen" -o "$seen"
    echo "temporary files left in the repository:"; echo "$left" | head -n 20
    return 1
}

inv_next_run() {
    pgbkp backup --type incr >"$ROOT/work/next.out" 2>&1 || {
        echo "next backup failed (exit $?):"; tail -n 20 "$ROOT/work/next.out"; return 1; }
    pg_switch_and_wait main >/dev/null || { echo "WAL archiving does not resume"; return 1; }
}

inv_verify() {
    pgbkp verify >"$ROOT/work/verify.out" 2>&1 || {
        echo "verify failed (exit $?):"; tail -n 20 "$ROOT/work/verify.out"; return 1; }
}

# restored_holds_markers DIR: start the data directory DIR a restore made
# (as cluster "chk", archiving off), wait for the end of recovery and find
# every committed marker row; stop it and remove DIR.
restored_holds_markers() {
    local d=$1 n
    pg_adopt chk "$d"
    sed -i "s|^archive_mode = .*|archive_mode = off|" "$d/postgresql.conf"
    # (in a subshell: pg_start dies on failure, a failed check must not)
    ( pg_start chk ) || { lib_stop_dir "$d"; return 1; }
    pg_wait_recovery_end chk || { lib_stop_dir "$d"; return 1; }
    n=$(pg_sql chk "select count(*) from marker where id <= $MARKER_MAX")
    lib_stop_dir "$d"
    rm -rf "$d"
    [ "$n" = "$MARKER_MAX" ] || { echo "restored $n of $MARKER_MAX committed marker rows"; return 1; }
}

# restored_refused DIR: PostgreSQL must refuse to start what an interrupted
# or failed restore left in DIR (or DIR holds no data directory at all, or
# the restore had finished: pg_control is named only as its last step).
restored_refused() {
    local d=$1
    [ -f "$d/PG_VERSION" ] || return 0
    # pg_control gets its name only as the restore's very last step: with
    # it there, the kill came after the restore had finished
    if [ -f "$d/global/pg_control" ] && [ ! -e "$d/global/pg_control.pgbkp-pending" ]; then
        echo "the restore had finished before the kill (pg_control released)"
        return 0
    fi
    pg_adopt chk "$d" >/dev/null
    rm -f "$ROOT/log/chk.log"   # pg_ctl creates it, as postgres
    if as_pg "$PGBIN/pg_ctl" -D "$d" -l "$ROOT/log/chk.log" -w -t 30 start >/dev/null 2>&1; then
        echo "PostgreSQL started the data directory of an unfinished restore: $(ls "$d" | tr '\n' ' ')"
        lib_stop_dir "$d"
        return 1
    fi
    lib_stop_dir "$d"
    echo "PostgreSQL refused the unfinished restore: $(grep -E 'FATAL|PANIC' "$ROOT/log/chk.log" | tail -n 1)"
}

# restore_again_correct DIR: the next run over an unfinished restore
# (--delta, no manual cleanup) succeeds and recovers every marker row.
restore_again_correct() {
    local d=$1
    pgbkp restore --target-dir "$d" --delta >"$ROOT/work/delta.out" 2>&1 || {
        echo "restore --delta over the unfinished restore failed (exit $?)"; tail -n 10 "$ROOT/work/delta.out"; return 1; }
    restored_holds_markers "$d"
}

# inv_restore_end: restore to the end of the archive into a fresh directory,
# recover, and find every committed marker row.
inv_restore_end() {
    local d=$ROOT/pg/chk
    lib_stop_dir "$d"; rm -rf "$d"
    pgbkp restore --target-dir "$d" >"$ROOT/work/chk-restore.out" 2>&1 || {
        echo "restore failed (exit $?):"; tail -n 20 "$ROOT/work/chk-restore.out"; return 1; }
    restored_holds_markers "$d"
}

# known_why NAME: the known defects that explain every failure of the trial
# NAME (TRIAL_FAILS), or nothing.
known_why() {
    local f k why=
    for f in "${TRIAL_FAILS[@]}"; do
        local hit=
        for k in "${!KNOWN_DEFECTS[@]}"; do
            # shellcheck disable=SC2053
            if [[ $1 == ${k%%|*} ]] && [ "$f" = "${k#*|}" ]; then
                hit=${KNOWN_DEFECTS[$k]}
            fi
        done
        [ -n "$hit" ] || return 0
        [[ $why == *"$hit"* ]] || why=${why:+$why; }$hit
    done
    echo "$why"
}

# trial_end NAME: check the invariants after one trial and record its result.
trial_end() {
    local name=$1 last=${2:-0} why k
    FAULT_TRIALS=$((FAULT_TRIALS + 1))
    check "left processes" inv_no_processes
    check "left server sessions" inv_no_open_backup
    check "lock held" inv_lock_free
    check "info lists an incomplete backup" inv_listed_complete
    check "next run" inv_next_run
    check "temporary files" inv_no_temp_files
    check "verify" inv_verify
    if [ "$last" = 1 ] || [ $((FAULT_TRIALS % FAULT_RESTORE_EVERY)) = 0 ]; then
        check "restore to the end" inv_restore_end
    fi
    if [ ${#TRIAL_FAILS[@]} -eq 0 ]; then
        echo "ok - $name" >>"$FAULT_RESULTS"
    else
        why=$(known_why "$name")
        if [ -n "$why" ]; then
            echo "not ok - $name (${TRIAL_FAILS[*]}) # KNOWN: $why" >>"$FAULT_RESULTS"
        else
            echo "not ok - $name (${TRIAL_FAILS[*]})" >>"$FAULT_RESULTS"
        fi
    fi
    echo "### trial $name: ${#TRIAL_FAILS[@]} invariant failures"
    TRIAL_FAILS=()
    fault_stats
}

# rand_ms LO HI: a random number of milliseconds, printed as seconds.
rand_sleep() {
    local ms=$(( $1 + RANDOM % ($2 - $1 + 1) ))
    sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
}
