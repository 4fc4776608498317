/* Fuzz target for sealed media files (server/store/hqsealed.h): the
 * server opens and serves files from its data directory, which a damaged
 * disk, a bad restore or someone with write access there can change
 * underneath it; reading must refuse every file it cannot authenticate,
 * whatever its length, without reading out of bounds.  The input is the
 * file; the corpus holds files sealed with the target's key (made by
 * hq-server's own code: an empty file, one chunk, two chunks and a bit),
 * so mutations start from inputs that reach the chunk tags. */
#include <glib.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "hqsealed.h"

#define FUZZ_KEY                                                               \
  "fuzz:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

int LLVMFuzzerTestOneInput (const guint8 *data, gsize size);

int
LLVMFuzzerTestOneInput (const guint8 *data, gsize size)
{
  static HqSealKeys *keys;
  g_autofree gchar *path = NULL;
  HqSealedReader *r;
  GBytes *chunk;
  guint64 total = 0;
  int fd;

  if (keys == NULL)
    keys = hq_seal_keys_parse (FUZZ_KEY, "fuzz", NULL);
  fd = g_file_open_tmp ("fuzz-sealed-XXXXXX", &path, NULL);
  g_assert (fd >= 0);
  g_assert (write (fd, data, size) == (gssize)size);
  close (fd);
  r = hq_sealed_reader_open (keys, path, NULL);
  if (r) {
    while ((chunk = hq_sealed_reader_next (r, NULL))) {
      total += g_bytes_get_size (chunk);
      g_bytes_unref (chunk);
    }
    /* What authenticates is never longer than the file says. */
    g_assert (total <= hq_sealed_reader_get_size (r));
    hq_sealed_reader_free (r);
  }
  g_unlink (path);
  return 0;
}
