/*
 * Unit tests of the drill's pure parts: check files (directives, defaults,
 * malformed input), judging a check's result, and the JUnit XML and JSON
 * reports (escaping, counts).
 */
#include <check.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "drill/report.h"
#include "drill/usercheck.h"

static DbTable
one_value(const char *v)
{
	DbTable		t = {1, 1, calloc(2, sizeof(char *))};

	t.cells[0] = v ? strdup(v) : NULL;
	return t;
}

START_TEST(test_parse_named_checks)
{
	UserCheckList l = {0};
	PgbError	err = {0};
	const char *text =
		"-- a comment that is not a directive\n"
		"-- name: rows in t\n"
		"-- expect: = 5100\n"
		"SELECT count(*)\n  FROM t;\n"
		"\n"
		"-- name: orders today\n"
		"-- database: app\n"
		"-- expect: > 0\n"
		"SELECT count(*) FROM orders; -- trailing\n"
		"-- name: no expectation\n"
		"SELECT true;\n";

	ck_assert_int_eq(usercheck_parse(text, "/ci/checks.sql", &l, &err), 0);
	ck_assert_int_eq(l.count, 3);
	ck_assert_str_eq(l.items[0].name, "rows in t");
	ck_assert_str_eq(l.items[0].op, "=");
	ck_assert_str_eq(l.items[0].value, "5100");
	ck_assert_str_eq(l.items[0].sql, "SELECT count(*)\n  FROM t;\n\n");
	ck_assert_str_eq(l.items[0].origin, "/ci/checks.sql:2");
	ck_assert_str_eq(l.items[1].database, "app");
	ck_assert_str_eq(l.items[1].op, ">");
	ck_assert_str_eq(l.items[1].value, "0");
	ck_assert_str_eq(l.items[2].op, "");
	ck_assert_str_eq(l.items[2].database, "");
	usercheck_list_free(&l);
}
END_TEST

START_TEST(test_parse_defaults_and_errors)
{
	UserCheckList l = {0};
	PgbError	err = {0};

	/* SQL before any name: a check named after the file */
	ck_assert_int_eq(usercheck_parse("SELECT 1;\n", "/x/orders-ok.sql", &l, &err), 0);
	ck_assert_int_eq(l.count, 1);
	ck_assert_str_eq(l.items[0].name, "orders-ok");
	usercheck_list_free(&l);

	ck_assert_int_eq(usercheck_parse("-- name: x\n-- expect:\nSELECT 1;\n", "f.sql", &l, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "f.sql:2"));
	usercheck_list_free(&l);

	ck_assert_int_eq(usercheck_parse("-- name: empty\n-- name: y\nSELECT 1;\n", "f.sql", &l, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "\"empty\" has no SQL"));
	usercheck_list_free(&l);

	ck_assert_int_eq(usercheck_parse("\n-- only a comment\n", "f.sql", &l, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "no SQL"));
	usercheck_list_free(&l);

	ck_assert_int_eq(usercheck_parse("-- name:\nSELECT 1;\n", "f.sql", &l, &err), -1);
	usercheck_list_free(&l);
}
END_TEST

static bool
judge(const char *expect, const char *value)
{
	UserCheck	c = {.origin = "t"};
	DbTable		t = one_value(value);
	PgbError	err = {0};
	char		why[256];
	bool		ok;

	if (expect)
		ck_assert_int_eq(usercheck_set_expect(&c, expect, &err), 0);
	ok = usercheck_judge(&c, &t, why, sizeof(why));
	db_table_free(&t);
	return ok;
}

