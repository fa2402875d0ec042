/*
 * Parsing a manifest (see manifest.h, and manifest_write.c for the record
 * layout).  The text is split into lines and TAB-separated fields, each
 * unescaped; records are checked field by field and the closing "end"
 * record must count exactly the directories, links and files read, so
 * truncation is caught.  Any malformed line is EXIT_CORRUPT naming it.
 *
 * Format 1 (still read) had no c records:
 *   f<TAB>path<TAB>size<TAB>mode<TAB>mtime<TAB>sha256<TAB>bundle<TAB>offset<TAB>length
 * which is one STORED chunk.  Unknown header keys are ignored: later
 * versions may add fields.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/membuf.h"
#include "manifest/manifest.h"

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

/* Keep a copy of value in *dst (a header key seen twice: the last one, as for the others). */
static bool
set_text(char **dst, const char *value)
{
	free(*dst);
	return (*dst = strdup(value)) != NULL;
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
		ok = set_text(&m->cluster, value);
	else if (strcmp(key, "pgdata") == 0)
		ok = set_text(&m->pgdata, value);
	else if (strcmp(key, "pgbkp_version") == 0)
		ok = set_text(&m->pgbkp_version, value);
	else if (strcmp(key, "system_identifier") == 0)
		ok = parse_u64(value, 10, &m->system_identifier);
	else if (strcmp(key, "pg_version") == 0)
		ok = parse_i64(value, &i) && (m->pg_version = (int) i) > 0;
	else if (strcmp(key, "wal_segment_size") == 0)
		ok = parse_u64(value, 10, &m->wal_segment_size) && wal_segment_size_valid(m->wal_segment_size);
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
	else if (strcmp(key, "pages_checked") == 0)
		ok = parse_u64(value, 10, &m->pages_checked);
	else if (strcmp(key, "bad_pages") == 0)
		ok = parse_u64(value, 10, &m->bad_pages);
	else if (strcmp(key, "bad_pages_at") == 0)
		ok = set_text(&m->bad_pages_at, value);
	else if (strcmp(key, "source_member") == 0)
		ok = set_text(&m->source_member, value);
	else if (strcmp(key, "source_role") == 0)
		ok = set_text(&m->source_role, value);
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
	uint8_t		file_sha256[SHA256_LEN];	/* recorded for the file whose chunks are due */
	bool		headers_only;	/* each file is dropped when the next one starts */
	uint64_t	nfiles;			/* files read (m->nfiles counts those kept) */
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
	if (ps->chunks_due == 0)
	{
		uint8_t		digest[SHA256_LEN];

		manifest_file_digest(mf, digest);
		mf->digest_mismatch = memcmp(digest, ps->file_sha256, SHA256_LEN) != 0;
	}
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
		ps->nfiles++;
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
		memcpy(ps->file_sha256, sha, SHA256_LEN);
		return 0;
	}
	return -1;
}

/* What one parse has seen so far. */
struct ManifestParser
{
	Manifest   *m;
	ParseState	ps;
	int			lineno;
	bool		ended;			/* the end record was read */
	bool		failed;			/* err holds why; the rest of the input is dropped */
	PgbError	err;
	uint64_t	total;			/* bytes fed */
	uint64_t	max;
	MemBuf		line;			/* the line being gathered */
	ManifestFileFn each;		/* with ps.headers_only: handed each file */
	void	   *each_arg;
};

/*
 * Header fields alone: the file read last is complete (the next record
 * starts), hand it over and forget it, so that only one is ever held.
 */
static int
hand_over(ManifestParser *p, PgbError *err)
{
	Manifest   *m = p->m;

	if (!p->ps.headers_only || m->nfiles == 0 || p->ps.chunks_due > 0)
		return 0;
	if (p->each && p->each(p->each_arg, m, &m->files[m->nfiles - 1], err) != 0)
		return -1;
	manifest_forget_files(m);
	return 0;
}

