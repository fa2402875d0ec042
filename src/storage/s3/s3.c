/*
 * The S3 storage driver (see s3.h): storage paths become keys under the
 * prefix, and each StorageDriver function becomes one or a few S3 requests
 * sent through http.c.  Writes are buffered up to a part and sent as one PUT
 * or as a multipart upload; reads are lazily fetched ranges; listings are
 * ListObjectsV2 pages; tree removal is multi-object DELETE; locks are local
 * flock()s through the posix driver on a lock directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/membuf.h"
#include "io/sha256.h"
#include "storage/posix.h"
#include "storage/s3/http.h"
#include "storage/s3/lease.h"
#include "storage/s3/s3.h"
#include "storage/s3/xml.h"

#define MAX_PARTS 10000
#define DELETE_BATCH 1000
#define LOCK_DIR_MODE 01777

typedef struct S3Storage
{
	Storage		base;
	S3Http	   *http;
	char	   *bucket;
	char	   *prefix;			/* "" or "a/b": no leading, trailing or double '/' */
	size_t		part_size;
	int			list_page_size; /* 0: the server's default */
	char	   *lock_dir;
	Storage    *locks;			/* posix storage on lock_dir */
} S3Storage;

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

/* ---------------------------------------------------------------- keys */

/* Append path to b with leading, trailing and repeated slashes removed. */
static int
append_normalized(MemBuf *b, const char *path, PgbError *err)
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
static char *
key_of(const S3Storage *s, const char *path, PgbError *err)
{
	MemBuf		b = {0};

	if (membuf_append(&b, s->prefix, strlen(s->prefix), err) != 0 ||
		append_normalized(&b, path, err) != 0)
	{
		membuf_free(&b);
		return NULL;
	}
	return membuf_take(&b, NULL, err);
}

/* The listing prefix of directory dir: "key/", or "" for the bucket's root. */
static char *
dir_prefix(const S3Storage *s, const char *dir, PgbError *err)
{
	char	   *key = key_of(s, dir, err);
	char	   *out;

	if (key == NULL)
		return NULL;
	if (strchr(key, '&') != NULL)
	{
		pgb_error(err, EXIT_INTERNAL, "S3 directory name \"%s\" contains '&', which the driver cannot list", key);
		free(key);
		return NULL;
	}
	if (key[0] == '\0')
		return key;
	if (asprintf(&out, "%s/", key) < 0)
	{
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		out = NULL;
	}
	free(key);
	return out;
}

static void *
oom(PgbError *err)
{
	pgb_error(err, EXIT_INTERNAL, "out of memory");
	return NULL;
}

/* ---------------------------------------------------------------- info */

