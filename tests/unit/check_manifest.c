/*
 * Unit tests for src/manifest/manifest.c: a format 2 manifest with awkward
 * paths and multi-chunk files (stored, reference and delta chunks) written
 * and parsed back field by field, format 1 texts still read as one stored
 * chunk per file, the parser's refusals (each naming the line), the path
 * checks restore relies on, file lookup and order, file digests, and the WAL
 * range a backup needs.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest/manifest.h"
#include "harness.h"

#define MiB (UINT64_C(1) << 20)

/* ------------------------------------------------------------ helpers */

static int
failing_sink(void *arg, const void *buf, size_t len, PgbError *err)
{
	(void) arg;
	(void) buf;
	(void) len;
	return pgb_error(err, EXIT_IO, "no space left in the test sink");
}

static void
write_text(const Manifest *m, HarnessBuf *t)
{
	PgbError	err = {0};

	memset(t, 0, sizeof(*t));
	ck_assert_msg(manifest_write(m, harness_buf_sink, t, &err) == 0, "%s", err.msg);
	ck_assert_ptr_nonnull(t->text);
}

static void
sha_fill(uint8_t *sha, int seed)
{
	for (int i = 0; i < SHA256_LEN; i++)
		sha[i] = (uint8_t) (seed * 31 + i * 7);
}

/*
 * A chunk of the given kind with distinct field values: references have no
 * frame (bundle 0) and no block map; stored and delta chunks have both.
 */
static void
fill_chunk(ManifestChunk *c, char kind, int seed, uint64_t size)
{
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->size = size;
	sha_fill(c->sha256, seed);
	if (kind != CHUNK_REF)
	{
		c->bundle = (uint32_t) (seed / 4 + 1);
		c->offset = (uint64_t) seed * 4096;
		c->length = (uint64_t) seed * 77 + 1;
		c->map_bundle = (uint32_t) (seed / 4 + 2);
		c->map_offset = (uint64_t) seed * 8192 + 5;
		c->map_length = (uint64_t) seed * 8 + 8;
	}
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
	snprintf(m->type, sizeof(m->type), "%s", "incr");
	snprintf(m->parent, sizeof(m->parent), "%s", "20241124T000000F_20241125T010000I");
	m->chunk_size = MANIFEST_CHUNK_SIZE;
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
		/* 1, 2 or 3 chunks; every kind shows up first, second and third */
		int			nchunks = i % 3 + 1;
		ManifestFile *f = manifest_add_file(m, odd_paths[i], nchunks, &err);

		ck_assert_ptr_nonnull(f);
		ck_assert_int_eq(f->nchunks, nchunks);
		f->mode = i % 2 ? 0600 : 04755;
		f->mtime = i == 3 ? INT64_C(-86400) : INT64_C(1700000000) + i;
		f->size = 0;
		for (int c = 0; c < nchunks; c++)
			fill_chunk(&f->chunks[c], "FRD"[(i + c) % 3], i * 10 + c,
					   c + 1 < nchunks ? MANIFEST_CHUNK_SIZE : (uint64_t) i * 1000 + 1);
		for (int c = 0; c < nchunks; c++)
			f->size += f->chunks[c].size;
	}
	/* extremes */
	{
		ManifestFile *f = manifest_add_file(m, "global/pg_control", 1, &err);
		ManifestChunk *c;

		ck_assert_ptr_nonnull(f);
		f->size = UINT64_MAX;
		f->mode = 0;
		f->mtime = INT64_MIN;
		c = &f->chunks[0];
		c->kind = CHUNK_STORED;
		c->size = UINT64_MAX;
		sha_fill(c->sha256, 98);
		c->bundle = UINT32_MAX;
		c->offset = UINT64_MAX;
		c->length = 0;
		c->map_bundle = UINT32_MAX;
		c->map_offset = UINT64_MAX;
		c->map_length = UINT64_MAX;
	}
	/* a 1 GiB relation segment: 64 chunks */
	{
		ManifestFile *f = manifest_add_file(m, "base/1/16384.1", 64, &err);

		ck_assert_ptr_nonnull(f);
		f->mode = 0600;
		f->mtime = 1700000000;
		for (int c = 0; c < 64; c++)
			fill_chunk(&f->chunks[c], "FRD"[c % 3], 1000 + c, MANIFEST_CHUNK_SIZE);
		f->size = 64 * MANIFEST_CHUNK_SIZE;
	}
}

static int
total_chunks(const Manifest *m)
{
	int			n = 0;

	for (int i = 0; i < m->nfiles; i++)
		n += m->files[i].nchunks;
	return n;
}

static void
assert_same_chunk(const ManifestChunk *x, const ManifestChunk *y)
{
	ck_assert_int_eq(x->kind, y->kind);
	ck_assert_uint_eq(x->size, y->size);
	ck_assert_mem_eq(x->sha256, y->sha256, SHA256_LEN);
	ck_assert_uint_eq(x->bundle, y->bundle);
	ck_assert_uint_eq(x->offset, y->offset);
	ck_assert_uint_eq(x->length, y->length);
	ck_assert_uint_eq(x->map_bundle, y->map_bundle);
	ck_assert_uint_eq(x->map_offset, y->map_offset);
	ck_assert_uint_eq(x->map_length, y->map_length);
}

static void
assert_same(const Manifest *a, const Manifest *b)
{
	ck_assert_int_eq(a->format, b->format);
	ck_assert_str_eq(a->label, b->label);
	ck_assert_str_eq(a->type, b->type);
	ck_assert_str_eq(a->parent, b->parent);
	ck_assert_uint_eq(a->chunk_size, b->chunk_size);
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
		ck_assert(!y->digest_mismatch);
		ck_assert_int_eq(x->nchunks, y->nchunks);
		for (int c = 0; c < x->nchunks; c++)
			assert_same_chunk(&x->chunks[c], &y->chunks[c]);
	}
}

/* The incremental parser fed one byte at a time (headers_only: keeping the header fields alone). */
static int
parse_bytewise_as(const char *text, size_t len, Manifest *m, bool headers_only, PgbError *err)
{
	ManifestParser *p = manifest_parser_new(m, UINT64_MAX, err);
	int			rc;

	ck_assert_ptr_nonnull(p);
	if (headers_only)
		manifest_parser_headers_only(p);
	for (size_t i = 0; i < len; i++)
		ck_assert_int_eq(manifest_parser_feed(p, text + i, 1, err), 0);	/* never fails itself */
	rc = manifest_parser_end(p, err);
	manifest_parser_free(p);
	return rc;
}

static int
parse_bytewise(const char *text, size_t len, Manifest *m, PgbError *err)
{
	return parse_bytewise_as(text, len, m, false, err);
}

