/* The drill's checks of a restored copy (see checks.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/subproc.h"
#include "drill/checks.h"

#define TOOL_OUTPUT_MAX (64 * 1024)
#define MAX_NAMED 10			/* failures named in a message */
#define RELSEG_BLOCKS 131072	/* blocks per 1 GiB relation segment file */

typedef struct BadBlock
{
	unsigned	spc;			/* 0: the default tablespace */
	unsigned	db;
	unsigned	node;
	uint64_t	block;
	char		file[256];
} BadBlock;

static DbConn *
connect_to(const DrillEnv *env, const char *dbname, PgbError *err)
{
	DbParams	p;
	DbConn	   *c;
	DbTable		t;
	char		sql[64];

	pgserver_params(env->server, dbname, &p);
	if ((c = db_connect(&p, err)) == NULL)
		return NULL;
	snprintf(sql, sizeof(sql), "SET statement_timeout = '%ds'", env->timeout);
	if (db_query_table(c, sql, &t, err) != 0)
	{
		db_close(c);
		return NULL;
	}
	db_table_free(&t);
	return c;
}

/* One row, one column: the value (or "" for NULL) into out. */
static int
query_value(DbConn *c, const char *sql, char *out, size_t len, PgbError *err)
{
	DbTable		t;

	if (db_query_table(c, sql, &t, err) != 0)
		return -1;
	snprintf(out, len, "%s", t.rows > 0 && t.cols > 0 && db_table_cell(&t, 0, 0) ? db_table_cell(&t, 0, 0) : "");
	db_table_free(&t);
	return 0;
}

int
drill_data_checksums(const DrillEnv *env, bool *on, PgbError *err)
{
	DbConn	   *c = connect_to(env, env->dbname, err);
	char		v[16];

	if (c == NULL)
		return -1;
	if (query_value(c, "SHOW data_checksums", v, sizeof(v), err) != 0)
	{
		db_close(c);
		return -1;
	}
	db_close(c);
	*on = strcmp(v, "on") == 0;
	return 0;
}

/* A failing file's place: "base/DB/NODE[.SEG]" or "pg_tblspc/SPC/DIR/DB/NODE[.SEG]". */
static bool
parse_bad_line(const char *line, const char *datadir, BadBlock *b)
{
	const char *q = strstr(line, "in file \"");
	const char *end;
	const char *rel;
	unsigned	seg = 0;
	uint64_t	block;
	char		verdir[64];

	memset(b, 0, sizeof(*b));
	if (q == NULL || (end = strchr(q + 9, '"')) == NULL || sscanf(end, "\", block %" SCNu64, &block) != 1)
		return false;
	rel = q + 9;
	if (strncmp(rel, datadir, strlen(datadir)) == 0 && rel[strlen(datadir)] == '/')
		rel += strlen(datadir) + 1;
	while (strncmp(rel, "./", 2) == 0)
		rel += 2;
	snprintf(b->file, sizeof(b->file), "%.*s", (int) (end - rel), rel);
	if (sscanf(b->file, "base/%u/%u.%u", &b->db, &b->node, &seg) < 2 &&
		sscanf(b->file, "pg_tblspc/%u/%63[^/]/%u/%u.%u", &b->spc, verdir, &b->db, &b->node, &seg) < 4)
		b->db = b->node = 0;
	b->block = (uint64_t) seg * RELSEG_BLOCKS + block;
	return true;
}

/* "public.t in database app", or "" when the copy cannot say. */
static void
relation_of(const DrillEnv *env, const BadBlock *b, char *out, size_t len)
{
	PgbError	e = {0};
	DbConn	   *c;
	char		sql[256];
	char		db[128] = "",
				rel[256] = "";

	out[0] = '\0';
	if (b->node == 0 || (c = connect_to(env, env->dbname, &e)) == NULL)
		return;
	snprintf(sql, sizeof(sql), "SELECT datname FROM pg_database WHERE oid = %u", b->db);
	if (query_value(c, sql, db, sizeof(db), &e) != 0 || db[0] == '\0')
	{
		db_close(c);
		return;
	}
	db_close(c);
	if ((c = connect_to(env, db, &e)) == NULL)
		return;
	snprintf(sql, sizeof(sql), "SELECT format('%%I.%%I', n.nspname, c.relname) FROM pg_class c "
			 "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = pg_filenode_relation(%u, %u)",
			 b->spc, b->node);
	if (query_value(c, sql, rel, sizeof(rel), &e) == 0 && rel[0])
		snprintf(out, len, " (%s in database %s)", rel, db);
	db_close(c);
}

