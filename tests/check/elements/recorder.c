/* hqrecorder tests: real live pipelines write real files, which are then
 * judged as a user would, with gst-discoverer-1.0 (codec, duration) and by
 * decoding them (grid, A/V sync, how far a killed recording plays).
 *
 * Run as `check-recorder --child DIR` the binary records until killed:
 * the SIGKILL test starts it that way. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>
#include "../../common/avmarks.h"

#define DEADLINE (60 * G_USEC_PER_SEC)

static gchar *
make_dir (void)
{
  GError *err = NULL;
  gchar *dir = g_dir_make_tmp ("hqrecorder-XXXXXX", &err);

  g_assert_no_error (err);
  return dir;
}

static void
remove_dir (gchar *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  while (d && (name = g_dir_read_name (d))) {
    gchar *p = g_build_filename (dir, name, NULL);

    g_unlink (p);
    g_free (p);
  }
  if (d)
    g_dir_close (d);
  g_rmdir (dir);
  g_free (dir);
}

/* Runs @pipeline until EOS or error; returns the error (or NULL).  Bus
 * "application" messages named "at" call @at with their "n" field. */
typedef void (*AtFunc) (GstElement *pipeline, gint n, gpointer data);

static GError *
run (GstElement *pipeline, AtFunc at, gpointer data)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GError *err = NULL;
  gint64 deadline = g_get_monotonic_time () + DEADLINE;
  gboolean done = FALSE;

  if (gst_element_set_state (pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE) {
    /* the error message says why */
  }
  while (!done) {
    GstMessage *m = gst_bus_timed_pop (bus, 100 * GST_MSECOND);

    fail_unless (g_get_monotonic_time () < deadline, "pipeline timed out");
    if (!m)
      continue;
    switch (GST_MESSAGE_TYPE (m)) {
      case GST_MESSAGE_EOS:
        done = TRUE;
        break;
      case GST_MESSAGE_ERROR:
        gst_message_parse_error (m, &err, NULL);
        done = TRUE;
        break;
      case GST_MESSAGE_APPLICATION: {
        const GstStructure *s = gst_message_get_structure (m);
        gint n = 0;

        if (at && gst_structure_has_name (s, "at")
            && gst_structure_get_int (s, "n", &n))
          at (pipeline, n, data);
        break;
      }
      default:
        break;
    }
    gst_message_unref (m);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  return err;
}

/* Posts an "at" message with n = the second, once, when a buffer at or
 * past each of @marks (seconds of running time) passes @pad. */
typedef struct
{
  GstElement *pipeline;
  gdouble marks[4];
  guint n_marks, next;
} Marks;

static GstPadProbeReturn
marks_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Marks *m = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

  while (m->next < m->n_marks && GST_BUFFER_PTS_IS_VALID (buf)
      && GST_BUFFER_PTS (buf) >= m->marks[m->next] * GST_SECOND) {
    gst_element_post_message (m->pipeline,
        gst_message_new_application (NULL,
            gst_structure_new ("at", "n", G_TYPE_INT, (gint)m->next, NULL)));
    m->next++;
  }
  return GST_PAD_PROBE_OK;
}

static void
add_marks (GstElement *pipeline, const gchar *element, Marks *m)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (pipeline), element);
  GstPad *pad = gst_element_get_static_pad (e, "src");

  m->pipeline = pipeline;
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, marks_probe, m, NULL);
  gst_object_unref (pad);
  gst_object_unref (e);
}

/* What gst-discoverer-1.0 says of a file. */
typedef struct
{
  gboolean ok;
  gdouble duration;
  gchar *text;
} Discovered;

static Discovered
discover (const gchar *path)
{
  gchar *argv[] = { (gchar *)"gst-discoverer-1.0", (gchar *)path, NULL };
  gchar *out = NULL, *line;
  gint status = -1;
  Discovered d = { FALSE, -1, NULL };
  guint h, m;
  gdouble s;

  g_spawn_sync (NULL, argv, NULL,
      G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL,
      &status, NULL);
  d.text = out ? out : g_strdup ("");
  d.ok = status == 0 && strstr (d.text, "Done discovering")
      && !strstr (d.text, "error") && !strstr (d.text, "Error");
  line = strstr (d.text, "Duration: ");
  if (line && sscanf (line, "Duration: %u:%u:%lf", &h, &m, &s) == 3)
    d.duration = h * 3600.0 + m * 60.0 + s;
  return d;
}

static JsonNode *
read_manifest (const gchar *dir)
{
  gchar *path = g_build_filename (dir, "recording.json", NULL);
  JsonParser *p = json_parser_new ();
  GError *err = NULL;
  JsonNode *root;

  json_parser_load_from_file (p, path, &err);
  g_assert_no_error (err);
  root = json_node_copy (json_parser_get_root (p));
  g_object_unref (p);
  g_free (path);
  return root;
}

static JsonObject *
find_track (
    JsonNode *root, guint rec, const gchar *participant, const gchar *kind)
{
  JsonArray *recs =
      json_object_get_array_member (json_node_get_object (root), "recordings");
  JsonArray *tracks;

  fail_unless (rec < json_array_get_length (recs));
  tracks = json_object_get_array_member (
      json_array_get_object_element (recs, rec), "tracks");
  for (guint i = 0; i < json_array_get_length (tracks); i++) {
    JsonObject *t = json_array_get_object_element (tracks, i);

    if (!g_strcmp0 (
            json_object_get_string_member (t, "participant"), participant)
        && !g_strcmp0 (json_object_get_string_member (t, "kind"), kind))
      return t;
  }
  fail ("no %s track of %s in recording %u", kind, participant, rec);
  return NULL;
}

/* Checks the manifest in @dir gives @participant's @kind track of
 * recording @rec the status @status. */
static void
check_status (const gchar *dir, guint rec, const gchar *participant,
    const gchar *kind, const gchar *status)
{
  JsonNode *root = read_manifest (dir);

  fail_unless_equals_string (
      json_object_get_string_member (
          find_track (root, rec, participant, kind), "status"),
      status);
  json_node_unref (root);
}

/* Checks one track file: plays in gst-discoverer-1.0 with @codec and a
 * duration within 100 ms of @duration (the manifest's when negative), as
 * the manifest says too; returns the manifest's offset. */
