/* Configuration loading; see hqconfig.h for the sources and their order. */
#include "hqconfig.h"
#include "hqlog.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include <hq/hqutil.h>

#define HQ_DEFAULT_LISTEN "127.0.0.1:8844"
#define HQ_DEFAULT_ROOM_TYPE "group"
#define HQ_DEFAULT_TOKEN_TTL (4 * 60 * 60)
#define HQ_MIN_SECRET_LEN 16

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
  g_free (config->media_public_address);
  g_free (config->web_dir);
  g_free (config->room_type);
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

/* The [limits] settings: config file key, environment variable, field,
 * largest value.  All are whole numbers from 0 (0: no limit). */
static const struct
{
  const gchar *key, *env;
  gsize offset;
  gint64 max;
} limit_settings[] = {
  { "request_timeout", "HQ_REQUEST_TIMEOUT",
      G_STRUCT_OFFSET (HqConfig, request_timeout), 3600 },
  { "idle_timeout", "HQ_IDLE_TIMEOUT", G_STRUCT_OFFSET (HqConfig, idle_timeout),
      3600 },
  { "join_timeout", "HQ_JOIN_TIMEOUT", G_STRUCT_OFFSET (HqConfig, join_timeout),
      3600 },
  { "connections_per_ip", "HQ_CONNECTIONS_PER_IP",
      G_STRUCT_OFFSET (HqConfig, connections_per_ip), 1000000 },
  { "token_rate", "HQ_TOKEN_RATE", G_STRUCT_OFFSET (HqConfig, token_rate),
      1000000 },
  { "join_rate", "HQ_JOIN_RATE", G_STRUCT_OFFSET (HqConfig, join_rate),
      1000000 },
  { "room_create_rate", "HQ_ROOM_CREATE_RATE",
      G_STRUCT_OFFSET (HqConfig, room_create_rate), 1000000 },
};

/* Reads the [limits] settings from @kf, or from the environment when @kf
 * is NULL. */
static gboolean
load_limits (HqConfig *config, GKeyFile *kf, GError **error)
{
  for (gsize i = 0; i < G_N_ELEMENTS (limit_settings); i++) {
    gint64 *field = G_STRUCT_MEMBER_P (config, limit_settings[i].offset);
    g_autofree gchar *what = NULL, *text = NULL;
    const gchar *v;

    if (kf) {
      text = g_key_file_get_string (kf, "limits", limit_settings[i].key, NULL);
      v = text;
      what = g_strdup_printf ("limits.%s", limit_settings[i].key);
    } else {
      v = g_getenv (limit_settings[i].env);
      what = g_strdup (limit_settings[i].env);
    }
    if (v && *v && !parse_int (what, v, 0, limit_settings[i].max, field, error))
      return FALSE;
  }
  return TRUE;
}

/* Reads [server], [api-key], [token] and [limits] from a config file. */
static gboolean
load_file (HqConfig *config, const gchar *path, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree gchar *listen = NULL, *account = NULL, *sid = NULL;
  g_autofree gchar *secret = NULL, *passcode = NULL, *type = NULL;
  g_autofree gchar *ttl = NULL, *expires = NULL, *source = NULL;
  g_autofree gchar *pub = NULL, *token = NULL;
  GStatBuf st;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, error)) {
    g_prefix_error (error, "config file %s: ", path);
    return FALSE;
  }
  listen = g_key_file_get_string (kf, "server", "listen", NULL);
  if (listen && !parse_listen (config, listen, error))
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
  pub = g_key_file_get_string (kf, "media", "public_address", NULL);
  if (pub) {
    g_free (config->media_public_address);
    config->media_public_address = g_steal_pointer (&pub);
  }
  passcode = g_key_file_get_string (kf, "token", "passcode", NULL);
  if (passcode) {
    g_free (config->passcode);
    config->passcode = g_steal_pointer (&passcode);
  }
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
  if (!load_limits (config, kf, error))
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
  if ((v = g_getenv ("HQ_PUBLIC_ADDRESS")) && *v) {
    g_free (config->media_public_address);
    config->media_public_address = g_strdup (v);
  }
  if ((v = g_getenv ("HQ_PASSCODE")) && *v) {
    g_free (config->passcode);
    config->passcode = g_strdup (v);
  }
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
  if (!load_limits (config, NULL, error))
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

