/*
 * AWS Signature Version 4 (see sigv4.h): canonical request, string to sign,
 * signing key and Authorization header, following the published algorithm:
 *
 *   CanonicalRequest = Method \n CanonicalURI \n CanonicalQuery \n
 *                      CanonicalHeaders \n SignedHeaders \n HashedPayload
 *   StringToSign     = "AWS4-HMAC-SHA256" \n amz_date \n scope \n
 *                      hex(SHA256(CanonicalRequest))
 *   scope            = yyyymmdd/region/service/aws4_request
 *   SigningKey       = HMAC(HMAC(HMAC(HMAC("AWS4" secret, yyyymmdd),
 *                      region), service), "aws4_request")
 *   Signature        = hex(HMAC(SigningKey, StringToSign))
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "io/sha256.h"
#include "storage/s3/sigv4.h"

#define AMZ_DATE_LEN 16			/* yyyymmddThhmmssZ */
#define SCOPE_DATE_LEN 8

/* One query parameter or header, as it enters the canonical form. */
typedef struct Pair
{
	char	   *name;
	char	   *value;
	int			order;			/* input position: keeps sorting stable */
} Pair;

static bool
is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
}

static int
append_str(MemBuf *b, const char *s, PgbError *err)
{
	return membuf_append(b, s, strlen(s), err);
}

int
sigv4_uri_encode(MemBuf *b, const char *s, size_t n, bool keep_slash, PgbError *err)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (is_unreserved(c) || (keep_slash && c == '/'))
		{
			if (membuf_append(b, &s[i], 1, err) != 0)
				return -1;
		}
		else
		{
			char		esc[3] = {'%', hex[c >> 4], hex[c & 0x0f]};

			if (membuf_append(b, esc, sizeof(esc), err) != 0)
				return -1;
		}
	}
	return 0;
}

/* Encode s[0..n) into a fresh string (query names and values). */
static char *
encode_dup(const char *s, size_t n, PgbError *err)
{
	MemBuf		b = {.max = SIGV4_MAX_CANONICAL};

	if (sigv4_uri_encode(&b, s, n, false, err) != 0)
	{
		membuf_free(&b);
		return NULL;
	}
	return membuf_take(&b, NULL, err);
}

static void
pairs_free(Pair *p, int n)
{
	if (p == NULL)
		return;
	for (int i = 0; i < n; i++)
	{
		free(p[i].name);
		free(p[i].value);
	}
	free(p);
}

/* Sort by name, then value (query) or input order (headers), bytewise. */
static int
cmp_query(const void *a, const void *b)
{
	const Pair *x = a;
	const Pair *y = b;
	int			c = strcmp(x->name, y->name);

	if (c == 0)
		c = strcmp(x->value, y->value);
	if (c == 0)
		c = (x->order > y->order) - (x->order < y->order);
	return c;
}

static int
cmp_header(const void *a, const void *b)
{
	const Pair *x = a;
	const Pair *y = b;
	int			c = strcmp(x->name, y->name);

	if (c == 0)
		c = (x->order > y->order) - (x->order < y->order);
	return c;
}

static int
oom(PgbError *err)
{
	return pgb_error(err, EXIT_INTERNAL, "out of memory");
}

static int
canonical_query(const char *query, MemBuf *b, PgbError *err)
{
	Pair	   *pairs = NULL;
	int			n = 0;
	int			cap = 0;
	const char *p = query ? query : "";
	int			rc = -1;

	while (*p)
	{
		size_t		partlen = strcspn(p, "&");

		if (partlen > 0)
		{
			const char *eq = memchr(p, '=', partlen);
			size_t		namelen = eq ? (size_t) (eq - p) : partlen;

			if (n == cap)
			{
				int			ncap = cap ? cap * 2 : 8;
				Pair	   *np = realloc(pairs, sizeof(Pair) * (size_t) ncap);

				if (np == NULL)
				{
					oom(err);
					goto done;
				}
				pairs = np;
				cap = ncap;
			}
			pairs[n].name = encode_dup(p, namelen, err);
			pairs[n].value = NULL;
			pairs[n].order = n;
			n++;
			if (pairs[n - 1].name == NULL)
				goto done;
			pairs[n - 1].value = eq ? encode_dup(eq + 1, partlen - namelen - 1, err)
				: encode_dup("", 0, err);
			if (pairs[n - 1].value == NULL)
				goto done;
		}
		p += partlen;
		if (*p == '&')
			p++;
	}
	if (n > 1)
		qsort(pairs, (size_t) n, sizeof(Pair), cmp_query);
	for (int i = 0; i < n; i++)
	{
		if ((i > 0 && append_str(b, "&", err) != 0) ||
			append_str(b, pairs[i].name, err) != 0 ||
			append_str(b, "=", err) != 0 ||
			append_str(b, pairs[i].value, err) != 0)
			goto done;
	}
	rc = 0;
done:
	pairs_free(pairs, n);
	return rc;
}

