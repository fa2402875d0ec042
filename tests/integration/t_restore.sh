# shellcheck shell=bash
# Restore beyond the basic PITR cases: tablespaces (and that a copy never
# writes into the source's tablespace), --delta over a stale copy, a
# symlinked pg_wal, backup labels within one second, and a damaged manifest
# that must not stop the next backup.

restore_fixture() {
    pg_init main
    pg_start main
    expect_rc 0 pgbkp init
    pg_sql main "create table t(id int); insert into t select generate_series(1,10)"
}

test_tablespace_restore_to_mapped_location() {
    restore_fixture
    local ts=$ROOT/ts/orig oid copy=$ROOT/ts/copy before
    mkdir -p "$ts" && chown -R postgres:postgres "$ROOT/ts"
    pg_sql main "create tablespace ts1 location '$ts'"
    pg_sql main "create table tt tablespace ts1 as select generate_series(1,1000) i"
    oid=$(pg_sql main "select oid from pg_tablespace where spcname = 'ts1'")
    expect_rc 0 pgbkp backup
    pg_sql main "insert into tt select generate_series(1001,1500)"
    pg_switch_and_wait main >/dev/null
    # the original location is in use: refused, with the way out in the hint
    run pgbkp restore --target-dir "$ROOT/pg/copy"
    assert_rc 5
    assert_output_contains "--tablespace-map $oid="
    assert_not_exists "$ROOT/pg/copy"
    # an OID the backup does not have is a usage error
    expect_rc 2 pgbkp restore --target-dir "$ROOT/pg/copy" --tablespace-map 1=$copy
    pg_stop main
    before=$(tree_digest "$ts")
    expect_rc 0 pgbkp restore --target-dir "$ROOT/pg/copy" --tablespace-map "$oid=$copy"
    assert_eq "$oid $copy" "$(cat "$ROOT/pg/copy/tablespace_map")" "tablespace_map names the new location"
    pg_adopt copy "$ROOT/pg/copy"
    pg_start copy
    pg_wait_recovery_end copy
    assert_eq 1500 "$(pg_sql copy "select count(*) from tt")" "rows in the restored tablespace"
    assert_eq "$copy" "$(readlink "$ROOT/pg/copy/pg_tblspc/$oid")" "tablespace link of the copy"
    pg_sql copy "insert into tt select generate_series(1,100000); checkpoint"
    pg_stop copy
    # the copy wrote only into its own tablespace
    assert_eq "$before" "$(tree_digest "$ts")" "source tablespace untouched by the copy"
}

test_delta_restore_over_stale_copy() {
    restore_fixture
    pg_pgbench_init main 2
    expect_rc 0 pgbkp backup
    pg_switch_and_wait main >/dev/null
    local d=$ROOT/pg/copy
    expect_rc 0 pgbkp restore --target-dir "$d" --immediate --target-action promote
    pg_adopt copy "$d"
    pg_start copy
    pg_wait_recovery_end copy
    # the copy moves on: new rows, a new table, a dropped table
    pg_sql copy "insert into t select generate_series(11,20); create table extra(i int); drop table pgbench_history; checkpoint"
    pg_stop copy
    echo junk | as_pg tee "$d/base/stray-file" >/dev/null
    # the plan says what delta expects to find, and the restore what it kept
    run pgbkp restore --target-dir "$d" --delta --immediate --target-action promote --dry-run --output json
    assert_rc 0 "delta dry run"
    local nfiles present whole
    nfiles=$(jq .files "$RUN_OUT")
    present=$(jq .delta.present_files "$RUN_OUT")
    whole=$(jq .delta.written_whole_files "$RUN_OUT")
    [ "$present" -gt $((nfiles / 2)) ] && [ "$whole" -ge 1 ] && [ $((present + whole)) -eq "$nfiles" ] ||
        fail "delta plan: $present present + $whole whole of $nfiles files"
    # delta brings it back to the backup: matching files reused, the rest rewritten or removed
    run pgbkp restore --target-dir "$d" --delta --immediate --target-action promote
    assert_rc 0
    assert_output_contains "plan: delta: $present files"
    assert_output_matches "delta: [0-9.]+ MB found unchanged and kept, [0-9.]+ MB written"
    local kept
    kept=$(sed -n 's/.*delta: \([0-9.]*\) MB found unchanged and kept.*/\1/p' "$RUN_ERR")
    awk -v k="$kept" 'BEGIN { exit !(k > 10) }' || fail "delta kept only $kept MB"
    assert_file_exists "$d/backup_label"
    assert_not_exists "$d/base/stray-file"
    # postgresql.auto.conf is the backup's again: point the copy at its own port
    pg_adopt copy "$d"
    pg_start copy
    pg_wait_recovery_end copy
    assert_eq 10 "$(pg_sql copy "select count(*) from t")" "rows after delta restore"
    assert_eq 0 "$(pg_sql copy "select count(*) from pg_class where relname = 'extra'")" "table created after the backup"
    assert_eq 200000 "$(pg_sql copy "select count(*) from pgbench_accounts")" "pgbench rows"
    assert_eq 0 "$(pg_sql copy "select count(*) from pgbench_history")" "dropped table is back"
}

