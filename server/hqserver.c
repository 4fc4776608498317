/* hq-server's HTTP front: one SoupServer on the main context, routes to the
 * endpoint files.  Connections come in through hqlisten.c (timeouts, the
 * per-address cap, surviving a lack of descriptors), not libsoup's own
 * listener.  See hqserver.h. */
#include "hqserver.h"
#include "hqchatmedia.h"
#include "hqapp.h"
#include "hqhttp.h"
#include "hqinvites.h"
#include "hqlisten.h"
#include "hqlog.h"
#include "hqmetrics.h"
#include "hqratelimit.h"
#include "hqroom.h"
#include "hqroomsapi.h"
#include "hqrecordings.h"
#include "hqrecordingsapi.h"
#include "hqsignal.h"
#include "hqtokenapi.h"
#include "hqtls.h"
#include "hq-web-resources.h"

#include <string.h>
#include <libsoup/soup.h>
#include <hq/hqutil.h>

#define HQ_LISTEN_BACKLOG 512

struct _HqServer
{
  HqConfig *config;
  SoupServer *soup;
  gchar *url;
  HqRooms *rooms;
  HqRecordings *recordings;
  HqRoomsApi rooms_api;
  HqRecordingsApi *recordings_api;
  HqSignal *signal;
  HqListener *listener;
  HqRateLimits *limits;
  HqTls *tls; /* NULL: plain http */
};

/* Browsers remember for a year to come back over https only
 * (RFC 6797); sent on https responses only, where they take it. */
#define HQ_HSTS "max-age=31536000"

/* The web client's policy (docs/tls.md): its own scripts, styles, images
 * and fonts, nothing inline, no eval, no plugins, no framing; media from
 * cameras and its own blobs; connections to its own origin only ('self'
 * covers the same origin's ws: and wss: in CSP Level 3). */
#define HQ_WEB_CSP                                                             \
  "default-src 'none'; script-src 'self'; style-src 'self'; "                  \
  "img-src 'self'; font-src 'self'; connect-src 'self'; "                      \
  "media-src 'self' blob: mediastream:; manifest-src 'self'; "                 \
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; "              \
  "object-src 'none'"

static void
handle_healthz (SoupServer *soup, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer user_data)
{
  static const gchar *const methods[] = { "GET", "HEAD", NULL };
  HqServer *server = user_data;
  gboolean draining = hq_rooms_is_draining (server->rooms);
  JsonObject *reply;

  if (!hq_http_exact_path (msg, path, "/healthz")
      || !hq_http_allow_methods (msg, methods))
    return;
  /* While draining a load balancer should send no one new here. */
  reply = json_object_new ();
  json_object_set_string_member (reply, "status", draining ? "draining" : "ok");
  json_object_set_string_member (reply, "version", HQ_VERSION);
  hq_http_reply_object (msg, draining ? 503 : 200, reply);
}

/* GET /metrics, Prometheus' text format (docs/metrics.md): only with the
 * configured bearer token; without one, metrics are off. */
static void
handle_metrics (SoupServer *soup, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer user_data)
{
  static const gchar *const methods[] = { "GET", "HEAD", NULL };
  HqServer *server = user_data;
  const gchar *token = server->config->metrics_token;
  const gchar *auth;
  GString *out;

  if (!hq_http_exact_path (msg, path, "/metrics")
      || !hq_http_allow_methods (msg, methods))
    return;
  if (token == NULL) {
    hq_http_reply_error (msg, 404, "Metrics are turned off",
        "Set [metrics] token in the config file (or HQ_METRICS_TOKEN) and "
        "send it as \"Authorization: Bearer <token>\".");
    return;
  }
  auth = soup_message_headers_get_one (
      soup_server_message_get_request_headers (msg), "Authorization");
  if (auth == NULL || g_ascii_strncasecmp (auth, "Bearer ", 7) != 0
      || !hq_str_equal_const_time (auth + 7, token)) {
    soup_message_headers_replace (
        soup_server_message_get_response_headers (msg), "WWW-Authenticate",
        "Bearer realm=\"hq-server metrics\"");
    hq_http_reply_error (msg, 401,
        auth ? "Wrong metrics token" : "The metrics token is missing",
        "Send the configured [metrics] token as \"Authorization: Bearer "
        "<token>\".");
    return;
  }
  out = g_string_new (NULL);
  hq_rooms_metrics (server->rooms, out);
  hq_metrics_render (out);
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg,
      "text/plain; version=0.0.4; charset=utf-8", SOUP_MEMORY_TAKE, out->str,
      out->len);
  g_string_free (out, FALSE);
}

