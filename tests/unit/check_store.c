/*
 * Unit tests for the backup data path against a temporary posix repository:
 * backup/store.c writes chunks into bundles, restore/write.c and
 * restore/delta.c write them back; full -> incremental -> delta round
 * trips, a damaged parent block map, a truncated bundle, a chunk whose
 * SHA-256 does not match, backup/verify.c finding damage, and the pieces
 * underneath (backup/bundle.c, backup/chain.c).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup/bundle.h"
#include "backup/chain.h"
#include "backup/chunk.h"
#include "backup/store.h"
#include "backup/verify.h"
#include "common/fileio.h"
#include "io/object.h"
#include "io/membuf.h"
#include "restore/delta.h"
#include "restore/write.h"
#include "storage/posix.h"

#define BS 8192
#define NFILES 6
#define BIG_LEN (MANIFEST_CHUNK_SIZE + 5000)

static char root[256];
static char src[300];
static Repo repo;
static Manifest backups[4];
static Catalog cat;

/* The source data directory's files, sorted by path as a manifest keeps them. */
static const char *const files[NFILES] = {
	"PG_VERSION", "base/1/16384", "base/1/16385", "base/1/16386", "global/pg_control", "pg_big"
};

/* ------------------------------------------------------------ helpers */

static void
path_of(char *out, size_t len, const char *dir, const char *rel)
{
	ck_assert_int_lt(snprintf(out, len, "%s/%s", dir, rel), (int) len);
}

static void
write_file(const char *dir, const char *rel, const uint8_t *buf, size_t len)
{
	char		path[512];
	FILE	   *f;

	path_of(path, sizeof(path), dir, rel);
	f = fopen(path, "wb");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static uint8_t *
read_file(const char *dir, const char *rel, size_t *len)
{
	char		path[512];
	char	   *text;
	PgbError	err = {0};

	path_of(path, sizeof(path), dir, rel);
	ck_assert_msg(fio_read_small(path, BIG_LEN + 1, &text, len, &err) == 0, "%s", err.msg);
	return (uint8_t *) text;
}

static void
fill(uint8_t *p, size_t len, uint32_t seed)
{
	uint32_t	x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len; i++)
	{
		x = x * 1103515245u + 12345u;
		p[i] = (i / 256) % 3 ? (uint8_t) (x >> 16) : (uint8_t) seed;
	}
}

/* Change block b of a relation file in the source. */
static void
touch_block(const char *rel, int b, uint32_t seed)
{
	size_t		len;
	uint8_t    *buf = read_file(src, rel, &len);

	ck_assert_uint_ge(len, (size_t) (b + 1) * BS);
	fill(buf + (size_t) b * BS, BS, seed);
	write_file(src, rel, buf, len);
	free(buf);
}

