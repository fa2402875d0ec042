/*
 * pgbkp schedule: run the configured jobs on their cron schedules, in the
 * foreground (for systemd), on every member of the cluster.  The daemon is
 * src/sched/scheduler.c (scheduler.h says what it does: primary check,
 * child processes, catch-up, jitter, signals, job history and metrics);
 * this command gives it what it needs from the command layer: whether this
 * member is the primary, opening a repository, the metrics besides the
 * jobs' (metrics_feed.h) and the path of this pgbkp.
 */
#include "cmd/cmd.h"
#include "cmd/cmd_common.h"
#include "cmd/metrics_feed.h"
#include "common/fileio.h"
#include "sched/scheduler.h"

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
		.open_repo = cmd_open_repo_at,
		.refresh_metrics = refresh_metrics,
		.refresh_arg = &feed,
	};

	if (cmd_self_path(self, sizeof(self), err) != 0)
		return -1;
	return scheduler_run(cfg, &hooks, err);
}
