/*
 * The S3 storage driver (see s3.h): the options checked and turned into an
 * S3HttpConfig, storage paths mapped to keys under the prefix, HEAD for
 * storage_info, and the vtable.  Each StorageDriver function becomes one or
 * a few S3 requests sent through http.h: reads are in s3_read.c, writes in
 * s3_write.c, listing and removal in s3_list.c, locks in s3_lock.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/membuf.h"
#include "storage/posix.h"
#include "storage/s3/http.h"
#include "storage/s3/s3.h"
#include "storage/s3/s3_intern.h"

/* ---------------------------------------------------------------- keys */

/* Append path to b with leading, trailing and repeated slashes removed. */
int
s3_append_normalized(MemBuf *b, const char *path, PgbError *err)
{
	const char *p = path;

	while (*p)
	{
		size_t		n;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (n == 0)
			break;
		if (b->len > 0 && membuf_append(b, "/", 1, err) != 0)
			return -1;
		if (membuf_append(b, p, n, err) != 0)
			return -1;
		p += n;
	}
	return 0;
}

/* The key of path (malloc'd): prefix/path, or prefix alone for "". */
char *
s3_key_of(const S3Storage *s, const char *path, PgbError *err)
{
	MemBuf		b = {0};

	if (membuf_append(&b, s->prefix, strlen(s->prefix), err) != 0 ||
		s3_append_normalized(&b, path, err) != 0)
	{
		membuf_free(&b);
		return NULL;
	}
	return membuf_take(&b, NULL, err);
}

void *
s3_oom(PgbError *err)
{
	pgb_error(err, EXIT_INTERNAL, "out of memory");
	return NULL;
}

/* ---------------------------------------------------------------- info */

static int
s3_info(Storage *base, const char *path, StorageInfo *out, PgbError *err)
{
	S3Storage  *s = (S3Storage *) base;
	char	   *key = s3_key_of(s, path, err);
	S3Request	req = {.method = "HEAD", .op = "HEAD", .key = key};
	S3Response	resp;
	int			rc = -1;

	memset(out, 0, sizeof(*out));
	if (key == NULL || s3_http_send(s->http, &req, &resp, err) != 0)
		goto done;
	if (resp.status == 404)
		rc = 0;
	else if (resp.status == 200)
	{
		out->exists = true;
		out->size = resp.content_length > 0 ? (uint64_t) resp.content_length : 0;
		out->mtime = s3_http_parse_time(resp.last_modified);
		if (out->mtime < 0)
			out->mtime = 0;
		rc = 0;
	}
	else
		s3_http_unexpected(&req, &resp, err);
	s3_response_free(&resp);
done:
	free(key);
	return rc;
}

/* ---------------------------------------------------------------- the storage */

static void
s3_free(Storage *base)
{
	S3Storage  *s = (S3Storage *) base;

	s3_http_free(s->http);
	storage_free(s->locks);
	pthread_mutex_destroy(&s->leases_lock);
	free(s->bucket);
	free(s->prefix);
	free(s->lock_dir);
	free(s->base.description);
	free(s);
}

static const StorageDriver s3_driver = {
	.name = "s3",
	.info = s3_info,
	.open_read = s3_open_read,
	.read = s3_read,
	.read_close = s3_read_close,
	.open_write = s3_open_write,
	.write = s3_write,
	.commit = s3_commit,
	.abort = s3_abort,
	.list = s3_list,
	.remove = s3_remove,
	.remove_tree = s3_remove_tree,
	.lock = s3_lock,
	.unlock = s3_unlock,
	.lock_probe = s3_lock_probe,
	.clean_temps = s3_clean_temps,
	.free = s3_free,
};

static bool
empty(const char *s)
{
	return s == NULL || s[0] == '\0';
}

