/*
 * Reading the identity of a database system from its files.
 *
 * This file owns two binary formats PostgreSQL writes: the head of
 * global/pg_control (system identifier, pg_control and catalog versions,
 * protected by a CRC-32C) and the long page header that starts every WAL
 * segment (magic, system identifier, segment and block size).  Backup uses
 * the first to record which system it copied; archive-push uses the second
 * to refuse WAL from another system.
 *
 * The layouts are those of 64-bit little-endian builds of PostgreSQL 13-17.
 * Fields are assembled byte by byte, so the code does not depend on the host
 * matching.  ControlFileData has the same size in every supported version
 * (PostgreSQL 17 put its new CheckPoint field into existing padding), so the
 * CRC sits at the same offset; a version outside the table is refused rather
 * than guessed at.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/byteorder.h"
#include "common/crc32c.h"
#include "pg/control.h"

#define PG_CONTROL_SIZE		8192	/* physical size of the file */
#define XLP_LONG_HEADER		0x0002
#define WAL_LONG_HEADER_LEN	40		/* bytes up to and including xlp_xlog_blcksz */

/* Where ControlFileData's crc field sits, by pg_control_version. */
typedef struct ControlLayout
{
	uint32_t	pg_control_version;
	size_t		crc_offset;		/* offsetof(ControlFileData, crc) */
} ControlLayout;

static const ControlLayout control_layouts[] = {
	{1300, 288},				/* PostgreSQL 13-16 */
	{1700, 288},				/* PostgreSQL 17 */
};

static const struct
{
	uint16_t	magic;
	int			major;
}			wal_magics[] = {
	{0xD106, 13},
	{0xD10D, 14},
	{0xD110, 15},
	{0xD113, 16},
	{0xD116, 17},
};

static const ControlLayout *
find_layout(uint32_t version)
{
	for (size_t i = 0; i < sizeof(control_layouts) / sizeof(control_layouts[0]); i++)
	{
		if (control_layouts[i].pg_control_version == version)
			return &control_layouts[i];
	}
	return NULL;
}

int
pg_control_parse(const uint8_t *buf, size_t len, PgControl *out, PgbError *err)
{
	const ControlLayout *layout;
	uint32_t	version;
	uint32_t	stored;
	uint32_t	computed;

	if (len < 16)
		return pgb_error(err, EXIT_CORRUPT,
						 "pg_control is too short: %zu bytes", len);

	version = le_get_u32(buf + 8);
	layout = find_layout(version);
	if (layout == NULL)
	{
		pgb_error(err, EXIT_CORRUPT, "unsupported pg_control version %u", version);
		return pgb_hint(err, "pgbkp supports PostgreSQL 13 to 17 (pg_control versions 1300 and 1700) on 64-bit little-endian systems.");
	}

	if (len < layout->crc_offset + 4)
		return pgb_error(err, EXIT_CORRUPT,
						 "pg_control is too short: %zu bytes, expected at least %zu",
						 len, layout->crc_offset + 4);

	stored = le_get_u32(buf + layout->crc_offset);
	computed = crc32c(buf, layout->crc_offset);
	if (stored != computed)
		return pgb_error(err, EXIT_CORRUPT,
						 "calculated CRC-32C %08X of pg_control does not match the stored value %08X",
						 computed, stored);

	out->system_identifier = le_get_u64(buf);
	out->pg_control_version = version;
	out->catalog_version_no = le_get_u32(buf + 12);
	return 0;
}

int
pg_control_read(const char *pgdata, PgControl *out, PgbError *err)
{
	char		path[PATH_MAX];
	uint8_t		buf[PG_CONTROL_SIZE];
	size_t		have = 0;
	int			fd;
	int			n;

	n = snprintf(path, sizeof(path), "%s/global/pg_control", pgdata);
	if (n < 0 || (size_t) n >= sizeof(path))
		return pgb_error(err, EXIT_IO, "path of control file in \"%s\" is too long", pgdata);

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
	{
		int			save_errno = errno;

		if (save_errno == ENOENT || save_errno == ENOTDIR)
		{
			pgb_error_errno(err, EXIT_NOT_FOUND, save_errno,
							"could not open control file \"%s\"", path);
			return pgb_hint(err, "Is \"%s\" a PostgreSQL data directory?", pgdata);
		}
		return pgb_error_errno(err, EXIT_IO, save_errno,
							   "could not open control file \"%s\"", path);
	}

	while (have < sizeof(buf))
	{
		ssize_t		r = read(fd, buf + have, sizeof(buf) - have);

		if (r < 0)
		{
			int			save_errno = errno;

			if (save_errno == EINTR)
				continue;
			close(fd);
			return pgb_error_errno(err, EXIT_IO, save_errno,
								   "could not read control file \"%s\"", path);
		}
		if (r == 0)
			break;
		have += (size_t) r;
	}

	if (close(fd) != 0)
		return pgb_error_errno(err, EXIT_IO, errno,
							   "could not close control file \"%s\"", path);

	if (pg_control_parse(buf, have, out, err) < 0)
		return pgb_error_context(err, "invalid control file \"%s\"", path);
	return 0;
}

int
wal_long_header_parse(const uint8_t *buf, size_t len, WalLongHeader *out, PgbError *err)
{
	uint16_t	info;

	if (len < WAL_LONG_HEADER_LEN)
		return pgb_error(err, EXIT_CORRUPT,
						 "WAL segment header is too short: %zu bytes, expected at least %d",
						 len, WAL_LONG_HEADER_LEN);

	info = le_get_u16(buf + 2);
	if ((info & XLP_LONG_HEADER) == 0)
		return pgb_error(err, EXIT_CORRUPT,
						 "WAL segment does not start with a long page header (xlp_info %04X)",
						 info);

	out->magic = le_get_u16(buf);
	out->system_identifier = le_get_u64(buf + 24);
	out->segment_size = le_get_u32(buf + 32);
	out->block_size = le_get_u32(buf + 36);
	return 0;
}

int
wal_magic_to_major(uint16_t magic)
{
	for (size_t i = 0; i < sizeof(wal_magics) / sizeof(wal_magics[0]); i++)
	{
		if (wal_magics[i].magic == magic)
			return wal_magics[i].major;
	}
	return 0;
}
