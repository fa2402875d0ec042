/* The unit tests' shared helpers (see harness.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/fileio.h"
#include "harness.h"

static char *saved_tz;
static int	tz_saved;

void
harness_tmpdir(const char *name, char *out, size_t len)
{
	const char *base = getenv("TMPDIR");
	int			n = snprintf(out, len, "%s/pgbkp-check-%s-XXXXXX", base && base[0] ? base : "/tmp", name);

	ck_assert_msg(n > 0 && (size_t) n < len, "temporary directory name too long");
	ck_assert_msg(mkdtemp(out) != NULL, "mkdtemp %s: %s", out, strerror(errno));
}

void
harness_rmtree(const char *dir)
{
	PgbError	err = {0};

	if (dir[0] != '\0')
		fio_remove_tree(dir, &err);
}

void
harness_set_tz(const char *tz)
{
	if (!tz_saved)
	{
		const char *old = getenv("TZ");

		free(saved_tz);
		saved_tz = old ? strdup(old) : NULL;
		tz_saved = 1;
	}
	ck_assert_int_eq(setenv("TZ", tz, 1), 0);
	tzset();
}

void
harness_set_tz_utc(void)
{
	harness_set_tz("UTC");
}

void
harness_restore_tz(void)
{
	if (!tz_saved)
		return;
	if (saved_tz)
		setenv("TZ", saved_tz, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved_tz);
	saved_tz = NULL;
	tz_saved = 0;
}

void
harness_fixture_path(const char *rel, char *out, size_t len)
{
	const char *srcdir = getenv("srcdir");
	int			n = snprintf(out, len, "%s/tests/unit/fixtures/%s", srcdir && srcdir[0] ? srcdir : ".", rel);

	ck_assert_msg(n > 0 && (size_t) n < len, "fixture path too long");
}

char *
harness_read_file(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	struct stat st;
	char	   *buf;

	ck_assert_msg(f != NULL, "could not open \"%s\": %s", path, strerror(errno));
	ck_assert_int_eq(fstat(fileno(f), &st), 0);
	buf = malloc((size_t) st.st_size + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_msg(fread(buf, 1, (size_t) st.st_size, f) == (size_t) st.st_size,
				  "could not read \"%s\"", path);
	fclose(f);
	buf[st.st_size] = '\0';
	if (len)
		*len = (size_t) st.st_size;
	return buf;
}

char *
harness_read_fixture(const char *rel, size_t *len)
{
	char		path[PGB_PATH_MAX];

	harness_fixture_path(rel, path, sizeof(path));
	return harness_read_file(path, len);
}

void
harness_write_file(const char *path, const void *data, size_t len)
{
	FILE	   *f = fopen(path, "wb");

	ck_assert_msg(f != NULL, "could not create \"%s\": %s", path, strerror(errno));
	ck_assert_msg(fwrite(data, 1, len, f) == len, "could not write \"%s\"", path);
	ck_assert_int_eq(fclose(f), 0);
}

int
harness_buf_sink(void *arg, const void *buf, size_t len, PgbError *err)
{
	HarnessBuf *b = arg;

	(void) err;
	b->calls++;
	if (b->len + len + 1 > b->cap)
	{
		size_t		cap = b->cap ? b->cap : 4096;

		while (cap < b->len + len + 1)
			cap *= 2;
		b->data = realloc(b->data, cap);
		ck_assert_ptr_nonnull(b->data);
		b->cap = cap;
	}
	if (len > 0)
		memcpy(b->data + b->len, buf, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

void
harness_buf_free(HarnessBuf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void
harness_repodef(RepoDef *def, const char *root)
{
	memset(def, 0, sizeof(*def));
	snprintf(def->name, sizeof(def->name), "default");
	def->position = 1;
	def->type = REPO_TYPE_POSIX;
	def->path = (char *) root;
}

RepoClusterInfo
harness_repo_info(void)
{
	RepoClusterInfo info = {
		.format = REPO_FORMAT_VERSION,
		.system_identifier = UINT64_C(7000000000000000001),
		.pg_version = 150018,
		.wal_segment_size = 16 * 1024 * 1024,
		.block_size = 8192,
		.created = INT64_C(1795000000000000),
	};

	return info;
}

Repo *
harness_repo_new(const char *root, const char *cluster)
{
	RepoDef		def;
	RepoClusterInfo info = harness_repo_info();
	PgbError	err = {0};
	bool		created = false;
	Repo	   *repo;

	harness_repodef(&def, root);
	repo = repo_init(&def, cluster, &info, &created, &err);
	ck_assert_msg(repo != NULL, "repo_init: %s", err.msg);
	ck_assert(created);
	return repo;
}

int
harness_run(Suite *s)
{
	SRunner    *sr = srunner_create(s);
	int			failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
