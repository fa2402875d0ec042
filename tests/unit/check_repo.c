/*
 * Unit tests for src/repo/repo.c against a temporary posix repository:
 * cluster names, repository paths, creating the cluster's namespace
 * (cluster.info) once and finding it again, the refusal of another
 * database system, of a missing, damaged or unsupported cluster.info, and
 * an encrypted namespace (the key file, the passphrase, and a plain
 * namespace that cannot become encrypted).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fileio.h"
#include "repo/objio.h"
#include "repo/repo.h"
#include "storage/posix.h"
#include "harness.h"

static char tmpdir[256];
static char root[320];

static void
setup(void)
{
	harness_tmpdir("repo", tmpdir, sizeof(tmpdir));
	snprintf(root, sizeof(root), "%s/repo", tmpdir);
}

static void
teardown(void)
{
	harness_rmtree(tmpdir);
}

/* repo_open of cluster "c" fails with code; its message contains what. */
static void
assert_open_fails(const RepoDef *def, int code, const char *what)
{
	PgbError	err = {0};
	Repo	   *repo = repo_open(def, "c", &err);

	ck_assert_ptr_null(repo);
	ck_assert_msg(err.code == code, "code %d, want %d (%s)", err.code, code, err.msg);
	ck_assert_msg(strstr(err.msg, what) != NULL, "\"%s\" does not say \"%s\"", err.msg, what);
}

/* Replace c/cluster.info with an object holding text. */
static void
put_info(const char *text)
{
	PgbError	err = {0};
	Storage    *st = storage_posix_new(root, &err);
	bool		existed;

	ck_assert_msg(st != NULL, "%s", err.msg);
	ck_assert_msg(objio_put_mem(st, "c/cluster.info", OBJECT_KIND_INFO, 3, text, strlen(text),
								false, &existed, NULL, &err) == 0, "%s", err.msg);
	storage_free(st);
}

START_TEST(test_cluster_name)
{
	static const char *const good[] = {"c", "pg-test", "pg_test.1", "A-Z_a-z.0-9"};
	static const char *const bad[] = {".hidden", "a/b", "a b", "", "é"};
	char		longest[REPO_CLUSTER_NAME_MAX + 2];
	PgbError	err = {0};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(repo_cluster_name_check(good[i], &err) == 0, "%s: %s", good[i], err.msg);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		pgb_error_clear(&err);
		ck_assert_msg(repo_cluster_name_check(bad[i], &err) != 0, "\"%s\" accepted", bad[i]);
		ck_assert_int_eq(err.code, EXIT_CONFIG);
	}
	pgb_error_clear(&err);
	ck_assert_int_ne(repo_cluster_name_check(NULL, &err), 0);
	ck_assert_str_eq(err.msg, "no cluster name given");
	ck_assert_ptr_nonnull(strstr(err.hint, "--cluster"));
	memset(longest, 'x', REPO_CLUSTER_NAME_MAX);
	longest[REPO_CLUSTER_NAME_MAX] = '\0';
	ck_assert_int_eq(repo_cluster_name_check(longest, &err), 0);
	strcat(longest, "x");
	ck_assert_int_ne(repo_cluster_name_check(longest, &err), 0);
}
END_TEST

START_TEST(test_paths)
{
	Repo		repo = {0};
	char		out[PGB_PATH_MAX];
	char	   *big = malloc(PGB_PATH_MAX + 1);

	snprintf(repo.cluster, sizeof(repo.cluster), "pg-test");
	ck_assert_int_eq(repo_path(&repo, out, "backup/%s/bundle/%06u", "L", 7u), 0);
	ck_assert_str_eq(out, "pg-test/backup/L/bundle/000007");
	ck_assert_int_eq(repo_path(&repo, out, "cluster.info"), 0);
	ck_assert_str_eq(out, "pg-test/cluster.info");
	memset(big, 'a', PGB_PATH_MAX);
	big[PGB_PATH_MAX] = '\0';
	ck_assert_int_eq(repo_path(&repo, out, "%s", big), -1);
	big[PGB_PATH_MAX - 8] = '\0';	/* fits alone, not with the cluster in front */
	ck_assert_int_eq(repo_path(&repo, out, "%s", big), -1);
	free(big);
}
END_TEST

