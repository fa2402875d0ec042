/*
 * S3 requests over libcurl (see http.h).  Each request takes an easy handle
 * from the pool (or makes one), resets it, signs and sends, and puts it back:
 * a handle keeps its connections across curl_easy_reset(), so successive
 * requests of one thread, or of threads taking turns, reuse open
 * connections.  The secret key is used only by the signer and is wiped when
 * the S3Http is freed; no header is ever logged.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "io/sha256.h"
#include "storage/s3/http.h"
#include "storage/s3/xml.h"

#define POOL_MAX 32
#define BACKOFF_BASE_MS 100
#define BACKOFF_CAP_MS 2000
#define MAX_EXTRA_HEADERS 8
#define HEADER_LINE_MAX 2048
#define AUTH_MAX 1024

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
	CURL	   *idle[POOL_MAX];
	int			nidle;
};

/* The body of a request being sent. */
typedef struct Upload
{
	const char *data;
	size_t		len;
	size_t		pos;
} Upload;

/* Where a response goes. */
typedef struct Capture
{
	S3Response *resp;
	bool		overflow;
} Capture;

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_OK;

static void
global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static char *
xasprintf(const char *fmt,...) PGB_PRINTF(1, 2);

static char *
xasprintf(const char *fmt,...)
{
	va_list		ap;
	char	   *out = NULL;
	int			n;

	va_start(ap, fmt);
	n = vasprintf(&out, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : out;
}

S3Http *
s3_http_new(const S3HttpConfig *cfg, PgbError *err)
{
	S3Http	   *h;
	int			default_port = cfg->https ? 443 : 80;
	int			port = cfg->port > 0 ? cfg->port : default_port;
	char		portpart[16] = "";
	const char *scheme = cfg->https ? "https" : "http";

	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
	{
		pgb_error(err, EXIT_INTERNAL, "could not initialise libcurl: %s", curl_easy_strerror(global_rc));
		return NULL;
	}
	h = calloc(1, sizeof(S3Http));
	if (h == NULL)
		goto oom;
	h->https = cfg->https;
	h->port = port;
	h->host_style = cfg->host_style;
	h->verify_tls = cfg->verify_tls;
	h->attempts = cfg->attempts > 0 ? cfg->attempts : S3_HTTP_DEFAULT_ATTEMPTS;
	h->connect_timeout = cfg->connect_timeout > 0 ? cfg->connect_timeout : S3_HTTP_DEFAULT_CONNECT_TIMEOUT;
	h->io_timeout = cfg->io_timeout > 0 ? cfg->io_timeout : S3_HTTP_DEFAULT_IO_TIMEOUT;
	if (port != default_port)
		snprintf(portpart, sizeof(portpart), ":%d", port);
	if ((h->host = strdup(cfg->host)) == NULL ||
		(h->region = strdup(cfg->region)) == NULL ||
		(h->bucket = strdup(cfg->bucket)) == NULL ||
		(h->access_key = strdup(cfg->access_key)) == NULL ||
		(h->secret_key = strdup(cfg->secret_key)) == NULL ||
		(cfg->ca_file && (h->ca_file = strdup(cfg->ca_file)) == NULL) ||
		(h->endpoint = xasprintf("%s://%s:%d", scheme, cfg->host, port)) == NULL ||
		(h->host_header = xasprintf("%s%s%s%s", cfg->host_style ? cfg->bucket : "",
									cfg->host_style ? "." : "", cfg->host, portpart)) == NULL ||
		(h->url_base = xasprintf("%s://%s%s%s:%d", scheme, cfg->host_style ? cfg->bucket : "",
								 cfg->host_style ? "." : "", cfg->host, port)) == NULL)
		goto oom;
	if (pthread_mutex_init(&h->lock, NULL) != 0)
		goto oom;
	return h;

oom:
	if (h)
	{
		h->nidle = 0;
		free(h->host);
		free(h->region);
		free(h->bucket);
		free(h->access_key);
		if (h->secret_key)
			OPENSSL_cleanse(h->secret_key, strlen(h->secret_key));
		free(h->secret_key);
		free(h->ca_file);
		free(h->endpoint);
		free(h->host_header);
		free(h->url_base);
		free(h);
	}
	pgb_error(err, EXIT_INTERNAL, "out of memory");
	return NULL;
}

void
s3_http_free(S3Http *h)
{
	if (h == NULL)
		return;
	for (int i = 0; i < h->nidle; i++)
		curl_easy_cleanup(h->idle[i]);
	pthread_mutex_destroy(&h->lock);
	OPENSSL_cleanse(h->secret_key, strlen(h->secret_key));
	free(h->secret_key);
	free(h->host);
	free(h->region);
	free(h->bucket);
	free(h->access_key);
	free(h->ca_file);
	free(h->endpoint);
	free(h->host_header);
	free(h->url_base);
	free(h);
}

const char *
s3_http_endpoint(const S3Http *h)
{
	return h->endpoint;
}

static CURL *
pool_take(S3Http *h)
{
	CURL	   *c = NULL;

	pthread_mutex_lock(&h->lock);
	if (h->nidle > 0)
		c = h->idle[--h->nidle];
	pthread_mutex_unlock(&h->lock);
	return c ? c : curl_easy_init();
}

static void
pool_give(S3Http *h, CURL *c)
{
	pthread_mutex_lock(&h->lock);
	if (h->nidle < POOL_MAX)
	{
		h->idle[h->nidle++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&h->lock);
	if (c)
		curl_easy_cleanup(c);
}

void
s3_response_free(S3Response *resp)
{
	membuf_free(&resp->body);
}

static void
response_reset(S3Response *resp, size_t max)
{
	membuf_free(&resp->body);
	memset(resp, 0, sizeof(*resp));
	resp->body.max = max;
	resp->content_length = -1;
}

/* ---------------------------------------------------------------- libcurl callbacks */

static size_t
read_cb(char *buf, size_t size, size_t n, void *arg)
{
	Upload	   *u = arg;
	size_t		len = size * n;

	if (len > u->len - u->pos)
		len = u->len - u->pos;
	memcpy(buf, u->data + u->pos, len);
	u->pos += len;
	return len;
}

static int
seek_cb(void *arg, curl_off_t offset, int origin)
{
	Upload	   *u = arg;

	if (origin != SEEK_SET || offset < 0 || (size_t) offset > u->len)
		return CURL_SEEKFUNC_FAIL;
	u->pos = (size_t) offset;
	return CURL_SEEKFUNC_OK;
}

static size_t
write_cb(char *buf, size_t size, size_t n, void *arg)
{
	Capture    *cap = arg;
	PgbError	ignored;

	if (membuf_append(&cap->resp->body, buf, size * n, &ignored) != 0)
	{
		cap->overflow = true;
		return 0;
	}
	return size * n;
}

/* Copy a header value (after the colon, trimmed) into out. */
static void
header_value(const char *v, size_t len, char *out, size_t outlen)
{
	while (len > 0 && (*v == ' ' || *v == '\t'))
	{
		v++;
		len--;
	}
	while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
		len--;
	if (len >= outlen)
		len = outlen - 1;
	memcpy(out, v, len);
	out[len] = '\0';
}

static size_t
header_cb(char *buf, size_t size, size_t n, void *arg)
{
	S3Response *r = ((Capture *) arg)->resp;
	size_t		len = size * n;
	const char *colon = memchr(buf, ':', len);
	size_t		nlen;
	const char *v;

	if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0)
	{
		/* a new response (after a 100 Continue, say): forget the last one's */
		r->etag[0] = r->content_range[0] = r->last_modified[0] = '\0';
		r->content_length = -1;
		return len;
	}
	if (colon == NULL)
		return len;
	nlen = (size_t) (colon - buf);
	v = colon + 1;
	len -= nlen + 1;
	if (nlen == 4 && strncasecmp(buf, "etag", 4) == 0)
		header_value(v, len, r->etag, sizeof(r->etag));
	else if (nlen == 13 && strncasecmp(buf, "content-range", 13) == 0)
		header_value(v, len, r->content_range, sizeof(r->content_range));
	else if (nlen == 13 && strncasecmp(buf, "last-modified", 13) == 0)
		header_value(v, len, r->last_modified, sizeof(r->last_modified));
	else if (nlen == 14 && strncasecmp(buf, "content-length", 14) == 0)
	{
		char		text[32];
		char	   *end;
		long long	cl;

		header_value(v, len, text, sizeof(text));
		cl = strtoll(text, &end, 10);
		if (end != text && *end == '\0' && cl >= 0)
			r->content_length = cl;
	}
	return len + nlen + 1;
}

/* ---------------------------------------------------------------- one attempt */

static int
append_encoded(MemBuf *b, const char *s, size_t n, bool keep_slash, PgbError *err)
{
	return sigv4_uri_encode(b, s, n, keep_slash, err);
}

/* The raw path of a request: /bucket/key, /bucket, /key or /. */
static char *
request_path(const S3Http *h, const S3Request *req)
{
	const char *key = req->key ? req->key : "";

	if (h->host_style)
		return xasprintf("/%s", key);
	return xasprintf("/%s%s%s", h->bucket, key[0] ? "/" : "", key);
}

/* The URL: the same encoding the signer applies, so both agree. */
static char *
request_url(const S3Http *h, const char *path, const char *query, PgbError *err)
{
	MemBuf		b = {0};

	if (membuf_append(&b, h->url_base, strlen(h->url_base), err) != 0 ||
		append_encoded(&b, path, strlen(path), true, err) != 0)
		goto fail;
	if (query && query[0])
	{
		const char *p = query;
		bool		first = true;

		while (*p)
		{
			size_t		plen = strcspn(p, "&");
			const char *eq = memchr(p, '=', plen);
			size_t		nlen = eq ? (size_t) (eq - p) : plen;

			if (plen > 0)
			{
				if (membuf_append(&b, first ? "?" : "&", 1, err) != 0 ||
					append_encoded(&b, p, nlen, false, err) != 0)
					goto fail;
				if (eq && (membuf_append(&b, "=", 1, err) != 0 ||
						   append_encoded(&b, eq + 1, plen - nlen - 1, false, err) != 0))
					goto fail;
				first = false;
			}
			p += plen;
			if (*p == '&')
				p++;
		}
	}
	return membuf_take(&b, NULL, err);

fail:
	membuf_free(&b);
	return NULL;
}

static struct curl_slist *
add_header(struct curl_slist *list, const char *name, const char *value, bool *ok)
{
	char		line[HEADER_LINE_MAX];
	struct curl_slist *next;
	int			n;

	if (!*ok)
		return list;
	n = snprintf(line, sizeof(line), "%s: %s", name, value);
	if (n < 0 || (size_t) n >= sizeof(line) || (next = curl_slist_append(list, line)) == NULL)
	{
		*ok = false;
		return list;
	}
	return next;
}

/*
 * Sign and perform the request once.  Returns -1 (err set) only for local
 * failures that retrying cannot fix; otherwise 0 with *rc the libcurl result.
 */
static int
perform_once(S3Http *h, CURL *c, const S3Request *req, const char *path, const char *url,
			 const char *payload_hash, S3Response *resp, Capture *cap,
			 char *errbuf, CURLcode *rc, PgbError *err)
{
	SigV4Header headers[3 + MAX_EXTRA_HEADERS];
	SigV4Request sreq = {0};
	char		amz_date[32];
	char		auth[AUTH_MAX];
	struct curl_slist *list = NULL;
	struct tm	tm;
	time_t		now = time(NULL);
	Upload		upload = {.data = req->body, .len = req->body_len};
	bool		ok = true;
	int			nh = 0;

	if (req->nheaders > MAX_EXTRA_HEADERS)
		return pgb_error(err, EXIT_INTERNAL, "too many headers for an S3 request");
	gmtime_r(&now, &tm);
	strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tm);
	headers[nh++] = (SigV4Header) {"host", h->host_header};
	headers[nh++] = (SigV4Header) {"x-amz-date", amz_date};
	headers[nh++] = (SigV4Header) {"x-amz-content-sha256", payload_hash};
	for (int i = 0; i < req->nheaders; i++)
		headers[nh++] = req->headers[i];
	sreq.method = req->method;
	sreq.path = path;
	sreq.query = req->query;
	sreq.headers = headers;
	sreq.nheaders = nh;
	sreq.payload_sha256_hex = payload_hash;
	sreq.region = h->region;
	sreq.service = "s3";
	sreq.access_key = h->access_key;
	sreq.secret_key = h->secret_key;
	sreq.amz_date = amz_date;
	if (sigv4_sign(&sreq, auth, sizeof(auth), err) != 0)
		return -1;

	for (int i = 0; i < nh; i++)
		list = add_header(list, headers[i].name, headers[i].value, &ok);
	list = add_header(list, "Authorization", auth, &ok);
	OPENSSL_cleanse(auth, sizeof(auth));
	/* no "Expect: 100-continue" round trip: the body is small and in memory */
	if (ok && (list = curl_slist_append(list, "Expect:")) == NULL)
		ok = false;
	if (!ok)
	{
		curl_slist_free_all(list);
		return pgb_error(err, EXIT_INTERNAL, "could not build the headers of an S3 request");
	}

	curl_easy_reset(c);
	errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long) h->connect_timeout);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long) h->io_timeout);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, h->verify_tls ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, h->verify_tls ? 2L : 0L);
	if (h->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_file);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, cap);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, cap);
	if (strcmp(req->method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(req->method, "PUT") == 0 || strcmp(req->method, "POST") == 0)
	{
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(c, CURLOPT_READDATA, &upload);
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, seek_cb);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, &upload);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t) req->body_len);
		if (strcmp(req->method, "POST") == 0)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "POST");
	}
	else if (strcmp(req->method, "GET") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);

	*rc = curl_easy_perform(c);
	if (*rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	curl_slist_free_all(list);
	/* the handle must not point at this stack frame once we return */
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	return 0;
}

