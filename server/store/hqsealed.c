/* Sealed files; see hqsealed.h for the format.
 *
 * Why chunks: a recording may be gigabytes; it is served as it is
 * decrypted, one chunk in memory at a time, and any chunk can be checked
 * on its own.  Why the index and a last-chunk flag in each nonce: chunks
 * cannot be reordered, dropped or the file cut short without a chunk
 * failing its tag.  Why a fixed header: a rewrap with a key id of another
 * length still rewrites the same 128 bytes and nothing else.
 */
#include "hqsealed.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define MAGIC "HQSEALED"
#define MAGIC_LEN 8
#define VERSION 1
#define KEY_LEN 32
#define TAG_LEN 16
#define NONCE_LEN 12
#define KEY_ID_MAX 31
/* Offsets in the header. */
#define OFF_VERSION 8
#define OFF_CHUNK 12
#define OFF_KEY_ID_LEN 16
#define OFF_KEY_ID 17
#define OFF_WRAP_NONCE 48
#define OFF_WRAPPED 60
#define OFF_WRAP_TAG 92
#define OFF_RESERVED 108
/* Additional data: the chunks are bound to bytes 0..15 (what a rewrap
 * never changes), the wrapped key to bytes 0..47 (with the key id). */
#define CHUNK_AAD_LEN 16
#define WRAP_AAD_LEN 48

G_DEFINE_QUARK (hq - sealed - error - quark, hq_sealed_error);

typedef struct
{
  gchar id[KEY_ID_MAX + 1];
  guint8 key[KEY_LEN];
} OperatorKey;

struct _HqSealKeys
{
  GArray *keys; /* OperatorKey; the first is current */
};

struct _HqSealedReader
{
  int fd;
  gchar *name;
  guint8 header[HQ_SEALED_HEADER_SIZE];
  guint8 data_key[KEY_LEN];
  guint32 chunk; /* plain bytes per chunk */
  guint64 n_chunks;
  guint64 last_len; /* bytes of the last chunk on disk, tag included */
  guint64 size; /* clear content */
  guint64 next; /* index of the next chunk to read */
  EVP_CIPHER_CTX *ctx;
};

/* --- operator keys --- */

static gboolean
key_id_ok (const gchar *id, gsize len)
{
  if (len == 0 || len > KEY_ID_MAX)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (id[i]) && id[i] != '-' && id[i] != '_'
        && id[i] != '.')
      return FALSE;
  return TRUE;
}

/* 64 hex digits or base64 of 32 bytes into @out. */
static gboolean
key_bytes (const gchar *text, guint8 *out)
{
  gsize len = strlen (text);

  if (len == 2 * KEY_LEN) {
    for (gsize i = 0; i < KEY_LEN; i++) {
      gint hi = g_ascii_xdigit_value (text[2 * i]);
      gint lo = g_ascii_xdigit_value (text[2 * i + 1]);
      if (hi < 0 || lo < 0)
        return FALSE;
      out[i] = (guint8)(hi << 4 | lo);
    }
    return TRUE;
  }
  if (len == 44 && text[43] == '=' && text[42] != '=') {
    gsize n = 0;
    guchar *raw;
    for (gsize i = 0; i < 43; i++)
      if (!g_ascii_isalnum (text[i]) && text[i] != '+' && text[i] != '/')
        return FALSE;
    raw = g_base64_decode (text, &n);
    if (n == KEY_LEN)
      memcpy (out, raw, KEY_LEN);
    OPENSSL_cleanse (raw, n);
    g_free (raw);
    return n == KEY_LEN;
  }
  return FALSE;
}

void
hq_seal_keys_free (HqSealKeys *keys)
{
  if (keys == NULL)
    return;
  OPENSSL_cleanse (keys->keys->data, keys->keys->len * sizeof (OperatorKey));
  g_array_unref (keys->keys);
  g_free (keys);
}

