/* Chat attachments: upload and download; see hqchatmedia.h.
 *
 * An upload is the file's bytes as the request body (its Content-Type is
 * the file's), so a browser sends a Blob as it is, without multipart
 * framing to parse.  Who may upload: the holder of an access token for
 * the room whose identity is in the room's chat at that moment (a
 * participant or a chat-only member).  The file is written (atomically,
 * mode 0600) before its row is stored; a message refers to it by sid
 * afterwards (chat_send's media_sid). */
#include "hqchatmedia.h"
#include "hqhttp.h"
#include "hqlog.h"
#include "hqmediareply.h"

#include <string.h>
#include <glib/gstdio.h>
#include <hq/hqutil.h>

#define HQ_CHAT_MEDIA_PATH "/v1/ChatMedia"
#define HQ_CHAT_MEDIA_MAX_FILENAME 255

typedef struct
{
  HqConfig *config;
  HqRooms *rooms;
} ChatMediaApi;

/* The access token of @msg: "Authorization: Bearer ..." or, as Twilio's
 * media service takes it, "X-Twilio-Token". */
static const gchar *
request_token (SoupServerMessage *msg)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  const gchar *auth = soup_message_headers_get_one (h, "Authorization");

  if (auth && g_ascii_strncasecmp (auth, "Bearer ", 7) == 0)
    return auth + 7;
  return soup_message_headers_get_one (h, "X-Twilio-Token");
}

/* @name made safe to store and to send back in a header: printable
 * ASCII and UTF-8 letters kept, quotes, backslashes, slashes and control
 * characters replaced by '_'.  NULL when nothing usable is left. */
static gchar *
clean_filename (const gchar *name)
{
  GString *out;

  if (name == NULL || !g_utf8_validate (name, -1, NULL))
    return NULL;
  out = g_string_new (NULL);
  for (const gchar *c = name;
       *c && g_utf8_strlen (out->str, -1) < HQ_CHAT_MEDIA_MAX_FILENAME;
       c = g_utf8_next_char (c)) {
    gunichar u = g_utf8_get_char (c);
    if (u < 0x20 || u == 0x7f || u == '"' || u == '\\' || u == '/')
      g_string_append_c (out, '_');
    else
      g_string_append_unichar (out, u);
  }
  g_strstrip (out->str);
  if (out->str[0] == '\0') {
    g_string_free (out, TRUE);
    return NULL;
  }
  return g_string_free (out, FALSE);
}

/* The download name for a header: @filename in ASCII, else the sid. */
static gchar *
download_name (const HqChatMediaRecord *m)
{
  GString *out = g_string_new (NULL);

  for (const gchar *c = m->filename; c && *c; c++)
    g_string_append_c (out, (*c & 0x80) ? '_' : *c);
  if (out->len == 0)
    g_string_append (out, m->sid);
  return g_string_free (out, FALSE);
}

/* The types the server takes, for an error message (new). */
static gchar *
allowed_types (HqConfig *config)
{
  return config->chat_media_types && config->chat_media_types[0]
      ? g_strjoinv (", ", config->chat_media_types)
      : g_strdup ("none");
}

/* Verifies the token and finds the room it may upload to; FALSE after
 * replying. */
