/* libpq, PostgreSQL's client library, loaded on first use (see libpq.h). */
#define LIBPQ_API_DEFINE
#include "lib/libpq.h"

LibpqApi	libpq_api;

#define SYM(f) {#f, (void **) &libpq_api.f},
static const DynSym syms[] = {LIBPQ_FUNCTIONS(SYM)};

DYNLIB_DEFINE(libpq_require, LIBPQ_SONAME, "libpq5", syms)
