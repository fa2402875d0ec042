/*
 * Data directory walk (see walk.h).
 *
 * Left out: postmaster.pid/.opts, a stale backup_label / tablespace_map /
 * backup_manifest, pg_internal.init, anything named pgsql_tmp*, and the
 * contents (not the directories) of pg_wal, pg_replslot, pg_dynshmem,
 * pg_notify, pg_serial, pg_snapshots, pg_stat_tmp and pg_subtrans;
 * pg_wal/archive_status is kept as an empty directory (also when pg_wal is a
 * link to another file system, as initdb --waldir makes it).  In database
 * directories, unlogged relations are left out except their init forks, and
 * so are temporary relations (t<backend>_<relfilenode>).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup/walk.h"
#include "common/fileio.h"

static const char *const excluded_top_files[] = {
	"postmaster.pid", "postmaster.opts", "backup_label", "backup_label.old",
	"tablespace_map", "tablespace_map.old", "backup_manifest",
	"postgresql.auto.conf.tmp", "current_logfiles.tmp", NULL
};

static const char *const emptied_top_dirs[] = {
	"pg_wal", "pg_replslot", "pg_dynshmem", "pg_notify", "pg_serial",
	"pg_snapshots", "pg_stat_tmp", "pg_subtrans", NULL
};

static bool
in_list(const char *name, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(name, *list) == 0)
			return true;
	return false;
}

bool
walk_excluded(const char *rel_dir, const char *name, bool is_dir)
{
	if (strncmp(name, "pgsql_tmp", 9) == 0 || strcmp(name, "pg_internal.init") == 0)
		return true;
	if (rel_dir[0] == '\0' && !is_dir && in_list(name, excluded_top_files))
		return true;
	/* contents of the emptied directories (pg_wal/archive_status survives empty) */
	if (in_list(rel_dir, emptied_top_dirs))
		return !(strcmp(rel_dir, "pg_wal") == 0 && is_dir && strcmp(name, "archive_status") == 0);
	if (strcmp(rel_dir, "pg_wal/archive_status") == 0)
		return true;
	return false;
}

/* base/<oid> or pg_tblspc/<oid>/<version dir>/<oid>: holds relation files. */
static bool
is_database_dir(const char *rel)
{
	const char *p;

	if (strncmp(rel, "base/", 5) == 0)
		return rel[5] && strspn(rel + 5, "0123456789") == strlen(rel + 5);
	if (strncmp(rel, "pg_tblspc/", 10) != 0)
		return false;
	p = strrchr(rel, '/');
	return p && p[1] && strspn(p + 1, "0123456789") == strlen(p + 1) &&
		strchr(rel + 10, '/') != p;
}

/* The relfilenode a relation file name belongs to: digits up to '_' or '.'. */
static size_t
relfilenode_len(const char *name)
{
	size_t		n = strspn(name, "0123456789");

	if (n == 0 || (name[n] != '\0' && name[n] != '_' && name[n] != '.'))
		return 0;
	return n;
}

/* t<backend id>_<relfilenode>[...]: a temporary relation, dropped at restart. */
static bool
is_temp_relation(const char *name)
{
	size_t		n;

	if (name[0] != 't')
		return false;
	n = strspn(name + 1, "0123456789");
	return n > 0 && name[1 + n] == '_' && relfilenode_len(name + 2 + n) > 0;
}

typedef struct NameSet
{
	int			count;
	char	  **names;
} NameSet;

static bool
nameset_has(const NameSet *s, const char *name, size_t len)
{
	for (int i = 0; i < s->count; i++)
		if (strlen(s->names[i]) == len && strncmp(s->names[i], name, len) == 0)
			return true;
	return false;
}

static void
nameset_free(NameSet *s)
{
	for (int i = 0; i < s->count; i++)
		free(s->names[i]);
	free(s->names);
}

/* Relfilenodes with an init fork in dir: the unlogged relations. */
static int
collect_unlogged(const char *full, NameSet *out, PgbError *err)
{
	DIR		   *dir = opendir(full);
	struct dirent *de;

	memset(out, 0, sizeof(*out));
	if (dir == NULL)
		return errno == ENOENT ? 0 : pgb_error_errno(err, EXIT_IO, errno, "could not open directory \"%s\"", full);
	while ((de = readdir(dir)) != NULL)
	{
		size_t		n = relfilenode_len(de->d_name);
		char	  **bigger;

		if (n == 0 || strncmp(de->d_name + n, "_init", 5) != 0 ||
			(de->d_name[n + 5] != '\0' && de->d_name[n + 5] != '.'))
			continue;
		bigger = realloc(out->names, sizeof(char *) * (size_t) (out->count + 1));
		if (bigger == NULL || (bigger[out->count] = strndup(de->d_name, n)) == NULL)
		{
			free(bigger ? bigger : out->names);
			closedir(dir);
			return pgb_error(err, EXIT_INTERNAL, "out of memory");
		}
		out->names = bigger;
		out->count++;
	}
	closedir(dir);
	return 0;
}

