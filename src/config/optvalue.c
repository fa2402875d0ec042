/*
 * The one place where an option's text becomes a typed value in the Config
 * (see options.h): integers are range-checked with strtol, booleans accept
 * the YAML words, enums are matched against their allowed values, and the
 * tablespace map is split at its first '='.  Errors name the option the way
 * its source spells it.  Also formats a value back as text and frees them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/options.h"

int
option_parse_bool(const char *text)
{
	static const char *const yes[] = {"true", "yes", "on"};
	static const char *const no[] = {"false", "no", "off"};

	for (int i = 0; i < 3; i++)
	{
		if (strcasecmp(text, yes[i]) == 0)
			return 1;
		if (strcasecmp(text, no[i]) == 0)
			return 0;
	}
	return -1;
}

bool
config_parse_int(const char *text, int min, int max, int *out)
{
	char	   *end;
	long		val;

	if (text[0] == '\0' || text[0] == ' ' || text[0] == '\t')
		return false;
	errno = 0;
	val = strtol(text, &end, 10);
	if (errno != 0 || *end != '\0' || val < min || val > max)
		return false;
	*out = (int) val;
	return true;
}

/* Report text as invalid for opt, naming the option as src spells it. */
static int
value_error(PgbError *err, const OptionDef *opt, const OptionSource *src,
			const char *text, const char *expected)
{
	switch (src->kind)
	{
		case SRC_CMDLINE:
			return pgb_error(err, EXIT_USAGE,
							 "invalid value for --%s: \"%s\" (expected %s)",
							 opt->name, text, expected);
		case SRC_ENV:
			return pgb_error(err, EXIT_CONFIG,
							 "invalid value for %s: \"%s\" (expected %s)",
							 opt->env_name, text, expected);
		case SRC_FILE:
			return pgb_error(err, EXIT_CONFIG,
							 "%s:%d: invalid value for \"%s\": \"%s\" (expected %s)",
							 src->file, src->line,
							 src->key ? src->key : opt->yaml_key, text, expected);
		case SRC_DEFAULT:
			break;
	}
	return pgb_error(err, EXIT_INTERNAL,
					 "invalid default for option --%s: \"%s\"", opt->name, text);
}

static int
enum_index(const OptionDef *opt, const char *text)
{
	for (int i = 0; opt->values[i]; i++)
		if (strcmp(opt->values[i], text) == 0)
			return i;
	return -1;
}

