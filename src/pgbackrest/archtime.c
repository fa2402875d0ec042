/* When pgBackRest stored its newest WAL segment (see archtime.h). */
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "common/fileio.h"
#include "pgbackrest/archtime.h"
#include "pgbackrest/exec.h"

void
pgbr_newest_segment(const PgbrInfo *info, char *wal, char *archive_id, size_t idlen)
{
	const PgbrArchive *newest = NULL;

	wal[0] = '\0';
	archive_id[0] = '\0';
	/* the newest database system's archive holds the newest WAL (a later stanza-upgrade adds one) */
	for (int i = 0; i < info->narchive; i++)
		if (info->archive[i].max[0] && (newest == NULL || info->archive[i].db_id > newest->db_id))
			newest = &info->archive[i];
	if (newest == NULL)
		return;
	snprintf(wal, PGBR_WAL_NAME, "%s", newest->max);
	{
		const PgbrDb *db = pgbr_info_db(info, newest->db_id);

		snprintf(archive_id, idlen, "%d-%d", db ? db->pg_major : 0, newest->db_id);
	}
}

int
pgbr_ls_time(const char *json, const char *wal, int64_t *time, PgbError *err)
{
	json_object *root = json_tokener_parse(json);
	bool		found = false;

	*time = 0;
	if (root == NULL || !json_object_is_type(root, json_type_object))
	{
		json_object_put(root);
		return pgb_error(err, EXIT_CORRUPT, "pgBackRest's repo-ls output is not a JSON object");
	}
	json_object_object_foreach(root, name, entry)
	{
		json_object *type = NULL,
				   *t = NULL;

		if (strncmp(name, wal, strlen(wal)) != 0 ||
			!json_object_object_get_ex(entry, "type", &type) ||
			strcmp(json_object_get_string(type), "file") != 0 ||
			!json_object_object_get_ex(entry, "time", &t))
			continue;
		found = true;
		if (json_object_get_int64(t) > *time)
			*time = json_object_get_int64(t);
	}
	json_object_put(root);
	if (!found)
		return pgb_error(err, EXIT_NOT_FOUND, "pgBackRest's repository lists no file of WAL segment %s", wal);
	return 0;
}

int
pgbr_newest_archived(const RepoDef *def, const char *cluster, const PgbrInfo *info, PgbrArchived *out,
					 PgbError *err)
{
	PgbrRun		run = {.command = "repo-ls", .no_stanza = true};
	char		id[32],
				path[PGB_PATH_MAX],
				filter[64];
	int			rc = -1;

	memset(out, 0, sizeof(*out));
	pgbr_newest_segment(info, out->wal, id, sizeof(id));
	if (out->wal[0] == '\0')
		return 0;
	snprintf(path, sizeof(path), "archive/%s/%s/%.16s", pgbr_stanza(def, cluster), id, out->wal);
	snprintf(filter, sizeof(filter), "--filter=^%s", out->wal);
	pgbr_arg(&run, "--output=json");
	pgbr_arg(&run, filter);
	run.params[0] = path;
	if (pgbr_exec_ok(def, cluster, true, &run, err) == 0 && pgbr_ls_time(run.out, out->wal, &out->time, err) == 0)
		rc = 0;
	pgbr_run_free(&run);
	if (rc != 0)
		pgb_error_context(err, "the time of WAL segment %s", out->wal);
	return rc;
}
