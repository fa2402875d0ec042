# shellcheck shell=bash
# Cluster awareness against a real Patroni + etcd cluster (scripts/patroni-cluster):
# every member runs the same "pgbkp backup" and only the current primary backs
# up; archiving goes on across a switchover and a failover with no gap; PITR
# after the switchover; restore --standby, also as Patroni's replica method.

# cluster_up N [patroni-cluster start options...]: a Patroni cluster named
# $CLUSTER with N members in $ROOT/patroni, archiving to the repository through
# the inventory $CFG (written first: members archive as soon as they start).
cluster_up() {
    local n=$1; shift
    CFG=$ROOT/pgbkp.yml
    PC=$ROOT/patroni
    # member i is 127.0.0.(10+i); the ports are known once the cluster runs,
    # so archiving waits for the inventory (it retries until then)
    "$TOP/scripts/patroni-cluster" start "$PC" --name "$CLUSTER" --members "$n" \
        --archive-command "$INST/bin/pgbkp --config $CFG --log-level warn archive-push %p" "$@" \
        >"$ROOT/log/patroni-start.log" 2>&1 ||
        { tail -n 40 "$ROOT/log/patroni-start.log"; fail "patroni-cluster start"; }
    # shellcheck disable=SC1091
    . "$PC/env"
    "$TOP/scripts/patroni-cluster" inventory "$PC" "$CFG.new" "pgbackrest_repo: {local: {path: $REPO}}" \
        "pgbkp: {member_timeout: 3${CLUSTER_PGBKP_EXTRA:-}}" ${CLUSTER_VARS_EXTRA:+"$CLUSTER_VARS_EXTRA"}
    # node-local connections: each member's own address
    local i addr
    for ((i = 1; i <= n; i++)); do
        addr=127.0.0.$((10 + i))
        sed -i "s|^\( *\)$addr: {|\1$addr: {pg_host: $addr, |" "$CFG.new"
    done
    mv "$CFG.new" "$CFG"
    chmod 644 "$CFG"
}

# pgc ARGS...: pgbkp as postgres with the cluster's inventory.
pgc() { as_pg "$INST/bin/pgbkp" --config "$CFG" "$@"; }

leader() { "$TOP/scripts/patroni-cluster" leader "$PC"; }

# wait_writable NAME: Patroni's /primary answers 200 a moment before the
# promoted server accepts writes.
wait_writable() {
    local i
    for ((i = 0; i < 150; i++)); do
        [ "$(member_sql "$1" "select pg_is_in_recovery()" 2>/dev/null || true)" = f ] && return 0
        sleep 0.2
    done
    fail "$1 did not become writable"
}

# member_sql NAME SQL: SQL on a member over TCP.
member_sql() {
    local i=${1##*-}
    as_pg "$PGBIN/psql" -X -q -At -h "127.0.0.$((10 + i))" -p "$PG_PORT" -U postgres -d postgres -c "$2"
}

# switch_and_wait NAME: switch WAL on member NAME and wait until it is archived.
switch_and_wait() {
    local seg i
    seg=$(member_sql "$1" "select pg_walfile_name(pg_switch_wal())")
    for ((i = 0; i < 300; i++)); do
        [[ ! "$(member_sql "$1" "select coalesce(last_archived_wal,'') from pg_stat_archiver")" < "$seg" ]] && return 0
        sleep 0.2
    done
    member_sql "$1" "select * from pg_stat_archiver" >&2
    fail "$seg was not archived by $1"
}

# backup_on_every_member [options]: run "backup" for each member; sets BACKED_UP to the member that did it.
backup_on_every_member() {
    local m out
    BACKED_UP=""
    for m in $PATRONI_MEMBERS; do
        run pgc --instance "$m" backup "$@"
        assert_rc 0 "backup for $m"
        out=$(cat "$RUN_OUT")
        case $out in
            skipped:*) echo "$m: $out" ;;
            *) [ -z "$BACKED_UP" ] || fail "both $BACKED_UP and $m backed up"; BACKED_UP=$m ;;
        esac
    done
    [ -n "$BACKED_UP" ] || fail "no member backed up"
}

