/*
 * pgbkp verify on a pgBackRest repository: runs `pgbackrest verify` and
 * reads what it reports, because its exit status does not say it all --
 * pgBackRest 2.45 reports a backup file whose checksum does not match and
 * still exits 0 (measured), and it reports a WAL segment missing from the
 * archive only as two WAL ranges in its detail log (as it does at every
 * timeline switch, where pgbkp reads the history file: pgbackrest/switch.h).  Any file it names as
 * invalid or missing, a gap between two ranges of one archive, a stanza
 * status of "error", or a failure of the command itself makes verify fail
 * with exit 6, naming the damaged files.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/pgbr.h"
#include "common/log.h"
#include "pgbackrest/exec.h"
#include "pgbackrest/switch.h"

#define VERIFY_NAMED_MAX 900

/* The log message of a console line ("... P01   INFO: msg"), or NULL. */
static const char *
log_message(const char *line)
{
	static const char *const levels[] = {"INFO: ", "WARN: ", "ERROR: ", "DETAIL: ", NULL};

	for (int i = 0; levels[i]; i++)
	{
		const char *p = strstr(line, levels[i]);

		if (p)
			return p + strlen(levels[i]);
	}
	return NULL;
}

/* A message that names a damaged or missing file: its 'quoted' name into file. */
static bool
problem_file(const char *msg, size_t len, char *file, size_t flen)
{
	static const char *const starts[] = {"invalid ", "missing ", "file missing", "unable to ", NULL};
	const char *q1,
			   *q2;
	bool		problem = false;

	for (int i = 0; starts[i]; i++)
		problem |= strncmp(msg, starts[i], strlen(starts[i])) == 0;
	if (!problem || (q1 = memchr(msg, '\'', len)) == NULL ||
		(q2 = memchr(q1 + 1, '\'', len - (size_t) (q1 + 1 - msg))) == NULL)
		return false;
	snprintf(file, flen, "%.*s", (int) (q2 - q1 - 1), q1 + 1);
	return true;
}

/*
 * A range line ("archiveId: 15-1, wal start: A, wal stop: B"): true when it
 * follows another range of the same archive, with the missing segments
 * ("after X, before Y") in what, X in prev_stop and Y in start (32 bytes
 * each).  id and stop carry the previous range.  A range on a later
 * timeline may still continue the previous one (pgbackrest/switch.h).
 */
static bool
gap(const char *msg, char *id, size_t idlen, char *stop, char *prev_stop, char *start, char *what, size_t wlen)
{
	char		nid[64],
				nstop[32];
	bool		found;

	if (sscanf(msg, "archiveId: %63[^,], wal start: %31[0-9A-F], wal stop: %31[0-9A-F]", nid, start, nstop) != 3)
		return false;
	found = strcmp(nid, id) == 0 && stop[0];
	if (found)
		snprintf(what, wlen, "after %s, before %s", stop, start);
	snprintf(prev_stop, 32, "%s", stop);
	snprintf(id, idlen, "%s", nid);
	snprintf(stop, 32, "%s", nstop);
	return found;
}

int
cmd_pgbr_verify(const Config *cfg, PgbError *err)
{
	const RepoDef *def = &cfg->repos[cfg->repo_current];
	PgbrRun		run = {.command = "verify", .console_level = "detail"};
	char		range_id[64] = "",
				range_stop[32] = "",
				prev_stop[32] = "",
				range_start[32] = "";
	char		named[VERIFY_NAMED_MAX] = "";
	size_t		nlen = 0;
	int			nbad = 0;
	bool		status_error = false;
	int			rc = -1;

	log_info("verifying repository \"%s\" with pgBackRest (stanza %s, repo %d)", def->name,
			 pgbr_stanza(def, cfg->cluster), def->pgbr_repo);
	if (pgbr_exec(def, cfg->cluster, true, &run, err) != 0)
		goto done;
	for (const char *next = run.out; next && *next;)
	{
		const char *nl = strchr(next, '\n');
		size_t		len = nl ? (size_t) (nl - next) : strlen(next);
		char		line[2048];
		const char *msg;
		char		file[512];

		snprintf(line, sizeof(line), "%.*s", (int) len, next);
		next = nl ? nl + 1 : next + len;
		msg = log_message(line);
		if (msg && problem_file(msg, strlen(msg), file, sizeof(file)))
		{
			log_error("pgBackRest verify: %s", msg);
			if (nlen < sizeof(named) && !strstr(named, file))
				nlen += (size_t) snprintf(named + nlen, sizeof(named) - nlen, "%s%s", nbad ? ", " : "", file);
			nbad++;
		}
		if (msg && gap(msg, range_id, sizeof(range_id), range_stop, prev_stop, range_start, file, sizeof(file)))
		{
			bool		continues = false;

			if (pgbr_range_continues(def, cfg->cluster, prev_stop, range_start, &continues, err) != 0)
				goto done;
			if (continues)
				continue;
			log_error("pgBackRest verify: WAL of archive %s is missing %s", range_id, file);
			if (nlen < sizeof(named))
				nlen += (size_t) snprintf(named + nlen, sizeof(named) - nlen, "%sWAL %s", nbad ? ", " : "", file);
			nbad++;
		}
		if (strncmp(line + strspn(line, " "), "status: error", 13) == 0)
			status_error = true;
	}
	if (run.status != 0)
	{
		pgbr_run_error(def, &run, err);
		if (err->code != EXIT_CONFIG)
			err->code = EXIT_CORRUPT;
		goto done;
	}
	if (nbad > 0)
	{
		pgb_error(err, EXIT_CORRUPT, "repository \"%s\" (pgBackRest) is damaged: %d problem%s: %s%s", def->name,
				  nbad, nbad == 1 ? "" : "s", named, nlen >= sizeof(named) - 1 ? ", ..." : "");
		pgb_hint(err, "the files are in pgBackRest's repository (backup/%s/ or archive/%s/); take a new full backup",
				 pgbr_stanza(def, cfg->cluster), pgbr_stanza(def, cfg->cluster));
		goto done;
	}
	if (status_error)
	{
		pgb_error(err, EXIT_CORRUPT, "repository \"%s\" (pgBackRest): verify reports status error", def->name);
		goto done;
	}
	log_info("repository \"%s\" (pgBackRest): every backup and WAL file verified", def->name);
	rc = 0;
done:
	pgbr_run_free(&run);
	return rc;
}
