/*
 * Unit tests for the posix storage driver (src/storage/posix.c, through the
 * storage.h interface) in a temporary directory, and for the container
 * objects kept in it (src/repo/objio.c).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fileio.h"
#include "repo/objio.h"
#include "storage/posix.h"
#include "harness.h"

static char tmpdir[256];
static char root[320];
static Storage *st;

static void
setup(void)
{
	PgbError	err = {0};

	harness_tmpdir("storage", tmpdir, sizeof(tmpdir));
	snprintf(root, sizeof(root), "%s/repo", tmpdir);
	st = storage_posix_new(root, &err);
	ck_assert_msg(st != NULL, "%s", err.msg);
}

static void
teardown(void)
{
	storage_free(st);
	st = NULL;
	harness_rmtree(tmpdir);
}

/* ------------------------------------------------------------ helpers */

static void
put(const char *path, const void *data, size_t len)
{
	PgbError	err = {0};
	StorageWrite *w = storage_open_write(st, path, &err);
	bool		existed = true;

	ck_assert_msg(w != NULL, "%s", err.msg);
	ck_assert_msg(storage_write(w, data, len, &err) == 0, "%s", err.msg);
	ck_assert_msg(storage_commit(w, false, &existed, &err) == 0, "%s", err.msg);
	ck_assert(!existed);
}

/* Read [offset, offset+length) in reads of `piece` bytes; returns malloc'd data. */
static uint8_t *
get_range(const char *path, uint64_t offset, uint64_t length, size_t piece, size_t *len, PgbError *err)
{
	StorageRead *r = storage_open_read(st, path, offset, length, err);
	uint8_t    *buf = NULL;
	size_t		used = 0;
	uint8_t    *chunk = malloc(piece);

	if (r == NULL)
	{
		free(chunk);
		return NULL;
	}
	for (;;)
	{
		ssize_t		n = storage_read(r, chunk, piece, err);

		if (n < 0)
		{
			free(buf);
			buf = NULL;
			break;
		}
		if (n == 0)
			break;
		buf = realloc(buf, used + (size_t) n + 1);
		memcpy(buf + used, chunk, (size_t) n);
		used += (size_t) n;
	}
	storage_read_close(r);
	free(chunk);
	if (buf == NULL && err->code == 0)
		buf = calloc(1, 1);
	*len = used;
	return buf;
}

static void
assert_content(const char *path, const char *expected)
{
	PgbError	err = {0};
	size_t		len;
	uint8_t    *data = get_range(path, 0, 0, 4096, &len, &err);

	ck_assert_msg(data != NULL, "%s: %s", path, err.msg);
	ck_assert_uint_eq(len, strlen(expected));
	ck_assert_int_eq(memcmp(data, expected, len), 0);
	free(data);
}

static void
full(const char *rel, char *out)
{
	snprintf(out, PGB_PATH_MAX, "%s/%s", root, rel);
}

/* Names in a directory on disk, "." and ".." left out; returns the count. */
static int
disk_names(const char *rel_dir, char names[][256], int max)
{
	char		path[PGB_PATH_MAX];
	DIR		   *d;
	struct dirent *de;
	int			n = 0;

	full(rel_dir, path);
	d = opendir(path);
	ck_assert_msg(d != NULL, "opendir %s: %s", path, strerror(errno));
	while ((de = readdir(d)) != NULL)
	{
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		ck_assert_int_lt(n, max);
		snprintf(names[n++], 256, "%s", de->d_name);
	}
	closedir(d);
	return n;
}

static bool
exists(const char *rel)
{
	PgbError	err = {0};
	StorageInfo info;

	ck_assert_msg(storage_info(st, rel, &info, &err) == 0, "%s", err.msg);
	return info.exists;
}

/* ------------------------------------------------------------ storage */

START_TEST(test_new_rejects_relative_root)
{
	static const char *const bad[] = {"relative/repo", "", "./repo", "~/repo"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		PgbError	err = {0};

		ck_assert_ptr_null(storage_posix_new(bad[i], &err));
		ck_assert_int_eq(err.code, EXIT_CONFIG);
		ck_assert_msg(strstr(err.msg, "not absolute") != NULL, "%s", err.msg);
	}
}
END_TEST

START_TEST(test_new_description)
{
	PgbError	err = {0};
	Storage    *s = storage_posix_new("/pg/backup///", &err);

	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(storage_description(s), "/pg/backup");
	storage_free(s);
	s = storage_posix_new("/", &err);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(storage_description(s), "/");
	storage_free(s);
	ck_assert_str_eq(storage_description(st), root);
	storage_free(NULL);
	storage_abort(NULL);
	storage_unlock(NULL);
	storage_read_close(NULL);
}
END_TEST

