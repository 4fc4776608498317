/* The SFU's edge between threads, worker side: the room's reference
 * count, and what the SFU says to participants, handed to the main
 * context as JSON text (the ownership rule is in hqsfucmd.h). */
#include "hqsfuedge.h"
#include "hqsfucmd.h"
#include <hq/hqprotocol.h>

/* --- room lifetime and the two directions between threads --- */

HqSfuRoom *
hq_sfu_room_ref (HqSfuRoom *room)
{
  g_atomic_int_inc (&room->refcount);
  return room;
}

void
hq_sfu_room_unref (HqSfuRoom *room)
{
  if (!g_atomic_int_dec_and_test (&room->refcount))
    return;
  g_hash_table_unref (room->audio_counts);
  g_mutex_clear (&room->audio_lock);
  g_mutex_clear (&room->layers_lock);
  g_free (room->layers_json);
  g_free (room->forwarded_by_worker);
  g_free (room->sid);
  g_free (room);
}

/* A message from a worker to a participant's signalling connection, as
 * JSON text: json-glib's reference counts are not atomic, so the main
 * thread parses its own copy rather than share the worker's object. */
typedef struct
{
  HqSfuRoom *room;
  gchar *participant_sid;
  gchar *text;
} Outgoing;

static gboolean
deliver (gpointer data)
{
  Outgoing *o = data;
  g_autoptr (JsonObject) msg = NULL;

  if (!o->room->alive)
    return G_SOURCE_REMOVE;
  /* Never NULL: json-glib wrote the text. */
  msg = hq_sfu_json_object_from_text (o->text);
  if (msg)
    o->room->send (o->room->user_data, o->participant_sid, msg);
  return G_SOURCE_REMOVE;
}

static void
outgoing_free (gpointer data)
{
  Outgoing *o = data;

  hq_sfu_room_unref (o->room);
  g_free (o->participant_sid);
  g_free (o->text);
  g_free (o);
}

void
hq_sfu_room_send (
    HqSfuRoom *room, const gchar *participant_sid, JsonObject *msg)
{
  Outgoing *o = g_new0 (Outgoing, 1);

  o->room = hq_sfu_room_ref (room);
  o->participant_sid = g_strdup (participant_sid);
  o->text = hq_sfu_json_object_to_text (msg);
  g_main_context_invoke_full (
      room->sfu->main_context, G_PRIORITY_DEFAULT, deliver, o, outgoing_free);
}

void
hq_sfu_send_error (HqSfuRoom *room, const gchar *sid, const gchar *id,
    HqProtocolError code, const gchar *message)
{
  JsonObject *msg = hq_protocol_error_new (id, code, message);

  hq_sfu_room_send (room, sid, msg);
  json_object_unref (msg);
}

/* {"type": "ok", "id": @id}: a request that has nothing else to say. */
void
hq_sfu_send_ok (HqSfuRoom *room, const gchar *sid, const gchar *id)
{
  JsonObject *msg = hq_protocol_message_new (HQ_MESSAGE_OK, NULL);

  if (id)
    json_object_set_string_member (msg, "id", id);
  hq_sfu_room_send (room, sid, msg);
  json_object_unref (msg);
}