static int
s3_info(Storage *base, const char *path, StorageInfo *out, PgbError *err)
{
	S3Storage  *s = (S3Storage *) base;
	char	   *key = key_of(s, path, err);
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

/* ---------------------------------------------------------------- reads */

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

static void
s3_read_close(StorageRead *base)
{
	S3Read	   *r = (S3Read *) base;

	membuf_free(&r->window);
	free(r->key);
	free(r);
}

static StorageRead *
s3_open_read(Storage *base, const char *path, uint64_t offset, uint64_t length, PgbError *err)
{
	S3Storage  *s = (S3Storage *) base;
	S3Read	   *r = calloc(1, sizeof(S3Read));

	if (r == NULL)
		return oom(err);
	r->base.storage = base;
	r->next = offset;
	r->want_end = length ? offset + length : UINT64_MAX;
	r->end = r->want_end;
	if ((r->key = key_of(s, path, err)) == NULL ||
		fetch_window(r, err) != 0)	/* now, so a missing object fails the open */
	{
		s3_read_close(&r->base);
		return NULL;
	}
	return &r->base;
}

static ssize_t
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

/* ---------------------------------------------------------------- writes */

static StorageWrite *
s3_open_write(Storage *base, const char *path, PgbError *err)
{
	S3Storage  *s = (S3Storage *) base;
	S3Write    *w = calloc(1, sizeof(S3Write));

	if (w == NULL)
		return oom(err);
	w->base.storage = base;
	if ((w->key = key_of(s, path, err)) == NULL)
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
	XmlNode		root;
	int			rc = -1;

	if (s3_http_send(s->http, &req, &resp, err) != 0)
		return -1;
	if (resp.status != 200)
		s3_http_unexpected(&req, &resp, err);
	else if (xml_root(resp.body.buf, resp.body.len, &root, err) != 0 ||
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

static int
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

static void
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

static int
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

/* ---------------------------------------------------------------- listing */

typedef struct ListPage
{
	int			count;
	StorageEntry *items;		/* name: the full key (or common prefix) */
	char	   *next_token;		/* NULL: last page */
} ListPage;

static void
page_free(ListPage *p)
{
	StorageList l = {.count = p->count, .items = p->items};

	storage_list_free(&l);
	free(p->next_token);
	memset(p, 0, sizeof(*p));
}

static int
page_add(ListPage *p, char *name, bool is_dir, uint64_t size, int64_t mtime, PgbError *err)
{
	StorageEntry *bigger = realloc(p->items, sizeof(StorageEntry) * (size_t) (p->count + 1));

	if (bigger == NULL)
	{
		free(name);
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	}
	p->items = bigger;
	p->items[p->count++] = (StorageEntry) {.name = name, .is_dir = is_dir, .size = size, .mtime = mtime};
	return 0;
}

static int
parse_page(const S3Response *resp, ListPage *page, PgbError *err)
{
	XmlNode		root;
	XmlNode		node;
	size_t		cursor = 0;
	char	   *text = NULL;
	int			rc;

	if (xml_root(resp->body.buf, resp->body.len, &root, err) != 0)
		return -1;
	if (!xml_is(&root, "ListBucketResult"))
		return pgb_error(err, EXIT_IO, "unexpected S3 listing response: <%.*s>", (int) root.namelen, root.name);
	while ((rc = xml_next(&root, NULL, &cursor, &node, err)) == 1)
	{
		char	   *key = NULL;
		uint64_t	size = 0;
		int64_t		mtime = 0;

		if (xml_is(&node, "Contents"))
		{
			if (xml_child_text(&node, "Key", 4096, &key, err) != 1)
				goto bad;
			if (xml_child_text(&node, "Size", 32, &text, err) == 1)
			{
				char	   *end;

				size = strtoull(text, &end, 10);
				if (end == text || *end != '\0')
					goto bad;
				free(text);
				text = NULL;
			}
			if (xml_child_text(&node, "LastModified", 64, &text, err) == 1)
			{
				mtime = s3_http_parse_time(text);
				free(text);
				text = NULL;
			}
			if (page_add(page, key, false, size, mtime < 0 ? 0 : mtime, err) != 0)
				return -1;
		}
		else if (xml_is(&node, "CommonPrefixes"))
		{
			if (xml_child_text(&node, "Prefix", 4096, &key, err) != 1)
				goto bad;
			if (page_add(page, key, true, 0, 0, err) != 0)
				return -1;
		}
		else if (xml_is(&node, "IsTruncated"))
		{
			if (xml_text(&node, 16, &text, err) != 0)
				return -1;
			if (strcmp(text, "true") == 0 &&
				xml_child_text(&root, "NextContinuationToken", 4096, &page->next_token, err) != 1)
				goto bad;
			free(text);
			text = NULL;
		}
		continue;
bad:
		free(key);
		free(text);
		if (!pgb_error_is_set(err))
			pgb_error(err, EXIT_IO, "malformed S3 listing response");
		return -1;
	}
	if (rc == 0 && page->next_token && strchr(page->next_token, '&'))
		return pgb_error(err, EXIT_IO, "unusable continuation token in an S3 listing");
	return rc;
}

/* One ListObjectsV2 page of keys starting with pfx. */
static int
list_page(S3Storage *s, const char *pfx, bool delimit, const char *token, ListPage *page, PgbError *err)
{
	char	   *query = NULL;
	char		max_keys[32] = "";
	S3Request	req = {.method = "GET", .op = "LIST", .object = pfx};
	S3Response	resp;
	int			rc = -1;

	memset(page, 0, sizeof(*page));
	if (s->list_page_size > 0)
		snprintf(max_keys, sizeof(max_keys), "&max-keys=%d", s->list_page_size);
	if (asprintf(&query, "list-type=2&prefix=%s%s%s%s%s", pfx, delimit ? "&delimiter=/" : "",
				 max_keys, token ? "&continuation-token=" : "", token ? token : "") < 0)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	req.query = query;
	if (s3_http_send(s->http, &req, &resp, err) == 0)
	{
		if (resp.status != 200)
			s3_http_unexpected(&req, &resp, err);
		else if (parse_page(&resp, page, err) != 0)
			pgb_error_context(err, "S3 LIST of \"%s\"", pfx);
		else
			rc = 0;
		s3_response_free(&resp);
	}
	free(query);
	if (rc != 0)
		page_free(page);
	return rc;
}

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const StorageEntry *) a)->name, ((const StorageEntry *) b)->name);
}