static gdouble
check_track (const gchar *dir, JsonNode *root, guint rec,
    const gchar *participant, const gchar *kind, const gchar *codec,
    gdouble duration)
{
  JsonObject *t = find_track (root, rec, participant, kind);
  gchar *path =
      g_build_filename (dir, json_object_get_string_member (t, "file"), NULL);
  Discovered d = discover (path);

  if (duration < 0)
    duration = json_object_get_int_member (t, "duration_ms") / 1000.0;

  GST_INFO ("%s: %.3f s, offset %" G_GINT64_FORMAT " ms", path, d.duration,
      json_object_get_int_member (t, "offset_ms"));
  fail_unless (d.ok, "%s does not play:\n%s", path, d.text);
  fail_unless (
      strstr (d.text, codec) != NULL, "%s is not %s:\n%s", path, codec, d.text);
  fail_unless (fabs (d.duration - duration) <= 0.1,
      "%s lasts %.3f s, expected %.3f s", path, d.duration, duration);
  fail_unless (
      fabs (json_object_get_int_member (t, "duration_ms") / 1000.0 - duration)
          <= 0.1,
      "manifest: %s lasts %" G_GINT64_FORMAT " ms", path,
      json_object_get_int_member (t, "duration_ms"));
  fail_unless_equals_string (
      json_object_get_string_member (t, "status"), "completed");
  g_free (d.text);
  g_free (path);
  return json_object_get_int_member (t, "offset_ms") / 1000.0;
}

static GstElement *parse (const gchar *desc, ...) G_GNUC_PRINTF (1, 2);

static GstElement *
parse (const gchar *desc, ...)
{
  GError *err = NULL;
  va_list ap;
  gchar *full;

  va_start (ap, desc);
  full = g_strdup_vprintf (desc, ap);
  va_end (ap);
  GstElement *p = gst_parse_launch (full, &err);

  g_assert_no_error (err);
  g_free (full);
  return p;
}

/* When each source's first buffer was stamped (running time, seconds):
 * the truth a track's offset is checked against. */
static GHashTable *first_pts;

static GstPadProbeReturn
first_pts_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  gdouble *t = g_new (gdouble, 1);

  *t = GST_BUFFER_PTS (buf) / (gdouble)GST_SECOND;
  g_hash_table_insert (first_pts, g_strdup (user_data), t);
  return GST_PAD_PROBE_REMOVE;
}

static void
watch_first (GstElement *bin, const gchar *name)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (bin), name);
  GstPad *pad = gst_element_get_static_pad (e, "src");

  gst_pad_add_probe (
      pad, GST_PAD_PROBE_TYPE_BUFFER, first_pts_probe, g_strdup (name), g_free);
  gst_object_unref (pad);
  gst_object_unref (e);
}

static gdouble
first_of (const gchar *source)
{
  gdouble *first = g_hash_table_lookup (first_pts, source);

  fail_unless (first != NULL, "no buffer from %s", source);
  return *first;
}

/* The manifest's offset of a track against the truth: its source's first
 * buffer, minus the recording's start (its start_running_time_ms). */
static void
check_offset (JsonNode *root, gdouble offset, const gchar *source)
{
  JsonObject *rec = json_array_get_object_element (
      json_object_get_array_member (json_node_get_object (root), "recordings"),
      0);
  gdouble start =
      json_object_get_int_member (rec, "start_running_time_ms") / 1000.0;
  gdouble first = first_of (source);

  GST_INFO ("%s: offset %.3f s, first buffer at %.3f s, recording from "
            "%.3f s",
      source, offset, first, start);
  fail_unless (fabs (offset - (first - start)) <= 0.1,
      "%s: offset %.3f s, but its first buffer came %.3f s after the start",
      source, offset, first - start);
}

/* ---- tracks mode, a participant joining 3 s late ---- */

typedef struct
{
  GstElement *rec;
  GstElement *bob;
} LateJoin;

static void
link_to_recorder (GstElement *bin, const gchar *from, GstElement *rec,
    const gchar *templ, const gchar *participant)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (bin), from);
  GstPad *src = gst_element_get_static_pad (e, "src");
  GstPad *ghost = gst_ghost_pad_new (NULL, src);
  GstPad *sink = gst_element_request_pad_simple (rec, templ);

  g_object_set (sink, "participant", participant, NULL);
  gst_pad_set_active (ghost, TRUE);
  gst_element_add_pad (bin, ghost);
  fail_unless_equals_int (gst_pad_link (ghost, sink), GST_PAD_LINK_OK);
  gst_object_unref (sink);
  gst_object_unref (src);
  gst_object_unref (e);
}

/* bob's sources start now, stamped in the pipeline's running time, and
 * publish already-encoded VP8 and Opus (as a room would). */
static void
join_bob (GstElement *pipeline, gint n, gpointer data)
{
  LateJoin *lj = data;
  GError *err = NULL;
  GstClockTime now = gst_element_get_current_running_time (pipeline);
  GstElement *vsrc, *asrc;

  lj->bob = gst_parse_bin_from_description (
      "videotestsrc name=bv "
      "is-live=true num-buffers=60 pattern=ball ! "
      "video/x-raw,width=160,height=120,framerate=30/1 ! "
      "vp8enc deadline=1 lag-in-frames=0 ! queue name=bvq "
      "audiotestsrc name=ba is-live=true num-buffers=100 "
      "samplesperbuffer=960 ! opusenc ! queue name=baq",
      FALSE, &err);
  g_assert_no_error (err);
  vsrc = gst_bin_get_by_name (GST_BIN (lj->bob), "bv");
  asrc = gst_bin_get_by_name (GST_BIN (lj->bob), "ba");
  g_object_set (vsrc, "timestamp-offset", (gint64)now, NULL);
  g_object_set (asrc, "timestamp-offset", (gint64)now, NULL);
  gst_object_unref (vsrc);
  gst_object_unref (asrc);
  watch_first (lj->bob, "bv");
  watch_first (lj->bob, "ba");
  gst_bin_add (GST_BIN (pipeline), lj->bob);
  link_to_recorder (lj->bob, "bvq", lj->rec, "video_%u", "bob");
  link_to_recorder (lj->bob, "baq", lj->rec, "audio_%u", "bob");
  gst_element_sync_state_with_parent (lj->bob);
}

