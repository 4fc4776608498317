/* Dominant speaker identification after Volfin & Cohen (2013); see hqdsi.h
 * for the algorithm and its parameters.
 *
 * Each speaker keeps its last 50 loudness values (newest first) and a noise
 * floor.  Pushing a level is cheap (a 49-byte move and the floor update);
 * the three scales and their scores are computed only on a tick, from the
 * history, so the cost of a decision is O(speakers * 50) whatever the
 * level rate.  The scores depend only on small integer counts, so they are
 * tabulated once per detector.
 */
#include "hqdsi.h"

#include <math.h>
#include <string.h>

#define MAX_LOUDNESS 127
/* Loudness above the floor that still counts as noise. */
#define FLOOR_MARGIN 10
/* Sub-band width of the immediate scale: 127 / 13 rounded up. */
#define SUBBAND 10
#define N_IMMEDIATE 13
#define N_MEDIUM 5
#define N_LONG 10
/* An immediate above this is loud speech (loudness >= 80, -47 dBov). */
#define MEDIUM_THRESHOLD 7
/* A medium above this (all 5 immediates loud) counts for the long scale. */
#define LONG_THRESHOLD 4
#define LAMBDA_IMMEDIATE 0.78
#define LAMBDA_MEDIUM 24.0
#define LAMBDA_LONG 47.0
#define MIN_SCORE 1e-10
#define C_IMMEDIATE 3.0
#define C_MEDIUM 2.0
#define C_LONG 0.0
/* Missing levels beyond this gap are filled with silence. */
#define IDLE_MS 40

typedef struct
{
  guint32 id;
  /* loudness (127 - level), newest first */
  guint8 history[HQ_DSI_HISTORY];
  gboolean has_time;
  gint64 last_time;
  /* noise floor; 0 = not known yet */
  guint8 floor;
  guint8 next_floor;
  guint next_floor_count;
  /* mean gated loudness since the last tick, for the loudest baseline */
  guint64 interval_sum;
  guint interval_count;
  /* immediate, medium, long */
  gdouble scores[3];
} Speaker;

struct _HqDsi
{
  HqDsiAlgorithm algorithm;
  GArray *speakers; /* of Speaker, in the order added */
  gboolean has_dominant;
  guint32 dominant;
  /* the dominant speaker left; the next tick reports the change */
  gboolean dominant_removed;
  gint64 silence_timeout;
  gboolean any_loud;
  gint64 last_loud_time;
  gdouble score_immediate[N_IMMEDIATE];
  gdouble score_medium[N_MEDIUM + 1];
  gdouble score_long[N_LONG + 1];
};

G_DEFINE_QUARK (hq - dsi - error - quark, hq_dsi_error);

/* Speech activity score of a scale with @n sub-units, @k of them active:
 * the log likelihood ratio of the paper with p = 0.5. */
static gdouble
activity_score (guint k, guint n, gdouble lambda)
{
  gdouble log_binomial =
      lgamma (n + 1.0) - lgamma (k + 1.0) - lgamma (n - k + 1.0);
  gdouble score = log_binomial + n * log (0.5) - log (lambda) + lambda * k;

  return MAX (score, MIN_SCORE);
}

HqDsi *
hq_dsi_new (HqDsiAlgorithm algorithm)
{
  HqDsi *dsi = g_new0 (HqDsi, 1);

  dsi->algorithm = algorithm;
  dsi->speakers = g_array_new (FALSE, TRUE, sizeof (Speaker));
  for (guint k = 0; k < N_IMMEDIATE; k++)
    dsi->score_immediate[k] = activity_score (k, N_IMMEDIATE, LAMBDA_IMMEDIATE);
  for (guint k = 0; k <= N_MEDIUM; k++)
    dsi->score_medium[k] = activity_score (k, N_MEDIUM, LAMBDA_MEDIUM);
  for (guint k = 0; k <= N_LONG; k++)
    dsi->score_long[k] = activity_score (k, N_LONG, LAMBDA_LONG);
  return dsi;
}

void
hq_dsi_free (HqDsi *dsi)
{
  if (dsi == NULL)
    return;
  g_array_free (dsi->speakers, TRUE);
  g_free (dsi);
}

void
hq_dsi_set_silence_timeout (HqDsi *dsi, gint64 timeout_ms)
{
  dsi->silence_timeout = MAX (timeout_ms, 0);
}

static Speaker *
find_speaker (const HqDsi *dsi, guint32 id, guint *index)
{
  for (guint i = 0; i < dsi->speakers->len; i++) {
    Speaker *s = &g_array_index (dsi->speakers, Speaker, i);
    if (s->id == id) {
      if (index)
        *index = i;
      return s;
    }
  }
  return NULL;
}

gboolean
hq_dsi_add_speaker (HqDsi *dsi, guint32 id, GError **error)
{
  Speaker s = { 0 };

  if (find_speaker (dsi, id, NULL)) {
    g_set_error (error, HQ_DSI_ERROR, HQ_DSI_ERROR_DUPLICATE_SPEAKER,
        "speaker %u is already tracked", id);
    return FALSE;
  }
  s.id = id;
  g_array_append_val (dsi->speakers, s);
  return TRUE;
}