static int
add_file(Manifest *m, WalkResult *w, const char *rel, const struct stat *st, PgbError *err)
{
	uint64_t	size = (uint64_t) st->st_size;
	ManifestFile *f = manifest_add_file(m, rel, 0, err);

	if (f == NULL)
		return -1;
	f->nchunks = (int) (size / MANIFEST_CHUNK_SIZE + 1);
	f->size = size;
	f->mode = st->st_mode & 07777;
	f->mtime = st->st_mtime;
	w->nfiles++;
	w->total_bytes += size;
	return 0;
}

static int	walk_dir(const char *full, const char *rel, Manifest *m, WalkResult *w, PgbError *err);

static int
walk_entry(const char *full_dir, const char *rel_dir, const char *name, const NameSet *unlogged,
		   Manifest *m, WalkResult *w, PgbError *err)
{
	char		full[PGB_PATH_MAX];
	char		rel[PGB_PATH_MAX];
	struct stat st;

	if (fio_path_join(full, sizeof(full), full_dir, name, err) != 0)
		return -1;
	if (rel_dir[0])
	{
		if (fio_path_join(rel, sizeof(rel), rel_dir, name, err) != 0)
			return -1;
	}
	else
		snprintf(rel, sizeof(rel), "%s", name);
	if (lstat(full, &st) != 0)
	{
		if (errno == ENOENT)
			return 0;			/* removed while we walk: normal */
		return pgb_error_errno(err, EXIT_IO, errno, "could not stat \"%s\"", full);
	}
	if (S_ISLNK(st.st_mode) && rel_dir[0] == '\0' && strcmp(name, "pg_wal") == 0)
	{
		/* restore makes it a plain directory; its contents are never backed up */
		if (manifest_add_dir(m, "pg_wal", 0700, err) != 0)
			return -1;
		return manifest_add_dir(m, "pg_wal/archive_status", 0700, err);
	}
	if (S_ISLNK(st.st_mode) && strcmp(rel_dir, "pg_tblspc") == 0)
	{
		char		target[PGB_PATH_MAX];
		ssize_t		n = readlink(full, target, sizeof(target) - 1);

		if (n < 0)
			return pgb_error_errno(err, EXIT_IO, errno, "could not read link \"%s\"", full);
		target[n] = '\0';
		if (target[0] != '/')
			return pgb_error(err, EXIT_IO, "tablespace link \"%s\" points to a relative path \"%s\"", full, target);
		if (manifest_add_link(m, rel, target, err) != 0)
			return -1;
		return walk_dir(target, rel, m, w, err);
	}
	if (walk_excluded(rel_dir, name, S_ISDIR(st.st_mode)))
		return 0;
	if (unlogged && is_temp_relation(name))
		return 0;
	if (unlogged && unlogged->count > 0)
	{
		size_t		n = relfilenode_len(name);

		if (n > 0 && nameset_has(unlogged, name, n) && strncmp(name + n, "_init", 5) != 0)
			return 0;
	}
	if (S_ISDIR(st.st_mode))
	{
		if (manifest_add_dir(m, rel, st.st_mode & 07777, err) != 0)
			return -1;
		return walk_dir(full, rel, m, w, err);
	}
	if (S_ISREG(st.st_mode))
		return add_file(m, w, rel, &st, err);
	/* sockets, fifos and stray links have no place in a data directory */
	return 0;
}

static int
walk_dir(const char *full, const char *rel, Manifest *m, WalkResult *w, PgbError *err)
{
	DIR		   *dir = opendir(full);
	struct dirent *de;
	NameSet		unlogged = {0};
	bool		dbdir = is_database_dir(rel);
	int			rc = 0;

	if (dir == NULL)
	{
		if (errno == ENOENT && rel[0])
			return 0;
		return pgb_error_errno(err, EXIT_IO, errno, "could not open directory \"%s\"", full);
	}
	if (dbdir && collect_unlogged(full, &unlogged, err) != 0)
	{
		closedir(dir);
		return -1;
	}
	while (rc == 0 && (de = readdir(dir)) != NULL)
	{
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		rc = walk_entry(full, rel, de->d_name, dbdir ? &unlogged : NULL, m, w, err);
	}
	closedir(dir);
	nameset_free(&unlogged);
	return rc;
}

int
walk_data_dir(const char *pgdata, Manifest *m, WalkResult *out, PgbError *err)
{
	memset(out, 0, sizeof(*out));
	if (walk_dir(pgdata, "", m, out, err) != 0)
		return -1;
	manifest_sort_files(m);
	return 0;
}
