/*
 * Unit tests for the encrypting storage wrapper (src/storage/cipher.c) over
 * a posix storage in a temporary directory, and for the repository key file
 * (src/repo/keyring.c): round trips, ranged reads, tampering, truncation,
 * swapped objects, wrong keys and passphrases.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>

#include "common/fileio.h"
#include "repo/keycache.h"
#include "repo/keyring.h"
#include "storage/cipher.h"
#include "storage/posix.h"
#include "harness.h"

#define SEG ((size_t) CIPHER_SEGMENT_SIZE)
#define SEALED (SEG + CIPHER_TAG_LEN)
#define HDR CIPHER_HEADER_LEN
#define TEST_N ((uint64_t) 1 << 10)

static char tmpdir[256];
static char root[320];
static Storage *st;				/* cipher over posix at root */
static const uint8_t key1[CIPHER_KEY_LEN] = "0123456789abcdef0123456789abcde";
static const uint8_t key2[CIPHER_KEY_LEN] = "0123456789abcdef0123456789abcdX";

static Storage *
new_cipher(const uint8_t *key)
{
	PgbError	err = {0};
	Storage    *inner = storage_posix_new(root, &err);
	Storage    *s;

	ck_assert_msg(inner != NULL, "%s", err.msg);
	s = storage_cipher_new(inner, key, &err);
	ck_assert_msg(s != NULL, "%s", err.msg);
	return s;
}

static void
setup(void)
{
	harness_tmpdir("cipher", tmpdir, sizeof(tmpdir));
	snprintf(root, sizeof(root), "%s/repo", tmpdir);
	st = new_cipher(key1);
}

static void
teardown(void)
{
	storage_free(st);
	st = NULL;
	harness_rmtree(tmpdir);
}

/* ------------------------------------------------------------ helpers */

static uint8_t *
pattern(size_t len, uint32_t seed)
{
	uint8_t    *p = malloc(len ? len : 1);
	uint32_t	x = seed * 2654435761u + 1;

	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < len; i++)
	{
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t) x;
	}
	return p;
}

/* Write data in pieces of `piece` bytes; returns commit's result. */
static int
put_on(Storage *s, const char *path, const uint8_t *data, size_t len, size_t piece,
	   bool no_overwrite, bool *existed, PgbError *err)
{
	StorageWrite *w = storage_open_write(s, path, err);

	if (w == NULL)
		return -1;
	for (size_t done = 0; done < len;)
	{
		size_t		n = len - done < piece ? len - done : piece;

		if (storage_write(w, data + done, n, err) != 0)
		{
			storage_abort(w);
			return -1;
		}
		done += n;
	}
	return storage_commit(w, no_overwrite, existed, err);
}

static void
put(const char *path, const uint8_t *data, size_t len)
{
	PgbError	err = {0};
	bool		existed = true;

	ck_assert_msg(put_on(st, path, data, len, 10000, false, &existed, &err) == 0, "%s", err.msg);
	ck_assert(!existed);
}

/* Read [offset, offset+length) in reads of `piece` bytes; NULL on error. */
static uint8_t *
get_on(Storage *s, const char *path, uint64_t offset, uint64_t length, size_t piece,
	   size_t *len, PgbError *err)
{
	StorageRead *r = storage_open_read(s, path, offset, length, err);
	size_t		cap = 65536;
	uint8_t    *buf = malloc(cap);
	size_t		used = 0;
	uint8_t    *chunk = malloc(piece);

	*len = 0;
	if (r == NULL)
	{
		free(chunk);
		free(buf);
		return NULL;
	}
	for (;;)
	{
		ssize_t		n = storage_read(r, chunk, piece, err);

		if (n < 0)
		{
			free(buf);
			buf = NULL;
			break;
		}
		if (n == 0)
			break;
		while (used + (size_t) n > cap)
			buf = realloc(buf, cap *= 2);
		ck_assert_ptr_nonnull(buf);
		memcpy(buf + used, chunk, (size_t) n);
		used += (size_t) n;
	}
	storage_read_close(r);
	free(chunk);
	*len = used;
	return buf;
}

static void
assert_range(const char *path, const uint8_t *plain, size_t plain_len,
			 uint64_t offset, uint64_t length, size_t piece)
{
	PgbError	err = {0};
	size_t		len;
	uint8_t    *got = get_on(st, path, offset, length, piece, &len, &err);
	size_t		want = length ? (size_t) length : plain_len - (size_t) offset;

	ck_assert_msg(got != NULL, "%s at %llu+%llu: %s", path, (unsigned long long) offset,
				  (unsigned long long) length, err.msg);
	ck_assert_msg(len == want, "%s at %llu+%llu: got %zu bytes, want %zu", path,
				  (unsigned long long) offset, (unsigned long long) length, len, want);
	ck_assert_msg(len == 0 || memcmp(got, plain + offset, len) == 0, "%s at %llu+%llu: content differs",
				  path, (unsigned long long) offset, (unsigned long long) length);
	free(got);
}

/* The read fails with EXIT_CORRUPT (and says so) and delivers nothing wrong. */
static void
assert_corrupt_on(Storage *s, const char *path, uint64_t offset, uint64_t length, const char *what)
{
	PgbError	err = {0};
	size_t		len;
	uint8_t    *got = get_on(s, path, offset, length, 65536, &len, &err);

	ck_assert_msg(got == NULL, "%s: read of %s at %llu+%llu succeeded", what, path,
				  (unsigned long long) offset, (unsigned long long) length);
	ck_assert_msg(err.code == EXIT_CORRUPT, "%s: code %d (%s)", what, err.code, err.msg);
}

