/*
 * Writing a manifest in the text format (see manifest.h and repo/FORMAT.md):
 *
 *   pgbkp-manifest<TAB>2
 *   h<TAB>key<TAB>value            header fields, any order
 *   d<TAB>path<TAB>mode            directory (mode in octal)
 *   l<TAB>path<TAB>target          symbolic link (tablespace)
 *   f<TAB>path<TAB>size<TAB>mode<TAB>mtime<TAB>sha256<TAB>nchunks
 *   c<TAB>kind<TAB>size<TAB>sha256<TAB>bundle<TAB>offset<TAB>length<TAB>map_bundle<TAB>map_offset<TAB>map_length
 *                                  one per chunk, right after its file
 *   end<TAB>ndirs<TAB>nlinks<TAB>nfiles
 *
 * Lines are gathered in a buffer and handed to the caller's sink in large
 * pieces; a field is escaped as %XX where it holds a control character or
 * '%'.  Only the current format is written (manifest_parse.c still reads
 * format 1).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest/manifest.h"

/* lines are gathered in a buffer of twice this before they go to the sink */
#define LINE_MAX_LEN 16384

struct ManifestOut
{
	ByteSink	sink;
	void	   *arg;
	char		buf[LINE_MAX_LEN * 2];
	size_t		len;
};

typedef ManifestOut Out;

static int
out_flush(Out *o, PgbError *err)
{
	int			rc = o->len ? o->sink(o->arg, o->buf, o->len, err) : 0;

	o->len = 0;
	return rc;
}

static int
out_raw(Out *o, const char *s, size_t n, PgbError *err)
{
	if (o->len + n > sizeof(o->buf) && out_flush(o, err) != 0)
		return -1;
	if (n > sizeof(o->buf))
		return o->sink(o->arg, s, n, err);
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	return 0;
}

/* A TAB, then the field escaped. */
static int
out_field(Out *o, const char *s, PgbError *err)
{
	char		esc[4];

	if (out_raw(o, "\t", 1, err) != 0)
		return -1;
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (c < 0x20 || c == '%' || c == 0x7f)
		{
			snprintf(esc, sizeof(esc), "%%%02X", c);
			if (out_raw(o, esc, 3, err) != 0)
				return -1;
		}
		else if (out_raw(o, s, 1, err) != 0)
			return -1;
	}
	return 0;
}

static int
out_line(Out *o, const char *tag, int n, const char **fields, PgbError *err)
{
	if (out_raw(o, tag, strlen(tag), err) != 0)
		return -1;
	for (int i = 0; i < n; i++)
		if (out_field(o, fields[i], err) != 0)
			return -1;
	return out_raw(o, "\n", 1, err);
}

static int
out_header(Out *o, const char *key, const char *value, PgbError *err)
{
	const char *f[2] = {key, value};

	return out_line(o, "h", 2, f, err);
}

static int
out_header_u64(Out *o, const char *key, uint64_t v, PgbError *err)
{
	char		buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return out_header(o, key, buf, err);
}

static int
out_header_i64(Out *o, const char *key, int64_t v, PgbError *err)
{
	char		buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return out_header(o, key, buf, err);
}

static int
out_header_lsn(Out *o, const char *key, Lsn v, PgbError *err)
{
	char		buf[32];

	lsn_format(v, buf, sizeof(buf));
	return out_header(o, key, buf, err);
}

ManifestOut *
manifest_out_new(ByteSink sink, void *arg, PgbError *err)
{
	Out		   *o = malloc(sizeof(Out));

	if (o == NULL)
	{
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		return NULL;
	}
	o->sink = sink;
	o->arg = arg;
	o->len = 0;
	return o;
}

void
manifest_out_free(ManifestOut *o)
{
	free(o);
}

int
manifest_out_flush(ManifestOut *o, PgbError *err)
{
	return out_flush(o, err);
}

int
manifest_out_text(void *o, const void *text, size_t len, PgbError *err)
{
	return out_raw(o, text, len, err);
}

int
manifest_out_file(ManifestOut *o, const ManifestFile *mf, PgbError *err)
{
	char		n1[32],
				n2[32],
				n3[32],
				n4[32],
				n5[32],
				n6[32],
				n7[32],
				n8[32],
				n9[32],
				hex[SHA256_HEX_LEN + 1];
	uint8_t		digest[SHA256_LEN];
	const char *f[6] = {mf->path, n1, n2, n3, hex, n4};

	snprintf(n1, sizeof(n1), "%" PRIu64, mf->size);
	snprintf(n2, sizeof(n2), "%o", mf->mode);
	snprintf(n3, sizeof(n3), "%" PRId64, mf->mtime);
	manifest_file_digest(mf, digest);
	sha256_to_hex(digest, hex);
	snprintf(n4, sizeof(n4), "%d", mf->nchunks);
	if (out_line(o, "f", 6, f, err) != 0)
		return -1;
	for (int c = 0; c < mf->nchunks; c++)
	{
		const ManifestChunk *ch = &mf->chunks[c];
		char		kind[2] = {ch->kind, 0};
		const char *cf[9] = {kind, n1, hex, n4, n5, n6, n7, n8, n9};

		snprintf(n1, sizeof(n1), "%" PRIu64, ch->size);
		sha256_to_hex(ch->sha256, hex);
		snprintf(n4, sizeof(n4), "%" PRIu32, ch->bundle);
		snprintf(n5, sizeof(n5), "%" PRIu64, ch->offset);
		snprintf(n6, sizeof(n6), "%" PRIu64, ch->length);
		snprintf(n7, sizeof(n7), "%" PRIu32, ch->map_bundle);
		snprintf(n8, sizeof(n8), "%" PRIu64, ch->map_offset);
		snprintf(n9, sizeof(n9), "%" PRIu64, ch->map_length);
		if (out_line(o, "c", 9, cf, err) != 0)
			return -1;
	}
	return 0;
}

