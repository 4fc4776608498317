/* hqrecorder's manifest, recording.json: what the recording holds (its
 * periods, and per period each track file and the composed file, with
 * offsets, durations and status), written atomically.  See
 * docs/hqrecorder.md for its fields.
 */
#include "gsthqrecorder.h"
#include "hqrecorder-private.h"

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>

#define GST_CAT_DEFAULT hq_recorder_debug

static const gchar *const status_names[] = { "recording", "completed",
  "interrupted", "failed" };

static gint64
ms (GstClockTime t)
{
  return GST_CLOCK_TIME_IS_VALID (t) ? (gint64)(t / GST_MSECOND) : 0;
}

static void
manifest_add_branch (JsonBuilder *b, Branch *br, Period *p)
{
  gboolean started = GST_CLOCK_TIME_IS_VALID (br->base_rt);
  GstClockTime offset = started && GST_CLOCK_TIME_IS_VALID (p->start_rt)
          && br->base_rt > p->start_rt
      ? br->base_rt - p->start_rt
      : 0;

  json_builder_begin_object (b);
  if (br->kind) {
    json_builder_set_member_name (b, "participant");
    json_builder_add_string_value (b, br->participant);
    json_builder_set_member_name (b, "track");
    json_builder_add_string_value (b, br->track);
    json_builder_set_member_name (b, "kind");
    json_builder_add_string_value (b, br->kind);
    json_builder_set_member_name (b, "codec");
    json_builder_add_string_value (b, br->codec);
  } else {
    json_builder_set_member_name (b, "video_codec");
    json_builder_add_string_value (b, br->codec);
    json_builder_set_member_name (b, "audio_codec");
    json_builder_add_string_value (b, br->audio_codec);
  }
  json_builder_set_member_name (b, "file");
  json_builder_add_string_value (b, br->file);
  json_builder_set_member_name (b, "offset_ms");
  json_builder_add_int_value (b, ms (offset));
  json_builder_set_member_name (b, "duration_ms");
  json_builder_add_int_value (b,
      started && br->end_rt > br->base_rt ? ms (br->end_rt - br->base_rt) : 0);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, status_names[br->status]);
  json_builder_end_object (b);
}

static gchar *
manifest_build (GstHqRecorder *self)
{
  JsonBuilder *b = json_builder_new ();
  JsonGenerator *gen = json_generator_new ();
  JsonNode *root;
  gchar *text;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "recordings");
  json_builder_begin_array (b);
  for (guint i = 0; i < self->periods->len; i++) {
    Period *p = g_ptr_array_index (self->periods, i);

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "index");
    json_builder_add_int_value (b, p->index);
    json_builder_set_member_name (b, "started_at");
    json_builder_add_string_value (b, p->started_at);
    json_builder_set_member_name (b, "start_running_time_ms");
    json_builder_add_int_value (b, ms (p->start_rt));
    json_builder_set_member_name (b, "active");
    json_builder_add_boolean_value (b, p->active);
    json_builder_set_member_name (b, "tracks");
    json_builder_begin_array (b);
    for (guint k = 0; k < p->branches->len; k++) {
      Branch *br = g_ptr_array_index (p->branches, k);

      if (br->kind)
        manifest_add_branch (b, br, p);
    }
    json_builder_end_array (b);
    if (p->composed) {
      json_builder_set_member_name (b, "composition");
      manifest_add_branch (b, p->composed, p);
    }
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  text = json_generator_to_data (gen, NULL);
  json_node_unref (root);
  g_object_unref (gen);
  g_object_unref (b);
  return text;
}

/* Writes recording.json atomically (temporary file, fsync, rename).  With
 * the lock held. */
gboolean
manifest_write (GstHqRecorder *self, GError **error)
{
  gchar *path = g_build_filename (self->location, MANIFEST, NULL);
  gchar *text = manifest_build (self);
  gboolean ok = g_file_set_contents_full (path, text, -1,
      G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0644,
      error);

  g_free (text);
  g_free (path);
  return ok;
}

/* manifest_write() from streaming threads: a failure is an element error,
 * posted once. */
void
manifest_update (GstHqRecorder *self)
{
  GError *err = NULL;

  if (manifest_write (self, &err) || self->manifest_failed) {
    g_clear_error (&err);
    return;
  }
  self->manifest_failed = TRUE;
  GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
      ("Could not write the recording manifest in \"%s\": %s", self->location,
          err->message),
      (NULL));
  g_error_free (err);
}
