/* libmicrohttpd, the HTTP server of the metrics endpoint, loaded on first use (see libmhd.h). */
#define LIBMHD_API_DEFINE
#include "lib/libmhd.h"

LibmhdApi	libmhd_api;

#define SYM(f) {#f, (void **) &libmhd_api.f},
static const DynSym syms[] = {LIBMHD_FUNCTIONS(SYM)};

DYNLIB_DEFINE(libmhd_require, LIBMHD_SONAME, "libmicrohttpd12", syms)
