# shellcheck shell=bash
# Repositories written by released versions stay readable: each fixture under
# repo/fixtures/ is verified, listed and restored by the pgbkp being tested,
# and the restored server must show exactly the rows the fixture recorded
# (see repo/fixtures/README.md).

fixture_setup() {
    FIXREPO=$ROOT/fixtures/$1
    mkdir -p "$FIXREPO"
    cp -a "$TOP/repo/fixtures/$1/." "$FIXREPO/"
    chown -R postgres:postgres "$ROOT/fixtures"
}

fixture_pgbkp() {
    as_pg "$INST/bin/pgbkp" --cluster fixture --repo-path "$FIXREPO" "$@"
}

test_fixture_v1_verify_and_info() {
    fixture_setup v1
    expect_rc 0 fixture_pgbkp verify
    run fixture_pgbkp info --output json
    assert_rc 0
    assert_eq 20261125-215648F "$(jq -r '.backups[0].label' "$RUN_OUT")" "fixture label"
    assert_eq full "$(jq -r '.backups[0].type' "$RUN_OUT")" "fixture type"
    assert_eq true "$(jq -r '.backups[0].wal_complete' "$RUN_OUT")" "fixture WAL complete"
    assert_eq 1 "$(jq -r '.backups | length' "$RUN_OUT")" "fixture backup count"
}

# fixture_restore VERSION NAME ARGS...: restore fixture VERSION as cluster NAME and start it.
fixture_restore() {
    local version=$1 name=$2; shift 2
    fixture_setup "$version"
    expect_rc 0 fixture_pgbkp restore --target-dir "$ROOT/pg/$name" "$@"
    pg_adopt "$name" "$ROOT/pg/$name"
    pg_start "$name"
    pg_wait_recovery_end "$name"
}

fixture_restore_rows() {
    fixture_restore v1 "$@"
    ROWS=$(pg_sql "$1" "select string_agg(id::text || ':' || note, ',' order by id) from fixture")
}

test_fixture_v1_restore_latest() {
    fixture_restore_rows fixlatest
    assert_eq "1:before backup,2:after backup" "$ROWS" "rows after replaying all fixture WAL"
}

test_fixture_v1_restore_immediate() {
    fixture_restore_rows fiximm --immediate --target-action promote
    assert_eq "1:before backup" "$ROWS" "rows at the end of the fixture backup"
}

fixture_v2_rows() {
    fixture_restore v2 "$@"
    ROWS=$(pg_sql "$1" "select string_agg(id::text, ',' order by id) from fixture")
    CHANGED=$(pg_sql "$1" "select count(*) from big where m = 'changed'")
}

test_fixture_v2_verify_and_info() {
    fixture_setup v2
    expect_rc 0 fixture_pgbkp verify
    run fixture_pgbkp info --output json
    assert_rc 0
    assert_eq "20261125-224817F 20261125-224841I" "$(jq -r '[.backups[].label] | join(" ")' "$RUN_OUT")" "fixture labels"
    assert_eq "20261125-224817F" "$(jq -r '.backups[1].parent' "$RUN_OUT")" "parent of the incremental"
}

test_fixture_v2_restore_full() {
    fixture_v2_rows fixfull --set 20261125-224817F --immediate --target-action promote
    assert_eq "1" "$ROWS" "rows of the full backup"
    assert_eq 0 "$CHANGED" "changed rows in the full backup"
}

test_fixture_v2_restore_incr() {
    fixture_v2_rows fixincr --set 20261125-224841I --immediate --target-action promote
    assert_eq "1,2" "$ROWS" "rows of the incremental backup"
    assert_eq 20 "$CHANGED" "changed rows in the incremental backup"
}

test_fixture_v2_restore_latest() {
    fixture_v2_rows fixv2latest
    assert_eq "1,2,3" "$ROWS" "rows at the end of the archive"
}
