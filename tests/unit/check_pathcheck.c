/*
 * Unit tests for src/common/pathcheck.c: the screen every path read from a
 * repository passes before restore writes anything with it.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/pathcheck.h"
#include "harness.h"

#define PATHCHECK_MAX 1023

static void
rel_ok(const char *path)
{
	PgbError	err = {0};

	ck_assert_msg(path_check_relative(path, &err) == 0, "\"%s\" rejected: %s", path, err.msg);
	ck_assert_int_eq(err.code, 0);
}

/* Must fail with EXIT_CORRUPT; the message must contain needle. */
static void
rel_bad(const char *path, const char *needle)
{
	PgbError	err = {0};

	ck_assert_msg(path_check_relative(path, &err) == -1, "relative \"%s\" accepted", path);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	ck_assert_msg(strstr(err.msg, needle) != NULL, "\"%s\": message \"%s\" lacks \"%s\"", path, err.msg, needle);
}

static void
abs_ok(const char *path)
{
	PgbError	err = {0};

	ck_assert_msg(path_check_absolute(path, &err) == 0, "\"%s\" rejected: %s", path, err.msg);
	ck_assert_int_eq(err.code, 0);
}

static void
abs_bad(const char *path, const char *needle)
{
	PgbError	err = {0};

	ck_assert_msg(path_check_absolute(path, &err) == -1, "absolute \"%s\" accepted", path);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	ck_assert_msg(strstr(err.msg, needle) != NULL, "\"%s\": message \"%s\" lacks \"%s\"", path, err.msg, needle);
}

/* A string of len bytes made of components "aaaaaaa/" (7 + slash). */
static char *
long_path(size_t len, bool absolute)
{
	char	   *p = malloc(len + 1);

	for (size_t i = 0; i < len; i++)
		p[i] = (i % 8 == 7) ? '/' : 'a';
	if (absolute)
		p[0] = '/';
	if (p[len - 1] == '/')
		p[len - 1] = 'z';
	p[len] = '\0';
	return p;
}

