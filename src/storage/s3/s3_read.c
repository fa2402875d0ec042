/*
 * Reads of the S3 driver: a StorageRead fetches its byte range lazily, one
 * GET of at most S3_READ_WINDOW bytes at a time (see s3.h).  The first
 * window is fetched by the open, so a missing object fails there; later
 * windows carry If-Match with the first one's ETag, so an object replaced
 * or removed while it is being read is an error, never a mix of two
 * versions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/s3/s3.h"
#include "storage/s3/s3_intern.h"

typedef struct S3Read
{
	StorageRead base;
	char	   *key;
	uint64_t	next;			/* offset of the next window */
	uint64_t	end;			/* end of what is served; UINT64_MAX: not known yet */
	uint64_t	want_end;		/* end the caller asked for; UINT64_MAX: to the end */
	char		etag[256];		/* of the first window: later ones must match */
	MemBuf		window;
	size_t		pos;
	bool		eof;
} S3Read;

/* "bytes FIRST-LAST/TOTAL" */
static bool
parse_content_range(const char *text, uint64_t *first, uint64_t *total)
{
	unsigned long long f, l, t;

	if (sscanf(text, "bytes %llu-%llu/%llu", &f, &l, &t) != 3 || l < f || l >= t)
		return false;
	*first = f;
	*total = t;
	return true;
}

/* Fetch the next window of r into r->window. */
static int
fetch_window(S3Read *r, PgbError *err)
{
	S3Storage  *s = (S3Storage *) r->base.storage;
	uint64_t	want = S3_READ_WINDOW;
	char		range[64];
	SigV4Header headers[2];
	S3Request	req = {.method = "GET", .op = "GET", .key = r->key, .headers = headers};
	S3Response	resp;
	uint64_t	first = 0;
	uint64_t	total = 0;

	if (r->end != UINT64_MAX && r->end - r->next < want)
		want = r->end - r->next;
	snprintf(range, sizeof(range), "bytes=%llu-%llu",
			 (unsigned long long) r->next, (unsigned long long) (r->next + want - 1));
	headers[req.nheaders++] = (SigV4Header) {"range", range};
	if (r->etag[0])
		headers[req.nheaders++] = (SigV4Header) {"if-match", r->etag};
	/* room for an error body even when the range is tiny */
	req.max_body = want < 65536 ? 65536 : (size_t) want;
	if (s3_http_send(s->http, &req, &resp, err) != 0)
		return -1;

	membuf_free(&r->window);
	r->pos = 0;
	switch (resp.status)
	{
		case 206:
			if (!parse_content_range(resp.content_range, &first, &total) || first != r->next)
			{
				pgb_error(err, EXIT_IO, "S3 GET of \"%s\": unexpected Content-Range \"%s\"", r->key, resp.content_range);
				goto fail;
			}
			break;
		case 200:
			/* the whole object (servers may ignore Range, e.g. for an empty one) */
			if (r->next != 0)
			{
				pgb_error(err, EXIT_IO, "S3 GET of \"%s\": the server ignored the Range header", r->key);
				goto fail;
			}
			total = resp.body.len;
			break;
		case 416:
			/* the object ends at or before r->next */
			r->eof = true;
			r->end = r->next;
			s3_response_free(&resp);
			return 0;
		case 404:
			pgb_error(err, EXIT_NOT_FOUND, "S3 object \"%s\" does not exist%s", r->key,
					  r->etag[0] ? " any more: it was removed while being read" : "");
			goto fail;
		case 412:
			pgb_error(err, EXIT_IO, "S3 object \"%s\" was replaced while being read", r->key);
			goto fail;
		default:
			s3_http_unexpected(&req, &resp, err);
			goto fail;
	}
	if (r->etag[0] == '\0')
		snprintf(r->etag, sizeof(r->etag), "%s", resp.etag);
	if (r->end == UINT64_MAX || r->end > total)
		r->end = total;
	r->window = resp.body;
	memset(&resp.body, 0, sizeof(resp.body));
	if (r->window.len > r->end - r->next)
		r->window.len = (size_t) (r->end - r->next);
	r->next += r->window.len;
	if (r->window.len == 0)
		r->eof = true;
	return 0;

fail:
	s3_response_free(&resp);
	return -1;
}

void
s3_read_close(StorageRead *base)
{
	S3Read	   *r = (S3Read *) base;

	membuf_free(&r->window);
	free(r->key);
	free(r);
}

StorageRead *
s3_open_read(Storage *base, const char *path, uint64_t offset, uint64_t length, PgbError *err)
{
	S3Storage  *s = (S3Storage *) base;
	S3Read	   *r = calloc(1, sizeof(S3Read));

	if (r == NULL)
		return s3_oom(err);
	r->base.storage = base;
	r->next = offset;
	r->want_end = length ? offset + length : UINT64_MAX;
	r->end = r->want_end;
	if ((r->key = s3_key_of(s, path, err)) == NULL ||
		fetch_window(r, err) != 0)	/* now, so a missing object fails the open */
	{
		s3_read_close(&r->base);
		return NULL;
	}
	return &r->base;
}

ssize_t
s3_read(StorageRead *base, void *buf, size_t len, PgbError *err)
{
	S3Read	   *r = (S3Read *) base;

	for (;;)
	{
		if (r->pos < r->window.len)
		{
			size_t		n = r->window.len - r->pos;

			if (n > len)
				n = len;
			memcpy(buf, r->window.buf + r->pos, n);
			r->pos += n;
			return (ssize_t) n;
		}
		if (len == 0)
			return 0;
		if (r->eof || r->next >= r->end)
		{
			if (r->want_end != UINT64_MAX && r->next < r->want_end)
				return pgb_error(err, EXIT_CORRUPT, "S3 object \"%s\" is shorter than expected", r->key);
			return 0;
		}
		if (fetch_window(r, err) != 0)
			return -1;
	}
}