static void
assert_corrupt(const char *path, const char *what)
{
	assert_corrupt_on(st, path, 0, 0, what);
}

static void
stored_path(const char *rel, char *out)
{
	snprintf(out, PGB_PATH_MAX, "%s/%s", root, rel);
}

static uint8_t *
read_stored(const char *rel, size_t *len)
{
	char		p[PGB_PATH_MAX];

	stored_path(rel, p);
	return (uint8_t *) harness_read_file(p, len);
}

static void
write_stored(const char *rel, const uint8_t *buf, size_t len)
{
	char		p[PGB_PATH_MAX];

	stored_path(rel, p);
	harness_write_file(p, buf, len);
}

/* ------------------------------------------------------------ envelope */

START_TEST(test_sizes)
{
	static const uint64_t sizes[] = {0, 1, 15, 16, 17, 65535, 65536, 65537, 3 * 65536, 3 * 65536 + 1,
	(1 << 20) + 7};
	uint64_t	p;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
	{
		uint64_t	t = cipher_stored_size(sizes[i]);

		ck_assert(cipher_plain_size(t, &p));
		ck_assert_uint_eq(p, sizes[i]);
	}
	ck_assert_uint_eq(cipher_stored_size(0), 56);
	ck_assert_uint_eq(cipher_stored_size(65536), 40 + 65536 + 16);
	ck_assert_uint_eq(cipher_stored_size(65537), 40 + 65537 + 32);
	/* every stored size up to three segments either maps back or is refused */
	for (uint64_t t = 0; t < 40 + 3 * SEALED + 100; t++)
	{
		if (cipher_plain_size(t, &p))
			ck_assert_uint_eq(cipher_stored_size(p), t);
		else
			ck_assert(t < 56 || ((t - 40) % SEALED >= 1 && (t - 40) % SEALED <= 16));
	}
	ck_assert(!cipher_plain_size(40 + SEALED + 1, &p));
	ck_assert(!cipher_plain_size(40 + SEALED + 15, &p));
	ck_assert(!cipher_plain_size(40 + SEALED + 16, &p));
	ck_assert(cipher_plain_size(40 + SEALED, &p));
	ck_assert_uint_eq(p, SEG);
	ck_assert(cipher_plain_size(40 + SEALED + 17, &p));
	ck_assert_uint_eq(p, SEG + 1);
	ck_assert(!cipher_plain_size(UINT64_MAX, &p) || cipher_stored_size(p) == UINT64_MAX);
}
END_TEST

START_TEST(test_round_trip)
{
	static const size_t sizes[] = {0, 1, 65535, 65536, 65537, 3 * 65536, (1 << 20) + 7};
	static const size_t pieces[] = {1 << 20, 4096, 65536, 7};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
	{
		char		path[64];
		uint8_t    *plain = pattern(sizes[i], (uint32_t) i);
		PgbError	err = {0};
		StorageInfo info;
		size_t		slen;
		uint8_t    *stored;

		snprintf(path, sizeof(path), "dir/obj-%zu", sizes[i]);
		put(path, plain, sizes[i]);
		stored = read_stored(path, &slen);
		ck_assert_uint_eq(slen, cipher_stored_size(sizes[i]));
		ck_assert_int_eq(memcmp(stored, "PGBE\1\1\20\0", 8), 0);
		free(stored);
		ck_assert_int_eq(storage_info(st, path, &info, &err), 0);
		ck_assert(info.exists);
		ck_assert_uint_eq(info.size, sizes[i]);
		for (size_t j = 0; j < sizeof(pieces) / sizeof(pieces[0]); j++)
		{
			/* byte-at-a-time reads of the big object would be slow; not needed */
			if (pieces[j] < 100 && sizes[i] > 200000)
				continue;
			assert_range(path, plain, sizes[i], 0, 0, pieces[j]);
		}
		free(plain);
	}
}
END_TEST

/* Writes in odd pieces, including a write that ends exactly on a segment boundary. */
START_TEST(test_write_pieces)
{
	size_t		len = 2 * SEG;
	uint8_t    *plain = pattern(len, 9);
	PgbError	err = {0};
	bool		existed;

	ck_assert_int_eq(put_on(st, "a", plain, len, SEG, false, &existed, &err), 0);
	assert_range("a", plain, len, 0, 0, 65536);
	ck_assert_int_eq(put_on(st, "b", plain, len, 1, false, &existed, &err), 0);
	assert_range("b", plain, len, 0, 0, 65536);
	ck_assert_int_eq(put_on(st, "c", plain, len, SEG - 1, false, &existed, &err), 0);
	assert_range("c", plain, len, 0, 0, 65536);
	free(plain);
}
END_TEST

START_TEST(test_ranges)
{
	static const size_t sizes[] = {1, 100, 65536, 3 * 65536 + 100, (1 << 20) + 7};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
	{
		size_t		p = sizes[i];
		uint8_t    *plain = pattern(p, 100 + (uint32_t) i);
		uint64_t	offsets[] = {0, 1, 17, 65535, 65536, 65537, 131071, 131072, 3 * 65536,
		p / 2, p - 1, p > 16 ? p - 16 : 0, p};
		uint64_t	lengths[] = {0, 1, 2, 16, 100, 65535, 65536, 65537, 2 * 65536 + 3, 5 * 65536};
		char		path[64];

		snprintf(path, sizeof(path), "r/%zu", p);
		put(path, plain, p);
		for (size_t o = 0; o < sizeof(offsets) / sizeof(offsets[0]); o++)
		{
			if (offsets[o] > p)
				continue;
			for (size_t l = 0; l < sizeof(lengths) / sizeof(lengths[0]); l++)
			{
				if (lengths[l] > p - offsets[o])
					continue;
				assert_range(path, plain, p, offsets[o], lengths[l], 65536);
				assert_range(path, plain, p, offsets[o], lengths[l], 1000);
			}
			/* exactly to the end */
			if (offsets[o] < p)
				assert_range(path, plain, p, offsets[o], p - offsets[o], 4096);
		}
		/* past the end */
		assert_corrupt_on(st, path, 0, p + 1, "range past the end");
		assert_corrupt_on(st, path, p + 1, 0, "offset past the end");
		assert_corrupt_on(st, path, p, 1, "range past the end");
		free(plain);
	}
}
END_TEST

