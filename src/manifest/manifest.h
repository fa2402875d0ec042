/*
 * The backup manifest: everything restore needs to rebuild a data directory
 * and everything verify needs to prove it can.  Serialized as the text
 * format in repo/FORMAT.md ("Manifest"): one record per line, TAB-separated
 * fields, '%XX'-escaped where a field holds TAB, newline, '%' or a control
 * character; the last line counts the records so truncation is detected even
 * before the container's checksum is.
 */
#ifndef PGBKP_MANIFEST_H
#define PGBKP_MANIFEST_H

#include <stdint.h>
#include "common/timefmt.h"
#include "io/sha256.h"
#include "io/sink.h"
#include "pg/lsn.h"

#define MANIFEST_FORMAT_VERSION 2
#define MANIFEST_LABEL_MAX 64
/* Files are cut into chunks of this size (format 1 had one chunk per file). */
#define MANIFEST_CHUNK_SIZE ((uint64_t) 16 * 1024 * 1024)

/*
 * How a chunk's content is held (repo/FORMAT.md, "Chunks"):
 *  STORED  the whole chunk, one zstd frame in this backup's bundle
 *  REF     identical to the same chunk of the same file in the parent backup
 *  DELTA   the parent's chunk with the changed blocks of this frame applied
 */
typedef enum ChunkKind
{
	CHUNK_STORED = 'F',
	CHUNK_REF = 'R',
	CHUNK_DELTA = 'D'
} ChunkKind;

typedef struct ManifestChunk
{
	/* (fields ordered for size: 88 bytes, one per chunk of every file) */
	uint8_t		sha256[SHA256_LEN]; /* of the chunk's content */
	uint64_t	size;			/* content bytes of this chunk */
	uint64_t	offset;			/* within the bundle object */
	uint64_t	length;			/* stored (compressed) bytes */
	uint64_t	map_offset;
	uint64_t	map_length;
	uint32_t	bundle;			/* STORED/DELTA: bundle number, from 1 */
	uint32_t	map_bundle;		/* block hash map frame; 0: none (not a relation file, or REF) */
	char		kind;			/* ChunkKind */
} ManifestChunk;

/*
 * A file.  Its SHA-256 (one chunk: the chunk's; several: the SHA-256 of
 * their SHA-256s in order) is not held: manifest_file_digest derives it
 * from the chunks, the writer records it, and the parser checks the
 * recorded one against the chunks (digest_mismatch).
 */
typedef struct ManifestFile
{
	/* (fields ordered for size: 40 bytes, one per file) */
	char	   *path;			/* relative to the data directory; in the manifest's name blocks */
	uint64_t	size;			/* original bytes */
	int64_t		mtime;
	ManifestChunk *chunks;
	uint32_t	mode;
	signed int	nchunks:30;
	bool		vanished:1;		/* backup only: gone before it was read */
	bool		digest_mismatch:1;	/* parsed: the recorded file SHA-256 is not its chunks' */
} ManifestFile;

typedef struct ManifestDir
{
	char	   *path;
	uint32_t	mode;
} ManifestDir;

typedef struct ManifestLink
{
	char	   *path;			/* pg_tblspc/<oid> */
	char	   *target;			/* absolute path of the tablespace */
} ManifestLink;

typedef struct Manifest
{
	int			format;
	char		label[MANIFEST_LABEL_MAX];
	char		type[16];		/* "full", "diff" or "incr" */
	char		parent[MANIFEST_LABEL_MAX];	/* diff/incr: the backup it builds on; "" for full */
	char	   *cluster;
	char	   *pgdata;			/* data directory of the source */
	char	   *pgbkp_version;
	uint64_t	system_identifier;
	int			pg_version;
	uint64_t	wal_segment_size;
	uint32_t	block_size;
	int			compress_level;
	TimeLineID	timeline;
	Lsn			start_lsn;
	Lsn			stop_lsn;
	TimestampUs start_time;		/* server clock at pg_backup_start */
	TimestampUs stop_time;		/* server clock right after pg_backup_stop */
	uint64_t	size;			/* sum of original file sizes */
	uint64_t	repo_size;		/* sum of stored bytes (bundles) */
	uint32_t	nbundles;
	uint64_t	chunk_size;		/* format 1: 0 (one chunk per file) */
	uint64_t	pages_checked;	/* relation pages whose data checksum was verified while read */
	uint64_t	bad_pages;		/* of which failed (read twice, not written since the start) */
	char	   *bad_pages_at;	/* "PATH:BLOCK,BLOCK PATH:BLOCK ..." (the first ones), or NULL */
	char	   *source_member;	/* the member the files were read from, or NULL (unknown) */
	char	   *source_role;	/* "primary" | "standby", or NULL (older manifests: primary) */

	int			ndirs;
	ManifestDir *dirs;
	int			nlinks;
	ManifestLink *links;
	int			nfiles;
	ManifestFile *files;
	struct ManifestNames *names;	/* the files' paths, copied into large blocks */
	bool		headers_only;	/* dirs, links and files were dropped (manifest_drop_contents) */
	/* growth bookkeeping for the adders */
	int			dirs_cap;
	int			links_cap;
	int			files_cap;
} Manifest;

