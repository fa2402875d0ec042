/* Progress reporting (see progress.h). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/progress.h"

struct Progress
{
	const char *what;
	uint64_t	total;
	uint64_t	done;
	bool		tty;
	bool		enabled;
	double		start;
	double		last_draw;
	int			last_tenth;
};

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
human(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
	double		v = (double) bytes;
	int			u = 0;

	while (v >= 1024 && u < 4)
	{
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

Progress *
progress_new(const char *what, uint64_t total_bytes, bool enabled)
{
	Progress   *p = calloc(1, sizeof(Progress));

	if (p == NULL)
		return NULL;
	p->what = what;
	p->total = total_bytes;
	p->enabled = enabled && log_get_level() >= LOG_INFO;
	p->tty = isatty(STDERR_FILENO);
	p->start = now_seconds();
	return p;
}

void
progress_add(Progress *p, uint64_t bytes)
{
	double		t;
	double		rate;
	char		done[32],
				total[32],
				speed[32];
	int			tenth;

	if (p == NULL)
		return;
	p->done += bytes;
	if (!p->enabled)
		return;
	t = now_seconds();
	rate = t > p->start ? p->done / (t - p->start) : 0;
	human(p->done, done, sizeof(done));
	human(p->total, total, sizeof(total));
	human((uint64_t) rate, speed, sizeof(speed));
	if (p->tty)
	{
		if (t - p->last_draw < 0.25)
			return;
		p->last_draw = t;
		if (rate > 0 && p->total > p->done)
			fprintf(stderr, "\r%s: %s of %s, %s/s, %.0f s left   ", p->what, done, total, speed,
					(p->total - p->done) / rate);
		else
			fprintf(stderr, "\r%s: %s of %s, %s/s   ", p->what, done, total, speed);
		return;
	}
	tenth = p->total ? (int) (p->done * 10 / p->total) : 10;
	if (tenth > p->last_tenth && tenth < 10)
	{
		p->last_tenth = tenth;
		log_info("%s: %d%% (%s of %s, %s/s)", p->what, tenth * 10, done, total, speed);
	}
}

void
progress_done(Progress *p)
{
	if (p == NULL)
		return;
	if (p->enabled && p->tty)
		fprintf(stderr, "\r\033[K");
	free(p);
}