/* Lower-case copy of a header name. */
static char *
lower_dup(const char *s)
{
	char	   *d = strdup(s);

	if (d)
		for (char *q = d; *q; q++)
			if (*q >= 'A' && *q <= 'Z')
				*q = (char) (*q - 'A' + 'a');
	return d;
}

/* Copy of a header value, trimmed, with runs of spaces collapsed to one. */
static char *
trim_dup(const char *s)
{
	size_t		n = strlen(s);
	char	   *d = malloc(n + 1);
	size_t		o = 0;
	bool		space = false;

	if (d == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
	{
		char		c = s[i];

		if (c == ' ' || c == '\t')
		{
			space = true;
			continue;
		}
		if (space && o > 0)
			d[o++] = ' ';
		space = false;
		d[o++] = c;
	}
	d[o] = '\0';
	return d;
}

static bool
valid_amz_date(const char *d)
{
	if (d == NULL || strlen(d) != AMZ_DATE_LEN || d[8] != 'T' || d[15] != 'Z')
		return false;
	for (int i = 0; i < AMZ_DATE_LEN - 1; i++)
		if (i != 8 && (d[i] < '0' || d[i] > '9'))
			return false;
	return true;
}

static bool
valid_token(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == '\n' || *s == ' ' || *s == ',')
			return false;
	return true;
}

static bool
valid_payload(const char *p)
{
	uint8_t		bin[SHA256_LEN];

	return p != NULL &&
		(strcmp(p, SIGV4_UNSIGNED_PAYLOAD) == 0 || sha256_from_hex(p, bin));
}

/* Checks that need no secret; messages never quote key material. */
static int
validate(const SigV4Request *req, PgbError *err)
{
	if (req->method == NULL || *req->method == '\0' || strpbrk(req->method, " \n") != NULL)
		return pgb_error(err, EXIT_INTERNAL, "sigv4: invalid HTTP method");
	if (!valid_amz_date(req->amz_date))
		return pgb_error(err, EXIT_INTERNAL, "sigv4: invalid x-amz-date \"%s\"",
						 req->amz_date ? req->amz_date : "");
	if (!valid_token(req->region))
		return pgb_error(err, EXIT_INTERNAL, "sigv4: invalid region");
	if (!valid_token(req->service))
		return pgb_error(err, EXIT_INTERNAL, "sigv4: invalid service");
	if (!valid_payload(req->payload_sha256_hex))
		return pgb_error(err, EXIT_INTERNAL,
						 "sigv4: payload hash is neither 64 lower-case hex digits nor %s",
						 SIGV4_UNSIGNED_PAYLOAD);
	if (req->nheaders < 0 || (req->nheaders > 0 && req->headers == NULL))
		return pgb_error(err, EXIT_INTERNAL, "sigv4: invalid header list");
	return 0;
}

/*
 * Canonical headers and the signed-header list: lower-case names, trimmed
 * values, sorted by name, repeated names joined with ','.
 */
