/* OpenID Connect ID tokens for POST /token; see hqoidc.h. */
#include "hqoidc.h"
#include "hqlog.h"

#include <string.h>
#include <libsoup/soup.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <hq/hqprotocol.h>
#include <hq/hqutil.h>

#define HQ_OIDC_MAX_TOKEN 16384 /* bytes of an ID token we read at all */
#define HQ_OIDC_MAX_DOCUMENT (256 * 1024) /* discovery document, JWKS */
#define HQ_OIDC_LEEWAY_S 60 /* clock skew allowed on exp, nbf, iat */
#define HQ_OIDC_MAX_CACHE_S 3600 /* keys are refetched at least this often */
#define HQ_OIDC_MIN_RSA_BITS 2048

G_DEFINE_QUARK (hq - oidc - error - quark, hq_oidc_error);

struct _HqOidc
{
  gchar *issuer, *audience, *jwks_url, *host_claim, *host_value;
  gchar **allowed_emails;
  guint refresh_min_s;

  SoupSession *session;
  GCancellable *cancel;
  GHashTable *keys; /* kid -> EVP_PKEY (with its alg: "RS256"/"ES256") */
  gint64 fetched_us; /* monotonic; 0: never */
  gint64 expires_us; /* when the cache must be refetched */
  gboolean fetching;
  GQueue waiting; /* GTask, each waiting for the fetch */
};

/* One ID token taken apart, before its signature is checked. */
typedef struct
{
  gchar *alg, *kid;
  JsonObject *claims;
  gchar *signed_part; /* header.payload */
  guint8 *sig;
  gsize sig_len;
} Jwt;

static void
jwt_free (Jwt *jwt)
{
  g_free (jwt->alg);
  g_free (jwt->kid);
  if (jwt->claims)
    json_object_unref (jwt->claims);
  g_free (jwt->signed_part);
  g_free (jwt->sig);
  g_free (jwt);
}

void
hq_oidc_user_free (HqOidcUser *user)
{
  if (user == NULL)
    return;
  g_free (user->subject);
  g_free (user->email);
  g_free (user->name);
  g_free (user);
}

static gboolean refuse (GError **error, const gchar *format, ...)
    G_GNUC_PRINTF (2, 3);

static gboolean
refuse (GError **error, const gchar *format, ...)
{
  va_list args;
  g_autofree gchar *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, HQ_OIDC_ERROR, HQ_OIDC_ERROR_REFUSED, message);
  return FALSE;
}

/* --- keys --- */

static BIGNUM *
bn_from_b64 (JsonObject *jwk, const gchar *member, gsize *n_bytes)
{
  const gchar *text = NULL;
  g_autofree guint8 *bytes = NULL;
  gsize len = 0;

  if (!hq_protocol_read_string (jwk, member, &text, NULL)
      || (bytes = hq_base64url_decode (text, strlen (text), &len)) == NULL
      || len == 0)
    return NULL;
  if (n_bytes)
    *n_bytes = len;
  return BN_bin2bn (bytes, (int)len, NULL);
}

