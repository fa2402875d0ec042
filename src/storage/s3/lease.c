/* Lease objects: locks across hosts on S3 (see lease.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <openssl/rand.h>

#include "storage/s3/lease.h"

#define LEASE_MAGIC "pgbkp-lease"

struct S3Lease
{
	S3Http	   *http;
	char	   *key;
	char	   *holder;
	char		token[33];
	char		host[256];
	pthread_t	thread;
	bool		thread_started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool		stop;
	/* the read-back (s3_lease_confirm) */
	pthread_mutex_t confirm_lock;
	struct timespec written;	/* CLOCK_MONOTONIC */
	int			confirmed;		/* 0: not yet; 1: ours; -1: lost (why in lost) */
	PgbError	lost;
};

typedef struct LeaseContent
{
	bool		exists;
	char		token[33];
	long long	renewed;
	char		holder[256];
	char		host[256];
} LeaseContent;

static int
lease_read(S3Http *http, const char *key, LeaseContent *out, PgbError *err)
{
	S3Request	req = {.method = "GET", .op = "GET lock", .key = key, .max_body = 4096};
	S3Response	resp;
	int			rc = 0;

	memset(out, 0, sizeof(*out));
	if (s3_http_send(http, &req, &resp, err) != 0)
		return -1;
	if (resp.status == 200)
	{
		char		text[4096];
		char	   *save = NULL;
		char	   *line;
		size_t		n = resp.body.len < sizeof(text) - 1 ? resp.body.len : sizeof(text) - 1;

		memcpy(text, resp.body.buf, n);
		text[n] = '\0';
		out->exists = true;
		line = strtok_r(text, "\n", &save);
		if (line && strcmp(line, LEASE_MAGIC) == 0)
		{
			if ((line = strtok_r(NULL, "\n", &save)) != NULL)
				snprintf(out->token, sizeof(out->token), "%s", line);
			if ((line = strtok_r(NULL, "\n", &save)) != NULL)
				out->renewed = atoll(line);
			if ((line = strtok_r(NULL, "\n", &save)) != NULL)
				snprintf(out->holder, sizeof(out->holder), "%s", line);
			if ((line = strtok_r(NULL, "\n", &save)) != NULL)
				snprintf(out->host, sizeof(out->host), "%s", line);
		}
	}
	else if (resp.status != 404)
		rc = s3_http_unexpected(&req, &resp, err);
	s3_response_free(&resp);
	return rc;
}

static int
lease_write(S3Lease *l, PgbError *err)
{
	char		body[512];
	S3Request	req = {.method = "PUT", .op = "PUT lock", .key = l->key, .body = body};
	S3Response	resp;
	int			rc = 0;

	req.body_len = (size_t) snprintf(body, sizeof(body), LEASE_MAGIC "\n%s\n%lld\n%.200s\n%s\n", l->token,
									 (long long) time(NULL), l->holder, l->host);
	if (req.body_len >= sizeof(body))
		req.body_len = sizeof(body) - 1;
	if (s3_http_send(l->http, &req, &resp, err) != 0)
		return -1;
	if (resp.status != 200)
		rc = s3_http_unexpected(&req, &resp, err);
	s3_response_free(&resp);
	return rc;
}

static void
lease_delete(S3Lease *l)
{
	S3Request	req = {.method = "DELETE", .op = "DELETE lock", .key = l->key};
	S3Response	resp;
	PgbError	err = {0};

	if (s3_http_send(l->http, &req, &resp, &err) == 0)
		s3_response_free(&resp);
}

