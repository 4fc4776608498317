/* The elements' thread safety, against a real hq-server (issue 15):
 *
 * - Properties: every writable property of every element set to a valid
 *   non-default value in NULL, READY and PLAYING, each within a deadline
 *   (a property that takes a lock a child's notification also takes hangs
 *   here instead of in someone's gst-launch line), and read back.
 * - Sink pads: explicit and automatic names requested, released and
 *   requested again, also from several threads at once: every request
 *   gets a live pad of its kind with a name no other pad has.
 * - Start/stop: hqroomsrc and hqroomsink started and at once stopped many
 *   times; each stop returns within a deadline.
 * - Subscribe churn: publishers join and leave a room while an hqroomsrc
 *   makes pads for their first packets (run under ASan, a stream record
 *   used after the client thread freed it shows up here).
 *
 * Each case is its own meson test (GST_CHECKS picks it). */
#include <string.h>
#include <gst/check/gstcheck.h>
#include "../../common/sfuclient.h"

#define STEP_DEADLINE (20 * G_USEC_PER_SEC)
#define DEADLINE (60 * G_USEC_PER_SEC)

/* --- one step, on a thread of its own, within a deadline --- */

typedef void (*StepFunc) (gpointer data);

typedef struct
{
  StepFunc func;
  gpointer data;
  GMutex lock;
  GCond cond;
  gboolean done;
} Step;

static gpointer
step_thread (gpointer data)
{
  Step *s = data;

  s->func (s->data);
  g_mutex_lock (&s->lock);
  s->done = TRUE;
  g_cond_signal (&s->cond);
  g_mutex_unlock (&s->lock);
  return NULL;
}

/* Runs @func (@data) and fails when it has not returned in time (it is
 * left hanging then: the test fails rather than blocks). */
static void
within_deadline (StepFunc func, gpointer data, const gchar *what)
{
  Step *s = g_new0 (Step, 1);
  gint64 deadline = g_get_monotonic_time () + STEP_DEADLINE;
  GThread *thread;
  gboolean done = TRUE;

  s->func = func;
  s->data = data;
  g_mutex_init (&s->lock);
  g_cond_init (&s->cond);
  thread = g_thread_new ("step", step_thread, s);
  g_mutex_lock (&s->lock);
  while (!s->done && done)
    done = g_cond_wait_until (&s->cond, &s->lock, deadline);
  done = s->done;
  g_mutex_unlock (&s->lock);
  fail_unless (done, "%s did not return within %d s (a hang)", what,
      (gint)(STEP_DEADLINE / G_USEC_PER_SEC));
  g_thread_join (thread);
  g_mutex_clear (&s->lock);
  g_cond_clear (&s->cond);
  g_free (s);
}

typedef struct
{
  GObject *object;
  const gchar *name;
  const GValue *value;
} SetProp;

static void
set_prop (gpointer data)
{
  SetProp *p = data;

  g_object_set_property (p->object, p->name, p->value);
}

typedef struct
{
  GstElement *element;
  GstState state;
  GstStateChangeReturn ret;
} SetState;

static void
set_state (gpointer data)
{
  SetState *s = data;

  s->ret = gst_element_set_state (s->element, s->state);
  if (s->ret == GST_STATE_CHANGE_ASYNC)
    s->ret = gst_element_get_state (
        s->element, NULL, NULL, STEP_DEADLINE * GST_USECOND / 2);
}

static void
change_state (GstElement *element, GstState state)
{
  SetState s = { element, state, GST_STATE_CHANGE_FAILURE };
  g_autofree gchar *what = g_strdup_printf ("setting %s to %s",
      GST_OBJECT_NAME (element), gst_element_state_get_name (state));

  within_deadline (set_state, &s, what);
  fail_if (s.ret == GST_STATE_CHANGE_FAILURE, "%s failed", what);
}

/* --- properties --- */