static EVP_PKEY *
pkey_from_params (const gchar *type, OSSL_PARAM_BLD *bld)
{
  OSSL_PARAM *params = OSSL_PARAM_BLD_to_param (bld);
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name (NULL, type, NULL);
  EVP_PKEY *pkey = NULL;

  if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init (ctx) <= 0
      || EVP_PKEY_fromdata (ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
    pkey = NULL;
  EVP_PKEY_CTX_free (ctx);
  OSSL_PARAM_free (params);
  return pkey;
}

static EVP_PKEY *
rsa_key (JsonObject *jwk)
{
  BIGNUM *n = bn_from_b64 (jwk, "n", NULL), *e = bn_from_b64 (jwk, "e", NULL);
  OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new ();
  EVP_PKEY *pkey = NULL;

  if (n && e && BN_num_bits (n) >= HQ_OIDC_MIN_RSA_BITS
      && OSSL_PARAM_BLD_push_BN (bld, OSSL_PKEY_PARAM_RSA_N, n)
      && OSSL_PARAM_BLD_push_BN (bld, OSSL_PKEY_PARAM_RSA_E, e))
    pkey = pkey_from_params ("RSA", bld);
  OSSL_PARAM_BLD_free (bld);
  BN_free (n);
  BN_free (e);
  return pkey;
}

static EVP_PKEY *
ec_key (JsonObject *jwk)
{
  const gchar *crv = NULL, *x = NULL, *y = NULL;
  g_autofree guint8 *xb = NULL, *yb = NULL;
  gsize xl = 0, yl = 0;
  guint8 point[65];
  OSSL_PARAM_BLD *bld;
  EVP_PKEY *pkey = NULL;

  if (!hq_protocol_read_string (jwk, "crv", &crv, NULL)
      || g_strcmp0 (crv, "P-256") != 0
      || !hq_protocol_read_string (jwk, "x", &x, NULL)
      || !hq_protocol_read_string (jwk, "y", &y, NULL)
      || (xb = hq_base64url_decode (x, strlen (x), &xl)) == NULL
      || (yb = hq_base64url_decode (y, strlen (y), &yl)) == NULL || xl != 32
      || yl != 32)
    return NULL;
  point[0] = 0x04; /* uncompressed */
  memcpy (point + 1, xb, 32);
  memcpy (point + 33, yb, 32);
  bld = OSSL_PARAM_BLD_new ();
  if (OSSL_PARAM_BLD_push_utf8_string (
          bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0)
      && OSSL_PARAM_BLD_push_octet_string (
          bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point))
    pkey = pkey_from_params ("EC", bld);
  OSSL_PARAM_BLD_free (bld);
  return pkey;
}

/* The signing keys of a JWKS document; keys we cannot use (encryption
 * keys, other curves, short RSA) are skipped, not fatal. */
static GHashTable *
parse_jwks (GBytes *body, GError **error)
{
  gsize len;
  const gchar *data = g_bytes_get_data (body, &len);
  g_autoptr (JsonObject) root =
      hq_protocol_parse_object (data, len, HQ_OIDC_MAX_DOCUMENT, error);
  JsonArray *list = NULL;
  GHashTable *keys;

  if (root == NULL || !hq_protocol_read_array (root, "keys", &list, error)
      || list == NULL) {
    g_clear_error (error);
    g_set_error (error, HQ_OIDC_ERROR, HQ_OIDC_ERROR_PROVIDER,
        "the identity provider's key set is not a JWKS document");
    return NULL;
  }
  keys = g_hash_table_new_full (
      g_str_hash, g_str_equal, g_free, (GDestroyNotify)EVP_PKEY_free);
  for (guint i = 0; i < json_array_get_length (list); i++) {
    JsonNode *node = json_array_get_element (list, i);
    JsonObject *jwk;
    const gchar *kty = NULL, *kid = NULL, *use = NULL;
    EVP_PKEY *pkey = NULL;

    if (!JSON_NODE_HOLDS_OBJECT (node))
      continue;
    jwk = json_node_get_object (node);
    if (!hq_protocol_read_string (jwk, "kid", &kid, NULL)
        || !hq_protocol_read_string (jwk, "kty", &kty, NULL))
      continue;
    if (hq_protocol_read_optional_string (jwk, "use", &use, NULL) && use
        && g_strcmp0 (use, "sig") != 0)
      continue;
    if (g_strcmp0 (kty, "RSA") == 0)
      pkey = rsa_key (jwk);
    else if (g_strcmp0 (kty, "EC") == 0)
      pkey = ec_key (jwk);
    if (pkey)
      g_hash_table_replace (keys, g_strdup (kid), pkey);
  }
  return keys;
}

/* --- checking a token --- */

static Jwt *
jwt_parse (const gchar *token, GError **error)
{
  g_auto (GStrv) parts = NULL;
  g_autofree guint8 *header_bytes = NULL, *payload_bytes = NULL;
  g_autoptr (JsonObject) header = NULL;
  gsize header_len = 0, payload_len = 0;
  const gchar *alg = NULL, *kid = NULL;
  Jwt *jwt;

  if (strlen (token) > HQ_OIDC_MAX_TOKEN
      || g_strv_length (parts = g_strsplit (token, ".", 4)) != 3
      || (header_bytes =
                 hq_base64url_decode (parts[0], strlen (parts[0]), &header_len))
          == NULL
      || (payload_bytes = hq_base64url_decode (
              parts[1], strlen (parts[1]), &payload_len))
          == NULL
      || (header = hq_protocol_parse_object (
              (const gchar *)header_bytes, header_len, HQ_OIDC_MAX_TOKEN, NULL))
          == NULL) {
    g_set_error (error, HQ_OIDC_ERROR, HQ_OIDC_ERROR_INVALID,
        "The sign-in token is not a JSON Web Token (three base64url parts "
        "separated by dots).");
    return NULL;
  }
  if (!hq_protocol_read_string (header, "alg", &alg, NULL)
      || (g_strcmp0 (alg, "RS256") != 0 && g_strcmp0 (alg, "ES256") != 0)) {
    refuse (error,
        "The sign-in token is signed with \"%.20s\"; only RS256 and ES256 "
        "are accepted.",
        alg ? alg : "(no algorithm)");
    return NULL;
  }
  if (!hq_protocol_read_string (header, "kid", &kid, NULL)) {
    refuse (error, "The sign-in token names no signing key (kid).");
    return NULL;
  }
  jwt = g_new0 (Jwt, 1);
  jwt->alg = g_strdup (alg);
  jwt->kid = g_strndup (kid, 200);
  jwt->claims = hq_protocol_parse_object (
      (const gchar *)payload_bytes, payload_len, HQ_OIDC_MAX_TOKEN, NULL);
  jwt->signed_part = g_strdup_printf ("%s.%s", parts[0], parts[1]);
  jwt->sig = hq_base64url_decode (parts[2], strlen (parts[2]), &jwt->sig_len);
  if (jwt->claims == NULL || jwt->sig == NULL) {
    jwt_free (jwt);
    g_set_error (error, HQ_OIDC_ERROR, HQ_OIDC_ERROR_INVALID,
        "The sign-in token's claims or signature cannot be read.");
    return NULL;
  }
  return jwt;
}

static gboolean
signature_ok (const Jwt *jwt, EVP_PKEY *pkey)
{
  EVP_MD_CTX *md = EVP_MD_CTX_new ();
  const guint8 *sig = jwt->sig;
  gsize sig_len = jwt->sig_len;
  guint8 *der = NULL;
  gboolean ok = FALSE;
  gboolean ec = g_str_equal (jwt->alg, "ES256");

  if (ec != (EVP_PKEY_get_base_id (pkey) == EVP_PKEY_EC))
    goto out; /* the key is not of the token's algorithm */
  if (ec) {
    /* JWS carries r || s, 32 bytes each; OpenSSL verifies DER. */
    ECDSA_SIG *es;
    int der_len;
    if (sig_len != 64)
      goto out;
    es = ECDSA_SIG_new ();
    ECDSA_SIG_set0 (
        es, BN_bin2bn (sig, 32, NULL), BN_bin2bn (sig + 32, 32, NULL));
    der_len = i2d_ECDSA_SIG (es, &der);
    ECDSA_SIG_free (es);
    if (der_len <= 0)
      goto out;
    sig = der;
    sig_len = (gsize)der_len;
  }
  ok = EVP_DigestVerifyInit (md, NULL, EVP_sha256 (), NULL, pkey) == 1
      && EVP_DigestVerify (md, sig, sig_len, (const guint8 *)jwt->signed_part,
             strlen (jwt->signed_part))
          == 1;
out:
  OPENSSL_free (der);
  EVP_MD_CTX_free (md);
  return ok;
}

/* A claim that must be a number of seconds, when present. */
static gboolean
time_claim (JsonObject *claims, const gchar *name, gint64 *out)
{
  JsonNode *node = json_object_get_member (claims, name);

  if (node == NULL)
    return FALSE;
  if (JSON_NODE_TYPE (node) != JSON_NODE_VALUE
      || (json_node_get_value_type (node) != G_TYPE_INT64
          && json_node_get_value_type (node) != G_TYPE_DOUBLE))
    return FALSE;
  *out = json_node_get_value_type (node) == G_TYPE_INT64
      ? json_node_get_int (node)
      : (gint64)json_node_get_double (node);
  return TRUE;
}

static gboolean
string_is (JsonNode *node, const gchar *value)
{
  return JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_STRING
      && g_strcmp0 (json_node_get_string (node), value) == 0;
}

/* Whether claim @name is @value (true for a boolean claim and "true"), or
 * an array holding it. */
static gboolean
claim_has (JsonObject *claims, const gchar *name, const gchar *value)
{
  JsonNode *node = json_object_get_member (claims, name);

  if (node == NULL)
    return FALSE;
  if (JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_BOOLEAN)
    return json_node_get_boolean (node) && g_str_equal (value, "true");
  if (JSON_NODE_HOLDS_ARRAY (node)) {
    JsonArray *a = json_node_get_array (node);
    for (guint i = 0; i < json_array_get_length (a); i++)
      if (string_is (json_array_get_element (a, i), value))
        return TRUE;
    return FALSE;
  }
  return string_is (node, value);
}

static gboolean
audience_ok (JsonObject *claims, const gchar *audience)
{
  JsonNode *node = json_object_get_member (claims, "aud");

  /* A string, or an array of strings holding ours. */
  return node && (JSON_NODE_HOLDS_ARRAY (node) || string_is (node, audience))
      && claim_has (claims, "aud", audience);
}

static HqOidcUser *
check (HqOidc *oidc, const Jwt *jwt, GError **error)
{
  JsonObject *claims = jwt->claims;
  EVP_PKEY *pkey = g_hash_table_lookup (oidc->keys, jwt->kid);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC, exp = 0, t = 0;
  const gchar *iss = NULL, *sub = NULL, *email = NULL, *name = NULL;
  gboolean verified = TRUE;
  HqOidcUser *user;

  if (pkey == NULL) {
    refuse (error,
        "The sign-in token was signed with key \"%s\", which the identity "
        "provider does not publish (an old or forged token?).",
        jwt->kid);
    return NULL;
  }
  if (!signature_ok (jwt, pkey)) {
    refuse (error, "The sign-in token's signature does not verify.");
    return NULL;
  }
  if (!hq_protocol_read_string (claims, "iss", &iss, NULL)
      || g_strcmp0 (iss, oidc->issuer) != 0) {
    refuse (error,
        "The sign-in token was issued by \"%.200s\", not by this server's "
        "identity provider.",
        iss ? iss : "(nobody)");
    return NULL;
  }
  if (!audience_ok (claims, oidc->audience)) {
    refuse (error,
        "The sign-in token was issued for another application "
        "(its audience is not this server's).");
    return NULL;
  }
  if (!time_claim (claims, "exp", &exp)) {
    refuse (error, "The sign-in token has no expiry time.");
    return NULL;
  }
  if (now > exp + HQ_OIDC_LEEWAY_S) {
    refuse (error, "The sign-in token has expired; sign in again.");
    return NULL;
  }
  if ((time_claim (claims, "nbf", &t) || time_claim (claims, "iat", &t))
      && t > now + HQ_OIDC_LEEWAY_S) {
    refuse (error,
        "The sign-in token is not valid yet (is this server's "
        "clock right?).");
    return NULL;
  }
  if (!hq_protocol_read_string (claims, "sub", &sub, NULL) || *sub == '\0') {
    refuse (error, "The sign-in token names no user (sub).");
    return NULL;
  }
  hq_protocol_read_optional_string (claims, "email", &email, NULL);
  hq_protocol_read_optional_string (claims, "name", &name, NULL);
  if (json_object_has_member (claims, "email_verified"))
    hq_protocol_read_bool (claims, "email_verified", &verified, NULL);
  if (oidc->allowed_emails && oidc->allowed_emails[0]) {
    gboolean allowed = FALSE;
    if (email == NULL || !verified) {
      refuse (error,
          "This server admits only listed email addresses, and the sign-in "
          "token carries %s.",
          email ? "an unverified one" : "none");
      return NULL;
    }
    for (gchar **p = oidc->allowed_emails; *p && !allowed; p++) {
      g_autofree gchar *lower = g_ascii_strdown (email, -1);
      allowed = g_pattern_match_simple (*p, lower);
    }
    if (!allowed) {
      refuse (error, "%.200s may not sign in to this server.", email);
      return NULL;
    }
  }
  user = g_new0 (HqOidcUser, 1);
  user->subject = g_strdup (sub);
  user->email = verified && email ? g_strdup (email) : NULL;
  user->name = g_strdup (name);
  user->host = oidc->host_claim && oidc->host_value
      && claim_has (claims, oidc->host_claim, oidc->host_value);
  return user;
}

/* --- fetching keys --- */

static void fetch_keys (HqOidc *oidc);

static void
finish_task (HqOidc *oidc, GTask *task)
{
  Jwt *jwt = g_task_get_task_data (task);
  GError *error = NULL;
  HqOidcUser *user = check (oidc, jwt, &error);

  if (user)
    g_task_return_pointer (task, user, (GDestroyNotify)hq_oidc_user_free);
  else
    g_task_return_error (task, error);
  g_object_unref (task);
}

static void
fetch_done (HqOidc *oidc, GHashTable *keys, gint64 max_age_s, GError *error)
{
  GTask *task;

  oidc->fetching = FALSE;
  oidc->fetched_us = g_get_monotonic_time ();
  if (keys) {
    g_hash_table_unref (oidc->keys);
    oidc->keys = keys;
    oidc->expires_us = oidc->fetched_us
        + CLAMP (max_age_s, (gint64)oidc->refresh_min_s, HQ_OIDC_MAX_CACHE_S)
            * G_USEC_PER_SEC;
    hq_log_message (HQ_LOG_INFO, "oidc", "%u signing keys from %s",
        g_hash_table_size (keys), oidc->jwks_url);
  } else {
    hq_log_message (HQ_LOG_WARN, "oidc",
        "no keys from the identity provider: %s", error->message);
  }
  /* On failure the old keys (if any) still serve. */
  while ((task = g_queue_pop_head (&oidc->waiting))) {
    Jwt *jwt = g_task_get_task_data (task);
    if (keys == NULL && !g_hash_table_contains (oidc->keys, jwt->kid)) {
      g_task_return_new_error (task, HQ_OIDC_ERROR, HQ_OIDC_ERROR_PROVIDER,
          "The identity provider's keys could not be fetched (%s); try "
          "again in a minute.",
          error->message);
      g_object_unref (task);
    } else {
      finish_task (oidc, task);
    }
  }
  if (error)
    g_error_free (error);
}

/* max-age from a Cache-Control header, or an hour. */
static gint64
max_age (SoupMessage *msg)
{
  const gchar *cc = soup_message_headers_get_one (
      soup_message_get_response_headers (msg), "Cache-Control");
  const gchar *p = cc ? strstr (cc, "max-age=") : NULL;

  return p ? g_ascii_strtoll (p + 8, NULL, 10) : HQ_OIDC_MAX_CACHE_S;
}

typedef struct
{
  HqOidc *oidc;
  SoupMessage *msg;
  gboolean discovery;
} Fetch;

static void
fetched_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Fetch *f = user_data;
  HqOidc *oidc = f->oidc;
  GError *error = NULL;
  g_autoptr (GBytes) body =
      soup_session_send_and_read_finish (SOUP_SESSION (source), res, &error);
  guint status = soup_message_get_status (f->msg);
  gboolean discovery = f->discovery;
  gint64 age = max_age (f->msg);

  g_object_unref (f->msg);
  g_free (f);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_error_free (error);
    return; /* freed: touch nothing */
  }
  if (body && !SOUP_STATUS_IS_SUCCESSFUL (status))
    g_set_error (&error, HQ_OIDC_ERROR, HQ_OIDC_ERROR_PROVIDER,
        "%s answered HTTP %u", discovery ? "discovery" : oidc->jwks_url,
        status);
  if (error) {
    fetch_done (oidc, NULL, 0, error);
    return;
  }
  if (discovery) {
    gsize len;
    const gchar *data = g_bytes_get_data (body, &len);
    g_autoptr (JsonObject) doc =
        hq_protocol_parse_object (data, len, HQ_OIDC_MAX_DOCUMENT, NULL);
    const gchar *uri = NULL;
    if (doc == NULL || !hq_protocol_read_string (doc, "jwks_uri", &uri, NULL)) {
      fetch_done (oidc, NULL, 0,
          g_error_new (HQ_OIDC_ERROR, HQ_OIDC_ERROR_PROVIDER,
              "the discovery document of %s names no jwks_uri", oidc->issuer));
      return;
    }
    oidc->jwks_url = g_strdup (uri);
    fetch_keys (oidc);
    return;
  }
  {
    GHashTable *keys = parse_jwks (body, &error);
    fetch_done (oidc, keys, age, error);
  }
}

