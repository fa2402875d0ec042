/*
 * storage-test: exercises the storage driver contract against a live S3
 * server, for tests/integration/t_s3driver.sh.  Built by `make`, never
 * installed.
 *
 *   storage-test conformance PREFIX     the whole contract (see conformance())
 *   storage-test bench PREFIX           timings of typical requests
 *   storage-test paging PREFIX COUNT    COUNT objects listed and removed (1001: two pages)
 *   storage-test put PREFIX PATH FILE   write FILE as PATH (no_overwrite with -n)
 *   storage-test get PREFIX PATH [OFFSET [LENGTH]]   PATH to stdout
 *   storage-test info PREFIX PATH
 *   storage-test ls PREFIX DIR
 *   storage-test rm PREFIX PATH
 *   storage-test rmtree PREFIX DIR
 *
 * The server comes from the environment: S3_ENDPOINT, S3_PORT, S3_REGION,
 * S3_BUCKET, S3_KEY, S3_SECRET, S3_CA_FILE (optional), and for the tests
 * S3_VERIFY_TLS (default 1), S3_RETRIES, S3_LOCK_DIR.
 *
 * Prints "ok" on success or "FAIL: reason"; a storage error exits with its
 * exit code (see exitcode.h), a failed check with 1.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "io/sha256.h"
#include "storage/s3/http.h"
#include "storage/s3/s3.h"
#include "storage/s3/xml.h"

#define MiB ((size_t) 1024 * 1024)
#define THREADS 4


/* ---------------------------------------------------------------- helpers */

static void
fail(const char *fmt,...) PGB_PRINTF(1, 2);

