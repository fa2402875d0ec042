/*
 * Logging to stderr.  Program output (tables, JSON) goes to stdout and never
 * through here.  Only the command layer and long-running operations log;
 * library code returns errors instead.
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

/* Print an error value: "pgbkp: error: msg" and, if set, "pgbkp: hint: ...". */
void		log_pgb_error(const PgbError *err);

#endif
