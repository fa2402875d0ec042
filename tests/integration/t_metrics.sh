# shellcheck shell=bash
# pgbkp metrics: the metrics endpoint without the scheduler, in
# pgbackrest_exporter's place, checked against what Pigsty's PGSQL PITR
# dashboard queries and against `pgbkp info --output json`.

# scrape PORT: the endpoint's answer, whole (a grep -q straight on curl's
# pipe could make curl fail with SIGPIPE under pipefail)
scrape() {
    local out
    out=$(curl -sf --noproxy '*' "http://127.0.0.1:$1/metrics") || fail "the metrics endpoint on port $1 did not answer"
    printf '%s\n' "$out"
}

# scrape_value PORT SERIES: the value of the sample whose name and labels are
# exactly SERIES ("" when there is none)
scrape_value() {
    local s
    s=$(scrape "$1")
    scrape_value_of "$2" <<<"$s"
}

# scrape_value_of SERIES: scrape_value on a scrape read from stdin
scrape_value_of() {
    awk -v k="$1" 'index($0, k " ") == 1 { print substr($0, length(k) + 2) }'
}

# wait_value PORT SERIES VALUE SECONDS: until SERIES has VALUE; the endpoint
# may not listen yet when this starts (pgbkp metrics was just started)
wait_value() {
    local i v s
    for ((i = 0; i < $4 * 5; i++)); do
        v=""
        if s=$(curl -sf --noproxy '*' "http://127.0.0.1:$1/metrics"); then
            v=$(scrape_value_of "$2" <<<"$s")
            [ "$v" = "$3" ] && return 0
        fi
        kill -0 "$METRICS_PID" 2>/dev/null || { cat "$METRICS_LOG"; fail "pgbkp metrics exited"; }
        sleep 0.2
    done
    fail "$2 is '$v', not $3, after $4 s"
}

# iso_epoch ISO: seconds since 1970 with the fraction
iso_epoch() { date -d "$1" +%s.%N; }