/* Waits for @pipeline's element message @name; fails on an error. */
static void
wait_message (GstElement *pipeline, const gchar *name)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  gint64 deadline = g_get_monotonic_time () + DEADLINE;
  gboolean seen = FALSE;

  while (!seen) {
    gint64 left = deadline - g_get_monotonic_time ();
    GstMessage *msg;

    fail_unless (left > 0, "no %s in time", name);
    msg = gst_bus_timed_pop_filtered (
        bus, left * GST_USECOND, GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR);
    if (msg == NULL)
      continue;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      GError *err = NULL;
      gst_message_parse_error (msg, &err, NULL);
      fail ("error from %s: %s", GST_OBJECT_NAME (msg->src), err->message);
    }
    seen = gst_structure_has_name (gst_message_get_structure (msg), name);
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
}

typedef struct
{
  const gchar *factory, *property, *value;
} StringValue;

/* The valid non-default strings; "@" is replaced with the server's URL or
 * the test's directory. */
static const StringValue strings[] = {
  { NULL, "server", "@url" },
  { NULL, "room", "props" },
  { NULL, "token", "" }, /* empty: minted from the API key */
  { NULL, "tls-ca-file", "" }, /* empty: the system's CAs (http anyway) */
  { "hqroomsrc", "identity", "src" },
  { "hqroomsink", "identity", "sink" },
  { NULL, "e2ee-secret", "a room secret" }, /* write only: not read back */
  { "hqrecorder", "location", "@dir" },
  { "hqrecorder", "resolution", "320x240" },
  { "hqrecorder", "layout",
      "{\"main\":{\"max_rows\":1,\"video_sources\":[\"*\"]}}" },
  { "hqqualitymeter", "location", "@dir/quality.json" },
};

static gboolean
pick_string (const gchar *factory, const gchar *property, const gchar *url,
    const gchar *dir, GValue *value)
{
  for (guint i = 0; i < G_N_ELEMENTS (strings); i++) {
    const StringValue *s = &strings[i];
    if ((s->factory && strcmp (s->factory, factory) != 0)
        || strcmp (s->property, property) != 0)
      continue;
    if (g_str_has_prefix (s->value, "@url"))
      g_value_set_string (value, url);
    else if (g_str_has_prefix (s->value, "@dir"))
      g_value_take_string (value, g_strconcat (dir, s->value + 4, NULL));
    else
      g_value_set_string (value, s->value);
    return TRUE;
  }
  return FALSE;
}

/* A valid value of @pspec other than its default, in @value. */
static void
pick_value (const gchar *factory, GParamSpec *pspec, const gchar *url,
    const gchar *dir, GValue *value)
{
  GType type = G_PARAM_SPEC_VALUE_TYPE (pspec);

  g_value_init (value, type);
  if (type == G_TYPE_STRING) {
    fail_unless (pick_string (factory, pspec->name, url, dir, value),
        "no test value for %s's %s: add one to strings[]", factory,
        pspec->name);
  } else if (type == GST_TYPE_ARRAY) {
    /* hqroomsrc's participants, as a launch line writes it */
    fail_unless (
        gst_value_deserialize_with_pspec (value, "<alice, bob>", pspec),
        "%s's %s does not take <alice, bob>", factory, pspec->name);
  } else if (type == G_TYPE_BOOLEAN) {
    g_value_set_boolean (value, !G_PARAM_SPEC_BOOLEAN (pspec)->default_value);
  } else if (G_TYPE_IS_ENUM (type)) {
    GParamSpecEnum *e = G_PARAM_SPEC_ENUM (pspec);
    for (guint i = 0; i < e->enum_class->n_values; i++) {
      if (e->enum_class->values[i].value != e->default_value) {
        g_value_set_enum (value, e->enum_class->values[i].value);
        break;
      }
    }
  } else if (type == G_TYPE_UINT) {
    GParamSpecUInt *u = G_PARAM_SPEC_UINT (pspec);
    g_value_set_uint (value,
        u->default_value < u->maximum ? u->default_value + 1
                                      : u->default_value - 1);
  } else if (type == G_TYPE_INT) {
    GParamSpecInt *u = G_PARAM_SPEC_INT (pspec);
    g_value_set_int (value,
        u->default_value < u->maximum ? u->default_value + 1
                                      : u->default_value - 1);
  } else if (type == G_TYPE_UINT64) {
    GParamSpecUInt64 *u = G_PARAM_SPEC_UINT64 (pspec);
    g_value_set_uint64 (value,
        u->default_value < u->maximum ? u->default_value + 1
                                      : u->default_value - 1);
  } else if (type == G_TYPE_INT64) {
    GParamSpecInt64 *u = G_PARAM_SPEC_INT64 (pspec);
    g_value_set_int64 (value,
        u->default_value < u->maximum ? u->default_value + 1
                                      : u->default_value - 1);
  } else {
    fail ("no test value for %s's %s of type %s", factory, pspec->name,
        g_type_name (type));
  }
}

