/* The backups of a cluster (see catalog.h). */
#include <stdlib.h>
#include <string.h>

#include "common/fileio.h"
#include "common/log.h"
#include "repo/catalog.h"
#include "repo/objio.h"

#define MANIFEST_NAME "backup.manifest"
#define MANIFEST_MAX ((size_t) 1 << 30)

int
catalog_backup_dir(const Repo *repo, const char *label, char *out)
{
	return repo_path(repo, out, "backup/%s", label);
}

int
catalog_bundle_path(const Repo *repo, const char *label, uint32_t bundle, char *out)
{
	return repo_path(repo, out, "backup/%s/bundle/%06u", label, bundle);
}

static bool
label_valid(const char *label)
{
	size_t		len = strlen(label);

	return len > 0 && len < MANIFEST_LABEL_MAX && label[0] != '.' &&
		strspn(label, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-") == len;
}

static int
read_manifest(Repo *repo, const char *label, Manifest *m, bool headers_only, ManifestFileFn each,
			  void *each_arg, PgbError *err)
{
	char		path[PGB_PATH_MAX];
	ManifestParser *parser;
	Stage	   *sink = NULL;
	int			rc = -1;

	if (!label_valid(label))
		return pgb_error(err, EXIT_NOT_FOUND, "invalid backup label \"%s\"", label);
	if (repo_path(repo, path, "backup/%s/%s", label, MANIFEST_NAME) != 0)
		return pgb_error(err, EXIT_IO, "path too long for backup \"%s\"", label);
	/* parsed as it is read: the text is never held whole */
	if ((parser = manifest_parser_new(m, MANIFEST_MAX, err)) == NULL)
		return -1;
	if (each)
		manifest_parser_each_file(parser, each, each_arg);
	else if (headers_only)
		manifest_parser_headers_only(parser);
	if ((sink = callback_stage_new(manifest_parser_feed, parser, err)) == NULL ||
		objio_get(repo->storage, path, OBJECT_KIND_MANIFEST, sink, NULL, err) != 0)
		manifest_free(m);
	else if (manifest_parser_end(parser, err) != 0)
		pgb_error_context(err, "\"%s/%s\"", storage_description(repo->storage), path);
	else
		rc = 0;
	stage_free(sink);
	manifest_parser_free(parser);
	if (rc != 0)
		return -1;
	manifest_sort_files(m);		/* lookups by path are binary searches */
	if (strcmp(m->label, label) != 0)
	{
		pgb_error(err, EXIT_CORRUPT, "\"%s/%s\" names backup \"%s\"",
				  storage_description(repo->storage), path, m->label);
		manifest_free(m);
		return -1;
	}
	return 0;
}

int
catalog_read_manifest(Repo *repo, const char *label, Manifest *m, PgbError *err)
{
	return read_manifest(repo, label, m, false, NULL, NULL, err);
}

int
catalog_each_file(Repo *repo, const char *label, ManifestFileFn fn, void *arg, PgbError *err)
{
	Manifest	m;
	int			rc = read_manifest(repo, label, &m, true, fn, arg, err);

	if (rc == 0)
		manifest_free(&m);
	return rc;
}

typedef struct ManifestSource
{
	const Manifest *m;
	ManifestFilesFn files;
	void	   *files_arg;
} ManifestSource;

static int
produce_manifest(ByteSink sink, void *sink_arg, void *arg, PgbError *err)
{
	const ManifestSource *src = arg;

	return manifest_write_with(src->m, src->files, src->files_arg, sink, sink_arg, err);
}

int
catalog_commit_manifest(Repo *repo, const Manifest *m, ManifestFilesFn files, void *files_arg, PgbError *err)
{
	char		path[PGB_PATH_MAX];
	bool		existed = false;
	ManifestSource src = {m, files, files_arg};

	if (repo_path(repo, path, "backup/%s/%s", m->label, MANIFEST_NAME) != 0)
		return pgb_error(err, EXIT_IO, "path too long for backup \"%s\"", m->label);
	if (objio_put_produced(repo->storage, path, OBJECT_KIND_MANIFEST, 3, 1, produce_manifest, &src,
						   true, &existed, NULL, err) != 0)
		return -1;
	if (existed)
		return pgb_error(err, EXIT_INTERNAL, "backup \"%s\" already has a manifest", m->label);
	return 0;
}

static int
label_cmp(const void *a, const void *b)
{
	return strcmp(((const Manifest *) a)->label, ((const Manifest *) b)->label);
}

static int
load(Repo *repo, Catalog *out, bool headers_only, PgbError *err)
{
	char		dir[PGB_PATH_MAX];
	StorageList list;

	memset(out, 0, sizeof(*out));
	repo_path(repo, dir, "backup");
	if (storage_list(repo->storage, dir, &list, err) != 0)
		return -1;
	out->backups = calloc((size_t) list.count + 1, sizeof(Manifest));
	out->incomplete = calloc((size_t) list.count + 1, sizeof(char *));
	out->corrupt = calloc((size_t) list.count + 1, sizeof(char *));
	out->corrupt_error = calloc((size_t) list.count + 1, sizeof(char *));
	if (out->backups == NULL || out->incomplete == NULL || out->corrupt == NULL || out->corrupt_error == NULL)
	{
		storage_list_free(&list);
		catalog_free(out);
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	}
	for (int i = 0; i < list.count; i++)
	{
		const char *label = list.items[i].name;
		char		mpath[PGB_PATH_MAX];
		StorageInfo info;

		if (!list.items[i].is_dir || !label_valid(label))
			continue;
		if (repo_path(repo, mpath, "backup/%s/%s", label, MANIFEST_NAME) != 0 ||
			storage_info(repo->storage, mpath, &info, err) != 0)
			goto fail;
		if (!info.exists)
		{
			if ((out->incomplete[out->nincomplete++] = strdup(label)) == NULL)
				goto oom;
			continue;
		}
		if (read_manifest(repo, label, &out->backups[out->count], headers_only, NULL, NULL, err) != 0)
		{
			if (err->code != EXIT_CORRUPT)
				goto fail;
			out->corrupt[out->ncorrupt] = strdup(label);
			out->corrupt_error[out->ncorrupt] = strdup(err->msg);
			if (out->corrupt[out->ncorrupt] == NULL || out->corrupt_error[out->ncorrupt] == NULL)
				goto oom;
			out->ncorrupt++;
			pgb_error_clear(err);
			continue;
		}
		out->count++;
	}
	storage_list_free(&list);
	qsort(out->backups, (size_t) out->count, sizeof(Manifest), label_cmp);
	return 0;

oom:
	pgb_error(err, EXIT_INTERNAL, "out of memory");
fail:
	storage_list_free(&list);
	catalog_free(out);
	return -1;
}

int
catalog_load(Repo *repo, Catalog *out, PgbError *err)
{
	return load(repo, out, false, err);
}

int
catalog_load_headers(Repo *repo, Catalog *out, PgbError *err)
{
	return load(repo, out, true, err);
}

void
catalog_free(Catalog *c)
{
	for (int i = 0; i < c->count; i++)
		manifest_free(&c->backups[i]);
	for (int i = 0; i < c->nincomplete; i++)
		free(c->incomplete[i]);
	for (int i = 0; i < c->ncorrupt; i++)
	{
		free(c->corrupt[i]);
		free(c->corrupt_error[i]);
	}
	free(c->backups);
	free(c->incomplete);
	free(c->corrupt);
	free(c->corrupt_error);
	memset(c, 0, sizeof(*c));
}

const Manifest *
catalog_find(const Catalog *c, const char *label)
{
	for (int i = 0; i < c->count; i++)
		if (strcmp(c->backups[i].label, label) == 0)
			return &c->backups[i];
	return NULL;
}

const char *
catalog_corrupt_reason(const Catalog *c, const char *label)
{
	for (int i = 0; i < c->ncorrupt; i++)
		if (strcmp(c->corrupt[i], label) == 0)
			return c->corrupt_error[i];
	return NULL;
}

int
catalog_remove_backup(Repo *repo, const char *label, PgbError *err)
{
	char		path[PGB_PATH_MAX];

	if (!label_valid(label))
		return pgb_error(err, EXIT_INTERNAL, "invalid backup label \"%s\"", label);
	if (repo_path(repo, path, "backup/%s/%s", label, MANIFEST_NAME) != 0)
		return pgb_error(err, EXIT_IO, "path too long for backup \"%s\"", label);
	if (storage_remove(repo->storage, path, err) != 0 ||
		catalog_backup_dir(repo, label, path) != 0 ||
		storage_remove_tree(repo->storage, path, err) != 0)
		return pgb_error_context(err, "could not remove backup \"%s\"", label);
	return 0;
}

int
catalog_remove_incomplete(Repo *repo, const Catalog *c, PgbError *err)
{
	for (int i = 0; i < c->nincomplete; i++)
	{
		char		dir[PGB_PATH_MAX];

		if (catalog_backup_dir(repo, c->incomplete[i], dir) != 0 ||
			storage_remove_tree(repo->storage, dir, err) != 0)
			return -1;
	}
	return 0;
}