GST_START_TEST (test_tracks_late_join)
{
  gchar *dir = make_dir ();
  GstElement *pipeline =
      parse ("hqrecorder name=r location=%s mode=tracks "
             "video_0::participant=alice audio_0::participant=alice "
             "videotestsrc name=av is-live=true num-buffers=150 ! "
             "video/x-raw,width=160,height=120,framerate=30/1 ! r.video_0 "
             "audiotestsrc name=aa is-live=true num-buffers=250 "
             "samplesperbuffer=960 ! r.audio_0",
          dir);
  Marks marks = { .marks = { 3.0 }, .n_marks = 1 };
  LateJoin lj = { NULL, NULL };
  GError *err;
  JsonNode *root;
  gdouble offset, alice;

  lj.rec = gst_bin_get_by_name (GST_BIN (pipeline), "r");
  first_pts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  watch_first (pipeline, "av");
  watch_first (pipeline, "aa");
  add_marks (pipeline, "av", &marks);
  err = run (pipeline, join_bob, &lj);
  g_assert_no_error (err);
  root = read_manifest (dir);
  offset = check_track (dir, root, 0, "alice", "video", "VP8", 5.0);
  check_offset (root, offset, "av");
  alice = offset;
  offset = check_track (dir, root, 0, "alice", "audio", "Opus", 5.0);
  check_offset (root, offset, "aa");
  alice = MIN (alice, offset);
  offset = check_track (dir, root, 0, "bob", "video", "VP8", 2.0);
  check_offset (root, offset, "bv");
  fail_unless (
      offset - alice >= 2.9, "bob's video %.3f s after alice", offset - alice);
  offset = check_track (dir, root, 0, "bob", "audio", "Opus", 2.0);
  check_offset (root, offset, "ba");
  fail_unless (
      offset - alice >= 2.9, "bob's audio %.3f s after alice", offset - alice);
  g_hash_table_unref (first_pts);
  json_node_unref (root);
  gst_object_unref (lj.rec);
  gst_object_unref (pipeline);
  remove_dir (dir);
}

GST_END_TEST;

/* ---- composed mode: grid and A/V sync ---- */

/* alice's video turns white and her audio beeps at 1.5 s, for 0.2 s */
static const HqAvMarks flash = { .first = 1.5, .length = 0.2 };

/* Decodes @path to RGB frames and S16 mono samples. */
typedef struct
{
  GPtrArray *frames; /* of GstSample */
  GPtrArray *audio; /* of GstSample */
} Decoded;

/* decodebin's pads go to the converter of their kind. */
static void
on_pad (GstElement *dec, GstPad *pad, gpointer data)
{
  GstElement *pipeline = data;
  GstCaps *caps = gst_pad_get_current_caps (pad);
  gboolean video = caps
      && g_str_has_prefix (
          gst_structure_get_name (gst_caps_get_structure (caps, 0)), "video");
  GstElement *conv =
      gst_bin_get_by_name (GST_BIN (pipeline), video ? "vconv" : "aconv");
  GstPad *in = conv ? gst_element_get_static_pad (conv, "sink") : NULL;

  if (in && !gst_pad_is_linked (in))
    gst_pad_link (pad, in);
  gst_clear_object (&in);
  gst_clear_object (&conv);
  gst_clear_caps (&caps);
}

/* Decodes @path; a .mka has audio only, a .mkv video only. */
static Decoded
decode (const gchar *path)
{
  GError *err = NULL;
  gboolean video = !g_str_has_suffix (path, ".mka");
  gboolean audio = !g_str_has_suffix (path, ".mkv");
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! decodebin name=d "
                                 "%s %s",
      path,
      video ? "videoconvert name=vconv ! "
              "video/x-raw,format=RGB ! appsink name=vsink sync=false"
            : "",
      audio ? "audioconvert name=aconv ! audioresample ! "
              "audio/x-raw,format=S16LE,channels=1,rate=48000 ! appsink "
              "name=asink "
              "sync=false"
            : "");
  GstElement *pipeline = gst_parse_launch (desc, &err);
  GstElement *d, *vsink, *asink;
  GstBus *bus;
  Decoded out = { g_ptr_array_new_with_free_func (
                      (GDestroyNotify)gst_sample_unref),
    g_ptr_array_new_with_free_func ((GDestroyNotify)gst_sample_unref) };
  gint64 deadline = g_get_monotonic_time () + DEADLINE;

  g_assert_no_error (err);
  d = gst_bin_get_by_name (GST_BIN (pipeline), "d");
  g_signal_connect (d, "pad-added", G_CALLBACK (on_pad), pipeline);
  vsink = gst_bin_get_by_name (GST_BIN (pipeline), "vsink");
  asink = gst_bin_get_by_name (GST_BIN (pipeline), "asink");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  bus = gst_element_get_bus (pipeline);
  for (gboolean veos = !video, aeos = !audio; !veos || !aeos;) {
    GstSample *s;
    GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);

    fail_unless (
        g_get_monotonic_time () < deadline, "decoding %s timed out", path);
    if (m) {
      /* what was decoded up to the error counts (a killed file may end in
       * half a block) */
      GST_INFO ("decoding %s: %" GST_PTR_FORMAT, path, m);
      gst_message_unref (m);
      break;
    }
    if (!veos) {
      s = gst_app_sink_try_pull_sample (GST_APP_SINK (vsink), GST_MSECOND);
      if (s)
        g_ptr_array_add (out.frames, s);
      else
        veos = gst_app_sink_is_eos (GST_APP_SINK (vsink));
    }
    if (!aeos) {
      s = gst_app_sink_try_pull_sample (GST_APP_SINK (asink), GST_MSECOND);
      if (s)
        g_ptr_array_add (out.audio, s);
      else
        aeos = gst_app_sink_is_eos (GST_APP_SINK (asink));
    }
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_clear_object (&vsink);
  gst_clear_object (&asink);
  gst_object_unref (d);
  gst_object_unref (pipeline);
  g_free (desc);
  return out;
}

static void
pixel (GstSample *s, gint x, gint y, guint8 rgb[3])
{
  GstVideoInfo info;
  GstVideoFrame f;

  gst_video_info_from_caps (&info, gst_sample_get_caps (s));
  gst_video_frame_map (&f, &info, gst_sample_get_buffer (s), GST_MAP_READ);
  memcpy (rgb,
      (guint8 *)GST_VIDEO_FRAME_PLANE_DATA (&f, 0)
          + y * GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0) + 3 * x,
      3);
  gst_video_frame_unmap (&f);
}

static gdouble
pts (GstSample *s)
{
  return GST_BUFFER_PTS (gst_sample_get_buffer (s)) / (gdouble)GST_SECOND;
}

