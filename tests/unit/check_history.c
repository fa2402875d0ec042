/*
 * Unit tests for the job history kept in the repository
 * (src/repo/history.c, on a posix storage in a temporary directory) and for
 * the scheduler's Prometheus metrics (src/sched/metrics.c: the renderer,
 * and the HTTP server fetched with libcurl on a loopback port).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>

#include "common/fileio.h"
#include "repo/history.h"
#include "repo/objio.h"
#include "sched/metrics_server.h"
#include "storage/posix.h"
#include "harness.h"

static char tmpdir[256];
static char root[320];
static Repo *repo;

static void
setup(void)
{
	PgbError	err = {0};

	harness_tmpdir("history", tmpdir, sizeof(tmpdir));
	snprintf(root, sizeof(root), "%s/repo", tmpdir);
	repo = calloc(1, sizeof(Repo));
	ck_assert(repo != NULL);
	repo->storage = storage_posix_new(root, &err);
	ck_assert_msg(repo->storage != NULL, "%s", err.msg);
	snprintf(repo->name, sizeof(repo->name), "default");
	snprintf(repo->cluster, sizeof(repo->cluster), "pg-test");
}

static void
teardown(void)
{
	repo_free(repo);
	repo = NULL;
	harness_rmtree(tmpdir);
}

/* ------------------------------------------------------------ helpers */

static JobRecord
record(const char *job, const char *node, TimestampUs start, const char *outcome)
{
	JobRecord	r;

	memset(&r, 0, sizeof(r));
	snprintf(r.job, sizeof(r.job), "%s", job);
	snprintf(r.command, sizeof(r.command), "backup");
	snprintf(r.type, sizeof(r.type), "full");
	snprintf(r.node, sizeof(r.node), "%s", node);
	r.start = start;
	r.end = start + 5000000;
	snprintf(r.outcome, sizeof(r.outcome), "%s", outcome);
	return r;
}

static void
append_ok(const JobRecord *r)
{
	PgbError	err = {0};

	ck_assert_msg(history_append(repo, r, &err) == 0, "%s", err.msg);
}

static JobRecord *
list_ok(int max, int *n)
{
	PgbError	err = {0};
	JobRecord  *out = NULL;

	ck_assert_msg(history_list(repo, max, &out, n, &err) == 0, "%s", err.msg);
	return out;
}

/* Names in <root>/pg-test/history (sorted), as one comma-separated string. */
static void
history_names(char *buf, size_t len)
{
	PgbError	err = {0};
	StorageList l;

	buf[0] = '\0';
	ck_assert_msg(storage_list(repo->storage, "pg-test/history", &l, &err) == 0, "%s", err.msg);
	for (int i = 0; i < l.count; i++)
	{
		strncat(buf, l.items[i].name, len - strlen(buf) - 1);
		if (i + 1 < l.count)
			strncat(buf, ",", len - strlen(buf) - 1);
	}
	storage_list_free(&l);
}

/* 2026-11-25 21:38:58 UTC + usec */
#define T0 ((TimestampUs) 1795642738 * 1000000)

/* ------------------------------------------------------------ history */

START_TEST(test_append_list_order)
{
	JobRecord	a = record("backup-full", "pg-test-1", T0, "ok");
	JobRecord	b = record("verify", "pg-test-1", T0 + 3600 * 1000000LL, "failed");
	JobRecord	c = record("backup-incr", "pg-test-2", T0 + 60 * 1000000LL, "skipped");
	JobRecord  *out;
	int			n;

	/* written out of order: listing is by start time, newest first */
	append_ok(&a);
	append_ok(&b);
	append_ok(&c);
	out = list_ok(0, &n);
	ck_assert_int_eq(n, 3);
	ck_assert_str_eq(out[0].job, "verify");
	ck_assert_str_eq(out[0].outcome, "failed");
	ck_assert_str_eq(out[1].job, "backup-incr");
	ck_assert_str_eq(out[1].node, "pg-test-2");
	ck_assert_str_eq(out[2].job, "backup-full");
	ck_assert(out[2].start == T0);
	history_free(out);

	out = list_ok(2, &n);
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(out[0].job, "verify");
	ck_assert_str_eq(out[1].job, "backup-incr");
	history_free(out);

	out = list_ok(10, &n);
	ck_assert_int_eq(n, 3);
	history_free(out);
}
END_TEST

START_TEST(test_list_empty)
{
	JobRecord  *out;
	int			n = -1;

	out = list_ok(0, &n);
	ck_assert_int_eq(n, 0);
	ck_assert_ptr_null(out);
	history_free(out);
}
END_TEST

START_TEST(test_prune)
{
	PgbError	err = {0};
	JobRecord  *out;
	int			n;
	char		names[2048];

	for (int i = 0; i < 5; i++)
	{
		JobRecord	r = record("backup-full", "pg-test-1", T0 + i * 1000000LL, "ok");

		r.exit_code = i;
		append_ok(&r);
	}
	ck_assert_int_eq(history_prune(repo, 10, &err), 0);
	ck_assert_int_eq(history_prune(repo, 2, &err), 3);
	out = list_ok(0, &n);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(out[0].exit_code, 4);
	ck_assert_int_eq(out[1].exit_code, 3);
	history_free(out);
	history_names(names, sizeof(names));
	ck_assert_str_eq(names,
					 "20261125-213901.000000-pg-test-1-backup-full.json,"
					 "20261125-213902.000000-pg-test-1-backup-full.json");

	ck_assert_int_eq(history_prune(repo, 0, &err), 2);
	out = list_ok(0, &n);
	ck_assert_int_eq(n, 0);
	history_free(out);
	ck_assert_int_eq(history_prune(repo, -1, &err), -1);
	ck_assert_int_eq(err.code, EXIT_INTERNAL);
}
END_TEST

START_TEST(test_name_sanitising)
{
	JobRecord	r = record("../../etc/passwd", "pg test/1\n\xc3\xa9", T0 + 123456, "ok");
	char		name[256];
	char		names[1024];
	JobRecord  *out;
	int			n;

	ck_assert_int_eq(history_object_name(&r, name, sizeof(name)), 0);
	ck_assert_str_eq(name, "20261125-213858.123456-pg_test_1___-.._.._etc_passwd.json");
	append_ok(&r);
	history_names(names, sizeof(names));
	ck_assert_str_eq(names, name);
	/* the content keeps the real names */
	out = list_ok(0, &n);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(out[0].job, "../../etc/passwd");
	ck_assert_str_eq(out[0].node, "pg test/1\n\xc3\xa9");
	history_free(out);

	/* empty node; no start: the end names the record */
	r = record("check", "", 0, "ok");
	r.end = T0;
	ck_assert_int_eq(history_object_name(&r, name, sizeof(name)), 0);
	ck_assert_str_eq(name, "20261125-213858.000000-unknown-check.json");
}
END_TEST

