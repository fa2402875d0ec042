/*
 * pgbkp restore: rebuild a data directory from a backup and set up recovery
 * to the requested target.
 *
 * Before writing anything: pick the backup that can reach the target (or
 * refuse, naming the recoverable window), check every manifest path, refuse
 * a running server's directory and a non-empty one (unless --delta or
 * --force).  global/pg_control is written last, so an interrupted restore
 * leaves a directory PostgreSQL refuses to start.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pthread.h>
#include <json-c/json.h>

#include "backup/chain.h"
#include "common/workers.h"
#include "cluster/primary.h"
#include "cmd/cmd.h"
#include "cmd/cmd_common.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/progress.h"
#include "io/sha256.h"
#include "restore/locate.h"
#include "restore/plan.h"
#include "restore/recovery_conf.h"

typedef struct RestoreCtx
{
	const Config *cfg;
	Repo	   *repo;
	const Catalog *cat;
	const Manifest *m;
	char		target[PGB_PATH_MAX];
	bool		created;		/* the target did not exist before */
	bool		was_empty;		/* ... or was empty */
	bool		delta;
	Progress   *progress;
	pthread_mutex_t lock;		/* progress */
	struct ChunkRef *tasks;
	uint8_t   **bufs;			/* per worker, MANIFEST_CHUNK_SIZE */
	bool	   *ts_ours;		/* per tablespace: created, found empty or forced */
	int			primary;		/* --standby: the member to stream from */
	TimeLineID	timeline;		/* the timeline recovery follows */
} RestoreCtx;

/* The recovery settings a restore writes, with the text they point to. */
typedef struct RecoveryPlan
{
	RecoverySettings s;
	char		cmd[PGB_PATH_MAX * 4];
	char		value[128];
	char		comment[256];
	char		conninfo[512];
	char		timeline[16];
} RecoveryPlan;

typedef struct ChunkRef
{
	int			file;
	int			chunk;
} ChunkRef;

static int
parse_target(const Config *cfg, RestoreTarget *t, PgbError *err)
{
	memset(t, 0, sizeof(*t));
	if (plan_parse_timeline(cfg->target_timeline, t, err) != 0)
		return -1;
	if (cfg->target_time)
	{
		t->kind = TARGET_TIME;
		return time_parse(cfg->target_time, &t->time, err);
	}
	if (cfg->target_lsn)
	{
		t->kind = TARGET_LSN;
		return lsn_parse(cfg->target_lsn, &t->lsn, err);
	}
	if (cfg->target_xid)
		return plan_parse_xid(cfg->target_xid, t, err);
	if (cfg->target_name)
		return plan_parse_name(cfg->target_name, t, err);
	t->kind = cfg->target_immediate ? TARGET_IMMEDIATE : TARGET_LATEST;
	return 0;
}

/* The target, and --target-exclusive only where PostgreSQL honours it. */
static int
parse_target_all(const Config *cfg, RestoreTarget *t, PgbError *err)
{
	if (parse_target(cfg, t, err) != 0)
		return -1;
	if (cfg->target_exclusive && t->kind != TARGET_TIME && t->kind != TARGET_LSN && t->kind != TARGET_XID)
		return pgb_error(err, EXIT_USAGE, "--target-exclusive applies to a --time, --lsn or --xid target"),
			pgb_hint(err, "a restore point (--name) is always reached inclusively");
	return 0;
}

/*
 * The target time as recovery will use it, in UTC, and for a time given
 * without a zone the local zone and offset it was read in.
 */
static void
log_target_time(const char *text, TimestampUs t)
{
	char		utc[64];
	char		zone[128];
	time_t		secs = (time_t) (t / 1000000);
	struct tm	tm;

	time_format_utc(t, utc, sizeof(utc));
	if (strlen(text) > 10 && strpbrk(text + 10, "Zz+-") != NULL)
	{
		log_info("recovery target time %s", utc);
		return;
	}
	time_local_zone_name(zone, sizeof(zone));
	if (localtime_r(&secs, &tm) == NULL)
		tm.tm_gmtoff = 0;
	log_info("recovery target time %s: \"%s\" has no zone, so it was read in the local time zone %s (UTC%c%02ld:%02ld)",
			 utc, text, zone, tm.tm_gmtoff < 0 ? '-' : '+', labs(tm.tm_gmtoff) / 3600, labs(tm.tm_gmtoff) % 3600 / 60);
}

/* The WAL the restored server will replay: segment numbers and the timeline path. */
static void
plan_wal(const RestoreCtx *ctx, const RestoreTarget *t, const WalList *wal, SegNo *first, SegNo *last, bool *approx)
{
	const Manifest *m = ctx->m;
	const Timeline *tl = timeline_find(wal, ctx->timeline);
	int			end = tl ? timeline_contiguous_end(tl, wal, manifest_start_segno(m), m->wal_segment_size) : -1;

	*first = manifest_start_segno(m);
	*last = end >= 0 ? wal->segments[end].segno : manifest_stop_segno(m);
	*approx = false;
	if (t->kind == TARGET_IMMEDIATE)
		*last = manifest_stop_segno(m);
	else if (t->kind == TARGET_LSN)
		*last = lsn_to_segno(t->lsn, m->wal_segment_size);
	else if (t->kind == TARGET_TIME && tl)
	{
		/* up to the first segment archived at or after the target time */
		for (SegNo sn = *first; sn <= *last; sn++)
		{
			int			i = timeline_find_segment(wal, timeline_tli_of_segment(tl, sn, m->wal_segment_size), sn);

			if (i >= 0 && wal->segments[i].mtime * (TimestampUs) 1000000 >= t->time)
			{
				*last = sn;
				break;
			}
		}
		*approx = true;
	}
	else if (t->kind == TARGET_NAME || t->kind == TARGET_XID)
		*approx = true;
	if (*last < *first)
		*last = *first;
}

