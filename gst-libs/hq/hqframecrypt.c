/* SFrame-style frame encryption (RFC 9605): see hqframecrypt.h for the
 * format and the key schedule, docs/e2ee.md for why.  HKDF-SHA256 and
 * AES-128-GCM come from OpenSSL's EVP interface, one cipher context per
 * key. */
#include "hqframecrypt.h"

#include <string.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#define SHA256_LEN 32
/* receiving keys cached per HqFrameCrypt before the cache is emptied */
#define MAX_RECV_KEYS 64
/* HqFrameCrypt's own salt for the room secret (HKDF-Extract) */
#define ROOM_SALT "hqrooms e2ee 1"

G_DEFINE_QUARK (hq - frame - crypt - error - quark, hq_frame_crypt_error)

/* --- HKDF-SHA256 (RFC 5869), OpenSSL's --- */

/* One HKDF step (@mode: extract or expand only); no salt: the RFC's
 * zeros.  OpenSSL failing here is a broken installation, not input. */
static void
hkdf (int mode, const guint8 *salt, gsize salt_len, const guint8 *key,
    gsize key_len, const guint8 *info, gsize info_len, guint8 *out,
    gsize out_len)
{
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id (EVP_PKEY_HKDF, NULL);
  size_t len = out_len;
  gboolean ok = ctx && EVP_PKEY_derive_init (ctx) > 0
      && EVP_PKEY_CTX_set_hkdf_mode (ctx, mode) > 0
      && EVP_PKEY_CTX_set_hkdf_md (ctx, EVP_sha256 ()) > 0
      && (salt_len == 0
          || EVP_PKEY_CTX_set1_hkdf_salt (ctx, salt, (int)salt_len) > 0)
      && EVP_PKEY_CTX_set1_hkdf_key (ctx, key, (int)key_len) > 0
      && (info_len == 0
          || EVP_PKEY_CTX_add1_hkdf_info (ctx, info, (int)info_len) > 0)
      && EVP_PKEY_derive (ctx, out, &len) > 0 && len == out_len;

  EVP_PKEY_CTX_free (ctx);
  if (!ok)
    g_error ("hq: OpenSSL's HKDF-SHA256 is not available");
}

static void
hkdf_extract (const guint8 *salt, gsize salt_len, const guint8 *ikm,
    gsize ikm_len, guint8 prk[SHA256_LEN])
{
  hkdf (EVP_PKEY_HKDEF_MODE_EXTRACT_ONLY, salt, salt_len, ikm, ikm_len, NULL, 0,
      prk, SHA256_LEN);
}

static void
hkdf_expand (const guint8 prk[SHA256_LEN], const guint8 *info, gsize info_len,
    guint8 *out, gsize out_len)
{
  hkdf (EVP_PKEY_HKDEF_MODE_EXPAND_ONLY, NULL, 0, prk, SHA256_LEN, info,
      info_len, out, out_len);
}

/* --- RFC 9605 header (section 4.3) --- */

static guint
min_bytes (guint64 v)
{
  guint n = 1;

  while (n < 8 && (v >> (8 * n)) != 0)
    n++;
  return n;
}

static gsize
write_be (guint64 v, guint n, guint8 *out)
{
  for (guint i = 0; i < n; i++)
    out[i] = (guint8)(v >> (8 * (n - 1 - i)));
  return n;
}

static guint64
read_be (const guint8 *p, guint n)
{
  guint64 v = 0;

  for (guint i = 0; i < n; i++)
    v = (v << 8) | p[i];
  return v;
}