static void
fetch_keys (HqOidc *oidc)
{
  Fetch *f = g_new0 (Fetch, 1);
  g_autofree gchar *url = NULL;

  oidc->fetching = TRUE;
  f->oidc = oidc;
  f->discovery = oidc->jwks_url == NULL;
  url = f->discovery ? g_strconcat (oidc->issuer,
            g_str_has_suffix (oidc->issuer, "/") ? "" : "/",
            ".well-known/openid-configuration", NULL)
                     : g_strdup (oidc->jwks_url);
  f->msg = soup_message_new ("GET", url);
  if (f->msg == NULL) {
    g_free (f);
    fetch_done (oidc, NULL, 0,
        g_error_new (
            HQ_OIDC_ERROR, HQ_OIDC_ERROR_PROVIDER, "\"%s\" is not a URL", url));
    return;
  }
  soup_session_send_and_read_async (
      oidc->session, f->msg, G_PRIORITY_DEFAULT, oidc->cancel, fetched_cb, f);
}

/* --- the API --- */

HqOidc *
hq_oidc_new (const HqOidcConfig *config)
{
  HqOidc *oidc = g_new0 (HqOidc, 1);

  oidc->issuer = g_strdup (config->issuer);
  oidc->audience = g_strdup (config->audience);
  oidc->jwks_url = g_strdup (config->jwks_url);
  oidc->host_claim = g_strdup (config->host_claim);
  oidc->host_value = g_strdup (config->host_value);
  oidc->allowed_emails = g_strdupv ((gchar **)config->allowed_emails);
  oidc->refresh_min_s = config->refresh_min_s;
  oidc->session = soup_session_new_with_options ("timeout", 10, NULL);
  oidc->cancel = g_cancellable_new ();
  oidc->keys = g_hash_table_new_full (
      g_str_hash, g_str_equal, g_free, (GDestroyNotify)EVP_PKEY_free);
  g_queue_init (&oidc->waiting);
  return oidc;
}

