/* libhq frame encryption (hqframecrypt): RFC 9605's test vectors for the
 * header and for AES_128_GCM_SHA256_128, round trips with the clear codec
 * bytes, tampered and wrong-key frames refused, nonces never reused, epoch
 * rotation with its overlap, and bad input that must not crash.  Suite
 * `e2ee`. */
#include <string.h>
#include <glib.h>
#include <hq/hqframecrypt.h>

static GByteArray *
unhex (const gchar *hex)
{
  GByteArray *b = g_byte_array_new ();

  for (; hex[0] && hex[1]; hex += 2) {
    guint8 v = (guint8)(g_ascii_xdigit_value (hex[0]) << 4
        | g_ascii_xdigit_value (hex[1]));
    g_byte_array_append (b, &v, 1);
  }
  return b;
}

static void
assert_bytes (const guint8 *got, gsize len, const gchar *hex)
{
  g_autoptr (GByteArray) want = unhex (hex);

  g_assert_cmpmem (got, len, want->data, want->len);
}

/* RFC 9605 Appendix C.1, a selection across every length of key id and
 * counter. */
static const struct
{
  guint64 kid, ctr;
  const gchar *header;
} header_vectors[] = {
  { 0x0, 0x0, "00" },
  { 0x0, 0x1, "01" },
  { 0x0, 0xff, "08ff" },
  { 0x0, 0x100, "090100" },
  { 0x0, 0x1000000000000, "0e01000000000000" },
  { 0x1, 0x100000000, "1c0100000000" },
  { 0xff, 0x10000, "8aff010000" },
  { 0x100, 0x1, "910100" },
  { 0x100, 0xffffffffffffff, "9e0100ffffffffffffff" },
  { 0xffff, 0xffffffffff, "9cffffffffffffff" },
  { 0x10000, 0xffffff, "aa010000ffffff" },
  { 0xffffff, 0xff, "a8ffffffff" },
  { 0x1000000, 0x10000000000, "bd01000000010000000000" },
  { 0xffffffff, 0x1000000, "bbffffffff01000000" },
  { 0x100000000, 0xffffffffffffffff, "cf0100000000ffffffffffffffff" },
  { 0x1000000000000, 0x0, "e001000000000000" },
  { 0x100000000000000, 0x10000, "fa0100000000000000010000" },
  { 0xffffffffffffffff, 0x1, "f1ffffffffffffffff" },
  { 0xffffffffffffffff, 0xffffffffffffff, "feffffffffffffffffffffffffffffff" },
  { 0xffffffffffffffff, 0xffffffffffffffff,
      "ffffffffffffffffffffffffffffffffff" },
};

static void
test_header_vectors (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (header_vectors); i++) {
    guint8 out[HQ_SFRAME_HEADER_MAX];
    guint64 kid = 1234, ctr = 5678;
    gsize n = hq_sframe_header_write (
        header_vectors[i].kid, header_vectors[i].ctr, out);

    assert_bytes (out, n, header_vectors[i].header);
    g_assert_cmpuint (hq_sframe_header_parse (out, n, &kid, &ctr), ==, n);
    g_assert_cmphex (kid, ==, header_vectors[i].kid);
    g_assert_cmphex (ctr, ==, header_vectors[i].ctr);
    /* one byte short is never a header */
    g_assert_cmpuint (hq_sframe_header_parse (out, n - 1, &kid, &ctr), ==, 0);
  }
}

/* RFC 9605 Appendix C.4, cipher suite 0x0004. */
static void
test_encryption_vector (void)
{
  g_autoptr (GByteArray) base = unhex ("000102030405060708090a0b0c0d0e0f");
  g_autoptr (GByteArray) metadata = unhex ("4945544620534672616d65205747");
  g_autoptr (GByteArray) pt =
      unhex ("64726166742d696574662d736672616d652d656e63");
  const gchar *ct = "9901234567b7412c2513a1b66dbb48841bbaf17f598751176ad8476"
                    "81a69c6d0b091c07018ce4adb34eb";
  g_autoptr (GByteArray) ct_bytes = unhex (ct);
  g_autoptr (HqSFrameKey) key =
      hq_sframe_key_new (base->data, base->len, 0x123);
  guint8 out[64], back[64];
  gsize n;

  g_assert_nonnull (key);
  assert_bytes (hq_sframe_key_get_key (key), HQ_SFRAME_KEY_LEN,
      "d34f547f4ca4f9a7447006fe7fcbf768");
  assert_bytes (hq_sframe_key_get_salt (key), HQ_SFRAME_SALT_LEN,
      "75234edefe07819026751816");
  n = hq_sframe_seal (
      key, 0x4567, metadata->data, metadata->len, pt->data, pt->len, out);
  assert_bytes (out, n, ct);
  g_assert_cmpint (hq_sframe_open (key, metadata->data, metadata->len,
                       ct_bytes->data, ct_bytes->len, back),
      ==, pt->len);
  g_assert_cmpmem (back, pt->len, pt->data, pt->len);
  /* the metadata is authenticated */
  metadata->data[0] ^= 1;
  g_assert_cmpint (hq_sframe_open (key, metadata->data, metadata->len,
                       ct_bytes->data, ct_bytes->len, back),
      ==, -1);
}