HqSealKeys *
hq_seal_keys_parse (const gchar *text, const gchar *source, GError **error)
{
  g_autoptr (HqSealKeys) keys = g_new0 (HqSealKeys, 1);
  g_auto (GStrv) lines = g_strsplit (text ? text : "", "\n", -1);
  guint entry = 0;

  keys->keys = g_array_new (FALSE, TRUE, sizeof (OperatorKey));
  for (guint l = 0; lines[l]; l++) {
    gchar *hash = strchr (lines[l], '#');
    g_auto (GStrv) words = NULL;
    if (hash)
      *hash = '\0';
    words = g_strsplit_set (lines[l], " \t\r,;", -1);
    for (guint w = 0; words[w]; w++) {
      const gchar *colon = strchr (words[w], ':');
      OperatorKey k = { 0 };
      if (*words[w] == '\0')
        continue;
      entry++;
      if (colon == NULL || !key_id_ok (words[w], colon - words[w])) {
        OPENSSL_cleanse (lines[l], strlen (lines[l]));
        g_set_error (error, HQ_SEALED_ERROR, HQ_SEALED_ERROR_KEYS,
            "%s: entry %u is not ID:KEY with an id of 1 to %d letters, "
            "digits, '.', '-' or '_'",
            source, entry, KEY_ID_MAX);
        return NULL;
      }
      memcpy (k.id, words[w], colon - words[w]);
      if (!key_bytes (colon + 1, k.key)) {
        g_set_error (error, HQ_SEALED_ERROR, HQ_SEALED_ERROR_KEYS,
            "%s: key \"%s\" is not 32 bytes as 64 hex digits or base64 "
            "(make one with: openssl rand -hex 32)",
            source, k.id);
        OPENSSL_cleanse (&k, sizeof k);
        OPENSSL_cleanse (words[w], strlen (words[w]));
        return NULL;
      }
      for (guint i = 0; i < keys->keys->len; i++)
        if (g_str_equal (g_array_index (keys->keys, OperatorKey, i).id, k.id)) {
          g_set_error (error, HQ_SEALED_ERROR, HQ_SEALED_ERROR_KEYS,
              "%s: key id \"%s\" is given twice", source, k.id);
          OPENSSL_cleanse (&k, sizeof k);
          return NULL;
        }
      g_array_append_val (keys->keys, k);
      OPENSSL_cleanse (&k, sizeof k);
      OPENSSL_cleanse (words[w], strlen (words[w]));
    }
    OPENSSL_cleanse (lines[l], strlen (lines[l]));
  }
  if (keys->keys->len == 0) {
    g_set_error (error, HQ_SEALED_ERROR, HQ_SEALED_ERROR_KEYS,
        "%s holds no operator key (one line \"ID:KEY\", e.g. "
        "k1:$(openssl rand -hex 32))",
        source);
    return NULL;
  }
  return g_steal_pointer (&keys);
}

HqSealKeys *
hq_seal_keys_load_file (const gchar *path, GError **error)
{
  g_autofree gchar *text = NULL;
  gsize len = 0;
  GStatBuf st;
  HqSealKeys *keys;

  if (g_stat (path, &st) != 0) {
    g_set_error (error, HQ_SEALED_ERROR, HQ_SEALED_ERROR_KEYS,
        "operator key file %s: %s", path, g_strerror (errno));
    return NULL;
  }
  if (!S_ISREG (st.st_mode) || (st.st_mode & 077) != 0) {
    g_set_error (error, HQ_SEALED_ERROR, HQ_SEALED_ERROR_KEYS,
        "operator key file %s must be a regular file readable by its owner "
        "only (chmod 600 it)",
        path);
    return NULL;
  }
  if (!g_file_get_contents (path, &text, &len, error)) {
    g_prefix_error (error, "operator key file: ");
    return NULL;
  }
  keys = hq_seal_keys_parse (text, path, error);
  OPENSSL_cleanse (text, len);
  return keys;
}

const gchar *
hq_seal_keys_current_id (const HqSealKeys *keys)
{
  return g_array_index (keys->keys, OperatorKey, 0).id;
}

gchar *
hq_seal_keys_describe (const HqSealKeys *keys)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < keys->keys->len; i++)
    g_string_append_printf (s, "%s%s%s", i ? ", " : "",
        g_array_index (keys->keys, OperatorKey, i).id,
        i == 0 ? " (current)" : "");
  return g_string_free (s, FALSE);
}

static const OperatorKey *
find_key (const HqSealKeys *keys, const gchar *id)
{
  for (guint i = 0; keys && i < keys->keys->len; i++)
    if (g_str_equal (g_array_index (keys->keys, OperatorKey, i).id, id))
      return &g_array_index (keys->keys, OperatorKey, i);
  return NULL;
}

/* --- AES-256-GCM --- */

