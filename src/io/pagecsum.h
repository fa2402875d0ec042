/*
 * PostgreSQL data page checksums (data_checksums on; initdb -k): the 16-bit
 * value PostgreSQL keeps in each 8 KiB page's header, and a stage that
 * checks every page streaming through it.
 *
 * The algorithm, as PostgreSQL documents it: the page is read as 32 columns
 * of 32-bit words; each column is folded into its own FNV-1a style sum
 * (hash = (hash ^ word) * 16777619 ^ ((hash ^ word) >> 17)) from a fixed
 * per-column start value, with the page's checksum field read as zero;
 * two more rounds of zero words mix each sum; the sums are xor-ed together,
 * the block number is xor-ed in (so a page written to the wrong place
 * fails), and the result is reduced to 1..65535.
 */
#ifndef PGBKP_PAGECSUM_H
#define PGBKP_PAGECSUM_H

#include <stdbool.h>
#include <stdint.h>
#include "io/stream.h"

#define PG_PAGE_SIZE 8192
/* Blocks per relation segment file (1 GiB of 8 KiB pages). */
#define PG_RELSEG_BLOCKS 131072

/* The checksum of an 8 KiB page at block blkno of its relation. */
uint16_t	pg_page_checksum(const uint8_t *page, uint32_t blkno);
/* The checksum the page's header records. */
uint16_t	pg_page_stored_checksum(const uint8_t *page);
/* true when the page verifies: a new (all-zero) page, or a matching checksum. */
bool		pg_page_verify(const uint8_t *page, uint32_t blkno);

typedef struct PageCheckResult
{
	uint32_t	pages;			/* whole pages seen */
	uint32_t	bad;			/* of which failed */
	uint32_t	first_bad;		/* block number of the first failure */
	bool		partial;		/* the input ended inside a page */
} PageCheckResult;

/* An observer: the first byte is block first_blkno. */
Stage	   *pagecheck_stage_new(Stage *next, uint32_t first_blkno, PgbError *err);
/* Final after stage_finish. */
void		pagecheck_stage_result(const Stage *s, PageCheckResult *out);

#endif
