/*
 * Reading through the encrypting storage wrapper (see cipher_intern.h): a
 * whole object is pulled through an EnvelopeOpen, no more than the opener
 * needs for its next segment at a time; a ranged read knows the layout from
 * the stored size (remembered per object) and opens just the segments that
 * cover the range, each by its index.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "storage/cipher_intern.h"

/* A read handle: a whole object through the opener, or a range by segment index. */
typedef struct CipherRead
{
	StorageRead base;
	StorageRead *inner;
	char	   *path;
	EnvelopeOpen *open;			/* whole read: the stream opener */
	EnvelopeObject *obj;		/* ranged read: opens segments by index */
	uint8_t		header[HDR_LEN];
	bool		ranged;			/* layout known from the stored size */
	uint64_t	stored;			/* ranged: the stored size */
	bool		layout_known;	/* ranged: size and header came from (or went into) the cache */
	uint64_t	seg;			/* ranged: index of the next segment to open */
	uint64_t	last;			/* ranged: the last segment to open */
	uint64_t	final_seg;		/* ranged: index of the object's final segment */
	size_t		final_len;		/* ranged: plaintext bytes in it */
	bool		eof;			/* no segment left to open */
	bool		failed;
	uint8_t    *ct;				/* ranged: one sealed segment; whole: what the opener wants next */
	uint8_t    *pt;				/* ranged: plaintext of the segment last opened */
	const uint8_t *plain;		/* the plaintext being delivered (pt, or the opener's) */
	size_t		pt_pos;
	size_t		pt_len;
	size_t		skip;			/* bytes to drop from the first segment opened */
	uint64_t	remaining;		/* bytes still to deliver; UINT64_MAX: to the end */
} CipherRead;

/* Read up to len bytes, stopping early only at the end; *got says how many. */
static int
inner_read_full(StorageRead *inner, uint8_t *buf, size_t len, size_t *got, PgbError *err)
{
	*got = 0;
	while (*got < len)
	{
		ssize_t		n = storage_read(inner, buf + *got, len - *got, err);

		if (n < 0)
			return -1;
		if (n == 0)
			break;
		*got += (size_t) n;
	}
	return 0;
}

/* The header at the start of inner (a read from offset 0). */
static int
read_header(StorageRead *inner, uint8_t header[HDR_LEN], const char *path, PgbError *err)
{
	size_t		got;

	if (inner_read_full(inner, header, HDR_LEN, &got, err) != 0)
		return -1;
	if (got < HDR_LEN)
		return pgb_error(err, EXIT_CORRUPT, "encrypted object \"%s\" is truncated", path);
	return envelope_header_check(header, path, err);
}

void
cipher_read_close(StorageRead *base)
{
	CipherRead *r = (CipherRead *) base;

	storage_read_close(r->inner);
	envelope_open_free(r->open);
	envelope_object_free(r->obj);
	if (r->pt != NULL)
		OPENSSL_cleanse(r->pt, SEG_SIZE);
	free(r->pt);
	free(r->ct);
	free(r->path);
	free(r);
}

/*
 * Set r up for a ranged read: stored size from info, header, then one read
 * of the segments covering [offset, offset+length) (length 0: to the end).
 */
static int
open_ranged(CipherStorage *cs, CipherRead *r, uint64_t offset, uint64_t length, PgbError *err)
{
	StorageInfo info = {0};
	uint64_t	plain;
	uint64_t	end;
	uint64_t	first;
	uint64_t	in_start;
	uint64_t	in_end;
	bool		known = cipher_layout_get(cs, r->path, &info.size, r->header);

	if (!known && storage_info(cs->inner, r->path, &info, err) != 0)
		return -1;
	if (!known && !info.exists)
		return pgb_error(err, EXIT_NOT_FOUND, "could not open \"%s/%s\": no such object",
						 storage_description(cs->inner), r->path);
	if (!cipher_plain_size(info.size, &plain))
		return pgb_error(err, EXIT_CORRUPT,
						 "encrypted object \"%s\" is truncated or damaged (%llu bytes stored)",
						 r->path, (unsigned long long) info.size);
	if (offset > plain || length > plain - offset)
		return pgb_error(err, EXIT_CORRUPT, "\"%s\" is shorter than expected", r->path);
	end = length > 0 ? offset + length : plain;
	r->ranged = true;
	r->remaining = end - offset;
	if (end == offset)
	{
		r->eof = true;
		return 0;
	}
	first = offset / SEG_SIZE;
	r->seg = first;
	r->skip = (size_t) (offset - first * SEG_SIZE);
	r->last = (end - 1) / SEG_SIZE;
	r->final_seg = envelope_segment_count(plain) - 1;
	r->final_len = (size_t) (plain - r->final_seg * SEG_SIZE);
	in_start = first == 0 ? 0 : HDR_LEN + first * SEALED_LEN;
	in_end = HDR_LEN + r->last * SEALED_LEN +
		(r->last == r->final_seg ? r->final_len + TAG_LEN : SEALED_LEN);
	if (first > 0 && !known)
	{
		StorageRead *h = storage_open_read(cs->inner, r->path, 0, HDR_LEN, err);
		int			rc;

		if (h == NULL)
			return -1;
		rc = read_header(h, r->header, r->path, err);
		storage_read_close(h);
		if (rc != 0)
			return -1;
	}
	r->inner = storage_open_read(cs->inner, r->path, in_start, in_end - in_start, err);
	if (r->inner == NULL)
		return -1;
	if (first == 0 && read_header(r->inner, r->header, r->path, err) != 0)
		return -1;
	r->stored = info.size;
	r->layout_known = known;
	return 0;
}

