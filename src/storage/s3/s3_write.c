/*
 * Writes of the S3 driver (see s3.h): the data is buffered up to one part.
 * An object that fits in one part is committed by a single PUT; a larger
 * one becomes a multipart upload, started when the buffer first fills and
 * completed by the commit, so that nothing is visible before the commit.
 * A full part is sent by a thread of its own while the writer fills the
 * next buffer (one part in flight per object, so at most two part buffers),
 * so that the caller's compression overlaps the upload; the commit sends
 * the last part itself after the one in flight is done.  An abort, or any
 * failure, aborts the upload.  no_overwrite is a HEAD just before the PUT
 * or the completion.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/s3/s3_intern.h"
#include "storage/s3/xml.h"

#define MAX_PARTS 10000

/* A part being sent by its own thread. */
typedef struct PartSend
{
	bool		running;		/* started and not yet waited for */
	bool		threaded;		/* by thread (else it ran in the caller) */
	pthread_t	thread;
	S3Storage  *s;
	const char *key;
	const char *upload_id;
	int			number;			/* from 1 */
	char	   *buf;
	size_t		len;
	char	   *etag;			/* the result */
	int			rc;
	PgbError	err;
} PartSend;

typedef struct S3Write
{
	StorageWrite base;
	char	   *key;
	char	   *buf;			/* being filled */
	size_t		len;
	size_t		cap;
	char	   *spare;			/* the other part buffer, when not in flight */
	size_t		spare_cap;
	PartSend	inflight;
	char	   *upload_id;		/* NULL until the first part is sent */
	char	  **etags;			/* of parts 1..nparts */
	int			nparts;			/* parts started (the one in flight included) */
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

static int	part_wait(S3Write *w, PgbError *err);

static void
write_free(S3Write *w)
{
	PgbError	ignored;

	part_wait(w, &ignored);
	for (int i = 0; i < w->nparts; i++)
		free(w->etags[i]);
	free(w->etags);
	free(w->upload_id);
	free(w->buf);
	free(w->spare);
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

/* PUT ?partNumber=N&uploadId=ID of buf; *etag is malloc'd. */
static int
send_part(S3Storage *s, const char *key, const char *upload_id, int number,
		  const char *buf, size_t len, char **etag, PgbError *err)
{
	char		query[1200];
	char		op[32];
	S3Request	req = {.method = "PUT", .op = op, .key = key, .query = query, .body = buf, .body_len = len};
	S3Response	resp;
	int			rc = 0;

	snprintf(op, sizeof(op), "PUT of part %d", number);
	snprintf(query, sizeof(query), "partNumber=%d&uploadId=%s", number, upload_id);
	if (s3_http_send(s->http, &req, &resp, err) != 0)
		return -1;
	if (resp.status != 200)
		rc = s3_http_unexpected(&req, &resp, err);
	else if (resp.etag[0] == '\0' || (*etag = strdup(resp.etag)) == NULL)
		rc = pgb_error(err, EXIT_IO, "S3 %s of \"%s\": no ETag in the response", op, key);
	s3_response_free(&resp);
	return rc;
}

/* Make room for one more part's ETag; the part gets the next number. */
static int
reserve_part(S3Write *w, PgbError *err)
{
	char	  **bigger;

	if (w->nparts >= MAX_PARTS)
		return pgb_error(err, EXIT_IO, "S3 object \"%s\" needs more than %d parts: raise s3_part_size",
						 w->key, MAX_PARTS);
	if ((bigger = realloc(w->etags, sizeof(char *) * (size_t) (w->nparts + 1))) == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	w->etags = bigger;
	w->etags[w->nparts++] = NULL;
	return 0;
}

static void *
part_thread(void *arg)
{
	PartSend   *p = arg;

	p->rc = send_part(p->s, p->key, p->upload_id, p->number, p->buf, p->len, &p->etag, &p->err);
	return NULL;
}

/* Wait for the part in flight, if any; its buffer becomes the spare one. */
static int
part_wait(S3Write *w, PgbError *err)
{
	PartSend   *p = &w->inflight;

	if (!p->running)
		return 0;
	if (p->threaded)
		pthread_join(p->thread, NULL);
	p->running = false;
	free(w->spare);
	w->spare = p->buf;
	w->spare_cap = p->len;
	p->buf = NULL;
	if (p->rc != 0)
	{
		*err = p->err;
		return -1;
	}
	w->etags[p->number - 1] = p->etag;
	p->etag = NULL;
	return 0;
}

/* Hand the full buffer to a thread of its own and go on with the spare one. */
static int
part_start(S3Write *w, PgbError *err)
{
	PartSend   *p = &w->inflight;
	S3Storage  *s = (S3Storage *) w->base.storage;

	if (part_wait(w, err) != 0 || reserve_part(w, err) != 0)
		return -1;
	*p = (PartSend) {.s = s, .key = w->key, .upload_id = w->upload_id, .number = w->nparts,
	.buf = w->buf, .len = w->len};
	w->buf = w->spare;
	w->cap = w->spare ? w->spare_cap : 0;
	w->spare = NULL;
	w->len = 0;
	p->running = true;
	p->threaded = pthread_create(&p->thread, NULL, part_thread, p) == 0;
	if (p->threaded)
		return 0;
	part_thread(p);				/* no thread to be had: send it here */
	return part_wait(w, err);
}

void
s3_abort_upload(S3Storage *s, const char *key, const char *upload_id)
{
	char		query[1100];
	S3Request	req = {.method = "DELETE", .op = "multipart abort", .key = key, .query = query};
	S3Response	resp;
	PgbError	ignored;

	snprintf(query, sizeof(query), "uploadId=%s", upload_id);
	if (s3_http_send(s->http, &req, &resp, &ignored) == 0)
		s3_response_free(&resp);
}

/* Best effort: an orphan upload costs space, never correctness (clean_temps aborts it later). */
static void
abort_upload(S3Storage *s, S3Write *w)
{
	if (w->upload_id == NULL)
		return;
	s3_abort_upload(s, w->key, w->upload_id);
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
				part_start(w, err) != 0)
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
	PgbError	ignored;

	part_wait(w, &ignored);		/* before the upload it belongs to goes */
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
	/* nothing becomes visible while a lock this process took may be someone else's */
	if (s3_guard(s, err) != 0)
		goto fail;
	/* the last part holds at least one byte: full parts are sent only when more follows */
	if (w->upload_id != NULL &&
		(part_wait(w, err) != 0 || reserve_part(w, err) != 0 ||
		 send_part(s, w->key, w->upload_id, w->nparts, w->buf, w->len, &w->etags[w->nparts - 1], err) != 0))
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
