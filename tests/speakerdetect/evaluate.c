/* Evaluates hqspeakerdetect on conversations with known ground truth (made
 * by make_conversation.py) and checks the acceptance figures of issue 7.
 *
 *   hq-speakerdetect-evaluate DIR...
 *
 * Each DIR holds one WAV per participant and truth.tsv.  Every conversation
 * is played from its files, as fast as they can be read, through
 * hqspeakerdetect once with algorithm=dsi and once with algorithm=loudest;
 * the hq-dominant-speaker messages are compared with the truth on a 10 ms
 * grid:
 *
 * - accuracy: of the time where exactly one person speaks, at least 1 s
 *   after the latest turn change, the share where that person is named;
 * - switch latency: from the start of a turn by someone new until they are
 *   named (a turn during which they never are is a miss);
 * - spurious switches: switches to someone who held no turn in the 2 s
 *   before, i.e. caused by a noise burst or a backchannel; per minute;
 * - quiet accuracy: accuracy over the quietest speaker's own time.
 *
 * The figures are printed per conversation and pooled; the exit status is
 * 1 when the pooled dsi figures miss the acceptance bounds (accuracy >= 90
 * %, median latency < 1.2 s, <= 1 spurious switch per minute, quiet
 * speaker found when alone) or when loudest is not clearly worse on
 * spurious switches, 2 when a conversation cannot be read or played.
 * The speed column (seconds of audio per second of wall time) is printed
 * for information only: tests do not judge wall-clock time.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gst/gst.h>

#define GRID 0.01 /* seconds */
#define SETTLE 1.0 /* seconds after a turn change not scored */
#define JUSTIFIED 2.0 /* a switch to whoever spoke this recently */
#define MAX_SPEAKERS 16

typedef struct
{
  gchar *name;
  gchar *file;
  gdouble peak_db;
} Speaker;

typedef struct
{
  gdouble start, end;
  gint speaker;
  gboolean speech; /* turn or backchannel */
  gboolean turn;
} Event;

typedef struct
{
  gchar *dir;
  GArray *speakers; /* of Speaker */
  GArray *events; /* of Event, by start */
  gdouble duration;
} Conversation;

typedef struct
{
  gdouble time;
  gint speaker; /* -1: nobody */
} Switch;

/* Sums over one or more conversations. */
typedef struct
{
  gdouble scored, correct;
  gdouble quiet_scored, quiet_correct;
  GArray *latencies; /* of gdouble; INFINITY for a miss */
  guint switches, spurious;
  gdouble minutes, audio_seconds, wall_seconds;
} Figures;

static void
conversation_free (Conversation *c)
{
  for (guint i = 0; i < c->speakers->len; i++) {
    g_free (g_array_index (c->speakers, Speaker, i).name);
    g_free (g_array_index (c->speakers, Speaker, i).file);
  }
  g_array_free (c->speakers, TRUE);
  g_array_free (c->events, TRUE);
  g_free (c->dir);
  g_free (c);
}

static gint
speaker_index (Conversation *c, const gchar *name)
{
  for (guint i = 0; i < c->speakers->len; i++)
    if (g_str_equal (g_array_index (c->speakers, Speaker, i).name, name))
      return i;
  return -1;
}

static gboolean
parse_seconds (const gchar *text, gdouble *out)
{
  gchar *end;

  *out = g_ascii_strtod (text, &end);
  return end != text && *end == '\0' && isfinite (*out) && *out >= 0
      && *out < 24 * 3600;
}

static gint
compare_events (gconstpointer a, gconstpointer b)
{
  const Event *x = a, *y = b;
  return (x->start > y->start) - (x->start < y->start);
}

