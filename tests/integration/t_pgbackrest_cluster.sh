# shellcheck shell=bash
# A pgBackRest repository under a real Patroni + etcd cluster of two
# members, the way Pigsty runs it: PostgreSQL archives with `pgbackrest
# archive-push`, each node has its own pgbackrest.conf (pg1-path = its own
# data directory) and its own pgbkp configuration naming the same
# repository through it, and the same `pgbkp backup` runs on every node.
# Both "nodes" live on this host, so their files differ by name where on
# real hosts they would share a path.

# pgbr_cluster_up: the cluster (scripts/patroni-cluster through
# t_cluster.sh's cluster_up), per member i a pgBackRest configuration
# $ROOT/pgbr/m<i>.conf and a pgbkp configuration $ROOT/pgbkp-<i>.yml, the
# stanza created on the leader; every member archives into pgBackRest.
pgbr_cluster_up() {
    # shellcheck source=t_cluster.sh
    . "$TOP/tests/integration/t_cluster.sh"
    local d=$ROOT/pgbr i
    as_pg mkdir -p "$d/repo" "$d/log"
    # the archiver runs in the member's data directory, named after its index
    CLUSTER_PGBKP_EXTRA=", repositories: [{name: pgbr, type: pgbackrest, config: $d/m1.conf}]"
    cluster_up 2 --archive-command "pgbackrest --config=$d/m\$(basename \"\$PWD\").conf --stanza=$CLUSTER archive-push %p"
    for ((i = 1; i <= 2; i++)); do
        as_pg mkdir -p "$d/lock-$i" "$d/spool-$i"
        as_pg tee "$d/m$i.conf" >/dev/null <<EOC
[$CLUSTER]
pg1-path=$(eval echo "\$MEMBER_${i}_DATA")
pg1-port=$PG_PORT
pg1-socket-path=$(eval echo "\$MEMBER_${i}_SOCK")

[global]
repo1-path=$d/repo
repo1-retention-full=9
log-path=$d/log
lock-path=$d/lock-$i
spool-path=$d/spool-$i
log-level-file=off
start-fast=y
EOC
        # the inventory, naming this node's pgBackRest configuration
        sed "s|config: $d/m1.conf|config: $d/m$i.conf|" "$CFG" | as_pg tee "$ROOT/pgbkp-$i.yml" >/dev/null
        grep -q "config: $d/m$i.conf" "$ROOT/pgbkp-$i.yml" || fail "no pgBackRest repository in $ROOT/pgbkp-$i.yml"
    done
    local l
    l=$(leader)
    wait_writable "$l"
    as_pg pgbackrest --config="$d/m${l##*-}.conf" --stanza="$CLUSTER" --log-level-console=warn stanza-create ||
        fail "pgbackrest stanza-create on $l failed"
}

# pgbr_node I ARGS...: pgbkp on node I (its own configuration), as postgres.
pgbr_node() {
    local i=$1; shift
    as_pg "$INST/bin/pgbkp" --config "$ROOT/pgbkp-$i.yml" --instance "$CLUSTER-$i" "$@"
}

# pgbr_backup_on_every_node ARGS...: the same backup line on both nodes;
# sets BACKED_UP to the member that backed up (exactly one must).
pgbr_backup_on_every_node() {
    local i out
    BACKED_UP=""
    for ((i = 1; i <= 2; i++)); do
        run pgbr_node "$i" backup "$@"
        assert_rc 0 "backup on $CLUSTER-$i"
        out=$(cat "$RUN_OUT")
        case $out in
            skipped:*) echo "$CLUSTER-$i: $out" ;;
            *)
                [ -z "$BACKED_UP" ] || fail "both $BACKED_UP and $CLUSTER-$i backed up"
                BACKED_UP=$CLUSTER-$i
                grep -q "with pgBackRest" "$RUN_ERR" || fail "the backup on $CLUSTER-$i did not run pgBackRest"
                ;;
        esac
    done
    [ -n "$BACKED_UP" ] || fail "no member backed up"
}

