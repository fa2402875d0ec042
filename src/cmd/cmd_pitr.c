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
#include "common/log.h"

#define FREE_SPACE_MARGIN (256ULL * 1024 * 1024)
#define MAX_STEPS 48

typedef struct PitrMember
{
	const ClusterMember *m;
	PatroniMember pat;
	bool		local;
	bool		running;
	unsigned long long free;
	char		host[256];
	char		data[1024];
	char		aside[1024];
} PitrMember;

typedef struct PitrStep
{
	char		name[96];
	double		seconds;
	char		note[1400];
} PitrStep;

typedef struct Pitr
{
	const Config *cfg;
	int			n;
	PitrMember	mem[CONFIG_MAX_MEMBERS];
	int			primary;		/* index of the member restored */
	char		stamp[32];
	char		backup[128];
	long long	files;
	long long	bytes;
	json_object *plan;
	int			nsteps;
	PitrStep	steps[MAX_STEPS];
	double		started;
	/* what has been changed, for the failure's hint */
	bool		paused;
	bool		stopped;
	char		kept[1100];
	bool		removed;
	int			timeline;		/* the recovered primary's */
	bool		clone[CONFIG_MAX_MEMBERS];	/* emptied: Patroni reinitializes it after resume */
} Pitr;

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

/* Run pitr-member action (and extra args) for member i; r is filled. */
static int
run_step(Pitr *p, int i, const char *action, const char *const *extra, MemberResult *r, PgbError *err)
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

/* The restore's options pitr passes on: the target and the backup. */
static void
target_args(const Config *cfg, const char *set, const char **a, int *n)
{
#define ADD(opt, val) do { if (val) { a[(*n)++] = opt; a[(*n)++] = val; } } while (0)
	ADD("--set", set);
	ADD("--time", cfg->target_time);
	ADD("--lsn", cfg->target_lsn);
	ADD("--xid", cfg->target_xid);
	ADD("--name", cfg->target_name);
	ADD("--target-timeline", cfg->target_timeline);
#undef ADD
	if (cfg->target_immediate)
		a[(*n)++] = "--immediate";
	if (cfg->target_exclusive)
		a[(*n)++] = "--target-exclusive";
	a[*n] = NULL;
}

/* Every member's Patroni and host, or the list of those that cannot be reached. */
static int
check_members(Pitr *p, PgbError *err)
{
	char		bad[PGB_ERRMSG_MAX] = "";
	size_t		nb = 0;

	for (int i = 0; i < p->n; i++)
	{
		PitrMember *pm = &p->mem[i];
		PgbError	e = {0};
		MemberResult r = {0};
		const char *v;

		pm->local = member_is_local(pm->m);
		if (patroni_member_state(p->cfg, pm->m, &pm->pat, &e) != 0)
		{
			nb += (size_t) snprintf(bad + nb, nb < sizeof(bad) ? sizeof(bad) - nb : 0, "%s%s: %s", nb ? "; " : "",
									pm->m->name, e.msg);
			continue;
		}
		if (member_exec(p->cfg, pm->m, (const char *[]) {"probe", NULL}, &r, &step_pid, &e) != 0 || r.status != 0)
		{
			nb += (size_t) snprintf(bad + nb, nb < sizeof(bad) ? sizeof(bad) - nb : 0, "%s%s: host %s (%s): %s",
									nb ? "; " : "", pm->m->name, pm->m->addr, pm->local ? "here" : "over ssh",
									e.code ? e.msg : r.error[0] ? r.error : "pitr-member probe failed");
			member_result_free(&r);
			continue;
		}
		snprintf(pm->host, sizeof(pm->host), "%s", (v = member_result(&r, "host")) ? v : "?");
		snprintf(pm->data, sizeof(pm->data), "%s", (v = member_result(&r, "data")) ? v : "");
		snprintf(pm->aside, sizeof(pm->aside), "%s", (v = member_result(&r, "aside")) ? v : "");
		pm->running = (v = member_result(&r, "running")) && strcmp(v, "1") == 0;
		pm->free = (v = member_result(&r, "free")) ? strtoull(v, NULL, 10) : 0;
		if ((v = member_result(&r, "exists")) && strcmp(v, "1") == 0 &&
			(v = member_result(&r, "owner")) && strcmp(v, "0") == 0)
		{
			member_result_free(&r);
			return pgb_error(err, EXIT_REFUSED, "pitr does not run as the owner of %s's data directory \"%s\"",
							 pm->m->name, pm->data),
				pgb_hint(err, "run it as the database's operating system user, e.g. sudo -u postgres pgbkp pitr ...");
		}
		member_result_free(&r);
	}
	if (nb)
		return pgb_error(err, EXIT_DATABASE, "members that cannot be reached: %s", bad),
			pgb_hint(err, "pitr changes nothing unless every member's Patroni and host answer; %s",
					 "members on other hosts are reached with ssh_command");
	return 0;
}