/*
 * The plan: the backup and why each newer one was passed over, its chain,
 * what is written, the WAL replayed and the recovery settings.  To stdout
 * (text or JSON) for --dry-run; through the log for a restore.
 */
static void
print_plan(const RestoreCtx *ctx, const RestoreTarget *t, const WalList *wal, bool archive_off,
		   const RecoveryPlan *rp, bool dry_run)
{
	const Config *cfg = ctx->cfg;
	const Manifest *m = ctx->m;
	const Catalog *cat = ctx->cat;
	const Timeline *tl = timeline_find(wal, ctx->timeline);
	int			mi = (int) (m - cat->backups);
	SegNo		first,
				last;
	bool		approx;
	char		a[WAL_NAME_LEN + 1],
				b[WAL_NAME_LEN + 1],
				stopped[64],
				line[PGB_PATH_MAX * 5];
	bool		json = dry_run && cfg->output && strcmp(cfg->output, "json") == 0;
	json_object *root = json ? json_object_new_object() : NULL;
	json_object *passed = json ? json_object_new_array() : NULL;
	json_object *chain = json ? json_object_new_array() : NULL;
	json_object *settings = json ? json_object_new_object() : NULL;

#define OUT(...) do { snprintf(line, sizeof(line), __VA_ARGS__); \
		if (!json) { if (dry_run) printf("plan: %s\n", line); else log_info("plan: %s", line); } } while (0)

	plan_wal(ctx, t, wal, &first, &last, &approx);
	wal_segment_name(a, tl ? timeline_tli_of_segment(tl, first, m->wal_segment_size) : m->timeline,
					 first, m->wal_segment_size);
	wal_segment_name(b, tl ? timeline_tli_of_segment(tl, last, m->wal_segment_size) : m->timeline,
					 last, m->wal_segment_size);
	time_format_utc(m->stop_time, stopped, sizeof(stopped));
	OUT("restore backup %s (%s, stopped %s) from repository \"%s\"", m->label, m->type, stopped, ctx->repo->name);
	for (int i = cat->count - 1; i > mi; i--)
	{
		char		why[PGB_ERRMSG_MAX];

		plan_why_not(cat, wal, t, &cat->backups[i], why, sizeof(why));
		OUT("newer backup %s passed over: %s", cat->backups[i].label, why);
		if (json)
		{
			json_object *o = json_object_new_object();

			json_object_object_add(o, "label", json_object_new_string(cat->backups[i].label));
			json_object_object_add(o, "reason", json_object_new_string(why));
			json_object_array_add(passed, o);
		}
	}
	{
		char		labels[1024] = "";
		size_t		n = 0;

		for (const Manifest *p = m; p; p = chain_parent(cat, p))
		{
			n += (size_t) snprintf(labels + (n < sizeof(labels) ? n : sizeof(labels)), n < sizeof(labels) ? sizeof(labels) - n : 0,
								   "%s%s", n ? " <- " : "", p->label);
			if (json)
				json_object_array_add(chain, json_object_new_string(p->label));
		}
		OUT("chain: %s", labels);
	}
	OUT("write %d files, %.1f MB into \"%s\"%s", m->nfiles, m->size / 1048576.0, ctx->target,
		cfg->delta ? " (delta: matching files are kept)" : "");
	OUT("replay %sWAL %s .. %s (%" PRIu64 " segments, %.1f MB) along timeline %u", approx ? "about " : "", a, b,
		last - first + 1, (double) (last - first + 1) * m->wal_segment_size / 1048576.0, ctx->timeline);
	if (rp->s.target_param)
		OUT("recovery_target: %s = '%s'%s", rp->s.target_param, rp->s.target_value,
			cfg->target_exclusive ? " (exclusive)" : "");
	for (int i = 0; i < rp->s.nextra; i++)
	{
		if (strcmp(rp->s.extra_names[i], "primary_conninfo") != 0)
			OUT("setting: %s = '%s'", rp->s.extra_names[i], rp->s.extra_values[i]);
		if (json)
			json_object_object_add(settings, rp->s.extra_names[i], json_object_new_string(rp->s.extra_values[i]));
	}
	if (archive_off)
		OUT("setting: archive_mode = 'off'");
	if (t->kind != TARGET_LATEST && !cfg->standby)
		OUT("at the target the server will %s", rp->s.target_action);
	if (json)
	{
		json_object *w = json_object_new_object();

		json_object_object_add(root, "backup", json_object_new_string(m->label));
		json_object_object_add(root, "type", json_object_new_string(m->type));
		json_object_object_add(root, "repository", json_object_new_string(ctx->repo->name));
		json_object_object_add(root, "passed_over", passed);
		json_object_object_add(root, "chain", chain);
		json_object_object_add(root, "target_dir", json_object_new_string(ctx->target));
		json_object_object_add(root, "files", json_object_new_int(m->nfiles));
		json_object_object_add(root, "bytes", json_object_new_int64((int64_t) m->size));
		json_object_object_add(w, "first", json_object_new_string(a));
		json_object_object_add(w, "last", json_object_new_string(b));
		json_object_object_add(w, "segments", json_object_new_int64((int64_t) (last - first + 1)));
		json_object_object_add(w, "approximate", json_object_new_boolean(approx));
		json_object_object_add(w, "timeline", json_object_new_int64(ctx->timeline));
		json_object_object_add(root, "wal", w);
		if (rp->s.target_param)
			json_object_object_add(settings, rp->s.target_param, json_object_new_string(rp->s.target_value));
		if (rp->s.target_param)
			json_object_object_add(settings, "recovery_target_action", json_object_new_string(rp->s.target_action));
		if (archive_off)
			json_object_object_add(settings, "archive_mode", json_object_new_string("off"));
		json_object_object_add(root, "recovery_settings", settings);
		printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(root);
	}