int
config_set_string(char **field, const char *text, PgbError *err)
{
	char	   *copy = strdup(text);

	if (copy == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	free(*field);
	*field = copy;
	return 0;
}

static int
store_tablespace_map(Config *cfg, const OptionDef *opt, const char *text,
					 const OptionSource *src, PgbError *err)
{
	const char *eq = strchr(text, '=');
	TablespaceMap *map;
	size_t		keylen;

	if (eq == NULL || eq == text || eq[1] == '\0')
		return value_error(err, opt, src, text,
						   "OID=DIR with both sides non-empty");
	keylen = (size_t) (eq - text);
	for (int i = 0; i < cfg->ntablespace_map; i++)
	{
		const char *key = cfg->tablespace_map[i].key;

		if (strlen(key) == keylen && strncmp(key, text, keylen) == 0)
			return value_error(err, opt, src, text,
							   "each tablespace to be mapped only once");
	}
	if (cfg->ntablespace_map >= CONFIG_MAX_TABLESPACE_MAP)
		return pgb_error(err, src->kind == SRC_CMDLINE ? EXIT_USAGE : EXIT_CONFIG,
						 "too many --%s options (at most %d)",
						 opt->name, CONFIG_MAX_TABLESPACE_MAP);

	map = &cfg->tablespace_map[cfg->ntablespace_map];
	map->key = strndup(text, keylen);
	map->path = strdup(eq + 1);
	if (map->key == NULL || map->path == NULL)
	{
		free(map->key);
		free(map->path);
		map->key = map->path = NULL;
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	}
	cfg->ntablespace_map++;
	return 0;
}

int
option_store(Config *cfg, const OptionDef *opt, const char *text,
			 const OptionSource *src, PgbError *err)
{
	char	   *field = (char *) cfg + opt->offset;
	char		expected[256];
	int			ival;
	int			len;

	switch (opt->type)
	{
		case OPT_STRING:
			if (text[0] == '\0')
				return value_error(err, opt, src, text, "a non-empty value");
			return config_set_string((char **) field, text, err);

		case OPT_INT:
			if (!config_parse_int(text, opt->min, opt->max, &ival))
			{
				snprintf(expected, sizeof(expected),
						 "an integer from %d to %d", opt->min, opt->max);
				return value_error(err, opt, src, text, expected);
			}
			*(int *) field = ival;
			return 0;

		case OPT_BOOL:
		case OPT_FLAG:
			ival = option_parse_bool(text);
			if (ival < 0)
				return value_error(err, opt, src, text,
								   "true, false, yes, no, on or off");
			*(bool *) field = ival != 0;
			return 0;

		case OPT_ENUM:
			ival = enum_index(opt, text);
			if (ival < 0)
			{
				len = snprintf(expected, sizeof(expected), "one of:");
				for (int i = 0; opt->values[i] && len < (int) sizeof(expected); i++)
					len += snprintf(expected + len, sizeof(expected) - len,
									"%s %s", i > 0 ? "," : "", opt->values[i]);
				return value_error(err, opt, src, text, expected);
			}
			if (opt->flags & OPTF_ENUM_INDEX)
			{
				*(int *) field = ival;
				return 0;
			}
			return config_set_string((char **) field, opt->values[ival], err);

		case OPT_LIST:
			return store_tablespace_map(cfg, opt, text, src, err);
		case OPT_MULTI:
			{
				StringList *l = (StringList *) field;

				if (l->count >= CONFIG_MAX_LIST)
					return pgb_error(err, src->kind == SRC_CMDLINE ? EXIT_USAGE : EXIT_CONFIG,
									 "too many --%s options (at most %d)", opt->name, CONFIG_MAX_LIST);
				if ((l->values[l->count] = strdup(text)) == NULL)
					return pgb_error(err, EXIT_INTERNAL, "out of memory");
				l->count++;
				return 0;
			}
	}
	return pgb_error(err, EXIT_INTERNAL, "option --%s has an unknown type", opt->name);
}

bool
option_format(const Config *cfg, const OptionDef *opt, char *buf, size_t len)
{
	const char *field = (const char *) cfg + opt->offset;

	switch (opt->type)
	{
		case OPT_STRING:
			if (*(char *const *) field == NULL)
				return false;
			snprintf(buf, len, "%s", *(char *const *) field);
			return true;
		case OPT_INT:
			snprintf(buf, len, "%d", *(const int *) field);
			return true;
		case OPT_BOOL:
		case OPT_FLAG:
			snprintf(buf, len, "%s", *(const bool *) field ? "true" : "false");
			return true;
		case OPT_ENUM:
			if (opt->flags & OPTF_ENUM_INDEX)
				snprintf(buf, len, "%s", opt->values[*(const int *) field]);
			else if (*(char *const *) field == NULL)
				return false;
			else
				snprintf(buf, len, "%s", *(char *const *) field);
			return true;
		case OPT_LIST:
			return false;
		case OPT_MULTI:
			{
				const StringList *l = (const StringList *) field;
				size_t		n = 0;

				if (l->count == 0)
					return false;
				buf[0] = '\0';
				for (int i = 0; i < l->count && n < len; i++)
					n += (size_t) snprintf(buf + n, len - n, "%s%s", i ? "," : "", l->values[i]);
				return true;
			}
	}
	return false;
}

void
option_free_values(Config *cfg)
{
	for (int i = 0; i < option_count; i++)
	{
		const OptionDef *opt = &option_table[i];
		char	   *field = (char *) cfg + opt->offset;

		if (opt->type == OPT_STRING ||
			(opt->type == OPT_ENUM && !(opt->flags & OPTF_ENUM_INDEX)))
		{
			free(*(char **) field);
			*(char **) field = NULL;
		}
		else if (opt->type == OPT_MULTI)
		{
			StringList *l = (StringList *) field;

			for (int j = 0; j < l->count; j++)
				free(l->values[j]);
			l->count = 0;
		}
	}
	for (int i = 0; i < cfg->ntablespace_map; i++)
	{
		free(cfg->tablespace_map[i].key);
		free(cfg->tablespace_map[i].path);
		cfg->tablespace_map[i].key = cfg->tablespace_map[i].path = NULL;
	}
	cfg->ntablespace_map = 0;
}