static int
canonical_headers(const SigV4Request *req, MemBuf *hdrs, MemBuf *signed_list, PgbError *err)
{
	Pair	   *h;
	int			n = req->nheaders;
	int			rc = -1;
	bool		have_host = false;
	bool		have_date = false;

	h = calloc((size_t) (n > 0 ? n : 1), sizeof(Pair));
	if (h == NULL)
		return oom(err);
	for (int i = 0; i < n; i++)
	{
		const SigV4Header *src = &req->headers[i];

		if (src->name == NULL || src->value == NULL || *src->name == '\0' ||
			strpbrk(src->name, " \t:\r\n") != NULL || strpbrk(src->value, "\r\n") != NULL)
		{
			pgb_error(err, EXIT_INTERNAL, "sigv4: invalid header at position %d", i);
			goto done;
		}
		h[i].name = lower_dup(src->name);
		h[i].value = trim_dup(src->value);
		h[i].order = i;
		if (h[i].name == NULL || h[i].value == NULL)
		{
			oom(err);
			goto done;
		}
		if (strcmp(h[i].name, "host") == 0)
			have_host = true;
		else if (strcmp(h[i].name, "x-amz-date") == 0)
		{
			if (strcmp(h[i].value, req->amz_date) != 0)
			{
				pgb_error(err, EXIT_INTERNAL,
						  "sigv4: x-amz-date header \"%s\" differs from the signing time \"%s\"",
						  h[i].value, req->amz_date);
				goto done;
			}
			have_date = true;
		}
	}
	if (!have_host || !have_date)
	{
		pgb_error(err, EXIT_INTERNAL, "sigv4: the signed headers lack \"%s\"",
				  have_host ? "x-amz-date" : "host");
		goto done;
	}
	qsort(h, (size_t) n, sizeof(Pair), cmp_header);
	for (int i = 0; i < n; i++)
	{
		bool		repeat = i > 0 && strcmp(h[i].name, h[i - 1].name) == 0;

		if (repeat)
		{
			if (append_str(hdrs, ",", err) != 0 || append_str(hdrs, h[i].value, err) != 0)
				goto done;
			continue;
		}
		if ((i > 0 && (append_str(hdrs, "\n", err) != 0 ||
					   append_str(signed_list, ";", err) != 0)) ||
			append_str(hdrs, h[i].name, err) != 0 ||
			append_str(hdrs, ":", err) != 0 ||
			append_str(hdrs, h[i].value, err) != 0 ||
			append_str(signed_list, h[i].name, err) != 0)
			goto done;
	}
	if (append_str(hdrs, "\n", err) != 0)
		goto done;
	rc = 0;
done:
	pairs_free(h, n);
	return rc;
}

/* Builds the canonical request; signed_headers (if not NULL) receives the list. */
static int
build_canonical(const SigV4Request *req, char **out, char **signed_headers, PgbError *err)
{
	MemBuf		b = {.max = SIGV4_MAX_CANONICAL};
	MemBuf		hdrs = {.max = SIGV4_MAX_CANONICAL};
	MemBuf		sl = {.max = SIGV4_MAX_CANONICAL};
	const char *path = (req->path && *req->path) ? req->path : "/";
	int			rc = -1;

	*out = NULL;
	if (validate(req, err) != 0)
		return -1;
	if (canonical_headers(req, &hdrs, &sl, err) != 0 ||
		append_str(&b, req->method, err) != 0 ||
		append_str(&b, "\n", err) != 0 ||
		sigv4_uri_encode(&b, path, strlen(path), true, err) != 0 ||
		append_str(&b, "\n", err) != 0 ||
		canonical_query(req->query, &b, err) != 0 ||
		append_str(&b, "\n", err) != 0 ||
		membuf_append(&b, hdrs.buf, hdrs.len, err) != 0 ||
		append_str(&b, "\n", err) != 0 ||
		membuf_append(&b, sl.buf, sl.len, err) != 0 ||
		append_str(&b, "\n", err) != 0 ||
		append_str(&b, req->payload_sha256_hex, err) != 0)
		goto done;
	if ((*out = membuf_take(&b, NULL, err)) == NULL)
		goto done;
	if (signed_headers && (*signed_headers = membuf_take(&sl, NULL, err)) == NULL)
	{
		free(*out);
		*out = NULL;
		goto done;
	}
	rc = 0;
done:
	if (rc != 0 && err->code == EXIT_CORRUPT)
		pgb_error(err, EXIT_INTERNAL, "sigv4: canonical request longer than %d bytes",
				  SIGV4_MAX_CANONICAL);
	membuf_free(&b);
	membuf_free(&hdrs);
	membuf_free(&sl);
	return rc;
}

int
sigv4_canonical_request(const SigV4Request *req, char **out, PgbError *err)
{
	return build_canonical(req, out, NULL, err);
}

