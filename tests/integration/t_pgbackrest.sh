# shellcheck shell=bash
# Repositories of type pgbackrest: a PostgreSQL 15 that archives with
# `pgbackrest archive-push` (as Pigsty configures it), Debian's pgBackRest
# with a posix repository under $ROOT/pgbr, and pgbkp pointed at it through
# an inline repository in its configuration file. pgbkp backs up, lists,
# restores and verifies through pgBackRest; pgBackRest alone writes its
# repository.

# pgbr_fixture: cluster "main" archiving into pgBackRest's stanza $CLUSTER
# (the stanza key is left to its default, the cluster name), the stanza
# created, and REPO_CONFIG naming only the pgBackRest repository "pgbr".
pgbr_fixture() {
    local d=$ROOT/pgbr
    pg_init main
    as_pg mkdir -p "$d/repo" "$d/log" "$d/lock" "$d/spool"
    as_pg tee "$d/pgbackrest.conf" >/dev/null <<EOC
[$CLUSTER]
pg1-path=${PG_DATA[main]}
pg1-port=${PG_PORT[main]}
pg1-socket-path=$SOCK

[global]
repo1-path=$d/repo
repo1-retention-full=9
log-path=$d/log
lock-path=$d/lock
spool-path=$d/spool
log-level-file=off
start-fast=y
EOC
    echo "archive_command = 'pgbackrest --config=$d/pgbackrest.conf --stanza=$CLUSTER archive-push %p'" |
        as_pg tee -a "${PG_DATA[main]}/postgresql.conf" >/dev/null
    pg_start main
    as_pg pgbackrest --config="$d/pgbackrest.conf" --stanza="$CLUSTER" --log-level-console=warn stanza-create ||
        fail "pgbackrest stanza-create failed"
    REPO_CONFIG=$d/pgbkp.yml
    as_pg tee "$REPO_CONFIG" >/dev/null <<EOC
pgbkp:
  repositories:
    - {name: pgbr, type: pgbackrest, config: $d/pgbackrest.conf, repo: 1}
EOC
}

# pgbr_batches: table t, batch A (ids 1..100), then T_AB, then batch B (ids
# 101..200); the WAL switched and archived. pgBackRest records a backup's
# stop time in whole seconds and pgbkp counts a backup as ended before a
# target only from the next second, so the batches first wait until the
# clock has entered the next whole second: T_AB is then after any backup
# taken before, however fast that backup was.
pgbr_batches() {
    local s0
    s0=$(date +%s)
    while [ "$(date +%s)" -le "$s0" ]; do sleep 0.1; done
    pg_sql main "create table t(id int primary key, note text)"
    pg_sql main "insert into t select g, 'A' from generate_series(1,100) g"
    sleep 0.2
    T_AB=$(pg_sql main "select now()")
    sleep 1.1
    pg_sql main "insert into t select g, 'B' from generate_series(101,200) g"
    pg_switch_and_wait main >/dev/null
}

