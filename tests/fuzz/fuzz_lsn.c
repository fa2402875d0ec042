/*
 * Fuzz target: the LSN and WAL-name parsers of pg/lsn.c.  The input is
 * tried as an LSN ("16/B374D848"; one that parses must print and parse
 * back to itself), as a WAL file name and as the content of a timeline
 * history file.
 */
#include "fuzz.h"

#include "pg/lsn.h"

static int
fuzz_one(const uint8_t *data, size_t size)
{
	char	   *text = fuzz_cstr(data, size);
	PgbError	err = {0};
	Lsn			lsn;
	Lsn			back;
	char		buf[32];
	TimeLineID	tli;
	SegNo		segno;
	int			count = 0;
	TimeLineID *tlis = NULL;
	Lsn		   *switches = NULL;

	if (lsn_parse(text, &lsn, &err) == 0)
	{
		lsn_format(lsn, buf, sizeof(buf));
		if (lsn_parse(buf, &back, &err) != 0 || back != lsn)
			fuzz_fail("lsn_format output does not parse back", buf);
	}
	if (wal_file_classify(text, 16 * 1024 * 1024, &tli, &segno) == WAL_KIND_SEGMENT)
	{
		char		name[WAL_NAME_LEN + 1];

		wal_segment_name(name, tli, segno, 16 * 1024 * 1024);
		if (strcmp(name, text) != 0 && strcasecmp(name, text) != 0)
			fuzz_fail("a WAL segment name does not round-trip", text);
	}
	pgb_error_clear(&err);
	if (wal_history_parse(text, size, &count, &tlis, &switches, &err) == 0)
	{
		free(tlis);
		free(switches);
	}
	free(text);
	return 0;
}
