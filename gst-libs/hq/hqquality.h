/* Quality scoring: what a viewer and a listener experience of a received
 * stream, measured from the stream itself.  The hqqualitymeter element
 * uses it; it has no GStreamer types so that hq-server can score with the
 * same code later.  docs/hqqualitymeter.md has the models, their sources
 * and examples; the short version:
 *
 * - Freezes and pauses (HqFreezeDetector), by the W3C webrtc-stats
 *   definitions (RTCInboundRtpStreamStats freezeCount, pauseCount): an
 *   interval between two consecutive frames is a pause when it is longer
 *   than 5 s, else a freeze when it is at least
 *   max(3 * avg, avg + 150 ms), avg being the mean of the last 30 frame
 *   intervals that were not pauses.  The whole interval counts as frozen
 *   (paused) time.
 * - PSNR and SSIM of two 8-bit luma planes, computed as ffmpeg's `psnr`
 *   and `ssim` filters do, so that figures can be checked against them:
 *   PSNR = 10 log10(255^2 / MSE), capped at HQ_QUALITY_PSNR_MAX for
 *   identical planes; SSIM (Wang, Bovik, Sheikh, Simoncelli 2004) on 8x8
 *   windows with uniform weights, placed every 4 pixels, averaged over the
 *   plane, with ffmpeg's (x264's) constants.
 * - Audio MOS from the ITU-T G.107 E-model: R = 93.2 - Idd(Ta) - Ie,eff,
 *   Ie,eff = Ie + (95 - Ie) Ppl / (Ppl / BurstR + Bpl), MOS from R by
 *   G.107 Annex B (hq_netq_mos); Opus Ie and Bpl as documented below.
 * - Video MOS from our own parametric model (resolution, frame rate of new
 *   content, bits per pixel, frozen time).
 * - The 0..5 level of a MOS, on the scale of libhq netq (hqnetq.h).
 */
#ifndef __HQ_QUALITY_H__
#define __HQ_QUALITY_H__

#include <glib.h>

G_BEGIN_DECLS

/* ---- freezes and pauses (W3C webrtc-stats) ---- */

#define HQ_QUALITY_FREEZE_WINDOW 30
#define HQ_QUALITY_FREEZE_MIN_EXTRA_NS (150 * (guint64)1000000)
#define HQ_QUALITY_PAUSE_NS (5 * (guint64)1000000000)

typedef enum
{
  HQ_QUALITY_FRAME_FIRST, /* no previous frame: no interval */
  HQ_QUALITY_FRAME_SMOOTH,
  HQ_QUALITY_FRAME_FREEZE, /* the interval before this frame was a freeze */
  HQ_QUALITY_FRAME_PAUSE, /* ... a pause (> 5 s) */
  HQ_QUALITY_FRAME_LATE, /* older than the previous frame: ignored */
} HqQualityFrameEvent;

/**
 * HqFreezeDetector:
 *
 * Freeze and pause counting over the display times of consecutive frames.
 * Zero-initialise or hq_freeze_detector_reset(); plain data, one owner.
 */
typedef struct
{
  guint64 window[HQ_QUALITY_FREEZE_WINDOW]; /* recent intervals, ns */
  guint window_len;
  guint window_next;
  guint64 window_sum;
  gboolean have_last;
  guint64 last_ns;

  guint freeze_count;
  guint64 freezes_ns;
  guint pause_count;
  guint64 pauses_ns;
} HqFreezeDetector;

void hq_freeze_detector_reset (HqFreezeDetector *d);
/* A frame shown at @time_ns; the interval since the previous frame goes to
 * *@interval_ns (0 for the first) and is classified. */
HqQualityFrameEvent hq_freeze_detector_push (
    HqFreezeDetector *d, guint64 time_ns, guint64 *interval_ns);
/* The mean of the recent intervals, 0 when there are none. */
guint64 hq_freeze_detector_average (const HqFreezeDetector *d);

/* ---- luma planes ---- */

#define HQ_QUALITY_PSNR_MAX 100.0
/* A black frame, as ffmpeg's blackframe filter defaults: at least 98 % of
 * the luma samples at or below 32. */
#define HQ_QUALITY_BLACK_LUMA 32
#define HQ_QUALITY_BLACK_FRACTION 0.98