static void *
renew_thread(void *arg)
{
	S3Lease    *l = arg;

	pthread_mutex_lock(&l->lock);
	while (!l->stop)
	{
		struct timespec until;
		LeaseContent c;
		PgbError	err = {0};

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += S3_LEASE_RENEW;
		pthread_cond_timedwait(&l->cond, &l->lock, &until);
		if (l->stop)
			break;
		pthread_mutex_unlock(&l->lock);
		/* renew only what is still ours; a failure is retried at the next round */
		if (lease_read(l->http, l->key, &c, &err) == 0 && strcmp(c.token, l->token) == 0)
			(void) lease_write(l, &err);
		pthread_mutex_lock(&l->lock);
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

static void
lease_free(S3Lease *l)
{
	pthread_mutex_destroy(&l->lock);
	pthread_cond_destroy(&l->cond);
	pthread_mutex_destroy(&l->confirm_lock);
	free(l->key);
	free(l->holder);
	free(l);
}

S3Lease *
s3_lease_acquire(S3Http *http, const char *key, const char *holder, PgbError *err)
{
	S3Lease    *l = calloc(1, sizeof(S3Lease));
	LeaseContent c;
	unsigned char rnd[16];
	long long	now = (long long) time(NULL);

	if (l == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory"), NULL;
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->cond, NULL);
	pthread_mutex_init(&l->confirm_lock, NULL);
	l->http = http;
	l->key = strdup(key);
	l->holder = strdup(holder);
	if (l->key == NULL || l->holder == NULL || RAND_bytes(rnd, sizeof(rnd)) != 1)
	{
		lease_free(l);
		return pgb_error(err, EXIT_INTERNAL, "could not set up a lock"), NULL;
	}
	l->holder[strcspn(l->holder, "\n")] = '\0';
	if (gethostname(l->host, sizeof(l->host) - 1) != 0)
		snprintf(l->host, sizeof(l->host), "unknown");
	for (int i = 0; i < 16; i++)
		snprintf(l->token + 2 * i, 3, "%02x", rnd[i]);

	if (lease_read(http, key, &c, err) != 0)
		goto fail;
	/*
	 * A fresh lease of this host is a dead process's: the caller holds this
	 * host's lock file, which a live holder would still have.
	 */
	if (c.exists && c.token[0] && now - c.renewed < S3_LEASE_TTL && strcmp(c.host, l->host) != 0)
	{
		pgb_error(err, EXIT_LOCKED, "another pgbkp holds the lock \"%s\" (%s; host %s, renewed %lld s ago)",
				  key, c.holder[0] ? c.holder : "unknown holder", c.host[0] ? c.host : "unknown", now - c.renewed);
		pgb_hint(err, "wait for it to finish; a holder that died releases the lock after %d seconds", S3_LEASE_TTL);
		goto fail;
	}
	if (lease_write(l, err) != 0)
		goto fail;
	clock_gettime(CLOCK_MONOTONIC, &l->written);
	if (pthread_create(&l->thread, NULL, renew_thread, l) == 0)
		l->thread_started = true;
	return l;
fail:
	lease_free(l);
	return NULL;
}

int
s3_lease_confirm(S3Lease *l, PgbError *err)
{
	LeaseContent c;
	struct timespec now;
	long long	waited_ms;
	int			rc;

	pthread_mutex_lock(&l->confirm_lock);
	if (l->confirmed == 0)
	{
		clock_gettime(CLOCK_MONOTONIC, &now);
		waited_ms = (long long) (now.tv_sec - l->written.tv_sec) * 1000 +
			(now.tv_nsec - l->written.tv_nsec) / 1000000;
		if (waited_ms < S3_LEASE_SETTLE_MS)
			usleep((useconds_t) (S3_LEASE_SETTLE_MS - waited_ms) * 1000);
		if (lease_read(l->http, l->key, &c, err) != 0)
		{
			/* not decided: the next call asks again */
			pthread_mutex_unlock(&l->confirm_lock);
			return -1;
		}
		if (strcmp(c.token, l->token) == 0)
			l->confirmed = 1;
		else
		{
			pgb_error(&l->lost, EXIT_LOCKED, "another pgbkp took the lock \"%s\" at the same moment (%s; host %s)",
					  l->key, c.holder[0] ? c.holder : "unknown holder", c.host[0] ? c.host : "unknown");
			pgb_hint(&l->lost, "wait for it to finish");
			l->confirmed = -1;
		}
	}
	rc = l->confirmed > 0 ? 0 : -1;
	if (rc != 0)
		*err = l->lost;
	pthread_mutex_unlock(&l->confirm_lock);
	return rc;
}

void
s3_lease_release(S3Lease *l)
{
	LeaseContent c;
	PgbError	err = {0};

	if (l == NULL)
		return;
	if (l->thread_started)
	{
		pthread_mutex_lock(&l->lock);
		l->stop = true;
		pthread_cond_signal(&l->cond);
		pthread_mutex_unlock(&l->lock);
		pthread_join(l->thread, NULL);
	}
	if (lease_read(l->http, l->key, &c, &err) == 0 && strcmp(c.token, l->token) == 0)
		lease_delete(l);
	lease_free(l);
}

int
s3_lease_probe(S3Http *http, const char *key, char *holder, size_t len,
			   char *host, size_t hostlen, PgbError *err)
{
	LeaseContent c;
	long long	now = (long long) time(NULL);

	if (lease_read(http, key, &c, err) != 0)
		return -1;
	if (!c.exists || c.token[0] == '\0' || now - c.renewed >= S3_LEASE_TTL)
		return 0;
	snprintf(holder, len, "%s", c.holder);
	snprintf(host, hostlen, "%s", c.host);
	return 1;
}
