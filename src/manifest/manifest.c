/*
 * The manifest in memory (see manifest.h): building it up (the adders grow
 * their arrays by doubling and copy their strings), finding a file by path,
 * the file-level digest from the chunks' digests, the path checks restore
 * runs before it writes anything, and the WAL range a backup needs.
 * Serialization is in manifest_write.c, parsing in manifest_parse.c.
 */
#include <stdlib.h>
#include <string.h>

#include "common/pathcheck.h"
#include "manifest/manifest.h"


/*
 * File paths live in blocks of NAMES_BLOCK bytes (a longer path gets a
 * block of its own), freed together: a million paths of some twenty bytes
 * would otherwise cost a malloc header and rounding each.
 */
#define NAMES_BLOCK (256 * 1024)

struct ManifestNames
{
	struct ManifestNames *next;
	size_t		used;
	size_t		cap;
	char		text[];
};

static char *
name_copy(Manifest *m, const char *path)
{
	size_t		len = strlen(path) + 1;
	struct ManifestNames *b = m->names;

	if (b == NULL || b->cap - b->used < len)
	{
		size_t		cap = len > NAMES_BLOCK / 4 ? len : NAMES_BLOCK - sizeof(*b);

		if ((b = malloc(sizeof(*b) + cap)) == NULL)
			return NULL;
		b->used = 0;
		b->cap = cap;
		if (m->names && cap == len)
		{
			/* a long path's own block goes behind the one being filled */
			b->next = m->names->next;
			m->names->next = b;
		}
		else
		{
			b->next = m->names;
			m->names = b;
		}
	}
	memcpy(b->text + b->used, path, len);
	b->used += len;
	return b->text + b->used - len;
}

void
manifest_init(Manifest *m)
{
	memset(m, 0, sizeof(*m));
	m->format = MANIFEST_FORMAT_VERSION;
}

void
manifest_forget_files(Manifest *m)
{
	for (int i = 0; i < m->nfiles; i++)
		free(m->files[i].chunks);
	m->nfiles = 0;
	if (m->names == NULL)
		return;
	while (m->names->next)
	{
		struct ManifestNames *next = m->names->next;

		m->names->next = next->next;
		free(next);
	}
	m->names->used = 0;
}

void
manifest_drop_files(Manifest *m)
{
	manifest_forget_files(m);
	free(m->names);
	free(m->files);
	m->names = NULL;
	m->files = NULL;
	m->files_cap = 0;
}

void
manifest_drop_contents(Manifest *m)
{
	for (int i = 0; i < m->ndirs; i++)
		free(m->dirs[i].path);
	for (int i = 0; i < m->nlinks; i++)
	{
		free(m->links[i].path);
		free(m->links[i].target);
	}
	manifest_drop_files(m);
	free(m->dirs);
	free(m->links);
	m->dirs = NULL;
	m->links = NULL;
	m->ndirs = m->nlinks = 0;
	m->dirs_cap = m->links_cap = 0;
	m->headers_only = true;
}

void
manifest_free(Manifest *m)
{
	manifest_drop_contents(m);
	free(m->cluster);
	free(m->pgdata);
	free(m->pgbkp_version);
	free(m->bad_pages_at);
	free(m->source_member);
	free(m->source_role);
	manifest_init(m);
}

