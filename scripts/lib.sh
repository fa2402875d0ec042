# shellcheck shell=bash
# Shared helpers for pgbkp's test and demo scripts: private PostgreSQL 15
# clusters run as `postgres` under a fresh /tmp directory, the freshly built
# pgbkp installed where `postgres` can execute it, and small assertion helpers.
#
# Source it; it defines functions and a few globals and runs nothing else.
#
# Globals (set by lib_use_root / lib_use_inst):
#   TOP      repository checkout (where ./pgbkp is built)
#   ROOT     test root: pg/ (data dirs), sock/, repo/, log/, work/
#   INST     install prefix; $INST/bin/pgbkp is what servers run
#   SOCK     unix socket directory of every server of this root
#   REPO     repository path handed to pgbkp (--repo-path)
#   CLUSTER  pgbkp cluster name (default "test")
#   PG_PORT[name] PG_DATA[name]   clusters of this root

umask 022

TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
CLUSTER=${CLUSTER:-test}
declare -gA PG_PORT=() PG_DATA=()
declare -ga BG_PIDS=()
ROOT=${ROOT:-}
INST=${INST:-}

# Never let the caller's environment steer pgbkp or libpq in a test.
lib_clean_env() {
    local v
    for v in $(compgen -e); do
        case $v in
            PGBKP_*|PGHOST|PGHOSTADDR|PGPORT|PGUSER|PGDATABASE|PGDATA|PGOPTIONS|PGSERVICE|PGPASSFILE)
                unset "$v" ;;
        esac
    done
}

