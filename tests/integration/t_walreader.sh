# pgbkp's WAL record reader against PostgreSQL's own pg_waldump, on real
# segments: the same records (every LSN), the same commits and aborts (xid
# and time) and restore points; a record that continues into the next
# segment is read to its end from the next segment (the tool passes it), or
# reported as the tail when there is no next segment.

# compare_segments WALDIR SEG...: tests/tools/wal-compare on each segment
# (pgbkp's reader against pg_waldump); one summary line per segment in
# $ROOT/work/cmp.SEG, our records in $ROOT/work/ours.SEG.
compare_segments() {
    local wal=$1; shift
    python3 "$TOP/tests/tools/wal-compare" "$TOP/tests/tools/wal-dump" "$PGBIN/pg_waldump" "$wal" "$ROOT/work" "$@" \
        >"$ROOT/work/compare.log" 2>&1 || { tail -n 5 "$ROOT/work/compare.log"; fail "pgbkp's reader differs from pg_waldump"; }
}

# finish_wal: switch main's WAL (the last segment is then whole) and stop it
finish_wal() {
    pg_sql main "select pg_switch_wal()" >/dev/null
    pg_stop main
}

test_wal_reader_matches_pg_waldump() {
    pg_init main off
    pg_start main
    pg_sql main "alter system set wal_keep_size = '1GB'"
    pg_sql main "select pg_reload_conf()"
    pg_sql main "create table t(id int, v text)"
    local i
    for ((i = 0; i < 60; i++)); do
        pg_sql main "insert into t select g, repeat(md5(g::text), 8) from generate_series(1, 2000) g"
    done
    pg_sql main "select pg_create_restore_point('rp-one')" >/dev/null
    pg_psql main -c "begin; insert into t values (0, 'rolled back'); rollback;" >/dev/null
    pg_sql main "update t set v = 'u' where id % 97 = 0"
    pg_sql main "checkpoint"
    pg_sql main "insert into t select g, md5(g::text) from generate_series(1, 30000) g"
    local last
    last=$(pg_sql main "select pg_walfile_name(pg_current_wal_lsn())")
    finish_wal

    local wal=${PG_DATA[main]}/pg_wal seg n=0 tails=0 segs=()
    for seg in $(cd "$wal" && ls | grep -E '^[0-9A-F]{24}$' | sort); do
        [[ $seg > $last ]] || segs+=("$seg")
    done
    compare_segments "$wal" "${segs[@]}"
    cat "$ROOT/work/compare.log"
    n=${#segs[@]}
    tails=$(grep -c 'crossing yes' "$ROOT/work/compare.log" || true)
    [ "$n" -ge 3 ] || fail "only $n segments to compare"
    [ "$tails" -ge 1 ] || fail "no record crossed a segment boundary; the test does not cover that"
    grep -h 'restore-point rp-one' "$ROOT"/work/ours.* >/dev/null || fail "restore point not found"
    grep -h ' abort ' "$ROOT"/work/ours.* >/dev/null || fail "the rolled-back transaction's abort not found"
    grep -h 'switched=yes' "$ROOT"/work/ours.* >/dev/null || fail "the WAL switch was not seen"
}

# Issue 9's acceptance: the reader agrees with pg_waldump on every record,
# commit and abort time, transaction ID and restore point of a WAL archive of
# over 200 segments (1 MiB segments, so that it is quick): pgbench load, a
# long transaction spanning many segments while others commit, restore
# points, rolled-back transactions, and a timeline switch (archive recovery
# to the end of WAL, then more load on timeline 2).
test_wal_reader_200_segments() {
    PG_INITDB_ARGS=--wal-segsize=1 pg_init main off
    pg_start main
    pg_sql main "alter system set wal_keep_size = '2GB'"
    pg_sql main "alter system set max_wal_size = '4GB'"
    pg_sql main "select pg_reload_conf()"
    pg_pgbench_init main 16
    pg_sql main "create table long_t(id int, v text)"
    # a long transaction: begun here, committed after the load below
    pg_psql main >"$ROOT/log/long.log" 2>&1 <<SQL &
begin;
insert into long_t select g, md5(g::text) from generate_series(1, 100000) g;
select pg_sleep(4);
insert into long_t select g, md5(g::text) from generate_series(100001, 200000) g;
commit;
SQL
    local long=$!
    local i
    for ((i = 1; i <= 4; i++)); do
        as_pg "$PGBIN/pgbench" -h "$SOCK" -p "${PG_PORT[main]}" -U postgres -c 2 -t 300 -n postgres \
            >>"$ROOT/log/load.log" 2>&1 || fail "pgbench"
        pg_sql main "select pg_create_restore_point('load-$i')" >/dev/null
        pg_psql main -c "begin; insert into long_t values (0, 'rolled back'); rollback;" >/dev/null
    done
    wait "$long" || { cat "$ROOT/log/long.log"; fail "the long transaction failed"; }
    pg_sql main "checkpoint"
    local tl1
    tl1=$(cd "${PG_DATA[main]}/pg_wal" && ls | grep -cE '^00000001[0-9A-F]{16}$')
    pg_stop main

    # a timeline switch: archive recovery to the end of pg_wal, then timeline 2
    echo "restore_command = '/bin/false'" | as_pg tee -a "${PG_DATA[main]}/postgresql.conf" >/dev/null
    as_pg touch "${PG_DATA[main]}/recovery.signal"
    pg_start main
    pg_wait_recovery_end main
    as_pg "$PGBIN/pgbench" -h "$SOCK" -p "${PG_PORT[main]}" -U postgres -c 2 -t 300 -n postgres \
        >>"$ROOT/log/load.log" 2>&1 || fail "pgbench on timeline 2"
    pg_sql main "select pg_create_restore_point('after-switch')" >/dev/null
    local last
    last=$(pg_sql main "select pg_walfile_name(pg_current_wal_lsn())")
    finish_wal

    local wal=${PG_DATA[main]}/pg_wal seg n=0 tl2=0 segs=()
    for seg in $(cd "$wal" && ls | grep -E '^0000000[12][0-9A-F]{16}$' | sort); do
        [[ ${seg:0:8} = 00000002 && ${seg:8} > ${last:8} ]] && continue
        segs+=("$seg")
        [[ ${seg:0:8} = 00000002 ]] && tl2=$((tl2 + 1))
    done
    n=${#segs[@]}
    compare_segments "$wal" "${segs[@]}"
    echo "compared $n segments ($tl1 of timeline 1 before the switch, $tl2 of timeline 2)"
    [ "$n" -ge 200 ] || fail "only $n segments compared"
    [ "$tl2" -ge 2 ] || fail "only $tl2 segments of timeline 2"
    local points commits
    points=$(cat "$ROOT"/work/ours.* | grep -c ' restore-point ')
    commits=$(cat "$ROOT"/work/ours.* | grep -c ' commit ')
    echo "$commits commits, $points restore points"
    [ "$points" -ge 5 ] || fail "only $points restore points read"
    [ "$commits" -ge 2000 ] || fail "only $commits commits read"
    grep -h 'restore-point after-switch' "$ROOT"/work/ours.00000002* >/dev/null || fail "the restore point on timeline 2 was not read"
    grep -h ' abort ' "$ROOT"/work/ours.* >/dev/null || fail "no abort read"
}
