/*
 * Unit tests for src/pgbackrest: reading pgBackRest's info JSON (as 2.45
 * prints it), which backups are restorable from the archive range, and
 * running the program -- the command line it gets (no secrets, the stanza
 * defaulting to the cluster), stdout kept apart from stderr, and its
 * "ERROR: [NNN]" line turned into pgbkp's exit code with pgBackRest's hint.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "pgbackrest/archtime.h"
#include "pgbackrest/exec.h"
#include "pgbackrest/info.h"
#include "pgbackrest/tablespace.h"
#include "pgbackrest/switch.h"
#include "pgbackrest/window.h"

/* The shape of `pgbackrest info --output=json` from 2.45 (two stanzas). */
static const char info_json[] =
	"[{\"archive\":[{\"database\":{\"id\":1,\"repo-key\":1},\"id\":\"15-1\","
	"\"max\":\"000000010000000000000004\",\"min\":\"000000010000000000000001\"}],"
	"\"backup\":[{\"archive\":{\"start\":\"000000010000000000000002\",\"stop\":\"000000010000000000000002\"},"
	"\"backrest\":{\"format\":5,\"version\":\"2.45\"},\"database\":{\"id\":1,\"repo-key\":1},\"error\":false,"
	"\"info\":{\"delta\":22992534,\"repository\":{\"delta\":3056869,\"size\":3056869},\"size\":22992534},"
	"\"label\":\"20261204-091845F\",\"lsn\":{\"start\":\"0/2000028\",\"stop\":\"0/2000100\"},\"prior\":null,"
	"\"reference\":null,\"timestamp\":{\"start\":1796375925,\"stop\":1796375927},\"type\":\"full\"},"
	"{\"archive\":{\"start\":\"000000010000000000000004\",\"stop\":\"000000010000000000000004\"},"
	"\"backrest\":{\"format\":5,\"version\":\"2.45\"},\"database\":{\"id\":1,\"repo-key\":1},\"error\":false,"
	"\"info\":{\"delta\":1581322,\"repository\":{\"delta\":174601,\"size\":3062811},\"size\":23066262},"
	"\"label\":\"20261204-091845F_20261204-091848I\",\"lsn\":{\"start\":\"0/4000028\",\"stop\":\"0/4000100\"},"
	"\"prior\":\"20261204-091845F\",\"reference\":[\"20261204-091845F\"],"
	"\"timestamp\":{\"start\":1796375928,\"stop\":1796375929},\"type\":\"incr\"},"
	"{\"archive\":{\"start\":\"000000010000000000000006\",\"stop\":\"000000010000000000000006\"},"
	"\"backrest\":{\"format\":5,\"version\":\"2.45\"},\"database\":{\"id\":1,\"repo-key\":1},\"error\":true,"
	"\"info\":{\"delta\":1,\"repository\":{\"delta\":1,\"size\":1},\"size\":1},"
	"\"label\":\"20261204-091845F_20261204-091850I\",\"lsn\":{\"start\":\"0/6000028\",\"stop\":\"0/6000100\"},"
	"\"prior\":\"20261204-091845F_20261204-091848I\",\"reference\":null,"
	"\"timestamp\":{\"start\":1796375930,\"stop\":1796375931},\"type\":\"incr\"}],"
	"\"cipher\":\"none\",\"db\":[{\"id\":1,\"repo-key\":1,\"system-id\":7715375841759968579,\"version\":\"15\"}],"
	"\"name\":\"pg-meta\",\"repo\":[{\"cipher\":\"none\",\"key\":1,\"status\":{\"code\":0,\"message\":\"ok\"}}],"
	"\"status\":{\"code\":0,\"lock\":{\"backup\":{\"held\":true}},\"message\":\"ok\"}},"
	"{\"name\":\"other\",\"status\":{\"code\":1,\"message\":\"missing stanza path\"}}]";

