/* libxml2, the parser of S3's XML responses, loaded on first use (see libxml.h). */
#define LIBXML_API_DEFINE
#include "lib/libxml.h"

LibxmlApi	libxml_api;

#define SYM(f) {#f, (void **) &libxml_api.f},
static const DynSym syms[] = {LIBXML_FUNCTIONS(SYM)};

DYNLIB_DEFINE(libxml_require, LIBXML_SONAME, "libxml2", syms)
