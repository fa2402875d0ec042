/*
 * LSNs and WAL file names: pure arithmetic, no I/O.
 *
 * A WAL segment name is TTTTTTTTLLLLLLLLSSSSSSSS (hex): timeline, "log"
 * (segno / segs_per_log) and "seg" (segno % segs_per_log), where
 * segs_per_log = 0x100000000 / segment_size.
 */
#ifndef PGBKP_LSN_H
#define PGBKP_LSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/error.h"

typedef uint64_t Lsn;
typedef uint64_t SegNo;
typedef uint32_t TimeLineID;

#define WAL_NAME_LEN 24

/* Segment numbers first..last, inclusive. */
typedef struct SegRange
{
	SegNo		first;
	SegNo		last;
} SegRange;

/* "16/B374D848" -> Lsn.  EXIT_USAGE on malformed input. */
int			lsn_parse(const char *text, Lsn *out, PgbError *err);
/* Lsn -> "16/B374D848" (upper-case hex, as PostgreSQL prints). */
void		lsn_format(Lsn lsn, char *buf, size_t len);

/* segment_size must be a power of two between 1 MiB and 1 GiB. */
bool		wal_segment_size_valid(uint64_t segment_size);

SegNo		lsn_to_segno(Lsn lsn, uint64_t segment_size);
/* Segment name (24 chars + NUL) of segno on timeline tli. */
void		wal_segment_name(char *buf, TimeLineID tli, SegNo segno, uint64_t segment_size);

typedef enum WalFileKind
{
	WAL_KIND_INVALID = 0,
	WAL_KIND_SEGMENT,			/* 000000010000000000000003 */
	WAL_KIND_PARTIAL,			/* 000000010000000000000003.partial */
	WAL_KIND_BACKUP,			/* 000000010000000000000003.00000028.backup */
	WAL_KIND_HISTORY			/* 00000002.history */
} WalFileKind;

/*
 * Classify a file name that archive-push/archive-get may see.  For segment,
 * partial and backup files, *tli and *segno (given segment_size) are set; for
 * history files only *tli.  Anything else (including paths with '/') is
 * WAL_KIND_INVALID.
 */
WalFileKind wal_file_classify(const char *name, uint64_t segment_size, TimeLineID *tli, SegNo *segno);

/*
 * A timeline history file's content: lines "parentTLI<TAB>switchLSN<TAB>reason",
 * comments (#) and blank lines ignored.  Parsed into arrays; caller frees
 * *tlis and *switch_lsns with free().  EXIT_CORRUPT on malformed content.
 */
int			wal_history_parse(const char *text, size_t len, int *count,
							  TimeLineID **tlis, Lsn **switch_lsns, PgbError *err);

#endif
