/* The room core: what rooms and participants are made of, and what both
 * layers above it use.  The rooms folder has three layers, each including
 * only the ones below it:
 *
 *   hqroom.h/.c            rooms: create, restore, drain, kick, complete
 *      |                   (it makes and ends participants)
 *   hqparticipant.h/-*.c   participants: join, lobby, chat, tracks,
 *      |                   moderation, leave
 *   hqroomcore.h/-*.c      the room state both share: the types, sending
 *                          to one participant or the room, the audit log
 *                          and status callbacks, idle timers, observers
 *
 * The core never calls up: when an idle countdown runs out it ends the
 * room through HqRooms.complete (hq_room_complete, set by hq_rooms_new),
 * and what follows rooms from outside (recordings) hears of them through
 * an HqRoomObserver.  Servers include hqroom.h, which includes the other
 * two; the structures themselves are in hqroomcore-private.h. */
#ifndef __HQ_ROOM_CORE_H__
#define __HQ_ROOM_CORE_H__

#include <json-glib/json-glib.h>
#include <hq/hqtoken.h>
#include "hqcallback.h"
#include <hq/hqprotocol.h>
#include "hqconfig.h"
#include "hqroomerror.h"
#include "hqstore.h"
#include "hqsfu.h"

G_BEGIN_DECLS

typedef struct _HqRooms HqRooms;
typedef struct _HqRoom HqRoom;
typedef struct _HqParticipant HqParticipant;

/**
 * HqPeerOps:
 * @send: deliver one protocol message (borrowed) to the participant.
 * @close: end the participant's connection with a WebSocket close @code;
 *   the room forgets the peer before calling it and never uses it again.
 */
typedef struct
{
  void (*send) (gpointer peer, JsonObject *msg);
  void (*close) (gpointer peer, gushort code, const gchar *reason);
} HqPeerOps;

/* WebSocket close codes: HqCloseCode (hqprotocol.h). */

/* Records @event in the audit log and, when it is one, as a status
 * callback.  @p, @t, @actor and @detail (taken) may be NULL. */
void hq_room_event (HqRoom *room, const gchar *event, HqParticipant *p,
    const HqTrackRecord *t, HqParticipant *actor, JsonObject *detail);
/* Writes @event about @identity (may be NULL) in room @room_sid's audit
 * log, whether or not the room is in progress; @detail (taken) may be
 * NULL. */
void hq_rooms_audit (HqRooms *rooms, const gchar *room_sid, const gchar *event,
    const gchar *identity, JsonObject *detail);

/* Sends @msg (taken) to every admitted participant but @except (NULL). */
void hq_room_broadcast (HqRoom *room, HqParticipant *except, JsonObject *msg);
/* Posts a status callback of room @room_sid (in progress or not) for
 * @event, with @fields (borrowed, name -> value) added to the room's. */
void hq_rooms_post_callback (HqRooms *rooms, const gchar *room_sid,
    const gchar *event, GHashTable *fields);

/* Unix time in ms. */
gint64 hq_now_ms (void);

/* REST representations (snake_case), also used by the protocol. */
JsonObject *hq_room_record_to_json (const HqRoomRecord *rec, const gchar *base);
JsonObject *hq_participant_record_to_json (
    const HqParticipantRecord *rec, const gchar *base);
/* A track as the protocol shows it: sid, name, kind, enabled. */
JsonObject *hq_track_record_to_json (const HqTrackRecord *rec);
gchar *hq_time_iso (gint64 ms);

/* --- following rooms ---
 *
 * What follows rooms without being part of them (the recording supervisor,
 * hqrecordings.h) is told what happens in them through an HqRoomObserver,
 * and serves what the rooms need from it through HqRoomRecording: the
 * rooms never call it by name. */

/**
 * HqRoomObserver:
 * @room_started: a room is in progress: created, or restored at start (an
 *   observer added later hears of every room already in progress).
 * @participant_joined: @p was admitted (not while it waits in the lobby).
 * @participant_left: @p is gone for good (its record says why).
 * @track_published: @p published @t.
 * @track_unpublished: @p unpublished @t (@t->published is FALSE; it is
 *   freed after the call).
 * @recorder_joined: the room's hidden recorder connected as @sid.
 * @recorder_left: the room's hidden recorder lost its connection.
 * @room_completed: the room ends; nothing about it follows.  Its
 *   participants are still there, told, and leave next.
 *
 * Each is called on the main context once the room made the change, with
 * @data as given to hq_rooms_add_observer; any may be NULL.
 */
typedef struct
{
  void (*room_started) (HqRoom *room, gpointer data);
  void (*participant_joined) (
      HqRoom *room, const HqParticipantRecord *p, gpointer data);
  void (*participant_left) (
      HqRoom *room, const HqParticipantRecord *p, gpointer data);
  void (*track_published) (HqRoom *room, const HqParticipantRecord *p,
      const HqTrackRecord *t, gpointer data);
  void (*track_unpublished) (HqRoom *room, const HqParticipantRecord *p,
      const HqTrackRecord *t, gpointer data);
  void (*recorder_joined) (HqRoom *room, const gchar *sid, gpointer data);
  void (*recorder_left) (HqRoom *room, gpointer data);
  void (*room_completed) (HqRoom *room, gpointer data);
} HqRoomObserver;

/* @observer (static) follows every room from now on; the rooms already in
 * progress reach its room_started at once. */
void hq_rooms_add_observer (
    HqRooms *rooms, const HqRoomObserver *observer, gpointer data);
void hq_rooms_remove_observer (
    HqRooms *rooms, const HqRoomObserver *observer, gpointer data);

/**
 * HqRoomRecording:
 * @is_recorder: whether @claims are the credential of @room's current
 *   recorder, which joins hidden.
 * @state_json: whether @room records, as `joined` tells it (a new node).
 * @set_rules: a host's recording request (recording_start,
 *   recording_stop): @room's recording rules become @rules (borrowed);
 *   returns them as REST shows them (new), or NULL with @error.
 *
 * What a room asks of whoever records it (hqrecordings.h); every member is
 * set.
 */
typedef struct
{
  gboolean (*is_recorder) (
      HqRoom *room, const HqTokenClaims *claims, gpointer data);
  JsonNode *(*state_json) (HqRoom *room, gpointer data);
  JsonObject *(*set_rules) (HqRoom *room, JsonArray *rules,
      const HqParticipantRecord *host, gpointer data, GError **error);
} HqRoomRecording;

/* Who records the rooms (NULL: nobody; then no recorder is admitted,
 * `joined` says "recording": null and a host's request fails). */
void hq_rooms_set_recording (
    HqRooms *rooms, const HqRoomRecording *recording, gpointer data);

/* What the observers read: the room's SFU (NULL in rooms whose media goes
 * peer to peer), and its admitted, connected participants' published
 * tracks, in join order. */
HqSfuRoom *hq_room_get_media (HqRoom *room);
typedef void (*HqRoomTrackFunc) (
    const HqParticipantRecord *p, const HqTrackRecord *t, gpointer data);
void hq_room_foreach_track (HqRoom *room, HqRoomTrackFunc func, gpointer data);
/* The record of participant @sid of @room (connected or reconnecting), or
 * NULL. */
const HqParticipantRecord *hq_room_get_participant_record (
    HqRoom *room, const gchar *sid);

G_END_DECLS

#endif /* __HQ_ROOM_CORE_H__ */
