/*
 * pgbkp info and status on a pgBackRest repository: pgBackRest's info
 * (pgbackrest/info.h) and the recoverable window pgbkp computes for it
 * (pgbackrest/window.h), shown with the field names of pgbkp's own info
 * JSON (documented in pgbkp(1)) plus "engine": "pgbackrest"; fields pgBackRest
 * has no value for are null.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd/job_report.h"
#include "cmd/pgbr.h"
#include "common/fileio.h"
#include "common/log.h"
#include "pgbackrest/exec.h"
#include "pgbackrest/info.h"
#include "pgbackrest/window.h"
#include "repo/history.h"
#include "repo/statedir.h"

#define PGBR_WINDOWS PGBR_DB_MAX
#define PGBR_JOBS 10

/*
 * The recent jobs, from pgbkp's state directory (pgBackRest's repository
 * holds none of pgbkp's): added to o as "jobs" (JSON), or printed.
 */
static void
show_jobs(const Config *cfg, json_object *o)
{
	PgbError	e = {0};
	Repo	   *st = statedir_open(cfg->state_path, cfg->cluster, &e);
	JobRecord  *jobs = NULL;
	int			njobs = 0;

	if (st == NULL || history_list(st, PGBR_JOBS, &jobs, &njobs, &e) != 0)
		log_warn("the job history in the state directory %s cannot be read: %s", cfg->state_path, e.msg);
	cmd_jobs_show(jobs, njobs, o);
	history_free(jobs);
	repo_free(st);
}

static TimeLineID
wal_timeline(const char *name)
{
	unsigned int tli = 0;

	return sscanf(name, "%8X", &tli) == 1 ? tli : 0;
}

/* The window of a backup's database system, or NULL. */
static const PgbrWindow *
window_of(const PgbrWindow *w, int n, int db_id)
{
	for (int i = 0; i < n; i++)
		if (w[i].db_id == db_id)
			return &w[i];
	return NULL;
}

static json_object *
backup_json(const PgbrInfo *info, const PgbrBackup *b, const PgbrWindow *w)
{
	json_object *o = json_object_new_object();
	const PgbrDb *db = pgbr_info_db(info, b->db_id);
	bool		ok = pgbr_backup_restorable(info, b);

	json_object_object_add(o, "label", json_object_new_string(b->label));
	json_object_object_add(o, "type", json_object_new_string(b->type));
	json_object_object_add(o, "parent", b->prior[0] ? json_object_new_string(b->prior) : NULL);
	json_object_object_add(o, "start_time", cmd_json_time(b->start_time));
	json_object_object_add(o, "stop_time", cmd_json_time(b->stop_time));
	json_object_object_add(o, "start_lsn", cmd_json_lsn(b->start_lsn));
	json_object_object_add(o, "stop_lsn", cmd_json_lsn(b->stop_lsn));
	json_object_object_add(o, "timeline", json_object_new_int64(wal_timeline(b->wal_start)));
	json_object_object_add(o, "size", json_object_new_int64((int64_t) b->size));
	json_object_object_add(o, "repo_size", json_object_new_int64((int64_t) b->repo_delta));
	json_object_object_add(o, "files", NULL);
	json_object_object_add(o, "wal_start", json_object_new_string(b->wal_start));
	json_object_object_add(o, "wal_stop", json_object_new_string(b->wal_stop));
	json_object_object_add(o, "wal_complete", json_object_new_boolean(ok));
	json_object_object_add(o, "recoverable_until", ok && w && w->has_commit ? cmd_json_time(w->last_commit) : NULL);
	json_object_object_add(o, "pg_version", json_object_new_int(db ? db->pg_major * 10000 : 0));
	json_object_object_add(o, "pgbkp_version", NULL);
	json_object_object_add(o, "pgbackrest_version", json_object_new_string(b->version));
	json_object_object_add(o, "bad_pages", NULL);
	json_object_object_add(o, "page_errors", json_object_new_boolean(b->error));
	return o;
}

static const PgbrDb *
newest_db(const PgbrInfo *info)
{
	return info->ndb > 0 ? &info->db[info->ndb - 1] : NULL;
}