void		manifest_init(Manifest *m);
void		manifest_free(Manifest *m);
/* Free the directories, links and files, keeping the header fields. */
void		manifest_drop_contents(Manifest *m);
/* Free the files alone. */
void		manifest_drop_files(Manifest *m);
/* Empty the file list, keeping its memory for the files added next. */
void		manifest_forget_files(Manifest *m);

/* Adders copy their strings. */
int			manifest_add_dir(Manifest *m, const char *path, uint32_t mode, PgbError *err);
int			manifest_add_link(Manifest *m, const char *path, const char *target, PgbError *err);
/* Adds a file with nchunks zeroed chunks. */
ManifestFile *manifest_add_file(Manifest *m, const char *path, int nchunks, PgbError *err);


/* Index of the file with this path, or -1 (binary search: files are kept sorted by path). */
int			manifest_find_file(const Manifest *m, const char *path);
/* Sort files by path (backup does this before writing). */
void		manifest_sort_files(Manifest *m);
/* The file-level SHA-256 from the chunks' (see ManifestFile.sha256). */
void		manifest_file_digest(const ManifestFile *f, uint8_t out[SHA256_LEN]);

int			manifest_write(const Manifest *m, ByteSink sink, void *arg, PgbError *err);

/*
 * Records written a piece at a time: a backup writes its files' records
 * aside as they are stored (backup/filespill.h) rather than hold a million
 * of them, and the manifest is then assembled from the header, those
 * records and the few files kept in memory.
 */
typedef struct ManifestOut ManifestOut;

ManifestOut *manifest_out_new(ByteSink sink, void *arg, PgbError *err);
/* The f record of a file and its c records. */
int			manifest_out_file(ManifestOut *o, const ManifestFile *f, PgbError *err);
/* Records manifest_out_file wrote earlier, passed through (a ByteSink: o is a ManifestOut). */
int			manifest_out_text(void *o, const void *text, size_t len, PgbError *err);
int			manifest_out_flush(ManifestOut *o, PgbError *err);
void		manifest_out_free(ManifestOut *o);

/*
 * Writes the file records of m, in path order, into o and counts them in
 * *nfiles (m->files may be only some of them, or none).
 */
typedef int (*ManifestFilesFn) (void *arg, const Manifest *m, ManifestOut *o, int *nfiles, PgbError *err);

/* manifest_write with the file records from files(arg, ...) (NULL: m->files). */
int			manifest_write_with(const Manifest *m, ManifestFilesFn files, void *arg,
								ByteSink sink, void *sink_arg, PgbError *err);
/* Parse text (len bytes); EXIT_CORRUPT naming the line on any malformed content. */
int			manifest_parse(const char *text, size_t len, Manifest *m, PgbError *err);

/*
 * The same, fed in pieces as they are read, so that the text is never held
 * whole: manifest_parser_feed is a ByteSink that never fails (the first
 * problem is kept, and what follows it dropped), so that a reader still
 * reaches its own end checks (the object checksum) first; then
 * manifest_parser_end reports the problem or the missing end record (m is
 * freed then).  max bounds the text's size.
 */
typedef struct ManifestParser ManifestParser;

ManifestParser *manifest_parser_new(Manifest *m, uint64_t max, PgbError *err);
int			manifest_parser_feed(void *parser, const void *buf, size_t len, PgbError *err);
int			manifest_parser_end(ManifestParser *p, PgbError *err);
/*
 * Keep the header fields alone (m ends as manifest_drop_contents leaves
 * it): every record is still read and checked, but a file is forgotten as
 * soon as the next one starts, so a manifest of a million files costs no
 * more memory than one of a single file.
 */
void		manifest_parser_headers_only(ManifestParser *p);

/*
 * Header fields alone too, but each file, once its records are read, is
 * handed to fn(arg, m, f, err) first (in the manifest's order: by path, as
 * written; m holds the header fields read so far).  An error from fn ends
 * the parse: manifest_parser_end reports it.
 */
typedef int (*ManifestFileFn) (void *arg, const Manifest *m, const ManifestFile *f, PgbError *err);

void		manifest_parser_each_file(ManifestParser *p, ManifestFileFn fn, void *arg);
void		manifest_parser_free(ManifestParser *p);

/*
 * Every path must be relative and clean, every link a pg_tblspc/<oid> entry
 * with an absolute, clean target: checked before restore writes anything.
 */
int			manifest_check_paths(const Manifest *m, PgbError *err);

/* WAL segment names the backup needs: start and stop (inclusive). */
void		manifest_wal_range(const Manifest *m, char *start_name, char *stop_name);
SegNo		manifest_start_segno(const Manifest *m);
SegNo		manifest_stop_segno(const Manifest *m);

#endif