/* An auth token as Twilio's look: 32 hex digits (a sid without prefix). */
static gchar *
auth_token_new (void)
{
  return hq_sid_new ("");
}

/* A development key file from before auth tokens gets one. */
static gboolean
add_auth_token (
    HqConfig *config, GKeyFile *kf, const gchar *path, GError **error)
{
  g_autofree gchar *data = NULL;

  config->auth_token = auth_token_new ();
  g_key_file_set_string (kf, "api-key", "auth_token", config->auth_token);
  data = g_key_file_to_data (kf, NULL, NULL);
  if (!g_file_set_contents_full (
          path, data, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error)) {
    g_prefix_error (error, "cannot store the auth token: ");
    return FALSE;
  }
  return TRUE;
}

/* Loads the generated development key, making it on first start. */
static gboolean
load_or_create_dev_key (HqConfig *config, gboolean create, GError **error)
{
  g_autofree gchar *path =
      g_build_filename (config->data_dir, "credentials.conf", NULL);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree gchar *account = NULL, *sid = NULL, *secret = NULL;
  g_autofree gchar *data = NULL, *source = NULL, *token = NULL;
  GError *local = NULL;

  source = g_strdup_printf ("the development key in %s", path);
  if (g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &local)) {
    account = g_key_file_get_string (kf, "api-key", "account_sid", NULL);
    sid = g_key_file_get_string (kf, "api-key", "key_sid", NULL);
    secret = g_key_file_get_string (kf, "api-key", "key_secret", NULL);
    set_key (config, account, sid, secret, source);
    if (!check_key (config, error))
      return FALSE;
    if (config->auth_token == NULL)
      config->auth_token =
          g_key_file_get_string (kf, "api-key", "auth_token", NULL);
    return config->auth_token != NULL
        || add_auth_token (config, kf, path, error);
  }
  if (!g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
    g_propagate_prefixed_error (error, local, "%s: ", path);
    return FALSE;
  }
  g_clear_error (&local);
  if (!create) {
    g_set_error (error, HQ_CONFIG_ERROR, HQ_CONFIG_ERROR_NO_KEY,
        "no API key is configured: set HQ_API_KEY_SID and HQ_API_KEY_SECRET, "
        "write an [api-key] section in a config file, or start hq-server "
        "once to create a development key in %s",
        path);
    return FALSE;
  }

  account = hq_sid_new ("AC");
  sid = hq_sid_new ("SK");
  secret = hq_secret_new (32);
  token = auth_token_new ();
  g_key_file_set_comment (kf, NULL, NULL,
      " hq-server development API key, created on first start.\n"
      " Keep it secret: anyone holding it can mint access tokens.",
      NULL);
  g_key_file_set_string (kf, "api-key", "account_sid", account);
  g_key_file_set_string (kf, "api-key", "key_sid", sid);
  g_key_file_set_string (kf, "api-key", "key_secret", secret);
  g_key_file_set_string (kf, "api-key", "auth_token", token);
  data = g_key_file_to_data (kf, NULL, NULL);
  /* Create with 0600 from the start: never a moment when others can read. */
  if (!g_file_set_contents_full (
          path, data, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error)) {
    g_prefix_error (error, "cannot store the development key: ");
    return FALSE;
  }
  set_key (config, account, sid, secret, source);
  if (config->auth_token == NULL)
    config->auth_token = g_steal_pointer (&token);
  config->key_generated = TRUE;
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
  config->web_dir = g_strdup (HQ_WEB_DIR_DEFAULT);
  config->token_ttl = HQ_DEFAULT_TOKEN_TTL;
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
  if (config->key_sid == NULL
      && !load_or_create_dev_key (config, create_key, error))
    return NULL;

  config->media_secret = hq_secret_new (32);
  config->keyring = hq_keyring_new ();
  hq_keyring_add (config->keyring, config->key_sid, config->key_secret,
      config->account_sid);
  return g_steal_pointer (&config);
}