/* Sets every writable property our classes install (the element's and
 * its base's, GstHqRoomBin, not GstBin's), each
 * within the deadline, and reads it back (when it is readable: a secret
 * is not).  Returns how many. */
static guint
set_all (GstElement *element, const gchar *factory, const gchar *url,
    const gchar *dir)
{
  GstState state = GST_STATE (element);
  guint n, count = 0;
  GParamSpec **specs =
      g_object_class_list_properties (G_OBJECT_GET_CLASS (element), &n);

  for (guint i = 0; i < n; i++) {
    GParamSpec *p = specs[i];
    GValue v = G_VALUE_INIT, back = G_VALUE_INIT;
    SetProp sp = { G_OBJECT (element), p->name, &v };
    g_autofree gchar *what = NULL;

    if (!g_str_has_prefix (g_type_name (p->owner_type), "GstHq")
        || !(p->flags & G_PARAM_WRITABLE)
        || (p->flags & G_PARAM_CONSTRUCT_ONLY))
      continue;
    pick_value (factory, p, url, dir, &v);
    what = g_strdup_printf ("setting %s's %s in %s", factory, p->name,
        gst_element_state_get_name (state));
    within_deadline (set_prop, &sp, what);
    count++;
    if (!(p->flags & G_PARAM_READABLE)) {
      g_value_unset (&v);
      continue;
    }
    g_value_init (&back, G_PARAM_SPEC_VALUE_TYPE (p));
    g_object_get_property (G_OBJECT (element), p->name, &back);
    fail_unless (g_param_values_cmp (p, &v, &back) == 0,
        "%s: read back a different value", what);
    g_value_unset (&v);
    g_value_unset (&back);
  }
  g_free (specs);
  return count;
}

GST_START_TEST (test_set_every_property)
{
  static const gchar *const factories[] = { "hqroomsrc", "hqroomsink",
    "hqspeakerdetect", "hqrecorder", "hqqualitymeter" };
  HqTestServer *server = hq_test_server_start_room ("props");
  gchar *dir = g_dir_make_tmp ("hq-props-XXXXXX", NULL);

  fail_unless (dir != NULL);
  for (guint f = 0; f < G_N_ELEMENTS (factories); f++) {
    GstElement *pipeline = gst_pipeline_new (NULL);
    GstElement *e = gst_element_factory_make (factories[f], NULL);
    guint n;

    fail_unless (e != NULL, "no %s", factories[f]);
    gst_bin_add (GST_BIN (pipeline), e);
    n = set_all (e, factories[f], server->url, dir);
    fail_unless (n > 0, "%s has no writable properties?", factories[f]);
    change_state (pipeline, GST_STATE_READY);
    set_all (e, factories[f], server->url, dir);
    change_state (pipeline, GST_STATE_PLAYING);
    fail_unless (GST_STATE (e) == GST_STATE_PLAYING);
    /* The room elements set in the room, their client running. */
    if (g_str_has_prefix (factories[f], "hqroom"))
      wait_message (pipeline, "hq-joined");
    set_all (e, factories[f], server->url, dir);
    change_state (pipeline, GST_STATE_NULL);
    gst_object_unref (pipeline);
    GST_INFO ("%s: %u properties in NULL, READY and PLAYING", factories[f], n);
  }
  hq_test_server_stop (server);
  g_free (dir);
}