gsize
hq_sframe_header_write (guint64 kid, guint64 ctr, guint8 *out)
{
  gsize len = 1;
  guint8 config = 0;

  /* |X|K K K|Y|C C C|: a value under 8 fits in its 3 bits; else the flag
   * is set and the 3 bits say how many bytes follow, minus one. */
  if (kid < 8) {
    config |= (guint8)(kid << 4);
  } else {
    guint n = min_bytes (kid);
    config |= 0x80 | (guint8)((n - 1) << 4);
    len += write_be (kid, n, out + len);
  }
  if (ctr < 8) {
    config |= (guint8)ctr;
  } else {
    guint n = min_bytes (ctr);
    config |= 0x08 | (guint8)(n - 1);
    len += write_be (ctr, n, out + len);
  }
  out[0] = config;
  return len;
}

gsize
hq_sframe_header_parse (
    const guint8 *data, gsize len, guint64 *kid, guint64 *ctr)
{
  guint kid_len, ctr_len;
  guint8 config;

  if (len < 1)
    return 0;
  config = data[0];
  kid_len = (config & 0x80) ? ((config >> 4) & 7) + 1 : 0;
  ctr_len = (config & 0x08) ? (config & 7) + 1 : 0;
  if (len < 1 + (gsize)kid_len + ctr_len)
    return 0;
  *kid = kid_len ? read_be (data + 1, kid_len) : (config >> 4) & 7;
  *ctr = ctr_len ? read_be (data + 1 + kid_len, ctr_len) : config & 7;
  return 1 + kid_len + ctr_len;
}

/* --- RFC 9605 keys (4.4.2) and encryption (4.4.3, 4.4.4) --- */

struct _HqSFrameKey
{
  guint64 kid;
  guint8 key[HQ_SFRAME_KEY_LEN];
  guint8 salt[HQ_SFRAME_SALT_LEN];
  EVP_CIPHER_CTX *enc, *dec;
};

/* "SFrame 1.0 Secret key " | KID (8 bytes) | cipher suite (2 bytes) */
static gsize
label (const gchar *what, guint64 kid, guint8 *out)
{
  gsize n = strlen (what);

  memcpy (out, what, n);
  n += write_be (kid, 8, out + n);
  n += write_be (HQ_SFRAME_CIPHER_SUITE, 2, out + n);
  return n;
}

HqSFrameKey *
hq_sframe_key_new (const guint8 *base_key, gsize base_key_len, guint64 kid)
{
  HqSFrameKey *key = g_new0 (HqSFrameKey, 1);
  guint8 secret[SHA256_LEN], info[64];
  gsize n;

  key->kid = kid;
  hkdf_extract (NULL, 0, base_key, base_key_len, secret);
  n = label ("SFrame 1.0 Secret key ", kid, info);
  hkdf_expand (secret, info, n, key->key, sizeof key->key);
  n = label ("SFrame 1.0 Secret salt ", kid, info);
  hkdf_expand (secret, info, n, key->salt, sizeof key->salt);
  OPENSSL_cleanse (secret, sizeof secret);
  key->enc = EVP_CIPHER_CTX_new ();
  key->dec = EVP_CIPHER_CTX_new ();
  if (!key->enc || !key->dec
      || !EVP_EncryptInit_ex (
          key->enc, EVP_aes_128_gcm (), NULL, key->key, NULL)
      || !EVP_DecryptInit_ex (
          key->dec, EVP_aes_128_gcm (), NULL, key->key, NULL)) {
    hq_sframe_key_free (key);
    return NULL;
  }
  return key;
}

void
hq_sframe_key_free (HqSFrameKey *key)
{
  if (key == NULL)
    return;
  EVP_CIPHER_CTX_free (key->enc);
  EVP_CIPHER_CTX_free (key->dec);
  OPENSSL_cleanse (key, sizeof *key);
  g_free (key);
}

guint64
hq_sframe_key_get_kid (const HqSFrameKey *key)
{
  return key->kid;
}

const guint8 *
hq_sframe_key_get_key (const HqSFrameKey *key)
{
  return key->key;
}

const guint8 *
hq_sframe_key_get_salt (const HqSFrameKey *key)
{
  return key->salt;
}

