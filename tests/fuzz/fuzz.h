/*
 * What every libFuzzer target of tests/fuzz shares.  A target defines
 * fuzz_one(data, size); this file defines LLVMFuzzerTestOneInput around it,
 * which also checks that the code under test printed nothing: stdout and
 * stderr point to a scratch file during the call (the sanitizers' reports
 * go to the real stderr, see fuzz_quiet_begin), and anything written there
 * fails the input, as library code must report errors through PgbError and
 * never print.  Also: a NUL-terminated copy of the input for parsers that
 * take C strings, and fuzz_fail for a broken property (a parse that
 * accepted what it then could not round-trip): a message and abort(),
 * which libFuzzer records as a crash like any other.
 */
#ifndef PGBKP_FUZZ_H
#define PGBKP_FUZZ_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sanitizer/common_interface_defs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static int	fuzz_one(const uint8_t *data, size_t size);

static int	fuzz_real_stdout = -1;
static int	fuzz_real_stderr = -1;
static int	fuzz_scratch = -1;

/* A property the target checks does not hold: report it as a crash. */
static inline void
fuzz_fail(const char *what, const char *detail)
{
	dprintf(fuzz_real_stderr >= 0 ? fuzz_real_stderr : STDERR_FILENO,
			"fuzz property violated: %s: %s\n", what, detail ? detail : "");
	abort();
}

/* size bytes of data and a NUL, in a buffer of exactly that size (ASan sees any over-read). */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char	   *s = malloc(size + 1);

	if (s == NULL)
		abort();
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * Point stdout and stderr at the scratch file (always empty here: output
 * there fails the input); sanitizer reports keep the real stderr.
 */
static inline void
fuzz_quiet_begin(void)
{
	if (fuzz_scratch < 0)
	{
		fuzz_real_stdout = dup(STDOUT_FILENO);
		fuzz_real_stderr = dup(STDERR_FILENO);
		fuzz_scratch = memfd_create("pgbkp-fuzz-output", 0);
		if (fuzz_real_stdout < 0 || fuzz_real_stderr < 0 || fuzz_scratch < 0)
			abort();
		__sanitizer_set_report_fd((void *) (intptr_t) fuzz_real_stderr);
	}
	fflush(stdout);
	fflush(stderr);
	if (dup2(fuzz_scratch, STDOUT_FILENO) < 0 || dup2(fuzz_scratch, STDERR_FILENO) < 0)
		abort();
}

/* Put stdout and stderr back; fail if anything was printed meanwhile. */
static inline void
fuzz_quiet_end(void)
{
	char		text[201];
	ssize_t		n;

	fflush(stdout);
	fflush(stderr);
	if (dup2(fuzz_real_stdout, STDOUT_FILENO) < 0 || dup2(fuzz_real_stderr, STDERR_FILENO) < 0)
		abort();
	if (lseek(fuzz_scratch, 0, SEEK_END) > 0)
	{
		n = pread(fuzz_scratch, text, sizeof(text) - 1, 0);
		text[n > 0 ? n : 0] = '\0';
		fuzz_fail("the code under test printed", text);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_quiet_begin();
	fuzz_one(data, size);
	fuzz_quiet_end();
	return 0;
}

#endif
