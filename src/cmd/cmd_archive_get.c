/*
 * pgbkp archive-get WAL_NAME DEST: restore_command.
 *
 * A file that is not archived exits 1 without a word: PostgreSQL asks for
 * files that do not exist yet.  Any other failure while PostgreSQL is in
 * targeted or archive recovery (no standby.signal in the working directory,
 * which is the data directory) exits 126, which makes PostgreSQL stop
 * recovery instead of taking the failure for the end of WAL and promoting
 * too early.  A standby keeps the ordinary code and simply retries.
 *
 * Prefetch (archive_get_prefetch segments, at most archive_get_queue_max
 * MiB): a segment PostgreSQL asks for is served from the spool when it was
 * fetched ahead (repo/walspool.h); otherwise it is fetched together with the
 * next segments of its timeline, all at once, each verified and kept whole
 * in the spool until PostgreSQL asks for it.  The command returns when all
 * of them are done: nothing runs on in the background.  A segment that
 * cannot be fetched ahead is simply fetched again when asked for.
 *
 * Streamed WAL: a segment that is not archived is served from the
 * in-progress object pgbkp stream keeps of it (zero-padded), outside a
 * standby and only when it is the newest WAL of the newest timeline
 * (repo/walstream.h): recovery then ends at the last streamed record.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/cmd_common.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/workers.h"
#include "repo/walarchive.h"
#include "repo/walspool.h"
#include "repo/walstream.h"

#define PREFETCH_MAX 256

/*
 * The first repository that has the file, in configured order; one that
 * cannot be reached (or opened) is skipped with a warning.  The file counts
 * as not archived (exit 1, which ends recovery at that point) only when every
 * repository answered that it does not have it: repositories keep WAL for
 * different lengths of time, so one that lacks the file does not prove that
 * another one, unreachable now, lacks it too.  Otherwise the failure is an
 * error (126 during targeted or archive recovery: PostgreSQL stops instead
 * of promoting early).  restore pins a targeted recovery to the repository
 * it chose (--repo), so a repository that is down does not stop it.
 */
static int
get_streamed(const Config *cfg, int n, PgbError *err)
{
	for (int i = 0; i < n && strlen(cfg->args[0]) == WAL_NAME_LEN; i++)
	{
		Repo	   *repo = cmd_open_repo_at(cfg, i, err);
		int			rc = repo ? walstream_get_last(repo, cfg->args[0], cfg->args[1], err) : -1;

		repo_free(repo);
		if (rc == 0)
		{
			log_info("restored the streamed, unfinished WAL segment \"%s\" from repository \"%s\" (zero-padded)",
					 cfg->args[0], cfg->repos[i].name);
			return 0;
		}
	}
	return pgb_error(err, EXIT_WAL_MISSING, "WAL file \"%s\" is not in the archive", cfg->args[0]);
}

static int
get_from_repositories(const Config *cfg, PgbError *err)
{
	int			missing = 0;
	int			n = cfg->nrepos > 0 ? cfg->nrepos : 1;
	PgbError	first = {0};

	for (int i = 0; i < n; i++)
	{
		Repo	   *repo = cmd_open_repo_at(cfg, i, err);
		int			rc = repo ? wal_get(repo, cfg->args[0], cfg->args[1], err) : -1;

		repo_free(repo);
		if (rc == 0)
		{
			log_debug("restored WAL file \"%s\" from repository \"%s\"", cfg->args[0], cfg->repos[i].name);
			return 0;
		}
		if (err->code == EXIT_WAL_MISSING)
		{
			missing++;
			continue;
		}
		if (n > 1)
		{
			pgb_error_context(err, "repository \"%s\"", cfg->repos[i].name);
			log_warn("%s", err->msg);
		}
		if (!pgb_error_is_set(&first))
			first = *err;
	}
	if (missing == n && access("standby.signal", F_OK) != 0)
		return get_streamed(cfg, n, err);
	if (missing == n)
		return pgb_error(err, EXIT_WAL_MISSING, "WAL file \"%s\" is not in the archive", cfg->args[0]);
	*err = first;
	if (missing > 0)
		pgb_hint(err, "%d of %d repositories do not have it; the others could not be asked", missing, n);
	return -1;
}

/* The spool of the cluster in repo (see cmd_spool_base). */
static int
spool_of(const Config *cfg, const Repo *repo, bool make, char *out, size_t len, PgbError *err)
{
	char		base[PGB_PATH_MAX];

	if (cmd_spool_base(cfg, NULL, base, sizeof(base), err) != 0)
		return -1;
	return walspool_dir(base, repo->cluster, repo->info.system_identifier, make, out, len, err);
}

typedef struct Prefetch
{
	const Config *cfg;
	Repo	   *repo;			/* the first repository's, shared by the workers */
	const char *spool;
	int			n;				/* names[0] is PostgreSQL's, then the ones ahead */
	char		names[PREFETCH_MAX + 1][32];
	pthread_mutex_t lock;
	int			fetched;
} Prefetch;

