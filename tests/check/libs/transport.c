/* Two HqTransports in one process over loopback: ICE, DTLS, SRTP and SRTCP
 * both ways with each SRTP profile; a fingerprint mismatch; garbage,
 * truncated DTLS, forged and replayed SRTP on a live connection (through a
 * test UDP relay); a peer that vanishes.  Suite `transport`.
 *
 * Everything runs on the test thread's main context; waits are loops over
 * that context until a condition holds, bounded by a generous deadline. */
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <hq/hqtransport.h>
#include <nice/interfaces.h>
#include "../../common/transportpair.h"

#define WAIT_SECONDS 30
#define SHORT_WAIT 5

static void
send_rtp (Peer *p, guint16 seq, guint32 ssrc)
{
  guint8 buf[1200 + HQ_SRTP_MAX_TRAILER];
  gsize len = make_rtp (buf, seq, ssrc, 1000);
  g_autoptr (GError) error = NULL;

  g_assert_true (hq_transport_send_rtp (p->t, buf, len, sizeof buf, &error));
  g_assert_no_error (error);
}

typedef struct
{
  Peer *p;
  guint n;
} Count;

static gboolean
received_at_least (gpointer data)
{
  Count *c = data;

  return c->p->received->len >= c->n;
}

static void
check_received_rtp (Peer *p, guint index, guint16 seq, guint32 ssrc)
{
  guint8 expect[1200];
  gsize len = make_rtp (expect, seq, ssrc, 1000);
  gsize got_len;
  const guint8 *got =
      g_bytes_get_data (g_ptr_array_index (p->received, index), &got_len);

  g_assert_cmpint (got[0], ==, 'R');
  g_assert_cmpmem (got + 1, got_len - 1, expect, len);
}

/* Sends @n RTP packets and one RTCP packet each way and checks every byte
 * that arrives. */
static void
exchange_media (Pair *pair, guint n)
{
  guint8 buf[64 + HQ_SRTP_MAX_TRAILER];
  gsize len;
  guint base_a = pair->a.received->len, base_b = pair->b.received->len;
  Count ca = { &pair->a, base_a + n + 1 }, cb = { &pair->b, base_b + n + 1 };
  const guint8 *got;
  gsize got_len;
  static guint16 seq = 1;
  guint16 first = seq;

  for (guint i = 0; i < n; i++, seq++) {
    send_rtp (&pair->a, seq, 0x11111111);
    send_rtp (&pair->b, seq, 0x22222222);
  }
  len = make_rtcp (buf, 0x11111111);
  g_assert_true (
      hq_transport_send_rtcp (pair->a.t, buf, len, sizeof buf, NULL));
  len = make_rtcp (buf, 0x22222222);
  g_assert_true (
      hq_transport_send_rtcp (pair->b.t, buf, len, sizeof buf, NULL));

  g_assert_true (wait_for (received_at_least, &ca, WAIT_SECONDS));
  g_assert_true (wait_for (received_at_least, &cb, WAIT_SECONDS));
  /* Loopback UDP keeps order; check each packet's bytes. */
  for (guint i = 0; i < n; i++) {
    check_received_rtp (&pair->b, base_b + i, first + i, 0x11111111);
    check_received_rtp (&pair->a, base_a + i, first + i, 0x22222222);
  }
  got = g_bytes_get_data (
      g_ptr_array_index (pair->b.received, base_b + n), &got_len);
  g_assert_cmpint (got[0], ==, 'C');
  g_assert_cmpuint (got_len, ==, 9);
  g_assert_cmpint (got[2], ==, 201);
}

/* --- tests --- */

static void
run_profile (HqSrtpProfile profile)
{
  HqSrtpProfile profiles[] = { profile, HQ_SRTP_PROFILE_NONE };
  Pair pair;
  HqTransportStats stats;
  g_autofree gchar *local = NULL, *remote = NULL;

  pair_init (&pair, profiles);
  pair_start (&pair, NULL);
  assert_connected (&pair, WAIT_SECONDS);
  g_assert_cmpint (hq_transport_get_srtp_profile (pair.a.t), ==, profile);
  g_assert_cmpint (hq_transport_get_srtp_profile (pair.b.t), ==, profile);
  g_assert_true (hq_transport_get_selected_pair (pair.a.t, &local, &remote));
  g_assert_true (g_str_has_prefix (remote, "127.0.0.1:"));

  exchange_media (&pair, 50);
  hq_transport_get_stats (pair.b.t, &stats);
  g_assert_cmpuint (stats.rtp_received, ==, 50);
  g_assert_cmpuint (stats.rtcp_received, ==, 1);
  g_assert_cmpuint (
      stats.dropped_auth + stats.dropped_replay + stats.dropped_garbage, ==, 0);
  pair_clear (&pair);
}

