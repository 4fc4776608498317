/* gst-check tests for hqspeakerdetect, driven through GstHarness: audio
 * passes through bit for bit, the levels it measures are RFC 6464 levels,
 * and pads come and go while PLAYING with the right speaker named.
 *
 * All audio is pushed with timestamps in lockstep, 100 ms per pad per step,
 * so every decision the element can make has been made when a push
 * returns and its messages are on the element's bus. */
#include <math.h>
#include <string.h>
#include <gst/gst.h>
#include <gst/audio/audio.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/check/gsttestclock.h>

#define RATE 48000
#define STEP_MS 100
#define STEP_FRAMES (RATE * STEP_MS / 1000)

/* A buffer of @frames S16 mono frames of a 1 kHz sine of @amplitude
 * (0..1 of full scale) at running time @ms. */
static GstBuffer *
sine_s16 (guint frames, gdouble amplitude, guint64 ms)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, frames * 2, NULL);
  GstMapInfo map;
  gint16 *s;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  s = (gint16 *)map.data;
  for (guint i = 0; i < frames; i++)
    s[i] = (gint16)lrint (amplitude * 32767 * sin (2 * G_PI * 1000 * i / RATE));
  gst_buffer_unmap (buf, &map);
  GST_BUFFER_PTS (buf) = ms * GST_MSECOND;
  GST_BUFFER_DURATION (buf) = gst_util_uint64_scale (frames, GST_SECOND, RATE);
  return buf;
}

/* The element from the build tree (GST_PLUGIN_PATH in the test's
 * environment). */
static GstElement *
make_detector (void)
{
  GstElement *e = gst_element_factory_make ("hqspeakerdetect", NULL);

  fail_unless (e != NULL,
      "hqspeakerdetect not found; is GST_PLUGIN_PATH "
      "the build directory of gst/speakerdetect?");
  return e;
}

static GstHarness *
harness_for_pad (GstElement *e, guint index, const gchar *caps)
{
  gchar *sink = g_strdup_printf ("sink_%u", index);
  gchar *src = g_strdup_printf ("src_%u", index);
  GstHarness *h = gst_harness_new_with_element (e, sink, src);

  gst_harness_set_src_caps_str (h, caps);
  g_free (sink);
  g_free (src);
  return h;
}

/* Pops the element messages named @name from @bus into a list. */
static GList *
pop_messages (GstBus *bus, const gchar *name)
{
  GList *list = NULL;
  GstMessage *m;

  while ((m = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    if (gst_message_has_name (m, name))
      list = g_list_append (list, m);
    else
      gst_message_unref (m);
  }
  return list;
}

static const gchar *
field (GstMessage *m, const gchar *name)
{
  return gst_structure_get_string (gst_message_get_structure (m), name);
}

GST_START_TEST (test_passthrough_bit_exact)
{
  GstElement *e = make_detector ();
  GstHarness *h = harness_for_pad (e, 0,
      "audio/x-raw, format=S24LE, rate=44100, channels=3, "
      "layout=interleaved");
  GstBuffer *in = gst_buffer_new_allocate (NULL, 3 * 3 * 1000, NULL);
  GstBuffer *out;
  GstCaps *caps;
  GstMapInfo map;
  GRand *rand = g_rand_new_with_seed (7);

  gst_buffer_map (in, &map, GST_MAP_WRITE);
  for (gsize i = 0; i < map.size; i++)
    map.data[i] = g_rand_int (rand) & 0xff;
  gst_buffer_unmap (in, &map);
  GST_BUFFER_PTS (in) = 5 * GST_SECOND;
  GST_BUFFER_DURATION (in) = gst_util_uint64_scale (1000, GST_SECOND, 44100);
  GST_BUFFER_OFFSET (in) = 220500;
  gst_buffer_ref (in);

  fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
  out = gst_harness_pull (h);
  fail_unless (gst_buffer_get_size (out) == gst_buffer_get_size (in));
  gst_buffer_map (out, &map, GST_MAP_READ);
  fail_unless (gst_buffer_memcmp (in, 0, map.data, map.size) == 0);
  gst_buffer_unmap (out, &map);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 5 * GST_SECOND);
  fail_unless_equals_uint64 (
      GST_BUFFER_DURATION (out), GST_BUFFER_DURATION (in));
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (out), 220500);

  caps = gst_pad_get_current_caps (h->sinkpad);
  fail_unless (gst_caps_is_equal (caps, gst_pad_get_current_caps (h->srcpad)));
  gst_caps_unref (caps);
  gst_caps_unref (gst_pad_get_current_caps (h->srcpad));

  gst_buffer_unref (out);
  gst_buffer_unref (in);
  g_rand_free (rand);
  gst_harness_teardown (h);
  gst_object_unref (e);
}

