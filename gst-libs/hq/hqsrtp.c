/* SRTP sessions; see hqsrtp.h.
 *
 * AEAD_AES_128_GCM, the profile browsers pick, is libhq's own
 * (hqsrtpgcm.c says why); AES128_CM_SHA1_80 is libsrtp2's, with two srtp_t
 * per transport: the outbound one accepts any SSRC we send
 * (ssrc_any_outbound), the inbound one any SSRC we receive
 * (ssrc_any_inbound), each keyed by its half of the DTLS keying material.
 * The replay window is widened to 1024 packets because video bursts arrive
 * reordered across a bundle; retransmitting the same packet is allowed on
 * the sending side (a NACK may be answered with the very same packet).
 */
#include "hqsrtp.h"
#include "hqsrtpgcm.h"

#include <string.h>
#include <srtp2/srtp.h>

#define HQ_SRTP_REPLAY_WINDOW 1024

/* SRTCP adds a 4-byte E flag + index before the tag. */
G_STATIC_ASSERT (HQ_SRTP_MAX_TRAILER >= SRTP_MAX_TRAILER_LEN + 4);

G_DEFINE_QUARK (hq - transport - error - quark, hq_transport_error);

struct _HqSrtp
{
  HqSrtpGcm *gcm; /* AEAD_AES_128_GCM, else libsrtp2's: */
  srtp_t outbound;
  srtp_t inbound;
};

static gpointer
init_libsrtp (gpointer data)
{
  srtp_err_status_t err = srtp_init ();

  return GINT_TO_POINTER (err == srtp_err_status_ok);
}

static gboolean
ensure_libsrtp (GError **error)
{
  static GOnce once = G_ONCE_INIT;

  if (!GPOINTER_TO_INT (g_once (&once, init_libsrtp, NULL))) {
    g_set_error (error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_SRTP,
        "libsrtp2 failed to initialise");
    return FALSE;
  }
  return TRUE;
}

const gchar *
hq_srtp_profile_name (HqSrtpProfile profile)
{
  switch (profile) {
    case HQ_SRTP_PROFILE_AES128_CM_SHA1_80:
      return "SRTP_AES128_CM_SHA1_80";
    case HQ_SRTP_PROFILE_AEAD_AES_128_GCM:
      return "SRTP_AEAD_AES_128_GCM";
    default:
      return "none";
  }
}

gboolean
hq_srtp_profile_lengths (HqSrtpProfile profile, gsize *key_len, gsize *salt_len)
{
  switch (profile) {
    case HQ_SRTP_PROFILE_AES128_CM_SHA1_80:
      *key_len = 16;
      *salt_len = 14;
      return TRUE;
    case HQ_SRTP_PROFILE_AEAD_AES_128_GCM:
      *key_len = 16;
      *salt_len = 12;
      return TRUE;
    default:
      return FALSE;
  }
}

static void
set_policy (srtp_policy_t *policy, HqSrtpProfile profile, gboolean outbound,
    const guint8 *key_salt)
{
  memset (policy, 0, sizeof *policy);
  if (profile == HQ_SRTP_PROFILE_AEAD_AES_128_GCM) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth (&policy->rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth (&policy->rtcp);
  } else {
    srtp_crypto_policy_set_rtp_default (&policy->rtp);
    srtp_crypto_policy_set_rtcp_default (&policy->rtcp);
  }
  policy->ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
  policy->key = (unsigned char *)key_salt;
  policy->window_size = HQ_SRTP_REPLAY_WINDOW;
  policy->allow_repeat_tx = outbound;
}

