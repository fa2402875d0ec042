/*
 * Prometheus metrics (see metrics.h): a renderer from a snapshot to the
 * text exposition format, and a small libmicrohttpd server that serves the
 * latest snapshot.  The server binds its own listening socket before
 * handing it to libmicrohttpd, so that "port in use" and "permission
 * denied" are reported as such instead of as an unexplained failure.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>

#include "sched/metrics.h"

#if MHD_VERSION >= 0x00097002
typedef enum MHD_Result MhdResult;
#else
typedef int MhdResult;
#endif

#ifdef MHD_USE_AUTO_INTERNAL_THREAD
#define METRICS_MHD_FLAGS MHD_USE_AUTO_INTERNAL_THREAD
#elif defined(MHD_USE_INTERNAL_POLLING_THREAD)
#define METRICS_MHD_FLAGS MHD_USE_INTERNAL_POLLING_THREAD
#else
#define METRICS_MHD_FLAGS MHD_USE_SELECT_INTERNALLY
#endif

#define CONTENT_TYPE_METRICS "text/plain; version=0.0.4; charset=utf-8"

/* ------------------------------------------------------------ rendering */

typedef struct Render
{
	MemBuf	   *out;
	bool		failed;
	char		base[1024];		/* cluster="...",node="..." (escaped) */
} Render;

static void
put(Render *r, const char *s, size_t len)
{
	PgbError	err = {0};

	if (!r->failed && membuf_append(r->out, s, len, &err) != 0)
		r->failed = true;
}

static void
puts_(Render *r, const char *s)
{
	put(r, s, strlen(s));
}

/* A label value escaped per the exposition format (\\, \", \n), from at most max bytes of s. */
static void
escape_value(char *dst, size_t len, const char *s, size_t max)
{
	size_t		o = 0;

	for (size_t i = 0; i < max && s[i] != '\0' && o + 3 < len; i++)
	{
		if (s[i] == '\\' || s[i] == '"')
		{
			dst[o++] = '\\';
			dst[o++] = s[i];
		}
		else if (s[i] == '\n')
		{
			dst[o++] = '\\';
			dst[o++] = 'n';
		}
		else
			dst[o++] = s[i];
	}
	dst[o] = '\0';
}

/* The shortest decimal that reads back as v ("NaN", "+Inf", "-Inf" as Prometheus spells them). */
static void
format_value(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "NaN");
	else if (isinf(v))
		snprintf(buf, len, v > 0 ? "+Inf" : "-Inf");
	else if (v == floor(v) && fabs(v) < 1e15)
		snprintf(buf, len, "%.0f", v);	/* integers in full, not as 1.8e+09 */
	else
	{
		for (int prec = 1; prec <= 17; prec++)
		{
			snprintf(buf, len, "%.*g", prec, v);
			if (strtod(buf, NULL) == v)
				return;
		}
	}
}