static int
s3_list(Storage *base, const char *dir, StorageList *out, PgbError *err)
{
	S3Storage  *s = (S3Storage *) base;
	char	   *pfx = dir_prefix(s, dir, err);
	size_t		plen;
	char	   *token = NULL;
	ListPage	page;

	out->count = 0;
	out->items = NULL;
	if (pfx == NULL)
		return -1;
	plen = strlen(pfx);
	do
	{
		if (list_page(s, pfx, true, token, &page, err) != 0)
			goto fail;
		free(token);
		token = page.next_token;
		page.next_token = NULL;
		for (int i = 0; i < page.count; i++)
		{
			StorageEntry *e = &page.items[i];
			size_t		nlen = strlen(e->name);
			char	   *name;
			StorageEntry *bigger;

			if (nlen <= plen || strncmp(e->name, pfx, plen) != 0)
				continue;
			name = e->name + plen;
			nlen -= plen;
			if (e->is_dir && name[nlen - 1] == '/')
				nlen--;
			if (nlen == 0 || name[0] == '.' || memchr(name, '/', nlen) != NULL)
				continue;
			bigger = realloc(out->items, sizeof(StorageEntry) * (size_t) (out->count + 1));
			if (bigger == NULL)
			{
				pgb_error(err, EXIT_INTERNAL, "out of memory");
				page_free(&page);
				goto fail;
			}
			out->items = bigger;
			out->items[out->count] = *e;
			if ((out->items[out->count].name = strndup(name, nlen)) == NULL)
			{
				pgb_error(err, EXIT_INTERNAL, "out of memory");
				page_free(&page);
				goto fail;
			}
			out->count++;
		}
		page_free(&page);
	} while (token != NULL);
	free(pfx);
	if (out->count > 1)
		qsort(out->items, (size_t) out->count, sizeof(StorageEntry), entry_cmp);
	return 0;

fail:
	free(token);
	free(pfx);
	storage_list_free(out);
	return -1;
}

/* ---------------------------------------------------------------- removal */

static int
s3_remove(Storage *base, const char *path, PgbError *err)
{
	S3Storage  *s = (S3Storage *) base;
	char	   *key = key_of(s, path, err);
	S3Request	req = {.method = "DELETE", .op = "DELETE", .key = key};
	S3Response	resp;
	int			rc = 0;

	if (key == NULL || s3_http_send(s->http, &req, &resp, err) != 0)
	{
		free(key);
		return -1;
	}
	if (resp.status != 204 && resp.status != 200 && resp.status != 404)
		rc = s3_http_unexpected(&req, &resp, err);
	s3_response_free(&resp);
	free(key);
	return rc;
}

/* The first <Error> of a DeleteResult as an error; 0 if there is none. */
static int
check_delete_result(const S3Response *resp, const char *pfx, PgbError *err)
{
	XmlNode		root;
	XmlNode		e;
	char	   *key = NULL;
	char	   *code = NULL;
	char	   *msg = NULL;

	if (xml_root(resp->body.buf, resp->body.len, &root, err) != 0)
		return pgb_error_context(err, "S3 multi-object DELETE under \"%s\"", pfx);
	if (xml_child(&root, "Error", &e, err) != 1)
		return pgb_error_is_set(err) ? -1 : 0;
	if (xml_child_text(&e, "Key", 4096, &key, err) < 0 ||
		xml_child_text(&e, "Code", 256, &code, err) < 0 ||
		xml_child_text(&e, "Message", 1024, &msg, err) < 0)
		return -1;
	pgb_error(err, EXIT_IO, "S3 multi-object DELETE of \"%s\" failed: %s: %s",
			  key ? key : "?", code ? code : "?", msg ? msg : "");
	free(key);
	free(code);
	free(msg);
	return -1;
}