START_TEST(test_write_commit_read)
{
	PgbError	err = {0};
	StorageWrite *w;
	StorageInfo info;
	struct stat sb;
	char		path[PGB_PATH_MAX];
	bool		existed = true;
	time_t		before = time(NULL);
	uint8_t    *all;
	size_t		len;

	/* the root does not exist yet: the first write creates it */
	ck_assert_int_ne(stat(root, &sb), 0);
	w = storage_open_write(st, "archive/00000001/obj", &err);
	ck_assert_msg(w != NULL, "%s", err.msg);
	ck_assert_int_eq(storage_write(w, "hello ", 6, &err), 0);
	ck_assert_int_eq(storage_write(w, "", 0, &err), 0);
	ck_assert_int_eq(storage_write(w, "world", 5, &err), 0);
	ck_assert_msg(storage_commit(w, false, &existed, &err) == 0, "%s", err.msg);
	ck_assert(!existed);

	ck_assert_int_eq(stat(root, &sb), 0);
	ck_assert(S_ISDIR(sb.st_mode));
	{
		mode_t		mask = umask(0);

		umask(mask);
		ck_assert_uint_eq(sb.st_mode & 0777, 0750 & ~mask);
	}
	full("archive/00000001/obj", path);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_eq(sb.st_size, 11);

	ck_assert_int_eq(storage_info(st, "archive/00000001/obj", &info, &err), 0);
	ck_assert(info.exists);
	ck_assert_uint_eq(info.size, 11);
	ck_assert_int_ge(info.mtime, (int64_t) before - 1);
	ck_assert_int_le(info.mtime, (int64_t) time(NULL) + 1);
	/* a directory exists too */
	ck_assert(exists("archive/00000001"));

	assert_content("archive/00000001/obj", "hello world");
	ck_assert_int_eq(storage_read_all(st, "archive/00000001/obj", 1024, &all, &len, &err), 0);
	ck_assert_uint_eq(len, 11);
	ck_assert_str_eq((char *) all, "hello world");
	free(all);

	/* a commit without the existed pointer */
	w = storage_open_write(st, "x", &err);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(storage_commit(w, true, NULL, &err), 0);
	ck_assert(exists("x"));
	assert_content("x", "");
}
END_TEST

START_TEST(test_read_missing)
{
	PgbError	err = {0};
	StorageInfo info;
	uint8_t    *all = NULL;
	size_t		len;

	memset(&info, 0xFF, sizeof(info));
	ck_assert_int_eq(storage_info(st, "nothing/here", &info, &err), 0);
	ck_assert(!info.exists);
	ck_assert_uint_eq(info.size, 0);
	ck_assert_ptr_null(storage_open_read(st, "nothing/here", 0, 0, &err));
	ck_assert_int_eq(err.code, EXIT_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(err.msg, "nothing/here"));
	pgb_error_clear(&err);
	ck_assert_int_eq(storage_read_all(st, "nothing/here", 100, &all, &len, &err), -1);
	ck_assert_int_eq(err.code, EXIT_NOT_FOUND);
	/* a path through a file is missing, not an error */
	put("file", "x", 1);
	ck_assert_int_eq(storage_info(st, "file/below", &info, &err), 0);
	ck_assert(!info.exists);
}
END_TEST

START_TEST(test_ranged_reads)
{
	char		data[1000];
	static const struct
	{
		uint64_t	offset;
		uint64_t	length;
		size_t		expect_off;
		size_t		expect_len;
	}			cases[] = {
		{0, 0, 0, 1000},
		{0, 1000, 0, 1000},
		{10, 20, 10, 20},
		{0, 1, 0, 1},
		{999, 1, 999, 1},
		{990, 0, 990, 10},
		{500, 500, 500, 500},
		{1000, 0, 1000, 0},
		{123, 456, 123, 456},
	};
	static const size_t pieces[] = {1, 7, 4096};

	for (int i = 0; i < 1000; i++)
		data[i] = (char) ('A' + (i * 7) % 26 + (i % 3));
	put("bundle/1", data, sizeof(data));

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		for (size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++)
		{
			PgbError	err = {0};
			size_t		len;
			uint8_t    *got = get_range("bundle/1", cases[i].offset, cases[i].length, pieces[k], &len, &err);

			ck_assert_msg(got != NULL, "range %zu: %s", i, err.msg);
			ck_assert_msg(len == cases[i].expect_len, "range %" PRIu64 "+%" PRIu64 " piece %zu: %zu bytes",
						  cases[i].offset, cases[i].length, pieces[k], len);
			ck_assert_int_eq(memcmp(got, data + cases[i].expect_off, len), 0);
			free(got);
		}
	}
}
END_TEST

/* A range reaching past the end is damage, not a short read. */
START_TEST(test_ranged_read_past_end)
{
	PgbError	err = {0};
	size_t		len;

	put("bundle/2", "0123456789", 10);
	ck_assert_ptr_null(get_range("bundle/2", 5, 6, 4096, &len, &err));
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	ck_assert_ptr_nonnull(strstr(err.msg, "shorter"));
	pgb_error_clear(&err);
	ck_assert_ptr_null(get_range("bundle/2", 20, 1, 4096, &len, &err));
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
}
END_TEST

START_TEST(test_uncommitted_invisible_and_abort)
{
	PgbError	err = {0};
	StorageWrite *w;
	StorageList list;
	char		names[8][256];
	int			n;

	put("wal/keep", "k", 1);
	w = storage_open_write(st, "wal/obj", &err);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(storage_write(w, "secret", 6, &err), 0);

	ck_assert(!exists("wal/obj"));
	ck_assert_ptr_null(storage_open_read(st, "wal/obj", 0, 0, &err));
	ck_assert_int_eq(err.code, EXIT_NOT_FOUND);
	ck_assert_int_eq(storage_list(st, "wal", &list, &err), 0);
	ck_assert_int_eq(list.count, 1);
	ck_assert_str_eq(list.items[0].name, "keep");
	storage_list_free(&list);

	/* on disk: the committed file and one hidden temporary */
	n = disk_names("wal", names, 8);
	ck_assert_int_eq(n, 2);
	for (int i = 0; i < n; i++)
	{
		if (strcmp(names[i], "keep") == 0)
			continue;
		ck_assert_msg(names[i][0] == '.' && strstr(names[i], "obj") && strstr(names[i], ".tmp"),
					  "unexpected \"%s\"", names[i]);
	}

	storage_abort(w);
	n = disk_names("wal", names, 8);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(names[0], "keep");
	ck_assert(!exists("wal/obj"));
}
END_TEST

