/*
 * A lock across hosts on S3, which has no locks and (on every server pgbkp
 * must work with) no conditional create: a lease object.
 *
 * The lease at KEY holds "pgbkp-lease", a random token, the holder's clock
 * (seconds), the holder's description and host name, one per line.  To take it: read
 * it; a lease renewed less than S3_LEASE_TTL seconds ago by someone else
 * means EXIT_LOCKED naming that holder.  Otherwise write ours; then, once
 * S3_LEASE_SETTLE_MS have passed since, read it back: two hosts that raced
 * both wrote, and only the later writer reads its own token back (S3 reads
 * are strongly consistent), so the other gives up.  That read-back is
 * s3_lease_confirm, which the driver runs before the holder's first change
 * that others can see (a commit or a removal), not at once: the settle
 * overlaps the holder's first work (a backup's checkpoint and first
 * compression) instead of stalling it.  While held, a thread renews it every
 * S3_LEASE_RENEW seconds (after checking it is still ours); release deletes
 * it if it is still ours.  A holder that dies leaves a lease that goes stale
 * after S3_LEASE_TTL seconds, or at once for the same host (the caller
 * holds the host's lock file first, which a live holder would have).  Clocks of the hosts must agree to well within
 * S3_LEASE_TTL (NTP).
 */
#ifndef PGBKP_LEASE_H
#define PGBKP_LEASE_H

#include "common/error.h"
#include "storage/s3/http.h"

#define S3_LEASE_TTL 300
#define S3_LEASE_RENEW 60
#define S3_LEASE_SETTLE_MS 1500

typedef struct S3Lease S3Lease;

S3Lease    *s3_lease_acquire(S3Http *http, const char *key, const char *holder, PgbError *err);
/*
 * Wait until the settle time has passed since the lease was written, then
 * check it is still ours: 0, or EXIT_LOCKED naming who took it.  The first
 * call decides; later ones (from any thread) return the same.
 */
int			s3_lease_confirm(S3Lease *l, PgbError *err);
void		s3_lease_release(S3Lease *l);

/*
 * Whether the lease at key is held, without touching it: 1 when it was
 * renewed less than S3_LEASE_TTL seconds ago (its holder's description in
 * holder, its host name in host), 0 when absent or stale, -1 with err.  A
 * fresh lease of this host may be a dead process's: the caller asks this
 * host's lock file.
 */
int			s3_lease_probe(S3Http *http, const char *key, char *holder, size_t len,
						   char *host, size_t hostlen, PgbError *err);

#endif