GST_END_TEST;

/* --- sink pads --- */

#define N_REQ 8
#define N_ROUNDS 20

typedef struct
{
  GMutex lock;
  GCond cond;
  guint ready;
  gboolean go;
  GstElement *sink;
} Gate;

typedef struct
{
  Gate *gate;
  const gchar *name;
  gboolean release;
  GstPad *pad;
} Request;

static void
gate_pass (Gate *g)
{
  g_mutex_lock (&g->lock);
  g->ready++;
  g_cond_broadcast (&g->cond);
  while (!g->go)
    g_cond_wait (&g->cond, &g->lock);
  g_mutex_unlock (&g->lock);
}

static gpointer
request_thread (gpointer data)
{
  Request *r = data;

  gate_pass (r->gate);
  if (r->release) {
    gst_element_release_request_pad (r->gate->sink, r->pad);
    gst_object_unref (r->pad);
  } else {
    r->pad = gst_element_request_pad_simple (r->gate->sink, r->name);
  }
  return NULL;
}

static void
all_at_once (Gate *g, Request *reqs, guint n)
{
  GThread *threads[N_REQ];

  g->ready = 0;
  g->go = FALSE;
  for (guint i = 0; i < n; i++) {
    reqs[i].gate = g;
    threads[i] = g_thread_new ("request", request_thread, &reqs[i]);
  }
  g_mutex_lock (&g->lock);
  while (g->ready < n)
    g_cond_wait (&g->cond, &g->lock);
  g->go = TRUE;
  g_cond_broadcast (&g->cond);
  g_mutex_unlock (&g->lock);
  for (guint i = 0; i < n; i++)
    g_thread_join (threads[i]);
}

/* @pad is @sink's live pad of the kind @name asks for (and of that name
 * when it names one). */
static void
check_pad (GstElement *sink, GstPad *pad, const gchar *name)
{
  GstPad *found;
  const gchar *kind = g_str_has_prefix (name, "audio") ? "audio_" : "video_";

  fail_unless (pad != NULL, "request %s got no pad", name);
  fail_unless (GST_IS_PAD (pad) && GST_OBJECT_REFCOUNT_VALUE (pad) > 0);
  fail_unless (g_str_has_prefix (GST_PAD_NAME (pad), kind), "%s for %s",
      GST_PAD_NAME (pad), name);
  found = gst_element_get_static_pad (sink, GST_PAD_NAME (pad));
  fail_unless (found == pad, "%s is not the sink's pad", GST_PAD_NAME (pad));
  gst_object_unref (found);
  if (strchr (name, '%') == NULL)
    fail_unless_equals_string (GST_PAD_NAME (pad), name);
}