START_TEST(test_commit_no_overwrite)
{
	PgbError	err = {0};
	StorageWrite *w;
	bool		existed = false;
	char		names[8][256];

	put("wal/seg", "original", 8);
	w = storage_open_write(st, "wal/seg", &err);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(storage_write(w, "replacement", 11, &err), 0);
	ck_assert_msg(storage_commit(w, true, &existed, &err) == 0, "%s", err.msg);
	ck_assert(existed);
	assert_content("wal/seg", "original");
	/* the discarded data left nothing behind */
	ck_assert_int_eq(disk_names("wal", names, 8), 1);

	/* no_overwrite onto a new name is an ordinary commit */
	existed = true;
	w = storage_open_write(st, "wal/seg2", &err);
	ck_assert_int_eq(storage_write(w, "new", 3, &err), 0);
	ck_assert_int_eq(storage_commit(w, true, &existed, &err), 0);
	ck_assert(!existed);
	assert_content("wal/seg2", "new");
	ck_assert_int_eq(disk_names("wal", names, 8), 2);
}
END_TEST

/* A killed writer's temporary file goes at the next commit of that name; a live one's stays. */
START_TEST(test_commit_removes_dead_writers_temps)
{
	PgbError	err = {0};
	StorageWrite *w;
	char		dead[PGB_PATH_MAX],
				alive[PGB_PATH_MAX],
				other[PGB_PATH_MAX];
	pid_t		child = fork();
	int			status;
	FILE	   *f;

	ck_assert_int_ge(child, 0);
	if (child == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(child, &status, 0), child);	/* its pid is now free */

	w = storage_open_write(st, "wal/seg", &err);	/* creates the directory */
	ck_assert_ptr_nonnull(w);
	storage_abort(w);
	full("wal/.seg.tmp.", dead);
	snprintf(dead + strlen(dead), 32, "%d", (int) child);
	full("wal/.seg.tmp.", alive);
	snprintf(alive + strlen(alive), 32, "%d", (int) getppid());
	full("wal/.other.tmp.", other);
	snprintf(other + strlen(other), 32, "%d", (int) child);
	ck_assert_ptr_nonnull(f = fopen(dead, "w"));
	fclose(f);
	ck_assert_ptr_nonnull(f = fopen(alive, "w"));
	fclose(f);
	ck_assert_ptr_nonnull(f = fopen(other, "w"));
	fclose(f);

	w = storage_open_write(st, "wal/seg", &err);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(storage_write(w, "x", 1, &err), 0);
	ck_assert_int_eq(storage_commit(w, true, NULL, &err), 0);
	ck_assert_int_ne(access(dead, F_OK), 0);	/* dead writer, same name: removed */
	ck_assert_int_eq(access(alive, F_OK), 0);	/* a live process: kept */
	ck_assert_int_ne(access(other, F_OK), 0);	/* dead writer, another name: removed */
	assert_content("wal/seg", "x");
}
END_TEST

static void
touch_rel(const char *rel, long pid)
{
	char		path[PGB_PATH_MAX];
	FILE	   *f;

	full(rel, path);
	if (pid > 0)
		snprintf(path + strlen(path), 32, "%ld", pid);
	ck_assert_msg((f = fopen(path, "w")) != NULL, "%s: %s", path, strerror(errno));
	fclose(f);
}

static bool
on_disk(const char *rel, long pid)
{
	char		path[PGB_PATH_MAX];

	full(rel, path);
	if (pid > 0)
		snprintf(path + strlen(path), 32, "%ld", pid);
	return access(path, F_OK) == 0;
}

/* A whole-storage sweep: dead writers' files anywhere go, nothing else. */
START_TEST(test_clean_temps_recursive)
{
	PgbError	err = {0};
	StorageWrite *w;
	pid_t		child = fork();
	int			status;

	ck_assert_int_ge(child, 0);
	if (child == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(child, &status, 0), child);

	w = storage_open_write(st, "archive/1/0000000100000000/seg", &err);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(storage_write(w, "x", 1, &err), 0);
	ck_assert_int_eq(storage_commit(w, true, NULL, &err), 0);
	w = storage_open_write(st, "backup/L1/bundle", &err);
	ck_assert_ptr_nonnull(w);
	storage_abort(w);
	touch_rel(".top.tmp.", child);
	touch_rel("archive/1/0000000100000000/.seg2.tmp.", child);
	touch_rel("backup/L1/.bundle.tmp.", child);
	touch_rel("backup/L1/.bundle.tmp.", (long) getppid());	/* alive */
	touch_rel("backup/L1/.mine.tmp.", (long) getpid());	/* this process */
	touch_rel("backup/L1/.odd.tmp.12x", 0);	/* not a PID */
	touch_rel("backup/L1/visible.tmp.", child);	/* not hidden: an object name */
	touch_rel("backup/L1/..tmp.", child);	/* no NAME */

	ck_assert_int_eq(storage_clean_temps(st, "", true), 3);
	ck_assert(!on_disk(".top.tmp.", child));
	ck_assert(!on_disk("archive/1/0000000100000000/.seg2.tmp.", child));
	ck_assert(!on_disk("backup/L1/.bundle.tmp.", child));
	ck_assert(on_disk("backup/L1/.bundle.tmp.", (long) getppid()));
	ck_assert(on_disk("backup/L1/.mine.tmp.", (long) getpid()));
	ck_assert(on_disk("backup/L1/.odd.tmp.12x", 0));
	ck_assert(on_disk("backup/L1/visible.tmp.", child));
	ck_assert(on_disk("backup/L1/..tmp.", child));
	assert_content("archive/1/0000000100000000/seg", "x");
	/* not recursive: only the directory named */
	touch_rel("backup/L1/.again.tmp.", child);
	ck_assert_int_eq(storage_clean_temps(st, "archive", false), 0);
	ck_assert_int_eq(storage_clean_temps(st, "backup/L1", false), 1);
}
END_TEST

