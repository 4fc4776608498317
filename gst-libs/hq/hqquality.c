/* Quality scoring; the definitions and their sources are in hqquality.h
 * and docs/hqqualitymeter.md. */
#include "hqquality.h"
#include "hqnetq.h"

#include <math.h>
#include <string.h>

/* ---- freezes and pauses ---- */

void
hq_freeze_detector_reset (HqFreezeDetector *d)
{
  memset (d, 0, sizeof (*d));
}

guint64
hq_freeze_detector_average (const HqFreezeDetector *d)
{
  return d->window_len ? d->window_sum / d->window_len : 0;
}

static void
window_add (HqFreezeDetector *d, guint64 interval)
{
  if (d->window_len == HQ_QUALITY_FREEZE_WINDOW)
    d->window_sum -= d->window[d->window_next];
  else
    d->window_len++;
  d->window[d->window_next] = interval;
  d->window_sum += interval;
  d->window_next = (d->window_next + 1) % HQ_QUALITY_FREEZE_WINDOW;
}

HqQualityFrameEvent
hq_freeze_detector_push (
    HqFreezeDetector *d, guint64 time_ns, guint64 *interval_ns)
{
  guint64 interval, avg;
  HqQualityFrameEvent event = HQ_QUALITY_FRAME_SMOOTH;

  *interval_ns = 0;
  if (!d->have_last) {
    d->have_last = TRUE;
    d->last_ns = time_ns;
    return HQ_QUALITY_FRAME_FIRST;
  }
  if (time_ns <= d->last_ns)
    return HQ_QUALITY_FRAME_LATE;
  interval = time_ns - d->last_ns;
  d->last_ns = time_ns;
  *interval_ns = interval;

  /* A pause is not a freeze, and does not enter the average: the frames
   * after a camera was off are judged against the frame rate before. */
  if (interval > HQ_QUALITY_PAUSE_NS) {
    d->pause_count++;
    d->pauses_ns += interval;
    return HQ_QUALITY_FRAME_PAUSE;
  }
  avg = hq_freeze_detector_average (d);
  if (d->window_len > 0
      && interval >= MAX (3 * avg, avg + HQ_QUALITY_FREEZE_MIN_EXTRA_NS)) {
    d->freeze_count++;
    d->freezes_ns += interval;
    event = HQ_QUALITY_FRAME_FREEZE;
  }
  window_add (d, interval);
  return event;
}

/* ---- luma planes ---- */

gdouble
hq_quality_mse (const guint8 *a, gsize stride_a, const guint8 *b,
    gsize stride_b, guint width, guint height)
{
  guint64 sum = 0;

  if (width == 0 || height == 0)
    return 0;
  for (guint y = 0; y < height; y++) {
    const guint8 *pa = a + y * stride_a, *pb = b + y * stride_b;
    guint32 row = 0;
    for (guint x = 0; x < width; x++) {
      gint d = (gint)pa[x] - pb[x];
      row += (guint32)(d * d);
    }
    sum += row;
  }
  return (gdouble)sum / ((gdouble)width * height);
}

gdouble
hq_quality_psnr_from_mse (gdouble mse)
{
  gdouble psnr;

  if (mse <= 0)
    return HQ_QUALITY_PSNR_MAX;
  psnr = 10 * log10 (255.0 * 255.0 / mse);
  return MIN (psnr, HQ_QUALITY_PSNR_MAX);
}

/* Sums over one 4x4 block of both planes: the building block of the 8x8
 * windows, each of which is four blocks. */
typedef struct
{
  guint32 s1, s2, ss, s12;
} BlockSums;

static void
block_sums_row (const guint8 *a, gsize stride_a, const guint8 *b,
    gsize stride_b, guint blocks, BlockSums *out)
{
  for (guint bx = 0; bx < blocks; bx++) {
    BlockSums s = { 0, 0, 0, 0 };
    for (guint y = 0; y < 4; y++) {
      const guint8 *pa = a + y * stride_a + bx * 4;
      const guint8 *pb = b + y * stride_b + bx * 4;
      for (guint x = 0; x < 4; x++) {
        guint32 va = pa[x], vb = pb[x];
        s.s1 += va;
        s.s2 += vb;
        s.ss += va * va + vb * vb;
        s.s12 += va * vb;
      }
    }
    out[bx] = s;
  }
}

/* SSIM of one 8x8 window from its sums over 64 samples.  Wang et al.:
 * (2 mu1 mu2 + C1)(2 cov + C2) / ((mu1^2 + mu2^2 + C1)(var1 + var2 + C2)),
 * here multiplied through by 64^2; the constants are ffmpeg's (from x264),
 * C1 = (0.01 * 255)^2 * 64 and C2 = (0.03 * 255)^2 * 64 * 63. */
static gdouble
window_ssim (gdouble s1, gdouble s2, gdouble ss, gdouble s12)
{
  const gdouble c1 = 416; /* (int)(.01*.01*255*255*64 + .5) */
  const gdouble c2 = 235963; /* (int)(.03*.03*255*255*64*63 + .5) */
  gdouble vars = ss * 64 - s1 * s1 - s2 * s2;
  gdouble covar = s12 * 64 - s1 * s2;

  return (2 * s1 * s2 + c1) * (2 * covar + c2)
      / ((s1 * s1 + s2 * s2 + c1) * (vars + c2));
}

