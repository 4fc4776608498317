/* Debian's Janus as a second SFU for bench-sfu --janus; see janus.h. */
#define _GNU_SOURCE
#include "janus.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <hq/hqsdp.h>
#include "../tests/common/hqtempdir.h"

#define JANUS_HTTP "http://127.0.0.1:8088/janus"
#define JANUS_ADMIN "http://127.0.0.1:7088/admin"
#define JANUS_WS "ws://127.0.0.1:8188/"
#define JANUS_ADMIN_SECRET "hq-bench"

/* --- the network namespace --- */

static gboolean
run_ip (const gchar *args, GError **error)
{
  g_autofree gchar *cmd = g_strconcat ("ip ", args, NULL);
  g_autofree gchar *err = NULL;
  gint status;

  if (!g_spawn_command_line_sync (cmd, NULL, &err, &status, error))
    return FALSE;
  if (!g_spawn_check_wait_status (status, NULL)) {
    g_set_error (error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED, "`%s` failed: %s",
        cmd, g_strstrip (err));
    return FALSE;
  }
  return TRUE;
}

gboolean
hq_janus_enter_netns (GError **error)
{
  if (unshare (CLONE_NEWNET) != 0) {
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
        "cannot make a network namespace (%s): the Janus benchmark must run "
        "as root",
        g_strerror (errno));
    return FALSE;
  }
  return run_ip ("link set lo up", error)
      && run_ip ("link add v0 type veth peer name v1", error)
      && run_ip ("addr add 10.99.0.1/24 dev v0", error)
      && run_ip ("addr add 10.99.0.2/24 dev v1", error)
      && run_ip ("link set v0 up", error) && run_ip ("link set v1 up", error);
}

/* --- the process and its HTTP APIs --- */

struct _HqJanus
{
  HqTestServer proc; /* only proc is set */
  gchar *dir;
  gchar *version;
  SoupSession *http;
  gint64 control_session, control_handle;
};

static const gchar janus_jcfg[] =
    "general: {\n"
    "  configs_folder = \"%s\"\n"
    "  plugins_folder = \"/usr/lib/x86_64-linux-gnu/janus/plugins\"\n"
    "  transports_folder = \"/usr/lib/x86_64-linux-gnu/janus/transports\"\n"
    "  events_folder = \"/usr/lib/x86_64-linux-gnu/janus/events\"\n"
    "  loggers_folder = \"/usr/lib/x86_64-linux-gnu/janus/loggers\"\n"
    "  debug_level = 3\n"
    "  admin_secret = \"" JANUS_ADMIN_SECRET "\"\n"
    "  session_timeout = 0\n"
    "}\n"
    "certificates: {\n}\n"
    "media: {\n  rtp_port_range = \"20000-40000\"\n}\n"
    "nat: {\n  nice_debug = false\n  ice_enforce_list = \"v0\"\n}\n"
    "plugins: {\n  disable = \"libjanus_audiobridge.so,libjanus_duktape.so,"
    "libjanus_echotest.so,libjanus_lua.so,libjanus_nosip.so,"
    "libjanus_recordplay.so,libjanus_sip.so,libjanus_streaming.so,"
    "libjanus_textroom.so,libjanus_videocall.so,libjanus_voicemail.so\"\n}\n"
    "transports: {\n  disable = \"libjanus_mqtt.so,libjanus_nanomsg.so,"
    "libjanus_pfunix.so,libjanus_rabbitmq.so\"\n}\n"
    "loggers: {\n  disable = \"libjanus_jsonlog.so\"\n}\n"
    "events: {\n}\n";

static const gchar janus_http_jcfg[] =
    "general: {\n  json = \"plain\"\n  base_path = \"/janus\"\n  http = true\n"
    "  port = 8088\n  ip = \"127.0.0.1\"\n  https = false\n}\n"
    "admin: {\n  admin_base_path = \"/admin\"\n  admin_http = true\n"
    "  admin_port = 7088\n  admin_ip = \"127.0.0.1\"\n  admin_https = false\n}"
    "\n";

