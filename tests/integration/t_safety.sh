# shellcheck shell=bash
# Safety: refusals (running cluster, non-empty target, target outside the
# recoverable window), corruption detection, crash and lock behaviour of
# backup, and the exit codes of bad input.

# safety_fixture [SCALE]: "main" running, repository initialised, pgbench
# data at SCALE (default 1), table t with 10 rows, one full backup, WAL
# archived past it.
safety_fixture() {
    pg_init main
    pg_start main
    expect_rc 0 pgbkp init
    pg_pgbench_init main "${1:-1}"
    pg_sql main "create table t(id int); insert into t select generate_series(1,10)"
    expect_rc 0 pgbkp backup --type full
    pg_switch_and_wait main >/dev/null
}

# backup_dir LABEL: where the backup's objects live in the repository.
backup_dir() {
    echo "$REPO/$CLUSTER/backup/$1"
}

test_restore_refuses_running_cluster() {
    safety_fixture
    local d=${PG_DATA[main]} conf_before
    conf_before=$(sha256sum <"$d/postgresql.auto.conf")
    expect_rc 5 pgbkp restore --target-dir "$d"
    expect_rc 5 pgbkp restore --target-dir "$d" --force
    expect_rc 5 pgbkp restore --target-dir "$d" --delta
    # without --target-dir restore goes to --pg-data: the running cluster
    expect_rc 5 pgbkp restore
    assert_not_exists "$d/recovery.signal"
    assert_eq "$conf_before" "$(sha256sum <"$d/postgresql.auto.conf")" "postgresql.auto.conf"
    pg_is_running main || fail "the running cluster was stopped"
    assert_eq 10 "$(pg_sql main "select count(*) from t")" "rows in the live cluster"
}

test_restore_refuses_nonempty_target() {
    safety_fixture
    local d=$ROOT/pg/target before
    mkdir -p "$d"
    echo "precious" >"$d/precious.txt"
    mkdir -p "$d/sub"
    echo "x" >"$d/sub/file"
    chown -R postgres:postgres "$d"
    chmod 700 "$d"
    before=$(tree_digest "$d")
    expect_rc 5 pgbkp restore --target-dir "$d"
    assert_eq "$before" "$(tree_digest "$d")" "content of the refused target"
    assert_not_exists "$d/PG_VERSION"
    # --force restores over it, and the result starts with the right rows
    expect_rc 0 pgbkp restore --target-dir "$d" --force
    assert_file_exists "$d/PG_VERSION"
    pg_adopt target "$d"
    pg_start target
    pg_wait_recovery_end target
    assert_eq 10 "$(pg_sql target "select count(*) from t")" "rows after restore --force"
}

test_restore_into_empty_existing_dir() {
    safety_fixture
    local d=$ROOT/pg/empty
    mkdir -p "$d"
    chown postgres:postgres "$d"
    expect_rc 0 pgbkp restore --target-dir "$d"
    case $(stat -c %a "$d") in
        700|750) ;;
        *) fail "restored data directory has mode $(stat -c %a "$d"); PostgreSQL needs 0700 or 0750" ;;
    esac
    assert_eq postgres "$(stat -c %U "$d")" "owner of the restored data directory"
    pg_adopt empty "$d"
    pg_start empty
    pg_wait_recovery_end empty
    assert_eq 10 "$(pg_sql empty "select count(*) from t")" "rows"
}

# check that the last run's output shows the recoverable window
assert_mentions_window() {
    local start end
    start=$(info_json | jq -r '.recoverable_window.start // empty')
    end=$(info_json | jq -r '.recoverable_window.end // empty')
    [ -n "$start" ] && [ -n "$end" ] || fail "info --output json has no recoverable_window"
    assert_output_matches "window|recoverable" "message about the recoverable window"
    # the window's start and end dates (YYYY-MM-DD) appear in the message
    assert_output_contains "${start:0:10}" "window start in the message"
    assert_output_contains "${end:0:10}" "window end in the message"
}