gdouble
hq_quality_ssim (const guint8 *a, gsize stride_a, const guint8 *b,
    gsize stride_b, guint width, guint height)
{
  guint bw = width / 4, bh = height / 4;
  BlockSums *rows[2];
  gdouble total = 0;

  if (bw < 2 || bh < 2)
    return hq_quality_planes_equal (a, stride_a, b, stride_b, width, height)
        ? 1.0
        : 0.0;
  rows[0] = g_new (BlockSums, bw);
  rows[1] = g_new (BlockSums, bw);
  block_sums_row (a, stride_a, b, stride_b, bw, rows[0]);
  for (guint by = 1; by < bh; by++) {
    BlockSums *above = rows[(by - 1) & 1], *here = rows[by & 1];
    block_sums_row (a + by * 4 * stride_a, stride_a, b + by * 4 * stride_b,
        stride_b, bw, here);
    for (guint bx = 0; bx + 1 < bw; bx++) {
      const BlockSums *q[4] = { &above[bx], &above[bx + 1], &here[bx],
        &here[bx + 1] };
      gdouble s1 = 0, s2 = 0, ss = 0, s12 = 0;
      for (guint i = 0; i < 4; i++) {
        s1 += q[i]->s1;
        s2 += q[i]->s2;
        ss += q[i]->ss;
        s12 += q[i]->s12;
      }
      total += window_ssim (s1, s2, ss, s12);
    }
  }
  g_free (rows[0]);
  g_free (rows[1]);
  return total / ((gdouble)(bw - 1) * (bh - 1));
}

gboolean
hq_quality_planes_equal (const guint8 *a, gsize stride_a, const guint8 *b,
    gsize stride_b, guint width, guint height)
{
  for (guint y = 0; y < height; y++)
    if (memcmp (a + y * stride_a, b + y * stride_b, width) != 0)
      return FALSE;
  return TRUE;
}

gboolean
hq_quality_plane_is_black (
    const guint8 *y, gsize stride, guint width, guint height)
{
  guint64 bright = 0, allowed;

  if (width == 0 || height == 0)
    return FALSE;
  allowed = (guint64)((1.0 - HQ_QUALITY_BLACK_FRACTION) * width * height);
  for (guint r = 0; r < height; r++) {
    const guint8 *p = y + r * stride;
    guint row = 0;
    for (guint x = 0; x < width; x++)
      row += p[x] > HQ_QUALITY_BLACK_LUMA;
    bright += row;
    if (bright > allowed)
      return FALSE;
  }
  return TRUE;
}

/* ---- audio ---- */

gdouble
hq_quality_mean_square (const gdouble *s, gsize n, guint64 *clipped)
{
  gdouble sum = 0;
  guint64 clips = 0;

  if (n == 0)
    return 0;
  for (gsize i = 0; i < n; i++) {
    sum += s[i] * s[i];
    clips += fabs (s[i]) >= HQ_QUALITY_CLIP_LEVEL;
  }
  *clipped += clips;
  return sum / n;
}

/* ---- scores ---- */

gdouble
hq_quality_emodel_idd (gdouble delay_ms)
{
  gdouble x;

  if (delay_ms <= 100)
    return 0;
  x = log10 (delay_ms / 100) / log10 (2);
  return 25
      * (pow (1 + pow (x, 6), 1.0 / 6) - 3 * pow (1 + pow (x / 3, 6), 1.0 / 6)
          + 2);
}

gdouble
hq_quality_emodel_ie_eff (
    gdouble ie, gdouble bpl, gdouble loss_percent, gdouble burst_r)
{
  gdouble ppl = CLAMP (loss_percent, 0, 100);

  if (burst_r <= 0)
    burst_r = 1;
  return ie + (95 - ie) * ppl / (ppl / burst_r + bpl);
}

gdouble
hq_quality_audio_r (gdouble delay_ms, gdouble loss_percent)
{
  gdouble r = HQ_QUALITY_EMODEL_R0 - hq_quality_emodel_idd (delay_ms)
      - hq_quality_emodel_ie_eff (
          HQ_QUALITY_OPUS_IE, HQ_QUALITY_OPUS_BPL, loss_percent, 1);

  return CLAMP (r, 0, 100);
}

gdouble
hq_quality_audio_mos (gdouble delay_ms, gdouble loss_percent)
{
  return hq_netq_mos (hq_quality_audio_r (delay_ms, loss_percent));
}

/* The model, with its reasons, is in docs/hqqualitymeter.md. */
#define VIDEO_MIN_PIXELS (320.0 * 180.0) /* resolution term 0 */
#define VIDEO_DOUBLINGS 4.0 /* 320x180 -> 1280x720: term 1 */
#define VIDEO_FULL_FPS 30.0
#define VIDEO_BPP_SCALE 0.02

gdouble
hq_quality_video_mos (const HqVideoSample *s)
{
  gdouble pixels = (gdouble)s->width * s->height;
  gdouble qr = 0, qf = 0, qb = 1, frozen, mos;

  if (pixels > 0)
    qr = CLAMP (log2 (pixels / VIDEO_MIN_PIXELS) / VIDEO_DOUBLINGS, 0, 1);
  if (s->fps > 1)
    qf = CLAMP (log (s->fps) / log (VIDEO_FULL_FPS), 0, 1);
  if (s->bitrate_bps > 0 && pixels > 0 && s->fps > 0)
    qb = 1 - exp (-(s->bitrate_bps / (pixels * s->fps)) / VIDEO_BPP_SCALE);
  frozen = CLAMP (s->frozen_fraction, 0, 1);
  mos = 1 + 3.5 * (0.6 + 0.4 * qr) * (0.2 + 0.8 * qf) * qb;
  return 1 + (mos - 1) * (1 - frozen) * (1 - frozen);
}

guint
hq_quality_level_from_mos (gdouble mos)
{
  return hq_netq_level_from_mos (mos);
}
