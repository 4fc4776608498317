/* Transport-wide congestion control (hqtwcc.c): both ends of
 * draft-holmer-rmcat-transport-wide-cc-extensions-01 above the byte
 * formats in hqrtp.h (the sequence number extension) and hqrtcp.h (the
 * RTPFB 15 feedback).
 *
 * HqTwccRecorder is the receiver: it notes when each transport-wide
 * sequence number arrived and writes the feedback that reports them.
 * HqTwccSender is the sender: it numbers the packets it sends, remembers
 * when it sent them, and turns the feedback that comes back into an
 * estimate of the bandwidth the path can take, in the manner of Google
 * Congestion Control (draft-ietf-rmcat-gcc-02: a delay-based controller
 * and a loss-based one, the estimate the lower of the two; docs/sfu.md
 * says what was taken from where). */
#ifndef __HQ_TWCC_H__
#define __HQ_TWCC_H__

#include <glib.h>
#include "hqrtcp.h"

G_BEGIN_DECLS

/* --- receiving --- */

typedef struct _HqTwccRecorder HqTwccRecorder;

HqTwccRecorder *hq_twcc_recorder_new (void);
void hq_twcc_recorder_free (HqTwccRecorder *recorder);
/* Notes that @seq arrived at @arrival_us (microseconds of any clock that
 * only moves forward).  Duplicates, and numbers older than what the last
 * feedback already reported, are ignored. */
void hq_twcc_recorder_add (
    HqTwccRecorder *recorder, guint16 seq, gint64 arrival_us);
/* Packets noted and not yet reported. */
guint hq_twcc_recorder_pending (const HqTwccRecorder *recorder);
/* Appends to @writer one feedback packet (RTPFB 15) for as many pending
 * arrivals as fit, and forgets those.  Numbers missing between reported
 * ones are reported lost; each packet starts one after the last one the
 * previous packet covered, so a loss is never skipped.  FALSE when
 * nothing is pending or nothing fits. */
gboolean hq_twcc_recorder_write (HqTwccRecorder *recorder, HqRtcpWriter *writer,
    guint32 sender_ssrc, guint32 media_ssrc);

/* --- sending and estimating --- */

typedef struct _HqTwccSender HqTwccSender;

/* Packets whose send times are kept for matching feedback. */
#define HQ_TWCC_HISTORY 4096

/* A sender whose estimate starts at @start_bps and never falls below
 * @min_bps. */
HqTwccSender *hq_twcc_sender_new (gdouble start_bps, gdouble min_bps);
void hq_twcc_sender_free (HqTwccSender *sender);
/* The transport-wide sequence number for a packet of @size bytes sent at
 * @now_us, remembered until feedback on it comes. */
guint16 hq_twcc_sender_next (HqTwccSender *sender, gsize size, gint64 now_us);
/* Feedback on what was sent (hq_rtcp_parse_twcc()'s @statuses), received
 * at @now_us: updates the estimate.  Statuses of numbers this sender
 * never gave out, or gave out longer ago than its history, are ignored.
 * Returns how many statuses matched a packet sent. */
guint hq_twcc_sender_on_feedback (HqTwccSender *sender,
    const HqTwccStatus *statuses, guint n_statuses, gint64 now_us);
/* The estimate in bits per second; negative until feedback matched a
 * packet sent. */
gdouble hq_twcc_sender_estimate (const HqTwccSender *sender);

/* --- probing ---
 *
 * A sender that sends less than the path may take cannot learn more from
 * its own traffic (the delay-based estimate never grows past 1.5 times
 * what was received).  A probe cluster is a short burst of extra packets
 * (padding) at a higher rate: when the feedback shows the cluster
 * arrived as fast as it was sent, without the queueing delay growing and
 * with few losses, the rate it arrived at is a proof of what the path
 * carries, and the estimate is raised to it at once (libwebrtc's probe
 * controller and probe bitrate estimator work so; hqtwcc.c says which
 * rules were taken). */

/**
 * HqTwccProbeState:
 * @HQ_TWCC_PROBE_PENDING: sent, feedback on it incomplete
 * @HQ_TWCC_PROBE_DONE: measured; the estimate was raised to the rate
 *   when that was more
 * @HQ_TWCC_PROBE_FAILED: no proof: too few packets arrived, the delay
 *   grew, the arrival spread was far wider than the sending, or no
 *   feedback came within HQ_TWCC_PROBE_TIMEOUT_US of its end
 *
 * Where a probe cluster stands.
 */
typedef enum
{
  HQ_TWCC_PROBE_PENDING,
  HQ_TWCC_PROBE_DONE,
  HQ_TWCC_PROBE_FAILED,
} HqTwccProbeState;

#define HQ_TWCC_PROBE_TIMEOUT_US G_USEC_PER_SEC

/* Whether the estimator allows probing now: no over-use signal and no
 * decrease for over-use in the last second, the delay trend not over
 * its threshold, the last loss interval under 2 %. */
gboolean hq_twcc_sender_may_probe (const HqTwccSender *sender, gint64 now_us);
/* Starts a probe cluster at @now_us; returns its id (never 0). */
guint8 hq_twcc_sender_probe_begin (HqTwccSender *sender, gint64 now_us);
/* As hq_twcc_sender_next(), for a packet of cluster @cluster. */
guint16 hq_twcc_sender_next_probe (
    HqTwccSender *sender, gsize size, gint64 now_us, guint8 cluster);
/* No more packets for @cluster: its result comes with the feedback. */
void hq_twcc_sender_probe_end (
    HqTwccSender *sender, guint8 cluster, gint64 now_us);
/* Where @cluster stands at @now_us; with DONE, *@bps is the rate it
 * proved.  A cluster the sender no longer knows (more than
 * HQ_TWCC_PROBE_CLUSTERS later ones began) has FAILED. */
HqTwccProbeState hq_twcc_sender_probe_result (
    HqTwccSender *sender, guint8 cluster, gint64 now_us, gdouble *bps);

#define HQ_TWCC_PROBE_CLUSTERS 4

/**
 * HqTwccUsage:
 * @HQ_TWCC_NORMAL: queueing delay is steady
 * @HQ_TWCC_OVERUSE: queueing delay grows: the path is congested
 * @HQ_TWCC_UNDERUSE: queueing delay shrinks: a queue is draining
 *
 * What the delay-based detector last concluded.
 */
typedef enum
{
  HQ_TWCC_NORMAL,
  HQ_TWCC_OVERUSE,
  HQ_TWCC_UNDERUSE,
} HqTwccUsage;

/**
 * HqTwccStats:
 * @estimate_bps: the estimate (hq_twcc_sender_estimate())
 * @delay_bps: the delay-based controller's part of it
 * @loss_bps: the loss-based controller's part of it
 * @acked_bps: what the receiver got over the last half second
 * @usage: the delay-based detector's last signal
 * @trend: the delay trend the detector judges (ms, scaled as the
 *   threshold)
 * @threshold: the detector's adaptive threshold (ms)
 * @loss: the fraction of packets lost in the last loss interval
 * @overuses: how often the estimate was lowered for overuse
 *
 * The estimator's state, for logs and tests.
 */
typedef struct
{
  gdouble estimate_bps;
  gdouble delay_bps;
  gdouble loss_bps;
  gdouble acked_bps;
  HqTwccUsage usage;
  gdouble trend;
  gdouble threshold;
  gdouble loss;
  guint overuses;
} HqTwccStats;

void hq_twcc_sender_get_stats (const HqTwccSender *sender, HqTwccStats *stats);

G_END_DECLS

#endif /* __HQ_TWCC_H__ */
