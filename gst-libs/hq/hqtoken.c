/* Access tokens: minting and verification.  See hqtoken.h for the format.
 *
 * Verification runs its checks in the order a person debugging a refused
 * token wants to hear about them: is it a JWT at all, is the algorithm
 * acceptable, do we know the key, is the signature right, and only then the
 * claims (time window, identity, grants).  Claims of a token whose signature
 * failed are never reported, so a forger learns nothing from the errors.
 */
#include "hqtoken.h"
#include "hqprotocol.h"
#include "hqutil.h"

#include <string.h>
#include <json-glib/json-glib.h>

#define HQ_TOKEN_HEADER                                                        \
  "{\"typ\":\"JWT\",\"alg\":\"HS256\",\"cty\":\"twilio-fpa;v=1\"}"
#define HQ_SHA256_LEN 32

G_DEFINE_QUARK (hq - token - error - quark, hq_token_error);

const gchar *
hq_token_error_name (gint code)
{
  static const gchar *const names[] = {
    [HQ_TOKEN_ERROR_MALFORMED] = "malformed",
    [HQ_TOKEN_ERROR_UNSUPPORTED_ALG] = "unsupported_alg",
    [HQ_TOKEN_ERROR_MISSING_CLAIM] = "missing_claim",
    [HQ_TOKEN_ERROR_UNKNOWN_KEY] = "unknown_key",
    [HQ_TOKEN_ERROR_BAD_SIGNATURE] = "bad_signature",
    [HQ_TOKEN_ERROR_WRONG_ACCOUNT] = "wrong_account",
    [HQ_TOKEN_ERROR_EXPIRED] = "expired",
    [HQ_TOKEN_ERROR_NOT_YET_VALID] = "not_yet_valid",
    [HQ_TOKEN_ERROR_LIFETIME_TOO_LONG] = "lifetime_too_long",
    [HQ_TOKEN_ERROR_NO_IDENTITY] = "no_identity",
    [HQ_TOKEN_ERROR_IDENTITY_TOO_LONG] = "identity_too_long",
    [HQ_TOKEN_ERROR_NO_VIDEO_GRANT] = "no_video_grant",
    [HQ_TOKEN_ERROR_ROOM_NOT_GRANTED] = "room_not_granted",
    [HQ_TOKEN_ERROR_BAD_ROLE] = "bad_role",
    [HQ_TOKEN_ERROR_INVALID_ARGUMENT] = "invalid_argument",
  };

  if (code < 0 || code >= (gint)G_N_ELEMENTS (names) || names[code] == NULL)
    return "unknown";
  return names[code];
}

/* --- roles --- */

const gchar *
hq_role_to_string (HqRole role)
{
  return role == HQ_ROLE_HOST ? "host" : "guest";
}

gboolean
hq_role_from_string (const gchar *str, HqRole *role)
{
  if (g_strcmp0 (str, "host") == 0)
    *role = HQ_ROLE_HOST;
  else if (g_strcmp0 (str, "guest") == 0)
    *role = HQ_ROLE_GUEST;
  else
    return FALSE;
  return TRUE;
}

/* --- keyring --- */

typedef struct
{
  gchar *key_sid;
  gchar *secret;
  gchar *account_sid;
} HqKey;

struct _HqKeyring
{
  GPtrArray *keys;
};

static void
hq_key_free (gpointer data)
{
  HqKey *key = data;

  g_free (key->key_sid);
  if (key->secret)
    memset (key->secret, 0, strlen (key->secret));
  g_free (key->secret);
  g_free (key->account_sid);
  g_free (key);
}

HqKeyring *
hq_keyring_new (void)
{
  HqKeyring *keyring = g_new0 (HqKeyring, 1);

  keyring->keys = g_ptr_array_new_with_free_func (hq_key_free);
  return keyring;
}

void
hq_keyring_free (HqKeyring *keyring)
{
  if (keyring == NULL)
    return;
  g_ptr_array_unref (keyring->keys);
  g_free (keyring);
}

void
hq_keyring_add (HqKeyring *keyring, const gchar *key_sid, const gchar *secret,
    const gchar *account_sid)
{
  HqKey *key = g_new0 (HqKey, 1);

  key->key_sid = g_strdup (key_sid);
  key->secret = g_strdup (secret);
  key->account_sid = g_strdup (account_sid);
  g_ptr_array_add (keyring->keys, key);
}