static void
setup(void)
{
	PgbError	err = {0};
	char		dir[512];
	uint8_t    *buf = malloc(BIG_LEN);

	snprintf(root, sizeof(root), "/tmp/check_store_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
	snprintf(src, sizeof(src), "%s/src", root);
	path_of(dir, sizeof(dir), src, "base/1");
	ck_assert_int_eq(fio_mkdir_p(dir, 0700, &err), 0);
	path_of(dir, sizeof(dir), src, "global");
	ck_assert_int_eq(fio_mkdir_p(dir, 0700, &err), 0);
	write_file(src, "PG_VERSION", (const uint8_t *) "15\n", 3);
	fill(buf, 6 * BS, 1);
	write_file(src, "base/1/16384", buf, 6 * BS);
	write_file(src, "base/1/16385", buf, 0);
	fill(buf, 3 * BS + 100, 2);
	write_file(src, "base/1/16386", buf, 3 * BS + 100);
	fill(buf, BS, 3);
	write_file(src, "global/pg_control", buf, BS);
	fill(buf, BIG_LEN, 4);
	write_file(src, "pg_big", buf, BIG_LEN);
	free(buf);

	memset(&repo, 0, sizeof(repo));
	path_of(dir, sizeof(dir), root, "repo");
	ck_assert_int_eq(fio_mkdir_p(dir, 0700, &err), 0);
	repo.storage = storage_posix_new(dir, &err);
	ck_assert_msg(repo.storage != NULL, "%s", err.msg);
	snprintf(repo.cluster, sizeof(repo.cluster), "test");
	repo.info.block_size = BS;
	repo.info.wal_segment_size = 16 * 1024 * 1024;
	memset(backups, 0, sizeof(backups));
	memset(&cat, 0, sizeof(cat));
	cat.backups = backups;
}

static void
teardown(void)
{
	PgbError	err = {0};

	for (int i = 0; i < cat.count; i++)
		manifest_free(&backups[i]);
	storage_free(repo.storage);
	ck_assert_int_eq(fio_remove_tree(root, &err), 0);
}

/*
 * The parent's chunk c of path resolved from manifests held in memory, the
 * plain way (find the file in each backup back through the references):
 * what the parent stream must say, and what the in-memory backups below
 * build on.  False when the parent has no such chunk.
 */
static bool
parent_chunk_resolve(const Catalog *cat, const Manifest *parent, const char *path, int c, ParentChunk *out)
{
	const Manifest *m = parent;
	int			i = manifest_find_file(parent, path);

	memset(out, 0, sizeof(*out));
	out->holder = -1;
	if (i < 0 || c >= parent->files[i].nchunks || parent->chunk_size != MANIFEST_CHUNK_SIZE)
		return false;
	memcpy(out->sha256, parent->files[i].chunks[c].sha256, SHA256_LEN);
	out->size = parent->files[i].chunks[c].size;
	/* the map: of the first backup back through the references that stored this chunk */
	for (int depth = 0; m != NULL && depth <= cat->count; depth++, m = chain_parent(cat, m))
	{
		const ManifestChunk *ch;

		if ((i = manifest_find_file(m, path)) < 0 || c >= m->files[i].nchunks ||
			m->chunk_size != MANIFEST_CHUNK_SIZE)
			break;
		ch = &m->files[i].chunks[c];
		if (ch->kind == CHUNK_REF)
			continue;
		if (ch->map_bundle != 0)
		{
			out->holder = (int32_t) (m - cat->backups);
			out->map_bundle = ch->map_bundle;
			out->map_offset = ch->map_offset;
			out->map_length = ch->map_length;
		}
		break;
	}
	return true;
}

/* settle every file of m (store_settle_file), dropping the vanished ones, as the copy does file by file */
static void
store_settle_files(Manifest *m)
{
	int			w = 0;

	for (int i = 0; i < m->nfiles; i++)
	{
		ManifestFile *f = &m->files[i];

		if (!store_settle_file(f))
		{
			free(f->chunks);
			continue;
		}
		m->size += f->size;
		m->files[w++] = *f;
	}
	m->nfiles = w;
}

/*
 * Back up src as backups[cat.count] on parent (NULL: full) with one worker
 * whose bundles roll over at bundle_bytes.
 */
static Manifest *
backup(const char *label, const Manifest *parent, uint64_t bundle_bytes, PgbError *warning)
{
	Manifest   *m = &backups[cat.count];
	BundleIds	ids = {.last = 0};
	StoreWorker w;
	BackupStore bs = {&repo, &cat, BS};
	PgbError	err = {0};

	pthread_mutex_init(&ids.lock, NULL);
	manifest_init(m);
	snprintf(m->label, sizeof(m->label), "%s", label);
	snprintf(m->type, sizeof(m->type), "%s", parent ? "incr" : "full");
	if (parent)
		snprintf(m->parent, sizeof(m->parent), "%s", parent->label);
	m->block_size = BS;
	m->chunk_size = MANIFEST_CHUNK_SIZE;
	m->timeline = 1;
	m->wal_segment_size = 16 * 1024 * 1024;
	ck_assert_int_eq(manifest_add_dir(m, "base", 0700, &err), 0);
	ck_assert_int_eq(manifest_add_dir(m, "base/1", 0700, &err), 0);
	ck_assert_int_eq(manifest_add_dir(m, "global", 0700, &err), 0);
	ck_assert_int_eq(store_worker_init(&w, &repo, label, 1, bundle_bytes, &ids, &err), 0);
	if (warning)
		pgb_error_clear(warning);
	for (int i = 0; i < NFILES; i++)
	{
		char		full[512];
		struct stat st;
		ManifestFile *f;

		path_of(full, sizeof(full), src, files[i]);
		ck_assert_int_eq(stat(full, &st), 0);
		f = manifest_add_file(m, files[i], (int) (st.st_size / MANIFEST_CHUNK_SIZE + 1), &err);
		ck_assert_ptr_nonnull(f);
		f->mode = 0600;
		f->mtime = 1700000000;
		for (int c = 0; c < f->nchunks; c++)
		{
			StoreResult res;

			ParentChunk pc;
			bool		has = parent && parent_chunk_resolve(&cat, parent, files[i], c, &pc);

			ck_assert_msg(store_chunk(&bs, &w, full, files[i], c, has ? &pc : NULL, &f->chunks[c], &res, &err) == 0,
						  "%s chunk %d: %s", files[i], c, err.msg);
			ck_assert(!res.gone);
			if (warning && pgb_error_is_set(&res.warning))
				*warning = res.warning;
			else
				ck_assert_msg(!pgb_error_is_set(&res.warning), "%s", res.warning.msg);
		}
	}
	store_settle_files(m);
	ck_assert_msg(bundle_writer_finish(w.bw, &err) == 0, "%s", err.msg);
	store_worker_free(&w);
	m->nbundles = ids.last;
	m->repo_size = ids.stored;
	pthread_mutex_destroy(&ids.lock);
	cat.count++;
	return m;
}

static int
restore_into(const Manifest *m, const char *dir, bool delta, PgbError *err)
{
	char		target[512];
	RestoreWrite rw;

	path_of(target, sizeof(target), root, dir);
	rw = (RestoreWrite) {&repo, &cat, m, NULL, NULL, delta, 2, false};
	rw.target = target;
	if (restore_create_layout(&rw, err) != 0 || restore_write_files(&rw, err) != 0 ||
		(delta && restore_delta_clean(m, target, NULL, err) != 0))
		return -1;
	return restore_release_control(&rw, err);
}

/* Every file of src is in dir with the same content. */
static void
assert_same(const char *dir)
{
	char		target[512];

	path_of(target, sizeof(target), root, dir);
	for (int i = 0; i < NFILES; i++)
	{
		size_t		a,
					b;
		uint8_t    *x = read_file(src, files[i], &a);
		uint8_t    *y = read_file(target, files[i], &b);

		ck_assert_msg(a == b && memcmp(x, y, a) == 0, "\"%s\" differs in %s", files[i], dir);
		free(x);
		free(y);
	}
}

static const ManifestFile *
file_of(const Manifest *m, const char *path)
{
	int			i = manifest_find_file(m, path);

	ck_assert_int_ge(i, 0);
	return &m->files[i];
}

static void
bundle_file(const char *label, uint32_t n, char *out, size_t len)
{
	ck_assert_int_lt(snprintf(out, len, "%s/repo/test/backup/%s/bundle/%06u", root, label, n), (int) len);
}

/* Overwrite 8 bytes of bundle n of a backup at offset. */
static void
damage(const char *label, uint32_t n, uint64_t offset)
{
	char		path[512];
	int			fd;

	bundle_file(label, n, path, sizeof(path));
	fd = open(path, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, "garbage!", 8, (off_t) offset), 8);
	close(fd);
}