test_pgbr_backup_full_incr_info() {
    pgbr_fixture
    run pgbkp backup --type full
    assert_rc 0 "backup --type full through pgBackRest"
    assert_output_matches "full backup [0-9]{8}-[0-9]{6}F complete"
    pg_sql main "create table t(id int primary key, note text); insert into t select g, 'A' from generate_series(1,100) g"
    expect_rc 0 pgbkp backup --type incr
    # auto: the full backup is recent, so an incremental one
    run pgbkp backup --type auto
    assert_rc 0 "backup --type auto"
    assert_output_contains "--type auto: incr"
    pg_sql main "insert into t values (1000, 'C')"
    pg_switch_and_wait main >/dev/null

    info_json >"$ROOT/work/info.json"
    jq -e '.engine == "pgbackrest" and .repository_name == "pgbr"' "$ROOT/work/info.json" >/dev/null ||
        fail "info does not name the pgBackRest engine: $(head -c 400 "$ROOT/work/info.json")"
    assert_eq "full incr incr" "$(jq -r '[.backups[].type] | join(" ")' "$ROOT/work/info.json")" "backup types"
    local full
    full=$(jq -r '.backups[0].label' "$ROOT/work/info.json")
    assert_eq "$full" "$(jq -r '.backups[1].parent' "$ROOT/work/info.json")" "the incr backup's parent"
    assert_eq "true true true" "$(jq -r '[.backups[].wal_complete] | map(tostring) | join(" ")' "$ROOT/work/info.json")" \
        "every backup's WAL is archived"
    jq -e '.recoverable_window.start != null and .recoverable_window.end != null and
           .recoverable_window.start < .recoverable_window.end and
           .recoverable_window.start > .backups[0].stop_time and
           (.timeline_windows | length) == 1 and .timeline_windows[0].timeline == 1 and
           .system_identifier != null and .pg_version == 150000' "$ROOT/work/info.json" >/dev/null ||
        fail "no recoverable window: $(jq -c '{recoverable_window, timeline_windows}' "$ROOT/work/info.json")"
    run pgbkp info
    assert_rc 0 "info (text)"
    assert_output_contains "pgBackRest stanza $CLUSTER, repo 1"
    assert_output_contains "recoverable window:"
    run pgbkp status --output json
    assert_rc 0 "status --output json"
    jq -e '.repositories[0].engine == "pgbackrest" and .repositories[0].newest_backup.type == "incr"' "$RUN_OUT" >/dev/null ||
        fail "status does not show the newest pgBackRest backup: $(head -c 400 "$RUN_OUT")"
}

test_pgbr_restore_time_between_batches() {
    pgbr_fixture
    expect_rc 0 pgbkp backup --type full
    pgbr_batches
    local dir=$ROOT/pg/pitr
    # the plan writes nothing
    run pgbkp restore --target-dir "$dir" --time "$T_AB" --dry-run
    assert_rc 0 "restore --dry-run"
    assert_output_contains "plan: run: pgbackrest"
    assert_output_contains "--type=time"
    assert_output_contains "--archive-mode=off"
    assert_not_exists "$dir"
    # a time after the last archived commit is refused before anything is written
    expect_rc 9 pgbkp restore --target-dir "$dir" --time "$(date -u -d '+1 hour' '+%Y-%m-%d %H:%M:%S+00')"
    assert_not_exists "$dir"
    expect_rc 0 pgbkp restore --target-dir "$dir" --time "$T_AB" --target-action promote
    assert_file_exists "$dir/PG_VERSION"
    assert_file_exists "$dir/recovery.signal"
    assert_eq 700 "$(stat -c %a "$dir")" "mode of the restored data directory"
    assert_eq off "$(pg_setting "$dir" archive_mode)" "archive_mode of the copy"
    case $(pg_setting "$dir" restore_command) in
        *pgbackrest*archive-get*) ;;
        *) fail "restore_command is not pgBackRest's archive-get: $(pg_setting "$dir" restore_command)" ;;
    esac
    pg_adopt pitr "$dir"
    pg_start pitr
    pg_wait_recovery_end pitr
    assert_eq "100 100 0" "$(count_rows pitr)" "rows after restore --time between the batches"
}

test_pgbr_verify_flipped_byte() {
    pgbr_fixture
    pg_pgbench_init main 1
    expect_rc 0 pgbkp backup --type full
    run pgbkp verify
    assert_rc 0 "verify of an intact pgBackRest repository"
    local label f
    label=$(backup_labels | tail -n 1)
    f=$(find "$ROOT/pgbr/repo/backup/$CLUSTER/$label/pg_data/base" -type f -size +8k -printf '%s %p\n' |
        sort -rn | awk 'NR == 1 { print $2 }')
    [ -n "$f" ] || fail "no backup file to damage under $ROOT/pgbr/repo/backup/$CLUSTER/$label"
    flip_byte "$f" 4000
    # pgBackRest 2.45 itself exits 0 here; pgbkp reads its report
    run as_pg pgbackrest --config="$ROOT/pgbr/pgbackrest.conf" --stanza="$CLUSTER" --log-level-console=warn verify
    echo "pgbackrest verify exited $RUN_RC"
    run pgbkp verify
    assert_rc 6 "verify of a damaged pgBackRest backup file"
    assert_output_contains "${f#"$ROOT/pgbr/repo/backup/$CLUSTER/"}"
}