START_TEST(test_info_parse)
{
	PgbrInfo	info;
	PgbError	err = {0};

	ck_assert_int_eq(pgbr_info_parse(info_json, "pg-meta", &info, &err), 0);
	ck_assert_str_eq(info.stanza, "pg-meta");
	ck_assert_int_eq(info.status_code, 0);
	ck_assert(info.backup_lock);
	ck_assert_int_eq(info.ndb, 1);
	ck_assert(info.db[0].system_id == 7715375841759968579ULL);
	ck_assert_int_eq(info.db[0].pg_major, 15);
	ck_assert_int_eq(info.narchive, 1);
	ck_assert_str_eq(info.archive[0].min, "000000010000000000000001");
	ck_assert_str_eq(info.archive[0].max, "000000010000000000000004");
	ck_assert_int_eq(info.nbackups, 3);
	ck_assert_str_eq(info.backups[0].type, "full");
	ck_assert_str_eq(info.backups[0].prior, "");
	ck_assert_str_eq(info.backups[1].prior, "20261204-091845F");
	ck_assert(info.backups[1].stop_time == 1796375929LL * 1000000);
	ck_assert(info.backups[1].stop_lsn == 0x4000100);
	ck_assert(info.backups[1].repo_delta == 174601);
	ck_assert_str_eq(info.backups[1].version, "2.45");
	ck_assert_ptr_eq(pgbr_info_find(&info, "20261204-091845F"), &info.backups[0]);
	ck_assert_ptr_null(pgbr_info_find(&info, "nope"));

	/* restorable: own WAL inside the archive range (page errors are reported, not disqualifying) */
	ck_assert(pgbr_backup_restorable(&info, &info.backups[0]));
	ck_assert(pgbr_backup_restorable(&info, &info.backups[1]));
	ck_assert(info.backups[2].error);
	ck_assert(!pgbr_backup_restorable(&info, &info.backups[2]));	/* WAL 6 is past the archive's 4 */
	snprintf(info.archive[0].max, sizeof(info.archive[0].max), "000000010000000000000006");
	ck_assert(pgbr_backup_restorable(&info, &info.backups[2]));
	pgbr_info_free(&info);

	ck_assert_int_eq(pgbr_info_parse(info_json, "other", &info, &err), 0);
	ck_assert_int_eq(info.status_code, 1);
	ck_assert_int_eq(info.nbackups, 0);
	pgbr_info_free(&info);

	ck_assert_int_eq(pgbr_info_parse(info_json, "missing", &info, &err), -1);
	ck_assert_int_eq(err.code, EXIT_NOT_FOUND);
	ck_assert_int_eq(pgbr_info_parse("{\"not\": \"an array\"}", "x", &info, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	ck_assert_int_eq(pgbr_info_parse("[{\"name\":\"x\",\"backup\":[{\"label\":\"\"}]}]", "x", &info, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
}
END_TEST

/* A stand-in pgbackrest: prints its arguments, then fails as pgBackRest does. */
static void
fake_program(const char *dir, char *bin, size_t len)
{
	static const char script[] =
		"#!/bin/sh\n"
		"echo \"$*\"\n"
		"echo 'WARN: a warning' >&2\n"
		"echo 'ERROR: [050]: unable to acquire lock on file' >&2\n"
		"echo '       HINT: is another pgBackRest process running?' >&2\n"
		"exit 50\n";

	snprintf(bin, len, "%s/pgbackrest", dir);
	harness_write_file(bin, script, sizeof(script) - 1);
	ck_assert_int_eq(chmod(bin, 0755), 0);
}

START_TEST(test_exec)
{
	char		dir[256],
				bin[300],
				line[1024];
	RepoDef		def = {0};
	PgbrRun		run = {.command = "backup"};
	PgbError	err = {0};

	harness_tmpdir("pgbr", dir, sizeof(dir));
	fake_program(dir, bin, sizeof(bin));
	def.type = REPO_TYPE_PGBACKREST;
	snprintf(def.name, sizeof(def.name), "pgbr");
	def.pgbr_bin = bin;
	def.pgbr_config = "/etc/pgbackrest/pgbackrest.conf";
	def.pgbr_repo = 2;
	ck_assert(pgbr_arg(&run, "--type=full"));

	pgbr_command_line(&def, "pg-meta", true, &run, line, sizeof(line));
	ck_assert_msg(strstr(line, " --config=/etc/pgbackrest/pgbackrest.conf --stanza=pg-meta --repo=2 ") != NULL, "%s", line);
	ck_assert_msg(strstr(line, " --type=full backup") != NULL, "%s", line);

	ck_assert_int_eq(pgbr_exec_ok(&def, "pg-meta", true, &run, &err), -1);
	ck_assert_int_eq(run.status, 50);
	ck_assert_int_eq(err.code, EXIT_LOCKED);
	ck_assert_str_eq(err.msg, "pgBackRest backup failed [050]: unable to acquire lock on file");
	ck_assert_str_eq(err.hint, "pgBackRest says: is another pgBackRest process running?");
	/* stdout holds only what the program printed there */
	ck_assert_msg(strstr(run.out, "--stanza=pg-meta --repo=2 --log-level-console=off") != NULL, "%s", run.out);
	ck_assert_ptr_null(strstr(run.out, "WARN"));
	ck_assert_ptr_nonnull(strstr(run.err, "WARN: a warning"));
	pgbr_run_free(&run);

	/* the stanza key wins over the cluster name; a missing program is a configuration error */
	def.pgbr_stanza = "explicit";
	ck_assert_str_eq(pgbr_stanza(&def, "pg-meta"), "explicit");
	def.pgbr_bin = "/nonexistent/pgbackrest";
	run = (PgbrRun) {.command = "info"};
	ck_assert_int_eq(pgbr_exec_ok(&def, "pg-meta", false, &run, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CONFIG);
	pgbr_run_free(&run);
	harness_rmtree(dir);
}
END_TEST

/* repo-ls's JSON: the newest file of the segment; a command without a stanza */
START_TEST(test_archive_time)
{
	const char *ls = "{\".\":{\"type\":\"path\"},"
		"\"000000010000000000000006-0123456789abcdef0123456789abcdef01234567.gz\":"
		"{\"type\":\"file\",\"size\":1234,\"time\":1795642738},"
		"\"000000010000000000000006.partial-aa.gz\":{\"type\":\"file\",\"size\":5,\"time\":1795642700},"
		"\"000000010000000000000007-bb.gz\":{\"type\":\"file\",\"size\":5,\"time\":1795649999}}";
	int64_t		t = -1;
	PgbError	err = {0};
	RepoDef		def = {.pgbr_config = "/etc/pgbackrest/pgbackrest.conf", .pgbr_repo = 1};
	PgbrRun		run = {.command = "repo-ls", .no_stanza = true, .params = {"archive/pg-meta/15-1"}};
	char		line[512];

	ck_assert_int_eq(pgbr_ls_time(ls, "000000010000000000000006", &t, &err), 0);
	ck_assert_int_eq(t, 1795642738);
	ck_assert_int_eq(pgbr_ls_time(ls, "000000010000000000000008", &t, &err), -1);
	ck_assert_int_eq(err.code, EXIT_NOT_FOUND);
	ck_assert_int_eq(pgbr_ls_time("[1]", "000000010000000000000006", &t, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	pgbr_command_line(&def, "pg-meta", true, &run, line, sizeof(line));
	ck_assert_ptr_null(strstr(line, "--stanza"));
	ck_assert_msg(strstr(line, " --repo=1 ") && strstr(line, "repo-ls archive/pg-meta/15-1"), "%s", line);
}
END_TEST

/*
 * A new range on a later timeline continues the previous one when its
 * history says the path left that timeline in the segment after the range's
 * last (or earlier) and it begins at its own switch segment.
 */
START_TEST(test_switch_continues)
{
	const uint64_t ss = 16u << 20;
	/* timeline 2 left 1 at 0/6000A0 (segment 6), as a switchover does */
	const TimeLineID t2[] = {1};
	const Lsn	l2[] = {0x60000A0};
	/* timeline 3 left 2 at 0/9000100 after leaving 1 at 0/6000A0 */
	const TimeLineID t3[] = {1, 2};
	const Lsn	l3[] = {0x60000A0, 0x9000100};
	/* timeline 3 with a timeline 2 that lived inside segment 6 */
	const Lsn	l3b[] = {0x60000A0, 0x6000F00};

	ck_assert(pgbr_switch_continues(1, 5, 6, 1, t2, l2, ss));	/* 1/5, then 2/6 (1/6 is .partial) */
	ck_assert(pgbr_switch_continues(1, 6, 6, 1, t2, l2, ss));	/* the old timeline's segment 6 complete too */
	ck_assert(pgbr_switch_continues(1, 8, 6, 1, t2, l2, ss));	/* the old primary wrote on past the switch */
	ck_assert(!pgbr_switch_continues(1, 4, 6, 1, t2, l2, ss));	/* 1/5 missing */
	ck_assert(!pgbr_switch_continues(1, 5, 7, 1, t2, l2, ss));	/* 2/6 missing */
	ck_assert(!pgbr_switch_continues(4, 5, 6, 1, t2, l2, ss));	/* not an ancestor */
	ck_assert(!pgbr_switch_continues(1, 5, 6, 0, t2, l2, ss));	/* no history entries */
	/* timeline 2's own segments 6..9 are missing between 1/5 and 3/9 */
	ck_assert(!pgbr_switch_continues(1, 5, 9, 2, t3, l3, ss));
	ck_assert(pgbr_switch_continues(2, 8, 9, 2, t3, l3, ss));
	ck_assert(pgbr_switch_continues(1, 5, 6, 2, t3, l3b, ss));
	/* a boundary switch point: 0/7000000 begins segment 7; 1/6 is the last needed */
	{
		const Lsn	lb[] = {0x7000000};

		ck_assert(pgbr_switch_continues(1, 6, 7, 1, t2, lb, ss));
		ck_assert(!pgbr_switch_continues(1, 5, 7, 1, t2, lb, ss));
	}
}
END_TEST

/* info --set's tablespace list, as pgBackRest 2.45 prints it (null without any). */
START_TEST(test_tablespaces)
{
	static const char json[] =
		"[{\"name\":\"pg-meta\",\"backup\":["
		"{\"label\":\"20261204-132234F\",\"tablespace\":[{\"destination\":\"/ts/one\",\"name\":\"ts1\",\"oid\":16384},"
		"{\"destination\":\"/ts/two\",\"name\":\"ts2\",\"oid\":16390}],\"link\":null},"
		"{\"label\":\"20261204-132234F_20261204-140000I\",\"tablespace\":null}]}]";
	PgbrTablespace ts[4];
	int			n = -1;
	PgbError	err = {0};

	ck_assert_int_eq(pgbr_tablespaces_parse(json, "pg-meta", "20261204-132234F", ts, 4, &n, &err), 0);
	ck_assert_int_eq(n, 2);
	ck_assert_uint_eq(ts[1].oid, 16390);
	ck_assert_str_eq(ts[0].name, "ts1");
	ck_assert(pgbr_tablespace_known(ts, n, "16384"));
	ck_assert(pgbr_tablespace_known(ts, n, "ts2"));
	ck_assert(!pgbr_tablespace_known(ts, n, "99999"));
	ck_assert(!pgbr_tablespace_known(ts, n, "1638"));

	ck_assert_int_eq(pgbr_tablespaces_parse(json, "pg-meta", "20261204-132234F_20261204-140000I", ts, 4, &n, &err), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(pgbr_tablespaces_parse(json, "pg-meta", "20991231-000000F", ts, 4, &n, &err), -1);
	ck_assert_int_eq(err.code, EXIT_NOT_FOUND);
	ck_assert_int_eq(pgbr_tablespaces_parse(json, "pg-meta", "20261204-132234F", ts, 1, &n, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	ck_assert_int_eq(pgbr_tablespaces_parse("{}", "pg-meta", "x", ts, 4, &n, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
}
END_TEST

int
main(void)
{
	Suite	   *s = suite_create("pgbackrest");
	TCase	   *tc = tcase_create("pgbackrest");

	tcase_add_test(tc, test_info_parse);
	tcase_add_test(tc, test_exec);
	tcase_add_test(tc, test_archive_time);
	tcase_add_test(tc, test_tablespaces);
	tcase_add_test(tc, test_switch_continues);
	suite_add_tcase(s, tc);
	return harness_run(s);
}
