/*
 * Timeline switches in a pgBackRest archive.  `pgbackrest verify` reports
 * the archive as ranges of consecutive segments and starts a new range at
 * every timeline switch, gap or not (after a Patroni switchover the old
 * timeline ends with a .partial and the new one begins at the same segment
 * number).  Whether the next range continues the previous one is read from
 * the new timeline's history file: the point where it left the previous
 * range's timeline must fall in the segment after that range's last one or
 * earlier, and the new range must begin at the segment holding its own
 * switch point (or before it).  Anything else is missing WAL.
 */
#ifndef PGBKP_PGBR_SWITCH_H
#define PGBKP_PGBR_SWITCH_H

#include <stdbool.h>

#include "config/config.h"
#include "pg/lsn.h"

/*
 * The decision itself, for unit tests: the previous range stops at segment
 * stop_segno of timeline stop_tli, the next starts at start_segno; the next
 * range's timeline history has count entries (parent timeline, switch LSN).
 */
bool		pgbr_switch_continues(TimeLineID stop_tli, SegNo stop_segno, SegNo start_segno,
								  int count, const TimeLineID *tlis, const Lsn *switch_lsns,
								  uint64_t segment_size);

/*
 * Whether the range starting at segment name start continues the one that
 * stopped at stop (names as pgBackRest reports them): the history file and
 * the first segment (for its size) are fetched with pgBackRest.  A later
 * timeline without an archived history file does not continue.
 */
int			pgbr_range_continues(const RepoDef *def, const char *cluster, const char *stop,
								 const char *start, bool *continues, PgbError *err);

#endif
