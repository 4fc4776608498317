/* gst-check tests for hqqualitymeter, driven through GstHarness with
 * synthetic streams whose truth is known: frames dropped to make freezes
 * (count and duration exact), a pause, repeated and black frames, a
 * resolution change, audio with a hole, a GAP event, silence and clipping,
 * and PSNR and SSIM against Debian's ffmpeg `psnr` and `ssim` filters run
 * on the same frames.  Buffers are pushed with timestamps, so each
 * message is on the element's bus when the push that closed its interval
 * returns. */
#include <math.h>
#include <string.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/check/gsttestclock.h>
#include <json-glib/json-glib.h>

#define FRAME (GST_SECOND / 30)
/* Frame k of a 30 fps stream, exactly (k * FRAME drifts early). */
#define PTS(k) gst_util_uint64_scale ((k), GST_SECOND, 30)
#define W 64
#define H 48

static GstElement *
make_meter (GstBus **bus)
{
  GstElement *e = gst_element_factory_make ("hqqualitymeter", NULL);

  fail_unless (e != NULL,
      "hqqualitymeter not found; is GST_PLUGIN_PATH "
      "the build directory of gst/qualitymeter?");
  *bus = gst_bus_new ();
  gst_element_set_bus (e, *bus);
  return e;
}

static GstHarness *
video_harness (GstElement *e, const gchar *caps)
{
  GstHarness *h = gst_harness_new_with_element (e, "video_0", "src_video_0");

  gst_harness_set_src_caps_str (h, caps);
  return h;
}

static gchar *
gray_caps (guint w, guint h)
{
  return g_strdup_printf (
      "video/x-raw, format=GRAY8, width=%u, height=%u, framerate=30/1", w, h);
}

/* A textured GRAY8 frame, different for every @k. */
static GstBuffer *
gray_frame (guint w, guint h, guint k, GstClockTime pts)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, w * h, NULL);
  GstMapInfo map;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (guint y = 0; y < h; y++)
    for (guint x = 0; x < w; x++)
      map.data[y * w + x] = (guint8)(x * 3 + y * 5 + k * 7 + 40);
  gst_buffer_unmap (buf, &map);
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = FRAME;
  return buf;
}

static GstBuffer *
flat_frame (guint w, guint h, guint8 value, GstClockTime pts)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, w * h, NULL);

  gst_buffer_memset (buf, 0, value, w * h);
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = FRAME;
  return buf;
}

static void
push (GstHarness *h, GstBuffer *buf)
{
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  gst_buffer_unref (gst_harness_pull (h));
}

