# shellcheck shell=bash
# Point-in-time recovery: one backup, then two batches of rows with several
# kinds of recovery targets recorded between them. Each test restores into a
# new directory, starts the copy on its own port and counts rows.

PITR_SCALE=5   # pgbench scale: 100000 accounts per unit

# pitr_fixture: cluster "main" with pgbench data and table t, a full backup,
# batch A (ids 1..100, note 'A'), then between the batches: LSN_AB (insert
# LSN), XID_A (A's transaction), restore point rp1, T_AB (timestamp), then
# batch B (ids 101..200, note 'B'); WAL switched and archived.
pitr_fixture() {
    pg_init main
    pg_start main
    expect_rc 0 pgbkp init
    pg_pgbench_init main "$PITR_SCALE"
    pg_sql main "create table t(id int primary key, note text)"
    expect_rc 0 pgbkp backup --type full
    LABEL=$(backup_labels | tail -n 1)
    [ -n "$LABEL" ] || fail "no backup listed after backup"

    XID_A=$(pg_sql main "with ins as (insert into t select g, 'A' from generate_series(1,100) g returning 1)
                         select txid_current() from ins limit 1")
    sleep 0.2
    LSN_AB=$(pg_sql main "select pg_current_wal_insert_lsn()")
    pg_sql main "select pg_create_restore_point('rp1')" >/dev/null
    T_AB=$(pg_sql main "select now()")
    sleep 1.1
    pg_sql main "insert into t select g, 'B' from generate_series(101,200) g"
    assert_eq 200 "$(pg_sql main "select count(*) from t")" "rows on the primary"
    pg_switch_and_wait main >/dev/null
    echo "fixture: label=$LABEL xid_a=$XID_A lsn=$LSN_AB time='$T_AB'"
}

# restore_start NAME ARGS...: restore into $ROOT/pg/NAME with ARGS, check the
# copy is set up for recovery from the repository with archiving off, start
# it on its own port.
restore_start() {
    local name=$1; shift
    local dir=$ROOT/pg/$name
    expect_rc 0 pgbkp restore --target-dir "$dir" "$@"
    assert_file_exists "$dir/PG_VERSION"
    assert_file_exists "$dir/recovery.signal"
    assert_not_exists "$dir/postmaster.pid"
    assert_eq 700 "$(stat -c %a "$dir")" "mode of the restored data directory"
    local rc
    rc=$(pg_setting "$dir" restore_command)
    case $rc in
        *archive-get*) ;;
        *) fail "restore_command is not pgbkp archive-get: '$rc'" ;;
    esac
    case $rc in
        *"$REPO"*) ;;
        *) fail "restore_command does not use the repository $REPO: '$rc'" ;;
    esac
    assert_eq off "$(pg_setting "$dir" archive_mode)" "archive_mode of the copy"
    pg_adopt "$name" "$dir"
    pg_start "$name"
}


assert_pgbench_intact() {
    assert_eq $((PITR_SCALE * 100000)) "$(pg_sql "$1" "select count(*) from pgbench_accounts")" "pgbench_accounts rows"
    assert_eq "$PITR_SCALE" "$(pg_sql "$1" "select count(*) from pgbench_branches")" "pgbench_branches rows"
    assert_eq $((PITR_SCALE * 10)) "$(pg_sql "$1" "select count(*) from pgbench_tellers")" "pgbench_tellers rows"
}

test_pitr_latest() {
    pitr_fixture
    # no recovery target: replay all archived WAL, then the server promotes
    # by itself (pgbkp refuses --target-action without a target)
    restore_start latest
    pg_wait_recovery_end latest
    assert_eq "200 100 100" "$(count_rows latest)" "rows after restore to latest"
    assert_pgbench_intact latest
    # the copy is a new, writable primary
    pg_sql latest "insert into t values (1000, 'C')"
    assert_eq 201 "$(pg_sql latest "select count(*) from t")" "rows after a write"
}

