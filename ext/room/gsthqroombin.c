/* GstHqRoomBin: see gsthqroombin.h.
 *
 * Threading: the client, its WebSocket and both transports live on one
 * GThread running its own GMainContext, started when the element goes to
 * READY->PAUSED and stopped on the way down.  Streaming threads never wait
 * for it: packets go through the client's thread-safe send queue, and
 * what it receives a subclass pushes into appsrc elements, which are
 * thread-safe.  The settings are the element's own fields, under its
 * object lock, and never set a child's property under it (STYLE.md).
 */
#include "gsthqroombin.h"

#include <string.h>
#include <hq/hqprotocol.h>
#include <hq/hqtoken.h>
#include <hq/hqtransport.h>

/* Lines about an element go to its own category (the class's debug). */
#define element_category(element)                                              \
  (GST_HQ_ROOM_BIN_GET_CLASS (element)->debug                                  \
          ? GST_HQ_ROOM_BIN_GET_CLASS (element)->debug                         \
          : GST_CAT_DEFAULT)

/* The properties of every room element. */
typedef struct
{
  gchar *server;
  gchar *room;
  gchar *token;
  gchar *identity;
  guint reconnect_timeout_ms;
  GstHqRoomIceTransportPolicy ice_transport_policy;
  gboolean ice_udp;
  gboolean ice_tcp;
  gchar *tls_ca_file;
} GstHqRoomSettings;

enum
{
  PROP_0,
  PROP_SERVER,
  PROP_ROOM,
  PROP_TOKEN,
  PROP_IDENTITY,
  PROP_RECONNECT_TIMEOUT,
  PROP_ICE_TRANSPORT_POLICY,
  PROP_ICE_UDP,
  PROP_ICE_TCP,
  PROP_TLS_CA_FILE,
};

/* Called on the client's thread right after the client is made, to
 * connect signals and set what it publishes, before it starts. */
typedef void (*GstHqRoomSetupFunc) (HqRoomClient *client, gpointer user_data);

typedef struct
{
  GstElement *element;
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  HqRoomClient *client; /* owned by the thread; set while it runs */
  GMutex lock;
  GCond cond;
  gboolean ready;
  /* Why the client gave up for good (under @lock; NULL while it has
   * not): going to PLAYING after that fails and says it again. */
  GError *failure;
} GstHqRoomConnection;

typedef struct
{
  GstHqRoomSettings settings; /* under the object lock */
  GstHqRoomConnection conn;
  GstElement *rtpbin;
} GstHqRoomBinPrivate;