/* The hq-quality structures of pad @pad so far, in order (copies). */
static GPtrArray *
pop_quality (GstBus *bus, const gchar *pad)
{
  GPtrArray *list =
      g_ptr_array_new_with_free_func ((GDestroyNotify)gst_structure_free);
  GstMessage *m;

  while ((m = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure (m);
    if (gst_structure_has_name (s, "hq-quality")
        && g_strcmp0 (gst_structure_get_string (s, "pad"), pad) == 0)
      g_ptr_array_add (list, gst_structure_copy (s));
    gst_message_unref (m);
  }
  return list;
}

static guint
uint_field (const GstStructure *s, const gchar *name)
{
  guint v = G_MAXUINT;

  fail_unless (gst_structure_get_uint (s, name, &v), "no field %s in %s", name,
      gst_structure_to_string (s));
  return v;
}

static gdouble
double_field (const GstStructure *s, const gchar *name)
{
  gdouble v = NAN;

  fail_unless (gst_structure_get_double (s, name, &v), "no field %s", name);
  return v;
}

static guint
sum_uint (GPtrArray *list, const gchar *name)
{
  guint sum = 0;

  for (guint i = 0; i < list->len; i++)
    sum += uint_field (g_ptr_array_index (list, i), name);
  return sum;
}

static gdouble
sum_double (GPtrArray *list, const gchar *name)
{
  gdouble sum = 0;

  for (guint i = 0; i < list->len; i++)
    sum += double_field (g_ptr_array_index (list, i), name);
  return sum;
}

static JsonObject *
read_report (const gchar *path, JsonParser **parser)
{
  GError *error = NULL;

  *parser = json_parser_new ();
  fail_unless (json_parser_load_from_file (*parser, path, &error),
      "report %s: %s", path, error ? error->message : "");
  return json_node_get_object (json_parser_get_root (*parser));
}

/* The report's first stream of its first participant. */
static JsonObject *
report_stream (JsonObject *root, const gchar **participant)
{
  JsonObject *p = json_array_get_object_element (
      json_object_get_array_member (root, "participants"), 0);

  *participant = json_object_get_string_member (p, "participant");
  return json_array_get_object_element (
      json_object_get_array_member (p, "streams"), 0);
}

GST_START_TEST (test_passthrough)
{
  GstBus *bus;
  GstElement *e = make_meter (&bus);
  gchar *caps = gray_caps (W, H);
  GstHarness *h = video_harness (e, caps);
  GstBuffer *in = gray_frame (W, H, 1, 5 * GST_SECOND), *out;

  GST_BUFFER_OFFSET (in) = 150;
  gst_buffer_ref (in);
  fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
  out = gst_harness_pull (h);
  /* The very buffer, untouched. */
  fail_unless (out == in);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 5 * GST_SECOND);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (out), 150);
  gst_buffer_unref (out);
  gst_buffer_unref (in);
  gst_harness_teardown (h);
  g_free (caps);
  gst_object_unref (e);
  gst_object_unref (bus);
}

GST_END_TEST;

/* 90 frames at 30 fps with frames 40..49 and 70..74 missing: freezes of
 * 11 and 6 frame intervals (366.7 and 200 ms; the threshold is 183.3 ms),
 * in the seconds where the frames after them arrive. */
GST_START_TEST (test_freezes)
{
  GstBus *bus;
  GstElement *e = make_meter (&bus);
  gchar *caps = gray_caps (W, H);
  gchar *path = g_build_filename (g_get_tmp_dir (), "hq-qm-freezes.json", NULL);
  GstHarness *h;
  GPtrArray *q;
  JsonParser *parser;
  JsonObject *stream;
  const gchar *participant;

  g_object_set (e, "location", path, NULL);
  h = video_harness (e, caps);
  gst_harness_push_event (h,
      gst_event_new_tag (gst_tag_list_new ("hq-participant", "alice", NULL)));
  for (guint k = 0; k < 90; k++)
    if (!(k >= 40 && k < 50) && !(k >= 70 && k < 75))
      push (h, gray_frame (W, H, k, PTS (k)));
  gst_harness_push_event (h, gst_event_new_eos ());

  q = pop_quality (bus, "video_0");
  fail_unless_equals_int (q->len, 3);
  fail_unless_equals_string (
      gst_structure_get_string (g_ptr_array_index (q, 0), "participant"),
      "alice");
  fail_unless_equals_int (uint_field (g_ptr_array_index (q, 0), "frames"), 30);
  fail_unless_equals_int (
      uint_field (g_ptr_array_index (q, 0), "freeze-count"), 0);
  fail_unless_equals_int (
      uint_field (g_ptr_array_index (q, 1), "freeze-count"), 1);
  fail_unless (
      fabs (double_field (g_ptr_array_index (q, 1), "total-freezes-duration")
          - 11.0 / 30)
      < 0.001);
  fail_unless_equals_int (
      uint_field (g_ptr_array_index (q, 2), "freeze-count"), 1);
  fail_unless (
      fabs (double_field (g_ptr_array_index (q, 2), "total-freezes-duration")
          - 6.0 / 30)
      < 0.001);
  fail_unless_equals_int (sum_uint (q, "frames"), 75);
  fail_unless_equals_int (sum_uint (q, "pause-count"), 0);
  fail_unless_equals_int (sum_uint (q, "frozen-content-frames"), 0);
  /* Frozen time lowers the score of its second. */
  fail_unless (double_field (g_ptr_array_index (q, 1), "mos-video")
      < double_field (g_ptr_array_index (q, 0), "mos-video"));

  stream = report_stream (read_report (path, &parser), &participant);
  fail_unless_equals_string (participant, "alice");
  fail_unless_equals_int (
      json_object_get_int_member (stream, "freeze-count"), 2);
  fail_unless (
      fabs (json_object_get_double_member (stream, "total-freezes-duration")
          - 17.0 / 30)
      < 0.001);
  fail_unless_equals_int (json_object_get_int_member (stream, "frames"), 75);
  g_object_unref (parser);
  g_unlink (path);

  g_ptr_array_free (q, TRUE);
  gst_harness_teardown (h);
  g_free (caps);
  g_free (path);
  gst_object_unref (e);
  gst_object_unref (bus);
}

