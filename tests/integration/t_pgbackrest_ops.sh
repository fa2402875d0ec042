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