START_TEST(test_tamper)
{
	size_t		p = 2 * SEG + 1000;	/* three segments */
	uint8_t    *plain = pattern(p, 7);
	size_t		slen;
	uint8_t    *orig;
	uint8_t    *copy;
	size_t		positions[] = {
		0, 3, 4, 5, 6, 7,		/* magic, version, cipher, segment size, reserved */
		8, 20, 39,				/* object salt */
		40, 41, 40 + SEG / 2, 40 + SEG - 1,	/* segment 0 ciphertext */
		40 + SEG, 40 + SEG + 15,	/* segment 0 tag */
		40 + SEALED, 40 + SEALED + 777, 40 + SEALED + SEG + 3,	/* segment 1 */
		40 + 2 * SEALED, 40 + 2 * SEALED + 999,	/* segment 2 (final) ciphertext */
		40 + 2 * SEALED + 1000, 0	/* final tag; last byte set below */
	};
	size_t		npos = sizeof(positions) / sizeof(positions[0]);

	put("t", plain, p);
	orig = read_stored("t", &slen);
	ck_assert_uint_eq(slen, 40 + 2 * SEALED + 1000 + 16);
	positions[npos - 1] = slen - 1;
	copy = malloc(slen);
	for (size_t i = 0; i < npos; i++)
	{
		char		what[64];
		size_t		pos = positions[i];
		size_t		seg = pos < 40 ? 0 : (pos - 40) / SEALED;

		snprintf(what, sizeof(what), "byte %zu flipped", pos);
		memcpy(copy, orig, slen);
		copy[pos] ^= 0x01;
		write_stored("t", copy, slen);
		assert_corrupt("t", what);
		/* a ranged read of the damaged segment, and one of segment 0 when the header is hit */
		assert_corrupt_on(st, "t", seg * SEG + 10, 20, what);
		copy[pos] ^= 0x81;
		write_stored("t", copy, slen);
		assert_corrupt("t", what);
	}
	/* the undamaged segments of a damaged object still read by range */
	memcpy(copy, orig, slen);
	copy[40 + SEALED + 5] ^= 0x10;
	write_stored("t", copy, slen);
	assert_range("t", plain, p, 10, 100, 4096);
	assert_range("t", plain, p, 2 * SEG + 1, 0, 4096);
	assert_corrupt_on(st, "t", SEG - 1, 2, "range over a damaged segment");

	/* segments swapped */
	memcpy(copy, orig, slen);
	memcpy(copy + 40, orig + 40 + SEALED, SEALED);
	memcpy(copy + 40 + SEALED, orig + 40, SEALED);
	write_stored("t", copy, slen);
	assert_corrupt("t", "segments swapped");
	assert_corrupt_on(st, "t", 0, 10, "segments swapped");

	write_stored("t", orig, slen);
	assert_range("t", plain, p, 0, 0, 65536);
	free(copy);
	free(orig);
	free(plain);
}
END_TEST

START_TEST(test_truncate_extend)
{
	size_t		p = 2 * SEG + 1000;
	uint8_t    *plain = pattern(p, 8);
	size_t		slen;
	uint8_t    *orig;
	uint8_t    *bigger;
	size_t		cuts[] = {0, 10, 40, 41, 56, 40 + SEALED, 40 + SEALED - 1, 40 + SEALED + 1,
	40 + 2 * SEALED, 40 + 2 * SEALED + 16, 0};
	PgbError	err = {0};
	StorageInfo info;

	put("t", plain, p);
	orig = read_stored("t", &slen);
	cuts[sizeof(cuts) / sizeof(cuts[0]) - 1] = slen - 1;
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
	{
		char		what[64];

		snprintf(what, sizeof(what), "truncated to %zu", cuts[i]);
		write_stored("t", orig, cuts[i]);
		assert_corrupt("t", what);
	}
	/* cut at a segment boundary: info sees a valid size, the read still fails */
	write_stored("t", orig, 40 + SEALED);
	ck_assert_int_eq(storage_info(st, "t", &info, &err), 0);
	ck_assert_uint_eq(info.size, SEG);
	assert_corrupt("t", "cut after segment 0");
	assert_corrupt_on(st, "t", 0, 10, "cut after segment 0, ranged");
	assert_corrupt_on(st, "t", 100, 0, "cut after segment 0, ranged to the end");
	write_stored("t", orig, 40 + 2 * SEALED);
	assert_corrupt("t", "cut after segment 1");
	assert_corrupt_on(st, "t", SEG + 10, 10, "cut after segment 1, ranged");

	/* extended by garbage, and by a copy of a segment */
	bigger = malloc(slen + SEALED);
	memcpy(bigger, orig, slen);
	memset(bigger + slen, 0, SEALED);
	write_stored("t", bigger, slen + 1);
	assert_corrupt("t", "one byte appended");
	write_stored("t", bigger, slen + 16);
	assert_corrupt("t", "16 bytes appended");
	memcpy(bigger + slen, orig + 40, SEALED);
	write_stored("t", bigger, slen + SEALED);
	assert_corrupt("t", "segment appended");
	assert_corrupt_on(st, "t", 2 * SEG, 10, "segment appended, ranged");

	/* a full final segment dropped: an object of exactly two segments cut to one */
	put("u", plain, 2 * SEG);
	free(orig);
	orig = read_stored("u", &slen);
	write_stored("u", orig, 40 + SEALED);
	assert_corrupt("u", "final full segment dropped");
	free(bigger);
	free(orig);
	free(plain);
}
END_TEST