/* ---------------------------------------------------------------- judging the outcome */

static bool
transient_curl(CURLcode rc)
{
	switch (rc)
	{
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_CONNECT:
		case CURLE_PARTIAL_FILE:
		case CURLE_OPERATION_TIMEDOUT:
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_GOT_NOTHING:
		case CURLE_SEND_ERROR:
		case CURLE_RECV_ERROR:
		case CURLE_HTTP2:
		case CURLE_HTTP2_STREAM:
		case CURLE_SEND_FAIL_REWIND:
			return true;
		default:
			return false;
	}
}

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
	XmlNode		root;
	char	   *text;

	if (r->body.len == 0 || xml_root(r->body.buf, r->body.len, &root, &ignored) != 0 ||
		!xml_is(&root, "Error"))
		return false;
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
tls_failure(const S3Http *h, CURLcode rc, const char *errbuf, PgbError *err)
{
	pgb_error(err, EXIT_CONFIG, "could not verify the TLS certificate of S3 endpoint %s: %s",
			  h->endpoint, errbuf[0] ? errbuf : curl_easy_strerror(rc));
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
	size_t		max = req->max_body ? req->max_body : S3_HTTP_MAX_XML;
	char		payload_hash[SHA256_HEX_LEN + 1];
	uint8_t		digest[SHA256_LEN];
	char		errbuf[CURL_ERROR_SIZE];
	char		last[CURL_ERROR_SIZE + 64] = "";
	char	   *path = NULL;
	char	   *url = NULL;
	CURL	   *c = NULL;
	int			result = -1;

	memset(resp, 0, sizeof(*resp));
	sha256_digest(req->body ? req->body : "", req->body_len, digest);
	sha256_to_hex(digest, payload_hash);
	if ((path = request_path(h, req)) == NULL)
	{
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		goto done;
	}
	if ((url = request_url(h, path, req->query, err)) == NULL)
		goto done;
	if ((c = pool_take(h)) == NULL)
	{
		pgb_error(err, EXIT_INTERNAL, "could not create a libcurl handle");
		goto done;
	}

	for (int attempt = 1;; attempt++)
	{
		Capture		cap = {.resp = resp};
		CURLcode	rc = CURLE_OK;

		response_reset(resp, max);
		if (perform_once(h, c, req, path, url, payload_hash, resp, &cap, errbuf, &rc, err) != 0)
			goto done;
		if (rc != CURLE_OK)
		{
			if (cap.overflow)
			{
				pgb_error(err, EXIT_CORRUPT, "the response to S3 %s of \"%s\" is larger than %zu bytes",
						  req->op, object, max);
				goto done;
			}
			if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
				rc == CURLE_SSL_ISSUER_ERROR)
			{
				tls_failure(h, rc, errbuf, err);
				goto done;
			}
			snprintf(last, sizeof(last), "%s (curl error %d)",
					 errbuf[0] ? errbuf : curl_easy_strerror(rc), (int) rc);
			if (!transient_curl(rc))
			{
				pgb_error(err, EXIT_IO, "S3 %s of \"%s\" failed: %s", req->op, object, last);
				pgb_hint(err, "endpoint %s", h->endpoint);
				goto done;
			}
		}
		else
		{
			/* a body is an S3 error only for an error status (or where S3 hides one in a 200) */
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
	if (c)
		pool_give(h, c);
	free(path);
	free(url);
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
