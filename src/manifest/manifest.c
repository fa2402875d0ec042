/*
 * Manifest construction, serialization and parsing (see manifest.h).
 *
 *   pgbkp-manifest<TAB>2
 *   h<TAB>key<TAB>value            header fields, any order, unknown keys kept out
 *   d<TAB>path<TAB>mode            directory (mode in octal)
 *   l<TAB>path<TAB>target          symbolic link (tablespace)
 *   f<TAB>path<TAB>size<TAB>mode<TAB>mtime<TAB>sha256<TAB>nchunks
 *   c<TAB>kind<TAB>size<TAB>sha256<TAB>bundle<TAB>offset<TAB>length<TAB>map_bundle<TAB>map_offset<TAB>map_length
 *                                  one per chunk, right after its file
 *   end<TAB>ndirs<TAB>nlinks<TAB>nfiles
 *
 * Format 1 (still read) had no c records:
 *   f<TAB>path<TAB>size<TAB>mode<TAB>mtime<TAB>sha256<TAB>bundle<TAB>offset<TAB>length
 * which is one STORED chunk.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/pathcheck.h"
#include "manifest/manifest.h"

#define LINE_MAX_LEN 16384

void
manifest_init(Manifest *m)
{
	memset(m, 0, sizeof(*m));
	m->format = MANIFEST_FORMAT_VERSION;
}

void
manifest_free(Manifest *m)
{
	for (int i = 0; i < m->ndirs; i++)
		free(m->dirs[i].path);
	for (int i = 0; i < m->nlinks; i++)
	{
		free(m->links[i].path);
		free(m->links[i].target);
	}
	for (int i = 0; i < m->nfiles; i++)
	{
		free(m->files[i].path);
		free(m->files[i].chunks);
	}
	free(m->dirs);
	free(m->links);
	free(m->files);
	free(m->cluster);
	free(m->pgdata);
	free(m->pgbkp_version);
	manifest_init(m);
}

static int
grow(void **items, int *cap, int count, size_t size, PgbError *err)
{
	void	   *bigger;
	int			newcap;

	if (count < *cap)
		return 0;
	newcap = *cap ? *cap * 2 : 256;
	bigger = realloc(*items, size * (size_t) newcap);
	if (bigger == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	*items = bigger;
	*cap = newcap;
	return 0;
}

int
manifest_add_dir(Manifest *m, const char *path, uint32_t mode, PgbError *err)
{
	if (grow((void **) &m->dirs, &m->dirs_cap, m->ndirs, sizeof(ManifestDir), err) != 0)
		return -1;
	if ((m->dirs[m->ndirs].path = strdup(path)) == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	m->dirs[m->ndirs++].mode = mode;
	return 0;
}

int
manifest_add_link(Manifest *m, const char *path, const char *target, PgbError *err)
{
	ManifestLink *l;

	if (grow((void **) &m->links, &m->links_cap, m->nlinks, sizeof(ManifestLink), err) != 0)
		return -1;
	l = &m->links[m->nlinks];
	l->path = strdup(path);
	l->target = strdup(target);
	if (l->path == NULL || l->target == NULL)
	{
		free(l->path);
		free(l->target);
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	}
	m->nlinks++;
	return 0;
}

ManifestFile *
manifest_add_file(Manifest *m, const char *path, int nchunks, PgbError *err)
{
	ManifestFile *f;

	if (grow((void **) &m->files, &m->files_cap, m->nfiles, sizeof(ManifestFile), err) != 0)
		return NULL;
	f = &m->files[m->nfiles];
	memset(f, 0, sizeof(*f));
	f->path = strdup(path);
	f->chunks = calloc((size_t) (nchunks > 0 ? nchunks : 1), sizeof(ManifestChunk));
	if (f->path == NULL || f->chunks == NULL)
	{
		free(f->path);
		free(f->chunks);
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		return NULL;
	}
	f->nchunks = nchunks;
	m->nfiles++;
	return f;
}

static int
file_cmp(const void *a, const void *b)
{
	return strcmp(((const ManifestFile *) a)->path, ((const ManifestFile *) b)->path);
}

void
manifest_sort_files(Manifest *m)
{
	if (m->nfiles > 1)
		qsort(m->files, (size_t) m->nfiles, sizeof(ManifestFile), file_cmp);
}

int
manifest_find_file(const Manifest *m, const char *path)
{
	int			lo = 0,
				hi = m->nfiles - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int			c = strcmp(m->files[mid].path, path);

		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

void
manifest_file_digest(const ManifestFile *f, uint8_t out[SHA256_LEN])
{
	Sha256	   *h;

	if (f->nchunks == 1)
	{
		memcpy(out, f->chunks[0].sha256, SHA256_LEN);
		return;
	}
	h = sha256_new();
	if (h == NULL)
	{
		memset(out, 0, SHA256_LEN);
		return;
	}
	for (int i = 0; i < f->nchunks; i++)
		sha256_update(h, f->chunks[i].sha256, SHA256_LEN);
	sha256_final(h, out);
	sha256_free(h);
}

/* ------------------------------------------------------------- writing */