static void
test_gcm (void)
{
  run_profile (HQ_SRTP_PROFILE_AEAD_AES_128_GCM);
}

static void
test_aes_cm (void)
{
  run_profile (HQ_SRTP_PROFILE_AES128_CM_SHA1_80);
}

static void
test_profile_preference (void)
{
  /* Default lists on both sides: the server's preference, GCM, wins. */
  Pair pair;

  pair_init (&pair, NULL);
  pair_start (&pair, NULL);
  assert_connected (&pair, WAIT_SECONDS);
  g_assert_cmpint (hq_transport_get_srtp_profile (pair.a.t), ==,
      HQ_SRTP_PROFILE_AEAD_AES_128_GCM);
  pair_clear (&pair);
}

static void
test_not_ready (void)
{
  HqTransportConfig config;
  g_autoptr (HqTransport) t = NULL;
  g_autoptr (GError) error = NULL;
  guint8 buf[200 + HQ_SRTP_MAX_TRAILER];
  gsize len = make_rtp (buf, 1, 1, 100);

  hq_transport_config_init (&config);
  t = hq_transport_new (&config, &error);
  g_assert_no_error (error);
  g_assert_false (hq_transport_send_rtp (t, buf, len, sizeof buf, &error));
  g_assert_error (error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_NOT_READY);
  g_clear_error (&error);
  g_assert_false (
      hq_transport_add_remote_candidate (t, "candidate:garbage", &error));
  g_assert_error (
      error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (
      hq_transport_set_remote_fingerprint (t, "sha-1", "AB", &error));
  g_assert_error (error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_FINGERPRINT);
}

static gboolean
b_failed_and_a_connected (gpointer data)
{
  Pair *pair = data;

  return hq_transport_get_state (pair->b.t) == HQ_TRANSPORT_STATE_FAILED
      && hq_transport_get_state (pair->a.t) == HQ_TRANSPORT_STATE_CONNECTED;
}

static gboolean
b_dropped_early (gpointer data)
{
  Pair *pair = data;
  HqTransportStats stats;

  hq_transport_get_stats (pair->b.t, &stats);
  return stats.dropped_early >= 10;
}

static void
test_fingerprint_mismatch (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HqCertificate) impostor = hq_certificate_new (&error);
  HqTransportStats stats;
  const GError *why;
  Pair pair;

  pair_init (&pair, NULL);
  /* B expects the fingerprint of a certificate A does not have. */
  pair_start (&pair, hq_certificate_get_fingerprint (impostor));
  g_assert_true (wait_for (b_failed_and_a_connected, &pair, WAIT_SECONDS));
  why = hq_transport_get_error (pair.b.t);
  g_assert_error (why, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_FINGERPRINT);
  g_assert_nonnull (strstr (why->message, "fingerprint"));
  g_assert_nonnull (
      strstr (why->message, hq_certificate_get_fingerprint (impostor)));
  g_test_message ("B refused: %s", why->message);

  /* A thinks it is connected and sends: B decrypts nothing. */
  for (guint16 i = 0; i < 10; i++)
    send_rtp (&pair.a, i, 0x33333333);
  g_assert_true (wait_for (b_dropped_early, &pair, WAIT_SECONDS));
  hq_transport_get_stats (pair.b.t, &stats);
  g_assert_cmpuint (stats.rtp_received, ==, 0);
  g_assert_cmpuint (pair.b.received->len, ==, 0);
  pair_clear (&pair);
}

/* Relay filter for the hostile test: keeps a copy of the last SRTP packet
 * A sent, so the test can forge and replay it. */
typedef struct
{
  guint8 last[2048];
  gsize last_len;
  gboolean drop_all;
} Capture;

