/* Commands from the SFU's API to a room's worker; the ownership rule is
 * in hqsfucmd.h.  Everything here copies: a command never points into
 * what its caller goes on using. */
#include "hqsfucmd.h"
#include "hqsfutypes.h"
#include <hq/hqprotocol.h>

#include <string.h>

void
hq_sfu_cmd_init (HqSfuCmd *cmd, HqSfuCmdType type)
{
  memset (cmd, 0, sizeof *cmd);
  cmd->type = type;
}

void
hq_sfu_cmd_init_add_participant (
    HqSfuCmd *cmd, const gchar *sid, const gchar *identity, gboolean hidden)
{
  hq_sfu_cmd_init (cmd, HQ_SFU_CMD_ADD_PARTICIPANT);
  cmd->u.add_participant.sid = g_strdup (sid);
  cmd->u.add_participant.identity = g_strdup (identity);
  cmd->u.add_participant.hidden = hidden;
}

void
hq_sfu_cmd_init_participant (HqSfuCmd *cmd, HqSfuCmdType type, const gchar *sid)
{
  g_return_if_fail (
      type == HQ_SFU_CMD_REMOVE_PARTICIPANT || type == HQ_SFU_CMD_RESUME);
  hq_sfu_cmd_init (cmd, type);
  cmd->u.participant.sid = g_strdup (sid);
}

void
hq_sfu_cmd_init_selection (
    HqSfuCmd *cmd, const gchar *sid, const gchar *const *track_sids)
{
  static const gchar *const none[] = { NULL };

  hq_sfu_cmd_init (cmd, HQ_SFU_CMD_SET_SELECTION);
  cmd->u.selection.sid = g_strdup (sid);
  cmd->u.selection.track_sids =
      g_strdupv ((gchar **)(track_sids ? track_sids : none));
}

void
hq_sfu_cmd_init_rules (HqSfuCmd *cmd, const gchar *sid, JsonArray *rules)
{
  hq_sfu_cmd_init (cmd, HQ_SFU_CMD_SET_RULES);
  cmd->u.rules.sid = g_strdup (sid);
  if (rules) {
    g_autoptr (JsonNode) node = json_node_new (JSON_NODE_ARRAY);

    json_node_set_array (node, rules);
    cmd->u.rules.rules_json = json_to_string (node, FALSE);
  }
}

gboolean
hq_sfu_cmd_init_add_track (HqSfuCmd *cmd, const gchar *participant_sid,
    const gchar *track_sid, const gchar *name, const gchar *kind, gint priority)
{
  HqSfuCmdKind k;

  if (g_strcmp0 (kind, "audio") == 0)
    k = HQ_SFU_CMD_KIND_AUDIO;
  else if (g_strcmp0 (kind, "video") == 0)
    k = HQ_SFU_CMD_KIND_VIDEO;
  else
    return FALSE;
  hq_sfu_cmd_init (cmd, HQ_SFU_CMD_ADD_TRACK);
  cmd->u.add_track.participant_sid = g_strdup (participant_sid);
  cmd->u.add_track.track_sid = g_strdup (track_sid);
  cmd->u.add_track.name = g_strdup (name);
  cmd->u.add_track.kind = k;
  cmd->u.add_track.priority = priority;
  return TRUE;
}

void
hq_sfu_cmd_init_remove_track (HqSfuCmd *cmd, const gchar *track_sid)
{
  hq_sfu_cmd_init (cmd, HQ_SFU_CMD_REMOVE_TRACK);
  cmd->u.track.track_sid = g_strdup (track_sid);
}

void
hq_sfu_cmd_init_track_enabled (
    HqSfuCmd *cmd, const gchar *track_sid, gboolean enabled)
{
  hq_sfu_cmd_init (cmd, HQ_SFU_CMD_SET_TRACK_ENABLED);
  cmd->u.enabled.track_sid = g_strdup (track_sid);
  cmd->u.enabled.enabled = enabled;
}

void
hq_sfu_cmd_init_track_priority (
    HqSfuCmd *cmd, const gchar *track_sid, gint priority)
{
  hq_sfu_cmd_init (cmd, HQ_SFU_CMD_SET_TRACK_PRIORITY);
  cmd->u.track_priority.track_sid = g_strdup (track_sid);
  cmd->u.track_priority.priority = priority;
}

void
hq_sfu_cmd_init_subscriber_priority (
    HqSfuCmd *cmd, const gchar *sid, const gchar *track_sid, gint priority)
{
  hq_sfu_cmd_init (cmd, HQ_SFU_CMD_SET_SUBSCRIBER_PRIORITY);
  cmd->u.subscriber_priority.sid = g_strdup (sid);
  cmd->u.subscriber_priority.track_sid = g_strdup (track_sid);
  cmd->u.subscriber_priority.priority = priority;
}