GST_START_TEST (test_composed_grid_sync)
{
  gchar *dir = make_dir ();
  GstElement *pipeline = parse (
      "hqrecorder name=r location=%s mode=composed "
      "resolution=320x180 "
      "video_0::participant=alice audio_0::participant=alice "
      "video_1::participant=bob "
      "videotestsrc name=av is-live=true num-buffers=75 pattern=red ! "
      "video/x-raw,format=RGBx,width=160,height=90,framerate=30/1 ! r.video_0 "
      "audiotestsrc name=aa is-live=true num-buffers=125 wave=silence "
      "samplesperbuffer=960 ! audio/x-raw,format=S16LE,channels=1,rate=48000 "
      "! r.audio_0 "
      "videotestsrc name=bv is-live=true num-buffers=75 pattern=blue ! "
      "video/x-raw,width=160,height=90,framerate=30/1 ! vp8enc deadline=1 ! "
      "r.video_1",
      dir);
  gchar *path = g_build_filename (dir, "rec001-composed.webm", NULL);
  GError *err;
  Discovered disc;
  Decoded dec;
  gdouble t_video = -1, t_audio = -1;
  guint8 left[3], right[3];

  first_pts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  watch_first (pipeline, "av");
  watch_first (pipeline, "aa");
  watch_first (pipeline, "bv");
  hq_av_marks_flash (pipeline, "av", &flash, 0, 0xff);
  hq_av_marks_beep (pipeline, "aa", &flash, 48000);
  err = run (pipeline, NULL, NULL);
  g_assert_no_error (err);
  disc = discover (path);
  fail_unless (disc.ok, "%s does not play:\n%s", path, disc.text);
  fail_unless (
      strstr (disc.text, "VP8") && strstr (disc.text, "Opus"), "%s", disc.text);
  /* every source sends 2.5 s; the file spans from the first to start to the
   * last to end (apart by how late a loaded machine starts each) */
  {
    gdouble first =
        MIN (first_of ("av"), MIN (first_of ("aa"), first_of ("bv")));
    gdouble last =
        MAX (first_of ("av"), MAX (first_of ("aa"), first_of ("bv")));

    fail_unless (fabs (disc.duration - (last + 2.5 - first)) <= 0.1,
        "lasts %.3f s, sources sent from %.3f s to %.3f s", disc.duration,
        first, last + 2.5);
  }
  g_hash_table_unref (first_pts);
  dec = decode (path);
  fail_unless (dec.frames->len >= 60, "%u frames", dec.frames->len);
  /* The grid: alice (red) on the left, bob (blue) on the right. */
  for (guint i = 0; i < dec.frames->len; i++) {
    GstSample *s = g_ptr_array_index (dec.frames, i);

    if (pts (s) < 1.0)
      continue;
    pixel (s, 80, 90, left);
    pixel (s, 240, 90, right);
    GST_INFO ("at %.3f s left %u,%u,%u right %u,%u,%u", pts (s), left[0],
        left[1], left[2], right[0], right[1], right[2]);
    fail_unless (left[0] > 180 && left[1] < 80 && left[2] < 80,
        "left cell is not alice's red: %u,%u,%u", left[0], left[1], left[2]);
    fail_unless (right[2] > 180 && right[0] < 80 && right[1] < 80,
        "right cell is not bob's blue: %u,%u,%u", right[0], right[1], right[2]);
    break;
  }
  for (guint i = 0; i < dec.frames->len && t_video < 0; i++) {
    GstSample *s = g_ptr_array_index (dec.frames, i);

    pixel (s, 80, 90, left);
    if (left[0] > 200 && left[1] > 200 && left[2] > 200)
      t_video = pts (s);
  }
  for (guint i = 0; i < dec.audio->len && t_audio < 0; i++) {
    GstSample *s = g_ptr_array_index (dec.audio, i);
    GstMapInfo map;
    const gint16 *x;

    gst_buffer_map (gst_sample_get_buffer (s), &map, GST_MAP_READ);
    x = (const gint16 *)map.data;
    for (gsize k = 0; k < map.size / 2; k++)
      if (ABS (x[k]) > 4000) {
        t_audio = pts (s) + k / 48000.0;
        break;
      }
    gst_buffer_unmap (gst_sample_get_buffer (s), &map);
  }
  GST_INFO ("flash at %.3f s, beep at %.3f s", t_video, t_audio);
  fail_unless (t_video > 0 && t_audio > 0, "flash %.3f s, beep %.3f s", t_video,
      t_audio);
  fail_unless (fabs (t_video - t_audio) <= 0.040,
      "audio and video %.0f ms apart (flash %.3f s, beep %.3f s)",
      1000 * fabs (t_video - t_audio), t_video, t_audio);
  g_ptr_array_unref (dec.frames);
  g_ptr_array_unref (dec.audio);
  g_free (disc.text);
  g_free (path);
  gst_object_unref (pipeline);
  remove_dir (dir);
}

GST_END_TEST;

/* ---- MP4 and H.264: the codec table's other paths ---- */

/* The manifest's entry of the composed file of recording @rec. */
static JsonObject *
find_composed (JsonNode *root, guint rec)
{
  JsonObject *r = json_array_get_object_element (
      json_object_get_array_member (json_node_get_object (root), "recordings"),
      rec);

  fail_unless (json_object_has_member (r, "composition"),
      "no composed file in recording %u", rec);
  return json_object_get_object_member (r, "composition");
}

/* Raw input (alice) and H.264 input (bob) into mode=both format=mp4: the
 * H.264 track file as it came (through the parser), raw video encoded to
 * VP8, and a composed MP4 of H.264 and AAC (an AAC encoder is installed
 * here) whose grid shows bob's H.264, decoded for the mix. */
GST_START_TEST (test_mp4_h264)
{
  gchar *dir = make_dir ();
  GstElement *pipeline =
      parse ("hqrecorder name=r location=%s mode=both format=mp4 "
             "resolution=320x180 "
             "video_0::participant=alice audio_0::participant=alice "
             "video_1::participant=bob "
             "videotestsrc is-live=true num-buffers=75 pattern=red ! "
             "video/x-raw,width=160,height=90,framerate=30/1 ! r.video_0 "
             "audiotestsrc is-live=true num-buffers=125 samplesperbuffer=960 ! "
             "audio/x-raw,rate=48000 ! r.audio_0 "
             "videotestsrc is-live=true num-buffers=75 pattern=blue ! "
             "video/x-raw,width=160,height=90,framerate=30/1 ! "
             "x264enc tune=zerolatency key-int-max=15 ! r.video_1",
          dir);
  gchar *path = g_build_filename (dir, "rec001-composed.mp4", NULL);
  GError *err = run (pipeline, NULL, NULL);
  JsonNode *root;
  JsonObject *composed;
  Discovered disc;
  Decoded dec;
  gboolean seen = FALSE;
  guint8 left[3] = { 0 }, right[3] = { 0 };

  g_assert_no_error (err);
  root = read_manifest (dir);
  check_track (dir, root, 0, "alice", "video", "VP8", 2.5);
  check_track (dir, root, 0, "alice", "audio", "Opus", 2.5);
  check_track (dir, root, 0, "bob", "video", "H.264", 2.5);
  fail_unless_equals_string (json_object_get_string_member (
                                 find_track (root, 0, "bob", "video"), "codec"),
      "H264");
  composed = find_composed (root, 0);
  fail_unless_equals_string (
      json_object_get_string_member (composed, "video_codec"), "H264");
  fail_unless_equals_string (
      json_object_get_string_member (composed, "audio_codec"), "AAC");
  json_node_unref (root);
  disc = discover (path);
  fail_unless (disc.ok, "%s does not play:\n%s", path, disc.text);
  fail_unless (strstr (disc.text, "H.264") && strstr (disc.text, "AAC"), "%s",
      disc.text);
  g_free (disc.text);
  /* some frame shows both (a loaded machine may start bob's late, and
   * the live compositor does not wait for him) */
  dec = decode (path);
  for (guint i = 0; i < dec.frames->len && !seen; i++) {
    GstSample *s = g_ptr_array_index (dec.frames, i);

    pixel (s, 80, 90, left);
    pixel (s, 240, 90, right);
    seen = left[0] > 180 && left[1] < 80 && left[2] < 80 && right[2] > 180
        && right[0] < 80 && right[1] < 80;
  }
  fail_unless (seen,
      "no frame of %s shows alice's red left and bob's blue right (%u "
      "frames; the last: left %u,%u,%u right %u,%u,%u)",
      path, dec.frames->len, left[0], left[1], left[2], right[0], right[1],
      right[2]);
  fail_unless (dec.audio->len > 0, "no audio in %s", path);
  g_ptr_array_unref (dec.frames);
  g_ptr_array_unref (dec.audio);
  gst_object_unref (pipeline);
  g_free (path);
  remove_dir (dir);
}

