/* Recordings and compositions REST API; see hqrecordingsapi.h and
 * docs/recordings.md.  Reads come from the store; rule changes go through
 * the recording supervisor (hqrecordings.c), new compositions through the
 * job queue (hqcompositions.c).  Media is served from the files the
 * children wrote (mode 0600, readable by the server's user only). */
#include "hqrecordingsapi.h"
#include "hqchatmedia.h"
#include "hqcompositions.h"
#include "hqhttp.h"
#include "hqlog.h"
#include "hqmediareply.h"
#include "hqrecordings.h"

#include <string.h>
#include <hq/hqutil.h>

struct _HqRecordingsApi
{
  HqConfig *config;
  HqRooms *rooms;
  HqCompositions *compositions;
};

static void
reply_store_error (SoupServerMessage *msg, const GError *error)
{
  if (g_error_matches (error, HQ_STORE_ERROR, HQ_STORE_ERROR_NOT_FOUND)) {
    g_autofree gchar *why = g_strdup_printf ("There is %s.", error->message);
    hq_http_reply_error (msg, 404, "not found", why);
    return;
  }
  hq_log_message (HQ_LOG_ERROR, "store", "%s", error->message);
  hq_http_reply_error (msg, 500, "storage failed", error->message);
}

static void
reply_room_error (SoupServerMessage *msg, const GError *error)
{
  guint status = 400;
  const gchar *message = "invalid parameter";

  if (error->domain == HQ_ROOM_ERROR
      && error->code == HQ_ROOM_ERROR_NOT_FOUND) {
    status = 404;
    message = "not found";
  } else if (error->domain == HQ_ROOM_ERROR
      && error->code == HQ_ROOM_ERROR_STORE) {
    status = 500;
    message = "storage failed";
  } else if (error->domain == HQ_HTTP_ERROR) {
    hq_http_reply_gerror (msg, error);
    return;
  }
  hq_http_reply_error (msg, status, message, error->message);
}

/* Splits the path below @prefix into up to 3 segments; NULL when it is
 * not below it. */
static gchar **
segments (const gchar *path, const gchar *prefix, guint *n)
{
  const gchar *rest = path + strlen (prefix);
  gchar **seg;

  if (!g_str_has_prefix (path, prefix) || (*rest != '\0' && *rest != '/'))
    return NULL;
  seg = g_strsplit (*rest ? rest + 1 : rest, "/", 4);
  *n = g_strv_length (seg);
  if (*n > 0 && *seg[*n - 1] == '\0')
    (*n)--;
  return seg;
}

static const gchar *
query_get (GHashTable *query, const gchar *name)
{
  return query ? g_hash_table_lookup (query, name) : NULL;
}

/* --- media links --- */

/* A media link is good for this long (Twilio's are, too). */
#define HQ_MEDIA_LINK_TTL_S 600

/* TRUE when the client asks for the media itself rather than the link:
 * ?Redirect=false, or an Accept header that names no JSON. */
static gboolean
wants_file (SoupServerMessage *msg, GHashTable *query)
{
  const gchar *redirect =
      query ? g_hash_table_lookup (query, "Redirect") : NULL;
  const gchar *accept = soup_message_headers_get_one (
      soup_server_message_get_request_headers (msg), "Accept");

  if (redirect && g_ascii_strcasecmp (redirect, "false") == 0)
    return TRUE;
  return accept != NULL && strstr (accept, "json") == NULL
      && strstr (accept, "*/*") == NULL;
}

/* Sends the media of @sid (a recording or composition of room
 * @room_sid), decrypted when it is sealed (docs/at-rest.md), and writes
 * the access to the room's audit log. */
