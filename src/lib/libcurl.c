/* libcurl, the HTTP client of the S3 storage and the Patroni REST API, loaded on first use (see libcurl.h). */
#define LIBCURL_API_DEFINE
#include "lib/libcurl.h"

LibcurlApi	libcurl_api;

#define SYM(f) {#f, (void **) &libcurl_api.f},
static const DynSym syms[] = {LIBCURL_FUNCTIONS(SYM)};

DYNLIB_DEFINE(libcurl_require, LIBCURL_SONAME, "libcurl4", syms)
