/* Timelines and the WAL a recovery along one of them reads (see timeline.h). */
#include <stdlib.h>
#include <string.h>

#include "repo/timeline.h"
#include "repo/walarchive.h"

int
timeline_init(Timeline *t, TimeLineID tli, int64_t created, const char *text, size_t len, PgbError *err)
{
	TimeLineID *tlis = NULL;
	Lsn		   *lsns = NULL;
	int			n = 0;

	memset(t, 0, sizeof(*t));
	t->tli = tli;
	t->created = created;
	t->history_ok = true;
	if (text != NULL && wal_history_parse(text, len, &n, &tlis, &lsns, err) != 0)
		return -1;
	t->steps = malloc(sizeof(TimelineStep) * (size_t) (n + 1));
	if (t->steps == NULL)
	{
		free(tlis);
		free(lsns);
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	}
	for (int i = 0; i < n; i++)
	{
		/* ancestors ascend, switch points do not go back, and tli comes last */
		if (tlis[i] >= tli || (i > 0 && (tlis[i] <= tlis[i - 1] || lsns[i] < lsns[i - 1])))
		{
			pgb_error(err, EXIT_CORRUPT, "timeline history of timeline %u: entry %d (timeline %u) is out of order",
					  tli, i + 1, tlis[i]);
			free(tlis);
			free(lsns);
			timeline_free(t);
			return -1;
		}
		t->steps[i].tli = tlis[i];
		t->steps[i].end = lsns[i];
	}
	t->steps[n].tli = tli;
	t->steps[n].end = TIMELINE_END;
	t->nsteps = n + 1;
	free(tlis);
	free(lsns);
	return 0;
}

void
timeline_free(Timeline *t)
{
	if (t == NULL)
		return;
	free(t->steps);
	t->steps = NULL;
	t->nsteps = 0;
}

const Timeline *
timeline_find(const WalList *wal, TimeLineID tli)
{
	for (int i = 0; i < wal->ntimelines; i++)
		if (wal->timelines[i].tli == tli)
			return &wal->timelines[i];
	return NULL;
}

bool
timeline_contains(const Timeline *t, TimeLineID tli, Lsn lsn)
{
	for (int i = 0; i < t->nsteps; i++)
		if (t->steps[i].tli == tli)
			return lsn <= t->steps[i].end;
	return false;
}

TimeLineID
timeline_tli_of_segment(const Timeline *t, SegNo segno, uint64_t segment_size)
{
	/* step i begins in the segment where step i-1 ends (PostgreSQL copies it) */
	for (int i = t->nsteps - 1; i > 0; i--)
		if (lsn_to_segno(t->steps[i - 1].end, segment_size) <= segno)
			return t->steps[i].tli;
	return t->steps[0].tli;
}

int
timeline_find_segment(const WalList *wal, TimeLineID tli, SegNo segno)
{
	int			lo = 0,
				hi = wal->nsegments - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;
		const WalSegment *s = &wal->segments[mid];

		if (s->segno == segno && s->tli == tli)
			return mid;
		if (s->segno < segno || (s->segno == segno && s->tli < tli))
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

int
timeline_contiguous_end(const Timeline *t, const WalList *wal, SegNo start_segno, uint64_t segment_size)
{
	int			last = -1;

	for (SegNo s = start_segno;; s++)
	{
		int			i = timeline_find_segment(wal, timeline_tli_of_segment(t, s, segment_size), s);

		if (i < 0)
			return last;
		last = i;
	}
}

bool
timeline_fork(const Timeline *a, const Timeline *b, Lsn *at,
			  TimeLineID *a_next, bool *a_stays, TimeLineID *b_next, bool *b_stays)
{
	int			i = 0;

	while (i < a->nsteps && i < b->nsteps && a->steps[i].tli == b->steps[i].tli)
	{
		const TimelineStep *x = &a->steps[i],
				   *y = &b->steps[i];

		if (x->end != y->end)
		{
			/* one leaves the common timeline earlier; the other stays on it */
			*at = x->end < y->end ? x->end : y->end;
			*a_stays = x->end > y->end;
			*b_stays = !*a_stays;
			*a_next = *a_stays ? x->tli : a->steps[i + 1].tli;
			*b_next = *b_stays ? y->tli : b->steps[i + 1].tli;
			return true;
		}
		i++;
	}
	if (i == a->nsteps || i == b->nsteps || i == 0)
		return false;			/* the same path, or no common start */
	/* both left step i-1 at the same point, for different children */
	*at = a->steps[i - 1].end;
	*a_stays = *b_stays = false;
	*a_next = a->steps[i].tli;
	*b_next = b->steps[i].tli;
	return true;
}
