/*
 * Hints that translate pgBackRest's options into pgbkp's (see pgbr_hint.c).
 * Each writes a one-line hint into buf and returns true when it knows the
 * option or value.
 */
#ifndef PGBKP_PGBR_HINT_H
#define PGBKP_PGBR_HINT_H

#include <stdbool.h>
#include <stddef.h>

/* arg: the unknown command-line word ("--stanza=x"); argv for the --type that goes with --target. */
bool		pgbr_option_hint(const char *arg, int argc, char **argv, char *buf, size_t len);

/* restore --type=VALUE, pgBackRest's way of naming the target's kind. */
bool		pgbr_restore_type_hint(const char *value, char *buf, size_t len);

/* --repo=N: pgBackRest's repository number where pgbkp expects a name. */
bool		pgbr_repo_number_hint(const char *name, char *buf, size_t len);

#endif