test_restore_time_outside_window() {
    safety_fixture
    local d=$ROOT/pg/never
    expect_rc 9 pgbkp restore --target-dir "$d" --time "$(date -u -d '1 year ago' '+%Y-%m-%d %H:%M:%S+00')"
    assert_mentions_window
    assert_not_exists "$d"
    expect_rc 9 pgbkp restore --target-dir "$d" --time "$(date -u -d '+1 day' '+%Y-%m-%d %H:%M:%S+00')"
    assert_mentions_window
    assert_not_exists "$d"
    # just before the backup started (the window begins at the oldest backup)
    local start
    start=$(info_json | jq -r '.backups[0].start_time')
    [ -n "$start" ] && [ "$start" != null ] || fail "no start_time in info json"
    local epoch
    epoch=$(date -u -d "$start" +%s) || fail "cannot parse start_time '$start'"
    expect_rc 9 pgbkp restore --target-dir "$d" --time "$(date -u -d "@$((epoch - 60))" '+%Y-%m-%d %H:%M:%S+00')"
    assert_not_exists "$d"
}

test_info_json_fields() {
    safety_fixture
    local j=$ROOT/work/info.json
    info_json >"$j"
    assert_eq "$CLUSTER" "$(jq -r .cluster "$j")" "cluster"
    assert_eq 1 "$(jq '.backups | length' "$j")" "number of backups"
    local f v
    for f in label type start_time stop_time start_lsn stop_lsn timeline size repo_size wal_start wal_stop; do
        v=$(jq -r ".backups[0].$f // empty" "$j")
        [ -n "$v" ] || fail "backup field $f missing in info json"
    done
    assert_eq full "$(jq -r '.backups[0].type' "$j")" "backup type"
    assert_eq 1 "$(jq -r '.backups[0].timeline' "$j")" "timeline"
    [ "$(jq -r '.backups[0].size' "$j")" -gt 10000000 ] || fail "backup size implausibly small"
    jq -e '.wal | type == "object"' "$j" >/dev/null || fail "no wal object in info json"
    jq -e '.recoverable_window.start and .recoverable_window.end' "$j" >/dev/null ||
        fail "no recoverable_window in info json"
    # text output names the backup too
    run pgbkp info
    assert_rc 0 "info"
    assert_output_contains "$(jq -r '.backups[0].label' "$j")" "info text output"
}

test_verify_healthy_repository() {
    safety_fixture
    expect_rc 0 pgbkp verify
}

# corrupt_largest_object: flip a byte in the middle of the largest object of
# the backup (a bundle *.bnd if there is one); sets CORRUPTED.
corrupt_largest_object() {
    local label dir
    label=$(backup_labels | tail -n 1)
    [ -n "$label" ] || fail "no backup"
    dir=$(backup_dir "$label")
    [ -d "$dir" ] || fail "backup directory $dir does not exist"
    CORRUPTED=$(find "$dir" -type f -name '*.bnd' -printf '%s %p\n' | sort -n | tail -n 1 | cut -d' ' -f2-)
    if [ -z "$CORRUPTED" ]; then
        CORRUPTED=$(find "$dir" -type f ! -iname '*manifest*' -printf '%s %p\n' | sort -n | tail -n 1 | cut -d' ' -f2-)
    fi
    [ -n "$CORRUPTED" ] || fail "no data object under $dir"
    local size
    size=$(stat -c %s "$CORRUPTED")
    [ "$size" -gt 100 ] || fail "largest object $CORRUPTED is only $size bytes"
    echo "corrupting byte $((size / 2)) of $CORRUPTED ($size bytes)"
    flip_byte "$CORRUPTED" $((size / 2))
}

test_verify_detects_corruption() {
    safety_fixture
    expect_rc 0 pgbkp verify
    corrupt_largest_object
    expect_rc 6 pgbkp verify
    assert_output_contains "$(basename "$CORRUPTED")" "verify output naming the corrupted object"
}

test_restore_detects_corruption() {
    safety_fixture
    corrupt_largest_object
    expect_rc 6 pgbkp restore --target-dir "$ROOT/pg/corrupt"
}

test_verify_detects_missing_wal() {
    # WAL continuity: remove one archived segment the backup needs... found by
    # asking archive-get which segments exist, then deleting its object.
    safety_fixture
    expect_rc 0 pgbkp verify
    local wal_start f
    wal_start=$(info_json | jq -r '.backups[0].wal_start')
    [ -n "$wal_start" ] && [ "$wal_start" != null ] || fail "no wal_start in info json"
    f=$(find "$REPO" -type f -name "$wal_start*" ! -name '*.backup*' | head -n 1)
    [ -n "$f" ] || fail "cannot find the object of segment $wal_start in the repository"
    rm -f "$f"
    run pgbkp verify
    [ "$RUN_RC" -ne 0 ] || fail "verify passed with segment $wal_start missing"
    assert_output_contains "$wal_start" "verify output naming the missing segment"
}

