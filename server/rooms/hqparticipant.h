/* Participants: how one enters a room (join, the lobby, resume, the
 * hidden recorder, chat-only members), what it does there (chat, tracks,
 * subscriptions, data, relays), what hosts do to others, and how it
 * leaves.  The middle layer of the rooms folder (hqroomcore.h draws the
 * three): it uses the room core and never calls hqroom.c. */
#ifndef __HQ_PARTICIPANT_H__
#define __HQ_PARTICIPANT_H__

#include "hqroomcore.h"

G_BEGIN_DECLS

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

G_END_DECLS

#endif /* __HQ_PARTICIPANT_H__ */