static gboolean
authorise (SoupServerMessage *msg, ChatMediaApi *api, GHashTable *query,
    HqTokenClaims **claims_out, HqRoom **room_out)
{
  const gchar *token = request_token (msg);
  const gchar *room_id = query ? g_hash_table_lookup (query, "Room") : NULL;
  g_autoptr (HqTokenClaims) claims = NULL;
  g_autoptr (GError) error = NULL;
  const HqRoomRecord *rec;
  HqRoom *room;

  if (token == NULL) {
    hq_http_reply_error (msg, 401, "missing token",
        "Send the access token as \"Authorization: Bearer <token>\".");
    return FALSE;
  }
  claims = hq_token_verify (api->config->keyring, token, NULL, 0, &error);
  if (claims == NULL) {
    g_autofree gchar *why = g_strdup_printf ("The access token was refused "
                                             "(%s): %s",
        hq_token_error_name (error->code), error->message);
    hq_http_reply_error (msg, 401, "invalid token", why);
    return FALSE;
  }
  if (room_id == NULL || *room_id == '\0')
    room_id = claims->room;
  if (room_id == NULL) {
    hq_http_reply_error (msg, 400, "missing Room",
        "Name the room whose chat the file is for: ?Room=<sid or name>.");
    return FALSE;
  }
  room = hq_rooms_lookup (api->rooms, room_id);
  rec = room ? hq_room_get_record (room) : NULL;
  if (claims->room
      && (rec ? g_strcmp0 (claims->room, rec->unique_name) != 0
                  && g_strcmp0 (claims->room, rec->sid) != 0
              : g_strcmp0 (claims->room, room_id) != 0)) {
    hq_http_reply_error (
        msg, 403, "room not granted", "The access token is for another room.");
    return FALSE;
  }
  if (room == NULL) {
    hq_http_reply_error (msg, 404, "room not found",
        "There is no room of that name or sid in progress.");
    return FALSE;
  }
  if (!hq_room_in_chat (room, claims->identity)) {
    hq_http_reply_error (msg, 403, "not in the chat",
        "Only someone in the room's chat may attach files to it: join the "
        "room (or its chat) first.");
    return FALSE;
  }
  *claims_out = g_steal_pointer (&claims);
  *room_out = room;
  return TRUE;
}

/* Writes @data under the data directory; returns the file's path (new). */
static gchar *
write_file (HqConfig *config, const gchar *room_sid, const gchar *sid,
    GBytes *data, GError **error)
{
  g_autofree gchar *dir =
      g_build_filename (config->data_dir, "chat-media", room_sid, NULL);
  g_autofree gchar *file = g_build_filename (dir, sid, NULL);
  gsize len = 0;
  const gchar *bytes = g_bytes_get_data (data, &len);

  if (g_mkdir_with_parents (dir, 0700) != 0) {
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
        "cannot make %s: %s", dir, g_strerror (errno));
    return NULL;
  }
  /* With an operator key the file is written sealed, never clear
   * (docs/at-rest.md). */
  if (hq_at_rest_get_keys (config->at_rest)) {
    if (!hq_sealed_write (hq_at_rest_get_keys (config->at_rest), file,
            (const guint8 *)bytes, len, error))
      return NULL;
  } else if (!g_file_set_contents_full (file, bytes, (gssize)len,
                 G_FILE_SET_CONTENTS_CONSISTENT, 0600, error)) {
    return NULL;
  } else {
    hq_at_rest_seal_later (config->at_rest, file); /* warns: stays clear */
  }
  return g_steal_pointer (&file);
}

static JsonObject *
media_json (const HqChatMediaRecord *m)
{
  JsonObject *o = json_object_new ();
  g_autofree gchar *iso = hq_time_iso (m->created);

  json_object_set_string_member (o, "sid", m->sid);
  json_object_set_string_member (o, "room_sid", m->room_sid);
  hq_json_set_string_or_null (o, "filename", m->filename);
  json_object_set_string_member (o, "content_type", m->content_type);
  json_object_set_int_member (o, "size", m->size);
  json_object_set_string_member (o, "date_created", iso);
  return o;
}