# restore_at NAME ARGS...: restore into $ROOT/pg/NAME with ARGS, start it standalone, wait for promotion.
restore_at() {
    local name=$1; shift
    expect_rc 0 pgc restore --target-dir "$ROOT/pg/$name" "$@"
    pg_adopt "$name" "$ROOT/pg/$name"
    pg_start "$name"
    pg_wait_recovery_end "$name"
}

test_cluster_backup_follows_primary() {
    cluster_up 2
    local l
    l=$(leader)
    wait_writable "$l"
    expect_rc 0 pgc --instance "$l" init
    member_sql "$l" "create table t(id int primary key, note text)"
    member_sql "$l" "insert into t select g, 'A' from generate_series(1,100) g"
    backup_on_every_member --type full
    assert_eq "$l" "$BACKED_UP" "member that backed up"
    run pgc --instance "$([ "$l" = "$CLUSTER-1" ] && echo "$CLUSTER-2" || echo "$CLUSTER-1")" backup
    assert_output_matches "^skipped: $CLUSTER-[12] is a replica; the primary is $l \\(127\\.0\\.0\\.1[12]\\)$"

    # switchover: the other member becomes primary, archiving goes on (new timeline)
    local new
    new=$("$TOP/scripts/patroni-cluster" switchover "$PC" 2>>"$ROOT/log/patroni-switchover.log")
    [ "$new" != "$l" ] || fail "switchover kept $l"
    wait_writable "$new"
    member_sql "$new" "insert into t select g, 'B' from generate_series(101,200) g"
    local t_b
    t_b=$(member_sql "$new" "select now()")
    sleep 1.1
    member_sql "$new" "insert into t select g, 'C' from generate_series(201,300) g"
    switch_and_wait "$new"
    backup_on_every_member --type incr
    assert_eq "$new" "$BACKED_UP" "member that backed up after the switchover"
    expect_rc 0 pgc verify
    run pgc status --output json
    assert_rc 0 "status"
    assert_eq "$new" "$(jq -r .primary <"$RUN_OUT")" "primary in status"
    assert_eq "primary replica" "$(jq -r '[.members[].role] | sort | join(" ")' <"$RUN_OUT")" "roles in status"

    # PITR to a moment after the switchover: rows committed on the new primary
    restore_at pitr --time "$t_b" --target-action promote
    assert_eq "200" "$(pg_sql pitr "select count(*) from t")" "rows at the moment after the switchover"
    pg_stop pitr
    restore_at latest
    assert_eq "300" "$(pg_sql latest "select count(*) from t")" "rows at the end of the archive"
}

test_cluster_failover_loses_no_wal() {
    cluster_up 2
    local l
    l=$(leader)
    wait_writable "$l"
    expect_rc 0 pgc --instance "$l" init
    member_sql "$l" "create table t(id int primary key, note text)"
    member_sql "$l" "insert into t select g, 'A' from generate_series(1,100) g"
    backup_on_every_member --type full
    switch_and_wait "$l"
    # the leader dies (Patroni and PostgreSQL killed): automatic failover
    local new
    new=$("$TOP/scripts/patroni-cluster" kill-leader "$PC" 2>>"$ROOT/log/patroni-failover.log")
    [ -n "$new" ] && [ "$new" != "$l" ] || fail "no failover from $l"
    wait_writable "$new"
    member_sql "$new" "insert into t select g, 'B' from generate_series(101,200) g"
    switch_and_wait "$new"
    backup_on_every_member --type incr
    assert_eq "$new" "$BACKED_UP" "member that backed up after the failover"
    expect_rc 0 pgc verify
    restore_at latest
    assert_eq "200" "$(pg_sql latest "select count(*) from t")" "rows after the failover"
}

