/*
 * Fuzz target: manifest_parse (manifest/manifest_parse.c), the reader of
 * every backup.manifest.  A manifest that parses is checked
 * (manifest_check_paths, the WAL range) and written out again; when it has
 * the header fields every manifest pgbkp writes has (the parser requires
 * only label and wal_segment_size, and refuses a 0 that manifest_write
 * would print for a missing pg_version, block_size or timeline), what
 * manifest_write produces must parse and write back byte for byte.
 */
#include "fuzz.h"

#include "io/membuf.h"
#include "manifest/manifest.h"

static char *
write_text(const Manifest *m, size_t *len)
{
	MemBuf		b = {0};
	PgbError	err = {0};
	char	   *text;

	if (manifest_write(m, membuf_sink, &b, &err) != 0 ||
		(text = membuf_take(&b, len, &err)) == NULL)
		fuzz_fail("manifest_write failed on a parsed manifest", err.msg);
	return text;
}

static int
fuzz_one(const uint8_t *data, size_t size)
{
	/* an exact-size copy, not NUL-terminated: the parser has len */
	char	   *text = malloc(size ? size : 1);
	PgbError	err = {0};
	Manifest	m;
	Manifest	again;
	char		start[WAL_NAME_LEN + 1];
	char		stop[WAL_NAME_LEN + 1];

	if (text == NULL)
		abort();
	memcpy(text, data, size);
	manifest_init(&m);
	if (manifest_parse(text, size, &m, &err) == 0)
	{
		size_t		len1;
		size_t		len2;
		char	   *out1;
		char	   *out2;

		(void) manifest_check_paths(&m, &err);
		manifest_wal_range(&m, start, stop);
		out1 = write_text(&m, &len1);
		if (m.pg_version == 0 || m.block_size == 0 || m.timeline == 0)
		{
			free(out1);
			manifest_free(&m);
			free(text);
			return 0;
		}
		manifest_init(&again);
		if (manifest_parse(out1, len1, &again, &err) != 0)
			fuzz_fail("manifest_write output refused by manifest_parse", err.msg);
		out2 = write_text(&again, &len2);
		if (len1 != len2 || memcmp(out1, out2, len1) != 0)
			fuzz_fail("manifest write/parse/write is not stable", NULL);
		manifest_free(&again);
		free(out1);
		free(out2);
	}
	manifest_free(&m);
	free(text);
	return 0;
}
