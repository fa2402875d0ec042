/* pgBackRest's info JSON read into pgbkp's terms (see info.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "pgbackrest/exec.h"
#include "pgbackrest/info.h"

static json_object *
get(json_object *o, const char *key)
{
	json_object *v = NULL;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* o.a.b as text into buf ("" when absent or null). */
static void
get_text(json_object *o, const char *a, const char *b, char *buf, size_t len)
{
	json_object *v = b ? get(get(o, a), b) : get(o, a);

	snprintf(buf, len, "%s", v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "");
}

static int64_t
get_int(json_object *o, const char *a, const char *b)
{
	json_object *v = b ? get(get(o, a), b) : get(o, a);

	return v ? json_object_get_int64(v) : 0;
}

static int
bad(PgbError *err, const char *what)
{
	pgb_error(err, EXIT_CORRUPT, "pgBackRest's info output is not what pgbkp expects: %s", what);
	return pgb_hint(err, "check the pgBackRest version (pgbkp was tested with 2.45)");
}

static int
parse_backup(json_object *b, PgbrBackup *out, PgbError *err)
{
	char		lsn[32];

	memset(out, 0, sizeof(*out));
	get_text(b, "label", NULL, out->label, sizeof(out->label));
	get_text(b, "type", NULL, out->type, sizeof(out->type));
	get_text(b, "prior", NULL, out->prior, sizeof(out->prior));
	if (out->label[0] == '\0' || out->type[0] == '\0')
		return bad(err, "a backup without label or type");
	out->start_time = get_int(b, "timestamp", "start") * 1000000;
	out->stop_time = get_int(b, "timestamp", "stop") * 1000000;
	get_text(b, "lsn", "start", lsn, sizeof(lsn));
	if (lsn[0] && lsn_parse(lsn, &out->start_lsn, err) != 0)
		return -1;
	get_text(b, "lsn", "stop", lsn, sizeof(lsn));
	if (lsn[0] && lsn_parse(lsn, &out->stop_lsn, err) != 0)
		return -1;
	get_text(b, "archive", "start", out->wal_start, sizeof(out->wal_start));
	get_text(b, "archive", "stop", out->wal_stop, sizeof(out->wal_stop));
	out->size = (uint64_t) get_int(b, "info", "size");
	out->delta = (uint64_t) get_int(b, "info", "delta");
	out->repo_size = (uint64_t) get_int(get(b, "info"), "repository", "size");
	out->repo_delta = (uint64_t) get_int(get(b, "info"), "repository", "delta");
	out->error = get(b, "error") && json_object_get_boolean(get(b, "error"));
	out->db_id = (int) get_int(b, "database", "id");
	get_text(b, "backrest", "version", out->version, sizeof(out->version));
	return 0;
}

int
pgbr_info_parse(const char *json, const char *stanza, PgbrInfo *out, PgbError *err)
{
	json_object *root = json_tokener_parse(json);
	json_object *st = NULL;
	json_object *list;
	int			rc = -1;

	memset(out, 0, sizeof(*out));
	if (root == NULL || !json_object_is_type(root, json_type_array))
	{
		json_object_put(root);
		return bad(err, "not a JSON array");
	}
	for (size_t i = 0; i < json_object_array_length(root); i++)
	{
		char		name[128];

		get_text(json_object_array_get_idx(root, i), "name", NULL, name, sizeof(name));
		if (strcmp(name, stanza) == 0)
			st = json_object_array_get_idx(root, i);
	}
	if (st == NULL)
	{
		json_object_put(root);
		pgb_error(err, EXIT_NOT_FOUND, "pgBackRest has no stanza \"%s\"", stanza);
		return pgb_hint(err, "check the stanza key (default: the cluster name) and pgBackRest's config file");
	}
	snprintf(out->stanza, sizeof(out->stanza), "%s", stanza);
	out->status_code = (int) get_int(st, "status", "code");
	get_text(st, "status", "message", out->status_message, sizeof(out->status_message));
	out->backup_lock = get(get(get(get(st, "status"), "lock"), "backup"), "held") &&
		json_object_get_boolean(get(get(get(get(st, "status"), "lock"), "backup"), "held"));
	get_text(st, "cipher", NULL, out->cipher, sizeof(out->cipher));
	list = get(st, "db");
	for (size_t i = 0; list && i < json_object_array_length(list) && out->ndb < PGBR_DB_MAX; i++)
	{
		json_object *d = json_object_array_get_idx(list, i);
		char		ver[16];

		get_text(d, "version", NULL, ver, sizeof(ver));
		out->db[out->ndb].id = (int) get_int(d, "id", NULL);
		out->db[out->ndb].system_id = (uint64_t) get_int(d, "system-id", NULL);
		out->db[out->ndb].pg_major = atoi(ver);
		out->ndb++;
	}
	list = get(st, "archive");
	for (size_t i = 0; list && i < json_object_array_length(list) && out->narchive < PGBR_DB_MAX; i++)
	{
		json_object *a = json_object_array_get_idx(list, i);
		PgbrArchive *p = &out->archive[out->narchive++];

		p->db_id = (int) get_int(a, "database", "id");
		get_text(a, "min", NULL, p->min, sizeof(p->min));
		get_text(a, "max", NULL, p->max, sizeof(p->max));
	}
	list = get(st, "backup");
	if (list && json_object_array_length(list) > 0)
	{
		size_t		n = json_object_array_length(list);

		if ((out->backups = calloc(n, sizeof(PgbrBackup))) == NULL)
		{
			pgb_error(err, EXIT_INTERNAL, "out of memory");
			goto done;
		}
		for (size_t i = 0; i < n; i++)
			if (parse_backup(json_object_array_get_idx(list, i), &out->backups[out->nbackups++], err) != 0)
				goto done;
	}
	rc = 0;
done:
	json_object_put(root);
	if (rc != 0)
		pgbr_info_free(out);
	return rc;
}

int
pgbr_info_load(const RepoDef *def, const char *cluster, PgbrInfo *out, PgbError *err)
{
	PgbrRun		run = {.command = "info"};
	int			rc;

	memset(out, 0, sizeof(*out));
	pgbr_arg(&run, "--output=json");
	rc = pgbr_exec_ok(def, cluster, true, &run, err);
	if (rc == 0)
		rc = pgbr_info_parse(run.out, pgbr_stanza(def, cluster), out, err);
	pgbr_run_free(&run);
	return rc;
}

const PgbrBackup *
pgbr_info_find(const PgbrInfo *info, const char *label)
{
	for (int i = 0; i < info->nbackups; i++)
		if (strcmp(info->backups[i].label, label) == 0)
			return &info->backups[i];
	return NULL;
}

const PgbrDb *
pgbr_info_db(const PgbrInfo *info, int db_id)
{
	for (int i = 0; i < info->ndb; i++)
		if (info->db[i].id == db_id)
			return &info->db[i];
	return NULL;
}

void
pgbr_info_free(PgbrInfo *info)
{
	free(info->backups);
	memset(info, 0, sizeof(*info));
}