static int
prefetch_task(void *shared, int worker, size_t task, PgbError *err)
{
	Prefetch   *pf = shared;
	char		path[PGB_PATH_MAX];
	PgbError	e = {0};

	if (task == 0)
		return get_from_repositories(pf->cfg, err);
	if (snprintf(path, sizeof(path), "%s/%s", pf->spool, pf->names[task]) >= (int) sizeof(path) ||
		wal_get(pf->repo, pf->names[task], path, &e) != 0)
	{
		log_debug("%s was not fetched ahead: %s", pf->names[task], e.msg);
		return 0;
	}
	pthread_mutex_lock(&pf->lock);
	pf->fetched++;
	pthread_mutex_unlock(&pf->lock);
	return 0;
}

/*
 * archive-get with prefetch: 1 when it handled the request (rc in *rc), 0
 * when the plain path should (prefetch off, not a segment, no spool).
 */
static int
get_with_prefetch(const Config *cfg, int *rc, PgbError *err)
{
	Prefetch	pf = {.cfg = cfg};
	char		spool[PGB_PATH_MAX];
	PgbError	e = {0};
	TimeLineID	tli;
	SegNo		segno;
	bool		taken;
	int			ahead;

	/* PostgreSQL runs restore_command in the data directory; run by hand elsewhere: no spool */
	if (cfg->archive_get_prefetch <= 0 || (cfg->spool_path == NULL && access("PG_VERSION", F_OK) != 0) ||
		(pf.repo = cmd_open_repo_at(cfg, 0, &e)) == NULL)
		return 0;
	if (wal_file_classify(cfg->args[0], pf.repo->info.wal_segment_size, &tli, &segno) != WAL_KIND_SEGMENT ||
		spool_of(cfg, pf.repo, true, spool, sizeof(spool), &e) != 0)
	{
		if (e.code)
			log_warn("no prefetch: %s", e.msg);
		repo_free(pf.repo);
		return 0;
	}
	walspool_prune_before(spool, cfg->args[0]);
	if (walspool_take(spool, cfg->args[0], cfg->args[1], &taken, err) != 0 || taken)
	{
		if (taken)
			log_debug("restored WAL file \"%s\" from the prefetch spool", cfg->args[0]);
		*rc = taken ? 0 : -1;
		repo_free(pf.repo);
		return 1;
	}
	pf.spool = spool;
	ahead = cfg->archive_get_prefetch;
	if ((uint64_t) ahead * pf.repo->info.wal_segment_size > ((uint64_t) cfg->archive_get_queue_max << 20))
		ahead = (int) (((uint64_t) cfg->archive_get_queue_max << 20) / pf.repo->info.wal_segment_size);
	snprintf(pf.names[pf.n++], sizeof(pf.names[0]), "%s", cfg->args[0]);
	for (int i = 1; i <= ahead && i <= PREFETCH_MAX; i++)
	{
		wal_segment_name(pf.names[pf.n], tli, segno + (SegNo) i, pf.repo->info.wal_segment_size);
		if (!walspool_has(spool, pf.names[pf.n]))
			pf.n++;
	}
	pthread_mutex_init(&pf.lock, NULL);
	*rc = workers_run(pf.n < 16 ? pf.n : 16, (size_t) pf.n, prefetch_task, &pf, err);
	pthread_mutex_destroy(&pf.lock);
	if (pf.fetched > 0)
		log_info("archive-get %s: fetched %d segment%s ahead into the spool", cfg->args[0], pf.fetched,
				 pf.fetched == 1 ? "" : "s");
	repo_free(pf.repo);
	return 1;
}

int
cmd_archive_get(const Config *cfg, PgbError *err)
{
	int			rc;

	if (get_with_prefetch(cfg, &rc, err) == 0)
		rc = get_from_repositories(cfg, err);

	if (rc != 0 && err->code != EXIT_WAL_MISSING && access("standby.signal", F_OK) != 0 &&
		access("recovery.signal", F_OK) == 0)
		err->code = EXIT_RECOVERY_ABORT;
	return rc;
}

int
cmd_spool_clean(const Config *cfg, PgbError *err)
{
	Repo	   *repo = cmd_open_repo(cfg, err);
	char		spool[PGB_PATH_MAX];
	int			removed = 0;

	if (repo == NULL)
		return -1;
	if (spool_of(cfg, repo, false, spool, sizeof(spool), err) != 0 || walspool_clean(spool, &removed, err) != 0)
	{
		repo_free(repo);
		return -1;
	}
	if (removed > 0)
		log_info("removed %d segment%s fetched ahead and not used from \"%s\"", removed, removed == 1 ? "" : "s",
				 spool);
	repo_free(repo);
	return 0;
}
