/* SRTP/SRTCP with AEAD_AES_128_GCM (RFC 7714) over OpenSSL; see
 * hqsrtpgcm.h.
 *
 * Why not libsrtp2 for this profile: Debian's libsrtp2 does its AES-GCM
 * through NSS, which makes a PKCS #11 context (locks, an allocation, a
 * hash lookup) for every packet, and it finds a packet's SSRC in a list
 * it walks from the start; on the SFU's send path that was a fifth of the
 * server's CPU (docs/sfu.md, "Against Janus").  Here each direction keys
 * one OpenSSL GCM context per RTP and RTCP once, a packet only sets its
 * IV, and SSRCs are found in a hash table.  The other profile
 * (AES128_CM_SHA1_80) stays with libsrtp2 (hqsrtp.c).
 *
 * What it does, as RFC 3711 and RFC 7714 say and libsrtp2 does (the unit
 * test checks it byte for byte against libsrtp2):
 *
 * - Session keys and salts from the DTLS master key and salt with the
 *   AES-CM key derivation (RFC 3711 4.3, key derivation rate 0): labels 0
 *   and 2 for RTP, 3 and 5 for RTCP; the 12-byte master salt is padded
 *   with zeros to the 14 the derivation takes.
 * - RTP: IV = (00 00, SSRC, ROC, sequence number) XOR the session salt; the
 *   header (CSRCs and extensions included) is the associated data, the
 *   payload is encrypted in place and the 16-byte tag appended.  The
 *   rollover counter of each SSRC is estimated from its highest sequence
 *   number (RFC 3711 3.3.1), on both sides.
 * - RTCP: IV = (00 00, SSRC, 00 00, SRTCP index) XOR the salt; the first 8
 *   bytes and the E flag with the 31-bit index are the associated data,
 *   the rest is encrypted; tag, then E flag and index, are appended.  We
 *   always encrypt (E = 1) and count the index per SSRC from 1; a received
 *   packet with E = 0 is authenticated whole and not decrypted.
 * - Received packets are checked against a 1024-packet replay window per
 *   SSRC (RTP and RTCP apart) before decryption, and count only once their
 *   tag is right.  Sending the same packet twice is allowed (a NACK may be
 *   answered with the very same packet).
 */
#include "hqsrtpgcm.h"
#include "hqsrtp.h"

#include <string.h>
#include <openssl/evp.h>

#define WINDOW 1024
#define MAX_SRTCP_INDEX 0x7fffffffu

/* KDF labels (RFC 3711 4.3.2) */
#define LABEL_RTP_KEY 0x00
#define LABEL_RTP_SALT 0x02
#define LABEL_RTCP_KEY 0x03
#define LABEL_RTCP_SALT 0x05

/* Which packet indexes (RTP: ROC << 16 | seq; RTCP: the SRTCP index) one
 * SSRC has used: the highest, and a bit per index of the WINDOW below. */
typedef struct
{
  gboolean used;
  guint64 highest;
  guint64 bits[WINDOW / 64];
} Window;

typedef struct
{
  Window rtp, rtcp;
  guint32 rtcp_sent; /* the last SRTCP index we used */
} Stream;

/* One direction: its keyed contexts, salts and SSRCs. */
typedef struct
{
  EVP_CIPHER_CTX *rtp, *rtcp;
  guint8 rtp_salt[HQ_SRTP_GCM_SALT_LEN], rtcp_salt[HQ_SRTP_GCM_SALT_LEN];
  GHashTable *streams; /* SSRC -> Stream */
} Direction;

struct _HqSrtpGcm
{
  Direction out, in;
};

/* --- keys --- */

/* @len bytes of the AES-CM key derivation for @label (RFC 3711 4.3.3):
 * the keystream of AES-128 in counter mode under the master key, its IV
 * the master salt (padded to 14 bytes) with @label at byte 7. */