static const gchar janus_ws_jcfg[] =
    "general: {\n  json = \"plain\"\n  ws = true\n  ws_port = 8188\n"
    "  ws_ip = \"127.0.0.1\"\n  wss = false\n}\n"
    "admin: {\n  admin_ws = false\n}\n";

static const gchar janus_videoroom_jcfg[] = "general: {\n}\n";

/* POSTs @body (consumed) as JSON to @url; the reply's object, or NULL
 * with @error. */
static JsonObject *
post_json (HqJanus *j, const gchar *url, JsonObject *body, GError **error)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (SoupMessage) msg = soup_message_new ("POST", url);
  g_autoptr (GBytes) req = NULL, reply = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  gchar *text;
  JsonObject *o;

  json_object_set_string_member (body, "transaction", "bench");
  json_node_take_object (node, body);
  text = json_to_string (node, FALSE);
  req = g_bytes_new_take (text, strlen (text));
  soup_message_set_request_body_from_bytes (msg, "application/json", req);
  reply = soup_session_send_and_read (j->http, msg, NULL, error);
  if (reply == NULL)
    return NULL;
  if (!json_parser_load_from_data (parser, g_bytes_get_data (reply, NULL),
          g_bytes_get_size (reply), error))
    return NULL;
  o = json_node_get_object (json_parser_get_root (parser));
  if (o == NULL
      || g_strcmp0 (json_object_get_string_member_with_default (o, "janus", ""),
             "error")
          == 0) {
    JsonObject *e = o ? json_object_get_object_member (o, "error") : NULL;
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Janus said: %s",
        e ? json_object_get_string_member_with_default (e, "reason", "?")
          : "not a JSON object");
    return NULL;
  }
  return json_object_ref (o);
}

static JsonObject *
janus_request (const gchar *what)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "janus", what);
  return o;
}

static gint64
reply_id (JsonObject *reply)
{
  JsonObject *data = json_object_get_object_member (reply, "data");

  return data ? json_object_get_int_member_with_default (data, "id", 0) : 0;
}

