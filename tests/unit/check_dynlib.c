/* Unit tests of shared libraries loaded on first use (common/dynlib, lib/). */
#include <check.h>
#include <string.h>
#include <zstd.h>

#include "harness.h"
#include "common/dynlib.h"
#include "lib/libcurl.h"
#include "lib/libmhd.h"
#include "lib/libpq.h"
#include "lib/libxml.h"

typedef struct ZstdApi
{
	DYNLIB_MEMBER(ZSTD_versionNumber)
	DYNLIB_MEMBER(ZSTD_compressBound)
} ZstdApi;

static ZstdApi zapi;

START_TEST(test_loads_and_fills_every_slot)
{
	static const DynSym syms[] = {
		{"ZSTD_versionNumber", (void **) &zapi.ZSTD_versionNumber},
		{"ZSTD_compressBound", (void **) &zapi.ZSTD_compressBound},
	};
	static DynLib lib = DYNLIB_INIT("libzstd.so.1", "libzstd1", syms);
	PgbError	err = {0};

	ck_assert_int_eq(dynlib_require(&lib, &err), 0);
	ck_assert_int_eq(zapi.ZSTD_versionNumber(), ZSTD_versionNumber());
	ck_assert_uint_eq(zapi.ZSTD_compressBound(1000), ZSTD_compressBound(1000));
	/* a second call finds it loaded */
	ck_assert_int_eq(dynlib_require(&lib, &err), 0);
	ck_assert_int_eq(err.code, 0);
}
END_TEST

START_TEST(test_missing_library_names_the_package)
{
	static void *slot;
	static const DynSym syms[] = {{"anything", &slot}};
	static DynLib lib = DYNLIB_INIT("libpgbkp-no-such-library.so.9", "libnosuch9", syms);
	PgbError	err = {0};

	for (int i = 0; i < 2; i++)		/* not remembered as loaded */
	{
		ck_assert_int_eq(dynlib_require(&lib, &err), -1);
		ck_assert_int_eq(err.code, EXIT_CONFIG);
		ck_assert_ptr_nonnull(strstr(err.msg, "could not load libpgbkp-no-such-library.so.9"));
		ck_assert_ptr_nonnull(strstr(err.hint, "install the libnosuch9 package"));
		pgb_error_clear(&err);
	}
	ck_assert_ptr_null(slot);
}
END_TEST

START_TEST(test_missing_function_is_an_old_library)
{
	static void *a,
			   *b;
	static const DynSym syms[] = {{"ZSTD_versionNumber", &a}, {"ZSTD_pgbkp_no_such_function", &b}};
	static DynLib lib = DYNLIB_INIT("libzstd.so.1", "libzstd1", syms);
	PgbError	err = {0};

	ck_assert_int_eq(dynlib_require(&lib, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CONFIG);
	ck_assert_str_eq(err.msg, "libzstd.so.1 has no function ZSTD_pgbkp_no_such_function");
	ck_assert_ptr_nonnull(strstr(err.hint, "older than the one pgbkp was built with"));
	ck_assert_ptr_null(b);
}
END_TEST

/* Every function the tables list exists in the libraries installed here. */
START_TEST(test_the_four_tables_resolve)
{
	PgbError	err = {0};

	ck_assert_int_eq(libpq_require(&err), 0);
	ck_assert_int_eq(libcurl_require(&err), 0);
	ck_assert_int_eq(libxml_require(&err), 0);
	ck_assert_int_eq(libmhd_require(&err), 0);
	/* the call-site names are the tables' slots */
	ck_assert(PQstatus != NULL);
	ck_assert(curl_easy_setopt != NULL);
	ck_assert(xmlCtxtReadMemory != NULL);
	ck_assert(MHD_start_daemon != NULL);
	ck_assert_int_eq(PQstatus(NULL), CONNECTION_BAD);
	ck_assert_str_eq(curl_easy_strerror(CURLE_OK), "No error");
}
END_TEST

int
main(void)
{
	Suite	   *s = suite_create("dynlib");
	TCase	   *tc = tcase_create("dynlib");

	tcase_add_test(tc, test_loads_and_fills_every_slot);
	tcase_add_test(tc, test_missing_library_names_the_package);
	tcase_add_test(tc, test_missing_function_is_an_old_library);
	tcase_add_test(tc, test_the_four_tables_resolve);
	suite_add_tcase(s, tc);
	return harness_run(s);
}