static void
serve_media (SoupServerMessage *msg, HqRooms *rooms, const gchar *room_sid,
    const gchar *sid, const gchar *file, const gchar *type, const gchar *name)
{
  HqConfig *config = hq_rooms_get_config (rooms);
  gboolean recording = g_str_has_prefix (sid, "RT");
  g_autofree gchar *what =
      g_strdup_printf ("%s %s", recording ? "recording" : "composition", sid);
  g_autofree gchar *ip = hq_http_remote_ip (msg);
  JsonObject *detail = json_object_new ();
  guint status = hq_media_reply (
      msg, hq_at_rest_get_keys (config->at_rest), file, type, name, what);

  json_object_set_string_member (
      detail, recording ? "recording_sid" : "composition_sid", sid);
  json_object_set_string_member (detail, "remote", ip);
  json_object_set_int_member (detail, "status", status);
  hq_rooms_audit (rooms, room_sid,
      recording ? "recording-media-downloaded" : "composition-media-downloaded",
      NULL, detail);
}

/* Answers a Media request for @sid (a completed recording or composition
 * whose file is @file): the file itself, or {"redirect_to": a link to
 * /v1/MediaLinks/<sid> that works without credentials until it expires}. */
static void
reply_media (SoupServerMessage *msg, GHashTable *query, HqRooms *rooms,
    const gchar *room_sid, const gchar *sid, const gchar *file,
    const gchar *type, const gchar *name)
{
  const gchar *secret = hq_rooms_get_config (rooms)->media_secret;
  g_autofree gchar *base = NULL, *link = NULL;
  JsonObject *reply;

  if (wants_file (msg, query)) {
    serve_media (msg, rooms, room_sid, sid, file, type, name);
    return;
  }
  base = hq_http_base_url (msg);
  link = hq_media_link_new (base, secret, sid, HQ_MEDIA_LINK_TTL_S, NULL);
  reply = json_object_new ();
  json_object_set_string_member (reply, "redirect_to", link);
  hq_http_reply_object (msg, 200, reply);
}

/* --- recordings --- */

static const gchar *const recording_statuses[] = { "processing", "completed",
  "deleted", "failed", NULL };
static const gchar *const media_types[] = { "audio", "video", "data", NULL };

/* A recording as Twilio shows it; a room's recording has its URL below the
 * room (@room_path). */
static JsonObject *
recording_json (HqRooms *rooms, const HqRecordingRecord *r, const gchar *base,
    gboolean below_room)
{
  JsonObject *o = hq_recording_to_json (r, base);

  json_object_set_string_member (
      o, "account_sid", hq_rooms_get_config (rooms)->account_sid);
  if (below_room) {
    JsonObject *links = json_object_new ();
    g_autofree gchar *url = g_strdup_printf (
        "%s/v1/Rooms/%s/Recordings/%s", base, r->room_sid, r->sid);
    g_autofree gchar *media = g_strdup_printf ("%s/Media", url);
    json_object_set_string_member (o, "url", url);
    json_object_set_string_member (links, "media", media);
    json_object_set_object_member (o, "links", links);
  }
  return o;
}

/* Lists recordings: all (@room_sid NULL) or one room's, with Twilio's
 * filters (GroupingSid and MediaType for all only, as Twilio has them). */
static void
list_recordings (SoupServerMessage *msg, HqRooms *rooms, const gchar *room_sid,
    const gchar *path, GHashTable *query)
{
  static const gchar *const all_filters[] = { "Status", "SourceSid",
    "GroupingSid", "DateCreatedAfter", "DateCreatedBefore", "MediaType",
    "RoomSid", NULL };
  static const gchar *const room_filters[] = { "Status", "SourceSid",
    "DateCreatedAfter", "DateCreatedBefore", NULL };
  HqHttpPaging paging;
  HqRecordingFilter f = { 0 };
  g_auto (GStrv) groups = hq_http_query_all (msg, "GroupingSid");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  g_autofree gchar *base = hq_http_base_url (msg);
  JsonArray *items;

  if (!hq_http_check_query (msg, query, room_sid ? room_filters : all_filters)
      || !hq_http_read_paging (msg, query, &paging)
      || !hq_http_query_date (msg, query, "DateCreatedAfter", &f.created_after)
      || !hq_http_query_date (
          msg, query, "DateCreatedBefore", &f.created_before))
    return;
  f.room_sid = room_sid ? room_sid : query_get (query, "RoomSid");
  f.status = query_get (query, "Status");
  f.source_sid = query_get (query, "SourceSid");
  f.type = query_get (query, "MediaType");
  f.grouping_sids = (const gchar *const *)groups;
  if (!hq_http_check_enum (msg, "Status", f.status, recording_statuses)
      || !hq_http_check_enum (msg, "MediaType", f.type, media_types))
    return;
  rows = hq_store_find_recordings (hq_rooms_get_store (rooms), &f,
      paging.size + 1, paging.page * paging.size, &error);
  if (rows == NULL) {
    reply_store_error (msg, error);
    return;
  }
  items = json_array_new ();
  for (guint i = 0; i < rows->len && i < paging.size; i++)
    json_array_add_object_element (items,
        recording_json (
            rooms, g_ptr_array_index (rows, i), base, room_sid != NULL));
  hq_http_reply_page (
      msg, path, query, &paging, "recordings", items, rows->len);
}

