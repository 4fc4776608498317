/* Unit tests for libhq access tokens: round trips, and one test per refusal
 * so that every error code is seen with the message a person would read.
 *
 * Tokens that hq_token_mint() refuses to make (alg none, 48 h lifetime, no
 * identity, ...) are signed here with GLib's HMAC directly. */
#include <string.h>
#include <glib.h>
#include <hq/hqtoken.h>
#include <hq/hqutil.h>

#define KEY_SID "SK0123456789abcdef0123456789abcdef"
#define ACCOUNT "AC0123456789abcdef0123456789abcdef"
#define SECRET "s3cr3t-for-unit-tests-0123456789"
#define NOW ((gint64)1800000000)

static HqKeyring *
keyring_new (void)
{
  HqKeyring *kr = hq_keyring_new ();

  hq_keyring_add (kr, KEY_SID, SECRET, ACCOUNT);
  return kr;
}

static gchar *
b64 (const gchar *s)
{
  return hq_base64url_encode ((const guint8 *)s, strlen (s));
}

/* Signs arbitrary header and payload JSON with @secret. */
/* header.payload signed with HMAC over @hash. */
static gchar *
sign_raw_with (GChecksumType hash, const gchar *header, const gchar *payload,
    const gchar *secret)
{
  g_autofree gchar *h = b64 (header);
  g_autofree gchar *p = b64 (payload);
  g_autofree gchar *input = g_strconcat (h, ".", p, NULL);
  g_autofree gchar *sig = NULL;
  guint8 digest[64];
  gsize len = sizeof digest;
  GHmac *hmac = g_hmac_new (hash, (const guchar *)secret, strlen (secret));

  g_hmac_update (hmac, (const guchar *)input, -1);
  g_hmac_get_digest (hmac, digest, &len);
  g_hmac_unref (hmac);
  sig = hq_base64url_encode (digest, len);
  return g_strconcat (input, ".", sig, NULL);
}

static gchar *
sign_raw (const gchar *header, const gchar *payload, const gchar *secret)
{
  return sign_raw_with (G_CHECKSUM_SHA256, header, payload, secret);
}

#define HEADER "{\"typ\":\"JWT\",\"alg\":\"HS256\",\"cty\":\"twilio-fpa;v=1\"}"

/* A payload with the usual claims and a grants object given as JSON. */
static gchar *
payload_with (gint64 iat, gint64 exp, const gchar *grants)
{
  return g_strdup_printf ("{\"jti\":\"" KEY_SID "-1\",\"iss\":\"" KEY_SID
                          "\",\"sub\":\"" ACCOUNT "\",\"iat\":%" G_GINT64_FORMAT
                          ",\"exp\":%" G_GINT64_FORMAT ",\"grants\":%s}",
      iat, exp, grants);
}

static gchar *
signed_with_grants (gint64 iat, gint64 exp, const gchar *grants)
{
  g_autofree gchar *payload = payload_with (iat, exp, grants);

  return sign_raw (HEADER, payload, SECRET);
}

/* Verifies @token expecting @code; checks the message is a sentence. */
static void
expect_refusal (const gchar *token, const gchar *room, gint code)
{
  g_autoptr (HqKeyring) kr = keyring_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (HqTokenClaims) claims = NULL;

  claims = hq_token_verify (kr, token, room, NOW, &error);
  g_assert_null (claims);
  g_assert_error (error, HQ_TOKEN_ERROR, code);
  g_assert_cmpuint (strlen (error->message), >, 15);
  g_test_message ("refused as expected: %s", error->message);
}

static gchar *
mint (const gchar *identity, const gchar *room, gint64 ttl, gint64 now)
{
  HqTokenGrant grant = { .identity = identity, .room = room, .ttl = ttl };
  g_autoptr (GError) error = NULL;
  gchar *token = hq_token_mint (KEY_SID, SECRET, ACCOUNT, &grant, now, &error);

  g_assert_no_error (error);
  return token;
}

