# shellcheck shell=bash
# Asynchronous archive-push (archive_async): a pusher process pushes the
# ready WAL files ahead into every repository; archive-push still returns 0
# only for a file that is durable in all of them.  Slow things are held with
# flag files (archive_hold) and signals, never with timing assumptions.

# async_setup: cluster main archiving with archive_async into two local
# repositories (local, second), both initialised, with table t.
async_setup() {
    REPO2=$ROOT/repo2
    REPO_CONFIG=$ROOT/pgbkp.yml
    printf 'pgbkp:\n  cluster: %s\n  repositories: [local, second]\n  archive_async: true\n  archive_async_idle: 5\npgbackrest_repo:\n  local: {path: %s}\n  second: {path: %s}\n' \
        "$CLUSTER" "$REPO" "$REPO2" >"$REPO_CONFIG"
    chmod 644 "$REPO_CONFIG"
    pg_init main
    pg_start main
    expect_rc 0 pgbkp init
    pg_sql main "create table t(id int primary key, note text)"
}

# async_spool: the archive-push spool of cluster main (default: spool/ beside the data directory).
async_spool() {
    local sysid
    sysid=$(as_pg "$PGBIN/pg_controldata" "${PG_DATA[main]}" | awk -F': *' '/system identifier/ {print $2}')
    echo "$ROOT/pg/spool/pgbkp/$CLUSTER-$sysid/archive-push"
}

# ready_files: the WAL files main's PostgreSQL has marked ready, one a line.
ready_files() {
    find "${PG_DATA[main]}/pg_wal/archive_status" -name '*.ready' -printf '%f\n' | sed 's/\.ready$//' | sort
}

# make_backlog N FROM [ROWS]: N segments, each with ROWS rows (default 100;
# 110000 rows of md5 text fill about one segment) from FROM on, completed
# while archiving is held; prints the last one's name.
make_backlog() {
    local n=$1 from=$2 rows=${3:-100} i seg=""
    for ((i = 0; i < n; i++)); do
        pg_sql main "insert into t select g, md5(g::text) || md5((g + 1)::text)
                     from generate_series($((from + i * rows)), $((from + i * rows + rows - 1))) g"
        seg=$(pg_sql main "select pg_walfile_name(pg_switch_wal())")
    done
    echo "$seg"
}

# no_pusher: wait until no pusher runs (the one started earlier exits when
# idle), so that a backlog made next is not pushed ahead meanwhile.
no_pusher() {
    local i
    for ((i = 0; i < 3000; i++)); do
        [ -n "$(pusher_pid)" ] || return 0
        sleep 0.1
    done
    fail "the pusher did not exit when idle"
}

# in_both_repositories NAME: the archived WAL file NAME restores from each repository.
in_both_repositories() {
    local r
    for r in local second; do
        expect_rc 0 pgbkp --repo "$r" archive-get "$1" "$ROOT/work/got"
        rm -f "$ROOT/work/got"
    done
}

# pusher_pid: the running pusher's process id ("" when none).
pusher_pid() {
    local f pid
    for f in "$(async_spool)"/pusher-*.lock; do
        [ -f "$f" ] || continue
        pid=$(head -n 1 "$f")
        if [ -n "$pid" ] && [ -d "/proc/$pid" ] && grep -q pgbkp "/proc/$pid/cmdline" 2>/dev/null; then
            echo "$pid"
            return
        fi
    done
}

# restore_end_rows: restore from the first repository to the end of the
# archive into a new cluster, and print its row count.
restore_end_rows() {
    {
        expect_rc 0 pgbkp restore --target-dir "$ROOT/pg/copy" --archive-mode off
        pg_adopt copy "$ROOT/pg/copy"
        pg_start copy
        pg_wait_recovery_end copy
    } >&2
    pg_sql copy "select count(*) from t"
}

