/*
 * Unit tests for src/manifest/manifest.c: a manifest with awkward paths
 * written and parsed back field by field, the parser's refusals (each naming
 * the line), the path checks restore relies on, and the WAL range a backup
 * needs.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest/manifest.h"

#define MiB (UINT64_C(1) << 20)

/* ------------------------------------------------------------ helpers */

typedef struct Text
{
	char	   *data;
	size_t		len;
	size_t		cap;
	int			calls;
} Text;

static int
text_sink(void *arg, const void *buf, size_t len, PgbError *err)
{
	Text	   *t = arg;

	(void) err;
	t->calls++;
	if (t->len + len + 1 > t->cap)
	{
		size_t		cap = t->cap ? t->cap : 4096;

		while (cap < t->len + len + 1)
			cap *= 2;
		t->data = realloc(t->data, cap);
		ck_assert_ptr_nonnull(t->data);
		t->cap = cap;
	}
	memcpy(t->data + t->len, buf, len);
	t->len += len;
	t->data[t->len] = '\0';
	return 0;
}

static int
failing_sink(void *arg, const void *buf, size_t len, PgbError *err)
{
	(void) arg;
	(void) buf;
	(void) len;
	return pgb_error(err, EXIT_IO, "no space left in the test sink");
}

static void
write_text(const Manifest *m, Text *t)
{
	PgbError	err = {0};

	memset(t, 0, sizeof(*t));
	ck_assert_msg(manifest_write(m, text_sink, t, &err) == 0, "%s", err.msg);
	ck_assert_ptr_nonnull(t->data);
}

static void
sha_fill(uint8_t *sha, int seed)
{
	for (int i = 0; i < SHA256_LEN; i++)
		sha[i] = (uint8_t) (seed * 31 + i * 7);
}

/* Paths that need escaping, or that a naive format would mangle. */
static const char *const odd_paths[] = {
	"base/1/file with spaces",
	"base/1/tab\there",
	"base/1/new\nline",
	"base/1/carriage\rreturn",
	"base/1/100%",
	"base/1/%41%",				/* a literal "%41" must not come back as "A" */
	"base/1/%%",
	"base/1/del\x7f",
	"base/1/donn\xc3\xa9" "es \xe6\x97\xa5\xe6\x9c\xac \xd1\x84\xd0\xbe\xd1\x82\xd0\xbe",
	"base/1/trailing space ",
	"base/1/backslash\\n",
};

#define N_ODD ((int) (sizeof(odd_paths) / sizeof(odd_paths[0])))

static void
build_full(Manifest *m)
{
	PgbError	err = {0};

	manifest_init(m);
	snprintf(m->label, sizeof(m->label), "%s", "20241125T213858F");
	snprintf(m->type, sizeof(m->type), "%s", "full");
	m->cluster = strdup("pg-meta %1\ttab");
	m->pgdata = strdup("/pg/data with space");
	m->pgbkp_version = strdup("0.1.0");
	m->system_identifier = UINT64_C(7712227934222654434);
	m->pg_version = 150004;
	m->wal_segment_size = 16 * MiB;
	m->block_size = 8192;
	m->compress_level = -5;
	m->timeline = 3;
	m->start_lsn = UINT64_C(0x16B374D848);
	m->stop_lsn = UINT64_C(0x16B5000000);
	m->start_time = INT64_C(1732570738123456);
	m->stop_time = INT64_C(-1);
	m->size = UINT64_C(123456789012);
	m->repo_size = UINT64_C(98765);
	m->nbundles = 7;

	ck_assert_int_eq(manifest_add_dir(m, "base", 0700, &err), 0);
	ck_assert_int_eq(manifest_add_dir(m, "base/1", 02750, &err), 0);
	ck_assert_int_eq(manifest_add_dir(m, "dir with\ttab and %", 0755, &err), 0);
	ck_assert_int_eq(manifest_add_dir(m, "pg_tblspc", 0700, &err), 0);
	ck_assert_int_eq(manifest_add_link(m, "pg_tblspc/16400", "/data/tablespace one/%x", &err), 0);
	ck_assert_int_eq(manifest_add_link(m, "pg_tblspc/16401", "/ts2", &err), 0);
	for (int i = 0; i < N_ODD; i++)
	{
		ManifestFile *f = manifest_add_file(m, odd_paths[i], &err);

		ck_assert_ptr_nonnull(f);
		f->size = (uint64_t) i * 1000 + 1;
		f->mode = i % 2 ? 0600 : 04755;
		f->mtime = i == 3 ? INT64_C(-86400) : INT64_C(1700000000) + i;
		sha_fill(f->sha256, i);
		f->bundle = (uint32_t) (i / 4 + 1);
		f->offset = (uint64_t) i * 4096;
		f->length = (uint64_t) i * 77;
	}
	/* extremes */
	{
		ManifestFile *f = manifest_add_file(m, "global/pg_control", &err);

		ck_assert_ptr_nonnull(f);
		f->size = UINT64_MAX;
		f->mode = 0;
		f->mtime = INT64_MIN;
		sha_fill(f->sha256, 99);
		f->bundle = UINT32_MAX;
		f->offset = UINT64_MAX;
		f->length = 0;
	}
}

