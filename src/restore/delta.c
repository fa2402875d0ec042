/*
 * restore --delta cleanup (see delta.h).  fts walks each tree children
 * first (FTS_DP for a directory after its contents), with its state in the
 * FTS handle rather than in statics, so the walk is reentrant.
 */
#include <errno.h>
#include <fts.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "restore/delta.h"
#include "restore/write.h"

static bool
manifest_has(const Manifest *m, const char *rel, bool is_dir)
{
	if (is_dir)
	{
		for (int i = 0; i < m->ndirs; i++)
			if (strcmp(m->dirs[i].path, rel) == 0)
				return true;
		return strcmp(rel, "pg_tblspc") == 0;
	}
	for (int i = 0; i < m->nlinks; i++)
		if (strcmp(m->links[i].path, rel) == 0)
			return true;
	return manifest_find_file(m, rel) >= 0;
}

/* Remove what under root (which is prefix in the backup: "" or "pg_tblspc/<oid>/") m lacks. */
static int
clean_tree(const Manifest *m, const char *root, const char *prefix, PgbError *err)
{
	char	   *roots[2] = {(char *) root, NULL};
	size_t		root_len = strlen(root);
	FTS		   *fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR, NULL);
	FTSENT	   *e;
	int			rc = 0;

	if (fts == NULL)
		return pgb_error_errno(err, EXIT_IO, errno, "could not remove stale files under \"%s\"", root);
	/* fts joins names to the root without doubling a trailing slash */
	while (root_len > 1 && root[root_len - 1] == '/')
		root_len--;
	while (rc == 0)
	{
		char		rel[PGB_PATH_MAX];
		bool		keep;

		errno = 0;
		if ((e = fts_read(fts)) == NULL)
		{
			if (errno != 0)
				rc = pgb_error_errno(err, EXIT_IO, errno, "could not remove stale files under \"%s\"", root);
			break;
		}
		if (e->fts_level == 0 || e->fts_info == FTS_D)
			continue;
		if (e->fts_info == FTS_DNR || e->fts_info == FTS_ERR || e->fts_info == FTS_NS)
		{
			rc = pgb_error_errno(err, EXIT_IO, e->fts_errno, "could not remove stale files under \"%s\"", root);
			break;
		}
		if (snprintf(rel, sizeof(rel), "%s%s", prefix, e->fts_path + root_len + 1) >= (int) sizeof(rel))
		{
			rc = pgb_error(err, EXIT_IO, "could not remove stale files under \"%s\": path too long", root);
			break;
		}
		if (strcmp(rel, RESTORE_CONTROL_PENDING) == 0)
			keep = true;		/* this restore's pg_control, not yet released */
		else if (e->fts_info == FTS_DP)
			keep = manifest_has(m, rel, true);
		else
			keep = (e->fts_info == FTS_SL || e->fts_info == FTS_SLNONE) && manifest_has(m, rel, true) ?
				true : manifest_has(m, rel, false);
		if (!keep && (e->fts_info == FTS_DP ? rmdir(e->fts_path) : unlink(e->fts_path)) != 0)
			rc = pgb_error_errno(err, EXIT_IO, errno, "could not remove stale files under \"%s\"", root);
	}
	fts_close(fts);
	return rc;
}

int
restore_delta_clean(const Manifest *m, const char *target, const char *const *ts_dest, PgbError *err)
{
	if (clean_tree(m, target, "", err) != 0)
		return -1;
	for (int i = 0; i < m->nlinks; i++)
	{
		char		prefix[PGB_PATH_MAX];

		snprintf(prefix, sizeof(prefix), "%s/", m->links[i].path);
		if (clean_tree(m, ts_dest[i], prefix, err) != 0)
			return -1;
	}
	return 0;
}

void
restore_delta_estimate(const Manifest *m, const char *target, uint64_t *files, uint64_t *bytes)
{
	*files = *bytes = 0;
	for (int i = 0; i < m->nfiles; i++)
	{
		char		path[PGB_PATH_MAX];
		struct stat st;
		PgbError	ignored;

		if (fio_path_join(path, sizeof(path), target, m->files[i].path, &ignored) == 0 &&
			stat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t) st.st_size == m->files[i].size)
		{
			(*files)++;
			*bytes += m->files[i].size;
		}
	}
}