/* Reads DIR/truth.tsv; NULL with a message on anything malformed. */
static Conversation *
conversation_load (const gchar *dir, gchar **why)
{
  Conversation *c = g_new0 (Conversation, 1);
  gchar *path = g_build_filename (dir, "truth.tsv", NULL);
  gchar *text = NULL;
  gchar **lines;
  GError *error = NULL;

  c->dir = g_strdup (dir);
  c->speakers = g_array_new (FALSE, TRUE, sizeof (Speaker));
  c->events = g_array_new (FALSE, TRUE, sizeof (Event));
  if (!g_file_get_contents (path, &text, NULL, &error)) {
    *why = g_strdup (error->message);
    g_error_free (error);
    g_free (path);
    conversation_free (c);
    return NULL;
  }
  lines = g_strsplit (text, "\n", -1);
  g_free (text);
  for (guint n = 0; lines[n]; n++) {
    gchar **f = g_strsplit (lines[n], "\t", -1);
    guint nf = g_strv_length (f);

    *why = NULL;
    if (nf == 0 || (nf == 1 && f[0][0] == '\0')) {
      /* empty line */
    } else if (g_str_equal (f[0], "speaker") && nf == 4) {
      Speaker s = { g_strdup (f[1]), g_build_filename (dir, f[2], NULL),
        g_ascii_strtod (f[3], NULL) };
      if (c->speakers->len == MAX_SPEAKERS || speaker_index (c, f[1]) >= 0)
        *why = g_strdup ("too many or repeated speakers");
      g_array_append_val (c->speakers, s);
    } else if (g_str_equal (f[0], "event") && nf == 5) {
      Event e = { 0 };
      if (!parse_seconds (f[1], &e.start) || !parse_seconds (f[2], &e.end)
          || e.end < e.start)
        *why = g_strdup ("bad times");
      else if ((e.speaker = speaker_index (c, f[3])) < 0)
        *why = g_strdup_printf ("unknown speaker '%s'", f[3]);
      e.turn = g_str_equal (f[4], "turn");
      e.speech = e.turn || g_str_equal (f[4], "backchannel");
      g_array_append_val (c->events, e);
      c->duration = MAX (c->duration, e.end + 2.0);
    } else {
      *why = g_strdup ("not a speaker or event line");
    }
    g_strfreev (f);
    if (*why) {
      gchar *msg = g_strdup_printf ("%s:%u: %s", path, n + 1, *why);
      g_free (*why);
      *why = msg;
      g_strfreev (lines);
      g_free (path);
      conversation_free (c);
      return NULL;
    }
  }
  g_strfreev (lines);
  g_free (path);
  if (c->speakers->len < 2 || c->events->len == 0) {
    *why = g_strdup_printf ("%s: needs two speakers and some events", dir);
    conversation_free (c);
    return NULL;
  }
  g_array_sort (c->events, compare_events);
  return c;
}

/* Plays the conversation through hqspeakerdetect; returns its switches. */
static GArray *
play (
    Conversation *c, const gchar *algorithm, gdouble *wall_seconds, gchar **why)
{
  GString *desc = g_string_new (NULL);
  GstElement *pipeline, *detector;
  GstBus *bus;
  GArray *switches = g_array_new (FALSE, FALSE, sizeof (Switch));
  GError *error = NULL;
  gint64 t0;
  gboolean done = FALSE;

  g_string_append_printf (
      desc, "hqspeakerdetect name=d algorithm=%s ", algorithm);
  for (guint i = 0; i < c->speakers->len; i++) {
    gchar *quoted =
        g_strescape (g_array_index (c->speakers, Speaker, i).file, NULL);
    g_string_append_printf (desc,
        "filesrc location=\"%s\" ! wavparse ! "
        "d.sink_%u d.src_%u ! fakesink sync=false ",
        quoted, i, i);
    g_free (quoted);
  }
  pipeline = gst_parse_launch (desc->str, &error);
  g_string_free (desc, TRUE);
  if (error != NULL) {
    *why = g_strdup_printf ("cannot build the pipeline: %s", error->message);
    g_error_free (error);
    g_clear_object (&pipeline);
    g_array_free (switches, TRUE);
    return NULL;
  }
  detector = gst_bin_get_by_name (GST_BIN (pipeline), "d");
  for (guint i = 0; i < c->speakers->len; i++) {
    gchar *name = g_strdup_printf ("sink_%u", i);
    GstPad *pad = gst_element_get_static_pad (detector, name);
    g_object_set (
        pad, "participant", g_array_index (c->speakers, Speaker, i).name, NULL);
    gst_object_unref (pad);
    g_free (name);
  }
  gst_object_unref (detector);

  bus = gst_element_get_bus (pipeline);
  t0 = g_get_monotonic_time ();
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  while (!done) {
    GstMessage *m = gst_bus_timed_pop_filtered (bus, 300 * GST_SECOND,
        GST_MESSAGE_ELEMENT | GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    const GstStructure *s;

    if (m == NULL) {
      *why = g_strdup ("no end of stream within 300 s");
      break;
    }
    s = gst_message_get_structure (m);
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS) {
      done = TRUE;
    } else if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
      gst_message_parse_error (m, &error, NULL);
      *why = g_strdup_printf ("pipeline error: %s", error->message);
      g_clear_error (&error);
      done = TRUE;
    } else if (gst_structure_has_name (s, "hq-dominant-speaker")) {
      const gchar *who = gst_structure_get_string (s, "participant");
      guint64 rt = 0;
      Switch sw;

      gst_structure_get_uint64 (s, "running-time", &rt);
      sw.time = rt / (gdouble)GST_SECOND;
      sw.speaker = who ? speaker_index (c, who) : -1;
      g_array_append_val (switches, sw);
    }
    gst_message_unref (m);
  }
  *wall_seconds = (g_get_monotonic_time () - t0) / 1e6;
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  if (*why) {
    g_array_free (switches, TRUE);
    return NULL;
  }
  return switches;
}

