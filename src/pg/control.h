/*
 * Reading global/pg_control: the system identifier and versions, with the
 * CRC-32C checked, so a backup or archive-push can tell which database system
 * a data directory or WAL segment belongs to.
 */
#ifndef PGBKP_CONTROL_H
#define PGBKP_CONTROL_H

#include <stddef.h>
#include <stdint.h>
#include "common/error.h"

typedef struct PgControl
{
	uint64_t	system_identifier;
	uint32_t	pg_control_version;
	uint32_t	catalog_version_no;
} PgControl;

/* Parse the first bytes of a pg_control file (buf of len bytes). EXIT_CORRUPT on bad CRC/short. */
int			pg_control_parse(const uint8_t *buf, size_t len, PgControl *out, PgbError *err);

/* Read <pgdata>/global/pg_control.  EXIT_IO / EXIT_NOT_FOUND / EXIT_CORRUPT. */
int			pg_control_read(const char *pgdata, PgControl *out, PgbError *err);

/*
 * WAL segment long page header: xlp_magic at 0 (u16), xlp_sysid at 24 (u64),
 * xlp_seg_size at 32 (u32), xlp_xlog_blcksz at 36 (u32).  Fills the fields
 * from the first 40 bytes of a segment; EXIT_CORRUPT if too short or the
 * XLP_LONG_HEADER bit (0x0002 in xlp_info at 2) is not set.
 */
typedef struct WalLongHeader
{
	uint16_t	magic;
	uint64_t	system_identifier;
	uint32_t	segment_size;
	uint32_t	block_size;
} WalLongHeader;

int			wal_long_header_parse(const uint8_t *buf, size_t len, WalLongHeader *out, PgbError *err);

/* PostgreSQL major version (13..17) for an XLOG_PAGE_MAGIC, 0 if unknown. */
int			wal_magic_to_major(uint16_t magic);

#endif