test_pgbr_error_passes_through() {
    pgbr_fixture
    # a stanza pgBackRest does not know: its error in one line, with its code
    as_pg tee "$ROOT/pgbr/other.yml" >/dev/null <<EOC
pgbkp:
  repositories:
    - {name: pgbr, type: pgbackrest, config: $ROOT/pgbr/pgbackrest.conf, stanza: nosuch}
EOC
    run pgbkp_raw --config "$ROOT/pgbr/other.yml" --cluster "$CLUSTER" --pg-host "$SOCK" \
        --pg-port "${PG_PORT[main]}" backup
    [ "$RUN_RC" -ne 0 ] || fail "backup of an unknown stanza succeeded"
    assert_output_matches "pgBackRest backup failed \[0[0-9]{2}\]: "
    # commands pgbkp does not run through pgBackRest refuse it by name
    run pgbkp wal-index rebuild
    assert_rc 3 "wal-index on a pgBackRest repository"
    assert_output_contains "is pgBackRest's"
    # pgBackRest archives its own WAL: pgbkp's WAL commands have no repository here
    run pgbkp archive-get 000000010000000000000001 "$ROOT/work/seg"
    assert_rc 3 "archive-get with only a pgBackRest repository"
    assert_output_contains "pgBackRest archives and fetches its WAL"
}

test_pgbr_mixed_restore_picks_reaching_repository() {
    pgbr_fixture
    # both kinds in one list; WAL goes to pgBackRest (its archive-push) and
    # to the pgbkp repository (pgbkp archive-push leaves pgBackRest's to it);
    # a native backup before batch A, the only pgBackRest backup after T_AB
    as_pg tee "$REPO_CONFIG" >/dev/null <<EOC
pgbkp:
  repositories:
    - {name: pgbr, type: pgbackrest, config: $ROOT/pgbr/pgbackrest.conf}
    - {name: native, type: posix, path: $REPO}
EOC
    echo "archive_command = 'pgbackrest --config=$ROOT/pgbr/pgbackrest.conf --stanza=$CLUSTER archive-push %p && $INST/bin/pgbkp --config $REPO_CONFIG --cluster $CLUSTER --log-level warn archive-push %p'" |
        as_pg tee -a "${PG_DATA[main]}/postgresql.conf" >/dev/null
    pg_sql main "select pg_reload_conf()" >/dev/null
    expect_rc 0 pgbkp --repo native init
    expect_rc 0 pgbkp --repo native backup --type full
    pgbr_batches
    expect_rc 0 pgbkp --repo pgbr backup --type full
    pg_switch_and_wait main >/dev/null
    run pgbkp info --output json
    assert_rc 0 "info over both repositories"
    assert_eq "pgbackrest null" "$(jq -r '[.[].engine] | map(tostring) | join(" ")' "$RUN_OUT")" "engines"
    local dir=$ROOT/pg/mixed
    run pgbkp restore --target-dir "$dir" --time "$T_AB" --target-action promote
    assert_rc 0 "restore --time over both repositories"
    assert_output_contains 'repository "pgbr": no backup ended before the target time'
    assert_output_contains 'restoring from repository "native"'
    pg_adopt mixed "$dir"
    pg_start mixed
    pg_wait_recovery_end mixed
    assert_eq "100 100 0" "$(count_rows mixed)" "rows restored from the native repository"
    # a target after the pgBackRest backup: the first repository, pgBackRest, reaches it
    pg_sql main "insert into t values (1000, 'C')"
    pg_switch_and_wait main >/dev/null
    run pgbkp restore --target-dir "$ROOT/pg/mixed2" --dry-run
    assert_rc 0 "restore --dry-run to the end of the archive"
    assert_output_contains "plan: run: pgbackrest"
}

