/* Cluster members from the inventory, and this machine's member (see members.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/members.h"
#include "config/options.h"

static int
parse_port(const char *value, const char *key, const char *where, int *out, PgbError *err)
{
	if (!config_parse_int(value, 1, 65535, out))
		return pgb_error(err, EXIT_CONFIG, "%s: invalid value \"%s\" for \"%s\": expected a port from 1 to 65535",
						 where, value, key);
	return 0;
}

int
members_add(Config *cfg, const char *addr, const char *key, const char *value,
			const char *where, PgbError *err)
{
	ClusterMember *m;

	if (key == NULL)
	{
		if (cfg->nmembers == CONFIG_MAX_MEMBERS)
			return pgb_error(err, EXIT_CONFIG, "%s: more than %d members in the cluster", where, CONFIG_MAX_MEMBERS);
		if (strlen(addr) >= sizeof(cfg->members[0].addr))
			return pgb_error(err, EXIT_CONFIG, "%s: host \"%s\" is too long", where, addr);
		m = &cfg->members[cfg->nmembers++];
		memset(m, 0, sizeof(*m));
		snprintf(m->addr, sizeof(m->addr), "%s", addr);
		m->seq = -1;
		return config_set_string(&m->where, where, err);
	}
	m = &cfg->members[cfg->nmembers - 1];
	if (strcmp(key, "pg_seq") == 0)
	{
		if (!config_parse_int(value, 0, 1000000, &m->seq))
			return pgb_error(err, EXIT_CONFIG, "%s: invalid pg_seq \"%s\" for host %s", where, value, addr);
	}
	else if (strcmp(key, "pg_role") == 0)
		snprintf(m->role, sizeof(m->role), "%s", value);
	else if (strcmp(key, "pg_port") == 0)
		return parse_port(value, key, where, &m->pg_port, err);
	else if (strcmp(key, "patroni_port") == 0)
		return parse_port(value, key, where, &m->patroni_port, err);
	else if (strcmp(key, "pg_data") == 0)
		return config_set_string(&m->pg_data, value, err);
	else if (strcmp(key, "pg_host") == 0)
		return config_set_string(&m->pg_host, value, err);
	return 0;
}

/* Whether addr (an IP address or a name) is one of this machine's addresses. */
static bool
address_is_local(const char *addr, const struct ifaddrs *ifs)
{
	struct addrinfo hints = {0};
	struct addrinfo *res = NULL;
	bool		found = false;

	hints.ai_flags = AI_NUMERICHOST;
	if (getaddrinfo(addr, NULL, &hints, &res) != 0)
		return false;			/* names are not resolved: inventories hold addresses */
	for (const struct addrinfo *a = res; a && !found; a = a->ai_next)
		for (const struct ifaddrs *i = ifs; i && !found; i = i->ifa_next)
		{
			if (i->ifa_addr == NULL || i->ifa_addr->sa_family != a->ai_family)
				continue;
			if (a->ai_family == AF_INET)
				found = ((const struct sockaddr_in *) a->ai_addr)->sin_addr.s_addr ==
					((const struct sockaddr_in *) i->ifa_addr)->sin_addr.s_addr;
			else if (a->ai_family == AF_INET6)
				found = memcmp(&((const struct sockaddr_in6 *) a->ai_addr)->sin6_addr,
							   &((const struct sockaddr_in6 *) i->ifa_addr)->sin6_addr, 16) == 0;
		}
	freeaddrinfo(res);
	return found;
}

static void
member_names(const Config *cfg, char *out, size_t len)
{
	size_t		n = 0;

	out[0] = '\0';
	for (int i = 0; i < cfg->nmembers && n < len; i++)
		n += snprintf(out + n, len - n, "%s%s (%s)", i ? ", " : "", cfg->members[i].name, cfg->members[i].addr);
}