static gint
quietest (Conversation *c)
{
  gint q = 0;

  for (guint i = 1; i < c->speakers->len; i++)
    if (g_array_index (c->speakers, Speaker, i).peak_db
        < g_array_index (c->speakers, Speaker, q).peak_db)
      q = i;
  return q;
}

/* Compares @switches with the truth and adds to @fig. */
static void
score (Conversation *c, GArray *switches, Figures *fig)
{
  guint n = (guint)ceil (c->duration / GRID);
  gint *dominant = g_new (gint, n);
  gint *speaking = g_new0 (gint, n); /* who, or -2 for several */
  gdouble *last_change = g_new (gdouble, n);
  gint quiet = quietest (c), previous_turn = -1;
  guint k = 0;

  /* Who is named at each grid point. */
  for (guint i = 0; i < n; i++) {
    while (k < switches->len
        && g_array_index (switches, Switch, k).time <= i * GRID)
      k++;
    dominant[i] = k ? g_array_index (switches, Switch, k - 1).speaker : -1;
    speaking[i] = -1;
    last_change[i] = -INFINITY;
  }

  for (guint e = 0; e < c->events->len; e++) {
    Event *ev = &g_array_index (c->events, Event, e);
    guint from = (guint)ceil (ev->start / GRID);
    guint to = MIN (n, (guint)floor (ev->end / GRID));

    if (!ev->speech)
      continue;
    for (guint i = from; i < to; i++)
      speaking[i] =
          speaking[i] == -1 || speaking[i] == ev->speaker ? ev->speaker : -2;
    if (!ev->turn || ev->speaker == previous_turn)
      continue;
    previous_turn = ev->speaker;
    /* A turn change: time how long until the new speaker is named. */
    for (guint i = from; i < n; i++)
      last_change[i] = MAX (last_change[i], ev->start);
    {
      gdouble latency = INFINITY;
      guint limit = MIN (n, (guint)((ev->end + JUSTIFIED) / GRID));
      for (guint i = from; i < limit; i++)
        if (dominant[i] == ev->speaker) {
          latency = MAX (0, i * GRID - ev->start);
          break;
        }
      g_array_append_val (fig->latencies, latency);
    }
  }

  for (guint i = 0; i < n; i++) {
    gboolean scored = speaking[i] >= 0 && i * GRID >= last_change[i] + SETTLE;
    if (!scored)
      continue;
    fig->scored += GRID;
    fig->correct += dominant[i] == speaking[i] ? GRID : 0;
    if (speaking[i] == quiet) {
      fig->quiet_scored += GRID;
      fig->quiet_correct += dominant[i] == quiet ? GRID : 0;
    }
  }

  for (guint s = 0; s < switches->len; s++) {
    Switch *sw = &g_array_index (switches, Switch, s);
    gboolean justified = sw->speaker < 0;

    for (guint e = 0; e < c->events->len && !justified; e++) {
      Event *ev = &g_array_index (c->events, Event, e);
      justified = ev->turn && ev->speaker == sw->speaker
          && ev->start <= sw->time && ev->end >= sw->time - JUSTIFIED;
    }
    fig->switches++;
    fig->spurious += !justified;
  }
  fig->minutes += c->duration / 60;
  fig->audio_seconds += c->duration;
  g_free (dominant);
  g_free (speaking);
  g_free (last_change);
}

static gint
compare_doubles (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *)a, y = *(const gdouble *)b;
  return (x > y) - (x < y);
}

static gdouble
median_latency (Figures *fig, guint *misses)
{
  *misses = 0;
  if (fig->latencies->len == 0)
    return INFINITY;
  g_array_sort (fig->latencies, compare_doubles);
  for (guint i = 0; i < fig->latencies->len; i++)
    *misses += isinf (g_array_index (fig->latencies, gdouble, i));
  return g_array_index (fig->latencies, gdouble, fig->latencies->len / 2);
}

static gdouble
percent (gdouble part, gdouble whole)
{
  return whole > 0 ? 100 * part / whole : 0;
}

