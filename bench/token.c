/* bench/token: cost of minting and verifying access tokens, against the bare
 * HMAC-SHA256 over the same bytes measured in the same run.  The ratio says
 * how much JSON, base64url and claim checks add to the cryptography.
 *
 *   build/bench/bench-token [iterations]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hq/hqtoken.h>

#define KEY_SID "SK0123456789abcdef0123456789abcdef"
#define ACCOUNT "AC0123456789abcdef0123456789abcdef"
#define SECRET "bench-secret-0123456789abcdef0123"

static double
now_us (void)
{
  return (double)g_get_monotonic_time ();
}

int
main (int argc, char **argv)
{
  long n = argc > 1 ? atol (argv[1]) : 100000;
  HqTokenGrant grant = {
    .identity = "patient-1234", .room = "consult-1", .ttl = 3600
  };
  HqKeyring *kr = hq_keyring_new ();
  gchar *token = hq_token_mint (KEY_SID, SECRET, ACCOUNT, &grant, 0, NULL);
  gsize input_len = strrchr (token, '.') - token;
  guint8 digest[32];
  double t0, hmac_us, mint_us, verify_us;
  volatile guint sink = 0;

  hq_keyring_add (kr, KEY_SID, SECRET, ACCOUNT);

  t0 = now_us ();
  for (long i = 0; i < n; i++) {
    GHmac *h =
        g_hmac_new (G_CHECKSUM_SHA256, (const guchar *)SECRET, strlen (SECRET));
    gsize len = sizeof digest;
    g_hmac_update (h, (const guchar *)token, input_len);
    g_hmac_get_digest (h, digest, &len);
    g_hmac_unref (h);
    sink += digest[0];
  }
  hmac_us = (now_us () - t0) / n;

  t0 = now_us ();
  for (long i = 0; i < n; i++) {
    gchar *t = hq_token_mint (KEY_SID, SECRET, ACCOUNT, &grant, 0, NULL);
    sink += t[0];
    g_free (t);
  }
  mint_us = (now_us () - t0) / n;

  t0 = now_us ();
  for (long i = 0; i < n; i++) {
    HqTokenClaims *c = hq_token_verify (kr, token, "consult-1", 0, NULL);
    sink += c != NULL;
    hq_token_claims_free (c);
  }
  verify_us = (now_us () - t0) / n;

  printf ("token bench, %ld iterations, token %zu bytes\n", n, strlen (token));
  printf ("  baseline HMAC-SHA256 : %8.2f us/op\n", hmac_us);
  printf ("  mint                 : %8.2f us/op  (%.1fx baseline, %.0f/s)\n",
      mint_us, mint_us / hmac_us, 1e6 / mint_us);
  printf ("  verify               : %8.2f us/op  (%.1fx baseline, %.0f/s)\n",
      verify_us, verify_us / hmac_us, 1e6 / verify_us);
  g_free (token);
  hq_keyring_free (kr);
  return sink == 0xdeadbeef;
}
