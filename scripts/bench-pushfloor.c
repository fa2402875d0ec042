/*
 * The floor of archive-push for scripts/bench: the least a program must do
 * to store one WAL file durably the way pgbkp does, and nothing else.
 *
 *   bench-pushfloor WORKERS OUTDIR FILE
 *
 * Reads FILE in 256 KiB pieces, hashes it with SHA-256 and compresses it
 * with zstd level 3 (WORKERS worker threads in 1 MiB jobs without overlap,
 * as pgbkp's wal_compress_threads; 0: in this thread), writes the frame to
 * a temporary file in OUTDIR, fsyncs it, renames it to FILE's base name and
 * fsyncs OUTDIR.  No configuration, no repository, no checks.  Built by
 * scripts/bench with the system's cc; not part of pgbkp.
 */
#include <fcntl.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#define PIECE (256 * 1024)

static int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0)
	{
		ssize_t		n = write(fd, p, len);

		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t) n;
	}
	return 0;
}

/* Compress in into out's file; end finishes the frame. */
static int
compress(ZSTD_CCtx *cctx, const void *buf, size_t len, ZSTD_EndDirective end, uint8_t *ob, size_t ocap, int out)
{
	ZSTD_inBuffer in = {buf, len, 0};

	for (;;)
	{
		ZSTD_outBuffer o = {ob, ocap, 0};
		size_t		rc = ZSTD_compressStream2(cctx, &o, &in, end);

		if (ZSTD_isError(rc) || (o.pos > 0 && write_all(out, ob, o.pos) != 0))
			return -1;
		if (end == ZSTD_e_continue ? in.pos == in.size : rc == 0)
			return 0;
	}
}

int
main(int argc, char **argv)
{
	char		tmp[4096],
				dst[4096],
				base[4096];
	int			workers,
				in,
				out,
				dir;
	uint8_t    *buf,
			   *ob;
	size_t		ocap = ZSTD_CStreamOutSize();
	ZSTD_CCtx  *cctx = ZSTD_createCCtx();
	EVP_MD_CTX *h = EVP_MD_CTX_new();
	uint8_t		digest[EVP_MAX_MD_SIZE];
	unsigned	dlen;
	ssize_t		n;
	off_t		off = 0;

	if (argc != 4)
	{
		fprintf(stderr, "usage: bench-pushfloor WORKERS OUTDIR FILE\n");
		return 2;
	}
	workers = atoi(argv[1]);
	snprintf(base, sizeof(base), "%s", argv[3]);
	snprintf(dst, sizeof(dst), "%s/%s", argv[2], basename(base));
	snprintf(tmp, sizeof(tmp), "%s.tmp", dst);
	buf = malloc(PIECE);
	ob = malloc(ocap);
	if (cctx == NULL || h == NULL || buf == NULL || ob == NULL ||
		EVP_DigestInit_ex(h, EVP_sha256(), NULL) != 1)
		return 1;
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 3);
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
	if (workers > 0 && !ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_nbWorkers, workers)))
	{
		ZSTD_CCtx_setParameter(cctx, ZSTD_c_jobSize, 1024 * 1024);
		ZSTD_CCtx_setParameter(cctx, ZSTD_c_overlapLog, 1);
	}
	if ((in = open(argv[3], O_RDONLY)) < 0 ||
		(out = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0)
	{
		perror(argv[3]);
		return 1;
	}
	while ((n = pread(in, buf, PIECE, off)) > 0)
	{
		EVP_DigestUpdate(h, buf, (size_t) n);
		if (compress(cctx, buf, (size_t) n, ZSTD_e_continue, ob, ocap, out) != 0)
			return 1;
		off += n;
	}
	if (n < 0 || compress(cctx, NULL, 0, ZSTD_e_end, ob, ocap, out) != 0 ||
		EVP_DigestFinal_ex(h, digest, &dlen) != 1 || write_all(out, digest, dlen) != 0 ||
		fsync(out) != 0 || close(out) != 0 || rename(tmp, dst) != 0 ||
		(dir = open(argv[2], O_RDONLY)) < 0 || fsync(dir) != 0)
	{
		perror(dst);
		return 1;
	}
	close(dir);
	close(in);
	return 0;
}
