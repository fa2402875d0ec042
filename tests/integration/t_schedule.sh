# shellcheck shell=bash
# The built-in scheduler with a real schedule (every minute), and clone.

# sched_config FILE PORT: a configuration for cluster main with two jobs due
# every minute: a full backup and check. A test makes a run last as long as
# it wants by holding WAL archiving (archive_hold): the backup then waits for
# its WAL (archive_timeout is long enough for that) and cannot finish.
sched_config() {
    cat >"$1" <<EOF
pgbkp:
  cluster: $CLUSTER
  repo_path: $REPO
  pg_host: $SOCK
  pg_port: ${PG_PORT[main]}
  pg_data: ${PG_DATA[main]}
  archive_timeout: 900
  jobs: 1
  progress: false
  metrics_port: $2
  metrics_address: 127.0.0.1
  schedule_grace: 5
  schedule:
    - {cron: "* * * * *", command: backup, type: full, name: backup-full}
    - {cron: "* * * * *", command: check}
EOF
    chmod 644 "$1"
}

# sched_wait PATTERN SECONDS: wait until the scheduler's log has PATTERN.
sched_wait() {
    local i
    for ((i = 0; i < $2 * 5; i++)); do
        grep -q -- "$1" "$SCHED_LOG" && return 0
        kill -0 "$SCHED_PID" 2>/dev/null || { cat "$SCHED_LOG"; fail "the scheduler exited"; }
        sleep 0.2
    done
    tail -n 30 "$SCHED_LOG"
    fail "no \"$1\" in the scheduler's log after $2 s"
}

# metrics: the scrape, whole (a grep -q straight on curl's pipe could make
# curl fail with SIGPIPE under pipefail)
metrics() {
    local out
    out=$(curl -sf "http://127.0.0.1:$MPORT/metrics") || fail "the metrics endpoint did not answer"
    printf '%s\n' "$out"
}

# metrics_has REGEX: whether the scrape has a line matching REGEX.
metrics_has() {
    local m
    m=$(metrics)
    grep -q -- "$1" <<<"$m"
}

