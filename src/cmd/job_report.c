/* One job history record as info and status show it (see job_report.h). */
#include <stdio.h>
#include <json-c/json.h>

#include "cmd/job_report.h"
#include "common/timefmt.h"
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