#undef OUT
}

/* A timeline number as text (a static buffer: one use per call site). */
static const char *
timeline_name(TimeLineID tli)
{
	static char buf[16];

	snprintf(buf, sizeof(buf), "%u", tli);
	return buf;
}

static bool
server_running(const char *dir)
{
	char		path[PGB_PATH_MAX];
	char	   *text;
	PgbError	ignored;
	long		pid;

	if (fio_path_join(path, sizeof(path), dir, "postmaster.pid", &ignored) != 0 ||
		fio_read_small(path, 4096, &text, NULL, &ignored) != 0)
		return false;
	pid = strtol(text, NULL, 10);
	free(text);
	return pid > 0 && (kill((pid_t) pid, 0) == 0 || errno == EPERM);
}

/* Refuse a running server or a non-empty directory; empty it for --force. */
static int
prepare_dir(const RestoreCtx *ctx, const char *dir, bool *created, bool *was_empty, PgbError *err)
{
	bool		empty,
				exists;

	if (server_running(dir))
	{
		pgb_error(err, EXIT_REFUSED, "a PostgreSQL server is running in \"%s\"", dir);
		return pgb_hint(err, "stop it first, or restore elsewhere with --target-dir");
	}
	if (fio_dir_is_empty(dir, &empty, &exists, err) != 0)
		return -1;
	if (created)
		*created = !exists;
	if (was_empty)
		*was_empty = empty;
	if (!empty && !ctx->cfg->delta && !ctx->cfg->force)
	{
		pgb_error(err, EXIT_REFUSED, "directory \"%s\" is not empty", dir);
		return pgb_hint(err, "use --delta to reuse matching files, --force to replace everything, or another --target-dir");
	}
	return 0;
}

static const char *
tablespace_target(const Config *cfg, const ManifestLink *l)
{
	const char *oid = l->path + strlen("pg_tblspc/");

	for (int i = 0; i < cfg->ntablespace_map; i++)
		if (strcmp(cfg->tablespace_map[i].key, oid) == 0)
			return cfg->tablespace_map[i].path;
	return l->target;
}

static int
check_tablespaces(const RestoreCtx *ctx, PgbError *err)
{
	const Manifest *m = ctx->m;

	for (int k = 0; k < ctx->cfg->ntablespace_map; k++)
	{
		bool		known = false;

		for (int i = 0; i < m->nlinks; i++)
			if (strcmp(m->links[i].path + strlen("pg_tblspc/"), ctx->cfg->tablespace_map[k].key) == 0)
				known = true;
		if (!known)
		{
			pgb_error(err, EXIT_USAGE, "--tablespace-map names tablespace %s, which backup %s does not have",
					  ctx->cfg->tablespace_map[k].key, m->label);
			return pgb_hint(err, "give the tablespace OID, as under pg_tblspc/ in the data directory");
		}
	}
	for (int i = 0; i < m->nlinks; i++)
	{
		const char *dest = tablespace_target(ctx->cfg, &m->links[i]);
		const char *oid = m->links[i].path + strlen("pg_tblspc/");
		bool		in_place = m->pgdata && strcmp(ctx->target, m->pgdata) == 0;
		bool		created,
					empty;

		if (dest[0] != '/')
			return pgb_error(err, EXIT_USAGE, "tablespace location \"%s\" is not an absolute path", dest);

		/*
		 * A tablespace left at its original location while the data
		 * directory goes elsewhere is most likely the live source cluster's:
		 * it is written only when empty, whatever --force or --delta say.
		 */
		if (dest == m->links[i].target && !in_place)
		{
			bool		exists;

			if (fio_dir_is_empty(dest, &empty, &exists, err) != 0)
				return -1;
			if (!empty)
			{
				pgb_error(err, EXIT_REFUSED, "tablespace %s would be restored to its original location \"%s\", "
						  "which is not empty and may belong to the source cluster", oid, dest);
				return pgb_hint(err, "map it elsewhere with --tablespace-map %s=DIR", oid);
			}
		}
		if (prepare_dir(ctx, dest, &created, &empty, err) != 0)
			return -1;
		/* ours to empty under --force, and to clean up if the restore fails */
		ctx->ts_ours[i] = created || empty || (ctx->cfg->force && !ctx->cfg->delta);
	}
	return 0;
}

/* --force: empty every tablespace destination, as the data directory is. */
static int
empty_tablespaces(const RestoreCtx *ctx, PgbError *err)
{
	for (int i = 0; i < ctx->m->nlinks; i++)
	{
		const char *dest = tablespace_target(ctx->cfg, &ctx->m->links[i]);
		bool		empty,
					exists;

		if (fio_dir_is_empty(dest, &empty, &exists, err) != 0 ||
			(!empty && fio_empty_dir(dest, err) != 0))
			return -1;
	}
	return 0;
}

static int
make_dir(const char *path, uint32_t mode, PgbError *err)
{
	if (mkdir(path, mode & 07777) != 0 && errno != EEXIST)
		return pgb_error_errno(err, EXIT_IO, errno, "could not create directory \"%s\"", path);
	if (chmod(path, mode & 07777) != 0)
		return pgb_error_errno(err, EXIT_IO, errno, "could not set the mode of \"%s\"", path);
	return 0;
}

