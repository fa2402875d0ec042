/*
 * Logging to stderr, and optionally to a log file with its own level.
 * Program output (tables, JSON) goes to stdout and never through here.  Only
 * the command layer and long-running operations log; library code returns
 * errors instead.  File lines have pgBackRest's shape
 * ("2026-12-03 01:00:00.123 P00   INFO: message"), so log collectors set up
 * for pgBackRest (Pigsty's Vector) read them unchanged.
 */
#ifndef PGBKP_LOG_H
#define PGBKP_LOG_H

#include "common/error.h"

typedef enum LogLevel
{
	LOG_ERROR = 0,
	LOG_WARN = 1,
	LOG_INFO = 2,
	LOG_DEBUG = 3
} LogLevel;

void		log_set_level(LogLevel level);
LogLevel	log_get_level(void);
/* Parse "error|warn|info|debug"; returns -1 if unknown. */
int			log_level_parse(const char *name);

void		log_error(const char *fmt,...) PGB_PRINTF(1, 2);
void		log_warn(const char *fmt,...) PGB_PRINTF(1, 2);
void		log_info(const char *fmt,...) PGB_PRINTF(1, 2);
void		log_debug(const char *fmt,...) PGB_PRINTF(1, 2);

/*
 * Also log to the file at path (appended, created 0640) from now on, at
 * level.  false (and errno) when it cannot be opened: logging goes on to
 * stderr only.
 */
bool		log_open_file(const char *path, LogLevel level);
void		log_close_file(void);
/* A line for the log file only (command begin and end). */
void		log_file_only(LogLevel level, const char *fmt,...) PGB_PRINTF(2, 3);

/* Print an error value: "pgbkp: error: msg" and, if set, "pgbkp: hint: ...". */
void		log_pgb_error(const PgbError *err);

#endif
