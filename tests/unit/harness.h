/*
 * What the unit tests share: a temporary directory made and removed around
 * a test, the time zone set and put back, paths of the fixtures under
 * tests/unit/fixtures, whole small files read and written, a growable
 * memory sink, and the Check runner's boilerplate.  Every helper fails the
 * running test (ck_assert) instead of returning an error.
 */
#ifndef PGBKP_TEST_HARNESS_H
#define PGBKP_TEST_HARNESS_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include "common/error.h"
#include "repo/repo.h"

/*
 * A fresh directory $TMPDIR/pgbkp-check-<name>-XXXXXX (TMPDIR unset or
 * empty: /tmp), its path in out.
 */
void		harness_tmpdir(const char *name, char *out, size_t len);
/* Remove dir and everything below it (a missing one is fine). */
void		harness_rmtree(const char *dir);

/*
 * Set TZ (and tzset); harness_restore_tz puts back what was there before.
 * harness_set_tz_utc and harness_restore_tz also serve as a checked
 * fixture's setup and teardown.
 */
void		harness_set_tz(const char *tz);
void		harness_set_tz_utc(void);
void		harness_restore_tz(void);

/* The path of tests/unit/fixtures/<rel> (below $srcdir when make check sets it). */
void		harness_fixture_path(const char *rel, char *out, size_t len);

/*
 * The whole content of path, malloc'd, with a NUL after it (so text can be
 * used as a string); *len (if not NULL) its size.
 */
char	   *harness_read_file(const char *path, size_t *len);
/* harness_read_file of a fixture. */
char	   *harness_read_fixture(const char *rel, size_t *len);
/* Create or replace path with len bytes of data. */
void		harness_write_file(const char *path, const void *data, size_t len);

/*
 * A growable memory sink (a ByteSink: harness_buf_sink with the buffer as
 * its argument) that counts its calls.  The content is always followed by
 * a NUL, so text can be used as a string.
 */
typedef struct HarnessBuf
{
	union
	{
		uint8_t    *data;
		char	   *text;
	};
	size_t		len;
	size_t		cap;
	int			calls;
} HarnessBuf;

int			harness_buf_sink(void *arg, const void *buf, size_t len, PgbError *err);
/* Free the content and zero b. */
void		harness_buf_free(HarnessBuf *b);

/*
 * A posix repository definition for directory root (def's strings point
 * into root, which must outlive it), and the cluster's namespace in it
 * made with harness_repo_info (system 7000000000000000001, PostgreSQL 15,
 * 16 MiB segments, 8 KiB blocks): a temporary repository for a test.
 */
void		harness_repodef(RepoDef *def, const char *root);
RepoClusterInfo harness_repo_info(void);
Repo	   *harness_repo_new(const char *root, const char *cluster);

/* Run every test of s, free it, and return the exit status for main. */
int			harness_run(Suite *s);

#endif
