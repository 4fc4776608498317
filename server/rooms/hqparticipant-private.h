/* What the participant files (hqparticipant.c, hqparticipant-chat.c,
 * hqparticipant-tracks.c, hqparticipant-moderation.c) share, and what
 * hqroom.c, the layer above them, does to participants: ban, disconnect
 * and free them when a room is kicked from or ends.  Nobody outside the
 * rooms folder sees it. */
#ifndef __HQ_PARTICIPANT_PRIVATE_H__
#define __HQ_PARTICIPANT_PRIVATE_H__

#include "hqparticipant.h"
#include "hqroomcore-private.h"

G_BEGIN_DECLS

/* Stores that @p's identity may not join the room again (@reason:
 * removed, kicked, denied) and records it in the audit log.  Fails, with
 * nothing changed, when the store cannot take it. */
gboolean hq_participant_ban (HqParticipant *p, const gchar *reason,
    HqParticipant *actor, GError **error);

/* Ends @p's membership for @reason, closing its connection with @code,
 * and frees it. */
void hq_participant_disconnect (
    HqParticipant *p, const gchar *reason, gushort code, HqParticipant *actor);
void hq_participant_free (HqParticipant *p);

/* {sid, identity, name} of @p (new). */
JsonObject *hq_participant_ref_json (HqParticipant *p);
/* A chat message as the protocol shows it (new). */
JsonObject *hq_chat_to_json (const HqChatRecord *c);
/* @p's track @sid, or NULL with NOT_FOUND. */
HqTrackRecord *hq_participant_find_track (
    HqParticipant *p, const gchar *sid, GError **error);
/* Enables or disables @t (stored, told to the SFU and everyone). */
gboolean hq_participant_set_enabled (HqParticipant *p, HqTrackRecord *t,
    gboolean enabled, HqParticipant *actor, GError **error);
/* FULL when @room has as many participants as it takes. */
gboolean hq_room_check_open (HqRoom *room, GError **error);
/* Makes @p (new, or admitted from the lobby) a connected participant. */
gboolean hq_participant_connect (
    HqParticipant *p, const gchar *id, HqParticipant *actor, GError **error);
/* Tells the hosts who waits in the lobby now. */
void hq_room_announce_lobby (HqRoom *room);

G_END_DECLS

#endif /* __HQ_PARTICIPANT_PRIVATE_H__ */
