/*
 * pgbkp restore from a pgBackRest repository.  pgbkp chooses the backup set
 * and checks the recoverable window (pgbackrest/window.h) before anything
 * is written, checks the directory as its own restore does (no running
 * server, empty unless --delta or --force), then runs `pgbackrest restore`
 * with --set, --type, --target, --target-action and the rest spelled out,
 * so pgBackRest restores exactly what was planned.  A copy restored away
 * from the cluster's own data directory gets archive_mode off
 * (--archive-mode=off), as pgbkp's own restore does: it must never archive
 * into the source's repository.  Recovery follows the timeline pgbkp's own
 * restore would name (--target-timeline, latest for a standby, else the
 * one the window was checked on); --tablespace-map OID=PATH goes to
 * pgBackRest as it is, its destination checked as the data directory is.
 * clone, pitr and drill restore through here too.  --dry-run prints the
 * plan and writes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cluster/primary.h"
#include "cmd/pgbr.h"
#include "common/fileio.h"
#include "common/log.h"
#include "pgbackrest/exec.h"
#include "pgbackrest/tablespace.h"
#include "pgbackrest/window.h"
#include "restore/dirs.h"

#define PGBR_RESTORE_ARG 512
#define PGBR_TABLESPACE_MAX 8

/* The restorable backup the target needs: the newest one before it, or the one --set names. */
static const PgbrBackup *
choose_backup(const Config *cfg, const PgbrInfo *info, const RestoreTarget *t)
{
	const PgbrBackup *chosen = NULL;

	for (int i = 0; i < info->nbackups; i++)
	{
		const PgbrBackup *b = &info->backups[i];

		if (!pgbr_backup_restorable(info, b))
			continue;
		if (cfg->set && strcmp(b->label, cfg->set) != 0)
			continue;
		/* pgBackRest's stop times are whole seconds: the backup ended before the next second */
		if (t->kind == TARGET_TIME && b->stop_time + 1000000 > t->time)
			continue;
		if (t->kind == TARGET_LSN && b->stop_lsn > t->lsn)
			continue;
		chosen = b;
	}
	return chosen;
}

static int
window_error(const Config *cfg, int i, const PgbrWindow *w, const char *what, PgbError *err)
{
	char		a[64] = "",
				b[64] = "";

	if (w && w->first)
		time_format_utc(w->start, a, sizeof(a));
	if (w && w->has_commit)
		time_format_utc(w->last_commit, b, sizeof(b));
	pgb_error(err, EXIT_TARGET, "%s in repository \"%s\" (pgBackRest)", what, cfg->repos[i].name);
	if (w && w->first)
		return pgb_hint(err, "the recoverable window is %s .. %s", a, w->has_commit ? b : "(no commit archived yet)");
	return pgb_hint(err, "the repository has no restorable backup");
}

