/*
 * A drill's findings: named steps, each with a result, a duration and a
 * one-line message (plus the tool output behind it), and the recovery time
 * split the report gives (restore, recovery, checks).  Rendered as text for
 * people, JSON for programs and JUnit XML for CI systems (one test case per
 * step; a skipped step is a skipped test case).
 */
#ifndef PGBKP_DRILL_REPORT_H
#define PGBKP_DRILL_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "common/fileio.h"
#include "common/timefmt.h"

#define DRILL_MAX_STEPS 80

typedef enum StepResult
{
	STEP_PASSED,
	STEP_FAILED,
	STEP_SKIPPED
} StepResult;

typedef struct DrillStep
{
	char		name[112];
	StepResult	result;
	double		seconds;
	char		message[1024];	/* one line */
	char	   *output;			/* what the tool or query said, or NULL */
} DrillStep;

typedef struct DrillReport
{
	char		cluster[128];
	char		target[256];	/* what recovery aimed at, in words */
	char		datadir[PGB_PATH_MAX];	/* set when the copy was kept */
	TimestampUs started;
	double		restore_seconds;
	double		recovery_seconds;
	double		checks_seconds;
	int			nsteps;
	DrillStep	steps[DRILL_MAX_STEPS];
} DrillReport;

/* A new step (the last one when the table is full). */
DrillStep  *drill_step_add(DrillReport *r, const char *name);
void		drill_step_set(DrillStep *s, StepResult result, const char *fmt,...) __attribute__((format(printf, 3, 4)));
/* Keep a copy of output (trailing whitespace removed) as the step's details. */
void		drill_step_output(DrillStep *s, const char *output);

/* Whether a step failed. */
bool		drill_report_failed(const DrillReport *r);
void		drill_report_free(DrillReport *r);

void		drill_report_text(const DrillReport *r, FILE *out);
/* malloc'd documents, NULL when out of memory. */
char	   *drill_report_json(const DrillReport *r);
char	   *drill_report_junit(const DrillReport *r);

#endif
