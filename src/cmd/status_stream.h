/*
 * The part of `pgbkp status` about pgbkp stream: its replication slot and
 * connection as the primary sees them (state, synchronous or not, the
 * flush position it reported, lag in bytes and seconds), and per
 * repository how far the stored WAL reaches, in-progress object included.
 */
#ifndef PGBKP_STATUS_STREAM_H
#define PGBKP_STATUS_STREAM_H

#include <stdbool.h>
#include <json-c/json.h>

#include "config/config.h"
#include "repo/walarchive.h"

/*
 * Ask the primary (cfg->members[primary], or --pg-host without members)
 * about the stream; as "stream" in root (JSON), or a line (text).  A
 * primary that cannot be asked leaves it null, with a warning.
 */
void		status_stream(const Config *cfg, int primary, bool json, json_object *root);

/* How far repository repo stores WAL (wal its listing): into o (JSON) or a line. */
void		status_stored_wal(Repo *repo, const WalList *wal, bool json, json_object *o);

#endif
