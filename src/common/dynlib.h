/*
 * Shared libraries loaded on first use.  A command that never talks to
 * PostgreSQL, S3, Patroni or a metrics scraper (archive-push into a posix
 * repository, the hottest path: PostgreSQL starts it once per WAL segment)
 * should not pay for mapping and relocating libpq, libcurl, libxml2,
 * libmicrohttpd and the thirty libraries they pull in (about 25 ms a call
 * here).  So these four are not linked: each has a table of typed function
 * pointers (src/lib/), filled by dynlib_require() from the library's
 * soname, which configure read off the development library it compiled
 * against.  Every module that uses one calls its *_require() before the
 * first call into it; the call sites keep the libraries' own names.
 */
#ifndef PGBKP_DYNLIB_H
#define PGBKP_DYNLIB_H

#include <pthread.h>
#include <stdbool.h>

#include "common/error.h"

/* One function: its name in the library and the table slot it fills. */
typedef struct DynSym
{
	const char *name;
	void	  **slot;
} DynSym;

typedef struct DynLib
{
	const char *soname;			/* e.g. "libpq.so.5" */
	const char *package;		/* the Debian package that has it, for the hint */
	const DynSym *syms;
	int			nsyms;
	pthread_mutex_t lock;
	bool		loaded;			/* every slot filled */
} DynLib;

#define DYNLIB_INIT(soname, package, syms) \
	{(soname), (package), (syms), (int) (sizeof(syms) / sizeof((syms)[0])), PTHREAD_MUTEX_INITIALIZER, false}

/*
 * The library's DynLib, named by its soname and package, over syms (the
 * table's slots), and its require function.
 */
#define DYNLIB_DEFINE(require_fn, soname, package, syms) \
	static DynLib require_fn##_lib = DYNLIB_INIT((soname), (package), syms); \
	int require_fn(PgbError *err) { return dynlib_require(&require_fn##_lib, err); }

/* A table member of the function's own type (used with the X-macro lists). */
#define DYNLIB_MEMBER(f) __typeof__(f) *f;

/*
 * Load lib and fill every slot (once; thread-safe).  EXIT_CONFIG when the
 * library or one of its functions is missing, with the package to install.
 */
int			dynlib_require(DynLib *lib, PgbError *err);

#endif