START_TEST(test_same_name_gets_counter)
{
	JobRecord	r = record("backup-full", "pg-test-1", T0, "ok");
	char		names[2048];
	JobRecord  *out;
	int			n;

	append_ok(&r);
	r.exit_code = 1;
	append_ok(&r);
	r.exit_code = 2;
	append_ok(&r);
	history_names(names, sizeof(names));
	ck_assert_str_eq(names,
					 "20261125-213858.000000-pg-test-1-backup-full.2.json,"
					 "20261125-213858.000000-pg-test-1-backup-full.3.json,"
					 "20261125-213858.000000-pg-test-1-backup-full.json");
	out = list_ok(0, &n);
	ck_assert_int_eq(n, 3);
	history_free(out);
}
END_TEST

START_TEST(test_append_validation)
{
	PgbError	err = {0};
	JobRecord	r = record("backup-full", "pg-test-1", T0, "unreadable");

	ck_assert_int_eq(history_append(repo, &r, &err), -1);
	ck_assert_int_eq(err.code, EXIT_INTERNAL);
	ck_assert_msg(strstr(err.msg, "unknown outcome") != NULL, "%s", err.msg);
	pgb_error_clear(&err);
	r = record("", "pg-test-1", T0, "ok");
	ck_assert_int_eq(history_append(repo, &r, &err), -1);
	ck_assert_int_eq(err.code, EXIT_INTERNAL);
}
END_TEST

/* Flip one byte in the middle of the object file on disk. */
static void
damage(const char *name)
{
	char		path[1024];
	int			fd;
	off_t		size;
	unsigned char c;

	snprintf(path, sizeof(path), "%s/pg-test/history/%s", root, name);
	fd = open(path, O_RDWR);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	size = lseek(fd, 0, SEEK_END);
	ck_assert(size > 70);
	ck_assert(pread(fd, &c, 1, size - 40) == 1);
	c ^= 0x20;
	ck_assert(pwrite(fd, &c, 1, size - 40) == 1);
	close(fd);
}

START_TEST(test_damaged_record_listed_as_unreadable)
{
	JobRecord	a = record("backup-full", "pg-test-1", T0, "ok");
	JobRecord	b = record("verify", "pg-test-1", T0 + 1000000, "ok");
	JobRecord	c = record("expire", "pg-test-1", T0 + 2000000, "ok");
	char		name[256];
	JobRecord  *out;
	int			n;
	PgbError	err = {0};
	bool		existed;
	const char *junk = "{\"format\":1,\"job\":\"x\"}";

	append_ok(&a);
	append_ok(&b);
	append_ok(&c);
	ck_assert_int_eq(history_object_name(&b, name, sizeof(name)), 0);
	damage(name);
	/* a well-formed object with a malformed record, and names that are not records */
	ck_assert(objio_put_mem(repo->storage, "pg-test/history/20261125-213859.500000-x-y.json", OBJECT_KIND_INFO, 3,
							junk, strlen(junk), true, &existed, NULL, &err) == 0);
	ck_assert(objio_put_mem(repo->storage, "pg-test/history/README.json", OBJECT_KIND_INFO, 3,
							"{}", 2, true, &existed, NULL, &err) == 0);
	ck_assert(objio_put_mem(repo->storage, "pg-test/history/20261125-213900.000000-x-y.txt", OBJECT_KIND_INFO, 3,
							"{}", 2, true, &existed, NULL, &err) == 0);

	out = list_ok(0, &n);
	ck_assert_int_eq(n, 4);
	ck_assert_str_eq(out[0].job, "expire");
	ck_assert_str_eq(out[1].outcome, HISTORY_OUTCOME_UNREADABLE);	/* 21:38:59.5 junk */
	ck_assert_msg(strstr(out[1].message, "malformed job record") != NULL, "%s", out[1].message);
	ck_assert_str_eq(out[1].job, "");
	ck_assert(out[1].start == T0 + 1500000);
	ck_assert_str_eq(out[2].outcome, HISTORY_OUTCOME_UNREADABLE);	/* damaged verify */
	ck_assert_int_eq(out[2].exit_code, EXIT_CORRUPT);
	ck_assert(out[2].start == T0 + 1000000);
	ck_assert_msg(strncmp(out[2].message, name, strlen(name)) == 0, "%s", out[2].message);
	ck_assert_str_eq(out[3].job, "backup-full");
	history_free(out);

	/* unreadable records count against max and are pruned like others */
	out = list_ok(2, &n);
	ck_assert_int_eq(n, 2);
	history_free(out);
	ck_assert_int_eq(history_prune(repo, 1, &err), 3);
	out = list_ok(0, &n);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(out[0].job, "expire");
	history_free(out);
}
END_TEST

START_TEST(test_json_round_trip)
{
	JobRecord	r;
	JobRecord	back;
	PgbError	err = {0};
	char	   *text;

	memset(&r, 0, sizeof(r));
	snprintf(r.job, sizeof(r.job), "backup-diff");
	snprintf(r.command, sizeof(r.command), "backup");
	snprintf(r.type, sizeof(r.type), "diff");
	snprintf(r.node, sizeof(r.node), "pg-test-2");
	r.start = 1795643732681612;
	r.end = 1795643790112233;
	snprintf(r.outcome, sizeof(r.outcome), "failed");
	r.exit_code = 7;
	r.bytes = (uint64_t) 5 << 40;
	snprintf(r.label, sizeof(r.label), "20261125-213858D");
	snprintf(r.message, sizeof(r.message), "could not connect to \"pg-test-2\": C:\\path</x> caf\xc3\xa9\tline\nnext");

	text = history_record_to_json(&r);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(strstr(text, "\\\"pg-test-2\\\"") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "C:\\\\path</x>") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "\"format\":1") != NULL, "%s", text);
	ck_assert_msg(strchr(text, '\n') == NULL, "%s", text);
	ck_assert_msg(history_record_from_json(text, &back, &err) == 0, "%s", err.msg);
	free(text);

	ck_assert_str_eq(back.job, r.job);
	ck_assert_str_eq(back.command, r.command);
	ck_assert_str_eq(back.type, r.type);
	ck_assert_str_eq(back.node, r.node);
	ck_assert(back.start == r.start);
	ck_assert(back.end == r.end);
	ck_assert_str_eq(back.outcome, r.outcome);
	ck_assert_int_eq(back.exit_code, 7);
	ck_assert(back.bytes == r.bytes);
	ck_assert_str_eq(back.label, r.label);
	/* one line: control characters become spaces */
	ck_assert_str_eq(back.message, "could not connect to \"pg-test-2\": C:\\path</x> caf\xc3\xa9 line next");

	/* through the repository too */
	append_ok(&r);
	{
		JobRecord  *out;
		int			n;

		out = list_ok(0, &n);
		ck_assert_int_eq(n, 1);
		ck_assert(out[0].bytes == r.bytes);
		ck_assert_str_eq(out[0].message, back.message);
		history_free(out);
	}
}
END_TEST