/* Parse that must succeed, whole and byte by byte alike. */
static void
parse_ok(const char *text, Manifest *m)
{
	PgbError	err = {0};
	Manifest	again;

	ck_assert_msg(manifest_parse(text, strlen(text), m, &err) == 0, "%s\n--\n%s", err.msg, text);
	ck_assert_int_eq(err.code, 0);
	ck_assert_msg(parse_bytewise(text, strlen(text), &again, &err) == 0, "%s\n--\n%s", err.msg, text);
	ck_assert_str_eq(again.label, m->label);
	ck_assert_int_eq(again.ndirs, m->ndirs);
	ck_assert_int_eq(again.nlinks, m->nlinks);
	ck_assert_int_eq(again.nfiles, m->nfiles);
	for (int i = 0; i < m->nfiles; i++)
	{
		ck_assert_str_eq(again.files[i].path, m->files[i].path);
		ck_assert_int_eq(again.files[i].nchunks, m->files[i].nchunks);
		ck_assert_mem_eq(again.files[i].chunks, m->files[i].chunks,
						 sizeof(ManifestChunk) * (size_t) m->files[i].nchunks);
	}
	manifest_free(&again);
	/* the header fields alone: the same header, no records held */
	ck_assert_msg(parse_bytewise_as(text, strlen(text), &again, true, &err) == 0, "%s\n--\n%s", err.msg, text);
	ck_assert(again.headers_only);
	ck_assert_str_eq(again.label, m->label);
	ck_assert_str_eq(again.parent, m->parent);
	ck_assert_uint_eq(again.size, m->size);
	ck_assert_uint_eq(again.stop_lsn, m->stop_lsn);
	ck_assert_int_eq(again.nfiles, 0);
	ck_assert_int_eq(again.ndirs, 0);
	ck_assert_ptr_null(again.files);
	manifest_free(&again);
}

