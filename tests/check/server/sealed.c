/* Unit tests for sealed files (server/store/hqsealed.h, docs/at-rest.md):
 * what is sealed reads back the same, for sizes around the chunk size;
 * the stored bytes hold none of the clear ones; a flipped byte anywhere
 * (header, any chunk, a tag) is detected; a file cut short, inside a
 * chunk or exactly at a chunk boundary, is detected; a missing or wrong
 * operator key is refused with an error that says so; a rewrap changes
 * only the header and the file then opens with the new key alone; the
 * operator key text is checked. */
#define _GNU_SOURCE /* memmem */
#include <glib.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "hqsealed.h"
#include "hqtempdir.h"

#define K1 "k1:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define K1_OTHER                                                               \
  "k1:ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
/* k2 in base64 (32 bytes of 0x42). */
#define K2 "k2:QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="

typedef struct
{
  gchar *dir;
  gchar *path;
  HqSealKeys *k1;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = hq_test_make_dir ();
  f->path = g_build_filename (f->dir, "media.mkv", NULL);
  f->k1 = hq_seal_keys_parse (K1, "test", &error);
  g_assert_no_error (error);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  hq_seal_keys_free (f->k1);
  hq_test_remove_dir (f->dir);
  g_free (f->dir);
  g_free (f->path);
}

/* @len bytes of a pattern that never repeats within a chunk. */
static guint8 *
content (gsize len)
{
  guint8 *data = g_malloc (len + 1);
  guint32 x = 2463534242u;

  for (gsize i = 0; i < len; i++) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    data[i] = x & 0xff;
  }
  return data;
}

/* Everything @keys decrypt of @path, or NULL with @error. */
static GBytes *
read_all (const HqSealKeys *keys, const gchar *path, GError **error)
{
  g_autoptr (HqSealedReader) r = hq_sealed_reader_open (keys, path, error);
  GByteArray *out;
  GBytes *chunk;

  if (r == NULL)
    return NULL;
  out = g_byte_array_new ();
  while ((chunk = hq_sealed_reader_next (r, error))) {
    g_byte_array_append (
        out, g_bytes_get_data (chunk, NULL), g_bytes_get_size (chunk));
    g_bytes_unref (chunk);
  }
  if (error && *error) {
    g_byte_array_unref (out);
    return NULL;
  }
  g_assert_cmpuint (out->len, ==, hq_sealed_reader_get_size (r));
  return g_byte_array_free_to_bytes (out);
}

static void
write_clear (const gchar *path, const guint8 *data, gsize len)
{
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, (const gchar *)data, len, &error);
  g_assert_no_error (error);
}

static void
test_round_trip (Fixture *f, gconstpointer data)
{
  const gsize sizes[] = { 0, 1, 1000, HQ_SEALED_CHUNK_SIZE - 1,
    HQ_SEALED_CHUNK_SIZE, HQ_SEALED_CHUNK_SIZE + 1, 3 * HQ_SEALED_CHUNK_SIZE,
    3 * HQ_SEALED_CHUNK_SIZE + 4321 };

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++) {
    g_autofree guint8 *clear = content (sizes[i]);
    g_autoptr (GError) error = NULL;
    g_autoptr (GBytes) back = NULL;
    g_autofree gchar *stored = NULL;
    gsize stored_len = 0;

    /* Sealing a clear file in place, as the server does. */
    write_clear (f->path, clear, sizes[i]);
    g_assert_false (hq_sealed_file_is_sealed (f->path));
    g_assert_true (hq_sealed_seal_file (f->k1, f->path, &error));
    g_assert_no_error (error);
    g_assert_true (hq_sealed_file_is_sealed (f->path));
    g_assert_true (g_file_get_contents (f->path, &stored, &stored_len, NULL));
    /* Header + a 16-byte tag per chunk (an empty file: one chunk). */
    g_assert_cmpuint (stored_len, ==,
        HQ_SEALED_HEADER_SIZE + sizes[i]
            + 16
                * MAX (1,
                    (sizes[i] + HQ_SEALED_CHUNK_SIZE - 1)
                        / HQ_SEALED_CHUNK_SIZE));
    /* No 64-byte run of the clear content is in the stored file. */
    for (gsize at = 0; at + 64 <= sizes[i]; at += 4096)
      g_assert_null (
          memmem (stored, stored_len, clear + at, MIN (64, sizes[i] - at)));
    back = read_all (f->k1, f->path, &error);
    g_assert_no_error (error);
    g_assert_cmpmem (g_bytes_get_data (back, NULL), g_bytes_get_size (back),
        clear, sizes[i]);
    /* Sealing again leaves it alone. */
    g_assert_true (hq_sealed_seal_file (f->k1, f->path, &error));
    g_clear_pointer (&back, g_bytes_unref);
    back = read_all (f->k1, f->path, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (g_bytes_get_size (back), ==, sizes[i]);
  }
  /* From memory, as chat attachments are written. */
  {
    g_autofree guint8 *clear = content (70000);
    g_autoptr (GError) error = NULL;
    g_autoptr (GBytes) back = NULL;
    g_assert_true (hq_sealed_write (f->k1, f->path, clear, 70000, &error));
    back = read_all (f->k1, f->path, &error);
    g_assert_no_error (error);
    g_assert_cmpmem (
        g_bytes_get_data (back, NULL), g_bytes_get_size (back), clear, 70000);
  }
}

