/* Network quality: a level 0..5 for what a participant's network does to
 * its media, from measured loss, delay, jitter and bandwidth.  One scorer
 * for the SFU (network_quality events) and the hqqualitymeter element.
 *
 * Levels, as Twilio Video had them: 5 excellent, 4 good, 3 average, 2 below
 * average, 1 bad, 0 broken (media expected but none arrives).  A
 * participant that sends and receives nothing scores 5.
 *
 * The formula is ours, an E-model (ITU-T G.107) simplification in the
 * shape LiveKit published, extended to six levels:
 *
 *   d  = rtt/2 + 2 * jitter                      (ms, effective one-way)
 *   Id = d / 40            for d <= 160 ms
 *      = (d - 120) / 10    above                 (delay impairment)
 *   Ie = loss% * w         w = 8 for audio (Opus), 10 for video
 *   R  = 100 - Id - Ie, clamped to 0..100
 *   Rb = 100 * min(1, bandwidth / demand)  when a demand is known, where
 *        bandwidth is the achieved bitrate, or the estimated available
 *        bitrate when that is lower
 *   R' = min(R, Rb) over every media stream of the participant
 *
 * and the level from R' (smoothed, below):
 *
 *   R' >= 85: 5 | >= 70: 4 | >= 55: 3 | >= 40: 2 | else 1
 *   0 when a stream that should carry media carried none in the interval.
 *
 * Examples: clean loopback (rtt 1 ms, no loss) R 99.9 -> 5; 1 % audio loss
 * with 100 ms rtt R 90.8 -> 5; 4 % video loss R 60 -> 3; 300 ms rtt with
 * 50 ms jitter (d 250 ms) R 87 -> 5 on its own, but with 2 % video loss
 * R 67 -> 3; half the bitrate a stream needs R 50 -> 2.
 *
 * Smoothing (hq_netq_score_update): R' falls at once and rises by a quarter
 * of the gap per interval, so a level drops on the first bad second and
 * recovers over several good ones (no flapping).  The MOS of the reference
 * is also given for detailed reports: 1 + 0.035 R + 7e-6 R (R-60)(100-R).
 */
#ifndef __HQ_NETQ_H__
#define __HQ_NETQ_H__

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  HQ_NETQ_AUDIO,
  HQ_NETQ_VIDEO,
} HqNetqKind;

/**
 * HqNetqSample:
 * @kind: audio or video (sets the loss weight)
 * @fraction_lost: 0..1 over the interval
 * @rtt_ms: round-trip time, or a negative value when unknown (taken as 0)
 * @jitter_ms: interarrival jitter
 * @bitrate_bps: bitrate achieved in the interval
 * @demand_bps: bitrate the stream needs; 0 when there is no demand
 * @available_bps: estimated available bitrate (REMB/TWCC), 0 when unknown
 * @silent: media was expected in the interval but none arrived
 *
 * One media stream's measurements over one interval (about a second).
 */
typedef struct
{
  HqNetqKind kind;
  gdouble fraction_lost;
  gdouble rtt_ms;
  gdouble jitter_ms;
  gdouble bitrate_bps;
  gdouble demand_bps;
  gdouble available_bps;
  gboolean silent;
} HqNetqSample;

/* R' of one stream, 0..100 (100 = perfect). */
gdouble hq_netq_r_factor (const HqNetqSample *sample);
/* Level 1..5 for an R value (0 is only for silence). */
guint hq_netq_level_from_r (gdouble r);
/* The same levels for a MOS: the MOS of each level's least R (for scores
 * that are not from R, e.g. hqquality's video MOS). */
guint hq_netq_level_from_mos (gdouble mos);
/* Mean opinion score 1..4.5 for an R value. */
gdouble hq_netq_mos (gdouble r);

/**
 * HqNetqScore:
 *
 * Smoothing state of one participant (or one direction); zero-initialise.
 */
typedef struct
{
  gboolean have_r;
  gdouble r;
  guint level;
} HqNetqScore;

/* Scores one interval of @n_samples streams (the worst counts) and returns
 * the smoothed level; with no samples, nothing was expected: level 5. */
guint hq_netq_score_update (
    HqNetqScore *score, const HqNetqSample *samples, guint n_samples);

G_END_DECLS

#endif /* __HQ_NETQ_H__ */
