/*
 * pagecsum-cost FILE...: what verifying data page checksums costs a backup,
 * measured on real relation files: CPU seconds to verify every 8 KiB page,
 * beside the CPU seconds of the SHA-256 the backup computes over the same
 * bytes anyway (scripts/bench runs it on its data directory).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "io/pagecsum.h"
#include "io/sha256.h"

#define PIECE (1024 * 1024)

static double
cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	uint8_t    *buf = malloc(PIECE);
	Sha256	   *h = sha256_new();
	double		t_pages = 0,
				t_sha = 0;
	unsigned long long pages = 0,
				bad = 0,
				bytes = 0;

	if (argc < 2 || buf == NULL || h == NULL)
	{
		fprintf(stderr, "usage: pagecsum-cost FILE...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++)
	{
		int			fd = open(argv[i], O_RDONLY);
		ssize_t		n;
		uint32_t	blk = 0;

		if (fd < 0)
			continue;
		while ((n = read(fd, buf, PIECE)) > 0)
		{
			double		t0 = cpu_now();

			for (ssize_t off = 0; off + PG_PAGE_SIZE <= n; off += PG_PAGE_SIZE, blk++, pages++)
				bad += !pg_page_verify(buf + off, blk);
			t_pages += cpu_now() - t0;
			t0 = cpu_now();
			sha256_update(h, buf, (size_t) n);
			t_sha += cpu_now() - t0;
			bytes += (unsigned long long) n;
		}
		close(fd);
	}
	printf("pages %llu (%.1f MB), failing %llu; page checks %.3f s CPU, SHA-256 of the same bytes %.3f s CPU (%.0f%%)\n",
		   pages, bytes / 1048576.0, bad, t_pages, t_sha, t_sha > 0 ? 100.0 * t_pages / t_sha : 0);
	sha256_free(h);
	free(buf);
	return 0;
}
