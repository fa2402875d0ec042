/*
 * Writes of the S3 driver (see s3.h): the data is buffered up to one part.
 * An object that fits in one part is committed by a single PUT; a larger
 * one becomes a multipart upload, started when the buffer first fills and
 * completed by the commit, so that nothing is visible before the commit.
 * An abort, or any failure, aborts the upload.  no_overwrite is a HEAD
 * just before the PUT or the completion.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/s3/s3_intern.h"
#include "storage/s3/xml.h"

#define MAX_PARTS 10000

typedef struct S3Write
{
	StorageWrite base;
	char	   *key;
	char	   *buf;
	size_t		len;
	size_t		cap;
	char	   *upload_id;		/* NULL until the first part is sent */
	char	  **etags;			/* of parts 1..nparts */
	int			nparts;
} S3Write;

StorageWrite *
s3_open_write(Storage *base, const char *path, PgbError *err)
{
	S3Storage  *s = (S3Storage *) base;
	S3Write    *w = calloc(1, sizeof(S3Write));

	if (w == NULL)
		return s3_oom(err);
	w->base.storage = base;
	if ((w->key = s3_key_of(s, path, err)) == NULL)
	{
		free(w);
		return NULL;
	}
	if (w->key[0] == '\0')
	{
		pgb_error(err, EXIT_INTERNAL, "cannot write an S3 object with an empty name");
		free(w->key);
		free(w);
		return NULL;
	}
	return &w->base;
}

static void
write_free(S3Write *w)
{
	for (int i = 0; i < w->nparts; i++)
		free(w->etags[i]);
	free(w->etags);
	free(w->upload_id);
	free(w->buf);
	free(w->key);
	free(w);
}

/* POST ?uploads: start the multipart upload. */
static int
initiate_upload(S3Storage *s, S3Write *w, PgbError *err)
{
	S3Request	req = {.method = "POST", .op = "multipart initiate", .key = w->key, .query = "uploads"};
	S3Response	resp;
	XmlDoc	   *doc = NULL;
	XmlNode		root;
	int			rc = -1;

	if (s3_http_send(s->http, &req, &resp, err) != 0)
		return -1;
	if (resp.status != 200)
		s3_http_unexpected(&req, &resp, err);
	else if ((doc = xml_parse(resp.body.buf, resp.body.len, &root, err)) == NULL ||
			 xml_child_text(&root, "UploadId", 1024, &w->upload_id, err) < 0)
		pgb_error_context(err, "S3 multipart initiate of \"%s\"", w->key);
	else if (w->upload_id == NULL || w->upload_id[0] == '\0' || strchr(w->upload_id, '&'))
		pgb_error(err, EXIT_IO, "S3 multipart initiate of \"%s\": no usable UploadId in the response", w->key);
	else
		rc = 0;
	if (rc != 0)
	{
		free(w->upload_id);
		w->upload_id = NULL;
	}
	xml_free(doc);
	s3_response_free(&resp);
	return rc;
}