test_pgbr_standby_and_replica_skip() {
    pgbr_fixture
    pg_sql main "create table t(id int primary key, note text); insert into t select g, 'A' from generate_series(1,100) g"
    expect_rc 0 pgbkp backup --type full
    # a replica rebuilt from pgBackRest's repository (no members known: it
    # replays the archive; the test gives it primary_conninfo)
    local dir=$ROOT/pg/replica
    run pgbkp restore --standby --target-dir "$dir"
    assert_rc 0 "restore --standby"
    assert_output_contains "--type=standby"
    assert_output_contains "--target-timeline=latest"
    assert_file_exists "$dir/standby.signal"
    [ "$(pg_setting "$dir" archive_mode)" != off ] || fail "a standby must keep archive_mode (it archives once promoted)"
    echo "primary_conninfo = 'host=$SOCK port=${PG_PORT[main]} user=postgres'" | as_pg tee -a "$dir/postgresql.auto.conf" >/dev/null
    pg_adopt replica "$dir"
    pg_start replica
    assert_eq t "$(pg_sql replica "select pg_is_in_recovery()")" "the rebuilt member is a replica"
    assert_eq 100 "$(pg_sql replica "select count(*) from t")" "rows on the replica"
    # the same backup line on the replica: skipped, exit 0, nothing taken
    run pgbkp_for replica --if-primary backup --type full
    assert_rc 0 "backup --if-primary on a replica"
    assert_output_contains "skipped"
    assert_eq 1 "$(info_json | jq '.backups | length')" "backups after the skipped run"
    run pgbkp --if-primary backup --type incr
    assert_rc 0 "backup --if-primary on the primary"
    assert_eq 2 "$(info_json | jq '.backups | length')" "backups after the primary's run"
}

# clone and drill over a pgBackRest repository: the same plan and window
# check as restore, then pgBackRest restores; a damaged backup fails the
# drill with the restore's own exit code.
test_pgbr_clone_and_drill() {
    pgbr_fixture
    expect_rc 0 pgbkp backup --type full
    pgbr_batches
    local port dir=$ROOT/pg/clone
    port=$(free_port)
    # a time after the last archived commit: refused before anything is written
    run pgbkp clone --time "$(date -u -d '+1 hour' '+%Y-%m-%d %H:%M:%S+00')" --target-dir "$dir" --port "$port"
    assert_rc 9 "clone to a time after the archive"
    assert_not_exists "$dir"
    run pgbkp clone --time "$T_AB" --target-dir "$dir" --port "$port" --name copy1
    assert_rc 3 "clone --name from a pgBackRest repository"
    assert_output_contains "is pgBackRest's"
    assert_not_exists "$dir"
    run pgbkp clone --time "$T_AB" --target-dir "$dir" --port "$port"
    assert_rc 0 "clone from a pgBackRest repository"
    assert_output_contains "is running"
    assert_output_contains "--target-timeline=1"
    local q=(as_pg "$PGBIN/psql" -X -At -h "$dir" -p "$port" -d postgres -c)
    assert_eq "100|100|0" "$("${q[@]}" "select count(*), count(*) filter (where note='A'), count(*) filter (where note='B') from t")" \
        "rows in the copy"
    assert_eq "f off $CLUSTER-clone" "$("${q[@]}" "select pg_is_in_recovery()") $("${q[@]}" "show archive_mode") $("${q[@]}" "show cluster_name")" \
        "the copy is promoted, does not archive, and has its own name"
    case $("${q[@]}" "show restore_command") in
        *pgbackrest*archive-get*) ;;
        *) fail "the copy's restore_command is not pgBackRest's archive-get" ;;
    esac
    as_pg "$PGBIN/pg_ctl" -D "$dir" -m fast -w stop >/dev/null

    # a drill restores the newest backup into a scratch directory, checks it, removes it
    mkdir -p "$ROOT/drilltmp" && chown postgres "$ROOT/drilltmp"
    local opts
    mapfile -t opts < <(pgbkp_opts main)
    run as_pg TMPDIR="$ROOT/drilltmp" "$INST/bin/pgbkp" "${opts[@]}" drill --output json
    assert_rc 0 "drill of a healthy pgBackRest backup"
    jq -e '.result == "passed" and ([.steps[].name] | index("checksums") != null)' "$RUN_OUT" >/dev/null ||
        fail "the drill did not pass every step: $(head -c 600 "$RUN_OUT")"
    [ -z "$(ls -A "$ROOT/drilltmp")" ] || fail "the drill left files behind: $(ls -A "$ROOT/drilltmp")"
    # (only this test's: other drills may run on the machine)
    pgrep -f "$ROOT/drilltmp/" >/dev/null && fail "a drill server is still running"

    # a damaged backup file: the restore step fails with pgBackRest's error (exit 6)
    local label f
    label=$(jq -r '.backups[-1].label' < <(info_json))
    f=$(find "$ROOT/pgbr/repo/backup/$CLUSTER/$label/pg_data/base" -type f -size +4k -printf '%s %p\n' |
        sort -rn | awk 'NR == 1 { print $2 }')
    [ -n "$f" ] || fail "no backup file to damage"
    flip_byte "$f" 2000
    run as_pg TMPDIR="$ROOT/drilltmp" "$INST/bin/pgbkp" "${opts[@]}" drill --output json
    assert_rc 6 "drill of a damaged pgBackRest backup"
    assert_eq failed "$(jq -r '.steps[] | select(.name == "restore") | .result' "$RUN_OUT")" "the drill's restore step"
    [ -z "$(ls -A "$ROOT/drilltmp")" ] || fail "the failed drill left files behind: $(ls -A "$ROOT/drilltmp")"
}

