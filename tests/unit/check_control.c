/*
 * Unit tests for src/pg/control.c against files written by a real
 * PostgreSQL 15: tests/unit/fixtures/pg_control_15 is global/pg_control of a
 * fresh initdb, wal_header_15 the first 64 bytes of its first WAL segment.
 * The expected values below are what pg_controldata printed for it.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pg/control.h"
#include "harness.h"

#define FIXTURE_SYSID		UINT64_C(7712227934222654434)
#define FIXTURE_VERSION		1300
#define FIXTURE_CATVERSION	202209061
#define CRC_OFFSET			288
#define CONTROL_SIZE		8192

static uint8_t control[CONTROL_SIZE];
static uint8_t walhdr[64];
static char tmpdir[256];

static void
load_fixture(const char *name, uint8_t *buf, size_t len)
{
	size_t		n;
	char	   *data = harness_read_fixture(name, &n);

	ck_assert_msg(n == len, "fixture \"%s\": %zu bytes, expected %zu", name, n, len);
	memcpy(buf, data, len);
	free(data);
}

static void
fixtures_setup(void)
{
	load_fixture("pg_control_15", control, sizeof(control));
	load_fixture("wal_header_15", walhdr, sizeof(walhdr));
}

/*
 * An independent table-driven CRC-32C, so the tests can build pg_control
 * images of their own; checked against the standard check value below.
 */
static uint32_t
test_crc32c(const uint8_t *data, size_t len)
{
	static uint32_t table[256];
	static int	ready;
	uint32_t	crc = 0xFFFFFFFF;

	if (!ready)
	{
		for (uint32_t i = 0; i < 256; i++)
		{
			uint32_t	c = i;

			for (int k = 0; k < 8; k++)
				c = (c & 1) ? (c >> 1) ^ 0x82F63B78 : c >> 1;
			table[i] = c;
		}
		ready = 1;
	}
	for (size_t i = 0; i < len; i++)
		crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
	return crc ^ 0xFFFFFFFF;
}

static void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) v;
	p[1] = (uint8_t) (v >> 8);
	p[2] = (uint8_t) (v >> 16);
	p[3] = (uint8_t) (v >> 24);
}

static void
put_u64(uint8_t *p, uint64_t v)
{
	put_u32(p, (uint32_t) v);
	put_u32(p + 4, (uint32_t) (v >> 32));
}

/* Give buf a new version and a matching CRC. */
static void
reseal(uint8_t *buf, uint32_t version)
{
	put_u32(buf + 8, version);
	put_u32(buf + CRC_OFFSET, test_crc32c(buf, CRC_OFFSET));
}

