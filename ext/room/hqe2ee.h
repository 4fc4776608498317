/* hqframeencrypt, hqframedecrypt and hqrtpvp8pay: the end-to-end
 * encryption steps inside hqroomsink and hqroomsrc (docs/e2ee.md). */
#ifndef __HQ_E2EE_H__
#define __HQ_E2EE_H__

#include <gst/gst.h>
#include <gst/rtp/gstrtpbasepayload.h>
#include <hq/hqe2eekeys.h>
#include <hq/hqframecrypt.h>

G_BEGIN_DECLS

/* The base of hqframeencrypt and hqframedecrypt: pads, key store,
 * sender, properties; a subclass processes each frame. */
#define GST_TYPE_HQ_FRAME_CRYPT_BASE (gst_hq_frame_crypt_base_get_type ())
G_DECLARE_DERIVABLE_TYPE (GstHqFrameCryptBase, gst_hq_frame_crypt_base, GST,
    HQ_FRAME_CRYPT_BASE, GstElement)

struct _GstHqFrameCryptBaseClass
{
  GstElementClass parent_class;
  /* one frame with the key store and sender of the moment; takes @buf */
  GstFlowReturn (*process) (GstHqFrameCryptBase *self, HqFrameCrypt *fc,
      const gchar *sender, GstBuffer *buf);
};

#define GST_TYPE_HQ_FRAME_ENCRYPT (gst_hq_frame_encrypt_get_type ())
G_DECLARE_FINAL_TYPE (GstHqFrameEncrypt, gst_hq_frame_encrypt, GST,
    HQ_FRAME_ENCRYPT, GstHqFrameCryptBase)
#define GST_TYPE_HQ_FRAME_DECRYPT (gst_hq_frame_decrypt_get_type ())
G_DECLARE_FINAL_TYPE (GstHqFrameDecrypt, gst_hq_frame_decrypt, GST,
    HQ_FRAME_DECRYPT, GstHqFrameCryptBase)
#define GST_TYPE_HQ_RTP_VP8_PAY (gst_hq_rtp_vp8_pay_get_type ())
G_DECLARE_FINAL_TYPE (
    GstHqRtpVp8Pay, gst_hq_rtp_vp8_pay, GST, HQ_RTP_VP8_PAY, GstRTPBasePayload)

/* HqFrameCrypt as a boxed type, for hqframeencrypt's `crypt` property */
#define HQ_TYPE_FRAME_CRYPT (hq_frame_crypt_get_type ())
GType hq_frame_crypt_get_type (void);

/* The environment variable both room elements read the secret from when
 * their e2ee-secret property is not set. */
#define HQ_E2EE_SECRET_ENV "HQ_E2EE_SECRET"

/* The `e2ee-secret` property of hqroomsink and hqroomsrc (write only),
 * mutable up to @mutable_flag. */
GParamSpec *hq_e2ee_secret_param (GParamFlags mutable_flag);
/* @property when it is set and not empty, else $HQ_E2EE_SECRET when that
 * is, else NULL.  Newly allocated. */
gchar *hq_e2ee_resolve_secret (const gchar *property);
/* Sets up the element named "crypt" in @chain, if there is one: an
 * hqframeencrypt gets the sender's shared key store @fc; an
 * hqframedecrypt gets @secret.  Either gets @sender when it is not NULL.
 * FALSE when @chain has no such element. */
gboolean hq_e2ee_setup_chain (GstElement *chain, HqFrameCrypt *fc,
    const gchar *secret, const gchar *sender);

/* Key epochs (docs/e2ee.md, "Key distribution") for @element's @client
 * when @secret is not NULL: @fc (or a new key store) starts at epoch 0
 * with @secret and is rotated as the room's key holders come and go;
 * each epoch posts an "hq-e2ee-epoch" element message (epoch, code,
 * from) from @element. */
void hq_e2ee_attach_client (GstElement *element, HqRoomClient *client,
    HqFrameCrypt *fc, const gchar *secret);
/* The key store hq_e2ee_attach_client gave @client, or NULL (borrowed). */
HqFrameCrypt *hq_e2ee_client_crypt (HqRoomClient *client);

GST_ELEMENT_REGISTER_DECLARE (hqframeencrypt);
GST_ELEMENT_REGISTER_DECLARE (hqframedecrypt);
GST_ELEMENT_REGISTER_DECLARE (hqrtpvp8pay);

G_END_DECLS

#endif /* __HQ_E2EE_H__ */
