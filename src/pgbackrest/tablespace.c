/* The tablespaces of one pgBackRest backup set (see tablespace.h). */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgbackrest/exec.h"
#include "pgbackrest/tablespace.h"

/* The member key of o, or NULL. */
static json_object *
member(json_object *o, const char *key)
{
	json_object *v;

	return o && json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* The element of array whose string member key is value, or NULL. */
static json_object *
find_by(json_object *array, const char *key, const char *value)
{
	if (!json_object_is_type(array, json_type_array))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(array); i++)
	{
		json_object *e = json_object_array_get_idx(array, i);
		json_object *v = member(e, key);

		if (v && json_object_is_type(v, json_type_string) && strcmp(json_object_get_string(v), value) == 0)
			return e;
	}
	return NULL;
}

int
pgbr_tablespaces_parse(const char *json, const char *stanza, const char *label,
					   PgbrTablespace *out, int max, int *n, PgbError *err)
{
	json_object *root = json_tokener_parse(json);
	json_object *set,
			   *list;
	int			rc = -1;

	*n = 0;
	if (root == NULL || !json_object_is_type(root, json_type_array))
	{
		pgb_error(err, EXIT_CORRUPT, "pgBackRest's info output is not a JSON array");
		goto done;
	}
	if ((set = find_by(member(find_by(root, "name", stanza), "backup"), "label", label)) == NULL)
	{
		pgb_error(err, EXIT_NOT_FOUND, "pgBackRest's info does not list backup %s of stanza %s", label, stanza);
		goto done;
	}
	list = member(set, "tablespace");
	for (size_t i = 0; list && json_object_is_type(list, json_type_array) && i < json_object_array_length(list); i++)
	{
		json_object *t = json_object_array_get_idx(list, i);
		json_object *oid = member(t, "oid");
		json_object *name = member(t, "name");

		if (*n >= max)
		{
			pgb_error(err, EXIT_CORRUPT, "backup %s has more than %d tablespaces", label, max);
			goto done;
		}
		if (oid == NULL || !json_object_is_type(oid, json_type_int) || json_object_get_int64(oid) <= 0 ||
			json_object_get_int64(oid) > 0xFFFFFFFFLL)
		{
			pgb_error(err, EXIT_CORRUPT, "pgBackRest's info lists a tablespace of backup %s without a valid oid", label);
			goto done;
		}
		out[*n].oid = (unsigned int) json_object_get_int64(oid);
		snprintf(out[*n].name, sizeof(out[*n].name), "%s", name ? json_object_get_string(name) : "");
		(*n)++;
	}
	rc = 0;
done:
	json_object_put(root);
	return rc;
}

int
pgbr_tablespaces_load(const RepoDef *def, const char *cluster, const char *label,
					  PgbrTablespace *out, int max, int *n, PgbError *err)
{
	PgbrRun		run = {.command = "info"};
	char		set[96];
	int			rc;

	snprintf(set, sizeof(set), "--set=%s", label);
	pgbr_arg(&run, "--output=json");
	pgbr_arg(&run, set);
	rc = pgbr_exec_ok(def, cluster, true, &run, err);
	if (rc == 0)
		rc = pgbr_tablespaces_parse(run.out, pgbr_stanza(def, cluster), label, out, max, n, err);
	pgbr_run_free(&run);
	return rc;
}

bool
pgbr_tablespace_known(const PgbrTablespace *ts, int n, const char *key)
{
	char		oid[16];

	for (int i = 0; i < n; i++)
	{
		snprintf(oid, sizeof(oid), "%u", ts[i].oid);
		if (strcmp(key, oid) == 0 || (ts[i].name[0] && strcmp(key, ts[i].name) == 0))
			return true;
	}
	return false;
}
