/* Job history in the repository (see history.h; one object per record). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>

#include "common/fileio.h"
#include "repo/history.h"
#include "repo/objio.h"

#define HISTORY_DIR "history"
#define HISTORY_SUFFIX ".json"
#define HISTORY_STAMP_LEN 22	/* YYYYMMDD-HHMMSS.uuuuuu */
#define HISTORY_RECORD_MAX (64 * 1024)
#define HISTORY_MAX_COUNTER 99

static const char *const outcomes[] = {"ok", "failed", "skipped", "aborted", NULL};

/* ------------------------------------------------------------ names */

/* dst = src with every byte outside [A-Za-z0-9_.-] replaced by '_'; "unknown" when empty. */
static void
sanitise(char *dst, size_t len, const char *src)
{
	size_t		i;

	if (src[0] == '\0')
	{
		snprintf(dst, len, "unknown");
		return;
	}
	for (i = 0; src[i] != '\0' && i + 1 < len; i++)
	{
		char		c = src[i];

		dst[i] = ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
				  (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-') ? c : '_';
	}
	dst[i] = '\0';
}

/* "YYYYMMDD-HHMMSS.uuuuuu" (UTC) into buf (at least HISTORY_STAMP_LEN + 1 bytes). */
static int
format_stamp(TimestampUs t, char *buf, size_t len)
{
	int64_t		secs = t / 1000000;
	int64_t		usec = t % 1000000;
	time_t		tt;
	struct tm	tm;

	if (usec < 0)
	{
		usec += 1000000;
		secs--;
	}
	tt = (time_t) secs;
	if (gmtime_r(&tt, &tm) == NULL || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
		return -1;
	snprintf(buf, len, "%04d%02d%02d-%02d%02d%02d.%06d",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec, (int) usec);
	return 0;
}

static bool
digits(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* Does name look like a record's name?  Then *t is the time it starts with. */
static bool
parse_name(const char *name, TimestampUs *t)
{
	size_t		len = strlen(name);
	struct tm	tm;
	time_t		secs;

	if (len <= HISTORY_STAMP_LEN + strlen(HISTORY_SUFFIX) ||
		strcmp(name + len - strlen(HISTORY_SUFFIX), HISTORY_SUFFIX) != 0 ||
		!digits(name, 8) || name[8] != '-' || !digits(name + 9, 6) ||
		name[15] != '.' || !digits(name + 16, 6) || name[22] != '-')
		return false;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (name[0] - '0') * 1000 + (name[1] - '0') * 100 + (name[2] - '0') * 10 + (name[3] - '0') - 1900;
	tm.tm_mon = (name[4] - '0') * 10 + (name[5] - '0') - 1;
	tm.tm_mday = (name[6] - '0') * 10 + (name[7] - '0');
	tm.tm_hour = (name[9] - '0') * 10 + (name[10] - '0');
	tm.tm_min = (name[11] - '0') * 10 + (name[12] - '0');
	tm.tm_sec = (name[13] - '0') * 10 + (name[14] - '0');
	secs = timegm(&tm);
	*t = (TimestampUs) secs * 1000000 + strtol(name + 16, NULL, 10);
	return true;
}

/* The name with counter n (n < 2: none). */
static int
record_name(const JobRecord *r, int n, char *out, size_t len)
{
	char		stamp[80];		/* HISTORY_STAMP_LEN + 1 used */
	char		node[sizeof(r->node)];
	char		job[sizeof(r->job)];
	char		counter[16] = "";
	TimestampUs t = r->start ? r->start : r->end ? r->end : time_now();
	int			w;

	if (format_stamp(t, stamp, sizeof(stamp)) != 0)
		return -1;
	sanitise(node, sizeof(node), r->node);
	sanitise(job, sizeof(job), r->job);
	if (n >= 2)
		snprintf(counter, sizeof(counter), ".%d", n);
	w = snprintf(out, len, "%s-%s-%s%s%s", stamp, node, job, counter, HISTORY_SUFFIX);
	return w < 0 || (size_t) w >= len ? -1 : 0;
}

int
history_object_name(const JobRecord *r, char *out, size_t len)
{
	return record_name(r, 0, out, len);
}

/* ------------------------------------------------------------ JSON */

/* Copy a message: control characters become spaces; a cut UTF-8 sequence at the end is dropped. */
static void
clean_message(char *dst, size_t len, const char *src)
{
	size_t		n = 0;
	size_t		end;

	for (; src[n] != '\0' && n + 1 < len; n++)
		dst[n] = ((unsigned char) src[n] < 0x20 || src[n] == 0x7f) ? ' ' : src[n];
	dst[n] = '\0';
	/* find the start of the last UTF-8 sequence and check it is complete */
	end = n;
	while (end > 0 && ((unsigned char) dst[end - 1] & 0xC0) == 0x80 && n - end < 3)
		end--;
	if (end > 0 && ((unsigned char) dst[end - 1] & 0x80))
	{
		unsigned char lead = (unsigned char) dst[end - 1];
		size_t		need = (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : (lead & 0xF8) == 0xF0 ? 4 : 1;

		if (n - (end - 1) < need)
			dst[end - 1] = '\0';
	}
}

char *
history_record_to_json(const JobRecord *r)
{
	json_object *o = json_object_new_object();
	char		message[sizeof(r->message)];
	char	   *text;

	if (o == NULL)
		return NULL;
	clean_message(message, sizeof(message), r->message);
	json_object_object_add(o, "format", json_object_new_int(HISTORY_FORMAT_VERSION));
	json_object_object_add(o, "job", json_object_new_string(r->job));
	json_object_object_add(o, "command", json_object_new_string(r->command));
	json_object_object_add(o, "type", json_object_new_string(r->type));
	json_object_object_add(o, "node", json_object_new_string(r->node));
	json_object_object_add(o, "start", json_object_new_int64(r->start));
	json_object_object_add(o, "end", json_object_new_int64(r->end));
	json_object_object_add(o, "outcome", json_object_new_string(r->outcome));
	json_object_object_add(o, "exit_code", json_object_new_int(r->exit_code));
	json_object_object_add(o, "bytes", json_object_new_int64(r->bytes > INT64_MAX ? INT64_MAX : (int64_t) r->bytes));
	json_object_object_add(o, "label", json_object_new_string(r->label));
	json_object_object_add(o, "message", json_object_new_string(message));
	text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return text;
}

/* A string field into dst; over-long is malformed unless truncate. */
static bool
get_string(json_object *o, const char *key, char *dst, size_t len, bool truncate)
{
	json_object *v;
	const char *s;
	size_t		slen;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return false;
	s = json_object_get_string(v);
	slen = (size_t) json_object_get_string_len(v);
	if (memchr(s, '\0', slen) != NULL)
		return false;
	if (slen >= len && !truncate)
		return false;
	snprintf(dst, len, "%s", s);
	if (truncate)
		clean_message(dst, len, s);
	return true;
}

static bool
get_int64(json_object *o, const char *key, int64_t *out)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return true;
}

int
history_record_from_json(const char *text, JobRecord *r, PgbError *err)
{
	json_object *o = json_tokener_parse(text);
	int64_t		format = 0,
				exit_code = 0,
				bytes = 0;
	int			rc = 0;

	memset(r, 0, sizeof(*r));
	if (o == NULL || !json_object_is_type(o, json_type_object))
		rc = pgb_error(err, EXIT_CORRUPT, "malformed job record: not a JSON object");
	else if (!get_int64(o, "format", &format))
		rc = pgb_error(err, EXIT_CORRUPT, "malformed job record: no format");
	else if (format != HISTORY_FORMAT_VERSION)
		rc = pgb_error(err, EXIT_CORRUPT, "job record format %lld is not supported (this pgbkp reads format %d)",
					   (long long) format, HISTORY_FORMAT_VERSION);
	else if (!get_string(o, "job", r->job, sizeof(r->job), false) || r->job[0] == '\0' ||
			 !get_string(o, "command", r->command, sizeof(r->command), false) ||
			 !get_string(o, "type", r->type, sizeof(r->type), false) ||
			 !get_string(o, "node", r->node, sizeof(r->node), false) ||
			 !get_string(o, "outcome", r->outcome, sizeof(r->outcome), false) ||
			 !get_string(o, "label", r->label, sizeof(r->label), false) ||
			 !get_string(o, "message", r->message, sizeof(r->message), true) ||
			 !get_int64(o, "start", &r->start) ||
			 !get_int64(o, "end", &r->end) ||
			 !get_int64(o, "exit_code", &exit_code) || exit_code < INT_MIN || exit_code > INT_MAX ||
			 !get_int64(o, "bytes", &bytes) || bytes < 0)
		rc = pgb_error(err, EXIT_CORRUPT, "malformed job record: a field is missing, of the wrong type or out of range");
	else
	{
		r->exit_code = (int) exit_code;
		r->bytes = (uint64_t) bytes;
	}
	json_object_put(o);
	if (rc != 0)
		memset(r, 0, sizeof(*r));
	return rc;
}

/* ------------------------------------------------------------ storage */

int
history_append(Repo *repo, const JobRecord *r, PgbError *err)
{
	char		name[256];
	char		path[PGB_PATH_MAX];
	char	   *text;
	bool		known = false;

	if (r->job[0] == '\0' || memchr(r->job, '\0', sizeof(r->job)) == NULL)
		return pgb_error(err, EXIT_INTERNAL, "job record without a job name");
	for (int i = 0; outcomes[i]; i++)
		if (strncmp(r->outcome, outcomes[i], sizeof(r->outcome)) == 0)
			known = true;
	if (!known)
		return pgb_error(err, EXIT_INTERNAL, "job record with an unknown outcome \"%.*s\"",
						 (int) sizeof(r->outcome), r->outcome);
	if (memchr(r->command, '\0', sizeof(r->command)) == NULL || memchr(r->type, '\0', sizeof(r->type)) == NULL ||
		memchr(r->node, '\0', sizeof(r->node)) == NULL || memchr(r->label, '\0', sizeof(r->label)) == NULL ||
		memchr(r->message, '\0', sizeof(r->message)) == NULL)
		return pgb_error(err, EXIT_INTERNAL, "job record with an unterminated field");

	text = history_record_to_json(r);
	if (text == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	for (int n = 1; n <= HISTORY_MAX_COUNTER; n++)
	{
		bool		existed = false;

		if (record_name(r, n, name, sizeof(name)) != 0 ||
			repo_path(repo, path, HISTORY_DIR "/%s", name) != 0)
		{
			free(text);
			return pgb_error(err, EXIT_INTERNAL, "cannot name the record of job \"%s\"", r->job);
		}
		if (objio_put_mem(repo->storage, path, OBJECT_KIND_INFO, 3, text, strlen(text),
						  true, &existed, NULL, err) != 0)
		{
			free(text);
			return pgb_error_context(err, "could not write the record of job \"%s\"", r->job);
		}
		if (!existed)
		{
			free(text);
			return 0;
		}
	}
	free(text);
	return pgb_error(err, EXIT_IO, "could not write the record of job \"%s\": %d records of the same job, node and microsecond exist",
					 r->job, HISTORY_MAX_COUNTER);
}

static int
name_cmp_desc(const void *a, const void *b)
{
	return strcmp(*(char *const *) b, *(char *const *) a);
}

/*
 * The record names, newest first, as pointers into list (which must stay
 * alive): *names is malloc'd, *count entries.
 */
static int
list_names(Repo *repo, StorageList *list, char ***names, int *count, PgbError *err)
{
	char		dir[PGB_PATH_MAX];
	int			n = 0;

	*names = NULL;
	*count = 0;
	if (repo_path(repo, dir, HISTORY_DIR) != 0)
		return pgb_error(err, EXIT_INTERNAL, "path too long for the history of cluster \"%s\"", repo->cluster);
	if (storage_list(repo->storage, dir, list, err) != 0)
		return pgb_error_context(err, "could not list the job history");
	*names = malloc(((size_t) list->count + 1) * sizeof(char *));
	if (*names == NULL)
	{
		storage_list_free(list);
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	}
	for (int i = 0; i < list->count; i++)
	{
		TimestampUs t;

		if (!list->items[i].is_dir && parse_name(list->items[i].name, &t))
			(*names)[n++] = list->items[i].name;
	}
	qsort(*names, (size_t) n, sizeof(char *), name_cmp_desc);
	*count = n;
	return 0;
}

/* Read one record; 1 when it vanished (pruned meanwhile), 0 when listed (maybe as unreadable), -1 on error. */
static int
read_record(Repo *repo, const char *name, JobRecord *r, PgbError *err)
{
	char		path[PGB_PATH_MAX];
	char	   *text = NULL;
	PgbError	rerr = {0};
	char		why[PGB_PATH_MAX + PGB_ERRMSG_MAX];

	if (repo_path(repo, path, HISTORY_DIR "/%s", name) != 0)
		return pgb_error(err, EXIT_INTERNAL, "path too long for job record \"%s\"", name);
	if (objio_get_mem(repo->storage, path, OBJECT_KIND_INFO, HISTORY_RECORD_MAX, &text, NULL, &rerr) == 0 &&
		history_record_from_json(text, r, &rerr) == 0)
	{
		free(text);
		return 0;
	}
	free(text);
	if (rerr.code == EXIT_NOT_FOUND)
		return 1;
	if (rerr.code != EXIT_CORRUPT)
	{
		*err = rerr;
		return pgb_error_context(err, "could not read job record \"%s\"", name);
	}
	memset(r, 0, sizeof(*r));
	parse_name(name, &r->start);
	snprintf(r->outcome, sizeof(r->outcome), "%s", HISTORY_OUTCOME_UNREADABLE);
	r->exit_code = EXIT_CORRUPT;
	snprintf(why, sizeof(why), "%s: %s", name, rerr.msg);
	clean_message(r->message, sizeof(r->message), why);
	return 0;
}

int
history_list(Repo *repo, int max, JobRecord **out, int *n, PgbError *err)
{
	StorageList list;
	char	  **names;
	int			count;
	int			want;
	JobRecord  *records;

	*out = NULL;
	*n = 0;
	if (max < 0)
		return pgb_error(err, EXIT_INTERNAL, "negative history size %d", max);
	if (list_names(repo, &list, &names, &count, err) != 0)
		return -1;
	want = max == 0 || max > count ? count : max;
	if (want == 0)
	{
		free(names);
		storage_list_free(&list);
		return 0;
	}
	records = calloc((size_t) want, sizeof(JobRecord));
	if (records == NULL)
	{
		free(names);
		storage_list_free(&list);
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	}
	for (int i = 0; i < count && *n < want; i++)
	{
		int			rc = read_record(repo, names[i], &records[*n], err);

		if (rc < 0)
		{
			free(records);
			free(names);
			storage_list_free(&list);
			*n = 0;
			return -1;
		}
		if (rc == 0)
			(*n)++;
	}
	free(names);
	storage_list_free(&list);
	if (*n == 0)
	{
		free(records);
		records = NULL;
	}
	*out = records;
	return 0;
}

void
history_free(JobRecord *records)
{
	free(records);
}

int
history_prune(Repo *repo, int keep, PgbError *err)
{
	StorageList list;
	char	  **names;
	int			count;
	int			removed = 0;

	if (keep < 0)
		return pgb_error(err, EXIT_INTERNAL, "negative history size %d", keep);
	if (list_names(repo, &list, &names, &count, err) != 0)
		return -1;
	for (int i = keep; i < count; i++)
	{
		char		path[PGB_PATH_MAX];

		if (repo_path(repo, path, HISTORY_DIR "/%s", names[i]) != 0 ||
			storage_remove(repo->storage, path, err) != 0)
		{
			if (!pgb_error_is_set(err))
				pgb_error(err, EXIT_INTERNAL, "path too long for job record \"%s\"", names[i]);
			pgb_error_context(err, "could not remove job record \"%s\"", names[i]);
			free(names);
			storage_list_free(&list);
			return -1;
		}
		removed++;
	}
	free(names);
	storage_list_free(&list);
	return removed;
}
