/* Temporary data directories for C tests and fuzz targets that open a real
 * store: made with g_dir_make_tmp(), removed with everything in them (the
 * store writes only plain files, no subdirectories). */
#ifndef __HQ_TEMPDIR_H__
#define __HQ_TEMPDIR_H__

#include <glib.h>
#include <glib/gstdio.h>

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

#endif /* __HQ_TEMPDIR_H__ */
