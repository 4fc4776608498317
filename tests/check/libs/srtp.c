/* Unit tests of libhq's SRTP (hqsrtp.h): AEAD_AES_128_GCM is libhq's own
 * (hqsrtpgcm.c), so it is checked here against libsrtp2, which browsers'
 * SRTP derives from: what we protect must be byte for byte what libsrtp2
 * makes of the same packet with the same keys, and what libsrtp2 protects
 * we must unprotect; replays, old packets and forgeries are refused. */
#include <string.h>
#include <glib.h>
#include <srtp2/srtp.h>
#include <hq/hqsrtp.h>

#define KEY_SALT 28 /* AEAD_AES_128_GCM: 16-byte key, 12-byte salt */
#define BUF 1500

typedef struct
{
  guint8 a[KEY_SALT], b[KEY_SALT]; /* our keys, the peer's */
  HqSrtp *ours; /* sends with a, receives with b */
  srtp_t lib_a_out, lib_a_in, lib_b_out; /* libsrtp2 with the same keys */
} Fixture;

static srtp_t
lib_session (const guint8 *key, gboolean outbound)
{
  srtp_policy_t policy;
  srtp_t s = NULL;

  memset (&policy, 0, sizeof policy);
  srtp_crypto_policy_set_aes_gcm_128_16_auth (&policy.rtp);
  srtp_crypto_policy_set_aes_gcm_128_16_auth (&policy.rtcp);
  policy.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
  policy.key = (unsigned char *)key;
  policy.window_size = 1024;
  policy.allow_repeat_tx = outbound;
  g_assert_cmpint (srtp_create (&s, &policy), ==, srtp_err_status_ok);
  return s;
}

static void
fixture_init (Fixture *f)
{
  GError *error = NULL;

  for (guint i = 0; i < KEY_SALT; i++) {
    f->a[i] = (guint8)g_random_int ();
    f->b[i] = (guint8)g_random_int ();
  }
  f->ours = hq_srtp_new (HQ_SRTP_PROFILE_AEAD_AES_128_GCM, f->a, f->b, &error);
  g_assert_no_error (error);
  f->lib_a_out = lib_session (f->a, TRUE);
  f->lib_a_in = lib_session (f->a, FALSE);
  f->lib_b_out = lib_session (f->b, TRUE);
}

static void
fixture_clear (Fixture *f)
{
  hq_srtp_free (f->ours);
  srtp_dealloc (f->lib_a_out);
  srtp_dealloc (f->lib_a_in);
  srtp_dealloc (f->lib_b_out);
}

/* An RTP packet of @ssrc and @seq: with @csrcs CSRCs, a one-byte-header
 * extension when @ext, and @payload bytes. */
static gsize
make_rtp (guint8 *buf, guint32 ssrc, guint16 seq, guint csrcs, gboolean ext,
    gsize payload)
{
  gsize n = 12;

  buf[0] = (guint8)(0x80 | (ext ? 0x10 : 0) | csrcs);
  buf[1] = 96;
  buf[2] = (guint8)(seq >> 8);
  buf[3] = (guint8)seq;
  for (guint i = 0; i < 4; i++)
    buf[4 + i] = (guint8)(seq * 3000u >> (24 - 8 * i));
  for (guint i = 0; i < 4; i++)
    buf[8 + i] = (guint8)(ssrc >> (24 - 8 * i));
  for (guint c = 0; c < csrcs; c++, n += 4)
    memset (buf + n, (gint)(0x10 + c), 4);
  if (ext) {
    const guint8 block[] = { 0xbe, 0xde, 0x00, 0x01, 0x10, 0x7f, 0, 0 };
    memcpy (buf + n, block, sizeof block);
    n += sizeof block;
  }
  for (gsize i = 0; i < payload; i++)
    buf[n + i] = (guint8)(i * 7 + seq);
  return n + payload;
}

/* A compound RTCP packet from @ssrc: a receiver report and a PLI. */
static gsize
make_rtcp (guint8 *buf, guint32 ssrc)
{
  const guint8 rr[] = { 0x80, 201, 0x00, 0x01, 0, 0, 0, 0 };
  const guint8 pli[] = { 0x81, 206, 0x00, 0x02, 0, 0, 0, 0, 1, 2, 3, 4 };

  memcpy (buf, rr, sizeof rr);
  memcpy (buf + sizeof rr, pli, sizeof pli);
  for (guint i = 0; i < 4; i++)
    buf[4 + i] = buf[sizeof rr + 4 + i] = (guint8)(ssrc >> (24 - 8 * i));
  return sizeof rr + sizeof pli;
}

