/* Unit tests of durations for monitoring thresholds. */
#include <check.h>
#include <string.h>

#include "harness.h"
#include "common/duration.h"

static int64_t
parsed(const char *text)
{
	int64_t		s = -1;
	PgbError	err = {0};

	if (duration_parse(text, "--x", &s, &err) != 0)
	{
		ck_assert_int_eq(err.code, EXIT_USAGE);
		return -1;
	}
	return s;
}

START_TEST(test_parse)
{
	ck_assert_int_eq(parsed("3600"), 3600);
	ck_assert_int_eq(parsed("26h"), 26 * 3600);
	ck_assert_int_eq(parsed("1d12h"), 36 * 3600);
	ck_assert_int_eq(parsed("90m"), 5400);
	ck_assert_int_eq(parsed("1h30m15s"), 5415);
	ck_assert_int_eq(parsed("2d"), 172800);
	ck_assert_int_eq(parsed(""), -1);
	ck_assert_int_eq(parsed("0"), -1);
	ck_assert_int_eq(parsed("5x"), -1);
	ck_assert_int_eq(parsed("h"), -1);
	ck_assert_int_eq(parsed("1m1h"), -1);	/* units in order */
	ck_assert_int_eq(parsed("1h1h"), -1);
	ck_assert_int_eq(parsed("1h 30m"), -1);
	ck_assert_int_eq(parsed("-5"), -1);
	ck_assert_int_eq(parsed("99999999999999999999"), -1);
	ck_assert_int_eq(parsed("30s5"), -1);
}
END_TEST

START_TEST(test_format)
{
	char		b[32];

	duration_format(59, b, sizeof(b));
	ck_assert_str_eq(b, "59s");
	duration_format(61, b, sizeof(b));
	ck_assert_str_eq(b, "1m 1s");
	duration_format(3600, b, sizeof(b));
	ck_assert_str_eq(b, "1h 0m");
	duration_format(97500, b, sizeof(b));
	ck_assert_str_eq(b, "1d 3h");
	duration_format(-4, b, sizeof(b));
	ck_assert_str_eq(b, "0s");
}
END_TEST

int
main(void)
{
	Suite	   *s = suite_create("duration");
	TCase	   *tc = tcase_create("duration");

	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_format);
	suite_add_tcase(s, tc);
	return harness_run(s);
}