GST_END_TEST;

/* Fills @n_frames frames of @format, @channels channels, with a 1 kHz sine
 * of @amplitude, through GStreamer's own packer so every format is written
 * the way it is defined. */
static GstBuffer *
sine_any (GstAudioFormat format, guint rate, guint channels, guint n_frames,
    gdouble amplitude)
{
  const GstAudioFormatInfo *finfo = gst_audio_format_get_info (format);
  gdouble *unpacked = g_new (gdouble, n_frames * channels);
  GstBuffer *buf = gst_buffer_new_allocate (NULL,
      n_frames * channels * GST_AUDIO_FORMAT_INFO_WIDTH (finfo) / 8, NULL);
  GstMapInfo map;

  for (guint i = 0; i < n_frames; i++) {
    gdouble v = amplitude * sin (2 * G_PI * 1000 * i / (gdouble)rate);
    for (guint c = 0; c < channels; c++) {
      if (finfo->unpack_format == GST_AUDIO_FORMAT_F64)
        unpacked[i * channels + c] = v;
      else
        ((gint32 *)unpacked)[i * channels + c] =
            (gint32)lrint (v * 2147483647.0);
    }
  }
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  finfo->pack_func (
      finfo, GST_AUDIO_PACK_FLAG_NONE, unpacked, map.data, n_frames * channels);
  gst_buffer_unmap (buf, &map);
  g_free (unpacked);
  GST_BUFFER_PTS (buf) = 0;
  GST_BUFFER_DURATION (buf) =
      gst_util_uint64_scale (n_frames, GST_SECOND, rate);
  return buf;
}

/* One second of a sine in @format through a pad beside one second of
 * digital silence: the posted levels are the RFC 6464 values. */
static void
check_levels (GstAudioFormat format, guint rate, guint channels,
    gdouble amplitude, guint expected)
{
  GstElement *e = make_detector ();
  GstBus *bus = gst_bus_new ();
  const gchar *format_name = gst_audio_format_to_string (format);
  gchar *caps = g_strdup_printf ("audio/x-raw, format=%s, rate=%u, "
                                 "channels=%u, layout=interleaved",
      format_name, rate, channels);
  GstHarness *h0, *h1;
  GList *levels, *l;
  guint n = 0;

  g_object_set (e, "post-levels", TRUE, NULL);
  gst_element_set_bus (e, bus);
  h0 = harness_for_pad (e, 0, caps);
  h1 = harness_for_pad (e, 1,
      "audio/x-raw, format=U8, rate=8000, "
      "channels=1, layout=interleaved");
  {
    GstBuffer *silence = gst_buffer_new_allocate (NULL, 8000, NULL);
    gst_buffer_memset (silence, 0, 128, 8000);
    GST_BUFFER_PTS (silence) = 0;
    GST_BUFFER_DURATION (silence) = GST_SECOND;
    fail_unless_equals_int (gst_harness_push (h1, silence), GST_FLOW_OK);
  }
  fail_unless_equals_int (
      gst_harness_push (h0, sine_any (format, rate, channels, rate, amplitude)),
      GST_FLOW_OK);

  levels = pop_messages (bus, "hq-speaker-levels");
  fail_unless (g_list_length (levels) >= 3);
  for (l = levels; l; l = l->next) {
    const GstStructure *s = gst_message_get_structure (l->data);
    const GValue *v = gst_structure_get_value (s, "levels");

    const GValue *who = gst_structure_get_value (s, "participants");

    fail_unless_equals_int (gst_value_array_get_size (v), 2);
    fail_unless_equals_string (
        g_value_get_string (gst_value_array_get_value (who, 1)), "sink_1");
    fail_unless_equals_int (
        g_value_get_uint (gst_value_array_get_value (v, 0)), expected);
    fail_unless_equals_int (
        g_value_get_uint (gst_value_array_get_value (v, 1)), 127);
    n++;
  }
  GST_INFO ("%s: %u intervals at level %u", format_name, n, expected);

  g_list_free_full (levels, (GDestroyNotify)gst_message_unref);
  gst_harness_teardown (h0);
  gst_harness_teardown (h1);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
  g_free (caps);
}

