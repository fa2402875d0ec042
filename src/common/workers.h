/*
 * A fixed pool of worker threads over a numbered list of tasks.  Tasks are
 * handed out in order from a shared counter, so large and small tasks mix
 * and no worker idles while work remains.  The first error stops the
 * hand-out; it is the one reported.
 */
#ifndef PGBKP_WORKERS_H
#define PGBKP_WORKERS_H

#include <stddef.h>
#include "common/error.h"

/* Run task number `task` on worker `worker` (0..nworkers-1); 0 or -1 with err set. */
typedef int (*WorkerTask) (void *shared, int worker, size_t task, PgbError *err);

/*
 * Run ntasks tasks on nworkers threads (1: in the calling thread).
 * Returns 0, or -1 with the first error in err.
 */
int			workers_run(int nworkers, size_t ntasks, WorkerTask fn, void *shared, PgbError *err);

/*
 * The same, with prepare(shared, worker, task, err) run as each task is
 * taken, under the pool's lock: in task order, one at a time (a cursor over
 * something read in the tasks' order can serve them), before fn runs
 * unlocked.
 */
int			workers_run_prepared(int nworkers, size_t ntasks, WorkerTask prepare, WorkerTask fn,
								 void *shared, PgbError *err);

/* --jobs 0 means one worker per online CPU. */
int			workers_resolve(int jobs);

/* jobs when above 0, else one per CPU but at most cap. */
int			workers_resolve_capped(int jobs, int cap);

#endif
