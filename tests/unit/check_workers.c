/*
 * Unit tests for src/common/workers.c: every task runs exactly once on any
 * number of workers, worker numbers stay in range, the first error is the
 * one reported and stops the hand-out, and --jobs resolves to 1..64 workers.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/workers.h"
#include "harness.h"

#define NO_FAIL ((size_t) -1)

typedef struct Shared
{
	int			nworkers;
	size_t		ntasks;
	atomic_int *runs;			/* per task */
	atomic_int	total;
	atomic_int	bad_worker;		/* worker numbers out of range */
	atomic_int	used[64];		/* tasks run per worker */
	size_t		fail_from;		/* tasks fail_from..fail_to fail (NO_FAIL: none) */
	size_t		fail_to;
	long		sleep_ns;		/* every task takes this long */
	long		sleep_after_fail_ns;	/* tasks after fail_from take this long */
	pthread_t	caller;
	atomic_int	off_caller;		/* tasks run in another thread than the caller */
} Shared;

static void
nap(long ns)
{
	struct timespec ts = {ns / 1000000000L, ns % 1000000000L};

	if (ns > 0)
		nanosleep(&ts, NULL);
}

static int
task(void *arg, int worker, size_t t, PgbError *err)
{
	Shared	   *s = arg;

	if (worker < 0 || worker >= s->nworkers || worker >= 64)
		atomic_fetch_add(&s->bad_worker, 1);
	else
		atomic_fetch_add(&s->used[worker], 1);
	if (t < s->ntasks)
		atomic_fetch_add(&s->runs[t], 1);
	atomic_fetch_add(&s->total, 1);
	if (!pthread_equal(pthread_self(), s->caller))
		atomic_fetch_add(&s->off_caller, 1);
	nap(s->sleep_ns);
	if (s->fail_from != NO_FAIL && t > s->fail_from)
		nap(s->sleep_after_fail_ns);
	if (s->fail_from != NO_FAIL && t >= s->fail_from && t <= s->fail_to)
	{
		/* the code tells which task failed too: the message and code must belong together */
		pgb_error(err, t % 2 ? EXIT_CORRUPT : EXIT_IO, "task %zu failed", t);
		return -1;
	}
	return 0;
}

static Shared *
shared_new(int nworkers, size_t ntasks)
{
	Shared	   *s = calloc(1, sizeof(Shared));

	ck_assert_ptr_nonnull(s);
	s->nworkers = nworkers;
	s->ntasks = ntasks;
	s->runs = calloc(ntasks + 1, sizeof(atomic_int));
	ck_assert_ptr_nonnull(s->runs);
	for (size_t i = 0; i < ntasks; i++)
		atomic_init(&s->runs[i], 0);
	atomic_init(&s->total, 0);
	atomic_init(&s->bad_worker, 0);
	atomic_init(&s->off_caller, 0);
	for (int i = 0; i < 64; i++)
		atomic_init(&s->used[i], 0);
	s->fail_from = NO_FAIL;
	s->fail_to = (size_t) -1;
	s->caller = pthread_self();
	return s;
}

static void
shared_free(Shared *s)
{
	free(s->runs);
	free(s);
}

/* ------------------------------------------------------------ every task once */

static void
run_all(int nworkers, size_t ntasks, long sleep_ns)
{
	Shared	   *s = shared_new(nworkers, ntasks);
	PgbError	err = {0};

	s->sleep_ns = sleep_ns;
	ck_assert_msg(workers_run(nworkers, ntasks, task, s, &err) == 0, "%d workers, %zu tasks: %s",
				  nworkers, ntasks, err.msg);
	ck_assert_int_eq(err.code, 0);
	for (size_t t = 0; t < ntasks; t++)
		ck_assert_msg(atomic_load(&s->runs[t]) == 1, "%d workers: task %zu ran %d times",
					  nworkers, t, atomic_load(&s->runs[t]));
	ck_assert_int_eq(atomic_load(&s->total), (int) ntasks);
	ck_assert_int_eq(atomic_load(&s->bad_worker), 0);
	if (nworkers == 1)
	{
		/* one worker: in the calling thread, as worker 0 */
		ck_assert_int_eq(atomic_load(&s->off_caller), 0);
		ck_assert_int_eq(atomic_load(&s->used[0]), (int) ntasks);
	}
	shared_free(s);
}