/* Seals @len bytes into f->path and returns the stored bytes. */
static gchar *
sealed_bytes (Fixture *f, gsize len, gsize *stored_len)
{
  g_autofree guint8 *clear = content (len);
  gchar *stored = NULL;

  g_assert_true (hq_sealed_write (f->k1, f->path, clear, len, NULL));
  g_assert_true (g_file_get_contents (f->path, &stored, stored_len, NULL));
  return stored;
}

static void
test_tamper (Fixture *f, gconstpointer data)
{
  gsize len = 2 * HQ_SEALED_CHUNK_SIZE + 500, stored_len;
  g_autofree gchar *stored = sealed_bytes (f, len, &stored_len);
  /* The key id, the wrap nonce, the wrapped key, its tag, the first
   * chunk, its tag, the middle chunk, the last chunk's tag. */
  const gsize at[] = { 17, 50, 70, 100, HQ_SEALED_HEADER_SIZE,
    HQ_SEALED_HEADER_SIZE + HQ_SEALED_CHUNK_SIZE + 3,
    HQ_SEALED_HEADER_SIZE + HQ_SEALED_CHUNK_SIZE + 16 + 1000, stored_len - 1 };

  for (guint i = 0; i < G_N_ELEMENTS (at); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GBytes) back = NULL;
    stored[at[i]] ^= 0x01;
    write_clear (f->path, (guint8 *)stored, stored_len);
    stored[at[i]] ^= 0x01;
    back = read_all (f->k1, f->path, &error);
    g_assert_null (back);
    g_assert_nonnull (error);
    /* The key id damaged names a key we do not have; the wrapped key, a
     * key that does not open it; a chunk, a damaged file. */
    if (at[i] < HQ_SEALED_HEADER_SIZE)
      g_assert_true (error->code == HQ_SEALED_ERROR_UNKNOWN_KEY
          || error->code == HQ_SEALED_ERROR_WRONG_KEY
          || error->code == HQ_SEALED_ERROR_DAMAGED);
    else
      g_assert_error (error, HQ_SEALED_ERROR, HQ_SEALED_ERROR_DAMAGED);
  }
}

static void
test_truncation (Fixture *f, gconstpointer data)
{
  gsize len = 2 * HQ_SEALED_CHUNK_SIZE + 500, stored_len;
  g_autofree gchar *stored = sealed_bytes (f, len, &stored_len);
  const gsize per = HQ_SEALED_CHUNK_SIZE + 16;
  /* Inside the header, right after it, inside a chunk, exactly after the
   * first and after the second chunk, one byte short. */
  const gsize cut[] = { 60, HQ_SEALED_HEADER_SIZE, HQ_SEALED_HEADER_SIZE + 1000,
    HQ_SEALED_HEADER_SIZE + per, HQ_SEALED_HEADER_SIZE + 2 * per,
    stored_len - 1 };

  for (guint i = 0; i < G_N_ELEMENTS (cut); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GBytes) back = NULL;
    write_clear (f->path, (guint8 *)stored, cut[i]);
    back = read_all (f->k1, f->path, &error);
    g_assert_null (back);
    g_assert_nonnull (error);
    if (cut[i] == HQ_SEALED_HEADER_SIZE + per
        || cut[i] == HQ_SEALED_HEADER_SIZE + 2 * per
        || cut[i] <= HQ_SEALED_HEADER_SIZE)
      g_assert_error (error, HQ_SEALED_ERROR, HQ_SEALED_ERROR_TRUNCATED);
    else
      g_assert_true (error->code == HQ_SEALED_ERROR_TRUNCATED
          || error->code == HQ_SEALED_ERROR_DAMAGED);
  }
}

static void
test_wrong_key (Fixture *f, gconstpointer data)
{
  gsize stored_len;
  g_autofree gchar *stored = sealed_bytes (f, 1000, &stored_len);
  g_autoptr (HqSealKeys) other = hq_seal_keys_parse (K1_OTHER, "t", NULL);
  g_autoptr (HqSealKeys) k2 = hq_seal_keys_parse (K2, "t", NULL);
  g_autoptr (GError) e1 = NULL, e2 = NULL, e3 = NULL;
  g_autoptr (GBytes) back = NULL;

  /* A different key under the same id. */
  g_assert_null (read_all (other, f->path, &e1));
  g_assert_error (e1, HQ_SEALED_ERROR, HQ_SEALED_ERROR_WRONG_KEY);
  g_assert_nonnull (strstr (e1->message, "\"k1\""));
  /* No key of that id. */
  g_assert_null (read_all (k2, f->path, &e2));
  g_assert_error (e2, HQ_SEALED_ERROR, HQ_SEALED_ERROR_UNKNOWN_KEY);
  g_assert_nonnull (strstr (e2->message, "\"k1\""));
  /* No key at all. */
  g_assert_null (read_all (NULL, f->path, &e3));
  g_assert_error (e3, HQ_SEALED_ERROR, HQ_SEALED_ERROR_UNKNOWN_KEY);
}

