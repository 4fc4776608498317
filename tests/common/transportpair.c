/* Transport pair for tests and benchmarks; see transportpair.h. */
#include "transportpair.h"

#include <stdlib.h>
#include <string.h>

/* --- waiting --- */

static gboolean
wake (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

gboolean
wait_for (Predicate pred, gpointer data, guint seconds)
{
  gint64 deadline = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;
  /* A periodic wake-up so a quiet context still re-checks the deadline. */
  guint tick = g_timeout_add (50, wake, NULL);
  gboolean ok;

  while (!(ok = pred (data)) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);
  return ok;
}

/* --- peers --- */

static Peer *
other (Peer *p)
{
  return p == &p->pair->a ? &p->pair->b : &p->pair->a;
}

static void
on_candidate (HqTransport *t, const gchar *cand, Peer *p)
{
  g_autoptr (GError) error = NULL;

  /* Only loopback: the machine's other interfaces are not under test. */
  if (strstr (cand, " 127.0.0.1 ") == NULL)
    return;
  if (p->pair->relay) {
    /* Each side's real address is where the relay sends the other's
     * packets (again after an ICE restart, which moves to new ports). */
    gchar **f = g_strsplit (cand, " ", -1);
    if (p == &p->pair->b)
      hq_udp_relay_set_b_address (p->pair->relay, f[4], atoi (f[5]));
    else
      hq_udp_relay_set_a_address (p->pair->relay, f[4], atoi (f[5]));
    g_strfreev (f);
    return;
  }
  g_assert_true (
      hq_transport_add_remote_candidate (other (p)->t, cand, &error));
  g_assert_no_error (error);
}

static void
on_gathered (HqTransport *t, Peer *p)
{
  p->gathered = TRUE;
  if (p->pair->relay) {
    /* Each side learns only the relay's socket facing it. */
    HqRelayDirection facing =
        p == &p->pair->a ? HQ_RELAY_B_TO_A : HQ_RELAY_A_TO_B;
    g_autofree gchar *c = hq_udp_relay_candidate (p->pair->relay, facing);
    g_assert_true (hq_transport_add_remote_candidate (other (p)->t, c, NULL));
  }
  hq_transport_end_of_remote_candidates (other (p)->t);
}

static void
on_receive (gboolean rtcp, guint8 *data, gsize len, gpointer user_data)
{
  Peer *p = user_data;
  guint8 *copy = g_malloc (len + 1);

  copy[0] = rtcp ? 'C' : 'R';
  memcpy (copy + 1, data, len);
  g_ptr_array_add (p->received, g_bytes_new_take (copy, len + 1));
}

static void
peer_init (Peer *p, Pair *pair, gboolean is_a, const HqSrtpProfile *profiles,
    HqCertificate *cert)
{
  HqTransportConfig config;
  g_autoptr (GError) error = NULL;

  hq_transport_config_init (&config);
  config.controlling = is_a;
  config.dtls_role = is_a ? HQ_DTLS_ROLE_CLIENT : HQ_DTLS_ROLE_SERVER;
  config.srtp_profiles = profiles;
  config.certificate = cert;
  p->pair = pair;
  p->received = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  p->t = hq_transport_new (&config, &error);
  g_assert_no_error (error);
  g_signal_connect (p->t, "local-candidate", G_CALLBACK (on_candidate), p);
  g_signal_connect (p->t, "gathering-done", G_CALLBACK (on_gathered), p);
  hq_transport_set_receive_func (p->t, on_receive, p, NULL);
}

static void
peer_clear (Peer *p)
{
  g_clear_object (&p->t);
  g_clear_pointer (&p->received, g_ptr_array_unref);
}

/* Exchanges credentials and fingerprints, and starts both. When
 * @b_expects is given, B is told that fingerprint instead of A's. */
void
pair_start (Pair *pair, const gchar *b_expects)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *ua = NULL, *pa = NULL, *ub = NULL, *pb = NULL;

  hq_transport_get_local_credentials (pair->a.t, &ua, &pa);
  hq_transport_get_local_credentials (pair->b.t, &ub, &pb);
  g_assert_true (
      hq_transport_set_remote_credentials (pair->a.t, ub, pb, &error));
  g_assert_true (
      hq_transport_set_remote_credentials (pair->b.t, ua, pa, &error));
  g_assert_true (hq_transport_set_remote_fingerprint (pair->a.t, "sha-256",
      hq_transport_get_local_fingerprint (pair->b.t), &error));
  g_assert_true (hq_transport_set_remote_fingerprint (pair->b.t, "sha-256",
      b_expects ? b_expects : hq_transport_get_local_fingerprint (pair->a.t),
      &error));
  /* B first, so the relay knows B's address before A's checks arrive. */
  g_assert_true (hq_transport_gather (pair->b.t, &error));
  g_assert_true (hq_transport_gather (pair->a.t, &error));
}

