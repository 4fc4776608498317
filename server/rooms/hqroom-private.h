/* What hqroom.c and hqparticipant.c share and nobody else sees: the room
 * and participant structures and the helpers both halves use.  Everything
 * here runs on the main context. */
#ifndef __HQ_ROOM_PRIVATE_H__
#define __HQ_ROOM_PRIVATE_H__

#include "hqroom.h"
#include "hqcallback.h"
#include "hqrecordings.h"
#include "hqsfu.h"

G_BEGIN_DECLS

struct _HqRooms
{
  HqConfig *config;
  HqStore *store;
  HqCallbacks *callbacks;
  GHashTable *live; /* sid -> HqRoom */
  GHashTable *by_name; /* unique name -> HqRoom (borrowed from live) */
  HqSfu *sfu; /* made when the first SFU room starts */
  HqRecordings *recordings;
  gint64 drain_deadline_ms; /* 0: not draining */
};

struct _HqRoom
{
  HqRooms *rooms;
  HqRoomRecord rec;
  GPtrArray *participants; /* HqParticipant, in join order */
  /* Before the first join it counts down the unused-room timeout, when
   * the room is empty the empty-room timeout; idle_reason says which. */
  guint idle_timer;
  const gchar *idle_reason;
  guint duration_timer;
  HqSfuRoom *media; /* group and group-small rooms only */
  HqParticipant *recorder; /* the hidden recorder, not in participants */
  /* Chat-only members (chat_join): in the chat, not participants; owned. */
  GPtrArray *chat_members;
};

struct _HqParticipant
{
  HqRoom *room;
  HqParticipantRecord rec;
  HqRole role;
  GPtrArray *tracks; /* HqTrackRecord */
  const HqPeerOps *ops;
  gpointer peer; /* NULL while reconnecting */
  gchar *resume_token;
  gchar *join_id; /* a waiting guest's join request id */
  gboolean waiting;
  gboolean hidden; /* the recorder: nobody is told about it */
  gboolean chat_only; /* a chat_join member: in room->chat_members */
  guint grace_timer;
  guint duration_timer;
  /* What the SFU sends it (hqrules.h); NULL: everything, Twilio's
   * default.  Kept across a resume. */
  JsonArray *subscribe_rules;
  gint64 subscribe_rules_created, subscribe_rules_updated;
  /* Data track messages in the current second (hq_participant_send_data's
   * rate limit). */
  gint64 data_second;
  guint data_messages;
  gsize data_bytes;
  /* The participant's transports live in room->media, keyed by its sid;
   * connect_participant() adds it there, hq_participant_disconnect()
   * removes it. */
};

gint64 hq_now_ms (void);
void hq_clear_source (guint *id);
guint hq_timeout_ms (gint64 ms, GSourceFunc fn, gpointer data);

/* Reports a store failure (@local, taken) as HQ_ROOM_ERROR_STORE. */
gboolean hq_room_store_failed (GError *local, GError **error);
/* Sets HQ_ROOM_ERROR_INVALID with a printf message; returns FALSE. */
gboolean hq_room_invalid (GError **error, const gchar *format, ...)
    G_GNUC_PRINTF (2, 3);

/* Sends @msg (borrowed) to @p when it has a connection. */
void hq_participant_send (HqParticipant *p, JsonObject *msg);
/* Sends @msg (taken) to every admitted participant but @except. */
void hq_room_broadcast (HqRoom *room, HqParticipant *except, JsonObject *msg);
/* Forgets @p's peer, then closes it. */
void hq_participant_close_peer (
    HqParticipant *p, gushort code, const gchar *reason);

/* Records @event in the audit log and, when it is one, as a status
 * callback.  @detail (taken) may be NULL. */
/* The fields every status callback of room @rec carries, for @event at
 * @ts; takes the room's next callback sequence number (and stores it).
 * Returns a new table (field -> g_free'd value). */
GHashTable *hq_room_callback_fields (
    HqRooms *rooms, HqRoomRecord *rec, const gchar *event, gint64 ts);
void hq_room_event (HqRoom *room, const gchar *event, HqParticipant *p,
    const HqTrackRecord *t, HqParticipant *actor, JsonObject *detail);

/* hq_room_event for an identity that has no participant in the room (a
 * refused join, a lifted ban); @detail (taken) may be NULL. */
void hq_room_event_identity (HqRoom *room, const gchar *event,
    const gchar *identity, HqParticipant *actor, JsonObject *detail);

/* Stores that @p's identity may not join the room again (@reason:
 * removed, kicked, denied) and records it in the audit log.  Fails, with
 * nothing changed, when the store cannot take it. */
gboolean hq_participant_ban (HqParticipant *p, const gchar *reason,
    HqParticipant *actor, GError **error);

guint hq_room_connected_count (HqRoom *room);
/* Starts the empty-room countdown when nobody is left. */
void hq_room_maybe_start_empty_timer (HqRoom *room);
HqParticipant *hq_room_find_participant (HqRoom *room, const gchar *sid);

/* Ends @p's membership for @reason, closing its connection with @code,
 * and frees it. */
void hq_participant_disconnect (
    HqParticipant *p, const gchar *reason, gushort code, HqParticipant *actor);
void hq_participant_free (HqParticipant *p);

G_END_DECLS

#endif /* __HQ_ROOM_PRIVATE_H__ */