static void
test_rewrap (Fixture *f, gconstpointer data)
{
  gsize len = HQ_SEALED_CHUNK_SIZE + 77, stored_len, after_len;
  g_autofree gchar *stored = sealed_bytes (f, len, &stored_len);
  g_autofree gchar *after = NULL;
  g_autofree guint8 *clear = content (len);
  g_autoptr (HqSealKeys) both =
      hq_seal_keys_parse (K2 "\n# old\n" K1, "t", NULL);
  g_autoptr (HqSealKeys) k2 = hq_seal_keys_parse (K2, "t", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) back = NULL;
  gboolean changed = FALSE;

  g_assert_cmpstr (hq_seal_keys_current_id (both), ==, "k2");
  g_assert_null (read_all (k2, f->path, NULL));
  g_assert_true (hq_sealed_rewrap_file (both, f->path, &changed, &error));
  g_assert_no_error (error);
  g_assert_true (changed);
  /* Only the header changed. */
  g_assert_true (g_file_get_contents (f->path, &after, &after_len, NULL));
  g_assert_cmpuint (after_len, ==, stored_len);
  g_assert_cmpmem (after + HQ_SEALED_HEADER_SIZE,
      after_len - HQ_SEALED_HEADER_SIZE, stored + HQ_SEALED_HEADER_SIZE,
      stored_len - HQ_SEALED_HEADER_SIZE);
  g_assert_true (memcmp (after, stored, HQ_SEALED_HEADER_SIZE) != 0);
  /* The new key alone opens it; the old one no longer does. */
  back = read_all (k2, f->path, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (
      g_bytes_get_data (back, NULL), g_bytes_get_size (back), clear, len);
  g_assert_null (read_all (f->k1, f->path, NULL));
  /* Again: nothing to do. */
  g_assert_true (hq_sealed_rewrap_file (both, f->path, &changed, &error));
  g_assert_false (changed);
}

static void
test_key_text (void)
{
  const gchar *bad[] = { "", "# only a comment\n", "k1", "k1:abcd",
    "k 1:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
    K1 " " K1,
    "k1:zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
    "waytoolongakeyidforthisformat-12:"
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" };
  g_autoptr (HqSealKeys) two = NULL;
  g_autofree gchar *described = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;
    g_assert_null (hq_seal_keys_parse (bad[i], "HQ_AT_REST_KEYS", &error));
    g_assert_error (error, HQ_SEALED_ERROR, HQ_SEALED_ERROR_KEYS);
    g_assert_nonnull (strstr (error->message, "HQ_AT_REST_KEYS"));
    /* The key never appears in an error. */
    g_assert_null (strstr (error->message, "0a0b0c0d"));
  }
  two = hq_seal_keys_parse ("# keys\n" K2 "  # new\n" K1 "\n", "t", NULL);
  g_assert_nonnull (two);
  described = hq_seal_keys_describe (two);
  g_assert_cmpstr (described, ==, "k2 (current), k1");
}

static void
test_key_file_mode (Fixture *f, gconstpointer data)
{
  g_autofree gchar *file = g_build_filename (f->dir, "keys", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (HqSealKeys) keys = NULL;

  g_assert_true (g_file_set_contents (file, K1 "\n", -1, NULL));
  g_chmod (file, 0644);
  g_assert_null (hq_seal_keys_load_file (file, &error));
  g_assert_error (error, HQ_SEALED_ERROR, HQ_SEALED_ERROR_KEYS);
  g_assert_nonnull (strstr (error->message, "chmod 600"));
  g_chmod (file, 0600);
  keys = hq_seal_keys_load_file (file, NULL);
  g_assert_nonnull (keys);
  g_assert_cmpstr (hq_seal_keys_current_id (keys), ==, "k1");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add (
      "/sealed/round-trip", Fixture, NULL, setup, test_round_trip, teardown);
  g_test_add ("/sealed/tamper", Fixture, NULL, setup, test_tamper, teardown);
  g_test_add (
      "/sealed/truncation", Fixture, NULL, setup, test_truncation, teardown);
  g_test_add (
      "/sealed/wrong-key", Fixture, NULL, setup, test_wrong_key, teardown);
  g_test_add ("/sealed/rewrap", Fixture, NULL, setup, test_rewrap, teardown);
  g_test_add_func ("/sealed/key-text", test_key_text);
  g_test_add ("/sealed/key-file-mode", Fixture, NULL, setup, test_key_file_mode,
      teardown);
  return g_test_run ();
}
