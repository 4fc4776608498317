/* Sealed files: media kept encrypted on disk (docs/at-rest.md).
 *
 * Every sealed file has its own random 256-bit data key.  The file is a
 * 128-byte header followed by the content in chunks of 64 KiB, each
 * encrypted with AES-256-GCM under the data key (a 16-byte tag per
 * chunk, the nonce the chunk's index and whether it is the last one), so
 * a file is decrypted chunk by chunk as it is served, and a file cut
 * short or altered anywhere fails to open or to read.  The header holds
 * the data key wrapped (AES-256-GCM) by an *operator key* and that key's
 * id; rotating the operator key rewrites the header only (rewrap), never
 * the media.
 *
 *   offset size
 *   0      8    magic "HQSEALED"
 *   8      1    format version (1)
 *   9      3    zero
 *   12     4    plain bytes per chunk, big-endian (65536)
 *   16     1    operator key id length (1..31)
 *   17     31   operator key id, zero-padded
 *   48     12   wrap nonce (random)
 *   60     32   wrapped data key
 *   92     16   wrap tag (additional data: bytes 0..47)
 *   108    20   zero
 *   128         chunks: ciphertext + tag each (additional data: bytes
 *               0..15); nonce = 8-byte big-endian index, 3 zero bytes,
 *               1 if last else 0.  An empty file is one empty last chunk.
 *
 * The operator keys (HqSealKeys) are read from text: entries "ID:KEY",
 * separated by white space or new lines, '#' starting a comment, KEY 64
 * hex digits or 32 bytes in base64.  The first entry is the current key
 * (new files are wrapped with it); the others are older keys, kept to
 * open files wrapped with them until a rewrap has moved them on.
 *
 * Everything here is plain file I/O and OpenSSL EVP, thread-safe for
 * separate files; the server seals in a background thread (hqatrest.c).
 */
#ifndef __HQ_SEALED_H__
#define __HQ_SEALED_H__

#include <glib.h>

G_BEGIN_DECLS

#define HQ_SEALED_ERROR (hq_sealed_error_quark ())
GQuark hq_sealed_error_quark (void);

typedef enum
{
  HQ_SEALED_ERROR_KEYS, /* the operator key text or file is unusable */
  HQ_SEALED_ERROR_NOT_SEALED, /* no sealed header: a clear file */
  HQ_SEALED_ERROR_UNKNOWN_KEY, /* wrapped with a key id we do not have */
  HQ_SEALED_ERROR_WRONG_KEY, /* the key of that id does not unwrap it */
  HQ_SEALED_ERROR_DAMAGED, /* a chunk or the header fails authentication */
  HQ_SEALED_ERROR_TRUNCATED, /* the file ends before its last chunk */
  HQ_SEALED_ERROR_IO,
} HqSealedError;

#define HQ_SEALED_HEADER_SIZE 128
#define HQ_SEALED_CHUNK_SIZE 65536

typedef struct _HqSealKeys HqSealKeys;

/* Parses operator keys from @text (see above); @source names it in
 * errors ("HQ_AT_REST_KEYS", a file name). */
HqSealKeys *hq_seal_keys_parse (
    const gchar *text, const gchar *source, GError **error);
/* Reads them from @path, which must be a regular file no one but its
 * owner can read (mode 0600 or 0400). */
HqSealKeys *hq_seal_keys_load_file (const gchar *path, GError **error);
void hq_seal_keys_free (HqSealKeys *keys);
const gchar *hq_seal_keys_current_id (const HqSealKeys *keys);
/* "k2 (current), k1" for logs. */
gchar *hq_seal_keys_describe (const HqSealKeys *keys);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HqSealKeys, hq_seal_keys_free)

/* TRUE when @path (or open file @fd) starts with a sealed header. */
gboolean hq_sealed_file_is_sealed (const gchar *path);
gboolean hq_sealed_fd_is_sealed (int fd);

/* Writes @len bytes of @data to @path sealed with the current key,
 * atomically (a temporary file renamed over @path), mode 0600. */
gboolean hq_sealed_write (const HqSealKeys *keys, const gchar *path,
    const guint8 *data, gsize len, GError **error);
/* Replaces the clear file @path by its sealed form (the same name; a
 * temporary file renamed over it, so a reader sees the one or the
 * other).  A file already sealed is left as it is (TRUE). */
gboolean hq_sealed_seal_file (
    const HqSealKeys *keys, const gchar *path, GError **error);
/* Wraps the data key of sealed file @path with the current key, in place
 * (the 128-byte header only).  *@changed: FALSE when it already was. */
gboolean hq_sealed_rewrap_file (const HqSealKeys *keys, const gchar *path,
    gboolean *changed, GError **error);

/* Reading a sealed file, chunk by chunk.  Opening checks the header, the
 * key and the last chunk (so a file cut at a chunk boundary is refused
 * before anything is served); each chunk is checked as it is read. */
typedef struct _HqSealedReader HqSealedReader;

HqSealedReader *hq_sealed_reader_open (
    const HqSealKeys *keys, const gchar *path, GError **error);
/* The same on an open descriptor (taken). */
HqSealedReader *hq_sealed_reader_open_fd (
    const HqSealKeys *keys, int fd, const gchar *name, GError **error);
/* The size of the clear content. */
guint64 hq_sealed_reader_get_size (HqSealedReader *reader);
/* The next chunk of clear content; NULL at the end (no error) or on
 * error. */
GBytes *hq_sealed_reader_next (HqSealedReader *reader, GError **error);
/* Writes the rest of the clear content to @fd; FALSE on a write error
 * (the reader went away: EPIPE) or a damaged chunk. */
gboolean hq_sealed_reader_copy_to_fd (
    HqSealedReader *reader, int fd, GError **error);
void hq_sealed_reader_free (HqSealedReader *reader);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HqSealedReader, hq_sealed_reader_free)

G_END_DECLS

#endif /* __HQ_SEALED_H__ */