START_TEST(test_commit_replaces)
{
	PgbError	err = {0};
	StorageWrite *w;
	bool		existed = true;
	char		names[8][256];

	put("info/file", "version one, longer", 19);
	w = storage_open_write(st, "info/file", &err);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(storage_write(w, "v2", 2, &err), 0);
	ck_assert_int_eq(storage_commit(w, false, &existed, &err), 0);
	ck_assert(!existed);
	assert_content("info/file", "v2");
	ck_assert_int_eq(disk_names("info", names, 8), 1);
}
END_TEST

/* Two writes open at once in one directory do not disturb each other. */
START_TEST(test_two_open_writes)
{
	PgbError	err = {0};
	StorageWrite *a = storage_open_write(st, "o", &err);
	StorageWrite *b;

	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(storage_write(a, "aaa", 3, &err), 0);
	b = storage_open_write(st, "other", &err);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(storage_write(b, "bbb", 3, &err), 0);
	ck_assert_int_eq(storage_commit(a, false, NULL, &err), 0);
	ck_assert_int_eq(storage_commit(b, false, NULL, &err), 0);
	assert_content("o", "aaa");
	assert_content("other", "bbb");
}
END_TEST

START_TEST(test_list)
{
	PgbError	err = {0};
	StorageList list;
	char		path[PGB_PATH_MAX];
	static const char *const expected[] = {"000000010000000000000002", "A", "b", "dir", "zz"};

	put("backup/zz", "12345", 5);
	put("backup/b", "1", 1);
	put("backup/A", "", 0);
	put("backup/000000010000000000000002", "123", 3);
	put("backup/dir/inner", "x", 1);
	put("backup/.hidden", "h", 1);
	full("backup/.hidden-dir", path);
	ck_assert_int_eq(mkdir(path, 0700), 0);

	ck_assert_int_eq(storage_list(st, "backup", &list, &err), 0);
	ck_assert_int_eq(list.count, 5);
	for (int i = 0; i < list.count; i++)
		ck_assert_str_eq(list.items[i].name, expected[i]);
	ck_assert(!list.items[0].is_dir);
	ck_assert_uint_eq(list.items[0].size, 3);
	ck_assert_uint_eq(list.items[4].size, 5);
	ck_assert(list.items[3].is_dir);
	ck_assert(!list.items[2].is_dir);
	ck_assert_int_gt(list.items[4].mtime, 0);
	storage_list_free(&list);
	ck_assert_int_eq(list.count, 0);
	ck_assert_ptr_null(list.items);

	/* the root itself, and a missing directory */
	ck_assert_int_eq(storage_list(st, ".", &list, &err), 0);
	ck_assert_int_eq(list.count, 1);
	ck_assert_str_eq(list.items[0].name, "backup");
	storage_list_free(&list);
	memset(&list, 0x11, sizeof(list));
	ck_assert_int_eq(storage_list(st, "no/such/dir", &list, &err), 0);
	ck_assert_int_eq(list.count, 0);
	ck_assert_ptr_null(list.items);
	storage_list_free(&list);
}
END_TEST

START_TEST(test_list_many)
{
	PgbError	err = {0};
	StorageList list;
	char		name[64];

	/* more entries than the first allocation, created out of order */
	for (int i = 199; i >= 0; i--)
	{
		snprintf(name, sizeof(name), "many/%04d", (i * 37) % 200);
		put(name, "", 0);
	}
	ck_assert_int_eq(storage_list(st, "many", &list, &err), 0);
	ck_assert_int_eq(list.count, 200);
	for (int i = 0; i < 200; i++)
	{
		snprintf(name, sizeof(name), "%04d", i);
		ck_assert_str_eq(list.items[i].name, name);
	}
	storage_list_free(&list);
}
END_TEST

START_TEST(test_remove)
{
	PgbError	err = {0};

	ck_assert_int_eq(storage_remove(st, "missing", &err), 0);
	ck_assert_int_eq(storage_remove(st, "missing/deeper", &err), 0);
	ck_assert_int_eq(storage_remove_tree(st, "missing", &err), 0);
	ck_assert_int_eq(storage_remove_tree(st, "missing/deeper", &err), 0);
	ck_assert_int_eq(err.code, 0);

	put("r/file", "1", 1);
	put("r/tree/a/b/c", "2", 1);
	put("r/tree/a/d", "3", 1);
	put("r/tree/.hidden", "4", 1);
	ck_assert_int_eq(storage_remove(st, "r/file", &err), 0);
	ck_assert(!exists("r/file"));
	ck_assert_int_eq(storage_remove(st, "r/file", &err), 0);

	ck_assert_int_eq(storage_remove_tree(st, "r/tree", &err), 0);
	ck_assert(!exists("r/tree"));
	ck_assert(exists("r"));
	/* remove_tree of a plain file removes the file */
	put("r/plain", "5", 1);
	ck_assert_int_eq(storage_remove_tree(st, "r/plain", &err), 0);
	ck_assert(!exists("r/plain"));
}
END_TEST

