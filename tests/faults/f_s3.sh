# shellcheck shell=bash
# Fault class "s3": the repository is on S3 (the Swift s3api test server of
# scripts/s3-server), reached through tests/tools/s3-fault-proxy, which
# injects faults into a share of the requests, chosen from FAULT_SEED:
# connection resets, HTTP 500, 503 and SlowDown (S3 XML error bodies), slow
# responses, stalls longer than the repository's io_timeout, truncated
# response bodies, requests cut before the server had all of them, and
# responses lost after the server applied the request.
#
# Each trial, with faults on (FAULT_S3_RATE of the requests, default 0.15,
# with at most FAULT_S3_STALLS stalls, default 3, and FAULT_S3_SLOW slow
# responses, default 40, which cost time; PostgreSQL's own archiving goes
# through the proxy too): backup --type incr and full (retention_full 1:
# the full expires the older backups), archive-push of several held
# segments by hand, restore, verify and info. Expected of each faulted run: exit 0 with a correct
# result, or a clean failure (an I/O or time-out exit status, one error
# line), never "corrupt" (nothing is): a backup that exits 0 is listed; an
# archive-push that exits 0 stored the segment whole (archive-get returns
# it byte for byte), and a failed one left the segment absent or whole; a
# restore that exits 0 recovers every marker row, a failed one is not
# startable and a --delta restore over it recovers every row; verify and
# info list nothing incomplete. Then the "lost" mode: the first attempt of
# every write (PUT of objects, parts and leases, multipart initiations and
# completions) is applied by the server and its response lost, so every
# write is retried (a retried completion is answered NoSuchUpload, as AWS
# may answer it): a full backup (multipart uploads) and archive-push of two
# segments must exit 0 and add exactly one backup and whole segments.
# Then an outage: from a random request on, every request fails, in the
# middle of a full backup and of an archive-push: a clean failure, nothing
# incomplete listed.
# With the faults off, the invariants of common.sh. The proxy logs every
# fault ($ROOT/log/s3-proxy.log); the class's last result line says what
# share of the requests sent during faults was faulted (at least 10 %).

S3_PROXY=$TOP/tests/tools/s3-fault-proxy
S3_IO_TIMEOUT=4     # seconds (the repository's io_timeout); stalls last longer
S3_SEGS=3           # segments archive-pushed by hand per trial
S3_REQ=0            # requests sent while faults were on
S3_FAULTED=0        # and how many of them were faulted

# s3_proxy_start: the S3 server, the proxy in front of it (faults off) and a
# configuration whose only repository is the S3 one, through the proxy.
s3_proxy_start() {
    local port i
    S3_CTL=$ROOT/work/s3-faults.ctl
    S3_PLOG=$ROOT/log/s3-proxy.log
    : >"$S3_PLOG"
    s3_start
    port=$(free_port)
    rm -f "$S3_CTL" "$ROOT/work/s3-proxy.ready"
    setsid "$S3_PROXY" --listen "$port" --upstream "$S3_PORT" --control "$S3_CTL" \
        --log "$S3_PLOG" --seed "$FAULT_SEED" --ready "$ROOT/work/s3-proxy.ready" \
        >"$ROOT/log/s3-proxy.out" 2>&1 </dev/null &
    BG_PIDS+=("$!")
    for ((i = 0; i < 100; i++)); do
        [ -s "$ROOT/work/s3-proxy.ready" ] && break
        sleep 0.1
    done
    [ -s "$ROOT/work/s3-proxy.ready" ] || { cat "$ROOT/log/s3-proxy.out"; die "the S3 fault proxy did not start"; }
    S3_PORT=$port
    s3_config "$ROOT/pgbkp.yml" "[s3]"
    # (one full backup kept: verify's reading time stays bounded)
    printf '    s3_part_size: 5\n    io_timeout: %d\n    retention_full: 1\n' "$S3_IO_TIMEOUT" >>"$REPO_CONFIG"
}

