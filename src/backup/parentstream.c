/*
 * An incremental backup's parent chain, resolved and streamed in path order
 * (see parentstream.h).
 *
 * Each level's temporary file holds, per file of that backup, in path
 * order: a header (path length, chunk count), the path, then one
 * ParentChunk per chunk; all of it one zstd stream.  A file of the backup
 * whose chunk is a reference takes the map position of the same chunk one
 * level older (absent there: no map), so the newest level answers without
 * looking further back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "backup/chain.h"
#include "backup/parentstream.h"
#include "common/fileio.h"
#include "io/fdio.h"
#include "io/zstdio.h"

#define PULL_BUF (128 * 1024)

typedef struct RecordHeader
{
	uint32_t	path_len;
	uint32_t	nchunks;
} RecordHeader;

/* One record, read back. */
typedef struct Record
{
	char		path[PGB_PATH_MAX];
	int			nchunks;
	ParentChunk *chunks;
	int			cap;
} Record;

/* A level's temporary file, read back from the start through zstd. */
typedef struct Pull
{
	int			fd;
	char		dir[PGB_PATH_MAX];
	uint64_t	at;				/* file offset of the next read */
	ZSTD_DCtx  *dctx;
	uint8_t    *in;
	size_t		in_len,
				in_pos;
	uint8_t    *out;
	size_t		out_len,
				out_pos;
	bool		eof;			/* the file is read to its end */
	bool		frame_done;		/* zstd ended a frame and has nothing pending */
	Record		cur;
	bool		have;			/* cur holds a record */
	bool		done;			/* no more records */
} Pull;

struct ParentStream
{
	Pull	   *pull;
	const char *keep;
	Record		kept;
	bool		kept_valid;
	ParentFile	answer;
};

static void
pull_free(Pull *r)
{
	if (r == NULL)
		return;
	if (r->fd >= 0)
		close(r->fd);
	ZSTD_freeDCtx(r->dctx);
	free(r->in);
	free(r->out);
	free(r->cur.chunks);
	free(r);
}

static Pull *
pull_new(int fd, const char *dir, PgbError *err)
{
	Pull	   *r = calloc(1, sizeof(Pull));

	if (r == NULL || (r->in = malloc(PULL_BUF)) == NULL || (r->out = malloc(PULL_BUF)) == NULL ||
		(r->dctx = ZSTD_createDCtx()) == NULL)
	{
		if (r)
			r->fd = -1;
		pull_free(r);
		close(fd);
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		return NULL;
	}
	r->fd = fd;
	r->frame_done = true;
	snprintf(r->dir, sizeof(r->dir), "%s", dir);
	return r;
}

/*
 * Exactly n bytes of the stream into buf; *end (with n bytes wanted and
 * none there) at a clean end of the stream.  A stream that ends inside
 * them is EXIT_IO: the file was written whole by this process.
 */
static int
pull_read(Pull *r, void *buf, size_t n, bool *end, PgbError *err)
{
	uint8_t    *to = buf;
	size_t		got = 0;

	*end = false;
	while (got < n)
	{
		ZSTD_inBuffer in;
		ZSTD_outBuffer out;
		size_t		ret;

		if (r->out_pos < r->out_len)
		{
			size_t		k = r->out_len - r->out_pos < n - got ? r->out_len - r->out_pos : n - got;

			memcpy(to + got, r->out + r->out_pos, k);
			r->out_pos += k;
			got += k;
			continue;
		}
		if (r->in_pos == r->in_len && !r->eof)
		{
			ssize_t		k = pread(r->fd, r->in, PULL_BUF, (off_t) r->at);

			if (k < 0)
				return pgb_error_errno(err, EXIT_IO, errno, "could not read a temporary file in \"%s\"", r->dir);
			r->at += (uint64_t) k;
			r->in_len = (size_t) k;
			r->in_pos = 0;
			r->eof = k == 0;
		}
		if (r->in_pos == r->in_len && r->eof && r->frame_done)
		{
			if (got == 0)
			{
				*end = true;
				return 0;
			}
			return pgb_error(err, EXIT_IO, "a temporary file in \"%s\" ends inside a record", r->dir);
		}
		in = (ZSTD_inBuffer) {r->in, r->in_len, r->in_pos};
		out = (ZSTD_outBuffer) {r->out, PULL_BUF, 0};
		ret = ZSTD_decompressStream(r->dctx, &out, &in);
		if (ZSTD_isError(ret))
			return pgb_error(err, EXIT_IO, "a temporary file in \"%s\" is damaged: %s", r->dir, ZSTD_getErrorName(ret));
		if (out.pos == 0 && in.pos == r->in_pos && r->eof)
			return pgb_error(err, EXIT_IO, "a temporary file in \"%s\" ends inside a frame", r->dir);
		r->in_pos = in.pos;
		r->out_len = out.pos;
		r->out_pos = 0;
		r->frame_done = ret == 0;
	}
	return 0;
}

