/*
 * The seam between the two halves of http.h.  http.c is the transport: the
 * S3Http (configuration and a pool of libcurl easy handles), building the
 * URL, signing, performing one attempt and capturing the response; it
 * classifies a failure below HTTP (TLS, a cap exceeded, a network error
 * worth retrying or not) but decides nothing.  request.c holds the S3
 * semantics: the error XML of a response, which outcomes are retried and
 * how often, and which become which PgbError.
 */
#ifndef PGBKP_HTTP_INTERN_H
#define PGBKP_HTTP_INTERN_H

#include <pthread.h>
#include "lib/libcurl.h"

#include "io/sha256.h"
#include "storage/s3/http.h"

#define S3_HTTP_POOL_MAX 32

struct S3Http
{
	bool		https;
	int			port;
	bool		host_style;
	bool		verify_tls;
	int			attempts;
	int			connect_timeout;
	int			io_timeout;
	char	   *host;
	char	   *region;
	char	   *bucket;
	char	   *access_key;
	char	   *secret_key;
	char	   *ca_file;
	char	   *endpoint;		/* scheme://host:port */
	char	   *host_header;	/* [bucket.]host[:port] */
	char	   *url_base;		/* scheme://[bucket.]host:port */
	pthread_mutex_t lock;
	CURL	   *idle[S3_HTTP_POOL_MAX];
	int			nidle;
};

/* How one attempt ended, as far as the transport can tell. */
typedef enum S3NetResult
{
	S3_NET_RESPONSE,			/* an HTTP response: resp holds it */
	S3_NET_TOO_LARGE,			/* the response body exceeded its cap */
	S3_NET_TLS,					/* the server's certificate could not be verified */
	S3_NET_TRANSIENT,			/* a network failure that a retry may cure */
	S3_NET_FAILED				/* a network failure that it will not */
} S3NetResult;

/* Room for the detail of a failure below HTTP. */
#define S3_NET_DETAIL_MAX (CURL_ERROR_SIZE + 64)

/* A request prepared for its attempts: what stays the same across them. */
typedef struct S3Exchange
{
	char	   *path;			/* the raw path, as signed */
	char	   *url;
	char		payload_hash[SHA256_HEX_LEN + 1];	/* of the body, in hex */
	size_t		max_body;		/* response body cap */
	CURL	   *handle;			/* from the pool */
} S3Exchange;

/* Prepare req; on failure x needs no s3_exchange_end. */
int			s3_exchange_begin(S3Http *h, const S3Request *req, S3Exchange *x, PgbError *err);

/*
 * Sign and send req once, resp reset first.  -1 (err set) only for local
 * failures that retrying cannot fix; otherwise 0 with *result set and, for
 * a failure below HTTP, its text in detail: for S3_NET_TLS libcurl's
 * message, for the network failures "MESSAGE (curl error N)".
 */
int			s3_exchange_attempt(S3Http *h, S3Exchange *x, const S3Request *req, S3Response *resp,
								S3NetResult *result, char *detail, size_t len, PgbError *err);

/* Give the handle back to the pool and free x's contents. */
void		s3_exchange_end(S3Http *h, S3Exchange *x);

#endif
