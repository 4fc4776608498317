/* What happens in a room, for whoever follows it: hqroom.c and
 * hqparticipant.c say it here (hq_room_emit_*), and ask here what they
 * need from the recordings, instead of calling the recording supervisor
 * themselves.  For now this still calls hqrecordings.h by name. */
#include "hqroom-private.h"

void
hq_room_emit_started (HqRoom *room)
{
  hq_recordings_room_started (room->rooms->recordings, room);
}

void
hq_room_emit_joined (HqParticipant *p)
{
}

void
hq_room_emit_left (HqParticipant *p)
{
  hq_recordings_room_changed (p->room->rooms->recordings, p->room);
}

void
hq_room_emit_track (
    HqParticipant *p, const HqTrackRecord *t, gboolean published)
{
  hq_recordings_room_changed (p->room->rooms->recordings, p->room);
}

void
hq_room_emit_recorder (HqRoom *room, const gchar *sid)
{
  if (sid)
    hq_recordings_recorder_joined (room->rooms->recordings, room, sid);
  else
    hq_recordings_recorder_left (room->rooms->recordings, room);
}

void
hq_room_emit_completed (HqRoom *room)
{
  hq_recordings_room_ended (room->rooms->recordings, room);
}

gboolean
hq_room_is_recorder (HqRoom *room, const HqTokenClaims *claims)
{
  return hq_recordings_is_recorder (room->rooms->recordings, room, claims);
}

JsonNode *
hq_room_recording_state (HqRoom *room)
{
  return hq_recordings_state_json (room->rooms->recordings, room);
}

JsonObject *
hq_room_set_recording_rules (
    HqRoom *room, JsonArray *rules, HqParticipant *host, GError **error)
{
  HqRecordings *recs = room->rooms->recordings;

  if (!hq_recordings_set_rules (recs, room, rules, host, error))
    return NULL;
  return hq_recordings_get_rules (recs, room, room->rec.sid);
}
