/* SRTP and SRTCP with AEAD_AES_128_GCM (RFC 7714) over OpenSSL: libhq's
 * own implementation of the profile every browser picks; hqsrtp.c uses it
 * for that profile and libsrtp2 for the others.  Private to libhq. */
#ifndef __HQ_SRTP_GCM_H__
#define __HQ_SRTP_GCM_H__

#include <glib.h>

G_BEGIN_DECLS

/* Master key and master salt of AEAD_AES_128_GCM (RFC 7714, 12). */
#define HQ_SRTP_GCM_KEY_LEN 16
#define HQ_SRTP_GCM_SALT_LEN 12
/* What protecting adds: the tag (RTP), tag and SRTCP index (RTCP). */
#define HQ_SRTP_GCM_TAG_LEN 16
#define HQ_SRTP_GCM_RTCP_TRAILER (HQ_SRTP_GCM_TAG_LEN + 4)

typedef struct _HqSrtpGcm HqSrtpGcm;

HqSrtpGcm *hq_srtp_gcm_new (const guint8 *local_key_salt,
    const guint8 *remote_key_salt, GError **error);
void hq_srtp_gcm_free (HqSrtpGcm *gcm);

/* @buf holds @len bytes and has room for HQ_SRTP_GCM_RTCP_TRAILER more. */
gboolean hq_srtp_gcm_protect (
    HqSrtpGcm *gcm, gboolean rtcp, guint8 *buf, gsize *len, GError **error);
gboolean hq_srtp_gcm_unprotect (
    HqSrtpGcm *gcm, gboolean rtcp, guint8 *buf, gsize *len, GError **error);

G_END_DECLS

#endif /* __HQ_SRTP_GCM_H__ */
