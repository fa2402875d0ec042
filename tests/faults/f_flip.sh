# shellcheck shell=bash
# Fault class "flip": one random byte of one repository object is changed
# (XOR with a random mask, as a failing disk or a bad copy would), for every kind of object in turn:
# WAL segments, timeline history files (.history), backup history files
# (.backup), partial segments (.partial), backup bundles, manifests,
# cluster.info, encryption.info (encrypted repositories), job history, WAL
# index summaries and drill reports.
# The repository gets every kind first: a failover (a restore promoted to
# timeline 2 with the old primary's last segment, which it archives as
# .partial), one run of the scheduler (job history), a restore point and
# `wal-index rebuild` (summaries), and one `drill` (its report).
#
# Expected, per flip: `verify` detects it (exit non-zero), always, unless
# the object still decodes to exactly its content (a WAL object whose
# archive-get returns the same bytes, or another plain object whose zstd
# payload still decodes to the same content: counted as harmless); the
# command that reads the object never returns a silently wrong copy:
# archive-get of a damaged WAL/history/backup/partial file fails, and not
# with exit 1 (PostgreSQL would take "missing" for the end of the archive);
# a restore of a backup whose bundle or manifest is damaged fails; a
# restore planned to the restore point (which the WAL index locates) over
# a damaged summary plans exactly what it plans over the undamaged one (a
# summary is derived data, made again from the WAL). The byte is then put
# back and the invariants of common.sh are checked.
#
# f_flip_cipher.sh runs the same on an encrypted repository.

FLIP_KINDS=(wal history backup-history partial bundle manifest cluster-info encryption-info job-history wal-index drill)
FLIP_DETECTED=0
FLIP_FLIPS=0
FLIP_HARMLESS=0

# flip_is_wal KIND: whether archive-get reads objects of KIND
flip_is_wal() { case $1 in wal|history|backup-history|partial) return 0 ;; esac; return 1; }

# flip_same_content NAME: archive-get of NAME returns exit 0 and exactly the
# content it returned before the flip ($ROOT/work/flip.good): the flip hit
# bytes the decoder does not use (e.g. an unused entropy table weight), and
# the object still holds its data.
flip_same_content() {
    rm -f "$ROOT/work/get.out"
    pgbkp archive-get "$1" "$ROOT/work/get.out" >/dev/null 2>&1 &&
        cmp -s "$ROOT/work/get.out" "$ROOT/work/flip.good"
}

# flip_payload_same KIND: for a plain (unencrypted) object, the flip hit its
# zstd payload (not the header or the trailer, whose SHA-256 of the content
# verify checks) and the payload still decodes, with zstd itself, to exactly
# the content it decoded to before ($ROOT/work/flip.orig): bytes the decoder
# does not use (an unused Huffman or FSE table weight). Every reader then
# gets the object's data unchanged, and no checksum of format 1 covers the
# compressed bytes, so verify cannot tell (and need not: nothing is lost).
flip_payload_same() {
    local trail=48 size
    [ "$1" = bundle ] && trail=0		# bundles have no trailer
    size=$(stat -c %s "$FLIP_FILE")
    [ "$FLIP_OFF" -ge 16 ] && [ "$FLIP_OFF" -lt $((size - trail)) ] || return 1
    [ "$(head -c 4 "$ROOT/work/flip.orig")" = PGBK ] || return 1	# a plain container (not an envelope)
    [ "$(head -c 8 "$FLIP_FILE" | tail -c 1 | od -An -tu1 | tr -d ' ')" = 0 ] || return 1	# cipher 0: plain
    tail -c +17 "$ROOT/work/flip.orig" | head -c -"$trail" | zstd -dcq >"$ROOT/work/flip.orig.content" 2>/dev/null || return 1
    tail -c +17 "$FLIP_FILE" | head -c -"$trail" | zstd -dcq >"$ROOT/work/flip.bad.content" 2>/dev/null || return 1
    local same=1
    cmp -s "$ROOT/work/flip.orig.content" "$ROOT/work/flip.bad.content" && same=0
    rm -f "$ROOT/work/flip.orig.content" "$ROOT/work/flip.bad.content"
    return "$same"
}

