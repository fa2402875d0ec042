/* Parsing recovery targets (see target.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "restore/target.h"

int
target_parse_timeline(const char *text, RestoreTarget *t, PgbError *err)
{
	char	   *end;
	unsigned long v;

	t->timeline_request = TIMELINE_AUTO;
	t->timeline = 0;
	if (text == NULL)
		return 0;
	if (strcmp(text, "latest") == 0)
	{
		t->timeline_request = TIMELINE_LATEST;
		return 0;
	}
	if (strcmp(text, "current") == 0)
	{
		t->timeline_request = TIMELINE_CURRENT;
		return 0;
	}
	errno = 0;
	v = strtoul(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0 || v == 0 || v > UINT32_MAX)
	{
		pgb_error(err, EXIT_USAGE, "invalid value for --target-timeline: \"%s\"", text);
		return pgb_hint(err, "give latest, current or a timeline number (1 or more)");
	}
	t->timeline_request = TIMELINE_NUMBER;
	t->timeline = (TimeLineID) v;
	return 0;
}

int
target_parse_xid(const char *text, RestoreTarget *t, PgbError *err)
{
	uint64_t	v;
	size_t		len = strlen(text);

	t->kind = TARGET_XID;
	t->text = text;
	if (len == 0 || strspn(text, "0123456789") != len)
	{
		pgb_error(err, EXIT_USAGE, "invalid --xid \"%s\": expected a transaction ID (decimal digits)", text);
		return pgb_hint(err, "give the ID that pg_current_xact_id() or txid_current() returned");
	}
	if (text[0] == '0' && len > 1)
	{
		pgb_error(err, EXIT_USAGE, "invalid --xid \"%s\": a transaction ID has no leading zeros", text);
		return pgb_hint(err, "PostgreSQL would read \"%s\" as an octal number", text);
	}
	errno = 0;
	v = strtoull(text, NULL, 10);
	if (errno == ERANGE)
	{
		pgb_error(err, EXIT_USAGE, "invalid --xid \"%s\": out of range (at most %" PRIu64 ")", text, UINT64_MAX);
		return pgb_hint(err, "give the ID that pg_current_xact_id() or txid_current() returned");
	}
	if ((v & UINT32_MAX) < 3)
	{
		if (v < 3)
			pgb_error(err, EXIT_USAGE, "invalid --xid \"%s\": transaction IDs 0, 1 and 2 are reserved, "
					  "no transaction has one", text);
		else
			pgb_error(err, EXIT_USAGE, "invalid --xid \"%s\": its low 32 bits, the transaction ID PostgreSQL "
					  "compares, are %" PRIu64 ", which no transaction has", text, v & UINT32_MAX);
		return pgb_hint(err, "normal transaction IDs start at 3; give the ID that pg_current_xact_id() "
						"or txid_current() returned");
	}
	return 0;
}

int
target_parse_name(const char *text, RestoreTarget *t, PgbError *err)
{
	size_t		len = strlen(text);

	t->kind = TARGET_NAME;
	t->text = text;
	if (len == 0)
	{
		pgb_error(err, EXIT_USAGE, "invalid --name: a restore point name cannot be empty");
		return pgb_hint(err, "give the name passed to pg_create_restore_point()");
	}
	if (len > TARGET_NAME_MAX)
	{
		pgb_error(err, EXIT_USAGE, "invalid --name: restore point name is too long (%zu bytes, at most %d)",
				  len, TARGET_NAME_MAX);
		return pgb_hint(err, "PostgreSQL refuses a recovery_target_name longer than %d bytes, "
						"and pg_create_restore_point() never creates one", TARGET_NAME_MAX);
	}
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) text[i];

		if (c < 0x20 || c == 0x7f)
		{
			pgb_error(err, EXIT_USAGE, "invalid --name: restore point name contains a control character "
					  "(byte 0x%02X at offset %zu)", c, i);
			return pgb_hint(err, "PostgreSQL's configuration files cannot hold it in recovery_target_name");
		}
	}
	return 0;
}
