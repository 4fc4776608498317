/* End-to-end frame encryption for hqrooms, after RFC 9605 (SFrame).
 *
 * Encoded frames are encrypted before the payloader and decrypted after
 * the depayloader, so the SFU forwards media it cannot decode.  The room
 * secret never leaves the participants (docs/e2ee.md).
 *
 * Two layers:
 *
 * - hq_sframe_*: RFC 9605 itself with the cipher suite
 *   AES_128_GCM_SHA256_128 (0x0004): the header (section 4.3), key and salt
 *   derivation from a base key and a key id (4.4.2), and encryption with
 *   the counter as nonce material (4.4.3).  Checked against the RFC's test
 *   vectors (tests/check/libs/framecrypt.c).
 *
 * - HqFrameCrypt: the keys of a room.  From the room secret of an epoch,
 *   each sender gets its own base key (HKDF-SHA256 with its identity);
 *   the key id is (epoch << 32) | a random 32-bit session number drawn once
 *   per HqFrameCrypt, so two runs of one sender never share a key, and one
 *   counter per HqFrameCrypt is shared by all its tracks, so a key and a
 *   nonce are never used twice.  A frame on the wire is
 *
 *     clear codec bytes | SFrame header | ciphertext | 16-byte GCM tag
 *
 *   with the clear bytes authenticated as SFrame metadata (AAD = header |
 *   clear bytes).  Which bytes stay clear per codec: hq_frame_clear_bytes.
 *   A new epoch's secret replaces the sending key at once; the previous
 *   epoch still decrypts for an overlap, so frames in flight are not lost.
 *
 * Thread safety: an HqFrameCrypt may be used from several streaming
 * threads at once (one mutex).
 */
#ifndef __HQ_FRAME_CRYPT_H__
#define __HQ_FRAME_CRYPT_H__

#include <glib.h>

G_BEGIN_DECLS

/* RFC 9605 cipher suite AES_128_GCM_SHA256_128 */
#define HQ_SFRAME_CIPHER_SUITE 0x0004
#define HQ_SFRAME_KEY_LEN 16
#define HQ_SFRAME_SALT_LEN 12
#define HQ_SFRAME_TAG_LEN 16
/* config byte + 8-byte key id + 8-byte counter */
#define HQ_SFRAME_HEADER_MAX 17
/* What encryption adds to a frame at most. */
#define HQ_SFRAME_OVERHEAD (HQ_SFRAME_HEADER_MAX + HQ_SFRAME_TAG_LEN)

/* Writes the header for @kid and @ctr into @out (HQ_SFRAME_HEADER_MAX
 * bytes); returns its length. */
gsize hq_sframe_header_write (guint64 kid, guint64 ctr, guint8 *out);
/* Reads a header from @data; its length, or 0 when @data is too short for
 * the header its first byte announces. */
gsize hq_sframe_header_parse (
    const guint8 *data, gsize len, guint64 *kid, guint64 *ctr);

/* A key and salt derived from a base key for one key id, with its cipher
 * context.  Not thread-safe. */
typedef struct _HqSFrameKey HqSFrameKey;

HqSFrameKey *hq_sframe_key_new (
    const guint8 *base_key, gsize base_key_len, guint64 kid);
void hq_sframe_key_free (HqSFrameKey *key);
guint64 hq_sframe_key_get_kid (const HqSFrameKey *key);
/* sframe_key (HQ_SFRAME_KEY_LEN) and sframe_salt (HQ_SFRAME_SALT_LEN) */
const guint8 *hq_sframe_key_get_key (const HqSFrameKey *key);
const guint8 *hq_sframe_key_get_salt (const HqSFrameKey *key);

/* Writes header | ciphertext | tag of @plain with counter @ctr into @out,
 * which holds at least @plain_len + HQ_SFRAME_OVERHEAD bytes; @metadata is
 * authenticated, not written.  Returns the bytes written, 0 on a cipher
 * failure. */
gsize hq_sframe_seal (HqSFrameKey *key, guint64 ctr, const guint8 *metadata,
    gsize metadata_len, const guint8 *plain, gsize plain_len, guint8 *out);
/* Decrypts header | ciphertext | tag in @data (whose header says @key's key
 * id) into @out (at least @len bytes).  Returns the plaintext length, or
 * -1 when the header is bad, the key id is not @key's, or the tag does not
 * verify (wrong key, or changed on the way). */
gssize hq_sframe_open (HqSFrameKey *key, const guint8 *metadata,
    gsize metadata_len, const guint8 *data, gsize len, guint8 *out);