static void
janus_child_setup (gpointer data)
{
  /* Janus dies with the benchmark, and with it the namespace. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static gboolean
write_conf (
    const gchar *dir, const gchar *name, const gchar *text, GError **error)
{
  g_autofree gchar *path = g_build_filename (dir, name, NULL);

  return g_file_set_contents (path, text, -1, error);
}

HqJanus *
hq_janus_start (gboolean keep_log, GError **error)
{
  HqJanus *j = g_new0 (HqJanus, 1);
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autofree gchar *main_conf = NULL, *conf_path = NULL;
  const gchar *bin =
      g_getenv ("HQ_JANUS_BIN") ? g_getenv ("HQ_JANUS_BIN") : "janus";
  gint64 deadline;

  j->http = soup_session_new ();
  j->dir = g_dir_make_tmp ("hq-bench-janus-XXXXXX", error);
  if (j->dir == NULL)
    goto fail;
  main_conf = g_strdup_printf (janus_jcfg, j->dir);
  if (!write_conf (j->dir, "janus.jcfg", main_conf, error)
      || !write_conf (
          j->dir, "janus.transport.http.jcfg", janus_http_jcfg, error)
      || !write_conf (
          j->dir, "janus.transport.websockets.jcfg", janus_ws_jcfg, error)
      || !write_conf (
          j->dir, "janus.plugin.videoroom.jcfg", janus_videoroom_jcfg, error))
    goto fail;
  conf_path = g_build_filename (j->dir, "janus.jcfg", NULL);
  launcher =
      g_subprocess_launcher_new (keep_log ? G_SUBPROCESS_FLAGS_NONE
                                          : G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                  | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_subprocess_launcher_set_child_setup (
      launcher, janus_child_setup, NULL, NULL);
  j->proc.proc = g_subprocess_launcher_spawn (
      launcher, error, bin, "-C", conf_path, "-F", j->dir, "-o", NULL);
  if (j->proc.proc == NULL) {
    g_prefix_error (error,
        "cannot start Janus (Debian's janus, which "
        "scripts/setup.sh installs): ");
    goto fail;
  }
  deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline) {
    g_autoptr (JsonObject) reply = NULL;
    g_autoptr (SoupMessage) msg = soup_message_new ("GET", JANUS_HTTP "/info");
    g_autoptr (GBytes) body =
        soup_session_send_and_read (j->http, msg, NULL, NULL);
    g_autoptr (JsonParser) parser = json_parser_new ();

    if (body && soup_message_get_status (msg) == SOUP_STATUS_OK
        && json_parser_load_from_data (parser, g_bytes_get_data (body, NULL),
            g_bytes_get_size (body), NULL)) {
      JsonObject *o = json_node_get_object (json_parser_get_root (parser));
      j->version = g_strdup_printf ("Janus %s",
          json_object_get_string_member_with_default (
              o, "version_string", "?"));
      break;
    }
    if (g_subprocess_get_identifier (j->proc.proc) == NULL)
      break; /* it exited */
    g_usleep (100000);
  }
  if (j->version == NULL) {
    if (g_subprocess_get_identifier (j->proc.proc) == NULL)
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
          "%s exited before its HTTP API answered%s", bin,
          keep_log ? "" : " (HQ_BENCH_SERVER_LOG=1 shows its log)");
    else
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
          "%s did not answer on " JANUS_HTTP " within 20 s%s", bin,
          keep_log ? "" : " (HQ_BENCH_SERVER_LOG=1 shows its log)");
    goto fail;
  }
  {
    g_autoptr (JsonObject) s =
        post_json (j, JANUS_HTTP, janus_request ("create"), error);
    g_autoptr (JsonObject) h = NULL;
    g_autofree gchar *url = NULL;
    JsonObject *attach = janus_request ("attach");

    if (s == NULL) {
      json_object_unref (attach);
      goto fail;
    }
    j->control_session = reply_id (s);
    url = g_strdup_printf (JANUS_HTTP "/%" G_GINT64_FORMAT, j->control_session);
    json_object_set_string_member (attach, "plugin", "janus.plugin.videoroom");
    h = post_json (j, url, attach, error);
    if (h == NULL)
      goto fail;
    j->control_handle = reply_id (h);
  }
  return j;
fail:
  hq_janus_stop (j);
  return NULL;
}

void
hq_janus_stop (HqJanus *j)
{
  if (j->proc.proc) {
    g_subprocess_send_signal (j->proc.proc, SIGTERM);
    g_subprocess_wait (j->proc.proc, NULL, NULL);
    g_object_unref (j->proc.proc);
  }
  if (j->dir)
    hq_test_remove_dir (j->dir);
  g_free (j->dir);
  g_free (j->version);
  g_object_unref (j->http);
  g_free (j);
}

const gchar *
hq_janus_version (HqJanus *j)
{
  return j->version;
}

HqTestServer *
hq_janus_process (HqJanus *j)
{
  return &j->proc;
}

/* A request to the videoroom plugin on the control handle. */
static JsonObject *
videoroom_request (HqJanus *j, JsonObject *body, GError **error)
{
  g_autofree gchar *url =
      g_strdup_printf (JANUS_HTTP "/%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT,
          j->control_session, j->control_handle);
  JsonObject *m = janus_request ("message");
  JsonObject *reply, *pd, *data;

  json_object_set_object_member (m, "body", body);
  reply = post_json (j, url, m, error);
  if (reply == NULL)
    return NULL;
  pd = json_object_get_object_member (reply, "plugindata");
  data = pd ? json_object_get_object_member (pd, "data") : NULL;
  if (data == NULL || json_object_has_member (data, "error")) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "Janus's videoroom said: %s",
        data ? json_object_get_string_member_with_default (data, "error", "?")
             : "nothing");
    json_object_unref (reply);
    return NULL;
  }
  return reply;
}

