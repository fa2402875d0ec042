/*
 * pgbkp pitr: bring a Patroni cluster itself back to a moment, in place.
 *
 * Run from any member, or from an admin node holding the inventory.  Every
 * change to a member's host is one `pgbkp pitr-member ACTION` run there
 * (src/cmd/member_exec.h: here, or over ssh_command), every change to the
 * cluster's management one call to Patroni's REST API.  The order:
 *
 *   check    every member's Patroni answers and every member's host runs
 *            pitr-member probe: otherwise nothing is changed
 *   plan     the restore's dry run on the member to restore (the leader,
 *            or --instance); a target it refuses stops pitr here
 *   confirm  --yes, or the cluster's name typed on a terminal
 *   pause    Patroni's maintenance mode: it starts, stops and promotes
 *            nothing while pitr works (PATCH /config {"pause": true})
 *   stop     PostgreSQL on every replica, then on the primary (fast)
 *   keep     the primary's data directory renamed DATA.pitr-STAMP (default;
 *            --no-keep removes it, --delta restores over it)
 *   recover  restore in place, recover on a private socket to the target,
 *            promote (a new timeline, archived into the same repository)
 *   rebuild  every replica from the repository (restore --standby --delta
 *            of the same backup, following the new timeline), in a
 *            directory Patroni does not look at, put in place whole; when
 *            that fails its data directory is emptied and, after the
 *            resume, Patroni reinitializes it (POST /reinitialize)
 *   start    the recovered primary with its own configuration: paused
 *            Patroni sees a running primary and takes the leader key (the
 *            system identifier is unchanged, so the DCS's initialize key
 *            still matches; Patroni writes the new timeline's history and
 *            optime itself: no `patronictl remove` is needed)
 *   resume   Patroni manages the cluster again; pitr waits until every
 *            member runs, the replicas on the new timeline
 *
 * A failure stops pitr where it is, with Patroni left paused, and says what
 * was changed and how to undo it; `pitr --undo` puts the directory kept
 * aside back (the PITR's result kept as DATA.undone-STAMP) and rebuilds the
 * replicas through Patroni.
 *
 * check, plan and confirm are in pitr_plan.c; this file runs the rest.
 */
#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster/patroni.h"
#include "cmd/cmd.h"
#include "cmd/member_exec.h"
#include "cmd/pitr.h"
#include "common/log.h"

static volatile sig_atomic_t pitr_stop;
static volatile pid_t step_pid;

