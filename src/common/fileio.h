/*
 * Durable local file operations: complete reads and writes, fsync of files
 * and directories, directory creation that survives a crash, tree removal.
 * Every failure names the path and the system error.
 */
#ifndef PGBKP_FILEIO_H
#define PGBKP_FILEIO_H

#include <stdbool.h>
#include <sys/types.h>
#include "common/error.h"

#define PGB_PATH_MAX 4096

int			fio_write_all(int fd, const void *buf, size_t len, const char *path, PgbError *err);
/* Read until len bytes or end of file; returns bytes read or -1. */
ssize_t		fio_read_full(int fd, void *buf, size_t len, const char *path, PgbError *err);
int			fio_fsync_fd(int fd, const char *path, PgbError *err);
int			fio_fsync_path(const char *path, PgbError *err);
int			fio_fsync_parent(const char *path, PgbError *err);
/* mkdir -p; each directory created has its parent fsynced. */
int			fio_mkdir_p(const char *path, mode_t mode, PgbError *err);
/* out = a "/" b; EXIT_IO if it would not fit. */
int			fio_path_join(char *out, size_t outlen, const char *a, const char *b, PgbError *err);
/* rm -rf (does not follow symlinks); a missing path is fine. */
int			fio_remove_tree(const char *path, PgbError *err);
/* Remove everything inside dir but keep dir itself. */
int			fio_empty_dir(const char *path, PgbError *err);
/* *empty is true when the directory does not exist or has no entries. */
int			fio_dir_is_empty(const char *path, bool *empty, bool *exists, PgbError *err);
/* Read a whole small file (at most max bytes) NUL-terminated; caller frees. */
int			fio_read_small(const char *path, size_t max, char **out, size_t *len, PgbError *err);
/*
 * A scratch file that has no name (O_TMPFILE; where the file system has
 * none, a named one unlinked at once), read and written: nothing is left
 * behind when the process ends however it ends.  In $TMPDIR, else /tmp;
 * dir receives the directory (for errors); what says what it is for (in
 * the error).  Returns the descriptor, or -1 with err set.
 */
int			fio_scratch_file(char *dir, size_t dirlen, const char *what, PgbError *err);
/* Write a small file atomically: temp, fsync, rename, fsync directory. */
int			fio_write_atomic(const char *path, const void *buf, size_t len, mode_t mode, PgbError *err);

#endif