test_metrics_replaces_exporter() {
    command -v promtool >/dev/null ||
        fail "promtool is missing: run scripts/install-deps (Debian package prometheus)"
    pg_init main
    pg_start main
    expect_rc 0 pgbkp init
    pg_sql main "create table t as select g, md5(g::text) as h from generate_series(1, 200000) g"
    expect_rc 0 pgbkp backup --type full
    pg_sql main "update t set h = 'changed' where g % 100 = 0"
    pg_sql main "checkpoint"
    expect_rc 0 pgbkp backup --type incr
    info_json >"$ROOT/work/info.json"
    assert_eq 2 "$(jq '.backups | length' "$ROOT/work/info.json")" "backups"

    # archived before the scrape (the stored WAL must reach its end)
    local arch
    arch=$(pg_sql main "select last_archived_wal from pg_stat_archiver")
    # the exporter formats times in its local time zone: use one that is not UTC
    local port tz=Asia/Kolkata
    port=$(free_port)
    METRICS_LOG=$ROOT/log/metrics.log
    TZ=$tz pgbkp_bg "$METRICS_LOG" metrics --metrics-port "$port" --metrics-address 127.0.0.1 --metrics-interval 2
    METRICS_PID=$BG_PID
    wait_value "$port" "pgbkp_up{cluster=\"$CLUSTER\",node=\"$(hostname)\"}" 1 30
    local m
    m=$(scrape "$port")
    printf '%s\n' "$m" >"$ROOT/work/scrape.txt"
    grep -v '^#' "$ROOT/work/scrape.txt" | grep pgbackrest_ | head -n 60

    # the exposition format, as Prometheus's own checker sees it
    run promtool check metrics <"$ROOT/work/scrape.txt"
    assert_rc 0 "promtool check metrics"

    local S="stanza=\"$CLUSTER\""
    has() { grep -qxF -- "$1" "$ROOT/work/scrape.txt" || fail "no line: $1"; }
    has "pgbackrest_repo_status{cipher=\"none\",repo_key=\"1\",$S} 0"
    has "pgbackrest_stanza_status{$S} 0"
    has "pgbackrest_exporter_status{$S} 1"
    has "pgbackrest_stanza_lock_status{$S} 0"
    has "pgbackrest_stanza_backup_lock_status{$S} 0"
    has "pgbackrest_wal_archive_status{database_id=\"1\",pg_version=\"15\",repo_key=\"1\",$S,wal_max=\"\",wal_min=\"\"} 1"
    has "pgbkp_repository_status{cluster=\"$CLUSTER\",node=\"$(hostname)\",repo=\"default\",repo_key=\"1\"} 0"
    # archive figures from the repository itself, not only from pg_stat_archiver
    local nseg last
    nseg=$(find "$REPO/$CLUSTER/wal" -mindepth 2 -type f -name '????????????????????????' | wc -l)
    has "pgbkp_repository_wal_segments{cluster=\"$CLUSTER\",node=\"$(hostname)\",repo=\"default\",repo_key=\"1\"} $nseg"
    last=$(awk -v k="pgbkp_repository_wal_last_archived_timestamp_seconds{cluster=\"$CLUSTER\",node=\"$(hostname)\",repo=\"default\",repo_key=\"1\"}" \
        'index($0, k " ") == 1 { print substr($0, length(k) + 2) }' "$ROOT/work/scrape.txt")
    [ -n "$last" ] && [ "${last%%.*}" -gt $(( $(date +%s) - 3600 )) ] || fail "no recent last-archived time of the repository: '$last'"
    # no pgbkp stream here: its families have no sample that could alert; the
    # stored WAL reaches the server's last switch at least
    grep -q '^pgbkp_stream_' "$ROOT/work/scrape.txt" && fail "stream samples without a stream: $(grep '^pgbkp_stream_' "$ROOT/work/scrape.txt")"
    grep -qx '# TYPE pgbkp_stream_connected gauge' "$ROOT/work/scrape.txt" || fail "no TYPE line for pgbkp_stream_connected"
    # the stored WAL reaches the end of the newest segment the server archived
    local stored segno
    stored=$(sed -n 's/^pgbkp_repository_wal_stored_lsn{.*repo="default".*} \([0-9]*\)$/\1/p' "$ROOT/work/scrape.txt")
    segno=$(( 0x${arch:8:8} * 256 + 0x${arch:16:8} ))
    [ -n "$stored" ] && [ "$stored" -ge $(( (segno + 1) * 16777216 )) ] ||
        fail "the stored WAL position in the metrics ('$stored') is before the end of $arch"
    # every family has its HELP and TYPE lines
    local f
    for f in pgbackrest_repo_status pgbackrest_stanza_lock_status pgbackrest_backup_info \
             pgbackrest_backup_duration_seconds pgbackrest_backup_size_bytes pgbackrest_backup_delta_bytes \
             pgbackrest_backup_repo_delta_bytes pgbackrest_backup_error_status; do
        grep -qx "# HELP $f .*" "$ROOT/work/scrape.txt" || fail "no HELP line for $f"
        grep -qx "# TYPE $f gauge" "$ROOT/work/scrape.txt" || fail "no TYPE line for $f"
    done

    # each backup, as info describes it, in the labels and values Pigsty's PITR dashboard reads
    local i label type parent lsn_start lsn_stop wal_start wal_stop ver size stored start stop bi B
    local full_stored=0
    for i in 0 1; do
        read -r label type parent lsn_start lsn_stop wal_start wal_stop ver size stored start stop < <(
            jq -r ".backups[$i] | [.label, .type, (.parent // \"-\"), .start_lsn, .stop_lsn, .wal_start, .wal_stop,
                   .pgbkp_version, .size, .repo_size, .start_time, .stop_time] | @tsv" "$ROOT/work/info.json")
        [ "$parent" = "-" ] && parent=
        # an incr backup of a changed table stores blocks as deltas against block maps
        if [ "$type" = full ]; then bi=n; else bi=y; fi
        has "pgbackrest_backup_info{backrest_ver=\"$ver\",backup_name=\"$label\",backup_type=\"$type\",block_incr=\"$bi\",database_id=\"1\",lsn_start=\"$lsn_start\",lsn_stop=\"$lsn_stop\",pg_version=\"15\",prior=\"$parent\",repo_key=\"1\",$S,wal_start=\"$wal_start\",wal_stop=\"$wal_stop\"} 1"
        B="{backup_name=\"$label\",backup_type=\"$type\",block_incr=\"$bi\",database_id=\"1\",repo_key=\"1\",$S"
        has "pgbackrest_backup_size_bytes$B} $size"
        has "pgbackrest_backup_repo_delta_bytes$B} $stored"
        has "pgbackrest_backup_error_status$B} 0"
        local want_start want_stop dur line
        want_start=$(TZ=$tz date -d "$start" '+%Y-%m-%d %H:%M:%S')
        want_stop=$(TZ=$tz date -d "$stop" '+%Y-%m-%d %H:%M:%S')
        line=$(grep -F "pgbackrest_backup_duration_seconds$B,start_time=\"$want_start\",stop_time=\"$want_stop\"} " "$ROOT/work/scrape.txt") ||
            fail "no duration of $label with start_time $want_start and stop_time $want_stop ($tz)"
        dur=$(awk -v a="$(iso_epoch "$start")" -v b="$(iso_epoch "$stop")" 'BEGIN { printf "%.6f", b - a }')
        awk -v got="${line##* }" -v want="$dur" 'BEGIN { d = got - want; exit !(d < 0.001 && d > -0.001) }' ||
            fail "duration of $label: ${line##* }, info says $dur"
        line=$(grep -F "pgbackrest_backup_delta_bytes$B} " "$ROOT/work/scrape.txt") || fail "no delta bytes of $label"
        if [ "$type" = full ]; then
            assert_eq "$size" "${line##* }" "delta bytes of the full backup"
            full_stored=$stored
            has "pgbackrest_backup_repo_size_bytes$B} $stored"
        else
            if [ "${line##* }" -le 0 ] || [ "${line##* }" -ge "$size" ]; then
                fail "delta bytes of the incr backup: ${line##* } (size $size)"
            fi
            has "pgbackrest_backup_repo_size_bytes$B} $((full_stored + stored))"
        fi
    done
    # the newest full; diff: the newest full or diff; incr: the newest of any
    for f in 'full",block_incr="n' 'diff",block_incr="n' 'incr",block_incr="y'; do
        grep -q "^pgbackrest_backup_since_last_completion_seconds{backup_type=\"$f\",$S} [0-9.]*$" "$ROOT/work/scrape.txt" ||
            fail "no time since the last backup: $f"
    done
    has "pgbackrest_backup_last_size_bytes{backup_type=\"full\",block_incr=\"n\",$S} $(jq '.backups[0].size' "$ROOT/work/info.json")"

    # a backup holding the repository's lock shows in both lock gauges, and
    # taking the lock while the endpoint probes it every 2 s is never refused
    start_slow_backup
    wait_value "$port" "pgbackrest_stanza_lock_status{$S}" 1 20
    assert_eq 1 "$(scrape_value "$port" "pgbackrest_stanza_backup_lock_status{$S}")" "backup lock status while a backup runs"
    kill -TERM "$BG_PID"
    archive_release
    wait "$BG_PID" || true
    wait_value "$port" "pgbackrest_stanza_lock_status{$S}" 0 20

    # the port is taken: a second one exits 5 at once
    local opts
    mapfile -t opts < <(pgbkp_opts main)
    run as_pg timeout 30 "$INST/bin/pgbkp" "${opts[@]}" metrics --metrics-port "$port" --metrics-address 127.0.0.1
    assert_rc 5 "a second pgbkp metrics on the same port"
    assert_output_contains "is in use"

    # SIGTERM: exit 0
    kill -TERM "$METRICS_PID"
    local rc=0
    wait "$METRICS_PID" || rc=$?
    assert_eq 0 "$rc" "the exit status of pgbkp metrics after SIGTERM"
    grep -q 'metrics endpoint stopped' "$METRICS_LOG" || fail "no orderly stop in the log"
}
