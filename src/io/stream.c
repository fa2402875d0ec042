/* The stage interface and its simplest stages (see stream.h). */
#include <stdlib.h>
#include <string.h>

#include "io/stream.h"

int
stage_finish(Stage *s, PgbError *err)
{
	return s->ops->finish ? s->ops->finish(s, err) : 0;
}

int
stage_finish_chain(Stage *head, const Stage *stop, PgbError *err)
{
	for (Stage *s = head; s != NULL && s != stop; s = s->next)
		if (stage_finish(s, err) != 0)
			return -1;
	return 0;
}

void
stage_free(Stage *s)
{
	if (s == NULL)
		return;
	if (s->ops->free)
		s->ops->free(s);
	else
		free(s);
}

void
stage_free_chain(Stage *head, const Stage *stop)
{
	while (head != NULL && head != stop)
	{
		Stage	   *next = head->next;

		stage_free(head);
		head = next;
	}
}

int
stage_sink(void *arg, const void *buf, size_t len, PgbError *err)
{
	return stage_write((Stage *) arg, buf, len, err);
}

int
stage_write_pieces(Stage *s, const void *buf, size_t len, size_t piece, PgbError *err)
{
	const uint8_t *p = buf;

	if (piece == 0 || piece > len)
		piece = len;
	do
	{
		size_t		n = len < piece ? len : piece;

		if (stage_write(s, p, n, err) != 0)
			return -1;
		p += n;
		len -= n;
	} while (len > 0);
	return 0;
}

int
stage_pump(StageSource read, void *src, uint64_t offset, uint64_t limit,
		   uint8_t *buf, size_t bufsize, Stage *head, uint64_t *got, PgbError *err)
{
	*got = 0;
	while (*got < limit)
	{
		size_t		want = limit - *got < bufsize ? (size_t) (limit - *got) : bufsize;
		ssize_t		n = read(src, buf, want, offset + *got, err);

		if (n < 0)
			return -1;
		if (n == 0)
			break;
		*got += (uint64_t) n;
		if (stage_write(head, buf, (size_t) n, err) != 0)
			return -1;
	}
	return 0;
}

void *
stage_new(size_t size, const StageOps *ops, Stage *next, PgbError *err)
{
	Stage	   *s = calloc(1, size);

	if (s == NULL)
	{
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		return NULL;
	}
	s->ops = ops;
	s->next = next;
	return s;
}

/* ---------------------------------------------------------------- discard */

static int
discard_write(Stage *s, const void *buf, size_t len, PgbError *err)
{
	return 0;
}

static const StageOps discard_ops = {discard_write, NULL, NULL};

Stage *
discard_stage_new(PgbError *err)
{
	return stage_new(sizeof(Stage), &discard_ops, NULL, err);
}

/* --------------------------------------------------------------- callback */

typedef struct CallbackStage
{
	Stage		base;
	ByteSink	fn;
	void	   *arg;
} CallbackStage;

static int
callback_write(Stage *s, const void *buf, size_t len, PgbError *err)
{
	CallbackStage *c = (CallbackStage *) s;

	return c->fn(c->arg, buf, len, err);
}

static const StageOps callback_ops = {callback_write, NULL, NULL};

Stage *
callback_stage_new(ByteSink fn, void *arg, PgbError *err)
{
	CallbackStage *c = stage_new(sizeof(CallbackStage), &callback_ops, NULL, err);

	if (c == NULL)
		return NULL;
	c->fn = fn;
	c->arg = arg;
	return &c->base;
}

/* ------------------------------------------------------------------- size */

typedef struct SizeStage
{
	Stage		base;
	uint64_t	bytes;
} SizeStage;

static int
size_write(Stage *s, const void *buf, size_t len, PgbError *err)
{
	((SizeStage *) s)->bytes += len;
	return stage_pass(s, buf, len, err);
}

static const StageOps size_ops = {size_write, NULL, NULL};

Stage *
size_stage_new(Stage *next, PgbError *err)
{
	return stage_new(sizeof(SizeStage), &size_ops, next, err);
}

uint64_t
size_stage_bytes(const Stage *s)
{
	return ((const SizeStage *) s)->bytes;
}

/* ------------------------------------------------------------------ fixed */

typedef struct FixedStage
{
	Stage		base;
	uint8_t    *buf;
	uint64_t	cap;
	uint64_t	len;
} FixedStage;

static int
fixed_write(Stage *s, const void *buf, size_t len, PgbError *err)
{
	FixedStage *f = (FixedStage *) s;

	if (len > f->cap - f->len)
		return pgb_error(err, EXIT_CORRUPT, "chunk content is larger than recorded");
	memcpy(f->buf + f->len, buf, len);
	f->len += len;
	return 0;
}

static const StageOps fixed_ops = {fixed_write, NULL, NULL};

Stage *
fixed_stage_new(uint8_t *buf, uint64_t cap, PgbError *err)
{
	FixedStage *f = stage_new(sizeof(FixedStage), &fixed_ops, NULL, err);

	if (f == NULL)
		return NULL;
	f->buf = buf;
	f->cap = cap;
	return &f->base;
}

uint64_t
fixed_stage_len(const Stage *s)
{
	return ((const FixedStage *) s)->len;
}

void
fixed_stage_reset(Stage *s)
{
	((FixedStage *) s)->len = 0;
}

/* ------------------------------------------------------------------- head */

typedef struct HeadStage
{
	Stage		base;
	uint8_t		head[HEAD_STAGE_MAX];
	size_t		len;
} HeadStage;

static int
head_write(Stage *s, const void *buf, size_t len, PgbError *err)
{
	HeadStage  *h = (HeadStage *) s;

	if (h->len < HEAD_STAGE_MAX)
	{
		size_t		take = HEAD_STAGE_MAX - h->len < len ? HEAD_STAGE_MAX - h->len : len;

		memcpy(h->head + h->len, buf, take);
		h->len += take;
	}
	return stage_pass(s, buf, len, err);
}

static const StageOps head_ops = {head_write, NULL, NULL};

Stage *
head_stage_new(Stage *next, PgbError *err)
{
	return stage_new(sizeof(HeadStage), &head_ops, next, err);
}

const uint8_t *
head_stage_bytes(const Stage *s, size_t *len)
{
	*len = ((const HeadStage *) s)->len;
	return ((const HeadStage *) s)->head;
}