/* ------------------------------------------------------------ round trips */

START_TEST(test_full_incr_delta_round_trip)
{
	PgbError	err = {0};
	const Manifest *f,
			   *i1,
			   *i2;
	char		stale[512];

	f = backup("20260101-000000F", NULL, 1 << 20, NULL);
	ck_assert_uint_gt(f->nbundles, 1);	/* 16 MiB of content rolled over 1 MiB bundles */
	ck_assert_int_eq(f->nfiles, NFILES);
	ck_assert_int_eq(file_of(f, "pg_big")->nchunks, 2);
	ck_assert_int_eq(file_of(f, "base/1/16385")->nchunks, 1);
	ck_assert_uint_ne(file_of(f, "base/1/16384")->chunks[0].map_bundle, 0);	/* relation: a map */
	ck_assert_uint_eq(file_of(f, "pg_big")->chunks[0].map_bundle, 0);
	ck_assert_msg(restore_into(f, "full", false, &err) == 0, "%s", err.msg);
	assert_same("full");

	/* one block changed, a small file rewritten */
	touch_block("base/1/16384", 2, 99);
	write_file(src, "PG_VERSION", (const uint8_t *) "16\n", 3);
	i1 = backup("20260101-000001I", f, 64 << 20, NULL);
	ck_assert_int_eq(file_of(i1, "base/1/16384")->chunks[0].kind, CHUNK_DELTA);
	ck_assert_int_eq(file_of(i1, "pg_big")->chunks[0].kind, CHUNK_REF);
	ck_assert_int_eq(file_of(i1, "pg_big")->chunks[1].kind, CHUNK_REF);
	ck_assert_int_eq(file_of(i1, "global/pg_control")->chunks[0].kind, CHUNK_REF);
	ck_assert_int_eq(file_of(i1, "PG_VERSION")->chunks[0].kind, CHUNK_STORED);
	ck_assert_msg(restore_into(i1, "incr", false, &err) == 0, "%s", err.msg);
	assert_same("incr");

	/* a delta on a delta, and the blocks rewritten mostly: stored whole */
	touch_block("base/1/16384", 4, 98);
	for (int b = 0; b < 3; b++)
		touch_block("base/1/16386", b, 50 + b);
	i2 = backup("20260101-000002I", i1, 64 << 20, NULL);
	ck_assert_int_eq(file_of(i2, "base/1/16384")->chunks[0].kind, CHUNK_DELTA);
	ck_assert_int_eq(file_of(i2, "base/1/16386")->chunks[0].kind, CHUNK_STORED);

	/* --delta over the full restore, with a file the backup does not have */
	path_of(stale, sizeof(stale), root, "full/base/1/stale");
	write_file(root, "full/base/1/stale", (const uint8_t *) "x", 1);
	ck_assert_msg(restore_into(i2, "full", true, &err) == 0, "%s", err.msg);
	assert_same("full");
	ck_assert_int_eq(access(stale, F_OK), -1);
	/* and again into a fresh directory through the whole chain */
	ck_assert_msg(restore_into(i2, "incr2", false, &err) == 0, "%s", err.msg);
	assert_same("incr2");
	/* nothing changed: references to a delta, to a delta, to a stored chunk */
	{
		const Manifest *i3 = backup("20260101-000003I", i2, 64 << 20, NULL);

		ck_assert_int_eq(file_of(i3, "base/1/16384")->chunks[0].kind, CHUNK_REF);
		ck_assert_uint_eq(i3->nbundles, 0);
		ck_assert_msg(restore_into(i3, "incr3", false, &err) == 0, "%s", err.msg);
		assert_same("incr3");
	}
}
END_TEST

