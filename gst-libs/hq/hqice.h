/* ICE servers: the STUN and TURN servers a transport gathers candidates
 * with, as hq-server hands them to each participant (docs/protocol.md,
 * "ICE servers") in the JSON form of WebRTC's RTCIceServer:
 * {"urls": [...], "username": "...", "credential": "..."}.
 *
 * URLs are RFC 7064 (stun:, stuns:) and RFC 7065 (turn:, turns:) URIs,
 * scheme:host[:port][?transport=udp|tcp].  TURN credentials follow the
 * TURN REST API scheme that coturn checks with use-auth-secret: the
 * username is "<expiry unix time>:<identity>" and the credential
 * base64(HMAC-SHA1(shared secret, username)), so the TURN server needs no
 * user database and a credential stops working when it expires. */
#ifndef __HQ_ICE_H__
#define __HQ_ICE_H__

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum
{
  HQ_ICE_URL_STUN,
  HQ_ICE_URL_STUNS,
  HQ_ICE_URL_TURN,
  HQ_ICE_URL_TURNS,
} HqIceUrlScheme;

/**
 * HqIceServer:
 * @scheme: stun, stuns, turn or turns
 * @host: host name or IP address (IPv6 without brackets)
 * @port: the URL's port, else 3478 (5349 for stuns and turns)
 * @tcp: reached over TCP (transport=tcp, and always for stuns and turns)
 * @username, @credential: TURN credentials, or NULL
 *
 * One URL of an ICE server, with its credentials.
 */
typedef struct
{
  HqIceUrlScheme scheme;
  gchar *host;
  guint port;
  gboolean tcp;
  gchar *username;
  gchar *credential;
} HqIceServer;

void hq_ice_server_free (HqIceServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HqIceServer, hq_ice_server_free)

/* Parses one STUN or TURN URL; fails with HQ_TRANSPORT_ERROR_INVALID_ARGUMENT
 * and a message that names the URL and what is wrong with it. */
HqIceServer *hq_ice_server_parse (const gchar *url, GError **error);

/* The usable URLs of @servers, a JSON array of RTCIceServer objects
 * ("urls" a string or an array of strings), each with its object's
 * credentials; URLs that cannot be parsed are left out and logged.
 * Returns (element-type HqIceServer) a new array, maybe empty. */
GPtrArray *hq_ice_servers_from_json (JsonArray *servers);

/* The TURN REST API credential of @username: base64(HMAC-SHA1(@secret,
 * @username)).  Free with g_free(). */
gchar *hq_turn_rest_credential (const gchar *secret, const gchar *username);

G_END_DECLS

#endif /* __HQ_ICE_H__ */
