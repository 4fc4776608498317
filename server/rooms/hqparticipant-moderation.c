/* Moderation; see hqparticipant.h: what a host does to others (admit, deny,
 * mute, remove) and starting or stopping recording. */
#include "hqparticipant-private.h"
#include "hqhttp.h"
#include "hqlog.h"
#include "hqrules.h"

#include <string.h>
#include <hq/hqprotocol.h>
#include <hq/hqutil.h>

static HqParticipant *
moderation_target (HqParticipant *host, const gchar *target_sid, GError **error)
{
  HqParticipant *target;

  if (host->role != HQ_ROLE_HOST || host->waiting) {
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_FORBIDDEN,
        "Only a host may admit, deny, mute or remove participants.");
    return NULL;
  }
  target = hq_room_find_participant (host->room, target_sid);
  if (target == NULL)
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_NOT_FOUND,
        "No participant %s is in this room.", target_sid);
  return target;
}

static HqParticipant *
lobby_target (HqParticipant *host, const gchar *target_sid, GError **error)
{
  HqParticipant *target = moderation_target (host, target_sid, error);

  if (target && !target->waiting) {
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_NOT_FOUND,
        "Participant %s is not waiting in the lobby.", target_sid);
    return NULL;
  }
  return target;
}

gboolean
hq_participant_admit (
    HqParticipant *host, const gchar *target_sid, GError **error)
{
  HqParticipant *target = lobby_target (host, target_sid, error);
  g_autofree gchar *id = NULL;

  if (target == NULL || !hq_room_check_open (host->room, error))
    return FALSE;
  id = g_steal_pointer (&target->join_id);
  hq_room_event (host->room, "participant-admitted", target, NULL, host, NULL);
  if (!hq_participant_connect (target, id, host, error))
    return FALSE;
  hq_room_announce_lobby (host->room);
  return TRUE;
}

gboolean
hq_participant_admit_identity (
    HqParticipant *host, const gchar *identity, GError **error)
{
  if (host->role != HQ_ROLE_HOST || host->waiting) {
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_FORBIDDEN,
        "Only a host may admit, deny, mute or remove participants.");
    return FALSE;
  }
  return hq_room_unban (host->room, identity, host, error);
}

/* "@sentence" or "@sentence: @reason", for a denied or removed
 * participant (new). */
static gchar *
moderation_message (const gchar *sentence, const gchar *reason)
{
  return reason ? g_strdup_printf ("%s: %s", sentence, reason)
                : g_strdup_printf ("%s.", sentence);
}

static gboolean
check_reason (const gchar *reason, GError **error)
{
  if (reason == NULL)
    return TRUE;
  if (*reason == '\0' || strlen (reason) > HQ_PROTOCOL_MAX_REASON)
    return hq_room_invalid (error, "reason must be 1 to %d bytes, not %zu.",
        HQ_PROTOCOL_MAX_REASON, strlen (reason));
  return TRUE;
}

gboolean
hq_participant_deny (HqParticipant *host, const gchar *target_sid,
    const gchar *reason, GError **error)
{
  HqParticipant *target;
  g_autoptr (JsonObject) msg = NULL;
  g_autofree gchar *text = NULL;

  if (!check_reason (reason, error)
      || (target = lobby_target (host, target_sid, error)) == NULL
      || !hq_participant_ban (
          target, hq_protocol_leave_reason_name (HQ_LEAVE_DENIED), host, error))
    return FALSE;
  hq_room_event (host->room, "participant-denied", target, NULL, host, NULL);
  msg = hq_protocol_message_new (HQ_MESSAGE_DENIED, target->join_id);
  text =
      moderation_message ("A host declined to admit you to this room", reason);
  json_object_set_string_member (msg, "message", text);
  if (reason)
    json_object_set_string_member (msg, "reason", reason);
  hq_participant_send (target, msg);
  hq_participant_disconnect (target,
      hq_protocol_leave_reason_name (HQ_LEAVE_DENIED), HQ_CLOSE_DENIED, host);
  return TRUE;
}

gboolean
hq_participant_mute (HqParticipant *host, const gchar *target_sid,
    const gchar *track_sid, GError **error)
{
  HqParticipant *target = moderation_target (host, target_sid, error);
  g_autoptr (JsonObject) msg = NULL;
  HqTrackRecord *t;

  if (target == NULL
      || (t = hq_participant_find_track (target, track_sid, error)) == NULL)
    return FALSE;
  hq_room_event (host->room, "track-muted", target, t, host, NULL);
  msg = hq_protocol_message_new (HQ_MESSAGE_MUTED, NULL);
  json_object_set_string_member (msg, "track_sid", t->sid);
  json_object_set_object_member (msg, "by", hq_participant_ref_json (host));
  hq_participant_send (target, msg);
  return hq_participant_set_enabled (target, t, FALSE, host, error);
}

gboolean
hq_participant_remove (HqParticipant *host, const gchar *target_sid,
    const gchar *reason, GError **error)
{
  HqParticipant *target;
  g_autoptr (JsonObject) msg = NULL;
  g_autofree gchar *text = NULL;

  if (!check_reason (reason, error)
      || (target = moderation_target (host, target_sid, error)) == NULL)
    return FALSE;
  if (target == host) {
    hq_room_invalid (
        error, "A host leaves with `leave`, not by removing itself.");
    return FALSE;
  }
  if (!hq_participant_ban (target,
          hq_protocol_leave_reason_name (HQ_LEAVE_REMOVED), host, error))
    return FALSE;
  hq_room_event (host->room, "participant-removed", target, NULL, host, NULL);
  msg = hq_protocol_message_new (HQ_MESSAGE_REMOVED, NULL);
  json_object_set_object_member (msg, "by", hq_participant_ref_json (host));
  text = moderation_message ("A host removed you from this room", reason);
  json_object_set_string_member (msg, "message", text);
  if (reason)
    json_object_set_string_member (msg, "reason", reason);
  hq_participant_send (target, msg);
  hq_participant_disconnect (target,
      hq_protocol_leave_reason_name (HQ_LEAVE_REMOVED), HQ_CLOSE_REMOVED, host);
  return TRUE;
}

JsonObject *
hq_participant_set_recording (
    HqParticipant *host, JsonArray *rules, GError **error)
{
  g_autoptr (JsonArray) wanted = rules ? rules : hq_rules_include_all ();

  if (host->role != HQ_ROLE_HOST || host->waiting) {
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_FORBIDDEN,
        "Only a host may start or stop recording.");
    return NULL;
  }
  return hq_room_set_recording_rules (host->room, wanted, host, error);
}