START_TEST(test_damaged_parent_map)
{
	PgbError	warning = {0};
	PgbError	err = {0};
	const Manifest *f,
			   *i1;
	const ManifestChunk *ch;

	f = backup("20260101-000000F", NULL, 64 << 20, NULL);
	ch = &file_of(f, "base/1/16384")->chunks[0];
	damage(f->label, ch->map_bundle, ch->map_offset + 2);
	touch_block("base/1/16384", 1, 77);
	i1 = backup("20260101-000001I", f, 64 << 20, &warning);
	/* the backup goes on, storing the chunk whole, and says why */
	ck_assert_int_eq(warning.code, EXIT_CORRUPT);
	ck_assert_msg(strstr(warning.msg, "storing chunk 0 of \"base/1/16384\" whole") != NULL, "%s", warning.msg);
	ck_assert_int_eq(file_of(i1, "base/1/16384")->chunks[0].kind, CHUNK_STORED);
	ck_assert_msg(restore_into(i1, "incr", false, &err) == 0, "%s", err.msg);
	assert_same("incr");
}
END_TEST

START_TEST(test_truncated_bundle)
{
	PgbError	err = {0};
	const Manifest *f = backup("20260101-000000F", NULL, 64 << 20, NULL);
	char		path[512];
	struct stat st;

	bundle_file(f->label, 1, path, sizeof(path));
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(truncate(path, st.st_size / 2), 0);
	ck_assert_int_eq(restore_into(f, "full", false, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	ck_assert_msg(strstr(err.msg, "bundle/000001") != NULL, "%s", err.msg);
}
END_TEST

START_TEST(test_chunk_checksum_mismatch)
{
	PgbError	err = {0};
	Manifest   *f = backup("20260101-000000F", NULL, 64 << 20, NULL);
	ManifestFile *mf = &f->files[manifest_find_file(f, "PG_VERSION")];
	Stage	   *discard = discard_stage_new(&err);
	uint8_t    *buf = NULL;

	ck_assert_int_eq(chain_read_chunk(&repo, &cat, f, mf, 0, &buf, discard, &err), 0);
	mf->chunks[0].sha256[0] ^= 1;
	ck_assert_int_eq(chain_read_chunk(&repo, &cat, f, mf, 0, &buf, discard, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	ck_assert_msg(strstr(err.msg, "SHA-256 of chunk 0 does not match") != NULL, "%s", err.msg);
	mf->chunks[0].sha256[0] ^= 1;
	mf->chunks[0].size++;
	ck_assert_int_eq(chain_read_chunk(&repo, &cat, f, mf, 0, &buf, discard, &err), -1);
	ck_assert_msg(strstr(err.msg, "has 3 bytes, the manifest says 4") != NULL, "%s", err.msg);
	mf->chunks[0].size--;
	ck_assert_ptr_null(buf);	/* a stored chunk needs no chunk buffer */
	stage_free(discard);
}
END_TEST

START_TEST(test_vanished_file)
{
	PgbError	err = {0};
	BundleIds	ids = {.lock = PTHREAD_MUTEX_INITIALIZER};
	StoreWorker w;
	BackupStore bs = {&repo, &cat, BS};
	ManifestChunk ch = {0};
	StoreResult res;
	char		full[512];

	path_of(full, sizeof(full), src, "base/1/99999");
	ck_assert_int_eq(store_worker_init(&w, &repo, "20260101-000000F", 1, 1 << 20, &ids, &err), 0);
	ck_assert_int_eq(store_chunk(&bs, &w, full, "base/1/99999", 0, NULL, &ch, &res, &err), 0);
	ck_assert(res.gone);
	ck_assert_uint_eq(ids.last, 0);	/* nothing was written */
	store_worker_free(&w);
}
END_TEST

/* ------------------------------------------------------------ chain */

/* The block map of chunk c of path as backup m holds it, through references (NULL: none). */
static void
block_map_of(const Manifest *m, const char *path, int c, uint64_t **map, uint32_t *n)
{
	PgbError	err = {0};
	ParentChunk pc;
	ManifestChunk where = {0};
	MemBuf		b = {0};

	*map = NULL;
	*n = 0;
	ck_assert(parent_chunk_resolve(&cat, m, path, c, &pc));
	if (pc.map_bundle == 0)
	{
		ck_assert_int_eq(pc.holder, -1);
		return;
	}
	ck_assert_int_ge(pc.holder, 0);
	where.map_bundle = pc.map_bundle;
	where.map_offset = pc.map_offset;
	where.map_length = pc.map_length;
	ck_assert_msg(chain_read_map(&repo, &cat.backups[pc.holder], &where, &b, &err) == 0, "%s", err.msg);
	ck_assert_msg(chunk_map_decode((const uint8_t *) b.buf, b.len, map, n, &err) == 0, "%s", err.msg);
	membuf_free(&b);
}

/*
 * The parent stream, read from the committed manifests, says for every
 * chunk what parent_chunk_resolve says from the manifests in memory: a
 * chain with references, deltas and whole chunks, and files that come and
 * go.
 */
START_TEST(test_parent_stream_matches_memory)
{
	PgbError	err = {0};
	Manifest   *f,
			   *i1,
			   *i2;
	ParentStream *ps;
	const ParentFile *pf;
	static const char *const asked[] = {
		"PG_VERSION", "a_not_there", "base/1/16384", "base/1/16384", "base/1/16385", "base/1/16386",
		"base/1/16387", "pg_big", "zz", "global/pg_control"
	};

	f = backup("20260101-000000F", NULL, 64 << 20, NULL);
	touch_block("base/1/16384", 2, 50);
	i1 = backup("20260101-000001I", f, 64 << 20, NULL);
	touch_block("base/1/16386", 0, 51);
	touch_block("base/1/16386", 1, 52);
	touch_block("base/1/16386", 2, 53);
	i2 = backup("20260101-000002I", i1, 64 << 20, NULL);
	for (int k = 0; k < cat.count; k++)
	{
		backups[k].pg_version = 150000;	/* what a manifest must say to be read back */
		ck_assert_msg(catalog_commit_manifest(&repo, &backups[k], NULL, NULL, &err) == 0, "%s", err.msg);
	}
	/* a delta, a whole chunk and references are all in the chain */
	ck_assert_int_eq(file_of(i1, "base/1/16384")->chunks[0].kind, CHUNK_DELTA);
	ck_assert_int_eq(file_of(i2, "base/1/16384")->chunks[0].kind, CHUNK_REF);
	ck_assert_int_eq(file_of(i2, "pg_big")->chunks[1].kind, CHUNK_REF);

	ps = parent_stream_open(&repo, &cat, i2, "global/pg_control", &err);
	ck_assert_msg(ps != NULL, "%s", err.msg);
	for (size_t k = 0; k < sizeof(asked) / sizeof(asked[0]); k++)
	{
		int			mi = manifest_find_file(i2, asked[k]);

		ck_assert_msg(parent_stream_find(ps, asked[k], &pf, &err) == 0, "%s", err.msg);
		if (mi < 0)
		{
			ck_assert_msg(pf == NULL, "%s", asked[k]);
			continue;
		}
		ck_assert_msg(pf != NULL, "%s", asked[k]);
		ck_assert_str_eq(pf->path, asked[k]);
		ck_assert_int_eq(pf->nchunks, i2->files[mi].nchunks);
		for (int c = 0; c < pf->nchunks; c++)
		{
			ParentChunk want;

			ck_assert(parent_chunk_resolve(&cat, i2, asked[k], c, &want));
			ck_assert_msg(memcmp(&want, &pf->chunks[c], sizeof(want)) == 0, "%s chunk %d", asked[k], c);
		}
	}
	/* pg_control, asked last, after the stream passed it */
	ck_assert_msg(parent_stream_find(ps, "global/pg_control", &pf, &err) == 0 && pf != NULL, "%s", err.msg);
	parent_stream_free(ps);
	{
		ParentChunk pc;

		/* a delta in i1, a reference in i2: the map is i1's */
		ck_assert(parent_chunk_resolve(&cat, i2, "base/1/16384", 0, &pc));
		ck_assert_int_eq(pc.holder, 1);
		ck_assert(parent_chunk_resolve(&cat, i2, "base/1/16385", 0, &pc));
		ck_assert_int_eq(pc.holder, -1);	/* empty: no map */
	}
}
END_TEST

/* A parent whose manifest cannot be read: the stream is not opened, and says why. */
START_TEST(test_parent_stream_unreadable)
{
	PgbError	err = {0};
	Manifest   *f = backup("20260101-000000F", NULL, 64 << 20, NULL);

	/* never committed: no manifest object */
	ck_assert_ptr_null(parent_stream_open(&repo, &cat, f, NULL, &err));
	ck_assert(pgb_error_is_set(&err));
}
END_TEST

START_TEST(test_chain_parents_and_maps)
{
	PgbError	err = {0};
	const Manifest *f = backup("20260101-000000F", NULL, 64 << 20, NULL);
	const Manifest *i1 = backup("20260101-000001I", f, 64 << 20, NULL);
	uint64_t   *map;
	uint32_t	n;
	Manifest	orphan;

	ck_assert_ptr_eq(chain_parent(&cat, i1), f);
	ck_assert_ptr_null(chain_parent(&cat, f));
	ck_assert_int_eq(chain_check(&cat, i1, &err), 0);
	/* nothing changed: every chunk a reference, the map found through them in the parent */
	ck_assert_int_eq(file_of(i1, "base/1/16384")->chunks[0].kind, CHUNK_REF);
	block_map_of(i1, "base/1/16384", 0, &map, &n);
	ck_assert_ptr_nonnull(map);
	ck_assert_uint_eq(n, 6);
	free(map);
	block_map_of(i1, "pg_big", 0, &map, &n);
	ck_assert_ptr_null(map);
	/* a backup whose parent is gone */
	orphan = *i1;
	snprintf(orphan.parent, sizeof(orphan.parent), "20250101-000000F");
	ck_assert_int_eq(chain_check(&cat, &orphan, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	ck_assert_msg(strstr(err.msg, "depends on backup 20250101-000000F") != NULL, "%s", err.msg);
	{
		Stage	   *discard = discard_stage_new(&err);
		uint8_t    *buf = malloc(MANIFEST_CHUNK_SIZE);

		ck_assert_int_eq(chain_read_chunk(&repo, &cat, &orphan, file_of(&orphan, "PG_VERSION"), 0, &buf, discard, &err), -1);
		ck_assert_int_eq(err.code, EXIT_CORRUPT);
		free(buf);
		stage_free(discard);
	}
}
END_TEST

/* ------------------------------------------------------------ bundles */

START_TEST(test_bundle_frames)
{
	PgbError	err = {0};
	BundleIds	ids = {.lock = PTHREAD_MUTEX_INITIALIZER};
	BundleWriter *bw = bundle_writer_new(&repo, "20260101-000000F", 3, 100, &ids, &err);
	uint32_t	b[3];
	uint64_t	off[3],
				len[3];
	static const char *const text[3] = {"first frame", "", "third"};
	char		path[512];

	ck_assert_ptr_nonnull(bw);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(bundle_put(bw, text[i], strlen(text[i]), &b[i], &off[i], &len[i], &err), 0);
	ck_assert_int_eq(bundle_writer_finish(bw, &err), 0);
	bundle_writer_free(bw);
	/* the first frame fills less than 100 bytes: the second shares its bundle */
	ck_assert_uint_eq(b[0], 1);
	ck_assert_uint_eq(off[0], OBJECT_HEADER_SIZE);
	ck_assert_uint_eq(b[1], 1);
	ck_assert_uint_eq(off[1], off[0] + len[0]);
	ck_assert_uint_ge(ids.last, 1);
	for (int i = 0; i < 3; i++)
	{
		MemBuf		m = {0};
		Stage	   *to = callback_stage_new(membuf_sink, &m, &err);

		ck_assert_msg(bundle_read_frame(&repo, "20260101-000000F", b[i], off[i], len[i], to, &err) == 0, "%s", err.msg);
		ck_assert_uint_eq(m.len, strlen(text[i]));
		ck_assert(m.len == 0 || memcmp(m.buf, text[i], m.len) == 0);
		stage_free(to);
		membuf_free(&m);
	}
	ck_assert_int_eq(bundle_check_header(&repo, "20260101-000000F", 1, &err), 0);
	/* frames 0 and 1 with one read; a frame behind the read; one past its end */
	{
		BundleRange *br = bundle_range_open(&repo, "20260101-000000F", b[0], off[0], off[1] + len[1] - off[0], &err);
		MemBuf		m = {0};
		Stage	   *to = callback_stage_new(membuf_sink, &m, &err);

		ck_assert_msg(br != NULL, "%s", err.msg);
		ck_assert_int_eq(bundle_range_frame(br, off[0], len[0], to, &err), 0);
		ck_assert_int_eq(bundle_range_frame(br, off[1], len[1], to, &err), 0);
		ck_assert_uint_eq(m.len, strlen(text[0]) + strlen(text[1]));
		ck_assert_int_eq(memcmp(m.buf, text[0], strlen(text[0])), 0);
		ck_assert_int_eq(bundle_range_frame(br, off[0], len[0], to, &err), -1);
		ck_assert_int_eq(err.code, EXIT_INTERNAL);
		bundle_range_close(br);
		membuf_free(&m);
		/* skipping frame 0 to read frame 1 */
		br = bundle_range_open(&repo, "20260101-000000F", b[0], off[0], off[1] + len[1] - off[0], &err);
		ck_assert_ptr_nonnull(br);
		ck_assert_int_eq(bundle_range_frame(br, off[1], len[1], to, &err), 0);
		ck_assert_int_eq(bundle_range_frame(br, off[1] + len[1], 1, to, &err), -1);
		ck_assert_int_eq(err.code, EXIT_INTERNAL);
		bundle_range_close(br);
		/* a range past the end of the bundle: the frame is cut short */
		br = bundle_range_open(&repo, "20260101-000000F", b[0], off[0], 1 << 20, &err);
		if (br != NULL)
		{
			ck_assert_int_eq(bundle_range_frame(br, off[0], 1 << 20, to, &err), -1);
			bundle_range_close(br);
		}
		ck_assert_int_eq(err.code, EXIT_CORRUPT);
		ck_assert_ptr_nonnull(strstr(err.msg, "\""));
		stage_free(to);
		membuf_free(&m);
	}
	/* a frame that overlaps the header, a bundle that does not exist, a damaged header */
	{
		Stage	   *discard = discard_stage_new(&err);

		ck_assert_int_eq(bundle_read_frame(&repo, "20260101-000000F", 1, 0, 10, discard, &err), -1);
		ck_assert_int_eq(err.code, EXIT_CORRUPT);
		ck_assert_int_eq(bundle_read_frame(&repo, "20260101-000000F", 99, 16, 10, discard, &err), -1);
		ck_assert_int_eq(err.code, EXIT_CORRUPT);
		/* a frame cut short */
		ck_assert_int_eq(bundle_read_frame(&repo, "20260101-000000F", b[0], off[0], len[0] - 1, discard, &err), -1);
		ck_assert_int_eq(err.code, EXIT_CORRUPT);
		stage_free(discard);
	}
	ck_assert_int_eq(bundle_check_header(&repo, "20260101-000000F", 99, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	bundle_file("20260101-000000F", 1, path, sizeof(path));
	{
		int			fd = open(path, O_WRONLY);

		ck_assert_int_eq(pwrite(fd, "X", 1, 0), 1);
		close(fd);
	}
	ck_assert_int_eq(bundle_check_header(&repo, "20260101-000000F", 1, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
}
END_TEST

START_TEST(test_bundle_writer_abort)
{
	PgbError	err = {0};
	BundleIds	ids = {.lock = PTHREAD_MUTEX_INITIALIZER};
	BundleWriter *bw = bundle_writer_new(&repo, "20260101-000000F", 3, 100, &ids, &err);
	uint32_t	b;
	uint64_t	off,
				len;

	ck_assert_int_eq(bundle_put(bw, "x", 1, &b, &off, &len, &err), 0);
	/* freed without finish: nothing is committed */
	bundle_writer_free(bw);
	bundle_writer_free(NULL);
	ck_assert_int_eq(bundle_check_header(&repo, "20260101-000000F", 1, &err), -1);
	ck_assert_uint_eq(ids.stored, 0);
}
END_TEST


/* ------------------------------------------------------------ verify */

static int nreports;
static char last_report[PGB_ERRMSG_MAX];

static void
collect(void *arg, const PgbError *problem)
{
	nreports++;
	snprintf(last_report, sizeof(last_report), "%s", problem->msg);
}

static int
verify_all(void)
{
	Verifier	v;
	PgbError	err = {0};
	int			problems;

	nreports = 0;
	verifier_init(&v, &repo, &cat, 2, collect, NULL);
	ck_assert_msg(verify_backups(&v, &err) == 0, "%s", err.msg);
	problems = v.problems;
	ck_assert_int_eq(problems, nreports);
	verifier_free(&v);
	return problems;
}

START_TEST(test_verify_backups)
{
	const Manifest *f = backup("20260101-000000F", NULL, 64 << 20, NULL);
	const ManifestChunk *ch;

	touch_block("base/1/16384", 3, 5);
	backup("20260101-000001I", f, 64 << 20, NULL);
	/* the only problem: the WAL the backups need is not archived here */
	ck_assert_int_eq(verify_all(), 2);
	ck_assert_msg(strstr(last_report, "needs WAL file") != NULL, "%s", last_report);
	/* a damaged frame in the full backup: its chunk, and the incremental's delta on it */
	ch = &file_of(f, "base/1/16384")->chunks[0];
	damage(f->label, ch->bundle, ch->offset + 20);
	ck_assert_int_eq(verify_all(), 4);
}
END_TEST

static Suite *
store_suite(void)
{
	Suite	   *s = suite_create("store");
	TCase	   *tc = tcase_create("data path");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_full_incr_delta_round_trip);
	tcase_add_test(tc, test_damaged_parent_map);
	tcase_add_test(tc, test_truncated_bundle);
	tcase_add_test(tc, test_chunk_checksum_mismatch);
	tcase_add_test(tc, test_vanished_file);
	tcase_add_test(tc, test_chain_parents_and_maps);
	tcase_add_test(tc, test_parent_stream_matches_memory);
	tcase_add_test(tc, test_parent_stream_unreadable);
	tcase_add_test(tc, test_bundle_frames);
	tcase_add_test(tc, test_bundle_writer_abort);
	tcase_add_test(tc, test_verify_backups);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner    *sr = srunner_create(store_suite());
	int			failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
