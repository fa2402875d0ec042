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
