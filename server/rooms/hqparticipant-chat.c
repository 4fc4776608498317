/* Participants' chat; see hqparticipant.h: messages stored before anyone hears
 * of them, attachments' links, history pages. */
#include "hqparticipant-private.h"
#include "hqhttp.h"
#include "hqlog.h"
#include "hqrules.h"

#include <string.h>
#include <hq/hqprotocol.h>
#include <hq/hqutil.h>

/* Attachment @media_sid, uploaded by @p to its room, as a message's
 * "media" object's text (new); NULL with NOT_FOUND otherwise. */
static gchar *
chat_media_text (HqParticipant *p, const gchar *media_sid, GError **error)
{
  g_autoptr (HqChatMediaRecord) m =
      hq_store_get_chat_media (p->room->rooms->store, media_sid, NULL);
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  JsonObject *obj;

  if (m == NULL || g_strcmp0 (m->room_sid, p->room->rec.sid) != 0
      || g_strcmp0 (m->identity, p->rec.identity) != 0) {
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_NOT_FOUND,
        "There is no attachment %.64s of yours in this room: upload the "
        "file first (POST /v1/ChatMedia).",
        media_sid);
    return NULL;
  }
  obj = json_object_new ();
  json_object_set_string_member (obj, "sid", m->sid);
  hq_json_set_string_or_null (obj, "filename", m->filename);
  json_object_set_string_member (obj, "content_type", m->content_type);
  json_object_set_int_member (obj, "size", m->size);
  json_node_take_object (node, obj);
  return json_to_string (node, FALSE);
}

JsonObject *
hq_participant_chat (HqParticipant *p, const gchar *body,
    JsonObject *attributes, const gchar *media_sid, GError **error)
{
  HqChatRecord rec = { 0 };
  g_autofree gchar *attr_text = NULL, *media_text = NULL;
  GError *local = NULL;
  JsonObject *msg, *message;
  gsize len = body ? strlen (body) : 0;

  if (p->hidden) {
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_RECORDER,
        "The recorder does not chat.");
    return NULL;
  }
  if (media_sid) {
    media_text = chat_media_text (p, media_sid, error);
    if (media_text == NULL)
      return NULL;
  } else if (body == NULL) {
    hq_room_invalid (error,
        "body is missing: a message has a body, an "
        "attachment (media_sid) or both.");
    return NULL;
  }

  if ((len == 0 && media_sid == NULL) || len > HQ_CHAT_MAX_BODY) {
    hq_room_invalid (error, "body must be 1 to %d bytes; this one has %zu.",
        HQ_CHAT_MAX_BODY, len);
    return NULL;
  }
  if (attributes) {
    JsonNode *node = json_node_new (JSON_NODE_OBJECT);
    json_node_set_object (node, attributes);
    attr_text = json_to_string (node, FALSE);
    json_node_unref (node);
  }
  rec.room_sid = p->room->rec.sid;
  rec.participant_sid = p->rec.sid;
  rec.identity = p->rec.identity;
  rec.name = p->rec.name;
  rec.body = (gchar *)(body ? body : "");
  rec.attributes = attr_text;
  rec.media = media_text;
  rec.created = hq_now_ms ();
  if (!hq_store_add_chat (p->room->rooms->store, &rec, &local)) {
    hq_room_store_failed (local, error);
    return NULL;
  }
  message = hq_chat_to_json (&rec);
  msg = hq_protocol_message_new (HQ_MESSAGE_CHAT_MESSAGE, NULL);
  json_object_set_object_member (msg, "message", json_object_ref (message));
  hq_room_broadcast (p->room, p, msg);
  return message;
}

JsonObject *
hq_participant_chat_media_url (
    HqParticipant *p, const gchar *media_sid, GError **error)
{
  HqConfig *config = p->room->rooms->config;
  g_autoptr (HqChatMediaRecord) m =
      hq_store_get_chat_media (p->room->rooms->store, media_sid, NULL);
  g_autofree gchar *url = NULL, *iso = NULL;
  JsonObject *detail, *obj;
  gint64 expires = 0;

  if (m == NULL || g_strcmp0 (m->room_sid, p->room->rec.sid) != 0) {
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_NOT_FOUND,
        "There is no attachment %.64s in this room's chat.", media_sid);
    return NULL;
  }
  url = hq_media_link_new (
      "", config->media_secret, m->sid, config->chat_media_url_ttl, &expires);
  detail = json_object_new ();
  json_object_set_string_member (detail, "media_sid", m->sid);
  hq_room_event (p->room, "chat-media-link", p, NULL, NULL, detail);
  iso = hq_time_iso (expires * 1000);
  obj = json_object_new ();
  json_object_set_string_member (obj, "media_sid", m->sid);
  json_object_set_string_member (obj, "url", url);
  json_object_set_string_member (obj, "expires", iso);
  return obj;
}

JsonArray *
hq_participant_chat_history (HqParticipant *p, gint64 before, guint limit,
    gboolean *has_more, GError **error)
{
  GError *local = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  JsonArray *arr;

  if (limit == 0 || limit > HQ_CHAT_PAGE) {
    hq_room_invalid (error, "limit must be 1 to %d.", HQ_CHAT_PAGE);
    return NULL;
  }
  if (before < 0) {
    hq_room_invalid (error, "before must be a message index (1 or more).");
    return NULL;
  }
  /* One more than asked tells whether anything lies further back. */
  rows = hq_store_chat_history (
      p->room->rooms->store, p->room->rec.sid, before, limit + 1, &local);
  if (rows == NULL) {
    hq_room_store_failed (local, error);
    return NULL;
  }
  *has_more = rows->len > limit;
  if (*has_more)
    g_ptr_array_remove_index (rows, 0);
  arr = json_array_new ();
  for (guint i = 0; i < rows->len; i++)
    json_array_add_object_element (
        arr, hq_chat_to_json (g_ptr_array_index (rows, i)));
  return arr;
}