int
pgbr_restore_plan(const Config *cfg, int i, const RestoreTarget *target, PgbrChoice *out, PgbError *err)
{
	const RepoDef *def = &cfg->repos[i];
	PgbrInfo	info;
	PgbrWindow	w[PGBR_DB_MAX];
	const PgbrWindow *win = NULL;
	const PgbrBackup *b;
	int			nw = 0;
	int			rc = -1;

	memset(out, 0, sizeof(*out));
	if (pgbr_info_load(def, cfg->cluster, &info, err) != 0)
		return -1;
	/*
	 * Only time and LSN targets need the window's end (a member being
	 * rebuilt cannot read it), and pitr's recover step not again: its plan
	 * checked it while the data directory was still in place.
	 */
	if (pgbr_windows(def, cfg->cluster, &info,
					 cfg->window_end_checked || (target->kind != TARGET_TIME && target->kind != TARGET_LSN),
					 w, PGBR_DB_MAX, &nw, err) != 0)
		goto done;
	for (int k = 0; k < nw; k++)
		if (w[k].unread[0])
			log_info("repository \"%s\": the end of the archive was not read (%s): %s", def->name,
					 cfg->window_end_checked ? "pitr's plan checked it" : "not needed for this target", w[k].unread);
	if (cfg->set && pgbr_info_find(&info, cfg->set) == NULL)
	{
		pgb_error(err, EXIT_NOT_FOUND, "repository \"%s\" (pgBackRest) has no backup %s", def->name, cfg->set);
		goto done;
	}
	if (cfg->set && !pgbr_backup_restorable(&info, pgbr_info_find(&info, cfg->set)))
	{
		pgb_error(err, EXIT_CORRUPT, "backup %s in repository \"%s\" (pgBackRest) cannot be restored: "
				  "its WAL is not in the archive", cfg->set, def->name);
		goto done;
	}
	if (info.nbackups == 0)
	{
		pgb_error(err, EXIT_NOT_FOUND, "repository \"%s\" (pgBackRest) has no backups", def->name);
		goto done;
	}
	b = choose_backup(cfg, &info, target);
	for (int k = 0; k < nw; k++)
		if (b && w[k].db_id == b->db_id)
			win = &w[k];
	if (b == NULL)
	{
		window_error(cfg, i, nw > 0 ? &w[nw - 1] : NULL, target->kind == TARGET_TIME ?
					 "no backup ended before the target time" :
					 target->kind == TARGET_LSN ? "no backup ended before the target LSN" :
					 "no restorable backup", err);
		goto done;
	}
	if (target->kind == TARGET_TIME && win && win->has_commit && target->time >= win->last_commit)
	{
		window_error(cfg, i, win, "the target time is after the last archived commit", err);
		goto done;
	}
	if (target->kind == TARGET_TIME && (win == NULL || (!win->has_commit && !win->unread[0])))
		log_warn("repository \"%s\": no commit was found in the newest archived WAL, so the end of the window "
				 "cannot be checked", def->name);
	if (target->kind == TARGET_LSN && win && !win->unread[0] && target->lsn > win->archived_end)
	{
		window_error(cfg, i, win, "the target LSN is past the archived WAL", err);
		goto done;
	}
	out->repo_index = i;
	snprintf(out->label, sizeof(out->label), "%s", b->label);
	snprintf(out->type, sizeof(out->type), "%s", b->type);
	out->stop_time = b->stop_time;
	out->bytes = b->size;
	if (win)
	{
		out->timeline = win->tli;
		out->has_commit = win->has_commit;
		out->last_commit = win->last_commit;
	}
	rc = 0;
done:
	pgbr_info_free(&info);
	return rc;
}

/* The texts the options point to. */
typedef struct RestoreArgs
{
	char		pg_path[PGB_PATH_MAX + 16];
	char		set[96];
	char		type[32];
	char		target[PGBR_RESTORE_ARG];
	char		action[48];
	char		tli[16];			/* the timeline recovery follows; "": PostgreSQL's default */
	char		timeline[48];
	char		conninfo[PGBR_RESTORE_ARG];
	char		extra[4][PGBR_RESTORE_ARG];
	char		tsmap[PGBR_TABLESPACE_MAX][PGB_PATH_MAX + 80];
} RestoreArgs;

/*
 * The timeline recovery follows, as pgbkp's own restore chooses it: a
 * standby follows the newest, an explicit --target-timeline is honoured,
 * and otherwise the timeline the window was checked on is named
 * (PostgreSQL's default, latest, would follow any newer timeline without a
 * word).  False when nothing is known to name.
 */
static bool
recovery_timeline(const Config *cfg, const RestoreTarget *t, const PgbrChoice *c, char *out, size_t len)
{
	if (cfg->standby || t->timeline_request == TIMELINE_LATEST)
		snprintf(out, len, "latest");
	else if (t->timeline_request == TIMELINE_CURRENT)
		snprintf(out, len, "current");
	else if (t->timeline_request == TIMELINE_NUMBER)
		snprintf(out, len, "%u", t->timeline);
	else if (c->timeline > 0)
		snprintf(out, len, "%u", c->timeline);
	else
		return false;
	return true;
}