static int
grow(void **items, int *cap, int count, size_t size, PgbError *err)
{
	void	   *bigger;
	int			newcap;

	if (count < *cap)
		return 0;
	newcap = *cap ? *cap * 2 : 256;
	bigger = realloc(*items, size * (size_t) newcap);
	if (bigger == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	*items = bigger;
	*cap = newcap;
	return 0;
}

int
manifest_add_dir(Manifest *m, const char *path, uint32_t mode, PgbError *err)
{
	if (grow((void **) &m->dirs, &m->dirs_cap, m->ndirs, sizeof(ManifestDir), err) != 0)
		return -1;
	if ((m->dirs[m->ndirs].path = strdup(path)) == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	m->dirs[m->ndirs++].mode = mode;
	return 0;
}

int
manifest_add_link(Manifest *m, const char *path, const char *target, PgbError *err)
{
	ManifestLink *l;

	if (grow((void **) &m->links, &m->links_cap, m->nlinks, sizeof(ManifestLink), err) != 0)
		return -1;
	l = &m->links[m->nlinks];
	l->path = strdup(path);
	l->target = strdup(target);
	if (l->path == NULL || l->target == NULL)
	{
		free(l->path);
		free(l->target);
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	}
	m->nlinks++;
	return 0;
}

ManifestFile *
manifest_add_file(Manifest *m, const char *path, int nchunks, PgbError *err)
{
	ManifestFile *f;
	char	   *copy;
	ManifestChunk *chunks = nchunks > 0 ? calloc((size_t) nchunks, sizeof(ManifestChunk)) : NULL;

	if ((nchunks > 0 && chunks == NULL) || (copy = name_copy(m, path)) == NULL)
	{
		free(chunks);
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		return NULL;
	}
	if (grow((void **) &m->files, &m->files_cap, m->nfiles, sizeof(ManifestFile), err) != 0)
	{
		free(chunks);
		return NULL;
	}
	f = &m->files[m->nfiles++];
	memset(f, 0, sizeof(*f));
	f->path = copy;
	f->chunks = chunks;
	f->nchunks = nchunks;
	return f;
}

static int
file_cmp(const void *a, const void *b)
{
	return strcmp(((const ManifestFile *) a)->path, ((const ManifestFile *) b)->path);
}

void
manifest_sort_files(Manifest *m)
{
	if (m->nfiles > 1)
		qsort(m->files, (size_t) m->nfiles, sizeof(ManifestFile), file_cmp);
}

int
manifest_find_file(const Manifest *m, const char *path)
{
	int			lo = 0,
				hi = m->nfiles - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int			c = strcmp(m->files[mid].path, path);

		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

void
manifest_file_digest(const ManifestFile *f, uint8_t out[SHA256_LEN])
{
	Sha256	   *h;

	if (f->nchunks == 1)
	{
		memcpy(out, f->chunks[0].sha256, SHA256_LEN);
		return;
	}
	h = sha256_new();
	if (h == NULL)
	{
		memset(out, 0, SHA256_LEN);
		return;
	}
	for (int i = 0; i < f->nchunks; i++)
		sha256_update(h, f->chunks[i].sha256, SHA256_LEN);
	sha256_final(h, out);
	sha256_free(h);
}

int
manifest_check_paths(const Manifest *m, PgbError *err)
{
	for (int i = 0; i < m->ndirs; i++)
		if (path_check_relative(m->dirs[i].path, err) != 0)
			return pgb_error_context(err, "manifest of backup %s", m->label);
	for (int i = 0; i < m->nfiles; i++)
	{
		if (path_check_relative(m->files[i].path, err) != 0)
			return pgb_error_context(err, "manifest of backup %s", m->label);
		for (int c = 0; c < m->files[i].nchunks && m->parent[0] == '\0'; c++)
			if (m->files[i].chunks[c].kind == CHUNK_REF || m->files[i].chunks[c].kind == CHUNK_DELTA)
				return pgb_error(err, EXIT_CORRUPT, "manifest of backup %s: \"%s\" refers to a parent backup, but the backup has none",
								 m->label, m->files[i].path);
	}
	for (int i = 0; i < m->nlinks; i++)
	{
		const char *p = m->links[i].path;

		if (strncmp(p, "pg_tblspc/", 10) != 0 || p[10] == '\0' ||
			strspn(p + 10, "0123456789") != strlen(p + 10))
			return pgb_error(err, EXIT_CORRUPT, "manifest of backup %s: unexpected link \"%s\" (only pg_tblspc/<oid> links are allowed)",
							 m->label, p);
		if (path_check_absolute(m->links[i].target, err) != 0)
			return pgb_error_context(err, "manifest of backup %s, link \"%s\"", m->label, p);
	}
	return 0;
}

SegNo
manifest_start_segno(const Manifest *m)
{
	return lsn_to_segno(m->start_lsn, m->wal_segment_size);
}

SegNo
manifest_stop_segno(const Manifest *m)
{
	/* stop_lsn may sit exactly on a segment boundary: the WAL before it is what counts */
	Lsn			last = m->stop_lsn > m->start_lsn ? m->stop_lsn - 1 : m->start_lsn;

	return lsn_to_segno(last, m->wal_segment_size);
}

void
manifest_wal_range(const Manifest *m, char *start_name, char *stop_name)
{
	wal_segment_name(start_name, m->timeline, manifest_start_segno(m), m->wal_segment_size);
	wal_segment_name(stop_name, m->timeline, manifest_stop_segno(m), m->wal_segment_size);
}