GST_END_TEST;

/* A second of video, six seconds of nothing, another second: one pause
 * of 6 s and one frame interval, no freeze; the empty seconds between
 * say so with level 0. */
GST_START_TEST (test_pause)
{
  GstBus *bus;
  GstElement *e = make_meter (&bus);
  gchar *caps = gray_caps (W, H);
  GstHarness *h = video_harness (e, caps);
  GPtrArray *q;
  guint empty = 0;

  for (guint k = 0; k < 30; k++)
    push (h, gray_frame (W, H, k, PTS (k)));
  for (guint k = 30 + 180; k < 30 + 180 + 30; k++)
    push (h, gray_frame (W, H, k, PTS (k)));
  gst_harness_push_event (h, gst_event_new_eos ());

  q = pop_quality (bus, "video_0");
  fail_unless_equals_int (sum_uint (q, "pause-count"), 1);
  fail_unless (
      fabs (sum_double (q, "total-pauses-duration") - 181.0 / 30) < 0.001);
  fail_unless_equals_int (sum_uint (q, "freeze-count"), 0);
  for (guint i = 0; i < q->len; i++)
    if (uint_field (g_ptr_array_index (q, i), "frames") == 0) {
      empty++;
      fail_unless_equals_int (
          uint_field (g_ptr_array_index (q, i), "level"), 0);
    }
  fail_unless_equals_int (empty, 6);
  g_ptr_array_free (q, TRUE);
  gst_harness_teardown (h);
  g_free (caps);
  gst_object_unref (e);
  gst_object_unref (bus);
}

GST_END_TEST;

/* Frames 10..19 repeat frame 9 (frozen content, on time: no freeze);
 * frames 20..24 are black, each a little different. */
GST_START_TEST (test_frozen_content_black)
{
  GstBus *bus;
  GstElement *e = make_meter (&bus);
  gchar *caps = gray_caps (W, H);
  GstHarness *h = video_harness (e, caps);
  GPtrArray *q;

  for (guint k = 0; k < 30; k++) {
    if (k >= 10 && k < 20)
      push (h, gray_frame (W, H, 9, PTS (k)));
    else if (k >= 20 && k < 25)
      push (h, flat_frame (W, H, 16 + k - 20, PTS (k)));
    else
      push (h, gray_frame (W, H, k, PTS (k)));
  }
  gst_harness_push_event (h, gst_event_new_eos ());

  q = pop_quality (bus, "video_0");
  fail_unless_equals_int (q->len, 1);
  fail_unless_equals_int (
      uint_field (g_ptr_array_index (q, 0), "frozen-content-frames"), 10);
  fail_unless_equals_int (
      uint_field (g_ptr_array_index (q, 0), "black-frames"), 5);
  fail_unless_equals_int (
      uint_field (g_ptr_array_index (q, 0), "freeze-count"), 0);
  /* Repeated frames are no new content: the model sees 20 fps, not 30
   * (64x48 is below its smallest resolution: 1 + 3.5 * 0.6 * Qf). */
  fail_unless (fabs (double_field (g_ptr_array_index (q, 0), "mos-video")
                   - (1 + 3.5 * 0.6 * (0.2 + 0.8 * log (20) / log (30))))
      < 1e-6);
  g_ptr_array_free (q, TRUE);
  gst_harness_teardown (h);
  g_free (caps);
  gst_object_unref (e);
  gst_object_unref (bus);
}

