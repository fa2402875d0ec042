/* Timeline switches in a pgBackRest archive (see switch.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileio.h"
#include "pg/control.h"
#include "pgbackrest/fetch.h"
#include "pgbackrest/switch.h"

#define HISTORY_MAX (1u << 20)

bool
pgbr_switch_continues(TimeLineID stop_tli, SegNo stop_segno, SegNo start_segno,
					  int count, const TimeLineID *tlis, const Lsn *switch_lsns, uint64_t segment_size)
{
	SegNo		left,
				entered;
	int			i;

	/* where the path left stop_tli, and where it entered the new timeline */
	for (i = 0; i < count && tlis[i] != stop_tli; i++)
		;
	if (i == count || count == 0)
		return false;
	left = lsn_to_segno(switch_lsns[i], segment_size);
	entered = lsn_to_segno(switch_lsns[count - 1], segment_size);
	/* timelines between the two (none archived) must have lived inside one segment */
	return left <= stop_segno + 1 && start_segno <= entered && entered == left;
}

int
pgbr_range_continues(const RepoDef *def, const char *cluster, const char *stop,
					 const char *start, bool *continues, PgbError *err)
{
	TimeLineID	stop_tli,
				start_tli;
	SegNo		stop_segno,
				start_segno;
	char		tdir[PGB_PATH_MAX];
	char		hname[32];
	char	   *hist = NULL,
			   *seg = NULL;
	size_t		hlen = 0,
				slen = 0;
	TimeLineID *tlis = NULL;
	Lsn		   *lsns = NULL;
	int			count = 0;
	WalLongHeader lh;
	PgbError	ignored;
	int			rc = -1;

	*continues = false;
	/* the timeline is the name's first 8 hex digits, whatever the segment size */
	if (sscanf(stop, "%8X", &stop_tli) != 1 || sscanf(start, "%8X", &start_tli) != 1 || start_tli <= stop_tli)
		return 0;
	if (pgbr_tempdir(tdir, sizeof(tdir), err) != 0)
		return -1;
	snprintf(hname, sizeof(hname), "%08X.history", start_tli);
	if (pgbr_fetch(def, cluster, tdir, hname, HISTORY_MAX, &hist, &hlen, err) != 0)
	{
		if (err->code == EXIT_NOT_FOUND)
		{
			memset(err, 0, sizeof(*err));
			rc = 0;				/* no history: not a continuation */
		}
		goto done;
	}
	if (pgbr_fetch(def, cluster, tdir, start, PGBR_SEGMENT_MAX, &seg, &slen, err) != 0 ||
		wal_long_header_parse((const uint8_t *) seg, slen, &lh, err) != 0 ||
		wal_history_parse(hist, hlen, &count, &tlis, &lsns, err) != 0)
		goto done;
	if (wal_file_classify(stop, lh.segment_size, &stop_tli, &stop_segno) != WAL_KIND_SEGMENT ||
		wal_file_classify(start, lh.segment_size, &start_tli, &start_segno) != WAL_KIND_SEGMENT)
	{
		pgb_error(err, EXIT_CORRUPT, "pgBackRest reports WAL names %s and %s that are not segments of %u bytes",
				  stop, start, lh.segment_size);
		goto done;
	}
	*continues = pgbr_switch_continues(stop_tli, stop_segno, start_segno, count, tlis, lsns, lh.segment_size);
	rc = 0;
done:
	free(hist);
	free(seg);
	free(tlis);
	free(lsns);
	(void) fio_remove_tree(tdir, &ignored);
	return rc;
}