/* One recording (below @room_sid when not NULL), or its Media. */
static void
recording (SoupServerMessage *msg, HqRooms *rooms, const gchar *room_sid,
    const gchar *sid, gboolean media, GHashTable *query)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HqRecordingRecord) rec =
      hq_store_get_recording (hq_rooms_get_store (rooms), sid, &error);
  g_autofree gchar *base = NULL, *name = NULL;

  if (rec == NULL || (room_sid && g_strcmp0 (rec->room_sid, room_sid) != 0)) {
    g_autofree gchar *why = g_strdup_printf ("There is no recording %.64s%s%s.",
        sid, room_sid ? " in room " : "", room_sid ? room_sid : "");
    if (rec == NULL
        && !g_error_matches (error, HQ_STORE_ERROR, HQ_STORE_ERROR_NOT_FOUND))
      reply_store_error (msg, error);
    else
      hq_http_reply_error (msg, 404, "not found", why);
    return;
  }
  if (!media) {
    base = hq_http_base_url (msg);
    hq_http_reply_object (
        msg, 200, recording_json (rooms, rec, base, room_sid != NULL));
    return;
  }
  if (g_strcmp0 (rec->status, "completed") != 0 || rec->file == NULL) {
    g_autofree gchar *why = g_strdup_printf (
        "Recording %s is %s: its media is served once it has completed.",
        rec->sid, rec->status);
    hq_http_reply_error (msg, 404, "not found", why);
    return;
  }
  name = g_strdup_printf ("%s.%s", rec->sid, rec->container);
  reply_media (msg, query, rooms, rec->room_sid, rec->sid, rec->file,
      g_str_equal (rec->type, "audio") ? "audio/x-matroska"
                                       : "video/x-matroska",
      name);
}

void
hq_recordings_api_room_recordings (SoupServerMessage *msg, HqRooms *rooms,
    const gchar *room_sid, const gchar *sid, gboolean media, const gchar *path,
    GHashTable *query)
{
  if (sid == NULL)
    list_recordings (msg, rooms, room_sid, path, query);
  else
    recording (msg, rooms, room_sid, sid, media, query);
}

void
hq_recordings_api_room_rules (SoupServerMessage *msg, HqRooms *rooms,
    HqRecordings *recs, const gchar *room_sid)
{
  HqRoom *room = hq_rooms_lookup (rooms, room_sid);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonArray) rules = NULL;

  if (g_strcmp0 (soup_server_message_get_method (msg), "POST") == 0) {
    if ((rules = hq_http_read_rules (msg)) == NULL)
      return;
    if (room == NULL) {
      hq_http_reply_error (msg, 400, "invalid parameter",
          "The room has completed; its recording rules no longer change.");
      return;
    }
    if (!hq_recordings_set_rules (recs, room, rules, NULL, &error)) {
      reply_room_error (msg, error);
      return;
    }
  }
  hq_http_reply_object (
      msg, 200, hq_recordings_get_rules (recs, room, room_sid));
}

