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

/* What the two crypt elements share: pads, caps, the key store. */
typedef struct
{
  GstPad *sinkpad, *srcpad;
  HqFrameCrypt *crypt; /* owned; replaced under the object lock */
  gchar *sender; /* under the object lock */
  guint epoch;
  HqFrameMedia media; /* streaming thread */
  gboolean have_media;
} Crypt;

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
crypt_sink_event (Crypt *c, GstObject *parent, GstPad *pad, GstEvent *event)
{
  if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS) {
    GstCaps *caps;
    gst_event_parse_caps (event, &caps);
    c->have_media = TRUE;
    c->media =
        gst_structure_has_name (gst_caps_get_structure (caps, 0), "video/x-vp8")
        ? HQ_FRAME_MEDIA_VP8
        : HQ_FRAME_MEDIA_OPUS;
  }
  return gst_pad_event_default (pad, parent, event);
}

static void
crypt_init (Crypt *c, GstElement *element, GstPadChainFunction chain,
    GstPadEventFunction event)
{
  c->sinkpad = gst_pad_new_from_static_template (&frame_sink_template, "sink");
  c->srcpad = gst_pad_new_from_static_template (&frame_src_template, "src");
  gst_pad_set_chain_function (c->sinkpad, chain);
  gst_pad_set_event_function (c->sinkpad, event);
  GST_PAD_SET_PROXY_CAPS (c->sinkpad);
  GST_PAD_SET_PROXY_CAPS (c->srcpad);
  gst_element_add_pad (element, c->sinkpad);
  gst_element_add_pad (element, c->srcpad);
  c->crypt = hq_frame_crypt_new ();
}

static void
crypt_clear (Crypt *c)
{
  g_clear_pointer (&c->crypt, hq_frame_crypt_unref);
  g_clear_pointer (&c->sender, g_free);
}

/* The store and the sender for one frame, referenced under the lock. */
static HqFrameCrypt *
crypt_take (Crypt *c, GstObject *obj, gchar **sender)
{
  HqFrameCrypt *fc;

  GST_OBJECT_LOCK (obj);
  fc = hq_frame_crypt_ref (c->crypt);
  *sender = g_strdup (c->sender);
  GST_OBJECT_UNLOCK (obj);
  return fc;
}

static gboolean
crypt_set_property (
    Crypt *c, GstObject *obj, guint prop_id, const GValue *value)
{
  switch (prop_id) {
    case PROP_SECRET: {
      HqFrameCrypt *fc;
      guint epoch;
      GST_OBJECT_LOCK (obj);
      fc = hq_frame_crypt_ref (c->crypt);
      epoch = c->epoch;
      GST_OBJECT_UNLOCK (obj);
      hq_frame_crypt_set_secret (fc, epoch, g_value_get_string (value),
          HQ_FRAME_CRYPT_DEFAULT_OVERLAP_US);
      hq_frame_crypt_unref (fc);
      return TRUE;
    }
    case PROP_EPOCH:
      GST_OBJECT_LOCK (obj);
      c->epoch = g_value_get_uint (value);
      GST_OBJECT_UNLOCK (obj);
      return TRUE;
    case PROP_SENDER:
      GST_OBJECT_LOCK (obj);
      g_free (c->sender);
      c->sender = g_value_dup_string (value);
      GST_OBJECT_UNLOCK (obj);
      return TRUE;
    case PROP_CRYPT: {
      HqFrameCrypt *fc = g_value_dup_boxed (value), *old;
      if (fc == NULL)
        return TRUE;
      GST_OBJECT_LOCK (obj);
      old = c->crypt;
      c->crypt = fc;
      GST_OBJECT_UNLOCK (obj);
      hq_frame_crypt_unref (old);
      return TRUE;
    }
  }
  return FALSE;
}

static gboolean
crypt_get_property (Crypt *c, GstObject *obj, guint prop_id, GValue *value)
{
  switch (prop_id) {
    case PROP_EPOCH:
      GST_OBJECT_LOCK (obj);
      g_value_set_uint (value, c->epoch);
      GST_OBJECT_UNLOCK (obj);
      return TRUE;
    case PROP_SENDER:
      GST_OBJECT_LOCK (obj);
      g_value_set_string (value, c->sender);
      GST_OBJECT_UNLOCK (obj);
      return TRUE;
  }
  return FALSE;
}