static gboolean
derive (const guint8 *master, guint8 label, guint8 *out, gsize len)
{
  static const guint8 zeros[HQ_SRTP_GCM_KEY_LEN];
  guint8 iv[16] = { 0 };
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new ();
  gboolean ok;
  int n;

  memcpy (iv, master + HQ_SRTP_GCM_KEY_LEN, HQ_SRTP_GCM_SALT_LEN);
  iv[7] ^= label;
  ok = ctx != NULL
      && EVP_EncryptInit_ex (ctx, EVP_aes_128_ctr (), NULL, master, iv) == 1
      && EVP_EncryptUpdate (ctx, out, &n, zeros, (int)len) == 1;
  EVP_CIPHER_CTX_free (ctx);
  return ok;
}

/* A GCM context keyed with the session key of @key_label. */
static EVP_CIPHER_CTX *
keyed_context (const guint8 *master, guint8 key_label, gboolean encrypt)
{
  guint8 key[HQ_SRTP_GCM_KEY_LEN];
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new ();
  gboolean ok;

  ok = ctx != NULL && derive (master, key_label, key, sizeof key)
      && EVP_CipherInit_ex (
             ctx, EVP_aes_128_gcm (), NULL, key, NULL, encrypt ? 1 : 0)
          == 1;
  memset (key, 0, sizeof key);
  if (!ok) {
    EVP_CIPHER_CTX_free (ctx);
    return NULL;
  }
  return ctx;
}

static gboolean
direction_init (Direction *d, const guint8 *master, gboolean encrypt)
{
  d->streams = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  d->rtp = keyed_context (master, LABEL_RTP_KEY, encrypt);
  d->rtcp = keyed_context (master, LABEL_RTCP_KEY, encrypt);
  return d->rtp && d->rtcp
      && derive (master, LABEL_RTP_SALT, d->rtp_salt, sizeof d->rtp_salt)
      && derive (master, LABEL_RTCP_SALT, d->rtcp_salt, sizeof d->rtcp_salt);
}

static void
direction_clear (Direction *d)
{
  EVP_CIPHER_CTX_free (d->rtp);
  EVP_CIPHER_CTX_free (d->rtcp);
  if (d->streams)
    g_hash_table_unref (d->streams);
  memset (d, 0, sizeof *d);
}

HqSrtpGcm *
hq_srtp_gcm_new (
    const guint8 *local_key_salt, const guint8 *remote_key_salt, GError **error)
{
  HqSrtpGcm *gcm = g_new0 (HqSrtpGcm, 1);

  if (!direction_init (&gcm->out, local_key_salt, TRUE)
      || !direction_init (&gcm->in, remote_key_salt, FALSE)) {
    g_set_error (error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_SRTP,
        "OpenSSL could not set up AES-128-GCM for SRTP");
    hq_srtp_gcm_free (gcm);
    return NULL;
  }
  return gcm;
}

void
hq_srtp_gcm_free (HqSrtpGcm *gcm)
{
  if (gcm == NULL)
    return;
  direction_clear (&gcm->out);
  direction_clear (&gcm->in);
  g_free (gcm);
}

/* --- packet indexes --- */

static Stream *
stream_of (Direction *d, guint32 ssrc)
{
  Stream *s = g_hash_table_lookup (d->streams, GUINT_TO_POINTER (ssrc));

  if (s == NULL) {
    s = g_new0 (Stream, 1);
    g_hash_table_insert (d->streams, GUINT_TO_POINTER (ssrc), s);
  }
  return s;
}

/* The RTP packet index of sequence number @seq (RFC 3711 3.3.1: the
 * rollover counter that puts it nearest the highest so far).  FALSE for a
 * sequence number from before the first rollover counter. */
static gboolean
estimate_index (const Window *w, guint16 seq, guint64 *index)
{
  guint32 roc = (guint32)(w->highest >> 16);
  gint local = (gint)(w->highest & 0xffff);
  gint64 v = roc;

  if (!w->used) {
    *index = seq;
    return TRUE;
  }
  if (local < 0x8000) {
    if ((gint)seq - local > 0x8000)
      v = (gint64)roc - 1;
  } else if (local - 0x8000 > (gint)seq) {
    v = (gint64)roc + 1;
  }
  if (v < 0 || v > G_MAXUINT32)
    return FALSE;
  *index = (guint64)v << 16 | seq;
  return TRUE;
}

