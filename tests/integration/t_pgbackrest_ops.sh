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
    pg_sql main "insert into t values (0)"
    pg_switch_and_wait main >/dev/null
    info_json >"$ROOT/work/info.json"
    local label size now
    label=$(jq -r '.backups[0].label' "$ROOT/work/info.json")
    size=$(jq -r '.backups[0].size' "$ROOT/work/info.json")
    metrics_scrape_once '^pgbkp_up{.*} 1$' >"$ROOT/work/scrape.txt"
    grep -v '^#' "$ROOT/work/scrape.txt" | grep -E '^(pgbkp_(rep|rec|backup)|pgbackrest_)' | head -n 40
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
