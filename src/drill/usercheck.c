/* The operator's drill checks: parsing check files and judging results (see usercheck.h). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileio.h"
#include "drill/usercheck.h"

#define CHECK_FILE_MAX (1024 * 1024)

static char *
trim(char *s)
{
	char	   *e;

	while (isspace((unsigned char) *s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char) e[-1]))
		*--e = '\0';
	return s;
}

int
usercheck_set_expect(UserCheck *c, const char *text, PgbError *err)
{
	static const char *const ops[] = {">=", "<=", "!=", "<>", "=", "<", ">", NULL};
	char		buf[300];
	char	   *v;

	snprintf(buf, sizeof(buf), "%s", text);
	v = trim(buf);
	c->op[0] = '\0';
	for (int i = 0; ops[i]; i++)
		if (strncmp(v, ops[i], strlen(ops[i])) == 0)
		{
			snprintf(c->op, sizeof(c->op), "%s", strcmp(ops[i], "<>") == 0 ? "!=" : ops[i]);
			v = trim(v + strlen(ops[i]));
			break;
		}
	if (c->op[0] == '\0')
		snprintf(c->op, sizeof(c->op), "=");
	if (*v == '\0')
		return pgb_error(err, EXIT_CONFIG, "%s: expect needs a value, e.g. \"> 0\"", c->origin);
	if (strlen(v) >= sizeof(c->value))
		return pgb_error(err, EXIT_CONFIG, "%s: the expected value is longer than %zu bytes", c->origin,
						 sizeof(c->value) - 1);
	snprintf(c->value, sizeof(c->value), "%s", v);
	return 0;
}

static UserCheck *
list_add(UserCheckList *list, const char *name, const char *origin, int line, PgbError *err)
{
	UserCheck  *items = realloc(list->items, sizeof(UserCheck) * (list->count + 1));
	UserCheck  *c;

	if (items == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory"), NULL;
	list->items = items;
	c = &items[list->count++];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->origin, sizeof(c->origin), "%s:%d", origin, line);
	return c;
}

/* Append a line of SQL to the check. */
static int
add_sql(UserCheck *c, const char *line, PgbError *err)
{
	size_t		have = c->sql ? strlen(c->sql) : 0;
	char	   *sql = realloc(c->sql, have + strlen(line) + 2);

	if (sql == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	c->sql = sql;
	snprintf(sql + have, strlen(line) + 2, "%s\n", line);
	return 0;
}

static bool
only_space(const char *s)
{
	for (; s && *s; s++)
		if (!isspace((unsigned char) *s))
			return false;
	return true;
}

/* The file's own name without directories and a .sql suffix. */
static void
default_name(const char *origin, char *out, size_t len)
{
	const char *base = strrchr(origin, '/');
	size_t		n;

	snprintf(out, len, "%s", base ? base + 1 : origin);
	n = strlen(out);
	if (n > 4 && strcmp(out + n - 4, ".sql") == 0)
		out[n - 4] = '\0';
}

/* The checks appended since first: each needs SQL. */
static int
check_complete(const UserCheckList *list, int first, const char *origin, PgbError *err)
{
	for (int i = first; i < list->count; i++)
		if (only_space(list->items[i].sql))
			return pgb_error(err, EXIT_CONFIG, "%s: check \"%s\" has no SQL", list->items[i].origin,
							 list->items[i].name);
	if (list->count == first)
		return pgb_error(err, EXIT_CONFIG, "%s: no SQL in the check file", origin);
	return 0;
}

int
usercheck_parse(const char *text, const char *origin, UserCheckList *list, PgbError *err)
{
	int			first = list->count;
	UserCheck  *cur = NULL;
	int			lineno = 0;
	const char *p = text;

	while (*p)
	{
		const char *nl = strchr(p, '\n');
		size_t		n = nl ? (size_t) (nl - p) : strlen(p);
		char		line[4096];
		char	   *t;

		lineno++;
		if (n >= sizeof(line))
			return pgb_error(err, EXIT_CONFIG, "%s:%d: line longer than %zu bytes", origin, lineno, sizeof(line) - 1);
		memcpy(line, p, n);
		line[n] = '\0';
		p += n + (nl ? 1 : 0);
		t = trim(line);
		if (strncmp(t, "--", 2) == 0)
		{
			char	   *d = trim(t + 2);
			char	   *colon = strchr(d, ':');

			if (colon)
			{
				char	   *key = d,
						   *val;

				*colon = '\0';
				key = trim(key);
				val = trim(colon + 1);
				if (strcmp(key, "name") == 0)
				{
					if (*val == '\0')
						return pgb_error(err, EXIT_CONFIG, "%s:%d: name needs a value", origin, lineno);
					if ((cur = list_add(list, val, origin, lineno, err)) == NULL)
						return -1;
					continue;
				}
				if (strcmp(key, "database") == 0 || strcmp(key, "expect") == 0)
				{
					if (cur == NULL)
					{
						char		name[96];

						default_name(origin, name, sizeof(name));
						if ((cur = list_add(list, name, origin, lineno, err)) == NULL)
							return -1;
					}
					if (strcmp(key, "database") == 0)
					{
						if (*val == '\0' || strlen(val) >= sizeof(cur->database))
							return pgb_error(err, EXIT_CONFIG, "%s:%d: database needs a name of at most %zu bytes",
											 origin, lineno, sizeof(cur->database) - 1);
						snprintf(cur->database, sizeof(cur->database), "%s", val);
					}
					else
					{
						char		at[300];

						snprintf(at, sizeof(at), "%s", cur->origin);
						snprintf(cur->origin, sizeof(cur->origin), "%s:%d", origin, lineno);
						if (usercheck_set_expect(cur, val, err) != 0)
							return -1;
						snprintf(cur->origin, sizeof(cur->origin), "%s", at);
					}
					continue;
				}
			}
		}
		if (cur == NULL)
		{
			char		name[96];

			if (*t == '\0' || strncmp(t, "--", 2) == 0)
				continue;		/* blank lines and comments before any SQL */
			default_name(origin, name, sizeof(name));
			if ((cur = list_add(list, name, origin, lineno, err)) == NULL)
				return -1;
		}
		if (add_sql(cur, line, err) != 0)
			return -1;
	}
	return check_complete(list, first, origin, err);
}

int
usercheck_parse_file(const char *path, UserCheckList *list, PgbError *err)
{
	char	   *text;
	size_t		len;
	int			rc;

	if (fio_read_small(path, CHECK_FILE_MAX, &text, &len, err) != 0)
	{
		err->code = EXIT_CONFIG;
		return pgb_error_context(err, "check file");
	}
	if (memchr(text, '\0', len) != NULL)
	{
		free(text);
		return pgb_error(err, EXIT_CONFIG, "check file \"%s\" is not text", path);
	}
	rc = usercheck_parse(text, path, list, err);
	free(text);
	return rc;
}

static bool
as_number(const char *s, double *out)
{
	char	   *end;

	errno = 0;
	*out = strtod(s, &end);
	return end != s && *end == '\0' && errno == 0 && isfinite(*out);
}

bool
usercheck_judge(const UserCheck *c, const DbTable *t, char *why, size_t len)
{
	const char *v;
	double		a,
				b;
	int			cmp;
	bool		ok;

	if (t->rows == 0 || t->cols == 0)
	{
		if (c->op[0])
		{
			snprintf(why, len, "returned no rows, expected %s %s", c->op, c->value);
			return false;
		}
		snprintf(why, len, "ran without error");
		return true;
	}
	v = db_table_cell(t, 0, 0);
	if (c->op[0] == '\0')
	{
		if (v && strcmp(v, "f") == 0)
		{
			snprintf(why, len, "returned false");
			return false;
		}
		snprintf(why, len, "returned %s", v ? v : "NULL");
		return true;
	}
	if (v == NULL)
	{
		snprintf(why, len, "returned NULL, expected %s %s", c->op, c->value);
		return false;
	}
	if (as_number(v, &a) && as_number(c->value, &b))
		cmp = a < b ? -1 : a > b ? 1 : 0;
	else
		cmp = strcmp(v, c->value);
	if (strcmp(c->op, "=") == 0)
		ok = cmp == 0;
	else if (strcmp(c->op, "!=") == 0)
		ok = cmp != 0;
	else if (strcmp(c->op, "<") == 0)
		ok = cmp < 0;
	else if (strcmp(c->op, "<=") == 0)
		ok = cmp <= 0;
	else if (strcmp(c->op, ">") == 0)
		ok = cmp > 0;
	else
		ok = cmp >= 0;
	snprintf(why, len, "returned %s, expected %s %s", v, c->op, c->value);
	return ok;
}

void
usercheck_list_free(UserCheckList *list)
{
	for (int i = 0; i < list->count; i++)
		free(list->items[i].sql);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

int
usercheck_add(UserCheckList *list, const char *name, const char *database, const char *expect, const char *sql,
			  const char *origin, PgbError *err)
{
	UserCheck  *c;

	if (name == NULL || name[0] == '\0' || sql == NULL || only_space(sql))
		return pgb_error(err, EXIT_CONFIG, "%s: a drill check needs a name and sql", origin);
	if ((c = list_add(list, name, origin, 0, err)) == NULL)
		return -1;
	snprintf(c->origin, sizeof(c->origin), "%s", origin);
	snprintf(c->database, sizeof(c->database), "%s", database ? database : "");
	if (expect && expect[0] && usercheck_set_expect(c, expect, err) != 0)
		return -1;
	if ((c->sql = strdup(sql)) == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	return 0;
}
