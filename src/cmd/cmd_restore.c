/*
 * pgbkp restore: rebuild a data directory from a backup and set up recovery
 * to the requested target.
 *
 * Before writing anything: pick the backup that can reach the target (or
 * refuse, naming the recoverable window), check every manifest path, refuse
 * a running server's directory and a non-empty one (unless --delta or
 * --force).  global/pg_control is written last, so an interrupted restore
 * leaves a directory PostgreSQL refuses to start.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backup/chain.h"
#include "cluster/primary.h"
#include "cmd/cmd.h"
#include "cmd/cmd_common.h"
#include "cmd/pgbr.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/workers.h"
#include "restore/delta.h"
#include "restore/dirs.h"
#include "restore/locate.h"
#include "restore/plan.h"
#include "restore/recovery_conf.h"
#include "restore/render.h"
#include "restore/write.h"

typedef struct RestoreCtx
{
	const Config *cfg;
	Repo	   *repo;
	const Catalog *cat;
	const Manifest *m;
	char		target[PGB_PATH_MAX];
	bool		created;		/* the target did not exist before */
	bool		was_empty;		/* ... or was empty */
	bool		delta;
	const char **ts_dest;		/* per tablespace: where it is restored */
	bool	   *ts_ours;		/* per tablespace: created, found empty or forced */
	int			primary;		/* --standby: the member to stream from */
	uint64_t	kept_bytes;		/* --delta: chunks found unchanged */
	TimeLineID	timeline;		/* the timeline recovery follows */
} RestoreCtx;

/* The recovery settings a restore writes, with the text they point to. */
typedef struct RecoveryPlan
{
	RecoverySettings s;
	char		cmd[PGB_PATH_MAX * 4];
	char		value[128];
	char		comment[256];
	char		conninfo[512];
	char		timeline[16];
	char		endcmd[PGB_PATH_MAX * 4];
} RecoveryPlan;

static int
parse_target(const Config *cfg, RestoreTarget *t, PgbError *err)
{
	memset(t, 0, sizeof(*t));
	if (target_parse_timeline(cfg->target_timeline, t, err) != 0)
		return -1;
	if (cfg->target_time)
	{
		t->kind = TARGET_TIME;
		return time_parse(cfg->target_time, &t->time, err);
	}
	if (cfg->target_lsn)
	{
		t->kind = TARGET_LSN;
		return lsn_parse(cfg->target_lsn, &t->lsn, err);
	}
	if (cfg->target_xid)
		return target_parse_xid(cfg->target_xid, t, err);
	if (cfg->target_name)
		return target_parse_name(cfg->target_name, t, err);
	t->kind = cfg->target_immediate ? TARGET_IMMEDIATE : TARGET_LATEST;
	return 0;
}

/* The target, and --target-exclusive only where PostgreSQL honours it. */
static int
parse_target_all(const Config *cfg, RestoreTarget *t, PgbError *err)
{
	if (parse_target(cfg, t, err) != 0)
		return -1;
	if (cfg->target_exclusive && t->kind != TARGET_TIME && t->kind != TARGET_LSN && t->kind != TARGET_XID)
		return pgb_error(err, EXIT_USAGE, "--target-exclusive applies to a --time, --lsn or --xid target"),
			pgb_hint(err, "a restore point (--name) is always reached inclusively");
	return 0;
}

/*
 * The target time as recovery will use it, in UTC, and for a time given
 * without a zone the local zone and offset it was read in.
 */
static void
log_target_time(const char *text, TimestampUs t)
{
	char		utc[64];
	char		zone[128];
	time_t		secs = (time_t) (t / 1000000);
	struct tm	tm;

	time_format_utc(t, utc, sizeof(utc));
	if (strlen(text) > 10 && strpbrk(text + 10, "Zz+-") != NULL)
	{
		log_info("recovery target time %s", utc);
		return;
	}
	time_local_zone_name(zone, sizeof(zone));
	if (localtime_r(&secs, &tm) == NULL)
		tm.tm_gmtoff = 0;
	log_info("recovery target time %s: \"%s\" has no zone, so it was read in the local time zone %s (UTC%c%02ld:%02ld)",
			 utc, text, zone, tm.tm_gmtoff < 0 ? '-' : '+', labs(tm.tm_gmtoff) / 3600, labs(tm.tm_gmtoff) % 3600 / 60);
}

