/* The asynchronous archive-push's pusher process (see archive_pusher.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd/archive_pusher.h"
#include "cmd/cmd_common.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/workers.h"
#include "pg/archstatus.h"
#include "repo/pushspool.h"
#include "repo/walarchive.h"

#define BATCH_PER_JOB 4			/* files handed to the workers at once, per job */
#define POLL_MS 100				/* between looks at archive_status when idle */
#define RETRY_MS 1000			/* after a failed push */

typedef struct Pusher
{
	const Config *cfg;
	const PusherPlace *place;
	int			nrepos;
	Repo	   *repos[CONFIG_MAX_REPOS];
	ArchReady	todo[64 * BATCH_PER_JOB];
	int			ntodo;
	pthread_mutex_t lock;
	int			stored;			/* in this batch */
	int			failed;
} Pusher;

static void
sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int64_t
now_s(void)
{
	return (int64_t) time(NULL);
}

/* Open the repositories not open yet; false (with err) when one cannot be. */
static bool
open_repositories(Pusher *p, PgbError *err)
{
	for (int i = 0; i < p->nrepos; i++)
		if (p->repos[i] == NULL && (p->repos[i] = cmd_open_repo_at(p->cfg, i, err)) == NULL)
		{
			if (p->cfg->nrepos > 1)
				pgb_error_context(err, "repository \"%s\"", p->cfg->repos[i].name);
			return false;
		}
	return true;
}

/* Push one file into every repository; the record only after the last one. */
static int
push_one(Pusher *p, const char *name, PgbError *err)
{
	char		path[PGB_PATH_MAX];
	ObjectSummary first = {0},
				sum;
	PushFileId	before,
				after;
	WalPushResult result;

	if (fio_path_join(path, sizeof(path), p->place->wal_dir, name, err) != 0 ||
		pushspool_file_id(path, &before, err) != 0)
		return -1;
	for (int i = 0; i < p->nrepos; i++)
	{
		if (wal_push_summary(p->repos[i], path, p->cfg->compress_level, 1, &result, &sum, err) != 0)
		{
			if (p->nrepos > 1)
				pgb_error_context(err, "repository \"%s\"", p->cfg->repos[i].name);
			return -1;
		}
		if (i == 0)
			first = sum;
		else if (sum.size != first.size || memcmp(sum.sha256, first.sha256, SHA256_LEN) != 0)
			return pgb_error(err, EXIT_ARCHIVE_MISMATCH, "WAL file \"%s\" changed while it was archived", name);
	}
	/* the identity only when the file stayed the same all along (else archive-push reads it) */
	if (pushspool_file_id(path, &after, err) != 0)
		return -1;
	return pushspool_record_write(p->place->spool, name, &first,
								  memcmp(&before, &after, sizeof(before)) == 0 ? &before : NULL, err);
}

static int
push_task(void *shared, int worker, size_t task, PgbError *unused)
{
	Pusher	   *p = shared;
	const char *name = p->todo[task].name;
	PgbError	err = {0};
	int			rc = push_one(p, name, &err);

	(void) worker;
	(void) unused;
	if (rc == 0)
		pushspool_failure_remove(p->place->spool, name);
	else if (err.code == EXIT_NOT_FOUND && !archstatus_is_ready(p->place->wal_dir, name))
		rc = 0;					/* archived and removed meanwhile: nothing to say */
	else
		pushspool_failure_write(p->place->spool, name, &err, &err);
	pthread_mutex_lock(&p->lock);
	if (rc == 0)
		p->stored++;
	else
		p->failed++;
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/* The ready files without a record, oldest first, into p->todo. */
static int
find_work(Pusher *p, PgbError *err)
{
	static ArchReady ready[1024];
	int			n;
	int			max = p->cfg->archive_push_jobs * BATCH_PER_JOB;

	p->ntodo = 0;
	if (archstatus_list(p->place->wal_dir, ready, 1024, &n, err) != 0)
		return -1;
	for (int i = 0; i < n && p->ntodo < max; i++)
		if (!pushspool_record_exists(p->place->spool, ready[i].name))
			p->todo[p->ntodo++] = ready[i];
	return 0;
}

/* Whether the server still runs (its postmaster.pid is there). */
static bool
server_alive(const Pusher *p)
{
	char		path[PGB_PATH_MAX];

	return snprintf(path, sizeof(path), "%s/postmaster.pid", p->place->data_dir) < (int) sizeof(path) &&
		access(path, F_OK) == 0;
}

/* The pusher's life: returns when idle for archive_async_idle seconds or the server is gone. */
static void
pusher_run(Pusher *p)
{
	int64_t		last_progress = now_s();
	PgbError	err = {0};

	while (server_alive(p) && now_s() - last_progress < p->cfg->archive_async_idle)
	{
		pgb_error_clear(&err);
		if (find_work(p, &err) != 0)
		{
			sleep_ms(RETRY_MS);
			continue;
		}
		if (p->ntodo == 0)
		{
			sleep_ms(POLL_MS);
			continue;
		}
		if (!open_repositories(p, &err))
		{
			/* the oldest file is the one PostgreSQL waits for */
			pushspool_failure_write(p->place->spool, p->todo[0].name, &err, &err);
			sleep_ms(RETRY_MS);
			continue;
		}
		p->stored = p->failed = 0;
		workers_run(p->cfg->archive_push_jobs, (size_t) p->ntodo, push_task, p, &err);
		if (p->stored > 0)
			last_progress = now_s();
		if (p->failed > 0)
		{
			/* a repository that failed may work again once reopened */
			for (int i = 0; i < p->nrepos; i++)
			{
				repo_free(p->repos[i]);
				p->repos[i] = NULL;
			}
			sleep_ms(RETRY_MS);
		}
	}
}

/* In the detached process: no terminal, no descriptors of PostgreSQL's. */
static void
detach_descriptors(void)
{
	int			fd = open("/dev/null", O_RDWR);

	if (fd >= 0)
	{
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	for (int i = 3; i < 1024; i++)
		close(i);
}

static int
pusher_main(const Config *cfg, const PusherPlace *place)
{
	Pusher		p = {.cfg = cfg, .place = place};
	PgbError	err = {0};
	int			lockfd;

	if (pushspool_lock(place->spool, place->data_dir, &lockfd, &err) != 0 || lockfd < 0)
		return 0;				/* another pusher runs */
	p.nrepos = cfg->nrepos > 0 ? cfg->nrepos : 1;
	pthread_mutex_init(&p.lock, NULL);
	pusher_run(&p);
	for (int i = 0; i < p.nrepos; i++)
		repo_free(p.repos[i]);
	pthread_mutex_destroy(&p.lock);
	close(lockfd);
	return 0;
}

int
archive_pusher_start(const Config *cfg, const PusherPlace *place, PgbError *err)
{
	pid_t		child = fork();
	int			status;

	if (child < 0)
		return pgb_error_errno(err, EXIT_IO, errno, "could not start the archive pusher");
	if (child == 0)
	{
		/* the middle process: a new session, then the pusher as its orphan */
		pid_t		pusher;

		log_close_file();
		detach_descriptors();
		if (setsid() < 0)
			_exit(1);
		pusher = fork();
		if (pusher < 0)
			_exit(1);
		if (pusher > 0)
			_exit(0);
		_exit(pusher_main(cfg, place));
	}
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			return pgb_error_errno(err, EXIT_IO, errno, "could not wait for the archive pusher to start");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return pgb_error(err, EXIT_IO, "could not start the archive pusher");
	return 0;
}