gboolean
hq_janus_create_room (
    HqJanus *j, guint64 room, guint publishers, GError **error)
{
  JsonObject *b = json_object_new ();
  g_autoptr (JsonObject) reply = NULL;

  json_object_set_string_member (b, "request", "create");
  json_object_set_int_member (b, "room", (gint64)room);
  json_object_set_int_member (b, "publishers", publishers);
  json_object_set_int_member (b, "bitrate", 0);
  json_object_set_string_member (b, "audiocodec", "opus");
  json_object_set_string_member (b, "videocodec", "vp8");
  json_object_set_boolean_member (b, "notify_joining", FALSE);
  reply = videoroom_request (j, b, error);
  return reply != NULL;
}

void
hq_janus_destroy_room (HqJanus *j, guint64 room)
{
  JsonObject *b = json_object_new ();
  g_autoptr (JsonObject) reply = NULL;

  json_object_set_string_member (b, "request", "destroy");
  json_object_set_int_member (b, "room", (gint64)room);
  /* The reply does not matter: the participants leave either way. */
  reply = videoroom_request (j, b, NULL);
}

/* An Admin API request; the reply, or NULL. */
static JsonObject *
admin_request (HqJanus *j, const gchar *path, const gchar *what)
{
  g_autofree gchar *url = g_strconcat (JANUS_ADMIN, path, NULL);
  JsonObject *m = janus_request (what);

  json_object_set_string_member (m, "admin_secret", JANUS_ADMIN_SECRET);
  return post_json (j, url, m, NULL);
}

/* Packets sent on every m-line of a handle_info reply ("webrtc", "media",
 * then per mid "stats", "out", "packets"). */
static guint64
handle_packets_sent (JsonObject *info)
{
  JsonObject *webrtc = json_object_get_object_member (info, "webrtc");
  JsonObject *media = webrtc && json_object_has_member (webrtc, "media")
      ? json_object_get_object_member (webrtc, "media")
      : NULL;
  g_autoptr (GList) mids = media ? json_object_get_members (media) : NULL;
  guint64 sum = 0;

  for (GList *l = mids; l; l = l->next) {
    JsonObject *m = json_object_get_object_member (media, l->data);
    JsonObject *stats = m && json_object_has_member (m, "stats")
        ? json_object_get_object_member (m, "stats")
        : NULL;
    JsonObject *out = stats && json_object_has_member (stats, "out")
        ? json_object_get_object_member (stats, "out")
        : NULL;
    if (out)
      sum +=
          (guint64)json_object_get_int_member_with_default (out, "packets", 0);
  }
  return sum;
}

guint64
hq_janus_forwarded (HqJanus *j, guint64 room)
{
  g_autoptr (JsonObject) sessions = admin_request (j, "", "list_sessions");
  JsonArray *ss = sessions && json_object_has_member (sessions, "sessions")
      ? json_object_get_array_member (sessions, "sessions")
      : NULL;
  guint64 sum = 0;

  for (guint i = 0; ss && i < json_array_get_length (ss); i++) {
    gint64 sid = json_array_get_int_element (ss, i);
    g_autofree gchar *spath = g_strdup_printf ("/%" G_GINT64_FORMAT, sid);
    g_autoptr (JsonObject) handles = admin_request (j, spath, "list_handles");
    JsonArray *hs = handles && json_object_has_member (handles, "handles")
        ? json_object_get_array_member (handles, "handles")
        : NULL;

    for (guint k = 0; hs && k < json_array_get_length (hs); k++) {
      g_autofree gchar *hpath = g_strdup_printf (
          "%s/%" G_GINT64_FORMAT, spath, json_array_get_int_element (hs, k));
      g_autoptr (JsonObject) reply = admin_request (j, hpath, "handle_info");
      JsonObject *info = reply && json_object_has_member (reply, "info")
          ? json_object_get_object_member (reply, "info")
          : NULL;
      JsonObject *ps = info && json_object_has_member (info, "plugin_specific")
          ? json_object_get_object_member (info, "plugin_specific")
          : NULL;
      /* Subscribers of this room only: publishers send nothing. */
      if (ps == NULL
          || g_strcmp0 (
                 json_object_get_string_member_with_default (ps, "type", ""),
                 "subscriber")
              != 0
          || (guint64)json_object_get_int_member_with_default (ps, "room", 0)
              != room)
        continue;
      sum += handle_packets_sent (info);
    }
  }
  return sum;
}