static void
scanned_counts(const char *output, char *out, size_t len)
{
	const char *f = strstr(output, "Files scanned:");
	const char *b = strstr(output, "Blocks scanned:");
	unsigned long long files = 0,
				blocks = 0;

	if (f)
		sscanf(f, "Files scanned: %llu", &files);
	if (b)
		sscanf(b, "Blocks scanned: %llu", &blocks);
	snprintf(out, len, "%llu blocks in %llu files", blocks, files);
}

int
drill_check_checksums(const DrillEnv *env, DrillStep *step, PgbError *err)
{
	char		prog[PGB_PATH_MAX + 32];
	char	   *output = malloc(TOOL_OUTPUT_MAX);
	BadBlock	bad[MAX_NAMED];
	int			nbad = 0,
				total = 0,
				status;
	char		counts[96];
	PgbError	e = {0};

	if (output == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	if (pgserver_stop(env->server, err) != 0)
	{
		free(output);
		return -1;
	}
	snprintf(prog, sizeof(prog), "%s/pg_checksums", env->server->bindir);
	{
		const char *argv[] = {prog, "--check", "-D", env->server->datadir, NULL};

		status = subproc_run(argv, output, TOOL_OUTPUT_MAX, env->tool_pid, &e);
	}
	if (status < 0)
		drill_step_set(step, STEP_FAILED, "%s", e.msg);
	else
	{
		for (const char *p = output; (p = strstr(p, "checksum verification failed")) != NULL; p++)
		{
			const char *eol = strchr(p, '\n');
			char		line[1024];

			snprintf(line, sizeof(line), "%.*s", eol ? (int) (eol - p) : (int) strlen(p), p);
			if (nbad < MAX_NAMED && parse_bad_line(line, env->server->datadir, &bad[nbad]))
				nbad++;
			total++;
		}
		scanned_counts(output, counts, sizeof(counts));
		if (status == 0 && total == 0)
			drill_step_set(step, STEP_PASSED, "%s checked, no bad checksums", counts);
		else if (total == 0)
			drill_step_set(step, STEP_FAILED, "pg_checksums failed (exit %d) without naming a block", status);
		drill_step_output(step, output);
	}
	free(output);

	/* bring the copy back for the other checks, then name the relations */
	if (pgserver_start(env->server, err) != 0 ||
		pgserver_wait_up(env->server, env->timeout, env->stop, err) != 0)
		return -1;
	if (total > 0)
	{
		char		msg[1024];
		size_t		n = (size_t) snprintf(msg, sizeof(msg), "%d bad checksum%s: ", total, total == 1 ? "" : "s");

		for (int i = 0; i < nbad && n < sizeof(msg); i++)
		{
			char		rel[400];

			relation_of(env, &bad[i], rel, sizeof(rel));
			n += (size_t) snprintf(msg + n, sizeof(msg) - n, "%s%s block %" PRIu64 "%s", i ? ", " : "",
								   bad[i].file, bad[i].block, rel);
		}
		if (total > nbad && n < sizeof(msg))
			snprintf(msg + n, sizeof(msg) - n, ", ...");
		drill_step_set(step, STEP_FAILED, "%s", msg);
	}
	return 0;
}

void
drill_check_amcheck(const DrillEnv *env, DrillStep *step)
{
	char		prog[PGB_PATH_MAX + 32];
	char		port[16];
	char	   *output = malloc(TOOL_OUTPUT_MAX);
	const char *argv[16];
	int			n = 0,
				status;
	PgbError	e = {0};

	if (output == NULL)
	{
		drill_step_set(step, STEP_FAILED, "out of memory");
		return;
	}
	snprintf(prog, sizeof(prog), "%s/pg_amcheck", env->server->bindir);
	snprintf(port, sizeof(port), "%d", env->server->port);
	argv[n++] = prog;
	argv[n++] = "--all";
	argv[n++] = "--install-missing";
	argv[n++] = "--no-password";
	argv[n++] = "--host";
	argv[n++] = env->server->rundir;
	argv[n++] = "--port";
	argv[n++] = port;
	argv[n++] = "--username";
	argv[n++] = env->server->user;
	argv[n++] = "--maintenance-db";
	argv[n++] = env->dbname;
	if (env->thorough)
	{
		argv[n++] = "--heapallindexed";
		argv[n++] = "--parent-check";
	}
	argv[n] = NULL;
	status = subproc_run(argv, output, TOOL_OUTPUT_MAX, env->tool_pid, &e);
	if (status < 0)
		drill_step_set(step, STEP_FAILED, "%s", e.msg);
	else if (status == 0)
		drill_step_set(step, STEP_PASSED, "no corruption found in heap tables and B-tree indexes%s",
					   env->thorough ? " (with heapallindexed and parent checks)" : "");
	else
	{
		char		first[900];
		const char *what = output;

		/* the first relation it names ("heap table \"db.schema.t\":"), with the line after it */
		for (const char *k[] = {"heap table \"", "btree index \"", NULL}, **p = k; *p; p++)
		{
			const char *hit = strstr(output, *p);

			if (hit && (what == output || hit < what))
				what = hit;
		}
		snprintf(first, sizeof(first), "%.*s", (int) strcspn(what, "\n"), what);
		if (what != output && what[strcspn(what, "\n")] == '\n')
		{
			const char *next = what + strcspn(what, "\n") + 1;
			size_t		have = strlen(first);

			while (*next == ' ')
				next++;
			snprintf(first + have, sizeof(first) - have, " %.*s", (int) strcspn(next, "\n"), next);
		}
		drill_step_set(step, STEP_FAILED, "pg_amcheck found problems (exit %d): %s", status,
					   first[0] ? first : "no output");
	}
	drill_step_output(step, output);
	free(output);
}

#define LIST_DATABASES \
	"SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname"
#define LIST_TABLES \
	"SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace " \
	"WHERE c.relkind IN ('r', 'm') AND c.relpersistence <> 't' AND (c.relkind <> 'm' OR c.relispopulated) " \
	"AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_(toast|temp)' ORDER BY 1"

/* count(*) of every table in one database; failures appended to bad. */
static int
read_tables(const DrillEnv *env, const char *db, int *tables, long long *rows, char *bad, size_t badlen, int *nbad)
{
	PgbError	e = {0};
	DbConn	   *c = connect_to(env, db, &e);
	DbTable		list;

	if (c == NULL || db_query_table(c, LIST_TABLES, &list, &e) != 0)
	{
		size_t		n = strlen(bad);

		if (n < badlen)
			snprintf(bad + n, badlen - n, "%sdatabase %s: %.300s", n ? "; " : "", db, e.msg);
		(*nbad)++;
		db_close(c);
		return -1;
	}
	for (int i = 0; i < list.rows && !(env->stop && *env->stop); i++)
	{
		const char *t = db_table_cell(&list, i, 0);
		char		sql[600];
		char		v[32];

		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", t);
		if (query_value(c, sql, v, sizeof(v), &e) != 0)
		{
			size_t		n = strlen(bad);

			if (*nbad < MAX_NAMED && n < badlen)
				snprintf(bad + n, badlen - n, "%s%s.%.200s: %.300s", n ? "; " : "", db, t, e.msg);
			(*nbad)++;
			continue;
		}
		(*tables)++;
		*rows += atoll(v);
	}
	db_table_free(&list);
	db_close(c);
	return 0;
}

void
drill_check_tables(const DrillEnv *env, DrillStep *step)
{
	PgbError	e = {0};
	DbConn	   *c = connect_to(env, env->dbname, &e);
	DbTable		dbs;
	int			tables = 0,
				nbad = 0;
	long long	rows = 0;
	char		bad[2048] = "";

	if (c == NULL || db_query_table(c, LIST_DATABASES, &dbs, &e) != 0)
	{
		drill_step_set(step, STEP_FAILED, "could not list the databases: %s", e.msg);
		db_close(c);
		return;
	}
	db_close(c);
	for (int i = 0; i < dbs.rows; i++)
		read_tables(env, db_table_cell(&dbs, i, 0), &tables, &rows, bad, sizeof(bad), &nbad);
	if (nbad > 0)
		drill_step_set(step, STEP_FAILED, "%d table%s could not be read: %.900s", nbad, nbad == 1 ? "" : "s", bad);
	else
		drill_step_set(step, STEP_PASSED, "read every table: %d tables in %d databases, %lld rows", tables,
					   dbs.rows, rows);
	db_table_free(&dbs);
}

void
drill_check_user(const DrillEnv *env, const UserCheck *check, DrillStep *step)
{
	PgbError	e = {0};
	DbConn	   *c = connect_to(env, check->database[0] ? check->database : env->dbname, &e);
	DbTable		t;
	char		why[600];

	if (c == NULL || db_query_table(c, check->sql, &t, &e) != 0)
	{
		drill_step_set(step, STEP_FAILED, "%s (%s)", e.msg, check->origin);
		db_close(c);
		return;
	}
	db_close(c);
	drill_step_set(step, usercheck_judge(check, &t, why, sizeof(why)) ? STEP_PASSED : STEP_FAILED, "%s", why);
	db_table_free(&t);
}