test_pitr_time() {
    pitr_fixture
    restore_start at_time --time "$T_AB" --target-action promote
    pg_wait_recovery_end at_time
    assert_eq "100 100 0" "$(count_rows at_time)" "rows after restore --time"
    assert_pgbench_intact at_time
    # the same moment without its zone is read in the local zone, and the log says which
    local local_t=${T_AB%+00}
    restore_start at_local --time "$local_t" --target-action promote
    assert_output_contains "has no zone, so it was read in the local time zone UTC (UTC+00:00)"
    pg_wait_recovery_end at_local
    assert_eq "100 100 0" "$(count_rows at_local)" "rows after restore --time in local time"
}

test_pitr_lsn() {
    pitr_fixture
    restore_start at_lsn --lsn "$LSN_AB" --target-action promote
    pg_wait_recovery_end at_lsn
    assert_eq "100 100 0" "$(count_rows at_lsn)" "rows after restore --lsn"
    assert_pgbench_intact at_lsn
}

test_pitr_xid() {
    pitr_fixture
    restore_start at_xid --xid "$XID_A" --target-action promote
    pg_wait_recovery_end at_xid
    assert_eq "100 100 0" "$(count_rows at_xid)" "rows after restore --xid"
}

test_pitr_restore_point() {
    pitr_fixture
    restore_start at_name --name rp1 --target-action promote
    pg_wait_recovery_end at_name
    assert_eq "100 100 0" "$(count_rows at_name)" "rows after restore --name rp1"
    assert_pgbench_intact at_name
}

test_pitr_immediate() {
    pitr_fixture
    restore_start at_backup --immediate --target-action promote
    pg_wait_recovery_end at_backup
    assert_eq "0 0 0" "$(count_rows at_backup)" "rows after restore --immediate"
    assert_pgbench_intact at_backup
}

test_pitr_set_label() {
    # --set LABEL picks that backup explicitly
    pitr_fixture
    restore_start by_set --set "$LABEL" --time "$T_AB" --target-action promote
    pg_wait_recovery_end by_set
    assert_eq "100 100 0" "$(count_rows by_set)" "rows after restore --set --time"
}

test_pitr_default_action_pauses() {
    # without --target-action, recovery pauses at the target (PostgreSQL's
    # default) and the copy is readable as a hot standby
    pitr_fixture
    local dir=$ROOT/pg/paused
    expect_rc 0 pgbkp restore --target-dir "$dir" --time "$T_AB"
    grep -Eq "^[[:space:]]*recovery_target_time[[:space:]]*=" "$dir/postgresql.auto.conf" ||
        fail "recovery_target_time not in postgresql.auto.conf"
    local act
    act=$(pg_setting "$dir" recovery_target_action)
    assert_eq pause "$act" "recovery_target_action"
    pg_adopt paused "$dir"
    pg_start paused
    pg_wait_paused paused
    assert_eq t "$(pg_sql paused "select pg_is_in_recovery()")" "in recovery while paused"
    assert_eq "100 100 0" "$(count_rows paused)" "rows while paused at --time"
    # resuming ends recovery at the target
    pg_sql paused "select pg_wal_replay_resume()" >/dev/null
    pg_wait_recovery_end paused
    assert_eq "100 100 0" "$(count_rows paused)" "rows after resume"
}

test_pitr_two_backups_picks_right_one() {
    # A target between two backups must come from the first backup; a target
    # after the second may use either. Both give exact rows.
    pitr_fixture
    expect_rc 0 pgbkp backup --type full
    [ "$(backup_labels | wc -l)" = 2 ] || fail "expected 2 backups, got: $(backup_labels | tr '\n' ' ')"
    pg_sql main "insert into t select g, 'C' from generate_series(201,250) g"
    pg_switch_and_wait main >/dev/null
    restore_start between --time "$T_AB" --target-action promote
    pg_wait_recovery_end between
    assert_eq "100 100 0" "$(count_rows between)" "rows at a time before the second backup"
    pg_stop between
    restore_start newest
    pg_wait_recovery_end newest
    assert_eq 250 "$(pg_sql newest "select count(*) from t")" "rows after restore to latest"
    assert_eq 50 "$(pg_sql newest "select count(*) from t where note='C'")" "batch C rows"
}

