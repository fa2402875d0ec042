/*
 * The request machinery of the S3 driver: a pool of libcurl easy handles
 * (so connections are kept alive and reused), SigV4 signing of every
 * request, sending a body held in memory, capturing the response (status,
 * a few headers, a capped body, the S3 error Code and Message), and retries
 * of transient failures with exponential backoff and full jitter.
 *
 * Two files implement it (see http_intern.h): http.c the transport (the
 * pool, signing, libcurl, TLS), request.c the S3 semantics (retries, error
 * codes, the errors below).
 *
 * Safe to use from several threads at once: the pool is protected by a
 * mutex, everything else is read-only after s3_http_new().
 *
 * Outcomes of s3_http_send():
 *  - a final HTTP response the caller must judge (2xx, 404, 412, 416, ...):
 *    returns 0 with resp filled;
 *  - transient failures (connection errors, timeouts, HTTP 500/502/503/504,
 *    SlowDown, RequestTimeout, InternalError) are retried; when the attempts
 *    run out: EXIT_IO naming the operation, the object and the last status;
 *  - credentials, signature, region or clock refused (403, ...): EXIT_CONFIG
 *    naming the access key id (never the secret), the region, the endpoint;
 *    a missing bucket (NoSuchBucket) and TLS verification failures too.
 */
#ifndef PGBKP_HTTP_H
#define PGBKP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/error.h"
#include "io/membuf.h"
#include "storage/s3/sigv4.h"

#define S3_HTTP_DEFAULT_ATTEMPTS 5
#define S3_HTTP_DEFAULT_CONNECT_TIMEOUT 10
#define S3_HTTP_DEFAULT_IO_TIMEOUT 60
/* Cap of a response body that is not an object's content (XML). */
#define S3_HTTP_MAX_XML (16 * 1024 * 1024)

typedef struct S3HttpConfig
{
	bool		https;
	const char *host;			/* endpoint host name, no scheme, no port */
	int			port;			/* 0: 443 or 80 */
	const char *region;
	const char *bucket;
	bool		host_style;		/* bucket.host/key instead of host/bucket/key */
	const char *access_key;
	const char *secret_key;
	const char *ca_file;		/* NULL: the system's CAs */
	bool		verify_tls;
	int			attempts;		/* 0: S3_HTTP_DEFAULT_ATTEMPTS */
	int			connect_timeout;	/* seconds; 0: default */
	int			io_timeout;		/* seconds without progress; 0: default */
} S3HttpConfig;

typedef struct S3Http S3Http;

typedef struct S3Request
{
	const char *method;			/* GET, HEAD, PUT, POST, DELETE */
	const char *op;				/* for messages: "PUT", "LIST", "upload part 3", ... */
	const char *key;			/* raw object key; NULL or "": the bucket itself */
	const char *object;			/* for messages; NULL: key */
	const char *query;			/* raw, as sigv4.h describes; NULL: none */
	const SigV4Header *headers; /* extra headers, sent and signed */
	int			nheaders;
	const void *body;
	size_t		body_len;
	size_t		max_body;		/* response body cap; 0: S3_HTTP_MAX_XML */
	bool		error_in_200;	/* a 200 whose body is <Error> is a failure */
} S3Request;

typedef struct S3Response
{
	long		status;
	MemBuf		body;
	char		etag[256];
	char		content_range[128];
	char		last_modified[64];
	int64_t		content_length; /* -1: not sent */
	char		code[64];		/* S3 error Code, "" if none */
	char		message[256];	/* S3 error Message, "" if none */
} S3Response;

/* Copies everything in cfg; contacts nobody. */
S3Http	   *s3_http_new(const S3HttpConfig *cfg, PgbError *err);
void		s3_http_free(S3Http *h);

int			s3_http_send(S3Http *h, const S3Request *req, S3Response *resp, PgbError *err);
void		s3_response_free(S3Response *resp);

/* Set err (EXIT_IO) for a response the caller did not expect; returns -1. */
int			s3_http_unexpected(const S3Request *req, const S3Response *resp, PgbError *err);

/* "https://host:port" for messages and lock names. */
const char *s3_http_endpoint(const S3Http *h);

/* Base64 of the MD5 of data, for Content-MD5 (out: at least 25 bytes). */
void		s3_http_content_md5(const void *data, size_t len, char *out);

/* Seconds since the epoch of an HTTP date or ISO 8601 date; -1 if unparsable. */
int64_t		s3_http_parse_time(const char *text);

#endif
