/*
 * One member's self-contained configuration file, rendered from the whole
 * resolved configuration (pgbkp config --render).  Pigsty keeps its
 * inventory on the admin node only; a database node needs its own cluster's
 * members, settings, repositories and their secrets, and nothing of the
 * other clusters.  The output is YAML that pgbkp reads back to the same
 * effective settings: an inventory group for the cluster (so members and the
 * primary can be found), a pgbkp: section with every setting that is not a
 * default, and the repositories with their secrets resolved (from the
 * inventory, secret files or the environment).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config/options.h"
#include "config/render.h"

/* A YAML double-quoted scalar: \ and " escaped, control bytes as \xNN. */
static void
put_quoted(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\x%02x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void
put_key_string(FILE *out, const char *indent, const char *key, const char *value)
{
	if (value == NULL)
		return;
	fprintf(out, "%s%s: ", indent, key);
	put_quoted(out, value);
	fputc('\n', out);
}

static void
put_repository(FILE *out, const RepoDef *def)
{
	const char *in = "    ";

	fprintf(out, "  ");
	put_quoted(out, def->name);
	fprintf(out, ":\n");
	fprintf(out, "%stype: %s\n", in, repodef_type_name(def->type));
	put_key_string(out, in, "config", def->pgbr_config);
	put_key_string(out, in, "stanza", def->pgbr_stanza);
	if (def->pgbr_repo)
		fprintf(out, "%srepo: %d\n", in, def->pgbr_repo);
	put_key_string(out, in, "pgbackrest_bin", def->pgbr_bin);
	put_key_string(out, in, "path", def->path);
	put_key_string(out, in, "s3_endpoint", def->s3_endpoint);
	put_key_string(out, in, "s3_region", def->s3_region);
	put_key_string(out, in, "s3_bucket", def->s3_bucket);
	put_key_string(out, in, "s3_key", def->s3_key);
	put_key_string(out, in, "s3_key_secret", def->s3_key_secret);
	if (def->type == REPO_TYPE_S3)
	{
		fprintf(out, "%ss3_uri_style: %s\n", in, def->s3_host_style ? "host" : "path");
		fprintf(out, "%sstorage_verify_tls: %s\n", in, def->storage_verify_tls ? "true" : "false");
	}
	if (def->storage_port)
		fprintf(out, "%sstorage_port: %d\n", in, def->storage_port);
	put_key_string(out, in, "storage_ca_file", def->storage_ca_file);
	if (def->s3_part_size)
		fprintf(out, "%ss3_part_size: %d\n", in, def->s3_part_size);
	if (def->io_timeout)
		fprintf(out, "%sio_timeout: %d\n", in, def->io_timeout);
	if (def->encrypted)
	{
		put_key_string(out, in, "cipher_type", def->cipher_type);
		put_key_string(out, in, "cipher_pass", def->cipher_pass);
	}
	if (def->retention_full)
		fprintf(out, "%sretention_full: %d\n", in, def->retention_full);
	put_key_string(out, in, "retention_full_type", def->retention_full_type);
	if (def->bundle_size)
		fprintf(out, "%sbundle_size: %dMiB\n", in, def->bundle_size);
}

/* Settings that the rendered file states elsewhere, or that belong to one run only. */
static bool
rendered_elsewhere(const OptionDef *opt)
{
	static const char *const skip[] = {"cluster", "repo-path", "instance", "host", NULL};

	for (const char *const *s = skip; *s; s++)
		if (strcmp(opt->name, *s) == 0)
			return true;
	return false;
}

int
config_render_member(const Config *cfg, FILE *out, PgbError *err)
{
	const ClusterMember *self;
	char		value[1024];

	if (cfg->cluster == NULL)
		return pgb_error(err, EXIT_CONFIG, "no cluster to render a configuration for"),
			pgb_hint(err, "use --cluster NAME");
	if (cfg->nmembers == 0)
		return pgb_error(err, EXIT_CONFIG, "cluster \"%s\" has no members in the inventory", cfg->cluster),
			pgb_hint(err, "render from a Pigsty inventory, which lists them under all.children.%s.hosts", cfg->cluster);
	if (cfg->self < 0)
		return pgb_error(err, EXIT_CONFIG, "which member to render for is not known: %s", cfg->self_note),
			pgb_hint(err, "name it with --instance %s", cfg->members[0].name);
	self = &cfg->members[cfg->self];

	fprintf(out, "# pgbkp configuration of %s (cluster %s), rendered by \"pgbkp config --render\"%s%s.\n",
			self->name, cfg->cluster, cfg->config_file ? " from " : "", cfg->config_file ? cfg->config_file : "");
	fprintf(out, "# It holds the repositories' secrets: keep it readable by the database user only.\n");
	fprintf(out, "all:\n  children:\n    ");
	put_quoted(out, cfg->cluster);
	fprintf(out, ":\n      hosts:\n");
	for (int i = 0; i < cfg->nmembers; i++)
	{
		const ClusterMember *m = &cfg->members[i];

		fprintf(out, "        ");
		put_quoted(out, m->addr);
		fprintf(out, ": {pg_seq: %d, pg_port: %d, patroni_port: %d", m->seq, m->pg_port, m->patroni_port);
		if (m->pg_data)
		{
			fprintf(out, ", pg_data: ");
			put_quoted(out, m->pg_data);
		}
		if (m->pg_host)
		{
			fprintf(out, ", pg_host: ");
			put_quoted(out, m->pg_host);
		}
		fprintf(out, "}\n");
	}
	fprintf(out, "      vars:\n        pg_cluster: ");
	put_quoted(out, cfg->cluster);
	fprintf(out, "\npgbkp:\n");
	put_key_string(out, "  ", "cluster", cfg->cluster);
	put_key_string(out, "  ", "instance", self->name);
	for (int i = 0; i < option_count; i++)
	{
		const OptionDef *opt = &option_table[i];

		if (opt->yaml_key == NULL || rendered_elsewhere(opt) || cfg->source[i] == NULL ||
			strcmp(cfg->source[i], "default") == 0 || !option_format(cfg, opt, value, sizeof(value)))
			continue;
		if (opt->type == OPT_STRING || opt->type == OPT_ENUM)
			put_key_string(out, "  ", opt->yaml_key, value);
		else
			fprintf(out, "  %s: %s\n", opt->yaml_key, value);
	}
	fprintf(out, "  repositories: [");
	for (int i = 0; i < cfg->nrepos; i++)
	{
		fprintf(out, "%s", i ? ", " : "");
		put_quoted(out, cfg->repos[i].name);
	}
	fprintf(out, "]\n");
	if (cfg->nsched > 0)
	{
		fprintf(out, "  schedule:\n");
		for (int i = 0; i < cfg->nsched; i++)
		{
			const ScheduleJob *j = &cfg->sched[i];

			fprintf(out, "    - {cron: ");
			put_quoted(out, j->cron);
			fprintf(out, ", command: ");
			put_quoted(out, j->command);
			if (j->type[0])
			{
				fprintf(out, ", type: ");
				put_quoted(out, j->type);
			}
			if (j->name[0])
			{
				fprintf(out, ", name: ");
				put_quoted(out, j->name);
			}
			if (j->jitter >= 0)
				fprintf(out, ", jitter: %d", j->jitter);
			fprintf(out, "}\n");
		}
	}
	fprintf(out, "pgbackrest_repo:\n");
	for (int i = 0; i < cfg->nrepos; i++)
		put_repository(out, &cfg->repos[i]);
	if (fflush(out) != 0 || ferror(out))
		return pgb_error_errno(err, EXIT_IO, errno, "could not write the rendered configuration");
	return 0;
}