/*
 * The plan (restore/render.h): to stdout (text or JSON) for --dry-run;
 * through the log for a restore.
 */
static int
print_plan(const RestoreCtx *ctx, const RestoreTarget *t, const WalList *wal, bool archive_off,
		   const RecoveryPlan *rp, bool dry_run, PgbError *err)
{
	const Config *cfg = ctx->cfg;
	PlanView	v = {ctx->m, ctx->cat, wal, t, ctx->timeline, ctx->repo->name, ctx->target,
	cfg->delta, 0, 0, cfg->target_exclusive, cfg->standby, archive_off, &rp->s};
	bool		json = dry_run && cfg->output && strcmp(cfg->output, "json") == 0;
	char	   *text;

	if (cfg->delta)
		restore_delta_estimate(ctx->m, ctx->target, &v.delta_files, &v.delta_bytes);
	text = plan_render(&v, json, err);

	if (text == NULL)
		return -1;
	if (json)
		printf("%s\n", text);
	else
		for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		{
			if (dry_run)
				printf("plan: %s\n", line);
			else
				log_info("plan: %s", line);
		}
	free(text);
	return 0;
}

/* A timeline number as text (a static buffer: one use per call site). */
static const char *
timeline_name(TimeLineID tli)
{
	static char buf[16];

	snprintf(buf, sizeof(buf), "%u", tli);
	return buf;
}

static const char *
tablespace_target(const Config *cfg, const ManifestLink *l)
{
	const char *oid = l->path + strlen("pg_tblspc/");

	for (int i = 0; i < cfg->ntablespace_map; i++)
		if (strcmp(cfg->tablespace_map[i].key, oid) == 0)
			return cfg->tablespace_map[i].path;
	return l->target;
}

/* --tablespace-map names tablespaces of the backup; their destinations are fit to write. */
static int
check_tablespaces(const RestoreCtx *ctx, PgbError *err)
{
	const Manifest *m = ctx->m;

	for (int k = 0; k < ctx->cfg->ntablespace_map; k++)
	{
		bool		known = false;

		for (int i = 0; i < m->nlinks; i++)
			if (strcmp(m->links[i].path + strlen("pg_tblspc/"), ctx->cfg->tablespace_map[k].key) == 0)
				known = true;
		if (!known)
		{
			pgb_error(err, EXIT_USAGE, "--tablespace-map names tablespace %s, which backup %s does not have",
					  ctx->cfg->tablespace_map[k].key, m->label);
			return pgb_hint(err, "give the tablespace OID, as under pg_tblspc/ in the data directory");
		}
	}
	return restore_tablespaces_check(m, ctx->target, ctx->ts_dest, ctx->cfg->delta, ctx->cfg->force,
									 ctx->ts_ours, err);
}