/* nonce = salt XOR counter, the counter big-endian in the last 8 bytes */
static void
make_nonce (const HqSFrameKey *key, guint64 ctr, guint8 nonce[12])
{
  memcpy (nonce, key->salt, HQ_SFRAME_SALT_LEN);
  for (guint i = 0; i < 8; i++)
    nonce[HQ_SFRAME_SALT_LEN - 1 - i] ^= (guint8)(ctr >> (8 * i));
}

gsize
hq_sframe_seal (HqSFrameKey *key, guint64 ctr, const guint8 *metadata,
    gsize metadata_len, const guint8 *plain, gsize plain_len, guint8 *out)
{
  guint8 nonce[HQ_SFRAME_SALT_LEN];
  gsize hlen = hq_sframe_header_write (key->kid, ctr, out);
  int n, fin;

  make_nonce (key, ctr, nonce);
  if (plain_len > G_MAXINT - HQ_SFRAME_OVERHEAD
      || !EVP_EncryptInit_ex (key->enc, NULL, NULL, NULL, nonce)
      || !EVP_EncryptUpdate (key->enc, NULL, &n, out, (int)hlen)
      || (metadata_len
          && !EVP_EncryptUpdate (
              key->enc, NULL, &n, metadata, (int)metadata_len))
      || !EVP_EncryptUpdate (key->enc, out + hlen, &n, plain, (int)plain_len)
      || !EVP_EncryptFinal_ex (key->enc, out + hlen + n, &fin)
      || !EVP_CIPHER_CTX_ctrl (key->enc, EVP_CTRL_GCM_GET_TAG,
          HQ_SFRAME_TAG_LEN, out + hlen + plain_len))
    return 0;
  return hlen + plain_len + HQ_SFRAME_TAG_LEN;
}

gssize
hq_sframe_open (HqSFrameKey *key, const guint8 *metadata, gsize metadata_len,
    const guint8 *data, gsize len, guint8 *out)
{
  guint8 nonce[HQ_SFRAME_SALT_LEN];
  guint64 kid, ctr;
  gsize hlen = hq_sframe_header_parse (data, len, &kid, &ctr);
  gsize ct_len;
  int n, fin;

  if (hlen == 0 || kid != key->kid || len - hlen < HQ_SFRAME_TAG_LEN
      || len > G_MAXINT)
    return -1;
  ct_len = len - hlen - HQ_SFRAME_TAG_LEN;
  make_nonce (key, ctr, nonce);
  if (!EVP_DecryptInit_ex (key->dec, NULL, NULL, NULL, nonce)
      || !EVP_DecryptUpdate (key->dec, NULL, &n, data, (int)hlen)
      || (metadata_len
          && !EVP_DecryptUpdate (
              key->dec, NULL, &n, metadata, (int)metadata_len))
      || !EVP_DecryptUpdate (key->dec, out, &n, data + hlen, (int)ct_len)
      || !EVP_CIPHER_CTX_ctrl (key->dec, EVP_CTRL_GCM_SET_TAG,
          HQ_SFRAME_TAG_LEN, (void *)(data + hlen + ct_len))
      || EVP_DecryptFinal_ex (key->dec, out + n, &fin) <= 0) {
    if (ct_len)
      OPENSSL_cleanse (out, ct_len);
    return -1;
  }
  return (gssize)ct_len;
}

/* --- what stays in clear --- */

gsize
hq_frame_clear_bytes (HqFrameMedia media, const guint8 *frame, gsize len)
{
  gsize n = 0;

  switch (media) {
    case HQ_FRAME_MEDIA_OPUS:
      n = 0;
      break;
    case HQ_FRAME_MEDIA_VP8:
      /* RFC 6386 9.1: bit 0 of the frame tag is 0 on key frames */
      n = (len > 0 && (frame[0] & 1) == 0) ? 10 : 3;
      break;
  }
  return n;
}

/* --- the keys of a room --- */