static json_object *
info_json(const Config *cfg, int i, const PgbrInfo *info, const PgbrWindow *w, int nw)
{
	json_object *root = json_object_new_object();
	json_object *backups = json_object_new_array();
	json_object *wal = json_object_new_object();
	json_object *tlis = json_object_new_array();
	json_object *windows = json_object_new_array();
	json_object *window = NULL;
	const PgbrDb *db = newest_db(info);
	char		desc[PGB_PATH_MAX + 128],
				sysid[32];
	const char *first = NULL,
			   *last = NULL;

	pgbr_describe(cfg, i, desc, sizeof(desc));
	snprintf(sysid, sizeof(sysid), "%" PRIu64, db ? db->system_id : 0);
	json_object_object_add(root, "cluster", json_object_new_string(cfg->cluster));
	json_object_object_add(root, "engine", json_object_new_string("pgbackrest"));
	json_object_object_add(root, "repository", json_object_new_string(desc));
	json_object_object_add(root, "repository_name", json_object_new_string(cfg->repos[i].name));
	json_object_object_add(root, "stanza", json_object_new_string(info->stanza));
	json_object_object_add(root, "pgbackrest_status", json_object_new_string(info->status_message));
	json_object_object_add(root, "encrypted", json_object_new_boolean(info->cipher[0] && strcmp(info->cipher, "none") != 0));
	json_object_object_add(root, "system_identifier", db ? json_object_new_string(sysid) : NULL);
	json_object_object_add(root, "pg_version", json_object_new_int(db ? db->pg_major * 10000 : 0));
	for (int k = 0; k < info->nbackups; k++)
		json_object_array_add(backups, backup_json(info, &info->backups[k],
												   window_of(w, nw, info->backups[k].db_id)));
	json_object_object_add(root, "backups", backups);
	json_object_object_add(root, "corrupt_backups", json_object_new_array());
	for (int k = 0; k < info->narchive; k++)
	{
		TimeLineID	t1 = wal_timeline(info->archive[k].min),
					t2 = wal_timeline(info->archive[k].max);

		if (!info->archive[k].min[0])
			continue;
		first = first ? first : info->archive[k].min;
		last = info->archive[k].max;
		for (TimeLineID t = t1; t <= t2 && t - t1 < 64; t++)
			json_object_array_add(tlis, json_object_new_int64(t));
	}
	json_object_object_add(wal, "segments", NULL);
	json_object_object_add(wal, "first", first ? json_object_new_string(first) : NULL);
	json_object_object_add(wal, "last", last ? json_object_new_string(last) : NULL);
	json_object_object_add(wal, "timelines", tlis);
	json_object_object_add(wal, "gaps", json_object_new_array());
	json_object_object_add(root, "wal", wal);
	for (int k = 0; k < nw; k++)
	{
		json_object *o = json_object_new_object();

		json_object_object_add(o, "timeline", json_object_new_int64(w[k].tli));
		json_object_object_add(o, "start", cmd_json_time(w[k].start));
		json_object_object_add(o, "last_commit", w[k].has_commit ? cmd_json_time(w[k].last_commit) : NULL);
		/* pgBackRest keeps no archive times: where the newest archived WAL ends instead */
		json_object_object_add(o, "archived_until", NULL);
		json_object_object_add(o, "archived_until_lsn", cmd_json_lsn(w[k].archived_end));
		json_object_array_add(windows, o);
		if (w[k].has_commit)
		{
			if (window)
				json_object_put(window);
			window = json_object_new_object();
			json_object_object_add(window, "start", cmd_json_time(w[k].start));
			json_object_object_add(window, "end", cmd_json_time(w[k].last_commit));
		}
	}
	json_object_object_add(root, "recoverable_window", window);
	json_object_object_add(root, "timeline_windows", windows);
	return root;
}