static void
print_figures (const gchar *label, const gchar *algorithm, Figures *fig)
{
  guint misses;
  gdouble median = median_latency (fig, &misses);

  printf ("  %-10s %-8s %6.1f %%   %5.2f s  %3u/%-3u  %3u/%-4u %5.2f  "
          "%6.1f %%  %5.0fx\n",
      label, algorithm, percent (fig->correct, fig->scored), median, misses,
      fig->latencies->len, fig->spurious, fig->switches,
      fig->spurious / fig->minutes,
      percent (fig->quiet_correct, fig->quiet_scored),
      fig->audio_seconds / fig->wall_seconds);
}

static void
print_header (void)
{
  printf ("  %-10s %-8s %8s  %8s  %7s  %8s %5s  %8s  %6s\n", "", "", "accuracy",
      "latency", "misses", "spurious", "/min", "quiet", "speed");
}

static gboolean
check (gboolean ok, const gchar *what)
{
  printf ("  %s  %s\n", ok ? "PASS" : "FAIL", what);
  return ok;
}

static void
figures_add (Figures *total, const Figures *fig)
{
  total->scored += fig->scored;
  total->correct += fig->correct;
  total->quiet_scored += fig->quiet_scored;
  total->quiet_correct += fig->quiet_correct;
  g_array_append_vals (
      total->latencies, fig->latencies->data, fig->latencies->len);
  total->switches += fig->switches;
  total->spurious += fig->spurious;
  total->minutes += fig->minutes;
  total->audio_seconds += fig->audio_seconds;
  total->wall_seconds += fig->wall_seconds;
}

static const gchar *algorithms[] = { "dsi", "loudest" };

/* Plays and scores the conversation in @dir with both algorithms, prints
 * its figures and adds them to @total.  FALSE with *@why when it cannot. */
static gboolean
evaluate_conversation (const gchar *dir, Figures *total, gchar **why)
{
  Conversation *c = conversation_load (dir, why);
  gchar *label;
  gboolean ok = TRUE;

  if (c == NULL)
    return FALSE;
  label = g_path_get_basename (dir);
  for (guint a = 0; a < 2 && ok; a++) {
    Figures fig = { 0 };
    GArray *switches = play (c, algorithms[a], &fig.wall_seconds, why);

    ok = switches != NULL;
    if (!ok)
      break;
    fig.latencies = g_array_new (FALSE, FALSE, sizeof (gdouble));
    score (c, switches, &fig);
    print_figures (label, algorithms[a], &fig);
    figures_add (&total[a], &fig);
    g_array_free (fig.latencies, TRUE);
    g_array_free (switches, TRUE);
  }
  g_free (label);
  conversation_free (c);
  return ok;
}

int
main (int argc, char **argv)
{
  Figures total[2] = { { 0 } };
  gboolean ok = TRUE;
  guint misses;
  gdouble dsi_spm, loudest_spm;
  int status = 0;

  gst_init (&argc, &argv);
  if (argc < 2) {
    fprintf (stderr, "usage: %s CONVERSATION_DIR...\n", argv[0]);
    return 2;
  }
  for (guint a = 0; a < 2; a++)
    total[a].latencies = g_array_new (FALSE, FALSE, sizeof (gdouble));

  print_header ();
  for (int i = 1; i < argc && status == 0; i++) {
    gchar *why = NULL;

    if (!evaluate_conversation (argv[i], total, &why)) {
      fprintf (stderr, "%s: %s\n", argv[i], why);
      g_free (why);
      status = 2;
    }
  }
  if (status == 0) {
    for (guint a = 0; a < 2; a++)
      print_figures ("all", algorithms[a], &total[a]);

    printf ("acceptance (dsi, pooled):\n");
    ok &= check (percent (total[0].correct, total[0].scored) >= 90,
        "named correctly >= 90 % of single-speaker time");
    ok &= check (median_latency (&total[0], &misses) < 1.2,
        "median switch latency < 1.2 s");
    dsi_spm = total[0].spurious / total[0].minutes;
    loudest_spm = total[1].spurious / total[1].minutes;
    ok &= check (dsi_spm <= 1.0, "<= 1 spurious switch per minute");
    ok &= check (percent (total[0].quiet_correct, total[0].quiet_scored) >= 90,
        "quiet speaker named >= 90 % of the time they speak alone");
    ok &= check (loudest_spm >= 3 * MAX (dsi_spm, 0.5),
        "loudest baseline has >= 3x the spurious switches");
    status = ok ? 0 : 1;
  }

  for (guint a = 0; a < 2; a++)
    g_array_free (total[a].latencies, TRUE);
  return status;
}
