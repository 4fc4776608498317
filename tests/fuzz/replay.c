/* Replays a fuzz target's corpus without libFuzzer, so every build (and the
 * ASan build) runs each target on its saved inputs as an ordinary test.
 *
 *   replay-NAME DIR...   runs LLVMFuzzerTestOneInput on every file in DIRs
 */
#include <stdio.h>
#include <glib.h>

int LLVMFuzzerTestOneInput (const guint8 *data, gsize size);

int
main (int argc, char **argv)
{
  guint files = 0;

  for (int i = 1; i < argc; i++) {
    g_autoptr (GDir) dir = g_dir_open (argv[i], 0, NULL);
    const gchar *name;

    if (dir == NULL) {
      fprintf (stderr, "replay: cannot open corpus %s\n", argv[i]);
      return 1;
    }
    while ((name = g_dir_read_name (dir)) != NULL) {
      g_autofree gchar *path = g_build_filename (argv[i], name, NULL);
      g_autofree gchar *data = NULL;
      gsize len = 0;

      if (!g_file_get_contents (path, &data, &len, NULL))
        continue;
      LLVMFuzzerTestOneInput ((const guint8 *)data, len);
      files++;
    }
  }
  printf ("replayed %u inputs\n", files);
  /* An empty corpus tests nothing: fail rather than pass silently. */
  return files > 0 ? 0 : 1;
}