typedef struct Out
{
	ByteSink	sink;
	void	   *arg;
	char		buf[LINE_MAX_LEN * 2];
	size_t		len;
} Out;

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

int
manifest_write(const Manifest *m, ByteSink sink, void *arg, PgbError *err)
{
	Out		   *o = malloc(sizeof(Out));
	char		n1[32],
				n2[32],
				n3[32],
				n4[32],
				n5[32],
				n6[32],
				hex[SHA256_HEX_LEN + 1];
	int			rc = -1;

	if (o == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	o->sink = sink;
	o->arg = arg;
	o->len = 0;
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
	for (int i = 0; i < m->nfiles; i++)
	{
		const ManifestFile *mf = &m->files[i];
		const char *f[6] = {mf->path, n1, n2, n3, hex, n4};

		snprintf(n1, sizeof(n1), "%" PRIu64, mf->size);
		snprintf(n2, sizeof(n2), "%o", mf->mode);
		snprintf(n3, sizeof(n3), "%" PRId64, mf->mtime);
		sha256_to_hex(mf->sha256, hex);
		snprintf(n4, sizeof(n4), "%d", mf->nchunks);
		if (out_line(o, "f", 6, f, err) != 0)
			goto done;
		for (int c = 0; c < mf->nchunks; c++)
		{
			const ManifestChunk *ch = &mf->chunks[c];
			char		kind[2] = {ch->kind, 0};
			char		n7[32],
						n8[32],
						n9[32];
			const char *cf[10] = {kind, n1, hex, n4, n5, n6, n7, n8, n9};

			snprintf(n1, sizeof(n1), "%" PRIu64, ch->size);
			sha256_to_hex(ch->sha256, hex);
			snprintf(n4, sizeof(n4), "%" PRIu32, ch->bundle);
			snprintf(n5, sizeof(n5), "%" PRIu64, ch->offset);
			snprintf(n6, sizeof(n6), "%" PRIu64, ch->length);
			snprintf(n7, sizeof(n7), "%" PRIu32, ch->map_bundle);
			snprintf(n8, sizeof(n8), "%" PRIu64, ch->map_offset);
			snprintf(n9, sizeof(n9), "%" PRIu64, ch->map_length);
			if (out_line(o, "c", 9, cf, err) != 0)
				goto done;
		}
	}
	snprintf(n1, sizeof(n1), "%d", m->ndirs);
	snprintf(n2, sizeof(n2), "%d", m->nlinks);
	snprintf(n3, sizeof(n3), "%d", m->nfiles);
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

/* ------------------------------------------------------------- parsing */

/* the longest record (c) has 10 fields; one more slot catches lines with extra ones */
#define MAX_FIELDS 11

static int
hexdigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Unescape in place; false on a malformed escape. */
static bool
unescape(char *s)
{
	char	   *w = s;

	for (char *r = s; *r; r++)
	{
		if (*r == '%')
		{
			int			hi = hexdigit(r[1]);
			int			lo = hi >= 0 ? hexdigit(r[2]) : -1;

			if (lo < 0 || (hi == 0 && lo == 0))
				return false;	/* malformed, or %00: no field holds a NUL */
			*w++ = (char) (hi << 4 | lo);
			r += 2;
		}
		else
			*w++ = *r;
	}
	*w = '\0';
	return true;
}

static bool
parse_u64(const char *s, int base, uint64_t *out)
{
	char	   *end;

	if (*s == '\0' || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	*out = strtoull(s, &end, base);
	return errno == 0 && *end == '\0';
}

static bool
parse_i64(const char *s, int64_t *out)
{
	char	   *end;

	if (*s == '\0' || *s == ' ')
		return false;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno == 0 && *end == '\0';
}

static int
parse_header(Manifest *m, char *key, char *value, PgbError *err)
{
	uint64_t	u;
	int64_t		i;
	bool		ok = true;
	Lsn			lsn;

	if (strcmp(key, "label") == 0 || strcmp(key, "type") == 0 || strcmp(key, "parent") == 0)
	{
		char	   *dst = key[0] == 'l' ? m->label : key[0] == 't' ? m->type : m->parent;
		size_t		cap = key[0] == 'l' ? sizeof(m->label) : key[0] == 't' ? sizeof(m->type) : sizeof(m->parent);

		if (strlen(value) >= cap)
			return -1;
		strcpy(dst, value);
	}
	else if (strcmp(key, "cluster") == 0)
		ok = (m->cluster = strdup(value)) != NULL;
	else if (strcmp(key, "pgdata") == 0)
		ok = (m->pgdata = strdup(value)) != NULL;
	else if (strcmp(key, "pgbkp_version") == 0)
		ok = (m->pgbkp_version = strdup(value)) != NULL;
	else if (strcmp(key, "system_identifier") == 0)
		ok = parse_u64(value, 10, &m->system_identifier);
	else if (strcmp(key, "pg_version") == 0)
		ok = parse_i64(value, &i) && (m->pg_version = (int) i) > 0;
	else if (strcmp(key, "wal_segment_size") == 0)
		ok = parse_u64(value, 10, &m->wal_segment_size);
	else if (strcmp(key, "block_size") == 0)
		ok = parse_u64(value, 10, &u) && (m->block_size = (uint32_t) u) > 0;
	else if (strcmp(key, "compress_level") == 0)
		ok = parse_i64(value, &i) && ((m->compress_level = (int) i), true);
	else if (strcmp(key, "timeline") == 0)
		ok = parse_u64(value, 10, &u) && (m->timeline = (TimeLineID) u) > 0;
	else if (strcmp(key, "start_lsn") == 0 || strcmp(key, "stop_lsn") == 0)
	{
		ok = lsn_parse(value, &lsn, err) == 0;
		if (ok)
			*(key[2] == 'a' ? &m->start_lsn : &m->stop_lsn) = lsn;
	}
	else if (strcmp(key, "start_time") == 0)
		ok = parse_i64(value, &m->start_time);
	else if (strcmp(key, "stop_time") == 0)
		ok = parse_i64(value, &m->stop_time);
	else if (strcmp(key, "size") == 0)
		ok = parse_u64(value, 10, &m->size);
	else if (strcmp(key, "repo_size") == 0)
		ok = parse_u64(value, 10, &m->repo_size);
	else if (strcmp(key, "chunk_size") == 0)
		ok = parse_u64(value, 10, &m->chunk_size);
	else if (strcmp(key, "bundles") == 0)
		ok = parse_u64(value, 10, &u) && ((m->nbundles = (uint32_t) u), true);
	/* unknown header keys are ignored: later versions may add fields */
	return ok ? 0 : -1;
}

/* Where the parser is: format, and which chunks of the last file are still due. */
typedef struct ParseState
{
	int			format;
	int			chunks_due;
	int			next_chunk;
	int			chunk_cap;
} ParseState;

static int
parse_chunk(Manifest *m, ParseState *ps, char **f, int n)
{
	ManifestFile *mf = &m->files[m->nfiles - 1];
	ManifestChunk *ch;
	uint64_t	u[7];

	if (ps->next_chunk == ps->chunk_cap)
	{
		ManifestChunk *bigger = realloc(mf->chunks, sizeof(ManifestChunk) * (size_t) ps->chunk_cap * 2);

		if (bigger == NULL)
			return -1;
		mf->chunks = bigger;
		ps->chunk_cap *= 2;
	}
	ch = &mf->chunks[ps->next_chunk];
	memset(ch, 0, sizeof(*ch));

	if (n != 10 || f[1][1] != '\0' ||
		(f[1][0] != CHUNK_STORED && f[1][0] != CHUNK_REF && f[1][0] != CHUNK_DELTA) ||
		!parse_u64(f[2], 10, &u[0]) || !sha256_from_hex(f[3], ch->sha256) ||
		!parse_u64(f[4], 10, &u[1]) || !parse_u64(f[5], 10, &u[2]) ||
		!parse_u64(f[6], 10, &u[3]) || !parse_u64(f[7], 10, &u[4]) ||
		!parse_u64(f[8], 10, &u[5]) || !parse_u64(f[9], 10, &u[6]) ||
		u[1] > UINT32_MAX || u[4] > UINT32_MAX)
		return -1;
	ch->kind = f[1][0];
	ch->size = u[0];
	ch->bundle = (uint32_t) u[1];
	ch->offset = u[2];
	ch->length = u[3];
	ch->map_bundle = (uint32_t) u[4];
	ch->map_offset = u[5];
	ch->map_length = u[6];
	/* stored content needs a frame; a reference has neither frame nor map */
	if ((ch->kind == CHUNK_REF) != (ch->bundle == 0) ||
		(ch->kind == CHUNK_REF && ch->map_bundle != 0))
		return -1;
	ps->next_chunk++;
	ps->chunks_due--;
	mf->nchunks = ps->next_chunk;
	return 0;
}

static int
parse_record(Manifest *m, ParseState *ps, char **f, int n, PgbError *err)
{
	uint64_t	u[6];

	if (strcmp(f[0], "c") == 0)
		return ps->chunks_due > 0 ? parse_chunk(m, ps, f, n) : -1;
	if (ps->chunks_due > 0)
		return -1;				/* a file's chunk records are missing */
	if (strcmp(f[0], "d") == 0 && n == 3)
	{
		if (!parse_u64(f[2], 8, &u[0]))
			return -1;
		return manifest_add_dir(m, f[1], (uint32_t) u[0], err);
	}
	if (strcmp(f[0], "l") == 0 && n == 3)
		return manifest_add_link(m, f[1], f[2], err);
	if (strcmp(f[0], "f") == 0 && n == (ps->format == 1 ? 9 : 7))
	{
		ManifestFile *mf;
		int64_t		mtime;
		uint8_t		sha[SHA256_LEN];

		if (!parse_u64(f[2], 10, &u[0]) || !parse_u64(f[3], 8, &u[1]) ||
			!parse_i64(f[4], &mtime) || !sha256_from_hex(f[5], sha))
			return -1;
		if (ps->format == 1)
		{
			/* one stored chunk holding the whole file */
			if (!parse_u64(f[6], 10, &u[2]) || !parse_u64(f[7], 10, &u[3]) ||
				!parse_u64(f[8], 10, &u[4]) || u[2] > UINT32_MAX || u[2] == 0)
				return -1;
			if ((mf = manifest_add_file(m, f[1], 1, err)) == NULL)
				return -1;
			mf->chunks[0].kind = CHUNK_STORED;
			mf->chunks[0].size = u[0];
			memcpy(mf->chunks[0].sha256, sha, SHA256_LEN);
			mf->chunks[0].bundle = (uint32_t) u[2];
			mf->chunks[0].offset = u[3];
			mf->chunks[0].length = u[4];
		}
		else
		{
			if (!parse_u64(f[6], 10, &u[2]) || u[2] == 0 || u[2] > (1u << 24))
				return -1;
			/* room grows as chunk records arrive: a corrupt count allocates nothing */
			if ((mf = manifest_add_file(m, f[1], 1, err)) == NULL)
				return -1;
			mf->nchunks = 0;
			ps->chunks_due = (int) u[2];
			ps->next_chunk = 0;
			ps->chunk_cap = 1;
		}
		mf->size = u[0];
		mf->mode = (uint32_t) u[1];
		mf->mtime = mtime;
		memcpy(mf->sha256, sha, SHA256_LEN);
		return 0;
	}
	return -1;
}

int
manifest_parse(const char *text, size_t len, Manifest *m, PgbError *err)
{
	char	   *copy = malloc(len + 1);
	char	   *line;
	char	   *next;
	int			lineno = 0;
	bool		ended = false;
	ParseState	ps = {0};

	manifest_init(m);
	if (copy == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	if (memchr(text, '\0', len) != NULL)
	{
		free(copy);
		return pgb_error(err, EXIT_CORRUPT, "manifest contains a NUL byte");
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	for (line = copy; *line; line = next)
	{
		char	   *f[MAX_FIELDS];
		int			n = 0;
		char	   *nl = strchr(line, '\n');

		lineno++;
		if (nl == NULL)
			goto bad;			/* every line ends with a newline */
		*nl = '\0';
		next = nl + 1;
		if (ended)
			goto bad;
		for (char *p = line;;)
		{
			char	   *tab = strchr(p, '\t');

			if (n == MAX_FIELDS)
				goto bad;		/* more fields than any record has */
			f[n++] = p;
			if (tab == NULL)
				break;
			*tab = '\0';
			p = tab + 1;
		}
		for (int i = 0; i < n; i++)
			if (!unescape(f[i]))
				goto bad;
		if (lineno == 1)
		{
			if (n != 2 || strcmp(f[0], "pgbkp-manifest") != 0)
				goto bad;
			if (strcmp(f[1], "1") == 0 || strcmp(f[1], "2") == 0)
				ps.format = f[1][0] - '0';
			else
			{
				pgb_error(err, EXIT_CORRUPT, "manifest format %.16s is not supported (this pgbkp reads formats 1 to %d)",
						  f[1], MANIFEST_FORMAT_VERSION);
				free(copy);
				manifest_free(m);
				return -1;
			}
			continue;
		}
		if (strcmp(f[0], "h") == 0)
		{
			if (ps.chunks_due > 0)
				goto bad;		/* a file's chunk records must follow it */
			if (n != 3 || parse_header(m, f[1], f[2], err) != 0)
				goto bad;
		}
		else if (strcmp(f[0], "end") == 0)
		{
			if (ps.chunks_due > 0)
				goto bad;
			uint64_t	nd,
						nk,
						nf;

			if (n != 4 || !parse_u64(f[1], 10, &nd) || !parse_u64(f[2], 10, &nk) ||
				!parse_u64(f[3], 10, &nf) || nd != (uint64_t) m->ndirs ||
				nk != (uint64_t) m->nlinks || nf != (uint64_t) m->nfiles)
				goto bad;
			ended = true;
		}
		else if (parse_record(m, &ps, f, n, err) != 0)
		{
			if (err->code == EXIT_INTERNAL)
			{
				free(copy);
				manifest_free(m);
				return -1;
			}
			goto bad;
		}
	}
	free(copy);
	if (!ended || m->label[0] == '\0' || m->wal_segment_size == 0)
	{
		manifest_free(m);
		return pgb_error(err, EXIT_CORRUPT, "manifest is incomplete (no end record or missing header fields)");
	}
	return 0;

bad:
	free(copy);
	manifest_free(m);
	return pgb_error(err, EXIT_CORRUPT, "manifest line %d is malformed", lineno);
}

int
manifest_check_paths(const Manifest *m, PgbError *err)
{
	for (int i = 0; i < m->ndirs; i++)
		if (path_check_relative(m->dirs[i].path, err) != 0)
			return pgb_error_context(err, "manifest of backup %s", m->label);
	for (int i = 0; i < m->nfiles; i++)
	{
		if (path_check_relative(m->files[i].path, err) != 0)
			return pgb_error_context(err, "manifest of backup %s", m->label);
		for (int c = 0; c < m->files[i].nchunks && m->parent[0] == '\0'; c++)
			if (m->files[i].chunks[c].kind == CHUNK_REF || m->files[i].chunks[c].kind == CHUNK_DELTA)
				return pgb_error(err, EXIT_CORRUPT, "manifest of backup %s: \"%s\" refers to a parent backup, but the backup has none",
								 m->label, m->files[i].path);
	}
	for (int i = 0; i < m->nlinks; i++)
	{
		const char *p = m->links[i].path;

		if (strncmp(p, "pg_tblspc/", 10) != 0 || p[10] == '\0' ||
			strspn(p + 10, "0123456789") != strlen(p + 10))
			return pgb_error(err, EXIT_CORRUPT, "manifest of backup %s: unexpected link \"%s\" (only pg_tblspc/<oid> links are allowed)",
							 m->label, p);
		if (path_check_absolute(m->links[i].target, err) != 0)
			return pgb_error_context(err, "manifest of backup %s, link \"%s\"", m->label, p);
	}
	return 0;
}

SegNo
manifest_start_segno(const Manifest *m)
{
	return lsn_to_segno(m->start_lsn, m->wal_segment_size);
}

SegNo
manifest_stop_segno(const Manifest *m)
{
	/* stop_lsn may sit exactly on a segment boundary: the WAL before it is what counts */
	Lsn			last = m->stop_lsn > m->start_lsn ? m->stop_lsn - 1 : m->start_lsn;

	return lsn_to_segno(last, m->wal_segment_size);
}

void
manifest_wal_range(const Manifest *m, char *start_name, char *stop_name)
{
	wal_segment_name(start_name, m->timeline, manifest_start_segno(m), m->wal_segment_size);
	wal_segment_name(stop_name, m->timeline, manifest_stop_segno(m), m->wal_segment_size);
}