static void
on_signal(int sig)
{
	pitr_stop = sig;
	if (step_pid > 0)
		kill(step_pid, SIGTERM);
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static PitrStep *
step_begin(Pitr *p, const char *fmt,...) PGB_PRINTF(2, 3);

static PitrStep *
step_begin(Pitr *p, const char *fmt,...)
{
	PitrStep   *s = &p->steps[p->nsteps < MAX_STEPS - 1 ? p->nsteps++ : p->nsteps];
	va_list		ap;

	memset(s, 0, sizeof(*s));
	va_start(ap, fmt);
	vsnprintf(s->name, sizeof(s->name), fmt, ap);
	va_end(ap);
	s->seconds = now_seconds();
	log_info("pitr: %s ...", s->name);
	return s;
}

static void
step_end(PitrStep *s)
{
	s->seconds = now_seconds() - s->seconds;
	log_info("pitr: %s: done in %.1f s%s%s", s->name, s->seconds, s->note[0] ? ": " : "", s->note);
}

/* Log what a step printed besides its results, one line each. */
static void
log_step_text(const PitrMember *pm, const MemberResult *r)
{
	char	   *copy = r->text ? strdup(r->text) : NULL;
	char	   *save = NULL;

	for (char *l = copy ? strtok_r(copy, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save))
		log_info("  %s: %s", pm->m->name, l);
	free(copy);
}

int
pitr_run_step(Pitr *p, int i, const char *action, const char *const *extra, MemberResult *r, PgbError *err)
{
	const char *args[40];
	int			n = 0;

	args[n++] = action;
	for (int k = 0; extra && extra[k] && n < 39; k++)
		args[n++] = extra[k];
	args[n] = NULL;
	if (member_exec(p->cfg, p->mem[i].m, args, r, &step_pid, err) != 0)
		return -1;
	log_step_text(&p->mem[i], r);
	if (pitr_stop)
		return pgb_error(err, EXIT_INTERRUPTED, "interrupted during %s on %s", action, p->mem[i].m->name);
	if (r->status != 0)
		return member_result_error(r, p->mem[i].m, action, err);
	return 0;
}

/*
 * Wait until ok(member state) holds for member i (or for every member
 * when i < 0), asking Patroni every second, at most timeout seconds.
 */
static int
wait_patroni(Pitr *p, int i, bool (*ok) (const Pitr *, int, const PatroniMember *), const char *what,
			 PgbError *err)
{
	double		until = now_seconds() + p->cfg->pitr_timeout;
	char		last[1400] = "";

	while (!pitr_stop)
	{
		bool		all = true;

		for (int k = (i < 0 ? 0 : i); k < (i < 0 ? p->n : i + 1); k++)
		{
			PgbError	e = {0};

			if (patroni_member_state(p->cfg, p->mem[k].m, &p->mem[k].pat, &e) != 0 ||
				!ok(p, k, &p->mem[k].pat))
			{
				all = false;
				snprintf(last, sizeof(last), "%s: %s", p->mem[k].m->name,
						 e.code ? e.msg : p->mem[k].pat.state[0] ? p->mem[k].pat.state : "no state");
				if (e.code == 0)
					snprintf(last + strlen(last), sizeof(last) - strlen(last), ", role %s, timeline %d",
							 p->mem[k].pat.role, p->mem[k].pat.timeline);
				break;
			}
		}
		if (all)
			return 0;
		if (now_seconds() > until)
			return pgb_error(err, EXIT_TIMEOUT, "%s: not after %d s (%s)", what, p->cfg->pitr_timeout, last),
				pgb_hint(err, "raise pitr_timeout, or look at Patroni's log on that member");
		sleep(1);
	}
	return pgb_error(err, EXIT_INTERRUPTED, "interrupted while waiting: %s", what);
}

static bool
is_paused(const Pitr *p, int i, const PatroniMember *s)
{
	return s->pause;
}

static bool
is_resumed(const Pitr *p, int i, const PatroniMember *s)
{
	return !s->pause;
}

static bool
is_leader(const Pitr *p, int i, const PatroniMember *s)
{
	return patroni_role_is_primary(s->role) && strcmp(s->state, "running") == 0 &&
		(p->timeline == 0 || s->timeline == p->timeline);
}

/* Every member runs: the primary leads, the others are replicas on its timeline. */
static bool
is_back(const Pitr *p, int i, const PatroniMember *s)
{
	if (s->pause || (strcmp(s->state, "running") != 0 && strcmp(s->state, "streaming") != 0))
		return false;
	if (i == p->primary)
		return patroni_role_is_primary(s->role);
	return strcmp(s->role, "replica") == 0 && (p->timeline == 0 || s->timeline == 0 || s->timeline == p->timeline);
}

static int
pause_cluster(Pitr *p, bool pause, PgbError *err)
{
	PitrStep   *s = step_begin(p, pause ? "pause Patroni" : "resume Patroni");

	if (patroni_set_pause(p->cfg, p->mem[p->primary].m, pause, err) != 0)
		return -1;
	if (pause)
		p->paused = true;
	if (wait_patroni(p, -1, pause ? is_paused : is_resumed,
					 pause ? "every member in maintenance mode" : "every member out of maintenance mode", err) != 0)
		return -1;
	if (!pause)
		p->paused = false;
	step_end(s);
	return 0;
}

static int
stop_all(Pitr *p, PgbError *err)
{
	MemberResult r = {0};

	/* the replicas first: the primary's last WAL is archived as it stops */
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < p->n; i++)
		{
			PitrStep   *s;

			if ((i == p->primary) != (pass == 1))
				continue;
			s = step_begin(p, "stop PostgreSQL on %s", p->mem[i].m->name);
			p->stopped = true;
			if (pitr_run_step(p, i, "stop", NULL, &r, err) != 0)
			{
				member_result_free(&r);
				return -1;
			}
			member_result_free(&r);
			step_end(s);
		}
	return 0;
}

static int
recover_primary(Pitr *p, PgbError *err)
{
	const Config *cfg = p->cfg;
	PitrMember *pm = &p->mem[p->primary];
	const char *extra[24];
	int			n = 0;
	MemberResult r = {0};
	PitrStep   *s;
	const char *v;

	if (!cfg->delta)
	{
		s = step_begin(p, cfg->no_keep ? "remove %s's data directory" : "keep %s's data directory aside",
					   pm->m->name);
		if (cfg->no_keep)
		{
			if (pitr_run_step(p, p->primary, "remove", NULL, &r, err) != 0)
				goto fail;
			p->removed = true;
		}
		else
		{
			pitr_target_args(cfg, p->backup, extra, &n);
			extra[n++] = "--stamp";
			extra[n++] = p->stamp;
			extra[n] = NULL;
			if (pitr_run_step(p, p->primary, "aside", extra, &r, err) != 0)
				goto fail;
			snprintf(p->kept, sizeof(p->kept), "%s", (v = member_result(&r, "aside")) ? v : "");
			snprintf(s->note, sizeof(s->note), "%s", p->kept);
		}
		member_result_free(&r);
		step_end(s);
	}
	s = step_begin(p, "restore %s and recover it to the target", pm->m->name);
	n = 0;
	pitr_target_args(cfg, p->backup, extra, &n);
	if (cfg->delta)
		extra[n++] = "--delta";
	extra[n] = NULL;
	if (pitr_run_step(p, p->primary, "recover", extra, &r, err) != 0)
		goto fail;
	p->timeline = (v = member_result(&r, "timeline")) ? atoi(v) : 0;
	{
		const char *lsn = member_result(&r, "lsn");
		const char *how = member_result(&r, "recovery");

		snprintf(s->note, sizeof(s->note), "timeline %d at %s; %s", p->timeline, lsn ? lsn : "?", how ? how : "");
	}
	member_result_free(&r);
	step_end(s);
	return 0;
fail:
	member_result_free(&r);
	return -1;
}

