/* Bandwidth profiles and track hints of a participant (see
 * hqparticipant-profile.h).  The main context keeps the profile (so a
 * reply says the whole profile in effect, and it survives a resume); the
 * SFU gets each change as a typed command carrying plain data, never the
 * request's JSON (hqsfucmd.h). */
#include "hqparticipant-profile.h"
#include "hqparticipant-private.h"
#include "hqroomerror.h"
#include "hqsfucmd.h"

#include <hq/hqbwprofile.h>

static gboolean
group_room (HqParticipant *p, GError **error)
{
  if (p->room->media != NULL)
    return TRUE;
  hq_room_invalid (error,
      "A %s room carries media peer to peer: the server forwards nothing to "
      "profile.",
      p->room->rec.type);
  return FALSE;
}

JsonObject *
hq_participant_set_bandwidth_profile (
    HqParticipant *p, JsonObject *video, GError **error)
{
  HqBandwidthProfile profile;
  GError *local = NULL;

  if (!group_room (p, error))
    return NULL;
  if (!p->has_bw_profile)
    hq_bandwidth_profile_init (&p->bw_profile);
  profile = p->bw_profile;
  if (!hq_bandwidth_profile_read (video, &profile, &local)) {
    hq_room_invalid (error, "%s", local->message);
    g_error_free (local);
    return NULL;
  }
  p->bw_profile = profile;
  p->has_bw_profile = TRUE;
  hq_sfu_room_set_bandwidth_profile (p->room->media, p->rec.sid, &profile);
  return hq_bandwidth_profile_to_json (&profile);
}

JsonObject *
hq_room_media_layers (HqRoom *room)
{
  g_autofree gchar *text =
      room->media ? hq_sfu_room_get_layers (room->media) : NULL;

  return text ? hq_sfu_json_object_from_text (text) : NULL;
}

gboolean
hq_participant_check_bandwidth_profile (JsonObject *video, GError **error)
{
  HqBandwidthProfile profile;
  GError *local = NULL;

  hq_bandwidth_profile_init (&profile);
  if (hq_bandwidth_profile_read (video, &profile, &local))
    return TRUE;
  hq_room_invalid (error, "bandwidth_profile.%s", local->message);
  g_error_free (local);
  return FALSE;
}

/* Whether a participant of @p's room other than @p publishes @sid. */
static gboolean
others_track (HqParticipant *p, const gchar *sid)
{
  HqRoom *room = p->room;

  for (guint i = 0; i < room->participants->len; i++) {
    HqParticipant *o = g_ptr_array_index (room->participants, i);
    HqTrackRecord *t;

    if (o == p || o->waiting)
      continue;
    t = hq_participant_find_track (o, sid, NULL);
    if (t != NULL && t->published)
      return TRUE;
  }
  return FALSE;
}

gboolean
hq_participant_set_track_hints (
    HqParticipant *p, JsonArray *hints, GError **error)
{
  g_autoptr (GArray) read = NULL;
  GError *local = NULL;

  if (!group_room (p, error))
    return FALSE;
  read = hq_track_hints_read (hints, &local);
  if (read == NULL) {
    hq_room_invalid (error, "%s", local->message);
    g_error_free (local);
    return FALSE;
  }
  for (guint i = 0; i < read->len; i++) {
    const HqTrackHint *h = &g_array_index (read, HqTrackHint, i);
    if (!others_track (p, h->track_sid)) {
      g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_NOT_FOUND,
          "hints[%u]: no other participant publishes a track %s in this "
          "room.",
          i, h->track_sid);
      return FALSE;
    }
  }
  hq_sfu_room_set_track_hints (
      p->room->media, p->rec.sid, (const HqTrackHint *)read->data, read->len);
  return TRUE;
}