static void
fail(const char *fmt,...)
{
	va_list		ap;

	printf("FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(1);
}

/* Exit with the storage error's code, printing its message and hint. */
static void
die_err(const char *what, const PgbError *err)
{
	printf("FAIL: %s: %s\n", what, err->msg);
	if (err->hint[0])
		printf("HINT: %s\n", err->hint);
	fflush(stdout);
	exit(err->code ? err->code : 1);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static const char *
env(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && v[0] ? v : def;
}

static int
env_int(const char *name, int def)
{
	const char *v = getenv(name);
	char	   *end;
	long		n;

	if (v == NULL || v[0] == '\0')
		return def;
	n = strtol(v, &end, 10);
	if (*end != '\0' || n < 0 || n > 1000000)
		fail("bad %s=%s", name, v);
	return (int) n;
}

static Storage *
open_storage_with(const char *prefix, size_t part_size, int list_page_size, int upload_max_age)
{
	S3Options	o = {0};
	PgbError	err = {0};
	Storage    *s;

	o.endpoint = env("S3_ENDPOINT", NULL);
	o.port = env_int("S3_PORT", 0);
	o.region = env("S3_REGION", "us-east-1");
	o.bucket = env("S3_BUCKET", NULL);
	o.access_key = env("S3_KEY", NULL);
	o.secret_key = env("S3_SECRET", NULL);
	o.ca_file = env("S3_CA_FILE", NULL);
	o.verify_tls = env_int("S3_VERIFY_TLS", 1) != 0;
	o.retries = env_int("S3_RETRIES", 0);
	o.io_timeout = env_int("S3_IO_TIMEOUT", 0);
	o.lock_dir = env("S3_LOCK_DIR", NULL);
	o.prefix = prefix;
	o.part_size = part_size;
	o.list_page_size = list_page_size;
	o.upload_max_age = upload_max_age;
	if (o.endpoint == NULL || o.bucket == NULL || o.access_key == NULL || o.secret_key == NULL)
		fail("set S3_ENDPOINT, S3_BUCKET, S3_KEY and S3_SECRET");
	s = storage_s3_new(&o, &err);
	if (s == NULL)
		die_err("storage_s3_new", &err);
	return s;
}

static Storage *
open_storage(const char *prefix, size_t part_size, int list_page_size)
{
	return open_storage_with(prefix, part_size, list_page_size, 0);
}

static Storage *
open_storage_aged(const char *prefix, int upload_max_age)
{
	return open_storage_with(prefix, 0, 0, upload_max_age);
}

/* Deterministic content: byte i of stream seed. */
static void
fill(uint8_t *buf, size_t len, uint64_t start, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
	{
		uint64_t	x = (start + i) * 0x9E3779B97F4A7C15ULL + seed;

		buf[i] = (uint8_t) (x >> 29);
	}
}

/* Write len bytes of stream seed as path, in chunks of chunk bytes. */
static int
put_stream(Storage *s, const char *path, size_t len, uint32_t seed, size_t chunk,
		   bool no_overwrite, bool *existed, PgbError *err)
{
	StorageWrite *w = storage_open_write(s, path, err);
	uint8_t    *buf = malloc(chunk ? chunk : 1);
	size_t		done = 0;

	if (w == NULL || buf == NULL)
	{
		free(buf);
		return -1;
	}
	while (done < len)
	{
		size_t		n = len - done < chunk ? len - done : chunk;

		fill(buf, n, done, seed);
		if (storage_write(w, buf, n, err) != 0)
		{
			storage_abort(w);
			free(buf);
			return -1;
		}
		done += n;
	}
	free(buf);
	return storage_commit(w, no_overwrite, existed, err);
}

static void
put_or_die(Storage *s, const char *path, size_t len, uint32_t seed)
{
	PgbError	err = {0};
	bool		existed;

	if (put_stream(s, path, len, seed, 64 * 1024, false, &existed, &err) != 0)
		die_err(path, &err);
}

/* Read [offset, offset+length) of path and compare with stream seed. */
static void
check_range(Storage *s, const char *path, uint64_t offset, uint64_t length,
			uint64_t expect_len, uint32_t seed)
{
	PgbError	err = {0};
	StorageRead *r = storage_open_read(s, path, offset, length, &err);
	uint8_t    *got = malloc(1024 * 1024);
	uint8_t    *want = malloc(1024 * 1024);
	uint64_t	total = 0;
	size_t		chunk = 100000;	/* not a divisor of anything */

	if (r == NULL)
		die_err(path, &err);
	for (;;)
	{
		ssize_t		n = storage_read(r, got, chunk, &err);

		if (n < 0)
			die_err(path, &err);
		if (n == 0)
			break;
		fill(want, (size_t) n, offset + total, seed);
		if (memcmp(got, want, (size_t) n) != 0)
			fail("%s: wrong content in [%llu, +%zd)", path, (unsigned long long) (offset + total), n);
		total += (uint64_t) n;
	}
	storage_read_close(r);
	if (total != expect_len)
		fail("%s: read %llu bytes at %llu, expected %llu", path, (unsigned long long) total,
			 (unsigned long long) offset, (unsigned long long) expect_len);
	free(got);
	free(want);
}

static StorageInfo
info_or_die(Storage *s, const char *path)
{
	PgbError	err = {0};
	StorageInfo info;

	if (storage_info(s, path, &info, &err) != 0)
		die_err(path, &err);
	return info;
}

static void
step(const char *name, double t0)
{
	printf("# %-40s %8.1f ms\n", name, now_ms() - t0);
	fflush(stdout);
}

/* ---------------------------------------------------------------- conformance steps */

static void
test_small(Storage *s)
{
	PgbError	err = {0};
	uint8_t    *data;
	size_t		len;
	StorageInfo info;
	StorageRead *r;

	put_or_die(s, "a/one", 5, 1);
	check_range(s, "a/one", 0, 0, 5, 1);
	info = info_or_die(s, "a/one");
	if (!info.exists || info.size != 5 || info.mtime < time(NULL) - 3600)
		fail("info of a/one: exists %d size %llu mtime %lld", info.exists,
			 (unsigned long long) info.size, (long long) info.mtime);
	if (storage_read_all(s, "a/one", 100, &data, &len, &err) != 0 || len != 5)
		die_err("read_all a/one", &err);
	free(data);

	/* empty object */
	put_or_die(s, "a/empty", 0, 2);
	check_range(s, "a/empty", 0, 0, 0, 2);
	info = info_or_die(s, "a/empty");
	if (!info.exists || info.size != 0)
		fail("info of a/empty");

	/* missing: NOT_FOUND on open, exists=false on info */
	r = storage_open_read(s, "a/missing", 0, 0, &err);
	if (r != NULL || err.code != EXIT_NOT_FOUND)
		fail("open_read of a missing object: code %d (%s)", err.code, err.msg);
	memset(&err, 0, sizeof(err));
	r = storage_open_read(s, "a/missing", 10, 3, &err);
	if (r != NULL || err.code != EXIT_NOT_FOUND)
		fail("ranged open_read of a missing object: code %d (%s)", err.code, err.msg);
	info = info_or_die(s, "a/missing");
	if (info.exists)
		fail("info says a missing object exists");

	/* names that need encoding, in the path and in listings */
	put_or_die(s, "a/odd name+plus=eq&amp;\xc3\xa9.txt", 10, 3);
	check_range(s, "a/odd name+plus=eq&amp;\xc3\xa9.txt", 2, 5, 5, 3);
}

static void
test_ranges(Storage *s)
{
	/* 3 MiB + 17: one part; windows of 8 MiB need a multipart-sized object below */
	size_t		size = 3 * MiB + 17;
	uint64_t	offsets[] = {0, 1, 4095, 4096, MiB, size - 1};
	PgbError	err = {0};
	StorageRead *r;
	uint8_t		b[16];

	put_or_die(s, "r/three", size, 7);
	for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++)
	{
		uint64_t	o = offsets[i];
		uint64_t	len = size - o < 1000 ? size - o : 1000;

		check_range(s, "r/three", o, len, len, 7);	/* exact length */
		check_range(s, "r/three", o, 0, size - o, 7);	/* to the end */
	}
	/* at and past the end: nothing */
	check_range(s, "r/three", size, 0, 0, 7);
	check_range(s, "r/three", size + 100, 0, 0, 7);
	/* a length past the end: EXIT_CORRUPT when the data runs out */
	r = storage_open_read(s, "r/three", size - 10, 20, &err);
	if (r == NULL)
		die_err("open past end", &err);
	while (storage_read(r, b, sizeof(b), &err) > 0)
		;
	if (err.code != EXIT_CORRUPT)
		fail("reading past the end: code %d (%s), expected %d", err.code, err.msg, EXIT_CORRUPT);
	storage_read_close(r);
}

static void
test_no_overwrite(Storage *s)
{
	PgbError	err = {0};
	bool		existed = false;

	if (put_stream(s, "a/one", 9, 99, 4, true, &existed, &err) != 0)
		die_err("no_overwrite commit", &err);
	if (!existed)
		fail("no_overwrite over an existing object did not report existed");
	check_range(s, "a/one", 0, 0, 5, 1);
	if (put_stream(s, "a/two", 9, 4, 4, true, &existed, &err) != 0)
		die_err("no_overwrite commit of a new object", &err);
	if (existed)
		fail("no_overwrite of a new object reported existed");
	check_range(s, "a/two", 0, 0, 9, 4);
	/* without no_overwrite, replace */
	put_or_die(s, "a/two", 11, 5);
	check_range(s, "a/two", 0, 0, 11, 5);
}

static void
test_list(Storage *s)
{
	PgbError	err = {0};
	StorageList l;
	const char *want[] = {"empty", "odd name+plus=eq&amp;\xc3\xa9.txt", "one", "sub", "two"};

	put_or_die(s, "a/sub/x", 3, 6);
	put_or_die(s, "a/sub/deeper/y", 3, 6);
	put_or_die(s, "a/.hidden", 3, 6);
	if (storage_list(s, "a", &l, &err) != 0)
		die_err("list a", &err);
	if (l.count != 5)
		fail("list a: %d entries, expected 5", l.count);
	for (int i = 0; i < l.count; i++)
		if (strcmp(l.items[i].name, want[i]) != 0)
			fail("list a: entry %d is \"%s\", expected \"%s\"", i, l.items[i].name, want[i]);
	if (!l.items[3].is_dir || l.items[2].is_dir || l.items[2].size != 5 || l.items[2].mtime <= 0)
		fail("list a: wrong kind, size or mtime");
	storage_list_free(&l);
	if (storage_list(s, "a/sub/", &l, &err) != 0 || l.count != 2 ||
		strcmp(l.items[0].name, "deeper") != 0 || strcmp(l.items[1].name, "x") != 0)
		fail("list a/sub/: %d entries (%s)", l.count, err.msg);
	storage_list_free(&l);
	if (storage_list(s, "nothing/here", &l, &err) != 0 || l.count != 0)
		fail("list of a missing directory: %d entries (%s)", l.count, err.msg);
	storage_list_free(&l);
}

typedef struct Worker
{
	Storage    *s;
	int			id;
	int			first;
	int			count;
	size_t		size;
	char		error[PGB_ERRMSG_MAX + 128];
} Worker;

static void *
many_writer(void *arg)
{
	Worker	   *w = arg;
	PgbError	err = {0};
	bool		existed;

	for (int i = w->first; i < w->first + w->count; i++)
	{
		char		path[64];

		snprintf(path, sizeof(path), "many/f%05d", i);
		if (put_stream(w->s, path, w->size, (uint32_t) i, 4096, false, &existed, &err) != 0)
		{
			snprintf(w->error, sizeof(w->error), "%s: %s", path, err.msg);
			return NULL;
		}
	}
	return NULL;
}

static void
run_workers(Storage *s, int total, size_t size, void *(*fn) (void *))
{
	pthread_t	t[THREADS];
	Worker		w[THREADS];
	int			per = (total + THREADS - 1) / THREADS;

	for (int i = 0; i < THREADS; i++)
	{
		w[i] = (Worker) {.s = s, .id = i, .first = i * per, .size = size};
		w[i].count = (i + 1) * per > total ? total - i * per : per;
		if (pthread_create(&t[i], NULL, fn, &w[i]) != 0)
			fail("pthread_create");
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < THREADS; i++)
		if (w[i].error[0])
			fail("thread %d: %s", i, w[i].error);
}

/*
 * count objects under many/, listed and removed in pages of page_size keys
 * (0: the server's 1000), so continuation tokens are followed.
 */
static void
test_paging(const char *prefix, int count, int page_size)
{
	Storage    *s = open_storage(prefix, 0, page_size);
	PgbError	err = {0};
	StorageList l;
	double		t0 = now_ms();

	run_workers(s, count, 10, many_writer);
	step("small PUTs from 4 threads", t0);
	/* directories (common prefixes) count in a page too */
	put_or_die(s, "many/d0/z", 1, 1);
	put_or_die(s, "many/d1/y/z", 1, 1);
	put_or_die(s, "many/d2/z", 1, 1);
	t0 = now_ms();
	if (storage_list(s, "many", &l, &err) != 0)
		die_err("list many", &err);
	step("paged list", t0);
	if (l.count != count + 3)
		fail("list many: %d entries, expected %d", l.count, count + 3);
	for (int i = 0; i < l.count; i++)
	{
		char		want[32];

		if (i < 3)
			snprintf(want, sizeof(want), "d%d", i);
		else
			snprintf(want, sizeof(want), "f%05d", i - 3);
		if (strcmp(l.items[i].name, want) != 0 || l.items[i].is_dir != (i < 3) ||
			(i >= 3 && l.items[i].size != 10))
			fail("list many: entry %d is \"%s\"", i, l.items[i].name);
	}
	storage_list_free(&l);
	t0 = now_ms();
	if (storage_remove_tree(s, "many", &err) != 0)
		die_err("remove_tree many", &err);
	step("paged remove_tree", t0);
	if (storage_list(s, "many", &l, &err) != 0 || l.count != 0)
		fail("list many after remove_tree: %d entries (%s)", l.count, err.msg);
	storage_list_free(&l);
	storage_free(s);
}

static void
test_remove(Storage *s)
{
	PgbError	err = {0};
	StorageList l;

	if (storage_remove(s, "a/two", &err) != 0)
		die_err("remove a/two", &err);
	if (info_or_die(s, "a/two").exists)
		fail("a/two still exists after remove");
	if (storage_remove(s, "a/two", &err) != 0)
		die_err("remove of a missing object", &err);
	if (storage_remove_tree(s, "a", &err) != 0)
		die_err("remove_tree a", &err);
	if (storage_list(s, "a", &l, &err) != 0 || l.count != 0)
		fail("list a after remove_tree: %d entries", l.count);
	storage_list_free(&l);
	if (storage_remove_tree(s, "a", &err) != 0)
		die_err("remove_tree of a missing directory", &err);
}

/*
 * In-progress multipart uploads whose key contains sub (-1: not supported);
 * with print, also print each such key after sub.
 */
static int
list_uploads(const char *sub, bool print)
{
	S3HttpConfig c = {0};
	PgbError	err = {0};
	S3Http	   *h;
	S3Request	req = {.method = "GET", .op = "list uploads", .query = "uploads"};
	S3Response	resp;
	XmlDoc	   *doc = NULL;
	XmlNode		root;
	XmlNode		up = {0};
	int			n = 0;
	const char *ep = env("S3_ENDPOINT", "");

	c.https = strncmp(ep, "http://", 7) != 0;
	c.host = strstr(ep, "://") ? strstr(ep, "://") + 3 : ep;
	c.port = env_int("S3_PORT", 0);
	c.region = env("S3_REGION", "us-east-1");
	c.bucket = env("S3_BUCKET", "");
	c.access_key = env("S3_KEY", "");
	c.secret_key = env("S3_SECRET", "");
	c.ca_file = env("S3_CA_FILE", NULL);
	c.verify_tls = env_int("S3_VERIFY_TLS", 1) != 0;
	if ((h = s3_http_new(&c, &err)) == NULL || s3_http_send(h, &req, &resp, &err) != 0)
		die_err("list uploads", &err);
	if (resp.status == 501 || resp.status == 405)
		n = -1;
	else if (resp.status != 200 || (doc = xml_parse(resp.body.buf, resp.body.len, &root, &err)) == NULL)
		fail("list uploads: HTTP %ld %s", resp.status, err.msg);
	else
	{
		while (xml_next(&root, "Upload", &up))
		{
			char	   *key = NULL;

			if (xml_child_text(&up, "Key", 0, &key, &err) == 1 && strstr(key, sub))
			{
				n++;
				if (print)
					printf("%s\n", strstr(key, sub) + strlen(sub));
			}
			free(key);
		}
	}
	xml_free(doc);
	s3_response_free(&resp);
	s3_http_free(h);
	return n;
}

static void
test_multipart(const char *prefix)
{
	Storage    *s = open_storage(prefix, 5 * MiB, 0);
	PgbError	err = {0};
	StorageWrite *w;
	uint8_t    *buf = malloc(12 * MiB);
	size_t		size = 12 * MiB;
	bool		existed;
	char		upkey[512];
	int			n;
	double		t0 = now_ms();

	/* odd chunk sizes across part boundaries */
	if (put_stream(s, "mp/twelve", size, 11, 777777, false, &existed, &err) != 0)
		die_err("multipart write", &err);
	step("12 MiB multipart PUT (3 parts)", t0);
	if (info_or_die(s, "mp/twelve").size != size)
		fail("multipart object has the wrong size");
	t0 = now_ms();
	check_range(s, "mp/twelve", 0, 0, size, 11);	/* two 8 MiB windows */
	step("12 MiB GET (2 windows)", t0);
	check_range(s, "mp/twelve", 8 * MiB - 10, 100, 100, 11);	/* across windows */
	check_range(s, "mp/twelve", 5 * MiB - 3, 7 * MiB + 3, 7 * MiB + 3, 11);	/* up to the end */
	check_range(s, "mp/twelve", 5 * MiB - 3, 0, 7 * MiB + 3, 11);

	/* exactly one part: a single PUT */
	put_or_die(s, "mp/five", 5 * MiB, 12);
	check_range(s, "mp/five", 0, 0, 5 * MiB, 12);

	/* no_overwrite over it: reported, nothing replaced, no upload left */
	if (put_stream(s, "mp/twelve", size, 13, MiB, true, &existed, &err) != 0 || !existed)
		fail("multipart no_overwrite over an existing object: existed %d (%s)", existed, err.msg);
	check_range(s, "mp/twelve", 0, 4096, 4096, 11);

	/* abort after parts went out: nothing visible, no upload in progress */
	w = storage_open_write(s, "mp/aborted", &err);
	if (w == NULL)
		die_err("open_write", &err);
	fill(buf, size, 0, 14);
	if (storage_write(w, buf, size, &err) != 0)
		die_err("write", &err);
	snprintf(upkey, sizeof(upkey), "%s/mp/", prefix[0] == '/' ? prefix + 1 : prefix);
	n = list_uploads(upkey, false);
	if (n == 0)
		fail("no multipart upload in progress after writing 12 MiB with 5 MiB parts");
	if (info_or_die(s, "mp/aborted").exists)
		fail("an uncommitted multipart upload is visible");
	storage_abort(w);
	if (info_or_die(s, "mp/aborted").exists)
		fail("an aborted multipart upload is visible");
	n = list_uploads(upkey, false);
	if (n > 0)
		fail("%d multipart uploads left in progress under %s", n, upkey);
	printf("# multipart uploads in progress after abort: %s\n", n < 0 ? "not listable here" : "none");
	if (storage_remove_tree(s, "mp", &err) != 0)
		die_err("remove_tree mp", &err);
	free(buf);
	storage_free(s);
}

static void *
mixed_writer(void *arg)
{
	Worker	   *w = arg;
	PgbError	err = {0};
	bool		existed;

	for (int i = 0; i < w->count; i++)
	{
		char		path[64];
		size_t		size = i == 0 ? 11 * MiB : 100 * 1024 + (size_t) i;
		uint32_t	seed = (uint32_t) (w->id * 1000 + i);

		snprintf(path, sizeof(path), "conc/t%d/o%d", w->id, i);
		if (put_stream(w->s, path, size, seed, 65536, false, &existed, &err) != 0)
		{
			snprintf(w->error, sizeof(w->error), "%s: %s", path, err.msg);
			return NULL;
		}
		check_range(w->s, path, 0, 0, size, seed);
	}
	return NULL;
}

static void
test_concurrent(const char *prefix)
{
	Storage    *s = open_storage(prefix, 5 * MiB, 0);
	PgbError	err = {0};
	double		t0 = now_ms();

	run_workers(s, THREADS * 10, 0, mixed_writer);
	step("4 threads x (1 multipart + 9 small) + reads", t0);
	if (storage_remove_tree(s, "conc", &err) != 0)
		die_err("remove_tree conc", &err);
	storage_free(s);
}

static void
test_lock(Storage *s)
{
	PgbError	err = {0};
	StorageLock *l1 = storage_lock(s, "lock/backup", "first holder", &err);
	StorageLock *l2;
	char		holder[64];
	int			held;

	if (l1 == NULL)
		die_err("lock", &err);
	l2 = storage_lock(s, "lock/backup", "second holder", &err);
	if (l2 != NULL || err.code != EXIT_LOCKED || strstr(err.msg, "first holder") == NULL)
		fail("a second lock: code %d (%s)", err.code, err.msg);
	/* held by this process: the lease is fresh and this host's lock file is taken */
	if ((held = storage_lock_probe(s, "lock/backup", holder, sizeof(holder), &err)) != 1 ||
		strcmp(holder, "first holder") != 0)
		fail("probe of a held lock: %d \"%s\" (%s)", held, holder, err.msg);
	storage_unlock(l1);
	if ((held = storage_lock_probe(s, "lock/backup", holder, sizeof(holder), &err)) != 0)
		fail("probe of a released lock: %d (%s)", held, err.msg);
	if ((l2 = storage_lock(s, "lock/backup", "second holder", &err)) == NULL)
		die_err("lock after unlock", &err);
	storage_unlock(l2);
}

static int
conformance(const char *prefix)
{
	Storage    *s = open_storage(prefix, 0, 0);
	PgbError	err = {0};
	StorageList l;
	double		t0;

	if (strncmp(storage_description(s), "s3://", 5) != 0)
		fail("description \"%s\"", storage_description(s));
	t0 = now_ms();
	test_small(s);
	step("small objects", t0);
	t0 = now_ms();
	test_ranges(s);
	step("ranged reads", t0);
	test_no_overwrite(s);
	test_list(s);
	test_paging(prefix, 45, 10);
	test_remove(s);
	test_multipart(prefix);
	test_concurrent(prefix);
	test_lock(s);
	if (storage_remove_tree(s, "", &err) != 0 || storage_list(s, "", &l, &err) != 0)
		die_err("cleanup", &err);
	if (l.count != 0)
		fail("%d entries left under the prefix", l.count);
	storage_list_free(&l);
	storage_free(s);
	printf("ok\n");
	return 0;
}

static int
bench(const char *prefix)
{
	Storage    *s = open_storage(prefix, 0, 0);
	PgbError	err = {0};
	double		t0;
	int			n = 50;

	put_or_die(s, "warm", 1, 1);	/* connection opened */
	t0 = now_ms();
	put_or_die(s, "big", 16 * MiB, 2);
	step("16 MiB PUT (one request)", t0);
	t0 = now_ms();
	put_or_die(s, "big17", 17 * MiB, 2);
	step("17 MiB PUT (multipart, 2 parts)", t0);
	t0 = now_ms();
	check_range(s, "big", 0, 0, 16 * MiB, 2);
	step("16 MiB GET (2 windows)", t0);
	t0 = now_ms();
	for (int i = 0; i < n; i++)
		put_or_die(s, "small", 100, (uint32_t) i);
	printf("# %-40s %8.2f ms\n", "small PUT, reused connection (mean)", (now_ms() - t0) / n);
	t0 = now_ms();
	for (int i = 0; i < n; i++)
		info_or_die(s, "small");
	printf("# %-40s %8.2f ms\n", "HEAD, reused connection (mean)", (now_ms() - t0) / n);
	if (storage_remove_tree(s, "", &err) != 0)
		die_err("cleanup", &err);
	storage_free(s);
	printf("ok\n");
	return 0;
}

/* ---------------------------------------------------------------- single operations */

static int
cmd_put(const char *prefix, const char *path, const char *file, bool no_overwrite)
{
	Storage    *s = open_storage(prefix, 0, 0);
	PgbError	err = {0};
	FILE	   *f = fopen(file, "rb");
	StorageWrite *w;
	char		buf[65536];
	size_t		n;
	bool		existed = false;

	if (f == NULL)
		fail("cannot open %s: %s", file, strerror(errno));
	if ((w = storage_open_write(s, path, &err)) == NULL)
		die_err("open_write", &err);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		if (storage_write(w, buf, n, &err) != 0)
			die_err("write", &err);
	fclose(f);
	if (storage_commit(w, no_overwrite, &existed, &err) != 0)
		die_err("commit", &err);
	printf("%s\n", existed ? "existed" : "ok");
	storage_free(s);
	return 0;
}

static int
cmd_get(const char *prefix, const char *path, uint64_t offset, uint64_t length)
{
	Storage    *s = open_storage(prefix, 0, 0);
	PgbError	err = {0};
	StorageRead *r = storage_open_read(s, path, offset, length, &err);
	char		buf[65536];
	ssize_t		n;

	if (r == NULL)
		die_err("open_read", &err);
	while ((n = storage_read(r, buf, sizeof(buf), &err)) > 0)
		fwrite(buf, 1, (size_t) n, stdout);
	if (n < 0)
		die_err("read", &err);
	storage_read_close(r);
	storage_free(s);
	return 0;
}

static int
cmd_simple(const char *cmd, const char *prefix, const char *path)
{
	Storage    *s = open_storage(prefix, 0, 0);
	PgbError	err = {0};
	int			rc = 0;

	if (strcmp(cmd, "info") == 0)
	{
		StorageInfo i;

		if ((rc = storage_info(s, path, &i, &err)) == 0)
			printf("exists=%d size=%llu mtime=%lld\n", i.exists, (unsigned long long) i.size, (long long) i.mtime);
	}
	else if (strcmp(cmd, "ls") == 0)
	{
		StorageList l;

		if ((rc = storage_list(s, path, &l, &err)) == 0)
		{
			for (int i = 0; i < l.count; i++)
				printf("%s%s %llu\n", l.items[i].name, l.items[i].is_dir ? "/" : "",
					   (unsigned long long) l.items[i].size);
			storage_list_free(&l);
		}
	}
	else if (strcmp(cmd, "rm") == 0)
		rc = storage_remove(s, path, &err);
	else if (strcmp(cmd, "rmtree") == 0)
		rc = storage_remove_tree(s, path, &err);
	if (rc != 0)
		die_err(cmd, &err);
	storage_free(s);
	return 0;
}

static uint64_t
parse_u64(const char *s)
{
	char	   *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (*end != '\0' || end == s)
		fail("not a number: %s", s);
	return v;
}

int
main(int argc, char **argv)
{
	bool		no_overwrite = false;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && strcmp(argv[1], "-n") == 0)
	{
		no_overwrite = true;
		argv++;
		argc--;
	}
	if (argc < 3)
	{
		fprintf(stderr, "usage: storage-test conformance|bench|paging|uploads|lock|lock-commit|clean-temps|put|get|info|ls|rm|rmtree PREFIX [ARGS]\n");
		return 2;
	}
	if (strcmp(argv[1], "conformance") == 0)
		return conformance(argv[2]);
	if (strcmp(argv[1], "bench") == 0)
		return bench(argv[2]);
	if (strcmp(argv[1], "paging") == 0 && argc == 4)
	{
		test_paging(argv[2], (int) parse_u64(argv[3]), 0);
		printf("ok\n");
		return 0;
	}
	if (strcmp(argv[1], "uploads") == 0 && argc == 3)
	{
		/* the keys (after PREFIX/) of the multipart uploads in progress */
		char		sub[1024];

		snprintf(sub, sizeof(sub), "%s/", argv[2][0] == '/' ? argv[2] + 1 : argv[2]);
		return list_uploads(sub, true) < 0 ? 1 : 0;
	}
	if (strcmp(argv[1], "lock") == 0 && argc == 5)
	{
		/* take the lock PATH, hold it SECONDS, release; exit 8 when it is taken */
		Storage    *st = open_storage(argv[2], 0, 0);
		PgbError	err = {0};
		StorageLock *l = storage_lock(st, argv[3], "storage-test", &err);

		if (l == NULL)
		{
			fprintf(stderr, "lock: %s\n", err.msg);
			storage_free(st);
			return err.code;
		}
		printf("locked\n");
		sleep((unsigned) parse_u64(argv[4]));
		storage_unlock(l);
		storage_free(st);
		printf("released\n");
		return 0;
	}
	if (strcmp(argv[1], "lock-commit") == 0 && argc == 6)
	{
		/*
		 * take the lock LOCKPATH; once GOFILE exists, commit OBJPATH (its
		 * content "data") and release: exit 8 when the lock turns out to be
		 * someone else's, before anything is committed
		 */
		Storage    *st = open_storage(argv[2], 0, 0);
		PgbError	err = {0};
		StorageLock *l = storage_lock(st, argv[3], "storage-test", &err);
		StorageWrite *w;
		bool		existed = false;
		int			rc = 0;

		if (l == NULL)
		{
			fprintf(stderr, "lock: %s\n", err.msg);
			storage_free(st);
			return err.code;
		}
		printf("locked\n");
		fflush(stdout);
		for (int i = 0; i < 600 && access(argv[5], F_OK) != 0; i++)
			usleep(50 * 1000);
		if ((w = storage_open_write(st, argv[4], &err)) == NULL ||
			storage_write(w, "data", 4, &err) != 0 ||
			storage_commit(w, true, &existed, &err) != 0)
		{
			fprintf(stderr, "commit: %s\n", err.msg);
			rc = err.code;
		}
		else
			printf("committed\n");
		storage_unlock(l);
		storage_free(st);
		return rc;
	}
	if (strcmp(argv[1], "clean-temps") == 0 && argc == 5)
	{
		/* storage_clean_temps of DIR (recursive), uploads older than MAXAGE seconds (-1: any) */
		Storage    *st = open_storage_aged(argv[2], (int) strtol(argv[4], NULL, 10));
		int			n = storage_clean_temps(st, argv[3], true);

		printf("%d\n", n);
		storage_free(st);
		return 0;
	}
	if (strcmp(argv[1], "put") == 0 && argc == 5)
		return cmd_put(argv[2], argv[3], argv[4], no_overwrite);
	if (strcmp(argv[1], "get") == 0 && argc >= 4 && argc <= 6)
		return cmd_get(argv[2], argv[3], argc > 4 ? parse_u64(argv[4]) : 0,
					   argc > 5 ? parse_u64(argv[5]) : 0);
	if (argc == 4 && (strcmp(argv[1], "info") == 0 || strcmp(argv[1], "ls") == 0 ||
					  strcmp(argv[1], "rm") == 0 || strcmp(argv[1], "rmtree") == 0))
		return cmd_simple(argv[1], argv[2], argv[3]);
	fprintf(stderr, "storage-test: bad arguments\n");
	return 2;
}
