/* The WAL index: per-segment summaries of commits and restore points (see walindex.h). */
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileio.h"
#include "repo/objio.h"
#include "repo/walarchive.h"
#include "repo/walindex.h"

#define SUMMARY_MAX (256 * 1024 * 1024)

typedef struct Collect
{
	WalSummary *s;
	int			ccap;
	int			pcap;
} Collect;

static int
on_record(void *arg, const WalRecord *r, PgbError *err)
{
	Collect    *c = arg;
	WalSummary *s = c->s;
	int64_t		t;
	char		name[64];

	if (r->rmid == WAL_RM_XACT && wal_xact_time(r, &t) == 0)
	{
		int			op = r->info & WAL_XACT_OPMASK;
		bool		commit = op == WAL_XACT_COMMIT || op == WAL_XACT_COMMIT_PREPARED;

		if (!commit && op != WAL_XACT_ABORT && op != WAL_XACT_ABORT_PREPARED)
			return 0;
		if (s->ncommits == c->ccap)
		{
			WalCommit  *n = realloc(s->commits, sizeof(WalCommit) * (c->ccap = c->ccap ? c->ccap * 2 : 64));

			if (n == NULL)
				return pgb_error(err, EXIT_INTERNAL, "out of memory");
			s->commits = n;
		}
		s->commits[s->ncommits++] = (WalCommit) {r->lsn, r->xid, !commit, t};
	}
	else if (wal_restore_point(r, &t, name, sizeof(name)) == 0)
	{
		if (s->npoints == c->pcap)
		{
			WalPoint   *n = realloc(s->points, sizeof(WalPoint) * (c->pcap = c->pcap ? c->pcap * 2 : 8));

			if (n == NULL)
				return pgb_error(err, EXIT_INTERNAL, "out of memory");
			s->points = n;
		}
		s->points[s->npoints].lsn = r->lsn;
		s->points[s->npoints].time = t;
		memcpy(s->points[s->npoints].name, name, sizeof(name));
		s->npoints++;
	}
	return 0;
}

int
walsummary_compute(const uint8_t *seg, size_t size, TimeLineID tli, SegNo segno, const uint8_t *next,
				   WalSummary *out, PgbError *err)
{
	Collect		c = {out, 0, 0};
	WalReadResult res;

	memset(out, 0, sizeof(*out));
	out->tli = tli;
	out->segno = segno;
	if (wal_read_segment(seg, size, segno, next, on_record, &c, &res, err) != 0)
	{
		walsummary_free(out);
		return -1;
	}
	out->records = res.records;
	out->valid_end = res.valid_end;
	out->switched = res.switched;
	out->complete = res.tail_lsn == 0;
	return 0;
}

void
walsummary_free(WalSummary *s)
{
	free(s->commits);
	free(s->points);
	s->commits = NULL;
	s->points = NULL;
	s->ncommits = s->npoints = 0;
}

static json_object *
lsn_json(Lsn l)
{
	char		b[32];

	lsn_format(l, b, sizeof(b));
	return json_object_new_string(b);
}

char *
walsummary_encode(const WalSummary *s)
{
	json_object *o = json_object_new_object();
	json_object *cs = json_object_new_array_ext(s->ncommits);
	json_object *ps = json_object_new_array();
	char	   *text;

	json_object_object_add(o, "format", json_object_new_int(WALINDEX_FORMAT));
	json_object_object_add(o, "timeline", json_object_new_int64(s->tli));
	json_object_object_add(o, "segno", json_object_new_int64((int64_t) s->segno));
	json_object_object_add(o, "records", json_object_new_int(s->records));
	json_object_object_add(o, "valid_end", lsn_json(s->valid_end));
	json_object_object_add(o, "switched", json_object_new_boolean(s->switched));
	json_object_object_add(o, "complete", json_object_new_boolean(s->complete));
	for (int i = 0; i < s->ncommits; i++)
	{
		json_object *c = json_object_new_array_ext(4);

		json_object_array_add(c, lsn_json(s->commits[i].lsn));
		json_object_array_add(c, json_object_new_int64(s->commits[i].xid));
		json_object_array_add(c, json_object_new_int64(s->commits[i].time));
		json_object_array_add(c, json_object_new_string(s->commits[i].abort ? "abort" : "commit"));
		json_object_array_add(cs, c);
	}
	for (int i = 0; i < s->npoints; i++)
	{
		json_object *p = json_object_new_array_ext(3);

		json_object_array_add(p, lsn_json(s->points[i].lsn));
		json_object_array_add(p, json_object_new_int64(s->points[i].time));
		json_object_array_add(p, json_object_new_string(s->points[i].name));
		json_object_array_add(ps, p);
	}
	json_object_object_add(o, "commits", cs);
	json_object_object_add(o, "restore_points", ps);
	text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return text;
}