/* @file (a path relative to web/) from the folder @web_dir, or with none
 * from the copy compiled into hq-server (hq-web.gresource.xml, where the
 * source tree's paths are kept under /org/hqrooms); NULL if it is not
 * there. */
static GBytes *
web_file (const gchar *web_dir, const gchar *file)
{
  g_autofree gchar *path = NULL;
  gchar *data = NULL;
  gsize len = 0;

  if (web_dir == NULL) {
    g_autofree gchar *tree = g_canonicalize_filename (file, "/web");
    path = g_strconcat ("/org/hqrooms", tree, NULL);
    return g_resource_lookup_data (
        hq_web_get_resource (), path, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  }
  path = g_build_filename (web_dir, file, NULL);
  if (!g_file_get_contents (path, &data, &len, NULL))
    return NULL;
  return g_bytes_new_take (data, len);
}

/* The web client (web/): a fixed list of files, so no path from a request
 * ever reaches the file system.  Anything else is a 404.  With an app
 * folder configured (app_dir), the app stands in place of the web client:
 * only the SDK's files are served from the list, everything else by
 * hqapp.c. */
static void
handle_static (SoupServer *soup, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer user_data)
{
#define JS "text/javascript; charset=utf-8"
  static const struct
  {
    const gchar *path, *file, *type;
  } files[] = {
    { "/", "index.html", "text/html; charset=utf-8" },
    { "/index.html", "index.html", "text/html; charset=utf-8" },
    { "/app.js", "app.js", JS },
    { "/call.js", "call.js", JS },
    { "/chat.js", "chat.js", JS },
    { "/i18n.js", "i18n.js", JS },
    { "/icons.js", "icons.js", JS },
    { "/media.js", "media.js", JS },
    { "/recording.js", "recording.js", JS },
    { "/e2ee.js", "e2ee.js", JS },
    /* Invite links, the waiting room, the clinician's tools. */
    { "/invite.js", "invite.js", JS },
    { "/waiting.js", "waiting.js", JS },
    { "/host.js", "host.js", JS },
    { "/style.css", "style.css", "text/css; charset=utf-8" },
    { "/favicon.svg", "favicon.svg", "image/svg+xml" },
    { "/favicon.ico", "favicon.svg", "image/svg+xml" },
    /* The browser SDK (docs/sdk.md), from sdk/js/video next to web/. */
    { "/sdk/video.js", "../sdk/js/video/index.js", JS },
#define HQ_SDK_LIB(name) { "/sdk/lib/" name, "../sdk/js/video/lib/" name, JS }
    HQ_SDK_LIB ("connect.js"),
    HQ_SDK_LIB ("e2ee.js"),
    HQ_SDK_LIB ("emitter.js"),
    HQ_SDK_LIB ("errors.js"),
    HQ_SDK_LIB ("log.js"),
    HQ_SDK_LIB ("media.js"),
    HQ_SDK_LIB ("p2p.js"),
    HQ_SDK_LIB ("participants.js"),
    HQ_SDK_LIB ("room.js"),
    HQ_SDK_LIB ("signal.js"),
    HQ_SDK_LIB ("tracks.js"),
#undef HQ_SDK_LIB
    /* @hqrooms/conversations (docs/conversations.md), from
     * sdk/js/conversations. */
    { "/sdk/conversations.js", "../sdk/js/conversations/index.js", JS },
  };
  static const gchar *const methods[] = { "GET", "HEAD", NULL };
  HqServer *server = user_data;
  SoupMessageHeaders *headers;
  g_autoptr (GBytes) body = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (files); i++) {
    if (strcmp (path, files[i].path) != 0)
      continue;
    if (server->config->app_dir != NULL
        && !g_str_has_prefix (files[i].path, "/sdk/"))
      break;
    if (!hq_http_allow_methods (msg, methods))
      return;
    body = web_file (server->config->web_dir, files[i].file);
    if (body == NULL) {
      hq_http_reply_error (msg, 500, "web client missing",
          "The web client files are not where HQ_WEB_DIR says.");
      return;
    }
    headers = soup_server_message_get_response_headers (msg);
    soup_message_headers_replace (headers, "Cache-Control", "no-cache");
    soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
    soup_message_headers_replace (
        headers, "Content-Security-Policy", HQ_WEB_CSP);
    soup_server_message_set_status (msg, 200, NULL);
    soup_server_message_set_response (msg, files[i].type, SOUP_MEMORY_COPY,
        g_bytes_get_data (body, NULL), g_bytes_get_size (body));
    return;
  }
  if (server->config->app_dir != NULL)
    hq_app_serve (msg, server->config->app_dir, path);
  else
    hq_http_reply_not_found (msg, path);
#undef JS
}