GST_END_TEST;

/* ---- crash safety: SIGKILL 6 s into a 10 s recording ---- */

/* The child: records alice in both modes for 10 s; prints "6" on stdout
 * when 6 s of media have reached the recorder. */
static int
child_main (const gchar *dir)
{
  GstElement *pipeline =
      parse ("hqrecorder name=r location=%s mode=both "
             "resolution=320x180 "
             "video_0::participant=alice audio_0::participant=alice "
             "videotestsrc name=av is-live=true num-buffers=300 ! "
             "video/x-raw,width=160,height=120,framerate=30/1 ! r.video_0 "
             "audiotestsrc is-live=true num-buffers=500 samplesperbuffer=960 ! "
             "r.audio_0",
          dir);
  Marks marks = { .marks = { 6.0 }, .n_marks = 1 };
  GstBus *bus = gst_element_get_bus (pipeline);

  add_marks (pipeline, "av", &marks);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  for (;;) {
    GstMessage *m = gst_bus_timed_pop (bus, GST_CLOCK_TIME_NONE);

    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_APPLICATION) {
      printf ("6\n");
      fflush (stdout);
    } else if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS
        || GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
      return 1; /* should have been killed before */
    }
    gst_message_unref (m);
  }
}

/* How long a file plays: the end of its last decoded buffer. */
static gdouble
played (const gchar *path)
{
  Decoded dec = decode (path);
  gdouble end = 0;

  for (guint i = 0; i < dec.frames->len; i++)
    end = MAX (end, pts (g_ptr_array_index (dec.frames, i)));
  for (guint i = 0; i < dec.audio->len; i++)
    end = MAX (end, pts (g_ptr_array_index (dec.audio, i)));
  g_ptr_array_unref (dec.frames);
  g_ptr_array_unref (dec.audio);
  return end;
}

static gchar *self_path;

GST_START_TEST (test_sigkill)
{
  gchar *dir = make_dir ();
  gchar *argv[] = { self_path, (gchar *)"--child", dir, NULL };
  GPid pid;
  gint out;
  GError *err = NULL;
  gchar buf[8] = { 0 };
  GDir *d;
  const gchar *name;
  guint n_files = 0;
  int status = 0;

  GST_INFO ("starting the recording child");
  g_spawn_async_with_pipes (NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
      NULL, &pid, NULL, &out, NULL, &err);
  g_assert_no_error (err);
  /* blocks until the child has 6 s of media in (or dies) */
  fail_unless (read (out, buf, 2) == 2 && buf[0] == '6',
      "the recording child did not reach 6 s");
  GST_INFO ("killing the recording child %d", (int)pid);
  fail_unless (kill (pid, SIGKILL) == 0);
  fail_unless (waitpid (pid, &status, 0) == pid);
  fail_unless (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL,
      "the recording child was not killed (status %d)", status);
  g_spawn_close_pid (pid);
  close (out);
  d = g_dir_open (dir, 0, NULL);
  while ((name = g_dir_read_name (d))) {
    gchar *path = g_build_filename (dir, name, NULL);
    Discovered disc;
    gdouble end;

    if (!g_str_has_suffix (name, ".mkv") && !g_str_has_suffix (name, ".mka")
        && !g_str_has_suffix (name, ".webm")) {
      g_free (path);
      continue;
    }
    n_files++;
    disc = discover (path);
    fail_unless (
        disc.ok, "%s does not play after SIGKILL:\n%s", path, disc.text);
    end = played (path);
    GST_INFO (
        "%s: plays %.3f s (discoverer: %.3f s)", name, end, disc.duration);
    fail_unless (end >= 4.0, "%s plays only %.3f s", path, end);
    g_free (disc.text);
    g_free (path);
  }
  g_dir_close (d);
  fail_unless_equals_int (n_files, 3);
  {
    JsonNode *root = read_manifest (dir);
    JsonObject *t = find_track (root, 0, "alice", "video");

    fail_unless (json_object_get_int_member (t, "duration_ms") >= 4000);
    json_node_unref (root);
  }
  remove_dir (dir);
}

GST_END_TEST;

/* ---- the manifest is written off the streaming threads ---- */

/* Which threads are streaming (between a task's stream-status enter and
 * leave), and on which threads the recorder wrote recording.json (its
 * "wrote" debug line). */
typedef struct
{
  GMutex lock;
  GHashTable *streaming; /* GThread * */
  guint writes, streaming_writes;
} WriteThreads;

static WriteThreads write_threads;

static GstBusSyncReply
on_stream_status (GstBus *bus, GstMessage *m, gpointer data)
{
  GstStreamStatusType type;
  GstElement *owner;

  if (GST_MESSAGE_TYPE (m) != GST_MESSAGE_STREAM_STATUS)
    return GST_BUS_PASS;
  /* posted by the streaming thread itself as it enters and leaves */
  gst_message_parse_stream_status (m, &type, &owner);
  g_mutex_lock (&write_threads.lock);
  if (type == GST_STREAM_STATUS_TYPE_ENTER)
    g_hash_table_add (write_threads.streaming, g_thread_self ());
  else if (type == GST_STREAM_STATUS_TYPE_LEAVE)
    g_hash_table_remove (write_threads.streaming, g_thread_self ());
  g_mutex_unlock (&write_threads.lock);
  return GST_BUS_PASS;
}

