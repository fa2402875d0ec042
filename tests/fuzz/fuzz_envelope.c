/*
 * Fuzz target: the cipher envelope reader (storage/cipher_envelope.c), what
 * every object of an encrypted repository passes through.  The first input
 * byte chooses: even, the rest is an envelope to open with a fixed key and
 * path (in pieces, sized by envelope_open_want or fixed); odd, the rest is
 * plaintext to seal, which must open to itself, and fail to open once any
 * byte of the envelope is flipped.
 *
 * With FUZZ_ENVELOPE_SEEDS=DIR in the environment the program writes sealed
 * seed envelopes (key and path as here) into DIR and exits: that is how
 * tests/fuzz/make-corpus makes this target's corpus.
 */
#include <unistd.h>

#include "fuzz.h"

#include "io/membuf.h"
#include "storage/cipher_envelope.h"

static const char *const fuzz_path = "backup/20261125-224817F/bundle/000001";
static EnvelopeKey *key;

static int
seal(const uint8_t *plain, size_t len, MemBuf *out, PgbError *err)
{
	EnvelopeSeal *s = envelope_seal_new(key, fuzz_path, membuf_sink, out, err);
	int			rc;

	if (s == NULL)
		return -1;
	rc = envelope_seal_push(s, plain, len, err) == 0 ? envelope_seal_finish(s, err) : -1;
	envelope_seal_free(s);
	return rc;
}

/* Open len bytes pushed in pieces (0: as much as the opener wants); plaintext into out. */
static int
open_all(const uint8_t *env, size_t len, size_t piece, MemBuf *out, PgbError *err)
{
	EnvelopeOpen *o = envelope_open_new(key, fuzz_path, membuf_sink, out, err);
	int			rc = 0;
	size_t		off = 0;

	if (o == NULL)
		return -1;
	while (off < len && rc == 0)
	{
		size_t		n = piece ? piece : envelope_open_want(o);

		if (n == 0 || n > len - off)
			n = len - off;
		rc = envelope_open_push(o, env + off, n, err);
		off += n;
	}
	if (rc == 0)
		rc = envelope_open_finish(o, err);
	envelope_open_free(o);
	return rc;
}

static void
write_seeds(const char *dir)
{
	static const size_t sizes[] = {0, 1, 300, 65536, 65537};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
	{
		uint8_t    *plain = calloc(1, sizes[i] + 1);
		MemBuf		env = {0};
		PgbError	err = {0};
		char		path[4096];
		FILE	   *fp;

		for (size_t j = 0; j < sizes[i]; j++)
			plain[j] = (uint8_t) ("pgbkp envelope seed "[j % 20]);
		membuf_append(&env, "\0", 1, &err);	/* mode byte: open */
		if (seal(plain, sizes[i], &env, &err) != 0)
			fuzz_fail("could not seal a seed", err.msg);
		snprintf(path, sizeof(path), "%s/sealed-%zu", dir, sizes[i]);
		if ((fp = fopen(path, "wb")) == NULL || fwrite(env.buf, 1, env.len, fp) != env.len ||
			fclose(fp) != 0)
			fuzz_fail("could not write a seed", path);
		membuf_free(&env);
		free(plain);
	}
	exit(0);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t		k[CIPHER_KEY_LEN];
	PgbError	err = {0};
	const char *seeds = getenv("FUZZ_ENVELOPE_SEEDS");

	for (int i = 0; i < CIPHER_KEY_LEN; i++)
		k[i] = (uint8_t) (0x5a ^ i);
	if ((key = envelope_key_new(k, &err)) == NULL)
		fuzz_fail("envelope_key_new", err.msg);
	if (seeds)
		write_seeds(seeds);
	return 0;
}

static int
fuzz_one(const uint8_t *data, size_t size)
{
	PgbError	err = {0};
	MemBuf		out = {0};
	MemBuf		env = {0};
	uint8_t		mode;

	if (size == 0)
		return 0;
	mode = data[0];
	data++;
	size--;
	if ((mode & 1) == 0)
	{
		size_t		piece = (mode & 2) ? 0 : (size_t) 1 + mode * 97;

		(void) open_all(data, size, piece, &out, &err);
		membuf_free(&out);
		return 0;
	}
	if (seal(data, size, &env, &err) != 0)
		fuzz_fail("sealing failed", err.msg);
	if (env.len != cipher_stored_size(size))
		fuzz_fail("sealed size differs from cipher_stored_size", NULL);
	if (open_all((const uint8_t *) env.buf, env.len, (mode & 2) ? 0 : 4096, &out, &err) != 0)
		fuzz_fail("a sealed envelope does not open", err.msg);
	if (out.len != size || (size && memcmp(out.buf, data, size) != 0))
		fuzz_fail("an envelope opens to other bytes", NULL);
	membuf_free(&out);
	env.buf[(size_t) mode * 131 % env.len] ^= 0x01;
	if (open_all((const uint8_t *) env.buf, env.len, 0, &out, &err) == 0)
		fuzz_fail("an envelope with a flipped byte opens", NULL);
	membuf_free(&out);
	membuf_free(&env);
	return 0;
}
