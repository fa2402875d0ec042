/*
 * The declarative tables behind pgbkp's configuration: one row per command
 * (name, arguments, flags, summary) and one row per option (long name, type,
 * range or allowed values, default, the commands it applies to, its key in
 * the `pgbkp:` section of the YAML file, its environment variable, and its
 * help).  Everything else -- getopt_long's option array, the environment and
 * YAML lookups, --help, the man page and the command layer's dispatch -- is
 * derived from these rows, so adding an option is one table entry.  This
 * module also owns turning an option's text (from any source) into a typed
 * value stored in the Config (optvalue.c).
 */
#ifndef PGBKP_OPTIONS_H
#define PGBKP_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "config/config.h"

/* The default YAML file, read only if it exists and no other file is named. */
#define CONFIG_DEFAULT_FILE "/etc/pgbkp/pgbkp.yml"
#define PGBKP_STATE_PATH_DEFAULT "/var/lib/pgbkp"

typedef enum CommandId
{
	CMD_INIT = 0,
	CMD_BACKUP,
	CMD_ARCHIVE_PUSH,
	CMD_ARCHIVE_GET,
	CMD_RESTORE,
	CMD_INFO,
	CMD_VERIFY,
	CMD_CHECK,
	CMD_EXPIRE,
	CMD_STATUS,
	CMD_SCHEDULE,
	CMD_METRICS,
	CMD_CRON,
	CMD_CLONE,
	CMD_CONFIG,
	CMD_DRILL,
	CMD_WAL_INDEX,
	CMD_PITR,
	CMD_PITR_MEMBER,
	CMD_SPOOL_CLEAN,
	CMD_STREAM,
	CMD_COUNT
} CommandId;

#define CMD_BIT(id) (1u << (id))

/* CommandDef.flags: what the command layer does around a command's handler */
#define CMDF_EACH_REPO	0x01	/* run once per repository (else it reads Config.repos itself) */
#define CMDF_PRIMARY	0x02	/* on a replica of the cluster: "skipped", exit 0 */
#define CMDF_PER_SEGMENT 0x04	/* PostgreSQL runs it for every WAL segment: warnings it
								 * would repeat each time are logged at debug level */

/*
 * The one list of commands: what the parser, --help, the man page and the
 * command layer know of each.  The command layer binds a handler to each
 * CommandId (src/cmd/dispatch.c); this layer knows no handler.
 */
typedef struct CommandDef
{
	const char *name;			/* the command word */
	const char *args;			/* positional arguments for the synopsis, or NULL */
	int			nargs;			/* exact number of positional arguments */
	unsigned	flags;			/* CMDF_* */
	const char *summary;		/* one line, lowercase, no period */
} CommandDef;

/* Indexed by CommandId. */
extern const CommandDef command_table[CMD_COUNT];

typedef enum OptionType
{
	OPT_STRING,					/* free text */
	OPT_INT,					/* integer in [min, max] */
	OPT_BOOL,					/* --name / --no-name; true|false|yes|no|on|off */
	OPT_FLAG,					/* --name only, command line only */
	OPT_ENUM,					/* one of values[] */
	OPT_LIST,					/* repeatable KEY=VALUE (tablespace map) */
	OPT_MULTI					/* repeatable text, kept in a StringList */
} OptionType;

/* OptionDef.flags */
#define OPTF_HIDDEN		0x01	/* not shown in --help or the man page */
#define OPTF_TARGET		0x02	/* a recovery target: at most one may be set */
#define OPTF_ENUM_INDEX 0x04	/* OPT_ENUM stored as the int index of the value */
#define OPTF_SECRET		0x08	/* configuration file and environment only, never shown */

typedef struct OptionDef
{
	const char *name;			/* long name, e.g. "repo-path" */
	int			short_name;		/* single-letter form, or 0 */
	OptionType	type;
	const char *default_value;	/* as text, parsed like any input; NULL = unset */
	int			min;			/* OPT_INT range */
	int			max;
	const char *const *values;	/* OPT_ENUM allowed values, NULL-terminated */
	unsigned	commands;		/* CMD_BIT mask; 0 = global (every command) */
	const char *yaml_key;		/* key in the pgbkp: section, NULL = not settable there */
	const char *env_name;		/* environment variable, NULL = none */
	const char *metavar;		/* placeholder for the value in --help */
	const char *help;			/* one line, lowercase, no period */
	size_t		offset;			/* field in Config */
	unsigned	flags;			/* OPTF_* */
} OptionDef;

extern const OptionDef option_table[];
extern const int option_count;

/* Where a value came from: selects the error code and how the source is named. */
typedef enum OptionSourceKind
{
	SRC_DEFAULT = 0,
	SRC_FILE,
	SRC_ENV,
	SRC_CMDLINE
} OptionSourceKind;

typedef struct OptionSource
{
	OptionSourceKind kind;
	const char *file;			/* SRC_FILE: path */
	int			line;			/* SRC_FILE: 1-based line */
	const char *key;			/* SRC_FILE: key as written, if not the yaml_key */
} OptionSource;

/* The option's current value in cfg as text; false when it is unset (or a list). */
bool		option_format(const Config *cfg, const OptionDef *opt, char *buf, size_t len);

/* Look-ups; NULL or -1 when not found. */
const OptionDef *option_find(const char *name);
const OptionDef *option_find_yaml(const char *key);
int			command_find(const char *name);

/* Whether opt may be used with command cmd (a CommandId). */
bool		option_applies(const OptionDef *opt, int cmd);

/*
 * Parse text for opt and store it in cfg (strings are copied; the previous
 * value is freed; OPT_LIST appends).  Bad input: EXIT_USAGE from the command
 * line, EXIT_CONFIG otherwise, naming the option as the source spells it
 * (--pg-port, PGBKP_PG_PORT, or "pg_port" after FILE:LINE).  Returns -1.
 */
int			option_store(Config *cfg, const OptionDef *opt, const char *text,
						 const OptionSource *src, PgbError *err);

/* For --help and the man page (each writes a NUL-terminated, possibly cut, text): */
/* the commands of opt, "backup, restore" */
void		option_commands(const OptionDef *opt, char *buf, size_t len);
/* range or values, default, variable and YAML key: "1..65535; default 5432; ..." */
void		option_details(const OptionDef *opt, char *buf, size_t len);
/* "restore [OPTIONS]", "archive-get WAL_NAME DEST_PATH" */
void		command_synopsis(int cmd, char *buf, size_t len);

/* A strict integer: the whole text, no leading blanks, within [min, max]. */
bool		config_parse_int(const char *text, int min, int max, int *out);

/*
 * Replace *field (freed) with a copy of text; EXIT_INTERNAL when out of
 * memory, *field unchanged.  For every owned string of the configuration.
 */
int			config_set_string(char **field, const char *text, PgbError *err);

/* Free every string the table's fields own and reset them to NULL. */
void		option_free_values(Config *cfg);

/* Parse a YAML/environment boolean word; returns -1 if it is not one. */
int			option_parse_bool(const char *text);

#endif