static gboolean
capture_filter (HqUdpRelay *relay, HqRelayDirection dir, guint8 *buf,
    gsize *len, gsize size, gpointer user_data)
{
  Capture *cap = user_data;

  if (cap->drop_all)
    return FALSE;
  /* SRTP, not SRTCP (RFC 5761: RTCP types are 192..223). */
  if (dir == HQ_RELAY_A_TO_B && buf[0] >= 128 && buf[0] <= 191 && *len > 1
      && (buf[1] < 192 || buf[1] > 223) && *len <= sizeof cap->last) {
    memcpy (cap->last, buf, *len);
    cap->last_len = *len;
  }
  return TRUE;
}

/* A connected pair whose every datagram crosses a test relay that
 * @cap's filter watches. */
static void
start_relayed (Pair *pair, Capture *cap)
{
  g_autoptr (GError) error = NULL;

  pair_init (pair, NULL);
  pair->relay = hq_udp_relay_new (NULL, &error);
  g_assert_no_error (error);
  hq_udp_relay_set_filter (pair->relay, capture_filter, cap);
  pair_start (pair, NULL);
  assert_connected (pair, WAIT_SECONDS);
}

typedef struct
{
  Pair *pair;
  guint64 garbage, auth, replay, dtls;
} Drops;

static gboolean
drops_reached (gpointer data)
{
  Drops *d = data;
  HqTransportStats s;

  hq_transport_get_stats (d->pair->b.t, &s);
  return s.dropped_garbage >= d->garbage && s.dropped_auth >= d->auth
      && s.dropped_replay >= d->replay && s.dtls_received >= d->dtls;
}

static void
test_hostile_packets (void)
{
  Capture cap = { 0 };
  HqTransportStats before, after;
  guint8 junk[300], forged[2048];
  Drops drops;
  Pair pair;

  start_relayed (&pair, &cap);
  exchange_media (&pair, 5);
  hq_transport_get_stats (pair.b.t, &before);

  /* 1. Random bytes of every first-byte class that is not ours. */
  for (guint i = 0; i < sizeof junk; i++)
    junk[i] = (guint8)g_test_rand_int ();
  junk[0] = 0x05;
  hq_udp_relay_inject (pair.relay, HQ_RELAY_A_TO_B, junk, sizeof junk);
  junk[0] = 0xff;
  hq_udp_relay_inject (pair.relay, HQ_RELAY_A_TO_B, junk, sizeof junk);
  junk[0] = 0x70;
  hq_udp_relay_inject (pair.relay, HQ_RELAY_A_TO_B, junk, 1);
  /* 2. A truncated DTLS record (a handshake header, cut short). */
  {
    const guint8 dtls[] = { 22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 9, 0x40 };
    hq_udp_relay_inject (pair.relay, HQ_RELAY_A_TO_B, dtls, sizeof dtls);
  }
  /* 3. RTP-looking garbage and a truncated RTP header. */
  junk[0] = 0x80;
  junk[1] = 96;
  hq_udp_relay_inject (pair.relay, HQ_RELAY_A_TO_B, junk, sizeof junk);
  hq_udp_relay_inject (pair.relay, HQ_RELAY_A_TO_B, junk, 5);
  /* 4. A real SRTP packet moved to a sequence number not seen yet (so the
   *    replay check passes and authentication must catch it), then the
   *    real packet replayed. */
  g_assert_cmpuint (cap.last_len, >, 100);
  memcpy (forged, cap.last, cap.last_len);
  forged[2] ^= 0x01;
  hq_udp_relay_inject (pair.relay, HQ_RELAY_A_TO_B, forged, cap.last_len);
  hq_udp_relay_inject (pair.relay, HQ_RELAY_A_TO_B, cap.last, cap.last_len);

  drops = (Drops){ &pair, before.dropped_garbage + 4, before.dropped_auth + 2,
    before.dropped_replay + 1, before.dtls_received + 1 };
  if (!wait_for (drops_reached, &drops, SHORT_WAIT)) {
    hq_transport_get_stats (pair.b.t, &after);
    g_error ("drops: garbage %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
             ", auth %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
             ", replay %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
             ", dtls %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT,
        after.dropped_garbage, drops.garbage, after.dropped_auth, drops.auth,
        after.dropped_replay, drops.replay, after.dtls_received, drops.dtls);
  }
  hq_transport_get_stats (pair.b.t, &after);
  g_test_message ("dropped: garbage %" G_GUINT64_FORMAT
                  ", auth %" G_GUINT64_FORMAT ", replay %" G_GUINT64_FORMAT,
      after.dropped_garbage, after.dropped_auth, after.dropped_replay);
  /* Nothing forged reached the application. */
  g_assert_cmpuint (after.rtp_received, ==, before.rtp_received);

  /* And the connection carries on. */
  g_assert_cmpint (
      hq_transport_get_state (pair.b.t), ==, HQ_TRANSPORT_STATE_CONNECTED);
  exchange_media (&pair, 5);
  pair_clear (&pair);
}

