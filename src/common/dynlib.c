/* Shared libraries loaded on first use (see dynlib.h). */
#include <dlfcn.h>

#include "common/dynlib.h"

static int
load(DynLib *lib, PgbError *err)
{
	void	   *h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);

	if (h == NULL)
	{
		const char *why = dlerror();

		pgb_error(err, EXIT_CONFIG, "could not load %s: %s", lib->soname, why ? why : "unknown error");
		return pgb_hint(err, "install the %s package (the build used it)", lib->package);
	}
	for (int i = 0; i < lib->nsyms; i++)
	{
		void	   *f = dlsym(h, lib->syms[i].name);

		if (f == NULL)
		{
			pgb_error(err, EXIT_CONFIG, "%s has no function %s", lib->soname, lib->syms[i].name);
			/* slots filled so far stay unused: loaded remains false */
			return pgb_hint(err, "the installed %s is older than the one pgbkp was built with; upgrade it",
							lib->package);
		}
		*lib->syms[i].slot = f;
	}
	/* the handle stays open for the life of the process */
	return 0;
}

int
dynlib_require(DynLib *lib, PgbError *err)
{
	int			rc = 0;

	pthread_mutex_lock(&lib->lock);
	if (!lib->loaded)
	{
		rc = load(lib, err);
		lib->loaded = rc == 0;
	}
	pthread_mutex_unlock(&lib->lock);
	return rc;
}
