/*
 * Fuzz target: time_parse (common/timefmt.c), the parser of recovery target
 * times and --since/--until.  Anything accepted must print and parse back
 * to the same instant (time_format_pg writes UTC with an offset, so the
 * local zone, set here to one with DST, must not matter on the way back).
 */
#include "fuzz.h"

#include "common/timefmt.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	setenv("TZ", "Europe/Berlin", 1);
	return 0;
}

static int
fuzz_one(const uint8_t *data, size_t size)
{
	char	   *text = fuzz_cstr(data, size);
	PgbError	err = {0};
	TimestampUs t;
	TimestampUs back;
	char		buf[64];

	if (time_parse(text, &t, &err) == 0)
	{
		time_format_utc(t, buf, sizeof(buf));
		time_format_iso(t, buf, sizeof(buf));
		time_format_pg(t, buf, sizeof(buf));
		if (time_parse(buf, &back, &err) != 0)
			fuzz_fail("time_format_pg output refused by time_parse", buf);
		if (back != t)
			fuzz_fail("time_format_pg output parses to another instant", buf);
	}
	free(text);
	return 0;
}
