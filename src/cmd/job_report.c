/* One job history record as info and status show it (see job_report.h). */
#include <stdio.h>
#include <json-c/json.h>

#include "cmd/job_report.h"
#include "common/timefmt.h"
#include "pg/lsn.h"
#include "repo/history.h"

json_object *
cmd_job_json(const JobRecord *r)
{
	json_object *o = json_object_new_object();
	char		a[64];

	json_object_object_add(o, "job", json_object_new_string(r->job));
	json_object_object_add(o, "node", json_object_new_string(r->node));
	time_format_utc(r->start, a, sizeof(a));
	json_object_object_add(o, "start", json_object_new_string(a));
	time_format_utc(r->end, a, sizeof(a));
	json_object_object_add(o, "end", json_object_new_string(a));
	json_object_object_add(o, "outcome", json_object_new_string(r->outcome));
	json_object_object_add(o, "exit_code", json_object_new_int(r->exit_code));
	json_object_object_add(o, "bytes", json_object_new_int64((int64_t) r->bytes));
	json_object_object_add(o, "label", json_object_new_string(r->label));
	json_object_object_add(o, "message", json_object_new_string(r->message));
	return o;
}

void
cmd_job_text(const JobRecord *r)
{
	char		a[64];

	time_format_utc(r->start, a, sizeof(a));
	printf("    %s  %s on %s: %s (%.1f s", a, r->job, r->node, r->outcome, (double) (r->end - r->start) / 1e6);
	if (r->bytes)
		printf(", %.1f MB", r->bytes / 1048576.0);
	if (r->label[0])
		printf(", %s", r->label);
	printf(")%s%s\n", r->message[0] ? ": " : "", r->message);
}

void
cmd_jobs_show(const JobRecord *jobs, int n, json_object *o)
{
	if (o)
	{
		json_object *j = json_object_new_array();

		for (int k = 0; k < n; k++)
			json_object_array_add(j, cmd_job_json(&jobs[k]));
		json_object_object_add(o, "jobs", j);
	}
	else if (n > 0)
	{
		printf("  recent jobs:\n");
		for (int k = 0; k < n; k++)
			cmd_job_text(&jobs[k]);
	}
}

json_object *
cmd_json_time(int64_t t)
{
	char		buf[64];

	time_format_iso(t, buf, sizeof(buf));
	return json_object_new_string(buf);
}

json_object *
cmd_json_lsn(uint64_t lsn)
{
	char		buf[32];

	lsn_format(lsn, buf, sizeof(buf));
	return json_object_new_string(buf);
}

void
cmd_status_newest(bool json, json_object *o, const char *label, const char *type, int64_t stop,
				  uint64_t stored, int count)
{
	char		a[64];

	if (label == NULL)
	{
		if (!json)
			printf("  no backups\n");
		return;
	}
	time_format_utc(stop, a, sizeof(a));
	if (json)
	{
		json_object *n = json_object_new_object();

		json_object_object_add(n, "label", json_object_new_string(label));
		json_object_object_add(n, "type", json_object_new_string(type));
		json_object_object_add(n, "stop", json_object_new_string(a));
		json_object_object_add(n, "stored_bytes", json_object_new_int64((int64_t) stored));
		json_object_object_add(o, "newest_backup", n);
	}
	else
		printf("  newest backup %s (%s, stopped %s, %.1f MB stored); %d backups\n", label, type, a,
			   stored / 1048576.0, count);
}

void
cmd_status_window(bool json, json_object *o, bool valid, int64_t start, int64_t end)
{
	char		a[64],
				b[64];

	if (!valid)
	{
		if (!json)
			printf("  recoverable window: none\n");
		return;
	}
	time_format_utc(start, a, sizeof(a));
	time_format_utc(end, b, sizeof(b));
	if (json)
	{
		json_object *w = json_object_new_object();

		json_object_object_add(w, "start", json_object_new_string(a));
		json_object_object_add(w, "end", json_object_new_string(b));
		json_object_object_add(o, "recoverable_window", w);
	}
	else
		printf("  recoverable window %s .. %s\n", a, b);
}