test_pgbr_cluster_backup_on_leader_and_standby_rebuild() {
    pgbr_cluster_up
    local l r
    l=$(leader)
    for r in $PATRONI_MEMBERS; do [ "$r" != "$l" ] && break; done
    member_sql "$l" "create table t(id int primary key, note text)"
    member_sql "$l" "insert into t select g, 'A' from generate_series(1,100) g"
    pgbr_backup_on_every_node --type full
    assert_eq "$l" "$BACKED_UP" "member that backed up through pgBackRest"
    run pgbr_node "${r##*-}" backup --type full
    assert_output_matches "^skipped: $r is a replica; the primary is $l \\(127\\.0\\.0\\.1[12]\\)$"

    # switchover: the other member is primary; the same line backs up there
    local new
    new=$("$TOP/scripts/patroni-cluster" switchover "$PC" 2>>"$ROOT/log/patroni-switchover.log")
    [ "$new" != "$l" ] || fail "switchover kept $l"
    wait_writable "$new"
    member_sql "$new" "insert into t select g, 'B' from generate_series(101,200) g"
    switch_and_wait "$new"
    pgbr_backup_on_every_node --type incr
    assert_eq "$new" "$BACKED_UP" "member that backed up after the switchover"
    run pgbr_node "${new##*-}" info --output json
    assert_rc 0 "info"
    assert_eq "full incr" "$(jq -r '[.backups[].type] | join(" ")' "$RUN_OUT")" "backups in pgBackRest's repository"
    # pgBackRest verify starts a new WAL range at the switch; the history file joins them
    run pgbr_node "${new##*-}" verify
    assert_rc 0 "verify across the switchover"
    assert_output_contains "every backup and WAL file verified"

    # the old primary, now the replica, is rebuilt from pgBackRest's repository:
    # Patroni stopped there, its data directory gone, restore --standby, Patroni again
    local old=$l idx=${l##*-} data
    data=$(eval echo "\$MEMBER_${idx}_DATA")
    "$TOP/scripts/patroni-cluster" kill-member "$PC" "$old" >>"$ROOT/log/patroni-kill.log" 2>&1 ||
        fail "kill-member $old"
    rm -rf "$data"
    member_sql "$new" "insert into t select g, 'C' from generate_series(201,300) g"
    switch_and_wait "$new"
    run pgbr_node "$idx" restore --standby --target-dir "$data"
    assert_rc 0 "restore --standby from pgBackRest's repository"
    assert_output_contains "--type=standby"
    # pgBackRest's archive-get needs the missing pg_control: the end of the archive is not read, not needed
    assert_output_contains "not needed for this target"
    assert_file_exists "$data/standby.signal"
    grep -q "primary_conninfo = 'host=$(eval echo "\$MEMBER_${new##*-}_ADDR") port=$PG_PORT" "$data/postgresql.auto.conf" ||
        fail "primary_conninfo does not name the new primary: $(grep primary_conninfo "$data/postgresql.auto.conf" || true)"
    "$TOP/scripts/patroni-cluster" revive "$PC" "$old" >>"$ROOT/log/patroni-revive.log" 2>&1 ||
        { tail -n 30 "$ROOT/log/patroni-revive.log"; fail "revive $old"; }
    member_sql "$new" "insert into t select g, 'D' from generate_series(301,400) g"
    local i
    for ((i = 0; i < 300; i++)); do
        [ "$(member_sql "$old" "select count(*) from t" 2>/dev/null || true)" = 400 ] && break
        sleep 0.2
    done
    assert_eq 400 "$(member_sql "$old" "select count(*) from t")" "rows on the replica rebuilt from pgBackRest's repository"
    assert_eq t "$(member_sql "$old" "select pg_is_in_recovery()")" "the rebuilt member is a replica"
    # and the same backup line there is skipped
    run pgbr_node "$idx" backup --type incr
    assert_rc 0 "backup on the rebuilt replica"
    assert_output_matches "^skipped: $old is a replica"
}