/* @packet protected by us and by libsrtp2 with the same keys; unless it
 * is a @repeat of one sent before, libsrtp2 receives ours. */
static void
check_same_as_libsrtp (
    Fixture *f, gboolean rtcp, const guint8 *packet, gsize len, gboolean repeat)
{
  guint8 ours[BUF], theirs[BUF], back[BUF];
  gsize ours_len = len;
  int theirs_len = (int)len, back_len;
  GError *error = NULL;

  memcpy (ours, packet, len);
  memcpy (theirs, packet, len);
  g_assert_true (
      hq_srtp_protect (f->ours, rtcp, ours, &ours_len, sizeof ours, &error));
  g_assert_no_error (error);
  g_assert_cmpint (rtcp ? srtp_protect_rtcp (f->lib_a_out, theirs, &theirs_len)
                        : srtp_protect (f->lib_a_out, theirs, &theirs_len),
      ==, srtp_err_status_ok);
  g_assert_cmpmem (ours, ours_len, theirs, theirs_len);
  if (repeat)
    return;
  /* and libsrtp2 receives it as it was */
  memcpy (back, ours, ours_len);
  back_len = (int)ours_len;
  g_assert_cmpint (rtcp ? srtp_unprotect_rtcp (f->lib_a_in, back, &back_len)
                        : srtp_unprotect (f->lib_a_in, back, &back_len),
      ==, srtp_err_status_ok);
  g_assert_cmpmem (back, back_len, packet, len);
}

/* Our RTP is libsrtp2's, byte for byte: several SSRCs, CSRCs and header
 * extensions, across a sequence number wrap (the rollover counter), and a
 * packet sent twice (a retransmission). */
static void
test_protect_rtp (void)
{
  const guint32 ssrcs[] = { 1, 0xdeadbeef, 0x12345678 };
  guint8 pkt[BUF];
  Fixture f;

  fixture_init (&f);
  for (guint16 seq = 65520; seq != 30; seq++) {
    for (guint i = 0; i < G_N_ELEMENTS (ssrcs); i++) {
      gsize len = make_rtp (pkt, ssrcs[i], (guint16)(seq + 1000 * i), i,
          seq % 2, 100 + seq % 1000);
      check_same_as_libsrtp (&f, FALSE, pkt, len, FALSE);
    }
  }
  /* a retransmission of an earlier packet, after the wrap */
  check_same_as_libsrtp (
      &f, FALSE, pkt, make_rtp (pkt, 1, 65530, 0, FALSE, 1100), TRUE);
  check_same_as_libsrtp (
      &f, FALSE, pkt, make_rtp (pkt, 1, 31, 0, FALSE, 0), FALSE);
  fixture_clear (&f);
}

/* Our SRTCP is libsrtp2's, byte for byte, index after index. */
static void
test_protect_rtcp (void)
{
  guint8 pkt[BUF];
  Fixture f;

  fixture_init (&f);
  for (guint i = 0; i < 50; i++)
    check_same_as_libsrtp (&f, TRUE, pkt, make_rtcp (pkt, 7 + i % 2), FALSE);
  fixture_clear (&f);
}

/* libsrtp2 protects with the peer's keys, we unprotect. */
static gsize
lib_protect (Fixture *f, gboolean rtcp, guint8 *buf, gsize len)
{
  int n = (int)len;

  g_assert_cmpint (rtcp ? srtp_protect_rtcp (f->lib_b_out, buf, &n)
                        : srtp_protect (f->lib_b_out, buf, &n),
      ==, srtp_err_status_ok);
  return (gsize)n;
}

