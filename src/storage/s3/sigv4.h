/*
 * AWS Signature Version 4 for the S3 driver: pure functions that turn a
 * request description into the canonical request, the string to sign and the
 * value of the Authorization header.  No I/O, no clock, no libcurl: the
 * caller supplies the timestamp and sends the headers itself.
 *
 * Conventions (the caller's side of the contract):
 * - path and query are raw, NOT percent-encoded; the signer encodes them.
 *   The path is encoded once, the S3 way ('/' kept, no double encoding).
 *   The query is split on '&'; in each part the first '=' separates name
 *   from value (a part without '=' such as "uploads" has the value "").
 *   A raw name or value therefore cannot contain '&', and a name cannot
 *   contain '='.  Empty parts are ignored; NULL or "" means no query.
 * - headers are exactly the headers that will be sent and signed.  They must
 *   include "host" and "x-amz-date" (equal to amz_date); the signer adds
 *   nothing.  For S3 also pass x-amz-content-sha256.  Names compare case-
 *   insensitively; repeated names are joined with ',' in the given order.
 * - Secrets never appear in error messages; intermediate keys are wiped.
 */
#ifndef PGBKP_SIGV4_H
#define PGBKP_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include "common/error.h"
#include "io/membuf.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
/* Largest canonical request the signer builds (a bound, not a target). */
#define SIGV4_MAX_CANONICAL (256 * 1024)

typedef struct SigV4Header
{
	const char *name;
	const char *value;
} SigV4Header;

typedef struct SigV4Request
{
	const char *method;			/* "GET", "PUT", ... */
	const char *path;			/* raw, e.g. "/bucket/key with space"; NULL or "" is "/" */
	const char *query;			/* raw "b=2&a=1&uploads", or NULL */
	const SigV4Header *headers;
	int			nheaders;
	const char *payload_sha256_hex; /* 64 lower-case hex digits or "UNSIGNED-PAYLOAD" */
	const char *region;			/* "us-east-1" */
	const char *service;		/* "s3" */
	const char *access_key;
	const char *secret_key;
	const char *amz_date;		/* "20150830T123600Z" */
} SigV4Request;

/* Write the Authorization header value (without "Authorization: ") into
 * authorization; EXIT_INTERNAL when len is too small or the request is
 * malformed. */
int			sigv4_sign(const SigV4Request *req, char *authorization, size_t len, PgbError *err);

/* The canonical request, malloc'd into *out. */
int			sigv4_canonical_request(const SigV4Request *req, char **out, PgbError *err);

/* The string to sign for a canonical request, malloc'd into *out. */
int			sigv4_string_to_sign(const SigV4Request *req, const char *canonical, char **out, PgbError *err);

/* UriEncode() of the SigV4 rules into b: every byte except A-Z a-z 0-9 - _ .
 * ~ becomes %XX (upper-case hex); '/' is kept when keep_slash.  Exposed for
 * the tests. */
int			sigv4_uri_encode(MemBuf *b, const char *s, size_t n, bool keep_slash, PgbError *err);

#endif
