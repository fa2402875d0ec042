/*
 * pgbkp info: the backups, the WAL archive and the recoverable window, as
 * text for people or as JSON (documented in pgbkp(1); fields are only ever
 * added).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "cmd/cmd.h"
#include "cmd/cmd_common.h"
#include "cmd/pgbr.h"
#include "common/log.h"
#include "repo/history.h"
#include "restore/locate.h"
#include "restore/plan.h"

static json_object *
backup_json(const Manifest *m, const WalList *wal)
{
	json_object *o = json_object_new_object();
	char		start[WAL_NAME_LEN + 1],
				stop[WAL_NAME_LEN + 1];
	BackupWindow w;

	manifest_wal_range(m, start, stop);
	plan_backup_window(m, wal, &w);
	json_object_object_add(o, "label", json_object_new_string(m->label));
	json_object_object_add(o, "type", json_object_new_string(m->type));
	json_object_object_add(o, "parent", m->parent[0] ? json_object_new_string(m->parent) : NULL);
	json_object_object_add(o, "start_time", cmd_json_time(m->start_time));
	json_object_object_add(o, "stop_time", cmd_json_time(m->stop_time));
	json_object_object_add(o, "start_lsn", cmd_json_lsn(m->start_lsn));
	json_object_object_add(o, "stop_lsn", cmd_json_lsn(m->stop_lsn));
	json_object_object_add(o, "timeline", json_object_new_int64(m->timeline));
	json_object_object_add(o, "size", json_object_new_int64((int64_t) m->size));
	json_object_object_add(o, "repo_size", json_object_new_int64((int64_t) m->repo_size));
	json_object_object_add(o, "files", json_object_new_int(m->nfiles));
	json_object_object_add(o, "wal_start", json_object_new_string(start));
	json_object_object_add(o, "wal_stop", json_object_new_string(stop));
	json_object_object_add(o, "wal_complete", json_object_new_boolean(w.wal_complete));
	json_object_object_add(o, "recoverable_until", w.wal_complete ? cmd_json_time(w.end) : NULL);
	json_object_object_add(o, "pg_version", json_object_new_int(m->pg_version));
	json_object_object_add(o, "pgbkp_version", json_object_new_string(m->pgbkp_version ? m->pgbkp_version : ""));
	json_object_object_add(o, "pages_checked", json_object_new_int64((int64_t) m->pages_checked));
	json_object_object_add(o, "bad_pages", json_object_new_int64((int64_t) m->bad_pages));
	json_object_object_add(o, "bad_pages_at", m->bad_pages_at ? json_object_new_string(m->bad_pages_at) : NULL);
	json_object_object_add(o, "source_member", m->source_member ? json_object_new_string(m->source_member) : NULL);
	json_object_object_add(o, "source_role", json_object_new_string(m->source_role ? m->source_role : "primary"));
	return o;
}

static void
segment_name(const WalList *wal, int i, uint64_t segsize, char *out)
{
	wal_segment_name(out, wal->segments[i].tli, wal->segments[i].segno, segsize);
}

static json_object *
info_json(const Repo *repo, const Catalog *cat, const WalList *wal)
{
	json_object *root = json_object_new_object();
	json_object *backups = json_object_new_array();
	json_object *w = json_object_new_object();
	json_object *gaps = json_object_new_array();
	json_object *tlis = json_object_new_array();
	json_object *window = NULL;
	char		sysid[32],
				name[WAL_NAME_LEN + 1];
	TimestampUs start,
				end;

	snprintf(sysid, sizeof(sysid), "%" PRIu64, repo->info.system_identifier);
	json_object_object_add(root, "cluster", json_object_new_string(repo->cluster));
	json_object_object_add(root, "repository", json_object_new_string(storage_description(repo->storage)));
	json_object_object_add(root, "repository_name", json_object_new_string(repo->name));
	json_object_object_add(root, "encrypted", json_object_new_boolean(repo->encrypted));
	json_object_object_add(root, "system_identifier", json_object_new_string(sysid));
	json_object_object_add(root, "pg_version", json_object_new_int(repo->info.pg_version));
	for (int i = 0; i < cat->count; i++)
		json_object_array_add(backups, backup_json(&cat->backups[i], wal));
	json_object_object_add(root, "backups", backups);
	{
		json_object *bad = json_object_new_array();

		for (int i = 0; i < cat->ncorrupt; i++)
		{
			json_object *o = json_object_new_object();

			json_object_object_add(o, "label", json_object_new_string(cat->corrupt[i]));
			json_object_object_add(o, "error", json_object_new_string(cat->corrupt_error[i]));
			json_object_array_add(bad, o);
		}
		json_object_object_add(root, "corrupt_backups", bad);
	}

	json_object_object_add(w, "segments", json_object_new_int(wal->nsegments));
	if (wal->nsegments > 0)
	{
		segment_name(wal, 0, repo->info.wal_segment_size, name);
		json_object_object_add(w, "first", json_object_new_string(name));
		segment_name(wal, wal->nsegments - 1, repo->info.wal_segment_size, name);
		json_object_object_add(w, "last", json_object_new_string(name));
	}
	for (int i = 0; i < wal->nsegments; i++)
	{
		bool		seen = false;

		for (int j = 0; j < i && !seen; j++)
			seen = wal->segments[j].tli == wal->segments[i].tli;
		if (!seen)
			json_object_array_add(tlis, json_object_new_int64(wal->segments[i].tli));
		if (i > 0 && wal->segments[i].segno > wal->segments[i - 1].segno + 1)
		{
			json_object *g = json_object_new_object();

			segment_name(wal, i - 1, repo->info.wal_segment_size, name);
			json_object_object_add(g, "after", json_object_new_string(name));
			segment_name(wal, i, repo->info.wal_segment_size, name);
			json_object_object_add(g, "before", json_object_new_string(name));
			json_object_array_add(gaps, g);
		}
	}
	json_object_object_add(w, "timelines", tlis);
	json_object_object_add(w, "gaps", gaps);
	json_object_object_add(root, "wal", w);
	if (plan_cluster_window(cat, wal, &start, &end))
	{
		window = json_object_new_object();
		json_object_object_add(window, "start", cmd_json_time(start));
		json_object_object_add(window, "end", cmd_json_time(end));
	}
	json_object_object_add(root, "recoverable_window", window);
	return root;
}

static void
print_text(const Repo *repo, const Catalog *cat, const WalList *wal)
{
	TimestampUs start,
				end;
	char		a[64],
				b[64],
				first[WAL_NAME_LEN + 1],
				last[WAL_NAME_LEN + 1];

	printf("cluster %s (database system %" PRIu64 ", PostgreSQL %d) in repository %s (%s%s)\n",
		   repo->cluster, repo->info.system_identifier, repo->info.pg_version / 10000,
		   repo->name, storage_description(repo->storage), repo->encrypted ? ", encrypted" : "");
	if (cat->count == 0)
		printf("  no backups\n");
	for (int i = 0; i < cat->count; i++)
	{
		const Manifest *m = &cat->backups[i];
		BackupWindow w;

		plan_backup_window(m, wal, &w);
		time_format_utc(m->start_time, a, sizeof(a));
		time_format_utc(m->stop_time, b, sizeof(b));
		manifest_wal_range(m, first, last);
		printf("  backup %s  %s%s%s  %s .. %s\n", m->label, m->type, m->parent[0] ? " on " : "", m->parent, a, b);
		printf("    size %.1f MB, stored %.1f MB, %d files, WAL %s .. %s%s\n",
			   m->size / 1048576.0, m->repo_size / 1048576.0, m->nfiles, first, last,
			   w.wal_complete ? "" : "  (WAL MISSING: not restorable)");
		if (m->bad_pages > 0)
			printf("    DAMAGED PAGES: %llu of %llu checked pages failed their data checksum when read: %s\n",
				   (unsigned long long) m->bad_pages, (unsigned long long) m->pages_checked,
				   m->bad_pages_at ? m->bad_pages_at : "");
	}
	for (int i = 0; i < cat->ncorrupt; i++)
		printf("  backup %s  UNUSABLE: %s\n", cat->corrupt[i], cat->corrupt_error[i]);
	if (wal->nsegments > 0)
	{
		segment_name(wal, 0, repo->info.wal_segment_size, first);
		segment_name(wal, wal->nsegments - 1, repo->info.wal_segment_size, last);
		printf("  WAL archive: %d segments, %s .. %s\n", wal->nsegments, first, last);
	}
	else
		printf("  WAL archive: empty\n");
	if (plan_cluster_window(cat, wal, &start, &end))
	{
		time_format_utc(start, a, sizeof(a));
		time_format_utc(end, b, sizeof(b));
		printf("  recoverable window: %s .. %s\n", a, b);
	}
	else
		printf("  recoverable window: none\n");
}

#define INFO_JOBS 10
#define INFO_TIMELINES 32

/* One repository: its object (JSON) or its text; on failure, what went wrong. */
static int
info_one(const Config *cfg, int i, json_object *array, PgbError *err)
{
	Repo	   *repo = NULL;
	Catalog		cat = {0};
	WalList		wal = {0};
	bool		json = cfg->output && strcmp(cfg->output, "json") == 0;
	int			rc = -1;

	if (pgbr_is_repo(cfg, i) && (rc = cmd_pgbr_info_one(cfg, i, array, err)) == 0)
		return 0;
	if (!pgbr_is_repo(cfg, i))
		repo = cmd_open_repo_at(cfg, i, err);
	if (repo != NULL && catalog_load(repo, &cat, err) == 0 && wal_list(repo, &wal, err) == 0)
	{
		JobRecord  *jobs = NULL;
		int			njobs = 0;
		PgbError	herr = {0};

		TimelineWindow tw[INFO_TIMELINES];
		int			ntw = 0;

		if (history_list(repo, INFO_JOBS, &jobs, &njobs, &herr) != 0)
			log_warn("repository \"%s\": the job history cannot be read: %s", repo->name, herr.msg);
		pgb_error_clear(&herr);
		if (plan_timeline_windows(repo, &cat, &wal, tw, INFO_TIMELINES, &ntw, &herr) != 0)
		{
			log_warn("repository \"%s\": the WAL index cannot be read, so windows end at archive times: %s",
					 repo->name, herr.msg);
			ntw = 0;
		}
		if (json)
		{
			json_object *o = info_json(repo, &cat, &wal);
			json_object *j = json_object_new_array();
			json_object *ws = json_object_new_array();

			for (int k = 0; k < ntw; k++)
			{
				json_object *w = json_object_new_object();

				json_object_object_add(w, "timeline", json_object_new_int64(tw[k].tli));
				json_object_object_add(w, "start", cmd_json_time(tw[k].start));
				json_object_object_add(w, "last_commit", tw[k].has_commit ? cmd_json_time(tw[k].last_commit) : NULL);
				json_object_object_add(w, "archived_until", cmd_json_time(tw[k].end_archived));
				json_object_array_add(ws, w);
			}
			json_object_object_add(o, "timeline_windows", ws);
			for (int k = 0; k < njobs; k++)
				json_object_array_add(j, cmd_job_json(&jobs[k]));
			json_object_object_add(o, "jobs", j);
			json_object_array_add(array, o);
		}
		else
		{
			print_text(repo, &cat, &wal);
			for (int k = 0; k < ntw; k++)
			{
				char		a[64],
							b[64],
							c[64];

				time_format_utc(tw[k].start, a, sizeof(a));
				time_format_utc(tw[k].end_archived, c, sizeof(c));
				if (tw[k].has_commit)
				{
					time_format_utc(tw[k].last_commit, b, sizeof(b));
					printf("  timeline %u: recover to a time from %s to before %s (the last commit; WAL archived until %s)\n",
						   tw[k].tli, a, b, c);
				}
				else
					printf("  timeline %u: from %s, no commit archived after it yet (WAL archived until %s)\n",
						   tw[k].tli, a, c);
			}
			if (njobs > 0)
				printf("  recent jobs:\n");
			for (int k = 0; k < njobs; k++)
				cmd_job_text(&jobs[k]);
		}
		history_free(jobs);
		rc = 0;
	}
	else if (cfg->nrepos > 1)
	{
		/* the other repositories are still shown; the error is reported at the end */
		if (json)
		{
			json_object *o = json_object_new_object();

			json_object_object_add(o, "cluster", json_object_new_string(cfg->cluster ? cfg->cluster : ""));
			json_object_object_add(o, "repository_name", json_object_new_string(cfg->repos[i].name));
			json_object_object_add(o, "error", json_object_new_string(err->msg));
			json_object_array_add(array, o);
		}
		else
			printf("repository %s: error: %s\n", cfg->repos[i].name, err->msg);
	}
	wal_list_free(&wal);
	catalog_free(&cat);
	repo_free(repo);
	return rc;
}

/*
 * Every repository in configured order.  JSON: one object, or with several
 * repositories an array of them (a repository that failed has "error").
 */
int
cmd_info(const Config *cfg, PgbError *err)
{
	json_object *array = json_object_new_array();
	PgbError	first = {0};
	int			failed = 0;
	int			n = cfg->nrepos > 0 ? cfg->nrepos : 1;

	for (int i = 0; i < n; i++)
	{
		if (i > 0 && !(cfg->output && strcmp(cfg->output, "json") == 0))
			printf("\n");
		if (info_one(cfg, i, array, err) == 0)
			continue;
		if (failed++ == 0)
			first = *err;
	}
	if (cfg->output && strcmp(cfg->output, "json") == 0 && json_object_array_length(array) > 0)
	{
		json_object *out = n == 1 ? json_object_array_get_idx(array, 0) : array;

		printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	}
	json_object_put(array);
	if (failed == 0)
		return 0;
	*err = first;
	if (n > 1)
		pgb_error(err, first.code, "%d of %d repositories could not be shown (the first error: %s)",
				  failed, n, first.msg);
	return -1;
}