static int
start_primary(Pitr *p, PgbError *err)
{
	MemberResult r = {0};
	PitrStep   *s = step_begin(p, "start %s as the primary", p->mem[p->primary].m->name);

	if (pitr_run_step(p, p->primary, "start", NULL, &r, err) != 0)
	{
		member_result_free(&r);
		return -1;
	}
	member_result_free(&r);
	if (wait_patroni(p, p->primary, is_leader, "Patroni on the restored member holding the leader key", err) != 0)
		return -1;
	if (p->timeline == 0)
		p->timeline = p->mem[p->primary].pat.timeline;
	snprintf(s->note, sizeof(s->note), "leader on timeline %d", p->mem[p->primary].pat.timeline);
	step_end(s);
	return 0;
}

static int
rebuild_replicas(Pitr *p, PgbError *err)
{
	for (int i = 0; i < p->n; i++)
	{
		MemberResult r = {0};
		PgbError	e = {0};
		PitrStep   *s;
		const char *extra[] = {"--set", p->backup, NULL};

		if (i == p->primary)
			continue;
		s = step_begin(p, "rebuild %s", p->mem[i].m->name);
		if (!p->cfg->undo && pitr_run_step(p, i, "standby", extra, &r, &e) == 0)
			snprintf(s->note, sizeof(s->note), "from backup %s", p->backup);
		else
		{
			if (!p->cfg->undo)
				log_warn("pitr: %s could not be rebuilt from the repository (%s): Patroni will clone it",
						 p->mem[i].m->name, e.msg);
			member_result_free(&r);
			if (pitr_stop || pitr_run_step(p, i, "empty", NULL, &r, err) != 0)
			{
				member_result_free(&r);
				return -1;
			}
			p->clone[i] = true;
			snprintf(s->note, sizeof(s->note), "emptied: Patroni clones it from the leader after the resume");
		}
		member_result_free(&r);
		step_end(s);
	}
	return 0;
}

static int
undo_swap(Pitr *p, PgbError *err)
{
	MemberResult r = {0};
	PitrStep   *s = step_begin(p, "put %s back on %s", p->mem[p->primary].aside, p->mem[p->primary].m->name);
	const char *v;

	if (pitr_run_step(p, p->primary, "undo", NULL, &r, err) != 0)
	{
		member_result_free(&r);
		return -1;
	}
	snprintf(s->note, sizeof(s->note), "the PITR's directory kept as %s",
			 (v = member_result(&r, "undone")) ? v : "?");
	member_result_free(&r);
	step_end(s);
	return 0;
}

/* What was changed and how to go back, as the failure's hint. */
static void
failure_hint(const Pitr *p, PgbError *err)
{
	const PitrMember *pm = &p->mem[p->primary];

	if (p->kept[0])
		pgb_hint(err, "the old data directory of %s is kept at %s:%s; pgbkp pitr --undo puts it back "
				 "(by hand: stop PostgreSQL there, move %s away, rename %s to %s); Patroni is still paused "
				 "(patronictl resume)", pm->m->name, pm->host, p->kept, pm->data, p->kept, pm->data);
	else if (p->removed || (p->stopped && p->cfg->delta))
		pgb_hint(err, "%s's data directory was %s: run the same pitr again; Patroni is still paused "
				 "(patronictl resume)", pm->m->name, p->removed ? "removed" : "being restored over");
	else if (p->stopped)
		pgb_hint(err, "nothing was restored yet; PostgreSQL was stopped on some members and Patroni is paused: "
				 "patronictl resume starts them again");
	else if (p->paused)
		pgb_hint(err, "nothing was changed but Patroni's maintenance mode: patronictl resume");
}

