/* The Prometheus text exposition format (see promtext.h). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/promtext.h"

static void
put(PromText *w, const char *s)
{
	PgbError	err = {0};

	if (!w->failed && membuf_append(w->out, s, strlen(s), &err) != 0)
		w->failed = true;
}

void
prom_labels_init(PromLabels *l)
{
	l->text[0] = '\0';
	l->len = 0;
	l->overflow = false;
}

/* The length of value cut to at most max bytes without splitting a UTF-8 character. */
static size_t
cut_length(const char *value, size_t max)
{
	size_t		n = strnlen(value, max + 1);

	if (n <= max)
		return n;
	n = max;
	while (n > 0 && ((unsigned char) value[n] & 0xC0) == 0x80)
		n--;
	return n;
}

void
prom_label(PromLabels *l, const char *key, const char *value)
{
	size_t		n = cut_length(value, PROM_VALUE_MAX);
	size_t		need = strlen(key) + 2 * n + 5;	/* ,key="..." and the NUL */
	char	   *p;

	if (l->overflow || l->len + need > sizeof(l->text))
	{
		l->overflow = true;
		return;
	}
	p = l->text + l->len;
	if (l->len > 0)
		*p++ = ',';
	p += snprintf(p, sizeof(l->text) - (size_t) (p - l->text), "%s=\"", key);
	for (size_t i = 0; i < n; i++)
	{
		if (value[i] == '\\' || value[i] == '"')
		{
			*p++ = '\\';
			*p++ = value[i];
		}
		else if (value[i] == '\n')
		{
			*p++ = '\\';
			*p++ = 'n';
		}
		else
			*p++ = value[i];
	}
	*p++ = '"';
	*p = '\0';
	l->len = (size_t) (p - l->text);
}

void
prom_format_value(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "NaN");
	else if (isinf(v))
		snprintf(buf, len, v > 0 ? "+Inf" : "-Inf");
	else if (v == floor(v) && fabs(v) < 1e15)
		snprintf(buf, len, "%.0f", v);	/* integers in full, not as 1.8e+09 */
	else
	{
		for (int prec = 1; prec <= 17; prec++)
		{
			snprintf(buf, len, "%.*g", prec, v);
			if (strtod(buf, NULL) == v)
				return;
		}
	}
}

void
prom_family(PromText *w, const char *name, const char *type, const char *help)
{
	put(w, "# HELP ");
	put(w, name);
	put(w, " ");
	put(w, help);
	put(w, "\n# TYPE ");
	put(w, name);
	put(w, " ");
	put(w, type);
	put(w, "\n");
}

static void
sample_text(PromText *w, const char *name, const PromLabels *l, const char *value)
{
	if (l != NULL && l->overflow)
	{
		w->failed = true;		/* a cut label set would be a wrong series */
		return;
	}
	put(w, name);
	if (l != NULL && l->len > 0)
	{
		put(w, "{");
		put(w, l->text);
		put(w, "}");
	}
	put(w, " ");
	put(w, value);
	put(w, "\n");
}

void
prom_sample(PromText *w, const char *name, const PromLabels *l, double value)
{
	char		text[64];

	prom_format_value(value, text, sizeof(text));
	sample_text(w, name, l, text);
}

void
prom_sample_u64(PromText *w, const char *name, const PromLabels *l, uint64_t value)
{
	char		text[32];

	snprintf(text, sizeof(text), "%" PRIu64, value);
	sample_text(w, name, l, text);
}
