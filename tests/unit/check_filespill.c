/*
 * Unit tests for backup/filespill.c: file records written aside and put
 * back together with the kept ones give, byte for byte, the manifest
 * written from memory; the order checks; the temporary file.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/filespill.h"
#include "harness.h"

static const char *const keep[] = {"backup_label", "global/pg_control", "tablespace_map"};

#define NKEEP 3

static char tmpdir[512];

static void
setup(void)
{
	harness_tmpdir("filespill", tmpdir, sizeof(tmpdir));
	setenv("TMPDIR", tmpdir, 1);
}

static void
teardown(void)
{
	unsetenv("TMPDIR");
	harness_rmtree(tmpdir);
}

static bool
is_kept(const char *path)
{
	for (int i = 0; i < NKEEP; i++)
		if (strcmp(path, keep[i]) == 0)
			return true;
	return false;
}

static void
header(Manifest *m)
{
	PgbError	err = {0};

	manifest_init(m);
	snprintf(m->label, sizeof(m->label), "20261205-010203F");
	snprintf(m->type, sizeof(m->type), "full");
	m->cluster = strdup("pg-test");
	m->pgdata = strdup("/pg/data");
	m->pgbkp_version = strdup("0.3.0");
	m->chunk_size = MANIFEST_CHUNK_SIZE;
	m->size = 12345;
	ck_assert_int_eq(manifest_add_dir(m, "base", 0700, &err), 0);
	ck_assert_int_eq(manifest_add_link(m, "pg_tblspc/16400", "/ts", &err), 0);
}

/* A file with nchunks chunks whose fields follow from seed. */
static void
fill(ManifestFile *f, int nchunks, int seed)
{
	f->mode = 0600;
	f->mtime = 1700000000 + seed;
	f->size = 0;
	for (int c = 0; c < nchunks; c++)
	{
		ManifestChunk *ch = &f->chunks[c];

		ch->kind = "FRD"[(seed + c) % 3];
		ch->size = c + 1 < nchunks ? MANIFEST_CHUNK_SIZE : (uint64_t) seed;
		for (int b = 0; b < SHA256_LEN; b++)
			ch->sha256[b] = (uint8_t) (seed * 7 + c * 3 + b);
		ch->bundle = ch->kind == CHUNK_REF ? 0 : (uint32_t) (1 + seed % 5);
		ch->offset = ch->kind == CHUNK_REF ? 0 : (uint64_t) seed * 1000;
		ch->length = ch->kind == CHUNK_REF ? 0 : (uint64_t) seed + 17;
		ch->map_bundle = ch->kind == CHUNK_DELTA ? ch->bundle : 0;
		ch->map_offset = ch->kind == CHUNK_DELTA ? ch->offset + ch->length : 0;
		ch->map_length = ch->kind == CHUNK_DELTA ? 40 : 0;
		f->size += ch->size;
	}
}

/* paths in order: some before, between and after the kept ones; n relation files */
static int
make_paths(char ***out, int n)
{
	static const char *const fixed[] = {
		"PG_VERSION", "backup_label", "backup_label.x", "base/1/1249", "global/1262",
		"global/pg_control", "global/pg_filenode.map", "pg_xact/0000", "postgresql.auto.conf",
		"tablespace_map", "zz_last"
	};
	int			nf = (int) (sizeof(fixed) / sizeof(fixed[0]));
	char	  **p = calloc((size_t) (nf + n), sizeof(char *));
	int			k = 0;

	ck_assert_ptr_nonnull(p);
	for (int i = 0; i < nf; i++)
	{
		p[k++] = strdup(fixed[i]);
		if (strcmp(fixed[i], "base/1/1249") == 0)
			for (int j = 0; j < n; j++)
			{
				char		buf[64];

				snprintf(buf, sizeof(buf), "base/16384/%d", 100000 + j);
				p[k++] = strdup(buf);
			}
	}
	*out = p;
	return k;
}

/*
 * The manifest written from memory, and the same assembled from the spill
 * (which gets every file but the kept ones, present only if with_map /
 * with_label say) must be identical.
 */
