/* Fuzz target: the transport's receive path (RFC 7983 demultiplexing, the
 * DTLS server that hears whatever arrives first, SRTP and SRTCP
 * unprotection) fed arbitrary datagrams.  The first byte of the input picks
 * where it goes: a fresh transport (DTLS handshake state), or an SRTP
 * session with fixed keys for each profile, or a new DTLS server (so every
 * input meets a handshake in its first state).  Nothing may crash, leak or
 * read out of bounds; what is garbage must only be counted. */
#include <string.h>
#include <glib.h>
#include <hq/hqtransport.h>

int LLVMFuzzerTestOneInput (const guint8 *data, gsize size);

static HqTransport *transport;
static HqSrtp *gcm, *cm;
static HqCertificate *cert;

static void
dtls_send (const guint8 *data, gsize len, gpointer user_data)
{
}

static void
dtls_done (HqDtls *dtls, const GError *error, gpointer user_data)
{
}

static void
init_once (void)
{
  HqTransportConfig config;
  guint8 key[HQ_SRTP_MAX_KEY_SALT];

  if (transport)
    return;
  for (guint i = 0; i < sizeof key; i++)
    key[i] = (guint8)(i * 13 + 5);
  hq_transport_config_init (&config);
  config.consent_freshness = FALSE;
  transport = hq_transport_new (&config, NULL);
  cert = hq_certificate_new (NULL);
  gcm = hq_srtp_new (HQ_SRTP_PROFILE_AEAD_AES_128_GCM, key, key, NULL);
  cm = hq_srtp_new (HQ_SRTP_PROFILE_AES128_CM_SHA1_80, key, key, NULL);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, gsize size)
{
  guint8 buf[4096];
  gsize len;

  init_once ();
  if (size < 1 || size > sizeof buf)
    return 0;
  len = size - 1;
  memcpy (buf, data + 1, len);
  switch (data[0] % 4) {
    case 0:
      hq_transport_inject_received (transport, buf, len);
      /* Let DTLS timers and what they send run. */
      while (g_main_context_iteration (NULL, FALSE))
        ;
      break;
    case 1:
      hq_srtp_unprotect (gcm, (data[0] & 4) != 0, buf, &len, NULL);
      break;
    case 2:
      hq_srtp_unprotect (cm, (data[0] & 4) != 0, buf, &len, NULL);
      break;
    default: {
      HqDtls *dtls = hq_dtls_new (cert, HQ_DTLS_ROLE_SERVER, NULL, NULL,
          dtls_send, dtls_done, NULL, NULL);
      hq_dtls_receive (dtls, buf, len);
      hq_dtls_free (dtls);
      break;
    }
  }
  return 0;
}