START_TEST(test_relative_accepts)
{
	static const char *const ok[] = {
		"a",
		"PG_VERSION",
		"base/1/16384",
		"base/1/16384.1",
		"base/1/16384_init",
		"pg_tblspc/16400/PG_15_202209061/16401/16500",
		"global/pg_control",
		".hidden",
		"a/.hidden",
		"...",
		"a/.../b",
		"..a",
		"a..",
		"a/..b/c",
		".a./b",
		"file with spaces",
		"tilde~/x",
		"~",
		"back\\slash",
		"per%cent",
		"colon:semi;",
		"star*?[x]",
		"quote'\"",
		"donn\xc3\xa9" "es/\xe6\x97\xa5\xe6\x9c\xac",
		"\xff\xfe",				/* high bytes are not control characters */
		"-leading-dash",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		rel_ok(ok[i]);
}
END_TEST

START_TEST(test_relative_rejects_traversal)
{
	rel_bad("..", "\"..\" component");
	rel_bad("../x", "\"..\" component");
	rel_bad("../../etc/passwd", "\"..\" component");
	rel_bad("base/..", "\"..\" component");
	rel_bad("base/../x", "\"..\" component");
	rel_bad("a/b/c/../../../..", "\"..\" component");
	rel_bad(".", "\".\" component");
	rel_bad("./a", "\".\" component");
	rel_bad("a/./b", "\".\" component");
	rel_bad("a/.", "\".\" component");
}
END_TEST

START_TEST(test_relative_rejects_shape)
{
	rel_bad("", "empty");
	rel_bad("/etc/passwd", "absolute");
	rel_bad("/", "absolute");
	rel_bad("//x", "absolute");
	rel_bad("a//b", "empty component");
	rel_bad("a/", "empty component");
	rel_bad("a/b/", "empty component");
	rel_bad("a///b", "empty component");
}
END_TEST

START_TEST(test_relative_rejects_control)
{
	char		path[8];

	/* every control character, at the start, middle and end */
	for (int c = 1; c < 0x20; c++)
	{
		snprintf(path, sizeof(path), "%cab", c);
		rel_bad(path, "control character");
		snprintf(path, sizeof(path), "a%cb", c);
		rel_bad(path, "control character");
		snprintf(path, sizeof(path), "ab%c", c);
		rel_bad(path, "control character");
	}
	rel_bad("a\x7f", "control character");
	rel_bad("a/\nb", "control character");
	/* a space is not a control character */
	rel_ok(" ");
	rel_ok("a b/ c ");
}
END_TEST

START_TEST(test_relative_length)
{
	char	   *p = long_path(PATHCHECK_MAX, false);

	ck_assert_uint_eq(strlen(p), PATHCHECK_MAX);
	rel_ok(p);
	free(p);
	p = long_path(PATHCHECK_MAX + 1, false);
	rel_bad(p, "longer than");
	free(p);
	p = long_path(100000, false);
	rel_bad(p, "longer than");
	free(p);

	/* one long component is fine as long as the whole fits */
	p = malloc(PATHCHECK_MAX + 1);
	memset(p, 'x', PATHCHECK_MAX);
	p[PATHCHECK_MAX] = '\0';
	rel_ok(p);
	free(p);
}
END_TEST

/* The message quotes the path so the operator can find the entry. */
START_TEST(test_relative_message_quotes_path)
{
	rel_bad("base/1/../../../etc/shadow", "\"base/1/../../../etc/shadow\"");
	rel_bad("x//y", "\"x//y\"");
}
END_TEST

START_TEST(test_absolute_accepts)
{
	static const char *const ok[] = {
		"/a",
		"/data/tablespace",
		"/pg/data/pg_tblspc_target",
		"/a b/c d",
		"/.hidden/x",
		"/.../x",
		"/a/..b",
		"/tmp/\xc3\xa9t\xc3\xa9",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		abs_ok(ok[i]);
}
END_TEST

START_TEST(test_absolute_rejects)
{
	abs_bad("", "empty");
	abs_bad("/", "root directory");
	abs_bad("a", "not absolute");
	abs_bad("data/ts", "not absolute");
	abs_bad("./data", "not absolute");
	abs_bad("../data", "not absolute");
	abs_bad("//", "empty component");
	abs_bad("//data", "empty component");
	abs_bad("/data//ts", "empty component");
	abs_bad("/data/", "empty component");
	abs_bad("/data/..", "\"..\" component");
	abs_bad("/data/../etc", "\"..\" component");
	abs_bad("/..", "\"..\" component");
	abs_bad("/.", "\".\" component");
	abs_bad("/data/./ts", "\".\" component");
	abs_bad("/data/t\ts", "control character");
	abs_bad("/data/t\ns", "control character");
	abs_bad("/data\x7f", "control character");
}
END_TEST

START_TEST(test_absolute_length)
{
	char	   *p = long_path(PATHCHECK_MAX, true);

	ck_assert_uint_eq(strlen(p), PATHCHECK_MAX);
	abs_ok(p);
	free(p);
	p = long_path(PATHCHECK_MAX + 1, true);
	abs_bad(p, "longer than");
	free(p);
}
END_TEST

/* Relative and absolute are exclusive: no path passes both. */
START_TEST(test_exclusive)
{
	static const char *const paths[] = {"a", "/a", "a/b", "/a/b", "/", ""};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
	{
		PgbError	e1 = {0};
		PgbError	e2 = {0};
		int			r = path_check_relative(paths[i], &e1);
		int			a = path_check_absolute(paths[i], &e2);

		ck_assert_msg(!(r == 0 && a == 0), "\"%s\" passes both checks", paths[i]);
	}
}
END_TEST

static Suite *
pathcheck_suite(void)
{
	Suite	   *s = suite_create("pathcheck");
	TCase	   *tc;

	tc = tcase_create("relative");
	tcase_add_test(tc, test_relative_accepts);
	tcase_add_test(tc, test_relative_rejects_traversal);
	tcase_add_test(tc, test_relative_rejects_shape);
	tcase_add_test(tc, test_relative_rejects_control);
	tcase_add_test(tc, test_relative_length);
	tcase_add_test(tc, test_relative_message_quotes_path);
	suite_add_tcase(s, tc);

	tc = tcase_create("absolute");
	tcase_add_test(tc, test_absolute_accepts);
	tcase_add_test(tc, test_absolute_rejects);
	tcase_add_test(tc, test_absolute_length);
	tcase_add_test(tc, test_exclusive);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return harness_run(pathcheck_suite());
}
