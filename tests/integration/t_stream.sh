# shellcheck shell=bash
# pgbkp stream: WAL received over replication into the repository, alone
# (archive_mode off) or beside archive_command.

# stream_start [OPTIONS...]: pgbkp stream for cluster main in the background
# (STREAM_PID, log in $ROOT/work/stream.out, appended), returning once its
# slot is in use.
stream_start() {
    local out=$ROOT/work/stream.out i
    [ -e "$out" ] && cat "$out" >>"$ROOT/work/stream.old"
    pgbkp_bg "$out" --log-level debug stream "$@"
    STREAM_PID=$BG_PID
    for ((i = 0; i < 600; i++)); do
        kill -0 "$STREAM_PID" 2>/dev/null || { cat "$out"; fail "pgbkp stream exited"; }
        [ "$(pg_sql main "select count(*) from pg_stat_replication where application_name = 'pgbkp_stream' and state = 'streaming'")" = 1 ] && return 0
        sleep 0.2
    done
    cat "$out"
    fail "pgbkp stream did not start streaming"
}

# stream_stop: SIGTERM, and wait for it (it stores what it has first).
stream_stop() {
    kill -TERM "$STREAM_PID"
    wait "$STREAM_PID" || fail "pgbkp stream exited with $?"
}

# stream_wait_flushed LSN: until the stream reported LSN durable (the
# position the slot may advance to).
stream_wait_flushed() {
    local lsn=$1 i
    for ((i = 0; i < 900; i++)); do
        [ "$(pg_sql main "select coalesce(bool_or(flush_lsn >= '$lsn'), false) from pg_stat_replication where application_name = 'pgbkp_stream'")" = t ] && return 0
        kill -0 "$STREAM_PID" 2>/dev/null || { cat "$ROOT/work/stream.out"; fail "pgbkp stream exited"; }
        sleep 0.2
    done
    cat "$ROOT/work/stream.out"
    fail "the stream never reported $lsn flushed"
}

# stream_load N: N marker rows, one transaction each, with about 16 MiB of
# WAL between markers; prints the LSN after the last commit.
stream_load() {
    local n=$1 i
    pg_sql main "create table if not exists marker(i int primary key, at pg_lsn)" >/dev/null
    pg_sql main "create table if not exists filler(i int, pad text)" >/dev/null
    for ((i = 1; i <= n; i++)); do
        pg_sql main "insert into filler select g, repeat('x', 200) from generate_series(1, 60000) g" >/dev/null
        pg_sql main "insert into marker values ($i, pg_current_wal_lsn())" >/dev/null
    done
    pg_sql main "select pg_current_wal_lsn()"
}

# restore_to_end [OPTIONS...]: restore the newest backup to the end of the
# WAL into cluster "copy" (pgbkp OPTIONS, e.g. --repo s3) and wait until it
# is open.
restore_to_end() {
    expect_rc 0 pgbkp "$@" restore --target-dir "$ROOT/pg/copy"
    pg_adopt copy "$ROOT/pg/copy"
    pg_start copy
    pg_wait_recovery_end copy
}

test_stream_alone_keeps_every_commit_through_a_crash() {
    pg_init main off
    echo "log_replication_commands = on" >>"${PG_DATA[main]}/postgresql.conf"
    pg_start main
    expect_rc 0 pgbkp init
    stream_start
    # archive_mode is off: the backup's WAL arrives through the stream
    expect_rc 0 pgbkp backup --type full
    local lsn
    lsn=$(stream_load 3)
    # one more marker after the last full segment, in the segment being filled
    local t0
    t0=$(pg_sql main "select clock_timestamp()")
    pg_sql main "insert into marker values (100, pg_current_wal_lsn())"
    lsn=$(pg_sql main "select pg_current_wal_lsn()")
    stream_wait_flushed "$lsn"
    as_pg "$PGBIN/pg_ctl" -D "${PG_DATA[main]}" -m immediate stop >/dev/null
    kill -KILL "$STREAM_PID"
    wait "$STREAM_PID" 2>/dev/null || true
    grep -q "streamed WAL segment" "$ROOT/work/stream.out" || fail "no segment was streamed whole"
    find "$REPO" -name '*.stream' | grep -q . || fail "no in-progress object in the repository"
    # the window ends with the last streamed commit: a time target inside the
    # streamed tail is accepted, its plan and info say so
    info_json >"$ROOT/work/info.json"
    jq -e --arg t0 "$(date -u -d "$t0" '+%Y-%m-%dT%H:%M:%S')" '.timeline_windows[-1].last_commit > $t0' "$ROOT/work/info.json" >/dev/null ||
        fail "the window does not end with the streamed commit after $t0: $(jq -c .timeline_windows "$ROOT/work/info.json")"
    run pgbkp restore --target-dir "$ROOT/pg/plan" --time "$t0" --dry-run
    assert_rc 0 "restore --time inside the streamed tail (plan)"
    restore_to_end
    assert_eq "4" "$(pg_sql copy "select count(*) from marker")" "marker rows after the restore"
    assert_eq "100" "$(pg_sql copy "select max(i) from marker")" "newest marker"
    grep -q "streamed, unfinished WAL segment" "$(pg_log copy)" || fail "recovery did not use the in-progress object"
}