test_schedule_runs_jobs() {
    pg_init main
    pg_start main
    expect_rc 0 pgbkp init
    pg_sql main "create table r as select g, md5(g::text) from generate_series(1, 100000) g"
    MPORT=$(free_port)
    local cfg=$ROOT/sched.yml
    sched_config "$cfg" "$MPORT"
    expect_rc 0 pgbkp_raw --config "$cfg" cron
    assert_output_matches '^\* \* \* \* \* postgres .*pgbkp --config .*sched\.yml --if-primary --no-progress backup --type full$'
    # for a user's crontab (crontab -e, Pigsty's pg_crontab): no user column
    expect_rc 0 pgbkp_raw --config "$cfg" cron --user-crontab
    assert_output_matches '^\* \* \* \* \* /[^ ]*pgbkp --config .*sched\.yml --if-primary --no-progress backup --type full$'

    # Every run of the backup waits for its WAL until archive_release, so
    # the first run (made up at start: the job has no history, and the
    # scheduler starts within the grace period of a minute's start) is
    # certainly still going when the next one is due, however fast the
    # machine. The check started with it waits for its WAL too.
    archive_hold
    while [ "$(date +%S | sed 's/^0//')" -gt 3 ]; do sleep 0.5; done
    SCHED_LOG=$ROOT/log/schedule.log
    ( cd "$ROOT" && exec setsid setpriv --reuid=postgres --regid=postgres --init-groups --reset-env \
        env LANG=C.UTF-8 TZ=UTC "$INST/bin/pgbkp" --config "$cfg" schedule ) >"$SCHED_LOG" 2>&1 </dev/null &
    SCHED_PID=$!
    BG_PIDS+=("$SCHED_PID")
    sched_wait 'job backup-full: started' 20
    sched_wait 'job check: started' 75
    # times are written as times, not as seconds since 1970
    grep -q 'next run at 20[0-9][0-9]-[01][0-9]-[0-3][0-9] ' "$SCHED_LOG" || fail "no readable next-run time in the log"
    ! grep -Eq 'next run at [0-9]{9,}|due at [0-9]{9,}' "$SCHED_LOG" || fail "the log shows epoch seconds"
    metrics_has '^pgbkp_job_running{.*job_name="backup-full"} 1$' || fail "metrics do not show the running backup: $(metrics | grep job_running)"

    # the next minute: the backup still runs, so its run is skipped
    sched_wait 'job backup-full: skipped, the previous run' 75
    grep -q 'job backup-full: ok' "$SCHED_LOG" && fail "the held backup finished"
    archive_release
    sched_wait 'job backup-full: ok' 150
    sched_wait 'job check: ok' 150
    # the scheduler logs a run's end, then records it and collects a new
    # snapshot for the endpoint (which reads the repository): wait for it
    local skipped ok i
    local scrape
    for ((i = 0; i < 300; i++)); do
        scrape=$(metrics)
        skipped=$(grep '^pgbkp_job_runs_total{.*job_name="backup-full",outcome="skipped"}' <<<"$scrape" | awk '{print $2}')
        ok=$(grep '^pgbkp_job_runs_total{.*job_name="backup-full",outcome="ok"}' <<<"$scrape" | awk '{print $2}')
        [ "${skipped:-0}" -ge 1 ] && [ "${ok:-0}" -ge 1 ] && break
        sleep 0.2
    done
    [ "${skipped:-0}" -ge 1 ] && [ "${ok:-0}" -ge 1 ] || fail "metrics: backup-full ok=$ok skipped=$skipped"
    metrics_has '^pgbkp_backup_last_success_timestamp_seconds{.*type="full"}' || fail "no last full backup in the metrics"
    metrics_has '^pgbkp_archive_last_archived_age_seconds{' || fail "no archive age in the metrics"
    # never two runs of the backup at once
    [ "$(grep -c 'job backup-full: started' "$SCHED_LOG")" -eq "$(grep -Ec 'job backup-full: (ok|failed)' "$SCHED_LOG")" ] ||
        [ "$(grep -c 'job backup-full: started' "$SCHED_LOG")" -eq $(( $(grep -Ec 'job backup-full: (ok|failed)' "$SCHED_LOG") + 1 )) ] ||
        fail "backup runs overlapped"

    # a broken configuration on SIGHUP is reported and the old one stays
    cp "$cfg" "$cfg.good"
    sed -i 's/cron: "\* \* \* \* \*", command: check/cron: "0 25 * * *", command: check/' "$cfg"
    kill -HUP "$SCHED_PID"
    sched_wait 'was not reloaded.*hour 25 is out of range' 10
    cp "$cfg.good" "$cfg"
    kill -HUP "$SCHED_PID"
    sched_wait 'configuration reloaded: 2 jobs' 10

    # the job history in the repository, as status shows it
    run pgbkp status --output json
    assert_rc 0 "status"
    local jobs
    jobs=$(jq -r '[.repositories[0].jobs[] | .job + ":" + .outcome] | join(" ")' <"$RUN_OUT")
    case " $jobs " in *" backup-full:ok "*) ;; *) fail "no successful backup-full in the history: $jobs" ;; esac
    case " $jobs " in *" backup-full:skipped "*) ;; *) fail "no skipped backup-full in the history: $jobs" ;; esac
    case " $jobs " in *" check:ok "*) ;; *) fail "no successful check in the history: $jobs" ;; esac

    # SIGTERM while a backup runs (held: it cannot finish first): it is
    # aborted and never listed
    local before starts i
    before=$(info_json | jq '.backups | length')
    archive_hold
    starts=$(grep -c 'job backup-full: started' "$SCHED_LOG")
    for ((i = 0; i < 400; i++)); do
        [ "$(grep -c 'job backup-full: started' "$SCHED_LOG")" -gt "$starts" ] && break
        sleep 0.2
    done
    [ "$(grep -c 'job backup-full: started' "$SCHED_LOG")" -gt "$starts" ] || fail "no further backup run started"
    for ((i = 0; i < 150; i++)); do
        [ "$(pg_sql main "select count(*) from pg_stat_activity where query ilike '%backup_start%' and pid <> pg_backend_pid()")" != 0 ] && break
        sleep 0.2
    done
    kill -TERM "$SCHED_PID"
    local rc=0
    wait "$SCHED_PID" || rc=$?
    assert_eq 0 "$rc" "the scheduler's exit status after SIGTERM"
    archive_release
    grep -q 'job backup-full: aborted' "$SCHED_LOG" || fail "the running backup was not recorded as aborted"
    assert_eq "$before" "$(info_json | jq '.backups | length')" "backups listed after the aborted run"
    assert_eq 0 "$(pg_sql main "select count(*) from pg_stat_activity where query ilike '%backup_start%' and pid <> pg_backend_pid()")" \
        "backups still in progress on the server"
}