static void
assert_same(const Manifest *a, const Manifest *b)
{
	ck_assert_int_eq(a->format, b->format);
	ck_assert_str_eq(a->label, b->label);
	ck_assert_str_eq(a->type, b->type);
	ck_assert_str_eq(a->cluster, b->cluster);
	ck_assert_str_eq(a->pgdata, b->pgdata);
	ck_assert_str_eq(a->pgbkp_version, b->pgbkp_version);
	ck_assert_uint_eq(a->system_identifier, b->system_identifier);
	ck_assert_int_eq(a->pg_version, b->pg_version);
	ck_assert_uint_eq(a->wal_segment_size, b->wal_segment_size);
	ck_assert_uint_eq(a->block_size, b->block_size);
	ck_assert_int_eq(a->compress_level, b->compress_level);
	ck_assert_uint_eq(a->timeline, b->timeline);
	ck_assert_uint_eq(a->start_lsn, b->start_lsn);
	ck_assert_uint_eq(a->stop_lsn, b->stop_lsn);
	ck_assert_int_eq(a->start_time, b->start_time);
	ck_assert_int_eq(a->stop_time, b->stop_time);
	ck_assert_uint_eq(a->size, b->size);
	ck_assert_uint_eq(a->repo_size, b->repo_size);
	ck_assert_uint_eq(a->nbundles, b->nbundles);

	ck_assert_int_eq(a->ndirs, b->ndirs);
	for (int i = 0; i < a->ndirs; i++)
	{
		ck_assert_str_eq(a->dirs[i].path, b->dirs[i].path);
		ck_assert_uint_eq(a->dirs[i].mode, b->dirs[i].mode);
	}
	ck_assert_int_eq(a->nlinks, b->nlinks);
	for (int i = 0; i < a->nlinks; i++)
	{
		ck_assert_str_eq(a->links[i].path, b->links[i].path);
		ck_assert_str_eq(a->links[i].target, b->links[i].target);
	}
	ck_assert_int_eq(a->nfiles, b->nfiles);
	for (int i = 0; i < a->nfiles; i++)
	{
		const ManifestFile *x = &a->files[i];
		const ManifestFile *y = &b->files[i];

		ck_assert_str_eq(x->path, y->path);
		ck_assert_uint_eq(x->size, y->size);
		ck_assert_uint_eq(x->mode, y->mode);
		ck_assert_int_eq(x->mtime, y->mtime);
		ck_assert_mem_eq(x->sha256, y->sha256, SHA256_LEN);
		ck_assert_uint_eq(x->bundle, y->bundle);
		ck_assert_uint_eq(x->offset, y->offset);
		ck_assert_uint_eq(x->length, y->length);
	}
}

/* Parse that must succeed. */
static void
parse_ok(const char *text, Manifest *m)
{
	PgbError	err = {0};

	ck_assert_msg(manifest_parse(text, strlen(text), m, &err) == 0, "%s\n--\n%s", err.msg, text);
	ck_assert_int_eq(err.code, 0);
}

/* Parse that must fail with EXIT_CORRUPT and a message containing needle. */
static void
parse_bad(const char *text, size_t len, const char *needle)
{
	PgbError	err = {0};
	Manifest	m;

	memset(&m, 0x5A, sizeof(m));
	ck_assert_msg(manifest_parse(text, len, &m, &err) == -1, "accepted:\n%s", text);
	ck_assert_msg(err.code == EXIT_CORRUPT, "code %d (%s) for:\n%s", err.code, err.msg, text);
	ck_assert_msg(strstr(err.msg, needle) != NULL, "message \"%s\" lacks \"%s\"", err.msg, needle);
	/* nothing left behind for the caller to free */
	ck_assert_int_eq(m.ndirs, 0);
	ck_assert_int_eq(m.nfiles, 0);
	ck_assert_int_eq(m.nlinks, 0);
	ck_assert_ptr_null(m.cluster);
	manifest_free(&m);
}

#define MIN_HEAD "pgbkp-manifest\t1\nh\tlabel\tL1\nh\twal_segment_size\t16777216\n"
#define SHA_HEX "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

