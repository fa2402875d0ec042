/* A backup's file records, written aside (see filespill.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup/filespill.h"
#include "common/fileio.h"
#include "io/fdio.h"
#include "io/zstdio.h"

/* records compress some tenfold at the fastest level */
#define SPILL_LEVEL 1
#define SPILL_READ_BUF (256 * 1024)

struct FileSpill
{
	int			fd;
	char		where[PGB_PATH_MAX];	/* the directory, for errors */
	Stage	   *zstd;			/* -> fd */
	ManifestOut *out;			/* -> zstd */
	const char *const *keep;
	int			nkeep;
	int			segment;		/* the one being written: after keep[segment - 1], before keep[segment] */
	uint64_t   *seg_end;		/* nkeep + 1 ends, as file offsets */
	int			nfiles;
	bool		ended;
	char		last[PGB_PATH_MAX]; /* the previous path, for the order check */
};

FileSpill *
filespill_new(const char *const *keep, int nkeep, PgbError *err)
{
	FileSpill  *s = calloc(1, sizeof(FileSpill));
	Stage	   *fd_stage = NULL;

	if (s == NULL || (s->seg_end = calloc((size_t) nkeep + 1, sizeof(uint64_t))) == NULL)
	{
		free(s);
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		return NULL;
	}
	s->fd = -1;
	s->keep = keep;
	s->nkeep = nkeep;
	if ((s->fd = fio_scratch_file(s->where, sizeof(s->where), "the backup's file list", err)) < 0 ||
		(fd_stage = fd_stage_new(s->fd, s->where, 0, err)) == NULL ||
		(s->zstd = zstd_compress_stage_new(SPILL_LEVEL, fd_stage, err)) == NULL ||
		(s->out = manifest_out_new(stage_sink, s->zstd, err)) == NULL)
	{
		if (s->zstd == NULL)
			stage_free(fd_stage);
		filespill_free(s);
		return NULL;
	}
	return s;
}

/* End the current segment (a whole zstd frame) and note where it ends. */
static int
close_segment(FileSpill *s, PgbError *err)
{
	if (manifest_out_flush(s->out, err) != 0 || stage_finish(s->zstd, err) != 0)
		return pgb_error_context(err, "could not write the backup's file list into \"%s\"", s->where);
	s->seg_end[s->segment++] = zstd_compress_stage_out(s->zstd);
	return 0;
}

int
filespill_add(FileSpill *s, const ManifestFile *f, PgbError *err)
{
	if (s->ended || (s->nfiles > 0 && strcmp(f->path, s->last) <= 0))
		return pgb_error(err, EXIT_INTERNAL, "file \"%s\" written aside out of path order", f->path);
	while (s->segment < s->nkeep && strcmp(f->path, s->keep[s->segment]) >= 0)
	{
		if (strcmp(f->path, s->keep[s->segment]) == 0)
			return pgb_error(err, EXIT_INTERNAL, "file \"%s\" is kept in the manifest, not written aside", f->path);
		if (close_segment(s, err) != 0)
			return -1;
	}
	snprintf(s->last, sizeof(s->last), "%s", f->path);
	s->nfiles++;
	if (manifest_out_file(s->out, f, err) != 0)
		return pgb_error_context(err, "could not write the backup's file list into \"%s\"", s->where);
	return 0;
}

int
filespill_end(FileSpill *s, PgbError *err)
{
	while (s->segment <= s->nkeep)
		if (close_segment(s, err) != 0)
			return -1;
	s->ended = true;
	return 0;
}

int
filespill_count(const FileSpill *s)
{
	return s->nfiles;
}

int
filespill_write(void *arg, const Manifest *m, ManifestOut *o, int *nfiles, PgbError *err)
{
	FileSpill  *s = arg;
	Stage	   *text = NULL,
			   *unzstd = NULL;
	uint8_t    *buf;
	uint64_t	start = 0,
				got;
	int			k = 0;
	int			rc = -1;

	if (!s->ended)
		return pgb_error(err, EXIT_INTERNAL, "the backup's file list is not complete");
	if ((buf = malloc(SPILL_READ_BUF)) == NULL || (text = callback_stage_new(manifest_out_text, o, err)) == NULL ||
		(unzstd = zstd_decompress_stage_new(text, err)) == NULL)
	{
		if (buf == NULL)
			pgb_error(err, EXIT_INTERNAL, "out of memory");
		goto done;
	}
	for (int seg = 0; seg <= s->nkeep; seg++)
	{
		if (s->seg_end[seg] > start)
		{
			zstd_decompress_stage_reset(unzstd);
			if (fd_pump(s->fd, s->where, start, s->seg_end[seg] - start, buf, SPILL_READ_BUF,
						unzstd, &got, err) != 0 ||
				stage_finish(unzstd, err) != 0)
			{
				pgb_error_context(err, "could not read the backup's file list back from \"%s\"", s->where);
				goto done;
			}
			if (got != s->seg_end[seg] - start)
			{
				pgb_error(err, EXIT_IO, "the backup's file list in \"%s\" is shorter than written", s->where);
				goto done;
			}
		}
		start = s->seg_end[seg];
		for (; seg < s->nkeep && k < m->nfiles && strcmp(m->files[k].path, s->keep[seg]) == 0; k++)
			if (manifest_out_file(o, &m->files[k], err) != 0)
				goto done;
	}
	if (k < m->nfiles)
	{
		pgb_error(err, EXIT_INTERNAL, "file \"%s\" is neither written aside nor in its place among the kept ones",
				  m->files[k].path);
		goto done;
	}
	*nfiles = s->nfiles + m->nfiles;
	rc = 0;
done:
	stage_free(unzstd);
	stage_free(text);
	free(buf);
	return rc;
}

void
filespill_free(FileSpill *s)
{
	if (s == NULL)
		return;
	manifest_out_free(s->out);
	stage_free_chain(s->zstd, NULL);
	if (s->fd >= 0)
		close(s->fd);
	free(s->seg_end);
	free(s);
}
