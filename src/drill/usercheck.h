/*
 * The operator's own drill checks: SQL that must succeed on the restored
 * copy and, optionally, whose first value must compare to an expected one
 * ("orders today > 0").
 *
 * A check file (--check-sql FILE) is SQL with directive comments.  A line
 * `-- name: NAME` starts a check; `-- database: DB` and `-- expect: [OP]
 * VALUE` (OP one of = != <> < <= > >=, default =) apply to the check they
 * follow.  SQL before the first name is a check named after the file.  A
 * check without an expectation passes when its SQL runs without error and
 * does not return false as its first value.  Values compare as numbers when
 * both sides are numbers, else as text.
 */
#ifndef PGBKP_USERCHECK_H
#define PGBKP_USERCHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "pg/db.h"

typedef struct UserCheck
{
	char		name[96];
	char		database[128];	/* empty: the drill's database */
	char		op[3];			/* empty: no expectation */
	char		value[256];
	char	   *sql;
	char		origin[300];	/* FILE:LINE where the check starts */
} UserCheck;

typedef struct UserCheckList
{
	int			count;
	UserCheck  *items;
} UserCheckList;

/* Append the checks of a check file's text (origin names it in messages); EXIT_CONFIG on a bad directive. */
int			usercheck_parse(const char *text, const char *origin, UserCheckList *list, PgbError *err);

/* Read a check file and append its checks. */
int			usercheck_parse_file(const char *path, UserCheckList *list, PgbError *err);

/* Set c's expectation from "[OP] VALUE"; EXIT_CONFIG when malformed. */
int			usercheck_set_expect(UserCheck *c, const char *text, PgbError *err);

/* Judge a check's result: true when it passes; why says what was seen. */
bool		usercheck_judge(const UserCheck *c, const DbTable *result, char *why, size_t len);

/* Append one check given whole (the configuration's drill_checks); expect may be "". */
int			usercheck_add(UserCheckList *list, const char *name, const char *database, const char *expect,
						  const char *sql, const char *origin, PgbError *err);

void		usercheck_list_free(UserCheckList *list);

#endif
