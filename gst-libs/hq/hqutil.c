/* Secure random identifiers, constant-time comparison and base64url.
 *
 * Randomness comes from OpenSSL's RAND_bytes, which libhq links for DTLS
 * anyway and which seeds from the kernel. */
#include "hqutil.h"

#include <string.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

void
hq_random_bytes (guint8 *buf, gsize len)
{
  if (len > G_MAXINT || RAND_bytes (buf, (int)len) != 1)
    g_error ("hq: no secure random source available");
}

gchar *
hq_sid_new (const gchar *prefix)
{
  guint8 raw[16];
  GString *sid = g_string_new (prefix);

  hq_random_bytes (raw, sizeof raw);
  for (gsize i = 0; i < sizeof raw; i++)
    g_string_append_printf (sid, "%02x", raw[i]);
  return g_string_free (sid, FALSE);
}

gboolean
hq_sid_is_valid (const gchar *sid, const gchar *prefix)
{
  gsize plen = strlen (prefix);

  if (sid == NULL || strncmp (sid, prefix, plen) != 0)
    return FALSE;
  sid += plen;
  for (gsize i = 0; i < 32; i++)
    if (!g_ascii_isxdigit (sid[i]))
      return FALSE;
  return sid[32] == '\0';
}

gchar *
hq_secret_new (gsize n_bytes)
{
  guint8 *raw = g_malloc (n_bytes);
  gchar *secret;

  hq_random_bytes (raw, n_bytes);
  secret = hq_base64url_encode (raw, n_bytes);
  memset (raw, 0, n_bytes);
  g_free (raw);
  return secret;
}

gboolean
hq_equal_const_time (const void *a, const void *b, gsize len)
{
  return CRYPTO_memcmp (a, b, len) == 0;
}

gboolean
hq_str_equal_const_time (const gchar *a, const gchar *b)
{
  gsize la = strlen (a), lb = strlen (b);

  /* Compare over the expected length either way so a wrong length costs
   * the same as a wrong byte. */
  if (la != lb) {
    (void)CRYPTO_memcmp (b, b, lb);
    return FALSE;
  }
  return CRYPTO_memcmp (a, b, la) == 0;
}

/* base64url (RFC 4648 section 5, no padding) through GLib's base64: the
 * two characters that differ swapped, the padding dropped or restored. */
gchar *
hq_base64url_encode (const guint8 *data, gsize len)
{
  gchar *text = g_base64_encode (data, len);
  gsize n = strlen (text);

  while (n > 0 && text[n - 1] == '=')
    text[--n] = '\0';
  for (gchar *c = text; *c; c++) {
    if (*c == '+')
      *c = '-';
    else if (*c == '/')
      *c = '_';
  }
  return text;
}

guint8 *
hq_base64url_decode (const gchar *text, gsize text_len, gsize *out_len)
{
  g_autofree gchar *std = NULL;
  gsize n = 0;

  /* GLib's decoder skips characters outside the alphabet; base64url
   * must refuse them, and a lone trailing character (fewer than 8 bits)
   * is never valid. */
  if (text_len % 4 == 1)
    return NULL;
  std = g_malloc (text_len + 3);
  for (gsize i = 0; i < text_len; i++) {
    gchar c = text[i];
    if (c == '-')
      c = '+';
    else if (c == '_')
      c = '/';
    else if (!g_ascii_isalnum (c))
      return NULL;
    std[n++] = c;
  }
  while (n % 4 != 0)
    std[n++] = '=';
  std[n] = '\0';
  return g_base64_decode (std, out_len);
}