typedef struct
{
  guint epoch;
  gboolean set;
  gint64 expires; /* monotonic µs; G_MAXINT64 for the current epoch */
  guint8 prk[SHA256_LEN];
} Epoch;

typedef struct
{
  HqSFrameKey *key;
  gchar *sender;
} SendKey;

struct _HqFrameCrypt
{
  GMutex lock;
  Epoch current, previous;
  guint32 session;
  guint64 counter;
  /* sender (its identity) -> SendKey, for the current epoch */
  GHashTable *send;
  /* "identity\nkid" -> HqSFrameKey */
  GHashTable *recv;
};

static void
send_key_free (gpointer p)
{
  SendKey *s = p;

  hq_sframe_key_free (s->key);
  g_free (s->sender);
  g_free (s);
}

HqFrameCrypt *
hq_frame_crypt_new (void)
{
  HqFrameCrypt *fc = g_atomic_rc_box_new0 (HqFrameCrypt);

  g_mutex_init (&fc->lock);
  /* Unique, not secret: GLib's generator is seeded from the system's
   * random source.  (OpenSSL's RAND would keep per-thread state in each
   * streaming thread that makes one.) */
  fc->session = g_random_int ();
  fc->send =
      g_hash_table_new_full (g_str_hash, g_str_equal, NULL, send_key_free);
  fc->recv = g_hash_table_new_full (
      g_str_hash, g_str_equal, g_free, (GDestroyNotify)hq_sframe_key_free);
  return fc;
}

HqFrameCrypt *
hq_frame_crypt_ref (HqFrameCrypt *fc)
{
  return g_atomic_rc_box_acquire (fc);
}

static void
frame_crypt_clear (gpointer p)
{
  HqFrameCrypt *fc = p;

  g_hash_table_unref (fc->send);
  g_hash_table_unref (fc->recv);
  OPENSSL_cleanse (&fc->current, sizeof fc->current);
  OPENSSL_cleanse (&fc->previous, sizeof fc->previous);
  g_mutex_clear (&fc->lock);
}

void
hq_frame_crypt_unref (HqFrameCrypt *fc)
{
  if (fc)
    g_atomic_rc_box_release_full (fc, frame_crypt_clear);
}

void
hq_frame_crypt_set_secret (
    HqFrameCrypt *fc, guint epoch, const gchar *secret, gint64 overlap_us)
{
  g_return_if_fail (epoch <= G_MAXUINT16);

  g_mutex_lock (&fc->lock);
  g_hash_table_remove_all (fc->send);
  g_hash_table_remove_all (fc->recv);
  if (secret == NULL || *secret == '\0') {
    OPENSSL_cleanse (&fc->current, sizeof fc->current);
    OPENSSL_cleanse (&fc->previous, sizeof fc->previous);
  } else {
    if (fc->current.set && fc->current.epoch != epoch && overlap_us > 0) {
      fc->previous = fc->current;
      fc->previous.expires = g_get_monotonic_time () + overlap_us;
    } else {
      OPENSSL_cleanse (&fc->previous, sizeof fc->previous);
    }
    fc->current.set = TRUE;
    fc->current.epoch = epoch;
    fc->current.expires = G_MAXINT64;
    hkdf_extract ((const guint8 *)ROOM_SALT, strlen (ROOM_SALT),
        (const guint8 *)secret, strlen (secret), fc->current.prk);
  }
  g_mutex_unlock (&fc->lock);
}

gboolean
hq_frame_crypt_has_secret (HqFrameCrypt *fc)
{
  gboolean set;

  g_mutex_lock (&fc->lock);
  set = fc->current.set;
  g_mutex_unlock (&fc->lock);
  return set;
}

/* The base key of @sender in @e: HKDF-Expand(PRK of the epoch's secret,
 * "hqrooms sender " | epoch (2 bytes) | identity, 16). */
