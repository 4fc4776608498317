/* libhq quality scoring with known truth: freezes and pauses at the W3C
 * thresholds (one nanosecond either side), PSNR and SSIM against values
 * worked out by hand from their definitions, black frames at the 98 %
 * boundary, the G.107 E-model's published anchors, the video model's
 * ordering and the MOS-to-level scale.  Suite `qualitymeter`. */
#include <math.h>
#include <string.h>
#include <glib.h>
#include <hq/hqnetq.h>
#include <hq/hqquality.h>

#define FRAME_30 33333333ull /* ns, 30 fps */

/* Pushes @n frames @step ns apart starting after *t. */
static void
push_frames (HqFreezeDetector *d, guint64 *t, guint n, guint64 step)
{
  guint64 interval;

  for (guint i = 0; i < n; i++) {
    *t += step;
    hq_freeze_detector_push (d, *t, &interval);
  }
}

static void
test_freeze_threshold_30fps (void)
{
  HqFreezeDetector d;
  guint64 t = 0, interval, avg;

  hq_freeze_detector_reset (&d);
  g_assert_cmpint (
      hq_freeze_detector_push (&d, t, &interval), ==, HQ_QUALITY_FRAME_FIRST);
  push_frames (&d, &t, 40, FRAME_30);
  g_assert_cmpuint (d.freeze_count, ==, 0);
  avg = hq_freeze_detector_average (&d);
  g_assert_cmpuint (avg, ==, FRAME_30);

  /* At 30 fps the threshold is avg + 150 ms (> 3 x avg): 183.3 ms.  Four
   * missing frames (166.7 ms) are no freeze, one nanosecond short of the
   * threshold neither, the threshold itself is. */
  t += 5 * FRAME_30;
  g_assert_cmpint (
      hq_freeze_detector_push (&d, t, &interval), ==, HQ_QUALITY_FRAME_SMOOTH);
  push_frames (&d, &t, 40, FRAME_30);
  avg = hq_freeze_detector_average (&d);
  t += avg + 150000000 - 1;
  g_assert_cmpint (
      hq_freeze_detector_push (&d, t, &interval), ==, HQ_QUALITY_FRAME_SMOOTH);
  push_frames (&d, &t, 40, FRAME_30);
  avg = hq_freeze_detector_average (&d);
  t += avg + 150000000;
  g_assert_cmpint (
      hq_freeze_detector_push (&d, t, &interval), ==, HQ_QUALITY_FRAME_FREEZE);
  g_assert_cmpuint (interval, ==, FRAME_30 + 150000000);
  g_assert_cmpuint (d.freeze_count, ==, 1);
  g_assert_cmpuint (d.freezes_ns, ==, interval);
}

static void
test_freeze_threshold_5fps (void)
{
  HqFreezeDetector d;
  guint64 t = 0, interval;

  /* At 5 fps 3 x avg (600 ms) is the larger bound. */
  hq_freeze_detector_reset (&d);
  hq_freeze_detector_push (&d, t, &interval);
  push_frames (&d, &t, 30, 200000000);
  t += 600000000 - 1;
  g_assert_cmpint (
      hq_freeze_detector_push (&d, t, &interval), ==, HQ_QUALITY_FRAME_SMOOTH);
  /* The 599.9 ms interval is in the window now: avg = (29*200+600)/30. */
  g_assert_cmpuint (hq_freeze_detector_average (&d), ==,
      (29 * 200000000ull + 600000000 - 1) / 30);
  push_frames (&d, &t, 30, 200000000);
  t += 600000000;
  g_assert_cmpint (
      hq_freeze_detector_push (&d, t, &interval), ==, HQ_QUALITY_FRAME_FREEZE);
}