START_TEST(test_message_cut_utf8)
{
	JobRecord	r = record("verify", "pg-test-1", T0, "ok");
	JobRecord	back;
	PgbError	err = {0};
	char	   *text;

	memset(r.message, 'a', 254);
	r.message[254] = (char) 0xC3;	/* first byte of a two-byte sequence, cut */
	r.message[255] = '\0';
	text = history_record_to_json(&r);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(history_record_from_json(text, &back, &err) == 0, "%s", err.msg);
	free(text);
	ck_assert_uint_eq(strlen(back.message), 254);
}
END_TEST

START_TEST(test_json_malformed)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{\"job\":\"x\"}",
		"{\"format\":2,\"job\":\"x\",\"command\":\"\",\"type\":\"\",\"node\":\"\",\"start\":0,\"end\":0,"
		"\"outcome\":\"ok\",\"exit_code\":0,\"bytes\":0,\"label\":\"\",\"message\":\"\"}",
		/* bytes negative */
		"{\"format\":1,\"job\":\"x\",\"command\":\"\",\"type\":\"\",\"node\":\"\",\"start\":0,\"end\":0,"
		"\"outcome\":\"ok\",\"exit_code\":0,\"bytes\":-1,\"label\":\"\",\"message\":\"\"}",
		/* start as a string */
		"{\"format\":1,\"job\":\"x\",\"command\":\"\",\"type\":\"\",\"node\":\"\",\"start\":\"0\",\"end\":0,"
		"\"outcome\":\"ok\",\"exit_code\":0,\"bytes\":0,\"label\":\"\",\"message\":\"\"}",
		/* type too long */
		"{\"format\":1,\"job\":\"x\",\"command\":\"\",\"type\":\"0123456789abcdef\",\"node\":\"\",\"start\":0,\"end\":0,"
		"\"outcome\":\"ok\",\"exit_code\":0,\"bytes\":0,\"label\":\"\",\"message\":\"\"}",
		/* message missing */
		"{\"format\":1,\"job\":\"x\",\"command\":\"\",\"type\":\"\",\"node\":\"\",\"start\":0,\"end\":0,"
		"\"outcome\":\"ok\",\"exit_code\":0,\"bytes\":0,\"label\":\"\"}",
		/* empty job */
		"{\"format\":1,\"job\":\"\",\"command\":\"\",\"type\":\"\",\"node\":\"\",\"start\":0,\"end\":0,"
		"\"outcome\":\"ok\",\"exit_code\":0,\"bytes\":0,\"label\":\"\",\"message\":\"\"}",
		NULL
	};
	const char *good =
		"{\"format\":1,\"job\":\"x\",\"command\":\"\",\"type\":\"\",\"node\":\"\",\"start\":0,\"end\":0,"
		"\"outcome\":\"ok\",\"exit_code\":0,\"bytes\":0,\"label\":\"\",\"message\":\"\",\"future\":[1,2]}";
	JobRecord	r;

	for (int i = 0; bad[i]; i++)
	{
		PgbError	err = {0};

		ck_assert_msg(history_record_from_json(bad[i], &r, &err) == -1, "accepted: %s", bad[i]);
		ck_assert_int_eq(err.code, EXIT_CORRUPT);
	}
	{
		PgbError	err = {0};

		/* unknown fields are ignored */
		ck_assert_msg(history_record_from_json(good, &r, &err) == 0, "%s", err.msg);
		ck_assert_str_eq(r.job, "x");
	}
}
END_TEST

/* ------------------------------------------------------------ metrics: rendering */

static void
sample_backup(MetricsRepoBackup *b, const char *label, const char *type, const char *prior,
			  double start, double stop, bool block_incr)
{
	memset(b, 0, sizeof(*b));
	snprintf(b->label, sizeof(b->label), "%s", label);
	snprintf(b->type, sizeof(b->type), "%s", type);
	snprintf(b->prior, sizeof(b->prior), "%s", prior);
	snprintf(b->version, sizeof(b->version), "0.2.0");
	b->block_incr = block_incr;
	b->pg_version = 150018;
	snprintf(b->lsn_start, sizeof(b->lsn_start), "0/2000028");
	snprintf(b->lsn_stop, sizeof(b->lsn_stop), "0/2000100");
	snprintf(b->wal_start, sizeof(b->wal_start), "000000010000000000000002");
	snprintf(b->wal_stop, sizeof(b->wal_stop), "000000010000000000000002");
	b->start_time = start;
	b->stop_time = stop;
	b->duration = stop - start;
	b->size = 30000000;
	b->delta = strcmp(type, "full") == 0 ? 30000000 : 1000000;
	b->repo_delta = strcmp(type, "full") == 0 ? 4000000 : 100000;
	b->repo_size = strcmp(type, "full") == 0 ? 4000000 : 4100000;
}

/*
 * Two repositories: "local" (key 1) with a full and an incr backup, the
 * incr's lock held; "offsite" (key 2, encrypted) with a diff and an older
 * full, one of them not restorable.
 */
static void
sample_repos(MetricsSnapshot *s)
{
	MetricsRepo *r = &s->repos[0];

	s->nrepos = 2;
	memset(r, 0, sizeof(*r) * 2);
	snprintf(r->name, sizeof(r->name), "local");
	r->key = 1;
	r->status = METRICS_REPO_OK;
	r->locked = 1;
	r->system_identifier = 7300000000000000001ULL;
	r->pg_version = 150018;
	r->nsegments = 12;
	r->stored_bytes = 4100000;
	r->nbackups = 2;
	r->backups = calloc(2, sizeof(MetricsRepoBackup));
	ck_assert_ptr_nonnull(r->backups);
	sample_backup(&r->backups[0], "20261115-010000F", "full", "", 1794704400, 1794704461.5, false);
	sample_backup(&r->backups[1], "20261116-010000I", "incr", "20261115-010000F", 1794790800, 1794790803, true);

	r = &s->repos[1];
	snprintf(r->name, sizeof(r->name), "offsite");
	r->key = 2;
	r->encrypted = true;
	r->status = METRICS_REPO_OK;
	r->locked = 0;
	r->system_identifier = 7300000000000000001ULL;
	r->pg_version = 150018;
	r->nsegments = 0;
	r->nbackups = 2;
	r->backups = calloc(2, sizeof(MetricsRepoBackup));
	ck_assert_ptr_nonnull(r->backups);
	sample_backup(&r->backups[0], "20261101-010000F", "full", "", 1793494800, 1793494900, false);
	sample_backup(&r->backups[1], "20261110-010000D", "diff", "20261101-010000F", 1794272400, 1794272410, false);
	r->backups[1].error = true;
}