GST_START_TEST (test_sink_pad_requests)
{
  static const gchar *const mixed[N_REQ] = { "video_%u", "audio_%u",
    "video_1000", "audio_%u", "video_%u", "audio_1000", "video_%u",
    "audio_%u" };
  HqTestServer *server = hq_test_server_start_room ("pads");
  GstElement *pipeline = gst_pipeline_new (NULL);
  Gate g = { 0 };
  GstPad *v1, *v0, *v2, *a0;
  Request reqs[N_REQ];

  g_mutex_init (&g.lock);
  g_cond_init (&g.cond);
  g.sink = gst_element_factory_make ("hqroomsink", NULL);
  g_object_set (
      g.sink, "server", server->url, "room", "pads", "identity", "pads", NULL);
  gst_bin_add (GST_BIN (pipeline), g.sink);
  change_state (pipeline, GST_STATE_PLAYING);

  /* Per-kind names; an automatic name skips one taken explicitly. */
  v1 = gst_element_request_pad_simple (g.sink, "video_1");
  check_pad (g.sink, v1, "video_1");
  v0 = gst_element_request_pad_simple (g.sink, "video_%u");
  check_pad (g.sink, v0, "video_0");
  v2 = gst_element_request_pad_simple (g.sink, "video_%u");
  check_pad (g.sink, v2, "video_2");
  a0 = gst_element_request_pad_simple (g.sink, "audio_%u");
  check_pad (g.sink, a0, "audio_0");
  fail_unless_equals_int (g.sink->numsinkpads, 4);
  /* (Asking for a name in use is a GStreamer-CRITICAL in core.)  Released, the name can be requested again. */
  gst_element_release_request_pad (g.sink, v1);
  gst_object_unref (v1);
  v1 = gst_element_request_pad_simple (g.sink, "video_1");
  check_pad (g.sink, v1, "video_1");
  for (GstPad **p = (GstPad *[]){ v0, v1, v2, a0, NULL }; *p; p++) {
    gst_element_release_request_pad (g.sink, *p);
    gst_object_unref (*p);
  }
  fail_unless_equals_int (g.sink->numsinkpads, 0);

  /* From several threads at once, round after round. */
  for (guint round = 0; round < N_ROUNDS; round++) {
    GHashTable *seen = g_hash_table_new (g_str_hash, g_str_equal);
    Request rel[N_REQ];

    for (guint i = 0; i < N_REQ; i++)
      reqs[i] = (Request){ .name = mixed[i] };
    all_at_once (&g, reqs, N_REQ);
    for (guint i = 0; i < N_REQ; i++) {
      check_pad (g.sink, reqs[i].pad, mixed[i]);
      fail_if (g_hash_table_contains (seen, GST_PAD_NAME (reqs[i].pad)),
          "two requests got %s", GST_PAD_NAME (reqs[i].pad));
      g_hash_table_add (seen, GST_PAD_NAME (reqs[i].pad));
    }
    fail_unless_equals_int (g.sink->numsinkpads, N_REQ);
    g_hash_table_unref (seen);
    for (guint i = 0; i < N_REQ; i++)
      rel[i] = (Request){ .pad = reqs[i].pad, .release = TRUE };
    all_at_once (&g, rel, N_REQ);
    fail_unless_equals_int (g.sink->numsinkpads, 0);
  }
  change_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  g_mutex_clear (&g.lock);
  g_cond_clear (&g.cond);
  hq_test_server_stop (server);
}

GST_END_TEST;

/* --- start and stop --- */

#define N_STARTS 40

GST_START_TEST (test_start_stop)
{
  static const gchar *const factories[] = { "hqroomsrc", "hqroomsink" };
  HqTestServer *server = hq_test_server_start_room ("startstop");

  for (guint f = 0; f < G_N_ELEMENTS (factories); f++) {
    GstElement *pipeline = gst_pipeline_new (NULL);
    GstElement *e = gst_element_factory_make (factories[f], NULL);

    g_object_set (e, "server", server->url, "room", "startstop", "identity",
        factories[f], NULL);
    gst_bin_add (GST_BIN (pipeline), e);
    for (guint i = 0; i < N_STARTS; i++) {
      change_state (pipeline, GST_STATE_PLAYING);
      change_state (pipeline, GST_STATE_NULL);
    }
    gst_object_unref (pipeline);
  }
  hq_test_server_stop (server);
}

GST_END_TEST;

/* --- subscribe churn --- */

#define N_CHURN 40

typedef struct
{
  HqSfuClient *c;
  gint64 leave_at;
  gboolean target; /* leaves while its first pad is made */
} Pub;

/* Every TARGET_EVERY-th publisher leaves while its first pad is being
 * made: the pad-added handler holds the element's streaming thread until
 * the pad is removed (or HOLD passed), so the element's work on that pad
 * resumes after the stream has ended. */
#define TARGET_EVERY 8
#define HOLD (1 * G_USEC_PER_SEC)

typedef struct
{
  GstElement *pipeline;
  gint pads_added; /* atomic */
  GMutex lock;
  GCond cond;
  gchar *target; /* identity to hold the first pad of */
  GstPad *held; /* that pad, while held */
  gboolean removed;
  guint holds;
} Watch;