GST_END_TEST;

GST_START_TEST (test_resolution_change)
{
  GstBus *bus;
  GstElement *e = make_meter (&bus);
  gchar *caps = gray_caps (W, H), *big = gray_caps (2 * W, 2 * H);
  GstHarness *h = video_harness (e, caps);
  GPtrArray *q;
  const GstStructure *s;

  for (guint k = 0; k < 10; k++)
    push (h, gray_frame (W, H, k, PTS (k)));
  gst_harness_set_src_caps_str (h, big);
  for (guint k = 10; k < 20; k++)
    push (h, gray_frame (2 * W, 2 * H, k, PTS (k)));
  gst_harness_push_event (h, gst_event_new_eos ());

  q = pop_quality (bus, "video_0");
  fail_unless_equals_int (q->len, 1);
  s = g_ptr_array_index (q, 0);
  fail_unless_equals_int (uint_field (s, "resolution-changes"), 1);
  fail_unless (gst_structure_has_field (s, "width"));
  fail_unless_equals_int (
      g_value_get_int (gst_structure_get_value (s, "width")), 2 * W);
  fail_unless_equals_int (
      g_value_get_int (gst_structure_get_value (s, "height")), 2 * H);
  fail_unless_equals_int (uint_field (s, "frozen-content-frames"), 0);
  g_ptr_array_free (q, TRUE);
  gst_harness_teardown (h);
  g_free (caps);
  g_free (big);
  gst_object_unref (e);
  gst_object_unref (bus);
}

GST_END_TEST;

/* Fires the element's next clock tick on the harness's test clock. */
static void
crank_tick (GstHarness *h)
{
  GstTestClock *clock = gst_harness_get_testclock (h);

  fail_unless (
      gst_test_clock_timed_wait_for_multiple_pending_ids (clock, 1, 2000, NULL),
      "the meter is waiting for no clock tick");
  fail_unless (gst_test_clock_crank (clock));
  gst_object_unref (clock);
}

/* Live (GstHarness answers the latency query as live): a stream that
 * stops sending has its seconds reported by the clock, empty, each about
 * when it ends, not when data comes back.  Also the participant set on
 * the pad rather than by a tag. */