const gchar *
hq_keyring_lookup (
    const HqKeyring *keyring, const gchar *key_sid, const gchar **account_sid)
{
  for (guint i = 0; i < keyring->keys->len; i++) {
    HqKey *key = g_ptr_array_index (keyring->keys, i);
    if (g_strcmp0 (key->key_sid, key_sid) == 0) {
      if (account_sid)
        *account_sid = key->account_sid;
      return key->secret;
    }
  }
  return NULL;
}

/* --- claims --- */

void
hq_token_claims_free (HqTokenClaims *claims)
{
  if (claims == NULL)
    return;
  g_free (claims->jti);
  g_free (claims->key_sid);
  g_free (claims->account_sid);
  g_free (claims->identity);
  g_free (claims->room);
  g_free (claims->name);
  g_free (claims);
}

/* --- signing --- */

static void
hs256 (const gchar *secret, const gchar *input, gsize input_len,
    guint8 out[HQ_SHA256_LEN])
{
  GHmac *hmac =
      g_hmac_new (G_CHECKSUM_SHA256, (const guchar *)secret, strlen (secret));
  gsize len = HQ_SHA256_LEN;

  g_hmac_update (hmac, (const guchar *)input, input_len);
  g_hmac_get_digest (hmac, out, &len);
  g_hmac_unref (hmac);
}

static gboolean
name_is_valid (const gchar *name)
{
  return name != NULL && name[0] != '\0' && g_utf8_validate (name, -1, NULL)
      && g_utf8_strlen (name, -1) <= HQ_TOKEN_MAX_NAME;
}

gchar *
hq_token_mint (const gchar *key_sid, const gchar *secret,
    const gchar *account_sid, const HqTokenGrant *grant, gint64 now,
    GError **error)
{
  g_autoptr (JsonBuilder) b = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autofree gchar *payload = NULL;
  g_autofree gchar *jti = NULL;
  g_autofree gchar *h64 = NULL;
  g_autofree gchar *p64 = NULL;
  g_autofree gchar *signing_input = NULL;
  g_autofree gchar *s64 = NULL;
  guint8 sig[HQ_SHA256_LEN];

  if (key_sid == NULL || *key_sid == '\0' || secret == NULL || *secret == '\0'
      || account_sid == NULL || *account_sid == '\0') {
    g_set_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_INVALID_ARGUMENT,
        "cannot mint a token without an API key sid, secret and account sid");
    return NULL;
  }
  if (grant->identity == NULL || grant->identity[0] == '\0') {
    g_set_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_INVALID_ARGUMENT,
        "a token needs an identity");
    return NULL;
  }
  if (!name_is_valid (grant->identity)) {
    g_set_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_INVALID_ARGUMENT,
        "the identity must be UTF-8 of at most %d characters",
        HQ_TOKEN_MAX_NAME);
    return NULL;
  }
  if (grant->room != NULL && !name_is_valid (grant->room)) {
    g_set_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_INVALID_ARGUMENT,
        "the room name must be UTF-8 of 1 to %d characters", HQ_TOKEN_MAX_NAME);
    return NULL;
  }
  if (grant->name != NULL && !name_is_valid (grant->name)) {
    g_set_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_INVALID_ARGUMENT,
        "the display name must be UTF-8 of 1 to %d characters",
        HQ_TOKEN_MAX_NAME);
    return NULL;
  }
  if (grant->ttl <= 0 || grant->ttl > HQ_TOKEN_MAX_LIFETIME) {
    g_set_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_INVALID_ARGUMENT,
        "the token lifetime must be 1 to %d seconds, not %" G_GINT64_FORMAT,
        HQ_TOKEN_MAX_LIFETIME, grant->ttl);
    return NULL;
  }
  if (now == 0)
    now = g_get_real_time () / G_USEC_PER_SEC;

  jti = g_strdup_printf ("%s-%" G_GINT64_FORMAT, key_sid, now);
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "jti");
  json_builder_add_string_value (b, jti);
  json_builder_set_member_name (b, "iss");
  json_builder_add_string_value (b, key_sid);
  json_builder_set_member_name (b, "sub");
  json_builder_add_string_value (b, account_sid);
  json_builder_set_member_name (b, "iat");
  json_builder_add_int_value (b, now);
  if (grant->not_before > 0) {
    json_builder_set_member_name (b, "nbf");
    json_builder_add_int_value (b, grant->not_before);
  }
  json_builder_set_member_name (b, "exp");
  json_builder_add_int_value (b, now + grant->ttl);
  json_builder_set_member_name (b, "grants");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "identity");
  json_builder_add_string_value (b, grant->identity);
  json_builder_set_member_name (b, "video");
  json_builder_begin_object (b);
  if (grant->room) {
    json_builder_set_member_name (b, "room");
    json_builder_add_string_value (b, grant->room);
  }
  if (grant->role == HQ_ROLE_HOST) {
    json_builder_set_member_name (b, "role");
    json_builder_add_string_value (b, "host");
  }
  if (grant->name) {
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, grant->name);
  }
  json_builder_end_object (b);
  if (grant->chat) {
    /* Twilio's ChatGrant names a Conversations service; ours is the
     * account's one chat, so its sid is made from the account's. */
    g_autofree gchar *service = g_strdup_printf (
        "IS%s", strlen (account_sid) > 2 ? account_sid + 2 : account_sid);
    json_builder_set_member_name (b, "chat");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "service_sid");
    json_builder_add_string_value (b, service);
    json_builder_end_object (b);
  }
  json_builder_end_object (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  payload = json_to_string (root, FALSE);

  h64 = hq_base64url_encode (
      (const guint8 *)HQ_TOKEN_HEADER, strlen (HQ_TOKEN_HEADER));
  p64 = hq_base64url_encode ((const guint8 *)payload, strlen (payload));
  signing_input = g_strconcat (h64, ".", p64, NULL);
  hs256 (secret, signing_input, strlen (signing_input), sig);
  s64 = hq_base64url_encode (sig, sizeof sig);
  return g_strconcat (signing_input, ".", s64, NULL);
}