/* POST ?delete of the keys of page (at most DELETE_BATCH). */
static int
delete_keys(S3Storage *s, const ListPage *page, const char *pfx, PgbError *err)
{
	MemBuf		body = {0};
	char		md5[32];
	SigV4Header headers[1] = {{"content-md5", md5}};
	S3Request	req = {.method = "POST", .op = "multi-object DELETE", .object = pfx,
	.query = "delete", .headers = headers, .nheaders = 1, .error_in_200 = true};
	S3Response	resp;
	int			rc = -1;

	if (membuf_append(&body, "<Delete><Quiet>true</Quiet>", 27, err) != 0)
		goto done;
	for (int i = 0; i < page->count; i++)
		if (membuf_append(&body, "<Object><Key>", 13, err) != 0 ||
			xml_escape(&body, page->items[i].name, err) != 0 ||
			membuf_append(&body, "</Key></Object>", 15, err) != 0)
			goto done;
	if (membuf_append(&body, "</Delete>", 9, err) != 0)
		goto done;
	s3_http_content_md5(body.buf, body.len, md5);
	req.body = body.buf;
	req.body_len = body.len;
	if (s3_http_send(s->http, &req, &resp, err) != 0)
		goto done;
	if (resp.status != 200)
		s3_http_unexpected(&req, &resp, err);
	else
		rc = check_delete_result(&resp, pfx, err);
	s3_response_free(&resp);
done:
	membuf_free(&body);
	return rc;
}

static int
s3_remove_tree(Storage *base, const char *dir, PgbError *err)
{
	S3Storage  *s = (S3Storage *) base;
	char	   *pfx = dir_prefix(s, dir, err);
	char	   *token = NULL;
	ListPage	page;
	int			rc = 0;

	if (pfx == NULL)
		return -1;
	do
	{
		/* a page is at most 1000 keys: one multi-object DELETE each */
		if (list_page(s, pfx, false, token, &page, err) != 0)
		{
			rc = -1;
			break;
		}
		free(token);
		token = page.next_token;
		page.next_token = NULL;
		if (page.count > DELETE_BATCH)
			rc = pgb_error(err, EXIT_IO, "S3 listing page of %d keys exceeds %d", page.count, DELETE_BATCH);
		else if (page.count > 0)
			rc = delete_keys(s, &page, pfx, err);
		page_free(&page);
	} while (rc == 0 && token != NULL);
	free(token);
	free(pfx);
	return rc;
}

/* ---------------------------------------------------------------- locks */

/*
 * The lock directory is shared by every user that runs pgbkp (root and
 * postgres both do), so it is made world-writable and sticky, like /tmp;
 * it must not be a symlink and must belong to root or to us.  Lock files are
 * created mode 0666 so that another user can open and flock() them too.
 */
static int
check_lock_dir(const char *dir, PgbError *err)
{
	struct stat st;

	if (mkdir(dir, 0700) == 0)
	{
		if (chmod(dir, LOCK_DIR_MODE) != 0)
			return pgb_error_errno(err, EXIT_IO, errno, "could not set the mode of lock directory \"%s\"", dir);
	}
	else if (errno != EEXIST)
		return pgb_error_errno(err, EXIT_IO, errno, "could not create lock directory \"%s\"", dir);
	if (lstat(dir, &st) != 0)
		return pgb_error_errno(err, EXIT_IO, errno, "could not stat lock directory \"%s\"", dir);
	/* ours or root's; or, like /tmp, sticky (whoever made it first: root or postgres) */
	if (!S_ISDIR(st.st_mode) ||
		((st.st_mode & 022) != 0 && (st.st_mode & S_ISVTX) == 0) ||
		(st.st_uid != 0 && st.st_uid != geteuid() && (st.st_mode & S_ISVTX) == 0))
	{
		pgb_error(err, EXIT_CONFIG, "unsafe lock directory \"%s\": it must be a directory owned by root or by this user, and sticky if others can write to it", dir);
		return pgb_hint(err, "remove it or choose another lock directory");
	}
	return 0;
}

/* A lock on S3: the local flock (this host) and the lease object (every host). */
typedef struct S3Lock
{
	Storage    *storage;		/* first, as every StorageLock */
	StorageLock *local;
	S3Lease    *lease;
} S3Lock;

static StorageLock *
s3_local_lock(S3Storage *s, const char *path, const char *holder, PgbError *err);

