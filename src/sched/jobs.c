/* The scheduler's job list, each job's command line and the node's name (see jobs.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/options.h"
#include "sched/jobs.h"

static const char *const job_commands[] = {"backup", "verify", "expire", "check", "drill", NULL};
static const char *const run_on_values[] = {"primary", "replica", "any", NULL};
static const char *const backup_types[] = {"full", "diff", "incr", "auto", NULL};

static bool
in_list(const char *const *list, const char *word)
{
	for (; *list; list++)
		if (strcmp(*list, word) == 0)
			return true;
	return false;
}

int
sched_jobs_load(const Config *cfg, SchedJob *out, int *n, PgbError *err)
{
	*n = 0;
	if (cfg->nsched == 0 && !cfg->stream)	/* a scheduler only for the stream service is fine */
	{
		pgb_error(err, EXIT_CONFIG, "no jobs are scheduled");
		return pgb_hint(err, "add a schedule list to the pgbkp: section, e.g. "
						"schedule: [{cron: \"0 1 * * *\", command: backup, type: incr}]");
	}
	if (!cron_tz_valid(cfg->schedule_timezone))
		return pgb_error(err, EXIT_CONFIG, "unknown time zone \"%s\" in schedule_timezone", cfg->schedule_timezone),
			pgb_hint(err, "use an IANA name such as UTC or Europe/Berlin (see /usr/share/zoneinfo)");
	for (int i = 0; i < cfg->nsched; i++)
	{
		SchedJob   *j = &out[i];

		j->def = cfg->sched[i];
		if (j->def.cron[0] == '\0' || j->def.command[0] == '\0')
			return pgb_error(err, EXIT_CONFIG, "%s: a scheduled job needs cron and command", j->def.where);
		if (!in_list(job_commands, j->def.command))
			return pgb_error(err, EXIT_CONFIG, "%s: command \"%s\" cannot be scheduled (backup, verify, expire, check or drill)",
							 j->def.where, j->def.command);
		if (j->def.run_on[0] == '\0')
			snprintf(j->def.run_on, sizeof(j->def.run_on), "%s", strcmp(j->def.command, "drill") == 0 ? "any" : "primary");
		if (!in_list(run_on_values, j->def.run_on))
			return pgb_error(err, EXIT_CONFIG, "%s: run_on \"%s\" is not primary, replica or any", j->def.where,
							 j->def.run_on);
		if (j->def.type[0] && (strcmp(j->def.command, "backup") != 0 || !in_list(backup_types, j->def.type)))
			return pgb_error(err, EXIT_CONFIG, "%s: type \"%s\" %s", j->def.where, j->def.type,
							 strcmp(j->def.command, "backup") != 0 ? "applies only to backup jobs" :
							 "is not a backup type (full, diff, incr or auto)");
		if (cron_parse(j->def.cron, &j->expr, err) != 0)
			return pgb_error_context(err, "%s", j->def.where);
		if (j->def.name[0] == '\0')
			snprintf(j->def.name, sizeof(j->def.name), "%s%s%s", j->def.command,
					 j->def.type[0] ? "-" : "", j->def.type);
		for (int k = 0; k < i; k++)
			if (strcmp(out[k].def.name, j->def.name) == 0)
				return pgb_error(err, EXIT_CONFIG, "%s: two scheduled jobs are named \"%s\"", j->def.where, j->def.name),
					pgb_hint(err, "give one of them a name:");
		j->def.where = NULL;	/* owned by cfg */
	}
	*n = cfg->nsched;
	return 0;
}

static int
push(char ***v, int *n, const char *s)
{
	char	  **nv = realloc(*v, sizeof(char *) * (size_t) (*n + 2));

	if (nv == NULL)
		return -1;
	*v = nv;
	if ((nv[*n] = strdup(s)) == NULL)
		return -1;
	nv[++*n] = NULL;
	return 0;
}

/*
 * The scheduler's own options go to the child when the child's command
 * accepts them; the command word and the options only the scheduler takes
 * stay behind.
 */
char	  **
sched_job_argv(const Config *cfg, const SchedJob *job, const char *self, PgbError *err)
{
	char	  **v = NULL;
	int			n = 0;
	int			cmd = command_find(job->def.command);
	bool		skipped_word = false;
	bool		fail = false;

	fail |= push(&v, &n, self) != 0;
	for (int i = 1; i < cfg->argc && !fail; i++)
	{
		const char *a = cfg->argv[i];
		const OptionDef *opt = NULL;
		bool		takes_value;
		char		name[128];

		if (a[0] != '-' || strcmp(a, "-") == 0)
		{
			if (!skipped_word && cfg->command && strcmp(a, cfg->command) == 0)
			{
				skipped_word = true;
				continue;
			}
			fail |= push(&v, &n, a) != 0;
			continue;
		}
		if (a[1] == '-')
		{
			snprintf(name, sizeof(name), "%.*s", (int) strcspn(a + 2, "="), a + 2);
			opt = option_find(name);
			if (opt == NULL && strncmp(name, "no-", 3) == 0)
				opt = option_find(name + 3);
		}
		else
			for (int k = 0; k < option_count; k++)
				if (option_table[k].short_name == a[1])
					opt = &option_table[k];
		takes_value = opt && opt->type != OPT_BOOL && opt->type != OPT_FLAG &&
			(a[1] == '-' ? strchr(a, '=') == NULL : a[2] == '\0');
		if (opt && !option_applies(opt, cmd) && opt->commands != 0)
		{
			if (takes_value)
				i++;
			continue;
		}
		fail |= push(&v, &n, a) != 0;
		if (takes_value && i + 1 < cfg->argc)
			fail |= push(&v, &n, cfg->argv[++i]) != 0;
	}
	if (strcmp(job->def.run_on, "replica") == 0)
		fail |= push(&v, &n, "--if-replica") != 0;
	else if (strcmp(job->def.run_on, "any") != 0)
		fail |= push(&v, &n, "--if-primary") != 0;
	fail |= push(&v, &n, "--no-progress") != 0;
	fail |= push(&v, &n, job->def.command) != 0;
	if (job->def.type[0])
	{
		fail |= push(&v, &n, "--type") != 0;
		fail |= push(&v, &n, job->def.type) != 0;
	}
	if (fail)
	{
		sched_argv_free(v);
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		return NULL;
	}
	return v;
}

void
sched_argv_free(char **argv)
{
	if (argv == NULL)
		return;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

const char *
sched_node_name(const Config *cfg, char *buf, size_t len)
{
	if (cfg->self >= 0)
		snprintf(buf, len, "%s", cfg->members[cfg->self].name);
	else if (gethostname(buf, len - 1) != 0)
		snprintf(buf, len, "unknown");
	buf[len - 1] = '\0';
	return buf;
}