/* --- a participant --- */

struct _HqJanusPart
{
  HqJanus *janus;
  guint64 room;
  HqSfuClient *c;
  SoupWebsocketConnection *ws;
  gint64 session, pub_handle, sub_handle;
  guint n_subscribe; /* feeds to subscribe to once the handle exists */
  gboolean closed;
};

HqSfuClient *
hq_janus_media_new (
    const gchar *room, const gchar *prefix, guint index, gboolean consent)
{
  HqSfuClient *c = g_new0 (HqSfuClient, 1);

  c->index = index;
  c->room = g_strdup (room);
  c->identity = g_strdup_printf ("%s-%u", prefix, index);
  c->audio_ssrc = 0x10000000 + index * 2;
  c->video_ssrc = 0x10000001 + index * 2;
  c->kept = g_malloc0 (HQ_SFU_CLIENT_KEEP * sizeof *c->kept);
  c->kept_len = g_new0 (gsize, HQ_SFU_CLIENT_KEEP);
  c->consent = consent;
  return c;
}

static void
send_json (HqJanusPart *p, JsonObject *o, gint64 handle)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree gchar *text = NULL;

  json_object_set_string_member (o, "transaction",
      json_object_get_string_member_with_default (o, "janus", "x"));
  if (p->session)
    json_object_set_int_member (o, "session_id", p->session);
  if (handle)
    json_object_set_int_member (o, "handle_id", handle);
  json_node_take_object (node, o);
  text = json_to_string (node, FALSE);
  if (p->ws
      && soup_websocket_connection_get_state (p->ws)
          == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text (p->ws, text);
}

static void
send_message (HqJanusPart *p, gint64 handle, JsonObject *body,
    const gchar *jsep_type, const gchar *sdp)
{
  JsonObject *m = janus_request ("message");

  json_object_set_object_member (m, "body", body);
  if (sdp) {
    JsonObject *jsep = json_object_new ();
    json_object_set_string_member (jsep, "type", jsep_type);
    json_object_set_string_member (jsep, "sdp", sdp);
    json_object_set_object_member (m, "jsep", jsep);
  }
  send_json (p, m, handle);
}

static void
on_candidate (HqTransport *t, const gchar *cand, HqJanusPart *p)
{
  JsonObject *m = janus_request ("trickle");
  JsonObject *c = json_object_new ();

  /* Bundled: every candidate belongs to the first m-line. */
  json_object_set_string_member (
      c, "candidate", g_str_has_prefix (cand, "a=") ? cand + 2 : cand);
  json_object_set_string_member (c, "sdpMid", "0");
  json_object_set_int_member (c, "sdpMLineIndex", 0);
  json_object_set_object_member (m, "candidate", c);
  send_json (p, m, t == p->c->pub ? p->pub_handle : p->sub_handle);
}

static void
on_gathered (HqTransport *t, HqJanusPart *p)
{
  JsonObject *m = janus_request ("trickle");
  JsonObject *c = json_object_new ();

  json_object_set_boolean_member (c, "completed", TRUE);
  json_object_set_object_member (m, "candidate", c);
  send_json (p, m, t == p->c->pub ? p->pub_handle : p->sub_handle);
}

static void
on_sub_packet (gboolean rtcp, guint8 *data, gsize len, gpointer user_data)
{
  HqSfuClient *c = user_data;

  if (c->on_sub_packet)
    c->on_sub_packet (rtcp, data, len, c);
}

static HqTransport *
make_transport (HqJanusPart *p, gboolean controlling)
{
  static const gchar *const interfaces[] = { HQ_JANUS_CLIENT_INTERFACE, NULL };
  HqTransportConfig config;
  g_autoptr (GError) error = NULL;
  HqTransport *t;

  hq_transport_config_init (&config);
  config.controlling = controlling;
  config.dtls_role = HQ_DTLS_ROLE_SERVER;
  config.consent_freshness = p->c->consent;
  config.interfaces = interfaces;
  t = hq_transport_new (&config, &error);
  g_assert_no_error (error);
  g_signal_connect (t, "local-candidate", G_CALLBACK (on_candidate), p);
  g_signal_connect (t, "gathering-done", G_CALLBACK (on_gathered), p);
  return t;
}

