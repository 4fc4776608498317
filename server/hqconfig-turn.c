/* Reading the [turn] settings and [media] ice_tcp into HqConfig; see
 * hqconfig-turn.h.  Part of the configuration, so that reading the
 * settings does not depend on hqturn.c, which uses them. */
#include "hqconfig-turn.h"

#include <string.h>
#include <hq/hqice.h>

#define HQ_TURN_MIN_TTL 60
#define HQ_TURN_MAX_TTL (7 * 24 * 3600)

/* Replaces *@field by the comma-separated URLs of @list, each checked to
 * be a URL of one of the schemes in @schemes ("turn:, turns:"). */
static gboolean
set_urls (gchar ***field, const gchar *what, const gchar *list, gboolean turn,
    GError **error)
{
  g_auto (GStrv) parts = g_strsplit (list, ",", -1);
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);

  for (gchar **p = parts; *p; p++) {
    g_autoptr (HqIceServer) s = NULL;
    gboolean is_turn;
    g_strstrip (*p);
    if (**p == '\0')
      continue;
    s = hq_ice_server_parse (*p, error);
    if (s == NULL) {
      g_prefix_error (error, "%s: ", what);
      return FALSE;
    }
    is_turn = s->scheme == HQ_ICE_URL_TURN || s->scheme == HQ_ICE_URL_TURNS;
    if (is_turn != turn) {
      g_set_error (error, HQ_CONFIG_ERROR, HQ_CONFIG_ERROR_INVALID,
          "%s: \"%s\" is not a %s URL", what, *p,
          turn ? "turn: or turns:" : "stun: or stuns:");
      return FALSE;
    }
    g_ptr_array_add (out, g_strdup (*p));
  }
  g_ptr_array_add (out, NULL);
  g_strfreev (*field);
  *field = (gchar **)g_ptr_array_free (g_steal_pointer (&out), FALSE);
  if (**field == NULL)
    g_clear_pointer (field, g_strfreev);
  return TRUE;
}

static gboolean
parse_bool (const gchar *what, const gchar *text, gboolean *out, GError **error)
{
  static const gchar *const yes[] = { "true", "yes", "on", "1", NULL };
  static const gchar *const no[] = { "false", "no", "off", "0", NULL };
  g_autofree gchar *v = g_ascii_strdown (text, -1);

  g_strstrip (v);
  if (g_strv_contains (yes, v))
    *out = TRUE;
  else if (g_strv_contains (no, v))
    *out = FALSE;
  else {
    g_set_error (error, HQ_CONFIG_ERROR, HQ_CONFIG_ERROR_INVALID,
        "%s must be true or false, not \"%s\"", what, text);
    return FALSE;
  }
  return TRUE;
}

gboolean
hq_turn_load (HqConfig *config, GKeyFile *kf, GError **error)
{
  g_autofree gchar *secret = NULL, *urls = NULL, *stun = NULL;
  g_autofree gchar *ttl = NULL, *tcp = NULL;

  if (kf) {
    secret = g_key_file_get_string (kf, "turn", "secret", NULL);
    urls = g_key_file_get_string (kf, "turn", "urls", NULL);
    stun = g_key_file_get_string (kf, "turn", "stun_urls", NULL);
    ttl = g_key_file_get_string (kf, "turn", "ttl", NULL);
    tcp = g_key_file_get_string (kf, "media", "ice_tcp", NULL);
  } else {
    secret = g_strdup (g_getenv ("HQ_TURN_SECRET"));
    urls = g_strdup (g_getenv ("HQ_TURN_URLS"));
    stun = g_strdup (g_getenv ("HQ_STUN_URLS"));
    ttl = g_strdup (g_getenv ("HQ_TURN_TTL"));
    tcp = g_strdup (g_getenv ("HQ_MEDIA_ICE_TCP"));
  }
  if (secret) {
    if (config->turn_secret)
      memset (config->turn_secret, 0, strlen (config->turn_secret));
    g_free (config->turn_secret);
    config->turn_secret = *secret ? g_steal_pointer (&secret) : NULL;
  }
  if (urls
      && !set_urls (&config->turn_urls, kf ? "turn.urls" : "HQ_TURN_URLS", urls,
          TRUE, error))
    return FALSE;
  if (stun
      && !set_urls (&config->stun_urls, kf ? "turn.stun_urls" : "HQ_STUN_URLS",
          stun, FALSE, error))
    return FALSE;
  if (ttl && *ttl) {
    g_autoptr (GError) local = NULL;
    gint64 v;
    if (!g_ascii_string_to_signed (g_strstrip (ttl), 10, HQ_TURN_MIN_TTL,
            HQ_TURN_MAX_TTL, &v, &local)) {
      g_set_error (error, HQ_CONFIG_ERROR, HQ_CONFIG_ERROR_INVALID,
          "%s must be a whole number of seconds from %d to %d, not \"%s\"",
          kf ? "turn.ttl" : "HQ_TURN_TTL", HQ_TURN_MIN_TTL, HQ_TURN_MAX_TTL,
          ttl);
      return FALSE;
    }
    config->turn_ttl = v;
  }
  if (tcp && *tcp
      && !parse_bool (kf ? "media.ice_tcp" : "HQ_MEDIA_ICE_TCP", tcp,
          &config->media_ice_tcp, error))
    return FALSE;
  return TRUE;
}

gboolean
hq_turn_check (HqConfig *config, GError **error)
{
  if ((config->turn_urls != NULL) != (config->turn_secret != NULL)) {
    g_set_error (error, HQ_CONFIG_ERROR, HQ_CONFIG_ERROR_INVALID,
        config->turn_urls
            ? "turn.urls is set but turn.secret is not: hq-server needs the "
              "TURN server's shared secret (coturn's static-auth-secret) to "
              "make credentials"
            : "turn.secret is set but turn.urls is not: name the TURN "
              "server's turn: (and turns:) URLs");
    return FALSE;
  }
  return TRUE;
}