START_TEST(test_judge)
{
	ck_assert(judge("> 0", "5"));
	ck_assert(!judge("> 0", "0"));
	ck_assert(judge(">= 10", "10"));
	ck_assert(judge("<= 10", "9.5"));
	ck_assert(judge("10", "10.0"));	/* numbers compare as numbers */
	ck_assert(judge("<> 3", "4"));
	ck_assert(!judge("!= 3", "3"));
	ck_assert(judge("= ok", "ok"));
	ck_assert(!judge("= ok", "OK"));
	ck_assert(judge("< b", "a"));	/* text compares as text */
	ck_assert(!judge("> 0", NULL));
	ck_assert(judge(NULL, "t"));
	ck_assert(!judge(NULL, "f"));
	ck_assert(judge(NULL, NULL));
	{
		UserCheck	c = {.origin = "t"};
		DbTable		none = {0};
		PgbError	err = {0};
		char		why[256];

		ck_assert(usercheck_judge(&c, &none, why, sizeof(why)));
		ck_assert_int_eq(usercheck_set_expect(&c, "> 0", &err), 0);
		ck_assert(!usercheck_judge(&c, &none, why, sizeof(why)));
		ck_assert_str_eq(why, "returned no rows, expected > 0");
	}
}
END_TEST

static DrillReport *
sample_report(void)
{
	DrillReport *r = calloc(1, sizeof(*r));
	DrillStep  *s;

	snprintf(r->cluster, sizeof(r->cluster), "pg-<meta>");
	snprintf(r->target, sizeof(r->target), "time 2026-12-03 \"noon\"");
	s = drill_step_add(r, "restore");
	drill_step_set(s, STEP_PASSED, "ok\nsecond line");
	s->seconds = 1.5;
	s = drill_step_add(r, "amcheck");
	drill_step_set(s, STEP_FAILED, "heap table \"db.public.t\" & more");
	drill_step_output(s, "line1 <bad>\x01\nline2\n\n");
	s = drill_step_add(r, "checksums");
	drill_step_set(s, STEP_SKIPPED, "data checksums are off");
	return r;
}

START_TEST(test_junit)
{
	DrillReport *r = sample_report();
	char	   *x = drill_report_junit(r);

	ck_assert_ptr_nonnull(x);
	ck_assert_ptr_nonnull(strstr(x, "tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\""));
	ck_assert_ptr_nonnull(strstr(x, "name=\"pgbkp drill pg-&lt;meta&gt;\""));
	ck_assert_ptr_nonnull(strstr(x, "message=\"heap table &quot;db.public.t&quot; &amp; more\""));
	ck_assert_ptr_nonnull(strstr(x, ">line1 &lt;bad&gt;\nline2</failure>"));	/* control byte dropped */
	ck_assert_ptr_nonnull(strstr(x, "<skipped message=\"data checksums are off\"/>"));
	ck_assert_ptr_nonnull(strstr(x, "<system-out>ok second line</system-out>"));	/* one line */
	ck_assert_ptr_null(strchr(x, '\x01'));
	free(x);
	drill_report_free(r);
	free(r);
}
END_TEST

START_TEST(test_json)
{
	DrillReport *r = sample_report();
	char	   *j;
	json_object *o,
			   *v;

	r->restore_seconds = 1.5;
	r->recovery_seconds = 2.25;
	j = drill_report_json(r);
	ck_assert_ptr_nonnull(j);
	o = json_tokener_parse(j);
	ck_assert_ptr_nonnull(o);
	ck_assert(json_object_object_get_ex(o, "result", &v));
	ck_assert_str_eq(json_object_get_string(v), "failed");
	ck_assert(json_object_object_get_ex(o, "steps", &v));
	ck_assert_int_eq((int) json_object_array_length(v), 3);
	ck_assert(json_object_object_get_ex(o, "rto", &v));
	ck_assert(json_object_object_get_ex(v, "total_seconds", &v));
	ck_assert(json_object_get_double(v) > 3.74 && json_object_get_double(v) < 3.76);
	json_object_put(o);
	free(j);
	ck_assert(drill_report_failed(r));
	drill_report_free(r);
	free(r);
}
END_TEST

int
main(void)
{
	Suite	   *s = suite_create("drill");
	TCase	   *tc = tcase_create("drill");

	tcase_add_test(tc, test_parse_named_checks);
	tcase_add_test(tc, test_parse_defaults_and_errors);
	tcase_add_test(tc, test_judge);
	tcase_add_test(tc, test_junit);
	tcase_add_test(tc, test_json);
	suite_add_tcase(s, tc);
	return harness_run(s);
}
