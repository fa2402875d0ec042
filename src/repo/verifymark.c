/* The verify mark (see verifymark.h). */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileio.h"
#include "repo/objio.h"
#include "repo/verifymark.h"

#define MARK_MAX 4096

int
verifymark_read(Repo *repo, TimestampUs *started, PgbError *err)
{
	char		path[PGB_PATH_MAX];
	StorageInfo info;
	char	   *text = NULL;
	json_object *o,
			   *v;
	int			rc;

	if (repo_path(repo, path, "verify.mark") != 0)
		return pgb_error(err, EXIT_IO, "path too long for the verify mark");
	if (storage_info(repo->storage, path, &info, err) != 0)
		return -1;
	if (!info.exists)
		return 0;
	if (objio_get_mem(repo->storage, path, OBJECT_KIND_INFO, MARK_MAX, &text, NULL, err) != 0)
		return -1;
	o = json_tokener_parse(text);
	free(text);
	rc = o && json_object_object_get_ex(o, "started", &v) &&
		time_parse(json_object_get_string(v), started, err) == 0 ? 1 : -1;
	json_object_put(o);
	if (rc < 0)
		return pgb_error(err, EXIT_CORRUPT, "the verify mark in repository \"%s\" cannot be read", repo->name);
	return 1;
}

int
verifymark_write(Repo *repo, TimestampUs started, PgbError *err)
{
	char		path[PGB_PATH_MAX];
	char		when[64];
	char		text[128];
	PgbError	ignored = {0};

	if (repo_path(repo, path, "verify.mark") != 0)
		return pgb_error(err, EXIT_IO, "path too long for the verify mark");
	time_format_iso(started, when, sizeof(when));
	snprintf(text, sizeof(text), "{\"format\":1,\"started\":\"%s\"}\n", when);
	storage_remove(repo->storage, path, &ignored);	/* objects are never overwritten in place */
	return objio_put_mem(repo->storage, path, OBJECT_KIND_INFO, 3, text, strlen(text), true, NULL, NULL, err);
}
