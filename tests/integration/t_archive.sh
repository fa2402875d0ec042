# shellcheck shell=bash
# WAL archiving: archive-push / archive-get / check against a real server
# whose archive_command is pgbkp.

# archive_setup: cluster "main" running with archiving through pgbkp, the
# repository initialised, and one segment switched and archived; SEG is its
# name and SEGCOPY a private copy of it (pg_wal may recycle the original).
archive_setup() {
    pg_init main
    pg_start main
    expect_rc 0 pgbkp init
    pg_sql main "create table a(i int); insert into a select generate_series(1,1000)"
    SEG=$(pg_switch_and_wait main)
    SEGCOPY=$ROOT/work/$SEG
    cp "${PG_DATA[main]}/pg_wal/$SEG" "$SEGCOPY"
    chown postgres:postgres "$SEGCOPY"
    [ "$(stat -c %s "$SEGCOPY")" = $((16 * 1024 * 1024)) ] || fail "unexpected segment size"
}

test_init_is_idempotent() {
    pg_init main
    pg_start main
    expect_rc 0 pgbkp init
    assert_file_exists "$REPO"
    expect_rc 0 pgbkp init
    # the repository belongs to postgres (archive-push runs as postgres)
    assert_eq postgres "$(stat -c %U "$REPO")" "repository owner"
}

test_check_passes() {
    pg_init main
    pg_start main
    expect_rc 0 pgbkp init
    local before after
    before=$(pg_sql main "select archived_count from pg_stat_archiver")
    expect_rc 0 pgbkp check
    # the archiver updates its statistics just after archive_command returns
    local i
    for ((i = 0; i < 50; i++)); do
        after=$(pg_sql main "select archived_count from pg_stat_archiver")
        [ "$after" -gt "$before" ] && break
        sleep 0.2
    done
    [ "$after" -gt "$before" ] || fail "check did not archive a segment ($before -> $after)"
    assert_eq 0 "$(pg_sql main "select failed_count from pg_stat_archiver")" "archiver failures"
}

test_check_fails_without_archiving() {
    # archive_mode off: check must not claim success
    pg_init main off
    pg_start main
    expect_rc 0 pgbkp init
    run pgbkp --archive-timeout 5 check
    [ "$RUN_RC" -ne 0 ] || fail "check passed although archive_mode is off"
}

test_archive_push_same_segment_again_succeeds() {
    archive_setup
    expect_rc 0 pgbkp archive-push "$SEGCOPY"
    # and once more from pg_wal's own path, as the server would after a crash
    if [ -f "${PG_DATA[main]}/pg_wal/$SEG" ]; then
        expect_rc 0 pgbkp archive-push "${PG_DATA[main]}/pg_wal/$SEG"
    fi
}

# The server archived SEG compressed by one thread per CPU (two here); the
# same segment pushed again with one thread and with three is the same
# content, accepted, and what archive-get returns is the segment.
test_archive_push_threads_same_content() {
    archive_setup
    local t
    for t in 1 3; do
        expect_rc 0 pgbkp --log-level info --wal-compress-threads "$t" archive-push "$SEGCOPY"
        assert_output_contains "already archived with identical content"
    done
    expect_rc 2 pgbkp --wal-compress-threads 17 archive-push "$SEGCOPY"
    expect_rc 0 pgbkp archive-get "$SEG" "$ROOT/work/threads"
    cmp "$ROOT/work/threads" "$SEGCOPY" || fail "archive-get returned different bytes"
    expect_rc 0 pgbkp verify
}

test_archive_push_different_content_refused() {
    archive_setup
    local bad=$ROOT/work/bad/$SEG
    mkdir -p "$(dirname "$bad")"
    cp "$SEGCOPY" "$bad"
    flip_byte "$bad" 100000
    chown -R postgres:postgres "$ROOT/work/bad"
    cmp -s "$bad" "$SEGCOPY" && fail "flip_byte did not change the copy"
    expect_rc 11 pgbkp archive-push "$bad"
    # the archived segment is unchanged
    expect_rc 0 pgbkp archive-get "$SEG" "$ROOT/work/got"
    cmp "$ROOT/work/got" "$SEGCOPY" || fail "archived segment changed after a refused push"
}