/* --- verification --- */

/* Decodes one base64url segment holding a JSON object. */
static JsonObject *
decode_json_segment (const gchar *seg, gsize len, const gchar *what,
    JsonParser **parser_out, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree guint8 *raw = NULL;
  gsize raw_len = 0;
  JsonNode *root;

  raw = hq_base64url_decode (seg, len, &raw_len);
  if (raw == NULL) {
    g_set_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_MALFORMED,
        "the token %s is not valid base64url", what);
    return NULL;
  }
  /* Read before the signature is checked: bounded like any message. */
  if (!hq_protocol_depth_ok ((const gchar *)raw, raw_len, HQ_PROTOCOL_MAX_DEPTH)
      || !json_parser_load_from_data (parser, (const gchar *)raw, raw_len, NULL)
      || (root = json_parser_get_root (parser)) == NULL
      || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_MALFORMED,
        "the token %s is not a JSON object", what);
    return NULL;
  }
  *parser_out = g_steal_pointer (&parser);
  return json_node_get_object (root);
}

/* A member that must be a string when present.  Returns FALSE (with @error)
 * when present with another type. */
static gboolean
get_string_member (JsonObject *obj, const gchar *name, const gchar *path,
    const gchar **out, GError **error)
{
  JsonNode *node = json_object_get_member (obj, name);

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING) {
    g_set_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_MISSING_CLAIM,
        "the token claim %s must be a string", path);
    return FALSE;
  }
  *out = json_node_get_string (node);
  return TRUE;
}

/* A NumericDate member (integer or integral double).  Absent: 0. */
static gboolean
get_time_member (
    JsonObject *obj, const gchar *name, gint64 *out, GError **error)
{
  JsonNode *node = json_object_get_member (obj, name);
  GType t;

  *out = 0;
  if (node == NULL)
    return TRUE;
  if (JSON_NODE_HOLDS_VALUE (node)) {
    t = json_node_get_value_type (node);
    if (t == G_TYPE_INT64) {
      *out = json_node_get_int (node);
      return *out > 0
          || (g_set_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_MISSING_CLAIM,
                  "the token claim %s must be a positive time", name),
              FALSE);
    }
    if (t == G_TYPE_DOUBLE) {
      gdouble d = json_node_get_double (node);
      if (d >= 1 && d < 1e15) {
        *out = (gint64)d;
        return TRUE;
      }
    }
  }
  g_set_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_MISSING_CLAIM,
      "the token claim %s must be a time in seconds since 1970", name);
  return FALSE;
}

/* The HMAC a token's alg names (HS256, HS384 or HS512, the ones Twilio's
 * helper libraries mint), or -1 when it names another. */
static gint
alg_checksum (const gchar *alg)
{
  if (strcmp (alg, "HS256") == 0)
    return G_CHECKSUM_SHA256;
  if (strcmp (alg, "HS384") == 0)
    return G_CHECKSUM_SHA384;
  if (strcmp (alg, "HS512") == 0)
    return G_CHECKSUM_SHA512;
  return -1;
}