static int
build_recovery(const RestoreCtx *ctx, const RestoreTarget *t, bool archive_off, RecoveryPlan *rp, PgbError *err)
{
	const Config *cfg = ctx->cfg;
	char		when[64];
	bool		pin;

	memset(rp, 0, sizeof(*rp));

	/*
	 * A targeted recovery reads WAL only from the repository whose window was
	 * checked to reach the target (so another repository being down cannot
	 * stop it); recovery to the end of the archive asks them all, and stops
	 * rather than promotes early when one of them cannot answer.
	 */
	pin = ctx->repo && strcmp(ctx->repo->name, "default") != 0 && (cfg->repo || (cfg->nrepos > 1 && t->kind != TARGET_LATEST));
	if (cmd_self_command(cfg, ctx->repo->cluster, pin ? ctx->repo->name : NULL, "archive-get %f \"%p\"",
						 rp->cmd, sizeof(rp->cmd), err) != 0)
		return -1;
	rp->s.restore_command = rp->cmd;
	/* what archive-get fetched ahead and recovery did not use goes when recovery ends */
	if (cmd_self_command(cfg, ctx->repo->cluster, pin ? ctx->repo->name : NULL, "spool-clean",
						 rp->endcmd, sizeof(rp->endcmd), err) != 0)
		return -1;
	rp->s.extra_names[rp->s.nextra] = "recovery_end_command";
	rp->s.extra_values[rp->s.nextra++] = rp->endcmd;
	rp->s.target_action = cfg->target_action ? cfg->target_action : "pause";
	rp->s.archive_off = archive_off;
	switch (t->kind)
	{
		case TARGET_TIME:
			time_format_pg(t->time, rp->value, sizeof(rp->value));
			rp->s.target_param = "recovery_target_time";
			rp->s.target_value = rp->value;
			break;
		case TARGET_LSN:
			lsn_format(t->lsn, rp->value, sizeof(rp->value));
			rp->s.target_param = "recovery_target_lsn";
			rp->s.target_value = rp->value;
			break;
		case TARGET_XID:
			rp->s.target_param = "recovery_target_xid";
			rp->s.target_value = t->text;
			break;
		case TARGET_NAME:
			rp->s.target_param = "recovery_target_name";
			rp->s.target_value = t->text;
			break;
		case TARGET_IMMEDIATE:
			rp->s.target_param = "recovery_target";
			rp->s.target_value = "immediate";
			break;
		case TARGET_LATEST:
			break;
	}
	time_format_utc(time_now(), when, sizeof(when));
	snprintf(rp->comment, sizeof(rp->comment), "recovery settings written by pgbkp restore of backup %s at %s",
			 ctx->m->label, when);
	rp->s.comment = rp->comment;
	for (int i = 0; i < cfg->restore_nextra; i++)
	{
		rp->s.extra_names[rp->s.nextra] = cfg->restore_extra_names[i];
		rp->s.extra_values[rp->s.nextra++] = cfg->restore_extra_values[i];
	}
	rp->s.standby = cfg->standby;
	if (cfg->standby && ctx->primary >= 0)
	{
		const ClusterMember *p = &cfg->members[ctx->primary];

		snprintf(rp->conninfo, sizeof(rp->conninfo), "host=%s port=%d user=%s application_name=%s",
				 p->addr, p->pg_port, cfg->replication_user,
				 cfg->self >= 0 ? cfg->members[cfg->self].name : "pgbkp_standby");
		rp->s.extra_names[rp->s.nextra] = "primary_conninfo";
		rp->s.extra_values[rp->s.nextra++] = rp->conninfo;
	}

	/*
	 * Always the timeline that was planned: PostgreSQL's default (latest)
	 * would follow any later timeline that forked before the target, and
	 * restore that timeline's data without a word.  A standby follows the
	 * cluster's newest timeline, as does an explicit --target-timeline latest.
	 */
	if (cfg->target_exclusive)
	{
		rp->s.extra_names[rp->s.nextra] = "recovery_target_inclusive";
		rp->s.extra_values[rp->s.nextra++] = "false";
	}
	rp->s.extra_names[rp->s.nextra] = "recovery_target_timeline";
	if (cfg->standby || t->timeline_request == TIMELINE_LATEST)
		rp->s.extra_values[rp->s.nextra++] = "latest";
	else
	{
		snprintf(rp->timeline, sizeof(rp->timeline), "%u", ctx->timeline);
		rp->s.extra_values[rp->s.nextra++] = rp->timeline;
	}
	return 0;
}

static int
write_recovery(const RestoreCtx *ctx, const RestoreTarget *t, bool archive_off, PgbError *err)
{
	RecoveryPlan rp;

	if (build_recovery(ctx, t, archive_off, &rp, err) != 0)
		return -1;
	return recovery_conf_write(ctx->target, &rp.s, err);
}

