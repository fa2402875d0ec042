/*
 * pgbkp archive-push WAL_PATH: archive_command.
 *
 * Without archive_async the file is pushed here, into the repository the
 * dispatch loop names (once per repository).  With archive_async this
 * process handles every repository at once and leaves the pushing to the
 * cluster's pusher (archive_pusher.h), which pushes the ready files ahead:
 * it returns 0 as soon as the spool holds a record of WAL_PATH that was
 * made from this very file, unchanged (device, inode, modification and
 * change times: one stat, no read), or else whose size and SHA-256 are
 * those of the file now (read and hashed once: a record from an earlier
 * life of the server, or of a diverged one, cannot stand for different
 * content), starting the pusher when none runs and waiting for it
 * otherwise.  A failure the pusher noted
 * for the file fails this command (PostgreSQL keeps the file and asks
 * again); the reason is logged at most once a minute, and the other
 * failures exit EXIT_ARCHIVE_PENDING quietly.  A file PostgreSQL has not
 * marked ready (a command typed by hand) is pushed here, as without
 * archive_async.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/archive_pusher.h"
#include "cmd/cmd.h"
#include "cmd/cmd_common.h"
#include "common/fileio.h"
#include "common/log.h"
#include "pg/archstatus.h"
#include "pg/control.h"
#include "repo/pushspool.h"
#include "repo/walarchive.h"

#define WAIT_POLL_MS 20			/* between looks at the spool while waiting */
#define PUSHER_STARTS 3			/* pushers that may exit without archiving the file */
#define LOG_INTERVAL 60			/* seconds between logged failures */

static int
push_into(Repo *repo, const Config *cfg, PgbError *err)
{
	WalPushResult result;
	int			rc = wal_push(repo, cfg->args[0], cfg->compress_level, cfg->wal_compress_threads, &result, err);

	if (rc == 0 && result == WAL_PUSH_ALREADY_PRESENT)
		log_info("WAL file \"%s\" was already archived with identical content", cfg->args[0]);
	else if (rc == 0)
		log_debug("archived WAL file \"%s\"", cfg->args[0]);
	return rc;
}

/* The synchronous push into the repository the dispatch loop is at. */
static int
push_here(const Config *cfg, PgbError *err)
{
	Repo	   *repo = cmd_open_repo(cfg, err);
	int			rc;

	if (repo == NULL)
		return -1;
	rc = push_into(repo, cfg, err);
	repo_free(repo);
	return rc;
}

/* The synchronous push into every repository (archive_async runs once, not per repository). */
static int
push_everywhere(const Config *cfg, PgbError *err)
{
	int			n = cfg->nrepos > 0 ? cfg->nrepos : 1;

	for (int i = 0; i < n; i++)
	{
		Repo	   *repo = cmd_open_repo_at(cfg, i, err);
		int			rc = repo ? push_into(repo, cfg, err) : -1;

		repo_free(repo);
		if (rc != 0)
			return n > 1 ? pgb_error_context(err, "repository \"%s\"", cfg->repos[i].name) : -1;
	}
	return 0;
}

/*
 * Where the pusher would work: pg_wal is WAL_PATH's directory (made
 * absolute against the working directory, symbolic links kept), the data
 * directory its parent.
 */
static int
find_dirs(const Config *cfg, PusherPlace *place, PgbError *err)
{
	char		walpath[PGB_PATH_MAX],
				cwd[PGB_PATH_MAX];
	const char *dir;
	int			n;

	snprintf(walpath, sizeof(walpath), "%s", cfg->args[0]);
	dir = dirname(walpath);
	if (dir[0] == '/')
		n = snprintf(place->wal_dir, sizeof(place->wal_dir), "%s", dir);
	else if (getcwd(cwd, sizeof(cwd)) == NULL)
		return pgb_error_errno(err, EXIT_IO, errno, "could not read the working directory");
	else
		n = snprintf(place->wal_dir, sizeof(place->wal_dir), "%s/%s", cwd, dir);
	if (n < 0 || (size_t) n >= sizeof(place->wal_dir))
		return pgb_error(err, EXIT_USAGE, "the path \"%s\" is too long", cfg->args[0]);
	snprintf(walpath, sizeof(walpath), "%s", place->wal_dir);
	snprintf(place->data_dir, sizeof(place->data_dir), "%s", dirname(walpath));
	return 0;
}

/*
 * The spool's directory for the cluster (spool_path, else spool/ beside
 * the data directory), named by the system identifier in the data
 * directory's pg_control, so a call that finds its record asks no
 * repository anything.
 */
