# shellcheck shell=bash
# Repositories in S3 (the Swift s3api test server of scripts/s3-server, over
# HTTPS with certificate verification), encrypted repositories, and a local
# plus an S3 repository together.

# s3_fixture REPOS [cipher] [--https]: the S3 server, a configuration naming
# REPOS, cluster main archiving there; pgbench data, a full backup, batch A
# (ids 1..100) and a marker row, T_AB, an incremental backup, batch B (ids
# 101..200), WAL switched and archived.
s3_fixture() {
    local repos=$1 cipher=${2:-} https=${3:---https}
    s3_start $https
    s3_config "$ROOT/pgbkp.yml" "$repos" "$cipher"
    pg_init main
    pg_start main
    expect_rc 0 pgbkp init
    pg_pgbench_init main 2
    pg_sql main "create table t(id int primary key, note text)"
    MARKER="marker-$RANDOM-$RANDOM-$RANDOM-plaintext"
    pg_sql main "create table secret(v text); alter table secret alter v set storage plain"
    pg_sql main "insert into secret values ('$MARKER')"
    expect_rc 0 pgbkp backup --type full
    pg_sql main "insert into t select g, 'A' from generate_series(1,100) g"
    T_AB=$(pg_sql main "select now()")
    sleep 1.1
    expect_rc 0 pgbkp backup --type incr
    pg_sql main "insert into t select g, 'B' from generate_series(101,200) g"
    pg_switch_and_wait main >/dev/null
}


# restore_and_start NAME ARGS...: restore into $ROOT/pg/NAME, start it, wait
# until it has promoted.
restore_and_start() {
    local name=$1; shift
    expect_rc 0 pgbkp restore --target-dir "$ROOT/pg/$name" "$@"
    pg_adopt "$name" "$ROOT/pg/$name"
    pg_start "$name"
    pg_wait_recovery_end "$name"
}

# marker_in DIR: whether $MARKER can be found in the files under DIR, as
# stored or inside their zstd frames (objects start with a 16-byte header).
marker_in() {
    local f
    grep -rqaF "$MARKER" "$1" && return 0
    while IFS= read -r f; do
        # grep -c reads everything: grep -q could end the pipe early and fail it under pipefail
        [ "$( { tail -c +17 "$f" | zstd -dcq 2>/dev/null || true; } | grep -caF "$MARKER")" != 0 ] && return 0
    done < <(find "$1" -type f -size +100c)
    return 1
}

test_s3_pitr_https() {
    s3_fixture "[s3]"
    case $(cat "$REPO_CONFIG") in *https*|*localhost*) ;; *) fail "not an https endpoint" ;; esac
    run pgbkp info
    assert_rc 0 "info"
    assert_output_contains "s3://"
    expect_rc 0 pgbkp verify
    restore_and_start at_time --time "$T_AB" --target-action promote
    assert_eq "100 100 0" "$(count_rows at_time)" "rows after restore --time from S3"
    restore_and_start latest
    assert_eq "200 100 100" "$(count_rows latest)" "rows after restore to the end of the archive from S3"
    # nothing of the repository is on the local disk, and the unencrypted
    # objects do contain the marker (the check below for encryption can fail)
    assert_not_exists "$REPO/$CLUSTER"
    marker_in "$ROOT/s3/srv" || fail "the marker is not found in the unencrypted objects: the encryption test would prove nothing"
}

test_s3_pitr_encrypted() {
    s3_fixture "[s3]" cipher
    run pgbkp info --output json
    assert_rc 0 "info"
    assert_eq true "$(jq -r .encrypted <"$RUN_OUT")" "encrypted in info"
    expect_rc 0 pgbkp verify
    restore_and_start at_time --time "$T_AB" --target-action promote
    assert_eq "100 100 0" "$(count_rows at_time)" "rows after restore --time from an encrypted S3 repository"
    assert_eq "$MARKER" "$(pg_sql at_time "select v from secret")" "marker row restored"
    if marker_in "$ROOT/s3/srv"; then fail "the marker row is readable in the encrypted repository"; fi
}

test_s3_encrypted_local_tamper() {
    # the same on a local repository: any flipped byte is detected
    s3_fixture "[local]" cipher
    if marker_in "$REPO"; then fail "the marker row is readable in the encrypted repository"; fi
    local f
    f=$(find "$REPO/$CLUSTER" -path '*/wal/*' -type f -size +1k | sort | sed -n 1p)
    [ -n "$f" ] || fail "no archived WAL object"
    flip_byte "$f" 5000
    run pgbkp verify
    expect_rc 6 pgbkp verify
}

test_s3_wrong_secret() {
    s3_start --https
    s3_config "$ROOT/pgbkp.yml" "[s3]"
    printf 'not-the-secret\n' >"$ROOT/secrets/s3"
    pg_init main
    pg_start main
    run pgbkp init
    assert_rc 3 "init with a wrong secret"
    assert_output_contains "$S3_KEY"
    assert_output_matches "403|refused"
    case $(cat "$RUN_OUT" "$RUN_ERR") in *not-the-secret*) fail "the secret appears in the message" ;; esac
    # without the CA file the server's certificate is not trusted
    sed -i '/storage_ca_file/d' "$REPO_CONFIG"
    printf '%s\n' "$S3_SECRET" >"$ROOT/secrets/s3"
    run pgbkp init
    [ "$RUN_RC" != 0 ] || fail "init succeeded without the CA certificate"
    assert_output_matches "certificate|TLS|SSL"
}

