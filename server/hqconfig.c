/* Configuration loading; see hqconfig.h for the sources and their order. */
#include "hqconfig.h"
#include "hqlog.h"
#include "hqconfig-turn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include <hq/hqutil.h>

#define HQ_DEFAULT_LISTEN "127.0.0.1:8844"
#define HQ_DEFAULT_ROOM_TYPE "group"
#define HQ_DEFAULT_TOKEN_TTL (4 * 60 * 60)
#define HQ_MIN_SECRET_LEN 16
#define HQ_DEFAULT_TOKEN_MAX_ROOMS 20
#define HQ_PASSCODE_DIGITS 12

G_DEFINE_QUARK (hq - config - error - quark, hq_config_error);

void
hq_config_free (HqConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->data_dir);
  g_free (config->listen_host);
  g_free (config->account_sid);
  g_free (config->key_sid);
  if (config->key_secret)
    memset (config->key_secret, 0, strlen (config->key_secret));
  g_free (config->key_secret);
  g_free (config->auth_token);
  g_free (config->media_secret);
  hq_keyring_free (config->keyring);
  g_free (config->key_source);
  g_free (config->passcode);
  g_free (config->passcode_source);
  g_strfreev (config->token_open_rooms);
  g_free (config->token_create_rooms);
  g_free (config->metrics_token);
  g_free (config->oidc_issuer);
  g_free (config->oidc_audience);
  g_free (config->oidc_jwks_url);
  g_strfreev (config->oidc_allowed_emails);
  g_free (config->oidc_host_claim);
  g_free (config->oidc_host_value);
  g_free (config->media_public_address);
  g_free (config->web_dir);
  g_free (config->app_dir);
  g_free (config->tls_certificate);
  g_free (config->tls_key);
  g_free (config->room_type);
  g_strfreev (config->chat_media_types);
  g_free (config->at_rest_key_file);
  hq_at_rest_free (config->at_rest);
  if (config->turn_secret)
    memset (config->turn_secret, 0, strlen (config->turn_secret));
  g_free (config->turn_secret);
  g_strfreev (config->turn_urls);
  g_strfreev (config->stun_urls);
  g_free (config);
}

/* First non-empty environment variable of @names (NULL-terminated). */
static const gchar *
env_first (const gchar *const *names)
{
  for (; *names; names++) {
    const gchar *v = g_getenv (*names);
    if (v != NULL && *v != '\0')
      return v;
  }
  return NULL;
}

static gboolean
parse_listen (HqConfig *config, const gchar *listen, GError **error)
{
  const gchar *colon = strrchr (listen, ':');
  guint64 port;
  gchar *end = NULL;

  if (colon == NULL || colon == listen) {
    g_set_error (error, HQ_CONFIG_ERROR, HQ_CONFIG_ERROR_INVALID,
        "listen address \"%s\" is not HOST:PORT", listen);
    return FALSE;
  }
  port = g_ascii_strtoull (colon + 1, &end, 10);
  if (end == colon + 1 || *end != '\0' || port > 65535) {
    g_set_error (error, HQ_CONFIG_ERROR, HQ_CONFIG_ERROR_INVALID,
        "listen port in \"%s\" is not a number from 0 to 65535", listen);
    return FALSE;
  }
  g_free (config->listen_host);
  /* Accept [::1]:port for IPv6. */
  if (listen[0] == '[' && colon[-1] == ']')
    config->listen_host = g_strndup (listen + 1, colon - listen - 2);
  else
    config->listen_host = g_strndup (listen, colon - listen);
  config->listen_port = (guint)port;
  return TRUE;
}

static gboolean
parse_int (const gchar *what, const gchar *text, gint64 min, gint64 max,
    gint64 *out, GError **error)
{
  gchar *end = NULL;
  gint64 v = g_ascii_strtoll (text, &end, 10);

  if (end == text || *end != '\0' || v < min || v > max) {
    g_set_error (error, HQ_CONFIG_ERROR, HQ_CONFIG_ERROR_INVALID,
        "%s must be a whole number from %" G_GINT64_FORMAT
        " to %" G_GINT64_FORMAT ", not \"%s\"",
        what, min, max, text);
    return FALSE;
  }
  *out = v;
  return TRUE;
}

static gboolean
parse_room_type (HqConfig *config, const gchar *type, GError **error)
{
  static const gchar *const types[] = { "go", "peer-to-peer", "group-small",
    "group", NULL };

  if (!g_strv_contains (types, type)) {
    g_set_error (error, HQ_CONFIG_ERROR, HQ_CONFIG_ERROR_INVALID,
        "room type \"%s\" is not one of go, peer-to-peer, group-small, group",
        type);
    return FALSE;
  }
  g_free (config->room_type);
  config->room_type = g_strdup (type);
  return TRUE;
}

static void
set_key (HqConfig *config, const gchar *account, const gchar *sid,
    const gchar *secret, const gchar *source)
{
  g_free (config->account_sid);
  g_free (config->key_sid);
  g_free (config->key_secret);
  g_free (config->key_source);
  config->account_sid = g_strdup (account);
  config->key_sid = g_strdup (sid);
  config->key_secret = g_strdup (secret);
  config->key_source = g_strdup (source);
}

