/* ICE server URLs and TURN REST API credentials; see hqice.h. */
#include "hqice.h"
#include "hqdebug.h"
#include "hqsrtp.h"

#include <string.h>

#define GST_CAT_DEFAULT hq_transport_debug

void
hq_ice_server_free (HqIceServer *server)
{
  if (server == NULL)
    return;
  g_free (server->host);
  g_free (server->username);
  if (server->credential)
    memset (server->credential, 0, strlen (server->credential));
  g_free (server->credential);
  g_free (server);
}

static gboolean
bad_url (GError **error, const gchar *url, const gchar *why)
{
  g_set_error (error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_INVALID_ARGUMENT,
      "ICE server URL \"%.200s\" %s", url, why);
  return FALSE;
}

static gboolean
parse_scheme (const gchar *url, HqIceServer *s, const gchar **rest)
{
  static const struct
  {
    const gchar *prefix;
    HqIceUrlScheme scheme;
    guint port;
    gboolean tcp;
  } schemes[] = {
    { "stun:", HQ_ICE_URL_STUN, 3478, FALSE },
    { "stuns:", HQ_ICE_URL_STUNS, 5349, TRUE },
    { "turn:", HQ_ICE_URL_TURN, 3478, FALSE },
    { "turns:", HQ_ICE_URL_TURNS, 5349, TRUE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (schemes); i++) {
    if (g_ascii_strncasecmp (url, schemes[i].prefix, strlen (schemes[i].prefix))
        == 0) {
      s->scheme = schemes[i].scheme;
      s->port = schemes[i].port;
      s->tcp = schemes[i].tcp;
      *rest = url + strlen (schemes[i].prefix);
      return TRUE;
    }
  }
  return FALSE;
}

/* "?transport=udp|tcp" (RFC 7065; only on turn:, and turns: only tcp). */
static gboolean
parse_query (
    const gchar *url, const gchar *query, HqIceServer *s, GError **error)
{
  if (query == NULL)
    return TRUE;
  if (s->scheme == HQ_ICE_URL_STUN || s->scheme == HQ_ICE_URL_STUNS)
    return bad_url (error, url, "has a query, which stun: URLs may not have");
  if (g_ascii_strcasecmp (query, "transport=udp") == 0
      && s->scheme == HQ_ICE_URL_TURN)
    s->tcp = FALSE;
  else if (g_ascii_strcasecmp (query, "transport=tcp") == 0)
    s->tcp = TRUE;
  else
    return bad_url (error, url,
        "has a query other than ?transport=udp or ?transport=tcp "
        "(turns: is TCP only)");
  return TRUE;
}

static gboolean
parse_port (const gchar *url, const gchar *text, HqIceServer *s, GError **error)
{
  gchar *end = NULL;
  guint64 port = g_ascii_strtoull (text, &end, 10);

  if (end == text || *end != '\0' || port == 0 || port > 65535)
    return bad_url (error, url,
        "has a port that is not a number from 1 to "
        "65535");
  s->port = (guint)port;
  return TRUE;
}

HqIceServer *
hq_ice_server_parse (const gchar *url, GError **error)
{
  g_autoptr (HqIceServer) s = g_new0 (HqIceServer, 1);
  g_autofree gchar *authority = NULL;
  const gchar *rest, *query;
  gchar *port = NULL;

  if (url == NULL || !parse_scheme (url, s, &rest)) {
    bad_url (error, url ? url : "(none)",
        "does not start with stun:, stuns:, turn: or turns:");
    return NULL;
  }
  query = strchr (rest, '?');
  authority = query ? g_strndup (rest, query - rest) : g_strdup (rest);
  if (!parse_query (url, query ? query + 1 : NULL, s, error))
    return NULL;
  if (authority[0] == '[') {
    gchar *close = strchr (authority, ']');
    if (close == NULL || (close[1] != '\0' && close[1] != ':')) {
      bad_url (error, url, "has an IPv6 address without its closing ]");
      return NULL;
    }
    *close = '\0';
    if (close[1] == ':')
      port = close + 2;
    s->host = g_strdup (authority + 1);
  } else {
    port = strrchr (authority, ':');
    if (port)
      *port++ = '\0';
    s->host = g_strdup (authority);
  }
  if (s->host[0] == '\0' || strpbrk (s->host, "/@ ") != NULL) {
    bad_url (error, url, "has no host name or address (scheme:host:port)");
    return NULL;
  }
  if (port && !parse_port (url, port, s, error))
    return NULL;
  return g_steal_pointer (&s);
}

static const gchar *
string_member (JsonObject *o, const gchar *name)
{
  JsonNode *n = json_object_get_member (o, name);

  return n && JSON_NODE_HOLDS_VALUE (n)
          && json_node_get_value_type (n) == G_TYPE_STRING
      ? json_node_get_string (n)
      : NULL;
}

static void
add_url (GPtrArray *out, const gchar *url, JsonObject *server)
{
  g_autoptr (GError) error = NULL;
  HqIceServer *s = hq_ice_server_parse (url, &error);

  if (s == NULL) {
    GST_WARNING ("ICE server left out: %s", error->message);
    return;
  }
  s->username = g_strdup (string_member (server, "username"));
  s->credential = g_strdup (string_member (server, "credential"));
  g_ptr_array_add (out, s);
}

GPtrArray *
hq_ice_servers_from_json (JsonArray *servers)
{
  GPtrArray *out =
      g_ptr_array_new_with_free_func ((GDestroyNotify)hq_ice_server_free);

  for (guint i = 0; servers && i < json_array_get_length (servers); i++) {
    JsonNode *n = json_array_get_element (servers, i);
    JsonObject *server;
    JsonNode *urls;

    if (!JSON_NODE_HOLDS_OBJECT (n))
      continue;
    server = json_node_get_object (n);
    urls = json_object_get_member (server, "urls");
    if (urls && JSON_NODE_HOLDS_ARRAY (urls)) {
      JsonArray *list = json_node_get_array (urls);
      for (guint j = 0; j < json_array_get_length (list); j++) {
        JsonNode *u = json_array_get_element (list, j);
        if (JSON_NODE_HOLDS_VALUE (u)
            && json_node_get_value_type (u) == G_TYPE_STRING)
          add_url (out, json_node_get_string (u), server);
      }
    } else if (string_member (server, "urls")) {
      add_url (out, string_member (server, "urls"), server);
    }
  }
  return out;
}

gchar *
hq_turn_rest_credential (const gchar *secret, const gchar *username)
{
  g_autoptr (GHmac) hmac =
      g_hmac_new (G_CHECKSUM_SHA1, (const guchar *)secret, strlen (secret));
  guint8 digest[20];
  gsize len = sizeof digest;

  g_hmac_update (hmac, (const guchar *)username, -1);
  g_hmac_get_digest (hmac, digest, &len);
  return g_base64_encode (digest, len);
}