gboolean
hq_dsi_remove_speaker (HqDsi *dsi, guint32 id, GError **error)
{
  guint index;

  if (!find_speaker (dsi, id, &index)) {
    g_set_error (error, HQ_DSI_ERROR, HQ_DSI_ERROR_UNKNOWN_SPEAKER,
        "cannot remove speaker %u: it is not tracked", id);
    return FALSE;
  }
  g_array_remove_index (dsi->speakers, index);
  if (dsi->has_dominant && dsi->dominant == id) {
    dsi->has_dominant = FALSE;
    dsi->dominant_removed = TRUE;
  }
  return TRUE;
}

/* The noise floor falls at once and rises slowly: a window of
 * HQ_DSI_FLOOR_WINDOW levels all above the floor moves it to the geometric
 * mean of the old floor and the window's minimum.  Silence (0) says
 * nothing about the microphone's noise and is skipped. */
static void
update_floor (Speaker *s, guint8 loudness)
{
  if (loudness == 0)
    return;
  if (s->floor == 0 || loudness < s->floor) {
    s->floor = loudness;
    s->next_floor = 0;
    s->next_floor_count = 0;
    return;
  }
  if (s->next_floor == 0 || loudness < s->next_floor)
    s->next_floor = loudness;
  if (++s->next_floor_count >= HQ_DSI_FLOOR_WINDOW) {
    s->floor = (guint8)CLAMP (
        sqrt ((gdouble)s->floor * s->next_floor), 1, MAX_LOUDNESS);
    s->next_floor = 0;
    s->next_floor_count = 0;
  }
}

/* Loudness with noise (below floor + margin) taken out. */
static guint8
gate (const Speaker *s, guint8 loudness)
{
  return loudness < s->floor + FLOOR_MARGIN ? 0 : loudness;
}

static void
record (HqDsi *dsi, Speaker *s, guint8 loudness, gint64 time_ms)
{
  guint8 gated;

  memmove (s->history + 1, s->history, HQ_DSI_HISTORY - 1);
  s->history[0] = loudness;
  update_floor (s, loudness);
  gated = gate (s, loudness);
  s->interval_sum += gated;
  s->interval_count++;
  if (gated / SUBBAND > MEDIUM_THRESHOLD) {
    dsi->any_loud = TRUE;
    dsi->last_loud_time = MAX (dsi->last_loud_time, time_ms);
  }
}

/* Counts the 20 ms slots between the last level and @time_ms as silence
 * when more than IDLE_MS of them are missing. */
static void
fill_gap (HqDsi *dsi, Speaker *s, gint64 time_ms)
{
  gint64 missing;

  if (!s->has_time)
    return;
  missing = (time_ms - s->last_time) / HQ_DSI_LEVEL_MS - 1;
  if (missing * HQ_DSI_LEVEL_MS < IDLE_MS)
    return;
  for (gint64 i = 0; i < MIN (missing, HQ_DSI_HISTORY); i++)
    record (dsi, s, 0, s->last_time + (i + 1) * HQ_DSI_LEVEL_MS);
  s->last_time += missing * HQ_DSI_LEVEL_MS;
}

gboolean
hq_dsi_push_level (
    HqDsi *dsi, guint32 id, guint level, gint64 time_ms, GError **error)
{
  Speaker *s;

  if (level > HQ_DSI_LEVEL_SILENCE) {
    g_set_error (error, HQ_DSI_ERROR, HQ_DSI_ERROR_INVALID_LEVEL,
        "audio level %u of speaker %u is out of range: RFC 6464 levels are "
        "0..127",
        level, id);
    return FALSE;
  }
  s = find_speaker (dsi, id, NULL);
  if (s == NULL) {
    g_set_error (error, HQ_DSI_ERROR, HQ_DSI_ERROR_UNKNOWN_SPEAKER,
        "level for speaker %u, which is not tracked", id);
    return FALSE;
  }
  if (s->has_time && time_ms < s->last_time) {
    g_set_error (error, HQ_DSI_ERROR, HQ_DSI_ERROR_STALE_LEVEL,
        "level of speaker %u at %" G_GINT64_FORMAT " ms is older than the "
        "last one (%" G_GINT64_FORMAT " ms); ignored",
        id, time_ms, s->last_time);
    return FALSE;
  }
  fill_gap (dsi, s, time_ms);
  record (dsi, s, MAX_LOUDNESS - level, time_ms);
  s->has_time = TRUE;
  s->last_time = time_ms;
  return TRUE;
}