# pitr's steps on the member (what `pgbkp pitr` runs on each host under
# Patroni; t_cluster covers the orchestration) over a pgBackRest
# repository: the cluster's own data directory kept aside, restored in place
# to a time between the batches, recovered and promoted, started again.
test_pgbr_pitr_member_in_place() {
    pgbr_fixture
    expect_rc 0 pgbkp backup --type full
    pgbr_batches
    expect_rc 0 pgbkp pitr-member stop
    run pgbkp pitr-member aside --stamp s1 --time "$T_AB"
    assert_rc 0 "pitr-member aside"
    assert_file_exists "${PG_DATA[main]}.pitr-s1/PG_VERSION"
    assert_not_exists "${PG_DATA[main]}"
    run pgbkp pitr-member recover --time "$T_AB"
    assert_rc 0 "pitr-member recover from a pgBackRest repository"
    assert_output_contains "@timeline=2"
    expect_rc 0 pgbkp pitr-member start
    assert_eq "100 100 0" "$(count_rows main)" "rows after the in-place recovery"
    assert_eq f "$(pg_sql main "select pg_is_in_recovery()")" "the recovered cluster is a primary"
    # it archives its new timeline into the same stanza, and backs up again
    local seg
    seg=$(pg_sql main "select pg_walfile_name(pg_switch_wal())")
    case $seg in 00000002*) ;; *) fail "the recovered cluster writes timeline 1: $seg" ;; esac
    expect_rc 0 pgbkp backup --type full
}

# --tablespace-map OID=PATH goes to pgBackRest: the copy's tablespace is
# restored there, not over the source's.
test_pgbr_tablespace_map() {
    pgbr_fixture
    local ts=$ROOT/ts1 moved=$ROOT/ts-moved dir=$ROOT/pg/tsc oid
    mkdir -p "$ts" && chown postgres "$ts"
    pg_sql main "create tablespace ts1 location '$ts'"
    pg_sql main "create table tt tablespace ts1 as select g from generate_series(1,500) g"
    oid=$(pg_sql main "select oid from pg_tablespace where spcname = 'ts1'")
    expect_rc 0 pgbkp backup --type full
    pg_switch_and_wait main >/dev/null
    # without a map the source's own (non-empty) tablespace is refused before anything is written
    run pgbkp restore --target-dir "$dir"
    [ "$RUN_RC" -ne 0 ] || fail "a restore over the source's tablespace succeeded"
    # a tablespace the backup does not have is refused before anything is written, as for pgbkp's own
    run pgbkp restore --target-dir "$dir" --tablespace-map "99999=$moved" --dry-run
    assert_rc 2 "restore --tablespace-map of an unknown tablespace"
    assert_output_contains "names tablespace 99999, which backup"
    run pgbkp restore --target-dir "$dir" --tablespace-map "$oid=$moved" --dry-run
    assert_rc 0 "restore --tablespace-map --dry-run"
    assert_output_contains "--tablespace-map=$oid=$moved"
    assert_output_contains "--target-timeline=1"
    assert_not_exists "$moved"
    # an explicit --target-timeline goes to pgBackRest as given
    run pgbkp restore --target-dir "$dir" --tablespace-map "$oid=$moved" --target-timeline current --dry-run
    assert_rc 0 "restore --target-timeline current --dry-run"
    assert_output_contains "--target-timeline=current"
    assert_output_contains "plan: recovery follows timeline current"
    expect_rc 0 pgbkp restore --target-dir "$dir" --tablespace-map "$oid=$moved"
    assert_eq "$moved" "$(readlink "$dir/pg_tblspc/$oid")" "the copy's tablespace link"
    pg_adopt tsc "$dir"
    pg_start tsc
    pg_wait_recovery_end tsc
    assert_eq 500 "$(pg_sql tsc "select count(*) from tt")" "rows in the moved tablespace"
    assert_eq 500 "$(pg_sql main "select count(*) from tt")" "the source's tablespace is untouched"
}