void
hq_oidc_free (HqOidc *oidc)
{
  GTask *task;

  if (oidc == NULL)
    return;
  g_cancellable_cancel (oidc->cancel);
  while ((task = g_queue_pop_head (&oidc->waiting))) {
    g_task_return_new_error (
        task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "the server is stopping");
    g_object_unref (task);
  }
  g_object_unref (oidc->session);
  g_object_unref (oidc->cancel);
  g_hash_table_unref (oidc->keys);
  g_free (oidc->issuer);
  g_free (oidc->audience);
  g_free (oidc->jwks_url);
  g_free (oidc->host_claim);
  g_free (oidc->host_value);
  g_strfreev (oidc->allowed_emails);
  g_free (oidc);
}

void
hq_oidc_verify_async (HqOidc *oidc, const gchar *id_token,
    GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  GError *error = NULL;
  Jwt *jwt = jwt_parse (id_token, &error);
  gint64 now = g_get_monotonic_time ();
  gboolean stale, unknown, may_refetch;

  g_task_set_source_tag (task, hq_oidc_verify_async);
  if (jwt == NULL) {
    g_task_return_error (task, error);
    g_object_unref (task);
    return;
  }
  g_task_set_task_data (task, jwt, (GDestroyNotify)jwt_free);
  stale = oidc->fetched_us == 0 || now >= oidc->expires_us;
  unknown = !g_hash_table_contains (oidc->keys, jwt->kid);
  may_refetch = oidc->fetched_us == 0
      || now - oidc->fetched_us >= (gint64)oidc->refresh_min_s * G_USEC_PER_SEC;
  if (oidc->fetching || stale || (unknown && may_refetch)) {
    g_queue_push_tail (&oidc->waiting, task);
    if (!oidc->fetching)
      fetch_keys (oidc);
    return;
  }
  finish_task (oidc, task);
}

HqOidcUser *
hq_oidc_verify_finish (HqOidc *oidc, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
