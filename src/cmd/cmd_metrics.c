/*
 * pgbkp metrics: the metrics endpoint alone, without the scheduler, in the
 * foreground (for systemd: scripts/pgbkp-metrics.service), so that it can
 * replace pgbackrest_exporter one for one.  It serves on --metrics-port
 * (default 9854, the exporter's) what "pgbkp schedule" serves except the
 * job families, and reads the repositories and the server again every
 * --metrics-interval seconds.  SIGTERM or SIGINT: exit 0.  SIGHUP: the
 * configuration is read again (on error the old one stays and the error is
 * logged) and the values are read at once.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/metrics_feed.h"
#include "common/log.h"
#include "sched/metrics_server.h"

typedef struct Exporter
{
	const Config *cfg;			/* current configuration */
	Config		owned;			/* after a reload */
	bool		owns;
	MetricsServer *server;
	MetricsSnapshot snap;
	MetricsFeed feed;
} Exporter;

static void
refresh(Exporter *e)
{
	metrics_feed_refresh(e->cfg, &e->feed, true, &e->snap);
	if (metrics_update(e->server, &e->snap) != 0)
		log_warn("metrics: out of memory: the endpoint serves the previous values");
}

/* SIGHUP.  The port and address stay those the server was started with. */
static void
reload(Exporter *e)
{
	Config		fresh;
	PgbError	err = {0};

	log_info("SIGHUP: reading the configuration again");
	if (config_load(&fresh, e->cfg->argc, e->cfg->argv, &err) != 0)
	{
		log_error("the configuration was not reloaded: %s", err.msg);
		if (err.hint[0])
			log_error("hint: %s", err.hint);
		return;
	}
	if (fresh.metrics_port != e->cfg->metrics_port)
		log_warn("the metrics port changes only with a restart: still serving on %d", metrics_port(e->server));
	if (e->owns)
		config_free(&e->owned);
	e->owned = fresh;
	e->owns = true;
	e->cfg = &e->owned;
	memset(e->feed.problem, 0, sizeof(e->feed.problem));	/* say again what is wrong */
	log_info("configuration reloaded");
}

int
cmd_metrics(const Config *cfg, PgbError *err)
{
	Exporter	e = {.cfg = cfg};
	sigset_t	mask;
	int			sfd;
	int			rc = 0;
	bool		stopping = false;

	if (cfg->metrics_port == 0)
	{
		pgb_error(err, EXIT_CONFIG, "the metrics port is 0: there is nothing to serve");
		return pgb_hint(err, "set metrics_port (default 9854)");
	}
	/* blocked before any thread starts (the server's, libcurl's), so only signalfd sees them */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if ((sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		return pgb_error_errno(err, EXIT_INTERNAL, errno, "could not set up signal handling");
	if ((e.server = metrics_start(cfg->metrics_address, cfg->metrics_port, err)) == NULL)
	{
		close(sfd);
		return -1;
	}
	log_info("metrics of cluster \"%s\" on port %d, read every %d s", cfg->cluster ? cfg->cluster : "",
			 metrics_port(e.server), cfg->metrics_interval);
	while (!stopping)
	{
		time_t		next = time(NULL) + e.cfg->metrics_interval;
		bool		again = false;

		refresh(&e);
		while (!stopping && !again)
		{
			struct pollfd fd = {.fd = sfd, .events = POLLIN};
			struct signalfd_siginfo si;
			time_t		now = time(NULL);

			if (now >= next)
				break;
			if (poll(&fd, 1, (int) (next - now) * 1000) < 0 && errno != EINTR)
			{
				rc = pgb_error_errno(err, EXIT_INTERNAL, errno, "could not wait for signals");
				stopping = true;
				break;
			}
			while (read(sfd, &si, sizeof(si)) == sizeof(si))
			{
				if (si.ssi_signo == SIGHUP)
				{
					reload(&e);
					again = true;
				}
				else
				{
					log_info("signal %d: stopping", (int) si.ssi_signo);
					stopping = true;
				}
			}
		}
	}
	metrics_stop(e.server);
	metrics_snapshot_clear(&e.snap);
	close(sfd);
	if (e.owns)
		config_free(&e.owned);
	log_info("metrics endpoint stopped");
	return rc;
}
