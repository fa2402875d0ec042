/*
 * A throwaway PostgreSQL server on a restored data directory, for drills.
 *
 * It can never reach the cluster it came from: it listens on a unix socket
 * in a private directory (mode 0700) and on TCP only when asked (localhost),
 * archiving is off, it is not a standby (no primary_conninfo, no slot),
 * logical replication workers and WAL senders are off, synchronous commit
 * waits for nobody, and its own pg_hba.conf admits only local connections
 * of the socket directory's owner.  Settings that point outside the data
 * directory (data_directory, external_pid_file, log files, SSL files) are
 * overridden, and shared_buffers is kept small so a drill on a database
 * host does not starve the server running there.  All of this is on the
 * postgres command line: nothing in the copy is changed except an empty
 * postgresql.conf when the copy has none (configuration kept outside the
 * data directory, as Debian's packages do).
 *
 * With archive (pitr's recovery of a cluster in place) the copy's own
 * archive settings are kept: the new timeline it starts is archived.
 *
 * The server runs as a child in its own process group with its log in the
 * private directory; pgserver_stop stops it (fast, then immediate) and
 * waits, and pgserver_signal_stop may be called from a signal handler.
 */
#ifndef PGBKP_PGSERVER_H
#define PGBKP_PGSERVER_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "common/fileio.h"
#include "pg/db.h"

typedef struct PgServer
{
	char		bindir[PGB_PATH_MAX];	/* PostgreSQL's programs */
	char		datadir[PGB_PATH_MAX];
	char		rundir[PGB_PATH_MAX];	/* private: socket, log, hba */
	char		logfile[PGB_PATH_MAX];
	int			port;			/* socket name; also TCP on localhost when tcp */
	bool		tcp;
	const char *user;			/* role the drill connects as */
	bool		archive;		/* keep the copy's own archiving (pitr: the new timeline is archived) */
	const char *name;			/* cluster_name; NULL: pgbkp-drill */
	volatile pid_t pid;			/* the postmaster, 0 when not running */
} PgServer;

/* Start the server (returns once it is forked; see pgserver_wait_up). */
int			pgserver_start(PgServer *s, PgbError *err);

/*
 * Wait until the server accepts connections and is out of recovery.  -1
 * with err when it stopped (EXIT_DATABASE, with the log's last FATAL or
 * PANIC line), did not get there within timeout seconds (EXIT_TIMEOUT), or
 * *stop was set (EXIT_INTERRUPTED).
 */
int			pgserver_wait_up(PgServer *s, int timeout, volatile sig_atomic_t *stop, PgbError *err);

/* Connection parameters for database dbname on the server. */
void		pgserver_params(const PgServer *s, const char *dbname, DbParams *p);

/* Stop the server and wait for it: fast shutdown, immediate after 60 s. */
int			pgserver_stop(PgServer *s, PgbError *err);

/* From a signal handler: ask the server for a fast shutdown. */
void		pgserver_signal_stop(PgServer *s);

/*
 * Lines of the server's log containing any of the words in needles
 * (NULL-terminated), joined by "; ", at most len bytes; the last ones when
 * there are too many.
 */
void		pgserver_log_grep(const PgServer *s, const char *const *needles, char *out, size_t len);

#endif