/* Encrypts (@enc) or decrypts @in into @out (same length) with @tag;
 * FALSE when decryption fails authentication. */
static gboolean
gcm (EVP_CIPHER_CTX *ctx, gboolean enc, const guint8 *key, const guint8 *nonce,
    const guint8 *aad, gsize aad_len, const guint8 *in, gsize len, guint8 *out,
    guint8 *tag)
{
  int n = 0;
  gboolean ok;

  if (enc)
    ok = EVP_EncryptInit_ex (ctx, EVP_aes_256_gcm (), NULL, key, nonce) == 1
        && EVP_EncryptUpdate (ctx, NULL, &n, aad, (int)aad_len) == 1
        && (len == 0 || EVP_EncryptUpdate (ctx, out, &n, in, (int)len) == 1)
        && EVP_EncryptFinal_ex (ctx, out + len, &n) == 1
        && EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) == 1;
  else
    ok = EVP_DecryptInit_ex (ctx, EVP_aes_256_gcm (), NULL, key, nonce) == 1
        && EVP_DecryptUpdate (ctx, NULL, &n, aad, (int)aad_len) == 1
        && (len == 0 || EVP_DecryptUpdate (ctx, out, &n, in, (int)len) == 1)
        && EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) == 1
        && EVP_DecryptFinal_ex (ctx, out + len, &n) == 1;
  return ok;
}

static void
chunk_nonce (guint64 index, gboolean last, guint8 *nonce)
{
  memset (nonce, 0, NONCE_LEN);
  for (gint i = 7; i >= 0; i--, index >>= 8)
    nonce[i] = index & 0xff;
  nonce[NONCE_LEN - 1] = last ? 1 : 0;
}

/* Fills @h with everything but the wrapped key, for @key_id. */
static void
header_init (guint8 *h, const gchar *key_id)
{
  gsize id_len = strlen (key_id);

  memset (h, 0, HQ_SEALED_HEADER_SIZE);
  memcpy (h, MAGIC, MAGIC_LEN);
  h[OFF_VERSION] = VERSION;
  h[OFF_CHUNK] = (HQ_SEALED_CHUNK_SIZE >> 24) & 0xff;
  h[OFF_CHUNK + 1] = (HQ_SEALED_CHUNK_SIZE >> 16) & 0xff;
  h[OFF_CHUNK + 2] = (HQ_SEALED_CHUNK_SIZE >> 8) & 0xff;
  h[OFF_CHUNK + 3] = HQ_SEALED_CHUNK_SIZE & 0xff;
  h[OFF_KEY_ID_LEN] = (guint8)id_len;
  memcpy (h + OFF_KEY_ID, key_id, id_len);
}

/* Wraps @data_key into header @h with operator key @k. */
static gboolean
wrap (EVP_CIPHER_CTX *ctx, guint8 *h, const OperatorKey *k,
    const guint8 *data_key, GError **error)
{
  gsize id_len = strlen (k->id);

  memset (h + OFF_KEY_ID, 0, KEY_ID_MAX);
  h[OFF_KEY_ID_LEN] = (guint8)id_len;
  memcpy (h + OFF_KEY_ID, k->id, id_len);
  if (RAND_bytes (h + OFF_WRAP_NONCE, NONCE_LEN) != 1
      || !gcm (ctx, TRUE, k->key, h + OFF_WRAP_NONCE, h, WRAP_AAD_LEN, data_key,
          KEY_LEN, h + OFF_WRAPPED, h + OFF_WRAP_TAG)) {
    g_set_error (error, HQ_SEALED_ERROR, HQ_SEALED_ERROR_IO,
        "cannot wrap a data key (OpenSSL failed)");
    return FALSE;
  }
  return TRUE;
}

