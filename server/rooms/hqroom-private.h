/* What hqroom.c, hqroom-events.c and hqparticipant.c share and nobody
 * else sees: the room and participant structures and the helpers they
 * use.  Everything here runs on the main context. */
#ifndef __HQ_ROOM_PRIVATE_H__
#define __HQ_ROOM_PRIVATE_H__

#include "hqroom.h"
#include "hqsfu.h"

G_BEGIN_DECLS

/* An observer and its data, as hq_rooms_add_observer was given them. */
typedef struct
{
  const HqRoomObserver *observer;
  gpointer data;
} HqRoomWatch;

struct _HqRooms
{
  HqConfig *config;
  HqStore *store;
  HqCallbacks *callbacks;
  GHashTable *live; /* sid -> HqRoom */
  GHashTable *by_name; /* unique name -> HqRoom (borrowed from live) */
  HqSfu *sfu; /* made when the first SFU room starts */
  GArray *observers; /* HqRoomWatch, in the order they were added */
  const HqRoomRecording *recording; /* NULL: nobody records */
  gpointer recording_data;
  gint64 drain_deadline_ms; /* 0: not draining */
};

struct _HqRoom
{
  HqRooms *rooms;
  HqRoomRecord rec;
  gboolean e2ee; /* marked end-to-end encrypted in the store */
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
  /* Its bandwidth profile (hqparticipant-profile.c); kept across a
   * resume.  Hints live in the SFU, which acts on them. */
  HqBandwidthProfile bw_profile;
  gboolean has_bw_profile;
  /* Data track messages in the current second (hq_participant_send_data's
   * rate limit). */
  gint64 data_second;
  guint data_messages;
  gsize data_bytes;
  /* The participant's transports live in room->media, keyed by its sid;
   * connect_participant() adds it there, hq_participant_disconnect()
   * removes it. */
};

void hq_clear_source (guint *id);
guint hq_timeout_ms (gint64 ms, GSourceFunc fn, gpointer data);

/* Sends @msg (borrowed) to @p when it has a connection. */
void hq_participant_send (HqParticipant *p, JsonObject *msg);
/* Forgets @p's peer, then closes it. */
void hq_participant_close_peer (
    HqParticipant *p, gushort code, const gchar *reason);

/* The fields every status callback of room @rec carries, for @event at
 * @ts; takes the room's next callback sequence number (and stores it).
 * Returns a new table (field -> g_free'd value). */
GHashTable *hq_room_callback_fields (
    HqRooms *rooms, HqRoomRecord *rec, const gchar *event, gint64 ts);

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

/* Tells the observers (hqroom.h, HqRoomObserver; hqroom-events.c). */
void hq_room_emit_started (HqRoom *room);
void hq_room_emit_joined (HqParticipant *p);
void hq_room_emit_left (HqParticipant *p);
void hq_room_emit_track (
    HqParticipant *p, const HqTrackRecord *t, gboolean published);
void hq_room_emit_recorder (HqRoom *room, const gchar *sid);
void hq_room_emit_completed (HqRoom *room);
/* What the room asks of whoever records it (HqRoomRecording). */
gboolean hq_room_is_recorder (HqRoom *room, const HqTokenClaims *claims);
JsonNode *hq_room_recording_state (HqRoom *room);
JsonObject *hq_room_set_recording_rules (
    HqRoom *room, JsonArray *rules, HqParticipant *host, GError **error);

/* Ends @p's membership for @reason, closing its connection with @code,
 * and frees it. */
void hq_participant_disconnect (
    HqParticipant *p, const gchar *reason, gushort code, HqParticipant *actor);
void hq_participant_free (HqParticipant *p);

G_END_DECLS

#endif /* __HQ_ROOM_PRIVATE_H__ */
