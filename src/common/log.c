/* stderr logging with a level threshold (see log.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"

static LogLevel current_level = LOG_INFO;

void
log_set_level(LogLevel level)
{
	current_level = level;
}

LogLevel
log_get_level(void)
{
	return current_level;
}

int
log_level_parse(const char *name)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};

	for (int i = 0; i < 4; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

static void
log_emit(LogLevel level, const char *tag, const char *fmt, va_list ap)
{
	if (level > current_level)
		return;
	fprintf(stderr, "pgbkp: %s", tag);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

#define LOG_FN(fn, level, tag) \
void fn(const char *fmt,...) \
{ \
	va_list ap; \
	va_start(ap, fmt); \
	log_emit(level, tag, fmt, ap); \
	va_end(ap); \
}

LOG_FN(log_error, LOG_ERROR, "error: ")
LOG_FN(log_warn, LOG_WARN, "warning: ")
LOG_FN(log_info, LOG_INFO, "")
LOG_FN(log_debug, LOG_DEBUG, "debug: ")

void
log_pgb_error(const PgbError *err)
{
	fprintf(stderr, "pgbkp: error: %s\n", err->msg[0] ? err->msg : "unknown error");
	if (err->hint[0])
		fprintf(stderr, "pgbkp: hint: %s\n", err->hint);
}
