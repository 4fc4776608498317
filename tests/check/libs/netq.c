/* Network quality scoring: the documented examples, each impairment on its
 * own and together, the six levels, and smoothing that falls at once and
 * recovers gradually.  Suite `netq`. */
#include <glib.h>
#include <hq/hqnetq.h>

static HqNetqSample
clean (HqNetqKind kind)
{
  HqNetqSample s = { .kind = kind, .rtt_ms = 1, .jitter_ms = 0.5 };
  return s;
}

static void
test_examples (void)
{
  HqNetqSample s = clean (HQ_NETQ_AUDIO);

  g_assert_cmpuint (hq_netq_level_from_r (hq_netq_r_factor (&s)), ==, 5);
  s.rtt_ms = 100;
  s.jitter_ms = 0;
  s.fraction_lost = 0.01;
  g_assert_cmpfloat_with_epsilon (hq_netq_r_factor (&s), 90.75, 0.01);
  g_assert_cmpuint (hq_netq_level_from_r (hq_netq_r_factor (&s)), ==, 5);

  s = clean (HQ_NETQ_VIDEO);
  s.fraction_lost = 0.04;
  g_assert_cmpuint (hq_netq_level_from_r (hq_netq_r_factor (&s)), ==, 3);

  s = clean (HQ_NETQ_VIDEO);
  s.rtt_ms = 300;
  s.jitter_ms = 50;
  g_assert_cmpfloat_with_epsilon (hq_netq_r_factor (&s), 87, 0.01);
  s.fraction_lost = 0.02;
  g_assert_cmpfloat_with_epsilon (hq_netq_r_factor (&s), 67, 0.01);
  g_assert_cmpuint (hq_netq_level_from_r (hq_netq_r_factor (&s)), ==, 3);

  s = clean (HQ_NETQ_VIDEO);
  s.demand_bps = 1e6;
  s.bitrate_bps = 5e5;
  g_assert_cmpuint (hq_netq_level_from_r (hq_netq_r_factor (&s)), ==, 2);
  /* The estimate caps what was achieved. */
  s.bitrate_bps = 1e6;
  s.available_bps = 3e5;
  g_assert_cmpuint (hq_netq_level_from_r (hq_netq_r_factor (&s)), ==, 1);
}

static void
test_monotonic (void)
{
  /* More loss, delay or jitter never scores better. */
  for (HqNetqKind k = HQ_NETQ_AUDIO; k <= HQ_NETQ_VIDEO; k++) {
    gdouble prev = 101;
    for (gdouble loss = 0; loss <= 0.3; loss += 0.01) {
      HqNetqSample s = clean (k);
      s.fraction_lost = loss;
      g_assert_cmpfloat (hq_netq_r_factor (&s), <=, prev);
      prev = hq_netq_r_factor (&s);
    }
    prev = 101;
    for (gdouble rtt = 0; rtt <= 2000; rtt += 25) {
      HqNetqSample s = clean (k);
      s.rtt_ms = rtt;
      g_assert_cmpfloat (hq_netq_r_factor (&s), <=, prev);
      prev = hq_netq_r_factor (&s);
    }
  }
}

static void
test_all_levels (void)
{
  /* Video loss alone walks through every level from 5 down to 1. */
  const gdouble loss[] = { 0.0, 0.02, 0.04, 0.05, 0.08 };
  const guint expect[] = { 5, 4, 3, 2, 1 };

  for (guint i = 0; i < G_N_ELEMENTS (loss); i++) {
    HqNetqSample s = clean (HQ_NETQ_VIDEO);
    s.fraction_lost = loss[i];
    g_assert_cmpuint (
        hq_netq_level_from_r (hq_netq_r_factor (&s)), ==, expect[i]);
  }
}

static void
test_silence_and_nothing (void)
{
  HqNetqScore score = { 0 };
  HqNetqSample s = clean (HQ_NETQ_AUDIO);

  /* Nothing to send or receive: excellent. */
  g_assert_cmpuint (hq_netq_score_update (&score, NULL, 0), ==, 5);
  s.silent = TRUE;
  g_assert_cmpuint (hq_netq_score_update (&score, &s, 1), ==, 0);
}

static void
test_worst_stream_counts (void)
{
  HqNetqScore score = { 0 };
  HqNetqSample s[2] = { clean (HQ_NETQ_AUDIO), clean (HQ_NETQ_VIDEO) };

  s[1].fraction_lost = 0.08;
  g_assert_cmpuint (hq_netq_score_update (&score, s, 2), ==, 1);
}

static void
test_smoothing (void)
{
  HqNetqScore score = { 0 };
  HqNetqSample good = clean (HQ_NETQ_VIDEO), bad = clean (HQ_NETQ_VIDEO);
  guint intervals = 0;

  bad.fraction_lost = 0.08;
  g_assert_cmpuint (hq_netq_score_update (&score, &good, 1), ==, 5);
  /* One bad second: down at once. */
  g_assert_cmpuint (hq_netq_score_update (&score, &bad, 1), ==, 1);
  /* Good again: recovers through the levels, not in one step. */
  g_assert_cmpuint (hq_netq_score_update (&score, &good, 1), <, 5);
  while (hq_netq_score_update (&score, &good, 1) < 5)
    intervals++;
  g_assert_cmpuint (intervals, >=, 2);
  g_assert_cmpuint (intervals, <=, 10);
}

static void
test_mos (void)
{
  g_assert_cmpfloat_with_epsilon (hq_netq_mos (100), 4.5, 0.01);
  g_assert_cmpfloat (hq_netq_mos (50), <, hq_netq_mos (80));
  g_assert_cmpfloat_with_epsilon (hq_netq_mos (0), 1.0, 0.01);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/netq/examples", test_examples);
  g_test_add_func ("/netq/monotonic", test_monotonic);
  g_test_add_func ("/netq/all-levels", test_all_levels);
  g_test_add_func ("/netq/silence-and-nothing", test_silence_and_nothing);
  g_test_add_func ("/netq/worst-stream-counts", test_worst_stream_counts);
  g_test_add_func ("/netq/smoothing", test_smoothing);
  g_test_add_func ("/netq/mos", test_mos);
  return g_test_run ();
}