GST_START_TEST (test_live_stall)
{
  GstBus *bus;
  GstElement *e = make_meter (&bus);
  gchar *caps = gray_caps (W, H);
  GstHarness *h = video_harness (e, caps);
  GstPad *pad = gst_element_get_static_pad (e, "video_0");
  GPtrArray *q;

  g_object_set (pad, "participant", "bob", NULL);
  for (guint k = 0; k < 10; k++)
    push (h, gray_frame (W, H, k, PTS (k)));
  /* The tick at 1 s is within the grace after the first second. */
  crank_tick (h);
  q = pop_quality (bus, "video_0");
  fail_unless_equals_int (q->len, 0);
  g_ptr_array_free (q, TRUE);
  /* At 2, 3 and 4 s the first three seconds are closed. */
  crank_tick (h);
  crank_tick (h);
  crank_tick (h);
  q = pop_quality (bus, "video_0");
  fail_unless_equals_int (q->len, 3);
  fail_unless_equals_string (
      gst_structure_get_string (g_ptr_array_index (q, 0), "participant"),
      "bob");
  fail_unless_equals_int (uint_field (g_ptr_array_index (q, 0), "frames"), 10);
  fail_unless_equals_int (uint_field (g_ptr_array_index (q, 1), "frames"), 0);
  fail_unless_equals_int (uint_field (g_ptr_array_index (q, 1), "level"), 0);
  fail_unless_equals_int (uint_field (g_ptr_array_index (q, 2), "frames"), 0);
  g_ptr_array_free (q, TRUE);

  /* Video comes back at 4.5 s: that frame ends a freeze-or-pause of
   * 4.2 s (a freeze: not over 5 s) in the fifth second. */
  push (h, gray_frame (W, H, 135, PTS (135)));
  gst_harness_push_event (h, gst_event_new_eos ());
  q = pop_quality (bus, "video_0");
  fail_unless_equals_int (q->len, 2);
  fail_unless_equals_int (uint_field (g_ptr_array_index (q, 0), "frames"), 0);
  fail_unless_equals_int (
      uint_field (g_ptr_array_index (q, 1), "freeze-count"), 1);
  fail_unless (
      fabs (double_field (g_ptr_array_index (q, 1), "total-freezes-duration")
          - 126.0 / 30)
      < 0.001);
  g_ptr_array_free (q, TRUE);
  gst_object_unref (pad);
  gst_harness_teardown (h);
  g_free (caps);
  gst_object_unref (e);
  gst_object_unref (bus);
}

GST_END_TEST;

/* A report that cannot be written says so on the bus, with the path. */
GST_START_TEST (test_report_unwritable)
{
  GstBus *bus;
  GstElement *e = make_meter (&bus);
  gchar *caps = gray_caps (W, H);
  GstHarness *h;
  GstMessage *m;
  GError *error = NULL;
  gboolean warned = FALSE;

  g_object_set (e, "location", "/nonexistent-hq-dir/report.json", NULL);
  h = video_harness (e, caps);
  push (h, gray_frame (W, H, 0, 0));
  gst_harness_push_event (h, gst_event_new_eos ());
  while ((m = gst_bus_pop (bus))) {
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_WARNING) {
      gst_message_parse_warning (m, &error, NULL);
      fail_unless (
          strstr (error->message, "/nonexistent-hq-dir/report.json") != NULL,
          "warning without the path: %s", error->message);
      g_clear_error (&error);
      warned = TRUE;
    }
    gst_message_unref (m);
  }
  fail_unless (warned, "no warning for an unwritable report");
  gst_harness_teardown (h);
  g_free (caps);
  gst_object_unref (e);
  gst_object_unref (bus);
}

GST_END_TEST;

#define RATE 48000
#define BLOCK (RATE / 100)

static GstBuffer *
audio_block (guint index, gint16 value, gboolean sine)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, BLOCK * 2, NULL);
  GstMapInfo map;
  gint16 *s;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  s = (gint16 *)map.data;
  for (guint i = 0; i < BLOCK; i++)
    s[i] =
        sine ? (gint16)lrint (value * sin (2 * G_PI * 440 * i / RATE)) : value;
  gst_buffer_unmap (buf, &map);
  GST_BUFFER_PTS (buf) = index * 10 * GST_MSECOND;
  GST_BUFFER_DURATION (buf) = 10 * GST_MSECOND;
  return buf;
}

/* One second of 10 ms blocks: a tone (0..300 ms), nothing (300..400 ms:
 * a gap), silence (400..500 ms), a GAP event (500..700 ms), one clipped
 * block and tone (700..1000 ms). */
