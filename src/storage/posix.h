/* The local-directory storage driver (see storage.h for the contract). */
#ifndef PGBKP_POSIX_H
#define PGBKP_POSIX_H

#include "storage/storage.h"

/* root must be an absolute path; it is created (mode 0750) on the first write. */
Storage    *storage_posix_new(const char *root, PgbError *err);

#endif
