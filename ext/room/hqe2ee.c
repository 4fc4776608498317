/**
 * SECTION:element-hqframeencrypt
 * @title: hqframeencrypt, hqframedecrypt, hqrtpvp8pay
 *
 * End-to-end encryption of encoded frames for hqrooms (docs/e2ee.md), with
 * libhq's hqframecrypt (SFrame, RFC 9605).  hqroomsink puts hqframeencrypt
 * between its encoder and payloader when it has an e2ee-secret, and
 * hqroomsrc puts hqframedecrypt after its depayloader; they work on their
 * own too.
 *
 * - hqframeencrypt: VP8 or Opus frames in, the same frames encrypted out
 *   (same caps; only the codec bytes docs/e2ee.md lists stay clear).
 * - hqframedecrypt: the reverse for one sender.  A frame that does not
 *   decrypt (another secret, none, or changed on the way) is dropped and
 *   counted (`frames-dropped`); the first one of a stream posts a warning
 *   that says so ("cannot decrypt video from alice: wrong or missing room
 *   secret").
 * - hqrtpvp8pay: an RFC 7741 VP8 payloader that never parses the frame:
 *   rtpvp8pay reads the VP8 partitions, which encryption hides, and fails
 *   on most encrypted frames.  The payload descriptor carries a 15-bit
 *   picture id, as rtpvp8pay's picture-id-mode=15-bit.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=60 ! vp8enc deadline=1 ! \
 *     hqframeencrypt secret=s3cret sender=alice ! \
 *     hqframedecrypt secret=s3cret sender=alice ! vp8dec ! fakesink
 * ]|
 */
#include "hqe2ee.h"

#include <string.h>
#include <gst/rtp/gstrtpbuffer.h>

GST_DEBUG_CATEGORY_STATIC (hq_e2ee_debug);
#define GST_CAT_DEFAULT hq_e2ee_debug

G_DEFINE_BOXED_TYPE (
    HqFrameCrypt, hq_frame_crypt, hq_frame_crypt_ref, hq_frame_crypt_unref)

#define FRAME_CAPS "video/x-vp8; audio/x-opus"

static GstStaticPadTemplate frame_sink_template = GST_STATIC_PAD_TEMPLATE (
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (FRAME_CAPS));
static GstStaticPadTemplate frame_src_template = GST_STATIC_PAD_TEMPLATE (
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (FRAME_CAPS));

/* --- GstHqFrameCryptBase: what hqframeencrypt and hqframedecrypt share:
 * pads, caps, the key store, the sender, and their properties --- */

typedef struct
{
  GstPad *sinkpad, *srcpad;
  HqFrameCrypt *crypt; /* owned; replaced under the object lock */
  gchar *sender; /* under the object lock */
  guint epoch; /* under the object lock */
  guint64 frames, dropped; /* under the object lock */
  HqFrameMedia media; /* from the caps; streaming thread */
  gboolean warned; /* said so for this stream; streaming thread */
} GstHqFrameCryptBasePrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (
    GstHqFrameCryptBase, gst_hq_frame_crypt_base, GST_TYPE_ELEMENT);
#define PRIV(obj)                                                              \
  ((GstHqFrameCryptBasePrivate *)                                              \
          gst_hq_frame_crypt_base_get_instance_private (                       \
              GST_HQ_FRAME_CRYPT_BASE (obj)))

enum
{
  PROP_0,
  PROP_SECRET,
  PROP_EPOCH,
  PROP_SENDER,
  PROP_CRYPT,
  PROP_FRAMES,
  PROP_FRAMES_DROPPED,
};

static gboolean
base_sink_event (GstPad *pad, GstObject *parent, GstEvent *event)
{
  GstHqFrameCryptBase *self = GST_HQ_FRAME_CRYPT_BASE (parent);

  if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS) {
    GstCaps *caps;
    gst_event_parse_caps (event, &caps);
    PRIV (self)->media =
        gst_structure_has_name (gst_caps_get_structure (caps, 0), "video/x-vp8")
        ? HQ_FRAME_MEDIA_VP8
        : HQ_FRAME_MEDIA_OPUS;
  } else if (GST_EVENT_TYPE (event) == GST_EVENT_STREAM_START) {
    PRIV (self)->warned = FALSE;
  }
  return gst_pad_event_default (pad, parent, event);
}

