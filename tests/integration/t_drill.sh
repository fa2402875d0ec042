# pgbkp drill: restore a backup into a scratch directory, start it, check it,
# remove it; a report as text, JSON and JUnit XML.

# drill ARGS...: `pgbkp drill` for cluster main with TMPDIR=$ROOT/drilltmp.
drill() {
    local opts
    mapfile -t opts < <(pgbkp_opts main)
    as_pg TMPDIR="$ROOT/drilltmp" "$INST/bin/pgbkp" "${opts[@]}" drill "$@"
}

drill_setup() {
    mkdir -p "$ROOT/drilltmp" && chown postgres "$ROOT/drilltmp"
    pg_init main
    pg_start main
    expect_rc 0 pgbkp init
    pg_sql main "create table t(id int primary key, note text)"
    pg_sql main "insert into t select g, md5(g::text) from generate_series(1,5000) g"
    pg_sql main "create database app"
    pg_psql main -d app -c "create table orders(id int primary key, day date)" >/dev/null
    pg_psql main -d app -c "insert into orders select g, current_date from generate_series(1,10) g" >/dev/null
    expect_rc 0 pgbkp backup --type full
}

# No drill left anything behind: no server, no scratch directory (this
# test's own: drills of other suites running at the same time are theirs).
assert_drill_clean() {
    if pgrep -f "$ROOT/drilltmp/pgbkp-drill" >/dev/null; then
        ps -ef | grep -F "$ROOT/drilltmp/pgbkp-drill" | grep -v grep >&2
        fail "a drill server is still running"
    fi
    [ -z "$(ls -A "$ROOT/drilltmp")" ] || { ls -la "$ROOT/drilltmp" >&2; fail "the drill left files in TMPDIR"; }
}

# junit_check FILE TESTS FAILURES: the file is well-formed JUnit XML with these counts.
junit_check() {
    python3 - "$@" <<'PY' || fail "JUnit XML check failed for $1"
import sys, xml.etree.ElementTree as ET
path, tests, failures = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
root = ET.parse(path).getroot()
assert root.tag == "testsuites", root.tag
suites = root.findall("testsuite")
assert len(suites) == 1, suites
s = suites[0]
cases = s.findall("testcase")
assert int(s.get("tests")) == len(cases) == tests, (s.get("tests"), len(cases), tests)
nfail = sum(1 for c in cases if c.find("failure") is not None)
assert int(s.get("failures")) == nfail == failures, (s.get("failures"), nfail, failures)
for c in cases:
    assert c.get("name") and c.get("classname") and float(c.get("time")) >= 0, c.attrib
    f = c.find("failure")
    if f is not None:
        assert f.get("message"), c.get("name")
print("junit ok:", len(cases), "cases,", nfail, "failures")
PY
}

