/* SRTP for the libhq WebRTC transport: one inbound and one outbound libsrtp2
 * session made from DTLS-SRTP keying material (RFC 5764), protecting and
 * unprotecting RTP and RTCP in place.
 *
 * Profiles: AEAD_AES_128_GCM (RFC 7714, preferred: Debian's libsrtp2 does
 * GCM about five times faster than AES-CM + HMAC-SHA1) and
 * AES128_CM_HMAC_SHA1_80 (RFC 3711, what every browser supports).
 *
 * This header also declares the transport's error domain, shared by the
 * SRTP, DTLS and ICE layers.
 */
#ifndef __HQ_SRTP_H__
#define __HQ_SRTP_H__

#include <glib.h>

G_BEGIN_DECLS

#define HQ_TRANSPORT_ERROR (hq_transport_error_quark ())
GQuark hq_transport_error_quark (void);

/**
 * HqTransportError:
 * @HQ_TRANSPORT_ERROR_INVALID_ARGUMENT: a caller passed something unusable
 * @HQ_TRANSPORT_ERROR_CERTIFICATE: a certificate could not be made or read
 * @HQ_TRANSPORT_ERROR_ICE: ICE could not start, or no candidate pair worked
 * @HQ_TRANSPORT_ERROR_CONSENT_LOST: the peer stopped answering consent
 *   checks (RFC 7675): it vanished
 * @HQ_TRANSPORT_ERROR_DTLS: the DTLS handshake failed
 * @HQ_TRANSPORT_ERROR_FINGERPRINT: the peer's certificate does not match the
 *   fingerprint its SDP announced
 * @HQ_TRANSPORT_ERROR_NO_SRTP_PROFILE: no SRTP profile in common
 * @HQ_TRANSPORT_ERROR_SRTP: libsrtp2 refused a key or a packet
 * @HQ_TRANSPORT_ERROR_AUTH: a packet failed SRTP authentication
 * @HQ_TRANSPORT_ERROR_REPLAY: a packet was a replay or too old
 * @HQ_TRANSPORT_ERROR_NOT_READY: media sent before the transport is secure
 * @HQ_TRANSPORT_ERROR_BUFFER_TOO_SMALL: no room for the SRTP trailer
 * @HQ_TRANSPORT_ERROR_CLOSED: the transport was closed
 */
typedef enum
{
  HQ_TRANSPORT_ERROR_INVALID_ARGUMENT,
  HQ_TRANSPORT_ERROR_CERTIFICATE,
  HQ_TRANSPORT_ERROR_ICE,
  HQ_TRANSPORT_ERROR_CONSENT_LOST,
  HQ_TRANSPORT_ERROR_DTLS,
  HQ_TRANSPORT_ERROR_FINGERPRINT,
  HQ_TRANSPORT_ERROR_NO_SRTP_PROFILE,
  HQ_TRANSPORT_ERROR_SRTP,
  HQ_TRANSPORT_ERROR_AUTH,
  HQ_TRANSPORT_ERROR_REPLAY,
  HQ_TRANSPORT_ERROR_NOT_READY,
  HQ_TRANSPORT_ERROR_BUFFER_TOO_SMALL,
  HQ_TRANSPORT_ERROR_CLOSED,
} HqTransportError;

typedef enum
{
  HQ_SRTP_PROFILE_NONE = 0,
  HQ_SRTP_PROFILE_AES128_CM_SHA1_80 = 0x0001, /* RFC 5764 id */
  HQ_SRTP_PROFILE_AEAD_AES_128_GCM = 0x0007, /* RFC 7714 id */
} HqSrtpProfile;

/* Most bytes protect adds to a packet: leave this much room after it. */
#define HQ_SRTP_MAX_TRAILER 148
/* Longest key + salt of any profile we support. */
#define HQ_SRTP_MAX_KEY_SALT 30

const gchar *hq_srtp_profile_name (HqSrtpProfile profile);
/* Key and salt lengths in bytes; FALSE for an unknown profile. */
gboolean hq_srtp_profile_lengths (
    HqSrtpProfile profile, gsize *key_len, gsize *salt_len);

typedef struct _HqSrtp HqSrtp;

/* Sessions for @profile: @local_key_salt protects what we send,
 * @remote_key_salt unprotects what we receive (key then salt, each
 * hq_srtp_profile_lengths() long). */
HqSrtp *hq_srtp_new (HqSrtpProfile profile, const guint8 *local_key_salt,
    const guint8 *remote_key_salt, GError **error);
void hq_srtp_free (HqSrtp *srtp);

/* Protects the RTP or RTCP packet of *@len bytes in @buf (of @size bytes)
 * in place; *@len grows by the trailer. */
gboolean hq_srtp_protect (HqSrtp *srtp, gboolean rtcp, guint8 *buf, gsize *len,
    gsize size, GError **error);

/* Unprotects in place; *@len shrinks.  Fails with HQ_TRANSPORT_ERROR_AUTH
 * or HQ_TRANSPORT_ERROR_REPLAY for packets to drop. */
gboolean hq_srtp_unprotect (
    HqSrtp *srtp, gboolean rtcp, guint8 *buf, gsize *len, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HqSrtp, hq_srtp_free)

G_END_DECLS

#endif /* __HQ_SRTP_H__ */
