/* Participants, subscriptions and subscribe offers (hqsfusubscribe.c). */
#ifndef __HQSFUSUBSCRIBE_H__
#define __HQSFUSUBSCRIBE_H__

#include "hqsfustate.h"

G_BEGIN_DECLS

HqSfuParticipant *hq_sfu_find_participant (
    HqSfuRoomMedia *media, const gchar *sid);
void hq_sfu_add_participant (HqSfuRoomMedia *media, const gchar *sid,
    const gchar *identity, gboolean hidden);
/* The destroy function of media->participants. */
void hq_sfu_participant_free (gpointer data);
/* A transport of @p (hq_sfu_make_transport()) whose state changes this
 * layer follows: keyframes when it connects, restarts when it fails. */
HqTransport *hq_sfu_participant_transport (
    HqSfuParticipant *p, gboolean controlling, GError **error);
/* Subscribes @p to @track if it should receive it (and it is ready). */
void hq_sfu_subscribe (HqSfuParticipant *p, HqSfuTrack *track);
/* Offers @p what changed, gathered for a moment. */
void hq_sfu_subscribe_renegotiate (HqSfuParticipant *p);
/* Removes @track and everyone's subscription to it. */
void hq_sfu_remove_track (HqSfuTrack *track);
/* Each video subscription in @subs waits for a keyframe, asked for. */
void hq_sfu_restart_video (GPtrArray *subs);
void hq_sfu_set_selection (HqSfuParticipant *p, const gchar *const *track_sids);
void hq_sfu_set_rules (HqSfuParticipant *p, const gchar *text);
void hq_sfu_resume (HqSfuParticipant *p);
void hq_sfu_handle_subscribe_answer (
    HqSfuParticipant *p, JsonObject *msg, const gchar *id);
void hq_sfu_handle_ice_restart (
    HqSfuParticipant *p, JsonObject *msg, const gchar *id);

G_END_DECLS

#endif /* __HQSFUSUBSCRIBE_H__ */