/* One complete line (without its newline, NUL-terminated); -1 with err set. */
static int
parse_line(ManifestParser *p, char *line, PgbError *err)
{
	Manifest   *m = p->m;
	char	   *f[MAX_FIELDS];
	int			n = 0;

	p->lineno++;
	if (p->ended)
		goto bad;
	for (char *c = line;;)
	{
		char	   *tab = strchr(c, '\t');

		if (n == MAX_FIELDS)
			goto bad;			/* more fields than any record has */
		f[n++] = c;
		if (tab == NULL)
			break;
		*tab = '\0';
		c = tab + 1;
	}
	for (int i = 0; i < n; i++)
		if (!unescape(f[i]))
			goto bad;
	if (p->lineno == 1)
	{
		if (n != 2 || strcmp(f[0], "pgbkp-manifest") != 0)
			goto bad;
		if (strcmp(f[1], "1") == 0 || strcmp(f[1], "2") == 0)
			p->ps.format = f[1][0] - '0';
		else
			return pgb_error(err, EXIT_CORRUPT, "manifest format %.16s is not supported (this pgbkp reads formats 1 to %d)",
							 f[1], MANIFEST_FORMAT_VERSION);
		return 0;
	}
	if (strcmp(f[0], "h") == 0)
	{
		if (p->ps.chunks_due > 0)
			goto bad;			/* a file's chunk records must follow it */
		if (n != 3 || parse_header(m, f[1], f[2], err) != 0)
			goto bad;
	}
	else if (strcmp(f[0], "end") == 0)
	{
		uint64_t	nd,
					nk,
					nf;

		if (p->ps.chunks_due > 0)
			goto bad;
		if (n != 4 || !parse_u64(f[1], 10, &nd) || !parse_u64(f[2], 10, &nk) ||
			!parse_u64(f[3], 10, &nf) || nd != (uint64_t) m->ndirs ||
			nk != (uint64_t) m->nlinks || nf != p->ps.nfiles)
			goto bad;
		if (hand_over(p, err) != 0)
			return -1;
		p->ended = true;
	}
	else if (strcmp(f[0], "f") == 0 && hand_over(p, err) != 0)
		return -1;
	else if (parse_record(m, &p->ps, f, n, err) != 0)
	{
		if (err->code == EXIT_INTERNAL)
			return -1;
		goto bad;
	}
	return 0;

bad:
	return pgb_error(err, EXIT_CORRUPT, "manifest line %d is malformed", p->lineno);
}

ManifestParser *
manifest_parser_new(Manifest *m, uint64_t max, PgbError *err)
{
	ManifestParser *p = calloc(1, sizeof(ManifestParser));

	if (p == NULL)
	{
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		return NULL;
	}
	manifest_init(m);
	p->m = m;
	p->max = max;
	return p;
}

/* Record the first failure; later input is dropped. */
static void
parser_fail(ManifestParser *p, const PgbError *err)
{
	p->failed = true;
	p->err = *err;
}

int
manifest_parser_feed(void *arg, const void *buf, size_t len, PgbError *unused)
{
	ManifestParser *p = arg;
	const char *in = buf;
	PgbError	err = {0};

	(void) unused;
	if (p->failed)
		return 0;
	p->total += len;
	if (p->total > p->max)
	{
		pgb_error(&err, EXIT_CORRUPT, "manifest is larger than %llu bytes", (unsigned long long) p->max);
		parser_fail(p, &err);
		return 0;
	}
	if (memchr(in, '\0', len) != NULL)
	{
		pgb_error(&err, EXIT_CORRUPT, "manifest contains a NUL byte");
		parser_fail(p, &err);
		return 0;
	}
	while (len > 0)
	{
		const char *nl = memchr(in, '\n', len);
		size_t		n = nl ? (size_t) (nl - in) : len;

		if (membuf_append(&p->line, in, n, &err) != 0)
		{
			parser_fail(p, &err);
			return 0;
		}
		if (nl == NULL)
			break;
		if (membuf_append(&p->line, "", 1, &err) != 0)	/* its NUL */
		{
			parser_fail(p, &err);
			return 0;
		}
		p->line.len = 0;
		if (parse_line(p, p->line.buf, &err) != 0)
		{
			parser_fail(p, &err);
			return 0;
		}
		in = nl + 1;
		len -= n + 1;
	}
	return 0;
}

int
manifest_parser_end(ManifestParser *p, PgbError *err)
{
	int			rc = 0;

	if (!p->failed && p->line.len > 0)
	{
		/* every line ends with a newline */
		pgb_error(&p->err, EXIT_CORRUPT, "manifest line %d is malformed", p->lineno + 1);
		p->failed = true;
	}
	if (p->failed)
	{
		*err = p->err;
		rc = -1;
	}
	else if (!p->ended || p->m->label[0] == '\0' || p->m->wal_segment_size == 0)
		rc = pgb_error(err, EXIT_CORRUPT, "manifest is incomplete (no end record or missing header fields)");
	if (rc != 0)
		manifest_free(p->m);
	else if (p->ps.headers_only)
		manifest_drop_contents(p->m);
	return rc;
}

void
manifest_parser_headers_only(ManifestParser *p)
{
	p->ps.headers_only = true;
}

void
manifest_parser_each_file(ManifestParser *p, ManifestFileFn fn, void *arg)
{
	p->ps.headers_only = true;
	p->each = fn;
	p->each_arg = arg;
}

void
manifest_parser_free(ManifestParser *p)
{
	if (p == NULL)
		return;
	membuf_free(&p->line);
	free(p);
}

int
manifest_parse(const char *text, size_t len, Manifest *m, PgbError *err)
{
	ManifestParser *p = manifest_parser_new(m, UINT64_MAX, err);
	int			rc;

	if (p == NULL)
		return -1;
	manifest_parser_feed(p, text, len, err);
	rc = manifest_parser_end(p, err);
	manifest_parser_free(p);
	return rc;
}