static gboolean
check_key (HqConfig *config, GError **error)
{
  if (config->key_sid == NULL || config->key_secret == NULL
      || config->account_sid == NULL) {
    g_set_error (error, HQ_CONFIG_ERROR, HQ_CONFIG_ERROR_INVALID,
        "the API key from %s is incomplete: it needs an account sid, a key "
        "sid and a key secret",
        config->key_source);
    return FALSE;
  }
  if (strlen (config->key_secret) < HQ_MIN_SECRET_LEN) {
    g_set_error (error, HQ_CONFIG_ERROR, HQ_CONFIG_ERROR_INVALID,
        "the API key secret from %s has %zu characters; use at least %d",
        config->key_source, strlen (config->key_secret), HQ_MIN_SECRET_LEN);
    return FALSE;
  }
  return TRUE;
}

/* Whole-number settings read from one section of the config file or from
 * the environment: config file key, environment variable, field, range. */
typedef struct
{
  const gchar *key, *env;
  gsize offset;
  gint64 min, max;
} IntSetting;

/* [limits]: 0 turns a limit off. */
static const IntSetting limit_settings[] = {
  { "request_timeout", "HQ_REQUEST_TIMEOUT",
      G_STRUCT_OFFSET (HqConfig, request_timeout), 0, 3600 },
  { "idle_timeout", "HQ_IDLE_TIMEOUT", G_STRUCT_OFFSET (HqConfig, idle_timeout),
      0, 3600 },
  { "join_timeout", "HQ_JOIN_TIMEOUT", G_STRUCT_OFFSET (HqConfig, join_timeout),
      0, 3600 },
  { "connections_per_ip", "HQ_CONNECTIONS_PER_IP",
      G_STRUCT_OFFSET (HqConfig, connections_per_ip), 0, 1000000 },
  { "token_rate", "HQ_TOKEN_RATE", G_STRUCT_OFFSET (HqConfig, token_rate), 0,
      1000000 },
  { "join_rate", "HQ_JOIN_RATE", G_STRUCT_OFFSET (HqConfig, join_rate), 0,
      1000000 },
  { "room_create_rate", "HQ_ROOM_CREATE_RATE",
      G_STRUCT_OFFSET (HqConfig, room_create_rate), 0, 1000000 },
};

/* [media]: the SFU's threads and UDP ports (0: the default). */
static const IntSetting media_settings[] = {
  { "workers", "HQ_MEDIA_WORKERS", G_STRUCT_OFFSET (HqConfig, media_workers), 0,
      256 },
  { "port_min", "HQ_MEDIA_PORT_MIN", G_STRUCT_OFFSET (HqConfig, media_port_min),
      0, 65535 },
  { "port_max", "HQ_MEDIA_PORT_MAX", G_STRUCT_OFFSET (HqConfig, media_port_max),
      0, 65535 },
  { "loudest_audio", "HQ_MEDIA_LOUDEST_AUDIO",
      G_STRUCT_OFFSET (HqConfig, media_loudest_audio), 0, 1000 },
  { "room_shards", "HQ_MEDIA_ROOM_SHARDS",
      G_STRUCT_OFFSET (HqConfig, media_room_shards), 0, 100000 },
};

/* [oidc]: string settings, config file key, environment variable, field. */
static const struct
{
  const gchar *key, *env;
  gsize offset;
} oidc_settings[] = {
  { "issuer", "HQ_OIDC_ISSUER", G_STRUCT_OFFSET (HqConfig, oidc_issuer) },
  { "audience", "HQ_OIDC_AUDIENCE", G_STRUCT_OFFSET (HqConfig, oidc_audience) },
  { "jwks_url", "HQ_OIDC_JWKS_URL", G_STRUCT_OFFSET (HqConfig, oidc_jwks_url) },
  { "host_claim", "HQ_OIDC_HOST_CLAIM",
      G_STRUCT_OFFSET (HqConfig, oidc_host_claim) },
  { "host_value", "HQ_OIDC_HOST_VALUE",
      G_STRUCT_OFFSET (HqConfig, oidc_host_value) },
};

/* Replaces *@field by the items of @list, a comma- or semicolon-separated
 * list (spaces around items and empty items dropped; "" gives none),
 * lower-cased with @lower (emails, content types; room names keep their
 * case). */
static void
set_list (gchar ***field, const gchar *list, gboolean lower)
{
  g_auto (GStrv) parts = g_strsplit_set (list, ",;", -1);
  GPtrArray *out = g_ptr_array_new ();

  for (gchar **p = parts; *p; p++) {
    g_strstrip (*p);
    if (**p)
      g_ptr_array_add (out, lower ? g_ascii_strdown (*p, -1) : g_strdup (*p));
  }
  g_ptr_array_add (out, NULL);
  g_strfreev (*field);
  *field = (gchar **)g_ptr_array_free (out, FALSE);
}

static const IntSetting oidc_int_settings[] = {
  { "refresh_min", "HQ_OIDC_REFRESH_MIN",
      G_STRUCT_OFFSET (HqConfig, oidc_refresh_min), 0, 3600 },
};

/* Reads [oidc] from @kf, or from the environment when @kf is NULL. */
static void
load_oidc (HqConfig *config, GKeyFile *kf)
{
  g_autofree gchar *emails = NULL;
  const gchar *v;

  for (gsize i = 0; i < G_N_ELEMENTS (oidc_settings); i++) {
    gchar **field = G_STRUCT_MEMBER_P (config, oidc_settings[i].offset);
    g_autofree gchar *text = NULL;
    if (kf) {
      text = g_key_file_get_string (kf, "oidc", oidc_settings[i].key, NULL);
      v = text;
    } else {
      v = g_getenv (oidc_settings[i].env);
    }
    if (v) {
      g_free (*field);
      *field = *v ? g_strdup (v) : NULL;
    }
  }
  if (kf)
    v = emails = g_key_file_get_string (kf, "oidc", "allowed_emails", NULL);
  else
    v = g_getenv ("HQ_OIDC_ALLOWED_EMAILS");
  if (v)
    set_list (&config->oidc_allowed_emails, v, TRUE);
}

