# shellcheck shell=bash
# The operations around a pgBackRest repository: expire and check through
# pgBackRest, the metrics endpoint and the scheduler's job history over it,
# and the Pigsty side (config --render-pgbackrest, engine: pgbackrest). The
# PostgreSQL 15 archiving through `pgbackrest archive-push` and pgbkp's
# configuration naming the repository are pgbr_fixture's, in t_pgbackrest.sh.

# shellcheck source=t_pgbackrest.sh
. "$TOP/tests/integration/t_pgbackrest.sh"

# pgbr_cmd ARGS...: pgBackRest itself on the fixture's stanza.
pgbr_cmd() {
    as_pg pgbackrest --config="$ROOT/pgbr/pgbackrest.conf" --stanza="$CLUSTER" --log-level-console=warn "$@"
}

# Three full backups; expire keeping two removes the oldest through
# pgBackRest (whose own setting keeps nine), and a dry run removes nothing.
test_pgbr_expire_keeps_two_fulls() {
    pgbr_fixture
    local i
    for i in 1 2 3; do expect_rc 0 pgbkp backup --type full; done
    local oldest
    oldest=$(backup_labels | head -n 1)
    run pgbkp expire --retention-full 2 --dry-run
    assert_rc 0 "expire --dry-run"
    assert_output_contains "would remove backup $oldest (full, stopped"
    assert_output_matches "expire: would remove 1 backup( and 1 WAL range)?; 2 backups \(2 full\) would remain"
    assert_eq 3 "$(info_json | jq '.backups | length')" "backups after the dry run"
    run pgbkp expire --retention-full 2
    assert_rc 0 "expire --retention-full 2"
    assert_output_contains "removed backup $oldest (full, stopped"
    assert_output_matches "expire: removed 1 backup( and 1 WAL range)?; 2 backups \(2 full\) and the WAL from [0-9A-F]{24} on remain"
    assert_output_contains "repo1-retention-full=2"
    info_json >"$ROOT/work/info.json"
    assert_eq "full full" "$(jq -r '[.backups[].type] | join(" ")' "$ROOT/work/info.json")" "backups after expire"
    jq -e --arg o "$oldest" 'all(.backups[]; .label != $o)' "$ROOT/work/info.json" >/dev/null ||
        fail "the oldest backup $oldest is still listed"
    # without a retention setting for pgbkp, pgBackRest's own (nine) decides
    run pgbkp expire
    assert_rc 0 "expire with pgBackRest's own retention"
    assert_output_contains "expire: nothing to remove; 2 backups (2 full)"
    # time retention (days) is pgBackRest's too: both backups are younger than a day
    run pgbkp expire --retention-full 1 --retention-full-type time
    assert_rc 0 "expire --retention-full-type time"
    assert_output_contains "repo1-retention-full-type=time"
    assert_output_contains "expire: nothing to remove; 2 backups (2 full)"
}

# check through pgBackRest: healthy, exit 0 naming the archived segment;
# with archiving broken (archive_command still pgBackRest's, failing), exit
# 12 after --archive-timeout. The monitoring form reads pgBackRest's info and
# the stored segment's time.
test_pgbr_check_healthy_and_broken() {
    pgbr_fixture
    run pgbkp check
    assert_rc 0 "check of a healthy pgBackRest setup"
    assert_output_matches "check ok: WAL file [0-9A-F]{24} archived to repository pgbr \(pgBackRest stanza $CLUSTER, repo 1"
    expect_rc 16 pgbkp check --max-backup-age 1h
    expect_rc 0 pgbkp backup --type full
    run pgbkp check --max-backup-age 1h --max-archive-age 1h --min-backups 1
    assert_rc 0 "monitoring check"
    assert_output_matches "check ok: newest backup [0-9]{8}-[0-9]{6}F [^,]* old \(limit [^)]*\), newest WAL [0-9A-F]{24} archived [^,]* ago \(limit [^)]*\), 1 backup \(at least 1\) in repository pgbr"
    run pgbkp check --min-backups 2
    assert_rc 16 "monitoring check with too few backups"
    assert_output_contains "1 backup, fewer than 2"
    # break archiving: pgBackRest's archive-push behind a test that fails
    pg_sql main "alter system set archive_command = 'test ! -f $ROOT/work/broken && pgbackrest --config=$ROOT/pgbr/pgbackrest.conf --stanza=$CLUSTER archive-push %p'"
    as_pg touch "$ROOT/work/broken"
    pg_sql main "select pg_reload_conf()" >/dev/null
    run pgbkp --archive-timeout 3 check
    assert_rc 12 "check with archiving broken"
    assert_output_matches "pgBackRest check failed \[082\]"
}