/* --type and --target for pgBackRest. */
static int
target_args(const RestoreTarget *t, RestoreArgs *a, PgbrRun *run, PgbError *err)
{
	static const char *const types[] = {
		[TARGET_LATEST] = "default", [TARGET_TIME] = "time", [TARGET_LSN] = "lsn",
		[TARGET_XID] = "xid", [TARGET_NAME] = "name", [TARGET_IMMEDIATE] = "immediate"
	};
	char		value[128] = "";

	snprintf(a->type, sizeof(a->type), "--type=%s", types[t->kind]);
	if (t->kind == TARGET_TIME)
		time_format_pg(t->time, value, sizeof(value));
	else if (t->kind == TARGET_LSN)
		lsn_format(t->lsn, value, sizeof(value));
	else if (t->kind == TARGET_XID || t->kind == TARGET_NAME)
		snprintf(value, sizeof(value), "%s", t->text);
	if (value[0] && snprintf(a->target, sizeof(a->target), "--target=%s", value) >= (int) sizeof(a->target))
		return pgb_error(err, EXIT_USAGE, "the recovery target is too long");
	pgbr_arg(run, a->type);
	if (value[0])
		pgbr_arg(run, a->target);
	return 0;
}

static int
build_run(const Config *cfg, const RestoreTarget *t, const PgbrChoice *c, const char *dir, bool archive_off,
		  int primary, RestoreArgs *a, PgbrRun *run, PgbError *err)
{
	if (!recovery_timeline(cfg, t, c, a->tli, sizeof(a->tli)))
		a->tli[0] = '\0';
	snprintf(a->pg_path, sizeof(a->pg_path), "--pg1-path=%s", dir);
	snprintf(a->set, sizeof(a->set), "--set=%s", c->label);
	pgbr_arg(run, a->pg_path);
	pgbr_arg(run, a->set);
	if (cfg->standby)
	{
		snprintf(a->type, sizeof(a->type), "--type=standby");
		pgbr_arg(run, a->type);
	}
	else if (target_args(t, a, run, err) != 0)
		return -1;
	if (t->kind != TARGET_LATEST && !cfg->standby)
	{
		snprintf(a->action, sizeof(a->action), "--target-action=%s", cfg->target_action ? cfg->target_action : "pause");
		pgbr_arg(run, a->action);
	}
	if (cfg->target_exclusive)
		pgbr_arg(run, "--target-exclusive");
	/* immediate stops where the backup is consistent, on its own timeline; pgBackRest refuses a timeline there */
	if (a->tli[0] && (cfg->standby || t->kind != TARGET_IMMEDIATE))
	{
		snprintf(a->timeline, sizeof(a->timeline), "--target-timeline=%s", a->tli);
		pgbr_arg(run, a->timeline);
	}
	if (archive_off)
		pgbr_arg(run, "--archive-mode=off");
	if (cfg->delta)
		pgbr_arg(run, "--delta");
	if (cfg->force && !cfg->delta)
		pgbr_arg(run, "--force");
	for (int i = 0; i < cfg->ntablespace_map; i++)
	{
		/* pgBackRest takes a tablespace's OID, as pgbkp's --tablespace-map does, or its name */
		snprintf(a->tsmap[i], sizeof(a->tsmap[i]), "--tablespace-map=%s=%s", cfg->tablespace_map[i].key,
				 cfg->tablespace_map[i].path);
		if (!pgbr_arg(run, a->tsmap[i]))
			return pgb_error(err, EXIT_INTERNAL, "too many options for pgBackRest");
	}
	/* settings the caller adds (clone: port, cluster_name, ...) go where pgBackRest writes its own */
	for (int i = 0; i < cfg->restore_nextra && i < 4; i++)
	{
		snprintf(a->extra[i], sizeof(a->extra[i]), "--recovery-option=%s=%s", cfg->restore_extra_names[i],
				 cfg->restore_extra_values[i]);
		if (!pgbr_arg(run, a->extra[i]))
			return pgb_error(err, EXIT_INTERNAL, "too many options for pgBackRest");
	}
	if (cfg->standby && primary >= 0)
	{
		const ClusterMember *p = &cfg->members[primary];

		/* no password: the standby finds it in its .pgpass, as pgbkp's own restore leaves it */
		snprintf(a->conninfo, sizeof(a->conninfo),
				 "--recovery-option=primary_conninfo=host=%s port=%d user=%s application_name=%s", p->addr,
				 p->pg_port, cfg->replication_user, cfg->self >= 0 ? cfg->members[cfg->self].name : "pgbkp_standby");
		pgbr_arg(run, a->conninfo);
	}
	return 0;
}