/* An identity provider's URL: https, or http to this machine only (a
 * development provider; a token's keys must not cross a network in the
 * clear). */
static gboolean
provider_url_ok (const gchar *what, const gchar *url, GError **error)
{
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  const gchar *host = uri ? g_uri_get_host (uri) : NULL;

  if (uri && g_strcmp0 (g_uri_get_scheme (uri), "https") == 0 && host)
    return TRUE;
  if (uri && g_strcmp0 (g_uri_get_scheme (uri), "http") == 0 && host
      && (g_str_equal (host, "127.0.0.1") || g_str_equal (host, "::1")
          || g_str_equal (host, "localhost")))
    return TRUE;
  g_set_error (error, HQ_CONFIG_ERROR, HQ_CONFIG_ERROR_INVALID,
      "%s \"%s\" must be an https URL (http only to 127.0.0.1)", what, url);
  return FALSE;
}

static gboolean
check_oidc (HqConfig *config, GError **error)
{
  if (config->oidc_issuer == NULL && config->oidc_audience == NULL)
    return TRUE;
  if (config->oidc_issuer == NULL || config->oidc_audience == NULL) {
    g_set_error (error, HQ_CONFIG_ERROR, HQ_CONFIG_ERROR_INVALID,
        "oidc.issuer and oidc.audience must be given together");
    return FALSE;
  }
  if ((config->oidc_host_claim == NULL) != (config->oidc_host_value == NULL)) {
    g_set_error (error, HQ_CONFIG_ERROR, HQ_CONFIG_ERROR_INVALID,
        "oidc.host_claim and oidc.host_value must be given together");
    return FALSE;
  }
  return provider_url_ok ("oidc.issuer", config->oidc_issuer, error)
      && (config->oidc_jwks_url == NULL
          || provider_url_ok ("oidc.jwks_url", config->oidc_jwks_url, error));
}

/* Reads @n settings of @section from @kf, or from the environment when @kf
 * is NULL. */