static void
handle_recordings (SoupServer *server, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer user_data)
{
  static const gchar *const get[] = { "GET", NULL };
  HqRecordingsApi *api = user_data;
  g_autofree gchar *key_sid = NULL;
  g_auto (GStrv) seg = NULL;
  guint n = 0;

  key_sid = hq_http_basic_auth (msg, api->config->keyring);
  if (key_sid == NULL || !hq_http_allow_methods (msg, get))
    return;
  seg = segments (path, "/v1/Recordings", &n);
  if (seg == NULL || n > 2 || (n == 2 && g_strcmp0 (seg[1], "Media") != 0)) {
    hq_http_reply_not_found (msg, path);
    return;
  }
  if (n == 0)
    list_recordings (msg, api->rooms, NULL, path, query);
  else
    recording (msg, api->rooms, NULL, seg[0], n == 2, query);
}

/* GET /v1/MediaLinks/{sid}?Expires=&Signature=: the media of a completed
 * recording or composition, for whoever holds a link that has not expired
 * (no credentials: the signature is the permission). */
static void
handle_media_links (SoupServer *server, SoupServerMessage *msg,
    const char *path, GHashTable *query, gpointer user_data)
{
  static const gchar *const get[] = { "GET", NULL };
  HqRecordingsApi *api = user_data;
  HqStore *store = hq_rooms_get_store (api->rooms);
  g_auto (GStrv) seg = NULL;
  g_autofree gchar *name = NULL;
  gboolean chat;
  guint n = 0;

  if (!hq_http_allow_methods (msg, get))
    return;
  seg = segments (path, "/v1/MediaLinks", &n);
  if (seg == NULL || n != 1) {
    hq_http_reply_not_found (msg, path);
    return;
  }
  chat = g_str_has_prefix (seg[0], "ME");
  switch (hq_media_link_check (api->config->media_secret, seg[0], query)) {
    case HQ_MEDIA_LINK_FORGED:
      hq_http_reply_error (msg, 403, "forbidden",
          chat ? "This link to a chat attachment is not one the server made: "
                 "ask for a new one (Media.getContentTemporaryUrl())."
               : "This media link is not one the server made: ask the "
                 "recording's or composition's Media resource for a new one.");
      return;
    case HQ_MEDIA_LINK_EXPIRED:
      hq_http_reply_error (msg, 403, "forbidden",
          chat ? "This link to a chat attachment has expired: ask for a new "
                 "one (Media.getContentTemporaryUrl())."
               : "This media link has expired: ask the Media resource for a "
                 "new one.");
      return;
    default:
      break;
  }
  if (chat) {
    hq_chat_media_download (msg, api->rooms, seg[0]);
    return;
  }
  if (g_str_has_prefix (seg[0], "RT")) {
    g_autoptr (HqRecordingRecord) r =
        hq_store_get_recording (store, seg[0], NULL);
    if (r && r->file) {
      name = g_strdup_printf ("%s.%s", r->sid, r->container);
      serve_media (msg, api->rooms, r->room_sid, r->sid, r->file,
          g_str_equal (r->type, "audio") ? "audio/x-matroska"
                                         : "video/x-matroska",
          name);
      return;
    }
  } else {
    g_autoptr (HqCompositionRecord) c =
        hq_store_get_composition (store, seg[0], NULL);
    if (c && c->file) {
      name = g_strdup_printf ("%s.%s", c->sid, c->format);
      serve_media (msg, api->rooms, c->room_sid, c->sid, c->file,
          g_str_equal (c->format, "mp4") ? "video/mp4" : "video/webm", name);
      return;
    }
  }
  hq_http_reply_error (msg, 404, "not found", "The media is gone.");
}

/* --- compositions --- */

static const gchar *const composition_filters[] = { "Status", "RoomSid",
  "DateCreatedAfter", "DateCreatedBefore", NULL };
static const gchar *const composition_statuses[] = { "enqueued", "processing",
  "completed", "deleted", "failed", NULL };

