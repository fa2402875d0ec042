# shellcheck shell=bash
# Incremental and differential backups: a chain full -> incr -> diff -> incr
# with pgbench traffic between them; every member restores to exactly what
# the source held when it was taken; --delta over a stale copy equals a fresh
# restore; a chain whose parent is gone is refused, never restored.

# state NAME: a digest of the pgbench tables of cluster NAME.
state() {
    pg_sql "$1" "select md5(string_agg(aid || ':' || abalance, ',' order by aid)) from pgbench_accounts" &&
    pg_sql "$1" "select count(*) || ':' || coalesce(sum(delta), 0) from pgbench_history" &&
    pg_sql "$1" "select md5(string_agg(tid || ':' || tbalance, ',' order by tid)) from pgbench_tellers"
}

traffic() {
    as_pg "$PGBIN/pgbench" -h "$SOCK" -p "${PG_PORT[main]}" -n -c 2 -t 300 postgres >/dev/null 2>&1 ||
        fail "pgbench traffic failed"
}

# chain_fixture: sets LABEL_F LABEL_I1 LABEL_D LABEL_I2 and STATE_<label>.
chain_fixture() {
    pg_init main
    pg_start main
    expect_rc 0 pgbkp init
    pg_pgbench_init main 5
    declare -gA STATE
    local type label
    for type in full incr diff incr; do
        traffic
        local s
        s=$(state main)
        expect_rc 0 pgbkp backup --type "$type"
        label=$(backup_labels | tail -n 1)
        STATE[$label]=$s
        case $type in
            full) LABEL_F=$label ;;
            diff) LABEL_D=$label ;;
            incr) if [ -z "${LABEL_I1:-}" ]; then LABEL_I1=$label; else LABEL_I2=$label; fi ;;
        esac
    done
    pg_switch_and_wait main >/dev/null
}

restore_and_check() {
    local label=$1 name=$2
    expect_rc 0 pgbkp restore --set "$label" --target-dir "$ROOT/pg/$name" --immediate --target-action promote
    pg_adopt "$name" "$ROOT/pg/$name"
    pg_start "$name"
    pg_wait_recovery_end "$name"
    assert_eq "${STATE[$label]}" "$(state "$name")" "content of backup $label"
    pg_stop "$name"
}

test_chain_types_and_parents() {
    chain_fixture
    run info_json
    assert_rc 0
    local j=$RUN_OUT
    assert_eq "full incr diff incr" "$(jq -r '[.backups[].type] | join(" ")' "$j")" "types"
    assert_eq "null $LABEL_F $LABEL_F $LABEL_D" "$(jq -r '[.backups[].parent] | map(tostring) | join(" ")' "$j")" "parents"
    [[ $LABEL_F == *F && $LABEL_I1 == *I && $LABEL_D == *D && $LABEL_I2 == *I ]] || fail "label suffixes"
    # an incremental after light traffic stores far less than the full
    local full incr
    full=$(jq -r '.backups[0].repo_size' "$j")
    incr=$(jq -r '.backups[1].repo_size' "$j")
    [ "$incr" -lt $((full / 4)) ] || fail "incremental stored $incr bytes, full $full"
    expect_rc 0 pgbkp verify
}

test_chain_every_member_restores() {
    chain_fixture
    restore_and_check "$LABEL_F" rf
    restore_and_check "$LABEL_I1" ri1
    restore_and_check "$LABEL_D" rd
    restore_and_check "$LABEL_I2" ri2
}

# tree digest without the file restore stamps with the time
restored_digest() {
    ( cd "$1" && find . -type f ! -name postgresql.auto.conf -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum ) |
        sha256sum | cut -d' ' -f1
}

test_delta_restore_equals_fresh() {
    chain_fixture
    pg_stop main
    expect_rc 0 pgbkp restore --set "$LABEL_I2" --target-dir "$ROOT/pg/fresh" --immediate
    # a stale copy: the full backup, started and changed
    expect_rc 0 pgbkp restore --set "$LABEL_F" --target-dir "$ROOT/pg/stale" --immediate --target-action promote
    pg_adopt stale "$ROOT/pg/stale"
    pg_start stale
    pg_wait_recovery_end stale
    pg_sql stale "update pgbench_accounts set abalance = -1 where aid % 100 = 0; create table junk as select 1 i; checkpoint"
    pg_stop stale
    expect_rc 0 pgbkp restore --set "$LABEL_I2" --target-dir "$ROOT/pg/stale" --immediate --delta
    assert_eq "$(restored_digest "$ROOT/pg/fresh")" "$(restored_digest "$ROOT/pg/stale")" "delta restore equals a fresh restore"
}

test_missing_parent_is_refused() {
    chain_fixture
    pg_stop main
    flip_byte "$REPO/$CLUSTER/backup/$LABEL_F/backup.manifest" 40
    run pgbkp restore --set "$LABEL_I2" --target-dir "$ROOT/pg/x"
    assert_rc 6
    assert_output_contains "$LABEL_F"
    assert_not_exists "$ROOT/pg/x"
    run pgbkp verify
    assert_rc 6
    # without --set, nothing in the broken chain is chosen either
    run pgbkp restore --target-dir "$ROOT/pg/y"
    [ "$RUN_RC" -ne 0 ] || fail "restore chose a backup whose chain is broken"
    assert_not_exists "$ROOT/pg/y/PG_VERSION"
}
