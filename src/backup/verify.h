/*
 * Verifying a repository: rebuild every chunk of every backup through its
 * chain (frame -> zstd^-1 -> sha256 -> discard) and compare it with its
 * recorded SHA-256, read every block map, decode every archived WAL file
 * (segments, partial segments, backup history and timeline history files),
 * check that each backup's parents exist, that its WAL from start to stop
 * is archived, and that the archive has no gap after the oldest backup.
 * Every problem is counted and handed to the caller's report function (one
 * at a time), and the run goes on.
 */
#ifndef PGBKP_VERIFY_H
#define PGBKP_VERIFY_H

#include <pthread.h>
#include "io/stream.h"
#include "repo/catalog.h"
#include "repo/walarchive.h"

typedef void (*VerifyReport) (void *arg, const PgbError *problem);

typedef struct Verifier
{
	Repo	   *repo;
	const Catalog *cat;
	int			nworkers;
	VerifyReport report;
	void	   *report_arg;

	TimestampUs since;			/* 0: everything; else only backups that stopped and WAL
								 * segments archived from then on (verify --since) */

	/* results */
	int			problems;
	int			unreadable;		/* of them, failures to read (EXIT_IO), not damage */
	size_t		nchunks;		/* chunks checked */
	int			nbackups;		/* backups whose chunks were checked */
	int			nwal;			/* WAL segments decoded */
	SegNo		oldest;			/* the oldest backup's first segment */
	bool		have_oldest;

	/* private */
	pthread_mutex_t lock;		/* problems and the report */
	struct FrameRef *refs;		/* the chunks to check, runs of stored frames first */
	struct FrameRun *runs;
	uint8_t   **bufs;			/* per worker: where a delta is rebuilt */
	Stage	  **discard;		/* per worker: where verified content goes */
} Verifier;

void		verifier_init(Verifier *v, Repo *repo, const Catalog *cat, int nworkers,
						  VerifyReport report, void *arg);
/* Count a problem and report it. */
void		verifier_problem(Verifier *v, const PgbError *problem);
/* Every backup of the catalogue; -1 only when the run itself fails. */
int			verify_backups(Verifier *v, PgbError *err);
/* Every archived WAL file, and gaps from oldest on (when have_oldest). */
void		verify_wal(Verifier *v, const WalList *wal, SegNo oldest, bool have_oldest);
/* Read every job history record; an unreadable one is a problem.  *nrecords: how many. */
int			verify_history(Verifier *v, int *nrecords, PgbError *err);
/* Read every drill record, WAL index summary and the verify mark (verify_records.c). */
int			verify_records(Verifier *v, int *nrecords, PgbError *err);
void		verifier_free(Verifier *v);

#endif