Storage *
storage_s3_new(const S3Options *opt, PgbError *err)
{
	S3Storage  *s;
	S3HttpConfig cfg = {0};
	const char *host = opt->endpoint ? opt->endpoint : "";
	char	   *hostcopy = NULL;
	char	   *colon;
	MemBuf		prefix = {0};
	int			port = opt->port;

	cfg.https = true;
	if (strncmp(host, "https://", 8) == 0)
		host += 8;
	else if (strncmp(host, "http://", 7) == 0)
	{
		host += 7;
		cfg.https = false;
	}
	if (empty(host) || strchr(host, '/') != NULL || strchr(host, '@') != NULL)
	{
		pgb_error(err, EXIT_CONFIG, "invalid S3 endpoint \"%s\": expected HOST, http://HOST or https://HOST",
				  opt->endpoint ? opt->endpoint : "");
		return NULL;
	}
	if (empty(opt->bucket) || strchr(opt->bucket, '/') != NULL)
	{
		pgb_error(err, EXIT_CONFIG, "invalid S3 bucket name \"%s\"", opt->bucket ? opt->bucket : "");
		return NULL;
	}
	if (empty(opt->access_key) || empty(opt->secret_key))
	{
		pgb_error(err, EXIT_CONFIG, "S3 repository needs s3_key and s3_key_secret");
		return NULL;
	}
	if (opt->part_size != 0 && (opt->part_size < S3_MIN_PART_SIZE || opt->part_size > S3_MAX_PART_SIZE))
	{
		pgb_error(err, EXIT_CONFIG, "S3 part size %zu is outside %zu to %zu bytes (5 MiB to 1 GiB)",
				  opt->part_size, S3_MIN_PART_SIZE, S3_MAX_PART_SIZE);
		return NULL;
	}
	if (opt->lock_dir && opt->lock_dir[0] != '/')
	{
		pgb_error(err, EXIT_CONFIG, "S3 lock directory \"%s\" is not absolute", opt->lock_dir);
		return NULL;
	}
	if (port < 0 || port > 65535)
	{
		pgb_error(err, EXIT_CONFIG, "invalid S3 port %d", port);
		return NULL;
	}
	if ((hostcopy = strdup(host)) == NULL)
		return s3_oom(err);
	/* "host:port" in the endpoint, when no port is given separately */
	colon = strrchr(hostcopy, ':');
	if (colon != NULL && strchr(hostcopy, ']') == NULL)
	{
		char	   *end;
		long		p = strtol(colon + 1, &end, 10);

		if (*end != '\0' || p <= 0 || p > 65535 || (port != 0 && port != p))
		{
			pgb_error(err, EXIT_CONFIG, "invalid port in S3 endpoint \"%s\"", opt->endpoint);
			free(hostcopy);
			return NULL;
		}
		port = (int) p;
		*colon = '\0';
	}

	s = calloc(1, sizeof(S3Storage));
	if (s == NULL)
	{
		free(hostcopy);
		return s3_oom(err);
	}
	s->base.driver = &s3_driver;
	pthread_mutex_init(&s->leases_lock, NULL);
	s->part_size = opt->part_size ? opt->part_size : S3_DEFAULT_PART_SIZE;
	s->list_page_size = opt->list_page_size > 0 && opt->list_page_size < S3_DELETE_BATCH ? opt->list_page_size : 0;
	s->upload_max_age = opt->upload_max_age ? opt->upload_max_age : S3_UPLOAD_MAX_AGE;
	cfg.host = hostcopy;
	cfg.port = port;
	cfg.region = empty(opt->region) ? "us-east-1" : opt->region;
	cfg.bucket = opt->bucket;
	cfg.host_style = opt->host_style;
	cfg.access_key = opt->access_key;
	cfg.secret_key = opt->secret_key;
	cfg.ca_file = empty(opt->ca_file) ? NULL : opt->ca_file;
	cfg.verify_tls = opt->verify_tls;
	cfg.attempts = opt->retries;
	cfg.connect_timeout = opt->connect_timeout;
	cfg.io_timeout = opt->io_timeout;
	if (s3_append_normalized(&prefix, opt->prefix ? opt->prefix : "", err) != 0 ||
		(s->prefix = membuf_take(&prefix, NULL, err)) == NULL ||
		(s->bucket = strdup(opt->bucket)) == NULL ||
		(s->lock_dir = strdup(opt->lock_dir ? opt->lock_dir : S3_DEFAULT_LOCK_DIR)) == NULL ||
		asprintf(&s->base.description, "s3://%s%s%s", opt->bucket, s->prefix[0] ? "/" : "", s->prefix) < 0)
	{
		s->base.description = NULL;
		if (!pgb_error_is_set(err))
			pgb_error(err, EXIT_INTERNAL, "out of memory");
		goto fail;
	}
	if ((s->http = s3_http_new(&cfg, err)) == NULL ||
		(s->locks = storage_posix_new(s->lock_dir, err)) == NULL)
		goto fail;
	free(hostcopy);
	return &s->base;

fail:
	membuf_free(&prefix);
	free(hostcopy);
	s3_http_free(s->http);
	free(s->bucket);
	free(s->prefix);
	free(s->lock_dir);
	free(s->base.description);
	free(s);
	return NULL;
}