/* Joins as a publisher with an offer of one audio and one video track,
 * built as hq-server's client builds it. */
static void
publish (HqJanusPart *p)
{
  HqSfuClient *c = p->c;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *u = NULL, *pw = NULL, *text = NULL;
  g_autoptr (HqSdp) offer = NULL;
  HqSdpTrack tracks[2] = {
    { .kind = HQ_SDP_KIND_AUDIO,
        .mid = "0",
        .direction = HQ_SDP_SENDONLY,
        .stream_id = c->identity,
        .track_id = "audio",
        .ssrc = c->audio_ssrc },
    { .kind = HQ_SDP_KIND_VIDEO,
        .mid = "1",
        .direction = HQ_SDP_SENDONLY,
        .stream_id = c->identity,
        .track_id = "video",
        .ssrc = c->video_ssrc },
  };
  HqSdpLocal local;
  JsonObject *body = json_object_new ();

  c->pub = make_transport (p, TRUE);
  hq_transport_describe (c->pub, &local, &u, &pw, "hq-janus-client");
  local.setup = HQ_SDP_SETUP_ACTPASS;
  offer = hq_sdp_build_offer (&local, tracks, 2, NULL, &error);
  g_assert_no_error (error);
  text = hq_sdp_to_text (offer);
  json_object_set_string_member (body, "request", "joinandconfigure");
  json_object_set_string_member (body, "ptype", "publisher");
  json_object_set_int_member (body, "room", (gint64)p->room);
  json_object_set_int_member (body, "id", c->index + 1);
  json_object_set_string_member (body, "display", c->identity);
  send_message (p, p->pub_handle, body, "offer", text);
}

static void
on_publish_answer (HqJanusPart *p, const gchar *sdp)
{
  HqSfuClient *c = p->c;
  g_autoptr (GError) error = NULL;
  g_autoptr (HqSdp) answer = hq_sdp_parse (HQ_SDP_ANSWER, sdp, -1, &error);
  const HqSdpMedia *am, *vm;

  if (answer == NULL) {
    g_printerr (
        "participant %s: Janus's answer: %s\n", c->identity, error->message);
    return;
  }
  am = hq_sdp_find_media (answer, "0");
  vm = hq_sdp_find_media (answer, "1");
  if (am == NULL || vm == NULL || am->codecs->len == 0
      || vm->codecs->len == 0) {
    g_printerr (
        "participant %s: Janus's answer lacks audio or video\n", c->identity);
    return;
  }
  c->audio_pt = ((HqSdpCodec *)g_ptr_array_index (am->codecs, 0))->pt;
  c->video_pt = ((HqSdpCodec *)g_ptr_array_index (vm->codecs, 0))->pt;
  hq_transport_set_remote_description (c->pub, answer, NULL);
  hq_transport_gather (c->pub, NULL);
}

static void
send_subscribe (HqJanusPart *p)
{
  JsonObject *body = json_object_new ();
  JsonArray *streams = json_array_new ();

  for (guint f = 1; f <= p->n_subscribe; f++) {
    JsonObject *s;
    if (f == p->c->index + 1)
      continue;
    s = json_object_new ();
    json_object_set_int_member (s, "feed", f);
    json_array_add_object_element (streams, s);
  }
  json_object_set_string_member (body, "request", "join");
  json_object_set_string_member (body, "ptype", "subscriber");
  json_object_set_int_member (body, "room", (gint64)p->room);
  json_object_set_array_member (body, "streams", streams);
  send_message (p, p->sub_handle, body, NULL, NULL);
}

/* Janus's subscriber offer: answer it receive-only, as hq-server's client
 * answers hq-server's subscribe offers. */