static gboolean
a_failed (gpointer data)
{
  Pair *pair = data;

  return hq_transport_get_state (pair->a.t) == HQ_TRANSPORT_STATE_FAILED;
}

static void
test_vanished_peer (void)
{
  Capture cap = { 0 };
  Pair pair;
  gint64 start;

  start_relayed (&pair, &cap);

  /* The network between them goes dark. */
  cap.drop_all = TRUE;
  start = g_get_monotonic_time ();
  g_assert_true (wait_for (a_failed, &pair, 60));
  g_assert_error (hq_transport_get_error (pair.a.t), HQ_TRANSPORT_ERROR,
      HQ_TRANSPORT_ERROR_CONSENT_LOST);
  g_test_message (
      "consent lost after %.1f s", (g_get_monotonic_time () - start) / 1e6);
  pair_clear (&pair);
}

static void
count_ready (HqTransport *t, const gchar *state, gpointer user_data)
{
  if (g_str_equal (state, "ready"))
    (*(guint *)user_data)++;
}

static gboolean
both_ready (gpointer data)
{
  const guint *ready = data;

  return ready[0] > 0 && ready[1] > 0;
}

/* Once ICE is done (ready) each side polls the selected pair's socket
 * only and runs libnice's other sockets from it (hqtransport.c,
 * "Polling"): media still flows both ways, and the consent checks keep
 * the pair for 15 s, past the 10 s in which consent is lost when they go
 * unanswered (/transport/vanished-peer). */
static void
test_ice_done_polls_selected_socket (void)
{
  guint ready[2] = { 0, 0 };
  gint64 until;
  Pair pair;

  pair_init (&pair, NULL);
  g_signal_connect (
      pair.a.t, "ice-state-changed", G_CALLBACK (count_ready), &ready[0]);
  g_signal_connect (
      pair.b.t, "ice-state-changed", G_CALLBACK (count_ready), &ready[1]);
  pair_start (&pair, NULL);
  assert_connected (&pair, WAIT_SECONDS);
  g_assert_true (wait_for (both_ready, ready, WAIT_SECONDS));
  until = g_get_monotonic_time () + 15 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < until)
    exchange_media (&pair, 1);
  g_assert_cmpint (
      hq_transport_get_state (pair.a.t), ==, HQ_TRANSPORT_STATE_CONNECTED);
  g_assert_cmpint (
      hq_transport_get_state (pair.b.t), ==, HQ_TRANSPORT_STATE_CONNECTED);
  pair_clear (&pair);
}

typedef struct
{
  Pair *pair;
  HqTransportState state;
} BothIn;

static gboolean
both_in (gpointer data)
{
  BothIn *w = data;

  return hq_transport_get_state (w->pair->a.t) == w->state
      && hq_transport_get_state (w->pair->b.t) == w->state;
}

/* ICE restart on a connected pair, as an offer and its answer do it: both
 * make new credentials and candidates, learn the other's, and are
 * connected again on the same DTLS session (no DTLS record crosses). */