# A copy restored to rp1 and promoted with its archive kept (as an operator
# does to look at old data) archives timeline 2 into the same cluster while
# the original goes on writing timeline 1. A later moment of the original
# must restore along timeline 1: PostgreSQL's default (latest) would follow
# timeline 2 and silently give the state at rp1 (issue 9's first defect).
test_pitr_original_timeline_after_side_branch() {
    pitr_fixture
    # the side branch: restored to rp1, promoted, archiving into this cluster
    expect_rc 0 pgbkp restore --target-dir "$ROOT/pg/side" --name rp1 --archive-mode preserve --target-action promote
    pg_adopt side "$ROOT/pg/side"
    pg_start side
    pg_wait_recovery_end side
    assert_eq "100 100 0" "$(count_rows side)" "rows of the side branch"
    pg_sql side "insert into t select g, 'S' from generate_series(5001,5010) g"
    local side_seg
    side_seg=$(pg_sql side "select pg_walfile_name(pg_switch_wal())")
    case $side_seg in 00000002*) ;; *) fail "the side branch is not on timeline 2: $side_seg" ;; esac
    pg_wait_archived side "$side_seg"
    assert_file_exists "$REPO/$CLUSTER/wal/00000002.history"
    pg_stop side
    sleep 1.1

    # the original goes on: batch C, a time and an LSN, then batch D
    pg_sql main "insert into t select g, 'C' from generate_series(201,300) g"
    local t_c lsn_c
    lsn_c=$(pg_sql main "select pg_current_wal_insert_lsn()")
    t_c=$(pg_sql main "select now()")
    sleep 1.1
    pg_sql main "insert into t select g, 'D' from generate_series(301,400) g"
    pg_switch_and_wait main >/dev/null

    restore_start at_c --time "$t_c" --target-action promote
    pg_wait_recovery_end at_c
    assert_eq 300 "$(pg_sql at_c "select count(*) from t")" "rows restored to a time after the fork, on timeline 1"
    assert_eq 100 "$(pg_sql at_c "select count(*) from t where note = 'C'")" "batch C restored"
    assert_eq 1 "$(pg_setting "$ROOT/pg/at_c" recovery_target_timeline)" "recovery_target_timeline written"
    assert_output_contains "recovery follows timeline 1"

    restore_start lsn_c --lsn "$lsn_c" --target-action promote
    pg_wait_recovery_end lsn_c
    assert_eq 300 "$(pg_sql lsn_c "select count(*) from t")" "rows restored to an LSN after the fork, on timeline 1"

    # the side branch itself, when asked for
    restore_start on_side --target-timeline 2
    pg_wait_recovery_end on_side
    assert_eq 110 "$(pg_sql on_side "select count(*) from t")" "rows of timeline 2's end"
    assert_eq 10 "$(pg_sql on_side "select count(*) from t where note = 'S'")" "the side branch's rows"

    # timeline 2 does not reach batch C's time: refused before anything is written
    run pgbkp restore --target-dir "$ROOT/pg/refused" --time "$t_c" --target-timeline 2
    assert_rc 9 "a time past timeline 2's WAL on timeline 2"
    assert_not_exists "$ROOT/pg/refused"
    run pgbkp restore --target-dir "$ROOT/pg/refused" --time "$t_c" --target-timeline x
    assert_rc 2 "an invalid --target-timeline"
}

test_pitr_set_latest_and_target_exclusive() {
    pitr_fixture
    # a second backup after batch B: --set latest is it (pgBackRest's spelling)
    expect_rc 0 pgbkp backup --type incr
    local newest
    newest=$(backup_labels | tail -n 1)
    restore_start latest_set --set latest --immediate --target-action promote
    assert_output_contains "restoring backup $newest"
    pg_wait_recovery_end latest_set
    assert_eq "200 100 100" "$(count_rows latest_set)" "rows of the latest backup"
    # --target-exclusive at A's transaction: A is not replayed
    restore_start excl --set "$LABEL" --xid "$XID_A" --target-exclusive --target-action promote
    pg_wait_recovery_end excl
    assert_eq "0 0 0" "$(count_rows excl)" "rows before A's transaction (exclusive)"
    assert_eq off "$(pg_setting "$ROOT/pg/excl" recovery_target_inclusive)" "recovery_target_inclusive"
    # it does not apply to a restore point
    run pgbkp restore --target-dir "$ROOT/pg/excl_name" --name rp1 --target-exclusive
    assert_rc 2 "--target-exclusive with --name"
    assert_not_exists "$ROOT/pg/excl_name"
}