static void
print_done(const RestoreCtx *ctx, const RestoreTarget *t, bool archive_off)
{
	const Config *cfg = ctx->cfg;
	const char *action = cfg->target_action ? cfg->target_action : "pause";

	log_info("restored backup %s (%d files, %.1f MB) into \"%s\"",
			 ctx->m->label, ctx->m->nfiles, ctx->m->size / 1048576.0, ctx->target);
	if (ctx->delta)
		log_info("delta: %.1f MB found unchanged and kept, %.1f MB written", ctx->kept_bytes / 1048576.0,
				 (ctx->m->size - ctx->kept_bytes) / 1048576.0);
	if (archive_off)
		log_info("archive_mode is off in the restored copy, so it cannot write into this cluster's archive");
	if (cfg->standby && ctx->primary < 0)
		log_info("start PostgreSQL on it (pg_ctl -D %s start): it replays the archive; it streams once it is given "
				 "primary_conninfo (Patroni does when the cluster has a leader)", ctx->target);
	else if (cfg->standby)
		log_info("start PostgreSQL on it (pg_ctl -D %s start): it replays the archive, then streams from the primary",
				 ctx->target);
	else if (t->kind == TARGET_LATEST)
		log_info("start PostgreSQL on it (pg_ctl -D %s start): it replays all archived WAL, then promotes", ctx->target);
	else if (strcmp(action, "pause") == 0)
		log_info("start PostgreSQL on it (pg_ctl -D %s start): at the target it pauses; check the data, then "
				 "promote with \"SELECT pg_promote()\" (or \"pg_ctl -D %s promote\")", ctx->target, ctx->target);
	else
		log_info("start PostgreSQL on it (pg_ctl -D %s start): at the target it will %s", ctx->target, action);
}

/*
 * Every timeline history file of the archive into pg_wal/.  Recovery reads
 * them through restore_command anyway, but a standby streaming from a
 * primary fetches the history of every timeline between its own and the
 * primary's from the primary's pg_wal, where a restored primary (pitr) has
 * only its own: without them the standby waits forever.
 */
static int
copy_history(RestoreCtx *ctx, const WalList *wal, PgbError *err)
{
	for (int i = 0; i < wal->nhistory; i++)
	{
		char		name[32],
					rel[48],
					path[PGB_PATH_MAX];

		snprintf(name, sizeof(name), "%08X.history", wal->history[i]);
		snprintf(rel, sizeof(rel), "pg_wal/%s", name);
		if (fio_path_join(path, sizeof(path), ctx->target, rel, err) != 0 || wal_get(ctx->repo, name, path, err) != 0)
			return -1;
	}
	return 0;
}

/*
 * restore --standby: no recovery target, and the current primary to stream
 * from (asked of the cluster, like backup does).
 */
static int
standby_primary(RestoreCtx *ctx, const RestoreTarget *t, PgbError *err)
{
	const Config *cfg = ctx->cfg;

	if (t->kind != TARGET_LATEST)
		return pgb_error(err, EXIT_USAGE, "--standby restores the newest backup and follows the primary; "
						 "it takes no recovery target");
	if (cfg->nmembers == 0)
		return pgb_error(err, EXIT_CONFIG, "--standby needs the cluster's members to find the primary"),
			pgb_hint(err, "use a Pigsty inventory with all.children.<cluster>.hosts");
	if (cluster_find_primary(cfg, NULL, &ctx->primary, err) != 0)
	{
		if (err->code != EXIT_DATABASE)
			return -1;

		/*
		 * No leader (Patroni's no_leader: the whole cluster is down, or
		 * being rebuilt from the repository): a standby that replays the
		 * archive only, and streams once Patroni gives it a leader.
		 */
		log_warn("%s; rebuilding from the repository alone, without primary_conninfo", err->msg);
		pgb_error_clear(err);
		ctx->primary = -1;
		return 0;
	}
	if (cfg->self == ctx->primary)
		return pgb_error(err, EXIT_REFUSED, "%s is the primary of cluster \"%s\"; a replica cannot be rebuilt over it",
						 cfg->members[ctx->primary].name, cfg->cluster);
	log_info("rebuilding a replica of %s (%s port %d)", cfg->members[ctx->primary].name,
			 cfg->members[ctx->primary].addr, cfg->members[ctx->primary].pg_port);
	return 0;
}

