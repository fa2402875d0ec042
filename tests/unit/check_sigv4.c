/*
 * Unit tests for src/storage/s3/sigv4.c: the four examples AWS publishes in
 * the S3 API reference (canonical request, string to sign and Authorization
 * for each; see tests/unit/fixtures/sigv4/README), and encoding edge cases.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/sha256.h"
#include "storage/s3/sigv4.h"
#include "harness.h"

#define MAX_HEADERS 32

static char *
read_fixture(const char *name, const char *ext)
{
	char		rel[256];

	snprintf(rel, sizeof(rel), "sigv4/%s.%s", name, ext);
	return harness_read_fixture(rel, NULL);
}

/* A .req file cut up in place into a SigV4Request. */
typedef struct ParsedReq
{
	char	   *text;
	SigV4Header headers[MAX_HEADERS];
	SigV4Request req;
	char		payload[SHA256_HEX_LEN + 1];
} ParsedReq;

static void
parse_req(ParsedReq *p, const char *name)
{
	char	   *line;
	char	   *next;
	char	   *sp;
	char	   *body = "";
	uint8_t		digest[SHA256_LEN];
	bool		s3 = strncmp(name, "s3-", 3) == 0;

	memset(p, 0, sizeof(*p));
	p->text = read_fixture(name, "req");
	/* request line: METHOD target HTTP/1.1 (the target may hold spaces) */
	line = p->text;
	next = strchr(line, '\n');
	ck_assert_ptr_nonnull(next);
	*next++ = '\0';
	sp = strchr(line, ' ');
	*sp = '\0';
	p->req.method = line;
	p->req.path = sp + 1;
	*strrchr(sp + 1, ' ') = '\0';
	if ((sp = strchr(sp + 1, '?')) != NULL)
	{
		*sp = '\0';
		p->req.query = sp + 1;
	}
	/* headers up to a blank line; the rest is the body */
	while (next && *next)
	{
		char	   *colon;

		line = next;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (*line == '\0')
		{
			body = next ? next : "";
			break;
		}
		colon = strchr(line, ':');
		ck_assert_ptr_nonnull(colon);
		*colon = '\0';
		ck_assert_int_lt(p->req.nheaders, MAX_HEADERS);
		p->headers[p->req.nheaders].name = line;
		p->headers[p->req.nheaders].value = colon + 1;
		p->req.nheaders++;
	}
	sha256_digest(body, strlen(body), digest);
	sha256_to_hex(digest, p->payload);
	p->req.headers = p->headers;
	p->req.payload_sha256_hex = p->payload;
	p->req.region = "us-east-1";
	p->req.service = s3 ? "s3" : "service";
	p->req.access_key = s3 ? "AKIAIOSFODNN7EXAMPLE" : "AKIDEXAMPLE";
	p->req.secret_key = s3 ? "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
		: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
	p->req.amz_date = s3 ? "20130524T000000Z" : "20150830T123600Z";
}

/* ", " and "," separate Authorization parameters equally well. */
static void
drop_comma_space(char *s)
{
	char	   *o = s;
	char		prev = '\0';

	for (; *s; s++)
	{
		if (!(*s == ' ' && prev == ','))
			*o++ = *s;
		prev = *s;
	}
	*o = '\0';
}

static const char *const cases[] = {
	"s3-get-object", "s3-put-object", "s3-get-bucket-lifecycle", "s3-list-objects",
};

START_TEST(test_vector)
{
	const char *name = cases[_i];
	ParsedReq	p;
	PgbError	err = {0};
	char	   *creq = NULL;
	char	   *sts = NULL;
	char		authz[1024];
	char	   *want_creq = read_fixture(name, "creq");
	char	   *want_sts = read_fixture(name, "sts");
	char	   *want_authz = read_fixture(name, "authz");

	parse_req(&p, name);
	ck_assert_msg(sigv4_canonical_request(&p.req, &creq, &err) == 0, "%s: %s", name, err.msg);
	ck_assert_msg(strcmp(creq, want_creq) == 0, "%s canonical request:\n%s\n--- want:\n%s",
				  name, creq, want_creq);
	ck_assert_msg(sigv4_string_to_sign(&p.req, creq, &sts, &err) == 0, "%s: %s", name, err.msg);
	ck_assert_msg(strcmp(sts, want_sts) == 0, "%s string to sign:\n%s\n--- want:\n%s",
				  name, sts, want_sts);
	ck_assert_msg(sigv4_sign(&p.req, authz, sizeof(authz), &err) == 0, "%s: %s", name, err.msg);
	drop_comma_space(authz);
	drop_comma_space(want_authz);
	ck_assert_msg(strcmp(authz, want_authz) == 0, "%s authorization:\n%s\n--- want:\n%s",
				  name, authz, want_authz);
	free(creq);
	free(sts);
	free(want_creq);
	free(want_sts);
	free(want_authz);
	free(p.text);
}
END_TEST

