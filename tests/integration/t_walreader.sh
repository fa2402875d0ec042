# pgbkp's WAL record reader against PostgreSQL's own pg_waldump, on real
# segments: the same records (every LSN), the same commits and aborts (xid
# and time) and restore points; a record that continues into the next
# segment is read to its end from the next segment (the tool passes it), or
# reported as the tail when there is no next segment.

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
    pg_sql main "select pg_switch_wal()" >/dev/null
    pg_stop main

    local wal=${PG_DATA[main]}/pg_wal seg n=0 tails=0
    for seg in $(cd "$wal" && ls | grep -E '^[0-9A-F]{24}$' | sort); do
        [[ $seg > $last ]] && continue
        n=$((n + 1))
        "$TOP/tests/tools/wal-dump" "$wal/$seg" >"$ROOT/work/ours.$seg" || fail "wal-dump $seg failed"
        python3 - "$wal" "$seg" "$ROOT/work/ours.$seg" "$PGBIN/pg_waldump" >"$ROOT/work/cmp.$seg" <<'PY' || { cat "$ROOT/work/cmp.$seg"; fail "segment $seg differs from pg_waldump"; }
import re, subprocess, sys, datetime
wal, seg, ours_file, waldump = sys.argv[1:]
segsize = 16 * 1024 * 1024
segno = int(seg[8:16], 16) * (0x100000000 // segsize) + int(seg[16:24], 16)
start, end = segno * segsize, (segno + 1) * segsize
fmt = lambda l: "%X/%X" % (l >> 32, l & 0xFFFFFFFF)
# to the end of the next segment: a record crossing the boundary is read whole
out = subprocess.run([waldump, "-p", wal, "-s", fmt(start), "-e", fmt(end + segsize)], capture_output=True, text=True).stdout
theirs, commits, points = [], {}, {}
for line in out.splitlines():
    m = re.search(r"tx:\s+(\d+), lsn: ([0-9A-F]+)/([0-9A-F]+),.*desc: (\S+)(.*)", line)
    if not m:
        continue
    lsn = (int(m.group(2), 16) << 32) | int(m.group(3), 16)
    if lsn < start or lsn >= end:
        continue
    theirs.append(lsn)
    kind, rest = m.group(4), m.group(5)
    if kind in ("COMMIT", "ABORT"):
        ts = re.match(r" (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) UTC", rest).group(1)
        t = datetime.datetime.strptime(ts, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc)
        us = int(t.timestamp()) * 1000000 + t.microsecond
        commits[lsn] = (kind.lower(), int(m.group(1)), us)
    elif kind == "RESTORE_POINT":
        points[lsn] = rest.strip()
ours, ocommits, opoints, tail = [], {}, {}, None
for line in open(ours_file):
    f = line.split()
    if f[0] == "end":
        t = dict(x.split("=") for x in f[1:])
        tail = None if t["tail"] == "none" else t["tail"]
        hi, lo = t["valid_end"].split("/")
        crossing = ((int(hi, 16) << 32) | int(lo, 16)) > end
        continue
    hi, lo = f[0].split("/")
    lsn = (int(hi, 16) << 32) | int(lo, 16)
    ours.append(lsn)
    xid = int(f[3].split("=")[1])
    if len(f) > 4 and f[4] in ("commit", "abort"):
        ocommits[lsn] = (f[4], xid, int(f[5]))
    elif len(f) > 4 and f[4] == "restore-point":
        opoints[lsn] = f[5]
if tail:
    hi, lo = tail.split("/")
    ours.append((int(hi, 16) << 32) | int(lo, 16))
assert ours == theirs, "records: ours %d, pg_waldump %d; first difference at %s" % (
    len(ours), len(theirs), next((fmt(a) + " vs " + fmt(b) for a, b in zip(ours, theirs) if a != b), "the end"))
tail_lsn = ours[-1] if tail else None
expect = {k: v for k, v in commits.items() if k != tail_lsn}
assert ocommits == expect, "commits differ: %d vs %d" % (len(ocommits), len(expect))
assert opoints == {k: v for k, v in points.items() if k != tail_lsn}, (opoints, points)
print("%s: %d records, %d commits/aborts, %d restore points, tail %s, crossing %s" % (
    seg, len(ours), len(ocommits), len(opoints), tail, "yes" if crossing else "no"))
PY
        cat "$ROOT/work/cmp.$seg"
        grep -q 'crossing yes' "$ROOT/work/cmp.$seg" && tails=$((tails + 1))
    done
    [ "$n" -ge 3 ] || fail "only $n segments to compare"
    [ "$tails" -ge 1 ] || fail "no record crossed a segment boundary; the test does not cover that"
    grep -h 'restore-point rp-one' "$ROOT"/work/ours.* >/dev/null || fail "restore point not found"
    grep -h ' abort ' "$ROOT"/work/ours.* >/dev/null || fail "the rolled-back transaction's abort not found"
    grep -h 'switched=yes' "$ROOT"/work/ours.* >/dev/null || fail "the WAL switch was not seen"
}
