/*
 * pgbkp config: every effective setting with where it came from (default,
 * Pigsty's role defaults, FILE:LINE of the inventory or pgbkp file, the
 * environment, the command line), the repositories with their keys (secrets
 * only as "(set, from ...)", never their value), the cluster's members and
 * the schedule; as text or JSON.  With --render, one member's self-contained
 * configuration file instead (config/render.c), made private (0600) when
 * standard output is a regular file.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>

#include "cmd/cmd.h"
#include "config/options.h"
#include "config/render.h"
#include "storage/s3/http.h"

/* "(set, from WHERE)" for a secret, or NULL when it is not set. */
static const char *
secret_source(const char *secret, const char *file, const char *where, char *buf, size_t len)
{
	if (secret == NULL)
		return NULL;
	if (file)
		snprintf(buf, len, "(set, from the file %s named at %s)", file, where ? where : "?");
	else if (where)
		snprintf(buf, len, "(set, from %s)", where);
	else
		snprintf(buf, len, "(set, from the environment)");
	return buf;
}

/* A setting's value as shown, a secret only as "(set)"; NULL when unset. */
static const char *
setting_text(const Config *cfg, const OptionDef *opt, char *buf, size_t len)
{
	if (!option_format(cfg, opt, buf, len))
		return NULL;
	if (opt->flags & OPTF_SECRET)
		snprintf(buf, len, "(set)");
	return buf;
}

static void
add_string(json_object *o, const char *key, const char *value)
{
	json_object_object_add(o, key, value ? json_object_new_string(value) : NULL);
}

static json_object *
repository_json(const RepoDef *def)
{
	json_object *o = json_object_new_object();
	json_object *warnings = json_object_new_array();
	char		buf[1200];

	add_string(o, "name", def->name);
	add_string(o, "type", repodef_type_name(def->type));
	if (def->type == REPO_TYPE_PGBACKREST)
	{
		add_string(o, "config", def->pgbr_config);
		add_string(o, "stanza", def->pgbr_stanza);
		json_object_object_add(o, "repo", json_object_new_int(def->pgbr_repo));
		add_string(o, "pgbackrest_bin", def->pgbr_bin);
	}
	add_string(o, "source", def->where);
	add_string(o, "path", def->path);
	if (def->type == REPO_TYPE_S3)
	{
		add_string(o, "s3_endpoint", def->s3_endpoint);
		add_string(o, "s3_region", def->s3_region ? def->s3_region : "us-east-1");
		add_string(o, "s3_bucket", def->s3_bucket);
		add_string(o, "s3_key", def->s3_key);
		add_string(o, "s3_key_secret", secret_source(def->s3_key_secret, def->s3_key_secret_file,
													 def->s3_key_secret_where, buf, sizeof(buf)));
		add_string(o, "s3_uri_style", def->s3_host_style ? "host" : "path");
		json_object_object_add(o, "storage_port", json_object_new_int(def->storage_port));
		add_string(o, "storage_ca_file", def->storage_ca_file);
		json_object_object_add(o, "storage_verify_tls", json_object_new_boolean(def->storage_verify_tls));
		json_object_object_add(o, "io_timeout", json_object_new_int(def->io_timeout ? def->io_timeout : S3_HTTP_DEFAULT_IO_TIMEOUT));
	}
	json_object_object_add(o, "encrypted", json_object_new_boolean(def->encrypted));
	add_string(o, "cipher_type", def->encrypted ? def->cipher_type : "none");
	add_string(o, "cipher_pass", secret_source(def->cipher_pass, def->cipher_pass_file, def->cipher_pass_where,
											   buf, sizeof(buf)));
	json_object_object_add(o, "retention_full", json_object_new_int(def->retention_full));
	add_string(o, "retention_full_type", def->retention_full_type);
	json_object_object_add(o, "bundle_size_mib", json_object_new_int(def->bundle_size));
	for (int i = 0; i < def->nwarnings; i++)
		json_object_array_add(warnings, json_object_new_string(def->warnings[i]));
	json_object_object_add(o, "warnings", warnings);
	return o;
}

static json_object *
config_json(const Config *cfg)
{
	json_object *root = json_object_new_object();
	json_object *settings = json_object_new_object();
	json_object *repos = json_object_new_array();
	json_object *members = json_object_new_array();
	json_object *sched = json_object_new_array();
	char		value[1024];

	add_string(root, "config_file", cfg->config_file);
	for (int i = 0; i < option_count; i++)
	{
		const OptionDef *opt = &option_table[i];
		json_object *s;

		if (opt->yaml_key == NULL && opt->env_name == NULL)
			continue;			/* command-line flags: not settings */
		s = json_object_new_object();
		add_string(s, "option", opt->name);
		add_string(s, "value", setting_text(cfg, opt, value, sizeof(value)));
		add_string(s, "source", cfg->source[i] ? cfg->source[i] : "unset");
		json_object_object_add(settings, opt->yaml_key ? opt->yaml_key : opt->name, s);
	}
	json_object_object_add(root, "settings", settings);
	for (int i = 0; i < cfg->nrepos; i++)
		json_object_array_add(repos, repository_json(&cfg->repos[i]));
	json_object_object_add(root, "repositories", repos);
	for (int i = 0; i < cfg->nmembers; i++)
	{
		const ClusterMember *m = &cfg->members[i];
		json_object *o = json_object_new_object();

		add_string(o, "name", m->name);
		add_string(o, "address", m->addr);
		json_object_object_add(o, "pg_port", json_object_new_int(m->pg_port));
		json_object_object_add(o, "patroni_port", json_object_new_int(m->patroni_port));
		add_string(o, "pg_data", m->pg_data);
		add_string(o, "source", m->where);
		json_object_object_add(o, "self", json_object_new_boolean(i == cfg->self));
		json_object_array_add(members, o);
	}
	json_object_object_add(root, "members", members);
	for (int i = 0; i < cfg->nsched; i++)
	{
		json_object *o = json_object_new_object();

		add_string(o, "name", cfg->sched[i].name);
		add_string(o, "cron", cfg->sched[i].cron);
		add_string(o, "command", cfg->sched[i].command);
		add_string(o, "type", cfg->sched[i].type[0] ? cfg->sched[i].type : NULL);
		add_string(o, "source", cfg->sched[i].where);
		json_object_array_add(sched, o);
	}
	json_object_object_add(root, "schedule", sched);
	return root;
}