# verify reads every WAL object, not only full segments and history files:
# a damaged backup history file (*.backup, archived by pg_backup_stop) or
# partial segment (*.partial) used to pass unnoticed (exit 0) while
# archive-get refused it.
test_verify_detects_corrupt_backup_history_and_partial() {
    safety_fixture
    local hist seg part i size
    for ((i = 0; i < 100; i++)); do
        hist=$(find "$REPO/$CLUSTER/wal" -type f -name '*.backup' | head -n 1)
        [ -n "$hist" ] && break
        sleep 0.2
    done
    [ -n "$hist" ] || fail "no backup history file (*.backup) in the archive"
    # a partial segment, as a promotion archives it: a stored segment's
    # object under the .partial name (the unencrypted format binds no name)
    seg=$(find "$REPO/$CLUSTER/wal" -type f -regextype posix-extended -regex '.*/[0-9A-F]{24}' | sort | head -n 1)
    [ -n "$seg" ] || fail "no archived segment"
    part=$seg.partial
    cp -p "$seg" "$part"
    expect_rc 0 pgbkp verify
    assert_output_matches "[1-9][0-9]* other\)" "verify counting the .backup and .partial files"

    size=$(stat -c %s "$hist")
    flip_byte "$hist" $((size / 2))
    expect_rc 6 pgbkp verify
    assert_output_contains "$(basename "$hist")" "verify output naming the damaged backup history file"
    assert_output_contains "1 problem " "verify counting one problem"
    expect_rc 6 pgbkp archive-get "$(basename "$hist")" "$ROOT/work/got.backup"

    flip_byte "$hist" $((size / 2))     # repaired
    size=$(stat -c %s "$part")
    flip_byte "$part" $((size / 2))
    expect_rc 6 pgbkp verify
    assert_output_contains "$(basename "$part")" "verify output naming the damaged partial segment"
}

test_backup_killed_midway_leaves_no_trace() {
    safety_fixture 30
    local before after
    before=$(backup_labels | sort)
    [ "$(printf '%s\n' "$before" | grep -c .)" = 1 ] || fail "expected one backup before"
    as_pg touch "$ROOT/work/before-kill"
    start_slow_backup
    # kill it once it has stored data (it cannot finish: its WAL is held)
    local i stored=0
    for ((i = 0; i < 600; i++)); do
        stored=$(find "$REPO/$CLUSTER/backup" -type f -newer "$ROOT/work/before-kill" 2>/dev/null | wc -l)
        [ "$stored" -gt 0 ] && break
        sleep 0.1
    done
    [ "$stored" -gt 0 ] || fail "the backup stored nothing within 60 s"
    kill -0 "$BG_PID" 2>/dev/null || { cat "$ROOT/work/slow-backup.out"; fail "the held backup exited"; }
    kill -9 -- "-$BG_PID"
    wait "$BG_PID" 2>/dev/null || true
    archive_release
    after=$(backup_labels | sort)
    assert_eq "$before" "$after" "backups listed after a killed backup"
    # the next backup succeeds (stale lock and leftovers handled)
    expect_rc 0 pgbkp backup --type full
    [ "$(backup_labels | wc -l)" = 2 ] || fail "expected 2 backups after the next backup"
    expect_rc 0 pgbkp verify
    # and the new backup restores
    local label
    label=$(backup_labels | tail -n 1)
    expect_rc 0 pgbkp restore --target-dir "$ROOT/pg/after_kill" --set "$label" --immediate --target-action promote
    pg_adopt after_kill "$ROOT/pg/after_kill"
    pg_start after_kill
    pg_wait_recovery_end after_kill
    assert_eq 3000000 "$(pg_sql after_kill "select count(*) from pgbench_accounts")" "pgbench_accounts rows"
    assert_eq 10 "$(pg_sql after_kill "select count(*) from t")" "rows of t"
}