static GSocketAddress *
listen_address (HqConfig *config, GError **error)
{
  g_autoptr (GInetAddress) addr = NULL;

  if (g_strcmp0 (config->listen_host, "localhost") == 0)
    addr = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  else
    addr = g_inet_address_new_from_string (config->listen_host);
  if (addr == NULL) {
    g_set_error (error, HQ_CONFIG_ERROR, HQ_CONFIG_ERROR_INVALID,
        "listen host \"%s\" is not an IP address", config->listen_host);
    return NULL;
  }
  return g_inet_socket_address_new (addr, config->listen_port);
}

/* A listening socket, with a listen backlog for a room's worth of
 * participants reconnecting at once (GLib's default of 10 drops their
 * connection attempts, which then wait a second to retry). */
static GSocket *
listen_on (GSocketAddress *addr, GError **error)
{
  g_autoptr (GSocket) sock = g_socket_new (g_socket_address_get_family (addr),
      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);

  if (sock == NULL)
    return NULL;
  g_socket_set_listen_backlog (sock, HQ_LISTEN_BACKLOG);
  if (!g_socket_bind (sock, addr, TRUE, error)
      || !g_socket_listen (sock, error))
    return NULL;
  return g_steal_pointer (&sock);
}

/* Every https response says to come back over https only. */
static void
add_hsts (SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
      "Strict-Transport-Security", HQ_HSTS);
}

/* "http://HOST:PORT" (https with @tls) for the address @sock is bound
 * to. */
static gchar *
socket_url (GSocket *sock, gboolean tls)
{
  const gchar *scheme = tls ? "https" : "http";
  g_autoptr (GSocketAddress) local = g_socket_get_local_address (sock, NULL);
  g_autofree gchar *host = NULL;
  GInetSocketAddress *inet;

  if (!G_IS_INET_SOCKET_ADDRESS (local))
    return NULL;
  inet = G_INET_SOCKET_ADDRESS (local);
  host = g_inet_address_to_string (g_inet_socket_address_get_address (inet));
  if (strchr (host, ':') != NULL)
    return g_strdup_printf (
        "%s://[%s]:%u", scheme, host, g_inet_socket_address_get_port (inet));
  return g_strdup_printf (
      "%s://%s:%u", scheme, host, g_inet_socket_address_get_port (inet));
}