# --synchronous: pgbkp's receiver is the synchronous standby, so every
# commit the server acknowledged is in the repository, even when the primary
# and the stream die together right after it; a commit waits while the
# stream cannot report (the availability trade-off).
test_stream_synchronous_keeps_every_acknowledged_commit() {
    pg_init main off
    echo "log_replication_commands = on" >>"${PG_DATA[main]}/postgresql.conf"
    pg_start main
    expect_rc 0 pgbkp init
    stream_start --synchronous
    expect_rc 0 pgbkp backup --type full
    pg_sql main "create table marker(i int primary key)" >/dev/null
    pg_sql main "alter system set synchronous_standby_names = 'pgbkp_stream'" >/dev/null
    pg_sql main "select pg_reload_conf()" >/dev/null
    local i
    for ((i = 0; i < 300; i++)); do
        [ "$(pg_sql main "select sync_state from pg_stat_replication where application_name = 'pgbkp_stream'")" = sync ] && break
        sleep 0.2
    done
    assert_eq sync "$(pg_sql main "select sync_state from pg_stat_replication where application_name = 'pgbkp_stream'")" \
        "the stream's state as a standby"
    # a stream that cannot report holds commits back
    kill -STOP "$STREAM_PID"
    pg_sql main "insert into marker values (1000)" >"$ROOT/work/held.out" 2>&1 &
    local held=$! waiting=0
    for ((i = 0; i < 300 && waiting == 0; i++)); do
        waiting=$(pg_sql main "select count(*) from pg_stat_activity where wait_event = 'SyncRep'")
        [ "$waiting" != 0 ] || sleep 0.2
    done
    [ "$waiting" != 0 ] || fail "no commit waited for the stopped stream"
    kill -0 "$held" 2>/dev/null || fail "the commit returned while the stream was stopped"
    kill -CONT "$STREAM_PID"
    wait "$held" || fail "the held commit failed: $(cat "$ROOT/work/held.out")"
    # every acknowledged commit, then the primary and the stream die at once
    for ((i = 1; i <= 40; i++)); do
        pg_sql main "insert into marker values ($i)" >/dev/null
    done
    # status: the stream as the primary sees it, and how far the repository reaches
    local flushed
    flushed=$(pg_sql main "select flush_lsn from pg_stat_replication where application_name = 'pgbkp_stream'")
    run pgbkp status --output json
    assert_rc 0 "status"
    jq -e '.stream.slot == "pgbkp_stream" and .stream.slot_active and .stream.connected and
           .stream.state == "streaming" and .stream.sync_state == "sync" and .stream.lag_bytes >= 0 and
           .stream.flushed_lsn != null and .repositories[0].wal_in_progress and
           .repositories[0].wal_stored_until_timeline == 1' "$RUN_OUT" >/dev/null ||
        fail "status does not show the stream: $(jq -c '{stream, r: .repositories[0]}' "$RUN_OUT")"
    # the repository holds at least what the stream reported durable
    assert_eq t "$(pg_sql main "select '$(jq -r '.repositories[0].wal_stored_until_lsn' "$RUN_OUT")'::pg_lsn >= '$flushed'::pg_lsn")" \
        "stored WAL reaches the reported flush position"
    run pgbkp status
    assert_output_matches "^stream: slot \"pgbkp_stream\" active; streaming \(sync\), durable up to "
    assert_output_contains "WAL stored up to"
    # the same in the metrics: the stream's families and the stored WAL's end
    local mout stored
    mout=$(metrics_scrape_once '^pgbkp_stream_connected')
    grep -qE '^pgbkp_stream_connected\{.*\} 1$' <<<"$mout" || fail "metrics: no connected stream: $(grep stream <<<"$mout")"
    grep -qE '^pgbkp_stream_synchronous\{.*\} 1$' <<<"$mout" || fail "metrics: the stream is not synchronous"
    grep -qE '^pgbkp_stream_lag_bytes\{.*\} [0-9]+$' <<<"$mout" || fail "metrics: no stream lag"
    stored=$(sed -n 's/^pgbkp_repository_wal_stored_lsn{.*repo="default".*} \([0-9]*\)$/\1/p' <<<"$mout")
    [ -n "$stored" ] || fail "metrics: no stored WAL position: $(grep wal_stored <<<"$mout")"
    assert_eq t "$(pg_sql main "select $stored >= pg_wal_lsn_diff('$flushed', '0/0')")" \
        "metrics: stored WAL reaches the reported flush position"
    kill -KILL "$STREAM_PID"
    as_pg "$PGBIN/pg_ctl" -D "${PG_DATA[main]}" -m immediate stop >/dev/null
    wait "$STREAM_PID" 2>/dev/null || true
    rm -rf "${PG_DATA[main]}"
    restore_to_end
    assert_eq 41 "$(pg_sql copy "select count(*) from marker")" "acknowledged commits after the restore"
    assert_eq 1000 "$(pg_sql copy "select max(i) from marker")" "the commit held while the stream was stopped"
}