START_TEST(test_every_task_once)
{
	static const int workers[] = {1, 2, 8};
	static const size_t tasks[] = {0, 1, 2, 7, 8, 9, 1000};

	for (size_t w = 0; w < sizeof(workers) / sizeof(workers[0]); w++)
		for (size_t t = 0; t < sizeof(tasks) / sizeof(tasks[0]); t++)
			run_all(workers[w], tasks[t], 0);
}
END_TEST

/* Slow tasks: several workers really share the work. */
START_TEST(test_work_is_shared)
{
	Shared	   *s = shared_new(8, 64);
	PgbError	err = {0};
	int			busy = 0;

	s->sleep_ns = 5 * 1000 * 1000;
	ck_assert_int_eq(workers_run(8, 64, task, s, &err), 0);
	for (size_t t = 0; t < 64; t++)
		ck_assert_int_eq(atomic_load(&s->runs[t]), 1);
	for (int w = 0; w < 8; w++)
		busy += atomic_load(&s->used[w]) > 0;
	ck_assert_msg(busy >= 2, "only %d of 8 workers ran tasks", busy);
	ck_assert_int_gt(atomic_load(&s->off_caller), 0);
	shared_free(s);
}
END_TEST

/* More workers than tasks, and many tasks on many workers. */
START_TEST(test_uneven)
{
	run_all(8, 3, 1000 * 1000);
	run_all(64, 10, 0);
	run_all(2, 5000, 0);
	run_all(8, 200, 100 * 1000);
}
END_TEST

/* ------------------------------------------------------------ errors */

START_TEST(test_error_one_worker)
{
	Shared	   *s = shared_new(1, 1000);
	PgbError	err = {0};

	s->fail_from = 10;
	ck_assert_int_eq(workers_run(1, 1000, task, s, &err), -1);
	ck_assert_int_eq(err.code, EXIT_IO);
	ck_assert_str_eq(err.msg, "task 10 failed");
	/* in order, up to the failing task and not one further */
	for (size_t t = 0; t <= 10; t++)
		ck_assert_int_eq(atomic_load(&s->runs[t]), 1);
	for (size_t t = 11; t < 1000; t++)
		ck_assert_msg(atomic_load(&s->runs[t]) == 0, "task %zu ran after task 10 failed", t);
	shared_free(s);

	/* the very first task */
	s = shared_new(1, 5);
	s->fail_from = 0;
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(workers_run(1, 5, task, s, &err), -1);
	ck_assert_str_eq(err.msg, "task 0 failed");
	ck_assert_int_eq(atomic_load(&s->total), 1);
	shared_free(s);

	/* the last one */
	s = shared_new(1, 5);
	s->fail_from = 4;
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(workers_run(1, 5, task, s, &err), -1);
	ck_assert_str_eq(err.msg, "task 4 failed");
	ck_assert_int_eq(atomic_load(&s->total), 5);
	shared_free(s);
}
END_TEST

