/*
 * libcurl, the HTTP client of the S3 storage and the Patroni REST API:
 * loaded on first use (common/dynlib.h): call libcurl_require() before the first
 * call into it; the calls keep the library's own names.
 */
#ifndef PGBKP_LIB_LIBCURL_H
#define PGBKP_LIB_LIBCURL_H

#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

#include "common/dynlib.h"

#define LIBCURL_FUNCTIONS(X) \
	X(curl_easy_cleanup) \
	X(curl_easy_getinfo) \
	X(curl_easy_init) \
	X(curl_easy_perform) \
	X(curl_easy_reset) \
	X(curl_easy_setopt) \
	X(curl_easy_strerror) \
	X(curl_getdate) \
	X(curl_global_init) \
	X(curl_multi_add_handle) \
	X(curl_multi_cleanup) \
	X(curl_multi_info_read) \
	X(curl_multi_init) \
	X(curl_multi_perform) \
	X(curl_multi_poll) \
	X(curl_multi_remove_handle) \
	X(curl_slist_append) \
	X(curl_slist_free_all)

typedef struct LibcurlApi
{
	LIBCURL_FUNCTIONS(DYNLIB_MEMBER)
} LibcurlApi;

extern LibcurlApi libcurl_api;

/* Load the library (once); EXIT_CONFIG with the package to install. */
int			libcurl_require(PgbError *err);

#ifndef LIBCURL_API_DEFINE
#undef curl_easy_cleanup
#define curl_easy_cleanup (libcurl_api.curl_easy_cleanup)
#undef curl_easy_getinfo
#define curl_easy_getinfo (libcurl_api.curl_easy_getinfo)
#undef curl_easy_init
#define curl_easy_init (libcurl_api.curl_easy_init)
#undef curl_easy_perform
#define curl_easy_perform (libcurl_api.curl_easy_perform)
#undef curl_easy_reset
#define curl_easy_reset (libcurl_api.curl_easy_reset)
#undef curl_easy_setopt
#define curl_easy_setopt (libcurl_api.curl_easy_setopt)
#undef curl_easy_strerror
#define curl_easy_strerror (libcurl_api.curl_easy_strerror)
#undef curl_getdate
#define curl_getdate (libcurl_api.curl_getdate)
#undef curl_global_init
#define curl_global_init (libcurl_api.curl_global_init)
#undef curl_multi_add_handle
#define curl_multi_add_handle (libcurl_api.curl_multi_add_handle)
#undef curl_multi_cleanup
#define curl_multi_cleanup (libcurl_api.curl_multi_cleanup)
#undef curl_multi_info_read
#define curl_multi_info_read (libcurl_api.curl_multi_info_read)
#undef curl_multi_init
#define curl_multi_init (libcurl_api.curl_multi_init)
#undef curl_multi_perform
#define curl_multi_perform (libcurl_api.curl_multi_perform)
#undef curl_multi_poll
#define curl_multi_poll (libcurl_api.curl_multi_poll)
#undef curl_multi_remove_handle
#define curl_multi_remove_handle (libcurl_api.curl_multi_remove_handle)
#undef curl_slist_append
#define curl_slist_append (libcurl_api.curl_slist_append)
#undef curl_slist_free_all
#define curl_slist_free_all (libcurl_api.curl_slist_free_all)
#endif

#endif
