/*
 * What every libFuzzer target of tests/fuzz shares: a NUL-terminated copy of
 * the input for parsers that take C strings, and the way a target reports a
 * broken property (a parse that accepted what it then could not round-trip):
 * a message and abort(), which libFuzzer records as a crash like any other.
 */
#ifndef PGBKP_FUZZ_H
#define PGBKP_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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

/* A property the target checks does not hold: report it as a crash. */
static inline void
fuzz_fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz property violated: %s: %s\n", what, detail ? detail : "");
	abort();
}

#endif