test_s3_wrong_passphrase() {
    s3_fixture "[s3]" cipher
    local before after
    before=$(find "$ROOT/s3/srv" -type f -name '*.data' | sort | md5sum)
    printf 'a different passphrase entirely\n' >"$ROOT/secrets/cipher"
    run pgbkp backup --type full
    assert_rc 3 "backup with a wrong passphrase"
    assert_output_contains "passphrase"
    run pgbkp_raw --config "$REPO_CONFIG" --cluster "$CLUSTER" archive-push "$ROOT/pg/main/pg_wal/000000010000000000000001"
    [ "$RUN_RC" != 0 ] || fail "archive-push with a wrong passphrase succeeded"
    after=$(find "$ROOT/s3/srv" -type f -name '*.data' | sort | md5sum)
    assert_eq "$before" "$after" "objects in the bucket after the refused commands"
}

test_s3_fallback_to_local() {
    # s3 first: what is read comes from it while it is up
    s3_fixture "[s3, local]" "" --https
    run pgbkp info --output json
    assert_rc 0 "info over two repositories"
    assert_eq 2 "$(jq length <"$RUN_OUT")" "repositories in info"
    assert_eq "s3 local" "$(jq -r '[.[].repository_name] | join(" ")' <"$RUN_OUT")" "repository names"
    assert_eq "2 2" "$(jq -r '[.[].backups | length] | join(" ")' <"$RUN_OUT")" "backups in each repository"

    # the S3 server goes away: archiving fails (PostgreSQL keeps the WAL and
    # retries), restore falls back to the local repository
    s3_stop
    local failed0 seg
    failed0=$(pg_sql main "select failed_count from pg_stat_archiver")
    pg_sql main "insert into t select g, 'C' from generate_series(201,250) g"
    seg=$(pg_sql main "select pg_walfile_name(pg_switch_wal())")
    local i
    for ((i = 0; i < 300; i++)); do
        [ "$(pg_sql main "select failed_count from pg_stat_archiver")" -gt "$failed0" ] && break
        sleep 0.2
    done
    [ "$(pg_sql main "select failed_count from pg_stat_archiver")" -gt "$failed0" ] || fail "archive-push did not fail"
    [[ "$(pg_sql main "select coalesce(last_archived_wal,'') from pg_stat_archiver")" < "$seg" ]] ||
        fail "$seg counted as archived while the S3 repository was down"
    run pgbkp restore --target-dir "$ROOT/pg/fallback" --time "$T_AB" --target-action promote
    assert_rc 0 "restore with the S3 repository down"
    assert_output_contains 'trying repository "local"'
    pg_adopt fallback "$ROOT/pg/fallback"
    pg_start fallback
    pg_wait_recovery_end fallback
    assert_eq "100 100 0" "$(count_rows fallback)" "rows restored from the local repository"

    # the server returns: archiving catches up and no segment is missing
    s3_restart
    pg_wait_archived main "$seg" 120
    expect_rc 0 pgbkp verify
    restore_and_start from_s3 --repo s3
    assert_eq "250 100 100" "$(count_rows from_s3)" "rows restored from the S3 repository alone"
}

