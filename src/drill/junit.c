/*
 * The drill report as JUnit XML, the format GitLab, Jenkins and GitHub
 * test reporters read: one <testsuite> for the drill, one <testcase> per
 * step with <failure> or <skipped>, and the step's details in
 * <system-out>.  Text is escaped for XML and characters XML 1.0 cannot
 * carry (control characters other than tab and newline) are dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drill/report.h"

static void
xml_text(FILE *f, const char *s)
{
	for (; s && *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		switch (c)
		{
			case '&':
				fputs("&amp;", f);
				break;
			case '<':
				fputs("&lt;", f);
				break;
			case '>':
				fputs("&gt;", f);
				break;
			case '"':
				fputs("&quot;", f);
				break;
			case '\'':
				fputs("&apos;", f);
				break;
			default:
				if (c >= 0x20 || c == '\n' || c == '\t')
					fputc(c, f);
		}
	}
}

char *
drill_report_junit(const DrillReport *r)
{
	char	   *buf = NULL;
	size_t		len = 0;
	FILE	   *f = open_memstream(&buf, &len);
	int			failures = 0,
				skipped = 0;
	double		total = 0;
	char		started[64];

	if (f == NULL)
		return NULL;
	for (int i = 0; i < r->nsteps; i++)
	{
		failures += r->steps[i].result == STEP_FAILED;
		skipped += r->steps[i].result == STEP_SKIPPED;
		total += r->steps[i].seconds;
	}
	time_format_iso(r->started, started, sizeof(started));
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(f, "<testsuites name=\"pgbkp drill\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\" time=\"%.3f\">\n",
			r->nsteps, failures, skipped, total);
	fprintf(f, "  <testsuite name=\"pgbkp drill ");
	xml_text(f, r->cluster);
	fprintf(f, "\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\" time=\"%.3f\" timestamp=\"%s\">\n",
			r->nsteps, failures, skipped, total, started);
	fprintf(f, "    <properties>\n      <property name=\"target\" value=\"");
	xml_text(f, r->target);
	fprintf(f, "\"/>\n    </properties>\n");
	for (int i = 0; i < r->nsteps; i++)
	{
		const DrillStep *s = &r->steps[i];

		fprintf(f, "    <testcase classname=\"pgbkp.drill.");
		xml_text(f, r->cluster);
		fprintf(f, "\" name=\"");
		xml_text(f, s->name);
		fprintf(f, "\" time=\"%.3f\">\n", s->seconds);
		if (s->result == STEP_FAILED)
		{
			fprintf(f, "      <failure type=\"drill\" message=\"");
			xml_text(f, s->message);
			fprintf(f, "\">");
			xml_text(f, s->output ? s->output : s->message);
			fprintf(f, "</failure>\n");
		}
		else if (s->result == STEP_SKIPPED)
		{
			fprintf(f, "      <skipped message=\"");
			xml_text(f, s->message);
			fprintf(f, "\"/>\n");
		}
		if (s->result != STEP_FAILED || s->output)
		{
			fprintf(f, "      <system-out>");
			xml_text(f, s->message);
			if (s->output)
			{
				fputc('\n', f);
				xml_text(f, s->output);
			}
			fprintf(f, "</system-out>\n");
		}
		fprintf(f, "    </testcase>\n");
	}
	fprintf(f, "  </testsuite>\n</testsuites>\n");
	if (fclose(f) != 0)
	{
		free(buf);
		return NULL;
	}
	return buf;
}