GST_START_TEST (test_audio)
{
  GstBus *bus;
  GstElement *e = make_meter (&bus);
  GstHarness *h = gst_harness_new_with_element (e, "audio_0", "src_audio_0");
  GPtrArray *q;
  const GstStructure *s;

  gst_harness_set_src_caps_str (h,
      "audio/x-raw, format=S16LE, rate=48000, channels=1, "
      "layout=interleaved");
  for (guint i = 0; i < 30; i++)
    push (h, audio_block (i, 16000, TRUE));
  for (guint i = 40; i < 50; i++)
    push (h, audio_block (i, 0, FALSE));
  fail_unless (gst_harness_push_event (
      h, gst_event_new_gap (500 * GST_MSECOND, 200 * GST_MSECOND)));
  push (h, audio_block (70, 32767, FALSE));
  for (guint i = 71; i < 100; i++)
    push (h, audio_block (i, 16000, TRUE));
  gst_harness_push_event (h, gst_event_new_eos ());

  q = pop_quality (bus, "audio_0");
  fail_unless_equals_int (q->len, 1);
  s = g_ptr_array_index (q, 0);
  fail_unless_equals_string (gst_structure_get_string (s, "kind"), "audio");
  fail_unless_equals_int (uint_field (s, "gaps"), 1);
  fail_unless (fabs (double_field (s, "gap-duration") - 0.1) < 1e-6);
  fail_unless (fabs (double_field (s, "concealed-duration") - 0.2) < 1e-6);
  fail_unless (fabs (double_field (s, "silence-ratio") - 10.0 / 70) < 1e-9);
  fail_unless (fabs (double_field (s, "clipping-ratio") - 1.0 / 70) < 1e-9);
  /* 30 % of the second lost or concealed: R = 93.2 - 95 * 30 / 55.1. */
  fail_unless (fabs (double_field (s, "mos-audio") - 2.1369) < 0.001);
  fail_unless_equals_int (uint_field (s, "level"), 2);
  g_ptr_array_free (q, TRUE);
  gst_harness_teardown (h);
  gst_object_unref (e);
  gst_object_unref (bus);
}

GST_END_TEST;

/* rtpjitterbuffer's lost-packet event (the meter before a decoder) is
 * concealed time, not a gap. */
GST_START_TEST (test_audio_packet_lost)
{
  GstBus *bus;
  GstElement *e = make_meter (&bus);
  GstHarness *h = gst_harness_new_with_element (e, "audio_0", "src_audio_0");
  GPtrArray *q;
  const GstStructure *s;

  gst_harness_set_src_caps_str (h,
      "audio/x-raw, format=S16LE, rate=48000, channels=1, "
      "layout=interleaved");
  for (guint i = 0; i < 10; i++)
    push (h, audio_block (i, 16000, TRUE));
  fail_unless (gst_harness_push_event (h,
      gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM,
          gst_structure_new ("GstRTPPacketLost", "seqnum", G_TYPE_UINT, 7,
              "timestamp", G_TYPE_UINT64, 100 * GST_MSECOND, "duration",
              G_TYPE_UINT64, 60 * GST_MSECOND, NULL))));
  for (guint i = 16; i < 100; i++)
    push (h, audio_block (i, 16000, TRUE));
  gst_harness_push_event (h, gst_event_new_eos ());

  q = pop_quality (bus, "audio_0");
  fail_unless_equals_int (q->len, 1);
  s = g_ptr_array_index (q, 0);
  fail_unless_equals_int (uint_field (s, "gaps"), 0);
  fail_unless (fabs (double_field (s, "concealed-duration") - 0.06) < 1e-6);
  /* 6 % concealed: R = 93.2 - 95 * 6 / 31.1 = 74.9, level 4. */
  fail_unless_equals_int (uint_field (s, "level"), 4);
  g_ptr_array_free (q, TRUE);
  gst_harness_teardown (h);
  gst_object_unref (e);
  gst_object_unref (bus);
}

GST_END_TEST;

/* ---- PSNR and SSIM against ffmpeg ---- */

#define FW 160
#define FH 120
#define N_FRAMES 6

/* Runs ffmpeg's @filter on the two raw GRAY8 files and returns the mean
 * over the frames of the stats file's @key values. */