/* Mean squared difference of two @width x @height 8-bit planes. */
gdouble hq_quality_mse (const guint8 *a, gsize stride_a, const guint8 *b,
    gsize stride_b, guint width, guint height);
/* PSNR in dB of an 8-bit MSE; HQ_QUALITY_PSNR_MAX for 0. */
gdouble hq_quality_psnr_from_mse (gdouble mse);
/* SSIM of two planes in 0..1 (1 = identical) as ffmpeg's ssim filter;
 * planes smaller than 8x8 give 1 when equal and 0 otherwise. */
gdouble hq_quality_ssim (const guint8 *a, gsize stride_a, const guint8 *b,
    gsize stride_b, guint width, guint height);
gboolean hq_quality_planes_equal (const guint8 *a, gsize stride_a,
    const guint8 *b, gsize stride_b, guint width, guint height);
/* Whether a luma plane is a black frame (see HQ_QUALITY_BLACK_*). */
gboolean hq_quality_plane_is_black (
    const guint8 *y, gsize stride, guint width, guint height);

/* ---- audio ---- */

/* -60 dBFS: a 10 ms block below this mean square is silence. */
#define HQ_QUALITY_SILENCE_MEAN_SQUARE 1e-6
/* A sample at or beyond this fraction of full scale is clipped. */
#define HQ_QUALITY_CLIP_LEVEL 0.999

/* Mean square of @n normalised samples (-1..1); the number at or beyond
 * HQ_QUALITY_CLIP_LEVEL is added to *@clipped. */
gdouble hq_quality_mean_square (const gdouble *s, gsize n, guint64 *clipped);

/* ---- scores ---- */

/* G.107 with all default values except delay and loss (R = 93.2 at no
 * delay and no loss; echo assumed cancelled). */
#define HQ_QUALITY_EMODEL_R0 93.2
/* Opus on the narrowband E-model scale, our choice (docs/hqqualitymeter.md):
 * Ie 0 (wideband Opus at WebRTC rates is at least as good as G.711, whose
 * Ie is 0, ITU-T G.113 Table I.1), Bpl 25.1 (G.711 with packet loss
 * concealment, G.113 Table I.3: Opus conceals at least as well). */
#define HQ_QUALITY_OPUS_IE 0.0
#define HQ_QUALITY_OPUS_BPL 25.1
/* Mouth-to-ear delay an Opus stream adds before the network: one 20 ms
 * frame plus the encoder's 6.5 ms look-ahead. */
#define HQ_QUALITY_OPUS_DELAY_MS 26.5

/* G.107 delay impairment Idd for a one-way (mouth-to-ear) delay. */
gdouble hq_quality_emodel_idd (gdouble delay_ms);
/* G.107 effective equipment impairment for @loss_percent packet loss
 * with burst ratio @burst_r (1 = random loss). */
gdouble hq_quality_emodel_ie_eff (
    gdouble ie, gdouble bpl, gdouble loss_percent, gdouble burst_r);
/* R of an Opus stream with @delay_ms mouth-to-ear delay and @loss_percent
 * random loss, clamped to 0..100. */
gdouble hq_quality_audio_r (gdouble delay_ms, gdouble loss_percent);
/* MOS 1..4.5 of the same. */
gdouble hq_quality_audio_mos (gdouble delay_ms, gdouble loss_percent);

/**
 * HqVideoSample:
 * @width, @height: the picture, pixels
 * @fps: frames per second with new content (repeated identical frames
 *   do not count)
 * @bitrate_bps: encoded bitrate, 0 when unknown (raw video)
 * @frozen_fraction: share of the time frozen (freezes, not pauses), 0..1
 *
 * One stream's figures over an interval, for hq_quality_video_mos().
 */
typedef struct
{
  guint width;
  guint height;
  gdouble fps;
  gdouble bitrate_bps;
  gdouble frozen_fraction;
} HqVideoSample;

/* Video MOS 1..4.5 (see docs/hqqualitymeter.md). */
gdouble hq_quality_video_mos (const HqVideoSample *s);

/* The 0..5 level of a MOS on libhq netq's scale: the MOS values of
 * netq's R thresholds (85, 70, 55, 40) separate 5, 4, 3, 2 and 1.  Level 0
 * (nothing arrived) is the caller's to give. */
guint hq_quality_level_from_mos (gdouble mos);

G_END_DECLS

#endif /* __HQ_QUALITY_H__ */
