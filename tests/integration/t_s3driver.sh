# shellcheck shell=bash
# The S3 storage driver against a real S3 server (OpenStack Swift with s3api,
# started by scripts/s3-server, which checks SigV4 for real): the driver
# contract over HTTP and HTTPS (tests/tools/storage-test conformance), the
# refusal of a wrong secret, TLS verification, and retries of transient
# failures through a proxy that drops connections.

ST=$TOP/tests/tools/storage-test

# s3_up NAME [--https]: start a server in $ROOT/NAME and load its env.
s3_up() {
    local dir=$ROOT/$1
    shift
    [ -x "$ST" ] || fail "no $ST: run make first"
    "$TOP/scripts/s3-server" start "$dir" "$@" >"$ROOT/log/$(basename "$dir").start.log" 2>&1 ||
        { cat "$ROOT/log/$(basename "$dir").start.log"; fail "s3-server start $*"; }
    # shellcheck disable=SC1091
    . "$dir/env"
    export S3_LOCK_DIR=$ROOT/locks
}

test_s3driver_http_conformance() {
    s3_up s3
    expect_rc 0 "$ST" conformance /it-http
    assert_output_matches '^ok$' "conformance over HTTP"
    # costs of typical requests, for the record (not asserted)
    expect_rc 0 "$ST" bench /it-bench
}

test_s3driver_https() {
    s3_up s3 --https
    [ -n "${S3_CA_FILE:-}" ] || fail "no S3_CA_FILE in the env of an HTTPS server"
    expect_rc 0 "$ST" conformance /it-https
    assert_output_matches '^ok$' "conformance over HTTPS"

    # the test CA is not among the system's: verification must fail, clearly
    printf 'x\n' >"$ROOT/work/x"
    run env -u S3_CA_FILE "$ST" put /it-https x "$ROOT/work/x"
    assert_rc 3 "put without the CA file"
    assert_output_contains "could not verify the TLS certificate of S3 endpoint https://localhost:$S3_PORT"
    assert_output_contains "storage_ca_file"
    # ... unless verification is turned off
    run env -u S3_CA_FILE S3_VERIFY_TLS=0 "$ST" put /it-https x "$ROOT/work/x"
    assert_rc 0 "put with verification off"
    expect_rc 0 "$ST" rmtree /it-https ""
}

test_s3driver_wrong_credentials() {
    s3_up s3
    local secret=Wr0ngSecretValue-zzq
    printf 'x\n' >"$ROOT/work/x"
    run env S3_SECRET=$secret "$ST" put /it-auth x "$ROOT/work/x"
    assert_rc 3 "put with a wrong secret"
    assert_output_contains "403 SignatureDoesNotMatch"
    assert_output_contains "key \"$S3_KEY\""
    assert_output_contains "s3_key_secret"
    if grep -Fq -- "$secret" "$RUN_OUT" "$RUN_ERR"; then
        fail "the secret appears in the output"
    fi
    # reads and listings are refused the same way, without retries
    run env S3_SECRET=$secret "$ST" ls /it-auth ""
    assert_rc 3 "ls with a wrong secret"
    # a region the server does not serve
    run env S3_REGION=eu-west-9 "$ST" get /it-auth x
    assert_rc 3 "get signed for another region"
    assert_output_contains "s3_region \"eu-west-9\""
    # a bucket that does not exist
    run env S3_BUCKET=no-such-bucket "$ST" put /it-auth x "$ROOT/work/x"
    assert_rc 3 "put to a missing bucket"
    assert_output_contains "bucket \"no-such-bucket\" does not exist"
    # and a missing object is "not found" (4), not a failure
    run "$ST" get /it-auth missing
    assert_rc 4 "get of a missing object"
}

# fault_proxy PORT TARGET DROPS LOG: forward 127.0.0.1:PORT to TARGET, but
# reset the first DROPS connections right after reading their request.
fault_proxy() {
    python3 - "$@" <<'EOF' &
import socket, sys, threading
port, target, drops, log = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(16)
def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
n = 0
with open(log, "a", buffering=1) as out:
    print("listening", flush=True, file=out)
    while True:
        c, _ = srv.accept()
        n += 1
        if n <= drops:
            c.recv(65536)
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            c.close()
            print("dropped", n, file=out)
            continue
        try:
            u = socket.create_connection(("127.0.0.1", target))
        except OSError:
            c.close()
            continue
        print("forwarded", n, file=out)
        threading.Thread(target=pipe, args=(c, u), daemon=True).start()
        threading.Thread(target=pipe, args=(u, c), daemon=True).start()
EOF
    BG_PIDS+=($!)
}