START_TEST(test_swap_and_wrong_key)
{
	uint8_t    *a = pattern(5000, 1);
	uint8_t    *b = pattern(5000, 2);
	char		pa[PGB_PATH_MAX];
	char		pb[PGB_PATH_MAX];
	Storage    *other;
	PgbError	err = {0};
	size_t		len;
	uint8_t    *got;

	put("x/a", a, 5000);
	put("x/b", b, 5000);
	/* a correct object under the wrong key */
	other = new_cipher(key2);
	assert_corrupt_on(other, "x/a", 0, 0, "wrong key");
	assert_corrupt_on(other, "x/a", 100, 10, "wrong key, ranged");
	got = get_on(other, "x/a", 0, 0, 4096, &len, &err);
	ck_assert_ptr_null(got);
	ck_assert_ptr_nonnull(strstr(err.msg, "failed authentication"));
	ck_assert_ptr_nonnull(strstr(err.msg, "x/a"));
	storage_free(other);

	/* one object's file moved onto another's name */
	stored_path("x/a", pa);
	stored_path("x/b", pb);
	ck_assert_int_eq(rename(pb, pa), 0);
	assert_corrupt("x/a", "swapped");
	assert_corrupt_on(st, "x/a", 10, 10, "swapped, ranged");
	free(a);
	free(b);
}
END_TEST