/* The opener's sink: a segment's plaintext, valid until the opener's next push. */
static int
take_segment(void *arg, const void *buf, size_t len, PgbError *err)
{
	CipherRead *r = arg;

	r->plain = buf;
	r->pt_pos = 0;
	r->pt_len = len;
	return 0;
}

StorageRead *
cipher_open_read(Storage *s, const char *path, uint64_t offset, uint64_t length, PgbError *err)
{
	CipherStorage *cs = (CipherStorage *) s;
	CipherRead *r = calloc(1, sizeof(CipherRead));

	if (r == NULL || (r->path = strdup(path)) == NULL || (r->ct = malloc(SEALED_LEN + 1)) == NULL)
	{
		cipher_oom(err);
		goto fail;
	}
	r->base.storage = s;
	if (offset == 0 && length == 0)
	{
		size_t		got;

		/* the header now, so that a wrong or damaged object fails at open */
		r->remaining = UINT64_MAX;
		r->inner = storage_open_read(cs->inner, path, 0, 0, err);
		if (r->inner == NULL ||
			(r->open = envelope_open_new(cs->key, path, take_segment, r, err)) == NULL ||
			inner_read_full(r->inner, r->ct, HDR_LEN, &got, err) != 0 ||
			envelope_open_push(r->open, r->ct, got, err) != 0 ||
			(got < HDR_LEN && envelope_open_finish(r->open, err) != 0))
			goto fail;
	}
	else if (open_ranged(cs, r, offset, length, err) != 0)
		goto fail;
	else if (!r->eof &&
			 ((r->pt = malloc(SEG_SIZE)) == NULL ||
			  (r->obj = envelope_object_new(cs->key, r->header, path, false, err)) == NULL))
	{
		if (r->pt == NULL)
			cipher_oom(err);
		goto fail;
	}
	return &r->base;

fail:
	if (r != NULL)
		cipher_read_close(&r->base);
	return NULL;
}

/*
 * Whole read: the next segment, through the opener.  What the opener wants
 * is read in one go; it is all there (then the opener passes a full
 * segment on) unless the object ends (then finish opens the final one).
 */
static int
next_whole_segment(CipherRead *r, PgbError *err)
{
	size_t		want = envelope_open_want(r->open);
	size_t		got;

	if (inner_read_full(r->inner, r->ct, want, &got, err) != 0 ||
		envelope_open_push(r->open, r->ct, got, err) != 0)
		return -1;
	if (got < want)
	{
		r->eof = true;
		return envelope_open_finish(r->open, err);
	}
	return 0;
}

/* Ranged read: read, verify and decrypt the next segment into r->pt. */
static int
next_ranged_segment(CipherRead *r, PgbError *err)
{
	bool		final = r->seg == r->final_seg;
	size_t		want = final ? r->final_len + TAG_LEN : SEALED_LEN;
	size_t		got;
	size_t		clen = want - TAG_LEN;

	if (inner_read_full(r->inner, r->ct, want, &got, err) != 0)
		return -1;
	if (got < want)
		return envelope_auth_failed(r->path, err);
	r->eof = r->seg == r->last;
	if (envelope_object_open(r->obj, r->seg, final, r->ct, clen, r->pt) != 0)
		return envelope_auth_failed(r->path, err);
	/* a segment opened with this header as AAD: header and size are authentic, remember them */
	if (!r->layout_known)
	{
		cipher_layout_put((CipherStorage *) r->base.storage, r->path, r->stored, r->header);
		r->layout_known = true;
	}
	if (r->skip > clen)
		return envelope_auth_failed(r->path, err);
	r->plain = r->pt;
	r->pt_pos = r->skip;
	r->pt_len = clen;
	r->skip = 0;
	r->seg++;
	return 0;
}

ssize_t
cipher_read(StorageRead *base, void *buf, size_t len, PgbError *err)
{
	CipherRead *r = (CipherRead *) base;
	size_t		n;

	if (r->failed)
		return pgb_error(err, EXIT_INTERNAL, "read of \"%s\" continued after an error", r->path);
	if (r->remaining == 0 || len == 0)
		return 0;
	while (r->pt_pos == r->pt_len)
	{
		if (r->eof)
		{
			if (r->remaining != UINT64_MAX)
				return pgb_error(err, EXIT_CORRUPT, "\"%s\" is shorter than expected", r->path);
			return 0;
		}
		if ((r->ranged ? next_ranged_segment(r, err) : next_whole_segment(r, err)) != 0)
		{
			r->failed = true;
			return -1;
		}
	}
	n = r->pt_len - r->pt_pos;
	if (n > len)
		n = len;
	if (r->remaining != UINT64_MAX)
	{
		if (n > r->remaining)
			n = (size_t) r->remaining;
		r->remaining -= n;
	}
	memcpy(buf, r->plain + r->pt_pos, n);
	r->pt_pos += n;
	return (ssize_t) n;
}