static gdouble
ffmpeg_mean (const gchar *dir, const gchar *filter, const gchar *key)
{
  gchar *stats = g_build_filename (dir, "stats.log", NULL);
  gchar *main_path = g_build_filename (dir, "main.y", NULL);
  gchar *ref_path = g_build_filename (dir, "ref.y", NULL);
  gchar *lavfi = g_strdup_printf ("%s=stats_file=%s", filter, stats);
  gchar *size = g_strdup_printf ("%ux%u", FW, FH);
  const gchar *argv[] = { "ffmpeg", "-nostdin", "-loglevel", "error", "-f",
    "rawvideo", "-pix_fmt", "gray", "-s", size, "-i", main_path, "-f",
    "rawvideo", "-pix_fmt", "gray", "-s", size, "-i", ref_path, "-lavfi", lavfi,
    "-f", "null", "-", NULL };
  gchar *out = NULL, *err = NULL, *contents = NULL, **lines;
  gint status = -1;
  GError *error = NULL;
  gdouble sum = 0;
  guint n = 0;

  fail_unless (g_spawn_sync (NULL, (gchar **)argv, NULL, G_SPAWN_SEARCH_PATH,
                   NULL, NULL, &out, &err, &status, &error),
      "could not run ffmpeg (install Debian's ffmpeg: scripts/setup.sh): %s",
      error ? error->message : "");
  fail_unless (
      g_spawn_check_wait_status (status, NULL), "ffmpeg failed: %s", err);
  fail_unless (g_file_get_contents (stats, &contents, NULL, NULL));
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    gchar *at = strstr (lines[i], key);
    if (at) {
      sum += g_ascii_strtod (at + strlen (key), NULL);
      n++;
    }
  }
  fail_unless_equals_int (n, N_FRAMES);
  g_strfreev (lines);
  g_unlink (stats);
  g_free (contents);
  g_free (out);
  g_free (err);
  g_free (stats);
  g_free (main_path);
  g_free (ref_path);
  g_free (lavfi);
  g_free (size);
  return sum / n;
}

/* A picture with edges and texture, and a distorted copy: noise of a
 * different strength per frame, and a horizontal blur on some. */
static void
make_frames (guint k, guint8 *ref, guint8 *dist, GRand *rand)
{
  for (guint y = 0; y < FH; y++)
    for (guint x = 0; x < FW; x++) {
      gdouble v = 128 + 60 * sin (x / (4.0 + k)) * cos (y / 7.0)
          + ((x / 16 + y / 16 + k) % 2 ? 40 : -40);
      ref[y * FW + x] = (guint8)CLAMP (lrint (v), 0, 255);
    }
  for (guint i = 0; i < FW * FH; i++) {
    gint noise = g_rand_int_range (rand, -(gint)(4 + 6 * k), 5 + 6 * k);
    gint v = ref[i];
    if (k % 2 && i % FW > 0 && i % FW < FW - 1)
      v = (ref[i - 1] + 2 * ref[i] + ref[i + 1]) / 4;
    dist[i] = (guint8)CLAMP (v + noise, 0, 255);
  }
}

static GstBuffer *
wrap (guint8 *data, guint k)
{
  GstBuffer *buf = gst_buffer_new_memdup (data, FW * FH);

  GST_BUFFER_PTS (buf) = PTS (k);
  GST_BUFFER_DURATION (buf) = FRAME;
  return buf;
}

