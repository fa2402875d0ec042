/*
 * pgbkp status: the cluster as it is now.  For each member of the inventory:
 * its role (asked of the server, never the inventory's pg_role), timeline,
 * how far it is behind the primary, and its archiver (pg_stat_archiver);
 * which member the cluster's own view (Patroni or libpq) says is primary;
 * pgbkp stream as the primary sees it (status_stream.h); then, for each
 * repository, how far its stored WAL reaches, the newest backup, the recoverable window and
 * the most recent jobs.  A member or repository that cannot be reached is
 * shown as such; the exit status is 0 when a primary was found and every
 * repository could be read.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "cluster/primary.h"
#include "cmd/cmd.h"
#include "cmd/cmd_common.h"
#include "cmd/pgbr.h"
#include "cmd/status_stream.h"
#include "common/log.h"
#include "pg/db.h"
#include "repo/catalog.h"
#include "repo/history.h"
#include "repo/walarchive.h"
#include "restore/plan.h"

#define STATUS_JOBS 10

typedef struct MemberView
{
	bool		reached;
	char		error[512];
	DbMemberStatus st;
} MemberView;

static void
probe_member(const Config *cfg, const ClusterMember *m, MemberView *v)
{
	DbParams	p = {.host = m->addr, .port = m->pg_port, .user = cfg->pg_user,
	.dbname = cfg->pg_database, .connect_timeout = cfg->member_timeout};
	PgbError	err = {0};
	DbConn	   *conn = db_connect(&p, &err);

	memset(v, 0, sizeof(*v));
	if (conn != NULL && db_member_status(conn, &v->st, &err) == 0)
		v->reached = true;
	else
		snprintf(v->error, sizeof(v->error), "%.500s", err.msg);
	db_close(conn);
}

static const char *
role_of(const MemberView *v)
{
	return !v->reached ? "unreachable" : v->st.in_recovery ? "replica" : "primary";
}

static json_object *
json_time(TimestampUs t)
{
	char		buf[64];

	if (t == 0)
		return NULL;
	time_format_utc(t, buf, sizeof(buf));
	return json_object_new_string(buf);
}

static json_object *
member_json(const ClusterMember *m, const MemberView *v, const MemberProbe *probe, Lsn primary_lsn)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(m->name));
	json_object_object_add(o, "address", json_object_new_string(m->addr));
	json_object_object_add(o, "port", json_object_new_int(m->pg_port));
	json_object_object_add(o, "role", json_object_new_string(role_of(v)));
	json_object_object_add(o, "cluster_view", json_object_new_string(probe->note));
	if (!v->reached)
	{
		json_object_object_add(o, "error", json_object_new_string(v->error));
		return o;
	}
	json_object_object_add(o, "timeline", json_object_new_int((int) v->st.timeline));
	{
		char		lsn[32];

		lsn_format(v->st.lsn, lsn, sizeof(lsn));
		json_object_object_add(o, "lsn", json_object_new_string(lsn));
	}
	if (v->st.in_recovery)
	{
		json_object_object_add(o, "streaming", json_object_new_boolean(v->st.streaming));
		if (primary_lsn != 0)
			json_object_object_add(o, "lag_bytes", json_object_new_int64(primary_lsn > v->st.lsn ?
																		  (int64_t) (primary_lsn - v->st.lsn) : 0));
		if (v->st.replay_delay >= 0)
			json_object_object_add(o, "replay_delay_seconds", json_object_new_double(v->st.replay_delay));
	}
	{
		json_object *a = json_object_new_object();

		json_object_object_add(a, "archive_mode", json_object_new_string(v->st.archive_mode));
		json_object_object_add(a, "archived_count", json_object_new_int64(v->st.archived_count));
		json_object_object_add(a, "last_archived_wal", json_object_new_string(v->st.last_archived_wal));
		json_object_object_add(a, "last_archived_time", json_time(v->st.last_archived_time));
		json_object_object_add(a, "failed_count", json_object_new_int64(v->st.failed_count));
		json_object_object_add(a, "last_failed_wal", json_object_new_string(v->st.last_failed_wal));
		json_object_object_add(a, "last_failed_time", json_time(v->st.last_failed_time));
		json_object_object_add(o, "archiver", a);
	}
	return o;
}

static void
member_text(const ClusterMember *m, const MemberView *v, Lsn primary_lsn)
{
	char		when[64] = "never";

	printf("  %-16s %s:%d  %-11s", m->name, m->addr, m->pg_port, role_of(v));
	if (!v->reached)
	{
		printf(" %s\n", v->error);
		return;
	}
	printf(" timeline %u", v->st.timeline);
	if (v->st.in_recovery)
		printf(", %s, %" PRIu64 " bytes behind", v->st.streaming ? "streaming" : "not streaming",
			   primary_lsn > v->st.lsn ? (uint64_t) (primary_lsn - v->st.lsn) : 0);
	if (v->st.last_archived_time)
		time_format_utc(v->st.last_archived_time, when, sizeof(when));
	printf("\n    archiving (%s): %" PRId64 " archived, last %s at %s; %" PRId64 " failed%s%s\n",
		   v->st.archive_mode, v->st.archived_count, v->st.last_archived_wal[0] ? v->st.last_archived_wal : "none",
		   when, v->st.failed_count, v->st.last_failed_wal[0] ? ", last " : "", v->st.last_failed_wal);
}

/* The newest backup, the window and recent jobs of repository i. */
static int
repo_status(const Config *cfg, int i, bool json, json_object *array, PgbError *err)
{
	Repo	   *repo;
	Catalog		cat = {0};
	WalList		wal = {0};
	JobRecord  *jobs = NULL;
	int			njobs = 0;
	json_object *o = json_object_new_object();
	int			rc = -1;

	if (pgbr_is_repo(cfg, i))
	{
		json_object_put(o);
		return cmd_pgbr_status_one(cfg, i, json, array, err);
	}
	repo = cmd_open_repo_at(cfg, i, err);
	json_object_object_add(o, "repository_name", json_object_new_string(i < cfg->nrepos ? cfg->repos[i].name : ""));
	if (repo != NULL && catalog_load_headers(repo, &cat, err) == 0 && wal_list(repo, &wal, err) == 0)
	{
		TimestampUs start = 0,
					end = 0;
		const Manifest *newest = cat.count > 0 ? &cat.backups[cat.count - 1] : NULL;
		bool		valid;

		if (history_list(repo, STATUS_JOBS, &jobs, &njobs, err) != 0)
		{
			log_warn("repository \"%s\": job history unreadable: %s", repo->name, err->msg);
			pgb_error_clear(err);
		}
		if (!json)
			printf("repository %s (%s):\n", repo->name, storage_description(repo->storage));
		cmd_status_newest(json, o, newest ? newest->label : NULL, newest ? newest->type : NULL,
						  newest ? newest->stop_time : 0, newest ? newest->repo_size : 0, cat.count);
		valid = plan_cluster_window(&cat, &wal, &start, &end);
		cmd_status_window(json, o, valid, start, end);
		status_stored_wal(repo, &wal, json, o);
		cmd_jobs_show(jobs, njobs, json ? o : NULL);
		rc = 0;
	}
	else
	{
		json_object_object_add(o, "error", json_object_new_string(err->msg));
		if (!json)
			printf("repository %s: error: %s\n", i < cfg->nrepos ? cfg->repos[i].name : "", err->msg);
	}
	json_object_array_add(array, o);
	history_free(jobs);
	wal_list_free(&wal);
	catalog_free(&cat);
	repo_free(repo);
	return rc;
}

