/* Finding the current primary through Patroni or libpq (see primary.h). */
#include "lib/libcurl.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/patroni.h"
#include "cluster/primary.h"
#include "common/log.h"
#include "pg/db.h"

static size_t
discard_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	return size * nmemb;
}

/*
 * Each member's answer, whole: what does not fit in len ends the text with
 * how many members are left out, never a member cut off mid-word.
 */
static void
answers_text(const Config *cfg, const MemberProbe *probes, char *out, size_t len)
{
	size_t		n = 0;
	const size_t tail = 48;		/* room for "; ... and N more members" */

	out[0] = '\0';
	for (int i = 0; i < cfg->nmembers; i++)
	{
		char		piece[400];
		int			k = snprintf(piece, sizeof(piece), "%s%s (%s): %s", i ? "; " : "", cfg->members[i].name,
								 cfg->members[i].addr, probes[i].note);
		bool		last = i + 1 == cfg->nmembers;

		if (k < 0 || (size_t) k >= sizeof(piece) || n + (size_t) k + (last ? 0 : tail) >= len)
		{
			snprintf(out + n, len - n, "%s... and %d more member%s", i ? "; " : "", cfg->nmembers - i,
					 cfg->nmembers - i == 1 ? "" : "s");
			return;
		}
		memcpy(out + n, piece, (size_t) k + 1);
		n += (size_t) k;
	}
}

/* GET http(s)://ADDR:PORT/primary on every member at once. */
static int
ask_patroni(const Config *cfg, MemberProbe *probes, PgbError *err)
{
	CURLM	   *multi;
	CURL	   *easy[CONFIG_MAX_MEMBERS] = {0};
	int			running = 0;

	if (libcurl_require(err) != 0)
		return -1;
	multi = curl_multi_init();
	if (multi == NULL)
		return pgb_error(err, EXIT_INTERNAL, "could not initialise libcurl");
	for (int i = 0; i < cfg->nmembers; i++)
	{
		if ((easy[i] = curl_easy_init()) == NULL)
			continue;
		patroni_setup(cfg, &cfg->members[i], "/primary", easy[i]);
		curl_easy_setopt(easy[i], CURLOPT_WRITEFUNCTION, discard_body);
		curl_easy_setopt(easy[i], CURLOPT_PRIVATE, (char *) NULL + i);
		curl_multi_add_handle(multi, easy[i]);
	}
	do
	{
		int			nfds;

		curl_multi_perform(multi, &running);
		if (running)
			curl_multi_poll(multi, NULL, 0, 200, &nfds);
	} while (running);
	for (;;)
	{
		int			left;
		CURLMsg    *msg = curl_multi_info_read(multi, &left);
		char	   *priv;
		int			i;
		long		status = 0;

		if (msg == NULL)
			break;
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		i = (int) (priv - (char *) NULL);
		if (msg->data.result != CURLE_OK)
		{
			probes[i].answer = MEMBER_UNREACHABLE;
			snprintf(probes[i].note, sizeof(probes[i].note), "Patroni unreachable (%s)",
					 curl_easy_strerror(msg->data.result));
			continue;
		}
		curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
		probes[i].answer = status == 200 ? MEMBER_PRIMARY : MEMBER_NOT_PRIMARY;
		snprintf(probes[i].note, sizeof(probes[i].note), status == 200 ? "primary (Patroni HTTP 200)" :
				 "not the primary (Patroni HTTP %ld)", status);
	}
	for (int i = 0; i < cfg->nmembers; i++)
	{
		if (easy[i] == NULL)
		{
			probes[i].answer = MEMBER_UNREACHABLE;
			snprintf(probes[i].note, sizeof(probes[i].note), "could not set up a request");
			continue;
		}
		curl_multi_remove_handle(multi, easy[i]);
		curl_easy_cleanup(easy[i]);
	}
	curl_multi_cleanup(multi);
	return 0;
}

/* One libpq connection over all members, target_session_attrs=read-write. */
static int
ask_libpq(const Config *cfg, MemberProbe *probes, PgbError *err)
{
	char		hosts[CONFIG_MAX_MEMBERS * 66] = "";
	char		ports[CONFIG_MAX_MEMBERS * 7] = "";
	size_t		hn = 0,
				pn = 0;
	DbParams	p = {0};
	DbConn	   *conn;
	PgbError	cerr = {0};

	for (int i = 0; i < cfg->nmembers; i++)
	{
		hn += snprintf(hosts + hn, sizeof(hosts) - hn, "%s%s", i ? "," : "", cfg->members[i].addr);
		pn += snprintf(ports + pn, sizeof(ports) - pn, "%s%d", i ? "," : "", cfg->members[i].pg_port);
		probes[i].answer = MEMBER_NOT_PRIMARY;
		snprintf(probes[i].note, sizeof(probes[i].note), "not a read-write server (or unreachable)");
	}
	p.host = hosts;
	p.ports = ports;
	p.user = cfg->pg_user;
	p.dbname = cfg->pg_database;
	p.connect_timeout = cfg->member_timeout;
	p.target_session_attrs = "read-write";
	conn = db_connect(&p, &cerr);
	if (conn == NULL)
	{
		/* libpq's message names each host's failure */
		for (int i = 0; i < cfg->nmembers; i++)
			snprintf(probes[i].note, sizeof(probes[i].note), "see: %.180s", cerr.msg);
		return 0;
	}
	for (int i = 0; i < cfg->nmembers; i++)
		if (strcmp(db_host(conn), cfg->members[i].addr) == 0 && db_port(conn) == cfg->members[i].pg_port)
		{
			probes[i].answer = MEMBER_PRIMARY;
			snprintf(probes[i].note, sizeof(probes[i].note), "primary (read-write)");
		}
	db_close(conn);
	return 0;
}

int
cluster_find_primary(const Config *cfg, MemberProbe *probes_arg, int *primary, PgbError *err)
{
	MemberProbe probes[CONFIG_MAX_MEMBERS];
	char		answers[PGB_ERRMSG_MAX - 160];	/* the message around it fits */
	int			nprimary = 0;

	*primary = -1;
	if (cfg->nmembers == 0)
		return pgb_error(err, EXIT_CONFIG, "the configuration lists no cluster members"),
			pgb_hint(err, "members come from a Pigsty inventory: all.children.<cluster>.hosts");
	memset(probes, 0, sizeof(probes));
	if ((cfg->patroni ? ask_patroni(cfg, probes, err) : ask_libpq(cfg, probes, err)) != 0)
		return -1;
	for (int i = 0; i < cfg->nmembers; i++)
	{
		if (probes[i].answer == MEMBER_UNREACHABLE)
			log_info("cluster member %s (%s) skipped: %s", cfg->members[i].name, cfg->members[i].addr, probes[i].note);
		if (probes[i].answer == MEMBER_PRIMARY && nprimary++ == 0)
			*primary = i;
	}
	if (probes_arg)
		memcpy(probes_arg, probes, sizeof(MemberProbe) * (size_t) cfg->nmembers);
	answers_text(cfg, probes, answers, sizeof(answers));
	if (nprimary == 1)
		return 0;
	*primary = -1;
	if (nprimary > 1)
		return pgb_error(err, EXIT_REFUSED, "several members of cluster \"%s\" claim to be the primary: %s",
						 cfg->cluster, answers);
	pgb_error(err, EXIT_DATABASE, "no primary found in cluster \"%s\": %s", cfg->cluster, answers);
	return pgb_hint(err, cfg->patroni ? "check that Patroni runs on the members (patronictl list) and that patroni_port is right"
					: "check that the members' PostgreSQL servers run and accept connections");
}