static void
family(Render *r, const char *name, const char *type, const char *help)
{
	char		line[512];

	snprintf(line, sizeof(line), "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
	puts_(r, line);
}

/* name{base[,key="value"...]} value: extra holds pre-escaped label pairs or "". */
static void
sample_text(Render *r, const char *name, const char *extra, const char *value)
{
	puts_(r, name);
	puts_(r, "{");
	puts_(r, r->base);
	if (extra[0] != '\0')
	{
		puts_(r, ",");
		puts_(r, extra);
	}
	puts_(r, "} ");
	puts_(r, value);
	puts_(r, "\n");
}

static void
sample(Render *r, const char *name, const char *extra, double v)
{
	char		value[64];

	format_value(v, value, sizeof(value));
	sample_text(r, name, extra, value);
}

static void
sample_u64(Render *r, const char *name, const char *extra, uint64_t v)
{
	char		value[32];

	snprintf(value, sizeof(value), "%" PRIu64, v);
	sample_text(r, name, extra, value);
}

/* key="escaped value" into buf. */
static void
label(char *buf, size_t len, const char *key, const char *value, size_t max)
{
	char		esc[512];

	escape_value(esc, sizeof(esc), value, max);
	snprintf(buf, len, "%s=\"%.*s\"", key, (int) len, esc);
}

static bool
backup_known(const MetricsBackup *b)
{
	return b->present && b->type[0] != '\0';
}

typedef enum BackupField
{
	BF_END,
	BF_DURATION,
	BF_SIZE,
	BF_STORED
} BackupField;

static void
backup_family(Render *r, const MetricsSnapshot *s, const char *name, const char *help, BackupField f)
{
	family(r, name, "gauge", help);
	for (int i = 0; i < 3; i++)
	{
		const MetricsBackup *b = &s->backups[i];
		char		extra[64];

		if (!backup_known(b) || (f == BF_END && b->last_end <= 0))
			continue;
		label(extra, sizeof(extra), "type", b->type, sizeof(b->type));
		switch (f)
		{
			case BF_END:
				sample(r, name, extra, b->last_end);
				break;
			case BF_DURATION:
				sample(r, name, extra, b->last_duration);
				break;
			case BF_SIZE:
				sample_u64(r, name, extra, b->last_size);
				break;
			case BF_STORED:
				sample_u64(r, name, extra, b->last_stored);
				break;
		}
	}
}

int
metrics_render(const MetricsSnapshot *s, double now, MemBuf *out)
{
	Render		r = {.out = out};
	char		cluster[160];
	char		node[300];
	int			njobs = s->njobs < 0 ? 0 : s->njobs > METRICS_MAX_JOBS ? METRICS_MAX_JOBS : s->njobs;

	label(cluster, sizeof(cluster), "cluster", s->cluster, sizeof(s->cluster));
	label(node, sizeof(node), "node", s->instance, sizeof(s->instance));
	snprintf(r.base, sizeof(r.base), "%s,%s", cluster, node);

	family(&r, "pgbkp_up", "gauge", "1 when the scheduler has taken a snapshot of the repository and server, else 0.");
	sample(&r, "pgbkp_up", "", s->scrape_time_source > 0 ? 1 : 0);
	if (s->scrape_time_source <= 0)
		return r.failed ? -1 : 0;	/* nothing known yet */
	family(&r, "pgbkp_snapshot_timestamp_seconds", "gauge", "When the values reported here were collected.");
	if (s->scrape_time_source > 0)
		sample(&r, "pgbkp_snapshot_timestamp_seconds", "", s->scrape_time_source);
	family(&r, "pgbkp_is_primary", "gauge", "1 when this node is the cluster's primary.");
	sample(&r, "pgbkp_is_primary", "", s->is_primary ? 1 : 0);

	backup_family(&r, s, "pgbkp_backup_last_success_timestamp_seconds",
				  "End of the last successful backup of each type.", BF_END);
	backup_family(&r, s, "pgbkp_backup_last_duration_seconds",
				  "Duration of the last successful backup of each type.", BF_DURATION);
	backup_family(&r, s, "pgbkp_backup_last_size_bytes",
				  "Database size covered by the last successful backup of each type.", BF_SIZE);
	backup_family(&r, s, "pgbkp_backup_last_stored_bytes",
				  "Bytes the last successful backup of each type stored in the repository.", BF_STORED);
	family(&r, "pgbkp_backups", "gauge", "Number of backups in the repository.");
	sample(&r, "pgbkp_backups", "", s->backups_count);

	family(&r, "pgbkp_job_last_success", "gauge", "1 when the last run of the job succeeded, 0 when it failed.");
	for (int i = 0; i < njobs; i++)
	{
		char		extra[200];

		if (s->jobs[i].last_ok < 0)
			continue;
		label(extra, sizeof(extra), "job_name", s->jobs[i].job, sizeof(s->jobs[i].job));
		sample(&r, "pgbkp_job_last_success", extra, s->jobs[i].last_ok ? 1 : 0);
	}
	family(&r, "pgbkp_job_last_run_timestamp_seconds", "gauge", "End of the last run of the job.");
	for (int i = 0; i < njobs; i++)
	{
		char		extra[200];

		if (s->jobs[i].last_end <= 0)
			continue;
		label(extra, sizeof(extra), "job_name", s->jobs[i].job, sizeof(s->jobs[i].job));
		sample(&r, "pgbkp_job_last_run_timestamp_seconds", extra, s->jobs[i].last_end);
	}
	family(&r, "pgbkp_job_last_duration_seconds", "gauge", "Duration of the last run of the job.");
	for (int i = 0; i < njobs; i++)
	{
		char		extra[200];

		if (s->jobs[i].last_end <= 0)
			continue;
		label(extra, sizeof(extra), "job_name", s->jobs[i].job, sizeof(s->jobs[i].job));
		sample(&r, "pgbkp_job_last_duration_seconds", extra, s->jobs[i].last_duration);
	}
	family(&r, "pgbkp_job_running", "gauge", "1 while the job runs.");
	for (int i = 0; i < njobs; i++)
	{
		char		extra[200];

		label(extra, sizeof(extra), "job_name", s->jobs[i].job, sizeof(s->jobs[i].job));
		sample(&r, "pgbkp_job_running", extra, s->jobs[i].running ? 1 : 0);
	}
	family(&r, "pgbkp_job_runs_total", "counter", "Runs of the job since the scheduler started, by outcome.");
	for (int i = 0; i < njobs; i++)
	{
		char		job[200];
		char		extra[240];

		label(job, sizeof(job), "job_name", s->jobs[i].job, sizeof(s->jobs[i].job));
		snprintf(extra, sizeof(extra), "%s,outcome=\"ok\"", job);
		sample_u64(&r, "pgbkp_job_runs_total", extra, s->jobs[i].runs_ok);
		snprintf(extra, sizeof(extra), "%s,outcome=\"failed\"", job);
		sample_u64(&r, "pgbkp_job_runs_total", extra, s->jobs[i].runs_failed);
		snprintf(extra, sizeof(extra), "%s,outcome=\"skipped\"", job);
		sample_u64(&r, "pgbkp_job_runs_total", extra, s->jobs[i].runs_skipped);
	}

	family(&r, "pgbkp_archive_last_archived_timestamp_seconds", "gauge",
		   "When the newest WAL file in the repository was archived.");
	if (s->last_archived_time > 0)
		sample(&r, "pgbkp_archive_last_archived_timestamp_seconds", "", s->last_archived_time);
	family(&r, "pgbkp_archive_last_archived_age_seconds", "gauge",
		   "Seconds since the newest WAL file in the repository was archived.");
	if (s->last_archived_time > 0)
		sample(&r, "pgbkp_archive_last_archived_age_seconds", "",
			   now > s->last_archived_time ? now - s->last_archived_time : 0);
	family(&r, "pgbkp_archive_failures_total", "counter",
		   "Failed attempts to archive WAL (pg_stat_archiver.failed_count).");
	sample_u64(&r, "pgbkp_archive_failures_total", "", s->archive_failures);
	family(&r, "pgbkp_archived_total", "counter", "WAL files archived (pg_stat_archiver.archived_count).");
	sample_u64(&r, "pgbkp_archived_total", "", s->archived_count);

	family(&r, "pgbkp_repository_size_bytes", "gauge", "Bytes the cluster's backups occupy in the repository (archived WAL not counted).");
	sample_u64(&r, "pgbkp_repository_size_bytes", "", s->repo_size_bytes);
	family(&r, "pgbkp_recoverable_window_start_timestamp_seconds", "gauge",
		   "Earliest moment the cluster can be restored to.");
	if (s->recoverable_start > 0)
		sample(&r, "pgbkp_recoverable_window_start_timestamp_seconds", "", s->recoverable_start);
	family(&r, "pgbkp_recoverable_window_end_timestamp_seconds", "gauge",
		   "Latest moment the cluster can be restored to.");
	if (s->recoverable_end > 0)
		sample(&r, "pgbkp_recoverable_window_end_timestamp_seconds", "", s->recoverable_end);

	return r.failed ? -1 : 0;
}

/* ------------------------------------------------------------ server */

struct MetricsServer
{
	struct MHD_Daemon *daemon;
	int			port;
	pthread_mutex_t lock;
	bool		have;			/* a snapshot was given */
	MetricsSnapshot snapshot;
};

static const char index_page[] =
"<!DOCTYPE html>\n<html><head><title>pgbkp</title></head>\n"
"<body><h1>pgbkp</h1><p><a href=\"/metrics\">Metrics</a></p></body></html>\n";

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static MhdResult
respond(struct MHD_Connection *conn, unsigned int status, const char *type,
		void *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, mode);
	MhdResult	rc;

	if (resp == NULL)
	{
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	rc = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static MhdResult
respond_text(struct MHD_Connection *conn, unsigned int status, const char *text)
{
	return respond(conn, status, "text/plain; charset=utf-8", (void *) text, strlen(text),
				   MHD_RESPMEM_PERSISTENT);
}

static MhdResult
serve_metrics(MetricsServer *m, struct MHD_Connection *conn)
{
	MetricsSnapshot *snap = malloc(sizeof(MetricsSnapshot));
	MemBuf		out = {0};
	PgbError	err = {0};
	char	   *body;
	size_t		len;

	if (snap == NULL)
		return respond_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	pthread_mutex_lock(&m->lock);
	if (m->have)
		*snap = m->snapshot;
	else
		memset(snap, 0, sizeof(*snap));
	pthread_mutex_unlock(&m->lock);
	if (metrics_render(snap, now_seconds(), &out) != 0 ||
		(body = membuf_take(&out, &len, &err)) == NULL)
	{
		free(snap);
		membuf_free(&out);
		return respond_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	free(snap);
	return respond(conn, MHD_HTTP_OK, CONTENT_TYPE_METRICS, body, len, MHD_RESPMEM_MUST_FREE);
}

static MhdResult
handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	   const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
	static int	seen;
	MetricsServer *m = cls;

	(void) version;
	(void) upload_data;
	if (*req_cls == NULL)
	{
		/* the headers: wait for the body (if any) before answering */
		*req_cls = &seen;
		return MHD_YES;
	}
	if (*upload_data_size != 0)
	{
		*upload_data_size = 0;	/* a body is ignored */
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return respond_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	if (strcmp(url, "/metrics") == 0)
		return serve_metrics(m, conn);
	if (strcmp(url, "/") == 0)
		return respond(conn, MHD_HTTP_OK, "text/html; charset=utf-8", (void *) index_page,
					   sizeof(index_page) - 1, MHD_RESPMEM_PERSISTENT);
	return respond_text(conn, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n");
}

/* A message for a failed bind or listen on port (at addr, when given). */
static int
bind_error(PgbError *err, int errnum, const char *addr, int port)
{
	char		where[300];

	if (addr)
		snprintf(where, sizeof(where), "port %d on %s", port, addr);
	else
		snprintf(where, sizeof(where), "port %d", port);
	if (errnum == EADDRINUSE)
	{
		pgb_error(err, EXIT_REFUSED, "metrics %s is in use", where);
		return pgb_hint(err, "another program (perhaps pgbackrest_exporter) listens on it: stop it or choose another metrics port");
	}
	if (errnum == EACCES || errnum == EPERM)
	{
		pgb_error(err, EXIT_CONFIG, "not allowed to listen on metrics %s", where);
		return pgb_hint(err, "ports below 1024 need privileges: choose a port from 1024 up");
	}
	if (errnum == EADDRNOTAVAIL)
		return pgb_error(err, EXIT_CONFIG, "cannot listen on metrics %s: not an address of this host", where);
	return pgb_error_errno(err, EXIT_IO, errnum, "could not listen on metrics %s", where);
}

/* Create, bind and listen; the socket, or -1 with err set. */
static int
try_listen(const struct sockaddr *sa, socklen_t salen, bool dual_stack, int *errnum)
{
	int			fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int			on = 1;
	int			off = 0;

	if (fd < 0)
	{
		*errnum = errno;
		return -1;
	}
	(void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (sa->sa_family == AF_INET6)
		(void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, dual_stack ? &off : &on, sizeof(int));
	if (bind(fd, sa, salen) != 0 || listen(fd, 64) != 0)
	{
		*errnum = errno;
		close(fd);
		return -1;
	}
	return fd;
}

static int
open_listener(const char *addr, int port, PgbError *err)
{
	int			errnum = 0;
	int			fd;

	if (addr == NULL || addr[0] == '\0')
	{
		struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t) port),
		.sin6_addr = IN6ADDR_ANY_INIT};
		struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t) port),
		.sin_addr.s_addr = htonl(INADDR_ANY)};

		fd = try_listen((struct sockaddr *) &sin6, sizeof(sin6), true, &errnum);
		if (fd < 0 && (errnum == EAFNOSUPPORT || errnum == EADDRNOTAVAIL))
			fd = try_listen((struct sockaddr *) &sin, sizeof(sin), false, &errnum);
		if (fd < 0)
			return bind_error(err, errnum, NULL, port);
		return fd;
	}
	else
	{
		struct addrinfo hints = {0};
		struct addrinfo *res;
		char		service[16];
		int			rc;

		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
		snprintf(service, sizeof(service), "%d", port);
		rc = getaddrinfo(addr, service, &hints, &res);
		if (rc != 0)
			return pgb_error(err, EXIT_CONFIG, "invalid metrics listen address \"%s\": %s", addr, gai_strerror(rc));
		fd = -1;
		for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next)
			fd = try_listen(ai->ai_addr, ai->ai_addrlen, false, &errnum);
		freeaddrinfo(res);
		if (fd < 0)
			return bind_error(err, errnum, addr, port);
		return fd;
	}
}