void
hq_sfu_cmd_init_handle (HqSfuCmd *cmd, const gchar *sid, JsonObject *msg)
{
  hq_sfu_cmd_init (cmd, HQ_SFU_CMD_HANDLE);
  cmd->u.handle.sid = g_strdup (sid);
  cmd->u.handle.text = hq_sfu_json_object_to_text (msg);
}

void
hq_sfu_cmd_init_bandwidth_profile (
    HqSfuCmd *cmd, const gchar *sid, const HqBandwidthProfile *profile)
{
  hq_sfu_cmd_init (cmd, HQ_SFU_CMD_SET_BANDWIDTH_PROFILE);
  cmd->u.bandwidth_profile.sid = g_strdup (sid);
  cmd->u.bandwidth_profile.profile = *profile;
}

void
hq_sfu_cmd_init_track_hints (
    HqSfuCmd *cmd, const gchar *sid, const HqTrackHint *hints, guint n)
{
  hq_sfu_cmd_init (cmd, HQ_SFU_CMD_SET_TRACK_HINTS);
  cmd->u.track_hints.sid = g_strdup (sid);
  cmd->u.track_hints.hints = g_memdup2 (hints, n * sizeof *hints);
  cmd->u.track_hints.n_hints = n;
}

void
hq_sfu_cmd_clear (HqSfuCmd *cmd)
{
  switch (cmd->type) {
    case HQ_SFU_CMD_CREATE:
    case HQ_SFU_CMD_DESTROY:
      break;
    case HQ_SFU_CMD_ADD_PARTICIPANT:
      g_free (cmd->u.add_participant.sid);
      g_free (cmd->u.add_participant.identity);
      break;
    case HQ_SFU_CMD_REMOVE_PARTICIPANT:
    case HQ_SFU_CMD_RESUME:
      g_free (cmd->u.participant.sid);
      break;
    case HQ_SFU_CMD_SET_SELECTION:
      g_free (cmd->u.selection.sid);
      g_strfreev (cmd->u.selection.track_sids);
      break;
    case HQ_SFU_CMD_SET_RULES:
      g_free (cmd->u.rules.sid);
      g_free (cmd->u.rules.rules_json);
      break;
    case HQ_SFU_CMD_ADD_TRACK:
      g_free (cmd->u.add_track.participant_sid);
      g_free (cmd->u.add_track.track_sid);
      g_free (cmd->u.add_track.name);
      break;
    case HQ_SFU_CMD_REMOVE_TRACK:
      g_free (cmd->u.track.track_sid);
      break;
    case HQ_SFU_CMD_SET_TRACK_ENABLED:
      g_free (cmd->u.enabled.track_sid);
      break;
    case HQ_SFU_CMD_SET_TRACK_PRIORITY:
      g_free (cmd->u.track_priority.track_sid);
      break;
    case HQ_SFU_CMD_SET_SUBSCRIBER_PRIORITY:
      g_free (cmd->u.subscriber_priority.sid);
      g_free (cmd->u.subscriber_priority.track_sid);
      break;
    case HQ_SFU_CMD_HANDLE:
      g_free (cmd->u.handle.sid);
      g_free (cmd->u.handle.text);
      break;
    case HQ_SFU_CMD_SET_BANDWIDTH_PROFILE:
      g_free (cmd->u.bandwidth_profile.sid);
      break;
    case HQ_SFU_CMD_SET_TRACK_HINTS:
      g_free (cmd->u.track_hints.sid);
      g_free (cmd->u.track_hints.hints);
      break;
  }
  memset (&cmd->u, 0, sizeof cmd->u);
}

gchar *
hq_sfu_json_object_to_text (JsonObject *msg)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_node_set_object (node, msg);
  return json_to_string (node, FALSE);
}

JsonObject *
hq_sfu_json_object_from_text (const gchar *text)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;

  if (text == NULL || !json_parser_load_from_data (parser, text, -1, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  return json_object_ref (json_node_get_object (root));
}

/* The protocol's track priority names are hqprotocol's; HqSfuPriority
 * (hqsfutypes.h) follows HqPriority's order.  Here, at the bottom, so
 * every layer may use them. */
G_STATIC_ASSERT ((gint)HQ_SFU_PRIORITY_LOW == (gint)HQ_PRIORITY_LOW);
G_STATIC_ASSERT ((gint)HQ_SFU_PRIORITY_STANDARD == (gint)HQ_PRIORITY_STANDARD);
G_STATIC_ASSERT ((gint)HQ_SFU_PRIORITY_HIGH == (gint)HQ_PRIORITY_HIGH);

gboolean
hq_sfu_priority_from_string (const gchar *text, HqSfuPriority *priority)
{
  HqPriority value;

  if (!hq_protocol_priority_from_name (text, &value))
    return FALSE;
  *priority = (HqSfuPriority)value;
  return TRUE;
}

const gchar *
hq_sfu_priority_to_string (HqSfuPriority priority)
{
  const gchar *name = hq_protocol_priority_name ((HqPriority)priority);

  return name ? name : hq_protocol_priority_name (HQ_PRIORITY_STANDARD);
}