test_symlinked_pg_wal() {
    # initdb --waldir: pg_wal is a link to another directory
    pg_init main
    local wal=$ROOT/waldir
    pg_stop main 2>/dev/null || true
    as_pg mv "${PG_DATA[main]}/pg_wal" "$wal"
    as_pg ln -s "$wal" "${PG_DATA[main]}/pg_wal"
    pg_start main
    expect_rc 0 pgbkp init
    pg_sql main "create table t(id int); insert into t select generate_series(1,7)"
    expect_rc 0 pgbkp backup
    pg_switch_and_wait main >/dev/null
    expect_rc 0 pgbkp restore --target-dir "$ROOT/pg/copy"
    [ -d "$ROOT/pg/copy/pg_wal/archive_status" ] || fail "restored pg_wal/archive_status missing"
    pg_adopt copy "$ROOT/pg/copy"
    pg_start copy
    pg_wait_recovery_end copy
    assert_eq 7 "$(pg_sql copy "select count(*) from t")" "rows"
}

test_backups_in_one_second_get_distinct_labels() {
    restore_fixture
    expect_rc 0 pgbkp backup --no-expire
    expect_rc 0 pgbkp backup --no-expire
    expect_rc 0 pgbkp backup --no-expire
    local labels
    labels=$(backup_labels)
    assert_eq 3 "$(echo "$labels" | sort -u | wc -l)" "distinct labels"
    assert_eq "$labels" "$(echo "$labels" | sort)" "labels sort in time order"
}

test_corrupt_manifest_does_not_block_backup() {
    restore_fixture
    expect_rc 0 pgbkp backup
    local first
    first=$(backup_labels | head -n 1)
    flip_byte "$REPO/$CLUSTER/backup/$first/backup.manifest" 40
    # info lists it as unusable, verify fails naming it, a new backup still works
    run pgbkp info --output json
    assert_rc 0
    assert_eq "$first" "$(jq -r '.corrupt_backups[0].label' "$RUN_OUT")" "corrupt backup listed"
    assert_eq 0 "$(jq -r '.backups | length' "$RUN_OUT")" "usable backups"
    run pgbkp verify
    assert_rc 6
    assert_output_contains "$first"
    run pgbkp backup
    assert_rc 0
    assert_output_contains "backup $first is unusable"
    assert_eq 1 "$(info_json | jq -r '.backups | length')" "usable backups after a new one"
    pg_switch_and_wait main >/dev/null
    expect_rc 0 pgbkp restore --target-dir "$ROOT/pg/copy"
    pg_adopt copy "$ROOT/pg/copy"
    pg_start copy
    pg_wait_recovery_end copy
    assert_eq 10 "$(pg_sql copy "select count(*) from t")" "rows from the good backup"
}

test_force_and_delta_never_write_source_tablespace() {
    restore_fixture
    local ts=$ROOT/ts/orig oid before
    mkdir -p "$ts" && chown -R postgres:postgres "$ROOT/ts"
    pg_sql main "create tablespace ts1 location '$ts'"
    pg_sql main "create table tt tablespace ts1 as select generate_series(1,1000) i"
    oid=$(pg_sql main "select oid from pg_tablespace where spcname = 'ts1'")
    expect_rc 0 pgbkp backup
    pg_sql main "insert into tt select generate_series(1001,1500); checkpoint"
    pg_switch_and_wait main >/dev/null
    # a non-empty target, so that --force and --delta are what an operator reaches for
    mkdir -p "$ROOT/pg/copy" && echo old >"$ROOT/pg/copy/old" && chown -R postgres:postgres "$ROOT/pg/copy"
    before=$(tree_digest "$ts")
    run pgbkp restore --target-dir "$ROOT/pg/copy" --force
    assert_rc 5
    assert_output_contains "--tablespace-map $oid="
    run pgbkp restore --target-dir "$ROOT/pg/copy" --delta
    assert_rc 5
    assert_eq "$before" "$(tree_digest "$ts")" "source tablespace after refused --force and --delta"
    assert_eq 1500 "$(pg_sql main "select count(*) from tt")" "rows of the running source"
    # mapped, --force restores and empties the mapped location first
    mkdir -p "$ROOT/ts/copy" && echo stale >"$ROOT/ts/copy/stale" && chown -R postgres:postgres "$ROOT/ts/copy"
    expect_rc 0 pgbkp restore --target-dir "$ROOT/pg/copy" --force --tablespace-map "$oid=$ROOT/ts/copy"
    assert_not_exists "$ROOT/ts/copy/stale"
    assert_not_exists "$ROOT/pg/copy/old"
    pg_adopt copy "$ROOT/pg/copy"
    pg_start copy
    pg_wait_recovery_end copy
    assert_eq 1500 "$(pg_sql copy "select count(*) from tt")" "rows in the restored tablespace"
}

test_delta_keeps_symlinked_pg_wal() {
    restore_fixture
    expect_rc 0 pgbkp backup
    pg_switch_and_wait main >/dev/null
    local d=$ROOT/pg/copy
    expect_rc 0 pgbkp restore --target-dir "$d" --immediate --target-action promote
    # the copy keeps its WAL elsewhere, as initdb --waldir would
    as_pg mv "$d/pg_wal" "$ROOT/copywal"
    as_pg ln -s "$ROOT/copywal" "$d/pg_wal"
    expect_rc 0 pgbkp restore --target-dir "$d" --delta --immediate --target-action promote
    [ -L "$d/pg_wal" ] || fail "delta restore removed the pg_wal link"
    pg_adopt copy "$d"
    pg_start copy
    pg_wait_recovery_end copy
    assert_eq 10 "$(pg_sql copy "select count(*) from t")" "rows"
}
