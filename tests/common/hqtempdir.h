/* Temporary data directories for C tests and fuzz targets that open a real
 * store: made with g_dir_make_tmp(), removed with everything in them (the
 * store writes only plain files, no subdirectories). */
#ifndef __HQ_TEMPDIR_H__
#define __HQ_TEMPDIR_H__

#include <glib.h>
#include <glib/gstdio.h>
#include <unistd.h>

static inline void
hq_test_remove_dir (const gchar *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  while (d && (name = g_dir_read_name (d))) {
    gchar *path = g_build_filename (dir, name, NULL);
    g_unlink (path);
    g_free (path);
  }
  if (d)
    g_dir_close (d);
  g_rmdir (dir);
}

/* A new temporary data directory, in memory (/dev/shm) when the system has
 * one and TMPDIR does not say otherwise: the store syncs every write, and a
 * fuzz target that opens a store per input runs ten times faster there. */
static inline gchar *
hq_test_make_dir (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once)) {
    if (g_getenv ("TMPDIR") == NULL
        && g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR)
        && g_access ("/dev/shm", W_OK) == 0)
      g_setenv ("TMPDIR", "/dev/shm", FALSE);
    g_once_init_leave (&once, 1);
  }
  return g_dir_make_tmp ("hq-fuzz-XXXXXX", NULL);
}

#endif /* __HQ_TEMPDIR_H__ */
