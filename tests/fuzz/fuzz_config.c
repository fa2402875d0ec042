/*
 * Fuzz target: the YAML configuration and Pigsty inventory reader
 * (config/inventory.c, pigsty.c, repodef.c, ...) and the option parsing it
 * feeds, through config_load as the commands call it: the input is the
 * file named by --config, loaded for `backup` and for `schedule` (which
 * read the repositories, members and schedule entries).  The environment's
 * PGBKP_* variables are cleared so the file alone decides.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

#include "config/config.h"
#include "config/options.h"

static int	fd = -1;
static char path[64];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	for (int i = 0; i < option_count; i++)
		if (option_table[i].env_name)
			unsetenv(option_table[i].env_name);
	if ((fd = memfd_create("pgbkp-fuzz-config", 0)) < 0)
		fuzz_fail("memfd_create", NULL);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return 0;
}

static void
load(const char *command)
{
	char	   *argv[] = {"pgbkp", (char *) command, "--config", path, NULL};
	Config		cfg;
	PgbError	err = {0};

	if (config_load(&cfg, 4, argv, &err) == 0)
		config_free(&cfg);
}

static int
fuzz_one(const uint8_t *data, size_t size)
{
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t) size)
		fuzz_fail("could not write the configuration file", NULL);
	load("backup");
	load("schedule");
	return 0;
}