static gboolean
load_ints (HqConfig *config, GKeyFile *kf, const gchar *section,
    const IntSetting *settings, gsize n, GError **error)
{
  for (gsize i = 0; i < n; i++) {
    gint64 *field = G_STRUCT_MEMBER_P (config, settings[i].offset);
    g_autofree gchar *what = NULL, *text = NULL;
    const gchar *v;

    if (kf) {
      text = g_key_file_get_string (kf, section, settings[i].key, NULL);
      v = text;
      what = g_strdup_printf ("%s.%s", section, settings[i].key);
    } else {
      v = g_getenv (settings[i].env);
      what = g_strdup (settings[i].env);
    }
    if (v && *v
        && !parse_int (what, v, settings[i].min, settings[i].max, field, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
load_sections (HqConfig *config, GKeyFile *kf, GError **error)
{
  load_oidc (config, kf);
  return hq_turn_load (config, kf, error)
      && load_ints (config, kf, "limits", limit_settings,
          G_N_ELEMENTS (limit_settings), error)
      && load_ints (config, kf, "media", media_settings,
          G_N_ELEMENTS (media_settings), error)
      && load_ints (config, kf, "oidc", oidc_int_settings,
          G_N_ELEMENTS (oidc_int_settings), error);
}

/* What no single setting can say: run after every source is read. */
static gboolean
check_media (HqConfig *config, GError **error)
{
  gint64 lo = config->media_port_min, hi = config->media_port_max;

  if (lo == 0 && hi == 0)
    return TRUE;
  if (lo == 0 || hi == 0 || lo > hi || lo < 1024) {
    g_set_error (error, HQ_CONFIG_ERROR, HQ_CONFIG_ERROR_INVALID,
        "media.port_min and media.port_max must be given together, from "
        "1024 up, with port_min <= port_max (have %" G_GINT64_FORMAT
        " and %" G_GINT64_FORMAT ")",
        lo, hi);
    return FALSE;
  }
  return TRUE;
}

/* --- chat attachments --- */

#define HQ_DEFAULT_CHAT_MEDIA_TYPES                                            \
  "application/pdf,image/jpeg,image/png,image/gif,image/webp,text/plain"

gboolean
hq_config_chat_media_type_ok (HqConfig *config, const gchar *type)
{
  g_autofree gchar *bare = NULL;
  gchar *semi;

  if (type == NULL)
    return FALSE;
  bare = g_ascii_strdown (type, -1);
  if ((semi = strchr (bare, ';')))
    *semi = '\0';
  g_strstrip (bare);
  for (gchar **p = config->chat_media_types; p && *p; p++)
    if (g_pattern_match_simple (*p, bare))
      return TRUE;
  return FALSE;
}

/* [chat] from @kf, or the environment when @kf is NULL. */
static gboolean
load_chat (HqConfig *config, GKeyFile *kf, GError **error)
{
  g_autofree gchar *size = NULL, *types = NULL, *ttl = NULL;
  const gchar *v;

  if (kf) {
    size = g_key_file_get_string (kf, "chat", "media_max_size", NULL);
    types = g_key_file_get_string (kf, "chat", "media_types", NULL);
    ttl = g_key_file_get_string (kf, "chat", "media_url_ttl", NULL);
  } else {
    size = g_strdup (g_getenv ("HQ_CHAT_MEDIA_MAX_SIZE"));
    types = g_strdup (g_getenv ("HQ_CHAT_MEDIA_TYPES"));
    ttl = g_strdup (g_getenv ("HQ_CHAT_MEDIA_URL_TTL"));
  }
  if (size && *size
      && !parse_int (kf ? "chat.media_max_size" : "HQ_CHAT_MEDIA_MAX_SIZE",
          size, 0, G_GINT64_CONSTANT (1) << 30, &config->chat_media_max_size,
          error))
    return FALSE;
  if (ttl && *ttl
      && !parse_int (kf ? "chat.media_url_ttl" : "HQ_CHAT_MEDIA_URL_TTL", ttl,
          1, 24 * 3600, &config->chat_media_url_ttl, error))
    return FALSE;
  if ((v = types))
    set_list (&config->chat_media_types, v, TRUE);
  return TRUE;
}

/* [at-rest] from @kf, or the environment when @kf is NULL: where the
 * operator keys are and whether they are required.  The keys themselves
 * are read once everything is loaded (load_at_rest_keys). */
static gboolean
load_at_rest (HqConfig *config, GKeyFile *kf, GError **error)
{
  g_autofree gchar *file = NULL, *required = NULL;

  if (kf) {
    file = g_key_file_get_string (kf, "at-rest", "key_file", NULL);
    required = g_key_file_get_string (kf, "at-rest", "required", NULL);
  } else {
    file = g_strdup (g_getenv ("HQ_AT_REST_KEY_FILE"));
    required = g_strdup (g_getenv ("HQ_AT_REST_REQUIRED"));
  }
  if (file) {
    g_free (config->at_rest_key_file);
    config->at_rest_key_file = *file ? g_steal_pointer (&file) : NULL;
  }
  if (required && *required) {
    if (g_ascii_strcasecmp (required, "true") == 0)
      config->at_rest_required = TRUE;
    else if (g_ascii_strcasecmp (required, "false") == 0)
      config->at_rest_required = FALSE;
    else {
      g_set_error (error, HQ_CONFIG_ERROR, HQ_CONFIG_ERROR_INVALID,
          "%s must be true or false",
          kf ? "at-rest.required" : "HQ_AT_REST_REQUIRED");
      return FALSE;
    }
  }
  return TRUE;
}

/* The operator keys: $HQ_AT_REST_KEYS (the keys themselves, for
 * deployments that pass secrets in the environment), else the key file. */
static gboolean
load_at_rest_keys (HqConfig *config, GError **error)
{
  const gchar *text = g_getenv ("HQ_AT_REST_KEYS");
  HqSealKeys *keys = NULL;

  if (text && *text)
    keys = hq_seal_keys_parse (text, "HQ_AT_REST_KEYS", error);
  else if (config->at_rest_key_file)
    keys = hq_seal_keys_load_file (config->at_rest_key_file, error);
  else if (config->at_rest_required) {
    g_set_error (error, HQ_CONFIG_ERROR, HQ_CONFIG_ERROR_INVALID,
        "[at-rest] required is true but no operator key is configured: set "
        "[at-rest] key_file (or HQ_AT_REST_KEY_FILE, HQ_AT_REST_KEYS); see "
        "docs/at-rest.md");
    return FALSE;
  }
  if ((text && *text) || config->at_rest_key_file) {
    if (keys == NULL)
      return FALSE;
  }
  config->at_rest = hq_at_rest_new (keys);
  return TRUE;
}

/* --- TLS --- */

/* [server] tls_certificate, tls_key and tls (or HQ_TLS_*), each NULL when
 * not given; an empty value unsets.  Files are kept as absolute paths:
 * SIGHUP reads them again. */
static gboolean
set_tls (HqConfig *config, const gchar *cert, const gchar *key,
    const gchar *mode, const gchar *mode_name, GError **error)
{
  if (cert) {
    g_free (config->tls_certificate);
    config->tls_certificate =
        *cert ? g_canonicalize_filename (cert, NULL) : NULL;
  }
  if (key) {
    g_free (config->tls_key);
    config->tls_key = *key ? g_canonicalize_filename (key, NULL) : NULL;
  }
  if (mode == NULL)
    return TRUE;
  if (*mode == '\0' || g_str_equal (mode, "files"))
    config->tls_dev = FALSE;
  else if (g_str_equal (mode, "dev"))
    config->tls_dev = TRUE;
  else {
    g_set_error (error, HQ_CONFIG_ERROR, HQ_CONFIG_ERROR_INVALID,
        "%s must be \"dev\" (a self-signed development certificate) or "
        "\"files\" (tls_certificate and tls_key), not \"%s\"",
        mode_name, mode);
    return FALSE;
  }
  return TRUE;
}

/* What the TLS settings mean together: run after every source is read. */
static gboolean
check_tls (HqConfig *config, GError **error)
{
  if (config->tls_dev && (config->tls_certificate || config->tls_key)) {
    g_set_error (error, HQ_CONFIG_ERROR, HQ_CONFIG_ERROR_INVALID,
        "tls=dev makes its own certificate: remove tls_certificate and "
        "tls_key, or tls=dev");
    return FALSE;
  }
  if ((config->tls_certificate == NULL) != (config->tls_key == NULL)) {
    g_set_error (error, HQ_CONFIG_ERROR, HQ_CONFIG_ERROR_INVALID,
        "tls_certificate and tls_key must be given together (have only %s)",
        config->tls_certificate ? "tls_certificate" : "tls_key");
    return FALSE;
  }
  return TRUE;
}

/* --- POST /token access --- */

static void
set_passcode (HqConfig *config, const gchar *passcode, const gchar *source)
{
  g_free (config->passcode);
  g_free (config->passcode_source);
  /* An empty passcode turns the passcode off (nothing matches it). */
  config->passcode = *passcode ? g_strdup (passcode) : NULL;
  config->passcode_source = g_strdup (source);
}

/* "" (or "none") lets /token create no rooms. */
static void
set_create_rooms (HqConfig *config, const gchar *pattern)
{
  g_autofree gchar *p = g_strstrip (g_strdup (pattern));

  g_free (config->token_create_rooms);
  config->token_create_rooms =
      (*p == '\0' || g_str_equal (p, "none")) ? NULL : g_steal_pointer (&p);
}

gboolean
hq_config_token_room_open (HqConfig *config, const gchar *name)
{
  for (gchar **p = config->token_open_rooms; p && *p; p++)
    if (g_pattern_match_simple (*p, name))
      return TRUE;
  return FALSE;
}

void
hq_config_open_token_room (HqConfig *config, const gchar *name)
{
  gsize n =
      config->token_open_rooms ? g_strv_length (config->token_open_rooms) : 0;
  config->token_open_rooms = g_renew (gchar *, config->token_open_rooms, n + 2);
  config->token_open_rooms[n] = g_strdup (name);
  config->token_open_rooms[n + 1] = NULL;
}

/* Reads [server], [api-key], [token] and [limits] from a config file. */
static gboolean
load_file (HqConfig *config, const gchar *path, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree gchar *listen = NULL, *account = NULL, *sid = NULL;
  g_autofree gchar *secret = NULL, *passcode = NULL, *type = NULL;
  g_autofree gchar *ttl = NULL, *expires = NULL, *source = NULL;
  g_autofree gchar *pub = NULL, *open_rooms = NULL, *create_rooms = NULL;
  g_autofree gchar *max_rooms = NULL, *token = NULL, *metrics = NULL;
  g_autofree gchar *app = NULL, *drain = NULL, *tls_cert = NULL;
  g_autofree gchar *tls_key = NULL, *tls_mode = NULL;
  GStatBuf st;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, error)) {
    g_prefix_error (error, "config file %s: ", path);
    return FALSE;
  }
  listen = g_key_file_get_string (kf, "server", "listen", NULL);
  if (listen && !parse_listen (config, listen, error))
    goto bad;
  app = g_key_file_get_string (kf, "server", "app_dir", NULL);
  if (app) {
    g_free (config->app_dir);
    config->app_dir = *app ? g_steal_pointer (&app) : NULL;
  }
  drain = g_key_file_get_string (kf, "server", "drain_timeout", NULL);
  if (drain
      && !parse_int ("server.drain_timeout", drain, 0, 24 * 3600,
          &config->drain_timeout_s, error))
    goto bad;
  tls_cert = g_key_file_get_string (kf, "server", "tls_certificate", NULL);
  tls_key = g_key_file_get_string (kf, "server", "tls_key", NULL);
  tls_mode = g_key_file_get_string (kf, "server", "tls", NULL);
  if (!set_tls (config, tls_cert, tls_key, tls_mode, "server.tls", error))
    goto bad;

  account = g_key_file_get_string (kf, "api-key", "account_sid", NULL);
  sid = g_key_file_get_string (kf, "api-key", "key_sid", NULL);
  secret = g_key_file_get_string (kf, "api-key", "key_secret", NULL);
  if (account || sid || secret) {
    source = g_strdup_printf ("config file %s", path);
    set_key (config, account, sid, secret, source);
    if (!check_key (config, error))
      return FALSE;
    if (g_stat (path, &st) == 0 && (st.st_mode & 077) != 0)
      hq_log_message (HQ_LOG_WARN, "config",
          "%s holds an API key secret but is readable by others; "
          "chmod 600 it",
          path);
  }

  token = g_key_file_get_string (kf, "api-key", "auth_token", NULL);
  if (token) {
    g_free (config->auth_token);
    config->auth_token = g_steal_pointer (&token);
  }
  metrics = g_key_file_get_string (kf, "metrics", "token", NULL);
  if (metrics) {
    g_free (config->metrics_token);
    config->metrics_token = *metrics ? g_steal_pointer (&metrics) : NULL;
    if (config->metrics_token && g_stat (path, &st) == 0
        && (st.st_mode & 077) != 0)
      hq_log_message (HQ_LOG_WARN, "config",
          "%s holds the metrics token but is readable by others; chmod 600 "
          "it",
          path);
  }
  pub = g_key_file_get_string (kf, "media", "public_address", NULL);
  if (pub) {
    g_free (config->media_public_address);
    config->media_public_address = g_steal_pointer (&pub);
  }
  passcode = g_key_file_get_string (kf, "token", "passcode", NULL);
  if (passcode) {
    g_autofree gchar *from = g_strdup_printf ("config file %s", path);
    set_passcode (config, passcode, from);
  }
  open_rooms = g_key_file_get_string (kf, "token", "open_rooms", NULL);
  if (open_rooms)
    set_list (&config->token_open_rooms, open_rooms, FALSE);
  create_rooms = g_key_file_get_string (kf, "token", "create_rooms", NULL);
  if (create_rooms)
    set_create_rooms (config, create_rooms);
  max_rooms = g_key_file_get_string (kf, "token", "max_rooms", NULL);
  if (max_rooms
      && !parse_int ("token.max_rooms", max_rooms, 0, 100000,
          &config->token_max_rooms, error))
    goto bad;
  expires = g_key_file_get_string (kf, "token", "passcode_expires", NULL);
  if (expires
      && !parse_int ("token.passcode_expires", expires, 0, G_MAXINT64,
          &config->passcode_expires, error))
    goto bad;
  type = g_key_file_get_string (kf, "token", "room_type", NULL);
  if (type && !parse_room_type (config, type, error))
    goto bad;
  ttl = g_key_file_get_string (kf, "token", "ttl", NULL);
  if (ttl
      && !parse_int ("token.ttl", ttl, 1, HQ_TOKEN_MAX_LIFETIME,
          &config->token_ttl, error))
    goto bad;
  if (!load_sections (config, kf, error) || !load_chat (config, kf, error)
      || !load_at_rest (config, kf, error))
    goto bad;
  return TRUE;

bad:
  g_prefix_error (error, "config file %s: ", path);
  return FALSE;
}

/* Room timing knobs, milliseconds, from the environment only: they exist
 * for tests and tuning, not for everyday configuration. */
static const struct
{
  const gchar *name;
  gsize offset;
} timing_env[] = {
  { "HQ_TIMEOUT_MINUTE_MS", G_STRUCT_OFFSET (HqConfig, minute_ms) },
  { "HQ_RECONNECT_GRACE_MS", G_STRUCT_OFFSET (HqConfig, reconnect_grace_ms) },
  { "HQ_KEEPALIVE_TIMEOUT_MS",
      G_STRUCT_OFFSET (HqConfig, keepalive_timeout_ms) },
  { "HQ_CALLBACK_RETRY_MS", G_STRUCT_OFFSET (HqConfig, callback_retry_ms) },
};

static gboolean
load_env (HqConfig *config, GError **error)
{
  static const gchar *const account_names[] = { "HQ_ACCOUNT_SID",
    "TWILIO_ACCOUNT_SID", NULL };
  static const gchar *const sid_names[] = { "HQ_API_KEY_SID",
    "TWILIO_API_KEY_SID", "TWILIO_API_KEY", NULL };
  static const gchar *const secret_names[] = { "HQ_API_KEY_SECRET",
    "TWILIO_API_KEY_SECRET", "TWILIO_API_SECRET", NULL };
  const gchar *account = env_first (account_names);
  const gchar *sid = env_first (sid_names);
  const gchar *secret = env_first (secret_names);
  const gchar *v;

  if ((v = g_getenv ("HQ_LISTEN")) && !parse_listen (config, v, error))
    goto bad;
  if (sid || secret) {
    /* An account sid is only a label in tokens: when the environment gives
     * a key but no account, keep the configured one. */
    set_key (config, account ? account : config->account_sid, sid, secret,
        "the environment");
    if (!check_key (config, error))
      return FALSE;
  }
  if (((v = g_getenv ("HQ_AUTH_TOKEN")) && *v)
      || ((v = g_getenv ("TWILIO_AUTH_TOKEN")) && *v)) {
    g_free (config->auth_token);
    config->auth_token = g_strdup (v);
  }
  if ((v = g_getenv ("HQ_WEB_DIR")) && *v) {
    g_free (config->web_dir);
    config->web_dir = g_strdup (v);
  }
  if ((v = g_getenv ("HQ_METRICS_TOKEN"))) {
    g_free (config->metrics_token);
    config->metrics_token = *v ? g_strdup (v) : NULL;
  }
  if (!set_tls (config, g_getenv ("HQ_TLS_CERTIFICATE"),
          g_getenv ("HQ_TLS_KEY"), g_getenv ("HQ_TLS"), "HQ_TLS", error))
    goto bad;
  if ((v = g_getenv ("HQ_APP_DIR")) && *v) {
    g_free (config->app_dir);
    config->app_dir = g_strdup (v);
  }
  if ((v = g_getenv ("HQ_PUBLIC_ADDRESS")) && *v) {
    g_free (config->media_public_address);
    config->media_public_address = g_strdup (v);
  }
  if ((v = g_getenv ("HQ_PASSCODE")) && *v)
    set_passcode (config, v, "the environment (HQ_PASSCODE)");
  if ((v = g_getenv ("HQ_TOKEN_OPEN_ROOMS")))
    set_list (&config->token_open_rooms, v, FALSE);
  if ((v = g_getenv ("HQ_TOKEN_CREATE_ROOMS")))
    set_create_rooms (config, v);
  if ((v = g_getenv ("HQ_TOKEN_MAX_ROOMS")) && *v
      && !parse_int (
          "HQ_TOKEN_MAX_ROOMS", v, 0, 100000, &config->token_max_rooms, error))
    goto bad;
  if ((v = g_getenv ("HQ_DRAIN_TIMEOUT")) && *v
      && !parse_int (
          "HQ_DRAIN_TIMEOUT", v, 0, 24 * 3600, &config->drain_timeout_s, error))
    goto bad;
  if ((v = g_getenv ("HQ_ROOM_TYPE")) && *v
      && !parse_room_type (config, v, error))
    goto bad;
  for (gsize i = 0; i < G_N_ELEMENTS (timing_env); i++) {
    gint64 *field = G_STRUCT_MEMBER_P (config, timing_env[i].offset);
    if ((v = g_getenv (timing_env[i].name)) && *v
        && !parse_int (
            timing_env[i].name, v, 1, 24 * 3600 * 1000, field, error))
      goto bad;
  }
  if (!load_chat (config, NULL, error) || !load_at_rest (config, NULL, error))
    goto bad;
  if (!load_sections (config, NULL, error))
    goto bad;
  return TRUE;

bad:
  g_prefix_error (error, "environment: ");
  return FALSE;
}

static gboolean
ensure_private_dir (const gchar *dir, GError **error)
{
  if (g_mkdir_with_parents (dir, 0700) != 0) {
    int err = errno;
    g_set_error (error, HQ_CONFIG_ERROR, HQ_CONFIG_ERROR_IO,
        "cannot create data directory %s: %s", dir, g_strerror (err));
    return FALSE;
  }
  return TRUE;
}

/* The group of credentials.conf holding the auth tokens made for
 * configured keys, by account sid. */
#define HQ_AUTH_TOKENS_GROUP "auth-tokens"

/* An auth token as Twilio's look: 32 hex digits (a sid without prefix). */
static gchar *
auth_token_new (void)
{
  return hq_sid_new ("");
}

/* A passcode a person can read out and type: digits only. */
static gchar *
passcode_new (void)
{
  gchar *code = g_malloc (HQ_PASSCODE_DIGITS + 1);

  for (guint i = 0; i < HQ_PASSCODE_DIGITS; i++) {
    guint8 b;
    /* Rejection sampling keeps every digit equally likely. */
    do
      hq_random_bytes (&b, 1);
    while (b >= 250);
    code[i] = '0' + b % 10;
  }
  code[HQ_PASSCODE_DIGITS] = '\0';
  return code;
}

/* <data dir>/credentials.conf holds what the server generates for itself
 * on first start: the development API key (with its account's auth token)
 * when none is configured, and the passcode of POST /token when none is
 * configured.  Each is made once
 * and kept; the file is mode 0600 in a 0700 directory. */
static gboolean
load_credentials (HqConfig *config, gboolean create, GError **error)
{
  g_autofree gchar *path =
      g_build_filename (config->data_dir, "credentials.conf", NULL);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree gchar *data = NULL, *source = NULL;
  gboolean need_key = config->key_sid == NULL;
  gboolean need_passcode = config->passcode_source == NULL;
  /* A configured key whose account has no configured auth token. */
  gboolean need_token = !need_key && config->auth_token == NULL;
  gboolean changed = FALSE;
  GError *local = NULL;

  if (!need_key && !need_passcode && !need_token)
    return TRUE;
  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_KEEP_COMMENTS, &local)) {
    if (!g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
      g_propagate_prefixed_error (error, local, "%s: ", path);
      return FALSE;
    }
    g_clear_error (&local);
    g_key_file_set_comment (kf, NULL, NULL,
        " hq-server's generated secrets, created on first start.\n"
        " Keep them secret: the API key mints access tokens, the passcode\n"
        " gets guest tokens from POST /token.",
        NULL);
  }

  if (need_key && g_key_file_has_group (kf, "api-key")) {
    g_autofree gchar *account =
        g_key_file_get_string (kf, "api-key", "account_sid", NULL);
    g_autofree gchar *sid =
        g_key_file_get_string (kf, "api-key", "key_sid", NULL);
    g_autofree gchar *secret =
        g_key_file_get_string (kf, "api-key", "key_secret", NULL);
    source = g_strdup_printf ("the development key in %s", path);
    set_key (config, account, sid, secret, source);
    if (!check_key (config, error))
      return FALSE;
    if (config->auth_token == NULL)
      config->auth_token =
          g_key_file_get_string (kf, "api-key", "auth_token", NULL);
    /* A development key file from before auth tokens gets one. */
    if (config->auth_token == NULL && create) {
      config->auth_token = auth_token_new ();
      g_key_file_set_string (kf, "api-key", "auth_token", config->auth_token);
      changed = TRUE;
    }
  } else if (need_key) {
    g_autofree gchar *account = hq_sid_new ("AC");
    g_autofree gchar *sid = hq_sid_new ("SK");
    g_autofree gchar *secret = hq_secret_new (32);
    g_autofree gchar *token = auth_token_new ();
    if (!create) {
      g_set_error (error, HQ_CONFIG_ERROR, HQ_CONFIG_ERROR_NO_KEY,
          "no API key is configured: set HQ_API_KEY_SID and "
          "HQ_API_KEY_SECRET, write an [api-key] section in a config file, "
          "or start hq-server once to create a development key in %s",
          path);
      return FALSE;
    }
    g_key_file_set_string (kf, "api-key", "account_sid", account);
    g_key_file_set_string (kf, "api-key", "key_sid", sid);
    g_key_file_set_string (kf, "api-key", "key_secret", secret);
    g_key_file_set_string (kf, "api-key", "auth_token", token);
    if (config->auth_token == NULL)
      config->auth_token = g_steal_pointer (&token);
    source = g_strdup_printf ("the development key in %s", path);
    set_key (config, account, sid, secret, source);
    config->key_generated = TRUE;
    changed = TRUE;
  }

  /* Every account signs its callbacks: a configured key without an auth
   * token gets one made here, once, and kept under [auth-tokens] by its
   * account sid (setting one as docs/configuration.md says replaces it). */
  if (need_token) {
    config->auth_token = g_key_file_get_string (
        kf, HQ_AUTH_TOKENS_GROUP, config->account_sid, NULL);
    if (config->auth_token == NULL && create) {
      config->auth_token = auth_token_new ();
      g_key_file_set_string (
          kf, HQ_AUTH_TOKENS_GROUP, config->account_sid, config->auth_token);
      hq_log_message (HQ_LOG_INFO, "config",
          "account %s has no auth token configured: status callbacks are "
          "signed (X-Twilio-Signature) with the one made for it in %s, "
          "[%s] %s; set HQ_AUTH_TOKEN or [api-key] auth_token to use your "
          "own",
          config->account_sid, path, HQ_AUTH_TOKENS_GROUP, config->account_sid);
      changed = TRUE;
    }
  }

  if (need_passcode) {
    g_autofree gchar *passcode =
        g_key_file_get_string (kf, "token", "passcode", NULL);
    g_autofree gchar *from = g_strdup_printf ("%s", path);
    if (passcode == NULL && create) {
      passcode = passcode_new ();
      g_key_file_set_string (kf, "token", "passcode", passcode);
      config->passcode_generated = TRUE;
      changed = TRUE;
    }
    if (passcode)
      set_passcode (config, passcode, from);
  }

  if (!changed)
    return TRUE;
  data = g_key_file_to_data (kf, NULL, NULL);
  /* Create with 0600 from the start: never a moment when others can read. */
  if (!g_file_set_contents_full (
          path, data, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error)) {
    g_prefix_error (error, "cannot store the generated credentials: ");
    return FALSE;
  }
  return TRUE;
}