# flip_files KIND: the repository's objects of KIND, one a line.
flip_files() {
    local c=$REPO/$CLUSTER
    case $1 in
        wal) find "$c/wal" -type f -regextype egrep -regex '.*/[0-9A-F]{24}' ;;
        history) find "$c/wal" -type f -name '*.history' ;;
        backup-history) find "$c/wal" -type f -name '*.backup' ;;
        partial) find "$c/wal" -type f -name '*.partial' ;;
        bundle) find "$c/backup" -type f -path '*/bundle/*' ;;
        manifest) find "$c/backup" -type f -name 'backup.manifest' ;;
        cluster-info) find "$c" -maxdepth 1 -type f -name 'cluster.info' ;;
        encryption-info) find "$REPO" -type f -name 'encryption.info' ;;
        job-history) find "$c/history" -type f ;;
        wal-index) find "$c/wal-index" -type f -name '*.json' ;;
        drill) find "$c/drill" -type f -name '*.json' ;;
    esac | LC_ALL=C sort
}

# failover: stop main, restore it to the end as a new primary with the old
# primary's WAL (it promotes to timeline 2, archiving a .history and the old
# timeline's last segment as .partial); it becomes cluster main.
failover() {
    local old=${PG_DATA[main]} new=$ROOT/pg/main2 port=${PG_PORT[main]}
    pg_stop main
    pgbkp restore --archive-mode preserve --target-dir "$new" >"$ROOT/work/failover.out" 2>&1 ||
        { cat "$ROOT/work/failover.out"; die "failover: restore failed"; }
    as_pg sh -c "cp '$old'/pg_wal/[0-9A-F]*[0-9A-F] '$new/pg_wal/'" || true
    pg_adopt main "$new" "$port"
    pg_start main
    pg_wait_recovery_end main
    pg_switch_and_wait main >/dev/null
}

# job_history: one run of the scheduler, for a job history record.
job_history() {
    sched_yml
    local out=$ROOT/log/schedule.log i
    ( cd "$ROOT" && exec setsid setpriv --reuid=postgres --regid=postgres --init-groups --reset-env \
        env LANG=C.UTF-8 TZ=UTC "$INST/bin/pgbkp" --config "$ROOT/sched.yml" schedule ) >"$out" 2>&1 </dev/null &
    local pid=$!
    BG_PIDS+=("$pid")
    for ((i = 0; i < 300; i++)); do
        grep -q 'job backup-incr: ok' "$out" && break
        sleep 0.2
    done
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" || true
    [ -n "$(flip_files job-history)" ] || { cat "$out"; die "the scheduler wrote no job history"; }
}

# records: a restore point in the archive and the WAL index of the whole
# archive (summaries), and one drill (its report).
records() {
    pg_sql main "select pg_create_restore_point('flip_point')" >/dev/null
    marker_commit
    pgbkp wal-index rebuild >"$ROOT/work/records.out" 2>&1 || { cat "$ROOT/work/records.out"; die "wal-index rebuild failed"; }
    [ -n "$(flip_files wal-index)" ] || die "wal-index rebuild wrote no summary"
    pgbkp drill >"$ROOT/work/records.out" 2>&1 || { cat "$ROOT/work/records.out"; die "the drill failed"; }
    [ -n "$(flip_files drill)" ] || die "the drill wrote no report"
}

# plan_to_point OUT: the plan of a restore to the restore point (stdout and
# exit code; the lines that time the planning itself left out).
plan_to_point() {
    local rc
    rm -rf "$ROOT/pg/flipplan"
    pgbkp restore --dry-run --name flip_point --target-dir "$ROOT/pg/flipplan" >"$1.raw" 2>&1 && rc=0 || rc=$?
    { grep -v -E '[0-9.]+ ?(s|ms)\b' "$1.raw"; echo "exit $rc"; } >"$1"
    [ ! -e "$ROOT/pg/flipplan" ] || { echo "restore --dry-run wrote $ROOT/pg/flipplan"; return 1; }
}