# faults_on LINE...: the proxy's settings (see tests/tools/s3-fault-proxy);
# faults_off: none. The requests sent in between are counted.
faults_on() {
    S3_MARK=$(wc -l <"$S3_PLOG")
    printf '%s\n' "$@" "stall $((S3_IO_TIMEOUT + 2))" >"$S3_CTL.new"
    mv -f "$S3_CTL.new" "$S3_CTL"
}
# faults_off [outage]: an outage's requests do not count in the share of
# requests faulted.
faults_off() {
    local n f
    rm -f "$S3_CTL"
    n=$(tail -n +"$((S3_MARK + 1))" "$S3_PLOG" | wc -l)
    f=$(tail -n +"$((S3_MARK + 1))" "$S3_PLOG" | awk '$3 != "pass"' | wc -l)
    [ "${1:-}" = outage ] || { S3_REQ=$((S3_REQ + n)); S3_FAULTED=$((S3_FAULTED + f)); }
    injected "$f"
    echo "### faults: $f of $n requests: $(tail -n +"$((S3_MARK + 1))" "$S3_PLOG" | awk '$3 != "pass" { print $3 }' | sort | uniq -c | tr -s ' \n' ' ')"
}

# s3_run NAME ARGS...: pgbkp ARGS, its exit status in S3_RC, its output in
# $ROOT/work/s3-NAME.out.
s3_run() {
    local name=$1; shift
    S3_OUT=$ROOT/work/s3-$name.out
    pgbkp "$@" >"$S3_OUT" 2>&1 && S3_RC=0 || S3_RC=$?
    echo "### $name: exit $S3_RC $(grep -m1 'error:' "$S3_OUT" || true)"
}

# clean_exit OUT RC [CODES [LINES]]: exit 0, or a clean failure: one of
# CODES (default: 10, an I/O failure, and 12, WAL not archived in time),
# exactly one error line (LINES "many": verify reports every problem on its
# own line, then the summary). Never a crash, never "corrupt" (6): nothing is.
clean_exit() {
    local out=$1 rc=$2 codes=${3:-10 12} lines=${4:-one} n
    [ "$rc" = 0 ] && return 0
    if [ "$rc" -ge 128 ]; then echo "crashed (exit $rc)"; tail -n 5 "$out"; return 1; fi
    [[ " $codes " == *" $rc "* ]] || { echo "exit $rc under S3 faults (expected 0 or one of $codes):"; tail -n 5 "$out"; return 1; }
    n=$(grep -c 'error:' "$out" || true)
    [ "$n" = 1 ] || { [ "$lines" = many ] && [ "$n" -gt 1 ]; } || { echo "exit $rc with $n error lines:"; tail -n 5 "$out"; return 1; }
}

backup_count() { pgbkp info --output json | jq '.backups | length'; }

# labels_listed LABEL...: each of these backups is listed.
labels_listed() {
    local l listed
    listed=$(pgbkp info --output json | jq -r '.backups[].label') || return 1
    for l in "$@"; do
        grep -qx "$l" <<<"$listed" || { echo "backup $l exited 0 but is not listed"; return 1; }
    done
}

# backups_listed BEFORE LO HI: between LO and HI more backups are listed
# than BEFORE (a backup that exited 0 is listed; one that failed may be,
# if its manifest was stored before the failure, but then it is complete).
backups_listed() {
    local now
    now=$(backup_count) || return 1
    if [ $((now - $1)) -lt "$2" ] || [ $((now - $1)) -gt "$3" ]; then
        echo "$now backups listed, $1 before: expected $2 to $3 more"
        return 1
    fi
}

# info_listed_complete FILE: info's JSON lists no backup without its end.
info_listed_complete() {
    jq -e '[.backups[]? | select(.stop_lsn == null or .stop_time == null or .wal_complete != true)] | length == 0' "$1" >/dev/null ||
        { echo "info lists a backup without its end"; return 1; }
}

# seg_whole SEG MUST: archive-get of SEG returns exactly the segment in
# pg_wal; with MUST=1 it must be archived, otherwise absent is fine.
seg_whole() {
    local seg=$1 must=$2 rc=0 d=$ROOT/work/s3-get
    mkdir -p "$d"; chown postgres "$d"; rm -f "$d/$seg"
    pgbkp archive-get "$seg" "$d/$seg" >"$ROOT/work/s3-get.out" 2>&1 || rc=$?
    if [ "$rc" = 1 ] && [ "$must" = 0 ]; then return 0; fi
    [ "$rc" = 0 ] || { echo "archive-get $seg: exit $rc"; tail -n 3 "$ROOT/work/s3-get.out"; return 1; }
    cmp -s "$d/$seg" "$ROOT/work/s3-segs/$seg" || { echo "archive-get $seg returns other bytes than the segment"; return 1; }
    rm -f "$d/$seg"
}