static void
test_ice_restart (void)
{
  g_autofree gchar *u1 = NULL, *p1 = NULL, *ua = NULL, *pa = NULL, *ub = NULL,
                   *pb = NULL;
  g_autoptr (GError) error = NULL;
  HqTransportStats before, after;
  Pair pair;

  pair_init (&pair, NULL);
  pair_start (&pair, NULL);
  assert_connected (&pair, WAIT_SECONDS);
  exchange_media (&pair, 5);
  hq_transport_get_local_credentials (pair.a.t, &u1, &p1);
  hq_transport_get_stats (pair.b.t, &before);

  g_assert_true (hq_transport_restart_ice (pair.a.t, &error));
  g_assert_true (hq_transport_restart_ice (pair.b.t, &error));
  g_assert_no_error (error);
  hq_transport_get_local_credentials (pair.a.t, &ua, &pa);
  hq_transport_get_local_credentials (pair.b.t, &ub, &pb);
  g_assert_cmpstr (u1, !=, ua);
  g_assert_true (
      hq_transport_set_remote_credentials (pair.b.t, ua, pa, &error));
  g_assert_true (
      hq_transport_set_remote_credentials (pair.a.t, ub, pb, &error));
  g_assert_no_error (error);
  g_assert_true (wait_for (
      both_in, &(BothIn){ &pair, HQ_TRANSPORT_STATE_CONNECTED }, WAIT_SECONDS));

  exchange_media (&pair, 5);
  hq_transport_get_stats (pair.b.t, &after);
  g_assert_cmpuint (after.dtls_received, ==, before.dtls_received);
  pair_clear (&pair);
}

/* The network goes dark until both sides lose consent, then heals: an ICE
 * restart on both (new credentials exchanged, candidates announced again
 * through the relay) brings them back to CONNECTED on the same DTLS
 * session, with no new handshake, and SRTP carries on both ways. */
static void
test_ice_restart_after_consent_loss (void)
{
  g_autofree gchar *ua = NULL, *pa = NULL, *ub = NULL, *pb = NULL;
  g_autoptr (GError) error = NULL;
  HqTransportStats a_before, b_before, a_after, b_after;
  Capture cap = { 0 };
  Pair pair;

  start_relayed (&pair, &cap);
  exchange_media (&pair, 5);

  cap.drop_all = TRUE;
  g_assert_true (
      wait_for (both_in, &(BothIn){ &pair, HQ_TRANSPORT_STATE_FAILED }, 60));
  g_test_message ("both lost consent");
  g_assert_error (hq_transport_get_error (pair.a.t), HQ_TRANSPORT_ERROR,
      HQ_TRANSPORT_ERROR_CONSENT_LOST);
  g_assert_error (hq_transport_get_error (pair.b.t), HQ_TRANSPORT_ERROR,
      HQ_TRANSPORT_ERROR_CONSENT_LOST);
  /* Nothing goes out while failed. */
  {
    guint8 buf[200 + HQ_SRTP_MAX_TRAILER];
    gsize len = make_rtp (buf, 1, 0x11111111, 100);
    g_assert_false (
        hq_transport_send_rtp (pair.a.t, buf, len, sizeof buf, &error));
    g_assert_error (error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_NOT_READY);
    g_clear_error (&error);
  }
  hq_transport_get_stats (pair.a.t, &a_before);
  hq_transport_get_stats (pair.b.t, &b_before);

  /* The network heals; the offerer restarts, the answerer follows. */
  cap.drop_all = FALSE;
  g_assert_true (hq_transport_restart_ice (pair.a.t, &error));
  g_assert_no_error (error);
  g_assert_true (hq_transport_restart_ice (pair.b.t, &error));
  g_assert_no_error (error);
  g_assert_cmpint (
      hq_transport_get_state (pair.a.t), ==, HQ_TRANSPORT_STATE_CONNECTING);
  g_assert_null (hq_transport_get_error (pair.a.t));
  hq_transport_get_local_credentials (pair.a.t, &ua, &pa);
  hq_transport_get_local_credentials (pair.b.t, &ub, &pb);
  g_assert_true (
      hq_transport_set_remote_credentials (pair.a.t, ub, pb, &error));
  g_assert_true (
      hq_transport_set_remote_credentials (pair.b.t, ua, pa, &error));
  g_assert_no_error (error);
  g_assert_true (wait_for (
      both_in, &(BothIn){ &pair, HQ_TRANSPORT_STATE_CONNECTED }, WAIT_SECONDS));
  g_test_message ("both connected again");

  exchange_media (&pair, 5);
  hq_transport_get_stats (pair.a.t, &a_after);
  hq_transport_get_stats (pair.b.t, &b_after);
  /* No DTLS record crossed: the session from before carried on. */
  g_assert_cmpuint (a_after.dtls_received, ==, a_before.dtls_received);
  g_assert_cmpuint (b_after.dtls_received, ==, b_before.dtls_received);
  g_assert_cmpint (hq_transport_get_srtp_profile (pair.a.t), ==,
      HQ_SRTP_PROFILE_AEAD_AES_128_GCM);
  pair_clear (&pair);
}

