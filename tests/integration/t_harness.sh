# shellcheck shell=bash
# Self-test of the harness: a private PostgreSQL 15 starts as postgres on a
# free loopback port, answers queries, and stops. No pgbkp involved, so a
# failure here points at the machine or scripts/lib.sh, not at pgbkp.

test_harness_postgres() {
    pg_init plain off
    pg_start plain
    assert_eq 127.0.0.1 "$(pg_sql plain "show listen_addresses")" listen_addresses
    assert_eq "${PG_PORT[plain]}" "$(pg_sql plain "show port")" port
    assert_eq on "$(pg_sql plain "show data_checksums")" data_checksums
    assert_eq on "$(pg_sql plain "show fsync")" fsync
    pg_sql plain "create table h(i int); insert into h select generate_series(1,1000)"
    assert_eq 1000 "$(pg_sql plain "select count(*) from h")" "row count"
    # the server runs as postgres, not root
    local pid owner
    pid=$(head -n 1 "${PG_DATA[plain]}/postmaster.pid")
    owner=$(ps -o user= -p "$pid")
    assert_eq postgres "$owner" "postmaster owner"
    # data dir is private
    assert_eq 700 "$(stat -c %a "${PG_DATA[plain]}")" "data dir mode"
    pg_stop plain
    if pg_is_running plain; then fail "still running after pg_stop"; fi
    # the installed binary is executable by postgres
    as_pg test -x "$INST/bin/pgbkp" || fail "postgres cannot execute $INST/bin/pgbkp"
}