static void
round_trip(int nrel, bool with_label, bool with_map)
{
	Manifest	whole,
				kept;
	HarnessBuf	a = {0},
				b = {0},
				c = {0};
	PgbError	err = {0};
	char	  **paths;
	int			npaths = make_paths(&paths, nrel);
	FileSpill  *s = filespill_new(keep, NKEEP, &err);

	ck_assert_msg(s != NULL, "%s", err.msg);
	header(&whole);
	header(&kept);
	for (int i = 0; i < npaths; i++)
	{
		int			nchunks = i % 7 == 3 ? 3 : 1;
		ManifestFile *f;

		if ((!with_label && strcmp(paths[i], "backup_label") == 0) ||
			(!with_map && strcmp(paths[i], "tablespace_map") == 0))
			continue;
		f = manifest_add_file(&whole, paths[i], nchunks, &err);
		ck_assert_ptr_nonnull(f);
		fill(f, nchunks, i + 1);
		if (is_kept(paths[i]))
		{
			ManifestFile *g = manifest_add_file(&kept, paths[i], nchunks, &err);

			ck_assert_ptr_nonnull(g);
			fill(g, nchunks, i + 1);
		}
		else
			ck_assert_msg(filespill_add(s, f, &err) == 0, "%s", err.msg);
	}
	ck_assert_int_eq(filespill_end(s, &err), 0);
	ck_assert_int_eq(filespill_count(s), whole.nfiles - kept.nfiles);

	ck_assert_msg(manifest_write(&whole, harness_buf_sink, &a, &err) == 0, "%s", err.msg);
	ck_assert_msg(manifest_write_with(&kept, filespill_write, s, harness_buf_sink, &b, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(a.len, b.len);
	ck_assert_mem_eq(a.data, b.data, a.len);
	/* again: an upload that is retried produces it once more */
	ck_assert_msg(manifest_write_with(&kept, filespill_write, s, harness_buf_sink, &c, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(a.len, c.len);
	ck_assert_mem_eq(a.data, c.data, a.len);

	filespill_free(s);
	manifest_free(&whole);
	manifest_free(&kept);
	harness_buf_free(&a);
	harness_buf_free(&b);
	harness_buf_free(&c);
	for (int i = 0; i < npaths; i++)
		free(paths[i]);
	free(paths);
}

START_TEST(test_same_manifest_few_files)
{
	round_trip(3, true, true);
	round_trip(3, true, false);
	round_trip(0, false, false);
}
END_TEST

/* Enough records for many buffers and zstd blocks between the kept files. */
START_TEST(test_same_manifest_many_files)
{
	round_trip(30000, true, true);
}
END_TEST

/* Nothing is left in TMPDIR, during or after. */
START_TEST(test_nothing_left_behind)
{
	PgbError	err = {0};
	FileSpill  *s = filespill_new(keep, NKEEP, &err);
	DIR		   *d;
	struct dirent *e;
	int			entries = 0;

	ck_assert_ptr_nonnull(s);
	d = opendir(tmpdir);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		entries += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	ck_assert_int_eq(entries, 0);
	filespill_free(s);
	filespill_free(NULL);
}
END_TEST

/* Files out of path order, a kept path, a kept file out of its place: internal errors. */
START_TEST(test_order_checks)
{
	PgbError	err = {0};
	FileSpill  *s = filespill_new(keep, NKEEP, &err);
	Manifest	m;
	ManifestFile *a,
			   *b,
			   *k;
	int			n;
	HarnessBuf	out = {0};

	ck_assert_ptr_nonnull(s);
	header(&m);
	a = manifest_add_file(&m, "base/1/2", 1, &err);
	b = manifest_add_file(&m, "base/1/1", 1, &err);
	k = manifest_add_file(&m, "global/pg_control", 1, &err);
	ck_assert(a && b && k);
	fill(a, 1, 1);
	fill(b, 1, 2);
	fill(k, 1, 3);
	ck_assert_int_eq(filespill_add(s, a, &err), 0);
	ck_assert_int_eq(filespill_add(s, b, &err), -1);
	ck_assert_int_eq(err.code, EXIT_INTERNAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "base/1/1"));
	pgb_error_clear(&err);
	ck_assert_int_eq(filespill_add(s, a, &err), -1);	/* twice */
	pgb_error_clear(&err);
	ck_assert_int_eq(filespill_add(s, k, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "kept"));
	pgb_error_clear(&err);
	/* not ended: nothing to write yet */
	ck_assert_int_eq(filespill_write(s, &m, NULL, &n, &err), -1);
	pgb_error_clear(&err);
	ck_assert_int_eq(filespill_end(s, &err), 0);
	ck_assert_int_eq(filespill_add(s, k, &err), -1);	/* after the end */
	pgb_error_clear(&err);
	/* m's files must be kept paths: base/1/2 is not one */
	ck_assert_int_eq(manifest_write_with(&m, filespill_write, s, harness_buf_sink, &out, &err), -1);
	ck_assert_int_eq(err.code, EXIT_INTERNAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "base/1/2"));
	filespill_free(s);
	manifest_free(&m);
	harness_buf_free(&out);
}
END_TEST

/* A TMPDIR that cannot be written: one error naming it, with a hint. */
START_TEST(test_unwritable_tmpdir)
{
	PgbError	err = {0};
	char		missing[600];

	snprintf(missing, sizeof(missing), "%s/no/such/dir", tmpdir);
	setenv("TMPDIR", missing, 1);
	ck_assert_ptr_null(filespill_new(keep, NKEEP, &err));
	ck_assert_int_eq(err.code, EXIT_IO);
	ck_assert_ptr_nonnull(strstr(err.msg, missing));
	ck_assert_ptr_nonnull(strstr(err.hint, "TMPDIR"));
}
END_TEST

static Suite *
filespill_suite(void)
{
	Suite	   *s = suite_create("filespill");
	TCase	   *tc = tcase_create("spill");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_same_manifest_few_files);
	tcase_add_test(tc, test_same_manifest_many_files);
	tcase_add_test(tc, test_nothing_left_behind);
	tcase_add_test(tc, test_order_checks);
	tcase_add_test(tc, test_unwritable_tmpdir);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return harness_run(filespill_suite());
}