/* A VP8 key frame (bit 0 of the first byte clear) and a delta frame. */
static GByteArray *
vp8_frame (gboolean key, gsize len)
{
  GByteArray *b = g_byte_array_sized_new (len);

  for (gsize i = 0; i < len; i++) {
    guint8 v = (guint8)(i * 7 + 3);
    g_byte_array_append (b, &v, 1);
  }
  if (len > 0)
    b->data[0] = key ? 0x10 : 0x11;
  if (key && len >= 10)
    memcpy (b->data + 3, "\x9d\x01\x2a\x80\x02\xe0\x01", 7);
  return b;
}

static void
test_round_trip_clear_bytes (void)
{
  g_autoptr (HqFrameCrypt) tx = hq_frame_crypt_new ();
  g_autoptr (HqFrameCrypt) rx = hq_frame_crypt_new ();
  const struct
  {
    HqFrameMedia media;
    gboolean key;
    gsize len, clear;
  } cases[] = {
    { HQ_FRAME_MEDIA_VP8, TRUE, 5000, 10 },
    { HQ_FRAME_MEDIA_VP8, FALSE, 700, 3 },
    { HQ_FRAME_MEDIA_VP8, FALSE, 3, 3 },
    { HQ_FRAME_MEDIA_OPUS, FALSE, 80, 0 },
    { HQ_FRAME_MEDIA_OPUS, FALSE, 0, 0 },
  };

  hq_frame_crypt_set_secret (tx, 0, "room secret", 0);
  hq_frame_crypt_set_secret (rx, 0, "room secret", 0);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GByteArray) f = vp8_frame (cases[i].key, cases[i].len);
    g_autoptr (GError) error = NULL;
    g_autofree guint8 *enc = NULL, *dec = NULL;
    gsize enc_len = 0;
    gssize n;

    enc = hq_frame_crypt_encrypt (
        tx, "alice", cases[i].media, f->data, f->len, &enc_len, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (enc_len, >, f->len + HQ_SFRAME_TAG_LEN);
    g_assert_cmpuint (enc_len, <=, f->len + HQ_SFRAME_OVERHEAD);
    /* the clear bytes are the frame's own, and nothing after them is */
    g_assert_cmpmem (enc, cases[i].clear, f->data, cases[i].clear);
    if (f->len > cases[i].clear + 8)
      g_assert_true (memcmp (enc + enc_len - HQ_SFRAME_TAG_LEN - 8,
                         f->data + f->len - 8, 8)
          != 0);
    dec = g_malloc (enc_len);
    n = hq_frame_crypt_decrypt (
        rx, "alice", cases[i].media, enc, enc_len, dec, &error);
    g_assert_no_error (error);
    g_assert_cmpmem (dec, n, f->data, f->len);
  }
}