# Backup writes its file list (and an incremental its parent chain's) to
# unnamed scratch files in TMPDIR: one that cannot be written stops the
# backup before it starts (exit 10, naming it), and a working one is left
# empty.
test_backup_scratch_files_in_tmpdir() {
    safety_fixture
    local opts before type
    mapfile -t opts < <(pgbkp_opts main)
    before=$(backup_labels | sort)
    for type in full incr; do
        expect_rc 10 as_pg env TMPDIR="$ROOT/work/no-such-dir" "$INST/bin/pgbkp" "${opts[@]}" backup --type "$type"
        assert_output_contains "in \"$ROOT/work/no-such-dir\"" "$type backup's error"
        assert_output_contains "hint: set TMPDIR" "$type backup's hint"
    done
    assert_eq "$before" "$(backup_labels | sort)" "backups after the refused ones"
    as_pg mkdir "$ROOT/work/scratch"
    pg_sql main "insert into t select generate_series(11, 20)"
    expect_rc 0 as_pg env TMPDIR="$ROOT/work/scratch" "$INST/bin/pgbkp" "${opts[@]}" backup --type incr
    assert_eq "" "$(ls -A "$ROOT/work/scratch")" "what the backup left in TMPDIR"
    expect_rc 0 pgbkp verify
}

test_concurrent_backup_locked() {
    safety_fixture 30
    start_slow_backup
    local pid=$BG_PID
    expect_rc 8 pgbkp backup --type full
    kill -0 "$pid" 2>/dev/null || fail "first backup ended before the second was refused; cannot judge the lock"
    assert_output_matches "(^|[^0-9])$pid([^0-9]|$)" "lock message naming pid $pid"
    kill -TERM -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    archive_release
}

test_bad_option_exit_2() {
    expect_rc 2 pgbkp --no-such-option info
    expect_rc 2 pgbkp backup --type sideways
    expect_rc 2 pgbkp restore --frobnicate
    expect_rc 2 pgbkp restore --target-action maybe
}

# Recovery targets PostgreSQL would refuse (or never reach) are refused
# before anything is written: restore used to write postgresql.auto.conf
# with them and exit 0, and the server then failed to start.
test_restore_refuses_bad_recovery_targets() {
    safety_fixture
    local d=$ROOT/pg/badtarget long
    long=$(printf 'x%.0s' $(seq 64))
    expect_rc 2 pgbkp restore --target-dir "$d" --name "$(printf 'before\nafter')"
    assert_output_contains "control character" "refusal of a name with a newline"
    assert_not_exists "$d"
    expect_rc 2 pgbkp restore --target-dir "$d" --name "$long"
    assert_output_contains "too long (64 bytes, at most 63)" "refusal of a 64-byte name"
    assert_not_exists "$d"
    expect_rc 2 pgbkp restore --target-dir "$d" --xid 99999999999999999999
    assert_output_contains "out of range" "refusal of an xid beyond 64 bits"
    assert_not_exists "$d"
    local x
    for x in 0 1 2; do
        expect_rc 2 pgbkp restore --target-dir "$d" --xid "$x"
        assert_output_contains "reserved" "refusal of --xid $x"
        assert_not_exists "$d"
    done
    # the limits themselves are accepted; a name must now also exist in the
    # archived WAL (the WAL index looks it up), so it is created first
    expect_rc 9 pgbkp restore --target-dir "$d" --name "${long:1}"
    assert_output_contains "is not in the archived WAL" "a name that was never created"
    assert_not_exists "$d"
    pg_sql main "select pg_create_restore_point('${long:1}')" >/dev/null
    pg_switch_and_wait main >/dev/null
    expect_rc 0 pgbkp restore --target-dir "$d" --name "${long:1}"
    grep -qx "recovery_target_name = '${long:1}'" "$d/postgresql.auto.conf" ||
        fail "postgresql.auto.conf does not name the 63-byte restore point"
}

test_bad_config_line_exit_3() {
    local cfg=$ROOT/work/bad.yml
    # line 4 is not valid YAML
    printf 'pgbkp:\n  cluster: test\n  repo_path: %s\n  pg_port: [5432\n  log_level: info\n' "$REPO" >"$cfg"
    chmod 644 "$cfg"
    run pgbkp_raw --config "$cfg" info
    assert_rc 3 "pgbkp with a malformed config file"
    assert_output_matches "line[^0-9]{0,3}[45]([^0-9]|$)|:[45]:" "error naming the line"
    assert_output_contains "bad.yml" "error naming the file"
}