# pgbkp metrics over a pgBackRest repository: the pgbkp_* and the
# pgbackrest_exporter families from pgBackRest's info, one scrape.
test_pgbr_metrics_scrape() {
    pgbr_fixture
    pg_sql main "create table t as select g from generate_series(1, 1000) g"
    expect_rc 0 pgbkp backup --type full
    # the window starts in the second after the backup's whole-second stop
    # time: the commit that ends it comes after that second has begun
    local s0
    s0=$(date +%s)
    while [ "$(date +%s)" -le $((s0 + 1)) ]; do sleep 0.1; done
    pg_sql main "insert into t values (0)"
    pg_switch_and_wait main >/dev/null
    info_json >"$ROOT/work/info.json"
    local label size now
    label=$(jq -r '.backups[0].label' "$ROOT/work/info.json")
    size=$(jq -r '.backups[0].size' "$ROOT/work/info.json")
    metrics_scrape_once '^pgbkp_up{.*} 1$' >"$ROOT/work/scrape.txt"
    grep -E '^(pgbkp_(rep|rec|backup)|pgbackrest_(repo|backup_info))' "$ROOT/work/scrape.txt" || true
    run promtool check metrics <"$ROOT/work/scrape.txt"
    assert_rc 0 "promtool check metrics"
    local S="stanza=\"$CLUSTER\"" N="cluster=\"$CLUSTER\",node=\"$(hostname)\""
    has() { grep -qxF -- "$1" "$ROOT/work/scrape.txt" || fail "no line: $1"; }
    # value SERIES: the sample's value
    value() { awk -v k="$1" 'index($0, k " ") == 1 { print substr($0, length(k) + 2) }' "$ROOT/work/scrape.txt"; }
    has "pgbkp_repository_status{$N,repo=\"pgbr\",repo_key=\"1\"} 0"
    has "pgbkp_repository_backups{$N,repo=\"pgbr\",repo_key=\"1\"} 1"
    has "pgbkp_repository_backup_lock{$N,repo=\"pgbr\",repo_key=\"1\"} 0"
    has "pgbkp_backups{$N} 1"
    has "pgbackrest_repo_status{cipher=\"none\",repo_key=\"1\",$S} 0"
    has "pgbackrest_stanza_status{$S} 0"
    has "pgbackrest_exporter_status{$S} 1"
    has "pgbackrest_wal_archive_status{database_id=\"1\",pg_version=\"15\",repo_key=\"1\",$S,wal_max=\"\",wal_min=\"\"} 1"
    grep -q "^pgbackrest_backup_info{backrest_ver=\"2\.[0-9]*\",backup_name=\"$label\",backup_type=\"full\",.*} 1$" "$ROOT/work/scrape.txt" ||
        fail "no pgbackrest_backup_info of $label"
    has "pgbackrest_backup_size_bytes{backup_name=\"$label\",backup_type=\"full\",block_incr=\"n\",database_id=\"1\",repo_key=\"1\",$S} $size"
    has "pgbackrest_backup_error_status{backup_name=\"$label\",backup_type=\"full\",block_incr=\"n\",database_id=\"1\",repo_key=\"1\",$S} 0"
    now=$(date +%s)
    local t
    for t in "pgbkp_backup_last_success_timestamp_seconds{$N,type=\"full\"}" \
             "pgbkp_repository_wal_last_archived_timestamp_seconds{$N,repo=\"pgbr\",repo_key=\"1\"}" \
             "pgbkp_recoverable_window_end_timestamp_seconds{$N}"; do
        local v
        v=$(value "$t")
        [ -n "$v" ] && [ "${v%%.*}" -gt $((now - 3600)) ] && [ "${v%%.*}" -le "$now" ] || fail "$t is '$v', not a time of the last hour"
    done
    local a b
    a=$(value "pgbkp_recoverable_window_start_timestamp_seconds{$N}")
    b=$(value "pgbkp_recoverable_window_end_timestamp_seconds{$N}")
    awk -v a="$a" -v b="$b" 'BEGIN { exit !(a > 0 && a < b) }' || fail "window start $a is not before its end $b"
    [ "$(value "pgbkp_repository_wal_segments{$N,repo=\"pgbr\",repo_key=\"1\"}")" -ge 2 ] || fail "fewer than 2 WAL segments counted"
}

# The scheduler runs a backup job through pgBackRest and keeps the job's
# record in pgbkp's state directory, never in pgBackRest's repository. The
# run is made deterministically at start-up: the job's daily due time lies
# within schedule_grace and the history has no run of it.
test_pgbr_schedule_job_history() {
    pgbr_fixture
    local cfg=$ROOT/pgbr/sched.yml
    as_pg tee "$cfg" >/dev/null <<EOF2
pgbkp:
  cluster: $CLUSTER
  pg_host: $SOCK
  pg_port: ${PG_PORT[main]}
  pg_data: ${PG_DATA[main]}
  state_path: $ROOT/state
  metrics_port: 0
  schedule_grace: 1440
  repositories:
    - {name: pgbr, type: pgbackrest, config: $ROOT/pgbr/pgbackrest.conf, repo: 1}
  schedule:
    - {cron: "0 0 * * *", command: backup, type: full, name: backup-full}
EOF2
    local log=$ROOT/log/schedule.log pid i
    ( cd "$ROOT" && exec setsid setpriv --reuid=postgres --regid=postgres --init-groups --reset-env \
        env LANG=C.UTF-8 TZ=UTC "$INST/bin/pgbkp" --config "$cfg" schedule ) >"$log" 2>&1 </dev/null &
    pid=$!
    BG_PIDS+=("$pid")
    # a limit for a hung run, not a speed assumption
    for ((i = 0; i < 900; i++)); do
        grep -Eq 'job backup-full: (ok|failed)' "$log" && break
        kill -0 "$pid" 2>/dev/null || { cat "$log"; fail "the scheduler exited"; }
        sleep 0.2
    done
    kill -TERM "$pid"
    wait "$pid" || true
    cat "$log"
    grep -q 'job backup-full: ok' "$log" || fail "the scheduled backup did not succeed"
    ! grep -q 'could not record the run' "$log" || fail "the run was not recorded"
    local label
    label=$(pgbkp_raw --config "$cfg" info --output json | jq -r '.backups[-1].label')
    # the record: in the state directory, none in pgBackRest's repository
    ls "$ROOT/state/$CLUSTER/history/"*-backup-full.json >/dev/null || fail "no job record under $ROOT/state/$CLUSTER/history"
    [ -z "$(find "$ROOT/pgbr/repo" -name history)" ] || fail "pgbkp wrote into pgBackRest's repository"
    run pgbkp_raw --config "$cfg" status --output json
    assert_rc 0 "status"
    jq -e --arg l "$label" '.repositories[0].jobs[0] | .job == "backup-full" and
        .outcome == "ok" and .label == $l and .bytes > 0' "$RUN_OUT" >/dev/null ||
        fail "status does not show the scheduled backup $label: $(jq -c '.repositories[0].jobs' "$RUN_OUT")"
    run pgbkp_raw --config "$cfg" info
    assert_rc 0 "info"
    assert_output_contains "recent jobs:"
    assert_output_contains "backup-full"
}

# pgbkp config --render-pgbackrest: the pgbackrest.conf Pigsty's template
# renders from an inventory in Pigsty's shape (two clusters, the minio
# method with a per-cluster passphrase through ${pg_cluster}). No server.
test_pgbr_render_pgbackrest_conf() {
    local inv=$ROOT/work/pigsty.yml cpu small restore
    cat >"$inv" <<'EOF2'
all:
  children:
    pg-meta:
      hosts: {10.10.10.10: {pg_seq: 1, pg_role: primary}}
      vars: {pg_cluster: pg-meta}
    pg-test:
      hosts:
        10.10.10.11: {pg_seq: 1, pg_role: primary}
        10.10.10.12: {pg_seq: 2, pg_role: replica}
      vars:
        pg_cluster: pg-test
        pg_port: 5433
        pgbackrest_method: minio
  vars:
    pgbackrest_repo:
      local:
        path: /pg/backup
        retention_full_type: count
        retention_full: 2
      minio:
        type: s3
        s3_endpoint: sss.pigsty
        s3_region: us-east-1
        s3_bucket: pgsql
        s3_key: pgbackrest
        s3_key_secret: S3User.Backup
        s3_uri_style: path
        path: /pgbackrest
        storage_port: 9000
        storage_ca_file: /etc/pki/ca.crt
        block: y
        bundle: y
        bundle_limit: 20MiB
        bundle_size: 128MiB
        cipher_type: aes-256-cbc
        cipher_pass: 'pgBR.${pg_cluster}'
        retention_full_type: time
        retention_full: 14
EOF2
    chmod 644 "$inv"
    cpu=$(nproc)
    small=$(( (cpu + 3) / 4 )); [ "$small" -lt 2 ] && small=2; [ "$small" -gt 4 ] && small=4
    restore=$(( cpu < 8 ? cpu : 8 ))
    cat >"$ROOT/work/want.conf" <<EOF2
[pg-test]
pg1-path=/pg/data
pg1-port=5433

[global]
archive-async=y
archive-push-queue-max=4GiB
annotation=pg_cluster=pg-test
expire-auto=y
start-fast=y
compress-type=zst
spool-path=/pg/spool
log-path=/pg/log/pgbackrest
log-level-file=info
log-level-console=info
repo1-type=s3
repo1-s3-endpoint=sss.pigsty
repo1-s3-region=us-east-1
repo1-s3-bucket=pgsql
repo1-s3-key=pgbackrest
repo1-s3-key-secret=S3User.Backup
repo1-s3-uri-style=path
repo1-path=/pgbackrest
repo1-storage-port=9000
repo1-storage-ca-file=/etc/pki/ca.crt
repo1-block=y
repo1-bundle=y
repo1-bundle-limit=20MiB
repo1-bundle-size=128MiB
repo1-cipher-type=aes-256-cbc
repo1-cipher-pass=pgBR.pg-test
repo1-retention-full-type=time
repo1-retention-full=14
delta=y

[global:backup]
process-max=$small

[global:restore]
process-max=$restore

[global:archive-get]
process-max=$small

[global:archive-push]
process-max=$small
EOF2
    # secrets: a file it is redirected into becomes private, as with --render
    local out=$ROOT/work/pgbackrest.conf
    as_pg sh -c "exec '$INST/bin/pgbkp' --config '$inv' --cluster pg-test config --render-pgbackrest > '$out'" ||
        fail "config --render-pgbackrest failed"
    assert_eq 600 "$(stat -c %a "$out")" "mode of the rendered pgbackrest.conf"
    diff -u "$ROOT/work/want.conf" "$out" || fail "the rendered pgbackrest.conf differs from Pigsty's"
    # the local method: the role default entry, and this cluster's section only
    sed -i 's/pgbackrest_method: minio/pgbackrest_method: local/' "$inv"
    as_pg sh -c "exec '$INST/bin/pgbkp' --config '$inv' --cluster pg-test config --render-pgbackrest > '$out'" ||
        fail "config --render-pgbackrest (local) failed"
    grep -A3 '^log-level-console=info$' "$out" | tail -n 3 | diff - <(printf '%s\n' repo1-path=/pg/backup \
        repo1-retention-full-type=count repo1-retention-full=2) || fail "local repository lines differ"
    ! grep -q 'pg-meta\|s3' "$out" || fail "another cluster's or repository's lines rendered"
    # not an inventory with a Pigsty repository: refused
    printf 'pgbkp:\n  cluster: x\n  repo_path: /tmp/x\n' >"$ROOT/work/plain.yml"
    chmod 644 "$ROOT/work/plain.yml"
    run as_pg sh -c "exec '$INST/bin/pgbkp' --config '$ROOT/work/plain.yml' config --render-pgbackrest > '$out'"
    assert_rc 3 "config --render-pgbackrest without a Pigsty repository"
    assert_output_contains "no Pigsty repository to render"
}

# engine: pgbackrest (or --engine pgbackrest) with a Pigsty inventory: the
# repository is the one Pigsty's pgBackRest uses, stanza = pg_cluster and
# config at Pigsty's path. No server: config shows it, info runs pgBackRest
# with it.
test_pgbr_engine_pigsty() {
    local inv=$ROOT/work/pigsty.yml
    cat >"$inv" <<'EOF2'
all:
  children:
    pg-test:
      hosts: {10.10.10.11: {pg_seq: 1, pg_role: primary}}
      vars: {pg_cluster: pg-test, pgbackrest_method: local}
  vars:
    pgbackrest_repo:
      local: {path: /pg/backup, retention_full_type: count, retention_full: 2}
EOF2
    chmod 644 "$inv"
    run pgbkp_raw --config "$inv" config --output json
    assert_rc 0 "config without an engine"
    assert_eq "local posix" "$(jq -r '.repositories | map(.name + " " + .type) | join(",")' "$RUN_OUT")" \
        "the configured repositories"
    run pgbkp_raw --config "$inv" --engine pgbackrest config --output json
    assert_rc 0 "config --engine pgbackrest"
    jq -e '(.repositories | length) == 1 and .repositories[0].type == "pgbackrest" and
           .repositories[0].config == "/etc/pgbackrest/pgbackrest.conf" and
           .repositories[0].stanza == "pg-test" and .repositories[0].repo == 1' "$RUN_OUT" >/dev/null ||
        fail "--engine pgbackrest is not Pigsty's pgBackRest repository: $(jq -c .repositories "$RUN_OUT")"
    # the same from the pgbkp: section of the inventory
    printf 'pgbkp:\n  engine: pgbackrest\n' >>"$inv"
    run pgbkp_raw --config "$inv" config
    assert_rc 0 "config with engine: pgbackrest"
    assert_output_contains 'repository "pgbackrest" (pgbackrest), from engine: pgbackrest'
    assert_output_contains "stanza                 pg-test"
    # info runs pgBackRest with Pigsty's config file and the cluster's stanza
    run pgbkp_raw --config "$inv" info
    assert_output_contains "/etc/pgbackrest/pgbackrest.conf"
    # pgbkp's own repository on the command line contradicts it
    run pgbkp_raw --config "$inv" --repo-path "$ROOT/repo" info
    assert_rc 3 "engine: pgbackrest with --repo-path"
}