static void
print_text(const Config *cfg)
{
	char		value[1024];
	char		buf[1200];

	printf("configuration file: %s\n", cfg->config_file ? cfg->config_file : "(none)");
	printf("\n%-24s %-32s %s\n", "setting", "value", "source");
	for (int i = 0; i < option_count; i++)
	{
		const OptionDef *opt = &option_table[i];

		if (opt->yaml_key == NULL && opt->env_name == NULL)
			continue;
		printf("%-24s %-32s %s\n", opt->yaml_key ? opt->yaml_key : opt->name,
			   setting_text(cfg, opt, value, sizeof(value)) ? value : "(unset)",
			   cfg->source[i] ? cfg->source[i] : "unset");
	}
	for (int i = 0; i < cfg->nrepos; i++)
	{
		const RepoDef *d = &cfg->repos[i];
		const char *secret;

		printf("\nrepository \"%s\" (%s), from %s\n", d->name, repodef_type_name(d->type), d->where);
		if (d->type == REPO_TYPE_PGBACKREST)
			printf("  %-22s %s\n  %-22s %s\n  %-22s %d\n  %-22s %s\n", "config", d->pgbr_config,
				   "stanza", d->pgbr_stanza ? d->pgbr_stanza : "(the cluster name)", "repo", d->pgbr_repo,
				   "pgbackrest_bin", d->pgbr_bin);
		printf("  %-22s %s\n", "path", d->path ? d->path : "(unset)");
		if (d->type == REPO_TYPE_S3)
		{
			char		port[32] = "";

			if (d->storage_port)
				snprintf(port, sizeof(port), ":%d", d->storage_port);
			printf("  %-22s %s%s bucket %s, %s-style, region %s\n", "s3", d->s3_endpoint ? d->s3_endpoint : "?",
				   port, d->s3_bucket ? d->s3_bucket : "?", d->s3_host_style ? "host" : "path",
				   d->s3_region ? d->s3_region : "us-east-1");
			printf("  %-22s %s\n", "s3_key", d->s3_key ? d->s3_key : "(unset)");
			secret = secret_source(d->s3_key_secret, d->s3_key_secret_file, d->s3_key_secret_where, buf, sizeof(buf));
			printf("  %-22s %s\n", "s3_key_secret", secret ? secret : "(unset)");
			printf("  %-22s %s%s\n", "storage_ca_file", d->storage_ca_file ? d->storage_ca_file : "(the system's)",
				   d->storage_verify_tls ? "" : ", TLS not verified");
			printf("  %-22s %d s\n", "io_timeout", d->io_timeout ? d->io_timeout : S3_HTTP_DEFAULT_IO_TIMEOUT);
		}
		printf("  %-22s %s\n", "cipher_type", d->encrypted ? d->cipher_type : "none");
		if (d->encrypted)
		{
			secret = secret_source(d->cipher_pass, d->cipher_pass_file, d->cipher_pass_where, buf, sizeof(buf));
			printf("  %-22s %s\n", "cipher_pass", secret ? secret : "(unset)");
		}
		printf("  %-22s %d (%s)\n", "retention_full", d->retention_full,
			   d->retention_full_type ? d->retention_full_type : "count");
		printf("  %-22s %d MiB\n", "bundle_size", d->bundle_size);
		for (int w = 0; w < d->nwarnings; w++)
			printf("  warning: %s\n", d->warnings[w]);
	}
	if (cfg->nmembers > 0)
		printf("\nmembers of cluster %s:\n", cfg->cluster ? cfg->cluster : "?");
	for (int i = 0; i < cfg->nmembers; i++)
		printf("  %-20s %s port %d, Patroni port %d%s\n", cfg->members[i].name, cfg->members[i].addr,
			   cfg->members[i].pg_port, cfg->members[i].patroni_port, i == cfg->self ? "  (this member)" : "");
	if (cfg->nsched > 0)
		printf("\nschedule:\n");
	for (int i = 0; i < cfg->nsched; i++)
		printf("  %-20s \"%s\" %s%s%s  (%s)\n", cfg->sched[i].name, cfg->sched[i].cron, cfg->sched[i].command,
			   cfg->sched[i].type[0] ? " --type " : "", cfg->sched[i].type, cfg->sched[i].where);
}

int
cmd_config(const Config *cfg, PgbError *err)
{
	if (cfg->render || cfg->render_pgbackrest)
	{
		struct stat st;

		/* secrets: a file it is redirected into becomes private first */
		if (fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) && fchmod(STDOUT_FILENO, 0600) != 0)
			return pgb_error_errno(err, EXIT_IO, errno, "could not make the output file private (mode 0600)");
		return cfg->render_pgbackrest ? config_render_pgbackrest(cfg, stdout, err) :
			config_render_member(cfg, stdout, err);
	}
	if (cfg->output && strcmp(cfg->output, "json") == 0)
	{
		json_object *root = config_json(cfg);

		printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(root);
	}
	else
		print_text(cfg);
	if (fflush(stdout) != 0)
		return pgb_error_errno(err, EXIT_IO, errno, "could not write to standard output");
	return 0;
}