/* ICE restart cannot revive what never connected, nor a failed DTLS. */
static void
test_ice_restart_refused (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HqCertificate) impostor = hq_certificate_new (&error);
  Pair pair;

  pair_init (&pair, NULL);
  pair_start (&pair, hq_certificate_get_fingerprint (impostor));
  g_assert_true (wait_for (b_failed_and_a_connected, &pair, WAIT_SECONDS));
  g_assert_false (hq_transport_restart_ice (pair.b.t, &error));
  g_assert_error (error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_CLOSED);
  g_assert_nonnull (strstr (error->message, "fingerprint"));
  g_test_message ("refused: %s", error->message);
  g_clear_error (&error);
  g_assert_cmpint (
      hq_transport_get_state (pair.b.t), ==, HQ_TRANSPORT_STATE_FAILED);
  hq_transport_close (pair.a.t);
  g_assert_false (hq_transport_restart_ice (pair.a.t, &error));
  g_assert_error (error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_CLOSED);
  pair_clear (&pair);
}

typedef struct
{
  GPtrArray *cands;
  gboolean done;
} Gathered;

static void
collect (HqTransport *t, const gchar *cand, Gathered *g)
{
  g_ptr_array_add (g->cands, g_strdup (cand));
}

static void
collected (HqTransport *t, Gathered *g)
{
  g->done = TRUE;
}

static gboolean
gathered (gpointer data)
{
  return ((Gathered *)data)->done;
}

/* Announced addresses (1:1 NAT) and the port range reach the candidates. */
static void
test_public_address_and_ports (void)
{
  HqTransportConfig config;
  g_autoptr (HqTransport) t = NULL;
  g_autoptr (GError) error = NULL;
  Gathered g = { g_ptr_array_new_with_free_func (g_free), FALSE };
  GList *ips = nice_interfaces_get_local_ips (FALSE);
  gboolean has_ipv4 = FALSE, public_seen = FALSE;

  for (GList *l = ips; l; l = l->next)
    has_ipv4 |= strchr (l->data, ':') == NULL;
  g_list_free_full (ips, g_free);

  hq_transport_config_init (&config);
  config.public_address = "203.0.113.7";
  config.port_min = 42000;
  config.port_max = 42050;
  t = hq_transport_new (&config, &error);
  g_assert_no_error (error);
  g_signal_connect (t, "local-candidate", G_CALLBACK (collect), &g);
  g_signal_connect (t, "gathering-done", G_CALLBACK (collected), &g);
  g_assert_true (hq_transport_gather (t, &error));
  g_assert_true (wait_for (gathered, &g, WAIT_SECONDS));
  g_assert_cmpuint (g.cands->len, >, 0);
  for (guint i = 0; i < g.cands->len; i++) {
    gchar **f = g_strsplit (g_ptr_array_index (g.cands, i), " ", -1);
    guint port = atoi (f[5]);
    g_test_message ("%s", (gchar *)g_ptr_array_index (g.cands, i));
    /* IPv4 host candidates announce the public address, but loopback. */
    if (strchr (f[4], ':') == NULL)
      g_assert_true (
          g_str_equal (f[4], "203.0.113.7") || g_str_equal (f[4], "127.0.0.1"));
    public_seen |= g_str_equal (f[4], "203.0.113.7");
    g_assert_cmpuint (port, >=, 42000);
    g_assert_cmpuint (port, <=, 42050);
    g_strfreev (f);
  }
  /* With an IPv4 interface besides loopback, it is announced as public. */
  if (has_ipv4)
    g_assert_true (public_seen);
  g_ptr_array_unref (g.cands);
}

/* The join reply's ICE servers (hqice.h): URLs as RFC 7064/7065 write
 * them, bad ones refused with a message that names them. */