int
sigv4_string_to_sign(const SigV4Request *req, const char *canonical, char **out, PgbError *err)
{
	uint8_t		digest[SHA256_LEN];
	char		hex[SHA256_HEX_LEN + 1];
	size_t		len;

	*out = NULL;
	if (validate(req, err) != 0)
		return -1;
	sha256_digest(canonical, strlen(canonical), digest);
	sha256_to_hex(digest, hex);
	len = strlen(SIGV4_ALGORITHM) + AMZ_DATE_LEN + SCOPE_DATE_LEN + strlen(req->region) +
		strlen(req->service) + strlen("aws4_request") + SHA256_HEX_LEN + 8;
	if ((*out = malloc(len)) == NULL)
		return oom(err);
	snprintf(*out, len, "%s\n%s\n%.8s/%s/%s/aws4_request\n%s", SIGV4_ALGORITHM,
			 req->amz_date, req->amz_date, req->region, req->service, hex);
	return 0;
}

/* out = HMAC-SHA256(key, msg); out may be the key itself. */
static bool
hmac(const void *key, size_t keylen, const char *msg, uint8_t out[SHA256_LEN])
{
	uint8_t		tmp[SHA256_LEN];
	unsigned int outlen = SHA256_LEN;
	bool		ok;

	ok = HMAC(EVP_sha256(), key, (int) keylen, (const unsigned char *) msg, strlen(msg),
			  tmp, &outlen) != NULL && outlen == SHA256_LEN;
	if (ok)
		memcpy(out, tmp, SHA256_LEN);
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return ok;
}

/* The signature over sts as 64 hex digits; the key chain is wiped. */
static int
signature(const SigV4Request *req, const char *sts, char hex[SHA256_HEX_LEN + 1], PgbError *err)
{
	char		date[SCOPE_DATE_LEN + 1];
	size_t		seclen = strlen(req->secret_key);
	size_t		klen = 4 + seclen;
	char	   *k0 = malloc(klen + 1);
	uint8_t		k[SHA256_LEN];
	uint8_t		sig[SHA256_LEN];
	bool		ok;

	if (k0 == NULL)
		return oom(err);
	memcpy(k0, "AWS4", 4);
	memcpy(k0 + 4, req->secret_key, seclen);
	k0[klen] = '\0';
	memcpy(date, req->amz_date, SCOPE_DATE_LEN);
	date[SCOPE_DATE_LEN] = '\0';
	ok = hmac(k0, klen, date, k) &&
		hmac(k, SHA256_LEN, req->region, k) &&
		hmac(k, SHA256_LEN, req->service, k) &&
		hmac(k, SHA256_LEN, "aws4_request", k) &&
		hmac(k, SHA256_LEN, sts, sig);
	OPENSSL_cleanse(k0, klen);
	OPENSSL_cleanse(k, sizeof(k));
	free(k0);
	if (!ok)
		return pgb_error(err, EXIT_INTERNAL, "sigv4: HMAC-SHA256 failed");
	sha256_to_hex(sig, hex);
	return 0;
}

int
sigv4_sign(const SigV4Request *req, char *authorization, size_t len, PgbError *err)
{
	char	   *creq = NULL;
	char	   *signed_headers = NULL;
	char	   *sts = NULL;
	char		sig[SHA256_HEX_LEN + 1];
	int			rc = -1;
	int			n;

	if (len > 0)
		authorization[0] = '\0';
	if (!valid_token(req->access_key))
		return pgb_error(err, EXIT_INTERNAL, "sigv4: invalid access key id");
	if (req->secret_key == NULL || *req->secret_key == '\0')
		return pgb_error(err, EXIT_INTERNAL, "sigv4: empty secret access key");
	if (build_canonical(req, &creq, &signed_headers, err) != 0 ||
		sigv4_string_to_sign(req, creq, &sts, err) != 0 ||
		signature(req, sts, sig, err) != 0)
		goto done;
	n = snprintf(authorization, len,
				 "%s Credential=%s/%.8s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
				 SIGV4_ALGORITHM, req->access_key, req->amz_date, req->region,
				 req->service, signed_headers, sig);
	if (n < 0 || (size_t) n >= len)
	{
		if (len > 0)
			authorization[0] = '\0';
		pgb_error(err, EXIT_INTERNAL, "sigv4: Authorization header needs %d bytes, buffer has %zu",
				  n + 1, len);
		goto done;
	}
	rc = 0;
done:
	OPENSSL_cleanse(sig, sizeof(sig));
	free(creq);
	free(signed_headers);
	free(sts);
	return rc;
}
