/* bench/transport: what the libhq WebRTC transport costs.
 *
 *   1. ICE + DTLS handshake time between two transports on loopback,
 *      median and p90 of 20 (certificates made beforehand, as a server
 *      keeps one);
 *   2. SRTP protect + unprotect of 1200-byte packets through HqSrtp, for
 *      each profile, as a ratio against bare libsrtp2 calls with the same
 *      policies in the same run;
 *   3. end to end: 1200-byte RTP packets sent by one transport and received
 *      decrypted by the other over loopback, packets per second.
 *
 *   build/bench/bench-transport [srtp-packets]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <srtp2/srtp.h>
#include <hq/hqtransport.h>
#include "../tests/common/transportpair.h"

#define PACKET 1200

static gint
cmp_double (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *)a, y = *(const gdouble *)b;

  return x < y ? -1 : x > y;
}

static void
bench_handshake (void)
{
  gdouble ms[20];

  for (guint i = 0; i < G_N_ELEMENTS (ms); i++) {
    Pair pair;
    gint64 t0;

    pair_init (&pair, NULL);
    t0 = g_get_monotonic_time ();
    pair_start (&pair, NULL);
    assert_connected (&pair, 30);
    ms[i] = (g_get_monotonic_time () - t0) / 1000.0;
    pair_clear (&pair);
  }
  qsort (ms, G_N_ELEMENTS (ms), sizeof ms[0], (GCompareFunc)cmp_double);
  printf ("handshake (ICE+DTLS, loopback, n=20): median %.1f ms, p90 %.1f ms,"
          " min %.1f ms\n",
      ms[10], ms[18], ms[0]);
}

static void
bare_policy (srtp_policy_t *p, HqSrtpProfile profile, gboolean out, guint8 *key)
{
  memset (p, 0, sizeof *p);
  if (profile == HQ_SRTP_PROFILE_AEAD_AES_128_GCM) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth (&p->rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth (&p->rtcp);
  } else {
    srtp_crypto_policy_set_rtp_default (&p->rtp);
    srtp_crypto_policy_set_rtcp_default (&p->rtcp);
  }
  p->ssrc.type = out ? ssrc_any_outbound : ssrc_any_inbound;
  p->key = key;
  p->window_size = 1024;
  p->allow_repeat_tx = out;
}

static void
bench_srtp (HqSrtpProfile profile, guint n)
{
  guint8 key[HQ_SRTP_MAX_KEY_SALT], tmpl[PACKET];
  guint8 buf[PACKET + HQ_SRTP_MAX_TRAILER];
  srtp_policy_t pol;
  srtp_t out, in;
  HqSrtp *hq;
  gint64 t0;
  gdouble bare_us, hq_us;
  gsize len;

  for (guint i = 0; i < sizeof key; i++)
    key[i] = (guint8)(i * 7 + 1);

  /* Baseline: libsrtp2 directly. */
  bare_policy (&pol, profile, TRUE, key);
  srtp_create (&out, &pol);
  bare_policy (&pol, profile, FALSE, key);
  srtp_create (&in, &pol);
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++) {
    int l;
    make_rtp (buf, (guint16)i, 0x1234, PACKET - 12);
    l = PACKET;
    if (srtp_protect (out, buf, &l) || srtp_unprotect (in, buf, &l))
      g_error ("bare libsrtp2 failed at %u", i);
  }
  bare_us = (g_get_monotonic_time () - t0) / (gdouble)n;
  srtp_dealloc (out);
  srtp_dealloc (in);

  hq = hq_srtp_new (profile, key, key, NULL);
  make_rtp (tmpl, 0, 0x1234, PACKET - 12);
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++) {
    make_rtp (buf, (guint16)i, 0x1234, PACKET - 12);
    len = PACKET;
    if (!hq_srtp_protect (hq, FALSE, buf, &len, sizeof buf, NULL)
        || !hq_srtp_unprotect (hq, FALSE, buf, &len, NULL))
      g_error ("HqSrtp failed at %u", i);
  }
  hq_us = (g_get_monotonic_time () - t0) / (gdouble)n;
  hq_srtp_free (hq);
  printf ("srtp %-24s protect+unprotect %4d B: bare libsrtp2 %.2f us, "
          "HqSrtp %.2f us (ratio %.2f), %.0f Mbit/s\n",
      hq_srtp_profile_name (profile), PACKET, bare_us, hq_us, hq_us / bare_us,
      PACKET * 8 / hq_us);
}

static gboolean
received_at_least (gpointer data)
{
  Peer *p = ((gpointer *)data)[0];
  guint n = GPOINTER_TO_UINT (((gpointer *)data)[1]);
  HqTransportStats s;

  hq_transport_get_stats (p->t, &s);
  return s.rtp_received >= n;
}

static void
count_only (gboolean rtcp, guint8 *data, gsize len, gpointer user_data)
{
}

static void
bench_end_to_end (guint n)
{
  Pair pair;
  guint8 buf[PACKET + HQ_SRTP_MAX_TRAILER];
  HqTransportStats s;
  gint64 t0;
  gdouble secs;
  guint sent = 0;

  pair_init (&pair, NULL);
  pair_start (&pair, NULL);
  assert_connected (&pair, 30);
  hq_transport_set_receive_func (pair.b.t, count_only, NULL, NULL);
  t0 = g_get_monotonic_time ();
  /* Bursts of 64, each received before the next, so no socket buffer
   * overflows and the figure is the transport's, not the kernel's. */
  while (sent < n) {
    gpointer want[2];
    for (guint i = 0; i < 64; i++, sent++) {
      gsize len = make_rtp (buf, (guint16)sent, 0x4321, PACKET - 12);
      hq_transport_send_rtp (pair.a.t, buf, len, sizeof buf, NULL);
    }
    want[0] = &pair.b;
    want[1] = GUINT_TO_POINTER (sent);
    if (!wait_for (received_at_least, want, 10))
      break;
  }
  secs = (g_get_monotonic_time () - t0) / 1e6;
  hq_transport_get_stats (pair.b.t, &s);
  printf ("end to end %s, %u x %d B over loopback: %.0f packets/s "
          "(%.0f Mbit/s), %" G_GUINT64_FORMAT " lost\n",
      hq_srtp_profile_name (hq_transport_get_srtp_profile (pair.a.t)), n,
      PACKET, s.rtp_received / secs, s.rtp_received * PACKET * 8 / secs / 1e6,
      (guint64)sent - s.rtp_received);
  pair_clear (&pair);
}

int
main (int argc, char **argv)
{
  guint n = argc > 1 ? (guint)atoi (argv[1]) : 200000;

  bench_handshake ();
  bench_srtp (HQ_SRTP_PROFILE_AEAD_AES_128_GCM, n);
  bench_srtp (HQ_SRTP_PROFILE_AES128_CM_SHA1_80, n);
  bench_end_to_end (n / 4);
  return 0;
}