int
manifest_write(const Manifest *m, ByteSink sink, void *arg, PgbError *err)
{
	return manifest_write_with(m, NULL, NULL, sink, arg, err);
}

int
manifest_write_with(const Manifest *m, ManifestFilesFn files, void *files_arg,
					ByteSink sink, void *arg, PgbError *err)
{
	Out		   *o = manifest_out_new(sink, arg, err);
	char		n1[32],
				n2[32],
				n3[32];
	int			nfiles = 0;
	int			rc = -1;

	if (o == NULL)
		return -1;
	snprintf(n1, sizeof(n1), "pgbkp-manifest\t%d\n", m->format);
	if (out_raw(o, n1, strlen(n1), err) != 0 ||
		out_header(o, "label", m->label, err) != 0 ||
		out_header(o, "type", m->type, err) != 0 ||
		out_header(o, "parent", m->parent, err) != 0 ||
		out_header_u64(o, "chunk_size", m->chunk_size, err) != 0 ||
		out_header(o, "cluster", m->cluster ? m->cluster : "", err) != 0 ||
		out_header(o, "pgdata", m->pgdata ? m->pgdata : "", err) != 0 ||
		out_header(o, "pgbkp_version", m->pgbkp_version ? m->pgbkp_version : "", err) != 0 ||
		out_header_u64(o, "system_identifier", m->system_identifier, err) != 0 ||
		out_header_i64(o, "pg_version", m->pg_version, err) != 0 ||
		out_header_u64(o, "wal_segment_size", m->wal_segment_size, err) != 0 ||
		out_header_u64(o, "block_size", m->block_size, err) != 0 ||
		out_header_i64(o, "compress_level", m->compress_level, err) != 0 ||
		out_header_u64(o, "timeline", m->timeline, err) != 0 ||
		out_header_lsn(o, "start_lsn", m->start_lsn, err) != 0 ||
		out_header_lsn(o, "stop_lsn", m->stop_lsn, err) != 0 ||
		out_header_i64(o, "start_time", m->start_time, err) != 0 ||
		out_header_i64(o, "stop_time", m->stop_time, err) != 0 ||
		out_header_u64(o, "size", m->size, err) != 0 ||
		out_header_u64(o, "repo_size", m->repo_size, err) != 0 ||
		out_header_u64(o, "bundles", m->nbundles, err) != 0)
		goto done;
	if (m->pages_checked > 0 &&
		(out_header_u64(o, "pages_checked", m->pages_checked, err) != 0 ||
		 out_header_u64(o, "bad_pages", m->bad_pages, err) != 0 ||
		 (m->bad_pages_at && out_header(o, "bad_pages_at", m->bad_pages_at, err) != 0)))
		goto done;
	if ((m->source_member && out_header(o, "source_member", m->source_member, err) != 0) ||
		(m->source_role && out_header(o, "source_role", m->source_role, err) != 0))
		goto done;
	for (int i = 0; i < m->ndirs; i++)
	{
		const char *f[2] = {m->dirs[i].path, n1};

		snprintf(n1, sizeof(n1), "%o", m->dirs[i].mode);
		if (out_line(o, "d", 2, f, err) != 0)
			goto done;
	}
	for (int i = 0; i < m->nlinks; i++)
	{
		const char *f[2] = {m->links[i].path, m->links[i].target};

		if (out_line(o, "l", 2, f, err) != 0)
			goto done;
	}
	if (files != NULL)
	{
		if (files(files_arg, m, o, &nfiles, err) != 0)
			goto done;
	}
	else
	{
		for (int i = 0; i < m->nfiles; i++)
			if (manifest_out_file(o, &m->files[i], err) != 0)
				goto done;
		nfiles = m->nfiles;
	}
	snprintf(n1, sizeof(n1), "%d", m->ndirs);
	snprintf(n2, sizeof(n2), "%d", m->nlinks);
	snprintf(n3, sizeof(n3), "%d", nfiles);
	{
		const char *f[3] = {n1, n2, n3};

		if (out_line(o, "end", 3, f, err) != 0)
			goto done;
	}
	rc = out_flush(o, err);
done:
	free(o);
	return rc;
}