/*
 * Open repository i and choose the backup the target needs; nothing is
 * written.  In a pgBackRest repository the choice goes to *pgbr.
 */
static int
plan_in_repository(RestoreCtx *ctx, int i, const RestoreTarget *target, Catalog *cat, WalList *wal,
				   PgbrChoice *pgbr, PgbError *err)
{
	if (pgbr_is_repo(ctx->cfg, i))
		return pgbr_restore_plan(ctx->cfg, i, target, pgbr, err);
	if ((ctx->repo = cmd_open_repo_at(ctx->cfg, i, err)) == NULL ||
		catalog_load(ctx->repo, cat, err) != 0)
		return -1;
	ctx->cat = cat;
	cmd_warn_corrupt(cat);
	if (wal_list(ctx->repo, wal, err) != 0 ||
		plan_choose_indexed(ctx->repo, cat, wal, target, ctx->cfg->target_exclusive, ctx->cfg->set, &ctx->m,
							&ctx->timeline, err) != 0 ||
		chain_check(cat, ctx->m, err) != 0 || manifest_check_paths(ctx->m, err) != 0)
		return -1;
	return 0;
}

/*
 * The first repository, in configured order, that can be reached and holds
 * a backup for the target.  A repository that fails is named in a warning
 * and the next one is tried; the last failure is the error.
 */
static int
choose_repository(RestoreCtx *ctx, const RestoreTarget *target, Catalog *cat, WalList *wal,
				  PgbrChoice *pgbr, PgbError *err)
{
	const Config *cfg = ctx->cfg;

	for (int i = 0; i < cfg->nrepos || i == 0; i++)
	{
		if (plan_in_repository(ctx, i, target, cat, wal, pgbr, err) == 0)
		{
			if (cfg->nrepos > 1)
				log_info("restoring from repository \"%s\"", cfg->repos[i].name);
			return 0;
		}
		if (i + 1 >= cfg->nrepos)
			return -1;
		log_warn("repository \"%s\": %s; trying repository \"%s\"", cfg->repos[i].name, err->msg,
				 cfg->repos[i + 1].name);
		pgb_error_clear(err);
		wal_list_free(wal);
		catalog_free(cat);
		memset(cat, 0, sizeof(*cat));
		memset(wal, 0, sizeof(*wal));
		repo_free(ctx->repo);
		ctx->repo = NULL;
		ctx->cat = NULL;
		ctx->m = NULL;
	}
	return -1;
}