/* Parse that must fail with EXIT_CORRUPT and a message containing needle. */
static void
parse_bad(const char *text, size_t len, const char *needle)
{
	PgbError	err = {0};
	Manifest	m;

	memset(&m, 0x5A, sizeof(m));
	ck_assert_msg(parse_bytewise(text, len, &m, &err) == -1, "accepted byte by byte:\n%s", text);
	ck_assert_msg(strstr(err.msg, needle) != NULL, "byte by byte: \"%s\" lacks \"%s\"", err.msg, needle);
	pgb_error_clear(&err);
	/* reading the header fields alone checks every record just the same */
	memset(&m, 0x5A, sizeof(m));
	ck_assert_msg(parse_bytewise_as(text, len, &m, true, &err) == -1, "accepted for its header:\n%s", text);
	ck_assert_msg(strstr(err.msg, needle) != NULL, "for its header: \"%s\" lacks \"%s\"", err.msg, needle);
	ck_assert_int_eq(m.nfiles, 0);
	ck_assert_ptr_null(m.cluster);
	pgb_error_clear(&err);
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

/* Three lines of header; the first record is line 4. */
#define MIN_HEAD "pgbkp-manifest\t1\nh\tlabel\tL1\nh\twal_segment_size\t16777216\n"
#define MIN_HEAD2 "pgbkp-manifest\t2\nh\tlabel\tL1\nh\twal_segment_size\t16777216\n"
#define SHA_HEX "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define SHA_HEX2 "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
/* format 2: a file of n chunks and well-formed chunk records of each kind */
#define F2(n) "f\tbase/x\t9\t600\t0\t" SHA_HEX "\t" #n "\n"
#define C_F "c\tF\t3\t" SHA_HEX "\t1\t0\t3\t0\t0\t0\n"
#define C_R "c\tR\t3\t" SHA_HEX2 "\t0\t0\t0\t0\t0\t0\n"
#define C_D "c\tD\t3\t" SHA_HEX "\t2\t10\t5\t3\t20\t8\n"

/* ------------------------------------------------------------ round trip */

START_TEST(test_round_trip_all_fields)
{
	Manifest	m;
	Manifest	back;
	HarnessBuf	t;
	PgbError	err = {0};

	build_full(&m);
	write_text(&m, &t);
	ck_assert_msg(manifest_parse(t.text, t.len, &back, &err) == 0, "%s\n%s", err.msg, t.text);
	assert_same(&m, &back);

	/* and the text is stable: writing the parsed manifest gives the same bytes */
	{
		HarnessBuf	t2;

		write_text(&back, &t2);
		ck_assert_uint_eq(t.len, t2.len);
		ck_assert_str_eq(t.text, t2.text);
		free(t2.text);
	}
	manifest_free(&m);
	manifest_free(&back);
	free(t.text);
}
END_TEST

/* Every record is one line of TAB-separated fields; nothing raw leaks out. */
START_TEST(test_written_text_shape)
{
	Manifest	m;
	HarnessBuf	t;
	int			lines = 0;
	int			expected;
	int			due = 0;		/* chunk lines still owed to the last file */
	int			file = 0;
	char	   *line;
	char	   *save;

	build_full(&m);
	write_text(&m, &t);
	ck_assert_int_eq(strncmp(t.text, "pgbkp-manifest\t2\n", 17), 0);
	ck_assert(t.len > 0 && t.text[t.len - 1] == '\n');
	ck_assert_uint_eq(strlen(t.text), t.len);	/* no NUL inside */

	/* escapes as documented: TAB %09, newline %0A, '%' %25, DEL %7F */
	ck_assert_ptr_nonnull(strstr(t.text, "\tbase/1/tab%09here\t"));
	ck_assert_ptr_nonnull(strstr(t.text, "\tbase/1/new%0Aline\t"));
	ck_assert_ptr_nonnull(strstr(t.text, "\tbase/1/carriage%0Dreturn\t"));
	ck_assert_ptr_nonnull(strstr(t.text, "\tbase/1/100%25\t"));
	ck_assert_ptr_nonnull(strstr(t.text, "\tbase/1/%2541%25\t"));
	ck_assert_ptr_nonnull(strstr(t.text, "\tbase/1/del%7F\t"));
	ck_assert_ptr_nonnull(strstr(t.text, "\tbase/1/file with spaces\t"));
	/* UTF-8 passes through untouched */
	ck_assert_ptr_nonnull(strstr(t.text, odd_paths[8]));
	/* modes are octal */
	ck_assert_ptr_nonnull(strstr(t.text, "d\tbase/1\t2750\n"));
	ck_assert_ptr_nonnull(strstr(t.text, "l\tpg_tblspc/16400\t/data/tablespace one/%25x\n"));
	ck_assert_ptr_nonnull(strstr(t.text, "h\tstart_lsn\t16/B374D848\n"));
	ck_assert_ptr_nonnull(strstr(t.text, "h\tcluster\tpg-meta %251%09tab\n"));
	ck_assert_ptr_nonnull(strstr(t.text, "\nh\tparent\t20241124T000000F_20241125T010000I\n"));
	ck_assert_ptr_nonnull(strstr(t.text, "\nh\tchunk_size\t16777216\n"));
	/* a file line counts its chunks; chunk lines follow it, every field in place */
	ck_assert_ptr_nonnull(strstr(t.text, "\nf\tglobal/pg_control\t18446744073709551615\t0\t-9223372036854775808\t"));
	{
		char		hex[SHA256_HEX_LEN + 1];
		char		want[256];
		uint8_t		sha[SHA256_LEN];

		/* one chunk: the file's SHA-256 is its chunk's */
		sha_fill(sha, 98);
		sha256_to_hex(sha, hex);
		snprintf(want, sizeof(want), "\t%s\t1\nc\tF\t18446744073709551615\t", hex);
		ck_assert_msg(strstr(t.text, want) != NULL, "no \"%s\"", want);
		sha_fill(sha, 98);
		sha256_to_hex(sha, hex);
		snprintf(want, sizeof(want), "\tF\t18446744073709551615\t%s\t4294967295\t18446744073709551615\t0\t"
				 "4294967295\t18446744073709551615\t18446744073709551615\n", hex);
		ck_assert_msg(strstr(t.text, want) != NULL, "no \"%s\"", want);
		/* a reference: no frame, no map (file 1 chunk 0, seed 10) */
		sha_fill(sha, 10);
		sha256_to_hex(sha, hex);
		snprintf(want, sizeof(want), "\nc\tR\t16777216\t%s\t0\t0\t0\t0\t0\t0\n", hex);
		ck_assert_msg(strstr(t.text, want) != NULL, "no \"%s\"", want);
		/* a delta (file 1 chunk 1, seed 11) */
		sha_fill(sha, 11);
		sha256_to_hex(sha, hex);
		snprintf(want, sizeof(want), "\nc\tD\t1001\t%s\t3\t45056\t848\t4\t90117\t96\n", hex);
		ck_assert_msg(strstr(t.text, want) != NULL, "no \"%s\"", want);
	}

	expected = 1 + 20 + m.ndirs + m.nlinks + m.nfiles + total_chunks(&m) + 1;
	for (line = strtok_r(t.text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
	{
		int			tabs = 0;

		lines++;
		for (const char *c = line; *c; c++)
			tabs += *c == '\t';
		if (line[0] == 'c' && line[1] == '\t')
		{
			ck_assert_msg(tabs == 9, "chunk line with %d tabs: %s", tabs, line);
			ck_assert_msg(due > 0, "chunk line not right after its file: %s", line);
			due--;
			continue;
		}
		ck_assert_msg(due == 0, "%d chunk lines missing before: %s", due, line);
		if (line[0] == 'f' && line[1] == '\t')
		{
			ck_assert_msg(tabs == 6, "file line with %d tabs: %s", tabs, line);
			due = m.files[file++].nchunks;
		}
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
	free(t.text);
}
END_TEST

START_TEST(test_round_trip_empty_manifest)
{
	Manifest	m;
	Manifest	back;
	HarnessBuf	t;
	PgbError	err = {0};

	manifest_init(&m);
	ck_assert_int_eq(m.format, MANIFEST_FORMAT_VERSION);
	snprintf(m.label, sizeof(m.label), "%s", "L");
	m.wal_segment_size = MiB;
	m.timeline = 1;
	m.pg_version = 170000;
	m.block_size = 8192;
	write_text(&m, &t);
	ck_assert_ptr_nonnull(strstr(t.text, "end\t0\t0\t0\n"));
	ck_assert_msg(manifest_parse(t.text, t.len, &back, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(back.ndirs + back.nlinks + back.nfiles, 0);
	/* absent strings come back as empty ones */
	ck_assert_str_eq(back.cluster, "");
	ck_assert_str_eq(back.pgdata, "");
	ck_assert_uint_eq(back.wal_segment_size, MiB);
	manifest_free(&m);
	manifest_free(&back);
	free(t.text);
}
END_TEST

/* Thousands of records and one very long path: output leaves in pieces. */
START_TEST(test_round_trip_large)
{
	Manifest	m;
	Manifest	back;
	HarnessBuf	t;
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
		f = manifest_add_file(&m, path, 1, &err);
		ck_assert_ptr_nonnull(f);
		f->size = (uint64_t) i;
		fill_chunk(&f->chunks[0], CHUNK_STORED, i, (uint64_t) i);
		f->chunks[0].bundle = 1 + i / 1000;
	}
	/* a 64 GiB file */
	{
		ManifestFile *f = manifest_add_file(&m, "base/16384/99999", 4096, &err);

		ck_assert_ptr_nonnull(f);
		for (int c = 0; c < 4096; c++)
			fill_chunk(&f->chunks[c], CHUNK_STORED, c, MANIFEST_CHUNK_SIZE);
		f->size = 4096 * MANIFEST_CHUNK_SIZE;
	}
	for (int i = 0; i < 300; i++)
	{
		snprintf(path, sizeof(path), "base/%d", i);
		ck_assert_int_eq(manifest_add_dir(&m, path, 0700, &err), 0);
	}
	memset(longpath, 'p', 50000);
	longpath[50000] = '\0';
	longpath[20000] = '%';		/* escaped: 50 002 bytes on the line */
	{
		ManifestFile *f = manifest_add_file(&m, longpath, 1, &err);

		ck_assert_ptr_nonnull(f);
		fill_chunk(&f->chunks[0], CHUNK_STORED, 7, 0);
	}

	write_text(&m, &t);
	ck_assert_int_gt(t.calls, 1);
	ck_assert_msg(manifest_parse(t.text, t.len, &back, &err) == 0, "%s", err.msg);
	assert_same(&m, &back);
	manifest_free(&m);
	manifest_free(&back);
	free(t.text);
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

/* A text header key given twice: the last value, and the first one freed (found by fuzzing; LeakSanitizer sees it). */
START_TEST(test_parse_text_header_twice)
{
	Manifest	m;

	parse_ok(MIN_HEAD "h\tcluster\ta\nh\tcluster\tb\nh\tpgdata\t/x\nh\tpgdata\t/y\n"
			 "h\tpgbkp_version\t1\nh\tpgbkp_version\t2\nend\t0\t0\t0\n", &m);
	ck_assert_str_eq(m.cluster, "b");
	ck_assert_str_eq(m.pgdata, "/y");
	ck_assert_str_eq(m.pgbkp_version, "2");
	manifest_free(&m);
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
	ck_assert_uint_eq(m.files[0].chunks[0].sha256[0], 0x00);
	ck_assert_uint_eq(m.files[0].chunks[0].sha256[1], 0x11);
	ck_assert_uint_eq(m.files[0].chunks[0].sha256[31], 0xff);
	ck_assert(!m.files[0].digest_mismatch);
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

/* A segment size PostgreSQL cannot have (found by fuzzing: above 4 GiB, naming a WAL segment divided by zero). */
START_TEST(test_parse_bad_segment_size)
{
	const char *sizes[] = {"0", "1000000", "3145728", "2147483648", "8589934592", "1795643818060243"};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
	{
		char		text[256];

		snprintf(text, sizeof(text), "pgbkp-manifest\t1\nh\tlabel\tL1\nh\twal_segment_size\t%s\nend\t0\t0\t0\n",
				 sizes[i]);
		parse_bad(text, strlen(text), "line 3 is malformed");
	}
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
	const char *v3 = "pgbkp-manifest\t3\nh\tlabel\tL1\nh\twal_segment_size\t16777216\nend\t0\t0\t0\n";
	const char *v0 = "pgbkp-manifest\t0\nend\t0\t0\t0\n";
	const char *v02 = "pgbkp-manifest\t02\nend\t0\t0\t0\n";
	const char *v1x = "pgbkp-manifest\t1x\nend\t0\t0\t0\n";
	const char *vempty = "pgbkp-manifest\t\nend\t0\t0\t0\n";
	const char *other = "not-a-manifest\t1\n";
	const char *nofield = "pgbkp-manifest\n";
	const char *extra = "pgbkp-manifest\t1\t1\n";
	Manifest	m;

	parse_bad(v3, strlen(v3), "format 3 is not supported");
	parse_bad(v3, strlen(v3), "formats 1 to 2");
	parse_bad(v0, strlen(v0), "format 0 is not supported");
	parse_bad(v02, strlen(v02), "format 02 is not supported");
	parse_bad(v1x, strlen(v1x), "format 1x is not supported");
	parse_bad(vempty, strlen(vempty), "is not supported");
	/* both formats this pgbkp writes or wrote are read */
	parse_ok(MIN_HEAD "end\t0\t0\t0\n", &m);
	manifest_free(&m);
	parse_ok(MIN_HEAD2 "end\t0\t0\t0\n", &m);
	manifest_free(&m);
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

/* ------------------------------------------------------------ format 1 */

/* A format 1 file record is one stored chunk holding the whole file. */
START_TEST(test_parse_format1_one_stored_chunk)
{
	Manifest	m;
	const ManifestChunk *c;
	uint8_t		sha[SHA256_LEN];

	parse_ok(MIN_HEAD "h\ttype\tfull\n"
			 "f\tbase/1/16384\t123456\t600\t1700000000\t" SHA_HEX "\t7\t4096\t999\n"
			 "f\tglobal/pg_control\t18446744073709551615\t600\t-1\t" SHA_HEX2 "\t4294967295\t18446744073709551615\t18446744073709551615\n"
			 "f\tempty\t0\t600\t0\t" SHA_HEX "\t1\t0\t9\n"
			 "end\t0\t0\t3\n", &m);
	ck_assert_str_eq(m.parent, "");
	ck_assert_uint_eq(m.chunk_size, 0);
	ck_assert_int_eq(m.nfiles, 3);

	ck_assert(sha256_from_hex(SHA_HEX, sha));
	ck_assert_str_eq(m.files[0].path, "base/1/16384");
	ck_assert_uint_eq(m.files[0].size, 123456);
	ck_assert_uint_eq(m.files[0].mode, 0600);
	ck_assert_int_eq(m.files[0].mtime, 1700000000);
	ck_assert(!m.files[0].digest_mismatch);
	ck_assert_int_eq(m.files[0].nchunks, 1);
	ck_assert_ptr_nonnull(m.files[0].chunks);
	c = &m.files[0].chunks[0];
	ck_assert_int_eq(c->kind, CHUNK_STORED);
	ck_assert_uint_eq(c->size, 123456);
	ck_assert_mem_eq(c->sha256, sha, SHA256_LEN);
	ck_assert_uint_eq(c->bundle, 7);
	ck_assert_uint_eq(c->offset, 4096);
	ck_assert_uint_eq(c->length, 999);
	ck_assert_uint_eq(c->map_bundle, 0);
	ck_assert_uint_eq(c->map_offset, 0);
	ck_assert_uint_eq(c->map_length, 0);
	/* the file digest of a one-chunk file is the chunk's */
	{
		uint8_t		d[SHA256_LEN];

		manifest_file_digest(&m.files[0], d);
		ck_assert_mem_eq(d, sha, SHA256_LEN);
	}

	ck_assert(sha256_from_hex(SHA_HEX2, sha));
	ck_assert_int_eq(m.files[1].nchunks, 1);
	c = &m.files[1].chunks[0];
	ck_assert_int_eq(c->kind, CHUNK_STORED);
	ck_assert_uint_eq(c->size, UINT64_MAX);
	ck_assert_mem_eq(c->sha256, sha, SHA256_LEN);
	ck_assert_uint_eq(c->bundle, UINT32_MAX);
	ck_assert_uint_eq(c->offset, UINT64_MAX);
	ck_assert_uint_eq(c->length, UINT64_MAX);
	ck_assert_int_eq(m.files[1].mtime, -1);

	ck_assert_int_eq(m.files[2].nchunks, 1);
	ck_assert_uint_eq(m.files[2].chunks[0].size, 0);
	ck_assert_uint_eq(m.files[2].chunks[0].length, 9);

	/* stored chunks need no parent */
	{
		PgbError	err = {0};

		ck_assert_msg(manifest_check_paths(&m, &err) == 0, "%s", err.msg);
	}
	manifest_free(&m);
}
END_TEST

/* A format 1 manifest read and written again comes out as format 2 with the same content. */
START_TEST(test_format1_rewritten_as_format2)
{
	Manifest	m;
	Manifest	back;
	HarnessBuf	t;
	PgbError	err = {0};

	/* the header fields that must not be 0 once written */
	parse_ok(MIN_HEAD "h\tpg_version\t150004\nh\ttimeline\t1\nh\tblock_size\t8192\n"
			 "h\tcluster\tc\nh\tpgdata\t/pg\nh\tpgbkp_version\t0.1.0\n"
			 "d\tbase\t700\n"
			 "f\tbase/1/16384\t10\t600\t5\t" SHA_HEX "\t1\t0\t7\n"
			 "f\tbase/1/16385\t20\t600\t6\t" SHA_HEX2 "\t2\t7\t8\n"
			 "end\t1\t0\t2\n", &m);
	write_text(&m, &t);
	ck_assert_int_eq(strncmp(t.text, "pgbkp-manifest\t2\n", 17), 0);
	ck_assert_ptr_nonnull(strstr(t.text, "\nf\tbase/1/16385\t20\t600\t6\t" SHA_HEX2 "\t1\n"
								 "c\tF\t20\t" SHA_HEX2 "\t2\t7\t8\t0\t0\t0\n"));
	ck_assert_msg(manifest_parse(t.text, t.len, &back, &err) == 0, "%s\n%s", err.msg, t.text);
	assert_same(&m, &back);
	manifest_free(&m);
	manifest_free(&back);
	free(t.text);
}
END_TEST

/* Format 1 shapes and records that format 2 introduced do not mix. */
START_TEST(test_parse_format1_refusals)
{
	static const char *const cases[] = {
		"f\tbase/x\t1\t600\t0\t" SHA_HEX "\t0\t0\t1\nend\t0\t0\t1\n",	/* bundle 0 */
		"f\tbase/x\t1\t600\t0\t" SHA_HEX "\t1\nend\t0\t0\t1\n",	/* format 2 shape */
		"c\tF\t3\t" SHA_HEX "\t1\t0\t3\t0\t0\t0\nend\t0\t0\t0\n",	/* a chunk record */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char		text[1024];

		snprintf(text, sizeof(text), MIN_HEAD "%s", cases[i]);
		parse_bad(text, strlen(text), "manifest line 4 is malformed");
	}
	/* a chunk record after a format 1 file */
	{
		const char *text = MIN_HEAD "f\tbase/x\t3\t600\t0\t" SHA_HEX "\t1\t0\t3\n" C_F "end\t0\t0\t1\n";

		parse_bad(text, strlen(text), "manifest line 5 is malformed");
	}
}
END_TEST

/* ------------------------------------------------------------ format 2 */

START_TEST(test_parse_format2_chunks)
{
	Manifest	m;
	uint8_t		sha[SHA256_LEN];
	uint8_t		sha2[SHA256_LEN];

	parse_ok(MIN_HEAD2 "h\tparent\tP1\nh\tchunk_size\t1048576\n"
			 F2(3) C_F C_R C_D
			 "f\tbase/y\t3\t600\t0\t" SHA_HEX "\t1\n" C_R
			 "end\t0\t0\t2\n", &m);
	ck_assert(sha256_from_hex(SHA_HEX, sha));
	ck_assert(sha256_from_hex(SHA_HEX2, sha2));
	ck_assert_str_eq(m.parent, "P1");
	ck_assert_uint_eq(m.chunk_size, 1048576);
	ck_assert_int_eq(m.nfiles, 2);
	ck_assert_int_eq(m.files[0].nchunks, 3);
	ck_assert_uint_eq(m.files[0].size, 9);
	ck_assert_int_eq(m.files[0].chunks[0].kind, CHUNK_STORED);
	ck_assert_int_eq(m.files[0].chunks[1].kind, CHUNK_REF);
	ck_assert_int_eq(m.files[0].chunks[2].kind, CHUNK_DELTA);
	ck_assert_mem_eq(m.files[0].chunks[0].sha256, sha, SHA256_LEN);
	ck_assert_mem_eq(m.files[0].chunks[1].sha256, sha2, SHA256_LEN);
	ck_assert_uint_eq(m.files[0].chunks[1].bundle, 0);
	ck_assert_uint_eq(m.files[0].chunks[2].size, 3);
	ck_assert_uint_eq(m.files[0].chunks[2].bundle, 2);
	ck_assert_uint_eq(m.files[0].chunks[2].offset, 10);
	ck_assert_uint_eq(m.files[0].chunks[2].length, 5);
	ck_assert_uint_eq(m.files[0].chunks[2].map_bundle, 3);
	ck_assert_uint_eq(m.files[0].chunks[2].map_offset, 20);
	ck_assert_uint_eq(m.files[0].chunks[2].map_length, 8);
	ck_assert_str_eq(m.files[1].path, "base/y");
	ck_assert_int_eq(m.files[1].nchunks, 1);
	ck_assert_int_eq(m.files[1].chunks[0].kind, CHUNK_REF);
	/* the recorded file SHA-256s are not their chunks' (SHA_HEX for three chunks; SHA_HEX2's file says SHA_HEX) */
	ck_assert(m.files[0].digest_mismatch);
	ck_assert(m.files[1].digest_mismatch);
	manifest_free(&m);

	/* one chunk: the file's SHA-256 is the chunk's */
	parse_ok(MIN_HEAD2 F2(1) "c\tF\t9\t" SHA_HEX "\t1\t0\t3\t0\t0\t0\n" "end\t0\t0\t1\n", &m);
	ck_assert(!m.files[0].digest_mismatch);
	manifest_free(&m);
}
END_TEST

/* Each bad chunk record is refused, naming its line (line 5, after its file on line 4). */
START_TEST(test_parse_bad_chunk_records)
{
	static const char *const cases[] = {
		"c\tX\t3\t" SHA_HEX "\t1\t0\t3\t0\t0\t0\n",	/* no such kind */
		"c\tf\t3\t" SHA_HEX "\t1\t0\t3\t0\t0\t0\n",	/* kinds are upper case */
		"c\tr\t3\t" SHA_HEX "\t0\t0\t0\t0\t0\t0\n",
		"c\td\t3\t" SHA_HEX "\t1\t0\t3\t0\t0\t0\n",
		"c\tFF\t3\t" SHA_HEX "\t1\t0\t3\t0\t0\t0\n",	/* one letter */
		"c\tFR\t3\t" SHA_HEX "\t0\t0\t3\t0\t0\t0\n",
		"c\t\t3\t" SHA_HEX "\t1\t0\t3\t0\t0\t0\n",	/* empty kind */
		"c\t%46\t3\t" SHA_HEX "\t0\t0\t3\t0\t0\t0\n",	/* escaped 'F': valid, but bundle 0 */
		"c\tR\t3\t" SHA_HEX "\t1\t0\t0\t0\t0\t0\n",	/* reference with a frame */
		"c\tR\t3\t" SHA_HEX "\t4294967295\t0\t0\t0\t0\t0\n",
		"c\tF\t3\t" SHA_HEX "\t0\t0\t3\t0\t0\t0\n",	/* stored without a frame */
		"c\tD\t3\t" SHA_HEX "\t0\t0\t3\t1\t0\t8\n",	/* delta without a frame */
		"c\tF\t3\t" SHA_HEX "\t1\t0\t3\t0\t0\n",	/* 9 fields */
		"c\tF\t-3\t" SHA_HEX "\t1\t0\t3\t0\t0\t0\n",	/* negative size */
		"c\tF\t3x\t" SHA_HEX "\t1\t0\t3\t0\t0\t0\n",
		"c\tF\t\t" SHA_HEX "\t1\t0\t3\t0\t0\t0\n",	/* empty size */
		"c\tF\t3\t" SHA_HEX "0\t1\t0\t3\t0\t0\t0\n",	/* sha of 65 digits */
		"c\tF\t3\t00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff\t1\t0\t3\t0\t0\t0\n",
		"c\tF\t3\t\t1\t0\t3\t0\t0\t0\n",
		"c\tF\t3\t" SHA_HEX "\t4294967296\t0\t3\t0\t0\t0\n",	/* bundle > u32 */
		"c\tF\t3\t" SHA_HEX "\t1\t18446744073709551616\t3\t0\t0\t0\n",	/* offset > u64 */
		"c\tF\t3\t" SHA_HEX "\t1\t0\t18446744073709551616\t0\t0\t0\n",
		"c\tF\t3\t" SHA_HEX "\t1\t0\t3\t4294967296\t0\t0\n",	/* map bundle > u32 */
		"c\tF\t3\t" SHA_HEX "\t1\t0\t3\t1\t-1\t8\n",
		"c\tF\t3\t" SHA_HEX "\t1\t0\t3\t1\t0\tx\n",
		"c\tF\t3\t" SHA_HEX "\t+1\t0\t3\t0\t0\t0\n",
		"C\tF\t3\t" SHA_HEX "\t1\t0\t3\t0\t0\t0\n",	/* record types are case-sensitive */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char		text[1024];

		snprintf(text, sizeof(text), MIN_HEAD2 F2(1) "%send\t0\t0\t1\n", cases[i]);
		parse_bad(text, strlen(text), "manifest line 5 is malformed");
	}
}
END_TEST

/*
 * A chunk record has exactly 10 fields: anything after map_length is an
 * error, not silently dropped.
 */
START_TEST(test_parse_chunk_extra_fields)
{
	static const char *const cases[] = {
		"c\tF\t3\t" SHA_HEX "\t1\t0\t3\t0\t0\t0\t0\n",	/* 11 fields */
		"c\tF\t3\t" SHA_HEX "\t1\t0\t3\t0\t0\t0\t\n",	/* trailing TAB */
		"c\tF\t3\t" SHA_HEX "\t1\t0\t3\t0\t0\t0\tjunk\tmore\n",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char		text[1024];

		snprintf(text, sizeof(text), MIN_HEAD2 F2(1) "%send\t0\t0\t1\n", cases[i]);
		parse_bad(text, strlen(text), "manifest line 5 is malformed");
	}
}
END_TEST

/* Bad format 2 file records (line 4). */
START_TEST(test_parse_bad_file_records_v2)
{
	static const char *const cases[] = {
		F2(0),					/* a file has at least one chunk */
		F2(16777217),			/* more than 256 TiB of 16 MiB chunks */
		F2(4294967297),
		F2(-1),
		F2(1x),
		"f\tbase/x\t9\t600\t0\t" SHA_HEX "\t\n",
		"f\tbase/x\t9\t600\t0\t" SHA_HEX "\n",	/* 6 fields */
		"f\tbase/x\t9\t600\t0\t" SHA_HEX "\t1\t0\t9\n",	/* format 1 shape */
		"f\tbase/x\t9\t600\t0\t" SHA_HEX "\t1\t0\n",
		"f\tbase/x\t9\t600\t0\tnot-a-sha\t1\n",
		"f\tbase/x\t9\t800\t0\t" SHA_HEX "\t1\n",	/* mode not octal */
		"f\tbase/x\t9\t600\tnow\t" SHA_HEX "\t1\n",
		"c\tF\t3\t" SHA_HEX "\t1\t0\t3\t0\t0\t0\n",	/* a chunk with no file before it */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char		text[1024];

		snprintf(text, sizeof(text), MIN_HEAD2 "%s" C_F "end\t0\t0\t1\n", cases[i]);
		parse_bad(text, strlen(text), "manifest line 4 is malformed");
	}
}
END_TEST

/* A file owns exactly its nchunks chunk records, right after it. */
START_TEST(test_parse_chunk_count_mismatch)
{
	static const struct
	{
		const char *body;
		const char *needle;
	}			cases[] = {
		/* fewer chunks than announced, then another record */
		{F2(2) C_F F2(1) C_F "end\t0\t0\t2\n", "manifest line 6 is malformed"},
		{F2(2) C_F "d\tbase\t700\nend\t1\t0\t1\n", "manifest line 6 is malformed"},
		{F2(2) C_F "l\tpg_tblspc/1\t/t\nend\t0\t1\t1\n", "manifest line 6 is malformed"},
		{F2(3) C_F C_R F2(1) C_F C_D "end\t0\t0\t2\n", "manifest line 7 is malformed"},
		/* more chunks than announced */
		{F2(1) C_F C_F "end\t0\t0\t1\n", "manifest line 6 is malformed"},
		{F2(2) C_F C_R C_D "end\t0\t0\t1\n", "manifest line 7 is malformed"},
		/* chunk records with no file before them */
		{C_F "end\t0\t0\t0\n", "manifest line 4 is malformed"},
		{"d\tbase\t700\n" C_F "end\t1\t0\t0\n", "manifest line 5 is malformed"},
		{"l\tpg_tblspc/1\t/t\n" C_R "end\t0\t1\t0\n", "manifest line 5 is malformed"},
		/* the end record before all chunks came */
		{F2(2) C_F "end\t0\t0\t1\n", "manifest line 6 is malformed"},
		{F2(3) C_F C_R "end\t0\t0\t1\n", "manifest line 7 is malformed"},
		{F2(1) "end\t0\t0\t1\n", "manifest line 5 is malformed"},
		/* the text ends before all chunks came */
		{F2(2) C_F, "incomplete"},
		{F2(1), "incomplete"},
		/* a chunk after the end */
		{F2(1) C_F "end\t0\t0\t1\n" C_F, "manifest line 7 is malformed"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char		text[2048];

		snprintf(text, sizeof(text), MIN_HEAD2 "%s", cases[i].body);
		parse_bad(text, strlen(text), cases[i].needle);
	}
}
END_TEST

/* The header fields format 2 added. */
START_TEST(test_parse_format2_headers)
{
	Manifest	m;
	const char *long_parent = MIN_HEAD2 "h\tparent\t0123456789012345678901234567890123456789012345678901234567890123\nend\t0\t0\t0\n";
	const char *bad_chunk_size = MIN_HEAD2 "h\tchunk_size\t-1\nend\t0\t0\t0\n";
	const char *bad_chunk_size2 = MIN_HEAD2 "h\tchunk_size\t16M\nend\t0\t0\t0\n";

	/* absent: a full backup of format 2 without the fields still reads */
	parse_ok(MIN_HEAD2 "end\t0\t0\t0\n", &m);
	ck_assert_str_eq(m.parent, "");
	ck_assert_uint_eq(m.chunk_size, 0);
	manifest_free(&m);
	/* empty parent, as a full backup writes it */
	parse_ok(MIN_HEAD2 "h\tparent\t\nh\tchunk_size\t16777216\nend\t0\t0\t0\n", &m);
	ck_assert_str_eq(m.parent, "");
	ck_assert_uint_eq(m.chunk_size, MANIFEST_CHUNK_SIZE);
	manifest_free(&m);
	/* 63 characters fit */
	parse_ok(MIN_HEAD2 "h\tparent\t012345678901234567890123456789012345678901234567890123456789012\nend\t0\t0\t0\n", &m);
	ck_assert_uint_eq(strlen(m.parent), 63);
	manifest_free(&m);
	parse_bad(long_parent, strlen(long_parent), "manifest line 4 is malformed");
	parse_bad(bad_chunk_size, strlen(bad_chunk_size), "manifest line 4 is malformed");
	parse_bad(bad_chunk_size2, strlen(bad_chunk_size2), "manifest line 4 is malformed");
}
END_TEST

/* ------------------------------------------------------------ path checks */

/* A file of one stored chunk (what a full backup holds). */
static ManifestFile *
add_stored_file(Manifest *m, const char *path)
{
	PgbError	err = {0};
	ManifestFile *f = manifest_add_file(m, path, 1, &err);

	ck_assert_msg(f != NULL, "%s", err.msg);
	fill_chunk(&f->chunks[0], CHUNK_STORED, 1, 10);
	return f;
}

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
		add_stored_file(&m, file);
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

			add_stored_file(m, "base/2");
			ck_assert_int_eq(manifest_check_paths(m, &err), 0);
			add_stored_file(m, bad[i]);
			ck_assert_int_eq(manifest_check_paths(m, &err), -1);
			ck_assert_int_eq(err.code, EXIT_CORRUPT);
			ck_assert_msg(strstr(err.msg, "parent") == NULL, "wrong reason: %s", err.msg);
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

/* Reference and delta chunks need a parent backup to resolve against. */
START_TEST(test_check_paths_chunks_need_parent)
{
	static const char kinds[] = {CHUNK_REF, CHUNK_DELTA};

	for (size_t k = 0; k < sizeof(kinds); k++)
	{
		Manifest   *m = one_path_manifest("base", "base/1/1259", NULL, NULL);
		ManifestFile *f;
		PgbError	err = {0};

		f = manifest_add_file(m, "base/1/16384", 3, &err);
		ck_assert_ptr_nonnull(f);
		fill_chunk(&f->chunks[0], CHUNK_STORED, 1, MANIFEST_CHUNK_SIZE);
		fill_chunk(&f->chunks[1], CHUNK_STORED, 2, MANIFEST_CHUNK_SIZE);
		fill_chunk(&f->chunks[2], kinds[k], 3, 5);
		add_stored_file(m, "global/pg_control");

		/* no parent: refused, naming the backup and the file */
		ck_assert_int_eq(manifest_check_paths(m, &err), -1);
		ck_assert_int_eq(err.code, EXIT_CORRUPT);
		ck_assert_msg(strstr(err.msg, "LBL") != NULL, "%s", err.msg);
		ck_assert_msg(strstr(err.msg, "base/1/16384") != NULL, "%s", err.msg);

		/* with one: accepted */
		snprintf(m->parent, sizeof(m->parent), "%s", "PARENT");
		pgb_error_clear(&err);
		ck_assert_msg(manifest_check_paths(m, &err) == 0, "%s", err.msg);
		manifest_free(m);
	}
}
END_TEST

/* The same through the parser: a parent header makes references acceptable. */
START_TEST(test_parsed_references_need_parent)
{
	Manifest	m;
	PgbError	err = {0};

	parse_ok(MIN_HEAD2 F2(2) C_F C_R "end\t0\t0\t1\n", &m);
	ck_assert_int_eq(manifest_check_paths(&m, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	manifest_free(&m);

	parse_ok(MIN_HEAD2 "h\tparent\t\n" F2(1) C_D "end\t0\t0\t1\n", &m);
	ck_assert_int_eq(manifest_check_paths(&m, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	manifest_free(&m);

	parse_ok(MIN_HEAD2 "h\tparent\tP\n" F2(3) C_F C_R C_D "end\t0\t0\t1\n", &m);
	pgb_error_clear(&err);
	ck_assert_msg(manifest_check_paths(&m, &err) == 0, "%s", err.msg);
	manifest_free(&m);

	/* stored chunks only: fine without a parent */
	parse_ok(MIN_HEAD2 F2(2) C_F C_F "end\t0\t0\t1\n", &m);
	ck_assert_msg(manifest_check_paths(&m, &err) == 0, "%s", err.msg);
	manifest_free(&m);
}
END_TEST

/* ------------------------------------------------------------ lookup and order */

START_TEST(test_find_file_sorted)
{
	/* already in strcmp order: bytes, not locale (' ' < '/' < '0' < 'A' < 'a' < UTF-8) */
	static const char *const sorted[] = {
		"PG_VERSION",
		"a b",
		"a/b",
		"a0",
		"base/1/10",
		"base/1/1259",
		"base/1/2",
		"global/pg_control",
		"postgresql.conf",
		"z",
		"\xc3\xa9t\xc3\xa9",
	};
	static const char *const missing[] = {
		"", "A", "PG_VERSIO", "PG_VERSIONx", "a", "a/", "base", "base/1/1", "base/1/11", "global",
		"zz", "\xc3\xa9", "\xff",
	};
	static const int shuffle[] = {6, 3, 10, 0, 8, 1, 9, 4, 2, 7, 5};
	Manifest	m;
	PgbError	err = {0};
	int			n = (int) (sizeof(sorted) / sizeof(sorted[0]));

	manifest_init(&m);
	ck_assert_int_eq(manifest_find_file(&m, "a"), -1);	/* empty */
	manifest_sort_files(&m);
	ck_assert_int_eq(m.nfiles, 0);

	for (int i = 0; i < n; i++)
	{
		ManifestFile *f = manifest_add_file(&m, sorted[shuffle[i]], 1, &err);

		ck_assert_ptr_nonnull(f);
		/* each file's own data must travel with it */
		f->size = (uint64_t) shuffle[i];
		fill_chunk(&f->chunks[0], CHUNK_STORED, shuffle[i], (uint64_t) shuffle[i]);
	}
	manifest_sort_files(&m);
	ck_assert_int_eq(m.nfiles, n);
	for (int i = 0; i < n; i++)
	{
		uint8_t		sha[SHA256_LEN];

		ck_assert_str_eq(m.files[i].path, sorted[i]);
		ck_assert_uint_eq(m.files[i].size, (uint64_t) i);
		ck_assert_uint_eq(m.files[i].chunks[0].size, (uint64_t) i);
		sha_fill(sha, i);
		ck_assert_mem_eq(m.files[i].chunks[0].sha256, sha, SHA256_LEN);
		ck_assert_int_eq(manifest_find_file(&m, sorted[i]), i);
	}
	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++)
		ck_assert_msg(manifest_find_file(&m, missing[i]) == -1, "found \"%s\"", missing[i]);
	/* sorting again changes nothing */
	manifest_sort_files(&m);
	for (int i = 0; i < n; i++)
		ck_assert_str_eq(m.files[i].path, sorted[i]);
	manifest_free(&m);

	/* one file */
	manifest_init(&m);
	add_stored_file(&m, "only");
	manifest_sort_files(&m);
	ck_assert_int_eq(manifest_find_file(&m, "only"), 0);
	ck_assert_int_eq(manifest_find_file(&m, "onl"), -1);
	ck_assert_int_eq(manifest_find_file(&m, "onlyx"), -1);
	manifest_free(&m);
}
END_TEST

/* Many files in a scrambled order: all found after sorting, none that is not there. */
START_TEST(test_find_file_many)
{
	Manifest	m;
	PgbError	err = {0};
	char		path[64];
	const int	n = 1000;

	manifest_init(&m);
	for (int i = 0; i < n; i++)
	{
		int			k = (i * 337) % n;	/* 337 is prime to 1000: a permutation */

		snprintf(path, sizeof(path), "base/16384/%d", 2 * k);
		ck_assert_ptr_nonnull(manifest_add_file(&m, path, 1 + k % 3, &err));
		m.files[m.nfiles - 1].size = (uint64_t) k;
	}
	manifest_sort_files(&m);
	for (int i = 1; i < n; i++)
		ck_assert_msg(strcmp(m.files[i - 1].path, m.files[i].path) < 0, "%s before %s",
					  m.files[i - 1].path, m.files[i].path);
	for (int k = 0; k < n; k++)
	{
		int			at;

		snprintf(path, sizeof(path), "base/16384/%d", 2 * k);
		at = manifest_find_file(&m, path);
		ck_assert_msg(at >= 0, "%s not found", path);
		ck_assert_str_eq(m.files[at].path, path);
		ck_assert_uint_eq(m.files[at].size, (uint64_t) k);
		ck_assert_int_eq(m.files[at].nchunks, 1 + k % 3);
		snprintf(path, sizeof(path), "base/16384/%d", 2 * k + 1);
		ck_assert_msg(manifest_find_file(&m, path) == -1, "%s found", path);
	}
	manifest_free(&m);
}
END_TEST

/* ------------------------------------------------------------ file digest */

START_TEST(test_file_digest)
{
	Manifest	m;
	PgbError	err = {0};
	ManifestFile *f;
	uint8_t		got[SHA256_LEN];
	uint8_t		want[SHA256_LEN];
	uint8_t		concat[3 * SHA256_LEN];
	char		hex[SHA256_HEX_LEN + 1];

	manifest_init(&m);

	/* one chunk: the chunk's own SHA-256, whatever its kind */
	f = manifest_add_file(&m, "one", 1, &err);
	ck_assert_ptr_nonnull(f);
	fill_chunk(&f->chunks[0], CHUNK_REF, 42, 100);
	manifest_file_digest(f, got);
	sha_fill(want, 42);
	ck_assert_mem_eq(got, want, SHA256_LEN);

	/* three chunks: SHA-256 of the 96 bytes of their SHA-256s in order */
	f = manifest_add_file(&m, "three", 3, &err);
	ck_assert_ptr_nonnull(f);
	fill_chunk(&f->chunks[0], CHUNK_STORED, 1, MANIFEST_CHUNK_SIZE);
	fill_chunk(&f->chunks[1], CHUNK_REF, 2, MANIFEST_CHUNK_SIZE);
	fill_chunk(&f->chunks[2], CHUNK_DELTA, 3, 1);
	manifest_file_digest(f, got);
	sha256_to_hex(got, hex);
	/* computed independently of pgbkp's SHA-256 */
	ck_assert_str_eq(hex, "269e3bfa6b9a2d5d9bfdf176b800fd7d27106906921aff4e0c23eddab6e6ba0d");
	for (int c = 0; c < 3; c++)
		memcpy(concat + c * SHA256_LEN, f->chunks[c].sha256, SHA256_LEN);
	sha256_digest(concat, sizeof(concat), want);
	ck_assert_mem_eq(got, want, SHA256_LEN);

	/* the kinds, sizes and frames do not enter it; the order does */
	f->chunks[1].kind = CHUNK_STORED;
	f->chunks[1].bundle = 9;
	f->chunks[2].size = 12345;
	manifest_file_digest(f, want);
	ck_assert_mem_eq(got, want, SHA256_LEN);
	sha_fill(f->chunks[0].sha256, 2);
	sha_fill(f->chunks[1].sha256, 1);
	manifest_file_digest(f, want);
	ck_assert_mem_ne(got, want, SHA256_LEN);

	/* two chunks: not the same as either chunk */
	f = manifest_add_file(&m, "two", 2, &err);
	ck_assert_ptr_nonnull(f);
	fill_chunk(&f->chunks[0], CHUNK_STORED, 5, MANIFEST_CHUNK_SIZE);
	fill_chunk(&f->chunks[1], CHUNK_STORED, 6, 7);
	manifest_file_digest(f, got);
	memcpy(concat, f->chunks[0].sha256, SHA256_LEN);
	memcpy(concat + SHA256_LEN, f->chunks[1].sha256, SHA256_LEN);
	sha256_digest(concat, 2 * SHA256_LEN, want);
	ck_assert_mem_eq(got, want, SHA256_LEN);
	ck_assert_mem_ne(got, f->chunks[0].sha256, SHA256_LEN);
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
	tcase_add_test(tc, test_parse_text_header_twice);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse_errors");
	tcase_add_test(tc, test_parse_missing_end);
	tcase_add_test(tc, test_parse_missing_required_headers);
	tcase_add_test(tc, test_parse_bad_segment_size);
	tcase_add_test(tc, test_parse_end_count_mismatch);
	tcase_add_test(tc, test_parse_bad_sha);
	tcase_add_test(tc, test_parse_bad_records);
	tcase_add_test(tc, test_parse_format_line);
	tcase_add_test(tc, test_parse_no_trailing_newline);
	tcase_add_test(tc, test_parse_content_after_end);
	tcase_add_test(tc, test_parse_error_line_number);
	suite_add_tcase(s, tc);

	tc = tcase_create("format1");
	tcase_add_test(tc, test_parse_format1_one_stored_chunk);
	tcase_add_test(tc, test_format1_rewritten_as_format2);
	tcase_add_test(tc, test_parse_format1_refusals);
	suite_add_tcase(s, tc);

	tc = tcase_create("chunks");
	tcase_add_test(tc, test_parse_format2_chunks);
	tcase_add_test(tc, test_parse_bad_chunk_records);
	tcase_add_test(tc, test_parse_chunk_extra_fields);
	tcase_add_test(tc, test_parse_bad_file_records_v2);
	tcase_add_test(tc, test_parse_chunk_count_mismatch);
	tcase_add_test(tc, test_parse_format2_headers);
	suite_add_tcase(s, tc);

	tc = tcase_create("paths");
	tcase_add_test(tc, test_check_paths_accepts);
	tcase_add_test(tc, test_check_paths_rejects_files_and_dirs);
	tcase_add_test(tc, test_check_paths_links);
	tcase_add_test(tc, test_check_paths_messages);
	tcase_add_test(tc, test_parsed_traversal_is_caught);
	tcase_add_test(tc, test_check_paths_chunks_need_parent);
	tcase_add_test(tc, test_parsed_references_need_parent);
	suite_add_tcase(s, tc);

	tc = tcase_create("lookup");
	tcase_add_test(tc, test_find_file_sorted);
	tcase_add_test(tc, test_find_file_many);
	tcase_add_test(tc, test_file_digest);
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
	return harness_run(manifest_suite());
}
