/*
 * Serving the metrics endpoint (metrics_server.c): a small HTTP server
 * with a thread of its own that holds the latest MetricsSnapshot
 * (metrics.h) and renders it on every scrape of /metrics.  The commands
 * that run it ("pgbkp schedule", "pgbkp metrics") hand it a new snapshot
 * whenever they have collected one.
 */
#ifndef PGBKP_METRICS_SERVER_H
#define PGBKP_METRICS_SERVER_H

#include "common/error.h"
#include "sched/metrics.h"

#define METRICS_DEFAULT_PORT 9854

typedef struct MetricsServer MetricsServer;

/*
 * Listen on addr:port (addr NULL = all addresses, IPv6 and IPv4; port 0 =
 * any free port, see metrics_port) and serve GET /metrics, and / with a
 * link to it, from a thread of its own; other paths get 404, other methods
 * 405.  Until the first metrics_update, /metrics reports pgbkp_up 0.
 * EXIT_REFUSED when the port is in use; EXIT_CONFIG when it is not
 * allowed or addr is not an address of this host.
 */
MetricsServer *metrics_start(const char *addr, int port, PgbError *err);
/* The port the server listens on. */
int			metrics_port(const MetricsServer *m);
/*
 * Replace the snapshot served by a copy of s (safe from any thread).  Out
 * of memory: the previous one stays, and -1.
 */
int			metrics_update(MetricsServer *m, const MetricsSnapshot *s);
/* Stop serving and free m.  Accepts NULL. */
void		metrics_stop(MetricsServer *m);

#endif