log() { printf '### %s\n' "$*"; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- roots

# lib_make_root: create a fresh root directory in /tmp (mode 755), print it.
lib_make_root() {
    local r
    r=$(mktemp -d /tmp/pgbkp-it.XXXXXX)
    chmod 755 "$r"
    echo "$r"
}

# lib_use_root DIR: make DIR the current root and lay out its directories.
lib_use_root() {
    ROOT=$1
    mkdir -p "$ROOT"
    chmod 755 "$ROOT"
    SOCK=$ROOT/sock
    REPO=${REPO_OVERRIDE:-$ROOT/repo}
    mkdir -p "$ROOT/pg" "$ROOT/sock" "$ROOT/log" "$ROOT/work"
    # postgres owns the root (it creates the repository in it, as `pgbkp
    # init` would on a real host) and the directories its servers use.
    chown postgres:postgres "$ROOT" "$ROOT/pg" "$ROOT/sock" "$ROOT/log" "$ROOT/work"
    chmod 755 "$ROOT/log" "$ROOT/work"
    if [ ! -d "$(dirname "$REPO")" ]; then
        mkdir -p "$(dirname "$REPO")"
        chown postgres:postgres "$(dirname "$REPO")"
    fi
}

lib_use_inst() {
    INST=$1
    [ -x "$INST/bin/pgbkp" ] || die "no pgbkp at $INST/bin/pgbkp"
}

# lib_install PREFIX [LOGFILE]: `make install` the built tree into PREFIX so
# that postgres can execute PREFIX/bin/pgbkp even when the checkout itself
# sits under a directory postgres cannot traverse.
lib_install() {
    local prefix=$1 logf=${2:-/dev/null}
    mkdir -p "$prefix"
    if ! make -C "$TOP" -j2 install prefix="$prefix" >"$logf" 2>&1; then
        echo "make install prefix=$prefix failed:" >&2
        tail -n 30 "$logf" >&2 2>/dev/null || true
        return 1
    fi
    chmod -R a+rX "$prefix"
    # Each parent of the prefix must be traversable by postgres.
    if ! setpriv --reuid=postgres --regid=postgres --init-groups --reset-env \
            test -x "$prefix/bin/pgbkp"; then
        echo "postgres cannot execute $prefix/bin/pgbkp" >&2
        return 1
    fi
    INST=$prefix
}

# ---------------------------------------------------------------- users

# as_pg CMD...: run CMD as postgres with a clean environment, from $ROOT
# (the caller's working directory may not be traversable by postgres).
# Extra environment: put VAR=VALUE words first, e.g. as_pg FOO=1 cmd.
as_pg() {
    ( cd "${ROOT:-/tmp}" &&
      exec setpriv --reuid=postgres --regid=postgres --init-groups --reset-env \
           env LANG=C.UTF-8 TZ="${TZ:-UTC}" "$@" )
}

# ---------------------------------------------------------------- ports

# free_port_range: "LOW HIGH", the private ports the suite hands out: from
# 20000 up to just below the kernel's ephemeral range
# (/proc/sys/net/ipv4/ip_local_port_range), where an outgoing connection of
# the suite itself (libpq, libcurl, Patroni, etcd) could take a port between
# the check and the bind. Where that range starts too low, the ports above it.
free_port_range() {
    local elo=32768 ehi=60999
    read -r elo ehi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
    if [ "$elo" -gt 21000 ]; then
        echo "20000 $((elo - 1))"
    else
        echo "$((ehi + 1)) 65535"
    fi
}

# free_port: print a private TCP port (see free_port_range) that nothing
# listens on and that this suite has not handed out yet.
free_port() {
    local used=${PGBKP_IT_SUITE:-$ROOT}/.ports base p i lo hi n
    read -r lo hi < <(free_port_range)
    n=$((hi - lo + 1))
    base=$(( (RANDOM * 32768 + RANDOM + $$) % n ))
    for ((i = 0; i < n; i++)); do
        p=$(( lo + (base + i) % n ))
        if [ -f "$used" ] && grep -qx "$p" "$used"; then continue; fi
        if [ -n "$(ss -Htan "( sport = :$p )" 2>/dev/null)" ]; then continue; fi
        if [ -e "${SOCK:-/nonexistent}/.s.PGSQL.$p" ]; then continue; fi
        echo "$p" >>"$used"
        echo "$p"
        return 0
    done
    echo "free_port: no free port in $lo-$hi" >&2
    return 1
}

# ---------------------------------------------------------------- servers

# pg_archive_command: archive_command for servers of this root.
# With REPO_CONFIG set (a configuration file naming the repositories, see
# s3_config), that file replaces --repo-path.
# Every such command first waits while the hold file exists (archive_hold),
# so a test can keep a backup waiting for its WAL exactly as long as it wants.
pg_archive_command() {
    local gate="while test -e $(archive_hold_file); do sleep 0.1; done; "
    if [ -n "${REPO_CONFIG:-}" ]; then
        echo "$gate$INST/bin/pgbkp --config $REPO_CONFIG --cluster $CLUSTER --log-level warn archive-push %p"
    else
        echo "$gate$INST/bin/pgbkp --cluster $CLUSTER --repo-path $REPO --log-level warn archive-push %p"
    fi
}

archive_hold_file() { echo "$ROOT/work/archive.hold"; }

# archive_hold: WAL archiving of this root's servers waits (nothing reaches
# the repository) until archive_release. A backup started meanwhile cannot
# finish: it waits for its WAL.
archive_hold() { as_pg touch "$(archive_hold_file)"; }
archive_release() { rm -f "$(archive_hold_file)"; }

# pg_init NAME [on|off] [PORT]: initdb a cluster as postgres (checksums,
# trust auth, superuser postgres) under $ROOT/pg/NAME, configured for a
# private port and socket, with WAL archiving through pgbkp when "on".
pg_init() {
    local name=$1 archive=${2:-on} port=${3:-}
    local d=$ROOT/pg/$name
    [ -n "$port" ] || port=$(free_port)
    [ ! -e "$d" ] || die "pg_init: $d exists"
    # PG_INITDB_ARGS: more initdb options (e.g. --wal-segsize=1), word-split
    # shellcheck disable=SC2086
    if ! as_pg "$PGBIN/initdb" -D "$d" --data-checksums -A trust -U postgres \
            --locale=C -E UTF8 --no-sync ${PG_INITDB_ARGS:-} >"$ROOT/log/$name.initdb.log" 2>&1; then
        cat "$ROOT/log/$name.initdb.log" >&2
        die "initdb $name failed"
    fi
    {
        echo ""
        echo "# --- pgbkp test settings ---"
        echo "listen_addresses = '127.0.0.1'"
        echo "port = $port"
        echo "unix_socket_directories = '$SOCK'"
        echo "wal_level = replica"
        echo "max_wal_senders = 4"
        echo "logging_collector = off"
        echo "log_line_prefix = '%m [%p] '"
        echo "log_checkpoints = on"
        echo "fsync = on"
        echo "synchronous_commit = on"
        if [ "$archive" = on ]; then
            echo "archive_mode = on"
            echo "archive_command = '$(pg_archive_command)'"
        else
            echo "archive_mode = off"
        fi
    } >>"$d/postgresql.conf"
    PG_PORT[$name]=$port
    PG_DATA[$name]=$d
}

# pg_adopt NAME DIR [PORT]: register a data directory made by something else
# (a restore) as cluster NAME; its port, socket directory and listen address
# are set in postgresql.auto.conf (after whatever pgbkp wrote there).
pg_adopt() {
    local name=$1 d=$2 port=${3:-}
    [ -n "$port" ] || port=$(free_port)
    [ -d "$d" ] || die "pg_adopt: no directory $d"
    {
        echo "# --- set by the test harness ---"
        echo "port = $port"
        echo "unix_socket_directories = '$SOCK'"
        echo "listen_addresses = '127.0.0.1'"
    } | as_pg tee -a "$d/postgresql.auto.conf" >/dev/null
    PG_PORT[$name]=$port
    PG_DATA[$name]=$d
}

pg_log() { echo "$ROOT/log/$1.log"; }

# pg_start NAME: start and wait until it accepts connections. A start that
# fails because another process took the port meanwhile ("Address already in
# use") is retried on a new port (PG_PORT[NAME] changes; the port is set in
# postgresql.auto.conf).
pg_start() {
    local name=$1 d=${PG_DATA[$1]:-} try port
    [ -n "$d" ] || die "pg_start: unknown cluster $name"
    for try in 1 2 3; do
        if as_pg "$PGBIN/pg_ctl" -D "$d" -l "$(pg_log "$name")" -w -t 120 start >/dev/null; then
            return 0
        fi
        grep -q 'Address already in use' "$(pg_log "$name")" 2>/dev/null || break
        port=$(free_port)
        echo "pg_start: port ${PG_PORT[$name]:-?} of $name was taken; retrying on $port" >&2
        echo "port = $port" | as_pg tee -a "$d/postgresql.auto.conf" >/dev/null
        PG_PORT[$name]=$port
    done
    echo "---- tail of $(pg_log "$name")" >&2
    tail -n 30 "$(pg_log "$name")" >&2 || true
    die "pg_start $name failed"
}

# pg_stop NAME: fast shutdown, waiting for it.
pg_stop() {
    local d=${PG_DATA[$1]:-}
    [ -n "$d" ] || die "pg_stop: unknown cluster $1"
    as_pg "$PGBIN/pg_ctl" -D "$d" -w -t 120 -m fast stop >/dev/null
}

pg_is_running() {
    local d=${PG_DATA[$1]:-}
    [ -n "$d" ] && as_pg "$PGBIN/pg_ctl" -D "$d" status >/dev/null 2>&1
}

# lib_stop_dir DATADIR: stop the postmaster of one data dir, by its pid file.
lib_stop_dir() {
    local d=$1 pid
    [ -f "$d/postmaster.pid" ] || return 0
    pid=$(head -n 1 "$d/postmaster.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        ( cd /tmp && setpriv --reuid=postgres --regid=postgres --init-groups --reset-env \
            "$PGBIN/pg_ctl" -D "$d" -w -t 30 -m immediate stop >/dev/null 2>&1 ) || true
        if kill -0 "$pid" 2>/dev/null; then
            kill -9 "$pid" 2>/dev/null || true
        fi
    fi
}

# lib_stop_all_under DIR: stop every postgres whose data dir lies under DIR.
lib_stop_all_under() {
    local top=$1 f
    [ -d "$top" ] || return 0
    while IFS= read -r f; do
        lib_stop_dir "$(dirname "$f")"
    done < <(find "$top" -maxdepth 5 -name postmaster.pid -type f 2>/dev/null)
}

# lib_stop_s3_under DIR: stop the S3 test servers started in DIR/s3* (after
# PostgreSQL, whose archive_command may be waiting for them).
lib_stop_s3_under() {
    local d
    for d in "$1"/s3*; do
        [ -f "$d/env" ] || [ -d "$d/run" ] || continue
        "$TOP/scripts/s3-server" stop "$d" >/dev/null 2>&1 || true
    done
}

# lib_stop_patroni_under DIR: stop the Patroni test clusters started in
# DIR/patroni* (before PostgreSQL: Patroni would restart what is killed).
lib_stop_patroni_under() {
    local d
    for d in "$1"/patroni*; do
        [ -e "$d/.patroni-cluster" ] || continue
        "$TOP/scripts/patroni-cluster" stop "$d" >/dev/null 2>&1 || true
    done
}

# lib_cleanup: stop what this process started and remove $ROOT unless KEEP=1.
lib_cleanup() {
    local p
    for p in "${BG_PIDS[@]}"; do
        kill -9 -- "-$p" 2>/dev/null || kill -9 "$p" 2>/dev/null || true
    done
    BG_PIDS=()
    [ -n "${ROOT:-}" ] || return 0
    archive_release
    lib_stop_patroni_under "$ROOT"
    lib_stop_all_under "$ROOT"
    lib_stop_s3_under "$ROOT"
    if [ "${KEEP:-0}" = 1 ]; then
        echo "KEEP=1: leaving $ROOT" >&2
    elif [ "${LIB_OWN_ROOT:-0}" = 1 ]; then
        rm -rf "$ROOT"
    fi
}

# lib_trap_cleanup: install an EXIT trap running lib_cleanup (and make TERM /
# INT exit so that the trap runs).
lib_trap_cleanup() {
    trap 'lib_cleanup' EXIT
    trap 'exit 143' TERM
    trap 'exit 130' INT
}

# ---------------------------------------------------------------- SQL

# pg_sql NAME SQL: run SQL on cluster NAME as postgres, unaligned tuples only.
pg_sql() {
    local name=$1; shift
    local port=${PG_PORT[$name]:-}
    [ -n "$port" ] || die "pg_sql: unknown cluster $name"
    as_pg "$PGBIN/psql" -h "$SOCK" -p "$port" -U postgres -X -Atq \
        -v ON_ERROR_STOP=1 -d postgres -c "$*"
}

# pg_psql NAME ARGS...: psql with connection options.
pg_psql() {
    local name=$1; shift
    as_pg "$PGBIN/psql" -h "$SOCK" -p "${PG_PORT[$name]}" -U postgres -X -Atq \
        -v ON_ERROR_STOP=1 -d postgres "$@"
}

# pg_pgbench_init NAME SCALE
pg_pgbench_init() {
    local name=$1 scale=$2
    as_pg "$PGBIN/pgbench" -h "$SOCK" -p "${PG_PORT[$name]}" -U postgres \
        -i -s "$scale" -q postgres >"$ROOT/log/$name.pgbench.log" 2>&1 ||
        { cat "$ROOT/log/$name.pgbench.log" >&2; die "pgbench -i failed"; }
}

# count_rows NAME: "total A B" of table t(id, note) on cluster NAME.
count_rows() {
    pg_sql "$1" "select count(*), count(*) filter (where note='A'), count(*) filter (where note='B') from t" | tr '|' ' '
}

# pg_wait_archived NAME SEGMENT [TIMEOUT]: wait until pg_stat_archiver has
# archived SEGMENT (or a later one).
pg_wait_archived() {
    local name=$1 seg=$2 tmo=${3:-90} i last
    for ((i = 0; i < tmo * 5; i++)); do
        last=$(pg_sql "$name" "select coalesce(last_archived_wal,'') from pg_stat_archiver")
        if [ -n "$last" ] && [[ ! "$last" < "$seg" ]]; then
            return 0
        fi
        sleep 0.2
    done
    echo "pg_wait_archived: $seg not archived after ${tmo}s" >&2
    pg_sql "$name" "select * from pg_stat_archiver" >&2 || true
    tail -n 20 "$(pg_log "$name")" >&2 || true
    return 1
}

# pg_switch_and_wait NAME: write something, switch WAL, wait until the
# completed segment is archived; prints its name.
pg_switch_and_wait() {
    local name=$1 seg
    seg=$(pg_sql "$name" "select txid_current()" >/dev/null &&
          pg_sql "$name" "select pg_walfile_name(pg_switch_wal())")
    pg_wait_archived "$name" "$seg" >&2
    echo "$seg"
}

# pg_wait_recovery_end NAME [TIMEOUT]: wait until pg_is_in_recovery() is false.
pg_wait_recovery_end() {
    local name=$1 tmo=${2:-180} i r
    for ((i = 0; i < tmo * 5; i++)); do
        if ! pg_is_running "$name"; then
            echo "pg_wait_recovery_end: $name is not running" >&2
            tail -n 30 "$(pg_log "$name")" >&2 || true
            return 1
        fi
        r=$(pg_sql "$name" "select pg_is_in_recovery()" 2>/dev/null || true)
        [ "$r" = f ] && return 0
        sleep 0.2
    done
    echo "pg_wait_recovery_end: $name still in recovery after ${tmo}s" >&2
    tail -n 30 "$(pg_log "$name")" >&2 || true
    return 1
}

# pg_wait_paused NAME [TIMEOUT]: wait until WAL replay is paused (recovery
# target reached with recovery_target_action = pause).
pg_wait_paused() {
    local name=$1 tmo=${2:-180} i r
    for ((i = 0; i < tmo * 5; i++)); do
        if ! pg_is_running "$name"; then
            echo "pg_wait_paused: $name is not running" >&2
            tail -n 30 "$(pg_log "$name")" >&2 || true
            return 1
        fi
        r=$(pg_sql "$name" "select pg_get_wal_replay_pause_state()" 2>/dev/null || true)
        [ "$r" = paused ] && return 0
        sleep 0.2
    done
    echo "pg_wait_paused: $name not paused after ${tmo}s (state: ${r:-?})" >&2
    tail -n 30 "$(pg_log "$name")" >&2 || true
    return 1
}

# pg_setting DATADIR PARAM: the value a (stopped) cluster would use.
pg_setting() {
    as_pg "$PGBIN/postgres" -D "$1" -C "$2"
}

# ---------------------------------------------------------------- pgbkp

# pgbkp_raw ARGS...: run the installed pgbkp as postgres, no implied options.
# Put VAR=VALUE words first to pass environment variables.
pgbkp_raw() {
    local envs=()
    while [ $# -gt 0 ] && [[ $1 == [A-Za-z_]*=* ]]; do envs+=("$1"); shift; done
    as_pg "${envs[@]}" "$INST/bin/pgbkp" "$@"
}

# pgbkp_opts NAME: the global options that point pgbkp at cluster NAME.
pgbkp_opts() {
    local name=${1:-main}
    if [ -n "${REPO_CONFIG:-}" ]; then
        printf '%s\n' --config "$REPO_CONFIG" --cluster "$CLUSTER"
    else
        printf '%s\n' --cluster "$CLUSTER" --repo-path "$REPO"
    fi
    if [ -n "${PG_DATA[$name]:-}" ]; then
        printf '%s\n' --pg-data "${PG_DATA[$name]}" --pg-host "$SOCK" \
            --pg-port "${PG_PORT[$name]}" --pg-user postgres
    fi
}

# pgbkp ARGS...: pgbkp as postgres, pointed at this root's repository and
# (if it exists) the cluster "main". Global options may follow in ARGS before
# the command.
pgbkp() {
    local opts
    mapfile -t opts < <(pgbkp_opts main)
    as_pg "$INST/bin/pgbkp" "${opts[@]}" "$@"
}

# pgbkp_for NAME ARGS...: like pgbkp, pointed at cluster NAME.
pgbkp_for() {
    local name=$1 opts; shift
    mapfile -t opts < <(pgbkp_opts "$name")
    as_pg "$INST/bin/pgbkp" "${opts[@]}" "$@"
}

# pgbkp_bg OUTFILE ARGS...: start `pgbkp ARGS` for cluster main in the
# background in its own process group; its pid (pgbkp itself) is in BG_PID.
pgbkp_bg() {
    local out=$1 opts; shift
    mapfile -t opts < <(pgbkp_opts main)
    ( cd "$ROOT" &&
      exec setsid setpriv --reuid=postgres --regid=postgres --init-groups --reset-env \
          env LANG=C.UTF-8 TZ="${TZ:-UTC}" "$INST/bin/pgbkp" "${opts[@]}" "$@" ) \
        >"$out" 2>&1 </dev/null &
    BG_PID=$!
    BG_PIDS+=("$BG_PID")
}

# start_slow_backup [OPTIONS...]: a full backup of cluster main in the
# background (pid in BG_PID) that cannot finish: WAL archiving is held
# (archive_hold), so it waits for its WAL until archive_release. Returns once
# it has called pg_backup_start (it may already be waiting for its WAL), when
# it holds the repository lock.
start_slow_backup() {
    archive_hold
    pgbkp_bg "$ROOT/work/slow-backup.out" --archive-timeout 3600 backup --type full "$@"
    local i
    # a limit for a hung backup, not a speed assumption: on a loaded machine
    # the start alone has taken over 30 s
    local deadline=$((SECONDS + 180))
    while [ "$SECONDS" -lt "$deadline" ]; do
        kill -0 "$BG_PID" 2>/dev/null || { cat "$ROOT/work/slow-backup.out"; fail "slow backup exited early"; }
        # its session's last query is pg_backup_start while it copies, and
        # pg_backup_stop while it waits for the held WAL (a small cluster is
        # copied faster than one poll)
        if [ "$(pg_sql main "select count(*) from pg_stat_activity where pid <> pg_backend_pid() and (query ilike '%backup_start%' or query ilike '%backup_stop%')")" != 0 ]; then
            return 0
        fi
        sleep 0.1
    done
    cat "$ROOT/work/slow-backup.out"
    fail "backup did not call pg_backup_start within 180 s"
}

# main_config_yaml: the pgbkp: section's lines that point at cluster main
# and this root's repository (a test appends its own keys).
main_config_yaml() {
    cat <<EOF
pgbkp:
  cluster: $CLUSTER
  repo_path: $REPO
  pg_host: $SOCK
  pg_port: ${PG_PORT[main]}
  pg_data: ${PG_DATA[main]}
EOF
}

# metrics_scrape_once REGEX: start `pgbkp metrics` for cluster main on a
# free port, print its first scrape with a line matching REGEX (the last one
# after about 20 s), stop it.
metrics_scrape_once() {
    local port out="" i
    port=$(free_port)
    pgbkp_bg "$ROOT/work/metrics-once.log" metrics --metrics-port "$port" --metrics-address 127.0.0.1
    for ((i = 0; i < 100; i++)); do
        out=$(curl -sf --noproxy '*' "http://127.0.0.1:$port/metrics" || true)
        grep -q -- "$1" <<<"$out" && break
        sleep 0.2
    done
    kill "$BG_PID" 2>/dev/null || true
    printf '%s\n' "$out"
}

# info_json: `pgbkp info --output json` of this root's repository.
info_json() {
    pgbkp info --output json
}

# backup_labels: labels of the backups in the repository, one a line.
backup_labels() {
    info_json | jq -r '.backups[]?.label'
}

# ---------------------------------------------------------------- running and asserting

# lib_head_tail FILE: FILE's first 3000 bytes and, when longer, its last
# 3000 (the error a command ends with is at the end of a long log)
lib_head_tail() {
    local size
    size=$(stat -c %s "$1")
    if [ "$size" -le 6000 ]; then cat "$1"; return; fi
    head -c 3000 "$1"
    printf '\n... (%d bytes left out) ...\n' $((size - 6000))
    tail -c 3000 "$1"
}

# run CMD...: run CMD capturing exit code, stdout and stderr without tripping
# `set -e`: RUN_RC, RUN_OUT (stdout file), RUN_ERR (stderr file).
RUN_N=0
run() {
    RUN_N=$((RUN_N + 1))
    RUN_OUT=$ROOT/work/run$RUN_N.out
    RUN_ERR=$ROOT/work/run$RUN_N.err
    echo "+ $*"
    "$@" >"$RUN_OUT" 2>"$RUN_ERR" && RUN_RC=0 || RUN_RC=$?
    echo "  -> exit $RUN_RC"
    if [ -s "$RUN_OUT" ]; then lib_head_tail "$RUN_OUT" | sed 's/^/  out| /'; echo; fi
    if [ -s "$RUN_ERR" ]; then lib_head_tail "$RUN_ERR" | sed 's/^/  err| /'; echo; fi
    return 0
}

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# assert_rc EXPECTED [WHAT]: check RUN_RC of the last `run`.
assert_rc() {
    [ "$RUN_RC" = "$1" ] || fail "${2:-command} exited $RUN_RC, expected $1"
}

# expect_rc EXPECTED CMD...: run and assert the exit code.
expect_rc() {
    local want=$1; shift
    run "$@"
    assert_rc "$want" "$*"
}

assert_eq() {
    [ "$1" = "$2" ] || fail "${3:-value}: expected '$1', got '$2'"
}

# assert_output_matches REGEX [WHAT]: stdout or stderr of the last run matches
# (extended regex, case-insensitive).
# (grep reads the files itself: "cat | grep -q" under pipefail fails
# whenever grep finds its match before cat has written everything.)
assert_output_matches() {
    grep -Eqi -- "$1" "$RUN_OUT" "$RUN_ERR" ||
        fail "${2:-output} does not match /$1/"
}

assert_output_contains() {
    grep -Fqi -- "$1" "$RUN_OUT" "$RUN_ERR" ||
        fail "${2:-output} does not contain '$1'"
}

assert_file_exists() { [ -e "$1" ] || fail "missing $1"; }
assert_not_exists() { [ ! -e "$1" ] || fail "$1 exists but should not"; }

# flip_byte FILE OFFSET: invert every bit of one byte in place.
flip_byte() {
    local f=$1 off=$2 b nb
    b=$(od -An -tu1 -j "$off" -N1 "$f" | tr -d ' ')
    [ -n "$b" ] || die "flip_byte: offset $off beyond end of $f"
    nb=$((b ^ 255))
    # shellcheck disable=SC2059
    printf "\\$(printf '%03o' "$nb")" | dd of="$f" bs=1 seek="$off" conv=notrunc status=none
}

# tree_digest DIR: a digest of every file's path and content under DIR.
tree_digest() {
    ( cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum ) | sha256sum | cut -d' ' -f1
}

# show_logs: tails of the server logs of this root (for failure reports).
show_logs() {
    local f
    [ -n "${ROOT:-}" ] && [ -d "$ROOT/log" ] || return 0
    for f in "$ROOT"/log/*.log; do
        [ -f "$f" ] || continue
        case $f in *.initdb.log) continue ;; esac
        echo "---- tail of $f"
        tail -n "${1:-15}" "$f"
    done
}

# lib_on_err RC COMMAND: ERR trap handler; prints the failed command and the
# call stack (use with set -E so it fires inside functions).
lib_on_err() {
    local rc=$1 cmd=$2 i=0 frame
    echo "ERROR: command failed (exit $rc): $cmd" >&2
    while frame=$(caller $i); do
        set -- $frame
        echo "    at $3:$1 ($2)" >&2
        i=$((i + 1))
    done
}

# ---------------------------------------------------------------- S3

# s3_start [--https]: start the S3 test server (scripts/s3-server) in
# $ROOT/s3 and load its settings (S3_ENDPOINT, S3_PORT, S3_BUCKET, S3_KEY,
# S3_SECRET, S3_CA_FILE) into the environment; stopped by lib_cleanup.
s3_start() {
    "$TOP/scripts/s3-server" start "$ROOT/s3" "$@" >"$ROOT/log/s3-start.log" 2>&1 ||
        { cat "$ROOT/log/s3-start.log"; fail "could not start the S3 test server"; }
    # shellcheck disable=SC1091
    . "$ROOT/s3/env"
    [ -z "${S3_CA_FILE:-}" ] || chmod 644 "$S3_CA_FILE"
}

s3_stop() { "$TOP/scripts/s3-server" stop "$ROOT/s3" >/dev/null; }

# s3_restart: start the stopped S3 test server again, with its objects and port.
s3_restart() {
    "$TOP/scripts/s3-server" resume "$ROOT/s3" >>"$ROOT/log/s3-start.log" 2>&1 ||
        { cat "$ROOT/log/s3-start.log"; fail "could not restart the S3 test server"; }
}

# s3_config FILE REPOS [cipher]: write a configuration file for cluster
# $CLUSTER whose repositories are REPOS (a YAML list: "[s3]" or
# "[local, s3]"): local is $REPO, s3 the test server under prefix
# /$CLUSTER-repo; with "cipher", both are encrypted. Secrets go into files
# only postgres can read. Sets REPO_CONFIG.
s3_config() {
    local file=$1 repos=$2 cipher=${3:-} secrets=$ROOT/secrets
    mkdir -p "$secrets"
    printf '%s\n' "$S3_SECRET" >"$secrets/s3"
    printf '%s\n' "correct horse battery staple $RANDOM$RANDOM" >"$secrets/cipher"
    chown -R postgres "$secrets"; chmod 700 "$secrets"; chmod 600 "$secrets"/*
    {
        printf 'pgbkp:\n  cluster: %s\n  repositories: %s\n' "$CLUSTER" "$repos"
        printf 'pgbackrest_repo:\n'
        printf '  local:\n    path: %s\n' "$REPO"
        [ -z "$cipher" ] || printf '    cipher_type: aes-256-cbc\n    cipher_pass_file: %s\n' "$secrets/cipher"
        printf '  s3:\n    type: s3\n    s3_endpoint: %s\n    storage_port: %s\n' "$S3_ENDPOINT" "$S3_PORT"
        printf '    s3_region: %s\n    s3_bucket: %s\n    s3_key: "%s"\n' "${S3_REGION:-us-east-1}" "$S3_BUCKET" "$S3_KEY"
        printf '    s3_key_secret_file: %s\n    path: /%s-repo\n    s3_uri_style: path\n' "$secrets/s3" "$CLUSTER"
        [ -z "${S3_CA_FILE:-}" ] || printf '    storage_ca_file: %s\n' "$S3_CA_FILE"
        [ -z "$cipher" ] || printf '    cipher_type: aes-256-cbc\n    cipher_pass_file: %s\n' "$secrets/cipher"
    } >"$file"
    chmod 644 "$file"
    REPO_CONFIG=$file
}
