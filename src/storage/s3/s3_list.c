/*
 * Listing and removal for the S3 driver.  A directory is a key prefix
 * ending in '/': storage_list is ListObjectsV2 with delimiter '/', page by
 * page, keeping the names directly under the directory; removing a tree
 * lists every key under the prefix (no delimiter) and deletes each page of
 * at most S3_DELETE_BATCH keys with one multi-object DELETE.  Removing one
 * object is a DELETE, and a missing object is no error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/s3/s3_intern.h"
#include "storage/s3/xml.h"

char *
s3_dir_prefix(const S3Storage *s, const char *dir, PgbError *err)
{
	char	   *key = s3_key_of(s, dir, err);
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

/* The entries and the continuation token of a ListBucketResult. */
static int
read_page(const XmlNode *root, ListPage *page, PgbError *err)
{
	XmlNode		node = {0};
	char	   *text = NULL;

	while (xml_next(root, NULL, &node))
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
				xml_child_text(root, "NextContinuationToken", 4096, &page->next_token, err) != 1)
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
	if (page->next_token && strchr(page->next_token, '&'))
		return pgb_error(err, EXIT_IO, "unusable continuation token in an S3 listing");
	return 0;
}

static int
parse_page(const S3Response *resp, ListPage *page, PgbError *err)
{
	XmlNode		root;
	XmlDoc	   *doc = xml_parse(resp->body.buf, resp->body.len, &root, err);
	int			rc;

	if (doc == NULL)
		return -1;
	if (xml_is(&root, "ListBucketResult"))
		rc = read_page(&root, page, err);
	else
	{
		char		name[256];

		xml_name(&root, name, sizeof(name));
		rc = pgb_error(err, EXIT_IO, "unexpected S3 listing response: <%s>", name);
	}
	xml_free(doc);
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

int
s3_list(Storage *base, const char *dir, StorageList *out, PgbError *err)
{
	S3Storage  *s = (S3Storage *) base;
	char	   *pfx = s3_dir_prefix(s, dir, err);
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

int
s3_remove(Storage *base, const char *path, PgbError *err)
{
	S3Storage  *s = (S3Storage *) base;
	char	   *key = s3_key_of(s, path, err);
	S3Request	req = {.method = "DELETE", .op = "DELETE", .key = key};
	S3Response	resp;
	int			rc = 0;

	if (key == NULL || s3_guard(s, err) != 0 || s3_http_send(s->http, &req, &resp, err) != 0)
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
	XmlDoc	   *doc;
	XmlNode		root;
	XmlNode		e;
	char	   *key = NULL;
	char	   *code = NULL;
	char	   *msg = NULL;

	if ((doc = xml_parse(resp->body.buf, resp->body.len, &root, err)) == NULL)
		return pgb_error_context(err, "S3 multi-object DELETE under \"%s\"", pfx);
	if (!xml_child(&root, "Error", &e))
	{
		xml_free(doc);
		return 0;
	}
	if (xml_child_text(&e, "Key", 4096, &key, err) >= 0 &&
		xml_child_text(&e, "Code", 256, &code, err) >= 0 &&
		xml_child_text(&e, "Message", 1024, &msg, err) >= 0)
		pgb_error(err, EXIT_IO, "S3 multi-object DELETE of \"%s\" failed: %s: %s",
				  key ? key : "?", code ? code : "?", msg ? msg : "");
	free(key);
	free(code);
	free(msg);
	xml_free(doc);
	return -1;
}

/* POST ?delete of the keys of page (at most S3_DELETE_BATCH). */
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

int
s3_remove_tree(Storage *base, const char *dir, PgbError *err)
{
	S3Storage  *s = (S3Storage *) base;
	char	   *pfx = s3_dir_prefix(s, dir, err);
	char	   *token = NULL;
	ListPage	page;
	int			rc = 0;

	if (pfx == NULL)
		return -1;
	if (s3_guard(s, err) != 0)
	{
		free(pfx);
		return -1;
	}
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
		if (page.count > S3_DELETE_BATCH)
			rc = pgb_error(err, EXIT_IO, "S3 listing page of %d keys exceeds %d", page.count, S3_DELETE_BATCH);
		else if (page.count > 0)
			rc = delete_keys(s, &page, pfx, err);
		page_free(&page);
	} while (rc == 0 && token != NULL);
	free(token);
	free(pfx);
	return rc;
}