static void
test_pause (void)
{
  HqFreezeDetector d;
  guint64 t = 0, interval;

  hq_freeze_detector_reset (&d);
  hq_freeze_detector_push (&d, t, &interval);
  push_frames (&d, &t, 30, FRAME_30);

  /* Exactly 5 s is still a freeze; longer is a pause, not a freeze, and
   * leaves the average alone. */
  t += 5000000000ull;
  g_assert_cmpint (
      hq_freeze_detector_push (&d, t, &interval), ==, HQ_QUALITY_FRAME_FREEZE);
  hq_freeze_detector_reset (&d);
  t = 0;
  hq_freeze_detector_push (&d, t, &interval);
  push_frames (&d, &t, 30, FRAME_30);
  t += 5000000001ull;
  g_assert_cmpint (
      hq_freeze_detector_push (&d, t, &interval), ==, HQ_QUALITY_FRAME_PAUSE);
  g_assert_cmpuint (d.pause_count, ==, 1);
  g_assert_cmpuint (d.pauses_ns, ==, 5000000001ull);
  g_assert_cmpuint (d.freeze_count, ==, 0);
  g_assert_cmpuint (hq_freeze_detector_average (&d), ==, FRAME_30);

  /* A frame not later than the last is ignored. */
  g_assert_cmpint (
      hq_freeze_detector_push (&d, t, &interval), ==, HQ_QUALITY_FRAME_LATE);
}

static guint8 *
plane_new (guint w, guint h, guint8 value)
{
  guint8 *p = g_malloc (w * h);
  memset (p, value, w * h);
  return p;
}

static void
test_psnr (void)
{
  guint8 *a = plane_new (64, 48, 100), *b = plane_new (64, 48, 110);

  /* MSE 100: 10 log10(255^2 / 100) = 28.1308 dB. */
  g_assert_cmpfloat_with_epsilon (
      hq_quality_mse (a, 64, b, 64, 64, 48), 100, 1e-12);
  g_assert_cmpfloat_with_epsilon (
      hq_quality_psnr_from_mse (hq_quality_mse (a, 64, b, 64, 64, 48)),
      28.130803608679102, 1e-9);
  g_assert_cmpfloat (hq_quality_psnr_from_mse (0), ==, HQ_QUALITY_PSNR_MAX);
  /* Strides are honoured: b read as a 32-wide plane with stride 64. */
  g_assert_cmpfloat (hq_quality_mse (a, 64, b, 64, 32, 48), ==, 100);
  g_free (a);
  g_free (b);
}

/* SSIM of one 8x8 window straight from Wang et al.'s definition with
 * population (co)variances, with ffmpeg's constants divided back by 64^2. */
static gdouble
ssim_by_definition (const guint8 *a, const guint8 *b)
{
  gdouble m1 = 0, m2 = 0, v1 = 0, v2 = 0, cov = 0;
  const gdouble c1 = 416.0 / 4096, c2 = 235963.0 / 4096;

  for (guint i = 0; i < 64; i++) {
    m1 += a[i] / 64.0;
    m2 += b[i] / 64.0;
  }
  for (guint i = 0; i < 64; i++) {
    v1 += (a[i] - m1) * (a[i] - m1) / 64;
    v2 += (b[i] - m2) * (b[i] - m2) / 64;
    cov += (a[i] - m1) * (b[i] - m2) / 64;
  }
  return (2 * m1 * m2 + c1) * (2 * cov + c2)
      / ((m1 * m1 + m2 * m2 + c1) * (v1 + v2 + c2));
}

