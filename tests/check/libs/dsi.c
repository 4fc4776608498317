/* Unit tests for libhq dominant speaker identification.
 *
 * Each test plays a scripted meeting into an HqDsi as a real caller would:
 * one RFC 6464 level per speaker per 20 ms and a tick every 300 ms, and
 * checks who the detector names and when.  Speech is modelled as syllables:
 * 160 ms at the talker's level, then a 40 ms dip of 25 dB. */
#include <string.h>
#include <glib.h>
#include <hq/hqdsi.h>

#define TICK_MS 300
#define N_MAX 4

/* What one speaker does over a stretch of time. */
typedef enum
{
  QUIET, /* background noise only */
  TALK, /* syllables at the speaker's level */
  BURST, /* a broadband noise burst: flat, loud */
  ABSENT, /* sends no levels at all */
} Act;

typedef struct
{
  HqDsi *dsi;
  guint n;
  guint talk_level[N_MAX]; /* -dBov of speech */
  guint noise_level[N_MAX]; /* -dBov of the microphone's noise */
  gint64 now;
  guint n_switches;
  gboolean has_dominant;
  guint32 dominant;
  gint64 last_switch_ms;
} Meeting;

static void
meeting_init (Meeting *m, HqDsiAlgorithm algorithm, guint n)
{
  *m = (Meeting){ 0 };
  m->dsi = hq_dsi_new (algorithm);
  m->n = n;
  for (guint i = 0; i < n; i++) {
    m->talk_level[i] = 25;
    m->noise_level[i] = 70;
    g_assert_true (hq_dsi_add_speaker (m->dsi, i, NULL));
  }
}

static guint
level_of (const Meeting *m, guint speaker, Act act, gint64 t)
{
  switch (act) {
    case TALK:
      return (t % 200) < 160 ? m->talk_level[speaker]
                             : MIN (m->talk_level[speaker] + 25, 127);
    case BURST:
      return 20;
    default:
      return m->noise_level[speaker];
  }
}

/* Plays @duration_ms with speaker i doing acts[i], ticking on time. */
static void
play (Meeting *m, gint64 duration_ms, const Act *acts)
{
  gint64 end = m->now + duration_ms;

  for (; m->now < end; m->now += HQ_DSI_LEVEL_MS) {
    guint32 id;
    gboolean has;

    for (guint i = 0; i < m->n; i++) {
      if (acts[i] == ABSENT)
        continue;
      g_assert_true (hq_dsi_push_level (
          m->dsi, i, level_of (m, i, acts[i], m->now), m->now, NULL));
    }
    if ((m->now + HQ_DSI_LEVEL_MS) % TICK_MS == 0
        && hq_dsi_tick (m->dsi, m->now + HQ_DSI_LEVEL_MS, &id, &has)) {
      m->n_switches++;
      m->has_dominant = has;
      m->dominant = id;
      m->last_switch_ms = m->now + HQ_DSI_LEVEL_MS;
    }
  }
}

static void
meeting_clear (Meeting *m)
{
  hq_dsi_free (m->dsi);
}

static void
test_nobody_before_anyone_speaks (void)
{
  Meeting m;
  Act quiet[] = { QUIET, QUIET };

  meeting_init (&m, HQ_DSI_ALGORITHM_DSI, 2);
  play (&m, 3000, quiet);
  g_assert_cmpuint (m.n_switches, ==, 0);
  g_assert_false (hq_dsi_get_dominant (m.dsi, NULL));
  meeting_clear (&m);
}

static void
test_first_speaker_takes_floor (void)
{
  Meeting m;
  Act b_talks[] = { QUIET, TALK };
  guint32 id = 99;

  meeting_init (&m, HQ_DSI_ALGORITHM_DSI, 2);
  play (&m, 1000, b_talks);
  g_assert_true (hq_dsi_get_dominant (m.dsi, &id));
  g_assert_cmpuint (id, ==, 1);
  g_assert_cmpuint (m.n_switches, ==, 1);
  meeting_clear (&m);
}

static void
test_turn_change_switches_within_a_second (void)
{
  Meeting m;
  Act a_talks[] = { TALK, QUIET, QUIET };
  Act c_talks[] = { QUIET, QUIET, TALK };

  meeting_init (&m, HQ_DSI_ALGORITHM_DSI, 3);
  play (&m, 3000, a_talks);
  g_assert_cmpuint (m.dominant, ==, 0);
  play (&m, 3000, c_talks);
  g_assert_cmpuint (m.dominant, ==, 2);
  g_assert_cmpuint (m.n_switches, ==, 2);
  g_assert_cmpint (m.last_switch_ms - 3000, <=, 1000);
  meeting_clear (&m);
}

