/*
 * wal-dump SEGMENT_FILE: every record pgbkp's WAL reader finds in one raw
 * WAL segment (with the next segment's file beside it, if there is one, to
 * finish a record crossing into it), one line each, for the integration test
 * that compares it with pg_waldump:
 *
 *   LSN rmid=N info=XX xid=N [commit|abort TIME_US | restore-point NAME TIME_US | switch]
 *   end records=N valid_end=LSN tail=LSN|none switched=yes|no tli=N
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pg/walreader.h"

/* The whole file, or NULL; *size set. */
static uint8_t *
load(const char *path, size_t *size)
{
	struct stat st;
	uint8_t    *buf = NULL;
	int			fd = open(path, O_RDONLY);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && (buf = malloc((size_t) st.st_size)) != NULL &&
		read(fd, buf, (size_t) st.st_size) != st.st_size)
	{
		free(buf);
		buf = NULL;
	}
	close(fd);
	*size = buf ? (size_t) st.st_size : 0;
	return buf;
}

static void
print_lsn(Lsn l)
{
	printf("%X/%08X", (unsigned) (l >> 32), (unsigned) l);
}

static int
on_record(void *arg, const WalRecord *r, PgbError *err)
{
	int64_t		t;
	char		name[64];

	(void) arg;
	(void) err;
	print_lsn(r->lsn);
	printf(" rmid=%u info=%02X xid=%u", r->rmid, r->info, r->xid);
	if (r->rmid == WAL_RM_XACT && wal_xact_time(r, &t) == 0)
	{
		int			op = r->info & WAL_XACT_OPMASK;

		if (op == WAL_XACT_COMMIT || op == WAL_XACT_COMMIT_PREPARED)
			printf(" commit %" PRId64, t);
		else if (op == WAL_XACT_ABORT || op == WAL_XACT_ABORT_PREPARED)
			printf(" abort %" PRId64, t);
	}
	else if (wal_restore_point(r, &t, name, sizeof(name)) == 0)
		printf(" restore-point %s %" PRId64, name, t);
	else if (r->rmid == WAL_RM_XLOG && (r->info & 0xF0) == WAL_XLOG_SWITCH)
		printf(" switch");
	printf("\n");
	return 0;
}

int
main(int argc, char **argv)
{
	uint8_t    *buf,
			   *next;
	size_t		size,
				nsize;
	SegNo		segno;
	char		nextpath[4096];
	const char *base;
	unsigned	tli,
				hi,
				lo;
	WalReadResult res;
	PgbError	err = {0};

	if (argc != 2)
	{
		fprintf(stderr, "usage: wal-dump SEGMENT_FILE\n");
		return 2;
	}
	if ((buf = load(argv[1], &size)) == NULL)
	{
		perror(argv[1]);
		return 1;
	}
	base = strrchr(argv[1], '/') ? strrchr(argv[1], '/') + 1 : argv[1];
	if (sscanf(base, "%8X%8X%8X", &tli, &hi, &lo) != 3)
	{
		fprintf(stderr, "wal-dump: %s is not named like a WAL segment\n", base);
		return 2;
	}
	segno = (SegNo) hi * (UINT64_C(0x100000000) / (uint64_t) size) + lo;
	snprintf(nextpath, sizeof(nextpath), "%.*s%08X%08X%08X", (int) (base - argv[1]), argv[1], tli,
			 (unsigned) ((segno + 1) / (UINT64_C(0x100000000) / size)),
			 (unsigned) ((segno + 1) % (UINT64_C(0x100000000) / size)));
	next = load(nextpath, &nsize);
	if (next && nsize != size)
	{
		free(next);
		next = NULL;
	}
	if (wal_read_segment(buf, size, segno, next, on_record, NULL, &res, &err) != 0)
	{
		fprintf(stderr, "wal-dump: %s\n", err.msg);
		return 1;
	}
	printf("end records=%d valid_end=", res.records);
	print_lsn(res.valid_end);
	printf(" tail=");
	if (res.tail_lsn)
		print_lsn(res.tail_lsn);
	else
		printf("none");
	printf(" switched=%s tli=%u\n", res.switched ? "yes" : "no", res.page_tli);
	free(buf);
	free(next);
	return 0;
}