/* A sine of amplitude A has mean square A^2/2: -dBov = -20 log10 (A) + 3. */
GST_START_TEST (test_levels_rfc6464)
{
  check_levels (GST_AUDIO_FORMAT_S16, 48000, 1, 1.0, 3);
  check_levels (GST_AUDIO_FORMAT_S16, 48000, 1, 0.5, 9);
  check_levels (GST_AUDIO_FORMAT_F32, 44100, 2, 0.1, 23);
  check_levels (GST_AUDIO_FORMAT_S24, 16000, 1, 0.25, 15);
  check_levels (GST_AUDIO_FORMAT_F64, 8000, 6, 0.01, 43);
  check_levels (GST_AUDIO_FORMAT_S16, 48000, 1, 0.0, 127);
}

GST_END_TEST;

/* Speech-like: 1 kHz syllables of 160 ms with 40 ms pauses in which only
 * the microphone's noise (-69 dBov) is heard. */
static GstBuffer *
talk_s16 (guint64 ms, gdouble amplitude)
{
  GstBuffer *buf = sine_s16 (STEP_FRAMES, amplitude, ms);
  GstMapInfo map;
  gint16 *s;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  s = (gint16 *)map.data;
  for (guint i = 0; i < STEP_FRAMES; i++)
    if ((ms + i * 1000 / RATE) % 200 >= 160)
      s[i] /= 600;
  gst_buffer_unmap (buf, &map);
  return buf;
}

typedef struct
{
  GstHarness *h;
  GstPad *feed; /* when not fed through a harness */
  gboolean talking;
} Feed;

/* Pushes @ms of audio to every feed in lockstep from *@now. */
static void
run (Feed *feeds, guint n, guint64 *now, guint64 ms)
{
  for (guint64 end = *now + ms; *now < end; *now += STEP_MS) {
    for (guint i = 0; i < n; i++) {
      GstBuffer *buf = feeds[i].talking ? talk_s16 (*now, 0.3)
                                        : sine_s16 (STEP_FRAMES, 0.0, *now);
      if (feeds[i].h) {
        fail_unless_equals_int (
            gst_harness_push (feeds[i].h, buf), GST_FLOW_OK);
      } else if (feeds[i].feed) {
        gst_pad_push (feeds[i].feed, buf);
      } else {
        gst_buffer_unref (buf);
      }
    }
  }
}

/* The last hq-dominant-speaker message on @bus; fails if there is none. */
static GstMessage *
last_switch (GstBus *bus)
{
  GList *list = pop_messages (bus, "hq-dominant-speaker");
  GstMessage *last;

  fail_unless (list != NULL, "no hq-dominant-speaker message");
  last = gst_message_ref (g_list_last (list)->data);
  g_list_free_full (list, (GDestroyNotify)gst_message_unref);
  return last;
}

#define S16_CAPS                                                               \
  "audio/x-raw, format=S16LE, rate=48000, channels=1, "                        \
  "layout=interleaved"