# restore --dry-run: the plan, nothing written; the real restore then does
# what the plan said.
test_pitr_dry_run_plan() {
    pitr_fixture
    expect_rc 0 pgbkp backup --type incr
    local newer
    newer=$(backup_labels | tail -n 1)
    run pgbkp restore --target-dir "$ROOT/pg/dry" --time "$T_AB" --target-action promote --dry-run
    assert_rc 0 "restore --dry-run"
    assert_not_exists "$ROOT/pg/dry"
    assert_output_contains "plan: restore backup $LABEL (full"
    assert_output_contains "plan: newer backup $newer passed over: it ended after the target time"
    assert_output_contains "plan: chain: $LABEL"
    assert_output_matches "plan: replay about WAL [0-9A-F]{24} \\.\\. [0-9A-F]{24} \\([0-9]+ segments"
    assert_output_contains "plan: recovery_target: recovery_target_time = '"
    assert_output_contains "plan: setting: recovery_target_timeline = '1'"
    assert_output_contains "plan: at the target the server will promote"
    local files
    files=$(sed -n 's/^plan: write \([0-9]*\) files.*/\1/p' "$RUN_OUT")
    [ -n "$files" ] || fail "the plan names no file count"
    # the same plan as JSON
    run pgbkp restore --target-dir "$ROOT/pg/dry" --time "$T_AB" --target-action promote --dry-run --output json
    assert_rc 0 "restore --dry-run --output json"
    assert_eq "$LABEL $newer $files 1" "$(jq -r '"\(.backup) \(.passed_over[0].label) \(.files) \(.wal.timeline)"' "$RUN_OUT")" "JSON plan"
    jq -e '.recovery_settings.recovery_target_time and .recovery_settings.recovery_target_action == "promote"' "$RUN_OUT" >/dev/null ||
        fail "JSON plan without the recovery settings"
    assert_not_exists "$ROOT/pg/dry"
    # refusals are the same as a restore's, still writing nothing
    run pgbkp restore --target-dir "$ROOT/pg/dry" --time "2000-01-01 00:00:00+00" --dry-run
    assert_rc 9 "dry run before the window"
    assert_not_exists "$ROOT/pg/dry"
    mkdir -p "$ROOT/pg/full"; chown postgres "$ROOT/pg/full"; as_pg touch "$ROOT/pg/full/x"
    run pgbkp restore --target-dir "$ROOT/pg/full" --time "$T_AB" --dry-run
    assert_rc 5 "dry run into a non-empty directory"
    # the restore does what the plan said
    restore_start planned --time "$T_AB" --target-action promote
    assert_output_contains "restoring backup $LABEL"
    assert_output_contains "restored backup $LABEL ($files files"
    pg_wait_recovery_end planned
    assert_eq "100 100 0" "$(count_rows planned)" "rows of the planned restore"
}