/* Silence keeps the last speaker (no timeout) ... */
static void
test_silence_keeps_speaker (void)
{
  Meeting m;
  Act a_talks[] = { TALK, QUIET };
  Act quiet[] = { QUIET, QUIET };

  meeting_init (&m, HQ_DSI_ALGORITHM_DSI, 2);
  play (&m, 2000, a_talks);
  play (&m, 10000, quiet);
  g_assert_true (hq_dsi_get_dominant (m.dsi, NULL));
  g_assert_cmpuint (m.dominant, ==, 0);
  g_assert_cmpuint (m.n_switches, ==, 1);
  meeting_clear (&m);
}

/* ... and a silence timeout names nobody once it has passed. */
static void
test_silence_timeout_names_nobody (void)
{
  Meeting m;
  Act a_talks[] = { TALK, QUIET };
  Act quiet[] = { QUIET, QUIET };

  meeting_init (&m, HQ_DSI_ALGORITHM_DSI, 2);
  hq_dsi_set_silence_timeout (m.dsi, 3000);
  play (&m, 2000, a_talks);
  play (&m, 2700, quiet);
  g_assert_true (hq_dsi_get_dominant (m.dsi, NULL));
  play (&m, 1000, quiet);
  g_assert_false (hq_dsi_get_dominant (m.dsi, NULL));
  g_assert_false (m.has_dominant);
  g_assert_cmpuint (m.n_switches, ==, 2);
  play (&m, 1000, a_talks);
  g_assert_true (m.has_dominant);
  g_assert_cmpuint (m.dominant, ==, 0);
  meeting_clear (&m);
}

/* Murmurs below speech level (-60 dBov) are silence for the timeout, for
 * the loudest baseline too: nobody is named, and nothing flaps. */
static void
test_silence_timeout_ignores_murmurs (void)
{
  Meeting m;
  Act murmur[] = { TALK, QUIET };

  meeting_init (&m, HQ_DSI_ALGORITHM_LOUDEST, 2);
  hq_dsi_set_silence_timeout (m.dsi, 1000);
  m.talk_level[0] = 60;
  play (&m, 5000, murmur);
  g_assert_cmpuint (m.n_switches, ==, 0);
  meeting_clear (&m);
}

/* A cough or a door on another microphone, or an "mm-hm", while someone
 * speaks: the detector stays, the loudest-speaker baseline jumps. */
static void
check_interruption (
    HqDsiAlgorithm algorithm, Act what, gint64 ms, guint expected_switches)
{
  Meeting m;
  Act a_talks[] = { TALK, QUIET };
  Act interruption[] = { TALK, what };

  meeting_init (&m, algorithm, 2);
  m.talk_level[1] = 20;
  play (&m, 3000, a_talks);
  play (&m, ms, interruption);
  play (&m, 3000, a_talks);
  g_assert_cmpuint (m.dominant, ==, 0);
  g_assert_cmpuint (m.n_switches, ==, expected_switches);
  meeting_clear (&m);
}

static void
test_noise_burst_ignored (void)
{
  check_interruption (HQ_DSI_ALGORITHM_DSI, BURST, 600, 1);
}

static void
test_backchannel_ignored (void)
{
  check_interruption (HQ_DSI_ALGORITHM_DSI, TALK, 600, 1);
}

static void
test_loudest_follows_noise_burst (void)
{
  check_interruption (HQ_DSI_ALGORITHM_LOUDEST, BURST, 600, 3);
}

/* A speaker 20 dB quieter than the others is still found when alone. */
static void
test_quiet_speaker_found (void)
{
  Meeting m;
  Act a_talks[] = { TALK, QUIET };
  Act b_talks[] = { QUIET, TALK };

  meeting_init (&m, HQ_DSI_ALGORITHM_DSI, 2);
  m.talk_level[0] = 18;
  m.talk_level[1] = 38;
  m.noise_level[0] = 60;
  m.noise_level[1] = 75;
  play (&m, 3000, a_talks);
  play (&m, 3000, b_talks);
  g_assert_cmpuint (m.dominant, ==, 1);
  meeting_clear (&m);
}

/* A microphone with loud steady noise (a fan at -45 dBov) is not speech:
 * the noise floor takes it out. */
static void
test_steady_noise_is_not_speech (void)
{
  Meeting m;
  Act b_talks[] = { QUIET, TALK };

  meeting_init (&m, HQ_DSI_ALGORITHM_DSI, 2);
  m.noise_level[0] = 45;
  m.talk_level[1] = 35;
  play (&m, 4000, b_talks);
  g_assert_cmpuint (m.dominant, ==, 1);
  g_assert_cmpuint (m.n_switches, ==, 1);
  meeting_clear (&m);
}