START_TEST(test_info_list_remove)
{
	uint8_t    *data = pattern(70000, 3);
	PgbError	err = {0};
	StorageList list = {0};
	StorageInfo info;
	Storage    *inner = storage_posix_new(root, &err);
	StorageWrite *w;
	StorageRead *r;

	put("d/one", data, 1);
	put("d/two", data, 70000);
	put("d/sub/three", data, 0);
	/* a file that is not an envelope (as a lock file is) */
	w = storage_open_write(inner, "d/plain", &err);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(storage_write(w, "hello", 5, &err), 0);
	ck_assert_int_eq(storage_commit(w, false, NULL, &err), 0);

	ck_assert_int_eq(storage_list(st, "d", &list, &err), 0);
	ck_assert_int_eq(list.count, 4);
	ck_assert_str_eq(list.items[0].name, "one");
	ck_assert_uint_eq(list.items[0].size, 1);
	ck_assert_str_eq(list.items[1].name, "plain");
	ck_assert_uint_eq(list.items[1].size, 5);
	ck_assert_str_eq(list.items[2].name, "sub");
	ck_assert(list.items[2].is_dir);
	ck_assert_str_eq(list.items[3].name, "two");
	ck_assert_uint_eq(list.items[3].size, 70000);
	storage_list_free(&list);

	ck_assert_int_eq(storage_info(st, "d/sub/three", &info, &err), 0);
	ck_assert(info.exists);
	ck_assert_uint_eq(info.size, 0);
	ck_assert_int_eq(storage_info(st, "d/missing", &info, &err), 0);
	ck_assert(!info.exists);
	ck_assert_int_eq(storage_info(st, "d/plain", &info, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	assert_corrupt("d/plain", "not an envelope");

	/* missing objects */
	err.code = 0;
	r = storage_open_read(st, "d/missing", 0, 0, &err);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(err.code, EXIT_NOT_FOUND);
	err.code = 0;
	r = storage_open_read(st, "d/missing", 10, 10, &err);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(err.code, EXIT_NOT_FOUND);

	ck_assert_int_eq(storage_remove(st, "d/one", &err), 0);
	ck_assert_int_eq(storage_info(st, "d/one", &info, &err), 0);
	ck_assert(!info.exists);
	ck_assert_int_eq(storage_remove_tree(st, "d", &err), 0);
	ck_assert_int_eq(storage_list(st, "d", &list, &err), 0);
	ck_assert_int_eq(list.count, 0);
	storage_free(inner);
	free(data);
}
END_TEST

START_TEST(test_no_plaintext)
{
	static const char marker[] = "PGBKP-KNOWN-PLAINTEXT-MARKER-0123456789";
	size_t		mlen = strlen(marker);
	size_t		len = 200000;
	uint8_t    *plain = malloc(len);
	uint8_t    *stored;
	size_t		slen;

	for (size_t i = 0; i < len; i++)
		plain[i] = (uint8_t) marker[i % mlen];
	put("m", plain, len);
	stored = read_stored("m", &slen);
	for (size_t i = 0; i + 16 <= mlen; i++)
		ck_assert_msg(memmem(stored, slen, marker + i, 16) == NULL, "plaintext found at marker offset %zu", i);
	/* two writes of the same content differ (fresh salt) */
	put("m2", plain, len);
	{
		size_t		slen2;
		uint8_t    *stored2 = read_stored("m2", &slen2);

		ck_assert_uint_eq(slen, slen2);
		ck_assert_int_ne(memcmp(stored + 8, stored2 + 8, 32), 0);
		ck_assert_int_ne(memcmp(stored + 40, stored2 + 40, 64), 0);
		free(stored2);
	}
	free(stored);
	free(plain);
}
END_TEST

START_TEST(test_commit_semantics)
{
	uint8_t    *a = pattern(3000, 4);
	uint8_t    *b = pattern(4000, 5);
	PgbError	err = {0};
	bool		existed = false;
	StorageWrite *w;
	StorageInfo info;

	put("w", a, 3000);
	ck_assert_int_eq(put_on(st, "w", b, 4000, 1000, true, &existed, &err), 0);
	ck_assert(existed);
	assert_range("w", a, 3000, 0, 0, 4096);
	ck_assert_int_eq(put_on(st, "w", b, 4000, 1000, false, &existed, &err), 0);
	ck_assert(!existed);
	assert_range("w", b, 4000, 0, 0, 4096);
	ck_assert_int_eq(put_on(st, "new", b, 4000, 1000, true, &existed, &err), 0);
	ck_assert(!existed);
	assert_range("new", b, 4000, 0, 0, 4096);

	/* an aborted write leaves nothing */
	w = storage_open_write(st, "gone", &err);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(storage_write(w, b, 4000, &err), 0);
	storage_abort(w);
	ck_assert_int_eq(storage_info(st, "gone", &info, &err), 0);
	ck_assert(!info.exists);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_lock_passthrough)
{
	PgbError	err = {0};
	StorageLock *l = storage_lock(st, "locks/repo.lock", "test holder", &err);
	StorageLock *l2;

	ck_assert_msg(l != NULL, "%s", err.msg);
	l2 = storage_lock(st, "locks/repo.lock", "second", &err);
	ck_assert_ptr_null(l2);
	ck_assert_int_eq(err.code, EXIT_LOCKED);
	storage_unlock(l);
	l = storage_lock(st, "locks/repo.lock", "third", &err);
	ck_assert_ptr_nonnull(l);
	storage_unlock(l);
	ck_assert_str_eq(storage_description(st), root);
}
END_TEST

typedef struct ThreadArg
{
	int			id;
	int			failures;
} ThreadArg;

static void *
thread_main(void *arg)
{
	ThreadArg  *t = arg;
	size_t		len = 150000 + (size_t) t->id * 1000;
	uint8_t    *plain = pattern(len, 50 + (uint32_t) t->id);
	char		path[64];

	snprintf(path, sizeof(path), "threads/%d", t->id);
	for (int round = 0; round < 5; round++)
	{
		PgbError	err = {0};
		bool		existed;
		size_t		got_len;
		uint8_t    *got;

		if (put_on(st, path, plain, len, 8192, false, &existed, &err) != 0)
		{
			t->failures++;
			continue;
		}
		got = get_on(st, path, 0, 0, 8192, &got_len, &err);
		if (got == NULL || got_len != len || memcmp(got, plain, len) != 0)
			t->failures++;
		free(got);
		got = get_on(st, path, 70000, 10000, 8192, &got_len, &err);
		if (got == NULL || got_len != 10000 || memcmp(got, plain + 70000, 10000) != 0)
			t->failures++;
		free(got);
	}
	free(plain);
	return NULL;
}

START_TEST(test_threads)
{
	pthread_t	th[4];
	ThreadArg	args[4];

	for (int i = 0; i < 4; i++)
	{
		args[i].id = i;
		args[i].failures = 0;
		ck_assert_int_eq(pthread_create(&th[i], NULL, thread_main, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++)
	{
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		ck_assert_int_eq(args[i].failures, 0);
	}
}
END_TEST

/* ------------------------------------------------------------ keyring */

/* json with field replaced by value (NULL: removed); malloc'd. */
static char *
tamper_json(const char *json, const char *field, json_object *value)
{
	json_object *o = json_tokener_parse(json);
	char	   *out;

	ck_assert_ptr_nonnull(o);
	if (value == NULL)
		json_object_object_del(o, field);
	else
		json_object_object_add(o, field, value);
	out = strdup(json_object_to_json_string(o));
	json_object_put(o);
	return out;
}

static void
assert_open_fails(const char *json, const char *pass, int code, const char *what)
{
	PgbError	err = {0};
	uint8_t		dek[KEYRING_KEY_LEN];

	ck_assert_msg(keyring_open(json, pass, dek, &err) == -1, "%s: opened", what);
	ck_assert_msg(err.code == code, "%s: code %d, want %d (%s)", what, err.code, code, err.msg);
	if (pass[0] != '\0')
	{
		ck_assert_ptr_null(strstr(err.msg, pass));
		ck_assert_ptr_null(strstr(err.hint, pass));
	}
}

/* Flip one hex digit of a hex field. */
static char *
tamper_hex(const char *json, const char *field)
{
	json_object *o = json_tokener_parse(json);
	json_object *v;
	char	   *hex;
	char	   *out;

	ck_assert(json_object_object_get_ex(o, field, &v));
	hex = strdup(json_object_get_string(v));
	hex[3] = hex[3] == '0' ? '1' : '0';
	json_object_put(o);
	out = tamper_json(json, field, json_object_new_string(hex));
	free(hex);
	return out;
}

START_TEST(test_keyring_round_trip)
{
	const char *pass = "correct horse battery staple";
	PgbError	err = {0};
	uint8_t		dek[KEYRING_KEY_LEN];
	uint8_t		dek2[KEYRING_KEY_LEN];
	uint8_t		zero[KEYRING_KEY_LEN] = {0};
	char	   *json;
	char	   *json2;
	json_object *o;
	json_object *v;

	ck_assert_msg(keyring_create_n(pass, TEST_N, &json, dek, &err) == 0, "%s", err.msg);
	ck_assert_int_ne(memcmp(dek, zero, sizeof(dek)), 0);
	ck_assert_ptr_null(strstr(json, pass));
	o = json_tokener_parse(json);
	ck_assert_ptr_nonnull(o);
	ck_assert(json_object_object_get_ex(o, "format", &v));
	ck_assert_int_eq(json_object_get_int(v), 1);
	ck_assert(json_object_object_get_ex(o, "cipher", &v));
	ck_assert_str_eq(json_object_get_string(v), "aes-256-gcm");
	ck_assert(json_object_object_get_ex(o, "kdf", &v));
	ck_assert_str_eq(json_object_get_string(v), "scrypt");
	ck_assert(json_object_object_get_ex(o, "kdf_n", &v));
	ck_assert_int_eq(json_object_get_int64(v), (int64_t) TEST_N);
	ck_assert(json_object_object_get_ex(o, "kdf_r", &v));
	ck_assert_int_eq(json_object_get_int(v), 8);
	ck_assert(json_object_object_get_ex(o, "kdf_p", &v));
	ck_assert_int_eq(json_object_get_int(v), 1);
	ck_assert(json_object_object_get_ex(o, "salt", &v));
	ck_assert_int_eq(json_object_get_string_len(v), 64);
	ck_assert(json_object_object_get_ex(o, "nonce", &v));
	ck_assert_int_eq(json_object_get_string_len(v), 24);
	ck_assert(json_object_object_get_ex(o, "wrapped_key", &v));
	ck_assert_int_eq(json_object_get_string_len(v), 96);
	ck_assert(json_object_object_get_ex(o, "created", &v));
	ck_assert_int_gt(json_object_get_int64(v), 1600000000);
	json_object_put(o);

	ck_assert_msg(keyring_open(json, pass, dek2, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(memcmp(dek, dek2, sizeof(dek)), 0);

	/* a second key file for the same passphrase has another key */
	ck_assert_int_eq(keyring_create_n(pass, TEST_N, &json2, dek2, &err), 0);
	ck_assert_int_ne(memcmp(dek, dek2, sizeof(dek)), 0);
	free(json2);

	/* the key file's key drives a cipher storage end to end */
	{
		Storage    *s = new_cipher(dek);
		uint8_t    *data = pattern(1000, 77);
		bool		existed;
		size_t		len;
		uint8_t    *got;

		ck_assert_int_eq(put_on(s, "k", data, 1000, 1000, false, &existed, &err), 0);
		ck_assert_int_eq(keyring_open(json, pass, dek2, &err), 0);
		storage_free(s);
		s = new_cipher(dek2);
		got = get_on(s, "k", 0, 0, 4096, &len, &err);
		ck_assert_ptr_nonnull(got);
		ck_assert_int_eq(memcmp(got, data, 1000), 0);
		free(got);
		free(data);
		storage_free(s);
	}
	free(json);
}
END_TEST

START_TEST(test_keyring_default_n)
{
	PgbError	err = {0};
	uint8_t		dek[KEYRING_KEY_LEN];
	uint8_t		dek2[KEYRING_KEY_LEN];
	char	   *json;

	ck_assert_msg(keyring_create("a long enough passphrase", &json, dek, &err) == 0, "%s", err.msg);
	ck_assert_ptr_nonnull(strstr(json, "32768"));
	ck_assert_int_eq(keyring_open(json, "a long enough passphrase", dek2, &err), 0);
	ck_assert_int_eq(memcmp(dek, dek2, sizeof(dek)), 0);
	free(json);
}
END_TEST

START_TEST(test_keyring_errors)
{
	static const char *const hex_fields[] = {"salt", "nonce", "wrapped_key"};
	const char *pass = "the right passphrase";
	PgbError	err = {0};
	uint8_t		dek[KEYRING_KEY_LEN];
	char	   *json;
	char	   *bad;

	ck_assert_int_eq(keyring_create_n(pass, TEST_N, &json, dek, &err), 0);

	assert_open_fails(json, "the wrong passphrase", EXIT_CONFIG, "wrong passphrase");
	ck_assert_int_eq(keyring_open(json, "the wrong passphrase", dek, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "wrong passphrase"));
	ck_assert_ptr_nonnull(strstr(err.hint, "cipher_pass"));
	ck_assert_ptr_nonnull(strstr(err.hint, "PGBKP_CIPHER_PASS"));
	assert_open_fails(json, "", EXIT_CONFIG, "empty passphrase");
	ck_assert_int_eq(keyring_create_n("", TEST_N, &bad, dek, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CONFIG);

	/* damaged key material: the unwrap fails */
	for (size_t i = 0; i < 3; i++)
	{
		bad = tamper_hex(json, hex_fields[i]);
		assert_open_fails(bad, pass, EXIT_CONFIG, hex_fields[i]);
		free(bad);
	}
	/* changed scrypt parameters derive another key */
	bad = tamper_json(json, "kdf_n", json_object_new_int64(2048));
	assert_open_fails(bad, pass, EXIT_CONFIG, "kdf_n changed");
	free(bad);
	bad = tamper_json(json, "kdf_r", json_object_new_int(4));
	assert_open_fails(bad, pass, EXIT_CONFIG, "kdf_r changed");
	free(bad);

	/* malformed or unknown */
	assert_open_fails("not json", pass, EXIT_CORRUPT, "not json");
	assert_open_fails("[1, 2]", pass, EXIT_CORRUPT, "array");
	bad = tamper_json(json, "format", json_object_new_int(2));
	assert_open_fails(bad, pass, EXIT_CORRUPT, "format 2");
	free(bad);
	bad = tamper_json(json, "format", json_object_new_string("1"));
	assert_open_fails(bad, pass, EXIT_CORRUPT, "format string");
	free(bad);
	bad = tamper_json(json, "cipher", json_object_new_string("aes-256-cbc"));
	assert_open_fails(bad, pass, EXIT_CORRUPT, "cipher");
	free(bad);
	bad = tamper_json(json, "kdf", json_object_new_string("pbkdf2"));
	assert_open_fails(bad, pass, EXIT_CORRUPT, "kdf");
	free(bad);
	bad = tamper_json(json, "kdf_n", json_object_new_int64((int64_t) 1 << 30));
	assert_open_fails(bad, pass, EXIT_CORRUPT, "kdf_n huge");
	free(bad);
	bad = tamper_json(json, "kdf_n", json_object_new_int64(3000));
	assert_open_fails(bad, pass, EXIT_CORRUPT, "kdf_n not a power of two");
	free(bad);
	bad = tamper_json(json, "kdf_n", json_object_new_int64(-1024));
	assert_open_fails(bad, pass, EXIT_CORRUPT, "kdf_n negative");
	free(bad);
	bad = tamper_json(json, "kdf_n", json_object_new_int64(16));
	assert_open_fails(bad, pass, EXIT_CORRUPT, "kdf_n tiny");
	free(bad);
	bad = tamper_json(json, "kdf_r", json_object_new_int(1000));
	assert_open_fails(bad, pass, EXIT_CORRUPT, "kdf_r huge");
	free(bad);
	bad = tamper_json(json, "kdf_p", json_object_new_int(0));
	assert_open_fails(bad, pass, EXIT_CORRUPT, "kdf_p zero");
	free(bad);
	bad = tamper_json(json, "salt", json_object_new_string("abcd"));
	assert_open_fails(bad, pass, EXIT_CORRUPT, "short salt");
	free(bad);
	bad = tamper_json(json, "nonce", json_object_new_string("zz0000000000000000000000"));
	assert_open_fails(bad, pass, EXIT_CORRUPT, "non-hex nonce");
	free(bad);
	bad = tamper_json(json, "wrapped_key", NULL);
	assert_open_fails(bad, pass, EXIT_CORRUPT, "missing wrapped_key");
	free(bad);
	ck_assert_int_eq(keyring_open(bad = tamper_json(json, "salt", NULL), pass, dek, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "salt"));
	free(bad);
	free(json);
}
END_TEST

START_TEST(test_weak_passphrase)
{
	static const char *const weak[] = {
		"pgBackRest", "pgbackrest", "PGBACKREST", "pigsty", "DBUser.Backup", "dbuser.backup",
		"S3User.Backup", "password", "changeme", "secret", "test", "", "short", "elevenchars",
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", NULL
	};
	static const char *const strong[] = {
		"twelve chars", "correct horse battery staple", "pgBackRest-but-longer", NULL
	};

	for (int i = 0; weak[i]; i++)
		ck_assert_msg(keyring_passphrase_is_weak(weak[i]), "\"%s\" not weak", weak[i]);
	for (int i = 0; strong[i]; i++)
		ck_assert_msg(!keyring_passphrase_is_weak(strong[i]), "\"%s\" weak", strong[i]);

	ck_assert(keyring_cipher_type_valid("none"));
	ck_assert(keyring_cipher_type_valid("aes-256-cbc"));
	ck_assert(keyring_cipher_type_valid("aes-256-gcm"));
	ck_assert(keyring_cipher_type_valid("AES-256-CBC"));
	ck_assert(!keyring_cipher_type_valid("aes-256-"));
	ck_assert(!keyring_cipher_type_valid("aes-128-cbc"));
	ck_assert(!keyring_cipher_type_valid(""));
	ck_assert(!keyring_cipher_type_valid("None"));
	ck_assert(!keyring_cipher_type_valid(NULL));
}
END_TEST

START_TEST(test_keycache)
{
	const char *pass = "correct horse battery staple";
	char	   *json = NULL;
	char	   *other = NULL;
	uint8_t		dek[32],
				got[32];
	PgbError	err = {0};
	char		dir[64];
	char		cmd[256];
	struct stat dst;

	ck_assert_int_eq(keyring_create_n(pass, 1024, &json, dek, &err), 0);
	ck_assert_int_eq(keyring_create_n(pass, 1024, &other, got, &err), 0);
	ck_assert(!keycache_get(json, pass, got));
	keycache_put(json, pass, dek);
	ck_assert(keycache_get(json, pass, got));
	ck_assert_mem_eq(got, dek, 32);
	/* another passphrase or another key file misses */
	ck_assert(!keycache_get(json, "a different passphrase", got));
	ck_assert(!keycache_get(other, pass, got));
	/* the directory is private */
	snprintf(dir, sizeof(dir), KEYCACHE_DIR_FMT, (unsigned) geteuid());
	ck_assert_int_eq(stat(dir, &dst), 0);
	ck_assert_int_eq(dst.st_mode & 077, 0);
	/* a damaged entry is ignored, and replaced */
	snprintf(cmd, sizeof(cmd), "for f in %s/*; do printf 'xxxx' | dd of=$f conv=notrunc 2>/dev/null; done", dir);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert(!keycache_get(json, pass, got));
	keycache_put(json, pass, dek);
	ck_assert(keycache_get(json, pass, got));
	ck_assert_mem_eq(got, dek, 32);
	free(json);
	free(other);
}
END_TEST


/* ------------------------------------------------------------ streaming stages */

/* Push data into a stage in pieces of `piece` bytes. */
static int
push_pieces(int (*push) (void *, const void *, size_t, PgbError *), void *stage,
			const uint8_t *data, size_t len, size_t piece, PgbError *err)
{
	for (size_t done = 0; done < len; done += piece)
		if (push(stage, data + done, len - done < piece ? len - done : piece, err) != 0)
			return -1;
	return 0;
}

static int
seal_push(void *s, const void *buf, size_t len, PgbError *err)
{
	return envelope_seal_push(s, buf, len, err);
}

static int
open_push(void *o, const void *buf, size_t len, PgbError *err)
{
	return envelope_open_push(o, buf, len, err);
}

/*
 * What EnvelopeSeal makes the storage wrapper reads, and what the wrapper
 * writes EnvelopeOpen opens, with 1-byte and larger pieces: one format.
 */
START_TEST(test_stream_stages)
{
	static const size_t sizes[] = {0, 1, 65535, 65536, 65537, 3 * 65536 + 5};
	static const size_t pieces[] = {1, 4096, 1 << 20};
	PgbError	err = {0};
	EnvelopeKey *k = envelope_key_new(key1, &err);

	ck_assert_msg(k != NULL, "%s", err.msg);
	ck_assert(mkdir(root, 0700) == 0 || errno == EEXIST);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (size_t j = 0; j < sizeof(pieces) / sizeof(pieces[0]); j++)
		{
			uint8_t    *plain = pattern(sizes[i], (uint32_t) (i * 7 + j));
			HarnessBuf	sealed = {0};
			HarnessBuf	opened = {0};
			char		path[64];
			EnvelopeSeal *s;
			EnvelopeOpen *o;
			uint8_t    *stored;
			size_t		stored_len;

			snprintf(path, sizeof(path), "stream-%zu-%zu", i, j);
			s = envelope_seal_new(k, path, harness_buf_sink, &sealed, &err);
			ck_assert_msg(s != NULL, "%s", err.msg);
			ck_assert_uint_eq(sealed.len, HDR);
			ck_assert_int_eq(push_pieces(seal_push, s, plain, sizes[i], pieces[j], &err), 0);
			ck_assert_int_eq(envelope_seal_finish(s, &err), 0);
			envelope_seal_free(s);
			ck_assert_uint_eq(sealed.len, cipher_stored_size(sizes[i]));
			write_stored(path, sealed.data, sealed.len);
			assert_range(path, plain, sizes[i], 0, 0, 65536);
			if (sizes[i] > 2)
				assert_range(path, plain, sizes[i], 1, sizes[i] - 2, 4096);

			/* the other way: written by the wrapper, opened by the stage */
			put(path, plain, sizes[i]);
			stored = read_stored(path, &stored_len);
			o = envelope_open_new(k, path, harness_buf_sink, &opened, &err);
			ck_assert_ptr_nonnull(o);
			ck_assert_uint_eq(envelope_open_want(o), HDR);
			ck_assert_msg(push_pieces(open_push, o, stored, stored_len, pieces[j], &err) == 0 &&
						  envelope_open_finish(o, &err) == 0, "%s", err.msg);
			envelope_open_free(o);
			ck_assert_uint_eq(opened.len, sizes[i]);
			ck_assert(sizes[i] == 0 || memcmp(opened.data, plain, sizes[i]) == 0);
			ck_assert_int_le(opened.calls, (int) envelope_segment_count(sizes[i]));

			/* cut short by one byte, or opened under another path: nothing verifies */
			opened.len = 0;
			o = envelope_open_new(k, path, harness_buf_sink, &opened, &err);
			ck_assert(push_pieces(open_push, o, stored, stored_len - 1, pieces[j], &err) != 0 ||
					  envelope_open_finish(o, &err) != 0);
			ck_assert_int_eq(err.code, EXIT_CORRUPT);
			envelope_open_free(o);
			pgb_error_clear(&err);
			o = envelope_open_new(k, "elsewhere", harness_buf_sink, &opened, &err);
			ck_assert(push_pieces(open_push, o, stored, stored_len, pieces[j], &err) != 0 ||
					  envelope_open_finish(o, &err) != 0);
			ck_assert_int_eq(err.code, EXIT_CORRUPT);
			ck_assert_ptr_nonnull(strstr(err.msg, "failed authentication"));
			envelope_open_free(o);
			pgb_error_clear(&err);
			free(stored);
			harness_buf_free(&sealed);
			harness_buf_free(&opened);
			free(plain);
		}
	envelope_key_free(k);
}
END_TEST

int
main(void)
{
	Suite	   *s = suite_create("cipher");
	TCase	   *tc = tcase_create("envelope");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_sizes);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_write_pieces);
	tcase_add_test(tc, test_ranges);
	tcase_add_test(tc, test_tamper);
	tcase_add_test(tc, test_truncate_extend);
	tcase_add_test(tc, test_swap_and_wrong_key);
	tcase_add_test(tc, test_info_list_remove);
	tcase_add_test(tc, test_no_plaintext);
	tcase_add_test(tc, test_commit_semantics);
	tcase_add_test(tc, test_lock_passthrough);
	tcase_add_test(tc, test_threads);
	tcase_add_test(tc, test_stream_stages);
	suite_add_tcase(s, tc);
	tc = tcase_create("keyring");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_keyring_round_trip);
	tcase_add_test(tc, test_keyring_default_n);
	tcase_add_test(tc, test_keyring_errors);
	tcase_add_test(tc, test_weak_passphrase);
	tcase_add_test(tc, test_keycache);
	suite_add_tcase(s, tc);
	return harness_run(s);
}
