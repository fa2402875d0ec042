# shellcheck shell=bash
# Retention: expire by count keeps exactly the newest full backups with
# their dependents and the WAL from the oldest kept backup's start segment
# on; --dry-run changes nothing; point-in-time recovery inside the kept
# window still works afterwards; expire waits its turn behind a running
# backup.  The time policy is tested by running expire under faketime, ten
# days in the future (and in detail by tests/unit/check_retention.c).

# expire_fixture: "main" running, repository initialised, table t.
expire_fixture() {
    pg_init main
    pg_start main
    expect_rc 0 pgbkp init
    pg_sql main "create table t(id int primary key, note text)"
}

# take_backup TYPE: a backup of that type without the automatic expire;
# its label in LAST.
take_backup() {
    expect_rc 0 pgbkp backup --type "$1" --no-expire
    LAST=$(backup_labels | tail -n 1)
    [ -n "$LAST" ] || fail "no backup listed after backup --type $1"
}

# add_rows NOTE FIRST LAST: rows FIRST..LAST of t noted NOTE, WAL switched and archived.
add_rows() {
    pg_sql main "insert into t select g, '$1' from generate_series($2, $3) g"
    pg_switch_and_wait main >/dev/null
}

# wal_files: names of the archived segment, partial and .backup files, sorted.
wal_files() {
    find "$REPO/$CLUSTER/wal" -mindepth 2 -maxdepth 2 -type f ! -name '.*' -printf '%f\n' | LC_ALL=C sort
}

history_files() {
    find "$REPO/$CLUSTER/wal" -maxdepth 1 -type f -name '*.history' -printf '%f\n' | LC_ALL=C sort
}

# wal_start LABEL: the first WAL segment backup LABEL needs.
wal_start() {
    info_json | jq -r --arg l "$1" '.backups[] | select(.label == $l) | .wal_start'
}

