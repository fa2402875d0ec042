/*
 * pgbkp schedule: run the configured jobs on their cron schedules, in the
 * foreground (for systemd), on every member of the cluster.  The daemon is
 * src/sched/scheduler.c (scheduler.h says what it does: primary check,
 * child processes, catch-up, jitter, signals, job history and metrics);
 * this command gives it what it needs from the command layer: whether this
 * member is the primary, a repository's job history (pgbkp's state
 * directory for a pgBackRest repository), the backup a run made, the
 * metrics besides the jobs' (metrics_feed.h) and the path of this pgbkp.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/cmd_common.h"
#include "cmd/metrics_feed.h"
#include "cmd/pgbr.h"
#include "common/fileio.h"
#include "pgbackrest/info.h"
#include "repo/catalog.h"
#include "sched/scheduler.h"

/*
 * A job record's label has 31 bytes; pgBackRest's label of a diff or incr
 * backup (FULL_NEWI) is longer, and is recorded as its own part after '_'.
 */
static void
record_label(const char *label, char *out, size_t len)
{
	const char *own = strchr(label, '_');

	snprintf(out, len, "%s", strlen(label) >= len && own ? own + 1 : label);
}

/* A backup counts as the run's when it started at most this long before the run (whole-second times). */
#define RUN_START_SLACK_US 2000000

static bool
backup_of_run(const Config *cfg, TimestampUs start, char *label, size_t len, uint64_t *bytes)
{
	PgbError	err = {0};
	bool		found = false;

	if (pgbr_is_repo(cfg, 0))
	{
		PgbrInfo	info;

		if (pgbr_info_load(&cfg->repos[0], cfg->cluster, &info, &err) != 0)
			return false;
		if (info.nbackups > 0 && info.backups[info.nbackups - 1].start_time >= start - RUN_START_SLACK_US)
		{
			record_label(info.backups[info.nbackups - 1].label, label, len);
			*bytes = info.backups[info.nbackups - 1].repo_delta;
			found = true;
		}
		pgbr_info_free(&info);
	}
	else
	{
		Repo	   *repo = cmd_open_repo_at(cfg, 0, &err);
		Catalog		cat = {0};

		if (repo && catalog_load_headers(repo, &cat, &err) == 0 && cat.count > 0 &&
			cat.backups[cat.count - 1].start_time >= start - RUN_START_SLACK_US)
		{
			snprintf(label, len, "%s", cat.backups[cat.count - 1].label);
			*bytes = cat.backups[cat.count - 1].repo_size;
			found = true;
		}
		catalog_free(&cat);
		repo_free(repo);
	}
	return found;
}

static void
refresh_metrics(void *arg, const Config *cfg, bool probe_role, MetricsSnapshot *s)
{
	metrics_feed_refresh(cfg, arg, probe_role, s);
}

int
cmd_schedule(const Config *cfg, PgbError *err)
{
	char		self[PGB_PATH_MAX];
	MetricsFeed feed = {0};
	SchedulerHooks hooks = {
		.self = self,
		.member_role = cmd_member_role,
		.open_history = cmd_open_history_at,
		.backup_of_run = backup_of_run,
		.refresh_metrics = refresh_metrics,
		.refresh_arg = &feed,
	};

	if (cmd_self_path(self, sizeof(self), err) != 0)
		return -1;
	return scheduler_run(cfg, &hooks, err);
}