# flip_bits FILE OFFSET MASK: XOR one byte with MASK (1-255), in place.
flip_bits() {
    local f=$1 off=$2 b
    b=$(od -An -tu1 -j "$off" -N1 "$f" | tr -d ' ')
    # shellcheck disable=SC2059
    printf "\\$(printf '%03o' $((b ^ $3)))" | dd of="$f" bs=1 seek="$off" conv=notrunc status=none
}

# flip_reader_refuses KIND FILE: the command that reads FILE does not
# return a silently wrong copy.
flip_reader_refuses() {
    local kind=$1 f=$2 name label rc
    name=$(basename "$f")
    case $kind in
        wal|history|backup-history|partial)
            rm -f "$ROOT/work/get.out"
            pgbkp archive-get "$name" "$ROOT/work/get.out" >"$ROOT/work/reader.out" 2>&1 && rc=0 || rc=$?
            rm -f "$ROOT/work/get.out"
            case $rc in
                0) flip_same_content "$name" && { echo "archive-get $name: exit 0 and the same content"; return 0; }
                   echo "archive-get $name exit 0 and different content from a damaged object"; return 1 ;;
                1) echo "archive-get $name exit 1 (missing) for a damaged object: recovery would end early"; return 1 ;;
                *) [ "$rc" -lt 128 ] || { echo "archive-get crashed (exit $rc)"; return 1; } ;;
            esac ;;
        bundle|manifest)
            label=$(basename "$(dirname "$f")"); [ "$kind" = manifest ] || label=$(basename "$(dirname "$(dirname "$f")")")
            rm -rf "$ROOT/pg/flip" "$ROOT/pg/flipgood"
            pgbkp restore --set "$label" --target-dir "$ROOT/pg/flip" >"$ROOT/work/reader.out" 2>&1 && rc=0 || rc=$?
            if [ "$rc" = 0 ]; then
                # exit 0 is right only when the copy is the one the undamaged
                # repository restores: the flip hit bytes a restore does not
                # read (a block map frame, used by incremental backups and verify)
                local bad good
                # the recovery settings name the moment they were written (to the
                # second): that line differs between two restores, nothing else may
                sed -i '/^# recovery settings written by pgbkp restore/d' "$ROOT/pg/flip/postgresql.auto.conf"
                bad=$(tree_digest "$ROOT/pg/flip")
                cp -p "$f" "$ROOT/work/flip.bad"; cp -p "$ROOT/work/flip.orig" "$f"
                pgbkp restore --set "$label" --target-dir "$ROOT/pg/flipgood" >/dev/null 2>&1 || true
                sed -i '/^# recovery settings written by pgbkp restore/d' "$ROOT/pg/flipgood/postgresql.auto.conf" 2>/dev/null || true
                good=$(tree_digest "$ROOT/pg/flipgood")
                cp -p "$ROOT/work/flip.bad" "$f"
                rm -rf "$ROOT/pg/flip" "$ROOT/pg/flipgood"
                [ "$bad" = "$good" ] || { echo "restore --set $label exit 0 and a different copy from a damaged $kind"; return 1; }
                echo "restore --set $label: exit 0 with the same copy as from the undamaged repository (the flip hit bytes a restore does not read)"
                return 0
            fi
            rm -rf "$ROOT/pg/flip"
            [ "$rc" -lt 128 ] || { echo "restore crashed (exit $rc)"; return 1; } ;;
        wal-index)
            plan_to_point "$ROOT/work/plan.bad" || return 1
            cp -p "$f" "$ROOT/work/flip.bad"; cp -p "$ROOT/work/flip.orig" "$f"
            plan_to_point "$ROOT/work/plan.good" || return 1
            cp -p "$ROOT/work/flip.bad" "$f"
            cmp -s "$ROOT/work/plan.bad" "$ROOT/work/plan.good" || {
                echo "restore --dry-run --name plans differently over a damaged WAL index summary:"
                diff "$ROOT/work/plan.good" "$ROOT/work/plan.bad" | head -n 20; return 1; }
            rc=$(tail -n 1 "$ROOT/work/plan.bad") ;;
    esac
    echo "reader of the damaged $kind: exit ${rc:-n/a}"
}

