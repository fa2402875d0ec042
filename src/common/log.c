/* stderr and log-file logging with level thresholds (see log.h). */
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

static LogLevel current_level = LOG_INFO;
static FILE *log_file;
static LogLevel file_level = LOG_INFO;

static const char *const file_tags[] = {"ERROR", "WARN", "INFO", "DEBUG"};

static void
file_emit(LogLevel level, const char *fmt, va_list ap)
{
	struct timeval tv;
	struct tm	tm;

	if (log_file == NULL || level > file_level)
		return;
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	fprintf(log_file, "%04d-%02d-%02d %02d:%02d:%02d.%03d P00 %6s: ", tm.tm_year + 1900, tm.tm_mon + 1,
			tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int) (tv.tv_usec / 1000), file_tags[level]);
	vfprintf(log_file, fmt, ap);
	fputc('\n', log_file);
	fflush(log_file);
}

bool
log_open_file(const char *path, LogLevel level)
{
	int			fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	if (fd < 0)
		return false;
	log_close_file();
	if ((log_file = fdopen(fd, "a")) == NULL)
	{
		close(fd);
		return false;
	}
	file_level = level;
	return true;
}

void
log_close_file(void)
{
	if (log_file)
		fclose(log_file);
	log_file = NULL;
}

void
log_file_only(LogLevel level, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	file_emit(level, fmt, ap);
	va_end(ap);
}

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
	va_list		copy;

	va_copy(copy, ap);
	file_emit(level, fmt, copy);
	va_end(copy);
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
	if (err->hint[0])
		log_file_only(LOG_ERROR, "%s (hint: %s)", err->msg[0] ? err->msg : "unknown error", err->hint);
	else
		log_file_only(LOG_ERROR, "%s", err->msg[0] ? err->msg : "unknown error");
	fprintf(stderr, "pgbkp: error: %s\n", err->msg[0] ? err->msg : "unknown error");
	if (err->hint[0])
		fprintf(stderr, "pgbkp: hint: %s\n", err->hint);
}