START_TEST(test_init_then_open)
{
	RepoDef		def;
	RepoClusterInfo info = harness_repo_info();
	PgbError	err = {0};
	bool		created = true;
	Repo	   *repo = harness_repo_new(root, "c");
	char		path[PGB_PATH_MAX];
	struct stat st;

	ck_assert_str_eq(repo->cluster, "c");
	ck_assert_str_eq(repo->name, "default");
	ck_assert(!repo->encrypted);
	ck_assert_uint_eq(repo->info.system_identifier, info.system_identifier);
	repo_free(repo);
	snprintf(path, sizeof(path), "%s/c/cluster.info", root);
	ck_assert_int_eq(stat(path, &st), 0);

	/* open finds what init wrote */
	harness_repodef(&def, root);
	repo = repo_open(&def, "c", &err);
	ck_assert_msg(repo != NULL, "%s", err.msg);
	ck_assert_int_eq(repo->info.format, REPO_FORMAT_VERSION);
	ck_assert_uint_eq(repo->info.system_identifier, info.system_identifier);
	ck_assert_int_eq(repo->info.pg_version, info.pg_version);
	ck_assert_uint_eq(repo->info.wal_segment_size, info.wal_segment_size);
	ck_assert_uint_eq(repo->info.block_size, info.block_size);
	ck_assert_int_eq(repo->info.created, info.created);
	repo_free(repo);

	/* init again for the same system: nothing changes */
	info.created += 1000000;
	repo = repo_init(&def, "c", &info, &created, &err);
	ck_assert_msg(repo != NULL, "%s", err.msg);
	ck_assert(!created);
	ck_assert_int_eq(repo->info.created, harness_repo_info().created);
	repo_free(repo);

	/* another database system is refused */
	info.system_identifier++;
	ck_assert_ptr_null(repo_init(&def, "c", &info, &created, &err));
	ck_assert_int_eq(err.code, EXIT_ARCHIVE_MISMATCH);
	ck_assert_ptr_nonnull(strstr(err.msg, "belongs to database system 7000000000000000001"));
	ck_assert_ptr_nonnull(strstr(err.hint, "another --cluster name"));

	/* another cluster name is another namespace */
	pgb_error_clear(&err);
	repo = repo_init(&def, "d", &info, &created, &err);
	ck_assert_msg(repo != NULL, "%s", err.msg);
	ck_assert(created);
	repo_free(repo);
}
END_TEST

START_TEST(test_open_refusals)
{
	RepoDef		def;
	PgbError	err = {0};

	harness_repodef(&def, root);
	assert_open_fails(&def, EXIT_NOT_FOUND, "cluster \"c\" is not initialized in repository \"default\"");
	ck_assert_ptr_null(repo_open(&def, "c", &err));
	ck_assert_ptr_nonnull(strstr(err.hint, "pgbkp init"));
	pgb_error_clear(&err);
	ck_assert_ptr_null(repo_open(NULL, "c", &err));
	ck_assert_int_eq(err.code, EXIT_CONFIG);
	ck_assert_str_eq(err.msg, "no repository given");
	pgb_error_clear(&err);
	ck_assert_ptr_null(repo_open(&def, "../c", &err));
	ck_assert_int_eq(err.code, EXIT_CONFIG);
}
END_TEST

START_TEST(test_damaged_info)
{
	RepoDef		def;
	char		path[PGB_PATH_MAX];

	repo_free(harness_repo_new(root, "c"));
	harness_repodef(&def, root);

	/* not an object at all, or one cut short */
	snprintf(path, sizeof(path), "%s/c/cluster.info", root);
	harness_write_file(path, "{\"format\": 1}", 13);
	assert_open_fails(&def, EXIT_CORRUPT, "");

	/* a sound object whose content is not a cluster.info */
	put_info("not json");
	assert_open_fails(&def, EXIT_CORRUPT, "malformed cluster.info");
	put_info("{\"format\": 1, \"pg_version\": 150018}");
	assert_open_fails(&def, EXIT_CORRUPT, "malformed cluster.info");
	put_info("{\"format\": 1, \"system_identifier\": 7, \"pg_version\": 150018, \"wal_segment_size\": 16777216,"
			 " \"block_size\": 8192, \"created\": 0}");
	assert_open_fails(&def, EXIT_CORRUPT, "malformed cluster.info");
	put_info("{\"format\": 1, \"system_identifier\": \"7x\", \"pg_version\": 150018, \"wal_segment_size\": 16777216,"
			 " \"block_size\": 8192, \"created\": 0}");
	assert_open_fails(&def, EXIT_CORRUPT, "malformed system_identifier in cluster.info");
	put_info("{\"format\": 2, \"system_identifier\": \"7\", \"pg_version\": 150018, \"wal_segment_size\": 16777216,"
			 " \"block_size\": 8192, \"created\": 0}");
	assert_open_fails(&def, EXIT_CORRUPT, "repository format 2 is not supported (this pgbkp reads format 1)");
	/* a segment size PostgreSQL cannot have (WAL names would divide by zero above 4 GiB) */
	put_info("{\"format\": 1, \"system_identifier\": \"7\", \"pg_version\": 150018, \"wal_segment_size\": 8589934592,"
			 " \"block_size\": 8192, \"created\": 0}");
	assert_open_fails(&def, EXIT_CORRUPT, "malformed cluster.info: WAL segment size 8589934592");
	put_info("{\"format\": 1, \"system_identifier\": \"7\", \"pg_version\": 150018, \"wal_segment_size\": -1,"
			 " \"block_size\": 8192, \"created\": 0}");
	assert_open_fails(&def, EXIT_CORRUPT, "malformed cluster.info: WAL segment size -1");

	/* and a good one is read again */
	put_info("{\"format\": 1, \"system_identifier\": \"7\", \"pg_version\": 150018, \"wal_segment_size\": 16777216,"
			 " \"block_size\": 8192, \"created\": 5}");
	{
		PgbError	err = {0};
		Repo	   *repo = repo_open(&def, "c", &err);

		ck_assert_msg(repo != NULL, "%s", err.msg);
		ck_assert_uint_eq(repo->info.system_identifier, 7);
		ck_assert_int_eq(repo->info.created, 5);
		repo_free(repo);
	}
}
END_TEST

