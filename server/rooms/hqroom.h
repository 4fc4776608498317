/* Rooms, the control plane's model of who is meeting where.
 *
 * HqRooms owns every room in progress; a room owns its participants
 * (connected, reconnecting or waiting in the lobby) and they own their
 * tracks' metadata.  Every state change is written to the store first,
 * then logged in the room's audit log, sent as a status callback and
 * announced to the participants as protocol messages (docs/protocol.md).
 * Completed rooms live only in the store.
 *
 * A participant talks to the world through an HqPeer: the signalling
 * connection implements it today; the SFU will attach its transports to the
 * same participant.  Everything runs on the main GMainContext.
 */
#ifndef __HQ_ROOM_H__
#define __HQ_ROOM_H__

#include <json-glib/json-glib.h>
#include <hq/hqtoken.h>
#include "hqcallback.h"
#include <hq/hqprotocol.h>
#include "hqconfig.h"
#include "hqroomerror.h"
#include "hqstore.h"
#include "hqsfu.h"

G_BEGIN_DECLS

/* The protocol error code for an HQ_ROOM_ERROR ("room_full", ...). */
const gchar *hq_room_error_code (gint code);

/* Longest chat message body, bytes. */
#define HQ_CHAT_MAX_BODY 4096
/* Messages `joined` carries, and the most one chat_history page has. */
#define HQ_CHAT_PAGE 50
/* Most guests one lobby holds, and most tracks one participant publishes:
 * bounds on what one token holder can make the server keep. */
#define HQ_LOBBY_MAX 50
#define HQ_TRACKS_MAX 32
/* Most chat-only connections (chat_join) one room's chat takes. */
#define HQ_CHAT_MEMBERS_MAX 100

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

/**
 * HqRoomParams:
 *
 * What POST /v1/Rooms asks for.  Zero fields take the defaults.
 */
typedef struct
{
  const gchar *unique_name; /* NULL: the sid */
  const gchar *type; /* NULL: the server's default */
  gint max_participants; /* 0: the type's cap */
  const gchar *status_callback;
  gint empty_room_timeout; /* minutes, 1..60; 0: 5 */
  gint unused_room_timeout; /* minutes, 1..60; 0: 5 */
  gint64 max_participant_duration; /* seconds, 600..86400; 0: 14400 */
  gboolean record_participants_on_connect;
  gboolean waiting_room;
} HqRoomParams;

/* Restores the rooms @store has in progress (their participants are
 * disconnected: their connections died with the previous process). */
HqRooms *hq_rooms_new (HqConfig *config, HqStore *store, GError **error);
void hq_rooms_free (HqRooms *rooms);
HqStore *hq_rooms_get_store (HqRooms *rooms);
HqConfig *hq_rooms_get_config (HqRooms *rooms);
HqCallbacks *hq_rooms_get_callbacks (HqRooms *rooms);
/* Appends the rooms' gauges (rooms, participants, published tracks) in
 * Prometheus' text format (docs/metrics.md). */
void hq_rooms_metrics (HqRooms *rooms, GString *out);

/* Stopping gracefully (docs/server.md, "Stopping"): from now on no new
 * participant joins (resumes still do), and everyone in a room hears
 * `server_draining` with the time the server stops, @deadline_ms (Unix
 * ms). */
void hq_rooms_drain (HqRooms *rooms, gint64 deadline_ms);
gboolean hq_rooms_is_draining (HqRooms *rooms);
/* Participants in rooms in progress: connected, reconnecting or waiting
 * (not the recorder, not chat-only members). */
guint hq_rooms_count_participants (HqRooms *rooms);

HqRoom *hq_rooms_create (
    HqRooms *rooms, const HqRoomParams *params, GError **error);
/* The room in progress with this sid or unique name, or NULL. */
HqRoom *hq_rooms_lookup (HqRooms *rooms, const gchar *sid_or_name);

const HqRoomRecord *hq_room_get_record (HqRoom *room);
/* Ends the room: everyone is told and disconnected, and @room is freed. */
void hq_room_complete (HqRoom *room, const gchar *reason);
/* Disconnects a participant by REST (Status=disconnected); its identity
 * is banned from the room like a host's remove. */
gboolean hq_room_kick (
    HqRoom *room, const gchar *participant_sid, GError **error);

/* Removal sticks: an identity removed by a host, disconnected by REST or
 * denied in the lobby is banned from the room (stored, so it survives a
 * restart); hq_room_join refuses it with BANNED.  hq_room_unban lifts the
 * ban (REST, or a host's admit by identity: @actor); NOT_FOUND when there
 * is none. */
gboolean hq_room_unban (
    HqRoom *room, const gchar *identity, HqParticipant *actor, GError **error);
/* The room's bans as REST shows them (new array). */
JsonArray *hq_room_list_bans (HqRoom *room, GError **error);

/* Joins @claims' identity to @room with @peer.  On success the room has
 * already sent `joined` (or `waiting`, in a waiting room) with
 * @request_id.  A valid @resume_token resumes the participant it was given
 * to; otherwise an earlier participant with the same identity is replaced.
 * @rules (transfer full, or NULL): subscribe rules in effect from the
 * first subscribe offer on (ignored for the recorder and in rooms without
 * an SFU). */