test_s3driver_retry() {
    s3_up s3
    local object=cluster/archive/000000010000000000000001 port log=$ROOT/log/proxy.log i
    head -c 100000 /dev/urandom >"$ROOT/work/seg"

    # two connections reset by the "network": the third attempt succeeds
    port=$(free_port)
    fault_proxy "$port" "$S3_PORT" 2 "$log"
    for ((i = 0; i < 50; i++)); do
        grep -q listening "$log" 2>/dev/null && break
        sleep 0.1
    done
    run env S3_PORT="$port" "$ST" put /it-retry "$object" "$ROOT/work/seg"
    assert_rc 0 "put through a proxy that resets two connections"
    assert_eq 2 "$(grep -c dropped "$log")" "connections dropped"
    run "$ST" get /it-retry "$object"
    assert_rc 0 "get after the retried put"
    cmp -s "$RUN_OUT" "$ROOT/work/seg" || fail "the retried put stored different bytes"
    kill "${BG_PIDS[-1]}" 2>/dev/null || true
    wait "${BG_PIDS[-1]}" 2>/dev/null || true

    # the server gone: bounded attempts, then a message naming what failed
    "$TOP/scripts/s3-server" stop "$ROOT/s3" >/dev/null
    run env S3_RETRIES=3 "$ST" put /it-retry "$object" "$ROOT/work/seg"
    assert_rc 10 "put with the server stopped"
    assert_output_contains "S3 PUT of \"it-retry/$object\" failed after 3 attempts"
    assert_output_contains "curl error 7"
    run env S3_RETRIES=2 "$ST" info /it-retry "$object"
    assert_rc 10 "info with the server stopped"
    assert_output_contains "S3 HEAD of \"it-retry/$object\" failed after 2 attempts"
}

# The read-back of a lease is deferred to the holder's first visible change:
# a lease overwritten by a racing host in between makes that change fail
# (exit 8, naming the other holder) with nothing committed; untouched, the
# same change goes through.
test_s3driver_lease_confirmed_before_commit() {
    s3_up s3
    local go=$ROOT/work/go a i
    S3_LOCK_DIR=$ROOT/locks-a "$ST" lock-commit /it-lease cluster/lock/backup.lock cluster/obj-a "$go" \
        >"$ROOT/work/lc-a.out" 2>&1 &
    a=$!
    for ((i = 0; i < 100; i++)); do grep -q locked "$ROOT/work/lc-a.out" && break; sleep 0.1; done
    grep -q locked "$ROOT/work/lc-a.out" || fail "no lock: $(cat "$ROOT/work/lc-a.out")"
    # another host wrote its lease after ours (both had found none)
    printf 'pgbkp-lease\n%s\n%s\nbackup on host node-x\nnode-x\n' \
        0123456789abcdef0123456789abcdef "$(date +%s)" >"$ROOT/work/lease-x"
    expect_rc 0 "$ST" put /it-lease cluster/lock/backup.lock "$ROOT/work/lease-x"
    touch "$go"
    wait "$a" && fail "the commit went through under a lease another host took: $(cat "$ROOT/work/lc-a.out")"
    [ "$?" = 8 ] || fail "exit code $? (expected 8): $(cat "$ROOT/work/lc-a.out")"
    grep -q 'another pgbkp took the lock .* (backup on host node-x; host node-x)' "$ROOT/work/lc-a.out" ||
        fail "the error does not name the other holder: $(cat "$ROOT/work/lc-a.out")"
    run "$ST" get /it-lease cluster/obj-a
    [ "$RUN_RC" != 0 ] || fail "the object was committed under a lost lease"
    # the other host's lease is left alone
    run "$ST" get /it-lease cluster/lock/backup.lock
    assert_output_contains node-x

    # untouched: the same change goes through
    expect_rc 0 "$ST" rm /it-lease cluster/lock/backup.lock
    rm -f "$go"
    S3_LOCK_DIR=$ROOT/locks-a "$ST" lock-commit /it-lease cluster/lock/backup.lock cluster/obj-b "$go" \
        >"$ROOT/work/lc-b.out" 2>&1 &
    a=$!
    for ((i = 0; i < 100; i++)); do grep -q locked "$ROOT/work/lc-b.out" && break; sleep 0.1; done
    touch "$go"
    wait "$a" || fail "the commit under an untouched lease failed: $(cat "$ROOT/work/lc-b.out")"
    grep -q committed "$ROOT/work/lc-b.out" || fail "no commit: $(cat "$ROOT/work/lc-b.out")"
    expect_rc 0 "$ST" get /it-lease cluster/obj-b
    # released: the lease is gone
    run "$ST" get /it-lease cluster/lock/backup.lock
    [ "$RUN_RC" != 0 ] || fail "the lease outlived its release"
}

test_s3driver_lock_across_hosts() {
    # two "hosts": separate UTS namespaces (host names) and lock directories,
    # one bucket; the lease object keeps the second out while the first holds it
    s3_up s3
    mkdir -p "$ROOT/locks-a" "$ROOT/locks-b"
    S3_LOCK_DIR=$ROOT/locks-a unshare --uts sh -c "hostname node-a; exec '$ST' lock /it-lock cluster/lock/backup.lock 8" \
        >"$ROOT/work/lock-a.out" 2>&1 &
    local a=$! i
    for ((i = 0; i < 100; i++)); do grep -q locked "$ROOT/work/lock-a.out" && break; sleep 0.1; done
    grep -q locked "$ROOT/work/lock-a.out" || fail "host a did not get the lock: $(cat "$ROOT/work/lock-a.out")"
    run env S3_LOCK_DIR="$ROOT/locks-b" unshare --uts sh -c "hostname node-b; exec '$ST' lock /it-lock cluster/lock/backup.lock 0"
    assert_rc 8 "host b while host a holds the lock"
    assert_output_contains "node-a"
    wait "$a" || fail "host a's lock run failed"
    run env S3_LOCK_DIR="$ROOT/locks-b" unshare --uts sh -c "hostname node-b; exec '$ST' lock /it-lock cluster/lock/backup.lock 0"
    assert_rc 0 "host b after host a released the lock"
}