static void
crypt_install_properties (GObjectClass *gobject_class, gboolean encrypt)
{
  /**
   * GstHqFrameEncrypt:secret:
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
   * GstHqFrameEncrypt:epoch:
   *
   * The key epoch the next `secret` is for (0..65535).
   */
  g_object_class_install_property (gobject_class, PROP_EPOCH,
      g_param_spec_uint ("epoch", "Key epoch",
          "The key epoch the next secret is for", 0, G_MAXUINT16, 0,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstHqFrameEncrypt:sender:
   *
   * The identity of the participant who sends the frames: each sender has
   * its own keys.  hqframeencrypt drops frames while it is unset.
   */
  g_object_class_install_property (gobject_class, PROP_SENDER,
      g_param_spec_string ("sender", "Sender identity",
          "Participant identity of the sender of the frames", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));
  if (encrypt) {
    /**
     * GstHqFrameEncrypt:crypt:
     *
     * A key store to share with the sender's other tracks (one frame
     * counter for all of them); replaces the element's own.
     */
    g_object_class_install_property (gobject_class, PROP_CRYPT,
        g_param_spec_boxed ("crypt", "Key store",
            "An HqFrameCrypt shared with the sender's other tracks",
            HQ_TYPE_FRAME_CRYPT,
            G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS
                | GST_PARAM_MUTABLE_READY));
  } else {
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
  }
}

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
  GstElement parent;
  Crypt c;
  gboolean warned_no_sender; /* streaming thread */
};

G_DEFINE_TYPE (GstHqFrameEncrypt, gst_hq_frame_encrypt, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (hqframeencrypt, "hqframeencrypt",
    GST_RANK_NONE, GST_TYPE_HQ_FRAME_ENCRYPT,
    GST_DEBUG_CATEGORY_INIT (
        hq_e2ee_debug, "hqe2ee", 0, "hqrooms end-to-end encryption"));

static GstFlowReturn
encrypt_chain (GstPad *pad, GstObject *parent, GstBuffer *buf)
{
  GstHqFrameEncrypt *self = GST_HQ_FRAME_ENCRYPT (parent);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *sender = NULL;
  HqFrameCrypt *fc = crypt_take (&self->c, parent, &sender);
  guint8 *out = NULL;
  GstMapInfo map;
  gsize out_len = 0;

  if (sender == NULL) {
    if (!self->warned_no_sender)
      GST_INFO_OBJECT (self, "no sender identity yet: dropping frames");
    self->warned_no_sender = TRUE;
    hq_frame_crypt_unref (fc);
    gst_buffer_unref (buf);
    return GST_FLOW_OK;
  }
  if (gst_buffer_map (buf, &map, GST_MAP_READ)) {
    out = hq_frame_crypt_encrypt (
        fc, sender, self->c.media, map.data, map.size, &out_len, &error);
    gst_buffer_unmap (buf, &map);
  }
  hq_frame_crypt_unref (fc);
  if (out == NULL) {
    if (error && error->code == HQ_FRAME_CRYPT_ERROR_MALFORMED) {
      GST_DEBUG_OBJECT (self, "not sent: %s", error->message);
      gst_buffer_unref (buf);
      return GST_FLOW_OK;
    }
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("cannot encrypt: %s", error ? error->message : "buffer not readable"),
        (NULL));
    gst_buffer_unref (buf);
    return GST_FLOW_ERROR;
  }
  {
    GstBuffer *enc = wrap (buf, out, out_len);
    gst_buffer_unref (buf);
    return gst_pad_push (self->c.srcpad, enc);
  }
}

static gboolean
encrypt_event (GstPad *pad, GstObject *parent, GstEvent *event)
{
  return crypt_sink_event (
      &GST_HQ_FRAME_ENCRYPT (parent)->c, parent, pad, event);
}

static void
encrypt_set_property (
    GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  GstHqFrameEncrypt *self = GST_HQ_FRAME_ENCRYPT (object);

  if (!crypt_set_property (&self->c, GST_OBJECT (self), prop_id, value))
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
encrypt_get_property (
    GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstHqFrameEncrypt *self = GST_HQ_FRAME_ENCRYPT (object);

  if (!crypt_get_property (&self->c, GST_OBJECT (self), prop_id, value))
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
encrypt_finalize (GObject *object)
{
  crypt_clear (&GST_HQ_FRAME_ENCRYPT (object)->c);
  G_OBJECT_CLASS (gst_hq_frame_encrypt_parent_class)->finalize (object);
}

static void
gst_hq_frame_encrypt_class_init (GstHqFrameEncryptClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->set_property = encrypt_set_property;
  gobject_class->get_property = encrypt_get_property;
  gobject_class->finalize = encrypt_finalize;
  crypt_install_properties (gobject_class, TRUE);
  gst_element_class_add_static_pad_template (
      element_class, &frame_sink_template);
  gst_element_class_add_static_pad_template (
      element_class, &frame_src_template);
  gst_element_class_set_static_metadata (element_class,
      "hqrooms frame encryption", "Filter/Encryptor",
      "Encrypts VP8 and Opus frames end to end (SFrame, RFC 9605)", "hqrooms");
}

static void
gst_hq_frame_encrypt_init (GstHqFrameEncrypt *self)
{
  crypt_init (&self->c, GST_ELEMENT (self), encrypt_chain, encrypt_event);
}

/* --- hqframedecrypt --- */

struct _GstHqFrameDecrypt
{
  GstElement parent;
  Crypt c;
  guint64 frames, dropped; /* atomic-free: read under the object lock */
  gboolean warned; /* streaming thread */
};

G_DEFINE_TYPE (GstHqFrameDecrypt, gst_hq_frame_decrypt, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (hqframedecrypt, "hqframedecrypt",
    GST_RANK_NONE, GST_TYPE_HQ_FRAME_DECRYPT,
    GST_DEBUG_CATEGORY_INIT (
        hq_e2ee_debug, "hqe2ee", 0, "hqrooms end-to-end encryption"));

static GstFlowReturn
decrypt_chain (GstPad *pad, GstObject *parent, GstBuffer *buf)
{
  GstHqFrameDecrypt *self = GST_HQ_FRAME_DECRYPT (parent);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *sender = NULL;
  HqFrameCrypt *fc = crypt_take (&self->c, parent, &sender);
  GstMapInfo map;
  guint8 *out = NULL;
  gssize n = -1;

  if (gst_buffer_map (buf, &map, GST_MAP_READ)) {
    out = g_malloc (MAX (map.size, 1));
    n = hq_frame_crypt_decrypt (fc, sender ? sender : "", self->c.media,
        map.data, map.size, out, &error);
    gst_buffer_unmap (buf, &map);
  }
  hq_frame_crypt_unref (fc);
  if (n < 0) {
    const gchar *what = self->c.media == HQ_FRAME_MEDIA_VP8 ? "video" : "audio";
    GST_OBJECT_LOCK (self);
    self->dropped++;
    GST_OBJECT_UNLOCK (self);
    if (!self->warned) {
      /* once a stream: the words for a person, the cause for a developer */
      self->warned = TRUE;
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
  self->frames++;
  GST_OBJECT_UNLOCK (self);
  {
    GstBuffer *dec = wrap (buf, out, (gsize)n);
    gst_buffer_unref (buf);
    return gst_pad_push (self->c.srcpad, dec);
  }
}

static gboolean
decrypt_event (GstPad *pad, GstObject *parent, GstEvent *event)
{
  GstHqFrameDecrypt *self = GST_HQ_FRAME_DECRYPT (parent);

  if (GST_EVENT_TYPE (event) == GST_EVENT_STREAM_START)
    self->warned = FALSE;
  return crypt_sink_event (&self->c, parent, pad, event);
}

static void
decrypt_set_property (
    GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  GstHqFrameDecrypt *self = GST_HQ_FRAME_DECRYPT (object);

  if (!crypt_set_property (&self->c, GST_OBJECT (self), prop_id, value))
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
decrypt_get_property (
    GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstHqFrameDecrypt *self = GST_HQ_FRAME_DECRYPT (object);

  switch (prop_id) {
    case PROP_FRAMES:
      GST_OBJECT_LOCK (self);
      g_value_set_uint64 (value, self->frames);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_FRAMES_DROPPED:
      GST_OBJECT_LOCK (self);
      g_value_set_uint64 (value, self->dropped);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      if (!crypt_get_property (&self->c, GST_OBJECT (self), prop_id, value))
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

static void
decrypt_finalize (GObject *object)
{
  crypt_clear (&GST_HQ_FRAME_DECRYPT (object)->c);
  G_OBJECT_CLASS (gst_hq_frame_decrypt_parent_class)->finalize (object);
}

static void
gst_hq_frame_decrypt_class_init (GstHqFrameDecryptClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->set_property = decrypt_set_property;
  gobject_class->get_property = decrypt_get_property;
  gobject_class->finalize = decrypt_finalize;
  crypt_install_properties (gobject_class, FALSE);
  gst_element_class_add_static_pad_template (
      element_class, &frame_sink_template);
  gst_element_class_add_static_pad_template (
      element_class, &frame_src_template);
  gst_element_class_set_static_metadata (element_class,
      "hqrooms frame decryption", "Filter/Decryptor",
      "Decrypts VP8 and Opus frames encrypted end to end (SFrame, RFC 9605); "
      "drops and counts what does not decrypt",
      "hqrooms");
}

static void
gst_hq_frame_decrypt_init (GstHqFrameDecrypt *self)
{
  crypt_init (&self->c, GST_ELEMENT (self), decrypt_chain, decrypt_event);
}

/* --- for hqroomsink and hqroomsrc --- */

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
  if (fc && GST_IS_HQ_FRAME_ENCRYPT (crypt))
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