test_drill_healthy_backup() {
    drill_setup
    local t_a
    t_a=$(pg_sql main "select now()")
    sleep 1.1
    pg_sql main "insert into t select g, 'late' from generate_series(5001,5100) g"
    pg_switch_and_wait main >/dev/null
    cat >"$ROOT/work/checks.sql" <<'SQL'
-- name: rows in t
-- expect: = 5100
SELECT count(*) FROM t;

-- name: orders today
-- database: app
-- expect: > 0
SELECT count(*) FROM orders WHERE day = current_date;

-- name: t has an index
SELECT EXISTS (SELECT 1 FROM pg_indexes WHERE tablename = 't');
SQL
    chown postgres "$ROOT/work/checks.sql"

    run drill --check-sql "$ROOT/work/checks.sql" --junit "$ROOT/work/drill.xml" --output json
    assert_rc 0 "drill of a healthy backup"
    jq -e '.result == "passed"' "$RUN_OUT" >/dev/null || fail "JSON result is not passed"
    assert_eq "restore recovery checksums amcheck read tables check: rows in t check: orders today check: t has an index" \
        "$(jq -r '[.steps[].name] | join(" ")' "$RUN_OUT")" "drill steps"
    assert_eq "passed" "$(jq -r '[.steps[].result] | unique | join(",")' "$RUN_OUT")" "every step passed"
    jq -e '.rto.restore_seconds > 0 and .rto.recovery_seconds > 0 and .rto.checks_seconds > 0' "$RUN_OUT" >/dev/null ||
        fail "RTO split missing"
    jq -r '.steps[] | select(.name == "checksums") | .message' "$RUN_OUT" | grep -q 'no bad checksums' ||
        fail "checksums step did not check"
    jq -r '.steps[] | select(.name == "read tables") | .message' "$RUN_OUT" | grep -q 'in 2 databases' ||
        fail "read tables did not read both databases"
    junit_check "$ROOT/work/drill.xml" 8 0
    assert_drill_clean

    # a time target: the copy holds the rows as of t_a
    cat >"$ROOT/work/asof.sql" <<'SQL'
-- name: rows as of the target
-- expect: 5000
SELECT count(*) FROM t;
SQL
    chown postgres "$ROOT/work/asof.sql"
    run drill --time "$t_a" --check-sql "$ROOT/work/asof.sql"
    assert_rc 0 "drill to a time"
    assert_output_contains "recovery stopping before"
    assert_drill_clean

    # one failing check fails only its step, with its own exit code
    cat >"$ROOT/work/bad.sql" <<'SQL'
-- name: impossible
-- expect: > 1000000
SELECT count(*) FROM t;
SQL
    chown postgres "$ROOT/work/bad.sql"
    run drill --check-sql "$ROOT/work/bad.sql" --check-sql "$ROOT/work/checks.sql" --junit "$ROOT/work/bad.xml" --output json
    assert_rc 14 "drill with a failing check"
    assert_eq "check: impossible" "$(jq -r '[.steps[] | select(.result == "failed") | .name] | join(",")' "$RUN_OUT")" \
        "only the failing check failed"
    jq -r '.steps[] | select(.name == "check: impossible") | .message' "$RUN_OUT" | grep -q 'returned 5100, expected > 1000000' ||
        fail "the failing check does not say what it saw"
    grep -q 'drill failed: 1 of 9 steps failed (check: impossible)' "$RUN_ERR" || fail "no one-line failure"
    junit_check "$ROOT/work/bad.xml" 9 1
    assert_drill_clean

    # the report is recorded in the repository: the metrics endpoint says the
    # newest drill (the failing one) failed, and when and how long it took
    [ "$(find "$REPO" -path '*/drill/*.json' | wc -l)" = 3 ] || fail "expected 3 drill records in the repository"
    local mout
    mout=$(metrics_scrape_once '^pgbkp_drill_last_success')
    grep -E '^pgbkp_drill_last_success\{.*repo="default".*\} 0$' <<<"$mout" || fail "no failed last drill in the metrics"
    grep -E '^pgbkp_drill_last_rto_seconds\{.*\} [0-9.]+' <<<"$mout" || fail "no drill RTO in the metrics"
    grep -E '^pgbkp_drill_last_timestamp_seconds\{.*\} [0-9.e+]+' <<<"$mout" || fail "no drill time in the metrics"
    if command -v promtool >/dev/null; then
        promtool check metrics <<<"$mout" || fail "promtool rejects the metrics"
    fi

    # --keep keeps the stopped copy
    run drill --keep --target-dir "$ROOT/pg/kept"
    assert_rc 0 "drill --keep"
    assert_file_exists "$ROOT/pg/kept/PG_VERSION"
    pgrep -f pgbkp-drill >/dev/null && fail "--keep left the server running"
    rm -rf "$ROOT/pg/kept" "$ROOT"/drilltmp/*
}

test_drill_refusals() {
    drill_setup
    run as_pg "$INST/bin/pgbkp" --cluster "$CLUSTER" --repo-path "$REPO" drill
    assert_rc 0 "sanity: as postgres"
    assert_drill_clean
    run "$INST/bin/pgbkp" --cluster "$CLUSTER" --repo-path "$REPO" drill
    assert_rc 5 "drill as root"
    assert_output_contains "sudo -u postgres"
    mkdir -p "$ROOT/pg/full" && touch "$ROOT/pg/full/x" && chown -R postgres "$ROOT/pg/full"
    run drill --target-dir "$ROOT/pg/full"
    assert_rc 5 "non-empty --target-dir"
    printf -- '-- name: x\n-- expect:\nselect 1;\n' >"$ROOT/work/broken.sql"; chown postgres "$ROOT/work/broken.sql"
    run drill --check-sql "$ROOT/work/broken.sql"
    assert_rc 3 "malformed check file"
    assert_output_contains "broken.sql:2"
    run drill --time '2000-01-01 00:00:00+00' --junit "$ROOT/work/early.xml"
    assert_rc 9 "a target before every backup"
    junit_check "$ROOT/work/early.xml" 5 1
    assert_drill_clean
}

test_drill_corrupt_heap_page() {
    drill_setup
    local file
    file=$(pg_sql main "select pg_relation_filepath('t')")
    pg_sql main "checkpoint"
    pg_stop main
    # the middle of block 1 of t: its checksum no longer matches
    flip_byte "${PG_DATA[main]}/$file" $((8192 + 4000))
    flip_byte "${PG_DATA[main]}/$file" $((8192 + 4001))
    pg_start main
    # the backup reports the bad page (it keeps the backup: the best copy there is)
    run pgbkp backup --type full
    assert_rc 17 "backup of a cluster with a damaged page"
    assert_output_contains "1 page failed its data checksum: $file:1"
    assert_eq 1 "$(info_json | jq '.backups[-1].bad_pages')" "bad pages in info"
    [ "$(info_json | jq '.backups[-1].pages_checked')" -gt 100 ] || fail "pages were not checked"
    run pgbkp verify
    assert_rc 0 "verify: the repository holds what was read"
    assert_output_contains "page that failed the data checksum when they were read: $file:1"
    run pgbkp info
    assert_output_contains "DAMAGED PAGES: 1 of"
    # the metrics count them
    local mout
    mout=$(metrics_scrape_once '^pgbkp_repository_newest_backup_bad_pages')
    grep -Eq "^pgbkp_repository_newest_backup_bad_pages\\{.*\\} 1$" <<<"$mout" || fail "no bad page in the metrics"
    # an incremental on top reads the page again (the parent has the chunk): reported again
    run pgbkp backup --type incr
    assert_rc 17 "incremental of a cluster with a damaged page"
    assert_output_contains "$file:1"
    run drill --junit "$ROOT/work/corrupt.xml" --output json
    assert_rc 14 "drill of a backup with a corrupt page"
    jq -r '.steps[] | select(.name == "checksums") | .message' "$RUN_OUT" | grep -q "${file#base/} block 1\|$file block 1" ||
        fail "checksums step does not name the file and block"
    jq -r '.steps[] | select(.name == "checksums") | .message' "$RUN_OUT" | grep -q 'public.t in database postgres' ||
        fail "checksums step does not name the relation"
    assert_eq failed "$(jq -r '.steps[] | select(.name == "amcheck") | .result' "$RUN_OUT")" "amcheck step"
    jq -r '.steps[] | select(.name == "amcheck") | .output' "$RUN_OUT" | grep -q '"postgres.public.t"' ||
        fail "amcheck output does not name the relation"
    junit_check "$ROOT/work/corrupt.xml" 5 3
    assert_drill_clean
}

test_drill_sigterm_cleans_up() {
    drill_setup
    printf -- '-- name: slow\nSELECT pg_sleep(600);\n' >"$ROOT/work/slow.sql"; chown postgres "$ROOT/work/slow.sql"
    local opts
    mapfile -t opts < <(pgbkp_opts main)
    ( cd "$ROOT" && exec setsid setpriv --reuid=postgres --regid=postgres --init-groups --reset-env \
          env LANG=C.UTF-8 TZ=UTC TMPDIR="$ROOT/drilltmp" "$INST/bin/pgbkp" "${opts[@]}" drill \
          --check-sql "$ROOT/work/slow.sql" --junit "$ROOT/work/term.xml" ) >"$ROOT/work/term.out" 2>&1 </dev/null &
    local pid=$! i
    BG_PIDS+=("$pid")
    # wait until the slow check runs on the drill's server (its private socket directory)
    local sleeping=0 sock
    for ((i = 0; i < 1200 && sleeping == 0; i++)); do
        kill -0 "$pid" 2>/dev/null || { cat "$ROOT/work/term.out"; fail "drill ended early"; }
        for sock in "$ROOT"/drilltmp/pgbkp-drill-*; do
            [ -S "$sock/.s.PGSQL.5432" ] || continue
            sleeping=$(as_pg "$PGBIN/psql" -X -At -h "$sock" -p 5432 -d postgres \
                -c "select count(*) from pg_stat_activity where query like '%pg_sleep(600)%' and pid <> pg_backend_pid()" \
                2>/dev/null || echo 0)
        done
        [ "$sleeping" = 0 ] && sleep 0.1
    done
    [ "$sleeping" != 0 ] || fail "the slow check never started"
    kill -TERM "$pid"
    local rc=0
    wait "$pid" || rc=$?
    cat "$ROOT/work/term.out"
    assert_eq 15 "$rc" "exit status after SIGTERM"
    grep -q 'interrupted by signal 15' "$ROOT/work/term.out" || fail "no interruption message"
    assert_drill_clean
}

# check --max-backup-age / --max-archive-age / --min-backups: a monitor's
# check from the repository alone, stale under faketime.
test_check_stale_backups_and_wal() {
    pg_init main
    pg_start main
    expect_rc 0 pgbkp init
    run pgbkp check --max-backup-age 1h
    assert_rc 16 "no backup yet"
    assert_output_contains "stale: no backup (limit 1h 0m)"
    expect_rc 0 pgbkp backup --type full
    run pgbkp check --max-backup-age 1h --max-archive-age 1h --min-backups 1
    assert_rc 0 "fresh"
    assert_output_matches "check ok: newest backup [0-9-]+F [0-9]+s old \(limit 1h 0m\), newest WAL [0-9A-F]{24} archived [0-9]+s ago \(limit 1h 0m\), 1 backup \(at least 1\)"
    run pgbkp check --min-backups 2
    assert_rc 16 "too few backups"
    assert_output_contains "1 backup, fewer than 2"
    run pgbkp check --max-backup-age 5x
    assert_rc 2 "malformed duration"
    assert_output_contains "--max-backup-age \"5x\" is not a duration"

    # two hours later (faketime; NO_FAKE_STAT keeps the files' real times): both
    # stale, one line; no server needed
    pg_stop main
    local opts
    mapfile -t opts < <(pgbkp_opts main)
    run as_pg NO_FAKE_STAT=1 faketime -f +2h "$INST/bin/pgbkp" "${opts[@]}" check --max-backup-age 90m --max-archive-age 1h
    assert_rc 16 "stale two hours later"
    assert_output_matches "stale: newest backup [0-9-]+F is 2h [0-9]+m old, more than 1h 30m; newest WAL [0-9A-F]{24} was archived 2h [0-9]+m ago, more than 1h 0m"
    [ "$(grep -c . "$RUN_ERR")" -le 2 ] || fail "more than the error line and its hint"
    run as_pg NO_FAKE_STAT=1 faketime -f +2h "$INST/bin/pgbkp" "${opts[@]}" check --max-backup-age 1d
    assert_rc 0 "within a day"
}

# drill_checks in the configuration: the same checks as a check file, with
# the file's line in messages; an unknown key is refused before anything runs.
test_drill_checks_from_configuration() {
    drill_setup
    local cfg=$ROOT/drill.yml
    { main_config_yaml; cat <<EOC
  drill_checks:
    - {name: rows in t, sql: "SELECT count(*) FROM t", expect: "= 5000"}
    - name: orders today
      database: app
      sql: |
        SELECT count(*)
          FROM orders WHERE day = current_date
      expect: "> 0"
EOC
    } >"$cfg"
    chmod 644 "$cfg"
    run as_pg TMPDIR="$ROOT/drilltmp" "$INST/bin/pgbkp" --config "$cfg" drill --output json
    assert_rc 0 "drill with the configuration's checks"
    assert_eq "passed passed" "$(jq -r '[.steps[] | select(.name == "check: rows in t" or .name == "check: orders today") | .result] | join(" ")' "$RUN_OUT")" \
        "the configuration's checks ran"
    assert_drill_clean
    sed -i 's/expect: "= 5000"/expected: "= 5000"/' "$cfg"
    run as_pg TMPDIR="$ROOT/drilltmp" "$INST/bin/pgbkp" --config "$cfg" drill
    assert_rc 3 "unknown key in a drill check"
    assert_output_contains 'unknown key "expected" in a drill check'
    assert_drill_clean
}
