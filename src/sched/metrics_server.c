/*
 * The metrics endpoint's HTTP server (see metrics_server.h): a small
 * libmicrohttpd daemon with a thread of its own that renders the latest
 * snapshot on every scrape.  It binds its own listening socket before
 * handing it to libmicrohttpd, so that "port in use" and "permission
 * denied" are reported as such instead of as an unexplained failure.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "lib/libmhd.h"

#include "sched/metrics_server.h"

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

/* Rendered under the lock: a scrape is short, and the snapshot is not copied for it. */
static MhdResult
serve_metrics(MetricsServer *m, struct MHD_Connection *conn)
{
	static const MetricsSnapshot none;
	MemBuf		out = {0};
	PgbError	err = {0};
	char	   *body;
	size_t		len;
	int			rc;

	pthread_mutex_lock(&m->lock);
	rc = metrics_render(m->have ? &m->snapshot : &none, now_seconds(), &out);
	pthread_mutex_unlock(&m->lock);
	if (rc != 0 || (body = membuf_take(&out, &len, &err)) == NULL)
	{
		membuf_free(&out);
		return respond_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
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
	if (libmhd_require(err) != 0)
		return NULL;
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

int
metrics_update(MetricsServer *m, const MetricsSnapshot *s)
{
	MetricsSnapshot *copy = malloc(sizeof(MetricsSnapshot));

	if (copy == NULL || metrics_snapshot_copy(copy, s) != 0)
	{
		free(copy);
		return -1;
	}
	pthread_mutex_lock(&m->lock);
	metrics_snapshot_clear(&m->snapshot);
	m->snapshot = *copy;
	m->have = true;
	pthread_mutex_unlock(&m->lock);
	free(copy);					/* its backups now belong to m->snapshot */
	return 0;
}

void
metrics_stop(MetricsServer *m)
{
	if (m == NULL)
		return;
	MHD_stop_daemon(m->daemon);	/* closes the listening socket */
	metrics_snapshot_clear(&m->snapshot);
	pthread_mutex_destroy(&m->lock);
	free(m);
}
