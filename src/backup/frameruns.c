/* Runs of frames (see frameruns.h). */
#include <stdlib.h>
#include <string.h>

#include "backup/chain.h"
#include "backup/frameruns.h"

int
frameref_resolve(const Catalog *cat, FrameRef *ref, PgbError *err)
{
	const ManifestFile *f = &ref->m->files[ref->file];
	const Manifest *sm;
	const ManifestFile *sf;

	ref->sm = NULL;
	ref->sch = NULL;
	if (chain_origin(cat, ref->m, f, ref->chunk, &sm, &sf, err) != 0)
		return pgb_error_context(err, "file \"%s\" of backup %s", f->path, ref->m->label);
	if (sf->chunks[ref->chunk].kind == CHUNK_STORED)
	{
		ref->sm = sm;
		ref->sch = &sf->chunks[ref->chunk];
	}
	return 0;
}

static int
ref_cmp(const void *a, const void *b)
{
	const FrameRef *x = a,
			   *y = b;
	int			d;

	if ((x->sch == NULL) != (y->sch == NULL))
		return x->sch == NULL ? 1 : -1;
	if (x->sch != NULL)
	{
		if ((d = strcmp(x->sm->label, y->sm->label)) != 0)
			return d;
		if (x->sch->bundle != y->sch->bundle)
			return x->sch->bundle < y->sch->bundle ? -1 : 1;
		if (x->sch->offset != y->sch->offset)
			return x->sch->offset < y->sch->offset ? -1 : 1;
	}
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Does ref continue the run that starts at first and ends with prev? */
static bool
extends_run(const FrameRef *first, const FrameRef *prev, const FrameRef *ref)
{
	uint64_t	end = prev->sch->offset + prev->sch->length;

	return ref->sch != NULL && ref->sm == first->sm && ref->sch->bundle == first->sch->bundle &&
		ref->sch->offset >= end && ref->sch->offset - end <= FRAMERUN_GAP &&
		ref->sch->offset + ref->sch->length - first->sch->offset <= FRAMERUN_BYTES;
}

size_t
frameruns_plan(FrameRef *refs, size_t n, FrameRun *runs)
{
	size_t		t = 0;

	qsort(refs, n, sizeof(FrameRef), ref_cmp);
	for (size_t j = 0; j < n; t++)
	{
		size_t		first = j++;

		while (j < n && refs[first].sch != NULL && extends_run(&refs[first], &refs[j - 1], &refs[j]))
			j++;
		runs[t] = (FrameRun) {first, (int) (j - first)};
	}
	return t;
}

BundleRange *
framerun_open(Repo *repo, const FrameRef *refs, const FrameRun *run, PgbError *err)
{
	const FrameRef *first = &refs[run->first];
	const FrameRef *last = &refs[run->first + (size_t) run->count - 1];
	BundleRange *br = bundle_range_open(repo, first->sm->label, first->sch->bundle, first->sch->offset,
										last->sch->offset + last->sch->length - first->sch->offset, err);

	if (br == NULL && err->code == EXIT_CORRUPT)
		pgb_error_context(err, "file \"%s\" of backup %s", first->m->files[first->file].path, first->m->label);
	return br;
}

typedef struct RangeFrame
{
	BundleRange *br;
	const ManifestChunk *sch;
} RangeFrame;

static int
emit_frame(void *arg, Stage *to, PgbError *err)
{
	const RangeFrame *rf = arg;

	return bundle_range_frame(rf->br, rf->sch->offset, rf->sch->length, to, err);
}

int
frameref_read(BundleRange *br, const FrameRef *ref, Stage *out, PgbError *err)
{
	RangeFrame	rf = {br, ref->sch};

	return chain_emit_checked(ref->m, &ref->m->files[ref->file], ref->chunk, emit_frame, &rf, out, err);
}