static void
test_ssim (void)
{
  guint8 *a = plane_new (64, 48, 100), *b = plane_new (64, 48, 110);
  guint8 wa[64], wb[64];
  GRand *rand = g_rand_new_with_seed (19);
  gdouble expect;

  g_assert_cmpfloat (hq_quality_ssim (a, 64, a, 64, 64, 48), ==, 1.0);
  /* Flat planes: only the luminance term, every window alike. */
  expect = (2.0 * 6400 * 7040 + 416) / (6400.0 * 6400 + 7040.0 * 7040 + 416);
  g_assert_cmpfloat_with_epsilon (
      hq_quality_ssim (a, 64, b, 64, 64, 48), expect, 1e-12);

  /* One window of texture and noise. */
  for (guint i = 0; i < 64; i++) {
    wa[i] = (guint8)g_rand_int_range (rand, 0, 256);
    wb[i] = (guint8)CLAMP (wa[i] + g_rand_int_range (rand, -40, 41), 0, 255);
  }
  expect = ssim_by_definition (wa, wb);
  g_assert_cmpfloat (expect, <, 0.95);
  g_assert_cmpfloat_with_epsilon (
      hq_quality_ssim (wa, 8, wb, 8, 8, 8), expect, 1e-9);
  /* Smaller than one window: 1 when equal, else 0. */
  g_assert_cmpfloat (hq_quality_ssim (wa, 8, wa, 8, 7, 8), ==, 1.0);
  g_assert_cmpfloat (hq_quality_ssim (wa, 8, wb, 8, 7, 8), ==, 0.0);
  g_rand_free (rand);
  g_free (a);
  g_free (b);
}

static void
test_black (void)
{
  guint8 *p = plane_new (100, 100, 16);

  g_assert_true (hq_quality_plane_is_black (p, 100, 100, 100));
  /* 2 % bright is still black, 2 % and one sample not. */
  memset (p, 200, 200);
  g_assert_true (hq_quality_plane_is_black (p, 100, 100, 100));
  p[200] = 33;
  g_assert_false (hq_quality_plane_is_black (p, 100, 100, 100));
  p[200] = 32;
  g_assert_true (hq_quality_plane_is_black (p, 100, 100, 100));
  g_assert_true (hq_quality_planes_equal (p, 100, p, 100, 100, 100));
  g_free (p);
}

static void
test_audio_measures (void)
{
  gdouble s[4] = { 0.5, -0.5, 1.0, -0.9995 };
  guint64 clipped = 0;

  g_assert_cmpfloat_with_epsilon (hq_quality_mean_square (s, 4, &clipped),
      (0.25 + 0.25 + 1 + 0.9995 * 0.9995) / 4, 1e-12);
  g_assert_cmpuint (clipped, ==, 2);
}

static void
test_emodel (void)
{
  /* G.107's defaults give R 93.2, MOS 4.41. */
  g_assert_cmpfloat_with_epsilon (hq_quality_audio_r (0, 0), 93.2, 1e-9);
  g_assert_cmpfloat_with_epsilon (hq_quality_audio_mos (0, 0), 4.409, 0.001);
  /* Idd: nothing up to 100 ms; at 200 ms X = 1, at 400 ms X = 2. */
  g_assert_cmpfloat (hq_quality_emodel_idd (100), ==, 0);
  g_assert_cmpfloat_with_epsilon (hq_quality_emodel_idd (200),
      25 * (pow (2, 1.0 / 6) - 3 * pow (1 + pow (1.0 / 3, 6), 1.0 / 6) + 2),
      1e-9);
  g_assert_cmpfloat_with_epsilon (hq_quality_emodel_idd (200), 3.05, 0.01);
  g_assert_cmpfloat_with_epsilon (hq_quality_emodel_idd (400), 24.07, 0.01);
  /* Ie,eff for 2 % random loss with Bpl 25.1: 95 * 2 / 27.1. */
  g_assert_cmpfloat_with_epsilon (
      hq_quality_emodel_ie_eff (0, 25.1, 2, 1), 95.0 * 2 / 27.1, 1e-9);
  /* Bursty loss hurts more than random loss. */
  g_assert_cmpfloat (hq_quality_emodel_ie_eff (0, 25.1, 5, 2), >,
      hq_quality_emodel_ie_eff (0, 25.1, 5, 1));
  /* 20 % loss: R = 93.2 - 95 * 20 / 45.1 = 51.07, MOS 2.63. */
  g_assert_cmpfloat_with_epsilon (
      hq_quality_audio_r (0, 20), 93.2 - 95.0 * 20 / 45.1, 1e-9);
  g_assert_cmpfloat_with_epsilon (hq_quality_audio_mos (0, 20), 2.63, 0.01);
  /* Monotonic in delay and loss. */
  for (gdouble loss = 0; loss < 50; loss += 1)
    g_assert_cmpfloat (hq_quality_audio_mos (150, loss + 1), <,
        hq_quality_audio_mos (150, loss));
  for (gdouble delay = 100; delay < 1000; delay += 10)
    g_assert_cmpfloat (hq_quality_audio_mos (delay + 10, 1), <,
        hq_quality_audio_mos (delay, 1));
}

