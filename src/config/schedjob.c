/* The keys of a schedule entry and how their values are stored (see schedjob.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/options.h"
#include "config/schedjob.h"

#define JITTER_MAX 86400

typedef struct SchedJobKey
{
	const char *key;
	size_t		offset;			/* the field in ScheduleJob */
	size_t		size;			/* a char array's size; 0: jitter, seconds */
} SchedJobKey;

#define TEXT(k, field) {k, offsetof(ScheduleJob, field), sizeof(((ScheduleJob *) 0)->field)}

static const SchedJobKey schedjob_keys[] = {
	TEXT("cron", cron),
	TEXT("command", command),
	TEXT("type", type),
	TEXT("name", name),
	TEXT("run_on", run_on),
	{"jitter", offsetof(ScheduleJob, jitter), 0},
};

#define NKEYS (sizeof(schedjob_keys) / sizeof(schedjob_keys[0]))

static const SchedJobKey *
key_find(const char *key)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(schedjob_keys[i].key, key) == 0)
			return &schedjob_keys[i];
	return NULL;
}

int
schedjob_check_key(const char *key, const char *where, PgbError *err)
{
	char		keys[128];
	size_t		n = 0;

	if (key != NULL && key_find(key) != NULL)
		return 0;
	keys[0] = '\0';
	for (size_t i = 0; i < NKEYS && n < sizeof(keys); i++)
		n += (size_t) snprintf(keys + n, sizeof(keys) - n, "%s%s", i ? ", " : "", schedjob_keys[i].key);
	return pgb_error(err, EXIT_CONFIG, "%s: unknown key \"%s\" in a schedule entry (keys: %s)",
					 where, key ? key : "(not a scalar)", keys);
}

int
schedjob_init(ScheduleJob *j, const char *where, PgbError *err)
{
	memset(j, 0, sizeof(*j));
	j->jitter = -1;
	return config_set_string(&j->where, where, err);
}

int
schedjob_set(ScheduleJob *j, const char *key, const char *value, const char *where, PgbError *err)
{
	const SchedJobKey *k = key_find(key);
	char	   *field;
	size_t		len = strlen(value);

	if (k == NULL)
		return schedjob_check_key(key, where, err);
	field = (char *) j + k->offset;
	if (k->size == 0)
	{
		if (!config_parse_int(value, 0, JITTER_MAX, (int *) field))
			return pgb_error(err, EXIT_CONFIG, "%s: invalid jitter \"%s\": expected seconds from 0 to %d",
							 where, value, JITTER_MAX);
		return 0;
	}
	if (len >= k->size)
		return pgb_error(err, EXIT_CONFIG, "%s: value of \"%s\" is too long", where, key);
	memcpy(field, value, len + 1);
	return 0;
}