test_clone() {
    pg_init main
    pg_start main
    expect_rc 0 pgbkp init
    pg_sql main "create table t(id int primary key, note text)"
    pg_sql main "insert into t select g, 'A' from generate_series(1,100) g"
    expect_rc 0 pgbkp backup --type full
    local t_a port
    t_a=$(pg_sql main "select now()")
    sleep 1.1
    pg_sql main "insert into t select g, 'B' from generate_series(101,200) g"
    pg_switch_and_wait main >/dev/null
    port=$(free_port)

    # refused: a port in use, a non-empty directory
    run pgbkp clone --time "$t_a" --target-dir "$ROOT/pg/c0" --port "${PG_PORT[main]}"
    assert_rc 5 "clone onto a port in use"
    assert_output_contains "port ${PG_PORT[main]} is in use"
    mkdir -p "$ROOT/pg/c0"; chown postgres "$ROOT/pg/c0"; touch "$ROOT/pg/c0/x"
    run pgbkp clone --time "$t_a" --target-dir "$ROOT/pg/c0" --port "$port"
    assert_rc 5 "clone into a non-empty directory"

    # a running copy as of t_a, archiving under a new name
    run pgbkp clone --time "$t_a" --target-dir "$ROOT/pg/clone" --port "$port" --name copy1
    assert_rc 0 "clone"
    assert_output_contains "is running"
    pg_adopt clone "$ROOT/pg/clone"
    PG_PORT[clone]=$port
    assert_eq 100 "$(as_pg "$PGBIN/psql" -X -At -h "$ROOT/pg/clone" -p "$port" -d postgres -c "select count(*) from t")" "rows in the copy"
    assert_eq f "$(as_pg "$PGBIN/psql" -X -At -h "$ROOT/pg/clone" -p "$port" -d postgres -c "select pg_is_in_recovery()")" "the copy is promoted"
    assert_eq copy1 "$(as_pg "$PGBIN/psql" -X -At -h "$ROOT/pg/clone" -p "$port" -d postgres -c "show cluster_name")" "cluster_name of the copy"
    # its WAL goes to cluster copy1, never into the original's archive
    local seg
    seg=$(as_pg "$PGBIN/psql" -X -At -h "$ROOT/pg/clone" -p "$port" -d postgres -c "select pg_walfile_name(pg_switch_wal())")
    local i
    for ((i = 0; i < 150; i++)); do
        as_pg "$INST/bin/pgbkp" --cluster copy1 --repo-path "$REPO" info --output json 2>/dev/null |
            jq -e --arg s "$seg" '.wal.last >= $s' >/dev/null 2>&1 && break
        sleep 0.2
    done
    as_pg "$INST/bin/pgbkp" --cluster copy1 --repo-path "$REPO" info --output json | jq -e --arg s "$seg" '.wal.last >= $s' >/dev/null ||
        fail "the copy's WAL $seg did not reach cluster copy1"
    case $seg in 00000002*) ;; *) fail "the copy archives on timeline 1: $seg" ;; esac
    expect_rc 0 pgbkp verify
    as_pg "$PGBIN/pg_ctl" -D "$ROOT/pg/clone" -m fast -w stop >/dev/null
}

# A scheduled drill: command: drill runs on any member by default (no
# --if-primary), run_on: replica skips on the primary; the run is in the job
# history and the drill's report in the metrics.
test_schedule_drill() {
    pg_init main
    pg_start main
    expect_rc 0 pgbkp init
    pg_sql main "create table t as select g from generate_series(1, 1000) g"
    expect_rc 0 pgbkp backup --type full
    MPORT=$(free_port)
    local cfg=$ROOT/drill.yml
    mkdir -p "$ROOT/drilltmp" && chown postgres "$ROOT/drilltmp"
    { main_config_yaml; cat <<EOC
  progress: false
  metrics_port: $MPORT
  metrics_address: 127.0.0.1
  schedule_grace: 5
  schedule:
    - {cron: "* * * * *", command: drill}
    - {cron: "0 3 * * *", command: drill, name: drill-on-replica, run_on: replica}
EOC
    } >"$cfg"
    chmod 644 "$cfg"
    run pgbkp_raw --config "$cfg" cron
    assert_rc 0 "cron"
    assert_output_matches '^\* \* \* \* \* postgres .*pgbkp --config .*drill\.yml --no-progress drill$'
    assert_output_matches '^0 3 \* \* \* postgres .*pgbkp --config .*drill\.yml --if-replica --no-progress drill$'
    # run_on: replica on this primary: skipped, exit 0
    run pgbkp_raw --config "$cfg" --if-replica drill
    assert_rc 0 "--if-replica on the primary"
    assert_output_contains "skipped: this member is the primary"
    sed -i 's/run_on: replica/run_on: somewhere/' "$cfg"
    run pgbkp_raw --config "$cfg" cron
    assert_rc 3 "bad run_on"
    assert_output_contains 'run_on "somewhere" is not primary, replica or any'
    sed -i 's/run_on: somewhere/run_on: replica/' "$cfg"

    while [ "$(date +%S | sed 's/^0//')" -gt 3 ]; do sleep 0.5; done
    SCHED_LOG=$ROOT/log/schedule.log
    ( cd "$ROOT" && exec setsid setpriv --reuid=postgres --regid=postgres --init-groups --reset-env \
        env LANG=C.UTF-8 TZ=UTC TMPDIR="$ROOT/drilltmp" "$INST/bin/pgbkp" --config "$cfg" schedule ) >"$SCHED_LOG" 2>&1 </dev/null &
    SCHED_PID=$!
    BG_PIDS+=("$SCHED_PID")
    sched_wait 'job drill: started' 20
    sched_wait 'job drill: ok' 240
    kill -TERM "$SCHED_PID"
    wait "$SCHED_PID" || true
    # the history has the run; the repository has the drill's report
    info_json | jq -e '.jobs[] | select(.job == "drill" and .outcome == "ok")' >/dev/null || fail "no drill run in the job history"
    [ "$(find "$REPO" -path '*/drill/*.json' | wc -l)" -ge 1 ] || fail "no drill report in the repository"
    local m
    m=$(metrics_scrape_once '^pgbkp_drill_last_success')
    grep -Eq '^pgbkp_drill_last_success\{.*\} 1$' <<<"$m" || fail "the metrics do not show the passed drill"
    [ -z "$(ls -A "$ROOT/drilltmp")" ] || fail "the scheduled drill left files behind"
}