# The WAL index: a restore point or transaction is looked up in the archived
# WAL, so the backup chosen is one taken before it (issue 9: the newest
# backup, taken after rp1, could never recover to it); an unknown name is
# refused with the names there are; a time after the last archived commit is
# refused before anything is written.
test_pitr_wal_index_targets() {
    pitr_fixture
    # no commits of autovacuum's after the test's own last one
    pg_sql main "alter system set autovacuum = off" >/dev/null
    pg_sql main "select pg_reload_conf()" >/dev/null
    expect_rc 0 pgbkp backup --type full
    local first second
    first=$(backup_labels | head -n 1)
    second=$(backup_labels | tail -n 1)
    [ "$first" != "$second" ] || fail "expected two backups"
    pg_sql main "insert into t select g, 'C' from generate_series(201,250) g"
    pg_sql main "select pg_create_restore_point('rp-after')" >/dev/null
    pg_sql main "insert into t select g, 'D' from generate_series(251,260) g"
    sleep 1.1
    local t_late
    t_late=$(pg_sql main "select now()")    # after the last commit, before the archive time
    sleep 1.1
    # switched without pg_switch_and_wait's txid_current(): that would commit after t_late
    pg_wait_archived main "$(pg_sql main "select pg_walfile_name(pg_switch_wal())")"

    # rp1 lies before the second backup: the first one is chosen
    run pgbkp restore --target-dir "$ROOT/pg/plan1" --name rp1 --dry-run --output json
    assert_rc 0 "plan for rp1"
    assert_eq "$first" "$(jq -r .backup "$RUN_OUT")" "backup chosen for rp1"
    assert_output_contains "restore point \"rp1\" is at LSN"
    restore_start at_rp1 --name rp1 --target-action promote
    pg_wait_recovery_end at_rp1
    assert_eq "100 100 0" "$(count_rows at_rp1)" "rows at rp1"
    pg_stop at_rp1

    # a transaction before the second backup: the first backup too
    run pgbkp restore --target-dir "$ROOT/pg/plan2" --xid "$XID_A" --dry-run --output json
    assert_rc 0 "plan for xid"
    assert_eq "$first" "$(jq -r .backup "$RUN_OUT")" "backup chosen for the transaction"
    # a restore point after the second backup: the second
    run pgbkp restore --target-dir "$ROOT/pg/plan3" --name rp-after --dry-run --output json
    assert_rc 0 "plan for rp-after"
    assert_eq "$second" "$(jq -r .backup "$RUN_OUT")" "backup chosen for rp-after"

    # unknown names and transactions: refused, naming what is there
    run pgbkp restore --target-dir "$ROOT/pg/nope" --name no-such-point
    assert_rc 9 "unknown restore point"
    assert_output_contains "restore point \"no-such-point\" is not in the archived WAL"
    assert_output_contains "\"rp-after\""
    assert_output_contains "\"rp1\""
    assert_not_exists "$ROOT/pg/nope"
    run pgbkp restore --target-dir "$ROOT/pg/nope" --xid 999999
    assert_rc 9 "unknown transaction"
    assert_not_exists "$ROOT/pg/nope"

    # a time after the last archived commit, inside the archive's time span:
    # PostgreSQL could not stop there
    run pgbkp restore --target-dir "$ROOT/pg/late" --time "$t_late"
    assert_rc 9 "time after the last commit"
    assert_output_contains "the last transaction in the archived WAL ended at"
    assert_not_exists "$ROOT/pg/late"

    # info: the window of timeline 1 ends at the last commit, before t_late
    local lc
    lc=$(pgbkp info --output json | jq -r '.timeline_windows[] | select(.timeline == 1) | .last_commit')
    [ -n "$lc" ] && [ "$lc" != null ] || fail "info has no last commit for timeline 1"
    [[ $(date -u -d "$lc" +%s.%N) < $(date -u -d "$t_late" +%s.%N) ]] || fail "last commit $lc is not before $t_late"
    run pgbkp info
    assert_output_matches "timeline 1: recover to a time from .* to before .* \\(the last commit; WAL archived until"

    # a name made twice: refused with both places
    pg_sql main "select pg_create_restore_point('rp-after')" >/dev/null
    pg_sql main "insert into t values (999, 'E')"
    pg_switch_and_wait main >/dev/null
    run pgbkp restore --target-dir "$ROOT/pg/twice" --name rp-after
    assert_rc 9 "restore point made twice"
    assert_output_contains "was created 2 times"
    assert_output_contains "--lsn"

    # the index is kept in the repository, one summary per finished segment;
    # rebuild makes it again from every segment
    [ -n "$(find "$REPO" -path '*wal-index*' -name '*.json' | head -n 1)" ] || fail "no WAL index summaries stored"
    run pgbkp wal-index rebuild
    assert_rc 0 "wal-index rebuild"
    assert_output_matches "wal-index: [0-9]+ segments summarized in repository default: [0-9]+ commits and aborts, 3 restore points"
    run pgbkp wal-index nonsense
    assert_rc 2 "unknown wal-index action"

    # expire takes the summaries of the segments it removes with it
    expect_rc 0 pgbkp expire --retention-full 1
    local f seg kept=0
    for f in $(find "$REPO" -path '*wal-index*' -name '*.json'); do
        seg=$(basename "$f" .json)
        [ -n "$(find "$REPO" -path '*/wal/*' -name "$seg")" ] || fail "the summary of removed segment $seg was kept"
        kept=$((kept + 1))
    done
    [ "$kept" -gt 0 ] || fail "expire removed every summary"
}