static void
sample_snapshot(MetricsSnapshot *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->cluster, sizeof(s->cluster), "pg-test");
	snprintf(s->instance, sizeof(s->instance), "pg-test-1");
	s->is_primary = true;
	snprintf(s->backups[0].type, sizeof(s->backups[0].type), "full");
	s->backups[0].present = 1;
	s->backups[0].last_end = 1795643732.681612;
	s->backups[0].last_duration = 61.5;
	s->backups[0].last_size = 123456789012ULL;
	s->backups[0].last_stored = 2345678;
	snprintf(s->backups[1].type, sizeof(s->backups[1].type), "diff");
	s->backups[1].present = 1;
	s->backups[1].last_end = 1795650000;
	s->backups[1].last_duration = 3;
	s->backups[1].last_size = 1000;
	s->backups[1].last_stored = 10;
	snprintf(s->backups[2].type, sizeof(s->backups[2].type), "incr");
	s->backups[2].present = 0;
	s->njobs = 2;
	snprintf(s->jobs[0].job, sizeof(s->jobs[0].job), "backup-full");
	s->jobs[0].last_ok = 1;
	s->jobs[0].last_end = 1795643732;
	s->jobs[0].last_duration = 61;
	s->jobs[0].runs_ok = 3;
	s->jobs[0].runs_failed = 1;
	snprintf(s->jobs[1].job, sizeof(s->jobs[1].job), "verify");
	s->jobs[1].last_ok = -1;
	s->jobs[1].running = 1;
	s->last_archived_time = 1795700000;
	s->archive_failures = 4;
	s->archived_count = 1000;
	s->backlog_known = true;
	s->backlog_files = 3;
	s->backlog_bytes = 50331648;
	s->backlog_oldest = 1795700040;
	s->backlog_alert = 16777216;
	s->repo_size_bytes = 5000000000ULL;
	s->recoverable_start = 1795643000;
	s->recoverable_end = 1795700000;
	s->backups_count = 2;
	s->scrape_time_source = 1795700090.25;
	sample_repos(s);
}

static char *
render(const MetricsSnapshot *s, double now)
{
	MemBuf		out = {0};
	PgbError	err = {0};
	char	   *text;

	ck_assert_int_eq(metrics_render(s, now, &out), 0);
	text = membuf_take(&out, NULL, &err);
	ck_assert_ptr_nonnull(text);
	return text;
}

#define L "{cluster=\"pg-test\",node=\"pg-test-1\""

static void
has(const char *text, const char *line)
{
	if (strstr(text, line) == NULL)
		fprintf(stderr, "%s\n", text);
	ck_assert_msg(strstr(text, line) != NULL, "missing \"%s\"", line);
}

static void
lacks(const char *text, const char *what)
{
	if (strstr(text, what) != NULL)
		fprintf(stderr, "%s\n", text);
	ck_assert_msg(strstr(text, what) == NULL, "unexpected \"%s\"", what);
}

START_TEST(test_render_values)
{
	MetricsSnapshot s;
	char	   *text;

	sample_snapshot(&s);
	text = render(&s, 1795700100);
	has(text, "\npgbkp_up" L "} 1\n");
	has(text, "\npgbkp_is_primary" L "} 1\n");
	has(text, "\npgbkp_snapshot_timestamp_seconds" L "} 1795700090.25\n");
	has(text, "\npgbkp_backup_last_success_timestamp_seconds" L ",type=\"full\"} 1795643732.681612\n");
	has(text, "\npgbkp_backup_last_success_timestamp_seconds" L ",type=\"diff\"} 1795650000\n");
	lacks(text, L ",type=\"incr\"");
	has(text, "\npgbkp_backup_last_duration_seconds" L ",type=\"full\"} 61.5\n");
	has(text, "\npgbkp_backup_last_size_bytes" L ",type=\"full\"} 123456789012\n");
	has(text, "\npgbkp_backup_last_stored_bytes" L ",type=\"diff\"} 10\n");
	has(text, "\npgbkp_backups" L "} 2\n");
	has(text, "\npgbkp_job_last_success" L ",job_name=\"backup-full\"} 1\n");
	lacks(text, "pgbkp_job_last_success" L ",job_name=\"verify\"}");
	has(text, "\npgbkp_job_last_run_timestamp_seconds" L ",job_name=\"backup-full\"} 1795643732\n");
	lacks(text, "pgbkp_job_last_run_timestamp_seconds" L ",job_name=\"verify\"}");
	has(text, "\npgbkp_job_running" L ",job_name=\"verify\"} 1\n");
	has(text, "\npgbkp_job_running" L ",job_name=\"backup-full\"} 0\n");
	has(text, "\npgbkp_job_runs_total" L ",job_name=\"backup-full\",outcome=\"ok\"} 3\n");
	has(text, "\npgbkp_job_runs_total" L ",job_name=\"backup-full\",outcome=\"failed\"} 1\n");
	has(text, "\npgbkp_job_runs_total" L ",job_name=\"verify\",outcome=\"skipped\"} 0\n");
	has(text, "\npgbkp_archive_last_archived_timestamp_seconds" L "} 1795700000\n");
	has(text, "\npgbkp_archive_last_archived_age_seconds" L "} 100\n");
	has(text, "\npgbkp_archive_failures_total" L "} 4\n");
	has(text, "\npgbkp_archived_total" L "} 1000\n");
	has(text, "\npgbkp_archive_backlog_segments" L "} 3\n");
	has(text, "\npgbkp_archive_backlog_bytes" L "} 50331648\n");
	has(text, "\npgbkp_archive_backlog_oldest_age_seconds" L "} 60\n");
	has(text, "\npgbkp_archive_backlog_alert_bytes" L "} 16777216\n");
	has(text, "\npgbkp_archive_backlog_over_alert" L "} 1\n");
	has(text, "\npgbkp_repository_size_bytes" L "} 5000000000\n");
	has(text, "\npgbkp_recoverable_window_start_timestamp_seconds" L "} 1795643000\n");
	has(text, "\npgbkp_recoverable_window_end_timestamp_seconds" L "} 1795700000\n");
	has(text, "# TYPE pgbkp_job_runs_total counter\n");
	has(text, "# TYPE pgbkp_archive_failures_total counter\n");
	has(text, "# TYPE pgbkp_archived_total counter\n");
	has(text, "# TYPE pgbkp_backups gauge\n");
	ck_assert(text[strlen(text) - 1] == '\n');
	free(text);

	/* age against another now; never negative */
	text = render(&s, 1795700000 - 5);
	has(text, "\npgbkp_archive_last_archived_age_seconds" L "} 0\n");
	free(text);
	metrics_snapshot_clear(&s);
}
END_TEST

