/* Drill records in the repository (see drillrec.h). */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/fileio.h"
#include "repo/drillrec.h"
#include "repo/objio.h"

#define DRILLREC_MAX (4 * 1024 * 1024)

static void
record_name(TimestampUs t, const char *node, char *out, size_t len)
{
	time_t		s = (time_t) (t / 1000000);
	struct tm	tm;
	char		day[32];
	char		safe[128];
	size_t		n = 0;

	gmtime_r(&s, &tm);
	strftime(day, sizeof(day), "%Y%m%d-%H%M%S", &tm);
	for (const char *p = node && node[0] ? node : "node"; *p && n < sizeof(safe) - 1; p++)
		safe[n++] = (*p == '/' || *p == '.' || (unsigned char) *p < 0x20) ? '_' : *p;
	safe[n] = '\0';
	snprintf(out, len, "%s.%06lld-%s.json", day, (long long) (t % 1000000), safe);
}

/* The record names, ascending (oldest first). */
static int
list_records(Repo *repo, StorageList *out, PgbError *err)
{
	char		dir[PGB_PATH_MAX];

	if (repo_path(repo, dir, "drill") != 0)
		return pgb_error(err, EXIT_IO, "path too long for the drill records");
	return storage_list(repo->storage, dir, out, err);
}

int
drillrec_write(Repo *repo, const char *json, TimestampUs started, const char *node, PgbError *err)
{
	char		name[200];
	char		path[PGB_PATH_MAX];
	StorageList l = {0};

	record_name(started, node, name, sizeof(name));
	if (repo_path(repo, path, "drill/%s", name) != 0)
		return pgb_error(err, EXIT_IO, "path too long for a drill record");
	if (objio_put_mem(repo->storage, path, OBJECT_KIND_INFO, 3, json, strlen(json), true, NULL, NULL, err) != 0)
		return -1;
	if (list_records(repo, &l, err) != 0)
		return -1;
	for (int i = 0; i + DRILLREC_KEEP < l.count; i++)
	{
		PgbError	e = {0};

		if (repo_path(repo, path, "drill/%s", l.items[i].name) == 0)
			storage_remove(repo->storage, path, &e);
	}
	storage_list_free(&l);
	return 0;
}

static double
num(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_double(v) : 0;
}

int
drillrec_latest(Repo *repo, DrillRecord *out, PgbError *err)
{
	StorageList l = {0};
	char		path[PGB_PATH_MAX];
	char	   *text = NULL;
	json_object *o,
			   *v,
			   *rto;
	int			rc = 0;

	memset(out, 0, sizeof(*out));
	if (list_records(repo, &l, err) != 0)
		return -1;
	for (int i = l.count - 1; i >= 0 && rc == 0; i--)
	{
		PgbError	e = {0};

		if (strstr(l.items[i].name, ".json") == NULL || repo_path(repo, path, "drill/%s", l.items[i].name) != 0 ||
			objio_get_mem(repo->storage, path, OBJECT_KIND_INFO, DRILLREC_MAX, &text, NULL, &e) != 0)
			continue;			/* an unreadable record: the one before it */
		o = json_tokener_parse(text);
		free(text);
		text = NULL;
		if (o == NULL)
			continue;
		if (json_object_object_get_ex(o, "started", &v) &&
			time_parse(json_object_get_string(v), &out->started, &e) == 0 &&
			json_object_object_get_ex(o, "result", &v))
		{
			out->passed = strcmp(json_object_get_string(v), "passed") == 0;
			if (json_object_object_get_ex(o, "rto", &rto))
			{
				out->restore_seconds = num(rto, "restore_seconds");
				out->recovery_seconds = num(rto, "recovery_seconds");
				out->checks_seconds = num(rto, "checks_seconds");
			}
			if (json_object_object_get_ex(o, "target", &v))
				snprintf(out->target, sizeof(out->target), "%s", json_object_get_string(v));
			rc = 1;
		}
		json_object_put(o);
	}
	storage_list_free(&l);
	return rc;
}
