/* Durations for monitoring thresholds (see duration.h). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "common/duration.h"

#define DURATION_MAX_SECONDS (100LL * 365 * 86400)

int
duration_parse(const char *text, const char *what, int64_t *seconds, PgbError *err)
{
	static const struct
	{
		char		unit;
		int64_t		seconds;
	}			units[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
	const char *p = text;
	int64_t		total = 0;
	int			next_unit = 0;

	if (p == NULL || *p == '\0')
		goto bad;
	while (*p)
	{
		int64_t		n = 0;
		int			u;

		if (!isdigit((unsigned char) *p))
			goto bad;
		while (isdigit((unsigned char) *p))
		{
			n = n * 10 + (*p++ - '0');
			if (n > DURATION_MAX_SECONDS)
				goto bad;
		}
		if (*p == '\0' && next_unit == 0)
		{
			total = n;			/* a plain number: seconds */
			break;
		}
		for (u = next_unit; u < 4 && units[u].unit != *p; u++)
			;
		if (u == 4)
			goto bad;
		total += n * units[u].seconds;
		if (total > DURATION_MAX_SECONDS)
			goto bad;
		next_unit = u + 1;
		p++;
	}
	if (total <= 0)
		goto bad;
	*seconds = total;
	return 0;
bad:
	return pgb_error(err, EXIT_USAGE, "%s \"%s\" is not a duration", what, text ? text : ""),
		pgb_hint(err, "write seconds, or numbers with units d, h, m, s in that order: 26h, 1d12h, 90m");
}

void
duration_format(int64_t s, char *out, size_t len)
{
	if (s < 0)
		s = 0;
	if (s >= 86400)
		snprintf(out, len, "%lldd %lldh", (long long) (s / 86400), (long long) (s % 86400 / 3600));
	else if (s >= 3600)
		snprintf(out, len, "%lldh %lldm", (long long) (s / 3600), (long long) (s % 3600 / 60));
	else if (s >= 60)
		snprintf(out, len, "%lldm %llds", (long long) (s / 60), (long long) (s % 60));
	else
		snprintf(out, len, "%llds", (long long) s);
}