static void
on_subscribe_offer (HqJanusPart *p, const gchar *sdp)
{
  HqSfuClient *c = p->c;
  g_autoptr (GError) error = NULL;
  g_autoptr (HqSdp) offer = hq_sdp_parse (HQ_SDP_OFFER, sdp, -1, &error);
  g_autoptr (HqSdp) answer = NULL;
  g_autoptr (GArray) want = g_array_new (FALSE, TRUE, sizeof (HqSdpTrack));
  g_autofree gchar *u = NULL, *pw = NULL, *text = NULL;
  HqSdpLocal local;
  JsonObject *body;
  guint active = 0;

  if (offer == NULL) {
    g_printerr ("participant %s: Janus's subscriber offer: %s\n", c->identity,
        error->message);
    return;
  }
  if (c->sub) /* a renegotiation would need more than this bench does */
    return;
  c->sub = make_transport (p, FALSE);
  hq_transport_set_receive_func (c->sub, on_sub_packet, c, NULL);
  for (guint i = 0; i < offer->media->len; i++) {
    HqSdpMedia *om = g_ptr_array_index (offer->media, i);
    HqSdpTrack t = {
      .kind = om->kind, .mid = om->mid, .direction = HQ_SDP_RECVONLY
    };
    g_array_append_val (want, t);
    active += hq_sdp_media_is_active (om) && om->direction != HQ_SDP_INACTIVE;
  }
  hq_transport_describe (c->sub, &local, &u, &pw, "hq-janus-client");
  answer = hq_sdp_build_answer (
      offer, &local, (HqSdpTrack *)want->data, want->len, &error);
  if (answer == NULL) {
    g_printerr ("participant %s: cannot answer Janus: %s\n", c->identity,
        error->message);
    return;
  }
  hq_transport_set_remote_description (c->sub, offer, NULL);
  text = hq_sdp_to_text (answer);
  body = json_object_new ();
  json_object_set_string_member (body, "request", "start");
  send_message (p, p->sub_handle, body, "answer", text);
  c->sub_mlines = active;
  hq_transport_gather (c->sub, NULL);
}

static void
on_ws_message (
    SoupWebsocketConnection *ws, gint type, GBytes *bytes, HqJanusPart *p)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *msg, *jsep, *pd, *data;
  const gchar *janus, *tx, *what = "";
  gint64 sender;

  if (!json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL),
          g_bytes_get_size (bytes), NULL)
      || (msg = json_node_get_object (json_parser_get_root (parser))) == NULL)
    return;
  janus = json_object_get_string_member_with_default (msg, "janus", "");
  tx = json_object_get_string_member_with_default (msg, "transaction", "");
  sender = json_object_get_int_member_with_default (msg, "sender", 0);
  jsep = json_object_has_member (msg, "jsep")
      ? json_object_get_object_member (msg, "jsep")
      : NULL;
  pd = json_object_has_member (msg, "plugindata")
      ? json_object_get_object_member (msg, "plugindata")
      : NULL;
  data = pd ? json_object_get_object_member (pd, "data") : NULL;
  if (data)
    what = json_object_get_string_member_with_default (data, "videoroom", "");
  if (g_str_equal (janus, "success") && g_str_equal (tx, "create")) {
    JsonObject *m = janus_request ("attach");
    p->session = reply_id (msg);
    json_object_set_string_member (m, "plugin", "janus.plugin.videoroom");
    send_json (p, m, 0);
  } else if (g_str_equal (janus, "success") && g_str_equal (tx, "attach")) {
    if (p->pub_handle == 0) {
      p->pub_handle = reply_id (msg);
      publish (p);
    } else {
      p->sub_handle = reply_id (msg);
      send_subscribe (p);
    }
  } else if (g_str_equal (janus, "event") && data
      && json_object_has_member (data, "error")) {
    g_printerr ("participant %s: Janus's videoroom said: %s\n", p->c->identity,
        json_object_get_string_member_with_default (data, "error", "?"));
  } else if (g_str_equal (janus, "event") && jsep && sender == p->pub_handle) {
    on_publish_answer (
        p, json_object_get_string_member_with_default (jsep, "sdp", ""));
  } else if (g_str_equal (janus, "event") && jsep && sender == p->sub_handle
      && g_str_equal (what, "attached")) {
    on_subscribe_offer (
        p, json_object_get_string_member_with_default (jsep, "sdp", ""));
  } else if (g_str_equal (janus, "webrtcup") && sender == p->pub_handle) {
    /* Janus takes subscribers to a feed only from here on (before, its
     * side of the DTLS handshake may not be done while ours is). */
    p->c->published = TRUE;
  } else if (g_str_equal (janus, "trickle")) {
    JsonObject *cand = json_object_get_object_member (msg, "candidate");
    HqTransport *t = sender == p->pub_handle ? p->c->pub : p->c->sub;
    if (t == NULL || cand == NULL)
      return;
    if (json_object_get_boolean_member_with_default (cand, "completed", FALSE))
      hq_transport_end_of_remote_candidates (t);
    else
      hq_transport_add_remote_candidate (t,
          json_object_get_string_member_with_default (cand, "candidate", ""),
          NULL);
  } else if (g_str_equal (janus, "error")) {
    JsonObject *e = json_object_get_object_member (msg, "error");
    g_printerr ("participant %s: Janus said: %s\n", p->c->identity,
        e ? json_object_get_string_member_with_default (e, "reason", "?")
          : "?");
  } else if (g_str_equal (janus, "hangup")) {
    g_printerr ("participant %s: Janus hung up (%s)\n", p->c->identity,
        json_object_get_string_member_with_default (msg, "reason", "?"));
  }
}