/* A speaker whose levels stop coming (muted, packets lost) is silent. */
static void
test_missing_levels_are_silence (void)
{
  Meeting m;
  Act a_talks[] = { TALK, QUIET };
  Act b_talks_a_gone[] = { ABSENT, TALK };

  meeting_init (&m, HQ_DSI_ALGORITHM_DSI, 2);
  play (&m, 3000, a_talks);
  play (&m, 2000, b_talks_a_gone);
  g_assert_cmpuint (m.dominant, ==, 1);
  meeting_clear (&m);
}

static void
test_removing_dominant_reports_change (void)
{
  Meeting m;
  Act a_talks[] = { TALK, QUIET };
  Act b_talks[] = { ABSENT, TALK };
  guint32 id;
  gboolean has = TRUE;

  meeting_init (&m, HQ_DSI_ALGORITHM_DSI, 2);
  play (&m, 3000, a_talks);
  g_assert_true (hq_dsi_remove_speaker (m.dsi, 0, NULL));
  g_assert_cmpuint (hq_dsi_get_n_speakers (m.dsi), ==, 1);
  g_assert_false (hq_dsi_get_dominant (m.dsi, NULL));
  g_assert_true (hq_dsi_tick (m.dsi, m.now, &id, &has));
  g_assert_false (has);
  m.n = 2;
  play (&m, 1000, b_talks);
  g_assert_cmpuint (m.dominant, ==, 1);
  meeting_clear (&m);
}

static void
test_errors (void)
{
  HqDsi *dsi = hq_dsi_new (HQ_DSI_ALGORITHM_DSI);
  GError *error = NULL;

  g_assert_true (hq_dsi_add_speaker (dsi, 7, NULL));
  g_assert_false (hq_dsi_add_speaker (dsi, 7, &error));
  g_assert_error (error, HQ_DSI_ERROR, HQ_DSI_ERROR_DUPLICATE_SPEAKER);
  g_clear_error (&error);

  g_assert_false (hq_dsi_push_level (dsi, 8, 30, 0, &error));
  g_assert_error (error, HQ_DSI_ERROR, HQ_DSI_ERROR_UNKNOWN_SPEAKER);
  g_clear_error (&error);

  g_assert_false (hq_dsi_push_level (dsi, 7, 128, 0, &error));
  g_assert_error (error, HQ_DSI_ERROR, HQ_DSI_ERROR_INVALID_LEVEL);
  g_assert_nonnull (strstr (error->message, "0..127"));
  g_clear_error (&error);

  g_assert_true (hq_dsi_push_level (dsi, 7, 30, 1000, NULL));
  g_assert_false (hq_dsi_push_level (dsi, 7, 30, 980, &error));
  g_assert_error (error, HQ_DSI_ERROR, HQ_DSI_ERROR_STALE_LEVEL);
  g_clear_error (&error);

  g_assert_false (hq_dsi_remove_speaker (dsi, 8, &error));
  g_assert_error (error, HQ_DSI_ERROR, HQ_DSI_ERROR_UNKNOWN_SPEAKER);
  g_clear_error (&error);

  hq_dsi_free (dsi);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func (
      "/dsi/nobody-before-anyone-speaks", test_nobody_before_anyone_speaks);
  g_test_add_func (
      "/dsi/first-speaker-takes-floor", test_first_speaker_takes_floor);
  g_test_add_func (
      "/dsi/turn-change", test_turn_change_switches_within_a_second);
  g_test_add_func ("/dsi/silence-keeps-speaker", test_silence_keeps_speaker);
  g_test_add_func ("/dsi/silence-timeout", test_silence_timeout_names_nobody);
  g_test_add_func ("/dsi/silence-timeout-ignores-murmurs",
      test_silence_timeout_ignores_murmurs);
  g_test_add_func ("/dsi/noise-burst-ignored", test_noise_burst_ignored);
  g_test_add_func ("/dsi/backchannel-ignored", test_backchannel_ignored);
  g_test_add_func (
      "/dsi/loudest-follows-noise-burst", test_loudest_follows_noise_burst);
  g_test_add_func ("/dsi/quiet-speaker-found", test_quiet_speaker_found);
  g_test_add_func (
      "/dsi/steady-noise-is-not-speech", test_steady_noise_is_not_speech);
  g_test_add_func (
      "/dsi/missing-levels-are-silence", test_missing_levels_are_silence);
  g_test_add_func (
      "/dsi/removing-dominant", test_removing_dominant_reports_change);
  g_test_add_func ("/dsi/errors", test_errors);
  return g_test_run ();
}
