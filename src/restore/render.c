/* The restore plan as text (see render.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "backup/chain.h"
#include "common/fileio.h"
#include "io/membuf.h"
#include "restore/render.h"

char *
plan_render(const PlanView *v, bool json, PgbError *err)
{
	const RestoreTarget *t = v->t;
	const WalList *wal = v->wal;
	const RecoverySettings *s = v->s;
	MemBuf		text = {0};
	char	   *out;
	const Manifest *m = v->m;
	const Catalog *cat = v->cat;
	const Timeline *tl = timeline_find(v->wal, v->timeline);
	int			mi = (int) (m - cat->backups);
	SegNo		first,
				last;
	bool		approx;
	char		a[WAL_NAME_LEN + 1],
				b[WAL_NAME_LEN + 1],
				stopped[64],
				line[PGB_PATH_MAX * 5];
	json_object *root = json ? json_object_new_object() : NULL;
	json_object *passed = json ? json_object_new_array() : NULL;
	json_object *chain = json ? json_object_new_array() : NULL;
	json_object *settings = json ? json_object_new_object() : NULL;

#define OUT(...) do { snprintf(line, sizeof(line), __VA_ARGS__); \
		if (!json && (membuf_append(&text, line, strlen(line), err) != 0 || \
					  membuf_append(&text, "\n", 1, err) != 0)) goto fail; } while (0)

	plan_wal_range(m, v->timeline, t, wal, &first, &last, &approx);
	wal_segment_name(a, tl ? timeline_tli_of_segment(tl, first, m->wal_segment_size) : m->timeline,
					 first, m->wal_segment_size);
	wal_segment_name(b, tl ? timeline_tli_of_segment(tl, last, m->wal_segment_size) : m->timeline,
					 last, m->wal_segment_size);
	time_format_utc(m->stop_time, stopped, sizeof(stopped));
	OUT("restore backup %s (%s, stopped %s) from repository \"%s\"", m->label, m->type, stopped, v->repo_name);
	for (int i = cat->count - 1; i > mi; i--)
	{
		char		why[PGB_ERRMSG_MAX];

		plan_why_not(cat, wal, t, &cat->backups[i], why, sizeof(why));
		OUT("newer backup %s passed over: %s", cat->backups[i].label, why);
		if (json)
		{
			json_object *o = json_object_new_object();

			json_object_object_add(o, "label", json_object_new_string(cat->backups[i].label));
			json_object_object_add(o, "reason", json_object_new_string(why));
			json_object_array_add(passed, o);
		}
	}
	{
		char		labels[1024] = "";
		size_t		n = 0;

		for (const Manifest *p = m; p; p = chain_parent(cat, p))
		{
			n += (size_t) snprintf(labels + (n < sizeof(labels) ? n : sizeof(labels)), n < sizeof(labels) ? sizeof(labels) - n : 0,
								   "%s%s", n ? " <- " : "", p->label);
			if (json)
				json_object_array_add(chain, json_object_new_string(p->label));
		}
		OUT("chain: %s", labels);
	}
	OUT("write %d files, %.1f MB into \"%s\"%s", m->nfiles, m->size / 1048576.0, v->target_dir,
		v->delta ? " (delta: matching files are kept)" : "");
	if (v->delta)
		OUT("delta: %" PRIu64 " files (%.1f MB) are there at the backup's size: each chunk is compared and "
			"the unchanged ones kept; the other %" PRIu64 " files (%.1f MB) are written whole",
			v->delta_files, v->delta_bytes / 1048576.0, (uint64_t) m->nfiles - v->delta_files,
			(m->size - v->delta_bytes) / 1048576.0);
	OUT("replay %sWAL %s .. %s (%" PRIu64 " segments, %.1f MB) along timeline %u", approx ? "about " : "", a, b,
		last - first + 1, (double) (last - first + 1) * m->wal_segment_size / 1048576.0, v->timeline);
	if (s->target_param)
		OUT("recovery_target: %s = '%s'%s", s->target_param, s->target_value,
			v->exclusive ? " (exclusive)" : "");
	for (int i = 0; i < s->nextra; i++)
	{
		if (strcmp(s->extra_names[i], "primary_conninfo") != 0)
			OUT("setting: %s = '%s'", s->extra_names[i], s->extra_values[i]);
		if (json)
			json_object_object_add(settings, s->extra_names[i], json_object_new_string(s->extra_values[i]));
	}
	if (v->archive_off)
		OUT("setting: archive_mode = 'off'");
	if (t->kind != TARGET_LATEST && !v->standby)
		OUT("at the target the server will %s", s->target_action);
	if (json)
	{
		json_object *w = json_object_new_object();

		json_object_object_add(root, "backup", json_object_new_string(m->label));
		json_object_object_add(root, "type", json_object_new_string(m->type));
		json_object_object_add(root, "repository", json_object_new_string(v->repo_name));
		json_object_object_add(root, "passed_over", passed);
		json_object_object_add(root, "chain", chain);
		json_object_object_add(root, "target_dir", json_object_new_string(v->target_dir));
		json_object_object_add(root, "files", json_object_new_int(m->nfiles));
		json_object_object_add(root, "bytes", json_object_new_int64((int64_t) m->size));
		if (v->delta)
		{
			json_object *d = json_object_new_object();

			json_object_object_add(d, "present_files", json_object_new_int64((int64_t) v->delta_files));
			json_object_object_add(d, "present_bytes", json_object_new_int64((int64_t) v->delta_bytes));
			json_object_object_add(d, "written_whole_files", json_object_new_int64((int64_t) (m->nfiles - v->delta_files)));
			json_object_object_add(d, "written_whole_bytes", json_object_new_int64((int64_t) (m->size - v->delta_bytes)));
			json_object_object_add(root, "delta", d);
		}
		json_object_object_add(w, "first", json_object_new_string(a));
		json_object_object_add(w, "last", json_object_new_string(b));
		json_object_object_add(w, "segments", json_object_new_int64((int64_t) (last - first + 1)));
		json_object_object_add(w, "approximate", json_object_new_boolean(approx));
		json_object_object_add(w, "timeline", json_object_new_int64(v->timeline));
		json_object_object_add(root, "wal", w);
		if (s->target_param)
			json_object_object_add(settings, s->target_param, json_object_new_string(s->target_value));
		if (s->target_param)
			json_object_object_add(settings, "recovery_target_action", json_object_new_string(s->target_action));
		if (v->archive_off)
			json_object_object_add(settings, "archive_mode", json_object_new_string("off"));
		json_object_object_add(root, "recovery_settings", settings);
		out = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(root);
		if (out == NULL)
			pgb_error(err, EXIT_INTERNAL, "out of memory");
		return out;
	}
#undef OUT
	return membuf_take(&text, NULL, err);
fail:
	membuf_free(&text);
	return NULL;
}
