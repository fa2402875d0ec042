/*
 * libmicrohttpd, the HTTP server of the metrics endpoint:
 * loaded on first use (common/dynlib.h): call libmhd_require() before the first
 * call into it; the calls keep the library's own names.
 */
#ifndef PGBKP_LIB_LIBMHD_H
#define PGBKP_LIB_LIBMHD_H

#include <microhttpd.h>

#include "common/dynlib.h"

#define LIBMHD_FUNCTIONS(X) \
	X(MHD_add_response_header) \
	X(MHD_create_response_from_buffer) \
	X(MHD_destroy_response) \
	X(MHD_queue_response) \
	X(MHD_start_daemon) \
	X(MHD_stop_daemon)

typedef struct LibmhdApi
{
	LIBMHD_FUNCTIONS(DYNLIB_MEMBER)
} LibmhdApi;

extern LibmhdApi libmhd_api;

/* Load the library (once); EXIT_CONFIG with the package to install. */
int			libmhd_require(PgbError *err);

#ifndef LIBMHD_API_DEFINE
#undef MHD_add_response_header
#define MHD_add_response_header (libmhd_api.MHD_add_response_header)
#undef MHD_create_response_from_buffer
#define MHD_create_response_from_buffer (libmhd_api.MHD_create_response_from_buffer)
#undef MHD_destroy_response
#define MHD_destroy_response (libmhd_api.MHD_destroy_response)
#undef MHD_queue_response
#define MHD_queue_response (libmhd_api.MHD_queue_response)
#undef MHD_start_daemon
#define MHD_start_daemon (libmhd_api.MHD_start_daemon)
#undef MHD_stop_daemon
#define MHD_stop_daemon (libmhd_api.MHD_stop_daemon)
#endif

#endif
