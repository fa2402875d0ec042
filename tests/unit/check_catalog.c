/*
 * Unit tests for src/repo/catalog.c against a temporary posix repository:
 * committing manifests and listing the backups (oldest first), reading one
 * back, the refusal of a second commit, interrupted backups (a directory
 * without a manifest) and their removal, damaged manifests and manifests
 * that name another backup (listed as corrupt, never as backups), the
 * removal of a backup, and the paths the catalog builds.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fileio.h"
#include "repo/catalog.h"
#include "harness.h"

#define FULL "20261115-010000F"
#define INCR "20261116-010000F_20261116-010000I"
#define LATER "20261117-010000F"

static char tmpdir[256];
static char root[320];
static Repo *repo;

static void
setup(void)
{
	harness_tmpdir("catalog", tmpdir, sizeof(tmpdir));
	snprintf(root, sizeof(root), "%s/repo", tmpdir);
	repo = harness_repo_new(root, "c");
}

static void
teardown(void)
{
	repo_free(repo);
	repo = NULL;
	harness_rmtree(tmpdir);
}

/* A small manifest of a backup: one directory, one file of one stored chunk. */
static void
make_manifest(Manifest *m, const char *label, const char *parent)
{
	PgbError	err = {0};
	ManifestFile *f;

	manifest_init(m);
	snprintf(m->label, sizeof(m->label), "%s", label);
	snprintf(m->type, sizeof(m->type), "%s", parent ? "incr" : "full");
	snprintf(m->parent, sizeof(m->parent), "%s", parent ? parent : "");
	m->pg_version = 150018;
	m->wal_segment_size = 16 * 1024 * 1024;
	m->block_size = 8192;
	m->timeline = 1;
	m->start_lsn = 0x2000028;
	m->stop_lsn = 0x2000100;
	m->chunk_size = MANIFEST_CHUNK_SIZE;
	m->nbundles = 1;
	m->size = 5;
	m->repo_size = 17;
	ck_assert_int_eq(manifest_add_dir(m, "base", 0700, &err), 0);
	f = manifest_add_file(m, "base/1", 1, &err);
	ck_assert_ptr_nonnull(f);
	f->size = 5;
	f->mode = 0600;
	f->chunks[0].kind = CHUNK_STORED;
	f->chunks[0].size = 5;
	f->chunks[0].bundle = 1;
	f->chunks[0].length = 17;
	memset(f->chunks[0].sha256, 0xAB, SHA256_LEN);
}

static void
commit(const char *label, const char *parent)
{
	Manifest	m;
	PgbError	err = {0};

	make_manifest(&m, label, parent);
	ck_assert_msg(catalog_commit_manifest(repo, &m, NULL, NULL, &err) == 0, "%s", err.msg);
	manifest_free(&m);
}

static void
load(Catalog *c)
{
	PgbError	err = {0};

	ck_assert_msg(catalog_load(repo, c, &err) == 0, "%s", err.msg);
}

/* The local path of a repository path (a short one: these tests' paths are). */
static void
local(const char *rel, char *out)
{
	snprintf(out, PGB_PATH_MAX, "%s/%.3000s", root, rel);
}

static void
make_dirs(const char *label)
{
	char		rel[PGB_PATH_MAX];
	char		path[PGB_PATH_MAX];

	ck_assert_int_eq(catalog_backup_dir(repo, label, rel), 0);
	local(rel, path);
	ck_assert(mkdir(root, 0700) == 0 || errno == EEXIST);
	snprintf(path, sizeof(path), "%s/c", root);
	ck_assert(mkdir(path, 0700) == 0 || errno == EEXIST);
	snprintf(path, sizeof(path), "%s/c/backup", root);
	ck_assert(mkdir(path, 0700) == 0 || errno == EEXIST);
	local(rel, path);
	ck_assert(mkdir(path, 0700) == 0 || errno == EEXIST);
}

START_TEST(test_empty)
{
	Catalog		c;

	load(&c);
	ck_assert_int_eq(c.count, 0);
	ck_assert_int_eq(c.nincomplete, 0);
	ck_assert_int_eq(c.ncorrupt, 0);
	ck_assert_ptr_null(catalog_find(&c, FULL));
	ck_assert_ptr_null(catalog_corrupt_reason(&c, FULL));
	catalog_free(&c);
	catalog_free(&c);			/* a freed catalog is empty */
}
END_TEST