enum
{
  SIGNAL_SEND_CHAT_MESSAGE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

GST_DEBUG_CATEGORY_STATIC (gst_hq_room_bin_debug);
#define GST_CAT_DEFAULT gst_hq_room_bin_debug

#define gst_hq_room_bin_parent_class parent_class
G_DEFINE_ABSTRACT_TYPE_WITH_CODE (GstHqRoomBin, gst_hq_room_bin, GST_TYPE_BIN,
    G_ADD_PRIVATE (GstHqRoomBin) GST_DEBUG_CATEGORY_INIT (
        gst_hq_room_bin_debug, "hqroombin", 0, "hqrooms room elements' base"));

static void post_error (GstElement *element, const GError *error);
static void connection_stop (GstHqRoomConnection *conn);

/* --- settings --- */

static void
settings_init (GstHqRoomSettings *s)
{
  s->server = g_strdup (GST_HQ_ROOM_DEFAULT_SERVER);
  s->room = NULL;
  s->token = NULL;
  s->identity = NULL;
  s->reconnect_timeout_ms = GST_HQ_ROOM_DEFAULT_RECONNECT_TIMEOUT_MS;
  s->ice_transport_policy = GST_HQ_ROOM_ICE_TRANSPORT_POLICY_ALL;
  s->ice_udp = TRUE;
  s->ice_tcp = TRUE;
}

static void
settings_clear (GstHqRoomSettings *s)
{
  g_clear_pointer (&s->server, g_free);
  g_clear_pointer (&s->room, g_free);
  g_clear_pointer (&s->token, g_free);
  g_clear_pointer (&s->identity, g_free);
  g_clear_pointer (&s->tls_ca_file, g_free);
}

static void
settings_copy (GstHqRoomSettings *dst, const GstHqRoomSettings *src)
{
  *dst = *src;
  dst->server = g_strdup (src->server);
  dst->room = g_strdup (src->room);
  dst->token = g_strdup (src->token);
  dst->identity = g_strdup (src->identity);
  dst->tls_ca_file = g_strdup (src->tls_ca_file);
}

static void
settings_install (GObjectClass *klass)
{
  g_object_class_install_property (klass, PROP_SERVER,
      g_param_spec_string ("server", "Server",
          "hq-server's base URL (http://, https://, ws:// or wss://)",
          GST_HQ_ROOM_DEFAULT_SERVER,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (klass, PROP_ROOM,
      g_param_spec_string ("room", "Room",
          "Room unique name or sid (default: the room the token names)", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (klass, PROP_TOKEN,
      g_param_spec_string ("token", "Token",
          "Access token (default: $HQ_ACCESS_TOKEN, else one minted for "
          "identity with $HQ_API_KEY_SID, $HQ_API_KEY_SECRET and "
          "$HQ_ACCOUNT_SID)",
          NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (klass, PROP_IDENTITY,
      g_param_spec_string ("identity", "Identity",
          "Participant identity (for a minted token)", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (klass, PROP_RECONNECT_TIMEOUT,
      g_param_spec_uint ("reconnect-timeout", "Reconnect timeout",
          "Give up after this long without the server (ms)", 0, G_MAXUINT,
          GST_HQ_ROOM_DEFAULT_RECONNECT_TIMEOUT_MS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_READY));
  /**
   * GstHqRoomBin:ice-transport-policy:
   *
   * "relay": the transports use relayed candidates only, through the TURN
   * servers (with time-limited credentials) that the server's join reply
   * names, as a browser's iceTransportPolicy "relay" does; nothing but
   * the TURN server learns the machine's addresses.  Without a usable
   * TURN server (turn: over UDP or TCP) ICE then fails.
   */
  g_object_class_install_property (klass, PROP_ICE_TRANSPORT_POLICY,
      g_param_spec_enum ("ice-transport-policy", "ICE transport policy",
          "Which ICE candidates to use: all, or relay (TURN only)",
          GST_TYPE_HQ_ROOM_ICE_TRANSPORT_POLICY,
          GST_HQ_ROOM_ICE_TRANSPORT_POLICY_ALL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_READY));
  /**
   * GstHqRoomBin:ice-udp:
   *
   * Gather UDP candidates.  FALSE: no UDP socket at all, as on a network
   * that blocks UDP; media then needs ICE over TCP (ice-tcp).
   */
  g_object_class_install_property (klass, PROP_ICE_UDP,
      g_param_spec_boolean ("ice-udp", "ICE over UDP", "Gather UDP candidates",
          TRUE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_READY));
  /**
   * GstHqRoomBin:ice-tcp:
   *
   * Gather ICE-TCP candidates (RFC 6544), so media reaches a server that
   * offers ICE over TCP ([media] ice_tcp) when UDP is blocked.
   */
  g_object_class_install_property (klass, PROP_ICE_TCP,
      g_param_spec_boolean ("ice-tcp", "ICE over TCP",
          "Gather ICE-TCP candidates", TRUE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_READY));
  /**
   * GstHqRoomBin:tls-ca-file:
   *
   * A PEM file of the certificate authorities trusted for an https://
   * or wss:// server, in place of the system's: for a server whose
   * certificate a private CA signed (docs/tls.md).
   */
  g_object_class_install_property (klass, PROP_TLS_CA_FILE,
      g_param_spec_string ("tls-ca-file", "TLS CA file",
          "PEM file of the certificate authorities to trust for an https/wss "
          "server instead of the system's (default: $HQ_TLS_CA_FILE, else "
          "the system's)",
          NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_READY));
}

static gboolean
settings_set (GstHqRoomSettings *s, guint prop_id, const GValue *value)
{
  gchar **str;

  switch (prop_id) {
    case PROP_SERVER:
      str = &s->server;
      break;
    case PROP_ROOM:
      str = &s->room;
      break;
    case PROP_TOKEN:
      str = &s->token;
      break;
    case PROP_IDENTITY:
      str = &s->identity;
      break;
    case PROP_TLS_CA_FILE:
      str = &s->tls_ca_file;
      break;
    case PROP_RECONNECT_TIMEOUT:
      s->reconnect_timeout_ms = g_value_get_uint (value);
      return TRUE;
    case PROP_ICE_TRANSPORT_POLICY:
      s->ice_transport_policy = g_value_get_enum (value);
      return TRUE;
    case PROP_ICE_UDP:
      s->ice_udp = g_value_get_boolean (value);
      return TRUE;
    case PROP_ICE_TCP:
      s->ice_tcp = g_value_get_boolean (value);
      return TRUE;
    default:
      return FALSE;
  }
  g_free (*str);
  *str = g_value_dup_string (value);
  return TRUE;
}

static gboolean
settings_get (const GstHqRoomSettings *s, guint prop_id, GValue *value)
{
  switch (prop_id) {
    case PROP_SERVER:
      g_value_set_string (value, s->server);
      return TRUE;
    case PROP_ROOM:
      g_value_set_string (value, s->room);
      return TRUE;
    case PROP_TOKEN:
      g_value_set_string (value, s->token);
      return TRUE;
    case PROP_IDENTITY:
      g_value_set_string (value, s->identity);
      return TRUE;
    case PROP_TLS_CA_FILE:
      g_value_set_string (value, s->tls_ca_file);
      return TRUE;
    case PROP_RECONNECT_TIMEOUT:
      g_value_set_uint (value, s->reconnect_timeout_ms);
      return TRUE;
    case PROP_ICE_TRANSPORT_POLICY:
      g_value_set_enum (value, s->ice_transport_policy);
      return TRUE;
    case PROP_ICE_UDP:
      g_value_set_boolean (value, s->ice_udp);
      return TRUE;
    case PROP_ICE_TCP:
      g_value_set_boolean (value, s->ice_tcp);
      return TRUE;
    default:
      return FALSE;
  }
}

/* The token property, else $HQ_ACCESS_TOKEN, else one minted for
 * @identity with $HQ_API_KEY_SID/$HQ_API_KEY_SECRET ($HQ_ACCOUNT_SID). */
static gchar *
resolve_token (const GstHqRoomSettings *s, GError **error)
{
  const gchar *env = g_getenv ("HQ_ACCESS_TOKEN");
  const gchar *sid = g_getenv ("HQ_API_KEY_SID");
  const gchar *secret = g_getenv ("HQ_API_KEY_SECRET");
  const gchar *account = g_getenv ("HQ_ACCOUNT_SID");
  HqTokenGrant grant = { 0 };

  if (s->token && *s->token)
    return g_strdup (s->token);
  if (env && *env)
    return g_strdup (env);
  if (!(sid && *sid && secret && *secret && s->identity && *s->identity)) {
    g_set_error (error, HQ_ROOM_CLIENT_ERROR,
        HQ_ROOM_CLIENT_ERROR_INVALID_ARGUMENT,
        "no access token: set the token property, or HQ_ACCESS_TOKEN, or "
        "HQ_API_KEY_SID and HQ_API_KEY_SECRET with the identity property");
    return NULL;
  }
  grant.identity = s->identity;
  grant.room = s->room;
  grant.role = HQ_ROLE_GUEST;
  grant.ttl = 4 * 3600;
  return hq_token_mint (sid, secret,
      account && *account ? account : "AC00000000000000000000000000000000",
      &grant, 0, error);
}

static void
connection_init (GstHqRoomConnection *conn)
{
  memset (conn, 0, sizeof *conn);
  g_mutex_init (&conn->lock);
  g_cond_init (&conn->cond);
}

static void
connection_clear (GstHqRoomConnection *conn)
{
  connection_stop (conn);
  g_mutex_clear (&conn->lock);
  g_cond_clear (&conn->cond);
}

typedef struct
{
  GstHqRoomConnection *conn;
  HqRoomClientConfig config;
  gchar *server, *room, *token, *tls_ca_file;
  GstHqRoomSetupFunc setup;
  gpointer user_data;
} StartArgs;

/* The client gave up for good (its thread): the element says why, and
 * remembers it for a later PLAYING (gst_hq_room_bin_change_state). */
static void
connection_give_up (GstHqRoomConnection *conn, const GError *error)
{
  g_mutex_lock (&conn->lock);
  if (conn->failure == NULL)
    conn->failure = g_error_copy (error);
  g_mutex_unlock (&conn->lock);
  post_error (conn->element, error);
}

static void
on_client_error (HqRoomClient *client, GError *error, GstElement *element)
{
  GstHqRoomBinPrivate *priv =
      gst_hq_room_bin_get_instance_private (GST_HQ_ROOM_BIN (element));

  GST_CAT_ERROR_OBJECT (element_category (element), element,
      "the room client gave up: %s", error->message);
  connection_give_up (&priv->conn, error);
}

static gpointer
client_thread (gpointer data)
{
  StartArgs *a = data;
  GstHqRoomConnection *conn = a->conn;
  g_autoptr (GError) error = NULL;
  HqRoomClient *client;
  gint64 deadline;

  g_main_context_push_thread_default (conn->context);
  client = hq_room_client_new (&a->config, &error);
  if (client == NULL) {
    GST_CAT_ERROR_OBJECT (element_category (conn->element), conn->element,
        "cannot make a room client: %s", error->message);
    connection_give_up (conn, error);
  } else {
    g_signal_connect (
        client, "error", G_CALLBACK (on_client_error), conn->element);
    /* set first, so that what the setup calls finds the client */
    g_mutex_lock (&conn->lock);
    conn->client = client;
    g_mutex_unlock (&conn->lock);
    a->setup (client, a->user_data);
  }
  g_mutex_lock (&conn->lock);
  conn->ready = TRUE;
  g_cond_broadcast (&conn->cond);
  g_mutex_unlock (&conn->lock);
  if (client)
    hq_room_client_start (client);
  g_main_loop_run (conn->loop);

  if (client) {
    g_mutex_lock (&conn->lock);
    conn->client = NULL;
    g_mutex_unlock (&conn->lock);
    hq_room_client_stop (client);
    /* Release the TURN allocations, so the TURN server frees them now. */
    if (!hq_transport_wait_relays_released (conn->context, 2000))
      GST_CAT_WARNING_OBJECT (element_category (conn->element), conn->element,
          "the TURN server did not confirm the release of our allocations "
          "within 2 s");
    /* Let the leave and the close frame go out. */
    deadline = g_get_monotonic_time () + 200 * 1000;
    while (g_get_monotonic_time () < deadline
        && g_main_context_iteration (conn->context, FALSE))
      ;
    g_signal_handlers_disconnect_by_data (client, conn->element);
    g_object_unref (client);
  }
  g_main_context_pop_thread_default (conn->context);
  g_free (a->server);
  g_free (a->room);
  g_free (a->token);
  g_free (a->tls_ca_file);
  g_free (a);
  return NULL;
}

static gboolean
connection_start (GstHqRoomConnection *conn, GstElement *element,
    const GstHqRoomSettings *s, gboolean subscribe, GstHqRoomSetupFunc setup,
    gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *token = resolve_token (s, &error);
  StartArgs *a;
  gboolean made;

  if (token == NULL) {
    GST_CAT_ERROR_OBJECT (element_category (element), element,
        "no access token: %s", error->message);
    post_error (element, error);
    return FALSE;
  }
  GST_CAT_INFO_OBJECT (element_category (element), element,
      "connecting to %s, room %s (reconnect-timeout %u ms)", s->server,
      s->room ? s->room : "(from the token)", s->reconnect_timeout_ms);
  a = g_new0 (StartArgs, 1);
  a->conn = conn;
  a->server = g_strdup (s->server);
  a->room = g_strdup (s->room);
  a->token = g_steal_pointer (&token);
  a->tls_ca_file =
      g_strdup (s->tls_ca_file ? s->tls_ca_file : g_getenv ("HQ_TLS_CA_FILE"));
  hq_room_client_config_init (&a->config);
  a->config.server = a->server;
  a->config.room = a->room;
  a->config.token = a->token;
  a->config.subscribe = subscribe;
  a->config.reconnect_timeout_ms = s->reconnect_timeout_ms;
  a->config.relay_only =
      s->ice_transport_policy == GST_HQ_ROOM_ICE_TRANSPORT_POLICY_RELAY;
  a->config.ice_udp = s->ice_udp;
  a->config.ice_tcp = s->ice_tcp;
  a->config.tls_ca_file = a->tls_ca_file;
  /* Set by hq-server for its recorder child only (docs/tls.md). */
  a->config.tls_pinned_certificate = g_getenv ("HQ_TLS_PINNED_CERTIFICATE");
  a->setup = setup;
  a->user_data = user_data;

  conn->element = element;
  g_mutex_lock (&conn->lock);
  conn->context = g_main_context_new ();
  g_mutex_unlock (&conn->lock);
  a->config.context = conn->context;
  conn->loop = g_main_loop_new (conn->context, FALSE);
  conn->ready = FALSE;
  conn->thread = g_thread_new ("hqroom", client_thread, a);
  /* Wait until the client exists, so pads and sends find it. */
  g_mutex_lock (&conn->lock);
  while (!conn->ready)
    g_cond_wait (&conn->cond, &conn->lock);
  made = conn->client != NULL;
  g_mutex_unlock (&conn->lock);
  /* No client (its error is posted): the state change fails, rather than
   * a pipeline going on to PLAYING with nothing that could ever join. */
  if (!made)
    connection_stop (conn);
  return made;
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static void
connection_stop (GstHqRoomConnection *conn)
{
  GMainContext *context;
  GSource *quit;

  if (conn->thread == NULL)
    return;
  /* The quit goes through the loop's own context: g_main_loop_quit from
   * here, before the thread's g_main_loop_run began, would be undone by
   * the run and the join would wait for ever.  Neither can it be
   * g_main_context_invoke, which runs at once here while no thread owns
   * the context.  An idle source runs once the loop does. */
  quit = g_idle_source_new ();
  g_source_set_priority (quit, G_PRIORITY_HIGH);
  g_source_set_callback (quit, quit_loop, g_main_loop_ref (conn->loop),
      (GDestroyNotify)g_main_loop_unref);
  g_source_attach (quit, conn->context);
  g_source_unref (quit);
  g_thread_join (conn->thread);
  conn->thread = NULL;
  g_clear_pointer (&conn->loop, g_main_loop_unref);
  g_mutex_lock (&conn->lock);
  context = g_steal_pointer (&conn->context);
  g_mutex_unlock (&conn->lock);
  g_main_context_unref (context);
  g_clear_error (&conn->failure);
}

static void
connection_invoke_full (GstHqRoomConnection *conn, GSourceFunc func,
    gpointer data, GDestroyNotify notify)
{
  GMainContext *context = NULL;

  /* any thread, also while the element stops */
  g_mutex_lock (&conn->lock);
  if (conn->context)
    context = g_main_context_ref (conn->context);
  g_mutex_unlock (&conn->lock);
  if (context) {
    g_main_context_invoke_full (
        context, G_PRIORITY_DEFAULT, func, data, notify);
    g_main_context_unref (context);
  } else if (notify) {
    notify (data);
  }
}

/* --- bus messages --- */

static const gchar *
str_or_empty (JsonObject *o, const gchar *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  if (n && JSON_NODE_TYPE (n) == JSON_NODE_VALUE
      && json_node_get_value_type (n) == G_TYPE_STRING)
    return json_node_get_string (n);
  return "";
}

static JsonObject *
obj (JsonObject *o, const gchar *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static void
post (GstElement *element, GstStructure *s)
{
  gst_element_post_message (
      element, gst_message_new_element (GST_OBJECT (element), s));
}

static void
post_joined (GstElement *element, JsonObject *joined, gboolean resumed)
{
  JsonObject *room = obj (joined, "room"), *me = obj (joined, "participant");

  GST_CAT_INFO_OBJECT (element_category (element), element,
      "joined room %s (%s) as %s, participant %s%s",
      str_or_empty (room, "name"), str_or_empty (room, "sid"),
      str_or_empty (me, "identity"), str_or_empty (me, "sid"),
      resumed ? " (resumed)" : "");
  post (element,
      gst_structure_new ("hq-joined", "room-sid", G_TYPE_STRING,
          str_or_empty (room, "sid"), "room-name", G_TYPE_STRING,
          str_or_empty (room, "name"), "participant-sid", G_TYPE_STRING,
          str_or_empty (me, "sid"), "identity", G_TYPE_STRING,
          str_or_empty (me, "identity"), "resumed", G_TYPE_BOOLEAN, resumed,
          NULL));
}

static void
post_connection (GstElement *element, gboolean connected)
{
  if (!connected) {
    GST_CAT_WARNING_OBJECT (element_category (element), element,
        "lost the connection to the server: reconnecting until "
        "reconnect-timeout (GST_DEBUG=hqroomclient:5 shows each attempt "
        "and why)");
    post (element, gst_structure_new_empty ("hq-reconnecting"));
  } else {
    GST_CAT_INFO_OBJECT (
        element_category (element), element, "connected to the server");
  }
}

static void
on_media_changed (HqRoomClient *client, gint which, gboolean connected,
    const gchar *why, GstElement *element)
{
  const gchar *transport =
      which == HQ_ROOM_TRANSPORT_PUBLISH ? "publish" : "subscribe";

  if (!connected) {
    GST_CAT_WARNING_OBJECT (element_category (element), element,
        "%s media lost (%s): restarting ICE while the server connection "
        "lasts",
        transport, why ? why : "");
    post (element,
        gst_structure_new ("hq-media-reconnecting", "transport", G_TYPE_STRING,
            transport, "reason", G_TYPE_STRING, why ? why : "", NULL));
  } else {
    GST_CAT_INFO_OBJECT (
        element_category (element), element, "%s media restored", transport);
    post (element,
        gst_structure_new (
            "hq-media-restored", "transport", G_TYPE_STRING, transport, NULL));
  }
}

static void
post_participant (GstElement *element, const gchar *name, JsonObject *msg)
{
  JsonObject *p = obj (msg, "participant");
  GstStructure *s = gst_structure_new (name, "participant-sid", G_TYPE_STRING,
      str_or_empty (p, "sid"), "identity", G_TYPE_STRING,
      str_or_empty (p, "identity"), NULL);

  if (json_object_has_member (msg, "reason"))
    gst_structure_set (
        s, "reason", G_TYPE_STRING, str_or_empty (msg, "reason"), NULL);
  post (element, s);
}

static void
post_track (GstElement *element, const gchar *name, JsonObject *msg)
{
  JsonObject *t = obj (msg, "track");

  post (element,
      gst_structure_new (name, "participant-sid", G_TYPE_STRING,
          str_or_empty (msg, "participant_sid"), "track-sid", G_TYPE_STRING,
          str_or_empty (t, "sid"), "track-name", G_TYPE_STRING,
          str_or_empty (t, "name"), "kind", G_TYPE_STRING,
          str_or_empty (t, "kind"), "priority", G_TYPE_STRING,
          str_or_empty (t, "priority"), NULL));
}

static void
post_event (GstElement *element, const gchar *type, JsonObject *msg)
{
  HqMessageType t = hq_protocol_message_type (type);

  if (t == HQ_MESSAGE_PARTICIPANT_CONNECTED)
    post_participant (element, "hq-participant-connected", msg);
  else if (t == HQ_MESSAGE_PARTICIPANT_DISCONNECTED)
    post_participant (element, "hq-participant-disconnected", msg);
  else if (t == HQ_MESSAGE_TRACK_PUBLISHED
      && !json_object_has_member (msg, "id"))
    post_track (element, "hq-track-published", msg);
  else if (t == HQ_MESSAGE_TRACK_UNPUBLISHED
      && !json_object_has_member (msg, "id"))
    post_track (element, "hq-track-unpublished", msg);
  else if (t == HQ_MESSAGE_TRACK_PRIORITY_CHANGED
      && !json_object_has_member (msg, "id"))
    post_track (element, "hq-track-priority-changed", msg);
  else if (t == HQ_MESSAGE_TRACK_SWITCHED_OFF
      || t == HQ_MESSAGE_TRACK_SWITCHED_ON) {
    GstStructure *s = gst_structure_new (t == HQ_MESSAGE_TRACK_SWITCHED_OFF
            ? "hq-track-switched-off"
            : "hq-track-switched-on",
        "participant-sid", G_TYPE_STRING, str_or_empty (msg, "participant_sid"),
        "track-sid", G_TYPE_STRING, str_or_empty (msg, "track_sid"), NULL);
    if (t == HQ_MESSAGE_TRACK_SWITCHED_OFF)
      gst_structure_set (
          s, "reason", G_TYPE_STRING, str_or_empty (msg, "reason"), NULL);
    post (element, s);
  } else if (t == HQ_MESSAGE_DOMINANT_SPEAKER)
    post (element,
        gst_structure_new ("hq-dominant-speaker", "participant-sid",
            G_TYPE_STRING, str_or_empty (msg, "participant_sid"), "identity",
            G_TYPE_STRING, str_or_empty (msg, "identity"), NULL));
  else if (t == HQ_MESSAGE_NETWORK_QUALITY) {
    JsonNode *n = json_object_get_member (msg, "participants");
    JsonArray *a =
        n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
    for (guint i = 0; a && i < json_array_get_length (a); i++) {
      JsonObject *p = json_array_get_object_element (a, i);
      if (p == NULL)
        continue;
      post (element,
          gst_structure_new ("hq-network-quality", "participant-sid",
              G_TYPE_STRING, str_or_empty (p, "participant_sid"), "identity",
              G_TYPE_STRING, str_or_empty (p, "identity"), "level", G_TYPE_INT,
              (gint)json_object_get_int_member_with_default (p, "level", 0),
              NULL));
    }
  } else if (t == HQ_MESSAGE_CHAT_MESSAGE || t == HQ_MESSAGE_CHAT_SENT) {
    JsonObject *m = obj (msg, "message");
    post (element,
        gst_structure_new ("hq-chat-message", "index", G_TYPE_INT64,
            json_object_get_int_member_with_default (m, "index", 0),
            "participant-sid", G_TYPE_STRING,
            str_or_empty (m, "participant_sid"), "identity", G_TYPE_STRING,
            str_or_empty (m, "identity"), "body", G_TYPE_STRING,
            str_or_empty (m, "body"), "date-created", G_TYPE_STRING,
            str_or_empty (m, "date_created"), NULL));
  }
}

static void
post_error (GstElement *element, const GError *error)
{
  GstResourceError code;

  switch (error->code) {
    case HQ_ROOM_CLIENT_ERROR_TOKEN:
      code = GST_RESOURCE_ERROR_NOT_AUTHORIZED;
      break;
    case HQ_ROOM_CLIENT_ERROR_ROOM_NOT_FOUND:
      code = GST_RESOURCE_ERROR_NOT_FOUND;
      break;
    case HQ_ROOM_CLIENT_ERROR_ROOM_FULL:
      code = GST_RESOURCE_ERROR_BUSY;
      break;
    case HQ_ROOM_CLIENT_ERROR_INVALID_ARGUMENT:
      code = GST_RESOURCE_ERROR_SETTINGS;
      break;
    default:
      code = GST_RESOURCE_ERROR_OPEN_READ_WRITE;
      break;
  }
  gst_element_message_full (element, GST_MESSAGE_ERROR, GST_RESOURCE_ERROR,
      code, g_strdup (error->message), NULL, __FILE__, GST_FUNCTION, __LINE__);
}

/* --- the element --- */

static void
on_joined (HqRoomClient *client, JsonObject *joined, gboolean resumed,
    GstElement *element)
{
  post_joined (element, joined, resumed);
}

static void
on_message (HqRoomClient *client, const gchar *type, JsonObject *msg,
    GstElement *element)
{
  post_event (element, type, msg);
}

static void
on_connection (HqRoomClient *client, gboolean connected, GstElement *element)
{
  post_connection (element, connected);
}

/* The client's thread, before the client starts: the subclass's handlers
 * first, so that a pad already says what a bus message announces. */
static void
setup_client (HqRoomClient *client, gpointer user_data)
{
  GstHqRoomBin *self = user_data;
  GstHqRoomBinClass *klass = GST_HQ_ROOM_BIN_GET_CLASS (self);

  if (klass->setup_client)
    klass->setup_client (self, client);
  g_signal_connect (client, "joined", G_CALLBACK (on_joined), self);
  g_signal_connect (client, "message", G_CALLBACK (on_message), self);
  g_signal_connect (
      client, "connection-changed", G_CALLBACK (on_connection), self);
  g_signal_connect (
      client, "media-changed", G_CALLBACK (on_media_changed), self);
}

/* --- the subclasses' properties, as fields --- */

static GQuark field_quark;

/* A GstValueArray of strings as a vector without empty ones (NULL: none). */
static gchar **
strv_from_array (const GValue *value)
{
  GPtrArray *strs = g_ptr_array_new ();

  for (guint i = 0; i < gst_value_array_get_size (value); i++) {
    const GValue *v = gst_value_array_get_value (value, i);
    const gchar *str = G_VALUE_HOLDS_STRING (v) ? g_value_get_string (v) : NULL;
    if (str && *str)
      g_ptr_array_add (strs, g_strdup (str));
  }
  if (strs->len == 0) {
    g_ptr_array_free (strs, TRUE);
    return NULL;
  }
  g_ptr_array_add (strs, NULL);
  return (gchar **)g_ptr_array_free (strs, FALSE);
}

static void
strv_to_array (gchar **strv, GValue *value)
{
  for (guint i = 0; strv && strv[i]; i++) {
    GValue v = G_VALUE_INIT;
    g_value_init (&v, G_TYPE_STRING);
    g_value_set_string (&v, strv[i]);
    gst_value_array_append_and_take_value (value, &v);
  }
}

static gpointer
field_of (GObject *object, GParamSpec *pspec)
{
  gsize at = GPOINTER_TO_SIZE (g_param_spec_get_qdata (pspec, field_quark));

  return at ? G_STRUCT_MEMBER_P (object, at - 1) : NULL;
}

static void
field_set_property (
    GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  GType type = G_PARAM_SPEC_VALUE_TYPE (pspec);
  gpointer field = field_of (object, pspec), old = NULL;
  gchar **strv = type == GST_TYPE_ARRAY ? strv_from_array (value) : NULL;
  GstHqRoomBinClass *klass = GST_HQ_ROOM_BIN_GET_CLASS (object);

  if (field == NULL) {
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    return;
  }
  GST_OBJECT_LOCK (object);
  if (type == G_TYPE_STRING) {
    old = *(gchar **)field;
    *(gchar **)field = g_value_dup_string (value);
  } else if (type == GST_TYPE_ARRAY) {
    old = *(gchar ***)field;
    *(gchar ***)field = strv;
  } else if (type == G_TYPE_UINT) {
    *(guint *)field = g_value_get_uint (value);
  } else if (type == G_TYPE_BOOLEAN) {
    *(gboolean *)field = g_value_get_boolean (value);
  } else if (G_TYPE_IS_ENUM (type)) {
    *(gint *)field = g_value_get_enum (value);
  }
  GST_OBJECT_UNLOCK (object);
  if (type == GST_TYPE_ARRAY)
    g_strfreev (old);
  else
    g_free (old);
  if (klass->property_changed)
    klass->property_changed (GST_HQ_ROOM_BIN (object), pspec);
}

static void
field_get_property (
    GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GType type = G_PARAM_SPEC_VALUE_TYPE (pspec);
  gpointer field = field_of (object, pspec);

  if (field == NULL) {
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    return;
  }
  GST_OBJECT_LOCK (object);
  if (type == G_TYPE_STRING)
    g_value_set_string (value, *(gchar **)field);
  else if (type == GST_TYPE_ARRAY)
    strv_to_array (*(gchar ***)field, value);
  else if (type == G_TYPE_UINT)
    g_value_set_uint (value, *(guint *)field);
  else if (type == G_TYPE_BOOLEAN)
    g_value_set_boolean (value, *(gboolean *)field);
  else if (G_TYPE_IS_ENUM (type))
    g_value_set_enum (value, *(gint *)field);
  GST_OBJECT_UNLOCK (object);
}

void
gst_hq_room_bin_class_install_field (
    GstHqRoomBinClass *klass, guint prop_id, gsize offset, GParamSpec *pspec)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  g_param_spec_set_qdata (pspec, field_quark, GSIZE_TO_POINTER (offset + 1));
  gobject_class->set_property = field_set_property;
  gobject_class->get_property = field_get_property;
  g_object_class_install_property (gobject_class, prop_id, pspec);
}

GstDebugCategory *
gst_hq_room_bin_class_add_debug (
    GstHqRoomBinClass *klass, const gchar *name, const gchar *description)
{
  GST_DEBUG_CATEGORY_INIT (klass->debug, name, 0, description);
  return klass->debug;
}

HqRoomClient *
gst_hq_room_bin_ref_client (GstHqRoomBin *self)
{
  GstHqRoomBinPrivate *priv = gst_hq_room_bin_get_instance_private (self);
  HqRoomClient *client;

  g_mutex_lock (&priv->conn.lock);
  client = priv->conn.client ? g_object_ref (priv->conn.client) : NULL;
  g_mutex_unlock (&priv->conn.lock);
  return client;
}

void
gst_hq_room_bin_invoke (
    GstHqRoomBin *self, GSourceFunc func, gpointer data, GDestroyNotify notify)
{
  GstHqRoomBinPrivate *priv = gst_hq_room_bin_get_instance_private (self);

  connection_invoke_full (&priv->conn, func, data, notify);
}

GstElement *
gst_hq_room_bin_get_rtpbin (GstHqRoomBin *self)
{
  GstHqRoomBinPrivate *priv = gst_hq_room_bin_get_instance_private (self);

  return priv->rtpbin;
}

gchar *
gst_hq_room_bin_dup_identity (GstHqRoomBin *self)
{
  GstHqRoomBinPrivate *priv = gst_hq_room_bin_get_instance_private (self);
  gchar *identity;

  GST_OBJECT_LOCK (self);
  identity = g_strdup (priv->settings.identity);
  GST_OBJECT_UNLOCK (self);
  return identity;
}

static void
send_chat_message (GstHqRoomBin *self, const gchar *body)
{
  HqRoomClient *client = gst_hq_room_bin_ref_client (self);

  if (client == NULL || body == NULL || *body == '\0') {
    GST_CAT_WARNING_OBJECT (element_category (self), self,
        "not sending chat: %s", client ? "empty body" : "not connected");
    g_clear_object (&client);
    return;
  }
  hq_room_client_send_chat (client, body);
  g_object_unref (client);
}

static GstStateChangeReturn
gst_hq_room_bin_change_state (GstElement *element, GstStateChange transition)
{
  GstHqRoomBin *self = GST_HQ_ROOM_BIN (element);
  GstHqRoomBinClass *klass = GST_HQ_ROOM_BIN_GET_CLASS (self);
  GstHqRoomBinPrivate *priv = gst_hq_room_bin_get_instance_private (self);
  GstStateChangeReturn ret;

  if (transition == GST_STATE_CHANGE_NULL_TO_READY && priv->rtpbin == NULL) {
    GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
        ("rtpbin (gst-plugins-good) is missing"), (NULL));
    return GST_STATE_CHANGE_FAILURE;
  }
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    GstHqRoomSettings s;
    gboolean ok;

    if (klass->starting)
      klass->starting (self);
    GST_OBJECT_LOCK (self);
    settings_copy (&s, &priv->settings);
    GST_OBJECT_UNLOCK (self);
    ok = connection_start (
        &priv->conn, element, &s, klass->subscribe, setup_client, self);
    settings_clear (&s);
    if (!ok)
      return GST_STATE_CHANGE_FAILURE;
  }
  if (transition == GST_STATE_CHANGE_PAUSED_TO_PLAYING) {
    g_autoptr (GError) failure = NULL;

    g_mutex_lock (&priv->conn.lock);
    if (priv->conn.failure)
      failure = g_error_copy (priv->conn.failure);
    g_mutex_unlock (&priv->conn.lock);
    /* An application may miss the error posted while it was still
     * setting PAUSED (gst-launch-1.0 does: its main loop was not running
     * yet to quit), so it hears it again here. */
    if (failure) {
      GST_CAT_ERROR_OBJECT (element_category (element), element,
          "not playing: the room client gave up: %s", failure->message);
      post_error (element, failure);
      return GST_STATE_CHANGE_FAILURE;
    }
  }
  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    connection_stop (&priv->conn);
    if (klass->stopped)
      klass->stopped (self);
  }
  return ret;
}

static void
gst_hq_room_bin_set_property (
    GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  GstHqRoomBin *self = GST_HQ_ROOM_BIN (object);
  GstHqRoomBinPrivate *priv = gst_hq_room_bin_get_instance_private (self);
  gboolean known;

  GST_OBJECT_LOCK (self);
  known = settings_set (&priv->settings, prop_id, value);
  GST_OBJECT_UNLOCK (self);
  if (!known)
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
gst_hq_room_bin_get_property (
    GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstHqRoomBin *self = GST_HQ_ROOM_BIN (object);
  GstHqRoomBinPrivate *priv = gst_hq_room_bin_get_instance_private (self);
  gboolean known;

  GST_OBJECT_LOCK (self);
  known = settings_get (&priv->settings, prop_id, value);
  GST_OBJECT_UNLOCK (self);
  if (!known)
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
gst_hq_room_bin_finalize (GObject *object)
{
  GstHqRoomBin *self = GST_HQ_ROOM_BIN (object);
  GstHqRoomBinPrivate *priv = gst_hq_room_bin_get_instance_private (self);

  connection_clear (&priv->conn);
  settings_clear (&priv->settings);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_hq_room_bin_init (GstHqRoomBin *self)
{
  GstHqRoomBinPrivate *priv = gst_hq_room_bin_get_instance_private (self);

  settings_init (&priv->settings);
  connection_init (&priv->conn);
  priv->rtpbin = gst_element_factory_make ("rtpbin", "rtpbin");
  if (priv->rtpbin) {
    /* AVPF: feedback (PLI, FIR, NACK) is sent and acted on at once. */
    gst_util_set_object_arg (G_OBJECT (priv->rtpbin), "rtp-profile", "avpf");
    gst_bin_add (GST_BIN (self), priv->rtpbin);
  }
}

static void
gst_hq_room_bin_class_init (GstHqRoomBinClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->set_property = gst_hq_room_bin_set_property;
  gobject_class->get_property = gst_hq_room_bin_get_property;
  gobject_class->finalize = gst_hq_room_bin_finalize;
  element_class->change_state = gst_hq_room_bin_change_state;

  settings_install (gobject_class);
  field_quark = g_quark_from_static_string ("gst-hq-room-bin-field");

  /**
   * GstHqRoomBin::send-chat-message:
   * @body: the message text
   *
   * Sends a chat message to the room; it comes back as an
   * `hq-chat-message` element message once the server stored it.
   */
  signals[SIGNAL_SEND_CHAT_MESSAGE] = g_signal_new_class_handler (
      "send-chat-message", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION, G_CALLBACK (send_chat_message), NULL,
      NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  gst_type_mark_as_plugin_api (GST_TYPE_HQ_ROOM_BIN, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_HQ_ROOM_TRACK_PRIORITY, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_HQ_ROOM_ICE_TRANSPORT_POLICY, 0);
}
