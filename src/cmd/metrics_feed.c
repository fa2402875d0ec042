/* The metrics snapshot's repositories, role and archiver counters (see metrics_feed.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd_common.h"
#include "cmd/metrics_feed.h"
#include "common/log.h"
#include "pg/archstatus.h"
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

/* The WAL waiting in pg_data to be archived (only where pg_data is this host's data directory). */
static void
collect_backlog(const Config *cfg, MetricsSnapshot *s)
{
	ArchBacklog b;
	PgbError	err = {0};

	s->backlog_known = false;
	s->backlog_alert = (uint64_t) cfg->archive_backlog_alert * 1024 * 1024;
	if (cfg->pg_data == NULL)
		return;
	if (archstatus_data_backlog(cfg->pg_data, &b, &err) != 0)
	{
		log_debug("metrics: no archive backlog: %s", err.msg);
		return;
	}
	s->backlog_known = true;
	s->backlog_files = b.count;
	s->backlog_bytes = b.bytes;
	s->backlog_oldest = (double) b.oldest;
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
	metrics_collect_stream(cfg, conn, s);
	db_close(conn);
	collect_backlog(cfg, s);
	s->scrape_time_source = (double) time(NULL);
}