/*
 * Structure: every family has one HELP and one TYPE line, just before its
 * samples, and samples of a family are contiguous; every sample carries
 * the cluster and node labels.
 */
START_TEST(test_render_structure)
{
	MetricsSnapshot s;
	char	   *text;
	char	   *save = NULL;
	char		current[128] = "";
	char		seen[4096] = ",";
	int			families = 0;

	sample_snapshot(&s);
	text = render(&s, 1795700100);
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
	{
		if (strncmp(line, "# HELP ", 7) == 0)
		{
			char		name[128];
			char		key[140];

			ck_assert(sscanf(line + 7, "%127s", name) == 1);
			snprintf(key, sizeof(key), ",%s,", name);
			ck_assert_msg(strstr(seen, key) == NULL, "family %s twice", name);
			strncat(seen, key + 1, sizeof(seen) - strlen(seen) - 1);
			snprintf(current, sizeof(current), "%s", name);
			families++;
		}
		else if (strncmp(line, "# TYPE ", 7) == 0)
		{
			ck_assert(strncmp(line + 7, current, strlen(current)) == 0);
			ck_assert(strcmp(line + 7 + strlen(current), " gauge") == 0 ||
					  strcmp(line + 7 + strlen(current), " counter") == 0);
		}
		else
		{
			ck_assert_msg(strncmp(line, current, strlen(current)) == 0 && line[strlen(current)] == '{',
						  "sample \"%s\" outside its family %s", line, current);
			if (strncmp(line, "pgbkp_", 6) == 0)
				ck_assert_msg(strstr(line, L) == line + strlen(current), "labels: %s", line);
			else
			{
				/* the exporter's families carry the exporter's labels only */
				ck_assert_msg(strncmp(line, "pgbackrest_", 11) == 0, "%s", line);
				ck_assert_msg(strstr(line, "cluster=") == NULL && strstr(line, "node=") == NULL, "%s", line);
				ck_assert_msg(strstr(line, "stanza=\"pg-test\"") != NULL, "%s", line);
			}
		}
	}
	/* pgbkp (6 of them the drill's, 5 the backlog's, 6 the stream's, 1 the stored WAL's), the exporter's */
	ck_assert_int_eq(families, 26 + 5 + 7 + 7 + 20);
	free(text);
	metrics_snapshot_clear(&s);
}
END_TEST

/* No pg_data here: the backlog families are there without samples; no alert, no alert samples. */
START_TEST(test_render_backlog_unknown)
{
	MetricsSnapshot s;
	char	   *text;

	sample_snapshot(&s);
	s.backlog_known = false;
	s.backlog_alert = 0;
	text = render(&s, 1795700100);
	has(text, "# TYPE pgbkp_archive_backlog_segments gauge\n");
	lacks(text, "\npgbkp_archive_backlog_segments{");
	lacks(text, "\npgbkp_archive_backlog_alert_bytes{");
	lacks(text, "\npgbkp_archive_backlog_over_alert{");
	s.backlog_known = true;
	s.backlog_bytes = 100;
	s.backlog_alert = 16777216;
	free(text);
	text = render(&s, 1795700100);
	has(text, "\npgbkp_archive_backlog_over_alert" L "} 0\n");
	free(text);
	metrics_snapshot_clear(&s);
}
END_TEST

/* The stream's samples only where it is in use; each repository's stored WAL end as a number. */
START_TEST(test_render_stream)
{
	MetricsSnapshot s;
	char	   *text;

	sample_snapshot(&s);
	s.repos[0].wal_stored_lsn = 0x3000060ULL;	/* 0/3000060 */
	text = render(&s, 1795700100);
	has(text, "# TYPE pgbkp_stream_connected gauge\n");
	has(text, "# TYPE pgbkp_stream_lag_seconds gauge\n");
	lacks(text, "\npgbkp_stream_connected{");
	lacks(text, "\npgbkp_stream_lag_bytes{");
	has(text, "\npgbkp_repository_wal_stored_lsn{cluster=\"pg-test\",node=\"pg-test-1\",repo=\"local\",repo_key=\"1\"} 50331744\n");
	lacks(text, "pgbkp_repository_wal_stored_lsn" L ",repo=\"offsite\"");	/* unknown: no sample */
	free(text);

	s.stream_known = true;
	s.stream_connected = true;
	s.stream_slot_active = true;
	s.stream_synchronous = true;
	s.stream_flushed_lsn = 0x100000000ULL + 0x28;	/* 1/28 */
	s.stream_lag_bytes = 8192;
	s.stream_lag_seconds = 0.25;
	text = render(&s, 1795700100);
	has(text, "\npgbkp_stream_connected" L "} 1\n");
	has(text, "\npgbkp_stream_slot_active" L "} 1\n");
	has(text, "\npgbkp_stream_synchronous" L "} 1\n");
	has(text, "\npgbkp_stream_flushed_lsn" L "} 4294967336\n");
	has(text, "\npgbkp_stream_lag_bytes" L "} 8192\n");
	has(text, "\npgbkp_stream_lag_seconds" L "} 0.25\n");
	free(text);

	/* not connected, lag unknown: the lag samples are left out, not 0 */
	s.stream_connected = false;
	s.stream_lag_bytes = -1;
	s.stream_lag_seconds = -1;
	text = render(&s, 1795700100);
	has(text, "\npgbkp_stream_connected" L "} 0\n");
	lacks(text, "\npgbkp_stream_lag_bytes{");
	lacks(text, "\npgbkp_stream_lag_seconds{");
	free(text);
	metrics_snapshot_clear(&s);
}
END_TEST

START_TEST(test_render_escaping)
{
	MetricsSnapshot s;
	char	   *text;

	sample_snapshot(&s);
	snprintf(s.cluster, sizeof(s.cluster), "a\"b\\c\nd");
	snprintf(s.jobs[0].job, sizeof(s.jobs[0].job), "we\"ird\\");
	text = render(&s, 1795700100);
	has(text, "\npgbkp_up{cluster=\"a\\\"b\\\\c\\nd\",node=\"pg-test-1\"} 1\n");
	has(text, ",job_name=\"we\\\"ird\\\\\"} 1\n");
	free(text);
	metrics_snapshot_clear(&s);
}
END_TEST