test_archive_push_other_system_refused() {
    archive_setup
    # A second, independent cluster (other system identifier) whose WAL is
    # ahead of main's: push one of its segments under main's repository.
    pg_init other off
    pg_start other
    local i oseg
    for ((i = 0; i < 12; i++)); do
        pg_sql other "create table if not exists x(i int); insert into x values ($i)"
        oseg=$(pg_sql other "select pg_walfile_name(pg_switch_wal())")
    done
    [[ "$oseg" > "$SEG" ]] || fail "other cluster's segment $oseg is not ahead of $SEG"
    local s1 s2
    s1=$(as_pg "$PGBIN/pg_controldata" -D "${PG_DATA[main]}" | sed -n 's/^Database system identifier: *//p')
    s2=$(as_pg "$PGBIN/pg_controldata" -D "${PG_DATA[other]}" | sed -n 's/^Database system identifier: *//p')
    [ "$s1" != "$s2" ] || fail "both clusters have system identifier $s1"
    # a name the repository does not have yet
    expect_rc 1 pgbkp archive-get "$oseg" "$ROOT/work/probe"
    mkdir -p "$ROOT/work/other"
    cp "${PG_DATA[other]}/pg_wal/$oseg" "$ROOT/work/other/$oseg"
    chown -R postgres:postgres "$ROOT/work/other"
    expect_rc 11 pgbkp archive-push "$ROOT/work/other/$oseg"
    assert_output_matches "system|identifier|$s2" "archive-push error"
    # and it was not stored
    expect_rc 1 pgbkp archive-get "$oseg" "$ROOT/work/probe"
    # the other system's first segment under an existing name: refused as well
    if [ -f "${PG_DATA[other]}/pg_wal/000000010000000000000001" ]; then
        cp "${PG_DATA[other]}/pg_wal/000000010000000000000001" "$ROOT/work/other/"
        chown -R postgres:postgres "$ROOT/work/other"
        expect_rc 11 pgbkp archive-push "$ROOT/work/other/000000010000000000000001"
    fi
}

test_archive_get_missing_is_quiet() {
    archive_setup
    expect_rc 1 pgbkp archive-get 0000000100000000000000FE "$ROOT/work/missing"
    [ -s "$RUN_ERR" ] && fail "archive-get of a missing segment wrote to stderr: $(head -c 300 "$RUN_ERR")"
    assert_not_exists "$ROOT/work/missing"
    # a missing history file, as the server probes at the end of recovery
    expect_rc 1 pgbkp archive-get 00000009.history "$ROOT/work/missing.history"
    [ -s "$RUN_ERR" ] && fail "archive-get of a missing history file wrote to stderr"
    assert_not_exists "$ROOT/work/missing.history"
}

test_archive_get_identical_bytes() {
    archive_setup
    expect_rc 0 pgbkp archive-get "$SEG" "$ROOT/work/restored"
    cmp "$ROOT/work/restored" "$SEGCOPY" || fail "archive-get returned different bytes"
    # relative destination, as restore_command's %p (pg_wal/RECOVERYXLOG)
    mkdir -p "$ROOT/work/pg_wal"
    chown postgres:postgres "$ROOT/work/pg_wal"
    # shellcheck disable=SC2046  # option words without spaces
    ( cd "$ROOT/work" &&
      setpriv --reuid=postgres --regid=postgres --init-groups --reset-env \
        "$INST/bin/pgbkp" $(pgbkp_opts main) archive-get "$SEG" pg_wal/RECOVERYXLOG ) ||
        fail "archive-get to a relative path failed"
    cmp "$ROOT/work/pg_wal/RECOVERYXLOG" "$SEGCOPY" || fail "relative archive-get differs"
}

test_history_file_round_trip() {
    archive_setup
    local h=$ROOT/work/hist/00000002.history
    mkdir -p "$(dirname "$h")"
    printf '1\t0/%X\tno recovery target specified\n' $((0x3000000)) >"$h"
    chown -R postgres:postgres "$ROOT/work/hist"
    expect_rc 0 pgbkp archive-push "$h"
    expect_rc 0 pgbkp archive-get 00000002.history "$ROOT/work/hist.got"
    cmp "$h" "$ROOT/work/hist.got" || fail "history file differs after round trip"
    # identical re-push is fine, different content is not
    expect_rc 0 pgbkp archive-push "$h"
    printf '1\t0/%X\tbefore 2020-01-01 00:00:00+00\n' $((0x5000000)) >"$h"
    expect_rc 11 pgbkp archive-push "$h"
}

test_server_archives_through_pgbkp() {
    # The server's own archive_command stores every switched segment; all of
    # them come back with archive-get byte for byte.
    pg_init main
    pg_start main
    expect_rc 0 pgbkp init
    local segs=() i s
    for ((i = 0; i < 3; i++)); do
        pg_sql main "create table if not exists s(i int); insert into s select generate_series(1,5000)"
        s=$(pg_switch_and_wait main)
        segs+=("$s")
        cp "${PG_DATA[main]}/pg_wal/$s" "$ROOT/work/$s.orig"
    done
    assert_eq 0 "$(pg_sql main "select failed_count from pg_stat_archiver")" "archiver failures"
    for s in "${segs[@]}"; do
        expect_rc 0 pgbkp archive-get "$s" "$ROOT/work/$s.got"
        cmp "$ROOT/work/$s.got" "$ROOT/work/$s.orig" || fail "segment $s differs"
    done
}