# A backlog of ready segments (archiving held) drains through the pusher:
# every segment reaches both repositories and a restore to the end holds
# every committed row.
test_async_backlog_drains_and_restores() {
    async_setup
    expect_rc 0 pgbkp backup --type full
    archive_hold
    local last
    last=$(make_backlog 12 1)
    [ "$(ready_files | wc -l)" -ge 12 ] || fail "expected a backlog of 12 ready files: $(ready_files | xargs)"
    archive_release
    pg_wait_archived main "$last" 300
    assert_eq 0 "$(pg_sql main "select failed_count from pg_stat_archiver")" "archiver failures"
    # the pusher did the work: records of the newest files are in the spool
    ls "$(async_spool)"/*.ok >/dev/null 2>&1 || fail "no record in the spool $(async_spool)"
    local s
    for s in $(ls "$(async_spool)" | sed -n 's/\.ok$//p'); do
        in_both_repositories "$s"
    done
    in_both_repositories "$last"
    # a file PostgreSQL does not mark ready (typed by hand) is pushed by the command itself
    if [ -f "${PG_DATA[main]}/pg_wal/$last" ]; then
        expect_rc 0 pgbkp archive-push "${PG_DATA[main]}/pg_wal/$last"
    fi
    expect_rc 0 pgbkp verify
    assert_eq 1200 "$(restore_end_rows)" "rows after restore to the end"
}

# An unreachable repository: archive-push fails, writes no record, and
# PostgreSQL keeps the file; the log says why (at most once a minute);
# metrics and check show the backlog.  Once the repository is back the
# backlog drains.
test_async_unreachable_repository_keeps_wal() {
    async_setup
    local started seg n i
    started=$(date +%s)
    mv "$REPO2" "$REPO2.away"
    seg=$(make_backlog 2 1)
    for ((i = 0; i < 600; i++)); do
        n=$(pg_sql main "select failed_count from pg_stat_archiver")
        [ "$n" -gt 0 ] && break
        sleep 0.2
    done
    [ "$n" -gt 0 ] || fail "archive-push did not fail with a repository away"
    local first last_archived
    first=$(ready_files | grep -v history | head -n 1)
    last_archived=$(pg_sql main "select coalesce(last_archived_wal, '') from pg_stat_archiver")
    [[ "$last_archived" < "$first" ]] || fail "$last_archived reported archived, but the repository is away"
    ready_files | grep -qx "$seg" || fail "$seg is not ready any more"
    [ -z "$(ls "$(async_spool)" | grep '\.ok$' || true)" ] || fail "records written: $(ls "$(async_spool)")"
    # by hand, from the data directory as PostgreSQL runs it
    run as_pg sh -c "cd '${PG_DATA[main]}' && '$INST/bin/pgbkp' --config '$REPO_CONFIG' archive-push pg_wal/$first"
    [ "$RUN_RC" -ne 0 ] || fail "archive-push succeeded with a repository away"
    [ ! -e "$(async_spool)/$first.ok" ] || fail "a record of $first was written"
    # the reason is in the server's log, at most once a minute
    local logged elapsed
    logged=$(grep -c "is not archived yet" "$(pg_log main)" || true)
    elapsed=$(( $(date +%s) - started ))
    [ "$logged" -ge 1 ] || fail "the log does not say why archiving fails"
    [ "$logged" -le $(( elapsed / 60 + 1 )) ] || fail "logged $logged times in ${elapsed}s"
    grep -q "second" "$(pg_log main)" || fail "the log does not name the repository"
    # metrics: the backlog
    local out
    out=$(metrics_scrape_once '^pgbkp_archive_backlog_segments')
    grep -Eq '^pgbkp_archive_backlog_segments\{[^}]*\} [1-9]' <<<"$out" || fail "no backlog in the metrics: $(grep backlog <<<"$out")"
    grep -Eq '^pgbkp_archive_backlog_bytes\{[^}]*\} [1-9]' <<<"$out" || fail "no backlog bytes in the metrics"
    grep -Eq '^pgbkp_archive_backlog_oldest_age_seconds\{' <<<"$out" || fail "no backlog age in the metrics"
    # check fails over archive_backlog_alert (MiB), passes under it
    run pgbkp --repo local --archive-backlog-alert 1 check --max-archive-age 100d
    assert_rc 16 "check over the backlog alert"
    assert_output_contains "archive backlog"
    run pgbkp --repo local --archive-backlog-alert 100000 check --max-backup-age 100d
    assert_output_contains "no backup"
    # the repository is back: everything drains, nothing is lost
    mv "$REPO2.away" "$REPO2"
    pg_wait_archived main "$seg" 300
    in_both_repositories "$seg"
    expect_rc 0 pgbkp verify
}

# kill -9 the pusher while it writes into a repository: the records describe
# only stored files, archive-push starts a new pusher, nothing is lost.
# Segments full of text keep the pusher busy writing; it is stopped
# (SIGSTOP) and looked at until it holds a temporary object of its own.
test_async_pusher_killed_mid_push() {
    async_setup
    expect_rc 0 pgbkp backup --type full
    local round last pid caught=0 i from=1 rows=110000
    for ((round = 0; round < 5 && caught == 0; round++)); do
        no_pusher
        archive_hold
        last=$(make_backlog 8 "$from" "$rows")
        from=$((from + 8 * rows))
        archive_release
        for ((i = 0; i < 100000 && caught == 0; i++)); do
            pid=$(pusher_pid)
            if [ -n "$pid" ]; then
                kill -STOP "$pid" 2>/dev/null || true
                # a temporary object of this pusher: it is mid-push
                if find "$REPO" "$REPO2" -name ".*.tmp.$pid" 2>/dev/null | grep -q .; then
                    kill -9 "$pid"
                    caught=1
                    break
                fi
                kill -CONT "$pid" 2>/dev/null || true
            fi
            [ "$(pg_sql main "select coalesce(last_archived_wal, '') >= '$last' from pg_stat_archiver")" = t ] && break
        done
    done
    [ "$caught" = 1 ] || fail "never caught the pusher mid-push"
    # every record describes a file stored in both repositories
    local s
    for s in $(ls "$(async_spool)" | sed -n 's/\.ok$//p'); do
        in_both_repositories "$s"
    done
    # PostgreSQL's next calls start a new pusher; everything arrives
    pg_wait_archived main "$last" 600
    in_both_repositories "$last"
    expect_rc 0 pgbkp verify
    assert_eq $((from - 1)) "$(restore_end_rows)" "rows after restore to the end"
}

# kill_one_archiver: SIGKILL the pusher or an archive-push process that
# PostgreSQL's archiver runs (the pusher on an odd $RANDOM when one runs);
# prints what it killed, nothing when neither was found within a few seconds.
kill_one_archiver() {
    local i pid
    for ((i = 0; i < 50; i++)); do
        pid=""
        if [ $((RANDOM % 2)) = 1 ]; then pid=$(pusher_pid); fi
        [ -n "$pid" ] && { kill -9 "$pid" 2>/dev/null && echo "pusher $pid"; return 0; }
        # an archive-push PostgreSQL's archiver runs (not the shell around
        # it, not the pusher, which keeps its parent's command line)
        pid=$(pgrep -u postgres -f '^[^ ]*/bin/pgbkp .*archive-push' | grep -vx "$(pusher_pid)" | head -n 1 || true)
        [ -n "$pid" ] && { kill -9 "$pid" 2>/dev/null && echo "archive-push $pid"; return 0; }
        sleep 0.1
    done
}

