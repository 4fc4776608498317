/* Encryption at rest: the sealing thread, the start-up sweep and the
 * descriptors hq-compose reads; see hqatrest.h and docs/at-rest.md. */
#include "hqatrest.h"
#include "hqlog.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <glib-unix.h>
#include <glib/gstdio.h>

/* hq-compose's inputs start at this descriptor. */
#define HQ_FEED_FIRST_FD 3

struct _HqAtRest
{
  HqSealKeys *keys; /* NULL: media stays clear */
  GThreadPool *pool; /* one thread: sealing never takes both cores */
};

static void
log_sealed (
    HqLogLevel level, const gchar *what, const gchar *path, const gchar *detail)
{
  JsonObject *line = hq_log_begin (level, "at-rest");

  json_object_set_string_member (line, "what", what);
  json_object_set_string_member (line, "file", path);
  if (detail)
    json_object_set_string_member (line, "detail", detail);
  hq_log_end (line);
}

gboolean
hq_at_rest_seal_now (HqAtRest *at_rest, const gchar *path, GError **error)
{
  gint64 t0 = g_get_monotonic_time ();
  g_autofree gchar *took = NULL;

  if (!hq_sealed_seal_file (at_rest->keys, path, error))
    return FALSE;
  took = g_strdup_printf ("%" G_GINT64_FORMAT " ms, key %s",
      (g_get_monotonic_time () - t0) / 1000,
      hq_seal_keys_current_id (at_rest->keys));
  log_sealed (HQ_LOG_INFO, "sealed", path, took);
  return TRUE;
}

static void
seal_job (gpointer data, gpointer user_data)
{
  g_autofree gchar *path = data;
  HqAtRest *at_rest = user_data;
  g_autoptr (GError) error = NULL;

  if (!hq_at_rest_seal_now (at_rest, path, &error))
    log_sealed (HQ_LOG_ERROR, "seal-failed", path, error->message);
}

HqAtRest *
hq_at_rest_new (HqSealKeys *keys)
{
  HqAtRest *at_rest = g_new0 (HqAtRest, 1);

  at_rest->keys = keys;
  if (keys)
    at_rest->pool = g_thread_pool_new (seal_job, at_rest, 1, FALSE, NULL);
  return at_rest;
}

void
hq_at_rest_free (HqAtRest *at_rest)
{
  if (at_rest == NULL)
    return;
  if (at_rest->pool)
    g_thread_pool_free (at_rest->pool, FALSE, TRUE);
  hq_seal_keys_free (at_rest->keys);
  g_free (at_rest);
}

const HqSealKeys *
hq_at_rest_get_keys (HqAtRest *at_rest)
{
  return at_rest ? at_rest->keys : NULL;
}

void
hq_at_rest_log_state (HqAtRest *at_rest)
{
  JsonObject *line;

  if (at_rest->keys == NULL) {
    line = hq_log_begin (HQ_LOG_WARN, "at-rest");
    json_object_set_string_member (line, "what", "off");
    json_object_set_string_member (line, "detail",
        "no operator key: recordings, compositions and chat attachments "
        "are stored UNENCRYPTED under the data directory; set [at-rest] "
        "key_file (docs/at-rest.md)");
  } else {
    g_autofree gchar *keys = hq_seal_keys_describe (at_rest->keys);
    line = hq_log_begin (HQ_LOG_INFO, "at-rest");
    json_object_set_string_member (line, "what", "on");
    json_object_set_string_member (line, "keys", keys);
  }
  hq_log_end (line);
}

void
hq_at_rest_seal_later (HqAtRest *at_rest, const gchar *path)
{
  if (path == NULL)
    return;
  if (at_rest->keys == NULL) {
    log_sealed (HQ_LOG_WARN, "stored-clear", path,
        "no operator key is configured: this file stays unencrypted");
    return;
  }
  g_thread_pool_push (at_rest->pool, g_strdup (path), NULL);
}

/* --- the sweep --- */

static gboolean
sweep_one (HqAtRest *at_rest, const gchar *path, gboolean now, guint *failed)
{
  g_autoptr (GError) error = NULL;

  if (path == NULL || !g_file_test (path, G_FILE_TEST_IS_REGULAR)
      || hq_sealed_file_is_sealed (path))
    return FALSE;
  if (!now) {
    g_thread_pool_push (at_rest->pool, g_strdup (path), NULL);
    return TRUE;
  }
  if (hq_at_rest_seal_now (at_rest, path, &error))
    return TRUE;
  log_sealed (HQ_LOG_ERROR, "seal-failed", path, error->message);
  (*failed)++;
  return FALSE;
}

