/* Unit tests for libhq's VideoLayout (hqlayout), the one placement of
 * videos in a composed frame that hqrecorder, hq-compose and hq-server's
 * composition checks share: the default grid for 1..16 sources on
 * landscape, portrait and odd-sized frames (every tile inside the frame,
 * none overlapping, a full grid covering every pixel, tiles of one grid
 * within a pixel of each other, their shape near the frame's), regions
 * with z order, exclusions and reuse, what the parser refuses, and which
 * sources a layout takes. */
#include <math.h>
#include <string.h>
#include <glib.h>
#include <hq/hqlayout.h>

#define MAX_SOURCES 16

typedef struct
{
  gint width, height;
} Frame;

static const Frame frames[] = {
  { 1280, 720 }, /* landscape */
  { 720, 1280 }, /* portrait */
  { 641, 359 }, /* odd */
  { 1279, 721 }, /* odd */
  { 17, 9 }, /* tiny: 16 tiles of one or two pixels */
};

static HqLayoutSource sources[MAX_SOURCES];
static gchar *names[MAX_SOURCES];

static void
make_sources (void)
{
  for (guint i = 0; i < MAX_SOURCES; i++) {
    names[i] = g_strdup_printf ("p%u", i);
    sources[i].names[0] = names[i];
  }
}

static gboolean
overlap (const HqLayoutPlacement *a, const HqLayoutPlacement *b)
{
  return a->x < b->x + b->width && b->x < a->x + a->width
      && a->y < b->y + b->height && b->y < a->y + a->height;
}

/* Counts the distinct values of @get over @n placements. */
static guint
distinct (const HqLayoutPlacement *p, guint n, gboolean rows)
{
  guint count = 0;

  for (guint i = 0; i < n; i++) {
    gboolean seen = FALSE;

    for (guint k = 0; k < i; k++)
      seen |= rows ? p[k].y == p[i].y : p[k].x == p[i].x;
    count += !seen;
  }
  return count;
}

/* Every grid of 1..16 on every frame: inside, apart, covering, even. */
static void
test_grid (void)
{
  HqLayout *layout = hq_layout_new_grid ();
  HqLayoutPlacement p[MAX_SOURCES];

  for (guint f = 0; f < G_N_ELEMENTS (frames); f++) {
    const Frame *fr = &frames[f];

    for (guint n = 1; n <= MAX_SOURCES; n++) {
      guint cols = (guint)ceil (sqrt ((double)n));
      guint rows = (n + cols - 1) / cols;
      gint64 area = 0;
      gint min_w = G_MAXINT, max_w = 0, min_h = G_MAXINT, max_h = 0;

      hq_layout_place (layout, fr->width, fr->height, sources, n, p);
      for (guint i = 0; i < n; i++) {
        g_assert_true (p[i].visible);
        g_assert_cmpint (p[i].width, >=, 1);
        g_assert_cmpint (p[i].height, >=, 1);
        g_assert_cmpint (p[i].x, >=, 0);
        g_assert_cmpint (p[i].y, >=, 0);
        g_assert_cmpint (p[i].x + p[i].width, <=, fr->width);
        g_assert_cmpint (p[i].y + p[i].height, <=, fr->height);
        for (guint k = 0; k < i; k++)
          if (overlap (&p[i], &p[k]))
            g_error ("%dx%d, %u sources: %u (%dx%d+%d+%d) overlaps %u "
                     "(%dx%d+%d+%d)",
                fr->width, fr->height, n, i, p[i].width, p[i].height, p[i].x,
                p[i].y, k, p[k].width, p[k].height, p[k].x, p[k].y);
        area += (gint64)p[i].width * p[i].height;
        min_w = MIN (min_w, p[i].width);
        max_w = MAX (max_w, p[i].width);
        min_h = MIN (min_h, p[i].height);
        max_h = MAX (max_h, p[i].height);
      }
      /* the grid's shape: as square as can be, wider than tall */
      g_assert_cmpuint (distinct (p, n, FALSE), ==, MIN (n, cols));
      g_assert_cmpuint (distinct (p, n, TRUE), ==, rows);
      /* a full grid leaves no pixel uncovered, odd sizes included */
      if (n == rows * cols)
        g_assert_cmpint (area, ==, (gint64)fr->width * fr->height);
      /* rounding makes tiles differ by one pixel at most */
      g_assert_cmpint (max_w - min_w, <=, 1);
      g_assert_cmpint (max_h - min_h, <=, 1);
    }
  }
  hq_layout_free (layout);
}

/* A tile has the frame's shape for 1, 4, 9 and 16 sources, and otherwise
 * is at most twice as narrow (cols is rows or rows + 1): a 16:9 frame never
 * gets tall thin strips. */
static void
test_grid_aspect (void)
{
  HqLayout *layout = hq_layout_new_grid ();
  HqLayoutPlacement p[MAX_SOURCES];

  for (guint f = 0; f < 2; f++) {
    const Frame *fr = &frames[f];
    gdouble frame_aspect = (gdouble)fr->width / fr->height;

    for (guint n = 1; n <= MAX_SOURCES; n++) {
      gdouble aspect;

      hq_layout_place (layout, fr->width, fr->height, sources, n, p);
      aspect = (gdouble)p[0].width / p[0].height;
      if (n == 1 || n == 4 || n == 9 || n == 16)
        g_assert_cmpfloat (fabs (aspect - frame_aspect), <, 0.01);
      g_assert_cmpfloat (aspect, >=, frame_aspect / 2 - 0.01);
      g_assert_cmpfloat (aspect, <=, frame_aspect + 0.01);
    }
  }
  /* two on a 16:9 frame side by side, as the recorder always did */
  hq_layout_place (layout, 1280, 720, sources, 2, p);
  g_assert_cmpint (p[0].x, ==, 0);
  g_assert_cmpint (p[1].x, ==, 640);
  g_assert_cmpint (p[1].width, ==, 640);
  g_assert_cmpint (p[1].height, ==, 720);
  /* five: three columns, two rows */
  hq_layout_place (layout, 1280, 720, sources, 5, p);
  g_assert_cmpint (p[2].x, ==, 853);
  g_assert_cmpint (p[3].y, ==, 360);
  g_assert_cmpint (p[4].x, ==, 426);
  hq_layout_free (layout);
}

