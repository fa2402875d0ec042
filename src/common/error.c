/* Error values: formatting of messages, hints and context (see error.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"

int
pgb_error(PgbError *err, int code, const char *fmt,...)
{
	va_list		ap;

	err->code = code ? code : EXIT_INTERNAL;
	err->hint[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int
pgb_error_errno(PgbError *err, int code, int errnum, const char *fmt,...)
{
	va_list		ap;
	size_t		len;

	err->code = code ? code : EXIT_INTERNAL;
	err->hint[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	len = strlen(err->msg);
	snprintf(err->msg + len, sizeof(err->msg) - len, ": %s", strerror(errnum));
	return -1;
}

int
pgb_hint(PgbError *err, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(err->hint, sizeof(err->hint), fmt, ap);
	va_end(ap);
	return -1;
}

int
pgb_error_context(PgbError *err, const char *fmt,...)
{
	char		prefix[PGB_ERRMSG_MAX];
	char		joined[PGB_ERRMSG_MAX];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	if (snprintf(joined, sizeof(joined), "%s: %s", prefix, err->msg) >= (int) sizeof(joined))
		joined[sizeof(joined) - 1] = '\0';	/* a truncated message still says what failed */
	memcpy(err->msg, joined, sizeof(err->msg));
	return -1;
}

void
pgb_error_clear(PgbError *err)
{
	err->code = 0;
	err->msg[0] = '\0';
	err->hint[0] = '\0';
}
