/*
 * Reading the records of one WAL segment, for the WAL index: which
 * transactions committed or aborted when, which restore points were made,
 * where checkpoints and WAL switches are.
 *
 * The layout is PostgreSQL's (13 to 17 share it): 8 KiB pages, each with a
 * page header (24 bytes; the first page of a segment a long one of 40)
 * whose xlp_pageaddr must be the page's own LSN; records MAXALIGNed (8
 * bytes), each a 24-byte header (xl_tot_len, xl_xid, xl_prev, xl_info,
 * xl_rmid, xl_crc) followed by block references and the main data, and
 * free to continue across pages (the next page then starts with
 * XLP_FIRST_IS_CONTRECORD and xlp_rem_len).  A record is accepted only when
 * its CRC-32C matches; the first page or record that does not fit is the end
 * of valid WAL in the segment (a segment that ends early, or after an
 * XLOG_SWITCH record, is padded).  A record that continues into the next
 * segment is read to its end from the next segment when that is given, else
 * reported as the segment's tail (its start LSN), not decoded; the
 * continuation at the start of a segment is skipped.
 */
#ifndef PGBKP_WALREADER_H
#define PGBKP_WALREADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "pg/lsn.h"

#define WAL_RM_XLOG 0
#define WAL_RM_XACT 1

/* RM_XLOG_ID record kinds (xl_info & 0xF0) */
#define WAL_XLOG_CHECKPOINT_SHUTDOWN 0x00
#define WAL_XLOG_CHECKPOINT_ONLINE 0x10
#define WAL_XLOG_SWITCH 0x40
#define WAL_XLOG_BACKUP_END 0x50
#define WAL_XLOG_RESTORE_POINT 0x70
#define WAL_XLOG_END_OF_RECOVERY 0x90

/* RM_XACT_ID record kinds (xl_info & 0x70) */
#define WAL_XACT_OPMASK 0x70
#define WAL_XACT_COMMIT 0x00
#define WAL_XACT_PREPARE 0x10
#define WAL_XACT_ABORT 0x20
#define WAL_XACT_COMMIT_PREPARED 0x30
#define WAL_XACT_ABORT_PREPARED 0x40

typedef struct WalRecord
{
	Lsn			lsn;			/* where the record starts */
	Lsn			end;			/* just past it (before alignment) */
	uint32_t	xid;			/* xl_xid */
	uint8_t		rmid;
	uint8_t		info;
	const uint8_t *main_data;	/* valid during the callback only */
	uint32_t	main_len;
} WalRecord;

typedef struct WalReadResult
{
	int			records;		/* complete records read */
	Lsn			valid_end;		/* end of the last complete record */
	Lsn			tail_lsn;		/* a record continuing into the next segment, or 0 */
	bool		switched;		/* an XLOG_SWITCH record ended the segment */
	TimeLineID	page_tli;		/* xlp_tli of the first page */
} WalReadResult;

/* Called for each complete record, in order; non-zero stops the reading and is returned. */
typedef int (*WalRecordFn) (void *arg, const WalRecord *rec, PgbError *err);

/*
 * Read the records that start in segment segno (seg: its seg_size bytes;
 * next: the following segment's, or NULL).
 * EXIT_CORRUPT when the first page header is not a WAL long page header of
 * this segment; later damage just ends the valid WAL (see above).
 */
int			wal_read_segment(const uint8_t *seg, size_t seg_size, SegNo segno, const uint8_t *next,
							 WalRecordFn fn, void *arg, WalReadResult *out, PgbError *err);

/* A commit/abort record's xact_time, a restore point's time: PostgreSQL's epoch (2000-01-01) to Unix microseconds. */
int64_t		wal_pgtime_to_unix_us(int64_t pg_us);

/*
 * The timestamp of an XACT commit/abort record and, for a restore point,
 * its time and name (name of at least 64 bytes).  -1 when the main data is
 * too short.
 */
int			wal_xact_time(const WalRecord *rec, int64_t *unix_us);
int			wal_restore_point(const WalRecord *rec, int64_t *unix_us, char *name, size_t len);

#endif