static HqSFrameKey *
sender_key (const Epoch *e, const gchar *sender, guint64 kid)
{
  gsize id_len = strlen (sender);
  g_autofree guint8 *info = g_malloc (15 + 2 + id_len);
  guint8 base[HQ_SFRAME_KEY_LEN];
  HqSFrameKey *key;

  memcpy (info, "hqrooms sender ", 15);
  write_be (e->epoch, 2, info + 15);
  memcpy (info + 17, sender, id_len);
  hkdf_expand (e->prk, info, 17 + id_len, base, sizeof base);
  key = hq_sframe_key_new (base, sizeof base, kid);
  OPENSSL_cleanse (base, sizeof base);
  return key;
}

guint8 *
hq_frame_crypt_encrypt (HqFrameCrypt *fc, const gchar *sender,
    HqFrameMedia media, const guint8 *frame, gsize len, gsize *out_len,
    GError **error)
{
  gsize clear = hq_frame_clear_bytes (media, frame, len);
  guint8 *out;
  SendKey *s;
  gsize n = 0;

  if (len < clear) {
    g_set_error (error, HQ_FRAME_CRYPT_ERROR, HQ_FRAME_CRYPT_ERROR_MALFORMED,
        "a frame of %" G_GSIZE_FORMAT
        " bytes is shorter than its %" G_GSIZE_FORMAT " clear codec bytes",
        len, clear);
    return NULL;
  }
  g_mutex_lock (&fc->lock);
  if (!fc->current.set) {
    g_mutex_unlock (&fc->lock);
    g_set_error (error, HQ_FRAME_CRYPT_ERROR, HQ_FRAME_CRYPT_ERROR_NO_KEY,
        "no room secret to encrypt with");
    return NULL;
  }
  if (fc->counter == G_MAXUINT64) {
    g_mutex_unlock (&fc->lock);
    g_set_error (error, HQ_FRAME_CRYPT_ERROR, HQ_FRAME_CRYPT_ERROR_FAILED,
        "the frame counter ran out: set a new epoch");
    return NULL;
  }
  s = g_hash_table_lookup (fc->send, sender);
  if (s == NULL) {
    guint64 kid = ((guint64)fc->current.epoch << 32) | fc->session;
    s = g_new0 (SendKey, 1);
    s->sender = g_strdup (sender);
    s->key = sender_key (&fc->current, sender, kid);
    g_hash_table_insert (fc->send, s->sender, s);
  }
  out = g_malloc (len + HQ_SFRAME_OVERHEAD);
  if (clear)
    memcpy (out, frame, clear);
  if (s->key)
    n = hq_sframe_seal (s->key, fc->counter++, frame, clear, frame + clear,
        len - clear, out + clear);
  g_mutex_unlock (&fc->lock);
  if (n == 0) {
    g_free (out);
    g_set_error (error, HQ_FRAME_CRYPT_ERROR, HQ_FRAME_CRYPT_ERROR_FAILED,
        "AES-GCM encryption failed in OpenSSL");
    return NULL;
  }
  *out_len = clear + n;
  return out;
}

static const Epoch *
find_epoch (HqFrameCrypt *fc, guint epoch)
{
  if (fc->current.set && fc->current.epoch == epoch)
    return &fc->current;
  if (fc->previous.set && fc->previous.epoch == epoch) {
    if (g_get_monotonic_time () < fc->previous.expires)
      return &fc->previous;
    OPENSSL_cleanse (&fc->previous, sizeof fc->previous);
  }
  return NULL;
}