static void
handle_upload (SoupServer *server, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer user_data)
{
  static const gchar *const post[] = { "POST", NULL };
  ChatMediaApi *api = user_data;
  HqConfig *config = api->config;
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  const gchar *type = soup_message_headers_get_content_type (h, NULL);
  g_autoptr (HqTokenClaims) claims = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *sid = NULL, *file = NULL, *filename = NULL;
  g_autofree gchar *full_type = NULL;
  HqChatMediaRecord rec = { 0 };
  const HqRoomRecord *room_rec;
  JsonObject *detail;
  HqRoom *room = NULL;
  gsize len;

  if (!hq_http_exact_path (msg, path, HQ_CHAT_MEDIA_PATH)
      || !hq_http_allow_methods (msg, post))
    return;
  if (!authorise (msg, api, query, &claims, &room))
    return;
  if (config->chat_media_max_size == 0) {
    hq_http_reply_error (msg, 403, "attachments off",
        "This server does not take chat attachments.");
    return;
  }
  if (type == NULL || !hq_config_chat_media_type_ok (config, type)) {
    g_autofree gchar *allowed = allowed_types (config);
    g_autofree gchar *why = g_strdup_printf (
        "Files of type %.100s cannot be attached here; the server takes: %s.",
        type ? type : "(none given)", allowed);
    hq_http_reply_error (msg, 415, "file type not allowed", why);
    return;
  }
  body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  len = g_bytes_get_size (body);
  if (len == 0) {
    hq_http_reply_error (
        msg, 400, "empty file", "The file is empty: there is nothing to send.");
    return;
  }
  if ((gint64)len > config->chat_media_max_size) {
    g_autofree gchar *why =
        g_strdup_printf ("The file has %zu bytes; attachments may be at most "
                         "%" G_GINT64_FORMAT " bytes on this server.",
            len, config->chat_media_max_size);
    hq_http_reply_error (msg, 413, "file too large", why);
    return;
  }
  room_rec = hq_room_get_record (room);
  sid = hq_sid_new ("ME");
  file = write_file (config, room_rec->sid, sid, body, &error);
  if (file == NULL) {
    hq_log_message (HQ_LOG_ERROR, "chat", "attachment: %s", error->message);
    hq_http_reply_error (
        msg, 500, "not stored", "The file could not be stored; try again.");
    return;
  }
  filename =
      clean_filename (query ? g_hash_table_lookup (query, "Filename") : NULL);
  full_type = g_ascii_strdown (type, -1);
  rec.sid = sid;
  rec.room_sid = room_rec->sid;
  rec.identity = claims->identity;
  rec.filename = filename;
  rec.content_type = full_type;
  rec.size = (gint64)len;
  rec.file = file;
  rec.created = g_get_real_time () / 1000;
  if (!hq_store_add_chat_media (
          hq_rooms_get_store (api->rooms), &rec, &error)) {
    hq_log_message (HQ_LOG_ERROR, "store", "%s", error->message);
    g_unlink (file);
    hq_http_reply_error (
        msg, 500, "not stored", "The file could not be stored; try again.");
    return;
  }
  detail = json_object_new ();
  json_object_set_string_member (detail, "media_sid", sid);
  json_object_set_string_member (detail, "content_type", full_type);
  json_object_set_int_member (detail, "size", rec.size);
  hq_rooms_audit (api->rooms, room_rec->sid, "chat-media-uploaded",
      claims->identity, detail);
  hq_http_reply_object (msg, 201, media_json (&rec));
}

void
hq_chat_media_download (
    SoupServerMessage *msg, HqRooms *rooms, const gchar *sid)
{
  g_autoptr (HqChatMediaRecord) m =
      hq_store_get_chat_media (hq_rooms_get_store (rooms), sid, NULL);
  g_autofree gchar *name = NULL, *ip = NULL, *what = NULL;
  JsonObject *detail;

  if (m == NULL) {
    hq_http_reply_error (msg, 404, "not found", "The attachment is gone.");
    return;
  }
  name = download_name (m);
  what = g_strdup_printf ("chat attachment %s", m->sid);
  hq_media_reply (msg,
      hq_at_rest_get_keys (hq_rooms_get_config (rooms)->at_rest), m->file,
      m->content_type, name, what);
  ip = hq_http_remote_ip (msg);
  detail = json_object_new ();
  json_object_set_string_member (detail, "media_sid", m->sid);
  json_object_set_int_member (detail, "size", m->size);
  json_object_set_string_member (detail, "remote", ip);
  json_object_set_int_member (
      detail, "status", soup_server_message_get_status (msg));
  hq_rooms_audit (rooms, m->room_sid, "chat-media-downloaded", NULL, detail);
}

void
hq_chat_media_register (SoupServer *soup, HqConfig *config, HqRooms *rooms)
{
  ChatMediaApi *api = g_new0 (ChatMediaApi, 1);

  api->config = config;
  api->rooms = rooms;
  if (config->chat_media_max_size > 0) {
    g_autofree gchar *why = g_strdup_printf (
        "The file is too large: attachments may be at most %" G_GINT64_FORMAT
        " bytes (%.1f MiB) on this server.",
        config->chat_media_max_size,
        config->chat_media_max_size / (1024.0 * 1024.0));
    hq_http_allow_upload (
        soup, HQ_CHAT_MEDIA_PATH, config->chat_media_max_size, why);
  }
  soup_server_add_handler (
      soup, HQ_CHAT_MEDIA_PATH, handle_upload, api, g_free);
}