GST_START_TEST (test_psnr_ssim_match_ffmpeg)
{
  GstBus *bus;
  GstElement *e = make_meter (&bus);
  gchar *caps = gray_caps (FW, FH);
  gchar *dir = g_dir_make_tmp ("hq-qm-XXXXXX", NULL);
  gchar *main_path = g_build_filename (dir, "main.y", NULL);
  gchar *ref_path = g_build_filename (dir, "ref.y", NULL);
  FILE *main_file = fopen (main_path, "wb"), *ref_file = fopen (ref_path, "wb");
  guint8 ref[FW * FH], dist[FW * FH];
  GRand *rand = g_rand_new_with_seed (2004);
  GstHarness *h, *r;
  GPtrArray *q;
  const GstStructure *s;
  gdouble ff_psnr, ff_ssim, psnr, ssim;

  g_object_set (e, "interval", 10 * GST_SECOND, NULL);
  h = video_harness (e, caps);
  r = gst_harness_new_with_element (e, "ref_video_0", NULL);
  gst_harness_set_src_caps_str (r, caps);
  for (guint k = 0; k < N_FRAMES; k++) {
    make_frames (k, ref, dist, rand);
    fail_unless (fwrite (ref, 1, sizeof (ref), ref_file) == sizeof (ref));
    fail_unless (fwrite (dist, 1, sizeof (dist), main_file) == sizeof (dist));
    /* Alternate which side arrives first: pairing is by time. */
    if (k % 2) {
      fail_unless_equals_int (gst_harness_push (r, wrap (ref, k)), GST_FLOW_OK);
      push (h, wrap (dist, k));
    } else {
      push (h, wrap (dist, k));
      fail_unless_equals_int (gst_harness_push (r, wrap (ref, k)), GST_FLOW_OK);
    }
  }
  fclose (main_file);
  fclose (ref_file);
  gst_harness_push_event (h, gst_event_new_eos ());

  q = pop_quality (bus, "video_0");
  fail_unless_equals_int (q->len, 1);
  s = g_ptr_array_index (q, 0);
  fail_unless_equals_int (uint_field (s, "compared-frames"), N_FRAMES);
  psnr = double_field (s, "psnr");
  ssim = double_field (s, "ssim");

  ff_psnr = ffmpeg_mean (dir, "psnr", "psnr_y:");
  ff_ssim = ffmpeg_mean (dir, "ssim", "Y:");
  GST_INFO ("psnr %.4f (ffmpeg %.4f), ssim %.5f (ffmpeg %.5f)", psnr, ff_psnr,
      ssim, ff_ssim);
  g_print ("# psnr %.4f dB (ffmpeg %.4f), ssim %.5f (ffmpeg %.5f)\n", psnr,
      ff_psnr, ssim, ff_ssim);
  /* Distorted enough that agreement means something. */
  fail_unless (ff_psnr < 40 && ff_ssim < 0.95);
  fail_unless (
      fabs (psnr - ff_psnr) <= 0.05, "psnr %f vs ffmpeg %f", psnr, ff_psnr);
  fail_unless (
      fabs (ssim - ff_ssim) <= 0.002, "ssim %f vs ffmpeg %f", ssim, ff_ssim);

  g_unlink (main_path);
  g_unlink (ref_path);
  g_rmdir (dir);
  g_rand_free (rand);
  g_ptr_array_free (q, TRUE);
  gst_harness_teardown (r);
  gst_harness_teardown (h);
  g_free (caps);
  g_free (dir);
  g_free (main_path);
  g_free (ref_path);
  gst_object_unref (e);
  gst_object_unref (bus);
}

GST_END_TEST;

static Suite *
qualitymeter_suite (void)
{
  Suite *s = suite_create ("hqqualitymeter");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_passthrough);
  tcase_add_test (tc, test_freezes);
  tcase_add_test (tc, test_pause);
  tcase_add_test (tc, test_frozen_content_black);
  tcase_add_test (tc, test_resolution_change);
  tcase_add_test (tc, test_live_stall);
  tcase_add_test (tc, test_report_unwritable);
  tcase_add_test (tc, test_audio);
  tcase_add_test (tc, test_audio_packet_lost);
  tcase_add_test (tc, test_psnr_ssim_match_ffmpeg);
  return s;
}

GST_CHECK_MAIN (qualitymeter);
