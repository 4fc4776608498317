/* hqroomsrc's arrival times (ext/room/hqarrival.c): a stream's first
 * packets, which come in a burst, are stamped as if they had come with the
 * path's delay; a stall does not restart the timing; a path that really
 * got slower is followed.  Suite `room`. */
#include <gst/gst.h>
#include "../../../ext/room/hqarrival.h"

#define RATE 48000
#define PERIOD (20 * GST_MSECOND) /* one packet */
#define T0 GST_SECOND /* when the first packet was sent */
#define PATH (10 * GST_MSECOND) /* the path's delay */
#define HOLD (250 * GST_MSECOND)
#define LATE (100 * GST_MSECOND)
#define FIRST_RTPTIME 0xffffe000u /* wraps after 171 ms */

GST_DEBUG_CATEGORY_STATIC (test_debug);

typedef struct
{
  HqArrival *arrival;
  GQueue ready;
} Fixture;

/* when packet @i was sent */
static GstClockTime
sent (guint i)
{
  return T0 + i * PERIOD;
}

static void
add (Fixture *f, guint32 ssrc, guint i, GstClockTime now, GstClockTime late)
{
  GstBuffer *buf = gst_buffer_new ();

  GST_BUFFER_OFFSET (buf) = i;
  hq_arrival_add (f->arrival, ssrc, FIRST_RTPTIME + i * (RATE / 50), RATE, now,
      late, buf, &f->ready);
}

/* The packets that came out, as "index@ms" */
static gchar *
take_ready (Fixture *f)
{
  GString *s = g_string_new (NULL);
  GstBuffer *buf;

  while ((buf = g_queue_pop_head (&f->ready)) != NULL) {
    g_assert_cmpuint (GST_BUFFER_DTS (buf), ==, GST_BUFFER_PTS (buf));
    g_string_append_printf (s, "%s%" G_GUINT64_FORMAT "@%" G_GUINT64_FORMAT,
        s->len ? " " : "", GST_BUFFER_OFFSET (buf),
        GST_BUFFER_PTS (buf) / GST_MSECOND);
    gst_buffer_unref (buf);
  }
  return g_string_free (s, FALSE);
}

/* "i@ms" for packets @from..@to stamped sent + @delay */
static gchar *
expect (guint from, guint to, GstClockTime delay)
{
  GString *s = g_string_new (NULL);

  for (guint i = from; i <= to; i++)
    g_string_append_printf (s, "%s%u@%" G_GUINT64_FORMAT, s->len ? " " : "", i,
        (sent (i) + delay) / GST_MSECOND);
  return g_string_free (s, FALSE);
}

static void
setup (Fixture *f, gconstpointer data)
{
  f->arrival = hq_arrival_new (HOLD, test_debug);
  g_queue_init (&f->ready);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_queue_clear_full (&f->ready, (GDestroyNotify)gst_buffer_unref);
  hq_arrival_free (f->arrival);
}

/* The first 21 packets (400 ms) come together with the 21st; the rest on
 * time.  Nothing comes out for 250 ms, then each packet is stamped with
 * when it would have come without the burst: the first one 400 ms before
 * it really arrived. */
static void
test_first_burst (Fixture *f, gconstpointer data)
{
  g_autofree gchar *got = NULL, *want = NULL, *rest = NULL, *want_rest = NULL;
  guint i;

  for (i = 0; i <= 20; i++)
    add (f, 1, i, sent (20) + PATH, LATE);
  for (; sent (i) + PATH < sent (20) + PATH + HOLD; i++)
    add (f, 1, i, sent (i) + PATH, LATE);
  g_assert_cmpuint (f->ready.length, ==, 0);
  add (f, 1, i, sent (i) + PATH, LATE); /* the hold is over */
  got = take_ready (f);
  want = expect (0, i, PATH);
  g_assert_cmpstr (got, ==, want);

  /* then each at once, with its arrival time */
  add (f, 1, i + 1, sent (i + 1) + PATH + 3 * GST_MSECOND, LATE);
  rest = take_ready (f);
  want_rest = expect (i + 1, i + 1, PATH + 3 * GST_MSECOND);
  g_assert_cmpstr (rest, ==, want_rest);
}

/* A stream that goes quiet in its hold comes out at another's packet. */
static void
test_quiet_stream (Fixture *f, gconstpointer data)
{
  g_autofree gchar *got = NULL, *want = NULL;

  add (f, 1, 0, sent (0) + PATH, LATE);
  add (f, 1, 1, sent (1) + PATH, LATE);
  add (f, 2, 0, sent (0) + HOLD, LATE);
  g_assert_cmpuint (f->ready.length, ==, 0);
  add (f, 2, 1, sent (0) + PATH + HOLD, LATE);
  /* stream 1's packets; stream 2's still held */
  got = take_ready (f);
  want = expect (0, 1, PATH);
  g_assert_cmpstr (got, ==, want);
}

static void
pass_hold (Fixture *f, guint *i)
{
  for (*i = 0; sent (*i) < sent (0) + 2 * HOLD; (*i)++)
    add (f, 1, *i, sent (*i) + PATH, LATE);
  g_queue_clear_full (&f->ready, (GDestroyNotify)gst_buffer_unref);
}