/* Checks header @h of @name and unwraps its data key into @data_key. */
static gboolean
unwrap (EVP_CIPHER_CTX *ctx, const HqSealKeys *keys, const guint8 *h,
    const gchar *name, guint8 *data_key, GError **error)
{
  gchar id[KEY_ID_MAX + 1] = { 0 };
  guint id_len = h[OFF_KEY_ID_LEN];
  guint32 chunk = (guint32)h[OFF_CHUNK] << 24 | (guint32)h[OFF_CHUNK + 1] << 16
      | (guint32)h[OFF_CHUNK + 2] << 8 | h[OFF_CHUNK + 3];
  const OperatorKey *k;

  if (memcmp (h, MAGIC, MAGIC_LEN) != 0) {
    g_set_error (error, HQ_SEALED_ERROR, HQ_SEALED_ERROR_NOT_SEALED,
        "%s is not a sealed file", name);
    return FALSE;
  }
  if (h[OFF_VERSION] != VERSION || chunk != HQ_SEALED_CHUNK_SIZE || id_len == 0
      || id_len > KEY_ID_MAX) {
    g_set_error (error, HQ_SEALED_ERROR, HQ_SEALED_ERROR_DAMAGED,
        "%s: the sealed header is damaged or of an unknown version", name);
    return FALSE;
  }
  memcpy (id, h + OFF_KEY_ID, id_len);
  if (!key_id_ok (id, id_len)) {
    g_set_error (error, HQ_SEALED_ERROR, HQ_SEALED_ERROR_DAMAGED,
        "%s: the sealed header is damaged (its key id)", name);
    return FALSE;
  }
  if (keys == NULL || (k = find_key (keys, id)) == NULL) {
    g_set_error (error, HQ_SEALED_ERROR, HQ_SEALED_ERROR_UNKNOWN_KEY,
        "%s is sealed with operator key \"%s\", which this server does not "
        "have%s",
        name, id,
        keys ? "" : " (no operator key is configured: [at-rest] key_file)");
    return FALSE;
  }
  if (!gcm (ctx, FALSE, k->key, h + OFF_WRAP_NONCE, h, WRAP_AAD_LEN,
          h + OFF_WRAPPED, KEY_LEN, data_key, (guint8 *)h + OFF_WRAP_TAG)) {
    g_set_error (error, HQ_SEALED_ERROR, HQ_SEALED_ERROR_WRONG_KEY,
        "%s: operator key \"%s\" does not open it (a different key under "
        "that id, or a damaged header)",
        name, id);
    return FALSE;
  }
  return TRUE;
}

/* --- writing --- */

static gboolean
write_all (int fd, const guint8 *data, gsize len, GError **error)
{
  while (len > 0) {
    gssize n = write (fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      g_set_error (error, HQ_SEALED_ERROR, HQ_SEALED_ERROR_IO, "write: %s",
          g_strerror (errno));
      return FALSE;
    }
    data += n;
    len -= n;
  }
  return TRUE;
}