static void
on_ws_closed (SoupWebsocketConnection *ws, HqJanusPart *p)
{
  if (!p->closed)
    g_printerr ("participant %s: Janus closed the WebSocket (%u)\n",
        p->c->identity, soup_websocket_connection_get_close_code (ws));
}

static void
on_ws_connected (GObject *src, GAsyncResult *res, gpointer data)
{
  HqJanusPart *p = data;
  g_autoptr (GError) error = NULL;

  p->ws =
      soup_session_websocket_connect_finish (SOUP_SESSION (src), res, &error);
  if (p->ws == NULL)
    g_error ("WebSocket to Janus: %s", error->message);
  soup_websocket_connection_set_max_incoming_payload_size (p->ws, 1 << 20);
  g_signal_connect (p->ws, "message", G_CALLBACK (on_ws_message), p);
  g_signal_connect (p->ws, "closed", G_CALLBACK (on_ws_closed), p);
  send_json (p, janus_request ("create"), 0);
}

HqJanusPart *
hq_janus_part_new (HqJanus *janus, guint64 room, HqSfuClient *media)
{
  HqJanusPart *p = g_new0 (HqJanusPart, 1);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", JANUS_WS);
  const char *protocols[] = { "janus-protocol", NULL };

  p->janus = janus;
  p->room = room;
  p->c = media;
  soup_session_websocket_connect_async (janus->http, msg, NULL,
      (char **)protocols, G_PRIORITY_DEFAULT, NULL, on_ws_connected, p);
  return p;
}

void
hq_janus_part_subscribe (HqJanusPart *p, guint n)
{
  JsonObject *m = janus_request ("attach");

  p->n_subscribe = n;
  json_object_set_string_member (m, "plugin", "janus.plugin.videoroom");
  send_json (p, m, 0);
}

void
hq_janus_part_free (HqJanusPart *p)
{
  p->closed = TRUE;
  if (p->c->pub)
    g_signal_handlers_disconnect_by_data (p->c->pub, p);
  if (p->c->sub)
    g_signal_handlers_disconnect_by_data (p->c->sub, p);
  if (p->ws) {
    if (p->session)
      send_json (p, janus_request ("destroy"), 0);
    g_signal_handlers_disconnect_by_data (p->ws, p);
    if (soup_websocket_connection_get_state (p->ws)
        == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (p->ws, 1000, NULL);
    g_object_unref (p->ws);
  }
  g_free (p);
}
