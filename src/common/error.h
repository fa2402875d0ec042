/*
 * Errors as values.  Library code fills a PgbError and returns -1 (or NULL);
 * callers may add context on the way up; only the command layer prints the
 * message (once) and exits with err->code.
 */
#ifndef PGBKP_ERROR_H
#define PGBKP_ERROR_H

#include <stdbool.h>
#include "common/exitcode.h"

#define PGB_ERRMSG_MAX 1024
#define PGB_HINT_MAX 512

typedef struct PgbError
{
	int			code;			/* ExitCode; 0 when no error is set */
	char		msg[PGB_ERRMSG_MAX];
	char		hint[PGB_HINT_MAX];
} PgbError;

#if defined(__GNUC__)
#define PGB_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define PGB_PRINTF(a, b)
#endif

/* Set the error (replacing any previous one, hint cleared); returns -1. */
int			pgb_error(PgbError *err, int code, const char *fmt,...) PGB_PRINTF(3, 4);

/* Like pgb_error, appending ": strerror(errnum)". */
int			pgb_error_errno(PgbError *err, int code, int errnum, const char *fmt,...) PGB_PRINTF(4, 5);

/* Attach a hint to the current error; returns -1. */
int			pgb_hint(PgbError *err, const char *fmt,...) PGB_PRINTF(2, 3);

/* Prefix the current message with context ("context: message"); returns -1. */
int			pgb_error_context(PgbError *err, const char *fmt,...) PGB_PRINTF(2, 3);

void		pgb_error_clear(PgbError *err);

static inline bool
pgb_error_is_set(const PgbError *err)
{
	return err->code != 0;
}

#endif