/* --tablespace-map names tablespaces of the backup (pgBackRest's info of the set lists them). */
static int
tablespace_keys_check(const Config *cfg, const PgbrChoice *c, PgbError *err)
{
	const RepoDef *def = &cfg->repos[c->repo_index];
	PgbrTablespace *ts;
	int			n = 0;
	int			rc = 0;

	if (cfg->ntablespace_map == 0)
		return 0;
	if ((ts = calloc(PGBR_TABLESPACES_MAX, sizeof(*ts))) == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	if (pgbr_tablespaces_load(def, cfg->cluster, c->label, ts, PGBR_TABLESPACES_MAX, &n, err) != 0)
		rc = -1;
	for (int k = 0; rc == 0 && k < cfg->ntablespace_map; k++)
		if (!pgbr_tablespace_known(ts, n, cfg->tablespace_map[k].key))
		{
			pgb_error(err, EXIT_USAGE, "--tablespace-map names tablespace %s, which backup %s does not have",
					  cfg->tablespace_map[k].key, c->label);
			rc = pgb_hint(err, "give the tablespace OID, as under pg_tblspc/ in the data directory");
		}
	free(ts);
	return rc;
}

/*
 * Every --tablespace-map destination: an absolute path, no running server,
 * empty unless --delta or --force (as the data directory); created[i]: it
 * does not exist yet and is made before pgBackRest runs.
 */
static int
tablespace_dirs_check(const Config *cfg, bool *created, PgbError *err)
{
	for (int i = 0; i < cfg->ntablespace_map; i++)
	{
		const char *path = cfg->tablespace_map[i].path;

		if (path[0] != '/')
			return pgb_error(err, EXIT_USAGE, "--tablespace-map %s: \"%s\" is not an absolute path",
							 cfg->tablespace_map[i].key, path);
		if (restore_dir_check(path, cfg->delta, cfg->force, &created[i], NULL, err) != 0)
			return pgb_error_context(err, "--tablespace-map %s", cfg->tablespace_map[i].key);
	}
	return 0;
}

static void
print_plan(const Config *cfg, const PgbrChoice *c, const char *dir, bool archive_off, const char *tli,
		   const char *cmdline)
{
	const RepoDef *def = &cfg->repos[c->repo_index];
	char		stop[64],
				last[64] = "";
	bool		json = cfg->dry_run && cfg->output && strcmp(cfg->output, "json") == 0;

	time_format_utc(c->stop_time, stop, sizeof(stop));
	if (c->has_commit)
		time_format_utc(c->last_commit, last, sizeof(last));
	if (json)
	{
		json_object *o = json_object_new_object();

		json_object_object_add(o, "engine", json_object_new_string("pgbackrest"));
		json_object_object_add(o, "repository_name", json_object_new_string(def->name));
		json_object_object_add(o, "backup", json_object_new_string(c->label));
		json_object_object_add(o, "backup_type", json_object_new_string(c->type));
		json_object_object_add(o, "bytes", json_object_new_int64((int64_t) c->bytes));
		json_object_object_add(o, "timeline", tli[0] ? json_object_new_string(tli) : NULL);
		json_object_object_add(o, "target_dir", json_object_new_string(dir));
		json_object_object_add(o, "archive_mode_off", json_object_new_boolean(archive_off));
		json_object_object_add(o, "command", json_object_new_string(cmdline));
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		return;
	}
#define PLAN_LINE(...) do { if (cfg->dry_run) { printf("plan: "); printf(__VA_ARGS__); printf("\n"); } \
		else log_info("plan: " __VA_ARGS__); } while (0)
	PLAN_LINE("restore %s backup %s (ended %s) from repository \"%s\" (pgBackRest stanza %s, repo %d)",
			  c->type, c->label, stop, def->name, pgbr_stanza(def, cfg->cluster), def->pgbr_repo);
	PLAN_LINE("into \"%s\"%s", dir, cfg->delta ? " (delta: unchanged files are kept)" : "");
	for (int i = 0; i < cfg->ntablespace_map; i++)
		PLAN_LINE("tablespace %s into \"%s\"", cfg->tablespace_map[i].key, cfg->tablespace_map[i].path);
	if (tli[0])
		PLAN_LINE("recovery follows timeline %s", tli);
	if (c->has_commit)
		PLAN_LINE("the archive holds commits until %s", last);
	if (archive_off)
		PLAN_LINE("archive_mode is set off in the restored copy, so it cannot archive into the source's repository");
	PLAN_LINE("run: %s", cmdline);
#undef PLAN_LINE
}

