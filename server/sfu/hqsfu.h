/* The SFU: media forwarding for group and group-small rooms.
 *
 * Each participant has two transports with the server (docs/protocol.md,
 * "Media"): *publish*, where the client offers its tracks and the server
 * answers, and *subscribe*, where the server offers every other
 * participant's tracks and re-offers as they come and go.  Packets are
 * forwarded without decoding: SSRC, payload type, sequence number and
 * timestamp are rewritten per subscriber so each sees continuous streams.
 *
 * Threads: the control plane (rooms, signalling) calls this API on the main
 * context.  Each room lives on one media worker (hqworkers.h), where all
 * its transports run; every call here is handed to that worker, and what
 * the SFU has to say (answers, offers, candidates, dominant speaker,
 * network quality, errors) comes back on the main context through the
 * room's send callback.  No lock is taken on the media path.
 */
#ifndef __HQ_SFU_H__
#define __HQ_SFU_H__

#include <hq/hqbwprofile.h>
#include "hqsfutypes.h"

G_BEGIN_DECLS

HqSfu *hq_sfu_new (const HqSfuConfig *config, GError **error);
void hq_sfu_free (HqSfu *sfu);

/* Media for room @room_sid, on the least busy worker. */
HqSfuRoom *hq_sfu_room_new (
    HqSfu *sfu, const gchar *room_sid, HqSfuSendFunc send, gpointer user_data);
/* Closes every transport of the room; @send is not called any more. */
void hq_sfu_room_free (HqSfuRoom *room);

void hq_sfu_room_add_participant (
    HqSfuRoom *room, const gchar *sid, const gchar *identity);
void hq_sfu_room_remove_participant (HqSfuRoom *room, const gchar *sid);
/* A hidden participant (the server's recorder): it is offered only the
 * tracks hq_sfu_room_set_selection names, is no speaker, and appears in
 * nobody's network quality reports.  It publishes nothing, so nobody
 * subscribes to it.  Removed with hq_sfu_room_remove_participant. */
void hq_sfu_room_add_hidden (
    HqSfuRoom *room, const gchar *sid, const gchar *identity);
/* The tracks hidden participant @sid receives from now on (NULL-terminated;
 * a track not yet published is taken once it is).  Others are withdrawn
 * with a re-offer. */
void hq_sfu_room_set_selection (
    HqSfuRoom *room, const gchar *sid, const gchar *const *track_sids);

/* What ordinary participant @sid receives from now on: the tracks its
 * subscribe rules select (@rules: checked, see hqrules.h; NULL or the
 * default: every track).  Others are withdrawn with a re-offer. */
void hq_sfu_room_set_subscribe_rules (
    HqSfuRoom *room, const gchar *sid, JsonArray *rules);
/* Participant @sid resumed on a new connection: what it may have missed
 * while it had none (the outstanding subscribe_offer) is sent again. */
void hq_sfu_room_resume (HqSfuRoom *room, const gchar *sid);

/* Track metadata from track_publish; the media arrives once a
 * publish_offer maps an m-line to the track. */
void hq_sfu_room_add_track (HqSfuRoom *room, const gchar *participant_sid,
    const gchar *track_sid, const gchar *name, const gchar *kind,
    HqSfuPriority priority);
void hq_sfu_room_remove_track (HqSfuRoom *room, const gchar *track_sid);
/* A disabled track (muted by its publisher or a host) is not forwarded. */
void hq_sfu_room_set_track_enabled (
    HqSfuRoom *room, const gchar *track_sid, gboolean enabled);
/* Takes effect at the next REMB round and in later subscribe offers. */
void hq_sfu_room_set_track_priority (
    HqSfuRoom *room, const gchar *track_sid, HqSfuPriority priority);
/* Subscriber @sid's own priority for @track_sid (an HqSfuPriority, or -1
 * for the publisher's again): used instead of the track's when @sid's
 * bandwidth is shared between the tracks it receives; kept across
 * re-offers until the participant leaves. */
void hq_sfu_room_set_subscriber_priority (
    HqSfuRoom *room, const gchar *sid, const gchar *track_sid, gint priority);

/* Subscriber @sid's bandwidth profile (the whole profile in effect) and
 * track hints (docs/protocol.md, "Simulcast and bandwidth profiles"):
 * copied, they take effect on the worker at once. */
void hq_sfu_room_set_bandwidth_profile (
    HqSfuRoom *room, const gchar *sid, const HqBandwidthProfile *profile);
void hq_sfu_room_set_track_hints (
    HqSfuRoom *room, const gchar *sid, const HqTrackHint *hints, guint n);
/* The layers of the room's video tracks and what each subscriber gets, as
 * the worker last saw them (once a second), as JSON text (new; NULL until
 * the first): {"tracks": {sid: [layer...]}, "subscriptions": {participant
 * sid: {track sid: {layer, switched_off, switch_off_reason}}}}. */
gchar *hq_sfu_room_get_layers (HqSfuRoom *room);

/* A media message from a participant; replies and errors come back through
 * the send callback.  @msg is borrowed. */
void hq_sfu_room_handle (
    HqSfuRoom *room, const gchar *participant_sid, JsonObject *msg);

/* RTP packets forwarded in this room so far (any thread). */
guint64 hq_sfu_room_get_forwarded (HqSfuRoom *room);

/* Reads @room's counters (any thread). */
void hq_sfu_room_get_counters (HqSfuRoom *room, HqSfuRoomCounters *out);

G_END_DECLS

#endif /* __HQ_SFU_H__ */