static void
on_src_pad_removed (GstElement *src, GstPad *pad, Watch *w)
{
  g_mutex_lock (&w->lock);
  if (pad == w->held) {
    w->removed = TRUE;
    g_cond_broadcast (&w->cond);
  }
  g_mutex_unlock (&w->lock);
}

/* Holds @pad's thread while the test makes its publisher leave. */
static void
hold_if_target (GstPad *pad, Watch *w)
{
  g_autofree gchar *identity = NULL;
  gint64 until;

  g_object_get (pad, "participant-identity", &identity, NULL);
  g_mutex_lock (&w->lock);
  if (w->target && w->held == NULL && g_strcmp0 (identity, w->target) == 0) {
    w->held = pad;
    w->removed = FALSE;
    w->holds++;
    g_cond_broadcast (&w->cond);
    until = g_get_monotonic_time () + HOLD;
    while (!w->removed && g_cond_wait_until (&w->cond, &w->lock, until))
      ;
    w->held = NULL;
    g_clear_pointer (&w->target, g_free);
  }
  g_mutex_unlock (&w->lock);
}

/* Links each new pad of the room source on its streaming thread, as
 * gst-launch does, to a sink that names the codec (so the encoded path,
 * no decoder of the test's made-up payload). */
static void
on_src_pad_added (GstElement *src, GstPad *pad, Watch *w)
{
  gboolean audio = g_str_has_prefix (GST_PAD_NAME (pad), "audio");
  GError *err = NULL;
  GstElement *sink = gst_parse_bin_from_description (audio
          ? "capsfilter caps=audio/x-opus ! fakesink sync=false async=false"
          : "capsfilter caps=video/x-vp8 ! fakesink sync=false async=false",
      TRUE, &err);
  GstPad *sinkpad;

  g_assert_no_error (err);
  gst_bin_add (GST_BIN (w->pipeline), sink);
  gst_element_sync_state_with_parent (sink);
  sinkpad = gst_element_get_static_pad (sink, "sink");
  fail_unless (gst_pad_link (pad, sinkpad) == GST_PAD_LINK_OK);
  gst_object_unref (sinkpad);
  g_atomic_int_inc (&w->pads_added);
  hold_if_target (pad, w);
}

static gboolean
published (HqSfuClient *c)
{
  return c->published && c->pub
      && hq_transport_get_state (c->pub) == HQ_TRANSPORT_STATE_CONNECTED;
}

/* Iterates the default context for about @ms while @c (if any) sends
 * audio and video every few ms. */
static void
run_for (HqSfuClient *c, guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < end) {
    if (c && published (c)) {
      hq_sfu_client_send (c, FALSE, 60, FALSE, NULL);
      hq_sfu_client_send (c, TRUE, 600, FALSE, NULL);
    }
    while (g_main_context_iteration (NULL, FALSE))
      ;
    g_usleep (2000);
  }
}

/* @c leaves the room (at once, not when the server times it out). */
static void
leave (HqSfuClient *c)
{
  JsonObject *msg = json_object_new ();

  json_object_set_string_member (msg, "type", "leave");
  hq_sfu_client_send_message (c, msg);
  run_for (NULL, 4);
  hq_sfu_client_free (c);
}

static guint
src_pads (GstElement *src)
{
  guint n;

  GST_OBJECT_LOCK (src);
  n = src->numsrcpads;
  GST_OBJECT_UNLOCK (src);
  return n;
}