static void
on_log (GstDebugCategory *category, GstDebugLevel level, const gchar *file,
    const gchar *function, gint line, GObject *object, GstDebugMessage *message,
    gpointer data)
{
  const gchar *text = gst_debug_message_get (message);

  if (strcmp (gst_debug_category_get_name (category), "hqrecorder") != 0
      || !g_str_has_prefix (text, "wrote ")
      || !g_str_has_suffix (text, "recording.json"))
    return;
  g_mutex_lock (&write_threads.lock);
  write_threads.writes++;
  if (g_hash_table_contains (write_threads.streaming, g_thread_self ()))
    write_threads.streaming_writes++;
  g_mutex_unlock (&write_threads.lock);
}

GST_START_TEST (test_manifest_thread)
{
  gchar *dir = make_dir ();
  GstElement *pipeline;
  GstBus *bus;
  GError *err;

  g_mutex_init (&write_threads.lock);
  write_threads.streaming = g_hash_table_new (NULL, NULL);
  gst_debug_set_threshold_for_name ("hqrecorder", GST_LEVEL_DEBUG);
  gst_debug_add_log_function (on_log, NULL, NULL);
  /* 3 s of media: a manifest per track start, per second and per end */
  pipeline =
      parse ("hqrecorder name=r location=%s mode=both resolution=320x180 "
             "video_0::participant=alice audio_0::participant=alice "
             "videotestsrc is-live=true num-buffers=90 ! "
             "video/x-raw,width=160,height=120,framerate=30/1 ! r.video_0 "
             "audiotestsrc is-live=true num-buffers=150 samplesperbuffer=960 ! "
             "r.audio_0",
          dir);
  bus = gst_element_get_bus (pipeline);
  gst_bus_set_sync_handler (bus, on_stream_status, NULL, NULL);
  err = run (pipeline, NULL, NULL);
  fail_unless (err == NULL, "%s", err ? err->message : "");
  gst_debug_remove_log_function (on_log);
  gst_debug_set_threshold_for_name ("hqrecorder", GST_LEVEL_NONE);
  GST_INFO ("recording.json written %u times, %u on streaming threads",
      write_threads.writes, write_threads.streaming_writes);
  /* the manifest is still written as often, and complete at the end */
  fail_unless (write_threads.writes >= 6, "recording.json written %u times",
      write_threads.writes);
  fail_unless_equals_int (write_threads.streaming_writes, 0);
  check_status (dir, 0, "alice", "video", "completed");
  check_status (dir, 0, "alice", "audio", "completed");
  gst_bus_set_sync_handler (bus, NULL, NULL, NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  g_hash_table_unref (write_threads.streaming);
  g_mutex_clear (&write_threads.lock);
  remove_dir (dir);
}

GST_END_TEST;

/* ---- an unwritable location ---- */

GST_START_TEST (test_unwritable)
{
  gchar *dir = make_dir ();
  gchar *file = g_build_filename (dir, "a-file", NULL);
  gchar *location = g_build_filename (file, "recordings", NULL);
  GstElement *pipeline;
  GError *err;

  g_file_set_contents (file, "", 0, NULL);
  pipeline = parse ("hqrecorder name=r location=%s "
                    "videotestsrc is-live=true num-buffers=30 ! r.video_0",
      location);
  err = run (pipeline, NULL, NULL);
  fail_unless (err != NULL, "no error for %s", location);
  GST_INFO ("error: %s", err->message);
  fail_unless (strstr (err->message, location) != NULL,
      "error does not name %s: %s", location, err->message);
  fail_unless (strstr (err->message, g_strerror (ENOTDIR)) != NULL,
      "error does not say why: %s", err->message);
  g_error_free (err);
  gst_object_unref (pipeline);
  g_unlink (file);
  g_free (file);
  g_free (location);
  remove_dir (dir);
}

GST_END_TEST;

/* ---- a full disk ---- */

GST_START_TEST (test_disk_full)
{
  gchar *dir = make_dir ();
  gchar *full = g_build_filename (dir, "rec001-alice-audio.mka", NULL);
  GstElement *pipeline;
  GError *err;

  /* alice's audio file is /dev/full: writes fail with ENOSPC */
  fail_unless (symlink ("/dev/full", full) == 0);
  pipeline =
      parse ("hqrecorder name=r location=%s "
             "video_0::participant=alice audio_0::participant=alice "
             "videotestsrc is-live=true num-buffers=60 ! "
             "video/x-raw,width=160,height=120,framerate=30/1 ! r.video_0 "
             "audiotestsrc is-live=true num-buffers=100 samplesperbuffer=960 ! "
             "r.audio_0",
          dir);
  err = run (pipeline, NULL, NULL);
  fail_unless (err != NULL);
  GST_INFO ("error: %s", err->message);
  fail_unless (strstr (err->message, full) != NULL,
      "error does not name %s: %s", full, err->message);
  fail_unless (strstr (err->message, g_strerror (ENOSPC)) != NULL,
      "error does not say why: %s", err->message);
  g_error_free (err);
  check_status (dir, 0, "alice", "audio", "failed");
  gst_object_unref (pipeline);
  g_unlink (full);
  g_free (full);
  remove_dir (dir);
}

GST_END_TEST;

/* ---- the pipeline stops just as a branch is added ---- */

/* The ordering that made a track's tee push a buffer into a new branch
 * before its stream-start (GStreamer's "Got data flow before stream-start
 * event" warning, fatal under the tests' G_DEBUG=fatal-warnings; seen in
 * recorder-disk-full, whose error stops the pipeline at the first
 * buffers): the recorder adds a branch on the track's streaming thread
 * while another thread stops the pipeline, and the tee has already taken
 * its sink pad out of push mode when the branch asks it for a pad.  The
 * test holds the streaming thread at the first element the recorder adds
 * while playing until the stopping thread has deactivated the tee's sink
 * pad (it then waits for that streaming thread). */
typedef struct
{
  GMutex lock;
  GCond cond;
  GstElement *pipeline;
  GstPadActivateModeFunction tee_activate;
  gboolean armed, deactivated;
  GThread *stopper;
} StopGate;

static StopGate stop_gate;

static gboolean
gated_activate (GstPad *pad, GstObject *parent, GstPadMode mode, gboolean on)
{
  StopGate *g = &stop_gate;
  gboolean ok = g->tee_activate (pad, parent, mode, on);

  if (!on) {
    g_mutex_lock (&g->lock);
    g->deactivated = TRUE;
    g_cond_broadcast (&g->cond);
    g_mutex_unlock (&g->lock);
  }
  return ok;
}

static gpointer
stop_pipeline (gpointer pipeline)
{
  gst_element_set_state (pipeline, GST_STATE_NULL);
  return NULL;
}

static void
stop_at_first_added (GstBin *bin, GstElement *element, gpointer user_data)
{
  StopGate *g = user_data;
  gint64 deadline = g_get_monotonic_time () + DEADLINE;

  g_mutex_lock (&g->lock);
  if (g->armed) {
    g->armed = FALSE;
    g->stopper = g_thread_new ("stopper", stop_pipeline, g->pipeline);
    g_cond_broadcast (&g->cond);
    while (!g->deactivated && g_cond_wait_until (&g->cond, &g->lock, deadline))
      ;
  }
  g_mutex_unlock (&g->lock);
}

GST_START_TEST (test_stop_while_adding)
{
  /* tracks: the track's file branch; composed: its way into the mixer */
  static const gchar *const modes[] = { "tracks", "composed" };

  for (guint i = 0; i < G_N_ELEMENTS (modes); i++) {
    StopGate *g = &stop_gate;
    gchar *dir = make_dir ();
    GstElement *pipeline = parse (
        "hqrecorder name=r location=%s mode=%s video_0::participant=alice "
        "videotestsrc is-live=true ! "
        "video/x-raw,width=160,height=120,framerate=30/1 ! r.video_0",
        dir, modes[i]);
    GstElement *rec = gst_bin_get_by_name (GST_BIN (pipeline), "r");
    GstPad *pad = gst_element_get_static_pad (rec, "video_0");
    GstPad *tee_sink = gst_ghost_pad_get_target (GST_GHOST_PAD (pad));
    gint64 deadline = g_get_monotonic_time () + DEADLINE;

    GST_INFO ("mode %s", modes[i]);
    memset (g, 0, sizeof *g);
    g_mutex_init (&g->lock);
    g_cond_init (&g->cond);
    g->pipeline = pipeline;
    g->tee_activate = GST_PAD_ACTIVATEMODEFUNC (tee_sink);
    gst_pad_set_activatemode_function (tee_sink, gated_activate);
    g->armed = TRUE;
    g_signal_connect (
        rec, "element-added", G_CALLBACK (stop_at_first_added), g);
    fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING)
        == GST_STATE_CHANGE_FAILURE);
    g_mutex_lock (&g->lock);
    while (!g->stopper && g_cond_wait_until (&g->cond, &g->lock, deadline))
      ;
    g_mutex_unlock (&g->lock);
    fail_unless (g->stopper != NULL, "the recorder added nothing");
    g_thread_join (g->stopper);
    fail_unless (g->deactivated, "the tee's sink pad was never deactivated");
    fail_unless_equals_int (GST_STATE (pipeline), GST_STATE_NULL);
    /* the file that was being started is in the manifest, cut short */
    if (i == 0)
      check_status (dir, 0, "alice", "video", "interrupted");
    gst_object_unref (tee_sink);
    gst_object_unref (pad);
    gst_object_unref (rec);
    gst_object_unref (pipeline);
    g_mutex_clear (&g->lock);
    g_cond_clear (&g->cond);
    remove_dir (dir);
  }
}