START_TEST(test_commit_list_read)
{
	Catalog		c;
	Manifest	m;
	PgbError	err = {0};
	const Manifest *found;

	commit(LATER, NULL);
	commit(FULL, NULL);
	commit(INCR, FULL);
	load(&c);
	ck_assert_int_eq(c.count, 3);
	ck_assert_str_eq(c.backups[0].label, FULL);	/* oldest first */
	ck_assert_str_eq(c.backups[1].label, INCR);
	ck_assert_str_eq(c.backups[2].label, LATER);
	found = catalog_find(&c, INCR);
	ck_assert_ptr_eq(found, &c.backups[1]);
	ck_assert_str_eq(found->parent, FULL);
	ck_assert_str_eq(found->type, "incr");
	ck_assert_int_eq(found->nfiles, 1);
	ck_assert_str_eq(found->files[0].path, "base/1");
	ck_assert_uint_eq(found->repo_size, 17);
	ck_assert_ptr_null(catalog_find(&c, "20000101-000000F"));
	catalog_free(&c);

	ck_assert_msg(catalog_read_manifest(repo, FULL, &m, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(m.label, FULL);
	ck_assert_int_eq(manifest_find_file(&m, "base/1"), 0);
	manifest_free(&m);

	/* a manifest is written once */
	make_manifest(&m, FULL, NULL);
	ck_assert_int_eq(catalog_commit_manifest(repo, &m, NULL, NULL, &err), -1);
	ck_assert_int_eq(err.code, EXIT_INTERNAL);
	ck_assert_str_eq(err.msg, "backup \"" FULL "\" already has a manifest");
	manifest_free(&m);
}
END_TEST

/* Headers only for every backup, then the whole manifests of one chain. */
/* catalog_each_file's callback: counts the files (arg -1: fails on the first, naming it). */
static int
count_file(void *arg, const Manifest *m, const ManifestFile *f, PgbError *err)
{
	int		   *seen = arg;

	ck_assert(m->label[0] != '\0');
	if (*seen < 0)
		return pgb_error(err, EXIT_IO, "stop at %s", f->path);
	ck_assert_str_eq(f->path, "base/1");
	ck_assert_int_eq(f->nchunks, 1);
	(*seen)++;
	return 0;
}

START_TEST(test_headers_and_chain)
{
	Catalog		c;
	PgbError	err = {0};
	const char *incr2 = "20261116-010000F_20261116-020000I";

	commit(FULL, NULL);
	commit(INCR, FULL);
	commit(incr2, INCR);
	commit(LATER, NULL);
	ck_assert_msg(catalog_load_headers(repo, &c, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(c.count, 4);
	for (int i = 0; i < c.count; i++)
	{
		ck_assert(c.backups[i].headers_only);
		ck_assert_int_eq(c.backups[i].nfiles, 0);
		ck_assert_ptr_null(c.backups[i].files);
		ck_assert_int_eq(c.backups[i].ndirs, 0);
		ck_assert_uint_eq(c.backups[i].repo_size, 17);	/* the header fields stay */
	}
	ck_assert_str_eq(catalog_find(&c, incr2)->parent, INCR);

	catalog_free(&c);

	/* each file of one manifest, handed over in order without the manifest held */
	{
		int			seen = 0;

		ck_assert_msg(catalog_each_file(repo, incr2, count_file, &seen, &err) == 0, "%s", err.msg);
		ck_assert_int_eq(seen, 1);
		/* an error from the callback ends the read, and is the one returned */
		seen = -1;
		ck_assert_int_eq(catalog_each_file(repo, incr2, count_file, &seen, &err), -1);
		ck_assert_int_eq(err.code, EXIT_IO);
		ck_assert_msg(strstr(err.msg, "stop at base/1") != NULL, "%s", err.msg);
		pgb_error_clear(&err);
		/* a backup without a manifest */
		ck_assert_int_eq(catalog_each_file(repo, "20990101-000000F", count_file, &seen, &err), -1);
		ck_assert(pgb_error_is_set(&err));
	}
}
END_TEST

START_TEST(test_read_refusals)
{
	Manifest	m;
	PgbError	err = {0};

	ck_assert_int_eq(catalog_read_manifest(repo, "../escape", &m, &err), -1);
	ck_assert_int_eq(err.code, EXIT_NOT_FOUND);
	ck_assert_str_eq(err.msg, "invalid backup label \"../escape\"");
	pgb_error_clear(&err);
	ck_assert_int_eq(catalog_read_manifest(repo, ".hidden", &m, &err), -1);
	ck_assert_int_eq(err.code, EXIT_NOT_FOUND);
	pgb_error_clear(&err);
	ck_assert_int_eq(catalog_read_manifest(repo, FULL, &m, &err), -1);
	ck_assert_int_eq(err.code, EXIT_NOT_FOUND);
}
END_TEST

/* A directory without a manifest is an interrupted backup: listed apart, and removed on request. */
START_TEST(test_incomplete)
{
	Catalog		c;
	PgbError	err = {0};
	char		rel[PGB_PATH_MAX];
	char		path[PGB_PATH_MAX];
	struct stat st;

	commit(FULL, NULL);
	make_dirs(LATER);
	ck_assert_int_eq(catalog_bundle_path(repo, LATER, 1, rel), 0);
	local(rel, path);
	*strrchr(path, '/') = '\0';
	ck_assert_int_eq(mkdir(path, 0700), 0);
	local(rel, path);
	harness_write_file(path, "partial", 7);
	load(&c);
	ck_assert_int_eq(c.count, 1);
	ck_assert_int_eq(c.nincomplete, 1);
	ck_assert_str_eq(c.incomplete[0], LATER);
	ck_assert_ptr_null(catalog_find(&c, LATER));
	ck_assert_msg(catalog_remove_incomplete(repo, &c, &err) == 0, "%s", err.msg);
	catalog_free(&c);
	ck_assert_int_eq(catalog_backup_dir(repo, LATER, rel), 0);
	local(rel, path);
	ck_assert_int_ne(stat(path, &st), 0);
	load(&c);
	ck_assert_int_eq(c.count, 1);
	ck_assert_int_eq(c.nincomplete, 0);
	catalog_free(&c);
}
END_TEST

/* A damaged manifest, or one naming another backup: corrupt, never a backup, never removed. */
START_TEST(test_corrupt)
{
	Catalog		c;
	char		path[PGB_PATH_MAX];
	char		copy[PGB_PATH_MAX];
	char	   *text;
	size_t		len;
	struct stat st;

	commit(FULL, NULL);
	commit(INCR, FULL);
	/* INCR's manifest damaged in its middle */
	snprintf(path, sizeof(path), "%s/c/backup/%s/backup.manifest", root, INCR);
	text = harness_read_file(path, &len);
	text[len / 2] ^= 0x5A;
	harness_write_file(path, text, len);
	free(text);
	/* FULL's manifest copied under another label */
	make_dirs(LATER);
	snprintf(path, sizeof(path), "%s/c/backup/%s/backup.manifest", root, FULL);
	snprintf(copy, sizeof(copy), "%s/c/backup/%s/backup.manifest", root, LATER);
	text = harness_read_file(path, &len);
	harness_write_file(copy, text, len);
	free(text);

	load(&c);
	ck_assert_int_eq(c.count, 1);
	ck_assert_str_eq(c.backups[0].label, FULL);
	ck_assert_int_eq(c.ncorrupt, 2);
	ck_assert_ptr_null(catalog_find(&c, INCR));
	ck_assert_ptr_null(catalog_find(&c, LATER));
	ck_assert_ptr_nonnull(catalog_corrupt_reason(&c, INCR));
	ck_assert_ptr_nonnull(strstr(catalog_corrupt_reason(&c, LATER), "names backup \"" FULL "\""));
	/* the damaged manifest fails its checksum, not a line of its text */
	ck_assert_ptr_null(strstr(catalog_corrupt_reason(&c, INCR), "malformed"));
	ck_assert_ptr_null(catalog_corrupt_reason(&c, FULL));
	ck_assert_int_eq(c.nincomplete, 0);
	catalog_free(&c);
	ck_assert_int_eq(stat(copy, &st), 0);
}
END_TEST

/* Entries that are not backup directories are passed over. */
START_TEST(test_other_entries)
{
	Catalog		c;
	char		path[PGB_PATH_MAX];

	commit(FULL, NULL);
	snprintf(path, sizeof(path), "%s/c/backup/notes.txt", root);
	harness_write_file(path, "x", 1);
	snprintf(path, sizeof(path), "%s/c/backup/.tmp", root);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/c/backup/with space", root);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	load(&c);
	ck_assert_int_eq(c.count, 1);
	ck_assert_int_eq(c.nincomplete, 0);
	ck_assert_int_eq(c.ncorrupt, 0);
	catalog_free(&c);
}
END_TEST

START_TEST(test_remove_backup)
{
	Catalog		c;
	PgbError	err = {0};
	char		path[PGB_PATH_MAX];
	struct stat st;

	commit(FULL, NULL);
	commit(LATER, NULL);
	ck_assert_msg(catalog_remove_backup(repo, FULL, &err) == 0, "%s", err.msg);
	snprintf(path, sizeof(path), "%s/c/backup/%s", root, FULL);
	ck_assert_int_ne(stat(path, &st), 0);
	load(&c);
	ck_assert_int_eq(c.count, 1);
	ck_assert_str_eq(c.backups[0].label, LATER);
	catalog_free(&c);
	ck_assert_int_eq(catalog_remove_backup(repo, "a/b", &err), -1);
	ck_assert_int_eq(err.code, EXIT_INTERNAL);
}
END_TEST

START_TEST(test_paths)
{
	char		out[PGB_PATH_MAX];

	ck_assert_int_eq(catalog_backup_dir(repo, FULL, out), 0);
	ck_assert_str_eq(out, "c/backup/" FULL);
	ck_assert_int_eq(catalog_bundle_path(repo, FULL, 12, out), 0);
	ck_assert_str_eq(out, "c/backup/" FULL "/bundle/000012");
}
END_TEST

static Suite *
catalog_suite(void)
{
	Suite	   *s = suite_create("catalog");
	TCase	   *tc = tcase_create("catalog");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_commit_list_read);
	tcase_add_test(tc, test_headers_and_chain);
	tcase_add_test(tc, test_read_refusals);
	tcase_add_test(tc, test_incomplete);
	tcase_add_test(tc, test_corrupt);
	tcase_add_test(tc, test_other_entries);
	tcase_add_test(tc, test_remove_backup);
	tcase_add_test(tc, test_paths);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return harness_run(catalog_suite());
}
