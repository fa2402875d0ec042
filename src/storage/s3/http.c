/*
 * The transport of the S3 driver (see http.h and http_intern.h): each
 * request takes an easy handle from the pool (or makes one), resets it,
 * signs and sends, and puts it back; a handle keeps its connections across
 * curl_easy_reset(), so successive requests of one thread, or of threads
 * taking turns, reuse open connections.  TLS verification, timeouts and
 * the capture of a response (status, a few headers, a capped body) are set
 * here.  The secret key is used only by the signer and is wiped when the
 * S3Http is freed; no header is ever logged.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "lib/libcurl.h"
#include <openssl/crypto.h>

#include "io/sha256.h"
#include "storage/s3/http.h"
#include "storage/s3/http_intern.h"

#define MAX_EXTRA_HEADERS 8
#define HEADER_LINE_MAX 2048
#define AUTH_MAX 1024

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

	if (libcurl_require(err) != 0)
		return NULL;
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
	if (h->nidle < S3_HTTP_POOL_MAX)
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

/* ---------------------------------------------------------------- an exchange */

/* Whether a libcurl failure may go away when the request is sent again. */
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


int
s3_exchange_begin(S3Http *h, const S3Request *req, S3Exchange *x, PgbError *err)
{
	uint8_t		digest[SHA256_LEN];

	memset(x, 0, sizeof(*x));
	x->max_body = req->max_body ? req->max_body : S3_HTTP_MAX_XML;
	sha256_digest(req->body ? req->body : "", req->body_len, digest);
	sha256_to_hex(digest, x->payload_hash);
	if ((x->path = request_path(h, req)) == NULL)
		pgb_error(err, EXIT_INTERNAL, "out of memory");
	else if ((x->url = request_url(h, x->path, req->query, err)) == NULL)
		;
	else if ((x->handle = pool_take(h)) == NULL)
		pgb_error(err, EXIT_INTERNAL, "could not create a libcurl handle");
	else
		return 0;
	s3_exchange_end(h, x);
	return -1;
}

int
s3_exchange_attempt(S3Http *h, S3Exchange *x, const S3Request *req, S3Response *resp,
					S3NetResult *result, char *detail, size_t len, PgbError *err)
{
	Capture		cap = {.resp = resp};
	CURLcode	rc = CURLE_OK;
	char		errbuf[CURL_ERROR_SIZE];

	detail[0] = '\0';
	response_reset(resp, x->max_body);
	if (perform_once(h, x->handle, req, x->path, x->url, x->payload_hash, resp, &cap,
					 errbuf, &rc, err) != 0)
		return -1;
	if (rc == CURLE_OK)
		*result = S3_NET_RESPONSE;
	else if (cap.overflow)
		*result = S3_NET_TOO_LARGE;
	else if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
			 rc == CURLE_SSL_ISSUER_ERROR)
	{
		*result = S3_NET_TLS;
		snprintf(detail, len, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
	}
	else
	{
		*result = transient_curl(rc) ? S3_NET_TRANSIENT : S3_NET_FAILED;
		snprintf(detail, len, "%s (curl error %d)",
				 errbuf[0] ? errbuf : curl_easy_strerror(rc), (int) rc);
	}
	return 0;
}

void
s3_exchange_end(S3Http *h, S3Exchange *x)
{
	if (x->handle)
		pool_give(h, x->handle);
	free(x->path);
	free(x->url);
	memset(x, 0, sizeof(*x));
}
