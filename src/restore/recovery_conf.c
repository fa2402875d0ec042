/* Recovery settings in a restored data directory (see recovery_conf.h). */
#include <ctype.h>
#include <unistd.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/fileio.h"
#include "io/membuf.h"
#include "restore/recovery_conf.h"

#define AUTO_CONF_MAX (1024 * 1024)

char *
recovery_conf_quote(const char *value)
{
	size_t		len = strlen(value);
	char	   *out = malloc(len * 2 + 3);
	char	   *w = out;

	if (out == NULL)
		return NULL;
	*w++ = '\'';
	/* PostgreSQL reads '' as a quote and backslash escapes (\\, \n, ...) */
	for (const char *r = value; *r; r++)
	{
		if (*r == '\'' || *r == '\\')
			*w++ = *r;
		*w++ = *r;
	}
	*w++ = '\'';
	*w = '\0';
	return out;
}

char *
shell_quote(const char *word)
{
	size_t		len = strlen(word);
	char	   *out;
	char	   *w;

	if (len > 0 && strspn(word, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-=:,+@") == len)
		return strdup(word);
	out = malloc(len * 4 + 3);
	if (out == NULL)
		return NULL;
	w = out;
	*w++ = '\'';
	for (const char *r = word; *r; r++)
	{
		if (*r == '\'')
		{
			memcpy(w, "'\\''", 4);
			w += 4;
		}
		else
			*w++ = *r;
	}
	*w++ = '\'';
	*w = '\0';
	return out;
}

/* Does this line set one of the parameters we own? */
static bool
line_sets_owned(const char *line, size_t len, const RecoverySettings *s)
{
	bool		archive_off = s->archive_off;
	static const char *const owned[] = {"restore_command", "recovery_target", NULL};
	const char *p = line;
	const char *end = line + len;
	size_t		n;

	while (p < end && isspace((unsigned char) *p))
		p++;
	n = 0;
	while (p + n < end && (isalnum((unsigned char) p[n]) || p[n] == '_'))
		n++;
	if (n == 0)
		return false;
	for (const char *const *o = owned; *o; o++)
	{
		size_t		olen = strlen(*o);

		/* recovery_target and every recovery_target_* */
		if (n >= olen && strncasecmp(p, *o, olen) == 0 &&
			(n == olen || strcmp(*o, "recovery_target") == 0))
			return true;
	}
	for (int i = 0; i < s->nextra; i++)
		if (n == strlen(s->extra_names[i]) && strncasecmp(p, s->extra_names[i], n) == 0)
			return true;
	return archive_off && n == 12 && strncasecmp(p, "archive_mode", 12) == 0;
}

/* Appending to the output collects the first error; the caller checks once. */
static void
text_add(MemBuf *t, PgbError *err, const char *s, size_t n)
{
	if (!pgb_error_is_set(err))
		membuf_append(t, s, n, err);
}

static void
text_setting(MemBuf *t, PgbError *err, const char *name, const char *value)
{
	char	   *q = recovery_conf_quote(value);

	if (q == NULL)
	{
		if (!pgb_error_is_set(err))
			pgb_error(err, EXIT_INTERNAL, "out of memory");
		return;
	}
	text_add(t, err, name, strlen(name));
	text_add(t, err, " = ", 3);
	text_add(t, err, q, strlen(q));
	text_add(t, err, "\n", 1);
	free(q);
}

char *
recovery_conf_render(const char *old, const RecoverySettings *s, PgbError *err)
{
	MemBuf		t = {0};

	pgb_error_clear(err);
	for (const char *line = old; line && *line;)
	{
		const char *nl = strchr(line, '\n');
		size_t		len = nl ? (size_t) (nl - line) : strlen(line);

		if (!line_sets_owned(line, len, s))
		{
			text_add(&t, err, line, len);
			text_add(&t, err, "\n", 1);
		}
		line += len + (nl ? 1 : 0);
	}
	if (s->comment)
	{
		text_add(&t, err, "# ", 2);
		text_add(&t, err, s->comment, strlen(s->comment));
		text_add(&t, err, "\n", 1);
	}
	text_setting(&t, err, "restore_command", s->restore_command);
	if (s->target_param)
	{
		text_setting(&t, err, s->target_param, s->target_value);
		text_setting(&t, err, "recovery_target_action", s->target_action ? s->target_action : "pause");
	}
	if (s->archive_off)
		text_setting(&t, err, "archive_mode", "off");
	for (int i = 0; i < s->nextra; i++)
		text_setting(&t, err, s->extra_names[i], s->extra_values[i]);
	if (pgb_error_is_set(err))
	{
		membuf_free(&t);
		return NULL;
	}
	return membuf_take(&t, NULL, err);
}

int
recovery_conf_write(const char *pgdata, const RecoverySettings *s, PgbError *err)
{
	char		path[PGB_PATH_MAX];
	char	   *old = NULL;
	char	   *text;
	int			rc;

	if (fio_path_join(path, sizeof(path), pgdata, "postgresql.auto.conf", err) != 0)
		return -1;
	if (fio_read_small(path, AUTO_CONF_MAX, &old, NULL, err) != 0)
	{
		if (err->code != EXIT_NOT_FOUND)
			return -1;
		pgb_error_clear(err);
	}
	text = recovery_conf_render(old, s, err);
	free(old);
	if (text == NULL)
		return -1;
	rc = fio_write_atomic(path, text, strlen(text), 0600, err);
	free(text);
	if (rc != 0)
		return -1;
	if (fio_path_join(path, sizeof(path), pgdata, s->standby ? "recovery.signal" : "standby.signal", err) != 0)
		return -1;
	if (unlink(path) != 0 && errno != ENOENT)
		return pgb_error_errno(err, EXIT_IO, errno, "could not remove \"%s\"", path);
	if (fio_path_join(path, sizeof(path), pgdata, s->standby ? "standby.signal" : "recovery.signal", err) != 0)
		return -1;
	return fio_write_atomic(path, "", 0, 0600, err);
}