test_s3_interrupted_multipart() {
    s3_start --https
    s3_config "$ROOT/pgbkp.yml" "[s3]"
    printf '    s3_part_size: 5\n' >>"$REPO_CONFIG"
    pg_init main
    pg_start main
    expect_rc 0 pgbkp init
    # 48 MB that does not compress, so bundles need several 5 MiB parts
    pg_sql main "create table r(b bytea); alter table r alter b set storage external"
    pg_sql main "insert into r select decode(string_agg(md5(random()::text), ''), 'hex')
                 from generate_series(1, 3000000) g group by g % 3000"
    # level 19 makes each 5 MiB part take a while, so an upload is seen in flight
    start_slow_backup --compress-level 19
    # wait until a multipart upload is under way, then kill the backup
    local i up=0
    for ((i = 0; i < 300; i++)); do
        up=$("$TOP/tests/tools/storage-test" uploads "/$CLUSTER-repo" 2>/dev/null | grep -c '/backup/' || true)
        [ "$up" -gt 0 ] && break
        sleep 0.1
    done
    [ "$up" -gt 0 ] || fail "no multipart upload seen during the backup"
    kill -9 "$BG_PID"
    wait "$BG_PID" 2>/dev/null || true
    archive_release
    run pgbkp info --output json
    assert_rc 0 "info after the killed backup"
    assert_eq 0 "$(jq '.backups | length' <"$RUN_OUT")" "backups listed after the killed backup"
    # the upload's object is not visible
    local key
    key=$("$TOP/tests/tools/storage-test" uploads "/$CLUSTER-repo" | grep '/backup/' | sed -n 1p)
    [ -n "$key" ] || fail "the killed backup's upload is no longer listed"
    run "$TOP/tests/tools/storage-test" get "/$CLUSTER-repo" "$key"
    [ "$RUN_RC" != 0 ] || fail "the interrupted upload's object $key is visible"
    # the next backup works and is listed (the killed one's lease is not
    # renewed any more, but it is the same host: its lock file is free)
    expect_rc 0 pgbkp backup --type full
    assert_eq 1 "$(info_json | jq '.backups | length')" "backups after the next backup"
    expect_rc 0 pgbkp verify
    # the next backup leaves an upload younger than a day alone (a writer
    # might still be at it); once it is older, the cleaning aborts it (the
    # driver's cleaning with the age lowered, as a day later)
    "$TOP/tests/tools/storage-test" uploads "/$CLUSTER-repo" | grep -q "^$key\$" ||
        fail "a fresh unfinished upload was aborted"
    expect_rc 0 "$TOP/tests/tools/storage-test" clean-temps "/$CLUSTER-repo" "" 3600
    assert_output_matches '^0$' "uploads aborted below the age"
    expect_rc 0 "$TOP/tests/tools/storage-test" clean-temps "/$CLUSTER-repo" "" -1
    assert_output_matches '^[1-9][0-9]*$' "uploads aborted at any age"
    assert_eq 0 "$("$TOP/tests/tools/storage-test" uploads "/$CLUSTER-repo" | grep -c /backup/ || true)" \
        "unfinished uploads left after the cleaning"
    expect_rc 0 pgbkp verify
}

test_encrypted_weak_passphrase_warns() {
    # Pigsty's sample passphrase works, with a loud warning on every run
    REPO_CONFIG=$ROOT/pgbkp.yml
    printf 'pgbkp:\n  cluster: %s\n  repositories: [local]\npgbackrest_repo:\n  local:\n    path: %s\n    cipher_type: aes-256-cbc\n    cipher_pass: pgBackRest\n' \
        "$CLUSTER" "$REPO" >"$REPO_CONFIG"
    chmod 644 "$REPO_CONFIG"
    pg_init main
    pg_start main
    run pgbkp init
    assert_rc 0 "init with a weak passphrase"
    assert_output_matches "WARNING: the encryption passphrase of repository \"local\" is a well-known default"
    assert_eq scrypt "$(jq -r .kdf "$REPO/$CLUSTER/encryption.info")" "key derivation in the key file"
    assert_eq aes-256-gcm "$(jq -r .cipher "$REPO/$CLUSTER/encryption.info")" "cipher in the key file"
    case $(cat "$RUN_OUT" "$RUN_ERR") in *pgBackRest*) fail "the passphrase appears in the output" ;; esac
    expect_rc 0 pgbkp backup --type full
    assert_output_matches "WARNING: the encryption passphrase"
    ! grep -Eqi "warning: *warning" "$RUN_OUT" "$RUN_ERR" || fail "the warning carries its prefix twice"
    head -c 4 "$REPO/$CLUSTER/cluster.info" | grep -q PGBE || fail "cluster.info is not encrypted"
}

# archive-get prefetch: a PITR from S3 fetches segments ahead into the
# spool, replays exactly, and leaves the spool empty when recovery ends
# (recovery_end_command: spool-clean), also when it stopped at a target
# with segments fetched ahead that it never used.
test_s3_pitr_prefetch() {
    s3_fixture "[s3]"
    local i t_mid
    for ((i = 0; i < 24; i++)); do
        pg_sql main "insert into t select g, 'P' from generate_series(1000 + $i * 10, 1009 + $i * 10) g"
        pg_sql main "select pg_switch_wal()" >/dev/null
        if [ "$i" = 11 ]; then
            t_mid=$(pg_sql main "select now()")
            sleep 1.1
        fi
    done
    pg_switch_and_wait main >/dev/null
    restore_and_start mid --time "$t_mid" --target-action promote
    assert_eq 120 "$(pg_sql mid "select count(*) from t where note = 'P'")" "rows at the middle target"
    grep -q "fetched [0-9]* segments ahead into the spool" "$ROOT/log/mid.log" ||
        fail "archive-get did not fetch ahead: $(grep -c 'restored log file' "$ROOT/log/mid.log") segments restored"
    [ -z "$(find "$ROOT/pg/spool" -type f 2>/dev/null)" ] ||
        fail "the spool was not emptied when recovery ended: $(find "$ROOT/pg/spool" -type f | head -n 5)"
    grep -q "segments\\? fetched ahead and not used" "$ROOT/log/mid.log" ||
        fail "recovery_end_command did not clean the spool"
    pg_stop mid
    # with prefetch off: the same restore, one segment at a time
    restore_and_start latest
    assert_eq 240 "$(pg_sql latest "select count(*) from t where note = 'P'")" "rows at the end of the archive"
    [ -z "$(find "$ROOT/pg/spool" -type f 2>/dev/null)" ] || fail "the spool was not emptied after the full replay"
}