# The other targets, each restored through pgBackRest and started: an LSN, a
# transaction id and a restore point between the batches hold exactly batch
# A; immediate holds what the backup holds. Then --delta over a used copy and
# --force over a stopped data directory (pgBackRest refuses --force over a
# directory that is not one).
test_pgbr_restore_other_targets_delta_force() {
    pgbr_fixture
    pg_sql main "create table t(id int primary key, note text)"
    expect_rc 0 pgbkp backup --type full
    local lsn xid
    xid=$(pg_sql main "begin; insert into t select g, 'A' from generate_series(1,100) g; select txid_current(); commit;" | sed -n 's/^\([0-9][0-9]*\)$/\1/p' | head -n 1)
    [ -n "$xid" ] || fail "no transaction id for batch A"
    pg_sql main "select pg_create_restore_point('between')" >/dev/null
    lsn=$(pg_sql main "select pg_current_wal_lsn()")
    pg_sql main "insert into t select g, 'B' from generate_series(101,200) g"
    pg_switch_and_wait main >/dev/null
    local name target
    for target in "lsn:--lsn $lsn" "xid:--xid $xid" "name:--name between" "immediate:--immediate"; do
        name=${target%%:*}
        # shellcheck disable=SC2086
        run pgbkp restore --target-dir "$ROOT/pg/$name" ${target#*:} --target-action promote
        assert_rc 0 "restore to $name"
        assert_output_contains "--type=$name"
        pg_adopt "$name" "$ROOT/pg/$name"
        pg_start "$name"
        pg_wait_recovery_end "$name"
        case $name in
            immediate) assert_eq "0 0 0" "$(count_rows "$name")" "rows at the backup's end" ;;
            *) assert_eq "100 100 0" "$(count_rows "$name")" "rows at the $name target" ;;
        esac
        [ "$name" = lsn ] || pg_stop "$name"
    done
    # --delta over the used copy (it ran and was promoted): back to the end of the archive
    pg_stop lsn
    run pgbkp restore --target-dir "$ROOT/pg/lsn"
    assert_rc 5 "restore into a non-empty directory without --delta or --force"
    expect_rc 0 pgbkp restore --target-dir "$ROOT/pg/lsn" --delta
    pg_start lsn
    pg_wait_recovery_end lsn
    assert_eq "200 100 100" "$(count_rows lsn)" "rows after --delta to the end"
    pg_stop lsn
    # --force over a stopped data directory with a stray file: overwritten;
    # over a directory that is not a data directory pgBackRest refuses (exit 5)
    as_pg mkdir -p "$ROOT/pg/junkdir"
    echo junk | as_pg tee "$ROOT/pg/junkdir/junk" >/dev/null
    run pgbkp restore --target-dir "$ROOT/pg/junkdir" --force
    assert_rc 5 "restore --force over a directory that is not a data directory"
    assert_file_exists "$ROOT/pg/junkdir/junk"
    echo junk | as_pg tee "$ROOT/pg/name/junk" >/dev/null
    expect_rc 0 pgbkp restore --target-dir "$ROOT/pg/name" --force
    assert_not_exists "$ROOT/pg/name/junk"
    pg_adopt forced "$ROOT/pg/name"
    pg_start forced
    pg_wait_recovery_end forced
    assert_eq "200 100 100" "$(count_rows forced)" "rows after --force to the end"
}
