/* One job history record (repo/history.h), as status and info show it. */
#ifndef PGBKP_JOB_REPORT_H
#define PGBKP_JOB_REPORT_H

struct JobRecord;
struct json_object;

/* The record as a JSON object (the caller owns it). */
struct json_object *cmd_job_json(const struct JobRecord *r);

/* The record as one indented line on stdout. */
void		cmd_job_text(const struct JobRecord *r);

#endif