START_TEST(test_render_not_taken)
{
	MetricsSnapshot s;
	char	   *text;

	memset(&s, 0, sizeof(s));
	text = render(&s, 1795700100);
	has(text, "# TYPE pgbkp_up gauge\n");
	has(text, "\npgbkp_up{cluster=\"\",node=\"\"} 0\n");
	lacks(text, "pgbkp_backups");
	lacks(text, "pgbkp_is_primary");
	free(text);
}
END_TEST

START_TEST(test_render_cap)
{
	MetricsSnapshot s;
	MemBuf		out = {.max = 100};

	sample_snapshot(&s);
	ck_assert_int_eq(metrics_render(&s, 1795700100, &out), -1);
	membuf_free(&out);
	metrics_snapshot_clear(&s);
}
END_TEST

/* The pgbackrest_exporter families, with the exporter's names, label sets and label order. */
START_TEST(test_render_pgbackrest)
{
	MetricsSnapshot s;
	char	   *text;

	harness_set_tz("UTC");
	sample_snapshot(&s);
	text = render(&s, 1795700100);
	has(text, "\npgbackrest_exporter_status{stanza=\"pg-test\"} 1\n");
	has(text, "\npgbackrest_stanza_status{stanza=\"pg-test\"} 0\n");
	has(text, "\npgbackrest_stanza_lock_status{stanza=\"pg-test\"} 1\n");
	has(text, "\npgbackrest_stanza_backup_lock_status{stanza=\"pg-test\"} 1\n");
	has(text, "\npgbackrest_repo_status{cipher=\"none\",repo_key=\"1\",stanza=\"pg-test\"} 0\n");
	has(text, "\npgbackrest_repo_status{cipher=\"aes-256-gcm\",repo_key=\"2\",stanza=\"pg-test\"} 0\n");
	has(text, "\npgbackrest_backup_info{backrest_ver=\"0.2.0\",backup_name=\"20261116-010000I\",backup_type=\"incr\","
		"block_incr=\"y\",database_id=\"1\",lsn_start=\"0/2000028\",lsn_stop=\"0/2000100\",pg_version=\"15\","
		"prior=\"20261115-010000F\",repo_key=\"1\",stanza=\"pg-test\",wal_start=\"000000010000000000000002\","
		"wal_stop=\"000000010000000000000002\"} 1\n");
	has(text, "\npgbackrest_backup_info{backrest_ver=\"0.2.0\",backup_name=\"20261115-010000F\",backup_type=\"full\","
		"block_incr=\"n\",database_id=\"1\",lsn_start=\"0/2000028\",lsn_stop=\"0/2000100\",pg_version=\"15\","
		"prior=\"\",repo_key=\"1\",");
#define B(name, type, bi, key) "{backup_name=\"" name "\",backup_type=\"" type "\",block_incr=\"" bi "\",database_id=\"1\",repo_key=\"" key "\",stanza=\"pg-test\""
	has(text, "\npgbackrest_backup_duration_seconds" B("20261115-010000F", "full", "n", "1")
		",start_time=\"2026-11-15 01:00:00\",stop_time=\"2026-11-15 01:01:01\"} 61.5\n");
	has(text, "\npgbackrest_backup_duration_seconds" B("20261110-010000D", "diff", "n", "2")
		",start_time=\"2026-11-10 01:00:00\",stop_time=\"2026-11-10 01:00:10\"} 10\n");
	has(text, "\npgbackrest_backup_size_bytes" B("20261116-010000I", "incr", "y", "1") "} 30000000\n");
	has(text, "\npgbackrest_backup_delta_bytes" B("20261116-010000I", "incr", "y", "1") "} 1000000\n");
	has(text, "\npgbackrest_backup_delta_bytes" B("20261115-010000F", "full", "n", "1") "} 30000000\n");
	has(text, "\npgbackrest_backup_repo_size_bytes" B("20261116-010000I", "incr", "y", "1") "} 4100000\n");
	has(text, "\npgbackrest_backup_repo_delta_bytes" B("20261116-010000I", "incr", "y", "1") "} 100000\n");
	has(text, "\npgbackrest_backup_error_status" B("20261110-010000D", "diff", "n", "2") "} 1\n");
	has(text, "\npgbackrest_backup_error_status" B("20261101-010000F", "full", "n", "2") "} 0\n");
#undef B
	/* the newest full (repository 1); diff: the newest full or diff; incr: the newest of any */
	has(text, "\npgbackrest_backup_since_last_completion_seconds{backup_type=\"full\",block_incr=\"n\",stanza=\"pg-test\"} 995638.5\n");
	has(text, "\npgbackrest_backup_since_last_completion_seconds{backup_type=\"diff\",block_incr=\"n\",stanza=\"pg-test\"} 995638.5\n");
	has(text, "\npgbackrest_backup_since_last_completion_seconds{backup_type=\"incr\",block_incr=\"y\",stanza=\"pg-test\"} 909297\n");
	has(text, "\npgbackrest_backup_last_duration_seconds{backup_type=\"incr\",block_incr=\"y\",stanza=\"pg-test\"} 3\n");
	has(text, "\npgbackrest_backup_last_size_bytes{backup_type=\"full\",block_incr=\"n\",stanza=\"pg-test\"} 30000000\n");
	has(text, "\npgbackrest_backup_last_delta_bytes{backup_type=\"incr\",block_incr=\"y\",stanza=\"pg-test\"} 1000000\n");
	has(text, "\npgbackrest_backup_last_repo_size_bytes{backup_type=\"incr\",block_incr=\"y\",stanza=\"pg-test\"} 4100000\n");
	has(text, "\npgbackrest_backup_last_repo_delta_bytes{backup_type=\"full\",block_incr=\"n\",stanza=\"pg-test\"} 4000000\n");
	has(text, "\npgbackrest_backup_last_error_status{backup_type=\"diff\",block_incr=\"n\",stanza=\"pg-test\"} 0\n");
	has(text, "\npgbackrest_wal_archive_status{database_id=\"1\",pg_version=\"15\",repo_key=\"1\",stanza=\"pg-test\",wal_max=\"\",wal_min=\"\"} 1\n");
	has(text, "\npgbackrest_wal_archive_status{database_id=\"1\",pg_version=\"15\",repo_key=\"2\",stanza=\"pg-test\",wal_max=\"\",wal_min=\"\"} 0\n");
	has(text, "# TYPE pgbackrest_backup_info gauge\n");
	lacks(text, "# TYPE pgbackrest_backup_info counter");
	/* pgbkp's names for the repositories */
	has(text, "\npgbkp_repository_status" L ",repo=\"local\",repo_key=\"1\"} 0\n");
	has(text, "\npgbkp_repository_backup_lock" L ",repo=\"local\",repo_key=\"1\"} 1\n");
	has(text, "\npgbkp_repository_backup_lock" L ",repo=\"offsite\",repo_key=\"2\"} 0\n");
	has(text, "\npgbkp_repository_backups" L ",repo=\"offsite\",repo_key=\"2\"} 2\n");
	has(text, "\npgbkp_repository_stored_bytes" L ",repo=\"local\",repo_key=\"1\"} 4100000\n");
	free(text);
	metrics_snapshot_clear(&s);
	harness_restore_tz();
	metrics_snapshot_clear(&s);
}
END_TEST

