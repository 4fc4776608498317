/* A participant's bandwidth profile and track hints (docs/protocol.md,
 * "Simulcast and bandwidth profiles"): the `bandwidth_profile` and
 * `track_hints` requests, checked here and handed to the SFU as typed
 * commands (hqparticipant-profile.c). */
#ifndef __HQ_PARTICIPANT_PROFILE_H__
#define __HQ_PARTICIPANT_PROFILE_H__

#include "hqroom.h"

G_BEGIN_DECLS

/* Applies the fields of @video (NULL: none) to @p's profile.  Returns the
 * whole profile in effect as the reply's `video` object (new), or NULL
 * with @error (invalid_field naming the field; in a peer-to-peer room). */
JsonObject *hq_participant_set_bandwidth_profile (
    HqParticipant *p, JsonObject *video, GError **error);
/* A `bandwidth_profile` object of `join`: checked before the join
 * (FALSE with @error), applied once @p is in (a peer-to-peer room ignores
 * it). */
gboolean hq_participant_check_bandwidth_profile (
    JsonObject *video, GError **error);
/* `track_hints`: FALSE with @error for a malformed entry (invalid_field)
 * or a track no other participant publishes (not_found). */
gboolean hq_participant_set_track_hints (
    HqParticipant *p, JsonArray *hints, GError **error);

/* What @room's SFU last said of its video tracks' layers and each
 * subscription's layer (hq_sfu_room_get_layers()), parsed (new), or NULL
 * when the room has no SFU or it said nothing yet. */
JsonObject *hq_room_media_layers (HqRoom *room);

G_END_DECLS

#endif /* __HQ_PARTICIPANT_PROFILE_H__ */