/* The exact header form AWS uses (", " separators) for get-vanilla. */
/* The exact header pgbkp sends, for the S3 reference's GET Object example. */
START_TEST(test_authorization_format)
{
	ParsedReq	p;
	PgbError	err = {0};
	char		authz[1024];

	parse_req(&p, "s3-get-object");
	ck_assert_int_eq(sigv4_sign(&p.req, authz, sizeof(authz), &err), 0);
	ck_assert_str_eq(authz,
					 "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
					 "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
					 "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
	free(p.text);
}
END_TEST

static const char *EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

static SigV4Request
base_req(SigV4Header *h, const char *path, const char *query)
{
	SigV4Request r = {
		.method = "GET", .path = path, .query = query, .headers = h, .nheaders = 2,
		.payload_sha256_hex = EMPTY, .region = "us-east-1", .service = "s3",
		.access_key = "AKIAIOSFODNN7EXAMPLE",
		.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		.amz_date = "20130524T000000Z",
	};

	h[0] = (SigV4Header) {"Host", "b.example"};
	h[1] = (SigV4Header) {"X-Amz-Date", "20130524T000000Z"};
	return r;
}

/* Line n (0-based) of the canonical request for path and query. */
static char *
creq_line(const char *path, const char *query, int n)
{
	SigV4Header h[2];
	SigV4Request r = base_req(h, path, query);
	PgbError	err = {0};
	char	   *creq;
	char	   *s;
	char	   *e;
	char	   *line;

	ck_assert_msg(sigv4_canonical_request(&r, &creq, &err) == 0, "%s", err.msg);
	s = creq;
	while (n-- > 0)
		s = strchr(s, '\n') + 1;
	e = strchr(s, '\n');
	line = strndup(s, e ? (size_t) (e - s) : strlen(s));
	free(creq);
	return line;
}

static void
check_path(const char *path, const char *want)
{
	char	   *got = creq_line(path, NULL, 1);

	ck_assert_msg(strcmp(got, want) == 0, "path \"%s\": got \"%s\", want \"%s\"", path, got, want);
	free(got);
}

static void
check_query(const char *query, const char *want)
{
	char	   *got = creq_line("/", query, 2);

	ck_assert_msg(strcmp(got, want) == 0, "query \"%s\": got \"%s\", want \"%s\"",
				  query ? query : "(null)", got, want);
	free(got);
}

START_TEST(test_path_encoding)
{
	check_path("/bucket/key with space", "/bucket/key%20with%20space");
	check_path("/a/b/c", "/a/b/c");
	check_path("/~user/-_.x", "/~user/-_.x");
	check_path("/test$file.text", "/test%24file.text");
	check_path("/pct%20already", "/pct%2520already");	/* inputs are raw: no decoding */
	check_path("/\xc3\xbc", "/%C3%BC");
	check_path("/a+b=c&d:e", "/a%2Bb%3Dc%26d%3Ae");
	check_path("", "/");
	check_path(NULL, "/");
	check_path("//double//", "//double//");	/* S3: no normalisation */
}
END_TEST

START_TEST(test_query_encoding)
{
	check_query(NULL, "");
	check_query("", "");
	check_query("uploads", "uploads=");
	check_query("b=2&a=1&uploads", "a=1&b=2&uploads=");
	check_query("prefix=a/b c", "prefix=a%2Fb%20c");
	check_query("k=~x", "k=~x");
	check_query("k=\xc3\xbc", "k=%C3%BC");
	check_query("a=2&a=10&a=1", "a=1&a=10&a=2");
	check_query("a=&b", "a=&b=");
	check_query("&&x=1&", "x=1");
	check_query("v=a=b", "v=a%3Db");
	check_query("B=1&a=2", "B=1&a=2");	/* byte order: upper case first */
	check_query("uploadId=abc&partNumber=3", "partNumber=3&uploadId=abc");
}
END_TEST

START_TEST(test_header_canonical)
{
	SigV4Header h[5] = {
		{"Host", "b.example"},
		{"X-Amz-Date", "20130524T000000Z"},
		{"X-Amz-Meta-B", "  two   spaces  here "},
		{"x-amz-meta-a", "\tx\t"},
		{"X-AMZ-META-B", "second"},
	};
	SigV4Request r = base_req(h, "/", NULL);
	PgbError	err = {0};
	char	   *creq;

	r.nheaders = 5;
	ck_assert_int_eq(sigv4_canonical_request(&r, &creq, &err), 0);
	ck_assert_str_eq(creq,
					 "GET\n/\n\n"
					 "host:b.example\n"
					 "x-amz-date:20130524T000000Z\n"
					 "x-amz-meta-a:x\n"
					 "x-amz-meta-b:two spaces here,second\n"
					 "\n"
					 "host;x-amz-date;x-amz-meta-a;x-amz-meta-b\n"
					 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	free(creq);
}
END_TEST

START_TEST(test_unsigned_payload)
{
	SigV4Header h[2];
	SigV4Request r = base_req(h, "/x", NULL);
	PgbError	err = {0};
	char	   *creq;

	r.payload_sha256_hex = SIGV4_UNSIGNED_PAYLOAD;
	ck_assert_int_eq(sigv4_canonical_request(&r, &creq, &err), 0);
	ck_assert_ptr_nonnull(strstr(creq, "\nUNSIGNED-PAYLOAD"));
	free(creq);
}
END_TEST

/* Bad input fails with EXIT_INTERNAL, and no message reveals the secret. */
static void
expect_fail(SigV4Request *r, const char *what)
{
	PgbError	err = {0};
	char		authz[1024];

	ck_assert_msg(sigv4_sign(r, authz, sizeof(authz), &err) == -1, "%s accepted", what);
	ck_assert_int_eq(err.code, EXIT_INTERNAL);
	ck_assert_str_eq(authz, "");
	ck_assert_msg(strstr(err.msg, "EXAMPLEKEY") == NULL, "secret in \"%s\"", err.msg);
	ck_assert_msg(strstr(err.msg, what) != NULL, "\"%s\" does not mention %s", err.msg, what);
}

START_TEST(test_errors)
{
	SigV4Header h[2];
	SigV4Request r;
	PgbError	err = {0};
	char		small[32];

	r = base_req(h, "/", NULL);
	r.nheaders = 1;				/* no x-amz-date */
	expect_fail(&r, "x-amz-date");
	r = base_req(h, "/", NULL);
	h[0].name = "Hostname";
	expect_fail(&r, "host");
	r = base_req(h, "/", NULL);
	h[1].value = "20130525T000000Z";
	expect_fail(&r, "x-amz-date");
	r = base_req(h, "/", NULL);
	r.amz_date = "2013-05-24";
	expect_fail(&r, "x-amz-date");
	r = base_req(h, "/", NULL);
	r.payload_sha256_hex = "E3B0";
	expect_fail(&r, "payload hash");
	r = base_req(h, "/", NULL);
	r.region = "";
	expect_fail(&r, "region");
	r = base_req(h, "/", NULL);
	r.secret_key = "";
	expect_fail(&r, "secret");
	r = base_req(h, "/", NULL);
	h[1].value = "20130524T000000Z\r\nEvil: 1";
	expect_fail(&r, "header");

	r = base_req(h, "/", NULL);
	ck_assert_int_eq(sigv4_sign(&r, small, sizeof(small), &err), -1);
	ck_assert_int_eq(err.code, EXIT_INTERNAL);
	ck_assert_str_eq(small, "");
	ck_assert_ptr_null(strstr(err.msg, "EXAMPLEKEY"));
}
END_TEST

int
main(void)
{
	Suite	   *s = suite_create("sigv4");
	TCase	   *tc = tcase_create("vectors");

	tcase_add_loop_test(tc, test_vector, 0, (int) (sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_authorization_format);
	suite_add_tcase(s, tc);
	tc = tcase_create("encoding");
	tcase_add_test(tc, test_path_encoding);
	tcase_add_test(tc, test_query_encoding);
	tcase_add_test(tc, test_header_canonical);
	tcase_add_test(tc, test_unsigned_payload);
	tcase_add_test(tc, test_errors);
	suite_add_tcase(s, tc);
	return harness_run(s);
}
