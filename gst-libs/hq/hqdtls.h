/* DTLS-SRTP (RFC 5764) for the libhq WebRTC transport, on OpenSSL.
 *
 * HqCertificate is an ECDSA P-256 key with a self-signed certificate (made
 * here, or read from PEM files for servers with a long-lived identity) and
 * its SHA-256 fingerprint for a=fingerprint.
 *
 * HqDtls runs one DTLS 1.2 handshake, as client or server (from the SDP
 * a=setup attribute), over whatever carries its datagrams: records go out
 * through a send callback, come in through hq_dtls_receive().  Handshake
 * retransmission runs on timers attached to the caller's GMainContext.  When
 * the handshake is done and the peer's certificate matches the fingerprint
 * its SDP announced, the done callback fires and the SRTP keys can be read.
 */
#ifndef __HQ_DTLS_H__
#define __HQ_DTLS_H__

#include <hq/hqsrtp.h>

G_BEGIN_DECLS

typedef struct _HqCertificate HqCertificate;

/* A new key pair and self-signed certificate (valid for 30 days). */
HqCertificate *hq_certificate_new (GError **error);
/* Reads a PEM certificate and its PEM private key. */
HqCertificate *hq_certificate_new_from_files (
    const gchar *cert_path, const gchar *key_path, GError **error);
HqCertificate *hq_certificate_ref (HqCertificate *cert);
void hq_certificate_unref (HqCertificate *cert);
/* "AB:CD:..." (SHA-256, upper case), as a=fingerprint:sha-256 wants it. */
const gchar *hq_certificate_get_fingerprint (HqCertificate *cert);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HqCertificate, hq_certificate_unref)

typedef enum
{
  HQ_DTLS_ROLE_CLIENT, /* a=setup:active */
  HQ_DTLS_ROLE_SERVER, /* a=setup:passive */
} HqDtlsRole;

typedef struct _HqDtls HqDtls;

typedef void (*HqDtlsSendFunc) (
    const guint8 *data, gsize len, gpointer user_data);
/* @error is NULL when the handshake succeeded and the keys are ready. */
typedef void (*HqDtlsDoneFunc) (
    HqDtls *dtls, const GError *error, gpointer user_data);

/**
 * hq_dtls_new:
 * @profiles: SRTP profiles in order of preference, ending with
 *   HQ_SRTP_PROFILE_NONE; NULL for the default (GCM, then AES-CM).  As
 *   server we pick our most preferred profile the client offers.
 * @context: where retransmission timers run (NULL: the thread default)
 */
HqDtls *hq_dtls_new (HqCertificate *cert, HqDtlsRole role,
    const HqSrtpProfile *profiles, GMainContext *context, HqDtlsSendFunc send,
    HqDtlsDoneFunc done, gpointer user_data, GError **error);
void hq_dtls_free (HqDtls *dtls);

/* The fingerprint the peer's SDP announced: "sha-256" and hex pairs.  Must
 * be set before (or soon after) the handshake completes; the keys are
 * released only once it matches. */
gboolean hq_dtls_set_remote_fingerprint (HqDtls *dtls, const gchar *algorithm,
    const gchar *fingerprint, GError **error);

/* Starts the handshake: a client sends its ClientHello, a server waits. */
void hq_dtls_start (HqDtls *dtls);
/* Feeds one received DTLS datagram. */
void hq_dtls_receive (HqDtls *dtls, const guint8 *data, gsize len);

HqDtlsRole hq_dtls_get_role (HqDtls *dtls);
gboolean hq_dtls_is_done (HqDtls *dtls);

/* After success: the negotiated profile and the key+salt for each
 * direction (HQ_SRTP_MAX_KEY_SALT bytes of room each). */
HqSrtpProfile hq_dtls_get_srtp_keys (
    HqDtls *dtls, guint8 *local_key_salt, guint8 *remote_key_salt);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HqDtls, hq_dtls_free)

G_END_DECLS

#endif /* __HQ_DTLS_H__ */
