/*
 * The unfinished multipart uploads of writers that died (the S3 driver's
 * clean_temps): a writer killed during a large object leaves an upload
 * that is never visible but whose parts the server keeps, and charges for,
 * until someone aborts it.  They are listed under a directory (GET
 * ?uploads, page by page) and those initiated more than upload_max_age
 * seconds ago are aborted: a live writer never takes that long over one
 * object, so an upload of another process that is still writing is never
 * touched.  Best effort, as for the local driver's temporary files: a
 * server without the listing, or a failure, ends the cleaning quietly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storage/s3/s3_intern.h"
#include "storage/s3/xml.h"

/* Pages of a listing taken at most in one cleaning (1000 uploads each). */
#define MAX_PAGES 100

/* Is key directly in the directory listed with prefix pfx (no further '/')? */
static bool
directly_in(const char *key, const char *pfx)
{
	return strncmp(key, pfx, strlen(pfx)) == 0 && strchr(key + strlen(pfx), '/') == NULL;
}

/*
 * One page of the listing: abort what is old enough, count it in *aborted;
 * the markers of the next page in *key_marker and *id_marker (NULL: last).
 */
static int
clean_page(S3Storage *s, const char *pfx, bool recursive, char **key_marker, char **id_marker,
		   int *aborted, PgbError *err)
{
	char	   *query = NULL;
	S3Request	req = {.method = "GET", .op = "list uploads", .object = pfx};
	S3Response	resp;
	XmlDoc	   *doc = NULL;
	XmlNode		root,
				up = {0};
	char	   *truncated = NULL;
	int64_t		now = (int64_t) time(NULL);
	int			rc = -1;

	if (asprintf(&query, "uploads&prefix=%s%s%s%s%s", pfx,
				 *key_marker ? "&key-marker=" : "", *key_marker ? *key_marker : "",
				 *id_marker ? "&upload-id-marker=" : "", *id_marker ? *id_marker : "") < 0)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	free(*key_marker);
	free(*id_marker);
	*key_marker = *id_marker = NULL;
	req.query = query;
	if (s3_http_send(s->http, &req, &resp, err) != 0)
	{
		free(query);
		return -1;
	}
	if (resp.status != 200)
		s3_http_unexpected(&req, &resp, err);
	else if ((doc = xml_parse(resp.body.buf, resp.body.len, &root, err)) != NULL)
	{
		rc = 0;
		while (rc == 0 && xml_next(&root, "Upload", &up))
		{
			char	   *key = NULL,
					   *id = NULL,
					   *initiated = NULL;
			int64_t		when;

			if (xml_child_text(&up, "Key", 4096, &key, err) == 1 &&
				xml_child_text(&up, "UploadId", 1024, &id, err) == 1 &&
				xml_child_text(&up, "Initiated", 64, &initiated, err) == 1 &&
				(when = s3_http_parse_time(initiated)) > 0 &&
				(recursive || directly_in(key, pfx)) && strchr(id, '&') == NULL &&
				(s->upload_max_age < 0 || now - when > s->upload_max_age))
			{
				if ((rc = s3_guard(s, err)) == 0)
				{
					s3_abort_upload(s, key, id);
					(*aborted)++;
				}
			}
			free(key);
			free(id);
			free(initiated);
		}
		if (rc == 0 && xml_child_text(&root, "IsTruncated", 16, &truncated, err) == 1 &&
			strcmp(truncated, "true") == 0 &&
			(xml_child_text(&root, "NextKeyMarker", 4096, key_marker, err) != 1 ||
			 xml_child_text(&root, "NextUploadIdMarker", 1024, id_marker, err) != 1))
			rc = -1;			/* a truncated page without its markers: stop */
	}
	free(truncated);
	xml_free(doc);
	s3_response_free(&resp);
	free(query);
	return rc;
}

int
s3_clean_temps(Storage *base, const char *dir, bool recursive)
{
	S3Storage  *s = (S3Storage *) base;
	PgbError	err = {0};
	char	   *pfx = s3_dir_prefix(s, dir, &err);
	char	   *key_marker = NULL,
			   *id_marker = NULL;
	int			aborted = 0;

	if (pfx == NULL)
		return 0;
	for (int page = 0; page < MAX_PAGES; page++)
		if (clean_page(s, pfx, recursive, &key_marker, &id_marker, &aborted, &err) != 0 || key_marker == NULL)
			break;
	free(key_marker);
	free(id_marker);
	free(pfx);
	return aborted;
}
