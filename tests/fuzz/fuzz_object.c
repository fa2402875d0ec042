/*
 * Fuzz target: the object container reader (io/object.c, the decoder stage
 * objio_get runs every repository object through): header, zstd payload,
 * trailer, size and SHA-256 checks.  The input is one stored object, fed
 * in pieces; the kind expected is the one its header names (a bundle's,
 * which has no trailer, is read as WAL).  An object that decodes must have
 * passed on exactly the size its trailer records.
 */
#include "fuzz.h"

#include "io/object.h"

static int
fuzz_one(const uint8_t *data, size_t size)
{
	PgbError	err = {0};
	ObjectKind	kind = OBJECT_KIND_WAL;
	ObjectSummary sum;
	Stage	   *sink;
	Stage	   *counter;
	Stage	   *dec;
	size_t		piece = 1 + size % 4093;
	int			rc = 0;

	if (size > 4 && (data[4] == OBJECT_KIND_MANIFEST || data[4] == OBJECT_KIND_INFO))
		kind = (ObjectKind) data[4];
	(void) object_header_check(data, size, kind, &err);
	if (size >= OBJECT_TRAILER_SIZE)
		(void) object_trailer_parse(data + size - OBJECT_TRAILER_SIZE, OBJECT_TRAILER_SIZE, &sum, &err);

	if ((sink = discard_stage_new(&err)) == NULL ||
		(counter = size_stage_new(sink, &err)) == NULL ||
		(dec = object_decoder_new(kind, counter, &err)) == NULL)
		fuzz_fail("could not build the decoder", err.msg);
	for (size_t off = 0; off < size && rc == 0; off += piece)
		rc = stage_write(dec, data + off, size - off < piece ? size - off : piece, &err);
	if (rc == 0 && stage_finish(dec, &err) == 0)
	{
		object_decoder_summary(dec, &sum);
		if (sum.size != size_stage_bytes(counter))
			fuzz_fail("decoded size differs from the trailer's", NULL);
	}
	stage_free_chain(dec, NULL);
	return 0;
}