test_bad_config_value_exit_3() {
    local cfg=$ROOT/work/bad-value.yml
    # line 3 has a value of the wrong kind
    printf 'pgbkp:\n  cluster: test\n  pg_port: notaport\n  repo_path: %s\n' "$REPO" >"$cfg"
    chmod 644 "$cfg"
    run pgbkp_raw --config "$cfg" info
    assert_rc 3 "pgbkp with a bad value in the config file"
    assert_output_matches "line[^0-9]{0,3}3([^0-9]|$)|:3:" "error naming line 3"
    assert_output_contains "pg_port" "error naming the key"
}

# --set naming a backup whose manifest is damaged is corruption (exit 6,
# naming the backup and why), not an unknown backup (exit 4).
test_set_with_corrupt_manifest_exit_6() {
    safety_fixture
    local label d=$ROOT/pg/badmanifest
    label=$(backup_labels | tail -n 1)
    [ -n "$label" ] || fail "no backup"
    assert_file_exists "$(backup_dir "$label")/backup.manifest"
    flip_byte "$(backup_dir "$label")/backup.manifest" 40
    run pgbkp restore --target-dir "$d" --set "$label"
    assert_rc 6 "restore --set of a backup with a corrupt manifest"
    assert_output_contains "backup set \"$label\" cannot be restored: its manifest is unreadable" "error naming the backup"
    assert_not_exists "$d"
}

test_unknown_set_exit_4() {
    safety_fixture
    local d=$ROOT/pg/nope
    expect_rc 4 pgbkp restore --target-dir "$d" --set 20000101-000000F
    assert_not_exists "$d"
    # a repository that does not exist
    run pgbkp_raw --cluster "$CLUSTER" --repo-path "$ROOT/no-such-repo" restore --target-dir "$d"
    assert_rc 4 "restore from a missing repository"
    assert_not_exists "$d"
}

# verify --since: after a clean verify, only what was written since is read
# (the new incremental's chunks and the new WAL); the archive's shape is
# still checked whole. A flip in an old segment is found by a full verify.
test_verify_since() {
    pg_init main
    pg_start main
    expect_rc 0 pgbkp init
    pg_sql main "create table t as select g, md5(g::text) from generate_series(1, 20000) g"
    expect_rc 0 pgbkp backup --type full
    local full
    full=$(backup_labels | tail -n 1)
    pg_switch_and_wait main >/dev/null
    pg_switch_and_wait main >/dev/null
    # WAL times are whole seconds: a segment archived in the second the
    # verify starts counts as new for the next --since last (read again, to
    # be safe); the wait keeps these segments in an earlier second, so the
    # next verify's "fewer than all" below holds on a fast machine too
    sleep 1.1
    run pgbkp verify --since last
    assert_rc 0 "first verify --since last: no mark yet, everything"
    assert_output_contains "no verify has passed"
    assert_output_contains "verify ok: 1 backups"
    sleep 1.1
    pg_sql main "update t set g = g where g % 10 = 0"
    expect_rc 0 pgbkp backup --type incr
    pg_switch_and_wait main >/dev/null
    run pgbkp verify --since last
    assert_rc 0 "verify --since last"
    assert_output_matches "verify ok since .*: 1 of 2 backups \([0-9]+ chunks\) and [0-9]+ of [0-9]+ WAL segments read"
    local read total
    read=$(grep -oE '[0-9]+ of [0-9]+ WAL segments' "$RUN_OUT" | awk '{print $1}')
    total=$(grep -oE '[0-9]+ of [0-9]+ WAL segments' "$RUN_OUT" | awk '{print $3}')
    [ "$read" -ge 1 ] && [ "$read" -lt "$total" ] || fail "read $read of $total WAL segments"
    run pgbkp verify --since "$full"
    assert_rc 0 "verify --since LABEL"
    assert_output_contains "1 of 2 backups"
    run pgbkp verify --since nonsense
    assert_rc 2 "verify --since nonsense"

    # a flip in the oldest segment: the incremental verify does not read it, a full one does
    local seg
    seg=$(find "$REPO" -path '*/wal/*' -name '000000010000000000000001' | head -n 1)
    [ -n "$seg" ] || seg=$(find "$REPO" -path '*/wal/*' -type f -regex '.*/[0-9A-F]\{24\}' | sort | head -n 1)
    flip_byte "$seg" $(( $(stat -c %s "$seg") / 2 ))
    run pgbkp verify --since last
    assert_rc 0 "verify --since last after an old flip"
    run pgbkp verify
    assert_rc 6 "full verify after an old flip"
}