GST_END_TEST;

/* ---- stop and start while playing ---- */

static void
toggle (GstElement *pipeline, gint n, gpointer data)
{
  g_object_set (data, "recording", n == 1, NULL);
}

GST_START_TEST (test_start_stop)
{
  gchar *dir = make_dir ();
  GstElement *pipeline = parse (
      "hqrecorder name=r location=%s "
      "video_0::participant=alice audio_0::participant=alice "
      "videotestsrc name=av is-live=true num-buffers=90 ! "
      "video/x-raw,width=160,height=120,framerate=30/1 ! "
      "vp8enc deadline=1 lag-in-frames=0 keyframe-max-dist=300 ! r.video_0 "
      "audiotestsrc is-live=true num-buffers=150 samplesperbuffer=960 ! "
      "r.audio_0",
      dir);
  Marks marks = { .marks = { 1.0, 2.0 }, .n_marks = 2 };
  GstElement *rec = gst_bin_get_by_name (GST_BIN (pipeline), "r");
  GError *err;
  JsonNode *root;
  JsonArray *recs;

  add_marks (pipeline, "av", &marks);
  err = run (pipeline, toggle, rec);
  g_assert_no_error (err);
  root = read_manifest (dir);
  recs =
      json_object_get_array_member (json_node_get_object (root), "recordings");
  fail_unless_equals_int (json_array_get_length (recs), 2);
  /* about 0-1 s, then 2-3 s (where exactly depends on when the property
   * was set): each file as long as the manifest says; the encoded video of
   * the second period starts at the key frame the recorder asked for */
  for (guint i = 0; i < 2; i++) {
    check_track (dir, root, i, "alice", "video", "VP8", -1);
    check_track (dir, root, i, "alice", "audio", "Opus", -1);
    fail_unless (json_object_get_int_member (
                     find_track (root, i, "alice", "video"), "duration_ms")
        >= 300);
  }
  fail_unless (strcmp (json_object_get_string_member (
                           find_track (root, 0, "alice", "video"), "file"),
                   json_object_get_string_member (
                       find_track (root, 1, "alice", "video"), "file"))
      != 0);
  json_node_unref (root);
  gst_object_unref (rec);
  gst_object_unref (pipeline);
  remove_dir (dir);
}

GST_END_TEST;

/* ---- request pads from several threads at once ---- */

/* Room pads appear on several streaming threads at once (hqroomsrc's
 * pad-added), and each asks the recorder for a pad, as hqspeakerdetect's
 * race (two threads, one sink_0) showed.  Every round, N_REQ threads wait
 * at a gate, then request together: automatic names ("audio_%u") and one
 * explicit name per kind that no automatic one can reach ("audio_7": the
 * counter jumps past it).  Every request must get a pad of its own, named
 * once, in the element; then they are released together, and the element
 * must have no pad left.  (Two requests for the same explicit name are
 * not a race to test: GStreamer calls asking for an existing pad's name
 * undefined and says so before the element is asked.) */
#define N_REQ 8
#define N_ROUNDS 40

typedef struct
{
  GstElement *rec;
  GMutex lock;
  GCond cond;
  guint ready, released;
  gboolean go;
} Gate;

typedef struct
{
  Gate *gate;
  const gchar *name;
  GstPad *pad;
  gboolean release;
} Request;

static void
gate_pass (Gate *g)
{
  g_mutex_lock (&g->lock);
  g->ready++;
  g_cond_broadcast (&g->cond);
  while (!g->go)
    g_cond_wait (&g->cond, &g->lock);
  g_mutex_unlock (&g->lock);
}

static gpointer
request_thread (gpointer data)
{
  Request *r = data;

  gate_pass (r->gate);
  if (r->release) {
    gst_element_release_request_pad (r->gate->rec, r->pad);
    gst_object_unref (r->pad);
  } else
    r->pad = gst_element_request_pad_simple (r->gate->rec, r->name);
  return NULL;
}

