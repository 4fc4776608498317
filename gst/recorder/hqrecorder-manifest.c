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

/* The manifest names codecs as RTP does, in capitals: "VP8", "H264",
 * "OPUS", "AAC". */
static void
add_codec (JsonBuilder *b, const gchar *member, const HqCodec *codec)
{
  g_autofree gchar *name = g_ascii_strup (hq_codec_name (codec), -1);

  json_builder_set_member_name (b, member);
  json_builder_add_string_value (b, name);
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
    add_codec (b, "codec", br->codec);
  } else {
    add_codec (b, "video_codec", br->codec);
    add_codec (b, "audio_codec", br->audio_codec);
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

/* Writes @text to @path atomically (temporary file, fsync, rename). */
static gboolean
write_file (const gchar *path, const gchar *text, GError **error)
{
  return g_file_set_contents_full (path, text, -1,
      G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0644,
      error);
}

/* Writes recording.json at once, on the calling thread (the state change
 * to READY, before any streaming).  With the lock held. */
gboolean
manifest_write (GstHqRecorder *self, GError **error)
{
  gchar *path = g_build_filename (self->location, MANIFEST, NULL);
  gchar *text = manifest_build (self);
  gboolean ok = write_file (path, text, error);

  GST_DEBUG_OBJECT (self, "wrote %s", path);
  g_free (text);
  g_free (path);
  return ok;
}

/* The writer thread: writes the newest snapshot, until told to quit with
 * nothing left to write.  A failure is an element error, posted once. */
static gpointer
writer_main (gpointer data)
{
  GstHqRecorder *self = data;
  ManifestWriter *w = &self->manifest;

  g_mutex_lock (&w->lock);
  for (;;) {
    gchar *path, *text;
    GError *err = NULL;
    gboolean ok, report;

    while (!w->text && !w->quit)
      g_cond_wait (&w->cond, &w->lock);
    if (!w->text)
      break;
    path = g_steal_pointer (&w->path);
    text = g_steal_pointer (&w->text);
    w->writing = TRUE;
    g_mutex_unlock (&w->lock);

    ok = write_file (path, text, &err);
    GST_DEBUG_OBJECT (self, "wrote %s", path);

    g_mutex_lock (&w->lock);
    report = !ok && !w->failed;
    w->failed |= !ok;
    g_mutex_unlock (&w->lock);
    /* posted without our lock: the bins above may take theirs */
    if (report) {
      gchar *dir = g_path_get_dirname (path);

      GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
          ("Could not write the recording manifest in \"%s\": %s", dir,
              err->message),
          (NULL));
      g_free (dir);
    }
    g_clear_error (&err);
    g_free (path);
    g_free (text);
    g_mutex_lock (&w->lock);
    w->writing = FALSE;
    g_cond_broadcast (&w->cond);
  }
  g_mutex_unlock (&w->lock);
  return NULL;
}

void
manifest_writer_init (GstHqRecorder *self)
{
  g_mutex_init (&self->manifest.lock);
  g_cond_init (&self->manifest.cond);
}

void
manifest_writer_clear (GstHqRecorder *self)
{
  manifest_writer_stop (self);
  g_free (self->manifest.path);
  g_free (self->manifest.text);
  g_mutex_clear (&self->manifest.lock);
  g_cond_clear (&self->manifest.cond);
}

/* Starts the writer thread (NULL -> READY). */
void
manifest_writer_start (GstHqRecorder *self)
{
  ManifestWriter *w = &self->manifest;

  g_mutex_lock (&w->lock);
  w->failed = FALSE;
  w->quit = FALSE;
  if (!w->thread)
    w->thread = g_thread_new ("hqrec-manifest", writer_main, self);
  g_mutex_unlock (&w->lock);
}

/* Returns when every snapshot taken so far is on disk (or failed). */
void
manifest_writer_flush (GstHqRecorder *self)
{
  ManifestWriter *w = &self->manifest;

  g_mutex_lock (&w->lock);
  while (w->thread && (w->text || w->writing))
    g_cond_wait (&w->cond, &w->lock);
  g_mutex_unlock (&w->lock);
}

/* Writes what is left and ends the writer thread (READY -> NULL). */
void
manifest_writer_stop (GstHqRecorder *self)
{
  ManifestWriter *w = &self->manifest;
  GThread *thread;

  g_mutex_lock (&w->lock);
  thread = g_steal_pointer (&w->thread);
  w->quit = TRUE;
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
  if (thread)
    g_thread_join (thread);
}

/* Takes a snapshot of the manifest for the writer thread, replacing one
 * it has not written yet (each is the whole manifest): streaming threads
 * call this, with the lock held, and never wait for the disk.  Without a
 * writer (the element below READY) the snapshot is written at once. */
void
manifest_update (GstHqRecorder *self)
{
  ManifestWriter *w = &self->manifest;
  gchar *path = g_build_filename (self->location, MANIFEST, NULL);
  gchar *text = manifest_build (self);

  g_mutex_lock (&w->lock);
  if (w->thread) {
    g_free (w->path);
    g_free (w->text);
    w->path = path;
    w->text = text;
    g_cond_broadcast (&w->cond);
    g_mutex_unlock (&w->lock);
    return;
  }
  g_mutex_unlock (&w->lock);
  if (!write_file (path, text, NULL))
    GST_WARNING_OBJECT (self, "could not write %s", path);
  g_free (path);
  g_free (text);
}