HqServer *
hq_server_new (HqConfig *config, GError **error)
{
  g_autoptr (HqServer) server = g_new0 (HqServer, 1);
  g_autoptr (GSocketAddress) addr = NULL;
  g_autoptr (GSocket) sock = NULL;
  HqStore *store;

  server->config = config;
  /* A certificate that cannot serve stops the start before anything
   * else is opened. */
  if (config->tls_certificate != NULL || config->tls_dev) {
    server->tls = hq_tls_new (config, error);
    if (server->tls == NULL)
      return NULL;
  }
  store = hq_store_open (config->data_dir, error);
  if (store == NULL)
    return NULL;
  server->rooms = hq_rooms_new (config, store, error);
  if (server->rooms == NULL)
    return NULL;
  /* Media a stopped or crashed server left clear (recordings settled
   * just now included) is sealed in the background (docs/at-rest.md). */
  hq_at_rest_log_state (config->at_rest);
  hq_at_rest_sweep (config->at_rest, store, config->data_dir, FALSE, NULL);
  server->rooms_api.config = config;
  server->recordings = hq_recordings_new (server->rooms);
  server->rooms_api.rooms = server->rooms;
  server->rooms_api.recordings = server->recordings;
  server->soup =
      soup_server_new ("server-header", "hq-server/" HQ_VERSION, NULL);
  /* permessage-deflate would let a 1 MiB frame inflate to gigabytes
   * before any limit saw it; signalling messages are small anyway. */
  soup_server_remove_websocket_extension (
      server->soup, SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE);
  server->limits = hq_rate_limits_new (config);
  hq_http_setup (server->soup);
  if (server->tls != NULL)
    g_signal_connect (
        server->soup, "request-started", G_CALLBACK (add_hsts), NULL);
  soup_server_add_handler (server->soup, NULL, handle_static, server, NULL);
  soup_server_add_handler (
      server->soup, "/healthz", handle_healthz, server, NULL);
  soup_server_add_handler (
      server->soup, "/metrics", handle_metrics, server, NULL);
  hq_token_api_register (server->soup, config, server->rooms, server->limits);
  hq_rooms_api_register (server->soup, &server->rooms_api);
  hq_invites_api_register (server->soup, config, server->rooms);
  hq_chat_media_register (server->soup, config, server->rooms);
  server->recordings_api =
      hq_recordings_api_new (config, server->rooms, server->soup);
  server->signal =
      hq_signal_new (server->soup, config, server->rooms, server->limits);

  addr = listen_address (config, error);
  if (addr == NULL)
    return NULL;
  sock = listen_on (addr, error);
  if (sock == NULL) {
    g_prefix_error (error, "cannot listen on %s:%u: ", config->listen_host,
        config->listen_port);
    return NULL;
  }
  server->listener =
      hq_listener_new (server->soup, sock, config, server->tls, error);
  if (server->listener == NULL)
    return NULL;
  server->url = socket_url (sock, server->tls != NULL);
  hq_recordings_set_url (server->recordings, server->url,
      server->tls ? hq_tls_get_certificate_path (server->tls) : NULL);
  return g_steal_pointer (&server);
}

void
hq_server_free (HqServer *server)
{
  if (server == NULL)
    return;
  /* No more requests; then the rooms let go of their participants'
   * connections, which the signalling side closes and frees. */
  if (server->signal)
    hq_signal_stop (server->signal);
  if (server->listener)
    hq_listener_stop (server->listener);
  if (server->soup)
    soup_server_disconnect (server->soup);
  hq_recordings_api_free (server->recordings_api);
  /* Recorders finish their files and settle their rows once nobody is
   * connected, and before the store closes; the rooms stay in progress. */
  if (server->rooms)
    hq_rooms_close_connections (server->rooms);
  hq_recordings_free (server->recordings);
  hq_rooms_free (server->rooms);
  hq_signal_free (server->signal);
  hq_listener_free (server->listener);
  g_clear_object (&server->soup);
  hq_rate_limits_free (server->limits);
  hq_tls_free (server->tls);
  hq_config_free (server->config);
  g_free (server->url);
  g_free (server);
}

const gchar *
hq_server_get_url (HqServer *server)
{
  return server->url;
}

HqConfig *
hq_server_get_config (HqServer *server)
{
  return server->config;
}

HqRooms *
hq_server_get_rooms (HqServer *server)
{
  return server->rooms;
}

SoupServer *
hq_server_get_soup (HqServer *server)
{
  return server->soup;
}

HqTls *
hq_server_get_tls (HqServer *server)
{
  return server->tls;
}