/* The three scales of the paper, from the history. */
static void
compute_scores (const HqDsi *dsi, Speaker *s)
{
  guint mediums[N_LONG];
  guint n_long = 0;

  for (guint m = 0; m < N_LONG; m++) {
    mediums[m] = 0;
    for (guint i = m * N_MEDIUM; i < (m + 1) * N_MEDIUM; i++)
      if (gate (s, s->history[i]) / SUBBAND > MEDIUM_THRESHOLD)
        mediums[m]++;
    if (mediums[m] > LONG_THRESHOLD)
      n_long++;
  }
  s->scores[0] = dsi->score_immediate[MIN (
      gate (s, s->history[0]) / SUBBAND, N_IMMEDIATE - 1)];
  s->scores[1] = dsi->score_medium[mediums[0]];
  s->scores[2] = dsi->score_long[n_long];
}

/* With nobody dominant, the most active speaker now takes the floor, if
 * anyone spoke loudly in the last 100 ms. */
static Speaker *
most_active (HqDsi *dsi)
{
  Speaker *best = NULL;

  for (guint i = 0; i < dsi->speakers->len; i++) {
    Speaker *s = &g_array_index (dsi->speakers, Speaker, i);
    if (s->scores[1] <= MIN_SCORE)
      continue;
    if (best == NULL || s->scores[1] > best->scores[1]
        || (s->scores[1] == best->scores[1] && s->scores[0] > best->scores[0]))
      best = s;
  }
  return best;
}

/* The challenge of the paper: who beats the dominant speaker on all three
 * scales, by the largest medium margin. */
static Speaker *
challenger (HqDsi *dsi, const Speaker *dominant)
{
  Speaker *best = NULL;
  gdouble best_medium = C_MEDIUM;

  for (guint i = 0; i < dsi->speakers->len; i++) {
    Speaker *s = &g_array_index (dsi->speakers, Speaker, i);
    gdouble immediate, medium, lng;

    if (s == dominant)
      continue;
    immediate = log (s->scores[0] / dominant->scores[0]);
    medium = log (s->scores[1] / dominant->scores[1]);
    lng = log (s->scores[2] / dominant->scores[2]);
    if (immediate > C_IMMEDIATE && medium > best_medium && lng > C_LONG) {
      best_medium = medium;
      best = s;
    }
  }
  return best;
}

static Speaker *
loudest (HqDsi *dsi)
{
  Speaker *best = NULL;
  gdouble best_mean = 0;

  for (guint i = 0; i < dsi->speakers->len; i++) {
    Speaker *s = &g_array_index (dsi->speakers, Speaker, i);
    gdouble mean =
        s->interval_count ? (gdouble)s->interval_sum / s->interval_count : 0;
    if (mean > best_mean) {
      best_mean = mean;
      best = s;
    }
  }
  return best;
}

static Speaker *
decide (HqDsi *dsi)
{
  Speaker *current = NULL;

  if (dsi->has_dominant)
    current = find_speaker (dsi, dsi->dominant, NULL);
  if (dsi->algorithm == HQ_DSI_ALGORITHM_LOUDEST) {
    Speaker *s = loudest (dsi);
    return s ? s : current;
  }
  if (current == NULL)
    return most_active (dsi);
  {
    Speaker *s = challenger (dsi, current);
    return s ? s : current;
  }
}

gboolean
hq_dsi_tick (
    HqDsi *dsi, gint64 time_ms, guint32 *dominant, gboolean *has_dominant)
{
  gboolean changed = dsi->dominant_removed;
  Speaker *next;

  dsi->dominant_removed = FALSE;
  for (guint i = 0; i < dsi->speakers->len; i++) {
    Speaker *s = &g_array_index (dsi->speakers, Speaker, i);
    fill_gap (dsi, s, time_ms);
    compute_scores (dsi, s);
  }

  /* While the silence lasts nobody is named, not even by the loudest
   * baseline, which would otherwise pick up murmurs and flap. */
  if (dsi->silence_timeout > 0
      && (!dsi->any_loud
          || time_ms - dsi->last_loud_time >= dsi->silence_timeout))
    next = NULL;
  else
    next = decide (dsi);

  for (guint i = 0; i < dsi->speakers->len; i++) {
    Speaker *s = &g_array_index (dsi->speakers, Speaker, i);
    s->interval_sum = 0;
    s->interval_count = 0;
  }

  if (next == NULL && dsi->has_dominant) {
    dsi->has_dominant = FALSE;
    changed = TRUE;
  } else if (next != NULL
      && (!dsi->has_dominant || next->id != dsi->dominant)) {
    dsi->has_dominant = TRUE;
    dsi->dominant = next->id;
    changed = TRUE;
  }
  if (changed) {
    if (dominant)
      *dominant = dsi->has_dominant ? dsi->dominant : 0;
    if (has_dominant)
      *has_dominant = dsi->has_dominant;
  }
  return changed;
}

gboolean
hq_dsi_get_dominant (const HqDsi *dsi, guint32 *id)
{
  if (dsi->has_dominant && id)
    *id = dsi->dominant;
  return dsi->has_dominant;
}

guint
hq_dsi_get_n_speakers (const HqDsi *dsi)
{
  return dsi->speakers->len;
}