static void
test_video_mos (void)
{
  HqVideoSample hd = { 1280, 720, 30, 0, 0 }, s;

  g_assert_cmpfloat_with_epsilon (hq_quality_video_mos (&hd), 4.5, 1e-9);
  /* Bigger than 720p is no better. */
  s = hd;
  s.width = 1920;
  s.height = 1080;
  g_assert_cmpfloat_with_epsilon (hq_quality_video_mos (&s), 4.5, 1e-9);
  /* 640x360 at 30 fps: two doublings of four, 1 + 3.5 * 0.8. */
  s = hd;
  s.width = 640;
  s.height = 360;
  g_assert_cmpfloat_with_epsilon (hq_quality_video_mos (&s), 3.8, 1e-9);
  /* Frame rate, bits and frozen time each lower the score. */
  s = hd;
  s.fps = 15;
  g_assert_cmpfloat_with_epsilon (hq_quality_video_mos (&s),
      1 + 3.5 * (0.2 + 0.8 * log (15) / log (30)), 1e-9);
  s = hd;
  s.bitrate_bps = 300000;
  g_assert_cmpfloat (hq_quality_video_mos (&s), <, 3);
  s.bitrate_bps = 2500000;
  g_assert_cmpfloat (hq_quality_video_mos (&s), >, 4.2);
  s = hd;
  s.frozen_fraction = 0.5;
  g_assert_cmpfloat_with_epsilon (
      hq_quality_video_mos (&s), 1 + 3.5 * 0.25, 1e-9);
  s.frozen_fraction = 1;
  g_assert_cmpfloat (hq_quality_video_mos (&s), ==, 1);
}

static void
test_levels (void)
{
  /* netq's R thresholds 85/70/55/40 in MOS: 4.20, 3.60, 2.84, 2.06. */
  g_assert_cmpuint (hq_quality_level_from_mos (4.5), ==, 5);
  g_assert_cmpuint (hq_quality_level_from_mos (hq_netq_mos (85)), ==, 5);
  g_assert_cmpuint (hq_quality_level_from_mos (4.0), ==, 4);
  g_assert_cmpuint (hq_quality_level_from_mos (3.0), ==, 3);
  g_assert_cmpuint (hq_quality_level_from_mos (2.5), ==, 2);
  g_assert_cmpuint (hq_quality_level_from_mos (1.5), ==, 1);
  /* Audio with no impairment is 5; 20 % loss is at most 2. */
  g_assert_cmpuint (
      hq_quality_level_from_mos (hq_quality_audio_mos (0, 0)), ==, 5);
  g_assert_cmpuint (
      hq_quality_level_from_mos (hq_quality_audio_mos (0, 20)), <=, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/quality/freeze-30fps", test_freeze_threshold_30fps);
  g_test_add_func ("/quality/freeze-5fps", test_freeze_threshold_5fps);
  g_test_add_func ("/quality/pause", test_pause);
  g_test_add_func ("/quality/psnr", test_psnr);
  g_test_add_func ("/quality/ssim", test_ssim);
  g_test_add_func ("/quality/black", test_black);
  g_test_add_func ("/quality/audio-measures", test_audio_measures);
  g_test_add_func ("/quality/emodel", test_emodel);
  g_test_add_func ("/quality/video-mos", test_video_mos);
  g_test_add_func ("/quality/levels", test_levels);
  return g_test_run ();
}
