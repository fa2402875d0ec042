/* PostgreSQL page checksums (see pagecsum.h). */
#include <stdlib.h>
#include <string.h>

#include "io/pagecsum.h"

#define COLUMNS 32
#define ROWS (PG_PAGE_SIZE / (4 * COLUMNS))
#define MIX_PRIME 16777619u
#define CHECKSUM_OFFSET 8		/* pd_checksum: after the 8-byte pd_lsn */
#define UPPER_OFFSET 14			/* pd_upper: 0 on a page never initialised */

/* Start value of each column's sum (fixed by the on-disk format). */
static const uint32_t column_start[COLUMNS] = {
	0x5B1F36E9, 0xB8525960, 0x02AB50AA, 0x1DE66D2A, 0x79FF467A, 0x9BB9F8A3, 0x217E7CD2, 0x83E13D2C,
	0xF8D4474F, 0xE39EB970, 0x42C6AE16, 0x993216FA, 0x7B093B5D, 0x98DAFF3C, 0xF718902A, 0x0B1C9CDB,
	0xE58F764B, 0x187636BC, 0x5D7B3BB1, 0xE73DE7DE, 0x92BEC979, 0xCCA6C0B2, 0x304A0979, 0x85AA43D4,
	0x783125BB, 0x6CA8EAA2, 0xE407EAC6, 0x4B5CFC3E, 0x9FBF8C76, 0x15CA20BE, 0xF2CA9FD3, 0x959BD756
};

static inline uint32_t
mix(uint32_t sum, uint32_t word)
{
	uint32_t	x = sum ^ word;

	return x * MIX_PRIME ^ (x >> 17);
}

uint16_t
pg_page_checksum(const uint8_t *page, uint32_t blkno)
{
	uint32_t	sums[COLUMNS];
	uint32_t	words[COLUMNS];
	uint32_t	folded = 0;

	memcpy(sums, column_start, sizeof(sums));
	for (int row = 0; row < ROWS; row++)
	{
		/* words in the machine's order, as PostgreSQL wrote them */
		memcpy(words, page + (size_t) row * sizeof(words), sizeof(words));
		if (row == 0)
			memset((uint8_t *) words + CHECKSUM_OFFSET, 0, 2);
		for (int col = 0; col < COLUMNS; col++)
			sums[col] = mix(sums[col], words[col]);
	}
	for (int round = 0; round < 2; round++)
		for (int col = 0; col < COLUMNS; col++)
			sums[col] = mix(sums[col], 0);
	for (int col = 0; col < COLUMNS; col++)
		folded ^= sums[col];
	folded ^= blkno;
	return (uint16_t) (folded % 65535 + 1);
}

uint16_t
pg_page_stored_checksum(const uint8_t *page)
{
	uint16_t	v;

	memcpy(&v, page + CHECKSUM_OFFSET, sizeof(v));
	return v;
}

bool
pg_page_verify(const uint8_t *page, uint32_t blkno)
{
	uint16_t	upper;

	memcpy(&upper, page + UPPER_OFFSET, sizeof(upper));
	if (upper == 0)
	{
		/* a new page is valid only when it is all zeros */
		for (size_t i = 0; i < PG_PAGE_SIZE; i++)
			if (page[i] != 0)
				return false;
		return true;
	}
	return pg_page_checksum(page, blkno) == pg_page_stored_checksum(page);
}

/* ------------------------------------------------------------------ stage */

typedef struct PageCheckStage
{
	Stage		base;
	uint32_t	blkno;			/* of the page being assembled */
	size_t		fill;
	PageCheckResult result;
	uint8_t		page[PG_PAGE_SIZE];
} PageCheckStage;

static void
check_page(PageCheckStage *p, const uint8_t *page)
{
	if (!pg_page_verify(page, p->blkno))
	{
		if (p->result.bad++ == 0)
			p->result.first_bad = p->blkno;
	}
	p->result.pages++;
	p->blkno++;
}

static int
pagecheck_write(Stage *s, const void *buf, size_t len, PgbError *err)
{
	PageCheckStage *p = (PageCheckStage *) s;
	const uint8_t *in = buf;
	size_t		left = len;

	while (left > 0)
	{
		if (p->fill == 0 && left >= PG_PAGE_SIZE)
		{
			check_page(p, in);
			in += PG_PAGE_SIZE;
			left -= PG_PAGE_SIZE;
			continue;
		}
		{
			size_t		take = PG_PAGE_SIZE - p->fill < left ? PG_PAGE_SIZE - p->fill : left;

			memcpy(p->page + p->fill, in, take);
			p->fill += take;
			in += take;
			left -= take;
			if (p->fill == PG_PAGE_SIZE)
			{
				check_page(p, p->page);
				p->fill = 0;
			}
		}
	}
	return stage_pass(s, buf, len, err);
}

static int
pagecheck_finish(Stage *s, PgbError *err)
{
	PageCheckStage *p = (PageCheckStage *) s;

	p->result.partial = p->fill > 0;
	return 0;
}

static const StageOps pagecheck_ops = {pagecheck_write, pagecheck_finish, NULL};

Stage *
pagecheck_stage_new(Stage *next, uint32_t first_blkno, PgbError *err)
{
	PageCheckStage *p = stage_new(sizeof(PageCheckStage), &pagecheck_ops, next, err);

	if (p != NULL)
		p->blkno = first_blkno;
	return p ? &p->base : NULL;
}

void
pagecheck_stage_result(const Stage *s, PageCheckResult *out)
{
	*out = ((const PageCheckStage *) s)->result;
}