# load_sums NAME: every pgbench table of NAME, in one checksum
load_sums() {
    pg_sql "$1" "select (select md5(string_agg(aid || ':' || abalance, ',' order by aid)) from pgbench_accounts)
        || (select md5(string_agg(tid || ':' || tbalance, ',' order by tid)) from pgbench_tellers)
        || (select md5(string_agg(bid || ':' || bbalance, ',' order by bid)) from pgbench_branches)
        || (select count(*) || ':' || coalesce(sum(delta), 0) from pgbench_history)"
}

# load_mark NAME: while pgbench writes, hold its tables against writers for a
# moment and record there, with nothing committed in between: the
# checksums, a restore point NAME, the LSN and the time.  Sets MARK_SUM,
# MARK_LSN, MARK_TIME.
load_mark() {
    local out
    out=$(pg_psql main <<SQL
begin;
lock table pgbench_accounts, pgbench_branches, pgbench_tellers, pgbench_history in exclusive mode;
select (select md5(string_agg(aid || ':' || abalance, ',' order by aid)) from pgbench_accounts)
    || (select md5(string_agg(tid || ':' || tbalance, ',' order by tid)) from pgbench_tellers)
    || (select md5(string_agg(bid || ':' || bbalance, ',' order by bid)) from pgbench_branches)
    || (select count(*) || ':' || coalesce(sum(delta), 0) from pgbench_history);
select pg_create_restore_point('$1');
select pg_current_wal_lsn();
select clock_timestamp();
commit;
SQL
) || fail "marking $1"
    MARK_SUM=$(sed -n 1p <<<"$out")
    MARK_LSN=$(sed -n 3p <<<"$out")
    MARK_TIME=$(sed -n 4p <<<"$out")
    [ -n "$MARK_TIME" ] || fail "mark $1: $out"
}

# Issue 9's acceptance: under concurrent pgbench load, restore points, LSNs
# and times (some before the newest backup) each restore, with no --set, to
# exactly the state recorded there.
test_pitr_exact_under_load() {
    pg_init main
    pg_start main
    expect_rc 0 pgbkp init
    pg_pgbench_init main 1
    expect_rc 0 pgbkp backup --type full
    as_pg "$PGBIN/pgbench" -h "$SOCK" -p "${PG_PORT[main]}" -U postgres -c 3 -T 600 -n postgres \
        >"$ROOT/log/load.pgbench.log" 2>&1 &
    local load=$!
    sleep 2
    local -A sum lsn tm
    local m
    for m in m1 m2; do
        load_mark "$m"; sum[$m]=$MARK_SUM; lsn[$m]=$MARK_LSN; tm[$m]=$MARK_TIME
        sleep 1
    done
    expect_rc 0 pgbkp backup --type incr     # m1 and m2 lie before this backup
    sleep 1
    for m in m3 m4; do
        load_mark "$m"; sum[$m]=$MARK_SUM; lsn[$m]=$MARK_LSN; tm[$m]=$MARK_TIME
        sleep 1
    done
    kill "$load" 2>/dev/null || true
    wait "$load" 2>/dev/null || true
    pg_switch_and_wait main >/dev/null
    [ "${sum[m1]}" != "${sum[m2]}" ] && [ "${sum[m2]}" != "${sum[m3]}" ] || fail "the load did not change the tables"

    local target kind n=0
    for target in "m1 name" "m1 time" "m2 lsn" "m3 name" "m3 lsn" "m4 time"; do
        read -r m kind <<<"$target"
        n=$((n + 1))
        case $kind in
            name) restore_start "x$n" --name "$m" --target-action promote ;;
            lsn) restore_start "x$n" --lsn "${lsn[$m]}" --target-action promote ;;
            time) restore_start "x$n" --time "${tm[$m]}" --target-action promote ;;
        esac
        pg_wait_recovery_end "x$n"
        assert_eq "${sum[$m]}" "$(load_sums "x$n")" "tables restored to $m by $kind"
        pg_stop "x$n"
        rm -rf "${ROOT:?}/pg/x$n"
    done
}