static JsonObject *
composition_json (
    HqRecordingsApi *api, const HqCompositionRecord *c, const gchar *base)
{
  JsonObject *o = hq_composition_to_json (c, base);

  json_object_set_string_member (o, "account_sid", api->config->account_sid);
  return o;
}

/* A list of track name patterns: a JSON array, or in a form body its JSON
 * text or plain comma-separated patterns ("*", "mic,cam*"). */
static gboolean
patterns_param (
    JsonObject *body, const gchar *name, JsonNode **out, GError **error)
{
  const gchar *text = NULL;
  g_autoptr (GError) ignored = NULL;

  if (hq_http_rest_string (body, name, &text, &ignored) && text
      && *text != '[') {
    g_auto (GStrv) parts = g_strsplit (text, ",", -1);
    JsonArray *a = json_array_new ();
    for (guint i = 0; parts[i]; i++)
      json_array_add_string_element (a, g_strstrip (parts[i]));
    *out = json_node_init_array (json_node_alloc (), a);
    json_array_unref (a);
    return TRUE;
  }
  return hq_http_rest_json (body, name, out, error);
}

static void
create_composition (HqRecordingsApi *api, SoupServerMessage *msg)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) body = hq_http_read_body (msg, TRUE, &error);
  g_autoptr (JsonNode) audio = NULL, excluded = NULL, layout = NULL;
  g_autoptr (HqCompositionRecord) c = NULL;
  g_autofree gchar *base = NULL;
  HqCompositionParams params = { 0 };
  gboolean trim = TRUE;

  if (body == NULL
      || !hq_http_rest_string (body, "RoomSid", &params.room_sid, &error)
      || !hq_http_rest_string (body, "Resolution", &params.resolution, &error)
      || !hq_http_rest_string (body, "Format", &params.format, &error)
      || !hq_http_rest_string (
          body, "StatusCallback", &params.status_callback, &error)
      || !patterns_param (body, "AudioSources", &audio, &error)
      || !patterns_param (body, "AudioSourcesExcluded", &excluded, &error)
      || !hq_http_rest_json (body, "VideoLayout", &layout, &error)
      || !hq_http_rest_bool (body, "Trim", &trim, &error)) {
    hq_http_reply_gerror (msg, error);
    return;
  }
  /* The composer starts at the first selected recording's start and
   * plays every input to its end: it has no untrimmed mode. */
  if (!trim) {
    hq_http_reply_error (msg, 400, "invalid parameter",
        "Trim=false is not served: a composition starts where its first "
        "selected recording starts.  Leave Trim out or true.");
    return;
  }
  if ((audio && !JSON_NODE_HOLDS_ARRAY (audio))
      || (excluded && !JSON_NODE_HOLDS_ARRAY (excluded))) {
    hq_http_reply_error (msg, 400, "invalid parameter",
        "AudioSources and AudioSourcesExcluded must be JSON arrays of track "
        "name patterns, e.g. [\"*\"].");
    return;
  }
  if (layout && !JSON_NODE_HOLDS_OBJECT (layout)) {
    hq_http_reply_error (msg, 400, "invalid parameter",
        "VideoLayout must be a JSON object of regions, e.g. "
        "{\"grid\": {\"video_sources\": [\"*\"]}}.");
    return;
  }
  params.audio_sources = audio ? json_node_get_array (audio) : NULL;
  params.audio_sources_excluded =
      excluded ? json_node_get_array (excluded) : NULL;
  params.video_layout = layout ? json_node_get_object (layout) : NULL;
  c = hq_compositions_create (api->compositions, &params, &error);
  if (c == NULL) {
    reply_room_error (msg, error);
    return;
  }
  base = hq_http_base_url (msg);
  hq_http_reply_object (msg, 201, composition_json (api, c, base));
}