/* The subscriber stalls for 380 ms: the packets meanwhile come together.
 * Those more than LATE behind are stamped LATE behind, so a jitter buffer
 * of 2 * LATE keeps its timing; the rest keep their arrival time. */
static void
test_stall (Fixture *f, gconstpointer data)
{
  g_autofree gchar *got = NULL, *want = NULL;
  g_autoptr (GString) w = g_string_new (NULL);
  guint i, first;

  pass_hold (f, &i);
  first = i;
  for (; i <= first + 19; i++)
    add (f, 1, i, sent (first + 19) + PATH, LATE);
  got = take_ready (f);
  for (guint j = first; j <= first + 19; j++) {
    GstClockTime t = sent (j) + PATH + LATE;
    if (t > sent (first + 19) + PATH)
      t = sent (first + 19) + PATH;
    g_string_append_printf (
        w, "%s%u@%" G_GUINT64_FORMAT, w->len ? " " : "", j, t / GST_MSECOND);
  }
  g_assert_cmpstr (got, ==, w->str);
  add (f, 1, i, sent (i) + PATH, LATE);
  g_free (got);
  got = take_ready (f);
  want = expect (i, i, PATH);
  g_assert_cmpstr (got, ==, want);
}

/* The path gets 300 ms slower for good: for a second the packets are
 * stamped LATE behind the old delay, then their arrival times are. */
static void
test_slower_path (Fixture *f, gconstpointer data)
{
  GstClockTime slower = PATH + 300 * GST_MSECOND, changed;
  guint i;

  pass_hold (f, &i);
  changed = sent (i) + slower;
  for (; sent (i) + slower < changed + GST_SECOND; i++) {
    GstBuffer *buf;

    add (f, 1, i, sent (i) + slower, LATE);
    buf = g_queue_pop_head (&f->ready);
    /* (the least delay may have risen by 1 ms a second meanwhile) */
    g_assert_cmpuint (GST_BUFFER_PTS (buf), >=, sent (i) + PATH + LATE);
    g_assert_cmpuint (
        GST_BUFFER_PTS (buf), <=, sent (i) + PATH + LATE + 2 * GST_MSECOND);
    gst_buffer_unref (buf);
  }
  for (guint n = 0; n < 3; n++, i++) {
    g_autofree gchar *got = NULL, *want = NULL;

    add (f, 1, i, sent (i) + slower, LATE);
    got = take_ready (f);
    want = expect (i, i, slower);
    g_assert_cmpstr (got, ==, want);
  }
}

/* A packet over a second late starts a new timeline at once. */
static void
test_new_timeline (Fixture *f, gconstpointer data)
{
  g_autofree gchar *got = NULL, *want = NULL;
  guint i;

  pass_hold (f, &i);
  add (f, 1, i, sent (i) + PATH + 3 * GST_SECOND, LATE);
  add (f, 1, i + 1, sent (i + 1) + PATH + 3 * GST_SECOND, LATE);
  got = take_ready (f);
  want = expect (i, i + 1, PATH + 3 * GST_SECOND);
  g_assert_cmpstr (got, ==, want);
}

/* With no latency to keep, a late packet keeps its arrival time. */
static void
test_late_off (Fixture *f, gconstpointer data)
{
  g_autofree gchar *got = NULL, *want = NULL;
  guint i;

  pass_hold (f, &i);
  add (f, 1, i, sent (i) + PATH + 500 * GST_MSECOND, 0);
  got = take_ready (f);
  want = expect (i, i, PATH + 500 * GST_MSECOND);
  g_assert_cmpstr (got, ==, want);
}

/* An SSRC that ended is forgotten, held packets and all. */
static void
test_forget (Fixture *f, gconstpointer data)
{
  g_autoptr (GHashTable) keep = g_hash_table_new (NULL, NULL);

  add (f, 1, 0, sent (0) + PATH, LATE);
  add (f, 2, 0, sent (0) + PATH, LATE);
  g_hash_table_add (keep, GUINT_TO_POINTER (2));
  hq_arrival_forget_others (f->arrival, keep);
  add (f, 2, 20, sent (20) + PATH, LATE);
  g_assert_cmpuint (f->ready.length, ==, 2);
  g_queue_clear_full (&f->ready, (GDestroyNotify)gst_buffer_unref);
  /* a new stream 1 starts from scratch */
  add (f, 1, 30, sent (30) + PATH, LATE);
  g_assert_cmpuint (f->ready.length, ==, 0);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  GST_DEBUG_CATEGORY_INIT (test_debug, "arrival-test", 0, "test");
#define T(name, fn)                                                            \
  g_test_add ("/arrival/" name, Fixture, NULL, setup, fn, teardown)
  T ("first-burst", test_first_burst);
  T ("quiet-stream", test_quiet_stream);
  T ("stall", test_stall);
  T ("slower-path", test_slower_path);
  T ("new-timeline", test_new_timeline);
  T ("late-off", test_late_off);
  T ("forget", test_forget);
  return g_test_run ();
}