HqParticipant *hq_room_join (HqRoom *room, const HqTokenClaims *claims,
    const gchar *resume_token, JsonArray *rules, const HqPeerOps *ops,
    gpointer peer, const gchar *request_id, GError **error);

/* Joins @claims' identity to @room's chat only (docs/protocol.md,
 * "Chat-only connections"): a member that is not a participant (not
 * announced, not listed, not counted against MaxParticipants), hears only
 * the room's chat and may only chat.  The room has sent `chat_joined`
 * with @request_id on success.  The token must grant chat (grants.chat). */
HqParticipant *hq_room_chat_join (HqRoom *room, const HqTokenClaims *claims,
    const HqPeerOps *ops, gpointer peer, const gchar *request_id,
    GError **error);
/* Whether @identity is in @room's chat now: an admitted participant or a
 * chat-only member. */
gboolean hq_room_in_chat (HqRoom *room, const gchar *identity);
/* Writes @event about @identity (may be NULL) in room @room_sid's audit
 * log, whether or not the room is in progress; @detail (taken) may be
 * NULL. */
void hq_rooms_audit (HqRooms *rooms, const gchar *room_sid, const gchar *event,
    const gchar *identity, JsonObject *detail);

const gchar *hq_participant_get_sid (HqParticipant *p);
/* Whether @p joined by chat_join (it may only chat). */
gboolean hq_participant_is_chat_only (HqParticipant *p);
gboolean hq_participant_is_waiting (HqParticipant *p);
/* The participant said goodbye: disconnected at once. */
void hq_participant_leave (HqParticipant *p);
/* The connection dropped: the participant may resume within the grace
 * period, else is disconnected.  The peer is forgotten. */
void hq_participant_connection_lost (HqParticipant *p);

/* Stores the message and broadcasts it; returns it as the sender's
 * acknowledgement (a new object), only once it is committed.  @media_sid
 * (or NULL): an attachment @p uploaded to this room (hqchatmedia.h),
 * whose metadata the message then carries; @body may be NULL with one. */
JsonObject *hq_participant_chat (HqParticipant *p, const gchar *body,
    JsonObject *attributes, const gchar *media_sid, GError **error);
/* A short-lived download link for attachment @media_sid of @p's room:
 * {"media_sid", "url" (a path on this server), "expires"} (new). */
JsonObject *hq_participant_chat_media_url (
    HqParticipant *p, const gchar *media_sid, GError **error);
/* Up to @limit messages before index @before (0: newest), oldest first. */
JsonArray *hq_participant_chat_history (HqParticipant *p, gint64 before,
    guint limit, gboolean *has_more, GError **error);

/* Track metadata; the SFU issue adds the media.  Each returns the track as
 * a protocol object (new) or NULL with @error. */
JsonObject *hq_participant_publish_track (HqParticipant *p, const gchar *name,
    const gchar *kind, gboolean enabled, const gchar *priority, GError **error);
JsonObject *hq_participant_unpublish_track (
    HqParticipant *p, const gchar *track_sid, GError **error);
JsonObject *hq_participant_set_track_enabled (
    HqParticipant *p, const gchar *track_sid, gboolean enabled, GError **error);
/* @priority: "low", "standard" or "high" (INVALID otherwise); others get
 * track_priority_changed when it changes. */
JsonObject *hq_participant_set_track_priority (HqParticipant *p,
    const gchar *track_sid, const gchar *priority, GError **error);

/* A media message for the room's SFU (docs/protocol.md, "Media"): its
 * replies come asynchronously.  Fails with INVALID when the room carries no
 * media through the server (peer-to-peer and go rooms). */
gboolean hq_participant_media (
    HqParticipant *p, JsonObject *msg, GError **error);

/* Checks subscribe rules (hqrules.h; kinds audio, video, data), naming
 * the bad rule as "@field[i]". */
gboolean hq_subscribe_rules_check (
    JsonArray *rules, const gchar *field, GError **error);
/* The participant @sid of @room in progress, or NULL. */
HqParticipant *hq_room_lookup_participant (HqRoom *room, const gchar *sid);
/* Replaces @p's subscribe rules (@rules: checked, taken; NULL: the
 * default, every track).  The SFU re-offers at once.  Fails with INVALID
 * in rooms whose media goes peer to peer, FORBIDDEN for the server's
 * recorder (it takes the recording rules). */
gboolean hq_participant_set_subscribe_rules (
    HqParticipant *p, JsonArray *rules, GError **error);
/* @p's subscribe rules as the protocol and REST show them: {"rules",
 * "participant_sid", "room_sid", "date_created", "date_updated"} (new). */
JsonObject *hq_participant_subscribe_rules_to_json (HqParticipant *p);

/* Relays a peer_offer, peer_answer or peer_candidate of a peer-to-peer or
 * go room to the participant its "to" names, as the same type with "from"
 * and "identity" of the sender.  Fails with INVALID in rooms whose media
 * goes through the server, NOT_FOUND for an unknown "to". */