# hold_segments N: hold archiving and complete N segments (in S3_SEG_LIST),
# copies in $ROOT/work/s3-segs.
hold_segments() {
    local i seg
    archive_hold
    S3_SEG_LIST=()
    mkdir -p "$ROOT/work/s3-segs"
    for ((i = 0; i < $1; i++)); do
        pg_sql main "select txid_current()" >/dev/null
        seg=$(pg_sql main "select pg_walfile_name(pg_switch_wal())")
        S3_SEG_LIST+=("$seg")
        cp "${PG_DATA[main]}/pg_wal/$seg" "$ROOT/work/s3-segs/$seg"
    done
}

# restore_ok RC: the restore into $ROOT/pg/s3r either recovers every row
# (exit 0) or is not startable and a --delta restore over it does.
restore_ok() {
    local d=$ROOT/pg/s3r
    if [ "$1" = 0 ]; then
        restored_holds_markers "$d"
    else
        restored_refused "$d" && restore_again_correct "$d"
    fi
}

# faulted_commands: one round of every command with faults on.
faulted_commands() {
    local seg c labels=() rcs=()
    faults_on "rate ${FAULT_S3_RATE:-0.15}" "kinds reset:2,500:1,503:1,slowdown:2,slow:2,stall:1,truncate:2,lost:3,cut:1" \
        "limit stall:${FAULT_S3_STALLS:-3},slow:${FAULT_S3_SLOW:-40}"
    # (incr first: the full's expiry leaves one backup for verify to read;
    # retention_full is 1)
    for c in incr full; do
        s3_run "backup-$c" backup --type "$c"
        check "backup --type $c: clean exit" clean_exit "$S3_OUT" "$S3_RC"
        [ "$S3_RC" != 0 ] || [ "$c" != full ] || labels=()
        [ "$S3_RC" != 0 ] || labels+=("$(sed -n 's/.* backup \([0-9FDI-]*\) complete:.*/\1/p' "$S3_OUT")")
    done
    # archiving waits (held) while the segments are pushed by hand
    hold_segments "$S3_SEGS"
    for seg in "${S3_SEG_LIST[@]}"; do
        s3_run "push-$seg" archive-push "${PG_DATA[main]}/pg_wal/$seg"
        check "archive-push: clean exit" clean_exit "$S3_OUT" "$S3_RC" 10
        rcs+=("$S3_RC:$seg")
    done
    lib_stop_dir "$ROOT/pg/s3r"; rm -rf "$ROOT/pg/s3r"
    s3_run restore restore --target-dir "$ROOT/pg/s3r"
    check "restore: clean exit" clean_exit "$S3_OUT" "$S3_RC" "10 4"
    local restore_rc=$S3_RC
    s3_run verify verify
    check "verify: clean exit (never corrupt)" clean_exit "$S3_OUT" "$S3_RC" 10 many
    s3_run info info --output json
    check "info: clean exit" clean_exit "$S3_OUT" "$S3_RC" 10
    [ "$S3_RC" != 0 ] || check "info under faults lists nothing incomplete" info_listed_complete "$S3_OUT"
    faults_off
    archive_release
    # the results, checked with the faults off
    [ ${#labels[@]} = 0 ] || check "backups: each that exited 0 is listed" labels_listed "${labels[@]}"
    for r in "${rcs[@]}"; do
        check "archive-push: the segment is whole (or absent after a failure)" \
            seg_whole "${r#*:}" "$([ "${r%%:*}" = 0 ] && echo 1 || echo 0)"
    done
    check "restore: recovers every row or is refused" restore_ok "$restore_rc"
    check "nothing incomplete listed after the faults" inv_listed_complete
    # PostgreSQL's own pushes of the held segments (already archived or not) succeed
    check "archiving resumes" pg_wait_archived main "${S3_SEG_LIST[-1]}" 120
}

# lost_round: the first attempt of every write (PUT of objects, parts and
# leases, multipart initiations and completions) is applied by the server
# and its answer lost; the retries must cope, and add exactly one backup
# (a full one, with multipart uploads) and whole segments.
lost_round() {
    local before seg rcs=()
    before=$(backup_count)
    hold_segments 2
    faults_on "kinds lost" "writes" "first"
    for seg in "${S3_SEG_LIST[@]}"; do
        s3_run "lost-push-$seg" archive-push "${PG_DATA[main]}/pg_wal/$seg"
        rcs+=("$S3_RC")
    done
    archive_release
    local m0
    m0=$(wc -l <"$S3_PLOG")
    s3_run lost-backup backup --no-expire --type full
    local backup_rc=$S3_RC
    # the requests of a full backup, without retries: where an outage may start
    S3_FULL_REQ=$(tail -n +"$((m0 + 1))" "$S3_PLOG" | grep -c ' pass ' || true)
    faults_off
    check "lost responses: archive-push exits 0" test "${rcs[*]}" = "0 0"
    for seg in "${S3_SEG_LIST[@]}"; do
        check "lost responses: the pushed segment is whole" seg_whole "$seg" 1
    done
    check "lost responses: backup exits 0" test "$backup_rc" = 0
    check "lost responses: a multipart completion was lost" grep -q ' lost POST .*uploadId=' "$S3_PLOG"
    check "lost responses: its retry was answered NoSuchUpload (as by AWS)" grep -q ' nosuchupload POST ' "$S3_PLOG"
    [ "$backup_rc" != 0 ] || check "lost responses: exactly one backup more" backups_listed "$before" 1 1
    check "lost responses: nothing incomplete listed" inv_listed_complete
}

# outage_round: the server goes away in the middle of a command: after a
# random number K of requests (up to what the lost round's full backup sent),
# every request fails (resets, errors, lost responses, cut requests) until
# the command gives up. A full backup and an archive-push must exit 0 (K
# was past their end) or fail cleanly, and leave nothing incomplete listed
# and the segment absent or whole.
outage_round() {
    local k seg labels=() kinds="kinds reset:1,500:1,503:1,slowdown:1,lost:2,cut:1"
    k=$(( (RANDOM * 32768 + RANDOM) % ${S3_FULL_REQ:-100} + 1 ))
    faults_on "$kinds" "after $k"
    s3_run outage-backup backup --no-expire --type full
    faults_off outage
    echo "### outage after $k of about $S3_FULL_REQ requests"
    check "outage: backup: clean exit" clean_exit "$S3_OUT" "$S3_RC"
    [ "$S3_RC" != 0 ] || labels+=("$(sed -n 's/.* backup \([0-9FDI-]*\) complete:.*/\1/p' "$S3_OUT")")
    [ ${#labels[@]} = 0 ] || check "outage: backup: listed after exit 0" labels_listed "${labels[@]}"
    check "outage: nothing incomplete listed" inv_listed_complete
    hold_segments 1
    seg=${S3_SEG_LIST[0]}
    k=$((RANDOM % 5 + 1))   # an undisturbed archive-push sends about 5
    faults_on "$kinds" "after $k"
    s3_run outage-push archive-push "${PG_DATA[main]}/pg_wal/$seg"
    faults_off outage
    archive_release
    echo "### outage after $k requests of archive-push"
    check "outage: archive-push: clean exit" clean_exit "$S3_OUT" "$S3_RC" 10
    check "outage: archive-push: the segment is whole or absent" seg_whole "$seg" "$([ "$S3_RC" = 0 ] && echo 1 || echo 0)"
    check "outage: archiving resumes" pg_wait_archived main "$seg" 120
}

class_main() {
    local n i
    n=$(fault_rounds "$1" 3)
    s3_proxy_start
    fault_setup
    # incompressible rows, so that backups need multipart uploads (5 MiB parts)
    pg_sql main "create table r(b bytea); alter table r alter b set storage external"
    pg_sql main "insert into r select decode(string_agg(md5(random()::text), ''), 'hex')
                 from generate_series(1, 500000) g group by g % 500"
    # a round, three trials, each followed by the invariants: the faulted
    # commands, the lost responses, the outage
    for ((i = 1; i <= n; i++)); do
        marker_commit
        faulted_commands
        trial_end "faulted#$i" 0
        marker_commit
        lost_round
        trial_end "lost#$i" 0
        marker_commit
        outage_round
        trial_end "outage#$i" "$([ "$i" = "$n" ] && echo 1 || echo 0)"
    done
    local pct=$((S3_REQ > 0 ? S3_FAULTED * 100 / S3_REQ : 0))
    echo "### s3: $S3_FAULTED of $S3_REQ requests faulted ($pct %), $(grep -c ' pass ' "$S3_PLOG") passed in all"
    if [ "$pct" -ge 10 ]; then
        echo "ok - fault-rate ($S3_FAULTED of $S3_REQ requests faulted, $pct %)" >>"$FAULT_RESULTS"
    else
        echo "not ok - fault-rate ($S3_FAULTED of $S3_REQ requests faulted, $pct %, fewer than 10 %)" >>"$FAULT_RESULTS"
    fi
}
