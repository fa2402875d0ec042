/*
 * The S3 semantics of a request (see http.h): the retry loop over the
 * transport's attempts (http.c), with exponential backoff and full jitter;
 * the error XML of a response (Code, Message), including the errors S3
 * hides in a 200; which statuses and codes are transient, which mean the
 * credentials, region or clock were refused, and the PgbError each final
 * outcome becomes.  Also the small helpers of S3 messages: Content-MD5 and
 * the dates S3 sends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lib/libcurl.h"
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "storage/s3/http.h"
#include "storage/s3/http_intern.h"
#include "storage/s3/xml.h"

#define BACKOFF_BASE_MS 100
#define BACKOFF_CAP_MS 2000

static bool
code_is(const S3Response *r, const char *code)
{
	return strcmp(r->code, code) == 0;
}

static bool
transient_response(const S3Response *r)
{
	return r->status == 500 || r->status == 502 || r->status == 503 || r->status == 504 ||
		r->status == 408 || r->status == 429 ||
		code_is(r, "SlowDown") || code_is(r, "RequestTimeout") ||
		code_is(r, "InternalError") || code_is(r, "ServiceUnavailable");
}

static bool
auth_refused(const S3Response *r)
{
	return r->status == 403 ||
		code_is(r, "SignatureDoesNotMatch") || code_is(r, "InvalidAccessKeyId") ||
		code_is(r, "AuthorizationHeaderMalformed") || code_is(r, "AccessDenied") ||
		code_is(r, "RequestTimeTooSkewed") || code_is(r, "InvalidToken") ||
		code_is(r, "ExpiredToken");
}

/* Fill resp->code and resp->message from an <Error> body, if it is one. */
static bool
parse_error_body(S3Response *r)
{
	PgbError	ignored;
	XmlDoc	   *doc;
	XmlNode		root;
	char	   *text;

	if (r->body.len == 0 || (doc = xml_parse(r->body.buf, r->body.len, &root, &ignored)) == NULL)
		return false;
	if (!xml_is(&root, "Error"))
	{
		xml_free(doc);
		return false;
	}
	if (xml_child_text(&root, "Code", sizeof(r->code) - 1, &text, &ignored) == 1)
	{
		snprintf(r->code, sizeof(r->code), "%s", text);
		free(text);
	}
	if (xml_child_text(&root, "Message", 0, &text, &ignored) == 1)
	{
		snprintf(r->message, sizeof(r->message), "%s", text);
		free(text);
	}
	xml_free(doc);
	return true;
}

static int
refused(const S3Http *h, const S3Request *req, const S3Response *r, PgbError *err)
{
	const char *code = r->code[0] ? r->code : "AccessDenied";

	if (code_is(r, "InvalidAccessKeyId"))
		pgb_error(err, EXIT_CONFIG, "S3 request refused (%ld %s): check s3_key: the endpoint does not know key \"%s\"",
				  r->status, code, h->access_key);
	else if (code_is(r, "AuthorizationHeaderMalformed"))
		pgb_error(err, EXIT_CONFIG, "S3 request refused (%ld %s): check s3_region \"%s\" for key \"%s\"",
				  r->status, code, h->region, h->access_key);
	else if (code_is(r, "RequestTimeTooSkewed"))
		pgb_error(err, EXIT_CONFIG, "S3 request refused (%ld %s): the clock of this host is too far from the server's",
				  r->status, code);
	else if (code_is(r, "SignatureDoesNotMatch"))
		pgb_error(err, EXIT_CONFIG, "S3 request refused (%ld %s): check s3_key_secret for key \"%s\" and s3_region \"%s\"",
				  r->status, code, h->access_key, h->region);
	else
		pgb_error(err, EXIT_CONFIG, "S3 %s of \"%s\" refused (%ld %s): check s3_key \"%s\", s3_key_secret, s3_region \"%s\" and the bucket's permissions",
				  req->op, req->object ? req->object : req->key, r->status, code, h->access_key, h->region);
	return pgb_hint(err, "endpoint %s, bucket \"%s\"", h->endpoint, h->bucket);
}

static int
tls_failure(const S3Http *h, const char *detail, PgbError *err)
{
	pgb_error(err, EXIT_CONFIG, "could not verify the TLS certificate of S3 endpoint %s: %s",
			  h->endpoint, detail);
	return pgb_hint(err, "%s", h->ca_file
					? "check that storage_ca_file holds the CA certificate that signed the server's certificate"
					: "set storage_ca_file to the CA certificate that signed the server's certificate (or storage_verify_tls: false, for tests only)");
}