guint
hq_at_rest_sweep (HqAtRest *at_rest, HqStore *store, const gchar *data_dir,
    gboolean now, guint *failed)
{
  g_autoptr (GPtrArray) recs = NULL, comps = NULL;
  g_autofree gchar *chat = g_build_filename (data_dir, "chat-media", NULL);
  g_autoptr (GDir) rooms = NULL;
  guint n = 0, ignored = 0;
  const gchar *room;

  if (at_rest->keys == NULL)
    return 0;
  if (failed == NULL)
    failed = &ignored;
  recs = hq_store_list_recordings (store, NULL, "completed", G_MAXINT, 0, NULL);
  for (guint i = 0; recs && i < recs->len; i++)
    n += sweep_one (at_rest,
        ((HqRecordingRecord *)g_ptr_array_index (recs, i))->file, now, failed);
  comps =
      hq_store_list_compositions (store, NULL, "completed", G_MAXINT, 0, NULL);
  for (guint i = 0; comps && i < comps->len; i++)
    n += sweep_one (at_rest,
        ((HqCompositionRecord *)g_ptr_array_index (comps, i))->file, now,
        failed);
  /* Attachments are written whole (atomically): every file there is
   * complete. */
  rooms = g_dir_open (chat, 0, NULL);
  while (rooms && (room = g_dir_read_name (rooms))) {
    g_autofree gchar *dir = g_build_filename (chat, room, NULL);
    g_autoptr (GDir) files = g_dir_open (dir, 0, NULL);
    const gchar *name;
    while (files && (name = g_dir_read_name (files))) {
      g_autofree gchar *path = g_build_filename (dir, name, NULL);
      if (!strstr (name, ".sealing-"))
        n += sweep_one (at_rest, path, now, failed);
    }
  }
  return n;
}

/* --- hq-compose's inputs --- */

typedef struct
{
  HqSealedReader *reader;
  int fd;
} Feed;

static gpointer
feed_thread (gpointer data)
{
  Feed *feed = data;
  g_autoptr (GError) error = NULL;
  sigset_t pipe_only;

  /* A composer that stops reading makes our write fail with EPIPE; the
   * signal stays pending on this thread, which then ends. */
  sigemptyset (&pipe_only);
  sigaddset (&pipe_only, SIGPIPE);
  pthread_sigmask (SIG_BLOCK, &pipe_only, NULL);
  if (!hq_sealed_reader_copy_to_fd (feed->reader, feed->fd, &error)
      && !g_error_matches (error, HQ_SEALED_ERROR, HQ_SEALED_ERROR_IO))
    hq_log_message (
        HQ_LOG_ERROR, "at-rest", "composition input: %s", error->message);
  close (feed->fd);
  hq_sealed_reader_free (feed->reader);
  g_free (feed);
  return NULL;
}

/* Hands @path to the child as descriptor @target; FALSE with *@why. */
static gboolean
feed_input (HqAtRest *at_rest, GSubprocessLauncher *launcher, const gchar *path,
    gint target, GPtrArray *feeds, gchar **why)
{
  int fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  g_autoptr (GError) error = NULL;
  HqSealedReader *reader;
  Feed *feed;
  int pipe_fds[2];

  if (fd < 0) {
    *why = g_strdup_printf (
        "cannot open the recording %s: %s", path, g_strerror (errno));
    return FALSE;
  }
  /* Decided on what was opened: sealing may rename a sealed file over
   * this path at any moment. */
  if (!hq_sealed_fd_is_sealed (fd)) {
    g_subprocess_launcher_take_fd (launcher, fd, target);
    return TRUE;
  }
  reader = hq_sealed_reader_open_fd (
      hq_at_rest_get_keys (at_rest), fd, path, &error);
  if (reader == NULL) {
    log_sealed (HQ_LOG_ERROR, "decrypt-failed", path, error->message);
    *why = g_strdup_printf (
        "the server cannot decrypt a recording: %s", error->message);
    return FALSE;
  }
  if (!g_unix_open_pipe (pipe_fds, FD_CLOEXEC, NULL)) {
    hq_sealed_reader_free (reader);
    *why = g_strdup ("cannot make a pipe for the composer");
    return FALSE;
  }
  g_subprocess_launcher_take_fd (launcher, pipe_fds[0], target);
  feed = g_new0 (Feed, 1);
  feed->reader = reader;
  feed->fd = pipe_fds[1];
  g_ptr_array_add (feeds, g_thread_new ("hq-compose-feed", feed_thread, feed));
  return TRUE;
}

gboolean
hq_at_rest_feed_inputs (HqAtRest *at_rest, GSubprocessLauncher *launcher,
    GPtrArray *argv, GPtrArray *feeds, gchar **why)
{
  gint target = HQ_FEED_FIRST_FD;

  for (guint i = 1; i < argv->len; i++) {
    const gchar *prev = g_ptr_array_index (argv, i - 1);
    gchar *arg = g_ptr_array_index (argv, i);
    const gchar *at = arg ? strrchr (arg, '@') : NULL;
    g_autofree gchar *path = NULL;
    if (at == NULL
        || (g_strcmp0 (prev, "--audio") != 0
            && g_strcmp0 (prev, "--video") != 0))
      continue;
    path = g_strndup (arg, at - arg);
    if (!feed_input (at_rest, launcher, path, target, feeds, why))
      return FALSE;
    argv->pdata[i] = g_strdup_printf ("/dev/fd/%d%s", target++, at);
    g_free (arg);
  }
  return TRUE;
}

void
hq_at_rest_feeds_join (GPtrArray *feeds)
{
  for (guint i = 0; feeds && i < feeds->len; i++)
    g_thread_join (g_ptr_array_index (feeds, i));
  if (feeds)
    g_ptr_array_set_size (feeds, 0);
}