# assert_wal_from SEGMENT LISTING: the archive holds exactly the files of
# LISTING (an earlier wal_files) whose segment number (name characters
# 9-24) is not below SEGMENT's, on every timeline, and some were removed.
assert_wal_from() {
    local cut=${1:8:16} listing=$2 want
    [ ${#1} = 24 ] || fail "assert_wal_from: '$1' is not a segment name"
    want=$(awk -v cut="$cut" '("x" substr($0, 9, 16)) >= ("x" cut)' "$listing")
    assert_eq "$want" "$(wal_files)" "archived WAL kept from $1"
    [ "$want" != "$(cat "$listing")" ] || fail "expire had no WAL to remove below $1: the test proves nothing"
}

# restore_and_start NAME ARGS...: restore into $ROOT/pg/NAME, start it, wait
# for the end of recovery.
restore_and_start() {
    local name=$1; shift
    expect_rc 0 pgbkp restore --target-dir "$ROOT/pg/$name" "$@"
    pg_adopt "$name" "$ROOT/pg/$name"
    pg_start "$name"
    pg_wait_recovery_end "$name"
}

test_expire_count_keeps_newest_fulls() {
    expire_fixture
    local b1 b2 b3
    take_backup full; b1=$LAST; add_rows A 1 100
    take_backup full; b2=$LAST; add_rows B 101 200
    take_backup full; b3=$LAST; add_rows C 201 300
    wal_files >"$ROOT/work/wal.before"
    history_files >"$ROOT/work/history.before"

    # as many full backups as the policy keeps: only the WAL archived
    # before the first backup goes
    expect_rc 0 pgbkp expire --retention-full 3
    if grep -q "removed backup" "$RUN_OUT"; then fail "a backup was removed with --retention-full 3"; fi
    assert_output_matches "^expire: removed [1-9][0-9]* WAL files?; 3 backups \(3 full\) and the WAL from $(wal_start "$b1") on remain$"
    assert_eq "$b1 $b2 $b3" "$(backup_labels | xargs)" "backups kept"
    assert_wal_from "$(wal_start "$b1")" "$ROOT/work/wal.before"
    expect_rc 0 pgbkp expire --retention-full 3
    assert_output_matches "^expire: nothing to remove; "

    wal_files >"$ROOT/work/wal.before"
    expect_rc 0 pgbkp expire --retention-full 2
    assert_output_contains "removed backup $b1 (full"
    assert_output_matches "^expire: removed 1 backup and [1-9][0-9]* WAL files?;"
    if grep -q -e "$b2" -e "$b3" "$RUN_OUT"; then fail "expire mentions a kept backup"; fi
    assert_eq "$b2 $b3" "$(backup_labels | xargs)" "backups kept"
    assert_not_exists "$REPO/$CLUSTER/backup/$b1"
    assert_file_exists "$REPO/$CLUSTER/backup/$b2/backup.manifest"
    assert_wal_from "$(wal_start "$b2")" "$ROOT/work/wal.before"
    assert_eq "$(cat "$ROOT/work/history.before")" "$(history_files)" "history files"
    assert_eq 0 "$(info_json | jq '.wal.gaps | length')" "gaps in the archive after expire"

    # once is enough
    expect_rc 0 pgbkp expire --retention-full 2
    assert_output_contains "nothing to remove"
    expect_rc 0 pgbkp verify

    # down to the newest one: WAL from its start on
    wal_files >"$ROOT/work/wal.before"
    expect_rc 0 pgbkp expire --retention-full 1
    assert_output_contains "removed backup $b2"
    assert_eq "$b3" "$(backup_labels | xargs)" "backups kept"
    assert_wal_from "$(wal_start "$b3")" "$ROOT/work/wal.before"
    expect_rc 0 pgbkp verify

    # the one left restores, with every row archived since
    restore_and_start latest
    assert_eq 300 "$(pg_sql latest "select count(*) from t")" "rows after restore to latest"
}

test_expire_dry_run_removes_nothing() {
    expire_fixture
    local b1 b2 b3 before
    take_backup full; b1=$LAST; add_rows A 1 100
    take_backup full; b2=$LAST; add_rows B 101 200
    take_backup full; b3=$LAST; add_rows C 201 300
    before=$(tree_digest "$REPO/$CLUSTER")
    # by time: every backup is less than a day old, so none would go
    expect_rc 0 pgbkp expire --retention-full-type time --retention-full 1 --dry-run
    assert_output_contains "retention: recovery to any moment since"
    if grep -q "would remove backup" "$RUN_OUT"; then fail "a backup of today would expire with a 1-day window"; fi
    assert_output_matches "^expire: would remove [1-9][0-9]* WAL files?; 3 backups \(3 full\)"
    expect_rc 0 pgbkp expire --retention-full 1 --dry-run
    assert_output_contains "would remove backup $b1"
    assert_output_contains "would remove backup $b2"
    assert_output_matches "^would remove WAL of timeline 1: "
    assert_output_matches "^expire: would remove 2 backups and [1-9][0-9]* WAL files;"
    if grep -q "$b3" "$RUN_OUT"; then fail "dry run mentions the kept backup $b3"; fi
    if grep -q "^removed" "$RUN_OUT"; then fail "dry run says it removed something"; fi
    assert_eq "$before" "$(tree_digest "$REPO/$CLUSTER")" "repository after a dry run"
    assert_eq 3 "$(backup_labels | wc -l)" "backups after a dry run"
    # the real run removes what the dry run announced
    sed -n 's/^would remove backup \([^ ]*\) .*/\1/p' "$RUN_OUT" | LC_ALL=C sort >"$ROOT/work/announced"
    expect_rc 0 pgbkp expire --retention-full 1
    assert_eq "$(cat "$ROOT/work/announced")" \
        "$(sed -n 's/^removed backup \([^ ]*\) .*/\1/p' "$RUN_OUT" | LC_ALL=C sort)" "backups removed vs announced"
    assert_eq "$b3" "$(backup_labels | xargs)" "backups kept"
}

test_expire_then_pitr_inside_window() {
    expire_fixture
    local b1 b2 b3 t_old t_mid
    take_backup full; b1=$LAST
    add_rows A 1 100
    t_old=$(pg_sql main "select now()")
    sleep 1.1
    take_backup full; b2=$LAST
    pg_sql main "insert into t select g, 'B' from generate_series(101, 200) g"
    sleep 0.2
    t_mid=$(pg_sql main "select now()")
    sleep 1.1
    add_rows C 201 300
    take_backup full; b3=$LAST
    add_rows D 301 400

    expect_rc 0 pgbkp expire --retention-full 2
    assert_eq "$b2 $b3" "$(backup_labels | xargs)" "backups kept"
    # before the oldest kept backup: outside the window now, refused
    expect_rc 9 pgbkp restore --target-dir "$ROOT/pg/old" --time "$t_old"
    assert_not_exists "$ROOT/pg/old"
    # between the kept backups: b2 and the WAL after it
    restore_and_start mid --time "$t_mid" --target-action promote
    assert_eq "200 100 100 0" \
        "$(pg_sql mid "select count(*), count(*) filter (where note = 'A'), count(*) filter (where note = 'B'), count(*) filter (where note = 'C') from t" | tr '|' ' ')" \
        "rows at a time between the kept backups"
    pg_stop mid
    # from b2 explicitly, all the way to the end of the archive
    restore_and_start from_b2 --set "$b2"
    assert_eq 400 "$(pg_sql from_b2 "select count(*) from t")" "rows replayed from the oldest kept backup"
}

test_expire_incr_chains() {
    expire_fixture
    local f1 i1 i2 f2 d1 i3
    take_backup full; f1=$LAST; add_rows A 1 100
    take_backup incr; i1=$LAST; add_rows B 101 200
    take_backup incr; i2=$LAST; add_rows C 201 300
    take_backup full; f2=$LAST; add_rows D 301 400
    take_backup diff; d1=$LAST; add_rows E 401 500
    take_backup incr; i3=$LAST; add_rows F 501 600
    assert_eq "full incr incr full diff incr" "$(info_json | jq -r '.backups[].type' | xargs)" "backup types"
    wal_files >"$ROOT/work/wal.before"

    expect_rc 0 pgbkp expire --retention-full 2
    if grep -q "removed backup" "$RUN_OUT"; then fail "a backup was removed with --retention-full 2"; fi
    assert_wal_from "$(wal_start "$f1")" "$ROOT/work/wal.before"
    # one full: the first chain goes whole, dependents before their parents
    wal_files >"$ROOT/work/wal.before"
    expect_rc 0 pgbkp expire --retention-full 1
    assert_eq "removed backup $i2 removed backup $i1 removed backup $f1" \
        "$(grep '^removed backup' "$RUN_OUT" | cut -d' ' -f1-3 | xargs)" "backups removed, newest first"
    assert_output_contains "removed backup $i2 (incr on $i1"
    assert_eq "$f2 $d1 $i3" "$(backup_labels | xargs)" "backups kept"
    assert_wal_from "$(wal_start "$f2")" "$ROOT/work/wal.before"
    expect_rc 0 pgbkp verify

    # the newest backup restores through its whole kept chain
    restore_and_start latest
    assert_eq 600 "$(pg_sql latest "select count(*) from t")" "rows after restoring the incr chain"
    pg_stop latest
    restore_and_start at_diff --set "$d1" --immediate --target-action promote
    assert_eq 400 "$(pg_sql at_diff "select count(*) from t")" "rows at the diff backup"
}

test_expire_locked_while_backup_runs() {
    expire_fixture
    local b1 pid
    take_backup full; b1=$LAST
    take_backup full
    pg_pgbench_init main 30
    start_slow_backup --no-expire
    pid=$BG_PID
    expect_rc 8 pgbkp expire --retention-full 1
    kill -0 "$pid" 2>/dev/null || fail "the backup ended before expire was refused; cannot judge the lock"
    assert_output_matches "(^|[^0-9])$pid([^0-9]|$)" "lock message naming pid $pid"
    # a dry run takes no lock
    expect_rc 0 pgbkp expire --retention-full 1 --dry-run
    assert_output_contains "would remove backup $b1"
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    archive_release
    assert_eq 2 "$(backup_labels | wc -l)" "backups after the refused expire"
    # with the backup gone expire runs; what an interrupted backup leaves
    # behind (a directory without a manifest) is the next backup's to remove
    local stale=$REPO/$CLUSTER/backup/20000101-000000F
    as_pg mkdir -p "$stale/bundle"
    echo partial | as_pg tee "$stale/bundle/000001" >/dev/null
    expect_rc 0 pgbkp expire --retention-full 1
    assert_output_contains "removed backup $b1"
    assert_output_contains "leaving interrupted backup 20000101-000000F"
    assert_file_exists "$stale/bundle/000001"
    assert_eq 1 "$(backup_labels | wc -l)" "backups after expire"
}

test_backup_expires_afterwards() {
    expire_fixture
    local b1 b2 b3
    take_backup full; b1=$LAST; add_rows A 1 100
    take_backup full; b2=$LAST; add_rows B 101 200
    # --expire is the default: the new backup applies the policy once committed
    expect_rc 0 pgbkp backup --type full --retention-full 2
    b3=$(backup_labels | tail -n 1)
    assert_output_contains "removed backup $b1"
    assert_eq "$b2 $b3" "$(backup_labels | xargs)" "backups after backup with expire"
    # --no-expire leaves them
    expect_rc 0 pgbkp backup --type full --retention-full 1 --no-expire
    assert_eq 3 "$(backup_labels | wc -l)" "backups after backup --no-expire"
}

# expire_later DAYS ARGS...: expire as if run DAYS days from now (libfaketime).
expire_later() {
    local days=$1 opts; shift
    mapfile -t opts < <(pgbkp_opts main)
    run as_pg faketime -f "+${days}d" "$INST/bin/pgbkp" "${opts[@]}" expire "$@"
}

test_expire_time_policy() {
    expire_fixture
    local b1 b2 i3
    take_backup full; b1=$LAST; add_rows A 1 100
    take_backup full; b2=$LAST; add_rows B 101 200
    take_backup incr; i3=$LAST; add_rows C 201 300
    # ten days on, every backup is within the last 30 days: all stay
    expire_later 10 --retention-full-type time --retention-full 30
    assert_rc 0
    assert_eq "$b1 $b2 $i3" "$(backup_labels | xargs)" "backups kept with 30 days"
    # with 3 days, all stopped before the cutoff: the newest full before it
    # stays (so the last 3 days stay recoverable), with what builds on it
    wal_files >"$ROOT/work/wal.before"
    expire_later 10 --retention-full-type time --retention-full 3
    assert_rc 0
    assert_output_contains "removed backup $b1 (full"
    assert_eq "$b2 $i3" "$(backup_labels | xargs)" "backups kept with 3 days"
    assert_wal_from "$(wal_start "$b2")" "$ROOT/work/wal.before"
    expect_rc 0 pgbkp verify
    restore_and_start latest
    assert_eq 300 "$(pg_sql latest "select count(*) from t")" "rows after restore to latest"
}

# pgBackRest's retention_diff and retention_archive on a repository (Pigsty
# writes them into pgbackrest_repo): only the newest diff backup stays with
# its incr; continuous WAL only from the newest full backup, while the older
# full backup keeps its own WAL and still restores to its end.
test_expire_diff_and_archive_retention() {
    REPO_CONFIG=$ROOT/pgbkp.yml
    printf 'pgbkp:\n  cluster: %s\n  repositories: [local]\npgbackrest_repo:\n  local: {path: %s, retention_full: 2, retention_diff: 1, retention_archive: 1}\n' \
        "$CLUSTER" "$REPO" >"$REPO_CONFIG"
    chmod 644 "$REPO_CONFIG"
    expire_fixture
    local f1 d1 i1 d2 f2
    add_rows A 1 10
    take_backup full; f1=$LAST
    add_rows B 11 20
    take_backup diff; d1=$LAST
    add_rows C 21 30
    take_backup incr; i1=$LAST
    add_rows D 31 40
    take_backup diff; d2=$LAST
    add_rows E 41 50
    take_backup full; f2=$LAST
    add_rows F 51 60
    local before=$ROOT/work/wal-before
    wal_files >"$before"
    run pgbkp expire
    assert_rc 0 "expire"
    assert_output_contains "the newest 1 diff backup"
    assert_eq "$f1 $d2 $f2" "$(backup_labels | tr '\n' ' ' | sed 's/ $//')" "backups kept"
    # continuous WAL from f2 on; f1 and d2 keep their own start..stop only
    local f2_start f1_start
    f2_start=$(wal_start "$f2")
    f1_start=$(wal_start "$f1")
    wal_files | grep -q "^$f1_start$" || fail "f1's own WAL was removed"
    [ "$(wal_files | awk -v s="$f2_start" '$0 < s' | wc -l)" -lt "$(awk -v s="$f2_start" '$0 < s' "$before" | wc -l)" ] ||
        fail "no WAL below f2's start was removed"
    expect_rc 0 pgbkp verify
    # f1 restores to its own end; the newest backup to the end of the archive
    restore_and_start old --set "$f1" --immediate --target-action promote
    assert_eq 10 "$(pg_sql old "select count(*) from t")" "rows of the oldest full backup"
    restore_and_start newest
    assert_eq 60 "$(pg_sql newest "select count(*) from t")" "rows at the end of the archive"
}
