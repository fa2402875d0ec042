/* One job history record (repo/history.h), as status and info show it. */
#ifndef PGBKP_JOB_REPORT_H
#define PGBKP_JOB_REPORT_H

#include <stdbool.h>
#include <stdint.h>

struct JobRecord;
struct json_object;

/* The record as a JSON object (the caller owns it). */
struct json_object *cmd_job_json(const struct JobRecord *r);

/* The record as one indented line on stdout. */
void		cmd_job_text(const struct JobRecord *r);

/* The recent jobs: o's "jobs" array (o not NULL), or printed under "  recent jobs:" (when there are any). */
void		cmd_jobs_show(const struct JobRecord *jobs, int n, struct json_object *o);

/* A time (ISO 8601, UTC) and an LSN as info's JSON shows them. */
struct json_object *cmd_json_time(int64_t t);
struct json_object *cmd_json_lsn(uint64_t lsn);

/*
 * status's lines for a repository's newest backup and its window: into o
 * (JSON) or printed.  label NULL: no backups; valid false: no window.
 */
void		cmd_status_newest(bool json, struct json_object *o, const char *label, const char *type,
							  int64_t stop, uint64_t stored, int count);
void		cmd_status_window(bool json, struct json_object *o, bool valid, int64_t start, int64_t end);

#endif