int
cmd_status(const Config *cfg, PgbError *err)
{
	bool		json = cfg->output && strcmp(cfg->output, "json") == 0;
	MemberView	views[CONFIG_MAX_MEMBERS];
	MemberProbe probes[CONFIG_MAX_MEMBERS] = {0};
	json_object *root = json_object_new_object();
	json_object *members = json_object_new_array();
	json_object *repos = json_object_new_array();
	PgbError	perr = {0};
	PgbError	rerr = {0};
	int			primary = -1;
	Lsn			primary_lsn = 0;
	int			failed = 0;

	if (cfg->nmembers > 0)
	{
		if (cluster_find_primary(cfg, probes, &primary, &perr) != 0)
			failed++;
		for (int i = 0; i < cfg->nmembers; i++)
			probe_member(cfg, &cfg->members[i], &views[i]);
		if (primary >= 0 && views[primary].reached)
			primary_lsn = views[primary].st.lsn;
		if (!json)
			printf("cluster %s: %d members, primary %s%s%s%s (asked %s)\n", cfg->cluster, cfg->nmembers,
				   primary >= 0 ? cfg->members[primary].name : "NOT FOUND",
				   primary >= 0 ? " (" : "", primary >= 0 ? cfg->members[primary].addr : "",
				   primary >= 0 ? ")" : "", cfg->patroni ? "Patroni" : "PostgreSQL");
		for (int i = 0; i < cfg->nmembers; i++)
		{
			if (json)
				json_object_array_add(members, member_json(&cfg->members[i], &views[i], &probes[i], primary_lsn));
			else
				member_text(&cfg->members[i], &views[i], primary_lsn);
		}
	}
	else if (!json)
		printf("cluster %s: no members listed (a Pigsty inventory's hosts give them)\n", cfg->cluster ? cfg->cluster : "");
	status_stream(cfg, primary, json, root);
	for (int i = 0; i < (cfg->nrepos > 0 ? cfg->nrepos : 1); i++)
	{
		PgbError	e = {0};

		if (repo_status(cfg, i, json, repos, &e) != 0 && failed++ == 0)
			rerr = e;
		else if (pgb_error_is_set(&e) && !pgb_error_is_set(&rerr))
			rerr = e;
	}
	if (json)
	{
		json_object_object_add(root, "cluster", json_object_new_string(cfg->cluster ? cfg->cluster : ""));
		json_object_object_add(root, "primary", primary >= 0 ? json_object_new_string(cfg->members[primary].name) : NULL);
		json_object_object_add(root, "members", members);
		json_object_object_add(root, "repositories", repos);
		printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	}
	else
	{
		json_object_put(members);
		json_object_put(repos);
	}
	json_object_put(root);
	if (failed == 0)
		return 0;
	*err = pgb_error_is_set(&perr) ? perr : rerr;
	return -1;
}