/* Statuses across repositories: mixed, different systems, unreadable, no full backup yet. */
START_TEST(test_render_pgbackrest_status)
{
	MetricsSnapshot s;
	char	   *text;

	sample_snapshot(&s);
	free(s.repos[1].backups);
	s.repos[1].backups = NULL;
	s.repos[1].nbackups = 0;
	s.repos[1].status = METRICS_REPO_NO_BACKUPS;
	s.repos[0].locked = -1;
	text = render(&s, 1795700100);
	has(text, "\npgbackrest_stanza_status{stanza=\"pg-test\"} 4\n");
	has(text, "\npgbackrest_repo_status{cipher=\"aes-256-gcm\",repo_key=\"2\",stanza=\"pg-test\"} 2\n");
	has(text, "\npgbackrest_exporter_status{stanza=\"pg-test\"} 1\n");
	/* a lock that cannot be asked counts as free; its pgbkp series is left out */
	has(text, "\npgbackrest_stanza_lock_status{stanza=\"pg-test\"} 0\n");
	lacks(text, "pgbkp_repository_backup_lock" L ",repo=\"local\"");
	lacks(text, "repo_key=\"2\",stanza=\"pg-test\",start_time");
	free(text);

	s.repos[1].system_identifier = 7300000000000000002ULL;
	text = render(&s, 1795700100);
	has(text, "\npgbackrest_stanza_status{stanza=\"pg-test\"} 5\n");
	free(text);

	s.repos[1].status = METRICS_REPO_OTHER;
	snprintf(s.repos[1].error, sizeof(s.repos[1].error), "connection refused");
	text = render(&s, 1795700100);
	has(text, "\npgbackrest_exporter_status{stanza=\"pg-test\"} 0\n");
	has(text, "\npgbackrest_stanza_status{stanza=\"pg-test\"} 4\n");
	has(text, "\npgbackrest_repo_status{cipher=\"aes-256-gcm\",repo_key=\"2\",stanza=\"pg-test\"} 99\n");
	lacks(text, "pgbackrest_wal_archive_status{database_id=\"1\",pg_version=\"15\",repo_key=\"2\"");
	lacks(text, "pgbkp_repository_backups" L ",repo=\"offsite\"");
	free(text);

	/* no full backup: the "last" families have no samples, only their HELP and TYPE */
	snprintf(s.repos[0].backups[0].type, sizeof(s.repos[0].backups[0].type), "diff");
	text = render(&s, 1795700100);
	has(text, "# TYPE pgbackrest_backup_since_last_completion_seconds gauge\n");
	lacks(text, "pgbackrest_backup_since_last_completion_seconds{");
	lacks(text, "pgbackrest_backup_last_size_bytes{");
	has(text, "pgbackrest_backup_size_bytes{");
	free(text);

	/* no repositories at all */
	metrics_snapshot_clear(&s);
	text = render(&s, 1795700100);
	has(text, "\npgbackrest_stanza_status{stanza=\"pg-test\"} 99\n");
	lacks(text, "pgbackrest_repo_status{");
	free(text);
	metrics_snapshot_clear(&s);
}
END_TEST

/* Label values are escaped and cut at a character boundary; the snapshot copy is deep. */
START_TEST(test_render_labels_and_copy)
{
	MetricsSnapshot s;
	MetricsSnapshot copy;
	PromLabels	l;
	char		value[400];
	char	   *text;

	memset(value, 0, sizeof(value));
	for (int i = 0; i < 150; i++)
		memcpy(value + 2 * i, "\xc3\xa9", 2);	/* 300 bytes of é */
	prom_labels_init(&l);
	prom_label(&l, "k", value);
	ck_assert_uint_eq(l.len, strlen("k=\"\"") + 254);
	ck_assert(!l.overflow);

	sample_snapshot(&s);
	snprintf(s.cluster, sizeof(s.cluster), "a\"b");
	snprintf(s.repos[0].backups[1].prior, sizeof(s.repos[0].backups[1].prior), "x\\y\nz");
	ck_assert_int_eq(metrics_snapshot_copy(&copy, &s), 0);
	ck_assert_ptr_ne(copy.repos[0].backups, s.repos[0].backups);
	metrics_snapshot_clear(&s);
	text = render(&copy, 1795700100);
	has(text, "\npgbackrest_stanza_status{stanza=\"a\\\"b\"} 0\n");
	has(text, ",prior=\"x\\\\y\\nz\",");
	free(text);
	metrics_snapshot_clear(&copy);
	ck_assert_int_eq(copy.nrepos, 0);
	metrics_snapshot_clear(&s);
}
END_TEST

/* ------------------------------------------------------------ metrics: server */

typedef struct Fetched
{
	long		status;
	char		type[128];
	MemBuf		body;
} Fetched;

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	PgbError	err = {0};

	if (membuf_append((MemBuf *) arg, ptr, size * nmemb, &err) != 0)
		return 0;
	return size * nmemb;
}

/* GET (or another method) url; false when it could not connect. */
static bool
fetch(const char *url, const char *method, Fetched *f)
{
	CURL	   *c = curl_easy_init();
	CURLcode	rc;
	char	   *type = NULL;

	memset(f, 0, sizeof(*f));
	ck_assert_ptr_nonnull(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &f->body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	if (method && strcmp(method, "POST") == 0)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "a=b");
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
	{
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &f->status);
		curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type);
		if (type)
			snprintf(f->type, sizeof(f->type), "%s", type);
	}
	curl_easy_cleanup(c);
	if (f->body.buf == NULL)
	{
		PgbError	err = {0};

		membuf_append(&f->body, "", 0, &err);
	}
	return rc == CURLE_OK;
}