/* Runs @reqs in threads that all start at once. */
static void
all_at_once (Gate *g, Request *reqs, guint n)
{
  GThread *threads[N_REQ];

  g->ready = 0;
  g->go = FALSE;
  for (guint i = 0; i < n; i++) {
    reqs[i].gate = g;
    threads[i] = g_thread_new ("request", request_thread, &reqs[i]);
  }
  g_mutex_lock (&g->lock);
  while (g->ready < n)
    g_cond_wait (&g->cond, &g->lock);
  g->go = TRUE;
  g_cond_broadcast (&g->cond);
  g_mutex_unlock (&g->lock);
  for (guint i = 0; i < n; i++)
    g_thread_join (threads[i]);
}

/* Requests @names at once; checks the pads that came out. */
static void
request_round (Gate *g, const gchar *const *names, Request *reqs)
{
  GHashTable *seen = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < N_REQ; i++)
    reqs[i] = (Request){ .name = names[i] };
  all_at_once (g, reqs, N_REQ);
  for (guint i = 0; i < N_REQ; i++) {
    GstPad *pad = reqs[i].pad, *found;
    fail_unless (pad != NULL, "request %s got no pad", names[i]);
    fail_if (g_hash_table_contains (seen, GST_PAD_NAME (pad)),
        "two requests got %s", GST_PAD_NAME (pad));
    g_hash_table_add (seen, GST_PAD_NAME (pad));
    found = gst_element_get_static_pad (g->rec, GST_PAD_NAME (pad));
    fail_unless (
        found == pad, "%s is not the recorder's pad", GST_PAD_NAME (pad));
    gst_object_unref (found);
    if (strchr (names[i], '%') == NULL)
      fail_unless_equals_string (GST_PAD_NAME (pad), names[i]);
  }
  fail_unless_equals_int (g->rec->numsinkpads, N_REQ);
  g_hash_table_unref (seen);
}

GST_START_TEST (test_concurrent_requests)
{
  static const gchar *const mixed[N_REQ] = { "audio_%u", "audio_%u", "audio_%u",
    "audio_7", "video_%u", "video_%u", "video_%u", "video_7" };
  static const gchar *const four[N_REQ] = { "audio_%u", "audio_%u", "video_%u",
    "video_%u" };
  gchar *dir = make_dir ();
  GstElement *pipeline = gst_pipeline_new (NULL);
  Request reqs[N_REQ];
  Gate g = { 0 };
  GError *err = NULL;
  JsonNode *root;

  g_mutex_init (&g.lock);
  g_cond_init (&g.cond);
  g.rec = gst_element_factory_make ("hqrecorder", "r");
  fail_unless (g.rec != NULL);
  g_object_set (g.rec, "location", dir, NULL);
  gst_util_set_object_arg (G_OBJECT (g.rec), "mode", "both");
  gst_bin_add (GST_BIN (pipeline), g.rec);
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE);
  for (guint round = 0; round < N_ROUNDS; round++) {
    Request rel[N_REQ];

    request_round (&g, mixed, reqs);
    for (guint i = 0; i < N_REQ; i++)
      rel[i] = (Request){ .pad = reqs[i].pad, .release = TRUE };
    all_at_once (&g, rel, N_REQ);
    fail_unless_equals_int (g.rec->numsinkpads, 0);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);

  /* A recording from pads requested at once: two audio and two video
   * tracks, each a file that plays for its 2 s. */
  pipeline = gst_pipeline_new (NULL);
  g.rec = gst_element_factory_make ("hqrecorder", "r");
  g_object_set (g.rec, "location", dir, NULL);
  gst_util_set_object_arg (G_OBJECT (g.rec), "mode", "tracks");
  gst_bin_add (GST_BIN (pipeline), g.rec);
  for (guint i = 0; i < N_REQ; i++)
    reqs[i] = (Request){ .name = four[i] };
  all_at_once (&g, reqs, 4);
  for (guint i = 0; i < 4; i++) {
    gboolean audio = g_str_has_prefix (four[i], "audio");
    gchar *who = g_strdup_printf ("p%u", i);
    GstElement *src = gst_parse_bin_from_description (audio
            ? "audiotestsrc is-live=true num-buffers=100 "
              "samplesperbuffer=960 ! queue name=q"
            : "videotestsrc is-live=true num-buffers=30 ! "
              "video/x-raw,width=160,height=120,framerate=15/1 ! "
              "queue name=q",
        FALSE, &err);
    GstPad *q_src, *ghost;
    GstElement *q;

    g_assert_no_error (err);
    fail_unless (reqs[i].pad != NULL);
    gst_bin_add (GST_BIN (pipeline), src);
    q = gst_bin_get_by_name (GST_BIN (src), "q");
    q_src = gst_element_get_static_pad (q, "src");
    ghost = gst_ghost_pad_new ("src", q_src);
    gst_pad_set_active (ghost, TRUE);
    gst_element_add_pad (src, ghost);
    g_object_set (reqs[i].pad, "participant", who, NULL);
    fail_unless_equals_int (gst_pad_link (ghost, reqs[i].pad), GST_PAD_LINK_OK);
    gst_object_unref (q_src);
    gst_object_unref (q);
    gst_object_unref (reqs[i].pad);
    g_free (who);
  }
  err = run (pipeline, NULL, NULL);
  g_assert_no_error (err);
  root = read_manifest (dir);
  check_track (dir, root, 0, "p0", "audio", "Opus", 2.0);
  check_track (dir, root, 0, "p1", "audio", "Opus", 2.0);
  check_track (dir, root, 0, "p2", "video", "VP8", 2.0);
  check_track (dir, root, 0, "p3", "video", "VP8", 2.0);
  json_node_unref (root);
  gst_object_unref (pipeline);
  g_mutex_clear (&g.lock);
  g_cond_clear (&g.cond);
  remove_dir (dir);
}

GST_END_TEST;

static Suite *
recorder_suite (void)
{
  Suite *s = suite_create ("hqrecorder");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_unwritable);
  tcase_add_test (tc, test_disk_full);
  tcase_add_test (tc, test_stop_while_adding);
  tcase_add_test (tc, test_tracks_late_join);
  tcase_add_test (tc, test_composed_grid_sync);
  tcase_add_test (tc, test_mp4_h264);
  tcase_add_test (tc, test_start_stop);
  tcase_add_test (tc, test_sigkill);
  tcase_add_test (tc, test_manifest_thread);
  tcase_add_test (tc, test_concurrent_requests);
  return s;
}

int
main (int argc, char **argv)
{
  if (argc == 3 && !strcmp (argv[1], "--child")) {
    gst_init (NULL, NULL);
    return child_main (argv[2]);
  }
  self_path = argv[0];
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (recorder_suite (), "hqrecorder", __FILE__);
}
