/* The metrics snapshot's repositories, role and archiver counters (see metrics_feed.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd_common.h"
#include "cmd/metrics_feed.h"
#include "common/log.h"
#include "sched/jobs.h"
#include "sched/metrics_collect.h"

/* Log what changed about each repository's readability since the last refresh. */
static void
log_problems(MetricsFeed *f, const MetricsSnapshot *s)
{
	for (int i = 0; i < s->nrepos; i++)
	{
		const MetricsRepo *r = &s->repos[i];
		bool		bad = r->status == METRICS_REPO_MISSING || r->status == METRICS_REPO_BAD_DATA ||
			r->status == METRICS_REPO_OTHER;

		if (bad && strcmp(f->problem[i], r->error) != 0)
		{
			log_warn("metrics: repository \"%s\": %s", r->name, r->error);
			snprintf(f->problem[i], sizeof(f->problem[i]), "%s", r->error);
		}
		else if (!bad && f->problem[i][0] != '\0')
		{
			log_info("metrics: repository \"%s\" can be read again", r->name);
			f->problem[i][0] = '\0';
		}
	}
}

void
metrics_feed_refresh(const Config *cfg, MetricsFeed *f, bool probe_role, MetricsSnapshot *s)
{
	PgbError	err = {0};
	DbConn	   *conn;
	char		node[128];

	if (probe_role)
	{
		char		note[1024];

		s->is_primary = cmd_member_role(cfg, note, sizeof(note), &err) == 1;
		pgb_error_clear(&err);
	}
	snprintf(s->cluster, sizeof(s->cluster), "%s", cfg->cluster ? cfg->cluster : "");
	snprintf(s->instance, sizeof(s->instance), "%s", sched_node_name(cfg, node, sizeof(node)));
	metrics_collect_repositories(cfg, s);
	log_problems(f, s);
	s->last_archived_time = 0;
	s->archive_failures = s->archived_count = 0;
	if ((conn = cmd_connect(cfg, &err)) == NULL ||
		metrics_collect_archiver(conn, s, &err) != 0)
		log_debug("metrics: no archiver counters from the server: %s", err.msg);
	db_close(conn);
	s->scrape_time_source = (double) time(NULL);
}
