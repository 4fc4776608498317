/* Small helpers shared by libhq, the server and the elements: secure random
 * identifiers, constant-time comparison and base64url (RFC 4648 section 5,
 * no padding) as JWTs use it. */
#ifndef __HQ_UTIL_H__
#define __HQ_UTIL_H__

#include <glib.h>

G_BEGIN_DECLS

/* Fills @buf with @len bytes from the operating system's secure random
 * source.  Aborts if none is available: nothing secure can be made then. */
void hq_random_bytes (guint8 *buf, gsize len);

/* A new sid: @prefix (two letters, e.g. "RM") followed by 32 lowercase hex
 * digits of secure randomness, as Twilio sids look. */
gchar *hq_sid_new (const gchar *prefix);

/* TRUE when @sid is @prefix followed by exactly 32 hex digits. */
gboolean hq_sid_is_valid (const gchar *sid, const gchar *prefix);

/* A new secret: @n_bytes of secure randomness, base64url encoded. */
gchar *hq_secret_new (gsize n_bytes);

/* Compares @len bytes of @a and @b in time that does not depend on where
 * they differ.  Returns TRUE when equal. */
gboolean hq_equal_const_time (const void *a, const void *b, gsize len);

/* Compares two NUL-terminated strings (e.g. secrets) without leaking where
 * they differ; only their lengths leak. */
gboolean hq_str_equal_const_time (const gchar *a, const gchar *b);

gchar *hq_base64url_encode (const guint8 *data, gsize len);

/* Decodes unpadded base64url.  Returns NULL when @text holds any character
 * outside the alphabet or has an impossible length. */
guint8 *hq_base64url_decode (const gchar *text, gsize text_len, gsize *out_len);

G_END_DECLS

#endif /* __HQ_UTIL_H__ */