static bool
get_lsn(json_object *v, Lsn *out)
{
	PgbError	e = {0};

	return json_object_is_type(v, json_type_string) && lsn_parse(json_object_get_string(v), out, &e) == 0;
}

static bool
get_int(json_object *o, const char *key, int64_t *out)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return true;
}

int
walsummary_decode(const char *text, WalSummary *out, PgbError *err)
{
	json_object *o = json_tokener_parse(text);
	json_object *v,
			   *cs,
			   *ps;
	int64_t		format,
				tli,
				segno,
				records;
	bool		ok;

	memset(out, 0, sizeof(*out));
	ok = o && get_int(o, "format", &format) && format == WALINDEX_FORMAT && get_int(o, "timeline", &tli) &&
		get_int(o, "segno", &segno) && get_int(o, "records", &records) &&
		json_object_object_get_ex(o, "valid_end", &v) && get_lsn(v, &out->valid_end) &&
		json_object_object_get_ex(o, "commits", &cs) && json_object_is_type(cs, json_type_array) &&
		json_object_object_get_ex(o, "restore_points", &ps) && json_object_is_type(ps, json_type_array);
	if (ok)
	{
		out->tli = (TimeLineID) tli;
		out->segno = (SegNo) segno;
		out->records = (int) records;
		out->switched = json_object_object_get_ex(o, "switched", &v) && json_object_get_boolean(v);
		out->complete = json_object_object_get_ex(o, "complete", &v) && json_object_get_boolean(v);
		out->ncommits = (int) json_object_array_length(cs);
		out->npoints = (int) json_object_array_length(ps);
		out->commits = calloc((size_t) out->ncommits + 1, sizeof(WalCommit));
		out->points = calloc((size_t) out->npoints + 1, sizeof(WalPoint));
		ok = out->commits && out->points;
	}
	for (int i = 0; ok && i < out->ncommits; i++)
	{
		json_object *c = json_object_array_get_idx(cs, i);

		ok = json_object_is_type(c, json_type_array) && json_object_array_length(c) == 4 &&
			get_lsn(json_object_array_get_idx(c, 0), &out->commits[i].lsn);
		if (ok)
		{
			out->commits[i].xid = (uint32_t) json_object_get_int64(json_object_array_get_idx(c, 1));
			out->commits[i].time = json_object_get_int64(json_object_array_get_idx(c, 2));
			out->commits[i].abort = strcmp(json_object_get_string(json_object_array_get_idx(c, 3)), "abort") == 0;
		}
	}
	for (int i = 0; ok && i < out->npoints; i++)
	{
		json_object *p = json_object_array_get_idx(ps, i);
		const char *name;

		ok = json_object_is_type(p, json_type_array) && json_object_array_length(p) == 3 &&
			get_lsn(json_object_array_get_idx(p, 0), &out->points[i].lsn) &&
			(name = json_object_get_string(json_object_array_get_idx(p, 2))) != NULL &&
			strlen(name) < sizeof(out->points[i].name);
		if (ok)
		{
			out->points[i].time = json_object_get_int64(json_object_array_get_idx(p, 1));
			snprintf(out->points[i].name, sizeof(out->points[i].name), "%s", name);
		}
	}
	json_object_put(o);
	if (!ok)
	{
		walsummary_free(out);
		return pgb_error(err, EXIT_CORRUPT, "WAL index summary is malformed");
	}
	return 0;
}

static int
summary_path(const Repo *repo, TimeLineID tli, SegNo segno, char *out, PgbError *err)
{
	char		name[WAL_NAME_LEN + 1];

	wal_segment_name(name, tli, segno, repo->info.wal_segment_size);
	if (repo_path(repo, out, "wal-index/%.16s/%s.json", name, name) != 0)
		return pgb_error(err, EXIT_IO, "path too long for the WAL index of \"%s\"", name);
	return 0;
}

/* An archived segment's content, or NULL (*missing when it is not archived). */
static uint8_t *
read_segment(Repo *repo, TimeLineID tli, SegNo segno, bool *missing, PgbError *err)
{
	char		name[WAL_NAME_LEN + 1];
	char		path[PGB_PATH_MAX];
	char	   *text = NULL;
	size_t		len = 0;
	StorageInfo info;

	*missing = false;
	wal_segment_name(name, tli, segno, repo->info.wal_segment_size);
	if (wal_object_path(repo, name, path, err) != 0 || storage_info(repo->storage, path, &info, err) != 0)
		return NULL;
	if (!info.exists)
	{
		*missing = true;
		return NULL;
	}
	if (objio_get_mem(repo->storage, path, OBJECT_KIND_WAL, repo->info.wal_segment_size, &text, &len, err) != 0)
		return NULL;
	if (len != repo->info.wal_segment_size)
	{
		free(text);
		pgb_error(err, EXIT_CORRUPT, "archived WAL segment %s holds %zu bytes, not %" PRIu64, name, len,
				  repo->info.wal_segment_size);
		return NULL;
	}
	return (uint8_t *) text;
}