static gboolean
window_bit (const Window *w, guint64 index)
{
  guint bit = (guint)(index % WINDOW);

  return (w->bits[bit / 64] >> (bit % 64)) & 1;
}

/* Whether @index was not used yet and is not too old to tell. */
static gboolean
window_fresh (const Window *w, guint64 index)
{
  if (!w->used || index > w->highest)
    return TRUE;
  return w->highest - index < WINDOW && !window_bit (w, index);
}

static void
window_add (Window *w, guint64 index)
{
  guint bit;

  if (!w->used || index >= w->highest + WINDOW) {
    memset (w->bits, 0, sizeof w->bits);
    w->highest = index;
  } else {
    /* forget what the window moves past */
    for (guint64 i = w->highest + 1; i <= index; i++) {
      bit = (guint)(i % WINDOW);
      w->bits[bit / 64] &= ~(G_GUINT64_CONSTANT (1) << (bit % 64));
    }
    w->highest = MAX (w->highest, index);
  }
  w->used = TRUE;
  bit = (guint)(index % WINDOW);
  w->bits[bit / 64] |= G_GUINT64_CONSTANT (1) << (bit % 64);
}

/* --- the cipher --- */

/* IV = (00 00, @ssrc_be, @rest6) XOR @salt, RFC 7714 8.1 and 9.1: @rest6
 * is the ROC and sequence number (RTP), or 00 00 and the SRTCP index
 * (RTCP). */
static void
make_iv (
    guint8 *iv, const guint8 *salt, const guint8 *ssrc_be, const guint8 *rest6)
{
  iv[0] = salt[0];
  iv[1] = salt[1];
  for (guint i = 0; i < 4; i++)
    iv[2 + i] = ssrc_be[i] ^ salt[2 + i];
  for (guint i = 0; i < 6; i++)
    iv[6 + i] = rest6[i] ^ salt[6 + i];
}

/* GCM over @text in place with @aad (two pieces, the second may be empty);
 * encrypting writes the tag to @tag, decrypting checks it.  FALSE: OpenSSL
 * failed, or (decrypting) the tag is wrong. */
static gboolean
gcm (EVP_CIPHER_CTX *ctx, gboolean encrypt, const guint8 *iv,
    const guint8 *aad1, gsize aad1_len, const guint8 *aad2, gsize aad2_len,
    guint8 *text, gsize text_len, guint8 *tag)
{
  int n;

  if (EVP_CipherInit_ex (ctx, NULL, NULL, NULL, iv, encrypt ? 1 : 0) != 1
      || EVP_CipherUpdate (ctx, NULL, &n, aad1, (int)aad1_len) != 1
      || (aad2_len > 0
          && EVP_CipherUpdate (ctx, NULL, &n, aad2, (int)aad2_len) != 1)
      || (text_len > 0
          && EVP_CipherUpdate (ctx, text, &n, text, (int)text_len) != 1))
    return FALSE;
  if (!encrypt
      && EVP_CIPHER_CTX_ctrl (
             ctx, EVP_CTRL_GCM_SET_TAG, HQ_SRTP_GCM_TAG_LEN, tag)
          != 1)
    return FALSE;
  if (EVP_CipherFinal_ex (ctx, text + text_len, &n) != 1)
    return FALSE;
  return !encrypt
      || EVP_CIPHER_CTX_ctrl (
             ctx, EVP_CTRL_GCM_GET_TAG, HQ_SRTP_GCM_TAG_LEN, tag)
      == 1;
}

/* The length of @buf's RTP header (CSRCs and extension), or 0 when
 * @len does not hold it. */
static gsize
rtp_header_len (const guint8 *buf, gsize len)
{
  gsize head;

  if (len < 12)
    return 0;
  head = 12 + 4 * (gsize)(buf[0] & 0x0f);
  if (buf[0] & 0x10) {
    if (len < head + 4)
      return 0;
    head += 4 + 4 * (gsize)(buf[head + 2] << 8 | buf[head + 3]);
  }
  return head <= len ? head : 0;
}