/* remove_tree does not follow a symbolic link out of the repository. */
START_TEST(test_remove_tree_keeps_link_target)
{
	PgbError	err = {0};
	char		outside[300];
	char		keep[PGB_PATH_MAX];
	char		link[PGB_PATH_MAX];
	int			fd;
	struct stat sb;

	snprintf(outside, sizeof(outside), "%s/outside", tmpdir);
	ck_assert_int_eq(mkdir(outside, 0700), 0);
	snprintf(keep, sizeof(keep), "%s/precious", outside);
	fd = open(keep, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	put("t/x", "1", 1);
	full("t/link", link);
	ck_assert_int_eq(symlink(outside, link), 0);

	ck_assert_int_eq(storage_remove_tree(st, "t", &err), 0);
	ck_assert(!exists("t"));
	ck_assert_int_eq(stat(keep, &sb), 0);
}
END_TEST

START_TEST(test_read_all_limit)
{
	PgbError	err = {0};
	uint8_t    *data;
	size_t		len;
	char	   *big = malloc(100000);

	memset(big, 'q', 100000);
	put("big", big, 100000);
	ck_assert_int_eq(storage_read_all(st, "big", 200000, &data, &len, &err), 0);
	ck_assert_uint_eq(len, 100000);
	ck_assert_int_eq(memcmp(data, big, 100000), 0);
	ck_assert_uint_eq(data[100000], 0);
	free(data);
	ck_assert_int_eq(storage_read_all(st, "big", 50000, &data, &len, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	ck_assert_ptr_nonnull(strstr(err.msg, "larger than 50000"));
	free(big);
}
END_TEST

/* ------------------------------------------------------------ locks */

/* In a child process: try the lock, report code and message through a pipe. */
static void
lock_in_child(const char *path, int *code, char *msg, size_t msglen)
{
	int			fds[2];
	pid_t		pid;
	int			status;
	ssize_t		n;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
	{
		PgbError	err = {0};
		StorageLock *l;
		char		out[PGB_ERRMSG_MAX + 16];
		int			len;

		close(fds[0]);
		l = storage_lock(st, path, "child", &err);
		len = snprintf(out, sizeof(out), "%d|%s", l ? 0 : err.code, l ? "" : err.msg);
		if (write(fds[1], out, (size_t) len) != len)
			_exit(2);
		_exit(0);
	}
	close(fds[1]);
	n = read(fds[0], msg, msglen - 1);
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_gt(n, 0);
	msg[n] = '\0';
	*code = atoi(msg);
	memmove(msg, strchr(msg, '|') + 1, strlen(strchr(msg, '|') + 1) + 1);
}

START_TEST(test_lock_exclusive)
{
	PgbError	err = {0};
	StorageLock *l = storage_lock(st, "lock/cluster.lock", "pid 4242 backup on host db1", &err);
	StorageLock *again;
	int			code;
	char		msg[PGB_ERRMSG_MAX + 16];
	char		path[PGB_PATH_MAX];

	ck_assert_msg(l != NULL, "%s", err.msg);

	/* another process */
	lock_in_child("lock/cluster.lock", &code, msg, sizeof(msg));
	ck_assert_int_eq(code, EXIT_LOCKED);
	ck_assert_msg(strstr(msg, "pid 4242 backup on host db1") != NULL, "message \"%s\" lacks the holder", msg);
	full("lock/cluster.lock", path);
	ck_assert_msg(strstr(msg, path) != NULL, "message \"%s\" lacks the lock path", msg);

	/* the same process, a second time */
	again = storage_lock(st, "lock/cluster.lock", "second", &err);
	ck_assert_ptr_null(again);
	ck_assert_int_eq(err.code, EXIT_LOCKED);
	ck_assert_ptr_nonnull(strstr(err.msg, "pid 4242 backup on host db1"));
	ck_assert(err.hint[0] != '\0');

	/* a different lock name is independent */
	pgb_error_clear(&err);
	again = storage_lock(st, "lock/other.lock", "other", &err);
	ck_assert_msg(again != NULL, "%s", err.msg);
	storage_unlock(again);

	/* released: the child gets it now */
	storage_unlock(l);
	lock_in_child("lock/cluster.lock", &code, msg, sizeof(msg));
	ck_assert_msg(code == 0, "after unlock: %d %s", code, msg);
}
END_TEST

/* Only the first line of the holder's text is quoted; an empty one says so. */
START_TEST(test_lock_holder_text)
{
	PgbError	err = {0};
	StorageLock *l = storage_lock(st, "a.lock", "line one\nline two", &err);
	int			code;
	char		msg[PGB_ERRMSG_MAX + 16];

	ck_assert_ptr_nonnull(l);
	lock_in_child("a.lock", &code, msg, sizeof(msg));
	ck_assert_int_eq(code, EXIT_LOCKED);
	ck_assert_ptr_nonnull(strstr(msg, "(line one)"));
	ck_assert_ptr_null(strstr(msg, "line two"));
	storage_unlock(l);

	l = storage_lock(st, "b.lock", "", &err);
	ck_assert_ptr_nonnull(l);
	lock_in_child("b.lock", &code, msg, sizeof(msg));
	ck_assert_int_eq(code, EXIT_LOCKED);
	ck_assert_ptr_nonnull(strstr(msg, "holder unknown"));
	storage_unlock(l);
}
END_TEST

/* A crashed holder releases its lock: the kernel drops the flock with the process. */
START_TEST(test_lock_released_on_exit)
{
	pid_t		pid = fork();
	int			status;
	PgbError	err = {0};
	StorageLock *l;

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
	{
		PgbError	cerr = {0};

		_exit(storage_lock(st, "crash.lock", "doomed", &cerr) ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	l = storage_lock(st, "crash.lock", "survivor", &err);
	ck_assert_msg(l != NULL, "%s", err.msg);
	storage_unlock(l);
}
END_TEST

/* A probe tells held from free without taking the lock, and names the holder. */
START_TEST(test_lock_probe)
{
	PgbError	err = {0};
	StorageLock *l;
	char		holder[64];
	pid_t		pid;
	int			status;

	/* never taken: no file */
	ck_assert_int_eq(storage_lock_probe(st, "lock/probe.lock", holder, sizeof(holder), &err), 0);
	ck_assert_str_eq(holder, "");

	l = storage_lock(st, "lock/probe.lock", "backup on host db1, pid 42\nmore", &err);
	ck_assert_msg(l != NULL, "%s", err.msg);
	ck_assert_int_eq(storage_lock_probe(st, "lock/probe.lock", holder, sizeof(holder), &err), 1);
	ck_assert_str_eq(holder, "backup on host db1, pid 42");
	/* the probe left it alone: still held */
	ck_assert_int_eq(storage_lock_probe(st, "lock/probe.lock", holder, 8, &err), 1);
	ck_assert_str_eq(holder, "backup ");
	storage_unlock(l);
	ck_assert_int_eq(storage_lock_probe(st, "lock/probe.lock", holder, sizeof(holder), &err), 0);

	/* a holder that died without unlocking leaves its text behind: free all the same */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
	{
		PgbError	cerr = {0};

		_exit(storage_lock(st, "lock/probe.lock", "doomed", &cerr) ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(storage_lock_probe(st, "lock/probe.lock", holder, sizeof(holder), &err), 0);
	l = storage_lock(st, "lock/probe.lock", "next", &err);
	ck_assert_msg(l != NULL, "%s", err.msg);
	storage_unlock(l);
}
END_TEST

/*
 * A lock asked for while a probe holds its instant's shared flock is not
 * refused: the child holds a shared flock for 10 ms, as a slow probe would.
 */
START_TEST(test_lock_waits_out_probe)
{
	PgbError	err = {0};
	StorageLock *l = storage_lock(st, "lock/p.lock", "first", &err);
	char		path[PGB_PATH_MAX];
	int			fds[2];
	char		c;
	pid_t		pid;
	int			status;

	ck_assert_msg(l != NULL, "%s", err.msg);
	storage_unlock(l);
	full("lock/p.lock", path);
	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
	{
		int			fd = open(path, O_RDONLY);

		close(fds[0]);
		if (fd < 0 || flock(fd, LOCK_SH | LOCK_NB) != 0 || write(fds[1], "x", 1) != 1)
			_exit(1);
		usleep(10 * 1000);
		_exit(0);
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &c, 1), 1);
	close(fds[0]);
	l = storage_lock(st, "lock/p.lock", "second", &err);
	ck_assert_msg(l != NULL, "%d %s", err.code, err.msg);
	storage_unlock(l);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

/* ------------------------------------------------------------ objio */

/* A sink that counts bytes and checks they are all the same letter. */
static int
count_z(void *arg, const void *buf, size_t len, PgbError *err)
{
	size_t	   *total = arg;

	for (size_t i = 0; i < len; i++)
		if (((const char *) buf)[i] != 'z')
			return pgb_error(err, EXIT_INTERNAL, "unexpected byte");
	*total += len;
	return 0;
}

START_TEST(test_objio_round_trip)
{
	PgbError	err = {0};
	const char *text = "pgbkp info file\nwith two lines\n";
	ObjectSummary put_sum;
	ObjectSummary tr;
	bool		existed = true;
	char	   *back = NULL;
	size_t		len = 0;
	StorageInfo info;
	uint8_t		digest[SHA256_LEN];

	ck_assert_msg(objio_put_mem(st, "backup/info", OBJECT_KIND_INFO, 3, text, strlen(text),
								false, &existed, &put_sum, &err) == 0, "%s", err.msg);
	ck_assert(!existed);
	ck_assert_int_eq(storage_info(st, "backup/info", &info, &err), 0);
	ck_assert_uint_eq(put_sum.size, strlen(text));
	ck_assert_uint_eq(put_sum.stored, info.size);
	sha256_digest(text, strlen(text), digest);
	ck_assert_mem_eq(put_sum.sha256, digest, SHA256_LEN);

	ck_assert_msg(objio_get_mem(st, "backup/info", OBJECT_KIND_INFO, 1024, &back, &len, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(len, strlen(text));
	ck_assert_str_eq(back, text);
	free(back);

	memset(&tr, 0, sizeof(tr));
	ck_assert_msg(objio_get_trailer(st, "backup/info", &tr, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(tr.size, put_sum.size);
	ck_assert_uint_eq(tr.stored, put_sum.stored);
	ck_assert_mem_eq(tr.sha256, digest, SHA256_LEN);
}
END_TEST

START_TEST(test_objio_empty_content)
{
	PgbError	err = {0};
	char	   *back = NULL;
	size_t		len = 99;

	ck_assert_int_eq(objio_put_mem(st, "e", OBJECT_KIND_MANIFEST, 1, "", 0, false, NULL, NULL, &err), 0);
	ck_assert_msg(objio_get_mem(st, "e", OBJECT_KIND_MANIFEST, 10, &back, &len, &err) == 0, "%s", err.msg);
	ck_assert_ptr_nonnull(back);
	ck_assert_uint_eq(len, 0);
	ck_assert_str_eq(back, "");
	free(back);
}
END_TEST

START_TEST(test_objio_no_overwrite)
{
	PgbError	err = {0};
	bool		existed = false;
	char	   *back = NULL;

	ck_assert_int_eq(objio_put_mem(st, "wal/seg", OBJECT_KIND_WAL, 1, "first", 5, true, &existed, NULL, &err), 0);
	ck_assert(!existed);
	ck_assert_int_eq(objio_put_mem(st, "wal/seg", OBJECT_KIND_WAL, 1, "second", 6, true, &existed, NULL, &err), 0);
	ck_assert(existed);
	ck_assert_int_eq(objio_get_mem(st, "wal/seg", OBJECT_KIND_WAL, 100, &back, NULL, &err), 0);
	ck_assert_str_eq(back, "first");
	free(back);
}
END_TEST

static void
flip_byte(const char *rel, off_t offset)
{
	char		path[PGB_PATH_MAX];
	int			fd;
	uint8_t		b;

	full(rel, path);
	fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &b, 1, offset), 1);
	b ^= 0x20;
	ck_assert_int_eq(pwrite(fd, &b, 1, offset), 1);
	close(fd);
}

START_TEST(test_objio_corrupt_byte)
{
	char		content[5000];
	char		path[PGB_PATH_MAX];
	StorageInfo info;
	PgbError	err = {0};

	for (size_t i = 0; i < sizeof(content); i++)
		content[i] = (char) ((i * 2654435761u) >> 13);
	ck_assert_int_eq(objio_put_mem(st, "m/manifest", OBJECT_KIND_MANIFEST, 3, content, sizeof(content),
								   false, NULL, NULL, &err), 0);
	ck_assert_int_eq(storage_info(st, "m/manifest", &info, &err), 0);
	full("m/manifest", path);

	/* header, payload, trailer size, trailer sha, trailer magic */
	{
		const off_t offsets[] = {4, 100, (off_t) info.size - 48, (off_t) info.size - 30, (off_t) info.size - 3};

		for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++)
		{
			char	   *back = NULL;

			pgb_error_clear(&err);
			flip_byte("m/manifest", offsets[i]);
			ck_assert_msg(objio_get_mem(st, "m/manifest", OBJECT_KIND_MANIFEST, 10000, &back, NULL, &err) == -1,
						  "flip at %lld accepted", (long long) offsets[i]);
			ck_assert_ptr_null(back);
			ck_assert_int_eq(err.code, EXIT_CORRUPT);
			ck_assert_msg(strstr(err.msg, path) != NULL, "message \"%s\" lacks \"%s\"", err.msg, path);
			flip_byte("m/manifest", offsets[i]);
		}
	}
	/* restored: readable again */
	{
		char	   *back = NULL;
		size_t		len;

		ck_assert_int_eq(objio_get_mem(st, "m/manifest", OBJECT_KIND_MANIFEST, 10000, &back, &len, &err), 0);
		ck_assert_uint_eq(len, sizeof(content));
		ck_assert_int_eq(memcmp(back, content, len), 0);
		free(back);
	}
}
END_TEST

START_TEST(test_objio_errors)
{
	PgbError	err = {0};
	char	   *back = NULL;
	ObjectSummary sum;
	char		path[PGB_PATH_MAX];

	/* missing */
	ck_assert_int_eq(objio_get_mem(st, "none", OBJECT_KIND_INFO, 10, &back, NULL, &err), -1);
	ck_assert_int_eq(err.code, EXIT_NOT_FOUND);
	ck_assert_int_eq(objio_get_trailer(st, "none", &sum, &err), -1);
	ck_assert_int_eq(err.code, EXIT_NOT_FOUND);

	/* wrong kind */
	ck_assert_int_eq(objio_put_mem(st, "w", OBJECT_KIND_WAL, 1, "abc", 3, false, NULL, NULL, &err), 0);
	ck_assert_int_eq(objio_get_mem(st, "w", OBJECT_KIND_INFO, 10, &back, NULL, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	full("w", path);
	ck_assert_ptr_nonnull(strstr(err.msg, path));

	/* larger than allowed */
	ck_assert_int_eq(objio_get_mem(st, "w", OBJECT_KIND_WAL, 2, &back, NULL, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	ck_assert_ptr_nonnull(strstr(err.msg, "exceeds"));
	ck_assert_int_eq(objio_get_mem(st, "w", OBJECT_KIND_WAL, 3, &back, NULL, &err), 0);
	ck_assert_str_eq(back, "abc");
	free(back);

	/* too short to be an object */
	put("short", "PGBK", 4);
	ck_assert_int_eq(objio_get_trailer(st, "short", &sum, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	ck_assert_int_eq(objio_get_mem(st, "short", OBJECT_KIND_WAL, 10, &back, NULL, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);

	/* the trailer alone tells a damaged end */
	{
		char		junk[100];

		memset(junk, 'j', sizeof(junk));
		put("junk", junk, sizeof(junk));
		ck_assert_int_eq(objio_get_trailer(st, "junk", &sum, &err), -1);
		ck_assert_int_eq(err.code, EXIT_CORRUPT);
		full("junk", path);
		ck_assert_ptr_nonnull(strstr(err.msg, path));
	}
}
END_TEST

/*
 * objio_put_fd: content read from a file, around the 256 KiB read size; every
 * other one, and the one of several 1 MiB jobs, compressed by three threads.
 */
START_TEST(test_objio_put_fd)
{
	static const size_t sizes[] = {0, 1, 256 * 1024 - 1, 256 * 1024, 512 * 1024, 600 * 1024, 3 * 1024 * 1024 + 5};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
	{
		PgbError	err = {0};
		char		src[PGB_PATH_MAX];
		char		name[32];
		uint8_t    *data = malloc(sizes[i] + 1);
		int			fd;
		ObjectSummary sum;
		ObjectSummary tr;
		char	   *back = NULL;
		size_t		len;
		bool		existed = true;

		for (size_t k = 0; k < sizes[i]; k++)
			data[k] = (uint8_t) (k % 251);
		snprintf(src, sizeof(src), "%s/src-%zu", tmpdir, i);
		fd = open(src, O_RDWR | O_CREAT | O_TRUNC, 0600);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(fio_write_all(fd, data, sizes[i], src, &err), 0);
		ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
		snprintf(name, sizeof(name), "fd/%zu", i);
		ck_assert_msg(objio_put_fd(st, name, OBJECT_KIND_WAL, 1, i % 2 || sizes[i] > 1024 * 1024 ? 3 : 1, fd, src, true, &existed, &sum, &err) == 0,
					  "%s", err.msg);
		close(fd);
		ck_assert(!existed);
		ck_assert_uint_eq(sum.size, sizes[i]);
		ck_assert_int_eq(objio_get_trailer(st, name, &tr, &err), 0);
		ck_assert_uint_eq(tr.size, sizes[i]);
		ck_assert_uint_eq(tr.stored, sum.stored);
		ck_assert_mem_eq(tr.sha256, sum.sha256, SHA256_LEN);
		ck_assert_msg(objio_get_mem(st, name, OBJECT_KIND_WAL, sizes[i], &back, &len, &err) == 0, "%s", err.msg);
		ck_assert_uint_eq(len, sizes[i]);
		ck_assert_int_eq(memcmp(back, data, len), 0);
		free(back);
		free(data);
	}
}
END_TEST

/* objio_get streams into any sink and reports the summary. */
START_TEST(test_objio_get_summary)
{
	PgbError	err = {0};
	ObjectSummary put_sum;
	ObjectSummary get_sum;
	char		buf[3000];
	size_t		total = 0;

	memset(buf, 'z', sizeof(buf));
	ck_assert_int_eq(objio_put_mem(st, "s", OBJECT_KIND_INFO, 5, buf, sizeof(buf), false, NULL, &put_sum, &err), 0);
	Stage	   *sink = callback_stage_new(count_z, &total, &err);

	ck_assert_ptr_nonnull(sink);
	ck_assert_msg(objio_get(st, "s", OBJECT_KIND_INFO, sink, &get_sum, &err) == 0, "%s", err.msg);
	stage_free(sink);
	ck_assert_uint_eq(total, sizeof(buf));
	ck_assert_uint_eq(get_sum.size, sizeof(buf));
	ck_assert_uint_eq(get_sum.stored, put_sum.stored);
	ck_assert_mem_eq(get_sum.sha256, put_sum.sha256, SHA256_LEN);
}
END_TEST

static Suite *
storage_suite(void)
{
	Suite	   *s = suite_create("storage");
	TCase	   *tc;

	tc = tcase_create("posix");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_new_rejects_relative_root);
	tcase_add_test(tc, test_new_description);
	tcase_add_test(tc, test_write_commit_read);
	tcase_add_test(tc, test_commit_removes_dead_writers_temps);
	tcase_add_test(tc, test_clean_temps_recursive);
	tcase_add_test(tc, test_read_missing);
	tcase_add_test(tc, test_ranged_reads);
	tcase_add_test(tc, test_ranged_read_past_end);
	tcase_add_test(tc, test_uncommitted_invisible_and_abort);
	tcase_add_test(tc, test_commit_no_overwrite);
	tcase_add_test(tc, test_commit_replaces);
	tcase_add_test(tc, test_two_open_writes);
	tcase_add_test(tc, test_list);
	tcase_add_test(tc, test_list_many);
	tcase_add_test(tc, test_remove);
	tcase_add_test(tc, test_remove_tree_keeps_link_target);
	tcase_add_test(tc, test_read_all_limit);
	suite_add_tcase(s, tc);

	tc = tcase_create("lock");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_lock_exclusive);
	tcase_add_test(tc, test_lock_holder_text);
	tcase_add_test(tc, test_lock_released_on_exit);
	tcase_add_test(tc, test_lock_probe);
	tcase_add_test(tc, test_lock_waits_out_probe);
	suite_add_tcase(s, tc);

	tc = tcase_create("objio");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_objio_round_trip);
	tcase_add_test(tc, test_objio_empty_content);
	tcase_add_test(tc, test_objio_no_overwrite);
	tcase_add_test(tc, test_objio_corrupt_byte);
	tcase_add_test(tc, test_objio_errors);
	tcase_add_test(tc, test_objio_put_fd);
	tcase_add_test(tc, test_objio_get_summary);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return harness_run(storage_suite());
}
