/*
 * pgbkp expire: remove the backups and the archived WAL that the retention
 * policy (repo/retention.h, which states the rules) no longer needs.
 *
 * It runs under the backup lock, so no backup starts or commits meanwhile
 * (backup itself calls expire_run while it still holds the lock).  Backups
 * go first, the newest expired one first, so that an interruption never
 * leaves a backup whose parent is gone; each stops existing the moment its
 * manifest is removed.  WAL goes last: removed first, an interruption could
 * leave a listed backup without the WAL it needs.  A dry run takes no lock
 * and changes nothing; it prints the same lines with "would remove".
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/cmd_common.h"
#include "cmd/cmd_expire.h"
#include "cmd/pgbr.h"
#include "common/log.h"
#include "repo/catalog.h"
#include "repo/retention.h"
#include "repo/walarchive.h"
#include "repo/walindex.h"

/* The WAL removed, summarized per timeline as wal_remove_before reports it. */
typedef struct WalTally
{
	const char *verb;			/* "removed" or "would remove" */
	bool		open;			/* a timeline's files are being counted */
	TimeLineID	tli;
	char		first[64];
	char		last[64];
	int			nsegment;
	int			npartial;
	int			nbackup;
	int			total;			/* over all timelines */
} WalTally;

static const char *
plural(int n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static void
tally_flush(WalTally *t)
{
	char		what[128] = "";
	size_t		len = 0;

	if (!t->open)
		return;
	if (t->nsegment)
		len += snprintf(what + len, sizeof(what) - len, "%d %s", t->nsegment,
						plural(t->nsegment, "segment", "segments"));
	if (t->npartial && len < sizeof(what))
		len += snprintf(what + len, sizeof(what) - len, "%s%d partial %s", len ? ", " : "",
						t->npartial, plural(t->npartial, "segment", "segments"));
	if (t->nbackup && len < sizeof(what))
		snprintf(what + len, sizeof(what) - len, "%s%d backup history %s", len ? ", " : "",
				 t->nbackup, plural(t->nbackup, "file", "files"));
	printf("%s WAL of timeline %u: %s to %s (%s)\n", t->verb, t->tli, t->first, t->last, what);
	t->open = false;
	t->nsegment = t->npartial = t->nbackup = 0;
}

/* WalRemovedFn: files arrive in name order, so one timeline's are contiguous. */
static void
tally_add(void *arg, const char *name, WalFileKind kind, TimeLineID tli, SegNo segno)
{
	WalTally   *t = arg;

	(void) segno;
	if (t->open && t->tli != tli)
		tally_flush(t);
	if (!t->open)
	{
		t->open = true;
		t->tli = tli;
		snprintf(t->first, sizeof(t->first), "%s", name);
	}
	snprintf(t->last, sizeof(t->last), "%s", name);
	if (kind == WAL_KIND_PARTIAL)
		t->npartial++;
	else if (kind == WAL_KIND_BACKUP)
		t->nbackup++;
	else
		t->nsegment++;
	t->total++;
	log_debug("%s WAL file %s", t->verb, name);
}

static void
describe_policy(const RetentionPolicy *p)
{
	if (p->type == RETENTION_COUNT)
		log_info("retention: the newest %d full %s and the backups and WAL that depend on %s",
				 p->full, plural(p->full, "backup", "backups"), plural(p->full, "it", "them"));
	else
	{
		char		since[64];

		time_format_utc(p->now - (TimestampUs) p->full * RETENTION_DAY_US, since, sizeof(since));
		log_info("retention: recovery to any moment since %s (%d %s)", since, p->full,
				 plural(p->full, "day", "days"));
	}
	if (p->diff > 0)
		log_info("retention: the newest %d diff %s and the incr backups built on %s", p->diff,
				 plural(p->diff, "backup", "backups"), plural(p->diff, "it", "them"));
	if (p->archive > 0)
		log_info("retention: continuous WAL from the newest %d %s %s on; older backups keep their own WAL only",
				 p->archive, p->archive_type == RETENTION_ARCHIVE_FULL ? "full" :
				 p->archive_type == RETENTION_ARCHIVE_DIFF ? "full or diff" : "", plural(p->archive, "backup", "backups"));
}

static void
print_backup(const char *verb, const Manifest *m)
{
	char		stopped[64];

	time_format_utc(m->stop_time, stopped, sizeof(stopped));
	if (m->parent[0])
		printf("%s backup %s (%s on %s, stopped %s)\n", verb, m->label, m->type, m->parent, stopped);
	else
		printf("%s backup %s (%s, stopped %s)\n", verb, m->label, m->type, stopped);
}

/* The name of the first kept WAL segment, on the timeline of the backup that needs it. */
static void
cutoff_name(const Catalog *cat, const RetentionPlan *plan, char *out)
{
	for (int i = 0; i < cat->count; i++)
	{
		const Manifest *m = &cat->backups[i];

		if (!plan->expire[i] && manifest_start_segno(m) == plan->wal_cutoff)
		{
			wal_segment_name(out, m->timeline, plan->wal_cutoff, m->wal_segment_size);
			return;
		}
	}
	snprintf(out, WAL_NAME_LEN + 1, "?");
}

static int
apply_plan(Repo *repo, const Catalog *cat, const RetentionPlan *plan, bool dry_run, PgbError *err)
{
	const char *verb = dry_run ? "would remove" : "removed";
	WalTally	wal = {.verb = verb};
	char		first_kept[WAL_NAME_LEN + 1] = "";
	int			nremoved = 0;
	int			rc = 0;

	for (int i = cat->count - 1; i >= 0; i--)
	{
		if (!plan->expire[i])
			continue;
		if (!dry_run && catalog_remove_backup(repo, cat->backups[i].label, err) != 0)
		{
			rc = -1;
			break;
		}
		print_backup(verb, &cat->backups[i]);
		nremoved++;
	}
	if (rc == 0 && plan->have_wal_cutoff)
	{
		cutoff_name(cat, plan, first_kept);
		rc = wal_remove_before(repo, plan->wal_cutoff, plan->keep_ranges, plan->nkeep_ranges, dry_run, tally_add, &wal, err);
		tally_flush(&wal);
		/* the WAL index follows the archive (derived data: a failure is only a warning) */
		if (rc == 0 && !dry_run && wal.total > 0)
		{
			PgbError	e = {0};

			if (walindex_prune(repo, &e) < 0)
				log_warn("could not remove the WAL index of removed segments: %s", e.msg);
		}
	}
	if (rc != 0)
		return pgb_error_context(err, "expire stopped after removing %d %s and %d WAL %s",
								 nremoved, plural(nremoved, "backup", "backups"),
								 wal.total, plural(wal.total, "file", "files"));

	if (cat->count == 0)
		printf("expire: no backups, nothing to remove\n");
	else
	{
		char		what[128];

		if (nremoved == 0 && wal.total == 0)
			snprintf(what, sizeof(what), "nothing to remove");
		else if (wal.total == 0)
			snprintf(what, sizeof(what), "%s %d %s", verb, nremoved, plural(nremoved, "backup", "backups"));
		else if (nremoved == 0)
			snprintf(what, sizeof(what), "%s %d WAL %s", verb, wal.total, plural(wal.total, "file", "files"));
		else
			snprintf(what, sizeof(what), "%s %d %s and %d WAL %s", verb,
					 nremoved, plural(nremoved, "backup", "backups"),
					 wal.total, plural(wal.total, "file", "files"));
		printf("expire: %s; %d %s (%d full) and the WAL from %s on %s\n", what,
			   plan->nkeep, plural(plan->nkeep, "backup", "backups"), plan->nkeep_full, first_kept,
			   dry_run ? "would remain" : "remain");
	}
	fflush(stdout);
	return 0;
}

/* The current repository's retention policy. */
static int
repo_policy(const Config *cfg, RetentionPolicy *policy, PgbError *err)
{
	const RepoDef *def = &cfg->repos[cfg->repo_current];

	memset(policy, 0, sizeof(*policy));
	if (retention_type_parse(def->retention_full_type, &policy->type, err) != 0 ||
		retention_archive_type_parse(def->retention_archive_type, &policy->archive_type, err) != 0)
		return -1;
	policy->full = def->retention_full;
	policy->diff = def->retention_diff;
	policy->archive = def->retention_archive;
	policy->now = time_now();
	return 0;
}

bool
expire_continuous_from(const Config *cfg, const Catalog *cat, SegNo *from, PgbError *err)
{
	RetentionPolicy policy;
	RetentionPlan plan = {0};
	bool		moved;

	if (repo_policy(cfg, &policy, err) != 0 || policy.archive == 0 || policy.full < 1 ||
		retention_plan(cat, &policy, &plan, err) != 0)
		return false;
	moved = plan.have_wal_cutoff && plan.nkeep_ranges > 0;
	*from = plan.wal_cutoff;
	retention_plan_free(&plan);
	return moved;
}

int
expire_run(Repo *repo, const Config *cfg, PgbError *err)
{
	Catalog		cat = {0};
	RetentionPolicy policy = {0};
	RetentionPlan plan = {0};
	int			rc = -1;

	if (repo_policy(cfg, &policy, err) != 0)
		return -1;
	describe_policy(&policy);
	if (catalog_load_headers(repo, &cat, err) != 0)
		return -1;
	for (int i = 0; i < cat.ncorrupt; i++)
		log_info("leaving unusable backup %s alone: neither counted nor removed", cat.corrupt[i]);
	for (int i = 0; i < cat.nincomplete; i++)
		log_info("leaving interrupted backup %s for the next backup to remove", cat.incomplete[i]);
	if (retention_plan(&cat, &policy, &plan, err) == 0)
		rc = apply_plan(repo, &cat, &plan, cfg->dry_run, err);
	retention_plan_free(&plan);
	catalog_free(&cat);
	return rc;
}

int
cmd_expire(const Config *cfg, PgbError *err)
{
	Repo	   *repo;
	StorageLock *lock = NULL;
	int			rc = -1;

	if (pgbr_is_repo(cfg, cfg->repo_current))
		return cmd_pgbr_expire(cfg, err);
	if ((repo = cmd_open_repo(cfg, err)) == NULL)
		return -1;
	if (!cfg->dry_run && (lock = cmd_lock_backups(repo, "expire", err)) == NULL)
		goto done;
	rc = expire_run(repo, cfg, err);
done:
	storage_unlock(lock);
	repo_free(repo);
	return rc;
}