static gboolean
check_header (JsonObject *header, GChecksumType *hash, GError **error)
{
  const gchar *alg = NULL, *typ = NULL;

  if (!get_string_member (header, "alg", "alg", &alg, NULL)
      || !get_string_member (header, "typ", "typ", &typ, NULL)) {
    g_set_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_MALFORMED,
        "the token header fields alg and typ must be strings");
    return FALSE;
  }
  if (alg == NULL) {
    g_set_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_MALFORMED,
        "the token header names no algorithm (alg)");
    return FALSE;
  }
  if (alg_checksum (alg) < 0) {
    g_set_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_UNSUPPORTED_ALG,
        "the token is signed with \"%s\"; only HS256, HS384 and HS512 "
        "tokens are accepted",
        alg);
    return FALSE;
  }
  *hash = (GChecksumType)alg_checksum (alg);
  if (typ != NULL && g_ascii_strcasecmp (typ, "JWT") != 0) {
    g_set_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_UNSUPPORTED_ALG,
        "the token type is \"%s\", not JWT", typ);
    return FALSE;
  }
  return TRUE;
}

static gboolean
check_time_window (HqTokenClaims *c, gint64 now, GError **error)
{
  gint64 start;

  if (c->expires_at == 0) {
    g_set_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_MISSING_CLAIM,
        "the token has no expiry (exp)");
    return FALSE;
  }
  if (now > c->expires_at + HQ_TOKEN_CLOCK_SKEW) {
    g_autoptr (GDateTime) when = g_date_time_new_from_unix_utc (c->expires_at);
    g_autofree gchar *iso = when ? g_date_time_format_iso8601 (when) : NULL;
    g_set_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_EXPIRED,
        "the token expired at %s (%" G_GINT64_FORMAT " s ago); ask for a new "
        "one",
        iso ? iso : "?", now - c->expires_at);
    return FALSE;
  }
  if (c->not_before > now + HQ_TOKEN_CLOCK_SKEW) {
    g_set_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_NOT_YET_VALID,
        "the token is not valid before %" G_GINT64_FORMAT
        " (in %" G_GINT64_FORMAT " s); check the clocks of both hosts",
        c->not_before, c->not_before - now);
    return FALSE;
  }
  if (c->issued_at > now + HQ_TOKEN_CLOCK_SKEW) {
    g_set_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_NOT_YET_VALID,
        "the token was issued %" G_GINT64_FORMAT " s in the future; check "
        "the clocks of both hosts",
        c->issued_at - now);
    return FALSE;
  }
  /* Lifetime counts from the earliest moment the token claims to be good.
   * A token with neither iat nor nbf counts from now. */
  start = c->issued_at ? c->issued_at : (c->not_before ? c->not_before : now);
  if (c->not_before && c->not_before < start)
    start = c->not_before;
  if (c->expires_at - start > HQ_TOKEN_MAX_LIFETIME + HQ_TOKEN_CLOCK_SKEW) {
    g_set_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_LIFETIME_TOO_LONG,
        "the token lives %" G_GINT64_FORMAT " s; at most %d s (24 h) is "
        "allowed",
        c->expires_at - start, HQ_TOKEN_MAX_LIFETIME);
    return FALSE;
  }
  return TRUE;
}

static gboolean
read_grants (JsonObject *payload, HqTokenClaims *c, GError **error)
{
  JsonNode *grants_node = json_object_get_member (payload, "grants");
  JsonNode *video_node;
  JsonObject *grants, *video;
  const gchar *identity, *room, *role, *name;

  if (grants_node == NULL || !JSON_NODE_HOLDS_OBJECT (grants_node)) {
    g_set_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_MISSING_CLAIM,
        "the token has no grants object");
    return FALSE;
  }
  grants = json_node_get_object (grants_node);

  if (!get_string_member (
          grants, "identity", "grants.identity", &identity, error))
    return FALSE;
  if (identity == NULL || identity[0] == '\0') {
    g_set_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_NO_IDENTITY,
        "the token has no identity (grants.identity)");
    return FALSE;
  }
  if (!name_is_valid (identity)) {
    g_set_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_IDENTITY_TOO_LONG,
        "the token identity must be UTF-8 of at most %d characters",
        HQ_TOKEN_MAX_NAME);
    return FALSE;
  }
  c->identity = g_strdup (identity);

  video_node = json_object_get_member (grants, "video");
  if (video_node == NULL || !JSON_NODE_HOLDS_OBJECT (video_node)) {
    g_set_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_NO_VIDEO_GRANT,
        "the token grants no video access (grants.video)");
    return FALSE;
  }
  video = json_node_get_object (video_node);
  if (!get_string_member (video, "room", "grants.video.room", &room, error)
      || !get_string_member (video, "role", "grants.video.role", &role, error)
      || !get_string_member (video, "name", "grants.video.name", &name, error))
    return FALSE;
  if (name != NULL && !name_is_valid (name)) {
    g_set_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_MALFORMED,
        "the token's display name (grants.video.name) must be UTF-8 of 1 to "
        "%d characters",
        HQ_TOKEN_MAX_NAME);
    return FALSE;
  }
  c->room = g_strdup (room);
  c->name = g_strdup (name);
  c->chat = json_object_has_member (grants, "chat")
      && JSON_NODE_HOLDS_OBJECT (json_object_get_member (grants, "chat"));
  c->role = HQ_ROLE_GUEST;
  if (role != NULL && !hq_role_from_string (role, &c->role)) {
    g_set_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_BAD_ROLE,
        "the token role \"%s\" is neither host nor guest", role);
    return FALSE;
  }
  return TRUE;
}