#define HQ_FRAME_CRYPT_ERROR (hq_frame_crypt_error_quark ())
GQuark hq_frame_crypt_error_quark (void);

typedef enum
{
  /* no room secret set */
  HQ_FRAME_CRYPT_ERROR_NO_KEY,
  /* too short, or no SFrame header where one must be */
  HQ_FRAME_CRYPT_ERROR_MALFORMED,
  /* the frame's key epoch is not one we hold a secret for */
  HQ_FRAME_CRYPT_ERROR_UNKNOWN_EPOCH,
  /* the tag does not verify: another secret, or changed on the way */
  HQ_FRAME_CRYPT_ERROR_AUTH,
  /* a cipher failure in OpenSSL, or the counter ran out */
  HQ_FRAME_CRYPT_ERROR_FAILED,
} HqFrameCryptError;

typedef enum
{
  HQ_FRAME_MEDIA_OPUS,
  HQ_FRAME_MEDIA_VP8,
} HqFrameMedia;

/* How many leading bytes of @frame stay in clear for @media: Opus none;
 * VP8 the frame tag (3 bytes) of delta frames, and for key frames also the
 * start code and the dimensions (10 bytes), which depayloaders read to
 * mark key frames and set caps (docs/e2ee.md).  A frame shorter than
 * that is not encrypted (HQ_FRAME_CRYPT_ERROR_MALFORMED): no valid frame
 * of the codec is. */
gsize hq_frame_clear_bytes (HqFrameMedia media, const guint8 *frame, gsize len);

typedef struct _HqFrameCrypt HqFrameCrypt;

/* Previous epochs still decrypt for this long after a new one is set. */
#define HQ_FRAME_CRYPT_DEFAULT_OVERLAP_US (10 * G_USEC_PER_SEC)

/* Reference counted: one per sender, shared by all its tracks, so that
 * they draw from one counter. */
HqFrameCrypt *hq_frame_crypt_new (void);
HqFrameCrypt *hq_frame_crypt_ref (HqFrameCrypt *fc);
void hq_frame_crypt_unref (HqFrameCrypt *fc);
/* Sets the room secret of @epoch (0..65535) and makes it the one frames
 * are encrypted with.  The epoch before stays for decryption for
 * @overlap_us (HQ_FRAME_CRYPT_DEFAULT_OVERLAP_US; 0: dropped at once);
 * older ones are dropped.  An empty or NULL @secret removes every key. */
void hq_frame_crypt_set_secret (
    HqFrameCrypt *fc, guint epoch, const gchar *secret, gint64 overlap_us);
gboolean hq_frame_crypt_has_secret (HqFrameCrypt *fc);

/* Encrypts @frame sent by @sender (its participant identity).  Returns
 * the new frame (g_free), or NULL with @error set. */
guint8 *hq_frame_crypt_encrypt (HqFrameCrypt *fc, const gchar *sender,
    HqFrameMedia media, const guint8 *frame, gsize len, gsize *out_len,
    GError **error);
/* Decrypts @data from @sender into @out (at least @len bytes); the
 * plaintext length, or -1 with @error set. */
gssize hq_frame_crypt_decrypt (HqFrameCrypt *fc, const gchar *sender,
    HqFrameMedia media, const guint8 *data, gsize len, guint8 *out,
    GError **error);

/* HKDF-SHA256 with the room's salt: Expand (Extract ("hqrooms e2ee 1",
 * @ikm), @label, @out_len); for the other keys of docs/e2ee.md ("Key
 * distribution"), e.g. @ikm the room secret and @label "hqrooms
 * announce". */
void hq_frame_crypt_kdf (const guint8 *ikm, gsize ikm_len, const gchar *label,
    guint8 *out, gsize out_len);
/* The verification code of the current epoch: 6 decimal digits both sides
 * of a call can compare (docs/e2ee.md), from HKDF-Expand (epoch PRK,
 * "hqrooms verification " | epoch (2 bytes), 4) modulo 10^6, written into
 * @code (7 bytes with the NUL).  FALSE without a secret. */
gboolean hq_frame_crypt_get_code (HqFrameCrypt *fc, guint *epoch, gchar *code);
/* The epoch frames are encrypted with (0 without a secret). */
guint hq_frame_crypt_get_epoch (HqFrameCrypt *fc);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HqFrameCrypt, hq_frame_crypt_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HqSFrameKey, hq_sframe_key_free)

G_END_DECLS

#endif /* __HQ_FRAME_CRYPT_H__ */