static GstFlowReturn
base_chain (GstPad *pad, GstObject *parent, GstBuffer *buf)
{
  GstHqFrameCryptBase *self = GST_HQ_FRAME_CRYPT_BASE (parent);
  GstHqFrameCryptBasePrivate *priv =
      gst_hq_frame_crypt_base_get_instance_private (self);
  g_autofree gchar *sender = NULL;
  HqFrameCrypt *fc;
  GstFlowReturn ret;

  /* the store and the sender for this frame, referenced under the lock */
  GST_OBJECT_LOCK (self);
  fc = hq_frame_crypt_ref (priv->crypt);
  sender = g_strdup (priv->sender);
  GST_OBJECT_UNLOCK (self);
  ret =
      GST_HQ_FRAME_CRYPT_BASE_GET_CLASS (self)->process (self, fc, sender, buf);
  hq_frame_crypt_unref (fc);
  return ret;
}

static void
base_set_property (
    GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  GstHqFrameCryptBase *self = GST_HQ_FRAME_CRYPT_BASE (object);
  GstHqFrameCryptBasePrivate *priv =
      gst_hq_frame_crypt_base_get_instance_private (self);
  HqFrameCrypt *fc, *old;
  guint epoch;

  switch (prop_id) {
    case PROP_SECRET:
      GST_OBJECT_LOCK (self);
      fc = hq_frame_crypt_ref (priv->crypt);
      epoch = priv->epoch;
      GST_OBJECT_UNLOCK (self);
      hq_frame_crypt_set_secret (fc, epoch, g_value_get_string (value),
          HQ_FRAME_CRYPT_DEFAULT_OVERLAP_US);
      hq_frame_crypt_unref (fc);
      break;
    case PROP_EPOCH:
      GST_OBJECT_LOCK (self);
      priv->epoch = g_value_get_uint (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_SENDER:
      GST_OBJECT_LOCK (self);
      g_free (priv->sender);
      priv->sender = g_value_dup_string (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_CRYPT:
      fc = g_value_dup_boxed (value);
      if (fc == NULL)
        break;
      GST_OBJECT_LOCK (self);
      old = priv->crypt;
      priv->crypt = fc;
      GST_OBJECT_UNLOCK (self);
      hq_frame_crypt_unref (old);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

static void
base_get_property (
    GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstHqFrameCryptBase *self = GST_HQ_FRAME_CRYPT_BASE (object);
  GstHqFrameCryptBasePrivate *priv =
      gst_hq_frame_crypt_base_get_instance_private (self);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_EPOCH:
      g_value_set_uint (value, priv->epoch);
      break;
    case PROP_SENDER:
      g_value_set_string (value, priv->sender);
      break;
    case PROP_FRAMES:
      g_value_set_uint64 (value, PRIV (self)->frames);
      break;
    case PROP_FRAMES_DROPPED:
      g_value_set_uint64 (value, PRIV (self)->dropped);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
  GST_OBJECT_UNLOCK (self);
}

static void
base_finalize (GObject *object)
{
  GstHqFrameCryptBasePrivate *priv =
      gst_hq_frame_crypt_base_get_instance_private (
          GST_HQ_FRAME_CRYPT_BASE (object));

  g_clear_pointer (&priv->crypt, hq_frame_crypt_unref);
  g_clear_pointer (&priv->sender, g_free);
  G_OBJECT_CLASS (gst_hq_frame_crypt_base_parent_class)->finalize (object);
}

static void
gst_hq_frame_crypt_base_class_init (GstHqFrameCryptBaseClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->set_property = base_set_property;
  gobject_class->get_property = base_get_property;
  gobject_class->finalize = base_finalize;
  /**
   * GstHqFrameCryptBase:secret:
   *
   * The room secret (write only).  Setting it starts the epoch in `epoch`;
   * the epoch before still decrypts for 10 s.  Empty: no key.
   */
  g_object_class_install_property (gobject_class, PROP_SECRET,
      g_param_spec_string ("secret", "Room secret",
          "The room's end-to-end secret (write only; set epoch first)", NULL,
          G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstHqFrameCryptBase:epoch:
   *
   * The key epoch the next `secret` is for (0..65535).
   */
  g_object_class_install_property (gobject_class, PROP_EPOCH,
      g_param_spec_uint ("epoch", "Key epoch",
          "The key epoch the next secret is for", 0, G_MAXUINT16, 0,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstHqFrameCryptBase:sender:
   *
   * The identity of the participant who sends the frames: each sender has
   * its own keys.  hqframeencrypt drops frames while it is unset.
   */
  g_object_class_install_property (gobject_class, PROP_SENDER,
      g_param_spec_string ("sender", "Sender identity",
          "Participant identity of the sender of the frames", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstHqFrameCryptBase:crypt:
   *
   * A key store to share, replacing the element's own: hqframeencrypt's
   * with the sender's other tracks (one frame counter for all of them),
   * and both with the key epochs of the room (docs/e2ee.md).
   */
  g_object_class_install_property (gobject_class, PROP_CRYPT,
      g_param_spec_boxed ("crypt", "Key store",
          "An HqFrameCrypt shared with the sender's other tracks or the "
          "room's key epochs",
          HQ_TYPE_FRAME_CRYPT,
          G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));
  gst_element_class_add_static_pad_template (
      element_class, &frame_sink_template);
  gst_element_class_add_static_pad_template (
      element_class, &frame_src_template);
  gst_type_mark_as_plugin_api (GST_TYPE_HQ_FRAME_CRYPT_BASE, 0);
}

static void
gst_hq_frame_crypt_base_init (GstHqFrameCryptBase *self)
{
  GstHqFrameCryptBasePrivate *priv =
      gst_hq_frame_crypt_base_get_instance_private (self);

  PRIV (self)->sinkpad =
      gst_pad_new_from_static_template (&frame_sink_template, "sink");
  PRIV (self)->srcpad =
      gst_pad_new_from_static_template (&frame_src_template, "src");
  gst_pad_set_chain_function (PRIV (self)->sinkpad, base_chain);
  gst_pad_set_event_function (PRIV (self)->sinkpad, base_sink_event);
  GST_PAD_SET_PROXY_CAPS (PRIV (self)->sinkpad);
  GST_PAD_SET_PROXY_CAPS (PRIV (self)->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), PRIV (self)->sinkpad);
  gst_element_add_pad (GST_ELEMENT (self), PRIV (self)->srcpad);
  priv->crypt = hq_frame_crypt_new ();
}

/* A new buffer of @data (taken) with @in's flags, times and metas. */
static GstBuffer *
wrap (GstBuffer *in, guint8 *data, gsize len)
{
  GstBuffer *out = gst_buffer_new_wrapped (data, len);

  gst_buffer_copy_into (out, in,
      GST_BUFFER_COPY_FLAGS | GST_BUFFER_COPY_TIMESTAMPS | GST_BUFFER_COPY_META,
      0, -1);
  return out;
}

/* --- hqframeencrypt --- */

struct _GstHqFrameEncrypt
{
  GstHqFrameCryptBase parent;
};

G_DEFINE_TYPE (
    GstHqFrameEncrypt, gst_hq_frame_encrypt, GST_TYPE_HQ_FRAME_CRYPT_BASE);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (hqframeencrypt, "hqframeencrypt",
    GST_RANK_NONE, GST_TYPE_HQ_FRAME_ENCRYPT,
    GST_DEBUG_CATEGORY_INIT (
        hq_e2ee_debug, "hqe2ee", 0, "hqrooms end-to-end encryption"));

static GstFlowReturn
encrypt_process (GstHqFrameCryptBase *self, HqFrameCrypt *fc,
    const gchar *sender, GstBuffer *buf)
{
  g_autoptr (GError) error = NULL;
  guint8 *out = NULL;
  GstMapInfo map;
  gsize out_len = 0;
  GstBuffer *enc;

  if (sender == NULL) {
    if (!PRIV (self)->warned)
      GST_INFO_OBJECT (self, "no sender identity yet: dropping frames");
    PRIV (self)->warned = TRUE;
    gst_buffer_unref (buf);
    return GST_FLOW_OK;
  }
  if (gst_buffer_map (buf, &map, GST_MAP_READ)) {
    out = hq_frame_crypt_encrypt (
        fc, sender, PRIV (self)->media, map.data, map.size, &out_len, &error);
    gst_buffer_unmap (buf, &map);
  }
  if (out == NULL && error && error->code == HQ_FRAME_CRYPT_ERROR_MALFORMED) {
    GST_DEBUG_OBJECT (self, "not sent: %s", error->message);
    gst_buffer_unref (buf);
    return GST_FLOW_OK;
  }
  if (out == NULL) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("cannot encrypt: %s", error ? error->message : "buffer not readable"),
        (NULL));
    gst_buffer_unref (buf);
    return GST_FLOW_ERROR;
  }
  enc = wrap (buf, out, out_len);
  gst_buffer_unref (buf);
  return gst_pad_push (PRIV (self)->srcpad, enc);
}

static void
gst_hq_frame_encrypt_class_init (GstHqFrameEncryptClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  GST_HQ_FRAME_CRYPT_BASE_CLASS (klass)->process = encrypt_process;
  gobject_class->set_property = base_set_property;
  gobject_class->get_property = base_get_property;
  gst_element_class_set_static_metadata (GST_ELEMENT_CLASS (klass),
      "hqrooms frame encryption", "Filter/Encryptor",
      "Encrypts VP8 and Opus frames end to end (SFrame, RFC 9605)", "hqrooms");
}

static void
gst_hq_frame_encrypt_init (GstHqFrameEncrypt *self)
{
}

/* --- hqframedecrypt --- */

struct _GstHqFrameDecrypt
{
  GstHqFrameCryptBase parent;
};

G_DEFINE_TYPE (
    GstHqFrameDecrypt, gst_hq_frame_decrypt, GST_TYPE_HQ_FRAME_CRYPT_BASE);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (hqframedecrypt, "hqframedecrypt",
    GST_RANK_NONE, GST_TYPE_HQ_FRAME_DECRYPT,
    GST_DEBUG_CATEGORY_INIT (
        hq_e2ee_debug, "hqe2ee", 0, "hqrooms end-to-end encryption"));

static GstFlowReturn
decrypt_process (GstHqFrameCryptBase *self, HqFrameCrypt *fc,
    const gchar *sender, GstBuffer *buf)
{
  g_autoptr (GError) error = NULL;
  GstMapInfo map;
  guint8 *out = NULL;
  gssize n = -1;
  GstBuffer *dec;

  if (gst_buffer_map (buf, &map, GST_MAP_READ)) {
    out = g_malloc (MAX (map.size, 1));
    n = hq_frame_crypt_decrypt (fc, sender ? sender : "", PRIV (self)->media,
        map.data, map.size, out, &error);
    gst_buffer_unmap (buf, &map);
  }
  if (n < 0) {
    const gchar *what =
        PRIV (self)->media == HQ_FRAME_MEDIA_VP8 ? "video" : "audio";
    GST_OBJECT_LOCK (self);
    PRIV (self)->dropped++;
    GST_OBJECT_UNLOCK (self);
    if (!PRIV (self)->warned) {
      /* once a stream: the words for a person, the cause for a developer */
      PRIV (self)->warned = TRUE;
      GST_ELEMENT_WARNING (self, STREAM, DECRYPT,
          ("cannot decrypt %s from %s: wrong or missing room secret", what,
              sender ? sender : "an unknown sender"),
          ("%s", error ? error->message : "buffer not readable"));
    }
    GST_LOG_OBJECT (self, "dropped: %s", error ? error->message : "");
    g_free (out);
    gst_buffer_unref (buf);
    return GST_FLOW_OK;
  }
  GST_OBJECT_LOCK (self);
  PRIV (self)->frames++;
  GST_OBJECT_UNLOCK (self);
  dec = wrap (buf, out, (gsize)n);
  gst_buffer_unref (buf);
  return gst_pad_push (PRIV (self)->srcpad, dec);
}

static void
gst_hq_frame_decrypt_class_init (GstHqFrameDecryptClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  GST_HQ_FRAME_CRYPT_BASE_CLASS (klass)->process = decrypt_process;
  gobject_class->set_property = base_set_property;
  gobject_class->get_property = base_get_property;
  /**
   * GstHqFrameDecrypt:frames:
   *
   * Frames decrypted and passed on.
   */
  g_object_class_install_property (gobject_class, PROP_FRAMES,
      g_param_spec_uint64 ("frames", "Frames", "Frames decrypted", 0,
          G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstHqFrameDecrypt:frames-dropped:
   *
   * Frames that did not decrypt and were dropped.
   */
  g_object_class_install_property (gobject_class, PROP_FRAMES_DROPPED,
      g_param_spec_uint64 ("frames-dropped", "Frames dropped",
          "Frames that did not decrypt", 0, G_MAXUINT64, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  gst_element_class_set_static_metadata (GST_ELEMENT_CLASS (klass),
      "hqrooms frame decryption", "Filter/Decryptor",
      "Decrypts VP8 and Opus frames encrypted end to end (SFrame, RFC 9605); "
      "drops and counts what does not decrypt",
      "hqrooms");
}

static void
gst_hq_frame_decrypt_init (GstHqFrameDecrypt *self)
{
}

/* --- for hqroomsink and hqroomsrc --- */

GParamSpec *
hq_e2ee_secret_param (GParamFlags mutable_flag)
{
  return g_param_spec_string ("e2ee-secret", "End-to-end secret",
      "Room secret for end-to-end encryption (write only; default: "
      "$" HQ_E2EE_SECRET_ENV ")",
      NULL, G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS | mutable_flag);
}

gchar *
hq_e2ee_resolve_secret (const gchar *property)
{
  const gchar *env = g_getenv (HQ_E2EE_SECRET_ENV);

  if (property && *property)
    return g_strdup (property);
  return env && *env ? g_strdup (env) : NULL;
}

gboolean
hq_e2ee_setup_chain (GstElement *chain, HqFrameCrypt *fc, const gchar *secret,
    const gchar *sender)
{
  g_autoptr (GstElement) crypt = GST_IS_BIN (chain)
      ? gst_bin_get_by_name (GST_BIN (chain), "crypt")
      : NULL;

  if (crypt == NULL)
    return FALSE;
  if (fc)
    g_object_set (crypt, "crypt", fc, NULL);
  if (secret && GST_IS_HQ_FRAME_DECRYPT (crypt))
    g_object_set (crypt, "secret", secret, NULL);
  if (sender)
    g_object_set (crypt, "sender", sender, NULL);
  return TRUE;
}

/* --- hqrtpvp8pay --- */

/* X=1 | S on the first packet, PID 0; I=1; M=1 and a 15-bit picture id */
#define VP8_DESCRIPTOR_LEN 4

struct _GstHqRtpVp8Pay
{
  GstRTPBasePayload parent;
  guint16 picture_id; /* streaming thread */
};

G_DEFINE_TYPE (GstHqRtpVp8Pay, gst_hq_rtp_vp8_pay, GST_TYPE_RTP_BASE_PAYLOAD);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (hqrtpvp8pay, "hqrtpvp8pay",
    GST_RANK_NONE, GST_TYPE_HQ_RTP_VP8_PAY,
    GST_DEBUG_CATEGORY_INIT (
        hq_e2ee_debug, "hqe2ee", 0, "hqrooms end-to-end encryption"));

static GstStaticPadTemplate vp8pay_sink_template = GST_STATIC_PAD_TEMPLATE (
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-vp8"));
static GstStaticPadTemplate vp8pay_src_template =
    GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC, GST_PAD_ALWAYS,
        GST_STATIC_CAPS ("application/x-rtp, media=(string)video, "
                         "payload=(int)" GST_RTP_PAYLOAD_DYNAMIC_STRING ", "
                         "clock-rate=(int)90000, encoding-name=(string)VP8"));

static gboolean
vp8pay_set_caps (GstRTPBasePayload *payload, GstCaps *caps)
{
  gst_rtp_base_payload_set_options (payload, "video", TRUE, "VP8", 90000);
  return gst_rtp_base_payload_set_outcaps (payload, NULL);
}

static GstFlowReturn
vp8pay_handle_buffer (GstRTPBasePayload *payload, GstBuffer *buffer)
{
  GstHqRtpVp8Pay *self = GST_HQ_RTP_VP8_PAY (payload);
  gsize size = gst_buffer_get_size (buffer), offset = 0;
  guint max = gst_rtp_buffer_calc_payload_len (
      GST_RTP_BASE_PAYLOAD_MTU (payload) - VP8_DESCRIPTOR_LEN, 0, 0);
  GstBufferList *list = gst_buffer_list_new ();
  guint16 pid = self->picture_id;

  self->picture_id = (self->picture_id + 1) & 0x7fff;
  while (offset < size) {
    gsize n = MIN (max, size - offset);
    GstBuffer *out = gst_rtp_base_payload_allocate_output_buffer (
        payload, VP8_DESCRIPTOR_LEN, 0, 0);
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    guint8 *p;

    gst_rtp_buffer_map (out, GST_MAP_WRITE, &rtp);
    p = gst_rtp_buffer_get_payload (&rtp);
    p[0] = 0x80 | (offset == 0 ? 0x10 : 0);
    p[1] = 0x80;
    p[2] = 0x80 | (guint8)(pid >> 8);
    p[3] = (guint8)pid;
    gst_rtp_buffer_set_marker (&rtp, offset + n == size);
    gst_rtp_buffer_unmap (&rtp);
    GST_BUFFER_PTS (out) = GST_BUFFER_PTS (buffer);
    GST_BUFFER_DURATION (out) = GST_BUFFER_DURATION (buffer);
    if (GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT))
      GST_BUFFER_FLAG_SET (out, GST_BUFFER_FLAG_DELTA_UNIT);
    out = gst_buffer_append (out,
        gst_buffer_copy_region (buffer, GST_BUFFER_COPY_MEMORY, offset, n));
    gst_buffer_list_add (list, out);
    offset += n;
  }
  gst_buffer_unref (buffer);
  if (gst_buffer_list_length (list) == 0) {
    gst_buffer_list_unref (list);
    return GST_FLOW_OK;
  }
  return gst_rtp_base_payload_push_list (payload, list);
}

static void
gst_hq_rtp_vp8_pay_class_init (GstHqRtpVp8PayClass *klass)
{
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstRTPBasePayloadClass *pay_class = GST_RTP_BASE_PAYLOAD_CLASS (klass);

  pay_class->set_caps = vp8pay_set_caps;
  pay_class->handle_buffer = vp8pay_handle_buffer;
  gst_element_class_add_static_pad_template (
      element_class, &vp8pay_sink_template);
  gst_element_class_add_static_pad_template (
      element_class, &vp8pay_src_template);
  gst_element_class_set_static_metadata (element_class,
      "hqrooms VP8 payloader for encrypted frames",
      "Codec/Payloader/Network/RTP",
      "Packs VP8 frames into RTP (RFC 7741) without parsing them, so "
      "end-to-end encrypted frames pass",
      "hqrooms");
}

static void
gst_hq_rtp_vp8_pay_init (GstHqRtpVp8Pay *self)
{
  self->picture_id = g_random_int_range (0, 0x8000);
}

/* --- key epochs for the room elements --- */

static void
post_epoch (
    guint epoch, const gchar *code, const gchar *from, gpointer user_data)
{
  GstElement *element = g_weak_ref_get (user_data);

  if (element == NULL)
    return;
  GST_INFO_OBJECT (element, "key epoch %u from %s, verification code %s", epoch,
      from ? from : "the room secret", code);
  gst_element_post_message (element,
      gst_message_new_element (GST_OBJECT (element),
          gst_structure_new ("hq-e2ee-epoch", "epoch", G_TYPE_UINT, epoch,
              "code", G_TYPE_STRING, code, "from", G_TYPE_STRING, from, NULL)));
  gst_object_unref (element);
}

static void
weak_ref_free (gpointer p)
{
  g_weak_ref_clear (p);
  g_free (p);
}

void
hq_e2ee_attach_client (GstElement *element, HqRoomClient *client,
    HqFrameCrypt *fc, const gchar *secret)
{
  g_autoptr (HqFrameCrypt) own = NULL;
  GWeakRef *target;
  HqE2eeKeys *keys;
  gchar code[7];

  if (secret == NULL)
    return;
  if (fc == NULL)
    fc = own = hq_frame_crypt_new ();
  hq_frame_crypt_set_secret (fc, 0, secret, 0);
  keys = hq_e2ee_keys_new (fc, secret);
  target = g_new0 (GWeakRef, 1);
  g_weak_ref_init (target, element);
  hq_e2ee_keys_set_funcs (keys, NULL, post_epoch, target, weak_ref_free);
  hq_e2ee_keys_attach (keys, client);
  if (hq_frame_crypt_get_code (fc, NULL, code))
    post_epoch (0, code, NULL, target);
}

HqFrameCrypt *
hq_e2ee_client_crypt (HqRoomClient *client)
{
  HqE2eeKeys *keys = client ? hq_e2ee_keys_from_client (client) : NULL;

  return keys ? hq_e2ee_keys_get_crypt (keys) : NULL;
}
