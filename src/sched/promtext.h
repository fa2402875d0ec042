/*
 * The Prometheus text exposition format, version 0.0.4, written into a
 * growing buffer: a family is its "# HELP" and "# TYPE" lines, then its
 * samples, one a line, "name{key="value",...} value".  Label values are
 * escaped as the format asks (backslash, double quote, newline) and cut at
 * PROM_VALUE_MAX bytes on a UTF-8 character boundary; values print as the
 * shortest decimal that reads back exactly, integers in full.
 *
 * A writer that cannot grow its buffer (out of memory, or past the
 * buffer's cap) stops writing and remembers it: the caller checks
 * PromText.failed once at the end.
 */
#ifndef PGBKP_PROMTEXT_H
#define PGBKP_PROMTEXT_H

#include <stdbool.h>
#include <stdint.h>
#include "io/membuf.h"

#define PROM_LABELS_MAX 4096
#define PROM_VALUE_MAX 255

typedef struct PromText
{
	MemBuf	   *out;
	bool		failed;
} PromText;

/* A label set under construction; a set that did not fit is not written. */
typedef struct PromLabels
{
	char		text[PROM_LABELS_MAX];
	size_t		len;
	bool		overflow;
} PromLabels;

void		prom_labels_init(PromLabels *l);
/* Append key="value" (value escaped). */
void		prom_label(PromLabels *l, const char *key, const char *value);

/* The HELP and TYPE lines of a family; type is "gauge" or "counter". */
void		prom_family(PromText *w, const char *name, const char *type, const char *help);
/* One sample; l may be NULL (no labels). */
void		prom_sample(PromText *w, const char *name, const PromLabels *l, double value);
void		prom_sample_u64(PromText *w, const char *name, const PromLabels *l, uint64_t value);

/* value as the format spells it ("NaN", "+Inf", "-Inf", integers in full). */
void		prom_format_value(double value, char *buf, size_t len);

#endif
