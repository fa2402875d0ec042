/*
 * The restore plan as text: the backup and why each newer one was passed
 * over, its chain, what is written, the WAL replayed and the recovery
 * settings.  restore --dry-run prints it (as lines, or as JSON with
 * --output json); every restore logs the same lines first.
 */
#ifndef PGBKP_RESTORE_RENDER_H
#define PGBKP_RESTORE_RENDER_H

#include "restore/plan.h"
#include "restore/recovery_conf.h"

typedef struct PlanView
{
	const Manifest *m;			/* the backup chosen, an entry of cat */
	const Catalog *cat;
	const WalList *wal;
	const RestoreTarget *t;
	TimeLineID	timeline;		/* the one recovery follows */
	const char *repo_name;
	const char *target_dir;
	bool		delta;
	uint64_t	delta_files;	/* --delta: files there at the backup's size (restore_delta_estimate) */
	uint64_t	delta_bytes;
	bool		exclusive;		/* --target-exclusive */
	bool		standby;
	bool		archive_off;
	const RecoverySettings *s;
} PlanView;

/* Lines separated by '\n' (text), or one JSON document; malloc'd, NULL with err set. */
char	   *plan_render(const PlanView *v, bool json, PgbError *err);

#endif