flip_verify_detects() {
    local rc
    pgbkp verify >"$ROOT/work/flip-verify.out" 2>&1 && rc=0 || rc=$?
    FLIP_FLIPS=$((FLIP_FLIPS + 1))
    if [ "$rc" = 0 ] && flip_is_wal "$FLIP_KIND" && flip_same_content "$(basename "$FLIP_FILE")"; then
        FLIP_HARMLESS=$((FLIP_HARMLESS + 1))
        echo "verify exit 0: the flip left the object's content unchanged (harmless)"
        return 0
    fi
    if [ "$rc" = 0 ] && ! flip_is_wal "$FLIP_KIND" && flip_payload_same "$FLIP_KIND"; then
        FLIP_HARMLESS=$((FLIP_HARMLESS + 1))
        echo "verify exit 0: the flip hit compressed bytes the decoder does not use; the content is unchanged (harmless)"
        return 0
    fi
    [ "$rc" != 0 ] || { echo "verify exit 0 with a flipped byte"; return 1; }
    [ "$rc" -lt 128 ] || { echo "verify crashed (exit $rc)"; return 1; }
    FLIP_DETECTED=$((FLIP_DETECTED + 1))
    echo "verify detected it: exit $rc, $(grep -i error "$ROOT/work/flip-verify.out" | head -n 1)"
}

flip_main() {
    local n cipher=${2:-} i k f size off mask files
    # a round flips each kind once (encryption.info only when encrypted)
    n=$(fault_rounds "$1" $(( ${#FLIP_KINDS[@]} - $([ -n "$cipher" ] && echo 0 || echo 1) )))
    fault_setup "$cipher"
    failover
    pgbkp backup --type incr >/dev/null 2>&1
    job_history
    records
    for ((i = 1; i <= n; i++)); do
        for k in "${FLIP_KINDS[@]}"; do
            mapfile -t files < <(flip_files "$k")
            if [ ${#files[@]} -eq 0 ]; then
                [ "$k" = encryption-info ] && [ -z "$cipher" ] && continue
                echo "not ok - $k#$i (no object of this kind in the repository)" >>"$FAULT_RESULTS"
                continue
            fi
            marker_commit
            f=${files[$(( (RANDOM * 32768 + RANDOM) % ${#files[@]} ))]}
            size=$(stat -c %s "$f")
            off=$(( (RANDOM * 32768 + RANDOM) % size ))
            cp -p "$f" "$ROOT/work/flip.orig"
            FLIP_KIND=$k FLIP_FILE=$f FLIP_OFF=$off
            if flip_is_wal "$k"; then
                rm -f "$ROOT/work/flip.good"
                pgbkp archive-get "$(basename "$f")" "$ROOT/work/flip.good" >/dev/null
            fi
            mask=$((RANDOM % 255 + 1))
            flip_bits "$f" "$off" "$mask"
            injected
            echo "### flip $k: byte $off of $size XOR $mask in ${f#"$REPO"/}"
            check "verify detects the flip" flip_verify_detects
            check "no silently wrong copy" flip_reader_refuses "$k" "$f"
            cp -p "$ROOT/work/flip.orig" "$f"
            trial_end "$k#$i" $([ "$i" = "$n" ] && [ "$k" = "${FLIP_KINDS[-1]}" ] && echo 1 || echo 0)
        done
    done
    echo "### verify detected $FLIP_DETECTED of $FLIP_FLIPS flips; $FLIP_HARMLESS left the content unchanged"
}

class_main() { flip_main "$1"; }
