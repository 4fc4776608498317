/* hq-server configuration: where it keeps data, where it listens, which API
 * keys it accepts, and the token endpoint's settings.
 *
 * Sources, highest precedence first:
 *   1. environment variables (HQ_*, and TWILIO_* names for the API key so a
 *      reference app's .env works unchanged);
 *   2. a config file (GKeyFile): --config FILE, else $HQ_CONFIG, else
 *      <data dir>/hq-server.conf when it exists;
 *   3. the development key generated on first start in
 *      <data dir>/credentials.conf (mode 0600).
 * Secrets are never taken from the command line, where `ps` shows them.
 */
#ifndef __HQ_CONFIG_H__
#define __HQ_CONFIG_H__

#include <hq/hqtoken.h>
#include "hqatrest.h"

G_BEGIN_DECLS

#define HQ_CONFIG_ERROR (hq_config_error_quark ())
GQuark hq_config_error_quark (void);

typedef enum
{
  HQ_CONFIG_ERROR_INVALID,
  HQ_CONFIG_ERROR_NO_KEY,
  HQ_CONFIG_ERROR_IO,
} HqConfigError;

typedef struct
{
  gchar *data_dir;
  gchar *listen_host;
  guint listen_port;

  /* The key tokens are minted with; the keyring also holds any others. */
  gchar *account_sid;
  gchar *key_sid;
  gchar *key_secret;
  HqKeyring *keyring;
  gchar *key_source; /* where the key came from, for the log */
  gboolean key_generated; /* TRUE on the first start that made it */
  /* Twilio's account auth token: status callbacks carry
   * X-Twilio-Signature made with it (docs/server.md). */
  gchar *auth_token;
  /* Random at each start; signs short-lived media links. */
  gchar *media_secret;

  gchar *web_dir; /* the web client's files; NULL: built in */
  /* An app's build folder served instead of the web client ([server]
   * app_dir, HQ_APP_DIR; docs/configuration.md); NULL: the web client.
   * Canonical (no symlinks, absolute) once loaded. */
  gchar *app_dir;

  /* https and wss on the listening port ([server] tls_certificate,
   * tls_key, tls; docs/tls.md): PEM files, or with tls_dev a self-signed
   * pair hq-server makes under the data dir.  All NULL/FALSE: plain
   * http. */
  gchar *tls_certificate;
  gchar *tls_key;
  gboolean tls_dev;

  /* media */
  gchar *media_public_address; /* announced in ICE host candidates */

  /* POST /token: who may get a guest token (docs/tokens.md, "POST
   * /token").  Closed unless opened: a passcode (generated on first start
   * when none is configured), or rooms opened by name; invite codes will
   * be a third way in, checked in the same place. */
  gchar *passcode; /* NULL: no passcode is accepted */
  gint64 passcode_expires; /* unix time, 0: never */
  gboolean passcode_generated; /* TRUE on the first start that made it */
  gchar *passcode_source; /* where the passcode came from, for people */
  gchar **token_open_rooms; /* glob patterns: no passcode asked; may be empty */
  gchar *token_create_rooms; /* glob of names /token may create; NULL: none */
  /* SIGTERM: how long calls may go on after it, no new joins meanwhile;
   * 0: stop at once (docs/server.md, "Stopping"). */
  gint64 drain_timeout_s;
  gint64 token_max_rooms; /* rooms made by /token in progress at once */
  gchar *room_type;
  gint64 token_ttl;

  /* Room timing.  Production keeps the defaults; tests shorten them to
   * see timeouts happen within a test's time. */
  gint64 minute_ms; /* how long a minute of any room timeout lasts */
  gint64 reconnect_grace_ms; /* a dropped participant may resume within */
  gint64 keepalive_timeout_ms; /* a silent connection is closed after */
  gint64 callback_retry_ms; /* first status callback retry delay */

  /* Limits on what one client may take ([limits], docs/configuration.md).
   * Timeouts in seconds and rates per minute; 0 turns a limit off. */
  gint64 request_timeout; /* headers and body must arrive within */
  gint64 idle_timeout; /* a kept-alive connection may wait for a request */
  gint64 join_timeout; /* a WebSocket must have joined within */
  gint64 connections_per_ip; /* open connections (HTTP and WebSocket) */
  gint64 token_rate; /* POST /token requests a minute, per IP */
  gint64 join_rate; /* join requests a minute, per IP */
  gint64 room_create_rate; /* rooms POST /token creates a minute, per IP */

  /* The SFU's media ([media], docs/configuration.md). */
  gint64 media_workers; /* media threads; 0: one per core */
  gint64 media_port_min; /* UDP port range for ICE; 0 and 0: any */
  gint64 media_port_max;
  gboolean media_ice_tcp; /* the SFU offers ICE over TCP too */
  gint64 media_loudest_audio; /* audio of the loudest N only; 0: all */
  /* rooms of this many spread subscribers over the workers; 0: never */
  gint64 media_room_shards;

  /* TURN with time-limited credentials ([turn], server/http/hqturn.h). */
  gchar *turn_secret; /* shared with the TURN server; NULL: no TURN */
  gchar **turn_urls; /* turn: and turns: URLs; NULL: none */
  gchar **stun_urls; /* stun: URLs; NULL: none */
  gint64 turn_ttl; /* seconds a credential works */

  /* GET /metrics answers only a request with this bearer token; NULL:
   * metrics are off ([metrics] token, docs/metrics.md). */
  gchar *metrics_token;

  /* Sign-in on POST /token with an identity provider's ID token ([oidc],
   * docs/tokens.md); off while oidc_issuer is NULL. */
  gchar *oidc_issuer;
  gchar *oidc_audience;
  gchar *oidc_jwks_url; /* NULL: OpenID discovery at the issuer */
  gchar **oidc_allowed_emails; /* glob patterns; NULL: anyone */
  gchar *oidc_host_claim, *oidc_host_value; /* who is a host */
  gint64 oidc_refresh_min; /* seconds between refetches for unknown keys */

  /* Chat attachments ([chat], docs/configuration.md). */
  gint64 chat_media_max_size; /* bytes; 0: attachments are off */
  gchar **chat_media_types; /* content types accepted (patterns: image/x) */
  gint64 chat_media_url_ttl; /* seconds a temporary download URL works */

  /* Encryption at rest ([at-rest], docs/at-rest.md): the file of operator
   * keys (or HQ_AT_REST_KEYS), whether the server refuses to start
   * without one, and the sealer built from them (never NULL once
   * loaded; without a key it seals nothing). */
  gchar *at_rest_key_file;
  gboolean at_rest_required;
  HqAtRest *at_rest;
} HqConfig;

/**
 * hq_config_load:
 * @data_dir: from the command line, or NULL
 * @config_file: from the command line, or NULL
 * @listen: "HOST:PORT" from the command line, or NULL
 * @create_key: generate and store a development key when none is configured
 *
 * Reads the configuration.  Fails with HQ_CONFIG_ERROR_NO_KEY when no API key
 * is configured and @create_key is FALSE.
 */
HqConfig *hq_config_load (const gchar *data_dir, const gchar *config_file,
    const gchar *listen, gboolean create_key, GError **error);
void hq_config_free (HqConfig *config);

/* Whether POST /token serves room @name without a passcode. */
gboolean hq_config_token_room_open (HqConfig *config, const gchar *name);
/* Opens POST /token for room @name (a name or glob pattern) without a
 * passcode, as `hq-server --demo` does for its demo room. */
void hq_config_open_token_room (HqConfig *config, const gchar *name);

/* Whether chat attachments of content type @type (parameters such as
 * "; charset=..." ignored, case-insensitive) are accepted. */
gboolean hq_config_chat_media_type_ok (HqConfig *config, const gchar *type);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HqConfig, hq_config_free)

G_END_DECLS

#endif /* __HQ_CONFIG_H__ */