/* The member to restore: --instance, else the leader; --undo: the newest kept directory. */
static int
choose_primary(Pitr *p, PgbError *err)
{
	p->primary = -1;
	if (p->cfg->undo)
	{
		for (int i = 0; i < p->n; i++)
		{
			const char *a = strrchr(p->mem[i].aside, '-');

			if (p->mem[i].aside[0] && (p->primary < 0 || strcmp(a, strrchr(p->mem[p->primary].aside, '-')) > 0))
				p->primary = i;
		}
		if (p->primary < 0)
			return pgb_error(err, EXIT_NOT_FOUND, "no member has a data directory kept aside by pitr"),
				pgb_hint(err, "pitr --undo puts back what an earlier pitr kept aside (not with --delta or --no-keep)");
		return 0;
	}
	if (p->cfg->instance)
	{
		for (int i = 0; i < p->n; i++)
			if (strcmp(p->mem[i].m->name, p->cfg->instance) == 0)
				p->primary = i;
	}
	else
		for (int i = 0; i < p->n; i++)
			if (patroni_role_is_primary(p->mem[i].pat.role) && strcmp(p->mem[i].pat.state, "running") == 0)
				p->primary = i;
	if (p->primary < 0)
		return pgb_error(err, EXIT_REFUSED, "no member of cluster \"%s\" is the leader now", p->cfg->cluster),
			pgb_hint(err, "name the member to restore with --instance");
	return 0;
}

static const char *
json_str(json_object *o, const char *key)
{
	json_object *v;

	return o && json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
}

/* The restore's plan, from the member that will be restored. */
static int
make_plan(Pitr *p, PgbError *err)
{
	const char *extra[24];
	int			n = 0;
	MemberResult r = {0};
	const char *plan;
	json_object *v;
	PitrMember *pm = &p->mem[p->primary];

	target_args(p->cfg, p->cfg->set, extra, &n);
	if (run_step(p, p->primary, "plan", extra, &r, err) != 0)
	{
		member_result_free(&r);
		return -1;
	}
	plan = member_result(&r, "plan");
	p->plan = plan ? json_tokener_parse(plan) : NULL;
	member_result_free(&r);
	if (p->plan == NULL)
		return pgb_error(err, EXIT_INTERNAL, "the restore's plan on %s could not be read", pm->m->name);
	snprintf(p->backup, sizeof(p->backup), "%s", json_str(p->plan, "backup"));
	p->files = json_object_object_get_ex(p->plan, "files", &v) ? json_object_get_int64(v) : 0;
	p->bytes = json_object_object_get_ex(p->plan, "bytes", &v) ? json_object_get_int64(v) : 0;
	if (!p->cfg->delta && !p->cfg->no_keep && pm->free < (unsigned long long) p->bytes + FREE_SPACE_MARGIN)
		return pgb_error(err, EXIT_IO,
						 "not enough free space on %s to keep its data directory aside: %.1f MB free, about %.1f MB needed",
						 pm->m->name, pm->free / 1048576.0, (p->bytes + FREE_SPACE_MARGIN) / 1048576.0),
			pgb_hint(err, "free space, or give up the old directory with --no-keep (or restore over it with --delta)");
	return 0;
}