/* Reads up to @len bytes, fewer only at the end. */
static gssize
read_full (int fd, guint8 *buf, gsize len)
{
  gsize got = 0;

  while (got < len) {
    gssize n = read (fd, buf + got, len - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    if (n == 0)
      break;
    got += n;
  }
  return (gssize)got;
}

/* Where clear content comes from: a descriptor or memory. */
typedef struct
{
  int fd;
  const guint8 *mem;
  gsize mem_len, mem_pos;
} Source;

static gssize
source_read (Source *s, guint8 *buf, gsize len)
{
  gsize n;

  if (s->mem == NULL && s->fd >= 0)
    return read_full (s->fd, buf, len);
  n = MIN (len, s->mem_len - s->mem_pos);
  if (n)
    memcpy (buf, s->mem + s->mem_pos, n);
  s->mem_pos += n;
  return (gssize)n;
}

/* Writes @src sealed to @out: header, then chunks, each encrypted once
 * the next one is read (to know which is the last). */
static gboolean
seal_stream (const HqSealKeys *keys, Source *src, int out, GError **error)
{
  const OperatorKey *k = &g_array_index (keys->keys, OperatorKey, 0);
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new ();
  guint8 header[HQ_SEALED_HEADER_SIZE], data_key[KEY_LEN], nonce[NONCE_LEN];
  guint8 *cur = g_malloc (HQ_SEALED_CHUNK_SIZE);
  guint8 *ahead = g_malloc (HQ_SEALED_CHUNK_SIZE);
  guint8 *enc = g_malloc (HQ_SEALED_CHUNK_SIZE + TAG_LEN);
  gssize cur_len, ahead_len;
  gboolean ok = FALSE;
  guint64 index = 0;

  header_init (header, k->id);
  if (ctx == NULL || RAND_bytes (data_key, KEY_LEN) != 1) {
    g_set_error (error, HQ_SEALED_ERROR, HQ_SEALED_ERROR_IO,
        "cannot make a data key (OpenSSL failed)");
    goto out;
  }
  if (!wrap (ctx, header, k, data_key, error)
      || !write_all (out, header, sizeof header, error))
    goto out;
  cur_len = source_read (src, cur, HQ_SEALED_CHUNK_SIZE);
  while (cur_len >= 0) {
    gboolean last;
    guint8 *swap;
    ahead_len = cur_len == HQ_SEALED_CHUNK_SIZE
        ? source_read (src, ahead, HQ_SEALED_CHUNK_SIZE)
        : 0;
    if (ahead_len < 0)
      break;
    last = ahead_len == 0;
    chunk_nonce (index++, last, nonce);
    if (!gcm (ctx, TRUE, data_key, nonce, header, CHUNK_AAD_LEN, cur, cur_len,
            enc, enc + cur_len)) {
      g_set_error (error, HQ_SEALED_ERROR, HQ_SEALED_ERROR_IO,
          "cannot encrypt (OpenSSL failed)");
      goto out;
    }
    if (!write_all (out, enc, cur_len + TAG_LEN, error))
      goto out;
    if (last) {
      ok = TRUE;
      goto out;
    }
    swap = cur, cur = ahead, ahead = swap;
    cur_len = ahead_len;
  }
  g_set_error (error, HQ_SEALED_ERROR, HQ_SEALED_ERROR_IO, "read: %s",
      g_strerror (errno));
out:
  OPENSSL_cleanse (data_key, sizeof data_key);
  OPENSSL_cleanse (cur, HQ_SEALED_CHUNK_SIZE);
  OPENSSL_cleanse (ahead, HQ_SEALED_CHUNK_SIZE);
  g_free (cur);
  g_free (ahead);
  g_free (enc);
  EVP_CIPHER_CTX_free (ctx);
  return ok;
}

/* Seals @src into a temporary file beside @path and renames it over
 * @path. */
static gboolean
seal_to (const HqSealKeys *keys, Source *src, const gchar *path, GError **error)
{
  g_autofree gchar *tmp = g_strdup_printf ("%s.sealing-XXXXXX", path);
  int out = g_mkstemp_full (tmp, O_RDWR | O_CLOEXEC, 0600);
  gboolean ok;

  if (out < 0) {
    g_set_error (error, HQ_SEALED_ERROR, HQ_SEALED_ERROR_IO,
        "cannot create %s: %s", tmp, g_strerror (errno));
    return FALSE;
  }
  ok = seal_stream (keys, src, out, error) && fsync (out) == 0;
  if (ok && close (out) != 0)
    ok = FALSE;
  else if (!ok)
    close (out);
  out = -1;
  if (ok && g_rename (tmp, path) != 0) {
    g_set_error (error, HQ_SEALED_ERROR, HQ_SEALED_ERROR_IO,
        "cannot rename %s to %s: %s", tmp, path, g_strerror (errno));
    ok = FALSE;
  }
  if (!ok) {
    if (error && *error == NULL)
      g_set_error (error, HQ_SEALED_ERROR, HQ_SEALED_ERROR_IO,
          "cannot write %s: %s", tmp, g_strerror (errno));
    g_unlink (tmp);
  }
  return ok;
}

gboolean
hq_sealed_write (const HqSealKeys *keys, const gchar *path, const guint8 *data,
    gsize len, GError **error)
{
  Source src = {
    .fd = -1, .mem = data ? data : (const guint8 *)"", .mem_len = len
  };

  return seal_to (keys, &src, path, error);
}

gboolean
hq_sealed_fd_is_sealed (int fd)
{
  guint8 magic[MAGIC_LEN];

  return pread (fd, magic, MAGIC_LEN, 0) == MAGIC_LEN
      && memcmp (magic, MAGIC, MAGIC_LEN) == 0;
}

gboolean
hq_sealed_file_is_sealed (const gchar *path)
{
  int fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  gboolean sealed;

  if (fd < 0)
    return FALSE;
  sealed = hq_sealed_fd_is_sealed (fd);
  close (fd);
  return sealed;
}

gboolean
hq_sealed_seal_file (const HqSealKeys *keys, const gchar *path, GError **error)
{
  Source src = { .fd = g_open (path, O_RDONLY | O_CLOEXEC, 0) };
  gboolean ok;

  if (src.fd < 0) {
    g_set_error (error, HQ_SEALED_ERROR, HQ_SEALED_ERROR_IO,
        "cannot open %s: %s", path, g_strerror (errno));
    return FALSE;
  }
  ok = hq_sealed_fd_is_sealed (src.fd) || seal_to (keys, &src, path, error);
  close (src.fd);
  return ok;
}

gboolean
hq_sealed_rewrap_file (const HqSealKeys *keys, const gchar *path,
    gboolean *changed, GError **error)
{
  const OperatorKey *current = &g_array_index (keys->keys, OperatorKey, 0);
  int fd = g_open (path, O_RDWR | O_CLOEXEC, 0);
  EVP_CIPHER_CTX *ctx = NULL;
  guint8 h[HQ_SEALED_HEADER_SIZE], data_key[KEY_LEN];
  gboolean ok = FALSE;

  *changed = FALSE;
  if (fd < 0 || pread (fd, h, sizeof h, 0) != sizeof h) {
    g_set_error (error, HQ_SEALED_ERROR,
        fd < 0 ? HQ_SEALED_ERROR_IO : HQ_SEALED_ERROR_NOT_SEALED,
        "cannot read the header of %s: %s", path,
        fd < 0 ? g_strerror (errno) : "too short");
    goto out;
  }
  ctx = EVP_CIPHER_CTX_new ();
  if (!unwrap (ctx, keys, h, path, data_key, error))
    goto out;
  if (h[OFF_KEY_ID_LEN] == strlen (current->id)
      && memcmp (h + OFF_KEY_ID, current->id, h[OFF_KEY_ID_LEN]) == 0) {
    ok = TRUE;
    goto out;
  }
  /* One write of the first 128 bytes, then synced: the media after it is
   * never touched. */
  if (!wrap (ctx, h, current, data_key, error))
    goto out;
  if (pwrite (fd, h, sizeof h, 0) != sizeof h || fdatasync (fd) != 0) {
    g_set_error (error, HQ_SEALED_ERROR, HQ_SEALED_ERROR_IO,
        "cannot rewrite the header of %s: %s", path, g_strerror (errno));
    goto out;
  }
  *changed = ok = TRUE;
out:
  OPENSSL_cleanse (data_key, sizeof data_key);
  EVP_CIPHER_CTX_free (ctx);
  if (fd >= 0)
    close (fd);
  return ok;
}

/* --- reading --- */

void
hq_sealed_reader_free (HqSealedReader *r)
{
  if (r == NULL)
    return;
  OPENSSL_cleanse (r->data_key, sizeof r->data_key);
  EVP_CIPHER_CTX_free (r->ctx);
  if (r->fd >= 0)
    close (r->fd);
  g_free (r->name);
  g_free (r);
}

/* Decrypts chunk @index into @out (at least chunk bytes); its clear
 * length in *@len. */
static gboolean
read_chunk (
    HqSealedReader *r, guint64 index, guint8 *out, gsize *len, GError **error)
{
  gboolean last = index == r->n_chunks - 1;
  gsize disk = last ? r->last_len : r->chunk + TAG_LEN;
  g_autofree guint8 *buf = g_malloc (disk);
  guint8 nonce[NONCE_LEN];
  off_t at = HQ_SEALED_HEADER_SIZE + (off_t)index * (r->chunk + TAG_LEN);
  gsize got = 0;

  while (got < disk) {
    gssize n = pread (r->fd, buf + got, disk - got, at + got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      g_set_error (error, HQ_SEALED_ERROR,
          n == 0 ? HQ_SEALED_ERROR_TRUNCATED : HQ_SEALED_ERROR_IO, "%s: %s",
          r->name, n == 0 ? "cut short" : g_strerror (errno));
      return FALSE;
    }
    got += n;
  }
  chunk_nonce (index, last, nonce);
  if (gcm (r->ctx, FALSE, r->data_key, nonce, r->header, CHUNK_AAD_LEN, buf,
          disk - TAG_LEN, out, buf + disk - TAG_LEN)) {
    *len = disk - TAG_LEN;
    return TRUE;
  }
  /* A last chunk that was written as a middle one: the file was cut at a
   * chunk boundary. */
  chunk_nonce (index, FALSE, nonce);
  if (last
      && gcm (r->ctx, FALSE, r->data_key, nonce, r->header, CHUNK_AAD_LEN, buf,
          disk - TAG_LEN, out, buf + disk - TAG_LEN)) {
    OPENSSL_cleanse (out, disk - TAG_LEN);
    g_set_error (error, HQ_SEALED_ERROR, HQ_SEALED_ERROR_TRUNCATED,
        "%s is cut short (it ends after chunk %" G_GUINT64_FORMAT
        ", which is not its last)",
        r->name, index);
    return FALSE;
  }
  g_set_error (error, HQ_SEALED_ERROR, HQ_SEALED_ERROR_DAMAGED,
      "%s is damaged: chunk %" G_GUINT64_FORMAT " fails authentication",
      r->name, index);
  return FALSE;
}

HqSealedReader *
hq_sealed_reader_open_fd (
    const HqSealKeys *keys, int fd, const gchar *name, GError **error)
{
  g_autoptr (HqSealedReader) r = g_new0 (HqSealedReader, 1);
  g_autofree guint8 *check = NULL;
  struct stat st;
  guint64 body, per;
  gsize len;

  r->fd = fd;
  r->name = g_strdup (name);
  r->ctx = EVP_CIPHER_CTX_new ();
  if (fstat (fd, &st) != 0) {
    g_set_error (error, HQ_SEALED_ERROR, HQ_SEALED_ERROR_IO, "%s: %s", name,
        g_strerror (errno));
    return NULL;
  }
  if (pread (fd, r->header, sizeof r->header, 0) != sizeof r->header) {
    if (hq_sealed_fd_is_sealed (fd))
      g_set_error (error, HQ_SEALED_ERROR, HQ_SEALED_ERROR_TRUNCATED,
          "%s is cut short inside its sealed header", name);
    else
      g_set_error (error, HQ_SEALED_ERROR, HQ_SEALED_ERROR_NOT_SEALED,
          "%s is not a sealed file", name);
    return NULL;
  }
  if (!unwrap (r->ctx, keys, r->header, name, r->data_key, error))
    return NULL;
  r->chunk = HQ_SEALED_CHUNK_SIZE;
  per = r->chunk + TAG_LEN;
  body = (guint64)st.st_size - HQ_SEALED_HEADER_SIZE;
  if (body < TAG_LEN) {
    g_set_error (error, HQ_SEALED_ERROR, HQ_SEALED_ERROR_TRUNCATED,
        "%s is cut short: no chunk after its header", name);
    return NULL;
  }
  r->n_chunks = (body + per - 1) / per;
  r->last_len = body - (r->n_chunks - 1) * per;
  if (r->last_len < TAG_LEN) {
    g_set_error (error, HQ_SEALED_ERROR, HQ_SEALED_ERROR_TRUNCATED,
        "%s is cut short inside a chunk", name);
    return NULL;
  }
  r->size = body - r->n_chunks * TAG_LEN;
  /* The last chunk first: a file cut short is refused before anything of
   * it is served. */
  check = g_malloc (r->chunk);
  if (!read_chunk (r, r->n_chunks - 1, check, &len, error))
    return NULL;
  OPENSSL_cleanse (check, r->chunk);
  return g_steal_pointer (&r);
}

HqSealedReader *
hq_sealed_reader_open (
    const HqSealKeys *keys, const gchar *path, GError **error)
{
  int fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);

  if (fd < 0) {
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
        "cannot open %s: %s", path, g_strerror (errno));
    return NULL;
  }
  return hq_sealed_reader_open_fd (keys, fd, path, error);
}

guint64
hq_sealed_reader_get_size (HqSealedReader *r)
{
  return r->size;
}

GBytes *
hq_sealed_reader_next (HqSealedReader *r, GError **error)
{
  guint8 *out;
  gsize len = 0;

  if (r->next >= r->n_chunks)
    return NULL;
  out = g_malloc (r->chunk);
  if (!read_chunk (r, r->next, out, &len, error)) {
    g_free (out);
    return NULL;
  }
  r->next++;
  return g_bytes_new_take (out, len);
}

gboolean
hq_sealed_reader_copy_to_fd (HqSealedReader *r, int fd, GError **error)
{
  GError *local = NULL;
  GBytes *chunk;

  while ((chunk = hq_sealed_reader_next (r, &local))) {
    gsize len;
    const guint8 *data = g_bytes_get_data (chunk, &len);
    gboolean ok = write_all (fd, data, len, &local);
    g_bytes_unref (chunk);
    if (!ok)
      break;
  }
  if (local) {
    g_propagate_error (error, local);
    return FALSE;
  }
  return TRUE;
}