/* PUT ?partNumber=N&uploadId=ID of the buffer. */
static int
upload_part(S3Storage *s, S3Write *w, PgbError *err)
{
	char		query[1200];
	char		op[32];
	S3Request	req = {.method = "PUT", .op = op, .key = w->key, .query = query,
	.body = w->buf, .body_len = w->len};
	S3Response	resp;
	char	  **bigger;

	if (w->nparts >= MAX_PARTS)
		return pgb_error(err, EXIT_IO, "S3 object \"%s\" needs more than %d parts: raise s3_part_size",
						 w->key, MAX_PARTS);
	snprintf(op, sizeof(op), "PUT of part %d", w->nparts + 1);
	snprintf(query, sizeof(query), "partNumber=%d&uploadId=%s", w->nparts + 1, w->upload_id);
	if ((bigger = realloc(w->etags, sizeof(char *) * (size_t) (w->nparts + 1))) == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	w->etags = bigger;
	if (s3_http_send(s->http, &req, &resp, err) != 0)
		return -1;
	if (resp.status != 200)
	{
		s3_http_unexpected(&req, &resp, err);
		s3_response_free(&resp);
		return -1;
	}
	if (resp.etag[0] == '\0' || (w->etags[w->nparts] = strdup(resp.etag)) == NULL)
	{
		pgb_error(err, EXIT_IO, "S3 %s of \"%s\": no ETag in the response", op, w->key);
		s3_response_free(&resp);
		return -1;
	}
	w->nparts++;
	w->len = 0;
	s3_response_free(&resp);
	return 0;
}

/* DELETE ?uploadId=ID; best effort (an orphan upload costs space, never correctness). */
static void
abort_upload(S3Storage *s, S3Write *w)
{
	char		query[1100];
	S3Request	req = {.method = "DELETE", .op = "multipart abort", .key = w->key, .query = query};
	S3Response	resp;
	PgbError	ignored;

	if (w->upload_id == NULL)
		return;
	snprintf(query, sizeof(query), "uploadId=%s", w->upload_id);
	if (s3_http_send(s->http, &req, &resp, &ignored) == 0)
		s3_response_free(&resp);
	free(w->upload_id);
	w->upload_id = NULL;
}

int
s3_write(StorageWrite *base, const void *data, size_t len, PgbError *err)
{
	S3Write    *w = (S3Write *) base;
	S3Storage  *s = (S3Storage *) base->storage;
	const char *p = data;

	while (len > 0)
	{
		size_t		n;

		/* a full buffer is sent only once more data comes: an object of
		 * exactly one part stays a single PUT */
		if (w->len == s->part_size)
		{
			if ((w->upload_id == NULL && initiate_upload(s, w, err) != 0) ||
				upload_part(s, w, err) != 0)
				return -1;
		}
		n = s->part_size - w->len;
		if (n > len)
			n = len;
		if (w->len + n > w->cap)
		{
			size_t		cap = w->cap ? w->cap : 64 * 1024;
			char	   *bigger;

			while (cap < w->len + n)
				cap *= 2;
			if (cap > s->part_size)
				cap = s->part_size;
			if ((bigger = realloc(w->buf, cap)) == NULL)
				return pgb_error(err, EXIT_INTERNAL, "out of memory");
			w->buf = bigger;
			w->cap = cap;
		}
		memcpy(w->buf + w->len, p, n);
		w->len += n;
		p += n;
		len -= n;
	}
	return 0;
}

void
s3_abort(StorageWrite *base)
{
	S3Write    *w = (S3Write *) base;

	abort_upload((S3Storage *) base->storage, w);
	write_free(w);
}

/* Whether key exists now (HEAD). */
static int
object_exists(S3Storage *s, const char *key, bool *exists, PgbError *err)
{
	S3Request	req = {.method = "HEAD", .op = "HEAD", .key = key};
	S3Response	resp;
	int			rc = 0;

	if (s3_http_send(s->http, &req, &resp, err) != 0)
		return -1;
	if (resp.status == 200)
		*exists = true;
	else if (resp.status == 404)
		*exists = false;
	else
		rc = s3_http_unexpected(&req, &resp, err);
	s3_response_free(&resp);
	return rc;
}

static int
put_single(S3Storage *s, S3Write *w, PgbError *err)
{
	S3Request	req = {.method = "PUT", .op = "PUT", .key = w->key,
	.body = w->buf ? w->buf : "", .body_len = w->len};
	S3Response	resp;
	int			rc = 0;

	if (s3_http_send(s->http, &req, &resp, err) != 0)
		return -1;
	if (resp.status != 200)
		rc = s3_http_unexpected(&req, &resp, err);
	s3_response_free(&resp);
	return rc;
}

/*
 * After NoSuchUpload on a completion: whether an earlier attempt of it
 * succeeded, i.e. the object exists with a multipart ETag of our part count.
 */
static bool
completed_before(S3Storage *s, S3Write *w)
{
	S3Request	req = {.method = "HEAD", .op = "HEAD", .key = w->key};
	S3Response	resp;
	PgbError	err = {0};
	char		suffix[24];
	bool		ok = false;

	snprintf(suffix, sizeof(suffix), "-%d\"", w->nparts);
	if (s3_http_send(s->http, &req, &resp, &err) != 0)
		return false;
	if (resp.status == 200 && strlen(resp.etag) > strlen(suffix) &&
		strcmp(resp.etag + strlen(resp.etag) - strlen(suffix), suffix) == 0)
		ok = true;
	s3_response_free(&resp);
	return ok;
}

static int
complete_upload(S3Storage *s, S3Write *w, PgbError *err)
{
	char		query[1100];
	MemBuf		body = {0};
	S3Request	req = {.method = "POST", .op = "multipart complete", .key = w->key,
	.query = query, .error_in_200 = true};
	S3Response	resp;
	int			rc = -1;

	snprintf(query, sizeof(query), "uploadId=%s", w->upload_id);
	if (membuf_append(&body, "<CompleteMultipartUpload>", 25, err) != 0)
		goto done;
	for (int i = 0; i < w->nparts; i++)
	{
		char		num[16];

		snprintf(num, sizeof(num), "%d", i + 1);
		if (membuf_append(&body, "<Part><PartNumber>", 18, err) != 0 ||
			membuf_append(&body, num, strlen(num), err) != 0 ||
			membuf_append(&body, "</PartNumber><ETag>", 19, err) != 0 ||
			xml_escape(&body, w->etags[i], err) != 0 ||
			membuf_append(&body, "</ETag></Part>", 14, err) != 0)
			goto done;
	}
	if (membuf_append(&body, "</CompleteMultipartUpload>", 26, err) != 0)
		goto done;
	req.body = body.buf;
	req.body_len = body.len;
	if (s3_http_send(s->http, &req, &resp, err) != 0)
		goto done;
	if (resp.status == 404 && strcmp(resp.code, "NoSuchUpload") == 0 && completed_before(s, w))
	{
		/* a retry after a completion whose response was lost: the object is there */
		free(w->upload_id);
		w->upload_id = NULL;
		rc = 0;
	}
	else if (resp.status != 200)
		s3_http_unexpected(&req, &resp, err);
	else
	{
		free(w->upload_id);		/* completed: nothing to abort any more */
		w->upload_id = NULL;
		rc = 0;
	}
	s3_response_free(&resp);
done:
	membuf_free(&body);
	return rc;
}

int
s3_commit(StorageWrite *base, bool no_overwrite, bool *existed, PgbError *err)
{
	S3Write    *w = (S3Write *) base;
	S3Storage  *s = (S3Storage *) base->storage;
	bool		exists = false;

	*existed = false;
	/* the last part holds at least one byte: full parts are sent only when more follows */
	if (w->upload_id != NULL && upload_part(s, w, err) != 0)
		goto fail;
	if (no_overwrite)
	{
		if (object_exists(s, w->key, &exists, err) != 0)
			goto fail;
		if (exists)
		{
			*existed = true;
			s3_abort(base);
			return 0;
		}
	}
	if (w->upload_id == NULL ? put_single(s, w, err) != 0 : complete_upload(s, w, err) != 0)
		goto fail;
	write_free(w);
	return 0;

fail:
	s3_abort(base);
	return -1;
}