/* Sleep a random time in [0, min(cap, base * 2^(attempt-1))] ms: full jitter. */
static void
backoff(int attempt)
{
	long		ceiling = BACKOFF_BASE_MS;
	unsigned int r = 0;
	struct timespec ts;
	long		ms;

	for (int i = 1; i < attempt && ceiling < BACKOFF_CAP_MS; i++)
		ceiling *= 2;
	if (ceiling > BACKOFF_CAP_MS)
		ceiling = BACKOFF_CAP_MS;
	if (RAND_bytes((unsigned char *) &r, sizeof(r)) != 1)
		r = (unsigned int) time(NULL);
	ms = (long) (r % (unsigned int) (ceiling + 1));
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

int
s3_http_send(S3Http *h, const S3Request *req, S3Response *resp, PgbError *err)
{
	const char *object = req->object ? req->object : (req->key ? req->key : "");
	char		last[S3_NET_DETAIL_MAX] = "";
	S3Exchange	x;
	int			result = -1;

	memset(resp, 0, sizeof(*resp));
	if (s3_exchange_begin(h, req, &x, err) != 0)
		return -1;

	for (int attempt = 1;; attempt++)
	{
		S3NetResult net;

		if (s3_exchange_attempt(h, &x, req, resp, &net, last, sizeof(last), err) != 0)
			goto done;
		if (net == S3_NET_TOO_LARGE)
		{
			pgb_error(err, EXIT_CORRUPT, "the response to S3 %s of \"%s\" is larger than %zu bytes",
					  req->op, object, x.max_body);
			goto done;
		}
		if (net == S3_NET_TLS)
		{
			tls_failure(h, last, err);
			goto done;
		}
		if (net == S3_NET_FAILED)
		{
			pgb_error(err, EXIT_IO, "S3 %s of \"%s\" failed: %s", req->op, object, last);
			pgb_hint(err, "endpoint %s", h->endpoint);
			goto done;
		}
		if (net == S3_NET_RESPONSE)
		{
			bool		is_error = (resp->status >= 300 || req->error_in_200) && parse_error_body(resp);

			if (is_error && resp->status / 100 == 2 && req->error_in_200)
				resp->status = transient_response(resp) ? 500 : 400;
			if (auth_refused(resp))
			{
				refused(h, req, resp, err);
				goto done;
			}
			if (code_is(resp, "NoSuchBucket"))
			{
				pgb_error(err, EXIT_CONFIG, "S3 bucket \"%s\" does not exist at %s", h->bucket, h->endpoint);
				pgb_hint(err, "check s3_bucket and s3_endpoint, or create the bucket");
				goto done;
			}
			if (!transient_response(resp))
			{
				result = 0;
				goto done;
			}
			snprintf(last, sizeof(last), "HTTP %ld (%s)", resp->status,
					 resp->code[0] ? resp->code : "no S3 error code");
		}
		if (attempt >= h->attempts)
			break;
		backoff(attempt);
	}
	pgb_error(err, EXIT_IO, "S3 %s of \"%s\" failed after %d attempts: %s",
			  req->op, object, h->attempts, last);
	pgb_hint(err, "endpoint %s", h->endpoint);

done:
	s3_exchange_end(h, &x);
	if (result != 0)
		s3_response_free(resp);
	return result;
}

int
s3_http_unexpected(const S3Request *req, const S3Response *resp, PgbError *err)
{
	const char *object = req->object ? req->object : (req->key ? req->key : "");

	if (resp->code[0])
		return pgb_error(err, EXIT_IO, "S3 %s of \"%s\" failed: HTTP %ld (%s: %s)",
						 req->op, object, resp->status, resp->code, resp->message);
	return pgb_error(err, EXIT_IO, "S3 %s of \"%s\" failed: HTTP %ld", req->op, object, resp->status);
}

void
s3_http_content_md5(const void *data, size_t len, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(data, len, md, &mdlen, EVP_md5(), NULL) != 1)
		mdlen = 0;
	EVP_EncodeBlock((unsigned char *) out, md, (int) mdlen);
}

int64_t
s3_http_parse_time(const char *text)
{
	struct tm	tm = {0};
	int			y, mo, d, hh, mm, ss;
	time_t		t;

	if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &hh, &mm, &ss) == 6)
	{
		tm.tm_year = y - 1900;
		tm.tm_mon = mo - 1;
		tm.tm_mday = d;
		tm.tm_hour = hh;
		tm.tm_min = mm;
		tm.tm_sec = ss;
		t = timegm(&tm);
		return t == (time_t) -1 ? -1 : (int64_t) t;
	}
	t = curl_getdate(text, NULL);
	return t == (time_t) -1 ? -1 : (int64_t) t;
}