# is_stored NAME WHEN: WAL segment NAME, reported archived WHEN, is in the
# repository (archive-get returns it); nothing to check for "" (nothing
# reported yet) or a .history/.backup file.
is_stored() {
    case $1 in ''|*.*) return 0 ;; esac
    run pgbkp archive-get "$1" "$ROOT/work/got"
    assert_rc 0 "archive-get of $1, reported archived ($2)"
    rm -f "$ROOT/work/got"
}

# reported_is_stored WHEN: the newest WAL file pg_stat_archiver reports
# archived is in the repository.
reported_is_stored() {
    is_stored "$(pg_sql main "select coalesce(last_archived_wal, '') from pg_stat_archiver")" "$1"
}

# archive_async into S3 under pgbench load: the pusher or an archive-push
# process is killed (SIGKILL) at 12 random moments, and after each what
# pg_stat_archiver reports archived must be in the repository; then the S3
# server is stopped for a while (archive-push fails, PostgreSQL keeps its
# WAL) and started again. Nothing is lost: every segment arrives, verify is
# clean, and a restore to the end holds every acknowledged marker row.
test_async_s3_kills_and_outage_under_load() {
    s3_start
    s3_config "$ROOT/pgbkp.yml" "[s3]"
    sed -i 's/^  repositories: .*/&\n  archive_async: true\n  archive_async_idle: 5/' "$REPO_CONFIG"
    pg_init main
    pg_start main
    expect_rc 0 pgbkp init
    pg_pgbench_init main 1
    pg_sql main "create table marker(i int primary key)"
    expect_rc 0 pgbkp backup --type full
    local stop=$ROOT/work/load.stop acked=$ROOT/work/acked
    echo 0 >"$acked"
    as_pg "$PGBIN/pgbench" -h "$SOCK" -p "${PG_PORT[main]}" -U postgres -n -c 2 -R 150 -T 900 postgres \
        >"$ROOT/log/pgbench.log" 2>&1 &
    local bench=$!
    # marker rows, one transaction each, the last acknowledged one in $acked;
    # a WAL switch every 10 rows keeps archive-push busy
    (
        i=1
        while [ ! -e "$stop" ]; do
            pg_sql main "insert into marker values ($i)" >/dev/null 2>>"$ROOT/log/marker.err" || break
            echo "$i" >"$acked"
            [ $((i % 10)) != 0 ] || pg_sql main "select pg_switch_wal()" >/dev/null 2>&1 || true
            i=$((i + 1))
        done
    ) &
    local load=$!
    local kills=0 what n
    for ((n = 0; n < 600 && kills < 12; n++)); do
        sleep "0.$((RANDOM % 10))"
        what=$(kill_one_archiver)
        [ -n "$what" ] || continue
        kills=$((kills + 1))
        echo "# kill $kills: $what"
        reported_is_stored "after killing the $what"
    done
    [ "$kills" -ge 10 ] || fail "only $kills archiving processes were found to kill"
    # an outage: archive-push fails, and nothing becomes reported archived
    # that is not in the repository
    local failed0 i
    failed0=$(pg_sql main "select failed_count from pg_stat_archiver")
    s3_stop
    for ((i = 0; i < 600; i++)); do
        [ "$(pg_sql main "select failed_count from pg_stat_archiver")" -gt "$failed0" ] && break
        sleep 0.2
    done
    [ "$(pg_sql main "select failed_count from pg_stat_archiver")" -gt "$failed0" ] ||
        fail "archive-push did not fail while the S3 server was down"
    sleep 3
    local during
    during=$(pg_sql main "select coalesce(last_archived_wal, '') from pg_stat_archiver")
    s3_restart
    is_stored "$during" "during the outage"
    reported_is_stored "after the outage"
    touch "$stop"
    wait "$load" || true
    kill "$bench" 2>/dev/null || true
    wait "$bench" 2>/dev/null || true
    [ ! -s "$ROOT/log/marker.err" ] || fail "a marker insert failed: $(head -n 3 "$ROOT/log/marker.err")"
    local rows last
    rows=$(cat "$acked")
    [ "$rows" -ge 10 ] || fail "only $rows marker rows were committed under the load"
    last=$(pg_sql main "select pg_walfile_name(pg_switch_wal())")
    pg_wait_archived main "$last" 600
    reported_is_stored "at the end"
    expect_rc 0 pgbkp verify
    expect_rc 0 pgbkp restore --target-dir "$ROOT/pg/copy" --archive-mode off
    pg_adopt copy "$ROOT/pg/copy"
    pg_start copy
    pg_wait_recovery_end copy 600
    assert_eq "$rows" "$(pg_sql copy "select count(*) from marker")" "marker rows after the restore to the end (last archived $last)"
    assert_eq "$rows" "$(pg_sql copy "select max(i) from marker")" "newest marker row"
}