int
cmd_restore(const Config *cfg, PgbError *err)
{
	RestoreCtx	ctx = {0};
	RestoreTarget target;
	Catalog		cat = {0};
	WalList		wal = {0};
	RestoreWrite rw;
	PgbrChoice	pgbr = {0};
	const char *dir = cfg->target_dir ? cfg->target_dir : cfg->pg_data;
	bool		archive_off;
	int			rc = -1;

	ctx.cfg = cfg;
	if (dir == NULL)
	{
		pgb_error(err, EXIT_CONFIG, "no directory to restore into");
		return pgb_hint(err, "give --target-dir DIR, or --pg-data for the cluster's own data directory");
	}
	if (dir[0] != '/')
		return pgb_error(err, EXIT_USAGE, "target directory \"%s\" is not an absolute path", dir);
	snprintf(ctx.target, sizeof(ctx.target), "%s", dir);
	if (parse_target_all(cfg, &target, err) != 0)
		return -1;
	if (cfg->standby && cfg->nrepos > 0 && !pgbr_is_repo(cfg, 0) && standby_primary(&ctx, &target, err) != 0)
		return -1;
	if (choose_repository(&ctx, &target, &cat, &wal, &pgbr, err) != 0)
		goto done;
	archive_off = cfg->archive_mode ? strcmp(cfg->archive_mode, "off") == 0 :
		(!cfg->standby && cfg->target_dir != NULL && (cfg->pg_data == NULL || strcmp(cfg->target_dir, cfg->pg_data) != 0));
	if (pgbr.label[0])
	{
		if (target.kind == TARGET_TIME)
			log_target_time(cfg->target_time, target.time);
		rc = cmd_pgbr_restore(cfg, &target, &pgbr, ctx.target, archive_off, err);
		goto done;
	}
	if (target.kind == TARGET_TIME)
		log_target_time(cfg->target_time, target.time);
	ctx.ts_ours = calloc((size_t) ctx.m->nlinks + 1, sizeof(bool));
	ctx.ts_dest = calloc((size_t) ctx.m->nlinks + 1, sizeof(char *));
	if (ctx.ts_ours == NULL || ctx.ts_dest == NULL)
	{
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		goto done;
	}
	for (int i = 0; i < ctx.m->nlinks; i++)
		ctx.ts_dest[i] = tablespace_target(cfg, &ctx.m->links[i]);
	if (restore_dir_check(ctx.target, cfg->delta, cfg->force, &ctx.created, &ctx.was_empty, err) != 0 || check_tablespaces(&ctx, err) != 0)
		goto done;
	{
		RecoveryPlan rp;

		if (build_recovery(&ctx, &target, archive_off, &rp, err) != 0)
			goto done;
		if (print_plan(&ctx, &target, &wal, archive_off, &rp, cfg->dry_run, err) != 0)
			goto done;
		if (cfg->dry_run)
		{
			if (fflush(stdout) != 0)
				pgb_error_errno(err, EXIT_IO, errno, "could not write to standard output");
			else
				rc = 0;
			goto done;
		}
	}
	ctx.delta = cfg->delta;
	if (ctx.delta)
	{
		char		control[PGB_PATH_MAX];

		/* the old pg_control goes first: a half-done delta must not be startable */
		if (fio_path_join(control, sizeof(control), ctx.target, "global/pg_control", err) != 0)
			goto done;
		if (unlink(control) != 0 && errno != ENOENT)
		{
			pgb_error_errno(err, EXIT_IO, errno, "could not remove \"%s\"", control);
			goto done;
		}
	}
	if (cfg->force && !cfg->delta &&
		((!ctx.created && fio_empty_dir(ctx.target, err) != 0) || restore_tablespaces_empty(ctx.m, ctx.ts_dest, err) != 0))
		goto done;
	log_info("restoring backup %s into \"%s\"%s; recovery follows timeline %s", ctx.m->label, ctx.target,
			 ctx.delta ? " (delta)" : "",
			 cfg->standby || target.timeline_request == TIMELINE_LATEST ? "latest" : timeline_name(ctx.timeline));
	rw = (RestoreWrite) {ctx.repo, ctx.cat, ctx.m, ctx.target, ctx.ts_dest, ctx.delta,
		workers_resolve(cfg->jobs), cfg->progress, &ctx.kept_bytes};
	if (restore_create_layout(&rw, err) != 0 || restore_write_files(&rw, err) != 0 ||
		(ctx.delta && restore_delta_clean(ctx.m, ctx.target, ctx.ts_dest, err) != 0) ||
		restore_write_tablespace_map(&rw, err) != 0 ||
		write_recovery(&ctx, &target, archive_off, err) != 0 || copy_history(&ctx, &wal, err) != 0 ||
		restore_sync(&rw, err) != 0 || restore_release_control(&rw, err) != 0)
	{
		PgbError	cleanup;

		/* never leave a half-restored directory that we created */
		if (ctx.created)
			(void) fio_remove_tree(ctx.target, &cleanup);
		else if (ctx.was_empty || (cfg->force && !cfg->delta))
			(void) fio_empty_dir(ctx.target, &cleanup);
		for (int i = 0; i < ctx.m->nlinks; i++)
			if (ctx.ts_ours[i])
				(void) fio_empty_dir(ctx.ts_dest[i], &cleanup);
		goto done;
	}
	print_done(&ctx, &target, archive_off);
	rc = 0;
done:
	free(ctx.ts_ours);
	free(ctx.ts_dest);
	wal_list_free(&wal);
	catalog_free(&cat);
	repo_free(ctx.repo);
	return rc;
}