static void
test_ice_server_urls (void)
{
  static const struct
  {
    const gchar *url;
    HqIceUrlScheme scheme;
    const gchar *host;
    guint port;
    gboolean tcp;
  } good[] = {
    { "stun:stun.example.org", HQ_ICE_URL_STUN, "stun.example.org", 3478,
        FALSE },
    { "turn:127.0.0.1:3479?transport=udp", HQ_ICE_URL_TURN, "127.0.0.1", 3479,
        FALSE },
    { "turn:turn.example.org?transport=tcp", HQ_ICE_URL_TURN,
        "turn.example.org", 3478, TRUE },
    { "turns:turn.example.org:443?transport=tcp", HQ_ICE_URL_TURNS,
        "turn.example.org", 443, TRUE },
    { "TURN:[2001:db8::1]:3478", HQ_ICE_URL_TURN, "2001:db8::1", 3478, FALSE },
  };
  static const gchar *const bad[] = { "http://x", "turn:", "turn:host:0",
    "turn:host:70000", "turn:host?transport=sctp", "stun:host?transport=tcp",
    "turns:host?transport=udp", "turn:[::1", "turn:user@host", NULL };

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (HqIceServer) s = hq_ice_server_parse (good[i].url, &error);
    g_assert_no_error (error);
    g_assert_cmpint (s->scheme, ==, good[i].scheme);
    g_assert_cmpstr (s->host, ==, good[i].host);
    g_assert_cmpuint (s->port, ==, good[i].port);
    g_assert_cmpint (s->tcp, ==, good[i].tcp);
  }
  for (const gchar *const *u = bad; *u; u++) {
    g_autoptr (GError) error = NULL;
    g_assert_null (hq_ice_server_parse (*u, &error));
    g_assert_error (
        error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull (strstr (error->message, *u));
  }
}

/* RTCIceServer objects in, one HqIceServer per usable URL out, each with
 * its object's credentials; and the TURN REST API credential coturn
 * checks (the value Python's hmac and base64 give). */
static void
test_ice_servers_from_json (void)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GPtrArray) servers = NULL;
  g_autofree gchar *credential = NULL;
  HqIceServer *s;

  g_assert_true (json_parser_load_from_data (parser,
      "[{\"urls\": \"stun:127.0.0.1\"},"
      " {\"urls\": [\"turn:127.0.0.1?transport=udp\", \"bogus:x\","
      "  \"turns:t.example.org\"], \"username\": \"1:alice\","
      "  \"credential\": \"c\"}, 7, {\"urls\": 3}]",
      -1, NULL));
  servers = hq_ice_servers_from_json (
      json_node_get_array (json_parser_get_root (parser)));
  g_assert_cmpuint (servers->len, ==, 3);
  s = g_ptr_array_index (servers, 0);
  g_assert_cmpint (s->scheme, ==, HQ_ICE_URL_STUN);
  g_assert_null (s->username);
  s = g_ptr_array_index (servers, 1);
  g_assert_cmpint (s->scheme, ==, HQ_ICE_URL_TURN);
  g_assert_cmpstr (s->username, ==, "1:alice");
  g_assert_cmpstr (s->credential, ==, "c");
  s = g_ptr_array_index (servers, 2);
  g_assert_cmpint (s->scheme, ==, HQ_ICE_URL_TURNS);
  g_assert_cmpuint (s->port, ==, 5349);

  credential =
      hq_turn_rest_credential ("s3cret", "1796512616:guest-587df620fec5665c");
  g_assert_cmpstr (credential, ==, "XIiKm0o3eY4FhMJN1qY6hsh8W3M=");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/transport/srtp/aead-aes-128-gcm", test_gcm);
  g_test_add_func ("/transport/srtp/aes128-cm-sha1-80", test_aes_cm);
  g_test_add_func (
      "/transport/srtp/profile-preference", test_profile_preference);
  g_test_add_func ("/transport/not-ready", test_not_ready);
  g_test_add_func (
      "/transport/fingerprint-mismatch", test_fingerprint_mismatch);
  g_test_add_func ("/transport/hostile-packets", test_hostile_packets);
  g_test_add_func ("/transport/vanished-peer", test_vanished_peer);
  g_test_add_func ("/transport/ice-done-polls-selected-socket",
      test_ice_done_polls_selected_socket);
  g_test_add_func ("/transport/ice-restart", test_ice_restart);
  g_test_add_func ("/transport/ice-restart-after-consent-loss",
      test_ice_restart_after_consent_loss);
  g_test_add_func ("/transport/ice-restart-refused", test_ice_restart_refused);
  g_test_add_func (
      "/transport/public-address-and-ports", test_public_address_and_ports);
  g_test_add_func ("/transport/ice-server-urls", test_ice_server_urls);
  g_test_add_func (
      "/transport/ice-servers-from-json", test_ice_servers_from_json);
  return g_test_run ();
}