START_TEST(test_encrypted)
{
	RepoDef		def;
	RepoClusterInfo info = harness_repo_info();
	PgbError	err = {0};
	bool		created = false;
	Repo	   *repo;
	char		path[PGB_PATH_MAX];
	size_t		len;
	char	   *stored;

	harness_repodef(&def, root);
	def.encrypted = true;
	def.cipher_type = (char *) "aes-256-gcm";
	def.cipher_pass = (char *) "correct horse battery staple, check_repo";
	repo = repo_init(&def, "c", &info, &created, &err);
	ck_assert_msg(repo != NULL, "%s", err.msg);
	ck_assert(created);
	ck_assert(repo->encrypted);
	repo_free(repo);

	/* the key file is there; cluster.info is not readable without the key */
	snprintf(path, sizeof(path), "%s/c/encryption.info", root);
	stored = harness_read_file(path, &len);
	ck_assert_uint_gt(len, 0);
	free(stored);
	snprintf(path, sizeof(path), "%s/c/cluster.info", root);
	stored = harness_read_file(path, &len);
	ck_assert_mem_eq(stored, "PGBE", 4);
	free(stored);

	repo = repo_open(&def, "c", &err);
	ck_assert_msg(repo != NULL, "%s", err.msg);
	ck_assert(repo->encrypted);
	ck_assert_uint_eq(repo->info.system_identifier, info.system_identifier);
	repo_free(repo);

	/* no cipher_type for an encrypted namespace, or the wrong passphrase */
	def.encrypted = false;
	assert_open_fails(&def, EXIT_CONFIG, "is encrypted, but no cipher_type is set for it");
	def.encrypted = true;
	def.cipher_pass = (char *) "the wrong passphrase for check_repo";
	ck_assert_ptr_null(repo_open(&def, "c", &err));
	ck_assert_int_ne(err.code, 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "repository \"default\""));

	/* a plain namespace does not become encrypted */
	pgb_error_clear(&err);
	repo_free(harness_repo_new(root, "plain"));
	def.cipher_pass = (char *) "correct horse battery staple, check_repo";
	ck_assert_ptr_null(repo_open(&def, "plain", &err));
	ck_assert_int_eq(err.code, EXIT_CONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "is not encrypted, but cipher_type is set for it"));
	pgb_error_clear(&err);
	ck_assert_ptr_null(repo_init(&def, "plain", &info, &created, &err));
	ck_assert_int_eq(err.code, EXIT_CONFIG);
}
END_TEST

START_TEST(test_lock_probe)
{
	Repo	   *repo = harness_repo_new(root, "c");
	PgbError	err = {0};
	char		holder[128] = "";
	char		path[PGB_PATH_MAX];
	StorageLock *lock;

	ck_assert_int_eq(repo_backup_lock_probe(repo, holder, sizeof(holder), &err), 0);
	ck_assert_int_eq(repo_path(repo, path, REPO_BACKUP_LOCK), 0);
	lock = storage_lock(repo->storage, path, "backup pid 42", &err);
	ck_assert_msg(lock != NULL, "%s", err.msg);
	ck_assert_int_eq(repo_backup_lock_probe(repo, holder, sizeof(holder), &err), 1);
	ck_assert_ptr_nonnull(strstr(holder, "backup pid 42"));
	storage_unlock(lock);
	ck_assert_int_eq(repo_backup_lock_probe(repo, holder, sizeof(holder), &err), 0);
	repo_free(repo);
}
END_TEST

static Suite *
repo_suite(void)
{
	Suite	   *s = suite_create("repo");
	TCase	   *tc = tcase_create("repo");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_cluster_name);
	tcase_add_test(tc, test_paths);
	tcase_add_test(tc, test_init_then_open);
	tcase_add_test(tc, test_open_refusals);
	tcase_add_test(tc, test_damaged_info);
	tcase_add_test(tc, test_encrypted);
	tcase_add_test(tc, test_lock_probe);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return harness_run(repo_suite());
}