gssize
hq_frame_crypt_decrypt (HqFrameCrypt *fc, const gchar *sender,
    HqFrameMedia media, const guint8 *data, gsize len, guint8 *out,
    GError **error)
{
  gsize clear = hq_frame_clear_bytes (media, data, len);
  g_autofree gchar *name = NULL;
  guint64 kid, ctr;
  HqSFrameKey *key;
  const Epoch *e;
  gssize n;

  if (len < clear
      || hq_sframe_header_parse (data + clear, len - clear, &kid, &ctr) == 0) {
    g_set_error (error, HQ_FRAME_CRYPT_ERROR, HQ_FRAME_CRYPT_ERROR_MALFORMED,
        "a frame of %" G_GSIZE_FORMAT " bytes has no encryption header", len);
    return -1;
  }
  g_mutex_lock (&fc->lock);
  if (!fc->current.set) {
    g_mutex_unlock (&fc->lock);
    g_set_error (error, HQ_FRAME_CRYPT_ERROR, HQ_FRAME_CRYPT_ERROR_NO_KEY,
        "no room secret to decrypt with");
    return -1;
  }
  e = find_epoch (fc, (guint)(kid >> 32));
  if (e == NULL || (kid >> 48) != 0) {
    g_mutex_unlock (&fc->lock);
    g_set_error (error, HQ_FRAME_CRYPT_ERROR,
        HQ_FRAME_CRYPT_ERROR_UNKNOWN_EPOCH,
        "the frame is encrypted for key epoch %" G_GUINT64_FORMAT
        ", we hold epoch %u",
        kid >> 32, fc->current.epoch);
    return -1;
  }
  name = g_strdup_printf ("%s\n%" G_GUINT64_FORMAT, sender, kid);
  key = g_hash_table_lookup (fc->recv, name);
  if (key == NULL) {
    /* bounded: a stream of made-up key ids cannot grow it */
    if (g_hash_table_size (fc->recv) >= MAX_RECV_KEYS)
      g_hash_table_remove_all (fc->recv);
    key = sender_key (e, sender, kid);
    if (key)
      g_hash_table_insert (fc->recv, g_steal_pointer (&name), key);
  }
  n = key ? hq_sframe_open (
          key, data, clear, data + clear, len - clear, out + clear)
          : -1;
  g_mutex_unlock (&fc->lock);
  if (n < 0) {
    g_set_error (error, HQ_FRAME_CRYPT_ERROR, HQ_FRAME_CRYPT_ERROR_AUTH,
        "the frame does not decrypt: another room secret, or changed on "
        "the way");
    return -1;
  }
  if (clear)
    memcpy (out, data, clear);
  return (gssize)clear + n;
}

void
hq_frame_crypt_kdf (const guint8 *ikm, gsize ikm_len, const gchar *label,
    guint8 *out, gsize out_len)
{
  guint8 prk[SHA256_LEN];

  hkdf_extract (
      (const guint8 *)ROOM_SALT, strlen (ROOM_SALT), ikm, ikm_len, prk);
  hkdf_expand (prk, (const guint8 *)label, strlen (label), out, out_len);
  OPENSSL_cleanse (prk, sizeof prk);
}

gboolean
hq_frame_crypt_get_code (HqFrameCrypt *fc, guint *epoch, gchar *code)
{
  static const gchar label[] = "hqrooms verification ";
  guint8 info[sizeof label - 1 + 2], v[4];
  gboolean set;

  g_mutex_lock (&fc->lock);
  set = fc->current.set;
  if (set) {
    memcpy (info, label, sizeof label - 1);
    write_be (fc->current.epoch, 2, info + sizeof label - 1);
    hkdf_expand (fc->current.prk, info, sizeof info, v, sizeof v);
    if (epoch)
      *epoch = fc->current.epoch;
  }
  g_mutex_unlock (&fc->lock);
  if (set)
    g_snprintf (code, 7, "%06u",
        (guint)((((guint32)v[0] << 24) | ((guint32)v[1] << 16)
                    | ((guint32)v[2] << 8) | v[3])
            % 1000000u));
  return set;
}

guint
hq_frame_crypt_get_epoch (HqFrameCrypt *fc)
{
  guint epoch;

  g_mutex_lock (&fc->lock);
  epoch = fc->current.set ? fc->current.epoch : 0;
  g_mutex_unlock (&fc->lock);
  return epoch;
}
