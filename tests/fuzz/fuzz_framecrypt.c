/* Fuzz target for libhq frame encryption: hqroomsrc decrypts frames that
 * come from the network (any participant, or the server, can send any
 * bytes), so decryption must refuse every input it cannot authenticate
 * without reading out of bounds.  The first byte picks the codec; the rest
 * is the frame.  The corpus holds valid frames (secret "fuzz room
 * secret"), so mutations start from inputs that reach the tag check. */
#include <glib.h>
#include <hq/hqframecrypt.h>

int LLVMFuzzerTestOneInput (const guint8 *data, gsize size);

int
LLVMFuzzerTestOneInput (const guint8 *data, gsize size)
{
  static HqFrameCrypt *fc;
  HqFrameMedia media;
  guint8 *out;
  guint64 kid, ctr;
  gssize n;

  if (fc == NULL) {
    fc = hq_frame_crypt_new ();
    hq_frame_crypt_set_secret (fc, 0, "fuzz room secret", 0);
  }
  if (size < 1)
    return 0;
  media = data[0] & 1 ? HQ_FRAME_MEDIA_VP8 : HQ_FRAME_MEDIA_OPUS;
  hq_sframe_header_parse (data + 1, size - 1, &kid, &ctr);
  out = g_malloc (size);
  /* what decrypts is the frame less the header and tag */
  n = hq_frame_crypt_decrypt (
      fc, "alice", media, data + 1, size - 1, out, NULL);
  g_assert (n < 0 || (gsize)n + HQ_SFRAME_TAG_LEN + 1 <= size - 1);
  g_free (out);
  return 0;
}