/* A screen share on the whole frame under a strip of the three newest
 * cameras. */
static void
test_regions (void)
{
  HqLayoutSource src[5] = {
    { { "alice", "cam", "video_0" } },
    { { "bob", "cam", "video_1" } },
    { { "carol", "screen", "video_2" } },
    { { "dan", "cam", "video_3" } },
    { { "eve", "cam", "video_4" } },
  };
  HqLayoutPlacement p[5];
  GError *err = NULL;
  HqLayout *l = hq_layout_parse (
      "{\"main\": {\"z_pos\": 1, "
      "\"video_sources\": [\"screen\"]}, \"strip\": {\"z_pos\": 2, "
      "\"x_pos\": 0, \"y_pos\": 600, \"height\": 120, \"max_rows\": 1, "
      "\"max_columns\": 3, \"reuse\": \"show_newest\", "
      "\"video_sources\": [\"*\"], \"video_sources_excluded\": [\"screen\"]}}",
      &err);

  g_assert_no_error (err);
  hq_layout_place (l, 1280, 720, src, 5, p);
  g_assert_true (p[2].visible && p[2].width == 1280 && p[2].zorder == 1);
  g_assert_false (p[0].visible); /* show_newest keeps the three newest */
  g_assert_true (p[1].visible && p[1].y == 600 && p[1].zorder == 2);
  g_assert_true (p[4].visible && p[4].x == 853);
  hq_layout_free (l);

  /* cells_excluded leaves the middle of a 3x1 strip empty */
  l = hq_layout_parse ("{\"strip\": {\"max_rows\": 1, \"max_columns\": 3, "
                       "\"cells_excluded\": [1]}}",
      &err);
  g_assert_no_error (err);
  hq_layout_place (l, 300, 100, src, 2, p);
  g_assert_cmpint (p[0].x, ==, 0);
  g_assert_cmpint (p[1].x, ==, 200);
  g_assert_cmpint (p[1].width, ==, 100);
  hq_layout_free (l);
}

/* What a person gets back for a layout that cannot be used. */
static void
test_parse_errors (void)
{
  static const struct
  {
    const gchar *json;
    const gchar *says;
  } bad[] = {
    { "{\"a\": {\"reuse\": \"x\"}}",
        "reuse must be none, show_oldest or show_newest" },
    { "[1]", "layout must be a JSON object of regions" },
    { "{}", "layout has no region" },
    { "{\"a\": 3}", "layout region \"a\" must be an object" },
    { "{\"a\": {\"x_pos\": -1}}", "x_pos must be a non-negative integer" },
    { "{\"a\": {\"video_sources\": \"*\"}}",
        "video_sources must be an array of strings" },
    { "{\"a\": {\"cells_excluded\": [\"1\"]}}",
        "cells_excluded must be an array of non-negative integers" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    GError *err = NULL;

    g_assert_null (hq_layout_parse (bad[i].json, &err));
    g_assert_nonnull (err);
    if (strstr (err->message, bad[i].says) == NULL)
      g_error ("%s: \"%s\" does not say \"%s\"", bad[i].json, err->message,
          bad[i].says);
    g_error_free (err);
  }
}

/* Which sources a composition's layout takes, as hq-server picks its
 * recordings: by any of the source's names, minus exclusions. */
static void
test_takes (void)
{
  g_autoptr (JsonNode) node =
      json_from_string ("{\"main\": {\"video_sources\": [\"video*\"], "
                        "\"video_sources_excluded\": [\"RT2*\"]}}",
          NULL);
  GError *err = NULL;
  HqLayout *l = hq_layout_new_from_object (json_node_get_object (node), &err);
  HqLayoutSource cam = { { "video-alice", "MT1", "RT1" } };
  HqLayoutSource excluded = { { "video-bob", "MT2", "RT2" } };
  HqLayoutSource screen = { { "screen", "MT3", "RT3" } };
  HqLayoutSource by_sid = { { "camera", "MT4", "RT4" } };

  g_assert_no_error (err);
  g_assert_true (hq_layout_takes (l, &cam));
  g_assert_false (hq_layout_takes (l, &excluded));
  g_assert_false (hq_layout_takes (l, &screen));
  g_assert_false (hq_layout_takes (l, &by_sid));
  hq_layout_free (l);

  l = hq_layout_new_grid ();
  g_assert_true (hq_layout_takes (l, &screen));
  hq_layout_free (l);
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  make_sources ();
  g_test_add_func ("/layout/grid/1-16", test_grid);
  g_test_add_func ("/layout/grid/aspect", test_grid_aspect);
  g_test_add_func ("/layout/regions", test_regions);
  g_test_add_func ("/layout/parse-errors", test_parse_errors);
  g_test_add_func ("/layout/takes", test_takes);
  ret = g_test_run ();
  for (guint i = 0; i < MAX_SOURCES; i++)
    g_free (names[i]);
  return ret;
}
