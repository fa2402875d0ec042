/*
 * The state of one `pgbkp pitr` run (cmd_pitr.c runs it; pitr_plan.c
 * checks the members and makes, shows and confirms the plan before anything
 * is changed).  Private to those two files.
 */
#ifndef PGBKP_CMD_PITR_H
#define PGBKP_CMD_PITR_H

#include <json-c/json.h>
#include <sys/types.h>

#include "cluster/patroni.h"
#include "cmd/cmd.h"
#include "cmd/member_exec.h"

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
	volatile pid_t *child;		/* the step running now, killed on SIGINT/SIGTERM */
} Pitr;

/* Run pitr-member action (and extra args, NULL-ended) for member i; r is filled. */
int			pitr_run_step(Pitr *p, int i, const char *action, const char *const *extra, MemberResult *r,
						  PgbError *err);

/* The restore's options pitr passes on (the target, and --set set), NULL-ended into a[*n..]. */
void		pitr_target_args(const Config *cfg, const char *set, const char **a, int *n);

/* Every member's Patroni and host, or the list of those that cannot be reached. */
int			pitr_check_members(Pitr *p, PgbError *err);

/* The member to restore: --instance, else the leader; --undo: the newest kept directory. */
int			pitr_choose_primary(Pitr *p, PgbError *err);

/* The restore's plan (its dry run), from the member that will be restored. */
int			pitr_make_plan(Pitr *p, PgbError *err);

void		pitr_print_plan_text(const Pitr *p);
void		pitr_print_plan_json(const Pitr *p);

/* --yes, or the cluster's name typed on a terminal. */
int			pitr_confirm(const Pitr *p, PgbError *err);

#endif