static void
error_many_workers(int nworkers, bool only_one)
{
	Shared	   *s = shared_new(nworkers, 1000);
	PgbError	err = {0};
	size_t		failed;
	int			total;

	/*
	 * Task 10 fails (or every task from 10 on); the ones after it are slow,
	 * so without a stop to the hand-out the others would run for seconds.
	 */
	s->fail_from = 10;
	if (only_one)
		s->fail_to = 10;
	s->sleep_after_fail_ns = 2 * 1000 * 1000;
	ck_assert_int_eq(workers_run(nworkers, 1000, task, s, &err), -1);
	ck_assert_msg(sscanf(err.msg, "task %zu failed", &failed) == 1, "message \"%s\"", err.msg);
	if (only_one)
		ck_assert_str_eq(err.msg, "task 10 failed");
	ck_assert_msg(failed >= 10, "%s", err.msg);
	/* one error, whole: its code is the one that goes with its message */
	ck_assert_int_eq(err.code, failed % 2 ? EXIT_CORRUPT : EXIT_IO);
	/* tasks are handed out in order, and a task handed out is finished */
	for (size_t t = 0; t < 10; t++)
		ck_assert_int_eq(atomic_load(&s->runs[t]), 1);
	/* never twice; and the hand-out stopped long before the end */
	total = 0;
	for (size_t t = 0; t < 1000; t++)
	{
		ck_assert_int_le(atomic_load(&s->runs[t]), 1);
		total += atomic_load(&s->runs[t]);
	}
	ck_assert_int_eq(atomic_load(&s->total), total);
	ck_assert_msg(total < 10 + 1 + 10 * nworkers, "%d workers ran %d tasks after a failure", nworkers, total);
	ck_assert_int_eq(atomic_load(&s->bad_worker), 0);
	shared_free(s);
}

START_TEST(test_error_many_workers)
{
	error_many_workers(2, true);
	error_many_workers(8, true);
	error_many_workers(2, false);
	error_many_workers(8, false);
}
END_TEST

/* Only one task fails among many: that error, whatever the interleaving. */
START_TEST(test_single_error_reported)
{
	static const int workers[] = {1, 2, 8};

	for (size_t w = 0; w < sizeof(workers) / sizeof(workers[0]); w++)
	{
		for (int round = 0; round < 20; round++)
		{
			Shared	   *s = shared_new(workers[w], 300);
			PgbError	err = {0};

			/* fail_from with nothing after it failing: the last task */
			s->fail_from = 299;
			ck_assert_int_eq(workers_run(workers[w], 300, task, s, &err), -1);
			ck_assert_str_eq(err.msg, "task 299 failed");
			ck_assert_int_eq(err.code, EXIT_CORRUPT);
			for (size_t t = 0; t < 300; t++)
				ck_assert_int_eq(atomic_load(&s->runs[t]), 1);
			shared_free(s);
		}
	}
}
END_TEST

/* ------------------------------------------------------------ --jobs */

START_TEST(test_resolve)
{
	long		cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int			want = cpus < 1 ? 1 : cpus > 64 ? 64 : (int) cpus;

	ck_assert_int_ge(workers_resolve(0), 1);
	ck_assert_int_le(workers_resolve(0), 64);
	ck_assert_int_eq(workers_resolve(0), want);
	ck_assert_int_eq(workers_resolve(1), 1);
	ck_assert_int_eq(workers_resolve(2), 2);
	ck_assert_int_eq(workers_resolve(63), 63);
	ck_assert_int_eq(workers_resolve(64), 64);
	ck_assert_int_eq(workers_resolve(65), 64);
	ck_assert_int_eq(workers_resolve(100), 64);
	ck_assert_int_eq(workers_resolve(1000000), 64);
	/* capped: only the per-CPU default, never an explicit count */
	ck_assert_int_eq(workers_resolve_capped(0, 1), 1);
	ck_assert_int_eq(workers_resolve_capped(0, 64), want);
	ck_assert_int_eq(workers_resolve_capped(0, 4), want < 4 ? want : 4);
	ck_assert_int_eq(workers_resolve_capped(8, 4), 8);
}
END_TEST

static Suite *
workers_suite(void)
{
	Suite	   *s = suite_create("workers");
	TCase	   *tc;

	tc = tcase_create("run");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_every_task_once);
	tcase_add_test(tc, test_work_is_shared);
	tcase_add_test(tc, test_uneven);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_error_one_worker);
	tcase_add_test(tc, test_error_many_workers);
	tcase_add_test(tc, test_single_error_reported);
	suite_add_tcase(s, tc);

	tc = tcase_create("resolve");
	tcase_add_test(tc, test_resolve);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return harness_run(workers_suite());
}