test_cluster_standby_rebuild() {
    # Patroni creates replicas with pgbkp's restore --standby, and keeps the
    # archive as their fallback through postgresql.recovery_conf (Patroni
    # strips recovery settings from postgresql.auto.conf)
    cluster_up 2 --replica-method "$INST/bin/pgbkp --config $ROOT/pgbkp.yml --instance @NAME@ --no-progress restore --standby --delta --target-dir @DATA@" \
        --restore-command "$INST/bin/pgbkp --config $ROOT/pgbkp.yml --log-level warn archive-get %f \"%p\""
    local l r
    l=$(leader)
    for r in $PATRONI_MEMBERS; do [ "$r" != "$l" ] && break; done
    expect_rc 0 pgc --instance "$l" init
    member_sql "$l" "create table t(id int primary key, note text)"
    member_sql "$l" "insert into t select g, 'A' from generate_series(1,100) g"
    backup_on_every_member --type full

    # restore --standby by hand into a new directory: a replica that streams
    expect_rc 0 pgc --instance "$r" restore --standby --target-dir "$ROOT/pg/standby"
    assert_file_exists "$ROOT/pg/standby/standby.signal"
    assert_not_exists "$ROOT/pg/standby/recovery.signal"
    grep -q "primary_conninfo = 'host=127.0.0.1[12] port=$PG_PORT user=replicator" "$ROOT/pg/standby/postgresql.auto.conf" ||
        fail "primary_conninfo: $(grep primary_conninfo "$ROOT/pg/standby/postgresql.auto.conf")"
    pg_adopt standby "$ROOT/pg/standby"
    pg_start standby
    member_sql "$l" "insert into t select g, 'B' from generate_series(101,200) g"
    local i
    for ((i = 0; i < 150; i++)); do
        [ "$(pg_sql standby "select count(*) from t" 2>/dev/null || true)" = 200 ] && break
        sleep 0.2
    done
    assert_eq 200 "$(pg_sql standby "select count(*) from t")" "rows streamed to the rebuilt replica"
    assert_eq t "$(pg_sql standby "select status = 'streaming' from pg_stat_wal_receiver")" "the rebuilt replica streams"
    pg_stop standby

    # Patroni rebuilds the replica from the repository: wipe it, start it again
    local idx=${r##*-}
    "$TOP/scripts/patroni-cluster" kill-member "$PC" "$r" >>"$ROOT/log/patroni-kill.log" 2>&1 ||
        fail "kill-member $r"
    rm -rf "$(eval echo "\$MEMBER_${idx}_DATA")"
    # WAL after the backup, in the archive: the rebuilt replica replays it from there
    member_sql "$l" "insert into t select g, 'C' from generate_series(201,300) g"
    switch_and_wait "$l"
    switch_and_wait "$l"
    "$TOP/scripts/patroni-cluster" revive "$PC" "$r" >>"$ROOT/log/patroni-revive.log" 2>&1 ||
        { tail -n 30 "$ROOT/log/patroni-revive.log"; fail "revive $r"; }
    grep -rq "replica has been created using pgbkp" "$PC"/log/ ||
        fail "Patroni did not create the replica with pgbkp: $(grep -rh "replica" "$PC"/log/*patroni* 2>/dev/null | tail -n 5)"
    for ((i = 0; i < 150; i++)); do
        [ "$(member_sql "$r" "select count(*) from t" 2>/dev/null || true)" = 200 ] && break
        sleep 0.2
    done
    assert_eq 300 "$(member_sql "$r" "select count(*) from t")" "rows on the replica Patroni rebuilt with pgbkp"
    # under Patroni, the replica fetched WAL from the repository
    grep -rq 'restored log file "[0-9A-F]*" from archive' "$PC/log/pg-$idx"/ ||
        fail "the replica Patroni started did not restore WAL from the archive: $(tail -n 20 "$PC"/log/pg-"$idx"/* 2>/dev/null)"

    # no leader (Patroni's no_leader): the whole cluster is down; a replica
    # is rebuilt from the repository alone, without primary_conninfo
    "$TOP/scripts/patroni-cluster" stop "$PC" >>"$ROOT/log/patroni-stop.log" 2>&1 || fail "patroni-cluster stop"
    run pgc --instance "$r" restore --standby --target-dir "$ROOT/pg/noleader"
    assert_rc 0 "restore --standby without a leader"
    assert_output_contains "rebuilding from the repository alone"
    assert_file_exists "$ROOT/pg/noleader/standby.signal"
    ! grep -q primary_conninfo "$ROOT/pg/noleader/postgresql.auto.conf" || fail "primary_conninfo written without a leader"
    grep -q "^restore_command = .*archive-get" "$ROOT/pg/noleader/postgresql.auto.conf" || fail "no restore_command"
}

# patroni_ssl_enabled (Pigsty's ha/safe shape): the REST API is HTTPS, and
# the primary is found over it with the certificate verified.
test_cluster_patroni_ssl() {
    CLUSTER_VARS_EXTRA="patroni_ssl_enabled: true"
    cluster_up 2 --ssl
    [ "$PATRONI_SSL" = 1 ] || fail "the test cluster's REST API is not HTTPS"
    local l
    l=$(leader)
    wait_writable "$l"
    run pgc config --output json
    assert_rc 0 "config"
    assert_eq true "$(jq -r .settings.patroni_ssl.value <"$RUN_OUT")" "patroni_ssl from the inventory"
    jq -r .settings.patroni_ssl.source <"$RUN_OUT" | grep -q "(patroni_ssl_enabled)" || fail "patroni_ssl's source is not the inventory key"
    # the test CA is not in the system's store: the certificate is refused
    run pgc --instance "$l" backup
    assert_rc 7 "backup with an unverifiable Patroni certificate"
    assert_output_contains "Patroni unreachable"
    # with the CA named, the same line backs up on the leader only
    CLUSTER_PGBKP_EXTRA=", patroni_ca_file: $PATRONI_CA_FILE"
    "$TOP/scripts/patroni-cluster" inventory "$PC" "$CFG.new" "pgbackrest_repo: {local: {path: $REPO}}" \
        "pgbkp: {member_timeout: 3$CLUSTER_PGBKP_EXTRA}" "$CLUSTER_VARS_EXTRA"
    local i
    for ((i = 1; i <= 2; i++)); do
        sed -i "s|^\( *\)127.0.0.$((10 + i)): {|\1127.0.0.$((10 + i)): {pg_host: 127.0.0.$((10 + i)), |" "$CFG.new"
    done
    mv "$CFG.new" "$CFG"
    chmod 644 "$CFG"
    expect_rc 0 pgc --instance "$l" init
    member_sql "$l" "create table t(id int primary key, note text)"
    member_sql "$l" "insert into t select g, 'A' from generate_series(1,100) g"
    backup_on_every_member --type full
    assert_eq "$l" "$BACKED_UP" "member that backed up over HTTPS"
    switch_and_wait "$l"
    restore_at from_ssl
    assert_eq 100 "$(pg_sql from_ssl "select count(*) from t")" "rows restored through the HTTPS-Patroni inventory"
    pg_stop from_ssl

    # pgbkp metrics in pgbackrest_exporter's place, on its port 9854 where
    # it is free: the families and labels Pigsty's PGSQL PITR dashboard queries
    command -v promtool >/dev/null || fail "promtool is missing: run scripts/install-deps"
    local port=9854 out=$ROOT/log/metrics.log m i
    [ -z "$(ss -Htan "( sport = :$port )" 2>/dev/null)" ] || port=$(free_port)
    ( cd "$ROOT" && exec setsid setpriv --reuid=postgres --regid=postgres --init-groups --reset-env \
        env LANG=C.UTF-8 TZ=UTC "$INST/bin/pgbkp" --config "$CFG" --instance "$l" metrics \
        --metrics-port "$port" --metrics-address 127.0.0.1 ) >"$out" 2>&1 </dev/null &
    BG_PIDS+=("$!")
    for ((i = 0; i < 100; i++)); do
        m=$(curl -sf --noproxy '*' "http://127.0.0.1:$port/metrics" 2>/dev/null || true)
        grep -q '^pgbackrest_backup_info{' <<<"$m" && break
        sleep 0.2
    done
    printf '%s\n' "$m" >"$ROOT/work/scrape.txt"
    promtool check metrics <"$ROOT/work/scrape.txt" || fail "promtool check metrics failed"
    local label
    label=$(jq -r '.backups[-1].label' < <(pgc --instance "$l" info --output json))
    grep -q "^pgbackrest_repo_status{cipher=\"none\",repo_key=\"1\",stanza=\"$CLUSTER\"} 0$" "$ROOT/work/scrape.txt" ||
        fail "no healthy pgbackrest_repo_status: $(grep repo_status "$ROOT/work/scrape.txt")"
    grep -q "^pgbackrest_stanza_lock_status{stanza=\"$CLUSTER\"} 0$" "$ROOT/work/scrape.txt" || fail "no pgbackrest_stanza_lock_status"
    grep -q "^pgbackrest_backup_info{.*backup_name=\"$label\",backup_type=\"full\".*stanza=\"$CLUSTER\".*} 1$" "$ROOT/work/scrape.txt" ||
        fail "no pgbackrest_backup_info for $label"
    for m in pgbackrest_backup_duration_seconds pgbackrest_backup_size_bytes pgbackrest_backup_delta_bytes \
             pgbackrest_backup_repo_delta_bytes pgbackrest_backup_error_status; do
        grep -q "^$m{.*backup_name=\"$label\"" "$ROOT/work/scrape.txt" || fail "no $m for $label"
    done
    grep -q "^pgbackrest_backup_duration_seconds{.*start_time=\"[0-9-]* [0-9:]*\".*stop_time=\"[0-9-]* [0-9:]*\"" "$ROOT/work/scrape.txt" ||
        fail "pgbackrest_backup_duration_seconds lacks start_time/stop_time"
    grep -q "^pgbkp_is_primary{cluster=\"$CLUSTER\".*} 1$" "$ROOT/work/scrape.txt" || fail "the metrics do not say this member is the primary"
}

# state_of NAME: rows of t on member NAME, in one checksum
state_of() { member_sql "$1" "select count(*) || ':' || md5(coalesce(string_agg(id || note, ',' order by id), '')) from t"; }

# wait_cluster_state STATE: every member (the leader and the replicas) shows STATE
wait_cluster_state() {
    local m i s
    for m in $PATRONI_MEMBERS; do
        for ((i = 0; i < 300; i++)); do
            s=$(state_of "$m" 2>/dev/null || true)
            [ "$s" = "$1" ] && break
            sleep 0.2
        done
        assert_eq "$1" "$s" "rows on $m"
    done
}

# pitr of the whole cluster (Patroni's REST API with basic auth, as Pigsty
# sets it): to a time, then to a moment before it on the old timeline,
# then --undo; the cluster runs again under Patroni after each.
test_cluster_pitr() {
    CLUSTER_VARS_EXTRA="patroni_username: pitr-admin
patroni_password: 'rest api secret'"
    # the members' addresses are not this machine's interfaces' (127.0.0.1x
    # on loopback): pitr reaches them through ssh_command, here the stand-in
    # tests/tools/fake-ssh (no sshd runs here), which logs each call
    local sshlog=$ROOT/log/ssh.log
    touch "$sshlog"; chown postgres "$sshlog"
    CLUSTER_PGBKP_EXTRA=", ssh_command: '$TOP/tests/tools/fake-ssh --log=$sshlog -o BatchMode=yes'"
    cluster_up 2 --rest-auth "pitr-admin:rest api secret"
    local l r
    l=$(leader)
    wait_writable "$l"
    expect_rc 0 pgc --instance "$l" init
    member_sql "$l" "create table t(id int primary key, note text)"
    member_sql "$l" "insert into t select g, 'A' from generate_series(1,100) g"
    backup_on_every_member --type full
    member_sql "$l" "insert into t select g, 'B' from generate_series(101,150) g"
    local s0 t0 s1 t1
    s0=$(state_of "$l")
    t0=$(member_sql "$l" "select now()")
    sleep 1.1
    member_sql "$l" "update t set note = 'C' where id <= 20"
    member_sql "$l" "insert into t select g, 'C' from generate_series(151,200) g"
    s1=$(state_of "$l")
    t1=$(member_sql "$l" "select now()")
    sleep 1.1
    member_sql "$l" "delete from t where id > 50"
    switch_and_wait "$l"

    # the plan: nothing changes; without --yes off a terminal: refused
    run pgc pitr --time "$t1" --dry-run
    assert_rc 0 "pitr --dry-run"
    assert_output_contains "pitr plan for cluster $CLUSTER"
    assert_output_contains "recovery setting: recovery_target_time = '"
    ls -d "$PC"/data/*.pitr-* 2>/dev/null && fail "the dry run kept a directory aside"
    run pgc pitr --time "$t1" </dev/null
    assert_rc 2 "pitr without --yes"
    assert_output_contains "then run it with --yes"
    # the password is taken from the configuration only
    run pgc --patroni-password x pitr --time "$t1" --dry-run
    assert_rc 2 "--patroni-password on the command line"
    ! grep -rq "rest api secret" "$ROOT/log" 2>/dev/null || fail "the REST API password is in a log"

    # 1: the cluster back to t1
    run pgc pitr --time "$t1" --yes
    assert_rc 0 "pitr --time t1"
    assert_output_contains "pitr of cluster $CLUSTER done in"
    grep -q "password\|secret" "$RUN_OUT" && fail "pitr printed a secret: $(grep -n 'password\|secret' "$RUN_OUT")"
    local a
    for a in $PATRONI_ADDRS; do
        grep -q "^$a .* pitr-member probe" "$sshlog" || fail "no probe of $a over ssh_command"
    done
    grep -q "^$(eval echo "\$MEMBER_1_ADDR") .* pitr-member recover --set [0-9F-]* --time" "$sshlog" &&
        grep -q " pitr-member standby --set " "$sshlog" || fail "pitr's steps were not run over ssh_command: $(cat "$sshlog")"
    l=$(leader)
    wait_writable "$l"
    wait_cluster_state "$s1"
    ls -d "$PC"/data/*.pitr-* >/dev/null || fail "the old data directory was not kept aside"
    [ "$(member_sql "$l" "select timeline_id from pg_control_checkpoint()")" -ge 2 ] || fail "no new timeline"
    "$TOP/scripts/patroni-cluster" wait-streaming "$PC" >>"$ROOT/log/patroni-wait.log" 2>&1 ||
        fail "the replica does not stream after pitr"
    # archiving goes on, on the new timeline
    member_sql "$l" "insert into t select g, 'D' from generate_series(1001,1050) g"
    local s2
    s2=$(state_of "$l")
    switch_and_wait "$l"
    expect_rc 0 pgc verify

    # 2: to t0, a moment before the first target, on the old timeline
    run pgc pitr --time "$t0" --yes
    assert_rc 0 "pitr --time t0 (the old timeline)"
    l=$(leader)
    wait_writable "$l"
    wait_cluster_state "$s0"

    # 3: undo the second pitr: the state it replaced comes back
    run pgc pitr --undo --yes
    assert_rc 0 "pitr --undo"
    assert_output_contains "undone in"
    l=$(leader)
    wait_writable "$l"
    wait_cluster_state "$s2"
    "$TOP/scripts/patroni-cluster" wait-streaming "$PC" >>"$ROOT/log/patroni-wait.log" 2>&1 ||
        fail "the replica does not stream after pitr --undo"
}

# cluster_with_table: a two-member cluster ($CLUSTER_PGBKP_EXTRA applies),
# initialized, with an empty table t; sets L (the leader) and R (the replica).
cluster_with_table() {
    cluster_up 2 "$@"
    L=$(leader)
    wait_writable "$L"
    for R in $PATRONI_MEMBERS; do [ "$R" != "$L" ] && break; done
    expect_rc 0 pgc --instance "$L" init
    member_sql "$L" "create table t(id int primary key, note text)"
}

# pitr changes nothing unless every member answers
test_cluster_pitr_unreachable_member() {
    cluster_with_table
    local l=$L r=$R
    backup_on_every_member --type full
    member_sql "$l" "insert into t select g, 'A' from generate_series(1,10) g"
    switch_and_wait "$l"
    local ssh="$TOP/tests/tools/fake-ssh -o BatchMode=yes"
    # a member's host that ssh cannot reach (its Patroni answers)
    run pgc pitr --immediate --yes --ssh-command "$ssh --down=$(eval echo "\$MEMBER_${r##*-}_ADDR")"
    assert_rc 7 "pitr with a member's host unreachable"
    assert_output_matches "members that cannot be reached: $r: host 127\.0\.0\.1[0-9] \(over ssh\): "
    # the real ssh, with no sshd here: every host unreachable
    run pgc pitr --immediate --yes --ssh-command "ssh -o BatchMode=yes -o ConnectTimeout=5 -o StrictHostKeyChecking=no"
    assert_rc 7 "pitr over a real ssh without an sshd"
    assert_output_contains "(over ssh)"
    # a member whose Patroni is down
    "$TOP/scripts/patroni-cluster" kill-member "$PC" "$r" >>"$ROOT/log/patroni-kill.log" 2>&1 || fail "kill-member $r"
    run pgc pitr --immediate --yes --ssh-command "$ssh"
    assert_rc 7 "pitr with a member down"
    assert_output_contains "members that cannot be reached: $r"
    assert_output_contains "pitr changes nothing unless every member"
    ls -d "$PC"/data/*.pitr-* 2>/dev/null && fail "a directory was kept aside"
    assert_eq 10 "$(member_sql "$l" "select count(*) from t")" "rows on the leader"
    curl -s --noproxy '*' "http://$(eval echo "\$MEMBER_${l##*-}_ADDR"):$PATRONI_PORT/patroni" | grep -q '"pause"' &&
        fail "Patroni was paused"
    # a REST API without credentials configured still answers reads; pitr --dry-run shows the plan
    "$TOP/scripts/patroni-cluster" revive "$PC" "$r" >>"$ROOT/log/patroni-revive.log" 2>&1 || fail "revive $r"
    run pgc pitr --immediate --dry-run --output json --ssh-command "$ssh"
    assert_rc 0 "pitr --dry-run --output json"
    assert_eq "kept" "$(jq -r .old_data <"$RUN_OUT")" "old_data"
    assert_eq "$l" "$(jq -r '.members[] | select(.restored) | .name' <"$RUN_OUT")" "member restored"
    # --instance names another member to restore (a replica here)
    run pgc --instance "$r" pitr --immediate --dry-run --output json --ssh-command "$ssh"
    assert_rc 0 "pitr --instance replica --dry-run"
    assert_eq "$r" "$(jq -r '.members[] | select(.restored) | .name' <"$RUN_OUT")" "member restored with --instance"
}

# backup_standby: the same backup line on every member reads the data files
# from the replica; restore and PITR through such backups are exact.
test_cluster_backup_from_standby() {
    CLUSTER_PGBKP_EXTRA=", backup_standby: prefer"
    cluster_with_table
    local l=$L r=$R
    member_sql "$l" "insert into t select g, 'A' from generate_series(1,100) g"
    "$TOP/scripts/patroni-cluster" wait-streaming "$PC" >>"$ROOT/log/patroni-wait.log" 2>&1 || fail "no streaming replica"
    backup_on_every_member --type full
    assert_eq "$r" "$BACKED_UP" "member that backed up (the replica)"
    run pgc --instance "$l" backup --type full
    assert_rc 0 "backup on the primary"
    assert_output_matches "^skipped: the backup reads from replica $r "
    member_sql "$l" "insert into t select g, 'B' from generate_series(101,200) g"
    local t_b
    t_b=$(member_sql "$l" "select now()")
    sleep 1.1
    member_sql "$l" "insert into t select g, 'C' from generate_series(201,300) g"
    backup_on_every_member --type incr
    assert_eq "$r" "$BACKED_UP" "member that took the incremental backup"
    switch_and_wait "$l"
    expect_rc 0 pgc verify
    run pgc info --output json
    assert_eq "standby standby" "$(jq -r '[.backups[].source_role] | join(" ")' <"$RUN_OUT")" "source_role of the backups"
    assert_eq "$r" "$(jq -r '.backups[0].source_member' <"$RUN_OUT")" "source_member"
    restore_at pitr --time "$t_b" --target-action promote
    assert_eq "200" "$(pg_sql pitr "select count(*) from t")" "rows at the moment between the batches"
    pg_stop pitr
    restore_at latest
    assert_eq "300" "$(pg_sql latest "select count(*) from t")" "rows at the end of the archive"
    pg_stop latest
    # the restored incremental from the replica, started by itself at its own end
    restore_at immediate --immediate --target-action promote
    [ "$(pg_sql immediate "select count(*) from t")" -ge 200 ] || fail "the incremental backup is not consistent"

    # the replica gone: prefer backs up on the primary, require refuses there
    "$TOP/scripts/patroni-cluster" kill-member "$PC" "$r" >>"$ROOT/log/patroni-kill.log" 2>&1 || fail "kill-member $r"
    run pgc --instance "$l" --backup-standby require backup --type incr
    assert_rc 7 "backup_standby require without a replica"
    assert_output_contains "no healthy streaming replica to back up from"
    run pgc --instance "$l" backup --type incr
    assert_rc 0 "backup_standby prefer without a replica"
    run pgc info --output json
    assert_eq "primary" "$(jq -r '.backups[-1].source_role' <"$RUN_OUT")" "source_role without a replica"
}
