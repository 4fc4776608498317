/* An app's build folder served in place of the web client.  See hqapp.h. */
#include "hqapp.h"
#include "hqhttp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Larger files are refused (the server reads a file whole to send it). */
#define HQ_APP_MAX_FILE (64 * 1024 * 1024)

/* Content types by file name ending; anything else is octet-stream. */
static const struct
{
  const gchar *ext, *type;
} content_types[] = {
  { ".html", "text/html; charset=utf-8" },
  { ".htm", "text/html; charset=utf-8" },
  { ".js", "text/javascript; charset=utf-8" },
  { ".mjs", "text/javascript; charset=utf-8" },
  { ".css", "text/css; charset=utf-8" },
  { ".json", "application/json" },
  { ".map", "application/json" },
  { ".webmanifest", "application/manifest+json" },
  { ".txt", "text/plain; charset=utf-8" },
  { ".svg", "image/svg+xml" },
  { ".png", "image/png" },
  { ".jpg", "image/jpeg" },
  { ".jpeg", "image/jpeg" },
  { ".gif", "image/gif" },
  { ".webp", "image/webp" },
  { ".ico", "image/x-icon" },
  { ".woff", "font/woff" },
  { ".woff2", "font/woff2" },
  { ".ttf", "font/ttf" },
  { ".otf", "font/otf" },
  { ".wasm", "application/wasm" },
  { ".mp3", "audio/mpeg" },
  { ".wav", "audio/wav" },
  { ".mp4", "video/mp4" },
  { ".webm", "video/webm" },
  { ".pdf", "application/pdf" },
};

static const gchar *
content_type (const gchar *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (content_types); i++) {
    if (g_str_has_suffix (name, content_types[i].ext))
      return content_types[i].type;
  }
  return "application/octet-stream";
}

/* The server's own path prefixes: an unknown path below them is a 404,
 * never the app's index.html. */
static gboolean
server_path (const gchar *path)
{
  static const gchar *const prefixes[] = { "/v1", "/token", "/healthz",
    "/sdk" };

  for (gsize i = 0; i < G_N_ELEMENTS (prefixes); i++) {
    gsize len = strlen (prefixes[i]);
    if (strncmp (path, prefixes[i], len) == 0
        && (path[len] == '\0' || path[len] == '/'))
      return TRUE;
  }
  return FALSE;
}

/* The file path relative to the folder that the request path @path
 * (libsoup has decoded it, once) names; NULL when a segment is "." or
 * "..", or starts with a dot. */
static gchar *
relative_path (const gchar *path)
{
  g_auto (GStrv) parts = g_strsplit (path, "/", -1);
  GString *out = g_string_new (NULL);

  for (gsize i = 0; parts[i] != NULL; i++) {
    if (parts[i][0] == '\0')
      continue;
    if (parts[i][0] == '.') {
      g_string_free (out, TRUE);
      return NULL;
    }
    if (out->len > 0)
      g_string_append_c (out, '/');
    g_string_append (out, parts[i]);
  }
  return g_string_free (out, FALSE);
}

typedef enum
{
  APP_FILE_SENT,
  APP_FILE_NONE, /* no such file (or a folder): index.html may stand in */
  APP_FILE_REFUSED, /* outside the folder, or too large: 404 or 500 sent */
} AppFile;

/* Sends @root/@rel when it is a regular file whose real path is under
 * @root. */
static AppFile
send_file (SoupServerMessage *msg, const gchar *root, const gchar *rel,
    const gchar *path)
{
  g_autofree gchar *full = g_build_filename (root, rel, NULL);
  g_autofree gchar *real = realpath (full, NULL);
  g_autofree gchar *data = NULL;
  SoupMessageHeaders *headers;
  gsize root_len = strlen (root), got = 0;
  struct stat st;
  int fd;

  if (real == NULL)
    return APP_FILE_NONE;
  if (strcmp (root, "/") != 0
      && (strncmp (real, root, root_len) != 0 || real[root_len] != '/')) {
    hq_http_reply_not_found (msg, path);
    return APP_FILE_REFUSED;
  }
  /* O_NONBLOCK: a FIFO in the folder must not block the server. */
  fd = open (real, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return APP_FILE_NONE;
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode)) {
    close (fd);
    return APP_FILE_NONE;
  }
  if (st.st_size > HQ_APP_MAX_FILE) {
    close (fd);
    hq_http_reply_error (msg, 500, "file too large",
        "The app's file is larger than the 64 MiB hq-server serves.");
    return APP_FILE_REFUSED;
  }
  data = g_malloc (st.st_size + 1);
  while (got < (gsize)st.st_size) {
    ssize_t n = read (fd, data + got, st.st_size - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += n;
  }
  close (fd);
  headers = soup_server_message_get_response_headers (msg);
  soup_message_headers_replace (headers, "Cache-Control", "no-cache");
  soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (
      msg, content_type (real), SOUP_MEMORY_TAKE, g_steal_pointer (&data), got);
  return APP_FILE_SENT;
}

void
hq_app_serve (SoupServerMessage *msg, const gchar *root, const gchar *path)
{
  static const gchar *const methods[] = { "GET", "HEAD", NULL };
  g_autofree gchar *rel = NULL;
  AppFile sent = APP_FILE_NONE;

  if (server_path (path)) {
    hq_http_reply_not_found (msg, path);
    return;
  }
  if (!hq_http_allow_methods (msg, methods))
    return;
  rel = relative_path (path);
  if (rel == NULL) {
    hq_http_reply_not_found (msg, path);
    return;
  }
  if (*rel != '\0')
    sent = send_file (msg, root, rel, path);
  if (sent == APP_FILE_NONE
      && send_file (msg, root, "index.html", path) == APP_FILE_NONE)
    hq_http_reply_error (msg, 500, "app missing",
        "The app folder (app_dir) has no index.html any more.");
}
