/*
 * libpq, PostgreSQL's client library:
 * loaded on first use (common/dynlib.h): call libpq_require() before the first
 * call into it; the calls keep the library's own names.
 */
#ifndef PGBKP_LIB_LIBPQ_H
#define PGBKP_LIB_LIBPQ_H

#include <libpq-fe.h>

#include "common/dynlib.h"

#define LIBPQ_FUNCTIONS(X) \
	X(PQclear) \
	X(PQconnectdbParams) \
	X(PQconsumeInput) \
	X(PQerrorMessage) \
	X(PQexec) \
	X(PQexecParams) \
	X(PQfinish) \
	X(PQflush) \
	X(PQfreemem) \
	X(PQgetCopyData) \
	X(PQgetResult) \
	X(PQgetisnull) \
	X(PQgetlength) \
	X(PQgetvalue) \
	X(PQhost) \
	X(PQnfields) \
	X(PQntuples) \
	X(PQport) \
	X(PQputCopyData) \
	X(PQputCopyEnd) \
	X(PQresultErrorField) \
	X(PQresultStatus) \
	X(PQsocket) \
	X(PQstatus)

typedef struct LibpqApi
{
	LIBPQ_FUNCTIONS(DYNLIB_MEMBER)
} LibpqApi;

extern LibpqApi libpq_api;

/* Load the library (once); EXIT_CONFIG with the package to install. */
int			libpq_require(PgbError *err);

#ifndef LIBPQ_API_DEFINE
#undef PQclear
#define PQclear (libpq_api.PQclear)
#undef PQconnectdbParams
#define PQconnectdbParams (libpq_api.PQconnectdbParams)
#undef PQconsumeInput
#define PQconsumeInput (libpq_api.PQconsumeInput)
#undef PQerrorMessage
#define PQerrorMessage (libpq_api.PQerrorMessage)
#undef PQexec
#define PQexec (libpq_api.PQexec)
#undef PQexecParams
#define PQexecParams (libpq_api.PQexecParams)
#undef PQfinish
#define PQfinish (libpq_api.PQfinish)
#undef PQflush
#define PQflush (libpq_api.PQflush)
#undef PQfreemem
#define PQfreemem (libpq_api.PQfreemem)
#undef PQgetCopyData
#define PQgetCopyData (libpq_api.PQgetCopyData)
#undef PQgetResult
#define PQgetResult (libpq_api.PQgetResult)
#undef PQgetisnull
#define PQgetisnull (libpq_api.PQgetisnull)
#undef PQgetlength
#define PQgetlength (libpq_api.PQgetlength)
#undef PQgetvalue
#define PQgetvalue (libpq_api.PQgetvalue)
#undef PQhost
#define PQhost (libpq_api.PQhost)
#undef PQnfields
#define PQnfields (libpq_api.PQnfields)
#undef PQntuples
#define PQntuples (libpq_api.PQntuples)
#undef PQport
#define PQport (libpq_api.PQport)
#undef PQputCopyData
#define PQputCopyData (libpq_api.PQputCopyData)
#undef PQputCopyEnd
#define PQputCopyEnd (libpq_api.PQputCopyEnd)
#undef PQresultErrorField
#define PQresultErrorField (libpq_api.PQresultErrorField)
#undef PQresultStatus
#define PQresultStatus (libpq_api.PQresultStatus)
#undef PQsocket
#define PQsocket (libpq_api.PQsocket)
#undef PQstatus
#define PQstatus (libpq_api.PQstatus)
#endif

#endif