static void
set_error (GError **error, HqTransportError code, const gchar *what,
    gboolean rtcp, gsize len)
{
  g_set_error (error, HQ_TRANSPORT_ERROR, code, "a %zu-byte SRTP%s packet %s",
      len, rtcp ? "C" : "", what);
}

static void
put_be32 (guint8 *p, guint32 v)
{
  p[0] = (guint8)(v >> 24);
  p[1] = (guint8)(v >> 16);
  p[2] = (guint8)(v >> 8);
  p[3] = (guint8)v;
}

static guint32
get_be32 (const guint8 *p)
{
  return (guint32)p[0] << 24 | (guint32)p[1] << 16 | (guint32)p[2] << 8 | p[3];
}

/* --- RTP --- */

static gboolean
protect_rtp (Direction *d, guint8 *buf, gsize *len, GError **error)
{
  gsize head = rtp_header_len (buf, *len);
  guint16 seq;
  guint64 index;
  guint8 iv[12], rest[6];
  Stream *s;

  if (head == 0) {
    set_error (
        error, HQ_TRANSPORT_ERROR_SRTP, "has no whole RTP header", FALSE, *len);
    return FALSE;
  }
  seq = (guint16)(buf[2] << 8 | buf[3]);
  s = stream_of (d, get_be32 (buf + 8));
  if (!estimate_index (&s->rtp, seq, &index)) {
    set_error (error, HQ_TRANSPORT_ERROR_SRTP,
        "is older than its stream's first", FALSE, *len);
    return FALSE;
  }
  if (!s->rtp.used || index > s->rtp.highest)
    s->rtp.highest = index;
  s->rtp.used = TRUE;
  put_be32 (rest, (guint32)(index >> 16));
  rest[4] = buf[2];
  rest[5] = buf[3];
  make_iv (iv, d->rtp_salt, buf + 8, rest);
  if (!gcm (d->rtp, TRUE, iv, buf, head, NULL, 0, buf + head, *len - head,
          buf + *len)) {
    set_error (
        error, HQ_TRANSPORT_ERROR_SRTP, "could not be encrypted", FALSE, *len);
    return FALSE;
  }
  *len += HQ_SRTP_GCM_TAG_LEN;
  return TRUE;
}

static gboolean
unprotect_rtp (Direction *d, guint8 *buf, gsize *len, GError **error)
{
  gsize head = rtp_header_len (buf, *len);
  guint32 ssrc;
  guint64 index;
  guint8 iv[12], rest[6];
  Stream *s;
  Window fresh = { 0 };
  gsize text;

  if (head == 0 || *len < head + HQ_SRTP_GCM_TAG_LEN) {
    set_error (error, HQ_TRANSPORT_ERROR_SRTP, "is too short", FALSE, *len);
    return FALSE;
  }
  ssrc = get_be32 (buf + 8);
  /* an SSRC is kept once one of its packets is authentic */
  s = g_hash_table_lookup (d->streams, GUINT_TO_POINTER (ssrc));
  if (!estimate_index (
          s ? &s->rtp : &fresh, (guint16)(buf[2] << 8 | buf[3]), &index)
      || (s && !window_fresh (&s->rtp, index))) {
    set_error (error, HQ_TRANSPORT_ERROR_REPLAY, "was replayed or is too old",
        FALSE, *len);
    return FALSE;
  }
  put_be32 (rest, (guint32)(index >> 16));
  rest[4] = buf[2];
  rest[5] = buf[3];
  make_iv (iv, d->rtp_salt, buf + 8, rest);
  text = *len - head - HQ_SRTP_GCM_TAG_LEN;
  if (!gcm (d->rtp, FALSE, iv, buf, head, NULL, 0, buf + head, text,
          buf + head + text)) {
    set_error (
        error, HQ_TRANSPORT_ERROR_AUTH, "failed authentication", FALSE, *len);
    return FALSE;
  }
  window_add (&stream_of (d, ssrc)->rtp, index);
  *len -= HQ_SRTP_GCM_TAG_LEN;
  return TRUE;
}