static const char *
keep_words(const Config *cfg)
{
	return cfg->delta ? "restored over in place (--delta): nothing is kept" :
		cfg->no_keep ? "removed (--no-keep): nothing is kept" : "kept aside as";
}

static void
print_plan_text(const Pitr *p)
{
	const Config *cfg = p->cfg;
	const PitrMember *pm = &p->mem[p->primary];
	json_object *v,
			   *w;

	printf("pitr plan for cluster %s%s\n", cfg->cluster, cfg->undo ? " (undo)" : "");
	printf("members:\n");
	for (int i = 0; i < p->n; i++)
		printf("  %-20s %-15s %-8s %-8s timeline %-3d %s, data %s%s\n", p->mem[i].m->name, p->mem[i].m->addr,
			   p->mem[i].pat.role[0] ? p->mem[i].pat.role : "?", p->mem[i].pat.state[0] ? p->mem[i].pat.state : "?",
			   p->mem[i].pat.timeline, p->mem[i].local ? "here" : "over ssh", p->mem[i].data,
			   i == p->primary ? "  <- restored" : "");
	if (cfg->undo)
	{
		printf("put back: %s on %s (the current data directory kept as %s.undone-STAMP)\n", pm->aside,
			   pm->m->name, pm->data);
		printf("replicas: emptied, then cloned by Patroni from %s\n", pm->m->name);
	}
	else
	{
		printf("restore: %s on %s, data directory %s\n", p->backup, pm->m->name, pm->data);
		if (!cfg->delta && !cfg->no_keep)
			printf("old data directory: %s %s.pitr-%s (%.1f MB free, about %.1f MB needed)\n", keep_words(cfg),
				   pm->data, p->stamp, pm->free / 1048576.0, (p->bytes + FREE_SPACE_MARGIN) / 1048576.0);
		else
			printf("old data directory: %s\n", keep_words(cfg));
		if (json_object_object_get_ex(p->plan, "passed_over", &v))
			for (size_t i = 0; i < json_object_array_length(v); i++)
				printf("newer backup %s passed over: %s\n", json_str(json_object_array_get_idx(v, i), "label"),
					   json_str(json_object_array_get_idx(v, i), "reason"));
		if (p->files > 0)
			printf("write %lld files, %.1f MB\n", p->files, p->bytes / 1048576.0);
		else					/* pgBackRest does not count a backup's files */
			printf("write %.1f MB\n", p->bytes / 1048576.0);
		if (json_object_object_get_ex(p->plan, "command", &v))
			printf("restore with: %s\n", json_object_get_string(v));
		if (json_object_object_get_ex(p->plan, "wal", &w))
			printf("replay WAL %s .. %s along timeline %s, then promote to a new timeline\n", json_str(w, "first"),
				   json_str(w, "last"), json_str(w, "timeline"));
		if (json_object_object_get_ex(p->plan, "recovery_settings", &v))
		{
			json_object_object_foreach(v, key, val)
				if (strncmp(key, "recovery_target", 15) == 0)
					printf("recovery setting: %s = '%s'\n", key, json_object_get_string(val));
		}
		printf("replicas: rebuilt from backup %s with restore --standby --delta (else cloned by Patroni)\n",
			   p->backup);
	}
	printf("steps: pause Patroni, stop every member, %s, %s, rebuild the replicas, start the primary, resume Patroni\n",
		   cfg->undo ? "swap the directories back" : cfg->delta ? "restore in place" : cfg->no_keep ?
		   "remove the old directory" : "keep the old directory aside",
		   cfg->undo ? "start the primary" : "recover to the target and promote");
}