int
walindex_build(Repo *repo, TimeLineID tli, SegNo segno, WalSummary *out, PgbError *err)
{
	char		path[PGB_PATH_MAX];
	bool		missing;
	uint8_t    *seg,
			   *next;
	char	   *text;
	int			rc;

	if ((seg = read_segment(repo, tli, segno, &missing, err)) == NULL)
	{
		if (missing)
		{
			char		name[WAL_NAME_LEN + 1];

			wal_segment_name(name, tli, segno, repo->info.wal_segment_size);
			pgb_error(err, EXIT_NOT_FOUND, "WAL segment %s is not archived", name);
		}
		return -1;
	}
	next = read_segment(repo, tli, segno + 1, &missing, err);
	if (next == NULL && !missing)
	{
		free(seg);
		return -1;
	}
	pgb_error_clear(err);
	rc = walsummary_compute(seg, repo->info.wal_segment_size, tli, segno, next, out, err);
	free(seg);
	free(next);
	if (rc != 0)
		return -1;
	/* stored only when final: an incomplete one is made again once the next segment is there */
	if (out->complete)
	{
		PgbError	e = {0};

		if ((text = walsummary_encode(out)) == NULL)
			return 0;
		if (summary_path(repo, tli, segno, path, &e) == 0)
		{
			storage_remove(repo->storage, path, &e);
			pgb_error_clear(&e);
			if (objio_put_mem(repo->storage, path, OBJECT_KIND_INFO, 3, text, strlen(text), true, NULL, NULL, &e) != 0)
				pgb_error_clear(&e);	/* a read-only repository: the summary is only not kept */
		}
		free(text);
	}
	return 0;
}

int
walindex_get(Repo *repo, TimeLineID tli, SegNo segno, WalSummary *out, PgbError *err)
{
	char		path[PGB_PATH_MAX];
	char	   *text = NULL;
	PgbError	e = {0};

	if (summary_path(repo, tli, segno, path, err) != 0)
		return -1;
	if (objio_get_mem(repo->storage, path, OBJECT_KIND_INFO, SUMMARY_MAX, &text, NULL, &e) == 0)
	{
		int			rc = walsummary_decode(text, out, &e);

		free(text);
		if (rc == 0 && out->tli == tli && out->segno == segno)
			return 0;
		walsummary_free(out);
	}
	return walindex_build(repo, tli, segno, out, err);
}

int
walindex_prune(Repo *repo, PgbError *err)
{
	char		top[PGB_PATH_MAX];
	StorageList dirs = {0};
	int			removed = 0;

	if (repo_path(repo, top, "wal-index") != 0)
		return pgb_error(err, EXIT_IO, "path too long for the WAL index");
	if (storage_list(repo->storage, top, &dirs, err) != 0)
		return -1;
	for (int d = 0; d < dirs.count; d++)
	{
		char		dir[PGB_PATH_MAX];
		StorageList files = {0};

		if (!dirs.items[d].is_dir || repo_path(repo, dir, "wal-index/%s", dirs.items[d].name) != 0 ||
			storage_list(repo->storage, dir, &files, err) != 0)
			continue;
		for (int f = 0; f < files.count; f++)
		{
			char		name[WAL_NAME_LEN + 1];
			char		path[PGB_PATH_MAX];
			StorageInfo info;
			const char *n = files.items[f].name;

			if (strlen(n) != WAL_NAME_LEN + 5 || strcmp(n + WAL_NAME_LEN, ".json") != 0)
				continue;
			snprintf(name, sizeof(name), "%.*s", WAL_NAME_LEN, n);
			if (wal_object_path(repo, name, path, err) != 0 || storage_info(repo->storage, path, &info, err) != 0)
			{
				storage_list_free(&files);
				storage_list_free(&dirs);
				return -1;
			}
			if (info.exists)
				continue;
			if (repo_path(repo, path, "wal-index/%s/%s", dirs.items[d].name, n) != 0 ||
				storage_remove(repo->storage, path, err) != 0)
			{
				storage_list_free(&files);
				storage_list_free(&dirs);
				return -1;
			}
			removed++;
		}
		storage_list_free(&files);
	}
	storage_list_free(&dirs);
	return removed;
}