static void
test_refused (void)
{
  g_autoptr (HqFrameCrypt) tx = hq_frame_crypt_new ();
  g_autoptr (HqFrameCrypt) rx = hq_frame_crypt_new ();
  g_autoptr (HqFrameCrypt) wrong = hq_frame_crypt_new ();
  g_autoptr (HqFrameCrypt) none = hq_frame_crypt_new ();
  g_autoptr (GByteArray) f = vp8_frame (TRUE, 1000);
  g_autofree guint8 *enc = NULL, *dec = NULL;
  g_autoptr (GError) error = NULL;
  gsize enc_len;

  hq_frame_crypt_set_secret (tx, 0, "room secret", 0);
  hq_frame_crypt_set_secret (rx, 0, "room secret", 0);
  hq_frame_crypt_set_secret (wrong, 0, "another secret", 0);
  enc = hq_frame_crypt_encrypt (
      tx, "alice", HQ_FRAME_MEDIA_VP8, f->data, f->len, &enc_len, NULL);
  dec = g_malloc (enc_len);

  g_assert_cmpint (hq_frame_crypt_decrypt (wrong, "alice", HQ_FRAME_MEDIA_VP8,
                       enc, enc_len, dec, &error),
      ==, -1);
  g_assert_error (error, HQ_FRAME_CRYPT_ERROR, HQ_FRAME_CRYPT_ERROR_AUTH);
  g_clear_error (&error);
  g_assert_cmpint (hq_frame_crypt_decrypt (none, "alice", HQ_FRAME_MEDIA_VP8,
                       enc, enc_len, dec, &error),
      ==, -1);
  g_assert_error (error, HQ_FRAME_CRYPT_ERROR, HQ_FRAME_CRYPT_ERROR_NO_KEY);
  g_clear_error (&error);
  /* another sender's key: a frame relabelled as bob's */
  g_assert_cmpint (hq_frame_crypt_decrypt (rx, "bob", HQ_FRAME_MEDIA_VP8, enc,
                       enc_len, dec, &error),
      ==, -1);
  g_assert_error (error, HQ_FRAME_CRYPT_ERROR, HQ_FRAME_CRYPT_ERROR_AUTH);
  g_clear_error (&error);
  /* one bit changed anywhere: in the clear bytes, the header, the
   * ciphertext, the tag */
  for (gsize at = 0; at < enc_len; at += (at < 40 ? 1 : 97)) {
    enc[at] ^= 0x01;
    g_assert_cmpint (hq_frame_crypt_decrypt (rx, "alice", HQ_FRAME_MEDIA_VP8,
                         enc, enc_len, dec, NULL),
        ==, -1);
    enc[at] ^= 0x01;
  }
  /* a VP8 frame shorter than its clear bytes is no VP8 frame */
  g_assert_null (hq_frame_crypt_encrypt (
      rx, "alice", HQ_FRAME_MEDIA_VP8, f->data, 2, &enc_len, &error));
  g_assert_error (error, HQ_FRAME_CRYPT_ERROR, HQ_FRAME_CRYPT_ERROR_MALFORMED);
  g_clear_error (&error);
  /* cut short */
  g_assert_cmpint (hq_frame_crypt_decrypt (rx, "alice", HQ_FRAME_MEDIA_VP8, enc,
                       enc_len - 1, dec, NULL),
      ==, -1);
  /* and intact it still decrypts */
  g_assert_cmpint (hq_frame_crypt_decrypt (rx, "alice", HQ_FRAME_MEDIA_VP8, enc,
                       enc_len, dec, &error),
      ==, f->len);
  g_assert_no_error (error);
}

/* Every frame of a sender gets a new counter, across its tracks; two
 * senders (or two runs of one) never share a key id. */