static void
print_text(const Config *cfg, int i, const PgbrInfo *info, const PgbrWindow *w, int nw)
{
	const PgbrDb *db = newest_db(info);
	char		desc[PGB_PATH_MAX + 128],
				a[64],
				b[64];

	pgbr_describe(cfg, i, desc, sizeof(desc));
	printf("cluster %s (database system %" PRIu64 ", PostgreSQL %d) in repository %s (%s; %s)\n",
		   cfg->cluster, db ? db->system_id : 0, db ? db->pg_major : 0, cfg->repos[i].name, desc,
		   info->status_message);
	if (info->nbackups == 0)
		printf("  no backups\n");
	for (int k = 0; k < info->nbackups; k++)
	{
		const PgbrBackup *m = &info->backups[k];

		time_format_utc(m->start_time, a, sizeof(a));
		time_format_utc(m->stop_time, b, sizeof(b));
		printf("  backup %s  %s%s%s  %s .. %s\n", m->label, m->type, m->prior[0] ? " on " : "", m->prior, a, b);
		printf("    size %.1f MB, stored %.1f MB, WAL %s .. %s%s%s\n", m->size / 1048576.0, m->repo_delta / 1048576.0,
			   m->wal_start, m->wal_stop, pgbr_backup_restorable(info, m) ? "" : "  (WAL MISSING: not restorable)",
			   m->error ? "  (PAGE CHECKSUM ERRORS)" : "");
	}
	for (int k = 0; k < info->narchive; k++)
		if (info->archive[k].min[0])
			printf("  WAL archive: %s .. %s\n", info->archive[k].min, info->archive[k].max);
	if (info->narchive == 0)
		printf("  WAL archive: empty\n");
	for (int k = 0; k < nw; k++)
	{
		time_format_utc(w[k].start, a, sizeof(a));
		if (w[k].has_commit)
		{
			time_format_utc(w[k].last_commit, b, sizeof(b));
			printf("  recoverable window: %s .. %s\n", a, b);
			printf("  timeline %u: recover to a time from %s to before %s (the last commit archived)\n",
				   w[k].tli, a, b);
		}
		else
			printf("  timeline %u: from %s, no commit in the newest archived WAL\n", w[k].tli, a);
	}
	if (nw == 0)
		printf("  recoverable window: none\n");
}

/* pgBackRest's info and the windows of repository i. */
static int
load(const Config *cfg, int i, PgbrInfo *info, PgbrWindow *w, int *nw, PgbError *err)
{
	const RepoDef *def = &cfg->repos[i];

	*nw = 0;
	if (pgbr_info_load(def, cfg->cluster, info, err) != 0)
		return -1;
	if (pgbr_windows(def, cfg->cluster, info, false, w, PGBR_WINDOWS, nw, err) != 0)
	{
		log_warn("repository \"%s\": the newest archived WAL cannot be read, so the window has no end: %s",
				 def->name, err->msg);
		pgb_error_clear(err);
		*nw = 0;
	}
	return 0;
}

int
cmd_pgbr_info_one(const Config *cfg, int i, json_object *array, PgbError *err)
{
	PgbrInfo	info;
	PgbrWindow	w[PGBR_WINDOWS];
	int			nw;
	bool		json = cfg->output && strcmp(cfg->output, "json") == 0;

	if (load(cfg, i, &info, w, &nw, err) != 0)
		return -1;
	if (json)
	{
		json_object *o = info_json(cfg, i, &info, w, nw);

		show_jobs(cfg, o);
		json_object_array_add(array, o);
	}
	else
	{
		print_text(cfg, i, &info, w, nw);
		show_jobs(cfg, NULL);
	}
	pgbr_info_free(&info);
	return 0;
}

int
cmd_pgbr_status_one(const Config *cfg, int i, bool json, json_object *array, PgbError *err)
{
	PgbrInfo	info;
	PgbrWindow	w[PGBR_WINDOWS];
	int			nw;
	json_object *o = json_object_new_object();
	char		desc[PGB_PATH_MAX + 128];
	int			rc = -1;

	pgbr_describe(cfg, i, desc, sizeof(desc));
	json_object_object_add(o, "repository_name", json_object_new_string(cfg->repos[i].name));
	json_object_object_add(o, "engine", json_object_new_string("pgbackrest"));
	if (load(cfg, i, &info, w, &nw, err) == 0)
	{
		const PgbrBackup *newest = info.nbackups > 0 ? &info.backups[info.nbackups - 1] : NULL;
		const PgbrWindow *win = NULL;

		if (!json)
			printf("repository %s (%s):\n", cfg->repos[i].name, desc);
		cmd_status_newest(json, o, newest ? newest->label : NULL, newest ? newest->type : NULL,
						  newest ? newest->stop_time : 0, newest ? newest->repo_delta : 0, info.nbackups);
		for (int k = 0; k < nw; k++)
			if (w[k].has_commit)
				win = &w[k];
		cmd_status_window(json, o, win != NULL, win ? win->start : 0, win ? win->last_commit : 0);
		show_jobs(cfg, json ? o : NULL);
		pgbr_info_free(&info);
		rc = 0;
	}
	else
	{
		json_object_object_add(o, "error", json_object_new_string(err->msg));
		if (!json)
			printf("repository %s: error: %s\n", cfg->repos[i].name, err->msg);
	}
	json_object_array_add(array, o);
	return rc;
}