static int
find_spool(const Config *cfg, PusherPlace *place, PgbError *err)
{
	char		base[PGB_PATH_MAX];
	PgControl	ctl;

	if (cmd_spool_base(cfg, place->data_dir, base, sizeof(base), err) != 0)
		return -1;
	if (base[0] != '/')
		return pgb_error(err, EXIT_CONFIG, "spool_path \"%s\" is not an absolute path", base);
	if (cfg->cluster == NULL)
		return pgb_error(err, EXIT_CONFIG, "no cluster given"), pgb_hint(err, "set --cluster or cluster:");
	if (repo_cluster_name_check(cfg->cluster, err) != 0)
		return -1;
	/* pg_control may be read while the server rewrites it: a torn read fails its CRC, read again */
	for (int i = 0; pg_control_read(place->data_dir, &ctl, err) != 0; i++)
		if (i == 2)
			return -1;
	return pushspool_dir(base, cfg->cluster, ctl.system_identifier, true, place->spool, sizeof(place->spool), err);
}

static void
sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = (long) ms * 1000000L};

	nanosleep(&ts, NULL);
}

/* The pusher's note about name as this command's error: logged at most once a minute. */
static int
report_failure(const PusherPlace *place, const PgbError *why, const char *name, PgbError *err)
{
	PgbError	reason = *why;	/* why may be err */

	*err = reason;
	pgb_error_context(err, "WAL file \"%s\" is not archived yet (it stays in pg_wal)", name);
	if (pushspool_log_due(place->spool, (int64_t) time(NULL), LOG_INTERVAL))
		return -1;
	return pgb_error(err, EXIT_ARCHIVE_PENDING, "WAL file \"%s\" is not archived yet: %s", name, reason.msg);
}

/*
 * Whether name's record stands for the file: made from this very file
 * (same identity), or else of the same size and SHA-256 (*sum computed on
 * first need).  1 yes, 0 a record of other content, -1 no record, -2 the
 * file could not be read (err set).
 */
static int
record_matches(const PusherPlace *place, const char *path, const char *name, const PushFileId *id,
			   ObjectSummary *sum, bool *hashed, PgbError *err)
{
	PushRecord	r;

	if (!pushspool_record_read(place->spool, name, &r))
		return -1;
	if (pushspool_record_same_file(&r, id))
		return 1;
	if (!*hashed)
	{
		if (wal_file_summary(path, sum, err) != 0)
			return -2;
		*hashed = true;
	}
	return pushspool_record_same_content(&r, sum) ? 1 : 0;
}

/* Wait for the record of name: 1 when it matches the file, 0 when it is of other content, -1 on failure. */
static int
wait_for_record(const Config *cfg, const PusherPlace *place, const char *name, PgbError *err)
{
	int			starts = 0,
				rc;
	PushFileId	id;
	ObjectSummary sum;
	bool		hashed = false;
	PgbError	why;

	if (pushspool_file_id(cfg->args[0], &id, err) != 0)
		return -1;
	pushspool_failure_remove(place->spool, name);
	for (;;)
	{
		if ((rc = record_matches(place, cfg->args[0], name, &id, &sum, &hashed, err)) >= 0)
			return rc;
		if (rc == -2)
			return -1;
		if (pushspool_failure_read(place->spool, name, &why))
			return report_failure(place, &why, name, err);
		if (!pushspool_pusher_running(place->spool, place->data_dir))
		{
			/* it may have stored the file and exited between the looks above */
			if ((rc = record_matches(place, cfg->args[0], name, &id, &sum, &hashed, err)) >= 0)
				return rc;
			if (rc == -2)
				return -1;
			if (starts++ == PUSHER_STARTS)
			{
				pgb_error(err, EXIT_IO, "the archive pusher exited %d times without archiving WAL file \"%s\"",
						  PUSHER_STARTS, name);
				return report_failure(place, err, name, err);
			}
			fflush(NULL);
			if (archive_pusher_start(cfg, place, err) != 0)
				return -1;
		}
		sleep_ms(WAIT_POLL_MS);
	}
}

static int
archive_push_async(const Config *cfg, PgbError *err)
{
	PusherPlace place;
	const char *name;
	int			rc;

	name = strrchr(cfg->args[0], '/') ? strrchr(cfg->args[0], '/') + 1 : cfg->args[0];
	if (find_dirs(cfg, &place, err) != 0)
		return -1;
	if (!archstatus_is_ready(place.wal_dir, name))
		return push_everywhere(cfg, err);
	if (find_spool(cfg, &place, err) != 0)
		return -1;
	pushspool_prune_before(place.spool, name);
	rc = wait_for_record(cfg, &place, name, err);
	if (rc < 0)
		return -1;
	if (rc == 0)
	{
		/* a record of other content: the repositories decide (identical, or refused) */
		log_warn("the spool's record of WAL file \"%s\" is of different content; pushing it here", name);
		pushspool_record_remove(place.spool, name);
		return push_everywhere(cfg, err);
	}
	log_debug("WAL file \"%s\" is archived (the pusher's record matches)", name);
	return 0;
}

int
cmd_archive_push(const Config *cfg, PgbError *err)
{
	if (!cfg->archive_async)
		return push_here(cfg, err);
	return archive_push_async(cfg, err);
}