static void
handle_compositions (SoupServer *server, SoupServerMessage *msg,
    const char *path, GHashTable *query, gpointer user_data)
{
  static const gchar *const get_post[] = { "GET", "POST", NULL };
  static const gchar *const get[] = { "GET", NULL };
  HqRecordingsApi *api = user_data;
  HqStore *store = hq_rooms_get_store (api->rooms);
  g_autofree gchar *key_sid = NULL;
  g_autofree gchar *base = NULL;
  g_auto (GStrv) seg = NULL;
  g_autoptr (HqCompositionRecord) c = NULL;
  g_autoptr (GError) error = NULL;
  guint n = 0;

  key_sid = hq_http_basic_auth (msg, api->config->keyring);
  if (key_sid == NULL)
    return;
  seg = segments (path, "/v1/Compositions", &n);
  if (seg == NULL || n > 2 || (n == 2 && g_strcmp0 (seg[1], "Media") != 0)) {
    hq_http_reply_not_found (msg, path);
    return;
  }
  base = hq_http_base_url (msg);
  if (n == 0) {
    HqHttpPaging paging;
    HqCompositionFilter f = { 0 };
    g_autoptr (GPtrArray) rows = NULL;
    JsonArray *items;
    if (!hq_http_allow_methods (msg, get_post))
      return;
    if (g_strcmp0 (soup_server_message_get_method (msg), "POST") == 0) {
      create_composition (api, msg);
      return;
    }
    if (!hq_http_check_query (msg, query, composition_filters)
        || !hq_http_read_paging (msg, query, &paging)
        || !hq_http_check_enum (
            msg, "Status", query_get (query, "Status"), composition_statuses)
        || !hq_http_query_date (
            msg, query, "DateCreatedAfter", &f.created_after)
        || !hq_http_query_date (
            msg, query, "DateCreatedBefore", &f.created_before))
      return;
    f.room_sid = query_get (query, "RoomSid");
    f.status = query_get (query, "Status");
    rows = hq_store_find_compositions (
        store, &f, paging.size + 1, paging.page * paging.size, &error);
    if (rows == NULL) {
      reply_store_error (msg, error);
      return;
    }
    items = json_array_new ();
    for (guint i = 0; i < rows->len && i < paging.size; i++)
      json_array_add_object_element (
          items, composition_json (api, g_ptr_array_index (rows, i), base));
    hq_http_reply_page (
        msg, path, query, &paging, "compositions", items, rows->len);
    return;
  }
  if (!hq_http_allow_methods (msg, get))
    return;
  c = hq_store_get_composition (store, seg[0], &error);
  if (c == NULL) {
    reply_store_error (msg, error);
    return;
  }
  if (n == 1) {
    hq_http_reply_object (msg, 200, composition_json (api, c, base));
    return;
  }
  if (g_strcmp0 (c->status, "completed") != 0 || c->file == NULL) {
    g_autofree gchar *why = g_strdup_printf (
        "Composition %s is %s: its media is served once it has completed.",
        c->sid, c->status);
    hq_http_reply_error (msg, 404, "not found", why);
    return;
  }
  {
    g_autofree gchar *name = g_strdup_printf ("%s.%s", c->sid, c->format);
    reply_media (msg, query, api->rooms, c->room_sid, c->sid, c->file,
        g_str_equal (c->format, "mp4") ? "video/mp4" : "video/webm", name);
  }
}

HqRecordingsApi *
hq_recordings_api_new (HqConfig *config, HqRooms *rooms, SoupServer *soup)
{
  HqRecordingsApi *api = g_new0 (HqRecordingsApi, 1);

  api->config = config;
  api->rooms = rooms;
  api->compositions = hq_compositions_new (rooms);
  soup_server_add_handler (
      soup, "/v1/Recordings", handle_recordings, api, NULL);
  soup_server_add_handler (
      soup, "/v1/Compositions", handle_compositions, api, NULL);
  soup_server_add_handler (
      soup, "/v1/MediaLinks", handle_media_links, api, NULL);
  return api;
}

void
hq_recordings_api_free (HqRecordingsApi *api)
{
  if (api == NULL)
    return;
  hq_compositions_free (api->compositions);
  g_free (api);
}