/* The app folder ([server] app_dir, HQ_APP_DIR) must be a folder with an
 * index.html; kept as its canonical path, which every file served must be
 * under (server/hqapp.c). */
static gboolean
check_app_dir (HqConfig *config, GError **error)
{
  g_autofree gchar *real = realpath (config->app_dir, NULL);
  g_autofree gchar *index = NULL;

  if (real == NULL || !g_file_test (real, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, HQ_CONFIG_ERROR, HQ_CONFIG_ERROR_INVALID,
        "app_dir (HQ_APP_DIR): \"%s\" is not a folder (%s)", config->app_dir,
        real == NULL ? g_strerror (errno) : "not a directory");
    return FALSE;
  }
  index = g_build_filename (real, "index.html", NULL);
  if (!g_file_test (index, G_FILE_TEST_IS_REGULAR)) {
    g_set_error (error, HQ_CONFIG_ERROR, HQ_CONFIG_ERROR_INVALID,
        "app_dir (HQ_APP_DIR): \"%s\" has no index.html; name the app's "
        "build folder (the one with its index.html)",
        config->app_dir);
    return FALSE;
  }
  g_free (config->app_dir);
  config->app_dir = g_steal_pointer (&real);
  return TRUE;
}

HqConfig *
hq_config_load (const gchar *data_dir, const gchar *config_file,
    const gchar *listen, gboolean create_key, GError **error)
{
  g_autoptr (HqConfig) config = g_new0 (HqConfig, 1);
  g_autofree gchar *default_conf = NULL;
  const gchar *file = config_file;

  if (data_dir == NULL)
    data_dir = g_getenv ("HQ_DATA_DIR");
  if (data_dir != NULL && *data_dir != '\0')
    config->data_dir = g_canonicalize_filename (data_dir, NULL);
  else
    config->data_dir =
        g_build_filename (g_get_user_data_dir (), "hqrooms", NULL);
  config->room_type = g_strdup (HQ_DEFAULT_ROOM_TYPE);
  /* NULL: the copy compiled into hq-server (-Dweb_dir names a folder). */
  config->web_dir = *HQ_WEB_DIR_DEFAULT ? g_strdup (HQ_WEB_DIR_DEFAULT) : NULL;
  config->token_ttl = HQ_DEFAULT_TOKEN_TTL;
  config->token_create_rooms = g_strdup ("*");
  config->token_max_rooms = HQ_DEFAULT_TOKEN_MAX_ROOMS;
  config->minute_ms = 60 * 1000;
  config->reconnect_grace_ms = 30 * 1000;
  config->keepalive_timeout_ms = 60 * 1000;
  config->callback_retry_ms = 1000;
  config->request_timeout = 20;
  config->idle_timeout = 60;
  config->join_timeout = 10;
  config->connections_per_ip = 256;
  config->token_rate = 30;
  config->join_rate = 300;
  config->room_create_rate = 10;
  config->oidc_refresh_min = 60;
  config->chat_media_max_size = 10 * 1024 * 1024;
  config->chat_media_url_ttl = 300;
  config->media_ice_tcp = TRUE;
  config->media_loudest_audio = 3;
  config->turn_ttl = 24 * 3600;
  set_list (&config->chat_media_types, HQ_DEFAULT_CHAT_MEDIA_TYPES, TRUE);
  if (!parse_listen (config, HQ_DEFAULT_LISTEN, error))
    return NULL;
  if (!ensure_private_dir (config->data_dir, error))
    return NULL;

  if (file == NULL)
    file = g_getenv ("HQ_CONFIG");
  if (file == NULL || *file == '\0') {
    default_conf = g_build_filename (config->data_dir, "hq-server.conf", NULL);
    file = g_file_test (default_conf, G_FILE_TEST_EXISTS) ? default_conf : NULL;
  }
  if (file != NULL && !load_file (config, file, error))
    return NULL;
  if (!load_env (config, error))
    return NULL;
  if (listen != NULL && !parse_listen (config, listen, error))
    return NULL;
  if (!check_media (config, error) || !check_oidc (config, error)
      || !hq_turn_check (config, error) || !check_tls (config, error))
    return NULL;
  if (!load_credentials (config, create_key, error))
    return NULL;
  if (config->app_dir != NULL && !check_app_dir (config, error))
    return NULL;
  if (!load_at_rest_keys (config, error))
    return NULL;

  config->media_secret = hq_secret_new (32);
  config->keyring = hq_keyring_new ();
  hq_keyring_add (config->keyring, config->key_sid, config->key_secret,
      config->account_sid);
  return g_steal_pointer (&config);
}