static StorageLock *
s3_lock(Storage *base, const char *path, const char *holder, PgbError *err)
{
	S3Storage  *s = (S3Storage *) base;
	S3Lock	   *l = calloc(1, sizeof(S3Lock));
	char	   *key;

	if (l == NULL)
		return oom(err);
	l->storage = base;
	if ((l->local = s3_local_lock(s, path, holder, err)) == NULL ||
		(key = key_of(s, path, err)) == NULL)
	{
		storage_unlock(l->local);
		free(l);
		return NULL;
	}
	l->lease = s3_lease_acquire(s->http, key, holder, err);
	free(key);
	if (l->lease == NULL)
	{
		storage_unlock(l->local);
		free(l);
		return NULL;
	}
	return (StorageLock *) l;
}

/*
 * The name (in the lock directory) of this host's lock file for the lock
 * at path: one per endpoint, bucket and key.  -1 with err.
 */
static int
local_lock_name(S3Storage *s, const char *path, char *name, size_t len, PgbError *err)
{
	char	   *key = key_of(s, path, err);
	char	   *id = NULL;
	uint8_t		digest[SHA256_LEN];
	char		hex[SHA256_HEX_LEN + 1];

	if (key == NULL)
		return -1;
	if (asprintf(&id, "%s\n%s\n%s", s3_http_endpoint(s->http), s->bucket, key) < 0)
	{
		free(key);
		oom(err);
		return -1;
	}
	sha256_digest(id, strlen(id), digest);
	free(id);
	free(key);
	sha256_to_hex(digest, hex);
	snprintf(name, len, "s3-%.32s.lock", hex);
	return 0;
}

static StorageLock *
s3_local_lock(S3Storage *s, const char *path, const char *holder, PgbError *err)
{
	char		name[64];
	char		full[4096];
	struct stat st;
	int			fd;

	if (local_lock_name(s, path, name, sizeof(name), err) != 0)
		return NULL;
	snprintf(full, sizeof(full), "%s/%s", s->lock_dir, name);
	if (check_lock_dir(s->lock_dir, err) != 0)
		return NULL;
	fd = open(full, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
	if (fd >= 0)
	{
		(void) fchmod(fd, 0666);	/* past the umask */
		close(fd);
	}
	else if (errno != EEXIST)
	{
		pgb_error_errno(err, EXIT_IO, errno, "could not create lock file \"%s\"", full);
		return NULL;
	}
	if (lstat(full, &st) != 0 || !S_ISREG(st.st_mode))
	{
		pgb_error(err, EXIT_CONFIG, "lock file \"%s\" is not a regular file", full);
		return NULL;
	}
	return storage_lock(s->locks, name, holder, err);
}

/*
 * The lease tells for every host; a fresh lease of this host whose lock
 * file is free belongs to a process that died (see lease.h).
 */
static int
s3_lock_probe(Storage *base, const char *path, char *holder, size_t len, PgbError *err)
{
	S3Storage  *s = (S3Storage *) base;
	char	   *key = key_of(s, path, err);
	char		host[256];
	char		self[256] = "";
	char		name[64];
	char		local[512];
	int			held;

	if (key == NULL)
		return -1;
	held = s3_lease_probe(s->http, key, holder, len, host, sizeof(host), err);
	free(key);
	if (held != 1)
		return held;
	if (gethostname(self, sizeof(self) - 1) != 0 || strcmp(self, host) != 0)
		return 1;
	if (local_lock_name(s, path, name, sizeof(name), err) != 0)
		return -1;
	held = storage_lock_probe(s->locks, name, local, sizeof(local), err);
	if (held == 0 && len > 0)
		holder[0] = '\0';
	return held;
}

static void
s3_unlock(StorageLock *base)
{
	S3Lock	   *l = (S3Lock *) base;

	s3_lease_release(l->lease);
	storage_unlock(l->local);
	free(l);
}

/* ---------------------------------------------------------------- the storage */

static void
s3_free(Storage *base)
{
	S3Storage  *s = (S3Storage *) base;

	s3_http_free(s->http);
	storage_free(s->locks);
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
		return oom(err);
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
		return oom(err);
	}
	s->base.driver = &s3_driver;
	s->part_size = opt->part_size ? opt->part_size : S3_DEFAULT_PART_SIZE;
	s->list_page_size = opt->list_page_size > 0 && opt->list_page_size < DELETE_BATCH ? opt->list_page_size : 0;
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
	if (append_normalized(&prefix, opt->prefix ? opt->prefix : "", err) != 0 ||
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
