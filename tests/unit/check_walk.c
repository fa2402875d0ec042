/*
 * Unit tests for src/backup/walk.c: the exclusion rules one entry at a time,
 * then a walk over a fake data directory with an unlogged relation, the
 * directories PostgreSQL rebuilds, and a tablespace behind a pg_tblspc link.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "backup/walk.h"
#include "common/fileio.h"
#include "harness.h"

static char tmpdir[256];
static char pgdata[320];
static char tsdir[320];

#define FIXED_MTIME 1700000000

static void
setup(void)
{
	harness_tmpdir("walk", tmpdir, sizeof(tmpdir));
	snprintf(pgdata, sizeof(pgdata), "%s/data", tmpdir);
	snprintf(tsdir, sizeof(tsdir), "%s/ts", tmpdir);
	ck_assert_int_eq(mkdir(pgdata, 0700), 0);
	ck_assert_int_eq(mkdir(tsdir, 0700), 0);
}

static void
teardown(void)
{
	harness_rmtree(tmpdir);
}

/* ------------------------------------------------------------ walk_excluded */

typedef struct ExclCase
{
	const char *dir;
	const char *name;
	bool		is_dir;
	bool		excluded;
} ExclCase;

START_TEST(test_excluded_rules)
{
	static const ExclCase cases[] = {
		/* pg_wal: contents go, the directory and archive_status stay */
		{"", "pg_wal", true, false},
		{"pg_wal", "000000010000000000000001", false, true},
		{"pg_wal", "00000002.history", false, true},
		{"pg_wal", "archive_status", true, false},
		{"pg_wal", "archive_status", false, true},	/* a file of that name */
		{"pg_wal", "summaries", true, true},
		{"pg_wal/archive_status", "000000010000000000000001.ready", false, true},
		{"pg_wal/archive_status", "000000010000000000000001.done", false, true},
		/* the other directories PostgreSQL rebuilds */
		{"", "pg_replslot", true, false},
		{"pg_replslot", "slot1", true, true},
		{"pg_dynshmem", "mmap.1", false, true},
		{"pg_notify", "0000", false, true},
		{"pg_serial", "0000", false, true},
		{"pg_snapshots", "x", false, true},
		{"pg_stat_tmp", "global.stat", false, true},
		{"pg_subtrans", "0000", false, true},
		/* ... but not their namesakes elsewhere, nor other pg_ dirs */
		{"base/1", "pg_wal", true, false},
		{"pg_xact", "0000", false, false},
		{"pg_multixact/offsets", "0000", false, false},
		{"pg_stat", "pgstat.stat", false, false},
		{"pg_logical", "replorigin_checkpoint", false, false},
		/* postmaster.pid and friends only at the top */
		{"", "postmaster.pid", false, true},
		{"", "postmaster.opts", false, true},
		{"", "backup_label", false, true},
		{"", "backup_label.old", false, true},
		{"", "tablespace_map", false, true},
		{"", "backup_manifest", false, true},
		{"", "postgresql.auto.conf.tmp", false, true},
		{"global", "postmaster.pid", false, false},
		{"base/1", "backup_label", false, false},
		{"", "postmaster.pid", true, false},	/* a directory of that name */
		{"", "postgresql.auto.conf", false, false},
		{"", "postgresql.conf", false, false},
		{"", "PG_VERSION", false, false},
		{"", "current_logfiles", false, false},
		/* pgsql_tmp anywhere, as file or directory, with any suffix */
		{"base", "pgsql_tmp", true, true},
		{"", "pgsql_tmp", true, true},
		{"base/1", "pgsql_tmp12345.0", false, true},
		{"pg_tblspc/16400/PG_15_202209061", "pgsql_tmp", true, true},
		{"base", "my_pgsql_tmp", true, false},
		/* relation cache init files anywhere */
		{"global", "pg_internal.init", false, true},
		{"base/1", "pg_internal.init", false, true},
		{"base/1", "pg_internal.init.123", false, false},
		/* ordinary relation files */
		{"base/1", "16384", false, false},
		{"base/1", "16384_init", false, false},
		{"global", "pg_control", false, false},
		{"", "base", true, false},
		{"", "global", true, false},
		{"", "pg_tblspc", true, false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(walk_excluded(cases[i].dir, cases[i].name, cases[i].is_dir) == cases[i].excluded,
					  "walk_excluded(\"%s\", \"%s\", %s) should be %s",
					  cases[i].dir, cases[i].name, cases[i].is_dir ? "dir" : "file",
					  cases[i].excluded ? "true" : "false");
}
END_TEST

/* ------------------------------------------------------------ fake data dir */

static void
make_dir_at(const char *base, const char *rel)
{
	char		path[PGB_PATH_MAX];
	PgbError	err = {0};

	snprintf(path, sizeof(path), "%s/%s", base, rel);
	ck_assert_msg(fio_mkdir_p(path, 0700, &err) == 0, "%s", err.msg);
}

/* A file of `size` bytes (parents created) with a fixed mtime. */
static void
make_file_at(const char *base, const char *rel, size_t size, mode_t mode)
{
	char		path[PGB_PATH_MAX];
	char	   *slash;
	int			fd;
	struct timeval times[2] = {{FIXED_MTIME, 0}, {FIXED_MTIME, 0}};
	char		buf[256];

	snprintf(path, sizeof(path), "%s/%s", base, rel);
	slash = strrchr(path, '/');
	*slash = '\0';
	{
		PgbError	err = {0};

		ck_assert_msg(fio_mkdir_p(path, 0700, &err) == 0, "%s", err.msg);
	}
	*slash = '/';
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	memset(buf, 'd', sizeof(buf));
	for (size_t left = size; left > 0;)
	{
		size_t		n = left < sizeof(buf) ? left : sizeof(buf);

		ck_assert_int_eq(write(fd, buf, n), (ssize_t) n);
		left -= n;
	}
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
	ck_assert_int_eq(utimes(path, times), 0);
}

static void
make_link_at(const char *base, const char *rel, const char *target)
{
	char		path[PGB_PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", base, rel);
	ck_assert_msg(symlink(target, path) == 0, "symlink %s: %s", path, strerror(errno));
}

/* Files a backup must contain, with their sizes. */
typedef struct Expect
{
	const char *rel;
	size_t		size;
} Expect;

static const Expect kept_files[] = {
	{"PG_VERSION", 3},
	{"postgresql.conf", 100},
	{"postgresql.auto.conf", 88},
	{"current_logfiles", 20},
	{"global/pg_control", 8192},
	{"global/postmaster.pid", 1},	/* only the top-level one is excluded */
	{"base/1/16384_init", 0},
	{"base/1/16385", 16384},
	{"base/1/16385_fsm", 24576},
	{"base/1/16385.1", 8192},
	{"base/1/PG_VERSION", 3},
	{"base/1/pg_filenode.map", 512},
	{"base/1/16390", 7},		/* no init fork: an ordinary relation */
	{"pg_xact/0000", 8192},
	{"pg_tblspc/16400/PG_15_202209061/16401/16500", 8192},
	{"pg_tblspc/16400/PG_15_202209061/16401/16501_init", 0},
	{"pg_tblspc/16400/PG_15_202209061/16401/PG_VERSION", 3},
};

static const char *const left_out_files[] = {
	"postmaster.pid",
	"postmaster.opts",
	"backup_label",
	"tablespace_map",
	"backup_manifest",
	"global/pg_internal.init",
	"base/1/16384",				/* the unlogged relation: only its init fork */
	"base/1/16384_fsm",
	"base/1/16384_vm",
	"base/1/16384.1",
	"base/1/pg_internal.init",
	"base/1/pgsql_tmp_stray",
	"base/pgsql_tmp/pgsql_tmp123.0",
	"pg_wal/000000010000000000000001",
	"pg_wal/archive_status/000000010000000000000001.ready",
	"pg_wal/summaries/x.summary",
	"pg_replslot/myslot/state",
	"pg_stat_tmp/global.stat",
	"pg_subtrans/0000",
	"pg_notify/0000",
	"pg_tblspc/16400/PG_15_202209061/16401/16501",
	"pg_tblspc/16400/PG_15_202209061/16401/16501.2",
	"pg_tblspc/16400/PG_15_202209061/pgsql_tmp/pgsql_tmp9.0",
};

static const char *const kept_dirs[] = {
	"base", "base/1", "global", "pg_xact", "pg_wal", "pg_wal/archive_status",
	"pg_replslot", "pg_stat_tmp", "pg_subtrans", "pg_notify", "pg_tblspc",
	"pg_tblspc/16400/PG_15_202209061", "pg_tblspc/16400/PG_15_202209061/16401",
};

static const char *const left_out_dirs[] = {
	"base/pgsql_tmp", "pg_wal/summaries", "pg_replslot/myslot",
	"pg_tblspc/16400",			/* a link, not a directory */
	"pg_tblspc/16400/PG_15_202209061/pgsql_tmp",
};

#define N(a) ((int) (sizeof(a) / sizeof((a)[0])))

static void
build_data_dir(void)
{
	char		fifo[PGB_PATH_MAX];

	for (int i = 0; i < N(kept_files); i++)
	{
		const char *rel = kept_files[i].rel;

		if (strncmp(rel, "pg_tblspc/16400/", 16) == 0)
			make_file_at(tsdir, rel + 16, kept_files[i].size, 0600);
		else
			make_file_at(pgdata, rel, kept_files[i].size, strcmp(rel, "postgresql.conf") == 0 ? 0640 : 0600);
	}
	for (int i = 0; i < N(left_out_files); i++)
	{
		const char *rel = left_out_files[i];

		if (strncmp(rel, "pg_tblspc/16400/", 16) == 0)
			make_file_at(tsdir, rel + 16, 10, 0600);
		else
			make_file_at(pgdata, rel, 10, 0600);
	}
	make_dir_at(pgdata, "pg_wal/archive_status");
	make_dir_at(pgdata, "pg_stat_tmp");
	make_dir_at(pgdata, "pg_tblspc");
	make_link_at(pgdata, "pg_tblspc/16400", tsdir);
	/* not regular files: skipped, never followed */
	snprintf(fifo, sizeof(fifo), "%s/a_fifo", pgdata);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	make_link_at(pgdata, "stray_link", tmpdir);
	make_link_at(pgdata, "base/1/16399", "/nonexistent/target");
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static int
find_dir(const Manifest *m, const char *rel)
{
	for (int i = 0; i < m->ndirs; i++)
		if (strcmp(m->dirs[i].path, rel) == 0)
			return i;
	return -1;
}

START_TEST(test_walk_fake_data_dir)
{
	Manifest	m;
	WalkResult w;
	PgbError	err = {0};
	const char *sorted[N(kept_files)];
	uint64_t	total = 0;

	build_data_dir();
	manifest_init(&m);
	ck_assert_msg(walk_data_dir(pgdata, &m, &w, &err) == 0, "%s", err.msg);

	/* exactly the kept files, sorted by path */
	for (int i = 0; i < N(kept_files); i++)
		sorted[i] = kept_files[i].rel;
	qsort(sorted, N(kept_files), sizeof(sorted[0]), str_cmp);
	for (int i = 0; i < w.nfiles && i < N(kept_files); i++)
		ck_assert_msg(strcmp(m.files[i].path, sorted[i]) == 0, "file %d is \"%s\", expected \"%s\"",
					  i, m.files[i].path, sorted[i]);
	ck_assert_int_eq(w.nfiles, N(kept_files));

	/* sizes, modes, times and where each file really is */
	for (int i = 0; i < N(kept_files); i++)
	{
		const ManifestFile *f = NULL;
		char		want_full[PGB_PATH_MAX];
		char		via_pgdata[PGB_PATH_MAX];
		struct stat st_want,
					st_via;

		for (int k = 0; k < w.nfiles; k++)
			if (strcmp(m.files[k].path, kept_files[i].rel) == 0)
				f = &m.files[k];
		ck_assert_ptr_nonnull(f);
		ck_assert_uint_eq(f->size, kept_files[i].size);
		ck_assert_int_eq(f->mtime, FIXED_MTIME);
		ck_assert_uint_eq(f->mode, strcmp(f->path, "postgresql.conf") == 0 ? 0640 : 0600);
		if (strncmp(f->path, "pg_tblspc/16400/", 16) == 0)
			snprintf(want_full, sizeof(want_full), "%s/%s", tsdir, f->path + 16);
		else
			snprintf(want_full, sizeof(want_full), "%s/%s", pgdata, f->path);
		/* backup opens the data directory's path; for a tablespace file it
		 * goes through the pg_tblspc link to the file under the tablespace */
		snprintf(via_pgdata, sizeof(via_pgdata), "%s/%s", pgdata, f->path);
		ck_assert_int_eq(stat(want_full, &st_want), 0);
		ck_assert_int_eq(stat(via_pgdata, &st_via), 0);
		ck_assert_msg(st_want.st_ino == st_via.st_ino && st_want.st_dev == st_via.st_dev,
					  "\"%s\" is not the file \"%s\"", via_pgdata, want_full);
		total += kept_files[i].size;
	}
	ck_assert_uint_eq(w.total_bytes, total);

	/* directories: the kept ones, each after its parent */
	for (int i = 0; i < N(kept_dirs); i++)
		ck_assert_msg(find_dir(&m, kept_dirs[i]) >= 0, "directory \"%s\" missing", kept_dirs[i]);
	for (int i = 0; i < N(left_out_dirs); i++)
		ck_assert_msg(find_dir(&m, left_out_dirs[i]) < 0, "directory \"%s\" recorded", left_out_dirs[i]);
	ck_assert_int_eq(m.ndirs, N(kept_dirs));
	for (int i = 0; i < m.ndirs; i++)
	{
		char		parent[PGB_PATH_MAX];
		char	   *slash;

		snprintf(parent, sizeof(parent), "%s", m.dirs[i].path);
		slash = strrchr(parent, '/');
		if (slash == NULL || strcmp(m.dirs[i].path, "pg_tblspc/16400/PG_15_202209061") == 0)
			continue;
		*slash = '\0';
		ck_assert_msg(find_dir(&m, parent) >= 0 && find_dir(&m, parent) < i,
					  "\"%s\" recorded before its parent", m.dirs[i].path);
		ck_assert_uint_eq(m.dirs[i].mode, 0700);
	}

	/* the tablespace link */
	ck_assert_int_eq(m.nlinks, 1);
	ck_assert_str_eq(m.links[0].path, "pg_tblspc/16400");
	ck_assert_str_eq(m.links[0].target, tsdir);
	ck_assert_int_eq(m.nfiles, w.nfiles);

	/* one chunk per 16 MiB started, counted but not allocated (the copy does that) */
	for (int i = 0; i < m.nfiles; i++)
	{
		ck_assert_int_eq(m.files[i].nchunks, (int) (m.files[i].size / MANIFEST_CHUNK_SIZE + 1));
		ck_assert_ptr_null(m.files[i].chunks);
	}

	/* what the walk produced passes restore's own path check */
	for (int i = 0; i < m.nfiles; i++)
	{
		m.files[i].nchunks = 1;
		m.files[i].chunks = calloc(1, sizeof(ManifestChunk));
		ck_assert_ptr_nonnull(m.files[i].chunks);
		m.files[i].chunks[0].kind = CHUNK_STORED;	/* a full backup: no references to a parent */
	}
	ck_assert_msg(manifest_check_paths(&m, &err) == 0, "%s", err.msg);
	manifest_free(&m);
}
END_TEST

/* The unlogged rule is per directory: an init fork elsewhere changes nothing. */
START_TEST(test_walk_unlogged_per_database)
{
	Manifest	m;
	WalkResult w;
	PgbError	err = {0};
	bool		seen_5_16384 = false;
	bool		seen_1_16384 = false;

	make_file_at(pgdata, "base/1/16384_init", 0, 0600);
	make_file_at(pgdata, "base/1/16384", 10, 0600);
	make_file_at(pgdata, "base/5/16384", 10, 0600);
	/* outside database directories the rule does not apply */
	make_file_at(pgdata, "global/1262_init", 0, 0600);
	make_file_at(pgdata, "global/1262", 10, 0600);
	manifest_init(&m);
	ck_assert_int_eq(walk_data_dir(pgdata, &m, &w, &err), 0);
	for (int i = 0; i < w.nfiles; i++)
	{
		seen_5_16384 |= strcmp(m.files[i].path, "base/5/16384") == 0;
		seen_1_16384 |= strcmp(m.files[i].path, "base/1/16384") == 0;
	}
	ck_assert(seen_5_16384);
	ck_assert(!seen_1_16384);
	ck_assert_int_eq(w.nfiles, 5 - 1);
	manifest_free(&m);
}
END_TEST

/* Temporary relations (t<backend>_<relfilenode>) die with their session. */
START_TEST(test_walk_temp_relations)
{
	Manifest	m;
	WalkResult w;
	PgbError	err = {0};
	static const char *const kept[] = {
		"base/1/16384", "base/1/t", "base/1/t3", "base/1/t3x_16390", "base/1/t_16390",
		"base/1/t3_x", "global/t3_16390",
	};
	static const char *const dropped[] = {
		"base/1/t3_16390", "base/1/t3_16390_fsm", "base/1/t3_16390.1", "base/1/t12_99999_vm",
		"pg_tblspc/16400/PG_15_202209061/16401/t7_16600",
	};

	for (int i = 0; i < N(kept); i++)
		make_file_at(pgdata, kept[i], 1, 0600);
	for (int i = 0; i < N(dropped); i++)
	{
		if (strncmp(dropped[i], "pg_tblspc/16400/", 16) == 0)
			make_file_at(tsdir, dropped[i] + 16, 1, 0600);
		else
			make_file_at(pgdata, dropped[i], 1, 0600);
	}
	make_dir_at(pgdata, "pg_tblspc");
	make_link_at(pgdata, "pg_tblspc/16400", tsdir);
	manifest_init(&m);
	ck_assert_msg(walk_data_dir(pgdata, &m, &w, &err) == 0, "%s", err.msg);
	for (int i = 0; i < w.nfiles; i++)
		for (int k = 0; k < N(dropped); k++)
			ck_assert_msg(strcmp(m.files[i].path, dropped[k]) != 0, "\"%s\" backed up", dropped[k]);
	for (int k = 0; k < N(kept); k++)
	{
		bool		found = false;

		for (int i = 0; i < w.nfiles; i++)
			found |= strcmp(m.files[i].path, kept[k]) == 0;
		ck_assert_msg(found, "\"%s\" left out", kept[k]);
	}
	ck_assert_int_eq(w.nfiles, N(kept));
	manifest_free(&m);
}
END_TEST

/*
 * pg_wal as a link to another file system (initdb --waldir): recorded as a
 * plain directory with its archive_status, nothing under it walked.
 */
START_TEST(test_walk_pg_wal_link)
{
	Manifest	m;
	WalkResult w;
	PgbError	err = {0};
	char		waldir[400];
	int			wal;
	int			status;

	snprintf(waldir, sizeof(waldir), "%s/wal", tmpdir);
	make_file_at(waldir, "000000010000000000000001", 100, 0600);
	make_file_at(waldir, "archive_status/000000010000000000000001.ready", 0, 0600);
	make_file_at(waldir, "some_other_file", 5, 0600);
	make_link_at(pgdata, "pg_wal", waldir);
	make_file_at(pgdata, "PG_VERSION", 3, 0600);
	manifest_init(&m);
	ck_assert_msg(walk_data_dir(pgdata, &m, &w, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(w.nfiles, 1);
	ck_assert_str_eq(m.files[0].path, "PG_VERSION");
	ck_assert_int_eq(m.nlinks, 0);
	wal = find_dir(&m, "pg_wal");
	status = find_dir(&m, "pg_wal/archive_status");
	ck_assert_int_ge(wal, 0);
	ck_assert_int_gt(status, wal);
	ck_assert_uint_eq(m.dirs[wal].mode, 0700);
	ck_assert_int_eq(m.ndirs, 2);
	manifest_free(&m);

	/* a link named pg_wal below the top is just a stray link */
	make_dir_at(pgdata, "base/1");
	make_link_at(pgdata, "base/1/pg_wal", waldir);
	manifest_init(&m);
	ck_assert_int_eq(walk_data_dir(pgdata, &m, &w, &err), 0);
	ck_assert_int_lt(find_dir(&m, "base/1/pg_wal"), 0);
	ck_assert_int_eq(w.nfiles, 1);
	manifest_free(&m);
}
END_TEST

START_TEST(test_walk_empty_data_dir)
{
	Manifest	m;
	WalkResult w;
	PgbError	err = {0};

	manifest_init(&m);
	ck_assert_int_eq(walk_data_dir(pgdata, &m, &w, &err), 0);
	ck_assert_int_eq(w.nfiles, 0);
	ck_assert_uint_eq(w.total_bytes, 0);
	ck_assert_int_eq(m.ndirs, 0);
	ck_assert_int_eq(m.nlinks, 0);
	manifest_free(&m);
}
END_TEST

START_TEST(test_walk_missing_data_dir)
{
	Manifest	m;
	WalkResult w;
	PgbError	err = {0};
	char		missing[400];

	snprintf(missing, sizeof(missing), "%s/nope", tmpdir);
	manifest_init(&m);
	ck_assert_int_eq(walk_data_dir(missing, &m, &w, &err), -1);
	ck_assert_int_eq(err.code, EXIT_IO);
	ck_assert_ptr_nonnull(strstr(err.msg, missing));
	ck_assert_int_eq(m.nfiles, 0);
	manifest_free(&m);
}
END_TEST

START_TEST(test_walk_relative_tablespace_link)
{
	Manifest	m;
	WalkResult w;
	PgbError	err = {0};

	make_dir_at(pgdata, "pg_tblspc");
	make_link_at(pgdata, "pg_tblspc/16400", "../ts");
	manifest_init(&m);
	ck_assert_int_eq(walk_data_dir(pgdata, &m, &w, &err), -1);
	ck_assert_int_eq(err.code, EXIT_IO);
	ck_assert_ptr_nonnull(strstr(err.msg, "relative"));
	ck_assert_ptr_nonnull(strstr(err.msg, "../ts"));
	manifest_free(&m);
}
END_TEST

/* A tablespace whose directory vanished is recorded as a link with nothing under it. */
START_TEST(test_walk_dangling_tablespace_link)
{
	Manifest	m;
	WalkResult w;
	PgbError	err = {0};
	char		gone[400];

	snprintf(gone, sizeof(gone), "%s/gone", tmpdir);
	make_dir_at(pgdata, "pg_tblspc");
	make_link_at(pgdata, "pg_tblspc/16402", gone);
	manifest_init(&m);
	ck_assert_msg(walk_data_dir(pgdata, &m, &w, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(m.nlinks, 1);
	ck_assert_str_eq(m.links[0].target, gone);
	ck_assert_int_eq(w.nfiles, 0);
	manifest_free(&m);
}
END_TEST

static Suite *
walk_suite(void)
{
	Suite	   *s = suite_create("walk");
	TCase	   *tc;

	tc = tcase_create("excluded");
	tcase_add_test(tc, test_excluded_rules);
	suite_add_tcase(s, tc);

	tc = tcase_create("walk");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_walk_fake_data_dir);
	tcase_add_test(tc, test_walk_unlogged_per_database);
	tcase_add_test(tc, test_walk_temp_relations);
	tcase_add_test(tc, test_walk_pg_wal_link);
	tcase_add_test(tc, test_walk_empty_data_dir);
	tcase_add_test(tc, test_walk_missing_data_dir);
	tcase_add_test(tc, test_walk_relative_tablespace_link);
	tcase_add_test(tc, test_walk_dangling_tablespace_link);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return harness_run(walk_suite());
}