static int
find_self(Config *cfg, PgbError *err)
{
	char		names[512];
	struct ifaddrs *ifs = NULL;
	int			found = -1;
	int			nfound = 0;

	cfg->self = -1;
	member_names(cfg, names, sizeof(names));
	if (cfg->instance || cfg->host)
	{
		for (int i = 0; i < cfg->nmembers; i++)
			if ((cfg->instance && strcmp(cfg->instance, cfg->members[i].name) == 0) ||
				(!cfg->instance && strcmp(cfg->host, cfg->members[i].addr) == 0))
				cfg->self = i;
		if (cfg->self >= 0)
			return 0;
		if (cfg->nmembers == 0)
			return pgb_error(err, EXIT_CONFIG, "--%s is given, but the configuration lists no cluster members",
							 cfg->instance ? "instance" : "host"),
				pgb_hint(err, "members come from a Pigsty inventory: all.children.<cluster>.hosts");
		pgb_error(err, EXIT_CONFIG, "cluster \"%s\" has no member %s \"%s\"", cfg->cluster ? cfg->cluster : "",
				  cfg->instance ? "named" : "at", cfg->instance ? cfg->instance : cfg->host);
		return pgb_hint(err, "its members are: %s", names);
	}
	if (cfg->nmembers == 0)
		return 0;
	if (getifaddrs(&ifs) != 0)
	{
		snprintf(cfg->self_note, sizeof(cfg->self_note), "this machine's addresses could not be read");
		return 0;
	}
	for (int i = 0; i < cfg->nmembers; i++)
		if (address_is_local(cfg->members[i].addr, ifs))
		{
			found = i;
			nfound++;
		}
	freeifaddrs(ifs);
	if (nfound == 1)
		cfg->self = found;
	else if (nfound == 0)
		snprintf(cfg->self_note, sizeof(cfg->self_note),
				 "none of the members' addresses is one of this machine's (use --instance)");
	else
		snprintf(cfg->self_note, sizeof(cfg->self_note),
				 "%d members' addresses are this machine's (use --instance)", nfound);
	return 0;
}

int
members_resolve(Config *cfg, int default_port, bool take_port, bool take_data, bool take_host, PgbError *err)
{
	for (int i = 0; i < cfg->nmembers; i++)
	{
		ClusterMember *m = &cfg->members[i];

		if (m->seq < 0)
			return pgb_error(err, EXIT_CONFIG, "%s: host %s has no pg_seq", m->where, m->addr),
				pgb_hint(err, "every member of a Pigsty cluster needs pg_seq: the instance is named <pg_cluster>-<pg_seq>");
		snprintf(m->name, sizeof(m->name), "%s-%d", cfg->cluster ? cfg->cluster : "cluster", m->seq);
		for (int j = 0; j < i; j++)
			if (cfg->members[j].seq == m->seq)
				return pgb_error(err, EXIT_CONFIG, "%s: hosts %s and %s have the same pg_seq %d",
								 m->where, cfg->members[j].addr, m->addr, m->seq);
		if (m->pg_port == 0)
			m->pg_port = default_port;
		if (m->patroni_port == 0)
			m->patroni_port = cfg->patroni_port;
	}
	if (find_self(cfg, err) != 0)
		return -1;
	if (cfg->self >= 0)
	{
		const ClusterMember *m = &cfg->members[cfg->self];

		if (take_port)
			cfg->pg_port = m->pg_port;
		if (take_data && m->pg_data && config_set_string(&cfg->pg_data, m->pg_data, err) != 0)
			return -1;
		if (take_host && m->pg_host && config_set_string(&cfg->pg_host, m->pg_host, err) != 0)
			return -1;
	}
	return 0;
}

void
members_free(Config *cfg)
{
	for (int i = 0; i < cfg->nmembers; i++)
	{
		free(cfg->members[i].pg_data);
		free(cfg->members[i].pg_host);
		free(cfg->members[i].where);
	}
	cfg->nmembers = 0;
}