/* The next record into r->cur; r->done at the end. */
static int
pull_next(Pull *r, PgbError *err)
{
	RecordHeader h;
	bool		end;

	r->have = false;
	if (r->done)
		return 0;
	if (pull_read(r, &h, sizeof(h), &end, err) != 0)
		return -1;
	if (end)
	{
		r->done = true;
		return 0;
	}
	if (h.path_len == 0 || h.path_len >= sizeof(r->cur.path) || h.nchunks > (1u << 24))
		return pgb_error(err, EXIT_IO, "a temporary file in \"%s\" is damaged (a record's header)", r->dir);
	if ((int) h.nchunks > r->cur.cap)
	{
		ParentChunk *bigger = realloc(r->cur.chunks, sizeof(ParentChunk) * h.nchunks);

		if (bigger == NULL)
			return pgb_error(err, EXIT_INTERNAL, "out of memory");
		r->cur.chunks = bigger;
		r->cur.cap = (int) h.nchunks;
	}
	if (pull_read(r, r->cur.path, h.path_len, &end, err) != 0 ||
		(!end && pull_read(r, r->cur.chunks, sizeof(ParentChunk) * h.nchunks, &end, err) != 0))
		return -1;
	if (end)
		return pgb_error(err, EXIT_IO, "a temporary file in \"%s\" ends inside a record", r->dir);
	r->cur.path[h.path_len] = '\0';
	r->cur.nchunks = (int) h.nchunks;
	r->have = true;
	return 0;
}

/* Move r to the first record at or after path; true (in r->cur) if it is path's. */
static int
pull_seek(Pull *r, const char *path, bool *found, PgbError *err)
{
	*found = false;
	if (!r->have && !r->done && pull_next(r, err) != 0)
		return -1;
	while (r->have && strcmp(r->cur.path, path) < 0)
		if (pull_next(r, err) != 0)
			return -1;
	*found = r->have && strcmp(r->cur.path, path) == 0;
	return 0;
}

/* Resolving one level: its manifest's files, merged with the level before. */
typedef struct Level
{
	int			holder;			/* this backup's index in the catalog */
	Pull	   *older;			/* the level before, or NULL */
	Stage	   *zstd;			/* -> the new level's file */
	ParentChunk *chunks;
	int			cap;
	char		last[PGB_PATH_MAX];
	bool		any;
} Level;

static int
resolve_file(void *arg, const Manifest *m, const ManifestFile *f, PgbError *err)
{
	Level	   *lv = arg;
	const Record *older = NULL;
	RecordHeader h;
	size_t		len = strlen(f->path);
	bool		found = false;

	/* a backup cut into other chunks than ours is no base; files out of order are skipped */
	if (m->chunk_size != MANIFEST_CHUNK_SIZE || f->nchunks <= 0 || len >= PGB_PATH_MAX ||
		(lv->any && strcmp(f->path, lv->last) <= 0))
		return 0;
	memcpy(lv->last, f->path, len + 1);
	lv->any = true;
	if (lv->older && pull_seek(lv->older, f->path, &found, err) != 0)
		return -1;
	if (found)
		older = &lv->older->cur;
	if (f->nchunks > lv->cap)
	{
		ParentChunk *bigger = realloc(lv->chunks, sizeof(ParentChunk) * (size_t) f->nchunks);

		if (bigger == NULL)
			return pgb_error(err, EXIT_INTERNAL, "out of memory");
		lv->chunks = bigger;
		lv->cap = f->nchunks;
	}
	memset(lv->chunks, 0, sizeof(ParentChunk) * (size_t) f->nchunks);
	for (int c = 0; c < f->nchunks; c++)
	{
		const ManifestChunk *ch = &f->chunks[c];
		ParentChunk *pc = &lv->chunks[c];

		memcpy(pc->sha256, ch->sha256, SHA256_LEN);
		pc->size = ch->size;
		pc->holder = -1;
		if (ch->kind != CHUNK_REF && ch->map_bundle != 0)
		{
			pc->holder = lv->holder;
			pc->map_bundle = ch->map_bundle;
			pc->map_offset = ch->map_offset;
			pc->map_length = ch->map_length;
		}
		else if (ch->kind == CHUNK_REF && older != NULL && c < older->nchunks)
		{
			pc->holder = older->chunks[c].holder;
			pc->map_bundle = older->chunks[c].map_bundle;
			pc->map_offset = older->chunks[c].map_offset;
			pc->map_length = older->chunks[c].map_length;
		}
	}
	h.path_len = (uint32_t) len;
	h.nchunks = (uint32_t) f->nchunks;
	if (stage_write(lv->zstd, &h, sizeof(h), err) != 0 ||
		stage_write(lv->zstd, f->path, len, err) != 0 ||
		stage_write(lv->zstd, lv->chunks, sizeof(ParentChunk) * (size_t) f->nchunks, err) != 0)
		return -1;
	return 0;
}

