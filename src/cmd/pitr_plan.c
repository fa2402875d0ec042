/*
 * pitr's plan (see pitr.h): every member checked, the member to restore
 * chosen, the restore's dry run on it, shown as text or JSON and confirmed,
 * all before anything is changed.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/pitr.h"

/* The restore's options pitr passes on: the target and the backup. */
void
pitr_target_args(const Config *cfg, const char *set, const char **a, int *n)
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
int
pitr_check_members(Pitr *p, PgbError *err)
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
		if (member_exec(p->cfg, pm->m, (const char *[]) {"probe", NULL}, &r, p->child, &e) != 0 || r.status != 0)
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
int
pitr_choose_primary(Pitr *p, PgbError *err)
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
int
pitr_make_plan(Pitr *p, PgbError *err)
{
	const char *extra[24];
	int			n = 0;
	MemberResult r = {0};
	const char *plan;
	json_object *v;
	PitrMember *pm = &p->mem[p->primary];

	pitr_target_args(p->cfg, p->cfg->set, extra, &n);
	if (pitr_run_step(p, p->primary, "plan", extra, &r, err) != 0)
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

void
pitr_print_plan_text(const Pitr *p)
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

void
pitr_print_plan_json(const Pitr *p)
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
int
pitr_confirm(const Pitr *p, PgbError *err)
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