static void
expect_corrupt(const uint8_t *buf, size_t len, const char *msg_part)
{
	PgbError	err = {0};
	PgControl	pc = {1, 2, 3};

	ck_assert_int_eq(pg_control_parse(buf, len, &pc, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	ck_assert_uint_eq(pc.system_identifier, 1);
	ck_assert_uint_eq(pc.pg_control_version, 2);
	ck_assert_uint_eq(pc.catalog_version_no, 3);
	if (msg_part)
		ck_assert_msg(strstr(err.msg, msg_part) != NULL, "message \"%s\" lacks \"%s\"",
					  err.msg, msg_part);
}

START_TEST(test_crc_helper)
{
	ck_assert_uint_eq(test_crc32c((const uint8_t *) "123456789", 9), 0xE3069283);
	/* The fixture's stored CRC is what the helper computes. */
	ck_assert_uint_eq(test_crc32c(control, CRC_OFFSET),
					  (uint32_t) control[CRC_OFFSET] | (uint32_t) control[CRC_OFFSET + 1] << 8 |
					  (uint32_t) control[CRC_OFFSET + 2] << 16 |
					  (uint32_t) control[CRC_OFFSET + 3] << 24);
}
END_TEST

START_TEST(test_parse_fixture)
{
	PgbError	err = {0};
	PgControl	pc;

	ck_assert_int_eq(pg_control_parse(control, sizeof(control), &pc, &err), 0);
	ck_assert_int_eq(err.code, 0);
	ck_assert_uint_eq(pc.system_identifier, FIXTURE_SYSID);
	ck_assert_uint_eq(pc.pg_control_version, FIXTURE_VERSION);
	ck_assert_uint_eq(pc.catalog_version_no, FIXTURE_CATVERSION);

	/* The struct and its CRC are all that is needed. */
	memset(&pc, 0, sizeof(pc));
	ck_assert_int_eq(pg_control_parse(control, CRC_OFFSET + 4, &pc, &err), 0);
	ck_assert_uint_eq(pc.system_identifier, FIXTURE_SYSID);
}
END_TEST

START_TEST(test_parse_short)
{
	expect_corrupt(control, CRC_OFFSET + 3, "too short");
	expect_corrupt(control, CRC_OFFSET, "too short");
	expect_corrupt(control, 16, "too short");
	expect_corrupt(control, 15, "too short");
	expect_corrupt(control, 8, "too short");
	expect_corrupt(control, 0, "too short");
}
END_TEST

START_TEST(test_parse_every_byte_flip)
{
	/* A single flipped bit anywhere in the covered bytes or the CRC is caught. */
	for (size_t i = 0; i < CRC_OFFSET + 4; i++)
	{
		uint8_t		buf[CONTROL_SIZE];

		memcpy(buf, control, sizeof(buf));
		buf[i] ^= 0x01;
		expect_corrupt(buf, sizeof(buf), NULL);
		buf[i] ^= 0x81;
		expect_corrupt(buf, sizeof(buf), NULL);
	}
}
END_TEST

START_TEST(test_parse_crc_message)
{
	uint8_t		buf[CONTROL_SIZE];

	memcpy(buf, control, sizeof(buf));
	buf[100] ^= 0xFF;
	expect_corrupt(buf, sizeof(buf), "does not match");
	memcpy(buf, control, sizeof(buf));
	buf[0] ^= 0xFF;				/* system identifier */
	expect_corrupt(buf, sizeof(buf), "CRC");
}
END_TEST

START_TEST(test_parse_padding_ignored)
{
	PgbError	err = {0};
	PgControl	pc;
	uint8_t		buf[CONTROL_SIZE];

	memcpy(buf, control, sizeof(buf));
	memset(buf + CRC_OFFSET + 4, 0xA5, sizeof(buf) - CRC_OFFSET - 4);
	ck_assert_int_eq(pg_control_parse(buf, sizeof(buf), &pc, &err), 0);
	ck_assert_uint_eq(pc.system_identifier, FIXTURE_SYSID);
}
END_TEST

START_TEST(test_parse_version_17)
{
	PgbError	err = {0};
	PgControl	pc;
	uint8_t		buf[CONTROL_SIZE];

	memcpy(buf, control, sizeof(buf));
	put_u64(buf, UINT64_C(0x0123456789ABCDEF));
	put_u32(buf + 12, 202406281);
	reseal(buf, 1700);
	ck_assert_int_eq(pg_control_parse(buf, sizeof(buf), &pc, &err), 0);
	ck_assert_uint_eq(pc.system_identifier, UINT64_C(0x0123456789ABCDEF));
	ck_assert_uint_eq(pc.pg_control_version, 1700);
	ck_assert_uint_eq(pc.catalog_version_no, 202406281);
}
END_TEST

START_TEST(test_parse_unsupported_versions)
{
	static const uint32_t versions[] = {0, 942, 960, 1002, 1100, 1201, 1301, 1800, 1902,
	0x14050000 /* 1300 byte-swapped */ , 0xFFFFFFFF};

	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
	{
		uint8_t		buf[CONTROL_SIZE];
		char		want[64];
		PgbError	err = {0};
		PgControl	pc;

		memcpy(buf, control, sizeof(buf));
		reseal(buf, versions[i]);
		snprintf(want, sizeof(want), "unsupported pg_control version %u", versions[i]);
		expect_corrupt(buf, sizeof(buf), want);
		ck_assert_int_eq(pg_control_parse(buf, sizeof(buf), &pc, &err), -1);
		ck_assert_msg(err.hint[0] != '\0', "no hint for version %u", versions[i]);
	}

	/* An all-zero file (a torn copy) is version 0. */
	{
		uint8_t		zero[CONTROL_SIZE] = {0};

		expect_corrupt(zero, sizeof(zero), "unsupported pg_control version 0");
	}
}
END_TEST

/* A scratch directory standing in for a data directory. */
static void
tmpdir_setup(void)
{
	fixtures_setup();
	harness_tmpdir("control", tmpdir, sizeof(tmpdir));
}

static void
tmpdir_teardown(void)
{
	harness_rmtree(tmpdir);
}

static void
write_control(const uint8_t *buf, size_t len)
{
	char		path[512];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/global", tmpdir);
	if (mkdir(path, 0700) != 0)
		ck_assert_int_eq(errno, EEXIST);
	snprintf(path, sizeof(path), "%s/global/pg_control", tmpdir);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_read_ok)
{
	PgbError	err = {0};
	PgControl	pc;

	write_control(control, sizeof(control));
	ck_assert_msg(pg_control_read(tmpdir, &pc, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(pc.system_identifier, FIXTURE_SYSID);
	ck_assert_uint_eq(pc.pg_control_version, FIXTURE_VERSION);
	ck_assert_uint_eq(pc.catalog_version_no, FIXTURE_CATVERSION);
}
END_TEST

START_TEST(test_read_longer_file)
{
	static uint8_t big[CONTROL_SIZE * 2];
	PgbError	err = {0};
	PgControl	pc;

	memcpy(big, control, sizeof(control));
	memset(big + sizeof(control), 0xEE, sizeof(control));
	write_control(big, sizeof(big));
	ck_assert_int_eq(pg_control_read(tmpdir, &pc, &err), 0);
	ck_assert_uint_eq(pc.system_identifier, FIXTURE_SYSID);
}
END_TEST

START_TEST(test_read_missing)
{
	PgbError	err = {0};
	PgControl	pc;
	char		path[512];

	/* Data directory without global/. */
	ck_assert_int_eq(pg_control_read(tmpdir, &pc, &err), -1);
	ck_assert_int_eq(err.code, EXIT_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(err.msg, "global/pg_control"));
	ck_assert_ptr_nonnull(strstr(err.hint, tmpdir));

	/* global/ without pg_control. */
	snprintf(path, sizeof(path), "%s/global", tmpdir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	pgb_error_clear(&err);
	ck_assert_int_eq(pg_control_read(tmpdir, &pc, &err), -1);
	ck_assert_int_eq(err.code, EXIT_NOT_FOUND);

	/* A data directory that does not exist at all. */
	snprintf(path, sizeof(path), "%s/nonexistent", tmpdir);
	pgb_error_clear(&err);
	ck_assert_int_eq(pg_control_read(path, &pc, &err), -1);
	ck_assert_int_eq(err.code, EXIT_NOT_FOUND);

	/* A plain file given as the data directory. */
	snprintf(path, sizeof(path), "%s/notadir", tmpdir);
	fclose(fopen(path, "w"));
	pgb_error_clear(&err);
	ck_assert_int_eq(pg_control_read(path, &pc, &err), -1);
	ck_assert_int_eq(err.code, EXIT_NOT_FOUND);
}
END_TEST

START_TEST(test_read_directory_instead_of_file)
{
	PgbError	err = {0};
	PgControl	pc;
	char		path[512];

	snprintf(path, sizeof(path), "%s/global", tmpdir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/global/pg_control", tmpdir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(pg_control_read(tmpdir, &pc, &err), -1);
	ck_assert_int_eq(err.code, EXIT_IO);
}
END_TEST

START_TEST(test_read_unreadable)
{
	PgbError	err = {0};
	PgControl	pc;
	char		path[512];

	if (geteuid() == 0)
		return;					/* root reads anything */
	write_control(control, sizeof(control));
	snprintf(path, sizeof(path), "%s/global/pg_control", tmpdir);
	ck_assert_int_eq(chmod(path, 0), 0);
	ck_assert_int_eq(pg_control_read(tmpdir, &pc, &err), -1);
	ck_assert_int_eq(err.code, EXIT_IO);
}
END_TEST

START_TEST(test_read_corrupt)
{
	PgbError	err = {0};
	PgControl	pc;
	uint8_t		buf[CONTROL_SIZE];

	memcpy(buf, control, sizeof(buf));
	buf[40] ^= 0x10;
	write_control(buf, sizeof(buf));
	ck_assert_int_eq(pg_control_read(tmpdir, &pc, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	ck_assert_ptr_nonnull(strstr(err.msg, "global/pg_control"));
	ck_assert_ptr_nonnull(strstr(err.msg, "does not match"));

	/* Truncated copy. */
	write_control(control, 100);
	pgb_error_clear(&err);
	ck_assert_int_eq(pg_control_read(tmpdir, &pc, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	ck_assert_ptr_nonnull(strstr(err.msg, "too short"));

	/* Empty file. */
	write_control(control, 0);
	pgb_error_clear(&err);
	ck_assert_int_eq(pg_control_read(tmpdir, &pc, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
}
END_TEST

START_TEST(test_wal_header_fixture)
{
	PgbError	err = {0};
	WalLongHeader h;
	PgControl	pc;

	ck_assert_int_eq(wal_long_header_parse(walhdr, sizeof(walhdr), &h, &err), 0);
	ck_assert_uint_eq(h.magic, 0xD110);
	ck_assert_int_eq(wal_magic_to_major(h.magic), 15);
	ck_assert_uint_eq(h.system_identifier, FIXTURE_SYSID);
	ck_assert_uint_eq(h.segment_size, 16777216);
	ck_assert_uint_eq(h.block_size, 8192);

	/* The segment and the control file belong to the same system. */
	ck_assert_int_eq(pg_control_parse(control, sizeof(control), &pc, &err), 0);
	ck_assert_uint_eq(h.system_identifier, pc.system_identifier);

	/* 40 bytes are enough. */
	memset(&h, 0, sizeof(h));
	ck_assert_int_eq(wal_long_header_parse(walhdr, 40, &h, &err), 0);
	ck_assert_uint_eq(h.system_identifier, FIXTURE_SYSID);
	ck_assert_uint_eq(h.block_size, 8192);
}
END_TEST

START_TEST(test_wal_header_errors)
{
	PgbError	err = {0};
	WalLongHeader h;
	uint8_t		buf[64];

	ck_assert_int_eq(wal_long_header_parse(walhdr, 39, &h, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	ck_assert_ptr_nonnull(strstr(err.msg, "too short"));

	pgb_error_clear(&err);
	ck_assert_int_eq(wal_long_header_parse(walhdr, 0, &h, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);

	/* A short page header, as on every page but a segment's first. */
	memcpy(buf, walhdr, sizeof(buf));
	buf[2] &= (uint8_t) ~0x02;
	pgb_error_clear(&err);
	ck_assert_int_eq(wal_long_header_parse(buf, sizeof(buf), &h, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	ck_assert_ptr_nonnull(strstr(err.msg, "long page header"));

	/* Other xlp_info bits do not matter. */
	memcpy(buf, walhdr, sizeof(buf));
	buf[2] |= 0x05;
	pgb_error_clear(&err);
	ck_assert_int_eq(wal_long_header_parse(buf, sizeof(buf), &h, &err), 0);

	/* An unknown magic is reported, not refused: the caller decides. */
	memcpy(buf, walhdr, sizeof(buf));
	buf[0] = 0x34;
	buf[1] = 0x12;
	ck_assert_int_eq(wal_long_header_parse(buf, sizeof(buf), &h, &err), 0);
	ck_assert_uint_eq(h.magic, 0x1234);
	ck_assert_int_eq(wal_magic_to_major(h.magic), 0);
}
END_TEST

START_TEST(test_wal_header_synthetic)
{
	PgbError	err = {0};
	WalLongHeader h;
	uint8_t		buf[40] = {0};

	buf[0] = 0x16;
	buf[1] = 0xD1;				/* 0xD116: PostgreSQL 17 */
	buf[2] = 0x02;
	put_u64(buf + 24, UINT64_MAX);
	put_u32(buf + 32, 1U << 30);
	put_u32(buf + 36, 32768);
	ck_assert_int_eq(wal_long_header_parse(buf, sizeof(buf), &h, &err), 0);
	ck_assert_uint_eq(h.magic, 0xD116);
	ck_assert_int_eq(wal_magic_to_major(h.magic), 17);
	ck_assert_uint_eq(h.system_identifier, UINT64_MAX);
	ck_assert_uint_eq(h.segment_size, 1U << 30);
	ck_assert_uint_eq(h.block_size, 32768);
}
END_TEST

START_TEST(test_wal_magic_to_major)
{
	ck_assert_int_eq(wal_magic_to_major(0xD106), 13);
	ck_assert_int_eq(wal_magic_to_major(0xD10D), 14);
	ck_assert_int_eq(wal_magic_to_major(0xD110), 15);
	ck_assert_int_eq(wal_magic_to_major(0xD113), 16);
	ck_assert_int_eq(wal_magic_to_major(0xD116), 17);

	ck_assert_int_eq(wal_magic_to_major(0), 0);
	ck_assert_int_eq(wal_magic_to_major(0xD101), 0);	/* 12 */
	ck_assert_int_eq(wal_magic_to_major(0xD118), 0);	/* 18 */
	ck_assert_int_eq(wal_magic_to_major(0x10D1), 0);	/* byte-swapped 15 */
	ck_assert_int_eq(wal_magic_to_major(0xFFFF), 0);
}
END_TEST

static Suite *
control_suite(void)
{
	Suite	   *s = suite_create("control");
	TCase	   *tc;

	tc = tcase_create("parse");
	tcase_add_checked_fixture(tc, fixtures_setup, NULL);
	tcase_add_test(tc, test_crc_helper);
	tcase_add_test(tc, test_parse_fixture);
	tcase_add_test(tc, test_parse_short);
	tcase_add_test(tc, test_parse_every_byte_flip);
	tcase_add_test(tc, test_parse_crc_message);
	tcase_add_test(tc, test_parse_padding_ignored);
	tcase_add_test(tc, test_parse_version_17);
	tcase_add_test(tc, test_parse_unsupported_versions);
	suite_add_tcase(s, tc);

	tc = tcase_create("read");
	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_add_test(tc, test_read_ok);
	tcase_add_test(tc, test_read_longer_file);
	tcase_add_test(tc, test_read_missing);
	tcase_add_test(tc, test_read_directory_instead_of_file);
	tcase_add_test(tc, test_read_unreadable);
	tcase_add_test(tc, test_read_corrupt);
	suite_add_tcase(s, tc);

	tc = tcase_create("wal_header");
	tcase_add_checked_fixture(tc, fixtures_setup, NULL);
	tcase_add_test(tc, test_wal_header_fixture);
	tcase_add_test(tc, test_wal_header_errors);
	tcase_add_test(tc, test_wal_header_synthetic);
	tcase_add_test(tc, test_wal_magic_to_major);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return harness_run(control_suite());
}
