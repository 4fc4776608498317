/* Network quality scoring; the formula and its reasons are in hqnetq.h. */
#include "hqnetq.h"

#include <math.h>

#define HQ_NETQ_RISE 0.25

gdouble
hq_netq_r_factor (const HqNetqSample *s)
{
  gdouble rtt = s->rtt_ms > 0 ? s->rtt_ms : 0;
  gdouble jitter = s->jitter_ms > 0 ? s->jitter_ms : 0;
  gdouble loss = CLAMP (s->fraction_lost, 0.0, 1.0) * 100.0;
  gdouble d = rtt / 2 + 2 * jitter;
  gdouble delay = d <= 160 ? d / 40 : (d - 120) / 10;
  gdouble weight = s->kind == HQ_NETQ_AUDIO ? 8 : 10;
  gdouble r = 100 - delay - loss * weight;

  if (s->silent)
    return 0;
  if (s->demand_bps > 0) {
    gdouble bw = s->bitrate_bps;
    gdouble rb;
    if (s->available_bps > 0 && s->available_bps < bw)
      bw = s->available_bps;
    rb = 100 * MIN (1.0, bw / s->demand_bps);
    r = MIN (r, rb);
  }
  return CLAMP (r, 0, 100);
}

/* The least R of levels 5, 4, 3 and 2; below the last, level 1. */
static const gdouble level_r[] = { 85, 70, 55, 40 };

guint
hq_netq_level_from_r (gdouble r)
{
  for (guint i = 0; i < G_N_ELEMENTS (level_r); i++)
    if (r >= level_r[i])
      return 5 - i;
  return 1;
}

gdouble
hq_netq_mos (gdouble r)
{
  r = CLAMP (r, 0, 100);
  return 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r);
}

guint
hq_netq_level_from_mos (gdouble mos)
{
  for (guint i = 0; i < G_N_ELEMENTS (level_r); i++)
    if (mos >= hq_netq_mos (level_r[i]))
      return 5 - i;
  return 1;
}

guint
hq_netq_score_update (
    HqNetqScore *score, const HqNetqSample *samples, guint n_samples)
{
  gdouble r = 100;
  gboolean silent = FALSE;

  for (guint i = 0; i < n_samples; i++) {
    silent |= samples[i].silent;
    r = MIN (r, hq_netq_r_factor (&samples[i]));
  }
  /* Down at once, up a quarter of the way per interval. */
  if (!score->have_r || r < score->r)
    score->r = r;
  else
    score->r += (r - score->r) * HQ_NETQ_RISE;
  score->have_r = TRUE;
  score->level = silent ? 0 : hq_netq_level_from_r (score->r);
  return score->level;
}