static void
receive_ok (Fixture *f, gboolean rtcp, const guint8 *sent, gsize sent_len,
    const guint8 *plain, gsize plain_len)
{
  guint8 buf[BUF];
  gsize len = sent_len;
  GError *error = NULL;

  memcpy (buf, sent, sent_len);
  g_assert_true (hq_srtp_unprotect (f->ours, rtcp, buf, &len, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (buf, len, plain, plain_len);
}

static void
receive_refused (Fixture *f, gboolean rtcp, const guint8 *sent, gsize len,
    HqTransportError code)
{
  guint8 buf[BUF];
  GError *error = NULL;

  memcpy (buf, sent, len);
  g_assert_false (hq_srtp_unprotect (f->ours, rtcp, buf, &len, &error));
  g_assert_error (error, HQ_TRANSPORT_ERROR, (gint)code);
  g_error_free (error);
}

/* What libsrtp2 protects we unprotect, across a wrap and out of order;
 * a replay, a packet older than the window and a changed byte are
 * refused with the error that says which. */
static void
test_unprotect_rtp (void)
{
  static guint8 plain[2000][BUF], sent[2000][BUF];
  gsize plain_len[2000], sent_len[2000];
  Fixture f;

  fixture_init (&f);
  for (guint i = 0; i < 2000; i++) {
    plain_len[i] = make_rtp (
        plain[i], 42, (guint16)(64000 + i), i % 3, i % 2, 50 + i % 900);
    memcpy (sent[i], plain[i], plain_len[i]);
    sent_len[i] = lib_protect (&f, FALSE, sent[i], plain_len[i]);
  }
  /* in order, but each pair of 10 swapped */
  for (guint i = 0; i < 2000; i++) {
    guint k = i % 10 == 0 ? i + 1 : i % 10 == 1 ? i - 1 : i;
    receive_ok (&f, FALSE, sent[k], sent_len[k], plain[k], plain_len[k]);
  }
  receive_refused (
      &f, FALSE, sent[1990], sent_len[1990], HQ_TRANSPORT_ERROR_REPLAY);
  receive_refused (
      &f, FALSE, sent[100], sent_len[100], HQ_TRANSPORT_ERROR_REPLAY);
  /* a forgery of the next packet */
  {
    guint8 forged[BUF];
    gsize n = make_rtp (forged, 42, (guint16)(64000 + 2000), 0, FALSE, 80);
    gsize len = lib_protect (&f, FALSE, forged, n);
    forged[len - 20] ^= 1;
    receive_refused (&f, FALSE, forged, len, HQ_TRANSPORT_ERROR_AUTH);
    forged[len - 20] ^= 1;
    /* refused because forged, not used up: the real one still passes */
    n = make_rtp (plain[0], 42, (guint16)(64000 + 2000), 0, FALSE, 80);
    receive_ok (&f, FALSE, forged, len, plain[0], n);
  }
  /* a packet shorter than a header and a tag */
  receive_refused (&f, FALSE, sent[0], 20, HQ_TRANSPORT_ERROR_SRTP);
  fixture_clear (&f);
}

static void
test_unprotect_rtcp (void)
{
  guint8 plain[BUF], sent[3][BUF];
  gsize plain_len = make_rtcp (plain, 99), sent_len[3];
  Fixture f;

  fixture_init (&f);
  for (guint i = 0; i < 3; i++) {
    memcpy (sent[i], plain, plain_len);
    sent_len[i] = lib_protect (&f, TRUE, sent[i], plain_len);
  }
  receive_ok (&f, TRUE, sent[1], sent_len[1], plain, plain_len);
  receive_ok (&f, TRUE, sent[0], sent_len[0], plain, plain_len);
  receive_refused (&f, TRUE, sent[1], sent_len[1], HQ_TRANSPORT_ERROR_REPLAY);
  sent[2][9] ^= 0x40;
  receive_refused (&f, TRUE, sent[2], sent_len[2], HQ_TRANSPORT_ERROR_AUTH);
  fixture_clear (&f);
}

int
main (int argc, char **argv)
{
  /* libsrtp2 is initialised by libhq's first session (fixture_init makes
   * ours first): it refuses a second srtp_init */
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/srtp/gcm/protect-rtp-as-libsrtp", test_protect_rtp);
  g_test_add_func ("/srtp/gcm/protect-rtcp-as-libsrtp", test_protect_rtcp);
  g_test_add_func ("/srtp/gcm/unprotect-rtp", test_unprotect_rtp);
  g_test_add_func ("/srtp/gcm/unprotect-rtcp", test_unprotect_rtcp);
  return g_test_run ();
}