static void
test_nonce_unique (void)
{
  g_autoptr (HqFrameCrypt) a = hq_frame_crypt_new ();
  g_autoptr (HqFrameCrypt) a2 = hq_frame_crypt_new ();
  g_autoptr (GHashTable) seen =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GByteArray) f = vp8_frame (FALSE, 100);
  guint64 kid1 = 0, kid2 = 0;

  hq_frame_crypt_set_secret (a, 0, "s", 0);
  hq_frame_crypt_set_secret (a2, 0, "s", 0);
  for (guint i = 0; i < 2000; i++) {
    HqFrameMedia m = i % 2 ? HQ_FRAME_MEDIA_OPUS : HQ_FRAME_MEDIA_VP8;
    gsize len, clear = hq_frame_clear_bytes (m, f->data, f->len);
    g_autofree guint8 *enc =
        hq_frame_crypt_encrypt (a, "alice", m, f->data, f->len, &len, NULL);
    guint64 kid, ctr;

    g_assert_cmpuint (
        hq_sframe_header_parse (enc + clear, len - clear, &kid, &ctr), >, 0);
    g_assert_true (g_hash_table_add (seen,
        g_strdup_printf (
            "%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT, kid, ctr)));
    kid1 = kid;
  }
  {
    gsize len, clear = 3;
    g_autofree guint8 *enc = hq_frame_crypt_encrypt (
        a2, "alice", HQ_FRAME_MEDIA_VP8, f->data, f->len, &len, NULL);
    guint64 ctr;
    hq_sframe_header_parse (enc + clear, len - clear, &kid2, &ctr);
  }
  g_assert_cmphex (kid1, !=, kid2);
  g_assert_cmphex (kid1 >> 32, ==, 0);
}

static void
test_epochs (void)
{
  g_autoptr (HqFrameCrypt) tx = hq_frame_crypt_new ();
  g_autoptr (HqFrameCrypt) rx = hq_frame_crypt_new ();
  g_autoptr (HqFrameCrypt) left = hq_frame_crypt_new ();
  g_autoptr (GByteArray) f = vp8_frame (FALSE, 300);
  g_autofree guint8 *old = NULL, *cur = NULL, *dec = NULL;
  g_autoptr (GError) error = NULL;
  gsize old_len, cur_len;

  hq_frame_crypt_set_secret (tx, 0, "first", 0);
  hq_frame_crypt_set_secret (rx, 0, "first", 0);
  hq_frame_crypt_set_secret (left, 0, "first", 0);
  old = hq_frame_crypt_encrypt (
      tx, "alice", HQ_FRAME_MEDIA_VP8, f->data, f->len, &old_len, NULL);
  /* someone left: everyone else moves to epoch 1 */
  hq_frame_crypt_set_secret (tx, 1, "second", 0);
  hq_frame_crypt_set_secret (rx, 1, "second", G_USEC_PER_SEC * 60);
  cur = hq_frame_crypt_encrypt (
      tx, "alice", HQ_FRAME_MEDIA_VP8, f->data, f->len, &cur_len, NULL);
  dec = g_malloc (MAX (old_len, cur_len));
  /* in flight from before the change: still decrypts in the overlap */
  g_assert_cmpint (hq_frame_crypt_decrypt (rx, "alice", HQ_FRAME_MEDIA_VP8, old,
                       old_len, dec, &error),
      ==, f->len);
  g_assert_no_error (error);
  g_assert_cmpint (hq_frame_crypt_decrypt (rx, "alice", HQ_FRAME_MEDIA_VP8, cur,
                       cur_len, dec, &error),
      ==, f->len);
  g_assert_no_error (error);
  /* the one who left holds only epoch 0 */
  g_assert_cmpint (hq_frame_crypt_decrypt (left, "alice", HQ_FRAME_MEDIA_VP8,
                       cur, cur_len, dec, &error),
      ==, -1);
  g_assert_error (
      error, HQ_FRAME_CRYPT_ERROR, HQ_FRAME_CRYPT_ERROR_UNKNOWN_EPOCH);
  g_clear_error (&error);
  /* with no overlap, the old epoch is gone at once */
  hq_frame_crypt_set_secret (rx, 2, "third", 0);
  g_assert_cmpint (hq_frame_crypt_decrypt (rx, "alice", HQ_FRAME_MEDIA_VP8, cur,
                       cur_len, dec, &error),
      ==, -1);
  g_assert_error (
      error, HQ_FRAME_CRYPT_ERROR, HQ_FRAME_CRYPT_ERROR_UNKNOWN_EPOCH);
}

/* Random and truncated input: refused, never read out of bounds (the ASan
 * build checks). */
static void
test_bad_input (void)
{
  g_autoptr (HqFrameCrypt) rx = hq_frame_crypt_new ();
  GRand *r = g_rand_new_with_seed (9605);
  guint8 buf[64], out[64];

  hq_frame_crypt_set_secret (rx, 0, "room secret", 0);
  for (guint i = 0; i < 20000; i++) {
    gsize len = g_rand_int_range (r, 0, sizeof buf + 1);
    guint64 kid, ctr;
    for (gsize j = 0; j < len; j++)
      buf[j] = (guint8)g_rand_int (r);
    hq_sframe_header_parse (buf, len, &kid, &ctr);
    g_assert_cmpint (hq_frame_crypt_decrypt (rx, "alice",
                         i % 2 ? HQ_FRAME_MEDIA_VP8 : HQ_FRAME_MEDIA_OPUS, buf,
                         len, out, NULL),
        ==, -1);
  }
  g_rand_free (r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/framecrypt/header-vectors", test_header_vectors);
  g_test_add_func ("/framecrypt/encryption-vector", test_encryption_vector);
  g_test_add_func ("/framecrypt/round-trip", test_round_trip_clear_bytes);
  g_test_add_func ("/framecrypt/refused", test_refused);
  g_test_add_func ("/framecrypt/nonce-unique", test_nonce_unique);
  g_test_add_func ("/framecrypt/epochs", test_epochs);
  g_test_add_func ("/framecrypt/bad-input", test_bad_input);
  return g_test_run ();
}
