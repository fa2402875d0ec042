/*
 * Verifying the repository's records beside its backups and WAL: every
 * restore drill report (drill/), every WAL index summary (wal-index/) and
 * the verify mark.  Each is read whole through its object container, whose
 * checksum catches any damaged byte, and parsed; a summary must also name
 * the segment it is filed under.  A damaged record is a problem like any
 * other (the command exits 6), though none of them is needed to restore:
 * the hint says how each is made again.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/verify.h"
#include "common/fileio.h"
#include "repo/objio.h"
#include "repo/walindex.h"

#define RECORD_MAX (4 * 1024 * 1024)

static void
record_problem(Verifier *v, const PgbError *cause, const char *what, const char *hint)
{
	PgbError	e = {0};

	pgb_error(&e, cause->code == EXIT_IO ? EXIT_IO : EXIT_CORRUPT, "%s: %s", what, cause->msg);
	pgb_hint(&e, "%s", hint);
	verifier_problem(v, &e);
}

/* Read the object at path (kind I) as JSON; NULL with err set when it is damaged. */
static json_object *
read_json(Verifier *v, const char *path, char **text_out, PgbError *err)
{
	char	   *text = NULL;
	json_object *o;

	if (objio_get_mem(v->repo->storage, path, OBJECT_KIND_INFO, RECORD_MAX, &text, NULL, err) != 0)
		return NULL;
	o = json_tokener_parse(text);
	if (o == NULL)
		pgb_error(err, EXIT_CORRUPT, "not a JSON document");
	if (text_out && o)
		*text_out = text;
	else
		free(text);
	return o;
}

static int
verify_drills(Verifier *v, int *n, PgbError *err)
{
	char		dir[PGB_PATH_MAX];
	StorageList l = {0};

	if (repo_path(v->repo, dir, "drill") != 0)
		return pgb_error(err, EXIT_IO, "path too long for the drill records");
	if (storage_list(v->repo->storage, dir, &l, err) != 0)
		return -1;
	for (int i = 0; i < l.count; i++)
	{
		char		path[PGB_PATH_MAX];
		char		what[PGB_PATH_MAX + 32];
		PgbError	e = {0};
		json_object *o;

		if (l.items[i].is_dir || (v->since && l.items[i].mtime * 1000000 < v->since) ||
			repo_path(v->repo, path, "drill/%s", l.items[i].name) != 0)
			continue;
		(*n)++;
		snprintf(what, sizeof(what), "drill record %s", l.items[i].name);
		if ((o = read_json(v, path, NULL, &e)) == NULL)
			record_problem(v, &e, what, "a drill report is not needed to restore; remove it, or run pgbkp drill for a new one");
		json_object_put(o);
	}
	storage_list_free(&l);
	return 0;
}

static void
verify_summary(Verifier *v, const char *dir_name, const char *name, const char *path)
{
	char		what[PGB_PATH_MAX + 64];
	char	   *text = NULL;
	PgbError	e = {0};
	WalSummary	s = {0};
	json_object *o;

	snprintf(what, sizeof(what), "WAL index summary wal-index/%s/%s", dir_name, name);
	if ((o = read_json(v, path, &text, &e)) != NULL)
	{
		json_object_put(o);
		if (walsummary_decode(text, &s, &e) == 0)
		{
			char		seg[WAL_NAME_LEN + 1];

			wal_segment_name(seg, s.tli, s.segno, v->repo->info.wal_segment_size);
			if (strncmp(seg, name, WAL_NAME_LEN) != 0)
				pgb_error(&e, EXIT_CORRUPT, "it summarizes segment %s", seg);
			walsummary_free(&s);
		}
		free(text);
	}
	if (e.msg[0])
		record_problem(v, &e, what, "the index is derived from the WAL and not needed to restore; "
					   "pgbkp wal-index rebuild makes it again");
}

static int
verify_walindex(Verifier *v, int *n, PgbError *err)
{
	char		top[PGB_PATH_MAX];
	StorageList dirs = {0};

	if (repo_path(v->repo, top, "wal-index") != 0)
		return pgb_error(err, EXIT_IO, "path too long for the WAL index");
	if (storage_list(v->repo->storage, top, &dirs, err) != 0)
		return -1;
	for (int d = 0; d < dirs.count; d++)
	{
		char		dir[PGB_PATH_MAX];
		StorageList files = {0};

		if (!dirs.items[d].is_dir || repo_path(v->repo, dir, "wal-index/%s", dirs.items[d].name) != 0)
			continue;
		if (storage_list(v->repo->storage, dir, &files, err) != 0)
		{
			storage_list_free(&dirs);
			return -1;
		}
		for (int f = 0; f < files.count; f++)
		{
			char		path[PGB_PATH_MAX];

			if (files.items[f].is_dir || (v->since && files.items[f].mtime * 1000000 < v->since) ||
				repo_path(v->repo, path, "wal-index/%s/%s", dirs.items[d].name, files.items[f].name) != 0)
				continue;
			(*n)++;
			verify_summary(v, dirs.items[d].name, files.items[f].name, path);
		}
		storage_list_free(&files);
	}
	storage_list_free(&dirs);
	return 0;
}

static void
verify_mark(Verifier *v, int *n)
{
	char		path[PGB_PATH_MAX];
	StorageInfo info;
	PgbError	e = {0};
	json_object *o;

	if (repo_path(v->repo, path, "verify.mark") != 0)
		return;
	if (storage_info(v->repo->storage, path, &info, &e) != 0)
	{
		record_problem(v, &e, "the verify mark", "check the repository's storage");
		return;
	}
	if (!info.exists)
		return;
	(*n)++;
	if ((o = read_json(v, path, NULL, &e)) == NULL)
		record_problem(v, &e, "the verify mark",
					   "it only records when verify last passed (for --since last); remove it and run verify again");
	json_object_put(o);
}

int
verify_records(Verifier *v, int *nrecords, PgbError *err)
{
	*nrecords = 0;
	if (verify_drills(v, nrecords, err) != 0 || verify_walindex(v, nrecords, err) != 0)
		return -1;
	verify_mark(v, nrecords);
	return 0;
}