/* Resolve backup b (catalog index holder) on top of older into a new level. */
static Pull *
resolve_level(Repo *repo, const Manifest *b, int holder, Pull *older, PgbError *err)
{
	Level		lv = {.holder = holder, .older = older};
	char		dir[PGB_PATH_MAX];
	int			fd = fio_scratch_file(dir, sizeof(dir), "the parent backup's file list", err);
	Stage	   *to = NULL;
	int			rc = -1;

	if (fd < 0)
		return NULL;
	if ((to = fd_stage_new(fd, dir, 0, err)) != NULL &&
		(lv.zstd = zstd_compress_stage_new(1, to, err)) != NULL &&
		catalog_each_file(repo, b->label, resolve_file, &lv, err) == 0 &&
		stage_finish(lv.zstd, err) == 0)
		rc = 0;
	if (lv.zstd)
		stage_free_chain(lv.zstd, NULL);
	else
		stage_free(to);
	free(lv.chunks);
	if (rc != 0)
	{
		close(fd);
		return NULL;
	}
	return pull_new(fd, dir, err);
}

ParentStream *
parent_stream_open(Repo *repo, const Catalog *cat, const Manifest *parent, const char *keep, PgbError *err)
{
	/* (a chain is no longer than the catalog, chain_check having refused a cycle) */
	const Manifest **chain = calloc((size_t) cat->count + 1, sizeof(*chain));
	int			n = 0;
	Pull	   *level = NULL;
	ParentStream *ps;

	if (chain == NULL)
	{
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		return NULL;
	}
	for (const Manifest *b = parent; b != NULL && n <= cat->count; b = chain_parent(cat, b))
		chain[n++] = b;
	while (n-- > 0)
	{
		Pull	   *next = resolve_level(repo, chain[n], (int) (chain[n] - cat->backups), level, err);

		pull_free(level);
		if ((level = next) == NULL)
		{
			free(chain);
			return NULL;
		}
	}
	free(chain);
	if ((ps = calloc(1, sizeof(ParentStream))) == NULL)
	{
		pull_free(level);
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		return NULL;
	}
	ps->pull = level;
	ps->keep = keep;
	return ps;
}

static int
keep_copy(ParentStream *ps)
{
	const Record *cur = &ps->pull->cur;

	if (cur->nchunks > ps->kept.cap)
	{
		ParentChunk *bigger = realloc(ps->kept.chunks, sizeof(ParentChunk) * (size_t) cur->nchunks);

		if (bigger == NULL)
			return -1;
		ps->kept.chunks = bigger;
		ps->kept.cap = cur->nchunks;
	}
	memcpy(ps->kept.path, cur->path, sizeof(cur->path));
	memcpy(ps->kept.chunks, cur->chunks, sizeof(ParentChunk) * (size_t) cur->nchunks);
	ps->kept.nchunks = cur->nchunks;
	ps->kept_valid = true;
	return 0;
}

int
parent_stream_find(ParentStream *ps, const char *path, const ParentFile **out, PgbError *err)
{
	Pull	   *r = ps->pull;
	bool		found = false;

	*out = NULL;
	if (!r->have && !r->done && pull_next(r, err) != 0)
		return -1;
	/* the record of keep is copied as the stream passes it */
	while (r->have && strcmp(r->cur.path, path) < 0)
	{
		if (ps->keep && strcmp(r->cur.path, ps->keep) == 0 && keep_copy(ps) != 0)
			return pgb_error(err, EXIT_INTERNAL, "out of memory");
		if (pull_next(r, err) != 0)
			return -1;
	}
	found = r->have && strcmp(r->cur.path, path) == 0;
	if (found)
		ps->answer = (ParentFile) {r->cur.path, r->cur.nchunks, r->cur.chunks};
	else if (ps->keep && strcmp(path, ps->keep) == 0 && ps->kept_valid)
		ps->answer = (ParentFile) {ps->kept.path, ps->kept.nchunks, ps->kept.chunks};
	else
		return 0;
	*out = &ps->answer;
	return 0;
}

void
parent_stream_free(ParentStream *ps)
{
	if (ps == NULL)
		return;
	pull_free(ps->pull);
	free(ps->kept.chunks);
	free(ps);
}