static int
bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t	len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *) &ss, &len) != 0)
		return -1;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *) &ss)->sin6_port);
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *) &ss)->sin_port);
	return -1;
}

MetricsServer *
metrics_start(const char *addr, int port, PgbError *err)
{
	MetricsServer *m;
	int			fd;

	if (port < 0 || port > 65535)
	{
		pgb_error(err, EXIT_CONFIG, "invalid metrics port %d: expected 1 to 65535", port);
		return NULL;
	}
	m = calloc(1, sizeof(MetricsServer));
	if (m == NULL)
	{
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		return NULL;
	}
	if (pthread_mutex_init(&m->lock, NULL) != 0)
	{
		free(m);
		pgb_error(err, EXIT_INTERNAL, "could not create a mutex");
		return NULL;
	}
	fd = open_listener(addr, port, err);
	if (fd < 0)
	{
		pthread_mutex_destroy(&m->lock);
		free(m);
		return NULL;
	}
	m->port = bound_port(fd);
	m->daemon = MHD_start_daemon(METRICS_MHD_FLAGS, 0, NULL, NULL, handle, m,
								 MHD_OPTION_LISTEN_SOCKET, fd,
								 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 10,
								 MHD_OPTION_CONNECTION_LIMIT, (unsigned int) 32,
								 MHD_OPTION_END);
	if (m->daemon == NULL)
	{
		/*
		 * Whether libmicrohttpd closed fd on failure is not documented;
		 * leaving it open (rare, at most one descriptor) is safer than
		 * closing a descriptor another thread may have received meanwhile.
		 */
		pthread_mutex_destroy(&m->lock);
		free(m);
		pgb_error(err, EXIT_INTERNAL, "could not start the metrics server on port %d", port);
		return NULL;
	}
	return m;
}

int
metrics_port(const MetricsServer *m)
{
	return m->port;
}

void
metrics_update(MetricsServer *m, const MetricsSnapshot *s)
{
	pthread_mutex_lock(&m->lock);
	m->snapshot = *s;
	m->have = true;
	pthread_mutex_unlock(&m->lock);
}

void
metrics_stop(MetricsServer *m)
{
	if (m == NULL)
		return;
	MHD_stop_daemon(m->daemon);	/* closes the listening socket */
	pthread_mutex_destroy(&m->lock);
	free(m);
}