START_TEST(test_server)
{
	PgbError	err = {0};
	MetricsServer *m = metrics_start("127.0.0.1", 0, &err);
	MetricsSnapshot s;
	char		url[128];
	Fetched		f;
	int			port;

	ck_assert_msg(m != NULL, "%s", err.msg);
	port = metrics_port(m);
	ck_assert_int_gt(port, 0);

	/* before the first snapshot */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", port);
	ck_assert(fetch(url, NULL, &f));
	ck_assert_int_eq(f.status, 200);
	ck_assert_str_eq(f.type, "text/plain; version=0.0.4; charset=utf-8");
	has(f.body.buf, "pgbkp_up{cluster=\"\",node=\"\"} 0\n");
	membuf_free(&f.body);

	sample_snapshot(&s);
	metrics_update(m, &s);
	ck_assert(fetch(url, NULL, &f));
	ck_assert_int_eq(f.status, 200);
	has(f.body.buf, "\npgbkp_up" L "} 1\n");
	has(f.body.buf, "\npgbkp_backups" L "} 2\n");
	membuf_free(&f.body);

	/* an update changes what is served */
	s.backups_count = 3;
	snprintf(s.instance, sizeof(s.instance), "pg-test-2");
	metrics_update(m, &s);
	ck_assert(fetch(url, NULL, &f));
	has(f.body.buf, "\npgbkp_backups{cluster=\"pg-test\",node=\"pg-test-2\"} 3\n");
	membuf_free(&f.body);

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	ck_assert(fetch(url, NULL, &f));
	ck_assert_int_eq(f.status, 200);
	has(f.body.buf, "href=\"/metrics\"");
	membuf_free(&f.body);

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics/x", port);
	ck_assert(fetch(url, NULL, &f));
	ck_assert_int_eq(f.status, 404);
	membuf_free(&f.body);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/other", port);
	ck_assert(fetch(url, NULL, &f));
	ck_assert_int_eq(f.status, 404);
	membuf_free(&f.body);

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", port);
	ck_assert(fetch(url, "POST", &f));
	ck_assert_int_eq(f.status, 405);
	membuf_free(&f.body);

	metrics_stop(m);
	/* stopped: nothing listens any more */
	ck_assert(!fetch(url, NULL, &f));
	membuf_free(&f.body);
	metrics_snapshot_clear(&s);
}
END_TEST

START_TEST(test_server_port_in_use)
{
	PgbError	err = {0};
	MetricsServer *m = metrics_start("127.0.0.1", 0, &err);
	MetricsServer *m2;
	char		expect[64];

	ck_assert_msg(m != NULL, "%s", err.msg);
	m2 = metrics_start("127.0.0.1", metrics_port(m), &err);
	ck_assert_ptr_null(m2);
	ck_assert_int_eq(err.code, EXIT_REFUSED);	/* as the exit status table says of a port in use */
	snprintf(expect, sizeof(expect), "port %d on 127.0.0.1 is in use", metrics_port(m));
	ck_assert_msg(strstr(err.msg, expect) != NULL, "%s", err.msg);
	/* all addresses include the loopback one */
	pgb_error_clear(&err);
	m2 = metrics_start(NULL, metrics_port(m), &err);
	ck_assert_ptr_null(m2);
	ck_assert_int_eq(err.code, EXIT_REFUSED);
	snprintf(expect, sizeof(expect), "port %d is in use", metrics_port(m));
	ck_assert_msg(strstr(err.msg, expect) != NULL, "%s", err.msg);
	metrics_stop(m);

	pgb_error_clear(&err);
	ck_assert_ptr_null(metrics_start(NULL, 70000, &err));
	ck_assert_int_eq(err.code, EXIT_CONFIG);
	pgb_error_clear(&err);
	ck_assert_ptr_null(metrics_start("not an address..", 0, &err));
	ck_assert_int_eq(err.code, EXIT_CONFIG);
	metrics_stop(NULL);
}
END_TEST

START_TEST(test_server_all_addresses)
{
	PgbError	err = {0};
	MetricsServer *m = metrics_start(NULL, 0, &err);
	MetricsSnapshot s;
	char		url[128];
	Fetched		f;

	ck_assert_msg(m != NULL, "%s", err.msg);
	sample_snapshot(&s);
	metrics_update(m, &s);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", metrics_port(m));
	ck_assert(fetch(url, NULL, &f));
	ck_assert_int_eq(f.status, 200);
	has(f.body.buf, "\npgbkp_up" L "} 1\n");
	membuf_free(&f.body);
	/* IPv6 loopback, where the host has it */
	snprintf(url, sizeof(url), "http://[::1]:%d/metrics", metrics_port(m));
	if (fetch(url, NULL, &f))
		ck_assert_int_eq(f.status, 200);
	membuf_free(&f.body);
	metrics_stop(m);
	metrics_snapshot_clear(&s);
}
END_TEST

/* ------------------------------------------------------------ suites */

static Suite *
history_suite(void)
{
	Suite	   *s = suite_create("history");
	TCase	   *tc = tcase_create("repository");

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_append_list_order);
	tcase_add_test(tc, test_list_empty);
	tcase_add_test(tc, test_prune);
	tcase_add_test(tc, test_name_sanitising);
	tcase_add_test(tc, test_same_name_gets_counter);
	tcase_add_test(tc, test_append_validation);
	tcase_add_test(tc, test_damaged_record_listed_as_unreadable);
	tcase_add_test(tc, test_json_round_trip);
	suite_add_tcase(s, tc);

	tc = tcase_create("json");
	tcase_add_test(tc, test_message_cut_utf8);
	tcase_add_test(tc, test_json_malformed);
	suite_add_tcase(s, tc);
	return s;
}

static Suite *
metrics_suite(void)
{
	Suite	   *s = suite_create("metrics");
	TCase	   *tc = tcase_create("render");

	tcase_add_test(tc, test_render_values);
	tcase_add_test(tc, test_render_structure);
	tcase_add_test(tc, test_render_backlog_unknown);
	tcase_add_test(tc, test_render_stream);
	tcase_add_test(tc, test_render_escaping);
	tcase_add_test(tc, test_render_not_taken);
	tcase_add_test(tc, test_render_cap);
	tcase_add_test(tc, test_render_pgbackrest);
	tcase_add_test(tc, test_render_pgbackrest_status);
	tcase_add_test(tc, test_render_labels_and_copy);
	suite_add_tcase(s, tc);

	tc = tcase_create("server");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_server);
	tcase_add_test(tc, test_server_port_in_use);
	tcase_add_test(tc, test_server_all_addresses);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner    *sr = srunner_create(history_suite());
	int			failed;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	srunner_add_suite(sr, metrics_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed == 0 ? 0 : 1;
}
