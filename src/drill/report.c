/* A drill's steps, and the report as text and JSON (see report.h). */
#include <json-c/json.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "drill/report.h"

static const char *const result_names[] = {"passed", "failed", "skipped"};

DrillStep *
drill_step_add(DrillReport *r, const char *name)
{
	DrillStep  *s = &r->steps[r->nsteps < DRILL_MAX_STEPS ? r->nsteps++ : DRILL_MAX_STEPS - 1];

	free(s->output);
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->result = STEP_SKIPPED;
	return s;
}

void
drill_step_set(DrillStep *s, StepResult result, const char *fmt,...)
{
	va_list		ap;

	s->result = result;
	va_start(ap, fmt);
	vsnprintf(s->message, sizeof(s->message), fmt, ap);
	va_end(ap);
	for (char *p = s->message; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
}

void
drill_step_output(DrillStep *s, const char *output)
{
	size_t		n;

	free(s->output);
	s->output = NULL;
	if (output == NULL)
		return;
	n = strlen(output);
	while (n > 0 && (output[n - 1] == '\n' || output[n - 1] == ' '))
		n--;
	if (n > 0)
		s->output = strndup(output, n);
}

bool
drill_report_failed(const DrillReport *r)
{
	for (int i = 0; i < r->nsteps; i++)
		if (r->steps[i].result == STEP_FAILED)
			return true;
	return false;
}

void
drill_report_free(DrillReport *r)
{
	for (int i = 0; i < r->nsteps; i++)
	{
		free(r->steps[i].output);
		r->steps[i].output = NULL;
	}
}

void
drill_report_text(const DrillReport *r, FILE *out)
{
	fprintf(out, "drill of %s (%s): %s\n", r->cluster, r->target, drill_report_failed(r) ? "FAILED" : "passed");
	for (int i = 0; i < r->nsteps; i++)
	{
		const DrillStep *s = &r->steps[i];

		fprintf(out, "  %-7s %-24s %8.1f s  %s\n", result_names[s->result], s->name, s->seconds, s->message);
	}
	fprintf(out, "recovery time: restore %.1f s, recovery %.1f s, checks %.1f s\n",
			r->restore_seconds, r->recovery_seconds, r->checks_seconds);
	if (r->datadir[0])
		fprintf(out, "the restored copy was kept: %s\n", r->datadir);
}

static json_object *
seconds_json(double s)
{
	return json_object_new_double(((long long) (s * 1000 + 0.5)) / 1000.0);
}

char *
drill_report_json(const DrillReport *r)
{
	json_object *o = json_object_new_object();
	json_object *steps = json_object_new_array();
	json_object *rto = json_object_new_object();
	char		started[64];
	char	   *text;

	time_format_iso(r->started, started, sizeof(started));
	json_object_object_add(o, "cluster", json_object_new_string(r->cluster));
	json_object_object_add(o, "target", json_object_new_string(r->target));
	json_object_object_add(o, "started", json_object_new_string(started));
	json_object_object_add(o, "result", json_object_new_string(drill_report_failed(r) ? "failed" : "passed"));
	for (int i = 0; i < r->nsteps; i++)
	{
		const DrillStep *s = &r->steps[i];
		json_object *j = json_object_new_object();

		json_object_object_add(j, "name", json_object_new_string(s->name));
		json_object_object_add(j, "result", json_object_new_string(result_names[s->result]));
		json_object_object_add(j, "seconds", seconds_json(s->seconds));
		json_object_object_add(j, "message", json_object_new_string(s->message));
		if (s->output)
			json_object_object_add(j, "output", json_object_new_string(s->output));
		json_object_array_add(steps, j);
	}
	json_object_object_add(o, "steps", steps);
	json_object_object_add(rto, "restore_seconds", seconds_json(r->restore_seconds));
	json_object_object_add(rto, "recovery_seconds", seconds_json(r->recovery_seconds));
	json_object_object_add(rto, "checks_seconds", seconds_json(r->checks_seconds));
	json_object_object_add(rto, "total_seconds",
						   seconds_json(r->restore_seconds + r->recovery_seconds + r->checks_seconds));
	json_object_object_add(o, "rto", rto);
	json_object_object_add(o, "data_directory", r->datadir[0] ? json_object_new_string(r->datadir) : NULL);
	text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return text;
}
