/* Patroni's REST API, one member at a time (see patroni.h). */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/patroni.h"

typedef struct Body
{
	char	   *data;
	size_t		len;
} Body;

static size_t
collect(char *ptr, size_t size, size_t nmemb, void *arg)
{
	Body	   *b = arg;
	size_t		n = size * nmemb;
	char	   *more;

	if (b->len + n > 1024 * 1024)
		return 0;				/* not a Patroni answer */
	if ((more = realloc(b->data, b->len + n + 1)) == NULL)
		return 0;
	b->data = more;
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

void
patroni_setup(const Config *cfg, const ClusterMember *m, const char *path, CURL *easy)
{
	char		url[256];

	snprintf(url, sizeof(url), strchr(m->addr, ':') ? "%s://[%s]:%d%s" : "%s://%s:%d%s",
			 cfg->patroni_ssl ? "https" : "http", m->addr, m->patroni_port, path);
	if (cfg->patroni_ssl)
	{
		/* the certificate is always verified, against the given CA or the system's */
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
		if (cfg->patroni_ca_file)
			curl_easy_setopt(easy, CURLOPT_CAINFO, cfg->patroni_ca_file);
	}
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT, (long) cfg->member_timeout);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT, (long) cfg->member_timeout);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_NOPROXY, "*");
}

int
patroni_request(const Config *cfg, const ClusterMember *m, const char *method, const char *path,
				const char *body, long *status, char **resp, PgbError *err)
{
	CURL	   *easy;
	struct curl_slist *headers = NULL;
	Body		b = {0};
	CURLcode	rc;

	if (libcurl_require(err) != 0)
		return -1;
	easy = curl_easy_init();
	*status = 0;
	if (resp)
		*resp = NULL;
	if (easy == NULL)
		return pgb_error(err, EXIT_INTERNAL, "could not initialise libcurl");
	patroni_setup(cfg, m, path, easy);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, &b);
	if (strcmp(method, "GET") != 0)
	{
		curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
		if (cfg->patroni_username && cfg->patroni_password)
		{
			curl_easy_setopt(easy, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
			curl_easy_setopt(easy, CURLOPT_USERNAME, cfg->patroni_username);
			curl_easy_setopt(easy, CURLOPT_PASSWORD, cfg->patroni_password);
		}
	}
	if (body)
	{
		headers = curl_slist_append(headers, "Content-Type: application/json");
		curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
	}
	rc = curl_easy_perform(easy);
	if (rc == CURLE_OK)
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(headers);
	curl_easy_cleanup(easy);
	if (rc != CURLE_OK)
	{
		free(b.data);
		return pgb_error(err, EXIT_DATABASE, "Patroni on %s (%s) did not answer %s %s: %s", m->name, m->addr,
						 method, path, curl_easy_strerror(rc));
	}
	if (resp)
		*resp = b.data;
	else
		free(b.data);
	return 0;
}

static void
copy_string(json_object *o, const char *key, char *out, size_t len)
{
	json_object *v;

	if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		snprintf(out, len, "%s", json_object_get_string(v));
}

int
patroni_member_state(const Config *cfg, const ClusterMember *m, PatroniMember *out, PgbError *err)
{
	long		status;
	char	   *body;
	json_object *o,
			   *v;

	memset(out, 0, sizeof(*out));
	if (patroni_request(cfg, m, "GET", "/patroni", NULL, &status, &body, err) != 0)
		return -1;
	/* /patroni answers 503 when PostgreSQL is not running, with the same body */
	o = body ? json_tokener_parse(body) : NULL;
	free(body);
	if (o == NULL)
		return pgb_error(err, EXIT_DATABASE, "Patroni on %s (%s) gave no readable state (HTTP %ld)", m->name,
						 m->addr, status);
	copy_string(o, "state", out->state, sizeof(out->state));
	copy_string(o, "role", out->role, sizeof(out->role));
	if (strcmp(out->role, "master") == 0)
		snprintf(out->role, sizeof(out->role), "primary");
	out->pause = json_object_object_get_ex(o, "pause", &v) && json_object_get_boolean(v);
	if (json_object_object_get_ex(o, "timeline", &v))
		out->timeline = json_object_get_int(v);
	if (json_object_object_get_ex(o, "xlog", &v))
	{
		json_object *loc;

		if (json_object_object_get_ex(v, "location", &loc) ||
			json_object_object_get_ex(v, "replayed_location", &loc))
			snprintf(out->xlog, sizeof(out->xlog), "%lld", (long long) json_object_get_int64(loc));
		if (json_object_object_get_ex(v, "replayed_location", &loc))
			out->replayed = (unsigned long long) json_object_get_int64(loc);
	}
	if (json_object_object_get_ex(o, "tags", &v))
	{
		json_object *t;

		out->nofailover = json_object_object_get_ex(v, "nofailover", &t) && json_object_get_boolean(t);
		out->noloadbalance = json_object_object_get_ex(v, "noloadbalance", &t) && json_object_get_boolean(t);
	}
	json_object_put(o);
	return 0;
}

int
patroni_set_pause(const Config *cfg, const ClusterMember *m, bool pause, PgbError *err)
{
	long		status;

	if (patroni_request(cfg, m, "PATCH", "/config", pause ? "{\"pause\": true}" : "{\"pause\": false}", &status,
						NULL, err) != 0)
		return -1;
	if (status == 401 || status == 403)
		return pgb_error(err, EXIT_CONFIG, "Patroni on %s (%s) refused the REST API credentials (HTTP %ld)",
						 m->name, m->addr, status),
			pgb_hint(err, "set patroni_username and patroni_password (Pigsty's inventory keys) to the REST API's");
	if (status != 200)
		return pgb_error(err, EXIT_DATABASE, "Patroni on %s (%s) did not %s the cluster (HTTP %ld)", m->name,
						 m->addr, pause ? "pause" : "resume", status);
	return 0;
}

int
patroni_reinitialize(const Config *cfg, const ClusterMember *m, PgbError *err)
{
	long		status;
	char	   *body = NULL;

	if (patroni_request(cfg, m, "POST", "/reinitialize", "{\"force\": true}", &status, &body, err) != 0)
		return -1;
	if (status == 401 || status == 403)
	{
		free(body);
		return pgb_error(err, EXIT_CONFIG, "Patroni on %s (%s) refused the REST API credentials (HTTP %ld)",
						 m->name, m->addr, status),
			pgb_hint(err, "set patroni_username and patroni_password (Pigsty's inventory keys) to the REST API's");
	}
	if (status != 200)
	{
		pgb_error(err, EXIT_DATABASE, "Patroni on %s (%s) did not reinitialize it (HTTP %ld: %.200s)", m->name,
				  m->addr, status, body ? body : "");
		free(body);
		return -1;
	}
	free(body);
	return 0;
}

bool
patroni_role_is_primary(const char *role)
{
	return strcmp(role, "primary") == 0 || strcmp(role, "master") == 0;
}