GST_START_TEST (test_subscribe_churn)
{
  HqTestServer *server = hq_test_server_start_room ("churn");
  Watch w = { 0 };
  GstElement *src;
  Pub pubs[N_CHURN] = { 0 };
  guint started = 0, left = 0;
  gint64 deadline, next_start = 0;

  w.pipeline = gst_pipeline_new (NULL);
  src = gst_element_factory_make ("hqroomsrc", NULL);
  g_object_set (
      src, "server", server->url, "room", "churn", "identity", "watcher", NULL);
  g_mutex_init (&w.lock);
  g_cond_init (&w.cond);
  g_signal_connect (src, "pad-added", G_CALLBACK (on_src_pad_added), &w);
  g_signal_connect (src, "pad-removed", G_CALLBACK (on_src_pad_removed), &w);
  gst_bin_add (GST_BIN (w.pipeline), src);
  change_state (w.pipeline, GST_STATE_PLAYING);
  wait_message (w.pipeline, "hq-joined");

  /* Publishers join one after another and each leaves after a random
   * time around that of its first packets' arrival: streams end, and
   * every join and leave re-offers the tracks, while the element is
   * making pads for the first packets of others.  Each sends audio and
   * video every few ms from its publish to its leave. */
  deadline = g_get_monotonic_time () + 4 * DEADLINE;
  while (left < N_CHURN) {
    gint64 now = g_get_monotonic_time ();

    fail_unless (now < deadline, "churn did not finish (%u left)", left);
    if (started < N_CHURN && now >= next_start) {
      Pub *p = &pubs[started];
      p->c = hq_sfu_client_new (server, "churn", "p", started, TRUE);
      g_mutex_lock (&w.lock);
      if (started % TARGET_EVERY == TARGET_EVERY - 1 && w.target == NULL) {
        w.target = g_strdup (p->c->identity);
        p->target = TRUE;
      }
      g_mutex_unlock (&w.lock);
      started++;
      next_start = now + g_random_int_range (40, 150) * 1000;
    }
    for (guint i = 0; i < started; i++) {
      Pub *p = &pubs[i];
      gboolean held;
      if (p->c == NULL || !published (p->c))
        continue;
      g_mutex_lock (&w.lock);
      held = p->target && w.held && g_strcmp0 (w.target, p->c->identity) == 0;
      g_mutex_unlock (&w.lock);
      /* A target leaves once held (or after a while if never held). */
      if (p->leave_at == 0)
        p->leave_at =
            now + (p->target ? 5000 : g_random_int_range (20, 400)) * 1000;
      hq_sfu_client_send (p->c, FALSE, 60, FALSE, NULL);
      hq_sfu_client_send (p->c, TRUE, 600, FALSE, NULL);
      if (held || now >= p->leave_at) {
        g_mutex_lock (&w.lock);
        if (!held && g_strcmp0 (w.target, p->c->identity) == 0)
          g_clear_pointer (&w.target, g_free);
        g_mutex_unlock (&w.lock);
        g_clear_pointer (&p->c, leave);
        left++;
      }
    }
    while (g_main_context_iteration (NULL, FALSE))
      ;
    g_usleep (2000);
  }
  /* Everyone left: every pad goes (none stays on a stream that ended
   * while its pad was made). */
  deadline = g_get_monotonic_time () + DEADLINE;
  while (src_pads (src) > 0) {
    fail_unless (g_get_monotonic_time () < deadline,
        "%u pads stayed after everyone left", src_pads (src));
    run_for (NULL, 20);
  }
  GST_INFO ("%d pads made in %u joins, %u held",
      g_atomic_int_get (&w.pads_added), N_CHURN, w.holds);
  fail_unless (g_atomic_int_get (&w.pads_added) >= 2);
  fail_unless (w.holds > 0, "no publisher left while its pad was made");
  change_state (w.pipeline, GST_STATE_NULL);
  gst_object_unref (w.pipeline);
  g_free (w.target);
  g_mutex_clear (&w.lock);
  g_cond_clear (&w.cond);
  hq_test_server_stop (server);
}

GST_END_TEST;

static Suite *
threads_suite (void)
{
  Suite *s = suite_create ("elements-threads");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 300);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_set_every_property);
  tcase_add_test (tc, test_sink_pad_requests);
  tcase_add_test (tc, test_start_stop);
  tcase_add_test (tc, test_subscribe_churn);
  return s;
}

GST_CHECK_MAIN (threads);
