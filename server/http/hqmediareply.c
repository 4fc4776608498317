/* Stored media as HTTP responses; see hqmediareply.h.
 *
 * A sealed file goes out with its clear length as Content-Length and the
 * body not accumulated: the first chunk is appended now, each next one
 * when libsoup has written the previous ("wrote-chunk"), so the socket's
 * pace decides how fast the file is read and decrypted.  A chunk that
 * fails authentication halfway ends the body early; the client sees a
 * response shorter than announced, never altered media. */
#include "hqmediareply.h"
#include "hqhttp.h"
#include "hqlog.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <glib/gstdio.h>

typedef struct
{
  HqSealedReader *reader;
  SoupMessageBody *body;
  gchar *what;
} Stream;

static void
stream_free (Stream *s)
{
  hq_sealed_reader_free (s->reader);
  g_free (s->what);
  g_free (s);
}

static void
log_failure (const gchar *what, const GError *error)
{
  JsonObject *line = hq_log_begin (HQ_LOG_ERROR, "at-rest");

  json_object_set_string_member (line, "what", "decrypt-failed");
  json_object_set_string_member (line, "media", what);
  json_object_set_string_member (line, "detail", error->message);
  hq_log_end (line);
}

static void
append_next (SoupServerMessage *msg, Stream *s)
{
  g_autoptr (GError) error = NULL;
  GBytes *chunk = hq_sealed_reader_next (s->reader, &error);

  if (chunk) {
    soup_message_body_append_bytes (s->body, chunk);
    g_bytes_unref (chunk);
    return;
  }
  if (error)
    log_failure (s->what, error);
  soup_message_body_complete (s->body);
}

static void
wrote_chunk (SoupServerMessage *msg, gpointer data)
{
  append_next (msg, data);
}

/* The reason a person reads, without the server's paths or key ids. */
static const gchar *
why_not (const GError *error)
{
  if (error->domain != HQ_SEALED_ERROR)
    return "it cannot be read";
  switch (error->code) {
    case HQ_SEALED_ERROR_UNKNOWN_KEY:
      return "it is sealed with an operator key this server does not have";
    case HQ_SEALED_ERROR_WRONG_KEY:
      return "the server's operator key does not open it (a different key "
             "under the same id?)";
    case HQ_SEALED_ERROR_DAMAGED:
      return "the stored file is damaged";
    case HQ_SEALED_ERROR_TRUNCATED:
      return "the stored file is cut short";
    default:
      return "it cannot be read";
  }
}

guint
hq_media_reply (SoupServerMessage *msg, const HqSealKeys *keys,
    const gchar *file, const gchar *type, const gchar *name, const gchar *what)
{
  g_autoptr (GError) error = NULL;
  SoupMessageHeaders *headers;
  HqSealedReader *reader;
  Stream *s;
  int fd = g_open (file, O_RDONLY | O_CLOEXEC, 0);

  if (fd < 0) {
    hq_http_reply_error (msg, 404, "not found", "The media file is gone.");
    return 404;
  }
  if (!hq_sealed_fd_is_sealed (fd)) {
    /* Clear: served from what was opened (sealing may rename the sealed
     * form over the path meanwhile). */
    g_autoptr (GMappedFile) mapped =
        g_mapped_file_new_from_fd (fd, FALSE, NULL);
    hq_http_reply_mapped_file (msg, mapped, type, name);
    close (fd);
    return soup_server_message_get_status (msg);
  }
  reader = hq_sealed_reader_open_fd (keys, fd, file, &error);
  if (reader == NULL) {
    g_autofree gchar *why = g_strdup_printf (
        "The server cannot decrypt %s: %s. Its operator must configure the "
        "operator key it was sealed with (docs/at-rest.md); the server's log "
        "says which.",
        what, why_not (error));
    log_failure (what, error);
    hq_http_reply_error (msg, 500, "cannot decrypt", why);
    return 500;
  }
  s = g_new0 (Stream, 1);
  s->reader = reader;
  s->what = g_strdup (what);
  s->body = soup_server_message_get_response_body (msg);
  headers = soup_server_message_get_response_headers (msg);
  hq_http_set_download_headers (msg, name);
  soup_message_headers_set_content_type (headers, type, NULL);
  soup_message_headers_set_encoding (headers, SOUP_ENCODING_CONTENT_LENGTH);
  soup_message_headers_set_content_length (
      headers, (goffset)hq_sealed_reader_get_size (reader));
  soup_message_body_set_accumulate (s->body, FALSE);
  soup_server_message_set_status (msg, 200, NULL);
  g_signal_connect (msg, "wrote-chunk", G_CALLBACK (wrote_chunk), s);
  g_signal_connect_swapped (msg, "finished", G_CALLBACK (stream_free), s);
  append_next (msg, s);
  return 200;
}