static void
report(const Pitr *p)
{
	double		total = now_seconds() - p->started;

	printf("pitr of cluster %s %s in %.1f s\n", p->cfg->cluster, p->cfg->undo ? "undone" : "done", total);
	for (int i = 0; i < p->nsteps; i++)
		printf("  %6.1f s  %s%s%s\n", p->steps[i].seconds, p->steps[i].name, p->steps[i].note[0] ? ": " : "",
			   p->steps[i].note);
	printf("cluster:\n");
	for (int i = 0; i < p->n; i++)
		printf("  %-20s %-15s %-8s %-8s timeline %d\n", p->mem[i].m->name, p->mem[i].m->addr, p->mem[i].pat.role,
			   p->mem[i].pat.state, p->mem[i].pat.timeline);
}

static int
pitr_run(Pitr *p, PgbError *err)
{
	if (pause_cluster(p, true, err) != 0 || stop_all(p, err) != 0)
		return -1;
	if (p->cfg->undo ? undo_swap(p, err) != 0 : recover_primary(p, err) != 0)
		return -1;
	if (p->cfg->undo)
		p->timeline = 0;
	/*
	 * The replicas before the primary starts: once a leader runs on a new
	 * timeline, a paused Patroni with use_pg_rewind still rewinds and
	 * starts a stopped replica that it finds diverged (ha.py), racing the
	 * rebuild.  Restored from the primary's backup, a replica has not
	 * diverged and stays stopped until the cluster is resumed.
	 */
	if (rebuild_replicas(p, err) != 0 || start_primary(p, err) != 0 || pause_cluster(p, false, err) != 0)
		return -1;
	/* emptied replicas: Patroni's own reinitialize (a resumed Patroni writes its cache file there) */
	for (int i = 0; i < p->n; i++)
		if (p->clone[i])
		{
			PitrStep   *s = step_begin(p, "reinitialize %s through Patroni", p->mem[i].m->name);
			int			rc = -1;

			for (int attempt = 0; attempt < 30 && rc != 0 && !pitr_stop; attempt++)
			{
				if ((rc = patroni_reinitialize(p->cfg, p->mem[i].m, err)) != 0 && err->code == EXIT_CONFIG)
					return -1;
				if (rc != 0)
					sleep(2);	/* Patroni answers 503 while it settles after the resume */
			}
			if (rc != 0)
				return -1;
			step_end(s);
		}
	{
		PitrStep   *s = step_begin(p, "wait for every member to run");

		if (wait_patroni(p, -1, is_back, "every member running, the replicas following the primary", err) != 0)
			return -1;
		step_end(s);
	}
	return 0;
}

int
cmd_pitr(const Config *cfg, PgbError *err)
{
	Pitr	   *p = calloc(1, sizeof(Pitr));
	struct sigaction sa = {0};
	time_t		now = time(NULL);
	int			rc = -1;

	if (p == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	p->cfg = cfg;
	p->child = &step_pid;
	p->started = now_seconds();
	strftime(p->stamp, sizeof(p->stamp), "%Y%m%dT%H%M%SZ", gmtime(&now));
	if (!cfg->patroni || cfg->nmembers == 0)
	{
		free(p);
		return pgb_error(err, EXIT_CONFIG, "pitr restores a Patroni cluster, and none is configured"),
			pgb_hint(err, "restore a single server with pgbkp restore; pitr needs the cluster's inventory");
	}
	if (cfg->undo && (cfg->delta || cfg->no_keep || cfg->target_time || cfg->target_lsn || cfg->target_xid ||
					  cfg->target_name || cfg->target_immediate || cfg->set))
	{
		free(p);
		return pgb_error(err, EXIT_USAGE, "pitr --undo takes no recovery target, --set, --delta or --no-keep");
	}
	if (cfg->delta && cfg->no_keep)
	{
		free(p);
		return pgb_error(err, EXIT_USAGE, "--delta and --no-keep exclude each other (--delta keeps nothing either)");
	}
	p->n = cfg->nmembers;
	for (int i = 0; i < p->n; i++)
		p->mem[i].m = &cfg->members[i];
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (pitr_check_members(p, err) != 0 || pitr_choose_primary(p, err) != 0 || (!cfg->undo && pitr_make_plan(p, err) != 0))
		goto out;
	if (cfg->output && strcmp(cfg->output, "json") == 0)
		pitr_print_plan_json(p);
	else
		pitr_print_plan_text(p);
	fflush(stdout);
	if (cfg->dry_run || pitr_confirm(p, err) != 0)
	{
		rc = cfg->dry_run ? 0 : -1;
		goto out;
	}
	if (pitr_run(p, err) != 0)
	{
		failure_hint(p, err);
		goto out;
	}
	report(p);
	rc = 0;
out:
	if (p->plan)
		json_object_put(p->plan);
	free(p);
	return rc;
}
