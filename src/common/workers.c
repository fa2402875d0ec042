/* Worker threads over numbered tasks (see workers.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/workers.h"

typedef struct Pool
{
	pthread_mutex_t lock;
	size_t		next;
	size_t		ntasks;
	bool		failed;
	PgbError	err;
	WorkerTask	prepare;		/* NULL, or run under the lock as a task is taken */
	WorkerTask	fn;
	void	   *shared;
} Pool;

typedef struct Worker
{
	Pool	   *pool;
	int			id;
} Worker;

static void *
worker_main(void *arg)
{
	Worker	   *w = arg;
	Pool	   *p = w->pool;
	PgbError	err = {0};

	for (;;)
	{
		size_t		task;

		pthread_mutex_lock(&p->lock);
		if (p->failed || p->next >= p->ntasks)
		{
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		task = p->next++;
		if (p->prepare && p->prepare(p->shared, w->id, task, &err) != 0)
		{
			p->failed = true;
			p->err = err;
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		pthread_mutex_unlock(&p->lock);
		if (p->fn(p->shared, w->id, task, &err) != 0)
		{
			pthread_mutex_lock(&p->lock);
			if (!p->failed)
			{
				p->failed = true;
				p->err = err;
			}
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
	}
}

int
workers_resolve(int jobs)
{
	long		n = jobs > 0 ? jobs : sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 64 ? 64 : (int) n;
}

int
workers_resolve_capped(int jobs, int cap)
{
	int			n = workers_resolve(jobs);

	return jobs <= 0 && n > cap ? cap : n;
}

int
workers_run(int nworkers, size_t ntasks, WorkerTask fn, void *shared, PgbError *err)
{
	return workers_run_prepared(nworkers, ntasks, NULL, fn, shared, err);
}

int
workers_run_prepared(int nworkers, size_t ntasks, WorkerTask prepare, WorkerTask fn, void *shared,
					 PgbError *err)
{
	Pool		pool = {.next = 0, .ntasks = ntasks, .prepare = prepare, .fn = fn, .shared = shared};
	pthread_t  *threads;
	Worker	   *workers;
	int			started = 0;

	if (nworkers <= 1 || ntasks <= 1)
	{
		for (size_t t = 0; t < ntasks; t++)
			if ((prepare && prepare(shared, 0, t, err) != 0) || fn(shared, 0, t, err) != 0)
				return -1;
		return 0;
	}
	threads = calloc((size_t) nworkers, sizeof(pthread_t));
	workers = calloc((size_t) nworkers, sizeof(Worker));
	if (threads == NULL || workers == NULL)
	{
		free(threads);
		free(workers);
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	}
	pthread_mutex_init(&pool.lock, NULL);
	for (int i = 0; i < nworkers; i++)
	{
		workers[i].pool = &pool;
		workers[i].id = i;
		if (pthread_create(&threads[i], NULL, worker_main, &workers[i]) != 0)
			break;
		started++;
	}
	if (started == 0)
		worker_main(&workers[0]);	/* no thread could start: do it all here */
	for (int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	pthread_mutex_destroy(&pool.lock);
	free(threads);
	free(workers);
	if (pool.failed)
	{
		*err = pool.err;
		return -1;
	}
	return 0;
}
