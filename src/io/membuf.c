/* Growable memory buffer (see membuf.h). */
#include <stdlib.h>
#include <string.h>

#include "io/membuf.h"

int
membuf_append(MemBuf *b, const void *data, size_t len, PgbError *err)
{
	if (b->max && b->len + len > b->max)
		return pgb_error(err, EXIT_CORRUPT, "content exceeds %zu bytes", b->max);
	if (b->len + len + 1 > b->cap)
	{
		size_t		cap = b->cap ? b->cap : 4096;
		char	   *bigger;

		while (cap < b->len + len + 1)
			cap *= 2;
		bigger = realloc(b->buf, cap);
		if (bigger == NULL)
			return pgb_error(err, EXIT_INTERNAL, "out of memory");
		b->buf = bigger;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, data, len);
	b->len += len;
	b->buf[b->len] = '\0';
	return 0;
}

int
membuf_sink(void *arg, const void *data, size_t len, PgbError *err)
{
	return membuf_append((MemBuf *) arg, data, len, err);
}

char *
membuf_take(MemBuf *b, size_t *len, PgbError *err)
{
	char	   *out;

	if (b->buf == NULL && membuf_append(b, "", 0, err) != 0)
		return NULL;
	out = b->buf;
	if (len)
		*len = b->len;
	memset(b, 0, sizeof(*b));
	return out;
}

void
membuf_free(MemBuf *b)
{
	free(b->buf);
	memset(b, 0, sizeof(*b));
}