GST_START_TEST (test_pads_while_playing)
{
  GstElement *e = make_detector ();
  GstBus *bus = gst_bus_new ();
  Feed feeds[3] = { { 0 } };
  GstPad *sink2, *src2;
  GstMessage *m;
  GstSegment segment;
  guint64 now = 0;
  gchar *dominant;

  gst_element_set_bus (e, bus);
  feeds[0].h = harness_for_pad (e, 0, S16_CAPS);
  feeds[1].h = harness_for_pad (e, 1, S16_CAPS);
  /* Named as on a launch line: hqspeakerdetect sink_0::participant=alice */
  gst_child_proxy_set (
      GST_CHILD_PROXY (e), "sink_0::participant", "alice", NULL);

  /* Alice talks, Bob is silent. */
  feeds[0].talking = TRUE;
  run (feeds, 2, &now, 2000);
  m = last_switch (bus);
  fail_unless_equals_string (field (m, "participant"), "alice");
  fail_unless_equals_string (field (m, "pad"), "sink_0");
  fail_unless (field (m, "previous") == NULL);
  gst_message_unref (m);
  g_object_get (e, "dominant-speaker", &dominant, NULL);
  fail_unless_equals_string (dominant, "alice");
  g_free (dominant);

  /* Carol joins while PLAYING on a new pad; hqroomsrc-style tag names her. */
  fail_unless_equals_int (GST_STATE (e), GST_STATE_PLAYING);
  sink2 = gst_element_request_pad_simple (e, "sink_%u");
  fail_unless_equals_string (GST_OBJECT_NAME (sink2), "sink_2");
  src2 = gst_element_get_static_pad (e, "src_2");
  fail_unless (src2 != NULL);
  feeds[2].feed = gst_pad_new ("feed", GST_PAD_SRC);
  gst_pad_set_active (feeds[2].feed, TRUE);
  fail_unless_equals_int (gst_pad_link (feeds[2].feed, sink2), GST_PAD_LINK_OK);
  gst_pad_push_event (feeds[2].feed, gst_event_new_stream_start ("carol"));
  gst_pad_push_event (
      feeds[2].feed, gst_event_new_caps (gst_caps_from_string (S16_CAPS)));
  gst_segment_init (&segment, GST_FORMAT_TIME);
  gst_pad_push_event (feeds[2].feed, gst_event_new_segment (&segment));
  gst_pad_push_event (feeds[2].feed,
      gst_event_new_tag (gst_tag_list_new ("hq-participant", "carol", NULL)));
  {
    gchar *participant;
    g_object_get (sink2, "participant", &participant, NULL);
    fail_unless_equals_string (participant, "carol");
    g_free (participant);
  }

  /* Alice stops, Carol talks: Carol takes the floor. */
  feeds[0].talking = FALSE;
  feeds[2].talking = TRUE;
  run (feeds, 3, &now, 2000);
  m = last_switch (bus);
  fail_unless_equals_string (field (m, "participant"), "carol");
  fail_unless_equals_string (field (m, "pad"), "sink_2");
  fail_unless_equals_string (field (m, "previous"), "alice");
  fail_unless (
      g_str_has_prefix (gst_structure_get_name (gst_message_get_structure (m)),
          "hq-dominant-speaker"));
  gst_message_unref (m);

  /* Carol's pad goes away while PLAYING: nobody speaks, nobody is named. */
  gst_pad_unlink (feeds[2].feed, sink2);
  gst_element_release_request_pad (e, sink2);
  gst_object_unref (sink2);
  gst_object_unref (src2);
  gst_object_unref (feeds[2].feed);
  feeds[2].feed = NULL;
  feeds[2].talking = FALSE;
  fail_unless (gst_element_get_static_pad (e, "src_2") == NULL);
  run (feeds, 2, &now, 1000);
  m = last_switch (bus);
  fail_unless (field (m, "participant") == NULL);
  fail_unless_equals_string (field (m, "previous"), "carol");
  gst_message_unref (m);

  /* Bob's stream ends: decisions go on without waiting for him, and when
   * Alice talks again she is named. */
  fail_unless (gst_harness_push_event (feeds[1].h, gst_event_new_eos ()));
  feeds[0].talking = TRUE;
  run (feeds, 1, &now, 2000);
  m = last_switch (bus);
  fail_unless_equals_string (field (m, "participant"), "alice");
  fail_unless (field (m, "previous") == NULL);
  gst_message_unref (m);

  gst_harness_teardown (feeds[0].h);
  gst_harness_teardown (feeds[1].h);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
}

GST_END_TEST;

/* The naive baseline is selectable by its nick, as on a launch line. */
/* With a silence timeout, nobody is named once everyone has been quiet
 * that long; without one, the last speaker stays. */
static void
check_silence (guint timeout_ms, gboolean expect_nobody)
{
  GstElement *e = make_detector ();
  GstBus *bus = gst_bus_new ();
  Feed feeds[2] = { { 0 } };
  guint64 now = 0;
  GstMessage *m;

  g_object_set (e, "silence-timeout", timeout_ms, NULL);
  gst_element_set_bus (e, bus);
  feeds[0].h = harness_for_pad (e, 0, S16_CAPS);
  feeds[1].h = harness_for_pad (e, 1, S16_CAPS);
  feeds[1].talking = TRUE;
  run (feeds, 2, &now, 2000);
  m = last_switch (bus);
  fail_unless_equals_string (field (m, "participant"), "sink_1");
  gst_message_unref (m);

  feeds[1].talking = FALSE;
  run (feeds, 2, &now, 4000);
  if (expect_nobody) {
    m = last_switch (bus);
    fail_unless (field (m, "participant") == NULL);
    fail_unless_equals_string (field (m, "previous"), "sink_1");
    gst_message_unref (m);
  } else {
    GList *none = pop_messages (bus, "hq-dominant-speaker");
    fail_unless (none == NULL);
  }

  gst_harness_teardown (feeds[0].h);
  gst_harness_teardown (feeds[1].h);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
}

GST_START_TEST (test_silence_timeout)
{
  check_silence (3000, TRUE);
  check_silence (0, FALSE);
}

GST_END_TEST;

/* Live: a participant whose stream stops (muted, DTX) does not hold the
 * others back; a second after the clock passes, they count as silent. */