gboolean hq_participant_relay (
    HqParticipant *p, JsonObject *msg, GError **error);

/* Relays an end-to-end key message (docs/e2ee.md) as e2ee_message with
 * "from" and "identity" of @p: to the admitted participant (or the
 * recorder) @to, or to everyone else when @to is NULL.  NOT_FOUND for an
 * unknown @to, TOO_BIG past HQ_PROTOCOL_MAX_E2EE bytes. */
gboolean hq_participant_e2ee_relay (
    HqParticipant *p, const gchar *to, const gchar *data, GError **error);

/* Media packets the room's SFU forwarded so far (0 when it has none). */
guint64 hq_room_forwarded_packets (HqRoom *room);
/* The room's SFU counters; all 0 when it has none. */
void hq_room_media_counters (HqRoom *room, HqSfuRoomCounters *out);

/* Host moderation; each fails with FORBIDDEN unless @host is a host. */
gboolean hq_participant_admit (
    HqParticipant *host, const gchar *target_sid, GError **error);
/* Lets a banned @identity join again (docs/protocol.md, `admit`). */
gboolean hq_participant_admit_identity (
    HqParticipant *host, const gchar *identity, GError **error);
/* @reason (NULL allowed, at most HQ_PROTOCOL_MAX_REASON bytes) is what
 * the denied or removed participant is told, after a sentence of ours. */
gboolean hq_participant_deny (HqParticipant *host, const gchar *target_sid,
    const gchar *reason, GError **error);
gboolean hq_participant_mute (HqParticipant *host, const gchar *target_sid,
    const gchar *track_sid, GError **error);
gboolean hq_participant_remove (HqParticipant *host, const gchar *target_sid,
    const gchar *reason, GError **error);
/* A host ends the room for everyone (`room_complete`): FALSE with
 * FORBIDDEN unless @host is an admitted host; else the room completes
 * (reason completed_by_host) and @host, like everyone, is gone. */
gboolean hq_participant_may_end_room (HqParticipant *host, GError **error);
void hq_participant_end_room (HqParticipant *host);

/* A host's recording request: the room's recording rules become @rules
 * (taken; NULL: record everything; an empty array: record nothing),
 * through the same path as REST's RecordingRules (hqrecordings.h).
 * Returns the rules as REST shows them (new), or NULL with @error. */
JsonObject *hq_participant_set_recording (
    HqParticipant *host, JsonArray *rules, GError **error);

/* The subscriber's own priority for another participant's track
 * (Twilio's RemoteVideoTrack.setPriority): the SFU weighs that track by it
 * when it shares @p's bandwidth (NULL: the publisher's priority again).
 * INVALID in rooms without an SFU or for a bad priority, NOT_FOUND for a
 * track that is not another participant's. */
gboolean hq_participant_set_subscriber_priority (HqParticipant *p,
    const gchar *track_sid, const gchar *priority, GError **error);

/* A message on @p's data track @track_sid (docs/protocol.md, "Data tracks
 * in group rooms"): @data is text, or base64 when @binary.  Relayed in
 * order, as `data_message`, to every admitted participant whose subscribe
 * rules select the track.  TOO_BIG over HQ_PROTOCOL_MAX_DATA bytes,
 * RATE_LIMITED over the per-second limits, INVALID for bad base64, a
 * track that is not a data track, or a room without an SFU. */
gboolean hq_participant_send_data (HqParticipant *p, const gchar *track_sid,
    const gchar *data, gboolean binary, GError **error);

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
/* A protocol message {type, id?} (new). */
JsonObject *hq_message_new (const gchar *type, const gchar *id);
/* Sends @msg (taken) to every admitted participant but @except (NULL). */
void hq_room_broadcast (HqRoom *room, HqParticipant *except, JsonObject *msg);
/* Records @event in the audit log and, when it is one, as a status
 * callback.  @p, @t, @actor and @detail (taken) may be NULL. */
void hq_room_event (HqRoom *room, const gchar *event, HqParticipant *p,
    const HqTrackRecord *t, HqParticipant *actor, JsonObject *detail);
/* Posts a status callback of room @room_sid (in progress or not) for
 * @event, with @fields (borrowed, name -> value) added to the room's. */
void hq_rooms_post_callback (HqRooms *rooms, const gchar *room_sid,
    const gchar *event, GHashTable *fields);

/* Every participant's connection closes (1001, "server shutting down");
 * the rooms stay in progress, for the next start.  hq_rooms_free does it
 * too; a server calls it first when something must finish in between
 * (recorders finishing their files). */
void hq_rooms_close_connections (HqRooms *rooms);

/* Unix time in ms. */
gint64 hq_now_ms (void);

/* REST representations (snake_case), also used by the protocol. */
JsonObject *hq_room_record_to_json (const HqRoomRecord *rec, const gchar *base);
JsonObject *hq_participant_record_to_json (
    const HqParticipantRecord *rec, const gchar *base);
/* A track as the protocol shows it: sid, name, kind, enabled. */
JsonObject *hq_track_record_to_json (const HqTrackRecord *rec);
gchar *hq_time_iso (gint64 ms);

G_END_DECLS

#endif /* __HQ_ROOM_H__ */