# Under continuous load (pgbench and single-row commits) with archive_timeout
# large, streaming into a local and an S3 repository, the primary is killed
# (SIGKILL of the postmaster) and its data directory deleted: a restore from
# the S3 repository alone holds every row committed below the flush position
# the stream last reported (the position it reports is durable in every
# repository), and the test prints how many seconds of acknowledged commits
# were lost (the stream stores what it received every stream_flush_seconds,
# 1 s here; 5 s is S3's default; a timing, so printed, not asserted).
test_stream_under_load_loses_only_the_unflushed_tail() {
    s3_start
    s3_config "$ROOT/pgbkp.yml" "[local, s3]"
    # flush every second (S3's default, 5 s, is a request-rate choice)
    sed -i 's/^  repositories: .*/&\n  stream_flush_seconds: 1/' "$REPO_CONFIG"
    pg_init main on
    { echo "archive_timeout = 3600"; echo "log_replication_commands = on"; } >>"${PG_DATA[main]}/postgresql.conf"
    pg_start main
    expect_rc 0 pgbkp init
    pg_pgbench_init main 5
    stream_start
    expect_rc 0 pgbkp backup --type full
    pg_sql main "create table marker(i int primary key, at pg_lsn)"
    local acks=$ROOT/work/acks
    : >"$acks"
    as_pg "$PGBIN/pgbench" -h "$SOCK" -p "${PG_PORT[main]}" -U postgres -n -c 2 -R 200 -T 600 postgres \
        >"$ROOT/log/pgbench.log" 2>&1 &
    local bench=$!
    # each acknowledged marker: its number, when psql returned, and the WAL
    # position after its commit (a second statement, a transaction of its own)
    (
        i=1
        while end=$(pg_psql main -c "insert into marker values ($i, pg_current_wal_lsn())" -c "select pg_current_wal_lsn()" 2>/dev/null); do
            echo "$i $(date +%s.%N) $end" >>"$acks"
            i=$((i + 1))
        done
    ) &
    local load=$!
    # at least 20 s of load and 30 markers (at most 180 s on a busy machine)
    local waited
    for ((waited = 0; waited < 180; waited++)); do
        [ "$waited" -ge 20 ] && [ "$(wc -l <"$acks")" -ge 30 ] && break
        sleep 1
    done
    local flushed kill_at
    # what the stream last reported durable: the slot keeps it while it reconnects
    flushed=$(pg_sql main "select coalesce(r.flush_lsn, s.restart_lsn) from pg_replication_slots s
                           left join pg_stat_replication r on r.application_name = 'pgbkp_stream'
                           where s.slot_name = 'pgbkp_stream'")
    [ -n "$flushed" ] || fail "no flush position reported by the stream"
    local pm
    pm=$(head -n 1 "${PG_DATA[main]}/postmaster.pid")
    kill_at=$(date +%s.%N)
    # the postmaster and its children at once, as a crash of the host would
    kill -KILL "$pm" $(pgrep -P "$pm" || true)
    wait "$load" 2>/dev/null || true
    kill "$bench" 2>/dev/null || true
    wait "$bench" 2>/dev/null || true
    # the stream stores what it has when its primary goes away; then it stops
    sleep 3
    kill -TERM "$STREAM_PID" 2>/dev/null || true
    wait "$STREAM_PID" 2>/dev/null || true
    rm -rf "${PG_DATA[main]}"
    expect_rc 0 pgbkp verify
    restore_to_end --repo s3
    local got acked below
    got=$(pg_sql copy "select coalesce(max(i), 0) from marker")
    acked=$(tail -n 1 "$acks" | cut -d' ' -f1)
    [ "$acked" -ge 10 ] || fail "only $acked marker rows were acknowledged under the load"
    assert_eq "$got" "$(pg_sql copy "select count(*) from marker")" "marker rows restored without a hole"
    # every row whose commit ended below the reported flush position is there
    lsn_num() { local h=${1%/*} l=${1#*/}; echo $(( 0x$h * 4294967296 + 0x$l )); }
    local fl i t end
    fl=$(lsn_num "$flushed")
    below=0
    while read -r i t end; do
        [ -n "$end" ] && [ "$(lsn_num "$end")" -le "$fl" ] && below=$i
    done <"$acks"
    [ "$below" -gt 0 ] || fail "no acknowledged row below the stream's flush position $flushed"
    [ "$got" -ge "$below" ] || fail "row $below committed below the reported flush position $flushed is missing (restored up to $got)"
    local lost_from
    lost_from=$(awk -v g="$got" '$1 == g + 1 { print $2 }' "$acks")
    echo "# acknowledged $acked rows, restored $got (up to $below below $flushed); commits lost from" \
        "$(awk -v k="$kill_at" -v t="${lost_from:-$kill_at}" 'BEGIN { d = k - t; printf "%.2f", (d > 0 ? d : 0) }') s before the kill"
}

test_stream_restart_resumes_after_the_stored_wal() {
    pg_init main off
    echo "log_replication_commands = on" >>"${PG_DATA[main]}/postgresql.conf"
    pg_start main
    expect_rc 0 pgbkp init
    stream_start
    local lsn
    lsn=$(stream_load 3)
    pg_sql main "select pg_switch_wal()" >/dev/null
    lsn=$(pg_sql main "select pg_current_wal_lsn()")
    stream_wait_flushed "$lsn"
    stream_stop
    local newest
    newest=$(find "$REPO" -path '*/wal/*' -type f -printf '%f\n' | grep -E '^[0-9A-F]{24}$' | sort | tail -n 1 || true)
    [ -n "$newest" ] || fail "no segment in the repository"
    local before
    before=$(grep -c "START_REPLICATION" "$(pg_log main)")
    stream_start
    # the new session starts right after the newest stored segment
    local next want start
    next=$(( 0x${newest:8:8} * 256 + 0x${newest:16:8} + 1 ))
    want=$(printf '%X/%X' $(( (next * 16777216) >> 32 )) $(( (next * 16777216) & 0xffffffff )))
    start=$(grep "START_REPLICATION" "$(pg_log main)" | tail -n +$((before + 1)) | head -n 1 |
        grep -oE 'PHYSICAL [0-9A-F]+/[0-9A-F]+' | cut -d' ' -f2 || true)
    [ -n "$start" ] || fail "no new START_REPLICATION in the server log"
    assert_eq t "$(pg_sql main "select '$start'::pg_lsn = '$want'::pg_lsn")" \
        "the restart asks for the segment after $newest (asked $start, want $want)"
    stream_stop
    if grep -q "streamed WAL segment $newest" "$ROOT/work/stream.out"; then
        fail "the restart streamed $newest again"
    fi
}

test_stream_beside_archive_command() {
    pg_init main on
    pg_start main
    expect_rc 0 pgbkp init
    stream_start
    expect_rc 0 pgbkp backup --type full
    stream_load 3 >/dev/null
    local seg lsn
    seg=$(pg_switch_and_wait main)
    lsn=$(pg_sql main "select pg_current_wal_lsn()")
    stream_wait_flushed "$lsn"
    stream_stop
    grep -q "streamed WAL segment $seg" "$ROOT/work/stream.out" || fail "the stream did not store $seg"
    grep -q "streaming stopped:" "$ROOT/work/stream.out" && fail "the stream failed on the way"
    assert_eq 0 "$(pg_sql main "select failed_count from pg_stat_archiver")" "archive_command failures"
    # the object both wrote is the archived segment, byte for byte
    expect_rc 0 pgbkp archive-get "$seg" "$ROOT/work/got"
    if [ -f "${PG_DATA[main]}/pg_wal/$seg" ]; then
        cmp "$ROOT/work/got" "${PG_DATA[main]}/pg_wal/$seg" || fail "$seg differs from the server's"
    fi
    expect_rc 0 pgbkp verify
}

# stream_durable_on MEMBER LSN: until the stream reported LSN durable to MEMBER.
stream_durable_on() {
    local i
    for ((i = 0; i < 900; i++)); do
        [ "$(member_sql "$1" "select coalesce(bool_or(flush_lsn >= '$2'), false) from pg_stat_replication where application_name = 'pgbkp_stream'" 2>/dev/null || true)" = t ] && return 0
        kill -0 "$STREAM_PID" 2>/dev/null || { cat "$ROOT/work/stream.out"; fail "pgbkp stream exited"; }
        sleep 0.2
    done
    cat "$ROOT/work/stream.out"
    fail "the stream did not report $2 durable to $1"
}

# A Patroni cluster whose dynamic configuration keeps pgbkp_stream on every
# member (its permanent slots): the stream follows a switchover (timeline 2) and then a
# failover, the primary's Patroni and PostgreSQL killed (timeline 3), with
# no gap: verify is clean, a restore to the end holds rows that only the
# stream carried, and a PITR to a moment after the failover is exact.
test_stream_follows_a_switchover_and_a_failover() {
    # shellcheck source=t_cluster.sh
    . "$TOP/tests/integration/t_cluster.sh"
    cluster_up 2 --slot pgbkp_stream
    local l new third i lsn out=$ROOT/work/stream.out
    l=$(leader)
    wait_writable "$l"
    expect_rc 0 pgc --instance "$l" init
    ( cd "$ROOT" &&
      exec setsid setpriv --reuid=postgres --regid=postgres --init-groups --reset-env \
          env LANG=C.UTF-8 TZ=UTC "$INST/bin/pgbkp" --config "$CFG" --log-level debug stream ) \
        >"$out" 2>&1 </dev/null &
    STREAM_PID=$!
    BG_PIDS+=("$STREAM_PID")
    streaming_on() {
        [ "$(member_sql "$1" "select count(*) from pg_stat_replication where application_name = 'pgbkp_stream' and state = 'streaming'" 2>/dev/null || true)" = 1 ]
    }
    for ((i = 0; i < 600; i++)); do streaming_on "$l" && break; sleep 0.2; done
    streaming_on "$l" || { cat "$out"; fail "the stream did not start on $l"; }
    member_sql "$l" "create table t(id int primary key, note text)"
    member_sql "$l" "insert into t select g, 'A' from generate_series(1,100) g"
    backup_on_every_member --type full
    member_sql "$l" "insert into t select g, 'B' from generate_series(101,200) g"

    new=$("$TOP/scripts/patroni-cluster" switchover "$PC" 2>>"$ROOT/log/patroni-switchover.log")
    [ "$new" != "$l" ] || fail "switchover kept $l"
    wait_writable "$new"
    member_sql "$new" "insert into t select g, 'C' from generate_series(201,300) g"
    lsn=$(member_sql "$new" "select pg_current_wal_lsn()")
    # the stream found the new primary and has everything up to lsn durable
    stream_durable_on "$new" "$lsn"
    grep -q "timeline 2" "$out" || fail "the stream did not go on with timeline 2"

    # a failover: rows D reach the replica and the stream, then the primary dies
    "$TOP/scripts/patroni-cluster" wait-streaming "$PC" >/dev/null 2>&1 || fail "the old primary did not rejoin as a replica"
    member_sql "$new" "insert into t select g, 'D' from generate_series(301,400) g"
    lsn=$(member_sql "$new" "select pg_current_wal_lsn()")
    stream_durable_on "$new" "$lsn"
    for ((i = 0; i < 900; i++)); do
        [ "$(member_sql "$new" "select coalesce(bool_and(replay_lsn >= '$lsn'), false) from pg_stat_replication where application_name <> 'pgbkp_stream'")" = t ] && break
        sleep 0.2
    done
    [ "$i" -lt 900 ] || fail "the replica did not replay $lsn before the failover"
    third=$("$TOP/scripts/patroni-cluster" kill-leader "$PC" 2>>"$ROOT/log/patroni-failover.log")
    [ -n "$third" ] && [ "$third" != "$new" ] || fail "no failover from $new"
    wait_writable "$third"
    member_sql "$third" "insert into t select g, 'E' from generate_series(401,500) g"
    sleep 1.1
    local t_after
    t_after=$(member_sql "$third" "select now()")
    sleep 1.1
    member_sql "$third" "insert into t select g, 'F' from generate_series(501,600) g"
    lsn=$(member_sql "$third" "select pg_current_wal_lsn()")
    stream_durable_on "$third" "$lsn"
    grep -q "timeline 3" "$out" || { cat "$out"; fail "the stream did not go on with timeline 3"; }
    kill -TERM "$STREAM_PID"
    wait "$STREAM_PID" || fail "pgbkp stream exited with $?"
    expect_rc 0 pgc verify
    # rows C to F were never archived by archive_command (no switch): only streamed
    restore_at latest
    local got
    got=$(pg_sql latest "select count(*) from t")
    [ "$got" = 600 ] || { cat "$out"; find "$REPO" -path '*/wal/*' | sort; }
    assert_eq "600" "$got" "rows after the switchover and the failover"
    pg_stop latest
    restore_at pit --time "$t_after" --target-action promote
    assert_eq "500" "$(pg_sql pit "select count(*) from t")" "rows at a moment after the failover"
    grep -q "E" <<<"$(pg_sql pit "select string_agg(distinct note, '' order by note) from t")" || fail "no row of timeline 3 at the target"
}

# stream: true in the scheduler: pgbkp stream runs as its child, is started
# again after it ends, and stops with the scheduler.
test_stream_as_a_scheduler_service() {
    pg_init main off
    pg_start main
    expect_rc 0 pgbkp init
    local out=$ROOT/work/schedule.out child i
    pgbkp_bg "$out" --log-level debug schedule --stream --metrics-port 0
    local sched=$BG_PID
    streaming() {
        [ "$(pg_sql main "select count(*) from pg_stat_replication where application_name = 'pgbkp_stream' and state = 'streaming'")" = 1 ]
    }
    for ((i = 0; i < 600; i++)); do streaming && break; sleep 0.2; done
    streaming || { cat "$out"; fail "the scheduler's stream did not start"; }
    child=$(pgrep -P "$sched" -f "pgbkp.* stream") || { cat "$out"; fail "no stream child"; }
    kill -KILL "$child"
    # started again, as a new child
    for ((i = 0; i < 600; i++)); do
        local now
        now=$(pgrep -P "$sched" -f "pgbkp.* stream" || true)
        [ -n "$now" ] && [ "$now" != "$child" ] && streaming && break
        sleep 0.2
    done
    [ "$i" -lt 600 ] || { cat "$out"; fail "the stream was not started again"; }
    grep -q "stream: ended (exit 137); starting it again" "$out" || { cat "$out"; fail "no restart logged"; }
    kill -TERM "$sched"
    wait "$sched" || { cat "$out"; fail "the scheduler exited with $?"; }
    pgrep -P "$sched" >/dev/null && fail "a child outlived the scheduler"
    grep -q "stream: stopped" "$out" || { cat "$out"; fail "the stream was not stopped with the scheduler"; }
}