/* ------------------------------------------------------------ round trip */

START_TEST(test_round_trip_all_fields)
{
	Manifest	m;
	Manifest	back;
	Text		t;
	PgbError	err = {0};

	build_full(&m);
	write_text(&m, &t);
	ck_assert_msg(manifest_parse(t.data, t.len, &back, &err) == 0, "%s\n%s", err.msg, t.data);
	assert_same(&m, &back);

	/* and the text is stable: writing the parsed manifest gives the same bytes */
	{
		Text		t2;

		write_text(&back, &t2);
		ck_assert_uint_eq(t.len, t2.len);
		ck_assert_str_eq(t.data, t2.data);
		free(t2.data);
	}
	manifest_free(&m);
	manifest_free(&back);
	free(t.data);
}
END_TEST

/* Every record is one line of TAB-separated fields; nothing raw leaks out. */
START_TEST(test_written_text_shape)
{
	Manifest	m;
	Text		t;
	int			lines = 0;
	int			expected;
	char	   *line;
	char	   *save;

	build_full(&m);
	write_text(&m, &t);
	ck_assert_int_eq(strncmp(t.data, "pgbkp-manifest\t1\n", 17), 0);
	ck_assert(t.len > 0 && t.data[t.len - 1] == '\n');
	ck_assert_uint_eq(strlen(t.data), t.len);	/* no NUL inside */

	/* escapes as documented: TAB %09, newline %0A, '%' %25, DEL %7F */
	ck_assert_ptr_nonnull(strstr(t.data, "\tbase/1/tab%09here\t"));
	ck_assert_ptr_nonnull(strstr(t.data, "\tbase/1/new%0Aline\t"));
	ck_assert_ptr_nonnull(strstr(t.data, "\tbase/1/carriage%0Dreturn\t"));
	ck_assert_ptr_nonnull(strstr(t.data, "\tbase/1/100%25\t"));
	ck_assert_ptr_nonnull(strstr(t.data, "\tbase/1/%2541%25\t"));
	ck_assert_ptr_nonnull(strstr(t.data, "\tbase/1/del%7F\t"));
	ck_assert_ptr_nonnull(strstr(t.data, "\tbase/1/file with spaces\t"));
	/* UTF-8 passes through untouched */
	ck_assert_ptr_nonnull(strstr(t.data, odd_paths[8]));
	/* modes are octal */
	ck_assert_ptr_nonnull(strstr(t.data, "d\tbase/1\t2750\n"));
	ck_assert_ptr_nonnull(strstr(t.data, "l\tpg_tblspc/16400\t/data/tablespace one/%25x\n"));
	ck_assert_ptr_nonnull(strstr(t.data, "h\tstart_lsn\t16/B374D848\n"));
	ck_assert_ptr_nonnull(strstr(t.data, "h\tcluster\tpg-meta %251%09tab\n"));

	expected = 1 + 18 + m.ndirs + m.nlinks + m.nfiles + 1;
	for (line = strtok_r(t.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
	{
		int			tabs = 0;

		lines++;
		for (const char *c = line; *c; c++)
			tabs += *c == '\t';
		if (line[0] == 'f' && line[1] == '\t')
			ck_assert_msg(tabs == 8, "file line with %d tabs: %s", tabs, line);
		else if (strncmp(line, "end\t", 4) == 0)
		{
			char		want[64];

			snprintf(want, sizeof(want), "end\t%d\t%d\t%d", m.ndirs, m.nlinks, m.nfiles);
			ck_assert_str_eq(line, want);
			ck_assert_int_eq(lines, expected);
		}
		else if (line[0] == 'd' || line[0] == 'l' || line[0] == 'h')
			ck_assert_msg(tabs == 2, "line with %d tabs: %s", tabs, line);
	}
	ck_assert_int_eq(lines, expected);
	manifest_free(&m);
	free(t.data);
}
END_TEST

START_TEST(test_round_trip_empty_manifest)
{
	Manifest	m;
	Manifest	back;
	Text		t;
	PgbError	err = {0};

	manifest_init(&m);
	ck_assert_int_eq(m.format, MANIFEST_FORMAT_VERSION);
	snprintf(m.label, sizeof(m.label), "%s", "L");
	m.wal_segment_size = MiB;
	m.timeline = 1;
	m.pg_version = 170000;
	m.block_size = 8192;
	write_text(&m, &t);
	ck_assert_ptr_nonnull(strstr(t.data, "end\t0\t0\t0\n"));
	ck_assert_msg(manifest_parse(t.data, t.len, &back, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(back.ndirs + back.nlinks + back.nfiles, 0);
	/* absent strings come back as empty ones */
	ck_assert_str_eq(back.cluster, "");
	ck_assert_str_eq(back.pgdata, "");
	ck_assert_uint_eq(back.wal_segment_size, MiB);
	manifest_free(&m);
	manifest_free(&back);
	free(t.data);
}
END_TEST

/* Thousands of records and one very long path: output leaves in pieces. */
START_TEST(test_round_trip_large)
{
	Manifest	m;
	Manifest	back;
	Text		t;
	PgbError	err = {0};
	char		path[64];
	char	   *longpath = malloc(50001);

	manifest_init(&m);
	snprintf(m.label, sizeof(m.label), "%s", "big");
	m.wal_segment_size = 16 * MiB;
	m.timeline = 1;
	m.pg_version = 150004;
	m.block_size = 8192;
	m.cluster = strdup("pg-test");
	m.pgdata = strdup("/pg/data");
	m.pgbkp_version = strdup("0.1.0");
	for (int i = 0; i < 3000; i++)
	{
		ManifestFile *f;

		snprintf(path, sizeof(path), "base/16384/%d", 100000 + i);
		f = manifest_add_file(&m, path, &err);
		ck_assert_ptr_nonnull(f);
		f->size = (uint64_t) i;
		sha_fill(f->sha256, i);
		f->bundle = 1 + i / 1000;
	}
	for (int i = 0; i < 300; i++)
	{
		snprintf(path, sizeof(path), "base/%d", i);
		ck_assert_int_eq(manifest_add_dir(&m, path, 0700, &err), 0);
	}
	memset(longpath, 'p', 50000);
	longpath[50000] = '\0';
	longpath[20000] = '%';		/* escaped: 50 002 bytes on the line */
	ck_assert_ptr_nonnull(manifest_add_file(&m, longpath, &err));

	write_text(&m, &t);
	ck_assert_int_gt(t.calls, 1);
	ck_assert_msg(manifest_parse(t.data, t.len, &back, &err) == 0, "%s", err.msg);
	assert_same(&m, &back);
	manifest_free(&m);
	manifest_free(&back);
	free(t.data);
	free(longpath);
}
END_TEST

START_TEST(test_write_sink_error)
{
	Manifest	m;
	PgbError	err = {0};

	build_full(&m);
	ck_assert_int_eq(manifest_write(&m, failing_sink, NULL, &err), -1);
	ck_assert_int_eq(err.code, EXIT_IO);
	ck_assert_str_eq(err.msg, "no space left in the test sink");
	manifest_free(&m);
	manifest_free(&m);			/* free leaves an empty manifest behind */
}
END_TEST

START_TEST(test_parse_minimal_and_unknown_header)
{
	Manifest	m;

	parse_ok(MIN_HEAD "h\tfuture_field\twhatever\nend\t0\t0\t0\n", &m);
	ck_assert_str_eq(m.label, "L1");
	ck_assert_uint_eq(m.wal_segment_size, 16 * MiB);
	manifest_free(&m);

	/* header fields in any order, records after them */
	parse_ok("pgbkp-manifest\t1\nh\twal_segment_size\t1048576\nh\tlabel\tX\n"
			 "d\tbase\t700\nf\tbase/x\t3\t600\t0\t" SHA_HEX "\t1\t0\t3\nl\tpg_tblspc/1\t/t\n"
			 "end\t1\t1\t1\n", &m);
	ck_assert_int_eq(m.ndirs, 1);
	ck_assert_uint_eq(m.dirs[0].mode, 0700);
	ck_assert_int_eq(m.nfiles, 1);
	ck_assert_uint_eq(m.files[0].sha256[0], 0x00);
	ck_assert_uint_eq(m.files[0].sha256[1], 0x11);
	ck_assert_uint_eq(m.files[0].sha256[31], 0xff);
	ck_assert_str_eq(m.links[0].target, "/t");
	manifest_free(&m);

	/* upper- and lower-case escapes both decode */
	parse_ok(MIN_HEAD "d\ta%2fb%2Fc%09\t700\nend\t1\t0\t0\n", &m);
	ck_assert_str_eq(m.dirs[0].path, "a/b/c\t");
	manifest_free(&m);
}
END_TEST

/* ------------------------------------------------------------ parse errors */

START_TEST(test_parse_missing_end)
{
	const char *text = MIN_HEAD "d\tbase\t700\n";

	parse_bad(text, strlen(text), "incomplete");
	parse_bad("", 0, "incomplete");
	parse_bad("pgbkp-manifest\t1\n", 17, "incomplete");
}
END_TEST

START_TEST(test_parse_missing_required_headers)
{
	const char *no_label = "pgbkp-manifest\t1\nh\twal_segment_size\t16777216\nend\t0\t0\t0\n";
	const char *no_segsize = "pgbkp-manifest\t1\nh\tlabel\tL1\nend\t0\t0\t0\n";

	parse_bad(no_label, strlen(no_label), "incomplete");
	parse_bad(no_segsize, strlen(no_segsize), "incomplete");
}
END_TEST

START_TEST(test_parse_end_count_mismatch)
{
	const char *dirs = MIN_HEAD "d\tbase\t700\nend\t2\t0\t0\n";
	const char *links = MIN_HEAD "d\tbase\t700\nend\t1\t1\t0\n";
	const char *files = MIN_HEAD "f\tx\t1\t600\t0\t" SHA_HEX "\t1\t0\t1\nend\t0\t0\t0\n";
	const char *short_end = MIN_HEAD "end\t0\t0\n";
	const char *bad_num = MIN_HEAD "end\t0\tx\t0\n";

	parse_bad(dirs, strlen(dirs), "line 5 ");
	parse_bad(links, strlen(links), "line 5 ");
	parse_bad(files, strlen(files), "line 5 ");
	parse_bad(short_end, strlen(short_end), "line 4 ");
	parse_bad(bad_num, strlen(bad_num), "line 4 ");
}
END_TEST

START_TEST(test_parse_bad_sha)
{
	static const char *const shas[] = {
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeef",	/* 63 */
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff0",	/* 65 */
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeefg",
		"00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff",
		"",
	};

	for (size_t i = 0; i < sizeof(shas) / sizeof(shas[0]); i++)
	{
		char		text[512];

		snprintf(text, sizeof(text), MIN_HEAD "d\tbase\t700\nf\tbase/x\t1\t600\t0\t%s\t1\t0\t1\nend\t1\t0\t1\n", shas[i]);
		parse_bad(text, strlen(text), "manifest line 5 is malformed");
	}
}
END_TEST

START_TEST(test_parse_bad_records)
{
	static const struct
	{
		const char *line;
	}			cases[] = {
		{"x\tfoo\n"},			/* unknown record type */
		{"F\tbase/x\t1\t600\t0\t" SHA_HEX "\t1\t0\t1\n"},	/* case matters */
		{"\n"},					/* empty line */
		{"d\tbase\n"},			/* too few fields */
		{"d\tbase\t700\textra\n"},	/* too many */
		{"d\tbase\t789\n"},		/* not octal */
		{"d\tbase\t\n"},		/* empty mode */
		{"l\tpg_tblspc/1\n"},
		{"f\tbase/x\t1\t600\t0\t" SHA_HEX "\t1\t0\n"},	/* 8 fields */
		{"f\tbase/x\t1\t600\t0\t" SHA_HEX "\t1\t0\t1\t9\n"},	/* 10 fields */
		{"f\tbase/x\t-1\t600\t0\t" SHA_HEX "\t1\t0\t1\n"},	/* negative size */
		{"f\tbase/x\t1x\t600\t0\t" SHA_HEX "\t1\t0\t1\n"},
		{"f\tbase/x\t1\t600\t0\t" SHA_HEX "\t4294967296\t0\t1\n"},	/* bundle > u32 */
		{"f\tbase/x\t1\t600\t0\t" SHA_HEX "\t1\t18446744073709551616\t1\n"},	/* offset > u64 */
		{"f\tbase/x\t1\t600\tnow\t" SHA_HEX "\t1\t0\t1\n"},
		{"f\tbad%zzescape\t1\t600\t0\t" SHA_HEX "\t1\t0\t1\n"},
		{"d\ttruncated%4\t700\n"},
		{"d\ttruncated%\t700\n"},
		{"h\tlabel\n"},			/* header without value */
		{"h\tlabel\tL\textra\n"},
		{"h\tstart_lsn\tnot-an-lsn\n"},
		{"h\tpg_version\t0\n"},
		{"h\ttimeline\t0\n"},
		{"h\tblock_size\t0\n"},
		{"h\tsystem_identifier\t-5\n"},
		{"h\tlabel\t0123456789012345678901234567890123456789012345678901234567890123\n"},	/* 64 chars */
		{"h\ttype\tfull-but-far-too-long\n"},
		{"pgbkp-manifest\t1\n"},	/* a second format line */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char		text[1024];

		/* the bad line is line 4, after which counts no longer matter */
		snprintf(text, sizeof(text), MIN_HEAD "%send\t0\t0\t0\n", cases[i].line);
		parse_bad(text, strlen(text), "manifest line 4 is malformed");
	}
}
END_TEST

START_TEST(test_parse_format_line)
{
	const char *v2 = "pgbkp-manifest\t2\nh\tlabel\tL1\nh\twal_segment_size\t16777216\nend\t0\t0\t0\n";
	const char *other = "not-a-manifest\t1\n";
	const char *nofield = "pgbkp-manifest\n";
	const char *extra = "pgbkp-manifest\t1\t1\n";

	parse_bad(v2, strlen(v2), "format 2 is not supported");
	parse_bad(other, strlen(other), "line 1 ");
	parse_bad(nofield, strlen(nofield), "line 1 ");
	parse_bad(extra, strlen(extra), "line 1 ");
	parse_bad("\n", 1, "line 1 ");
}
END_TEST

START_TEST(test_parse_no_trailing_newline)
{
	const char *text = MIN_HEAD "end\t0\t0\t0";
	const char *mid = MIN_HEAD "d\tbase\t700";

	parse_bad(text, strlen(text), "manifest line 4 is malformed");
	parse_bad(mid, strlen(mid), "manifest line 4 is malformed");
	/* len is honoured: the same text cut short loses its last newline */
	{
		const char *full = MIN_HEAD "end\t0\t0\t0\n";

		parse_bad(full, strlen(full) - 1, "manifest line 4 is malformed");
	}
}
END_TEST

START_TEST(test_parse_content_after_end)
{
	const char *text = MIN_HEAD "end\t0\t0\t0\nd\tbase\t700\n";
	const char *twice = MIN_HEAD "end\t0\t0\t0\nend\t0\t0\t0\n";

	parse_bad(text, strlen(text), "manifest line 5 is malformed");
	parse_bad(twice, strlen(twice), "manifest line 5 is malformed");
}
END_TEST

/* No field can hold a NUL: neither escaped nor raw. */
START_TEST(test_parse_rejects_nul)
{
	const char *escaped = MIN_HEAD "d\tbase%00/../../x\t700\nend\t1\t0\t0\n";
	static const char raw[] = MIN_HEAD "end\t0\t0\t0\n\0d\tjunk\t700\n";

	parse_bad(escaped, strlen(escaped), "manifest line 4 is malformed");
	parse_bad(raw, sizeof(raw) - 1, "NUL");
}
END_TEST

/* The line number counts every line, including ones far down. */
START_TEST(test_parse_error_line_number)
{
	size_t		cap = 200 * 32 + 512;
	char	   *text = malloc(cap);
	size_t		len;

	len = (size_t) snprintf(text, cap, "%s", MIN_HEAD);
	for (int i = 0; i < 200; i++)
		len += (size_t) snprintf(text + len, cap - len, "d\tbase/%d\t700\n", i);
	len += (size_t) snprintf(text + len, cap - len, "d\tbase/bad\t70x\nend\t201\t0\t0\n");
	parse_bad(text, len, "manifest line 204 is malformed");
	free(text);
}
END_TEST

/* ------------------------------------------------------------ path checks */

static Manifest *
one_path_manifest(const char *dir, const char *file, const char *link, const char *target)
{
	static Manifest m;
	PgbError	err = {0};

	manifest_init(&m);
	snprintf(m.label, sizeof(m.label), "%s", "LBL");
	if (dir)
		ck_assert_int_eq(manifest_add_dir(&m, dir, 0700, &err), 0);
	if (file)
		ck_assert_ptr_nonnull(manifest_add_file(&m, file, &err));
	if (link)
		ck_assert_int_eq(manifest_add_link(&m, link, target, &err), 0);
	return &m;
}

static void
paths_ok(const char *dir, const char *file, const char *link, const char *target)
{
	Manifest   *m = one_path_manifest(dir, file, link, target);
	PgbError	err = {0};

	ck_assert_msg(manifest_check_paths(m, &err) == 0, "rejected: %s", err.msg);
	manifest_free(m);
}

static void
paths_bad(const char *dir, const char *file, const char *link, const char *target)
{
	Manifest   *m = one_path_manifest(dir, file, link, target);
	PgbError	err = {0};

	ck_assert_msg(manifest_check_paths(m, &err) == -1, "accepted dir=%s file=%s link=%s -> %s",
				  dir ? dir : "-", file ? file : "-", link ? link : "-", target ? target : "-");
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	ck_assert_msg(strstr(err.msg, "LBL") != NULL, "message \"%s\" does not name the backup", err.msg);
	manifest_free(m);
}

START_TEST(test_check_paths_accepts)
{
	paths_ok(NULL, NULL, NULL, NULL);
	paths_ok("base", "base/1/16384", NULL, NULL);
	paths_ok("base/1", "PG_VERSION", "pg_tblspc/16400", "/data/ts");
	paths_ok(NULL, "base/1/file with spaces \xc3\xa9", "pg_tblspc/1", "/a b/c");
	paths_ok(NULL, "..hidden/...", NULL, NULL);
}
END_TEST

START_TEST(test_check_paths_rejects_files_and_dirs)
{
	static const char *const bad[] = {
		"../x", "/etc/passwd", "a//b", "a/./b", "base/..", "..", ".", "",
		"a/", "./a", "a\x01" "b", "a\nb", "a\tb", "tab\x7f",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		paths_bad(bad[i], NULL, NULL, NULL);
		paths_bad(NULL, bad[i], NULL, NULL);
		/* a bad path among good ones */
		{
			Manifest   *m = one_path_manifest("base", "base/1", NULL, NULL);
			PgbError	err = {0};

			ck_assert_ptr_nonnull(manifest_add_file(m, "base/2", &err));
			ck_assert_ptr_nonnull(manifest_add_file(m, bad[i], &err));
			ck_assert_int_eq(manifest_check_paths(m, &err), -1);
			ck_assert_int_eq(err.code, EXIT_CORRUPT);
			manifest_free(m);
		}
	}
}
END_TEST

START_TEST(test_check_paths_links)
{
	/* link names */
	paths_bad(NULL, NULL, "pg_tblspc/abc", "/data/ts");
	paths_bad(NULL, NULL, "pg_tblspc/", "/data/ts");
	paths_bad(NULL, NULL, "pg_tblspc", "/data/ts");
	paths_bad(NULL, NULL, "pg_tblspc/16400/x", "/data/ts");
	paths_bad(NULL, NULL, "pg_tblspc/16400/", "/data/ts");
	paths_bad(NULL, NULL, "pg_tblspc/12a", "/data/ts");
	paths_bad(NULL, NULL, "pg_tblspc/-1", "/data/ts");
	paths_bad(NULL, NULL, "base/16400", "/data/ts");
	paths_bad(NULL, NULL, "pg_wal", "/data/wal");
	paths_bad(NULL, NULL, "../pg_tblspc/1", "/data/ts");
	paths_bad(NULL, NULL, "/pg_tblspc/1", "/data/ts");
	/* link targets */
	paths_bad(NULL, NULL, "pg_tblspc/1", "data/ts");
	paths_bad(NULL, NULL, "pg_tblspc/1", "");
	paths_bad(NULL, NULL, "pg_tblspc/1", "/");
	paths_bad(NULL, NULL, "pg_tblspc/1", "/data/../etc");
	paths_bad(NULL, NULL, "pg_tblspc/1", "/data/./ts");
	paths_bad(NULL, NULL, "pg_tblspc/1", "//data");
	paths_bad(NULL, NULL, "pg_tblspc/1", "/data//ts");
	paths_bad(NULL, NULL, "pg_tblspc/1", "/data/ts/");
	paths_bad(NULL, NULL, "pg_tblspc/1", "/data/t\ns");
	paths_ok(NULL, NULL, "pg_tblspc/1", "/data/ts");
	paths_ok(NULL, NULL, "pg_tblspc/4294967295", "/x");
}
END_TEST

/* A link problem names the link too. */
START_TEST(test_check_paths_messages)
{
	Manifest   *m = one_path_manifest(NULL, NULL, "pg_tblspc/77", "relative/t");
	PgbError	err = {0};

	ck_assert_int_eq(manifest_check_paths(m, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "pg_tblspc/77"));
	ck_assert_ptr_nonnull(strstr(err.msg, "relative/t"));
	manifest_free(m);

	m = one_path_manifest(NULL, "base/../../etc/shadow", NULL, NULL);
	ck_assert_int_eq(manifest_check_paths(m, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "base/../../etc/shadow"));
	manifest_free(m);
}
END_TEST

/* What the parser accepts, the path check still screens. */
START_TEST(test_parsed_traversal_is_caught)
{
	Manifest	m;
	PgbError	err = {0};

	parse_ok(MIN_HEAD "f\t..%2F..%2Fetc%2Fpasswd\t1\t600\t0\t" SHA_HEX "\t1\t0\t1\nend\t0\t0\t1\n", &m);
	ck_assert_str_eq(m.files[0].path, "../../etc/passwd");
	ck_assert_int_eq(manifest_check_paths(&m, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	manifest_free(&m);
}
END_TEST

/* ------------------------------------------------------------ WAL range */

static void
range(Lsn start, Lsn stop, uint64_t segsize, SegNo want_start, SegNo want_stop)
{
	Manifest	m;

	manifest_init(&m);
	m.start_lsn = start;
	m.stop_lsn = stop;
	m.wal_segment_size = segsize;
	m.timeline = 1;
	ck_assert_msg(manifest_start_segno(&m) == want_start, "start %" PRIx64 ": segno %" PRIu64 ", expected %" PRIu64,
				  start, manifest_start_segno(&m), want_start);
	ck_assert_msg(manifest_stop_segno(&m) == want_stop, "stop %" PRIx64 ": segno %" PRIu64 ", expected %" PRIu64,
				  stop, manifest_stop_segno(&m), want_stop);
}

START_TEST(test_wal_segnos)
{
	/* stop exactly on a segment boundary: the WAL before it is what counts */
	range(UINT64_C(0x2000028), UINT64_C(0x3000000), 16 * MiB, 2, 2);
	range(UINT64_C(0x2000028), UINT64_C(0x3000001), 16 * MiB, 2, 3);
	range(UINT64_C(0x2000028), UINT64_C(0x2FFFFFF), 16 * MiB, 2, 2);
	range(UINT64_C(0x2000028), UINT64_C(0x2000100), 16 * MiB, 2, 2);
	/* start on a boundary too */
	range(UINT64_C(0x3000000), UINT64_C(0x5000000), 16 * MiB, 3, 4);
	/* nothing written between start and stop */
	range(UINT64_C(0x3000000), UINT64_C(0x3000000), 16 * MiB, 3, 3);
	range(UINT64_C(0x3000028), UINT64_C(0x3000028), 16 * MiB, 3, 3);
	/* other segment sizes */
	range(UINT64_C(0x8000028), UINT64_C(0xC000000), 64 * MiB, 2, 2);
	range(UINT64_C(0x8000028), UINT64_C(0xC000000), 1 * MiB, 0x80, 0xBF);
	range(UINT64_C(0x100000028), UINT64_C(0x180000000), 1024 * MiB, 4, 5);
}
END_TEST

START_TEST(test_wal_range_names)
{
	Manifest	m;
	char		start[WAL_NAME_LEN + 1];
	char		stop[WAL_NAME_LEN + 1];

	manifest_init(&m);
	m.timeline = 2;
	m.wal_segment_size = 16 * MiB;
	m.start_lsn = UINT64_C(0x2000028);
	m.stop_lsn = UINT64_C(0x3000000);
	manifest_wal_range(&m, start, stop);
	ck_assert_str_eq(start, "000000020000000000000002");
	ck_assert_str_eq(stop, "000000020000000000000002");

	m.start_lsn = UINT64_C(0x1FF000028);
	m.stop_lsn = UINT64_C(0x200000100);
	manifest_wal_range(&m, start, stop);
	ck_assert_str_eq(start, "0000000200000001000000FF");
	ck_assert_str_eq(stop, "000000020000000200000000");
}
END_TEST

static Suite *
manifest_suite(void)
{
	Suite	   *s = suite_create("manifest");
	TCase	   *tc;

	tc = tcase_create("round_trip");
	tcase_add_test(tc, test_round_trip_all_fields);
	tcase_add_test(tc, test_parse_rejects_nul);
	tcase_add_test(tc, test_written_text_shape);
	tcase_add_test(tc, test_round_trip_empty_manifest);
	tcase_add_test(tc, test_round_trip_large);
	tcase_add_test(tc, test_write_sink_error);
	tcase_add_test(tc, test_parse_minimal_and_unknown_header);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse_errors");
	tcase_add_test(tc, test_parse_missing_end);
	tcase_add_test(tc, test_parse_missing_required_headers);
	tcase_add_test(tc, test_parse_end_count_mismatch);
	tcase_add_test(tc, test_parse_bad_sha);
	tcase_add_test(tc, test_parse_bad_records);
	tcase_add_test(tc, test_parse_format_line);
	tcase_add_test(tc, test_parse_no_trailing_newline);
	tcase_add_test(tc, test_parse_content_after_end);
	tcase_add_test(tc, test_parse_error_line_number);
	suite_add_tcase(s, tc);

	tc = tcase_create("paths");
	tcase_add_test(tc, test_check_paths_accepts);
	tcase_add_test(tc, test_check_paths_rejects_files_and_dirs);
	tcase_add_test(tc, test_check_paths_links);
	tcase_add_test(tc, test_check_paths_messages);
	tcase_add_test(tc, test_parsed_traversal_is_caught);
	suite_add_tcase(s, tc);

	tc = tcase_create("wal_range");
	tcase_add_test(tc, test_wal_segnos);
	tcase_add_test(tc, test_wal_range_names);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner    *sr = srunner_create(manifest_suite());
	int			failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