/* --- RTCP --- */

static gboolean
protect_rtcp (Direction *d, guint8 *buf, gsize *len, GError **error)
{
  guint8 iv[12], rest[6] = { 0 }, trailer[4];
  Stream *s;

  if (*len < 8) {
    set_error (
        error, HQ_TRANSPORT_ERROR_SRTP, "has no whole RTCP header", TRUE, *len);
    return FALSE;
  }
  s = stream_of (d, get_be32 (buf + 4));
  if (s->rtcp_sent >= MAX_SRTCP_INDEX) {
    set_error (error, HQ_TRANSPORT_ERROR_SRTP,
        "cannot be sent: its SSRC used every SRTCP index", TRUE, *len);
    return FALSE;
  }
  s->rtcp_sent++;
  put_be32 (rest + 2, s->rtcp_sent);
  put_be32 (trailer, 0x80000000u | s->rtcp_sent);
  make_iv (iv, d->rtcp_salt, buf + 4, rest);
  if (!gcm (d->rtcp, TRUE, iv, buf, 8, trailer, 4, buf + 8, *len - 8,
          buf + *len)) {
    set_error (
        error, HQ_TRANSPORT_ERROR_SRTP, "could not be encrypted", TRUE, *len);
    return FALSE;
  }
  memcpy (buf + *len + HQ_SRTP_GCM_TAG_LEN, trailer, 4);
  *len += HQ_SRTP_GCM_RTCP_TRAILER;
  return TRUE;
}

static gboolean
unprotect_rtcp (Direction *d, guint8 *buf, gsize *len, GError **error)
{
  guint8 iv[12], rest[6] = { 0 };
  const guint8 *trailer;
  guint32 ssrc, index;
  gboolean encrypted;
  gsize body;
  Stream *s;
  gboolean ok;

  if (*len < 8 + HQ_SRTP_GCM_RTCP_TRAILER) {
    set_error (error, HQ_TRANSPORT_ERROR_SRTP, "is too short", TRUE, *len);
    return FALSE;
  }
  body = *len - HQ_SRTP_GCM_RTCP_TRAILER;
  trailer = buf + *len - 4;
  encrypted = trailer[0] >> 7;
  index = get_be32 (trailer) & MAX_SRTCP_INDEX;
  ssrc = get_be32 (buf + 4);
  s = g_hash_table_lookup (d->streams, GUINT_TO_POINTER (ssrc));
  if (s && !window_fresh (&s->rtcp, index)) {
    set_error (error, HQ_TRANSPORT_ERROR_REPLAY, "was replayed or is too old",
        TRUE, *len);
    return FALSE;
  }
  memcpy (rest + 2, trailer, 4);
  rest[2] &= 0x7f;
  make_iv (iv, d->rtcp_salt, buf + 4, rest);
  /* E = 0: sent in the clear, all of it authenticated */
  ok = encrypted ? gcm (d->rtcp, FALSE, iv, buf, 8, trailer, 4, buf + 8,
           body - 8, buf + body)
                 : gcm (d->rtcp, FALSE, iv, buf, body, trailer, 4, buf + body,
                     0, buf + body);
  if (!ok) {
    set_error (
        error, HQ_TRANSPORT_ERROR_AUTH, "failed authentication", TRUE, *len);
    return FALSE;
  }
  window_add (&stream_of (d, ssrc)->rtcp, index);
  *len = body;
  return TRUE;
}

gboolean
hq_srtp_gcm_protect (
    HqSrtpGcm *gcm, gboolean rtcp, guint8 *buf, gsize *len, GError **error)
{
  return rtcp ? protect_rtcp (&gcm->out, buf, len, error)
              : protect_rtp (&gcm->out, buf, len, error);
}

gboolean
hq_srtp_gcm_unprotect (
    HqSrtpGcm *gcm, gboolean rtcp, guint8 *buf, gsize *len, GError **error)
{
  return rtcp ? unprotect_rtcp (&gcm->in, buf, len, error)
              : unprotect_rtp (&gcm->in, buf, len, error);
}