int
cmd_pgbr_restore(const Config *cfg, const RestoreTarget *target, const PgbrChoice *c, const char *dir,
				 bool archive_off, PgbError *err)
{
	const RepoDef *def = &cfg->repos[c->repo_index];
	PgbrRun		run = {.command = "restore", .relay_stderr = true};
	RestoreArgs a;
	char		cmdline[8192];
	bool		created = false,
				was_empty = false;
	bool		ts_created[PGBR_TABLESPACE_MAX] = {0};
	int			primary = -1;
	int			rc = -1;

	if (cfg->standby && cfg->nmembers > 0)
	{
		PgbError	e = {0};

		if (cluster_find_primary(cfg, NULL, &primary, &e) != 0)
			log_warn("%s; the standby replays the archive until it is given primary_conninfo", e.msg);
		else if (primary == cfg->self)
			return pgb_error(err, EXIT_REFUSED, "%s is the primary of cluster \"%s\"; a replica cannot be rebuilt over it",
							 cfg->members[primary].name, cfg->cluster);
	}
	if (cfg->ntablespace_map > PGBR_TABLESPACE_MAX)
		return pgb_error(err, EXIT_USAGE, "at most %d --tablespace-map options for a pgBackRest repository",
						 PGBR_TABLESPACE_MAX);
	if (tablespace_keys_check(cfg, c, err) != 0 ||
		restore_dir_check(dir, cfg->delta, cfg->force, &created, &was_empty, err) != 0 ||
		tablespace_dirs_check(cfg, ts_created, err) != 0)
		return -1;
	if (build_run(cfg, target, c, dir, archive_off, primary, &a, &run, err) != 0)
		return -1;
	pgbr_command_line(def, cfg->cluster, true, &run, cmdline, sizeof(cmdline));
	print_plan(cfg, c, dir, archive_off, a.tli, cmdline);
	if (cfg->dry_run)
		return fflush(stdout) == 0 ? 0 : pgb_error_errno(err, EXIT_IO, errno, "could not write to standard output");
	if (created && mkdir(dir, 0700) != 0 && errno != EEXIST)
		return pgb_error_errno(err, EXIT_IO, errno, "could not create directory \"%s\"", dir);
	for (int i = 0; i < cfg->ntablespace_map; i++)
		if (ts_created[i] && mkdir(cfg->tablespace_map[i].path, 0700) != 0 && errno != EEXIST)
			return pgb_error_errno(err, EXIT_IO, errno, "could not create directory \"%s\"",
								   cfg->tablespace_map[i].path);
	log_info("restoring backup %s into \"%s\" with pgBackRest", c->label, dir);
	if (pgbr_exec_ok(def, cfg->cluster, true, &run, err) != 0)
	{
		PgbError	cleanup;

		/* never leave a half-restored directory that pgbkp created or found empty */
		if (created)
			(void) fio_remove_tree(dir, &cleanup);
		else if (was_empty)
			(void) fio_empty_dir(dir, &cleanup);
		for (int i = 0; i < cfg->ntablespace_map; i++)
			if (ts_created[i])
				(void) fio_remove_tree(cfg->tablespace_map[i].path, &cleanup);
		goto done;
	}
	log_info("restored backup %s into \"%s\" (pgBackRest wrote the recovery settings; restore_command runs "
			 "pgBackRest's archive-get)", c->label, dir);
	if (archive_off)
		log_info("archive_mode is off in the restored copy, so it cannot write into this cluster's archive");
	if (cfg->standby)
		log_info("start PostgreSQL on it (pg_ctl -D %s start): it replays the archive, then streams from the primary",
				 dir);
	else if (target->kind == TARGET_LATEST)
		log_info("start PostgreSQL on it (pg_ctl -D %s start): it replays all archived WAL, then promotes", dir);
	else
		log_info("start PostgreSQL on it (pg_ctl -D %s start): at the target it will %s", dir,
				 cfg->target_action ? cfg->target_action : "pause");
	rc = 0;
done:
	pgbr_run_free(&run);
	return rc;
}
