/*
 * libxml2, the parser of S3's XML responses:
 * loaded on first use (common/dynlib.h): call libxml_require() before the first
 * call into it; the calls keep the library's own names.
 */
#ifndef PGBKP_LIB_LIBXML_H
#define PGBKP_LIB_LIBXML_H

#include <libxml/parser.h>

#include "common/dynlib.h"

#define LIBXML_FUNCTIONS(X) \
	X(xmlCtxtReadMemory) \
	X(xmlDocGetRootElement) \
	X(xmlFreeDoc) \
	X(xmlFreeParserCtxt) \
	X(xmlInitParser) \
	X(xmlNewParserCtxt) \
	X(xmlSetGenericErrorFunc) \
	X(xmlStopParser)

typedef struct LibxmlApi
{
	LIBXML_FUNCTIONS(DYNLIB_MEMBER)
} LibxmlApi;

extern LibxmlApi libxml_api;

/* Load the library (once); EXIT_CONFIG with the package to install. */
int			libxml_require(PgbError *err);

#ifndef LIBXML_API_DEFINE
#undef xmlCtxtReadMemory
#define xmlCtxtReadMemory (libxml_api.xmlCtxtReadMemory)
#undef xmlDocGetRootElement
#define xmlDocGetRootElement (libxml_api.xmlDocGetRootElement)
#undef xmlFreeDoc
#define xmlFreeDoc (libxml_api.xmlFreeDoc)
#undef xmlFreeParserCtxt
#define xmlFreeParserCtxt (libxml_api.xmlFreeParserCtxt)
#undef xmlInitParser
#define xmlInitParser (libxml_api.xmlInitParser)
#undef xmlNewParserCtxt
#define xmlNewParserCtxt (libxml_api.xmlNewParserCtxt)
#undef xmlSetGenericErrorFunc
#define xmlSetGenericErrorFunc (libxml_api.xmlSetGenericErrorFunc)
#undef xmlStopParser
#define xmlStopParser (libxml_api.xmlStopParser)
#endif

#endif