HqTokenClaims *
hq_token_verify (const HqKeyring *keyring, const gchar *token,
    const gchar *room, gint64 now, GError **error)
{
  g_autoptr (JsonParser) hparser = NULL;
  g_autoptr (JsonParser) pparser = NULL;
  g_autoptr (HqTokenClaims) c = NULL;
  g_autofree guint8 *sig = NULL;
  const gchar *dot1, *dot2, *iss, *sub, *jti, *secret, *account;
  JsonObject *header, *payload;
  guint8 expect[64];
  gsize sig_len = 0, expect_len = sizeof expect;
  GChecksumType hash = G_CHECKSUM_SHA256;
  GHmac *hmac;

  if (token == NULL || (dot1 = strchr (token, '.')) == NULL
      || (dot2 = strchr (dot1 + 1, '.')) == NULL
      || strchr (dot2 + 1, '.') != NULL) {
    g_set_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_MALFORMED,
        "the token is not a JWT (three dot-separated parts)");
    return NULL;
  }
  header = decode_json_segment (token, dot1 - token, "header", &hparser, error);
  if (header == NULL || !check_header (header, &hash, error))
    return NULL;
  payload = decode_json_segment (
      dot1 + 1, dot2 - dot1 - 1, "payload", &pparser, error);
  if (payload == NULL)
    return NULL;

  if (!get_string_member (payload, "iss", "iss", &iss, error))
    return NULL;
  if (iss == NULL) {
    g_set_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_MISSING_CLAIM,
        "the token names no API key (iss)");
    return NULL;
  }
  secret = hq_keyring_lookup (keyring, iss, &account);
  if (secret == NULL) {
    g_set_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_UNKNOWN_KEY,
        "the token was signed with API key %.40s, which this server does "
        "not have",
        iss);
    return NULL;
  }

  sig = hq_base64url_decode (dot2 + 1, strlen (dot2 + 1), &sig_len);
  hmac = g_hmac_new (hash, (const guchar *)secret, strlen (secret));
  g_hmac_update (hmac, (const guchar *)token, dot2 - token);
  g_hmac_get_digest (hmac, expect, &expect_len);
  g_hmac_unref (hmac);
  if (sig == NULL || sig_len != expect_len
      || !hq_equal_const_time (sig, expect, expect_len)) {
    g_set_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_BAD_SIGNATURE,
        "the token signature does not match API key %s: it was altered or "
        "signed with another secret",
        iss);
    return NULL;
  }

  c = g_new0 (HqTokenClaims, 1);
  c->key_sid = g_strdup (iss);
  if (!get_string_member (payload, "sub", "sub", &sub, error)
      || !get_string_member (payload, "jti", "jti", &jti, error))
    return NULL;
  if (account != NULL && g_strcmp0 (sub, account) != 0) {
    g_set_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_WRONG_ACCOUNT,
        "the token is for account %.40s, but API key %s belongs to %s",
        sub ? sub : "(none)", iss, account);
    return NULL;
  }
  c->account_sid = g_strdup (sub);
  c->jti = g_strdup (jti);

  if (now == 0)
    now = g_get_real_time () / G_USEC_PER_SEC;
  if (!get_time_member (payload, "exp", &c->expires_at, error)
      || !get_time_member (payload, "nbf", &c->not_before, error)
      || !get_time_member (payload, "iat", &c->issued_at, error)
      || !check_time_window (c, now, error))
    return NULL;

  if (!read_grants (payload, c, error))
    return NULL;
  if (room != NULL && c->room != NULL && strcmp (room, c->room) != 0) {
    g_set_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_ROOM_NOT_GRANTED,
        "the token is for room \"%s\", not \"%s\"", c->room, room);
    return NULL;
  }
  return g_steal_pointer (&c);
}
