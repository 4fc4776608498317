/* Secure random identifiers, constant-time comparison and base64url.
 *
 * Randomness comes from OpenSSL's RAND_bytes, which libhq links for DTLS
 * anyway and which seeds from the kernel. */
#include "hqutil.h"

#include <string.h>
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
  const volatile guint8 *pa = a, *pb = b;
  guint8 diff = 0;

  for (gsize i = 0; i < len; i++)
    diff |= pa[i] ^ pb[i];
  return diff == 0;
}

gboolean
hq_str_equal_const_time (const gchar *a, const gchar *b)
{
  gsize la = strlen (a), lb = strlen (b);

  /* Compare over the expected length either way so a wrong length costs
   * the same as a wrong byte. */
  if (la != lb) {
    (void)hq_equal_const_time (b, b, lb);
    return FALSE;
  }
  return hq_equal_const_time (a, b, la);
}

static const gchar b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

gchar *
hq_base64url_encode (const guint8 *data, gsize len)
{
  GString *out = g_string_sized_new ((len + 2) / 3 * 4 + 1);
  gsize i;

  for (i = 0; i + 2 < len; i += 3) {
    guint32 v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    g_string_append_c (out, b64url_alphabet[(v >> 18) & 63]);
    g_string_append_c (out, b64url_alphabet[(v >> 12) & 63]);
    g_string_append_c (out, b64url_alphabet[(v >> 6) & 63]);
    g_string_append_c (out, b64url_alphabet[v & 63]);
  }
  if (len - i == 1) {
    guint32 v = data[i] << 16;
    g_string_append_c (out, b64url_alphabet[(v >> 18) & 63]);
    g_string_append_c (out, b64url_alphabet[(v >> 12) & 63]);
  } else if (len - i == 2) {
    guint32 v = (data[i] << 16) | (data[i + 1] << 8);
    g_string_append_c (out, b64url_alphabet[(v >> 18) & 63]);
    g_string_append_c (out, b64url_alphabet[(v >> 12) & 63]);
    g_string_append_c (out, b64url_alphabet[(v >> 6) & 63]);
  }
  return g_string_free (out, FALSE);
}

static gint
b64url_value (gchar c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '-')
    return 62;
  if (c == '_')
    return 63;
  return -1;
}

guint8 *
hq_base64url_decode (const gchar *text, gsize text_len, gsize *out_len)
{
  guint8 *out;
  gsize n = 0;
  guint32 acc = 0;
  guint bits = 0;

  /* A lone trailing character encodes fewer than 8 bits: never valid. */
  if (text_len % 4 == 1)
    return NULL;
  out = g_malloc (text_len / 4 * 3 + 3);
  for (gsize i = 0; i < text_len; i++) {
    gint v = b64url_value (text[i]);
    if (v < 0) {
      g_free (out);
      return NULL;
    }
    acc = (acc << 6) | (guint32)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
  }
  *out_len = n;
  return out;
}