static int
create_layout(const RestoreCtx *ctx, PgbError *err)
{
	const Manifest *m = ctx->m;
	char		path[PGB_PATH_MAX];

	if (fio_mkdir_p(ctx->target, 0700, err) != 0 || make_dir(ctx->target, 0700, err) != 0)
		return -1;
	if (fio_path_join(path, sizeof(path), ctx->target, "pg_tblspc", err) != 0 ||
		make_dir(path, 0700, err) != 0)
		return -1;
	for (int i = 0; i < m->nlinks; i++)
	{
		const char *dest = tablespace_target(ctx->cfg, &m->links[i]);
		struct stat st;

		if (fio_mkdir_p(dest, 0700, err) != 0 || make_dir(dest, 0700, err) != 0 ||
			fio_path_join(path, sizeof(path), ctx->target, m->links[i].path, err) != 0)
			return -1;
		if (lstat(path, &st) == 0 && (unlink(path) != 0 && rmdir(path) != 0))
			return pgb_error_errno(err, EXIT_IO, errno, "could not replace \"%s\"", path);
		if (symlink(dest, path) != 0)
			return pgb_error_errno(err, EXIT_IO, errno, "could not create link \"%s\"", path);
	}
	/* directories were recorded parents first */
	for (int i = 0; i < m->ndirs; i++)
	{
		if (fio_path_join(path, sizeof(path), ctx->target, m->dirs[i].path, err) != 0 ||
			make_dir(path, m->dirs[i].mode, err) != 0)
			return -1;
	}
	return 0;
}

typedef struct FdSink
{
	int			fd;
	const char *path;
	uint64_t	at;
} FdSink;

static int
to_fd(void *arg, const void *buf, size_t len, PgbError *err)
{
	FdSink	   *f = arg;
	const char *p = buf;

	while (len > 0)
	{
		ssize_t		n = pwrite(f->fd, p, len, (off_t) f->at);

		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			return pgb_error_errno(err, EXIT_IO, errno, "could not write \"%s\"", f->path);
		}
		p += n;
		len -= (size_t) n;
		f->at += (uint64_t) n;
	}
	return 0;
}

static uint64_t
chunk_offset(const Manifest *m, int c)
{
	return (uint64_t) c * m->chunk_size;
}

/* --delta: does the target already hold exactly this chunk? */
static bool
chunk_matches(int fd, uint64_t offset, const ManifestChunk *ch, uint8_t *buf)
{
	uint64_t	got = 0;
	uint8_t		digest[SHA256_LEN];
	Sha256	   *h = sha256_new();

	if (h == NULL)
		return false;
	while (got < ch->size)
	{
		size_t		want = ch->size - got < MANIFEST_CHUNK_SIZE ? (size_t) (ch->size - got) : MANIFEST_CHUNK_SIZE;
		ssize_t		n = pread(fd, buf, want, (off_t) (offset + got));

		if (n <= 0)
		{
			sha256_free(h);
			return false;
		}
		sha256_update(h, buf, (size_t) n);
		got += (uint64_t) n;
	}
	sha256_final(h, digest);
	sha256_free(h);
	return memcmp(digest, ch->sha256, SHA256_LEN) == 0;
}

static int
restore_chunk(void *shared, int worker, size_t task, PgbError *err)
{
	RestoreCtx *ctx = shared;
	const ManifestFile *mf = &ctx->m->files[ctx->tasks[task].file];
	int			c = ctx->tasks[task].chunk;
	char		path[PGB_PATH_MAX];
	FdSink		f;
	int			rc = 0;

	if (fio_path_join(path, sizeof(path), ctx->target, mf->path, err) != 0)
		return -1;
	f.fd = open(path, (ctx->delta ? O_RDWR : O_WRONLY) | O_CLOEXEC | O_NOFOLLOW);
	f.path = path;
	f.at = chunk_offset(ctx->m, c);
	if (f.fd < 0)
		return pgb_error_errno(err, EXIT_IO, errno, "could not open \"%s\"", path);
	if (!(ctx->delta && chunk_matches(f.fd, f.at, &mf->chunks[c], ctx->bufs[worker])))
	{
		rc = chain_read_chunk(ctx->repo, ctx->cat, ctx->m, mf, c, ctx->bufs[worker], to_fd, &f, err);
		/*
		 * Start writing the chunk to disk now, so that the final syncfs
		 * finds little left to wait for (disk writes overlap decompression).
		 */
		if (rc == 0 && mf->chunks[c].size > 0)
			(void) sync_file_range(f.fd, (off_t) chunk_offset(ctx->m, c), (off_t) mf->chunks[c].size,
								   SYNC_FILE_RANGE_WRITE);
	}
	if (close(f.fd) != 0 && rc == 0)
		rc = pgb_error_errno(err, EXIT_IO, errno, "could not close \"%s\"", path);
	if (rc == 0)
	{
		pthread_mutex_lock(&ctx->lock);
		progress_add(ctx->progress, mf->chunks[c].size);
		pthread_mutex_unlock(&ctx->lock);
	}
	return rc;
}

/* Create (or, for --delta, keep) each file at its final size before the chunks land. */
static int
prepare_file(const RestoreCtx *ctx, const ManifestFile *mf, PgbError *err)
{
	char		path[PGB_PATH_MAX];
	struct stat st;
	int			fd;

	if (fio_path_join(path, sizeof(path), ctx->target, mf->path, err) != 0)
		return -1;
	if (ctx->delta && lstat(path, &st) == 0 && !S_ISREG(st.st_mode) && fio_remove_tree(path, err) != 0)
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (ctx->delta ? 0 : O_TRUNC), 0600);
	if (fd < 0)
		return pgb_error_errno(err, EXIT_IO, errno, "could not create \"%s\"", path);
	if (ftruncate(fd, (off_t) mf->size) != 0)
	{
		close(fd);
		return pgb_error_errno(err, EXIT_IO, errno, "could not size \"%s\"", path);
	}
	if (close(fd) != 0)
		return pgb_error_errno(err, EXIT_IO, errno, "could not close \"%s\"", path);
	return 0;
}