static void
test_round_trip (void)
{
  g_autoptr (HqKeyring) kr = keyring_new ();
  g_autoptr (GError) error = NULL;
  g_autofree gchar *token = NULL;
  g_autoptr (HqTokenClaims) c = NULL;
  HqTokenGrant grant = { .identity = "dr. Ana María",
    .room = "consult-1",
    .role = HQ_ROLE_HOST,
    .ttl = 3600 };

  token = hq_token_mint (KEY_SID, SECRET, ACCOUNT, &grant, NOW, &error);
  g_assert_no_error (error);
  g_assert_nonnull (token);

  c = hq_token_verify (kr, token, "consult-1", NOW + 10, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (c->identity, ==, "dr. Ana María");
  g_assert_cmpstr (c->room, ==, "consult-1");
  g_assert_cmpstr (c->key_sid, ==, KEY_SID);
  g_assert_cmpstr (c->account_sid, ==, ACCOUNT);
  g_assert_cmpstr (c->jti, ==, KEY_SID "-1800000000");
  g_assert_cmpint (c->role, ==, HQ_ROLE_HOST);
  g_assert_cmpint (c->issued_at, ==, NOW);
  g_assert_cmpint (c->expires_at, ==, NOW + 3600);
}

static void
test_header_is_twilio (void)
{
  g_autofree gchar *token = mint ("alice", NULL, 60, NOW);
  g_autofree guint8 *header = NULL;
  gsize len = 0;

  header = hq_base64url_decode (token, strchr (token, '.') - token, &len);
  g_assert_nonnull (header);
  g_assert_cmpmem (header, len, HEADER, strlen (HEADER));
}

static void
test_any_room (void)
{
  g_autoptr (HqKeyring) kr = keyring_new ();
  g_autoptr (GError) error = NULL;
  g_autofree gchar *token = mint ("alice", NULL, 60, NOW);
  g_autoptr (HqTokenClaims) c =
      hq_token_verify (kr, token, "whatever", NOW, &error);

  g_assert_no_error (error);
  g_assert_null (c->room);
  g_assert_cmpint (c->role, ==, HQ_ROLE_GUEST);
}

static void
test_wrong_room (void)
{
  g_autofree gchar *token = mint ("alice", "consult-1", 60, NOW);

  expect_refusal (token, "consult-2", HQ_TOKEN_ERROR_ROOM_NOT_GRANTED);
}

static void
test_alg_none (void)
{
  g_autofree gchar *payload =
      payload_with (NOW, NOW + 60, "{\"identity\":\"mallory\",\"video\":{}}");
  g_autofree gchar *h = b64 ("{\"typ\":\"JWT\",\"alg\":\"none\"}");
  g_autofree gchar *p = b64 (payload);
  g_autofree gchar *unsigned_token = g_strconcat (h, ".", p, ".", NULL);
  g_autofree gchar *rs256 = sign_raw ("{\"alg\":\"RS256\"}", payload, SECRET);
  g_autofree gchar *typ =
      sign_raw ("{\"alg\":\"HS256\",\"typ\":\"JWE\"}", payload, SECRET);

  expect_refusal (unsigned_token, NULL, HQ_TOKEN_ERROR_UNSUPPORTED_ALG);
  expect_refusal (rs256, NULL, HQ_TOKEN_ERROR_UNSUPPORTED_ALG);
  expect_refusal (typ, NULL, HQ_TOKEN_ERROR_UNSUPPORTED_ALG);
}

/* HS384 and HS512, as twilio-node's toJwt('HS384') and twilio-python's
 * to_jwt(algorithm='HS512') mint them, verify; a header that names one
 * algorithm over a signature made with another does not. */
static void
test_hs384_hs512 (void)
{
  g_autoptr (HqKeyring) kr = keyring_new ();
  g_autofree gchar *payload =
      payload_with (NOW, NOW + 60, "{\"identity\":\"alice\",\"video\":{}}");
  static const struct
  {
    const gchar *header;
    GChecksumType hash;
  } algs[] = {
    { "{\"typ\":\"JWT\",\"alg\":\"HS384\"}", G_CHECKSUM_SHA384 },
    { "{\"typ\":\"JWT\",\"alg\":\"HS512\"}", G_CHECKSUM_SHA512 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (algs); i++) {
    g_autoptr (GError) error = NULL;
    g_autofree gchar *good =
        sign_raw_with (algs[i].hash, algs[i].header, payload, SECRET);
    g_autofree gchar *mixed = sign_raw (algs[i].header, payload, SECRET);
    g_autofree gchar *other = sign_raw_with (algs[i].hash, algs[i].header,
        payload, "another-secret-that-is-long-enough");
    g_autoptr (HqTokenClaims) c = hq_token_verify (kr, good, NULL, NOW, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (c->identity, ==, "alice");
    expect_refusal (mixed, NULL, HQ_TOKEN_ERROR_BAD_SIGNATURE);
    expect_refusal (other, NULL, HQ_TOKEN_ERROR_BAD_SIGNATURE);
  }
}

static void
test_malformed (void)
{
  g_autofree gchar *good = mint ("alice", NULL, 60, NOW);
  g_autofree gchar *four = g_strconcat (good, ".x", NULL);
  g_autofree gchar *array_header = sign_raw ("[1,2]", "{}", SECRET);
  g_autofree gchar *text_header = sign_raw ("hello", "{}", SECRET);
  g_autofree gchar *no_alg = sign_raw ("{\"typ\":\"JWT\"}", "{}", SECRET);
  g_autofree gchar *bad_payload = sign_raw (HEADER, "{\"iss\":", SECRET);

  expect_refusal ("", NULL, HQ_TOKEN_ERROR_MALFORMED);
  expect_refusal ("abc", NULL, HQ_TOKEN_ERROR_MALFORMED);
  expect_refusal ("a.b", NULL, HQ_TOKEN_ERROR_MALFORMED);
  expect_refusal (four, NULL, HQ_TOKEN_ERROR_MALFORMED);
  expect_refusal ("e30*.e30.e30", NULL, HQ_TOKEN_ERROR_MALFORMED);
  expect_refusal ("e.e30.e30", NULL, HQ_TOKEN_ERROR_MALFORMED);
  expect_refusal (array_header, NULL, HQ_TOKEN_ERROR_MALFORMED);
  expect_refusal (text_header, NULL, HQ_TOKEN_ERROR_MALFORMED);
  expect_refusal (no_alg, NULL, HQ_TOKEN_ERROR_MALFORMED);
  expect_refusal (bad_payload, NULL, HQ_TOKEN_ERROR_MALFORMED);
}

static void
test_unknown_key (void)
{
  HqTokenGrant grant = { .identity = "alice", .ttl = 60 };
  g_autofree gchar *token = hq_token_mint (
      "SKffffffffffffffffffffffffffffffff", SECRET, ACCOUNT, &grant, NOW, NULL);
  g_autofree gchar *no_iss = sign_raw (HEADER,
      "{\"exp\":1800000060,\"grants\":{\"identity\":\"a\",\"video\":{}}}",
      SECRET);

  expect_refusal (token, NULL, HQ_TOKEN_ERROR_UNKNOWN_KEY);
  expect_refusal (no_iss, NULL, HQ_TOKEN_ERROR_MISSING_CLAIM);
}

static void
test_bad_signature (void)
{
  g_autofree gchar *token = mint ("alice", "consult-1", 60, NOW);
  g_autofree gchar *flipped = g_strdup (token);
  g_autofree gchar *other_secret = NULL;
  g_autofree gchar *tampered = NULL;
  g_autofree gchar *short_sig = NULL;
  gchar *last = flipped + strlen (flipped) - 2;
  HqTokenGrant grant = { .identity = "alice", .ttl = 60 };
  gchar **parts;
  g_autofree gchar *forged_payload = NULL;
  g_autofree gchar *forged_p64 = NULL;

  *last = *last == 'A' ? 'B' : 'A';
  expect_refusal (flipped, NULL, HQ_TOKEN_ERROR_BAD_SIGNATURE);

  other_secret = hq_token_mint (
      KEY_SID, "another-secret-0123456789", ACCOUNT, &grant, NOW, NULL);
  expect_refusal (other_secret, NULL, HQ_TOKEN_ERROR_BAD_SIGNATURE);

  /* A payload that claims another identity, with the original signature. */
  parts = g_strsplit (token, ".", 3);
  forged_payload = payload_with (
      NOW, NOW + 60, "{\"identity\":\"admin\",\"video\":{\"role\":\"host\"}}");
  forged_p64 = b64 (forged_payload);
  tampered = g_strjoin (".", parts[0], forged_p64, parts[2], NULL);
  expect_refusal (tampered, NULL, HQ_TOKEN_ERROR_BAD_SIGNATURE);

  short_sig = g_strjoin (".", parts[0], parts[1], "AAAA", NULL);
  expect_refusal (short_sig, NULL, HQ_TOKEN_ERROR_BAD_SIGNATURE);
  g_strfreev (parts);
}

static void
test_wrong_account (void)
{
  HqTokenGrant grant = { .identity = "alice", .ttl = 60 };
  g_autofree gchar *token = hq_token_mint (
      KEY_SID, SECRET, "ACffffffffffffffffffffffffffffffff", &grant, NOW, NULL);

  expect_refusal (token, NULL, HQ_TOKEN_ERROR_WRONG_ACCOUNT);
}

static void
test_expired (void)
{
  g_autoptr (HqKeyring) kr = keyring_new ();
  g_autoptr (GError) error = NULL;
  g_autofree gchar *old = mint ("alice", NULL, 3600, NOW - 7200);
  g_autofree gchar *just = mint ("alice", NULL, 3600, NOW - 3600 - 30);
  g_autoptr (HqTokenClaims) c = NULL;

  expect_refusal (old, NULL, HQ_TOKEN_ERROR_EXPIRED);
  /* Expired 30 s ago: inside the clock-skew allowance. */
  c = hq_token_verify (kr, just, NULL, NOW, &error);
  g_assert_no_error (error);
}

static void
test_not_yet_valid (void)
{
  g_autofree gchar *future_iat = mint ("alice", NULL, 60, NOW + 600);
  g_autofree gchar *payload = g_strdup_printf (
      "{\"iss\":\"" KEY_SID "\",\"sub\":\"" ACCOUNT
      "\",\"nbf\":%" G_GINT64_FORMAT ",\"exp\":%" G_GINT64_FORMAT
      ",\"grants\":{\"identity\":\"a\",\"video\":{}}}",
      NOW + 600, NOW + 1200);
  g_autofree gchar *future_nbf = sign_raw (HEADER, payload, SECRET);

  expect_refusal (future_iat, NULL, HQ_TOKEN_ERROR_NOT_YET_VALID);
  expect_refusal (future_nbf, NULL, HQ_TOKEN_ERROR_NOT_YET_VALID);
}

static void
test_lifetime (void)
{
  g_autofree gchar *long_lived = signed_with_grants (
      NOW, NOW + 48 * 3600, "{\"identity\":\"a\",\"video\":{}}");
  HqTokenGrant grant = { .identity = "alice", .ttl = 48 * 3600 };
  g_autoptr (GError) error = NULL;
  gchar *refused;

  expect_refusal (long_lived, NULL, HQ_TOKEN_ERROR_LIFETIME_TOO_LONG);
  refused = hq_token_mint (KEY_SID, SECRET, ACCOUNT, &grant, NOW, &error);
  g_assert_null (refused);
  g_assert_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_INVALID_ARGUMENT);
}

static void
test_no_iat (void)
{
  /* Older Twilio helpers leave iat out; such a token is fine when it ends
   * within 24 h from now. */
  g_autoptr (HqKeyring) kr = keyring_new ();
  g_autoptr (GError) error = NULL;
  g_autofree gchar *token = sign_raw (HEADER,
      "{\"jti\":\"x\",\"iss\":\"" KEY_SID "\",\"sub\":\"" ACCOUNT
      "\",\"exp\":1800003600,"
      "\"grants\":{\"identity\":\"bob\",\"video\":{\"room\":\"r\"}}}",
      SECRET);
  g_autoptr (HqTokenClaims) c = hq_token_verify (kr, token, "r", NOW, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (c->identity, ==, "bob");
  g_assert_cmpint (c->issued_at, ==, 0);
}

static void
test_missing_claims (void)
{
  g_autofree gchar *no_exp = sign_raw (HEADER,
      "{\"iss\":\"" KEY_SID "\",\"sub\":\"" ACCOUNT
      "\",\"grants\":{\"identity\":\"a\","
      "\"video\":{}}}",
      SECRET);
  g_autofree gchar *string_exp = sign_raw (HEADER,
      "{\"iss\":\"" KEY_SID "\",\"sub\":\"" ACCOUNT
      "\",\"exp\":\"soon\",\"grants\":{}}",
      SECRET);
  g_autofree gchar *no_grants = sign_raw (HEADER,
      "{\"iss\":\"" KEY_SID "\",\"sub\":\"" ACCOUNT "\",\"exp\":1800000060}",
      SECRET);

  expect_refusal (no_exp, NULL, HQ_TOKEN_ERROR_MISSING_CLAIM);
  expect_refusal (string_exp, NULL, HQ_TOKEN_ERROR_MISSING_CLAIM);
  expect_refusal (no_grants, NULL, HQ_TOKEN_ERROR_MISSING_CLAIM);
}

static void
test_identity (void)
{
  g_autoptr (GString) long_name = g_string_new (NULL);
  g_autoptr (GString) grants = g_string_new (NULL);
  g_autofree gchar *no_identity =
      signed_with_grants (NOW, NOW + 60, "{\"video\":{}}");
  g_autofree gchar *empty =
      signed_with_grants (NOW, NOW + 60, "{\"identity\":\"\",\"video\":{}}");
  g_autofree gchar *max = NULL, *too_long = NULL;
  g_autoptr (HqKeyring) kr = keyring_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (HqTokenClaims) c = NULL;

  expect_refusal (no_identity, NULL, HQ_TOKEN_ERROR_NO_IDENTITY);
  expect_refusal (empty, NULL, HQ_TOKEN_ERROR_NO_IDENTITY);

  /* 128 two-byte characters pass: the limit counts characters. */
  for (int i = 0; i < 128; i++)
    g_string_append (long_name, "é");
  g_string_printf (
      grants, "{\"identity\":\"%s\",\"video\":{}}", long_name->str);
  max = signed_with_grants (NOW, NOW + 60, grants->str);
  c = hq_token_verify (kr, max, NULL, NOW, &error);
  g_assert_no_error (error);

  g_string_append (long_name, "x");
  g_string_printf (
      grants, "{\"identity\":\"%s\",\"video\":{}}", long_name->str);
  too_long = signed_with_grants (NOW, NOW + 60, grants->str);
  expect_refusal (too_long, NULL, HQ_TOKEN_ERROR_IDENTITY_TOO_LONG);
}

static void
test_grants (void)
{
  g_autofree gchar *chat_only = signed_with_grants (
      NOW, NOW + 60, "{\"identity\":\"a\",\"chat\":{\"service_sid\":\"IS1\"}}");
  g_autofree gchar *bad_role = signed_with_grants (
      NOW, NOW + 60, "{\"identity\":\"a\",\"video\":{\"role\":\"admin\"}}");
  g_autofree gchar *room_number = signed_with_grants (
      NOW, NOW + 60, "{\"identity\":\"a\",\"video\":{\"room\":42}}");

  expect_refusal (chat_only, NULL, HQ_TOKEN_ERROR_NO_VIDEO_GRANT);
  expect_refusal (bad_role, NULL, HQ_TOKEN_ERROR_BAD_ROLE);
  expect_refusal (room_number, NULL, HQ_TOKEN_ERROR_MISSING_CLAIM);
}

static void
test_mint_arguments (void)
{
  HqTokenGrant no_identity = { .ttl = 60 };
  HqTokenGrant zero_ttl = { .identity = "a", .ttl = 0 };
  GError *error = NULL;

  g_assert_null (
      hq_token_mint (KEY_SID, SECRET, ACCOUNT, &no_identity, NOW, &error));
  g_assert_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (
      hq_token_mint (KEY_SID, SECRET, ACCOUNT, &zero_ttl, NOW, &error));
  g_assert_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (hq_token_mint (KEY_SID, "", ACCOUNT, &zero_ttl, NOW, &error));
  g_assert_error (error, HQ_TOKEN_ERROR, HQ_TOKEN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
}

static void
test_key_rotation (void)
{
  g_autoptr (HqKeyring) kr = keyring_new ();
  g_autoptr (GError) error = NULL;
  HqTokenGrant grant = { .identity = "alice", .ttl = 60 };
  g_autofree gchar *token = hq_token_mint ("SK11111111111111111111111111111111",
      "the-new-secret-0123456789", ACCOUNT, &grant, NOW, NULL);
  g_autoptr (HqTokenClaims) c = NULL;

  hq_keyring_add (kr, "SK11111111111111111111111111111111",
      "the-new-secret-0123456789", ACCOUNT);
  c = hq_token_verify (kr, token, NULL, NOW, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (c->key_sid, ==, "SK11111111111111111111111111111111");
}

static void
test_base64url (void)
{
  const guint8 data[] = { 0xfb, 0xff, 0xbf, 0x00, 0x10 };
  gsize len = 0;

  for (gsize n = 0; n <= sizeof data; n++) {
    g_autofree gchar *enc = hq_base64url_encode (data, n);
    g_autofree guint8 *dec = hq_base64url_decode (enc, strlen (enc), &len);
    g_assert_null (strchr (enc, '='));
    g_assert_null (strchr (enc, '+'));
    g_assert_null (strchr (enc, '/'));
    g_assert_cmpmem (dec, len, data, n);
  }
  g_assert_null (hq_base64url_decode ("a+b/", 4, &len));
  g_assert_null (hq_base64url_decode ("abcde", 5, &len));
}

static void
test_sids (void)
{
  g_autofree gchar *a = hq_sid_new ("RM");
  g_autofree gchar *b = hq_sid_new ("RM");

  g_assert_true (hq_sid_is_valid (a, "RM"));
  g_assert_false (hq_sid_is_valid (a, "PA"));
  g_assert_cmpstr (a, !=, b);
  g_assert_false (hq_sid_is_valid ("RM123", "RM"));
  g_assert_true (hq_str_equal_const_time ("abc", "abc"));
  g_assert_false (hq_str_equal_const_time ("abc", "abd"));
  g_assert_false (hq_str_equal_const_time ("abc", "abcd"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/token/round-trip", test_round_trip);
  g_test_add_func ("/token/header-is-twilio", test_header_is_twilio);
  g_test_add_func ("/token/any-room", test_any_room);
  g_test_add_func ("/token/wrong-room", test_wrong_room);
  g_test_add_func ("/token/alg-none-and-others", test_alg_none);
  g_test_add_func ("/token/hs384-hs512", test_hs384_hs512);
  g_test_add_func ("/token/malformed", test_malformed);
  g_test_add_func ("/token/unknown-key", test_unknown_key);
  g_test_add_func ("/token/bad-signature", test_bad_signature);
  g_test_add_func ("/token/wrong-account", test_wrong_account);
  g_test_add_func ("/token/expired", test_expired);
  g_test_add_func ("/token/not-yet-valid", test_not_yet_valid);
  g_test_add_func ("/token/lifetime", test_lifetime);
  g_test_add_func ("/token/no-iat", test_no_iat);
  g_test_add_func ("/token/missing-claims", test_missing_claims);
  g_test_add_func ("/token/identity", test_identity);
  g_test_add_func ("/token/grants", test_grants);
  g_test_add_func ("/token/mint-arguments", test_mint_arguments);
  g_test_add_func ("/token/key-rotation", test_key_rotation);
  g_test_add_func ("/util/base64url", test_base64url);
  g_test_add_func ("/util/sids", test_sids);
  return g_test_run ();
}
