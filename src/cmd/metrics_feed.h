/*
 * What "pgbkp schedule" and "pgbkp metrics" put into the metrics snapshot
 * besides the scheduler's jobs: the repositories (metrics_collect), this
 * member's role and the server's archiver counters.  A repository that
 * cannot be read is logged when the problem appears or changes, and again
 * when it is gone, not at every refresh.
 */
#ifndef PGBKP_METRICS_FEED_H
#define PGBKP_METRICS_FEED_H

#include "config/config.h"
#include "sched/metrics.h"

typedef struct MetricsFeed
{
	char		problem[METRICS_MAX_REPOS][PGB_ERRMSG_MAX];	/* last logged, per repository; "" none */
} MetricsFeed;

/*
 * Refill s (its jobs are left alone) and set its time.  probe_role: ask
 * the cluster whether this member is the primary (else s->is_primary, the
 * last answer, is kept).
 */
void		metrics_feed_refresh(const Config *cfg, MetricsFeed *f, bool probe_role, MetricsSnapshot *s);

#endif