static void
print_plan_json(const Pitr *p)
{
	json_object *o = json_object_new_object();
	json_object *ms = json_object_new_array();

	json_object_object_add(o, "cluster", json_object_new_string(p->cfg->cluster));
	json_object_object_add(o, "undo", json_object_new_boolean(p->cfg->undo));
	for (int i = 0; i < p->n; i++)
	{
		json_object *m = json_object_new_object();

		json_object_object_add(m, "name", json_object_new_string(p->mem[i].m->name));
		json_object_object_add(m, "address", json_object_new_string(p->mem[i].m->addr));
		json_object_object_add(m, "role", json_object_new_string(p->mem[i].pat.role));
		json_object_object_add(m, "state", json_object_new_string(p->mem[i].pat.state));
		json_object_object_add(m, "timeline", json_object_new_int(p->mem[i].pat.timeline));
		json_object_object_add(m, "reached", json_object_new_string(p->mem[i].local ? "here" : "ssh"));
		json_object_object_add(m, "data", json_object_new_string(p->mem[i].data));
		json_object_object_add(m, "restored", json_object_new_boolean(i == p->primary));
		json_object_array_add(ms, m);
	}
	json_object_object_add(o, "members", ms);
	json_object_object_add(o, "old_data",
						   json_object_new_string(p->cfg->undo ? "undone" : p->cfg->delta ? "delta" :
												  p->cfg->no_keep ? "removed" : "kept"));
	if (p->plan)
		json_object_object_add(o, "restore", json_object_get(p->plan));
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* --yes, or the cluster's name typed on a terminal. */
static int
confirm(const Pitr *p, PgbError *err)
{
	char		line[256];

	if (p->cfg->yes)
		return 0;
	if (!isatty(STDIN_FILENO))
		return pgb_error(err, EXIT_USAGE, "pitr changes every member of cluster \"%s\" and asks first",
						 p->cfg->cluster),
			pgb_hint(err, "read the plan (pitr --dry-run), then run it with --yes");
	printf("Type the cluster's name (%s) to go on: ", p->cfg->cluster);
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return pgb_error(err, EXIT_USAGE, "not confirmed");
	line[strcspn(line, "\r\n")] = '\0';
	if (strcmp(line, p->cfg->cluster) != 0)
		return pgb_error(err, EXIT_USAGE, "not confirmed: nothing was changed");
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
			if (run_step(p, i, "stop", NULL, &r, err) != 0)
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
			if (run_step(p, p->primary, "remove", NULL, &r, err) != 0)
				goto fail;
			p->removed = true;
		}
		else
		{
			target_args(cfg, p->backup, extra, &n);
			extra[n++] = "--stamp";
			extra[n++] = p->stamp;
			extra[n] = NULL;
			if (run_step(p, p->primary, "aside", extra, &r, err) != 0)
				goto fail;
			snprintf(p->kept, sizeof(p->kept), "%s", (v = member_result(&r, "aside")) ? v : "");
			snprintf(s->note, sizeof(s->note), "%s", p->kept);
		}
		member_result_free(&r);
		step_end(s);
	}
	s = step_begin(p, "restore %s and recover it to the target", pm->m->name);
	n = 0;
	target_args(cfg, p->backup, extra, &n);
	if (cfg->delta)
		extra[n++] = "--delta";
	extra[n] = NULL;
	if (run_step(p, p->primary, "recover", extra, &r, err) != 0)
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

	if (run_step(p, p->primary, "start", NULL, &r, err) != 0)
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
		if (!p->cfg->undo && run_step(p, i, "standby", extra, &r, &e) == 0)
			snprintf(s->note, sizeof(s->note), "from backup %s", p->backup);
		else
		{
			if (!p->cfg->undo)
				log_warn("pitr: %s could not be rebuilt from the repository (%s): Patroni will clone it",
						 p->mem[i].m->name, e.msg);
			member_result_free(&r);
			if (pitr_stop || run_step(p, i, "empty", NULL, &r, err) != 0)
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

	if (run_step(p, p->primary, "undo", NULL, &r, err) != 0)
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
	if (check_members(p, err) != 0 || choose_primary(p, err) != 0 || (!cfg->undo && make_plan(p, err) != 0))
		goto out;
	if (cfg->output && strcmp(cfg->output, "json") == 0)
		print_plan_json(p);
	else
		print_plan_text(p);
	fflush(stdout);
	if (cfg->dry_run || confirm(p, err) != 0)
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