static int
finish_file(const RestoreCtx *ctx, const ManifestFile *mf, PgbError *err)
{
	char		path[PGB_PATH_MAX];
	struct timespec times[2] = {{mf->mtime, 0}, {mf->mtime, 0}};

	if (fio_path_join(path, sizeof(path), ctx->target, mf->path, err) != 0)
		return -1;
	if (chmod(path, mf->mode & 07777) != 0 || utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW) != 0)
		return pgb_error_errno(err, EXIT_IO, errno, "could not set the mode or time of \"%s\"", path);
	return 0;
}

static int
restore_files(RestoreCtx *ctx, PgbError *err)
{
	const Manifest *m = ctx->m;
	int			control = manifest_find_file(m, "global/pg_control");
	int			nworkers = workers_resolve(ctx->cfg->jobs);
	size_t		ntasks = 0,
				t = 0;
	int			rc = -1;

	if (control < 0)
		return pgb_error(err, EXIT_CORRUPT, "backup %s has no global/pg_control", m->label);
	for (int i = 0; i < m->nfiles; i++)
	{
		if (prepare_file(ctx, &m->files[i], err) != 0)
			return -1;
		ntasks += (size_t) m->files[i].nchunks;
	}
	ctx->tasks = malloc(sizeof(ChunkRef) * (ntasks + 1));
	ctx->bufs = calloc((size_t) nworkers, sizeof(uint8_t *));
	if (ctx->tasks == NULL || ctx->bufs == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	for (int i = 0; i < nworkers; i++)
		if ((ctx->bufs[i] = malloc(MANIFEST_CHUNK_SIZE)) == NULL)
			return pgb_error(err, EXIT_INTERNAL, "out of memory");
	/* pg_control last: until it exists, the directory cannot be started by mistake */
	for (int i = 0; i < m->nfiles; i++)
		for (int c = 0; c < m->files[i].nchunks && i != control; c++)
			ctx->tasks[t++] = (ChunkRef) {i, c};
	ctx->tasks[t] = (ChunkRef) {control, 0};
	ctx->progress = progress_new("restore", m->size, ctx->cfg->progress);
	pthread_mutex_init(&ctx->lock, NULL);
	if (workers_run(nworkers, t, restore_chunk, ctx, err) == 0 &&
		restore_chunk(ctx, 0, t, err) == 0)
		rc = 0;
	pthread_mutex_destroy(&ctx->lock);
	progress_done(ctx->progress);
	ctx->progress = NULL;
	for (int i = 0; i < m->nfiles && rc == 0; i++)
		if (finish_file(ctx, &m->files[i], err) != 0)
			rc = -1;
	return rc;
}

static void
free_restore(RestoreCtx *ctx)
{
	int			nworkers = workers_resolve(ctx->cfg->jobs);

	for (int i = 0; ctx->bufs && i < nworkers; i++)
		free(ctx->bufs[i]);
	free(ctx->bufs);
	free(ctx->tasks);
	free(ctx->ts_ours);
}

/*
 * --delta: remove what the backup does not have, in the data directory and
 * in each tablespace (nftw has no argument, hence statics).
 */
static const Manifest *delta_manifest;
static size_t delta_root_len;
static const char *delta_prefix;	/* "" or "pg_tblspc/<oid>/" */

static bool
manifest_has(const char *rel, bool is_dir)
{
	const Manifest *m = delta_manifest;

	if (is_dir)
	{
		for (int i = 0; i < m->ndirs; i++)
			if (strcmp(m->dirs[i].path, rel) == 0)
				return true;
		return strcmp(rel, "pg_tblspc") == 0;
	}
	for (int i = 0; i < m->nlinks; i++)
		if (strcmp(m->links[i].path, rel) == 0)
			return true;
	return manifest_find_file(m, rel) >= 0;
}

static int
delta_visit(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	char		rel[PGB_PATH_MAX];

	if (ftw->level == 0)
		return 0;
	if (snprintf(rel, sizeof(rel), "%s%s", delta_prefix, path + delta_root_len + 1) >= (int) sizeof(rel))
		return -1;
	if (flag == FTW_DP)
		return manifest_has(rel, true) ? 0 : (rmdir(path) == 0 ? 0 : -1);
	/* a link where the backup has a directory (pg_wal made by initdb --waldir) stays */
	if (flag == FTW_SL && manifest_has(rel, true))
		return 0;
	return manifest_has(rel, false) ? 0 : (unlink(path) == 0 ? 0 : -1);
}

static int
delta_clean_tree(const char *root, const char *prefix, PgbError *err)
{
	delta_root_len = strlen(root);
	delta_prefix = prefix;
	if (nftw(root, delta_visit, 32, FTW_DEPTH | FTW_PHYS) != 0)
		return pgb_error_errno(err, EXIT_IO, errno, "could not remove stale files under \"%s\"", root);
	return 0;
}

static int
delta_clean(const RestoreCtx *ctx, PgbError *err)
{
	delta_manifest = ctx->m;
	if (delta_clean_tree(ctx->target, "", err) != 0)
		return -1;
	for (int i = 0; i < ctx->m->nlinks; i++)
	{
		char		prefix[PGB_PATH_MAX];

		snprintf(prefix, sizeof(prefix), "%s/", ctx->m->links[i].path);
		if (delta_clean_tree(tablespace_target(ctx->cfg, &ctx->m->links[i]), prefix, err) != 0)
			return -1;
	}
	return 0;
}

/*
 * PostgreSQL recreates pg_tblspc links from tablespace_map when it starts
 * from a backup, so the file must name where the tablespaces were restored,
 * not where they were: otherwise a copy would write into the source
 * cluster's tablespaces.
 */
static int
write_tablespace_map(const RestoreCtx *ctx, PgbError *err)
{
	char		path[PGB_PATH_MAX];
	char	   *text;
	size_t		len = 0;
	size_t		cap = 1;
	int			rc;

	if (ctx->m->nlinks == 0)
		return 0;
	for (int i = 0; i < ctx->m->nlinks; i++)
	{
		const char *dest = tablespace_target(ctx->cfg, &ctx->m->links[i]);

		if (strpbrk(dest, "\\\n\r") != NULL)
			return pgb_error(err, EXIT_USAGE, "tablespace location \"%s\" contains a backslash or line break", dest);
		cap += strlen(ctx->m->links[i].path) + strlen(dest) + 2;
	}
	text = malloc(cap);
	if (text == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	for (int i = 0; i < ctx->m->nlinks; i++)
		len += (size_t) snprintf(text + len, cap - len, "%s %s\n", ctx->m->links[i].path + strlen("pg_tblspc/"),
								 tablespace_target(ctx->cfg, &ctx->m->links[i]));
	rc = fio_path_join(path, sizeof(path), ctx->target, "tablespace_map", err) == 0 ?
		fio_write_atomic(path, text, len, 0600, err) : -1;
	free(text);
	return rc;
}

static int
build_recovery(const RestoreCtx *ctx, const RestoreTarget *t, bool archive_off, RecoveryPlan *rp, PgbError *err)
{
	const Config *cfg = ctx->cfg;
	char		when[64];
	bool		pin;

	memset(rp, 0, sizeof(*rp));

	/*
	 * A targeted recovery reads WAL only from the repository whose window was
	 * checked to reach the target (so another repository being down cannot
	 * stop it); recovery to the end of the archive asks them all, and stops
	 * rather than promotes early when one of them cannot answer.
	 */
	pin = ctx->repo && strcmp(ctx->repo->name, "default") != 0 && (cfg->repo || (cfg->nrepos > 1 && t->kind != TARGET_LATEST));
	if (cmd_self_command(cfg, ctx->repo->cluster, pin ? ctx->repo->name : NULL, "archive-get %f \"%p\"",
						 rp->cmd, sizeof(rp->cmd), err) != 0)
		return -1;
	rp->s.restore_command = rp->cmd;
	rp->s.target_action = cfg->target_action ? cfg->target_action : "pause";
	rp->s.archive_off = archive_off;
	switch (t->kind)
	{
		case TARGET_TIME:
			time_format_pg(t->time, rp->value, sizeof(rp->value));
			rp->s.target_param = "recovery_target_time";
			rp->s.target_value = rp->value;
			break;
		case TARGET_LSN:
			lsn_format(t->lsn, rp->value, sizeof(rp->value));
			rp->s.target_param = "recovery_target_lsn";
			rp->s.target_value = rp->value;
			break;
		case TARGET_XID:
			rp->s.target_param = "recovery_target_xid";
			rp->s.target_value = t->text;
			break;
		case TARGET_NAME:
			rp->s.target_param = "recovery_target_name";
			rp->s.target_value = t->text;
			break;
		case TARGET_IMMEDIATE:
			rp->s.target_param = "recovery_target";
			rp->s.target_value = "immediate";
			break;
		case TARGET_LATEST:
			break;
	}
	time_format_utc(time_now(), when, sizeof(when));
	snprintf(rp->comment, sizeof(rp->comment), "recovery settings written by pgbkp restore of backup %s at %s",
			 ctx->m->label, when);
	rp->s.comment = rp->comment;
	for (int i = 0; i < cfg->restore_nextra; i++)
	{
		rp->s.extra_names[rp->s.nextra] = cfg->restore_extra_names[i];
		rp->s.extra_values[rp->s.nextra++] = cfg->restore_extra_values[i];
	}
	rp->s.standby = cfg->standby;
	if (cfg->standby && ctx->primary >= 0)
	{
		const ClusterMember *p = &cfg->members[ctx->primary];

		snprintf(rp->conninfo, sizeof(rp->conninfo), "host=%s port=%d user=%s application_name=%s",
				 p->addr, p->pg_port, cfg->replication_user,
				 cfg->self >= 0 ? cfg->members[cfg->self].name : "pgbkp_standby");
		rp->s.extra_names[rp->s.nextra] = "primary_conninfo";
		rp->s.extra_values[rp->s.nextra++] = rp->conninfo;
	}

	/*
	 * Always the timeline that was planned: PostgreSQL's default (latest)
	 * would follow any later timeline that forked before the target, and
	 * restore that timeline's data without a word.  A standby follows the
	 * cluster's newest timeline, as does an explicit --target-timeline latest.
	 */
	if (cfg->target_exclusive)
	{
		rp->s.extra_names[rp->s.nextra] = "recovery_target_inclusive";
		rp->s.extra_values[rp->s.nextra++] = "false";
	}
	rp->s.extra_names[rp->s.nextra] = "recovery_target_timeline";
	if (cfg->standby || t->timeline_request == TIMELINE_LATEST)
		rp->s.extra_values[rp->s.nextra++] = "latest";
	else
	{
		snprintf(rp->timeline, sizeof(rp->timeline), "%u", ctx->timeline);
		rp->s.extra_values[rp->s.nextra++] = rp->timeline;
	}
	return 0;
}

static int
write_recovery(const RestoreCtx *ctx, const RestoreTarget *t, bool archive_off, PgbError *err)
{
	RecoveryPlan rp;

	if (build_recovery(ctx, t, archive_off, &rp, err) != 0)
		return -1;
	return recovery_conf_write(ctx->target, &rp.s, err);
}

static int
sync_target(const RestoreCtx *ctx, PgbError *err)
{
	int			fd = open(ctx->target, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return pgb_error_errno(err, EXIT_IO, errno, "could not open \"%s\"", ctx->target);
	if (syncfs(fd) != 0)
	{
		close(fd);
		return pgb_error_errno(err, EXIT_IO, errno, "could not sync the file system of \"%s\"", ctx->target);
	}
	close(fd);
	/* tablespaces may live on other file systems */
	for (int i = 0; i < ctx->m->nlinks; i++)
	{
		const char *dest = tablespace_target(ctx->cfg, &ctx->m->links[i]);

		fd = open(dest, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return pgb_error_errno(err, EXIT_IO, errno, "could not open \"%s\"", dest);
		if (syncfs(fd) != 0)
		{
			close(fd);
			return pgb_error_errno(err, EXIT_IO, errno, "could not sync the file system of \"%s\"", dest);
		}
		close(fd);
	}
	return 0;
}

static void
print_done(const RestoreCtx *ctx, const RestoreTarget *t, bool archive_off)
{
	const Config *cfg = ctx->cfg;
	const char *action = cfg->target_action ? cfg->target_action : "pause";

	log_info("restored backup %s (%d files, %.1f MB) into \"%s\"",
			 ctx->m->label, ctx->m->nfiles, ctx->m->size / 1048576.0, ctx->target);
	if (archive_off)
		log_info("archive_mode is off in the restored copy, so it cannot write into this cluster's archive");
	if (cfg->standby && ctx->primary < 0)
		log_info("start PostgreSQL on it (pg_ctl -D %s start): it replays the archive; it streams once it is given "
				 "primary_conninfo (Patroni does when the cluster has a leader)", ctx->target);
	else if (cfg->standby)
		log_info("start PostgreSQL on it (pg_ctl -D %s start): it replays the archive, then streams from the primary",
				 ctx->target);
	else if (t->kind == TARGET_LATEST)
		log_info("start PostgreSQL on it (pg_ctl -D %s start): it replays all archived WAL, then promotes", ctx->target);
	else if (strcmp(action, "pause") == 0)
		log_info("start PostgreSQL on it (pg_ctl -D %s start): at the target it pauses; check the data, then "
				 "promote with \"SELECT pg_promote()\" (or \"pg_ctl -D %s promote\")", ctx->target, ctx->target);
	else
		log_info("start PostgreSQL on it (pg_ctl -D %s start): at the target it will %s", ctx->target, action);
}

/*
 * restore --standby: no recovery target, and the current primary to stream
 * from (asked of the cluster, like backup does).
 */
static int
standby_primary(RestoreCtx *ctx, const RestoreTarget *t, PgbError *err)
{
	const Config *cfg = ctx->cfg;

	if (t->kind != TARGET_LATEST)
		return pgb_error(err, EXIT_USAGE, "--standby restores the newest backup and follows the primary; "
						 "it takes no recovery target");
	if (cfg->nmembers == 0)
		return pgb_error(err, EXIT_CONFIG, "--standby needs the cluster's members to find the primary"),
			pgb_hint(err, "use a Pigsty inventory with all.children.<cluster>.hosts");
	if (cluster_find_primary(cfg, NULL, &ctx->primary, err) != 0)
	{
		if (err->code != EXIT_DATABASE)
			return -1;

		/*
		 * No leader (Patroni's no_leader: the whole cluster is down, or
		 * being rebuilt from the repository): a standby that replays the
		 * archive only, and streams once Patroni gives it a leader.
		 */
		log_warn("%s; rebuilding from the repository alone, without primary_conninfo", err->msg);
		pgb_error_clear(err);
		ctx->primary = -1;
		return 0;
	}
	if (cfg->self == ctx->primary)
		return pgb_error(err, EXIT_REFUSED, "%s is the primary of cluster \"%s\"; a replica cannot be rebuilt over it",
						 cfg->members[ctx->primary].name, cfg->cluster);
	log_info("rebuilding a replica of %s (%s port %d)", cfg->members[ctx->primary].name,
			 cfg->members[ctx->primary].addr, cfg->members[ctx->primary].pg_port);
	return 0;
}

/* Open repository i and choose the backup the target needs; nothing is written. */
static int
plan_in_repository(RestoreCtx *ctx, int i, const RestoreTarget *target, Catalog *cat, WalList *wal,
				   PgbError *err)
{
	if ((ctx->repo = cmd_open_repo_at(ctx->cfg, i, err)) == NULL ||
		catalog_load(ctx->repo, cat, err) != 0)
		return -1;
	ctx->cat = cat;
	cmd_warn_corrupt(cat);
	if (wal_list(ctx->repo, wal, err) != 0 ||
		plan_choose_indexed(ctx->repo, cat, wal, target, ctx->cfg->target_exclusive, ctx->cfg->set, &ctx->m,
							&ctx->timeline, err) != 0 ||
		chain_check(cat, ctx->m, err) != 0 || manifest_check_paths(ctx->m, err) != 0)
		return -1;
	return 0;
}

/*
 * The first repository, in configured order, that can be reached and holds
 * a backup for the target.  A repository that fails is named in a warning
 * and the next one is tried; the last failure is the error.
 */
static int
choose_repository(RestoreCtx *ctx, const RestoreTarget *target, Catalog *cat, WalList *wal,
				  PgbError *err)
{
	const Config *cfg = ctx->cfg;

	for (int i = 0; i < cfg->nrepos || i == 0; i++)
	{
		if (plan_in_repository(ctx, i, target, cat, wal, err) == 0)
		{
			if (cfg->nrepos > 1)
				log_info("restoring from repository \"%s\"", ctx->repo->name);
			return 0;
		}
		if (i + 1 >= cfg->nrepos)
			return -1;
		log_warn("repository \"%s\": %s; trying repository \"%s\"", cfg->repos[i].name, err->msg,
				 cfg->repos[i + 1].name);
		pgb_error_clear(err);
		wal_list_free(wal);
		catalog_free(cat);
		memset(cat, 0, sizeof(*cat));
		memset(wal, 0, sizeof(*wal));
		repo_free(ctx->repo);
		ctx->repo = NULL;
		ctx->cat = NULL;
		ctx->m = NULL;
	}
	return -1;
}

int
cmd_restore(const Config *cfg, PgbError *err)
{
	RestoreCtx	ctx = {0};
	RestoreTarget target;
	Catalog		cat = {0};
	WalList		wal = {0};
	const char *dir = cfg->target_dir ? cfg->target_dir : cfg->pg_data;
	bool		archive_off;
	int			rc = -1;

	ctx.cfg = cfg;
	if (dir == NULL)
	{
		pgb_error(err, EXIT_CONFIG, "no directory to restore into");
		return pgb_hint(err, "give --target-dir DIR, or --pg-data for the cluster's own data directory");
	}
	if (dir[0] != '/')
		return pgb_error(err, EXIT_USAGE, "target directory \"%s\" is not an absolute path", dir);
	snprintf(ctx.target, sizeof(ctx.target), "%s", dir);
	if (parse_target_all(cfg, &target, err) != 0)
		return -1;
	if (cfg->standby && standby_primary(&ctx, &target, err) != 0)
		return -1;
	if (choose_repository(&ctx, &target, &cat, &wal, err) != 0)
		goto done;
	if (target.kind == TARGET_TIME)
		log_target_time(cfg->target_time, target.time);
	if (target.kind == TARGET_XID || target.kind == TARGET_NAME)
		log_info("the WAL cannot be searched for %s %s in advance; restoring backup %s, the newest%s",
				 target.kind == TARGET_XID ? "transaction" : "restore point", target.text, ctx.m->label,
				 cfg->set ? " requested" : "; use --set for an older one if the target lies before it");
	ctx.ts_ours = calloc((size_t) ctx.m->nlinks + 1, sizeof(bool));
	if (ctx.ts_ours == NULL)
	{
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		goto done;
	}
	if (prepare_dir(&ctx, ctx.target, &ctx.created, &ctx.was_empty, err) != 0 || check_tablespaces(&ctx, err) != 0)
		goto done;
	archive_off = cfg->archive_mode ? strcmp(cfg->archive_mode, "off") == 0 :
		(!cfg->standby && cfg->target_dir != NULL && (cfg->pg_data == NULL || strcmp(cfg->target_dir, cfg->pg_data) != 0));
	{
		RecoveryPlan rp;

		if (build_recovery(&ctx, &target, archive_off, &rp, err) != 0)
			goto done;
		print_plan(&ctx, &target, &wal, archive_off, &rp, cfg->dry_run);
		if (cfg->dry_run)
		{
			if (fflush(stdout) != 0)
				pgb_error_errno(err, EXIT_IO, errno, "could not write to standard output");
			else
				rc = 0;
			goto done;
		}
	}
	ctx.delta = cfg->delta;
	if (ctx.delta)
	{
		char		control[PGB_PATH_MAX];

		/* the old pg_control goes first: a half-done delta must not be startable */
		if (fio_path_join(control, sizeof(control), ctx.target, "global/pg_control", err) != 0)
			goto done;
		if (unlink(control) != 0 && errno != ENOENT)
		{
			pgb_error_errno(err, EXIT_IO, errno, "could not remove \"%s\"", control);
			goto done;
		}
	}
	if (cfg->force && !cfg->delta &&
		((!ctx.created && fio_empty_dir(ctx.target, err) != 0) || empty_tablespaces(&ctx, err) != 0))
		goto done;
	log_info("restoring backup %s into \"%s\"%s; recovery follows timeline %s", ctx.m->label, ctx.target,
			 ctx.delta ? " (delta)" : "",
			 cfg->standby || target.timeline_request == TIMELINE_LATEST ? "latest" : timeline_name(ctx.timeline));
	if (create_layout(&ctx, err) != 0 || restore_files(&ctx, err) != 0 ||
		(ctx.delta && delta_clean(&ctx, err) != 0) || write_tablespace_map(&ctx, err) != 0 ||
		write_recovery(&ctx, &target, archive_off, err) != 0 || sync_target(&ctx, err) != 0)
	{
		PgbError	cleanup;

		/* never leave a half-restored directory that we created */
		if (ctx.created)
			(void) fio_remove_tree(ctx.target, &cleanup);
		else if (ctx.was_empty || (cfg->force && !cfg->delta))
			(void) fio_empty_dir(ctx.target, &cleanup);
		for (int i = 0; i < ctx.m->nlinks; i++)
			if (ctx.ts_ours[i])
				(void) fio_empty_dir(tablespace_target(cfg, &ctx.m->links[i]), &cleanup);
		goto done;
	}
	print_done(&ctx, &target, archive_off);
	rc = 0;
done:
	progress_done(ctx.progress);
	free_restore(&ctx);
	wal_list_free(&wal);
	catalog_free(&cat);
	repo_free(ctx.repo);
	return rc;
}