GST_START_TEST (test_live_silent_pad)
{
  GstElement *e = make_detector ();
  GstBus *bus = gst_bus_new ();
  Feed feeds[2] = { { 0 } };
  GstTestClock *clock;
  GstHarness *stopped;
  guint64 now = 0;
  GstMessage *m;

  gst_element_set_bus (e, bus);
  feeds[0].h = harness_for_pad (e, 0, S16_CAPS);
  feeds[1].h = harness_for_pad (e, 1, S16_CAPS);
  gst_harness_use_testclock (feeds[0].h);
  clock = gst_harness_get_testclock (feeds[0].h);

  /* Both send; sink_1 talks. */
  feeds[1].talking = TRUE;
  run (feeds, 2, &now, 1000);
  m = last_switch (bus);
  fail_unless_equals_string (field (m, "participant"), "sink_1");
  gst_message_unref (m);

  /* sink_1 stops sending, sink_0 talks in real time. */
  stopped = feeds[1].h;
  feeds[1].h = NULL;
  feeds[0].talking = TRUE;
  for (guint i = 0; i < 30; i++) {
    gst_test_clock_set_time (clock, (now + STEP_MS) * GST_MSECOND);
    run (feeds, 2, &now, STEP_MS);
  }
  m = last_switch (bus);
  fail_unless_equals_string (field (m, "participant"), "sink_0");
  fail_unless_equals_string (field (m, "previous"), "sink_1");
  gst_message_unref (m);

  gst_object_unref (clock);
  gst_harness_teardown (feeds[0].h);
  gst_harness_teardown (stopped);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
}

GST_END_TEST;

/* Live, and nobody sends anything any more: the clock still drives the
 * decisions, and the silence timeout names nobody. */
GST_START_TEST (test_live_all_silent)
{
  GstElement *e = make_detector ();
  GstBus *bus = gst_bus_new ();
  GstClock *clock = gst_test_clock_new ();
  Feed feeds[2] = { { 0 } };
  guint64 now = 0;
  GstMessage *m;

  gst_element_set_clock (e, clock);
  g_object_set (e, "silence-timeout", 2000, NULL);
  gst_element_set_bus (e, bus);
  feeds[0].h = harness_for_pad (e, 0, S16_CAPS);
  feeds[1].h = harness_for_pad (e, 1, S16_CAPS);
  feeds[0].talking = TRUE;
  for (guint i = 0; i < 10; i++) {
    gst_test_clock_set_time (
        GST_TEST_CLOCK (clock), (now + STEP_MS) * GST_MSECOND);
    run (feeds, 2, &now, STEP_MS);
  }
  m = last_switch (bus);
  fail_unless_equals_string (field (m, "participant"), "sink_0");
  gst_message_unref (m);

  /* Nothing arrives for five seconds of clock time. */
  for (guint i = 0; i < 50; i++) {
    now += STEP_MS;
    gst_test_clock_set_time (GST_TEST_CLOCK (clock), now * GST_MSECOND);
    while (gst_test_clock_peek_id_count (GST_TEST_CLOCK (clock)) > 0
        && gst_test_clock_process_next_clock_id (GST_TEST_CLOCK (clock)))
      ;
  }
  m = last_switch (bus);
  fail_unless (field (m, "participant") == NULL);
  fail_unless_equals_string (field (m, "previous"), "sink_0");
  gst_message_unref (m);

  gst_harness_teardown (feeds[0].h);
  gst_harness_teardown (feeds[1].h);
  gst_object_unref (clock);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
}

GST_END_TEST;

GST_START_TEST (test_algorithm_property)
{
  GstElement *e = make_detector ();
  gint algorithm;

  g_object_get (e, "algorithm", &algorithm, NULL);
  fail_unless_equals_int (algorithm, 0);
  gst_util_set_object_arg (G_OBJECT (e), "algorithm", "loudest");
  g_object_get (e, "algorithm", &algorithm, NULL);
  fail_unless_equals_int (algorithm, 1);
  gst_object_unref (e);
}

GST_END_TEST;

static Suite *
speakerdetect_suite (void)
{
  Suite *s = suite_create ("hqspeakerdetect");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_passthrough_bit_exact);
  tcase_add_test (tc, test_levels_rfc6464);
  tcase_add_test (tc, test_pads_while_playing);
  tcase_add_test (tc, test_silence_timeout);
  tcase_add_test (tc, test_live_silent_pad);
  tcase_add_test (tc, test_live_all_silent);
  tcase_add_test (tc, test_algorithm_property);
  return s;
}

GST_CHECK_MAIN (speakerdetect);