HqSrtp *
hq_srtp_new (HqSrtpProfile profile, const guint8 *local_key_salt,
    const guint8 *remote_key_salt, GError **error)
{
  g_autoptr (HqSrtp) srtp = NULL;
  srtp_policy_t policy;
  srtp_err_status_t err;
  gsize key_len, salt_len;

  if (!hq_srtp_profile_lengths (profile, &key_len, &salt_len)) {
    g_set_error (error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_NO_SRTP_PROFILE,
        "SRTP profile 0x%04x is not supported", profile);
    return NULL;
  }
  /* Whatever the profile: code that calls libsrtp2 itself in this process
   * (bench-transport's baseline) relies on us to have initialised it, and
   * libsrtp2 refuses a second srtp_init. */
  if (!ensure_libsrtp (error))
    return NULL;
  srtp = g_new0 (HqSrtp, 1);
  if (profile == HQ_SRTP_PROFILE_AEAD_AES_128_GCM) {
    srtp->gcm = hq_srtp_gcm_new (local_key_salt, remote_key_salt, error);
    return srtp->gcm ? g_steal_pointer (&srtp) : NULL;
  }
  set_policy (&policy, profile, TRUE, local_key_salt);
  err = srtp_create (&srtp->outbound, &policy);
  if (err == srtp_err_status_ok) {
    set_policy (&policy, profile, FALSE, remote_key_salt);
    err = srtp_create (&srtp->inbound, &policy);
  }
  if (err != srtp_err_status_ok) {
    g_set_error (error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_SRTP,
        "libsrtp2 refused the %s keys (error %d)",
        hq_srtp_profile_name (profile), err);
    return NULL;
  }
  return g_steal_pointer (&srtp);
}

void
hq_srtp_free (HqSrtp *srtp)
{
  if (srtp == NULL)
    return;
  hq_srtp_gcm_free (srtp->gcm);
  if (srtp->outbound)
    srtp_dealloc (srtp->outbound);
  if (srtp->inbound)
    srtp_dealloc (srtp->inbound);
  g_free (srtp);
}

gboolean
hq_srtp_protect (HqSrtp *srtp, gboolean rtcp, guint8 *buf, gsize *len,
    gsize size, GError **error)
{
  srtp_err_status_t err;
  int n = (int)*len;

  if (*len > G_MAXINT - HQ_SRTP_MAX_TRAILER
      || size < *len + HQ_SRTP_MAX_TRAILER) {
    g_set_error (error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_BUFFER_TOO_SMALL,
        "a %zu-byte packet needs a %zu-byte buffer to be protected, not %zu",
        *len, *len + HQ_SRTP_MAX_TRAILER, size);
    return FALSE;
  }
  if (srtp->gcm)
    return hq_srtp_gcm_protect (srtp->gcm, rtcp, buf, len, error);
  err = rtcp ? srtp_protect_rtcp (srtp->outbound, buf, &n)
             : srtp_protect (srtp->outbound, buf, &n);
  if (err != srtp_err_status_ok) {
    g_set_error (error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_SRTP,
        "SRTP could not protect a %zu-byte %s packet (libsrtp2 error %d)", *len,
        rtcp ? "RTCP" : "RTP", err);
    return FALSE;
  }
  *len = (gsize)n;
  return TRUE;
}

gboolean
hq_srtp_unprotect (
    HqSrtp *srtp, gboolean rtcp, guint8 *buf, gsize *len, GError **error)
{
  srtp_err_status_t err;
  int n = (int)MIN (*len, (gsize)G_MAXINT);

  if (srtp->gcm)
    return hq_srtp_gcm_unprotect (srtp->gcm, rtcp, buf, len, error);
  err = rtcp ? srtp_unprotect_rtcp (srtp->inbound, buf, &n)
             : srtp_unprotect (srtp->inbound, buf, &n);
  switch (err) {
    case srtp_err_status_ok:
      *len = (gsize)n;
      return TRUE;
    case srtp_err_status_auth_fail:
      g_set_error (error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_AUTH,
          "an SRTP%s packet failed authentication", rtcp ? "C" : "");
      return FALSE;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
      g_set_error (error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_REPLAY,
          "an SRTP%s packet was replayed or is too old", rtcp ? "C" : "");
      return FALSE;
    default:
      g_set_error (error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_SRTP,
          "an SRTP%s packet could not be unprotected (libsrtp2 error %d)",
          rtcp ? "C" : "", err);
      return FALSE;
  }
}