void
pair_init (Pair *pair, const HqSrtpProfile *profiles)
{
  memset (pair, 0, sizeof *pair);
  peer_init (&pair->a, pair, TRUE, profiles, NULL);
  peer_init (&pair->b, pair, FALSE, profiles, NULL);
}

void
pair_clear (Pair *pair)
{
  peer_clear (&pair->a);
  peer_clear (&pair->b);
  g_clear_pointer (&pair->relay, hq_udp_relay_free);
}

static gboolean
both_settled (gpointer data)
{
  Pair *pair = data;
  HqTransportState a = hq_transport_get_state (pair->a.t);
  HqTransportState b = hq_transport_get_state (pair->b.t);

  return (a == HQ_TRANSPORT_STATE_CONNECTED || a == HQ_TRANSPORT_STATE_FAILED)
      && (b == HQ_TRANSPORT_STATE_CONNECTED || b == HQ_TRANSPORT_STATE_FAILED);
}

void
assert_connected (Pair *pair, guint seconds)
{
  g_assert_true (wait_for (both_settled, pair, seconds));
  if (hq_transport_get_error (pair->a.t))
    g_error ("A failed: %s", hq_transport_get_error (pair->a.t)->message);
  if (hq_transport_get_error (pair->b.t))
    g_error ("B failed: %s", hq_transport_get_error (pair->b.t)->message);
  g_assert_cmpint (
      hq_transport_get_state (pair->a.t), ==, HQ_TRANSPORT_STATE_CONNECTED);
  g_assert_cmpint (
      hq_transport_get_state (pair->b.t), ==, HQ_TRANSPORT_STATE_CONNECTED);
}

/* --- media --- */

/* An RTP packet: V=2, PT 96, @seq, timestamp seq*3000, SSRC @ssrc, payload
 * of @payload_len bytes derived from seq. */
gsize
make_rtp (guint8 *buf, guint16 seq, guint32 ssrc, gsize payload_len)
{
  buf[0] = 0x80;
  buf[1] = 96;
  buf[2] = seq >> 8;
  buf[3] = seq & 0xff;
  buf[4] = (seq * 3000u) >> 24;
  buf[5] = (seq * 3000u) >> 16;
  buf[6] = (seq * 3000u) >> 8;
  buf[7] = (seq * 3000u) & 0xff;
  buf[8] = ssrc >> 24;
  buf[9] = ssrc >> 16;
  buf[10] = ssrc >> 8;
  buf[11] = ssrc & 0xff;
  for (gsize i = 0; i < payload_len; i++)
    buf[12 + i] = (guint8)(seq + i);
  return 12 + payload_len;
}

/* An RTCP receiver report with no report blocks, from @ssrc. */
gsize
make_rtcp (guint8 *buf, guint32 ssrc)
{
  buf[0] = 0x80;
  buf[1] = 201;
  buf[2] = 0;
  buf[3] = 1;
  buf[4] = ssrc >> 24;
  buf[5] = ssrc >> 16;
  buf[6] = ssrc >> 8;
  buf[7] = ssrc & 0xff;
  return 8;
}
