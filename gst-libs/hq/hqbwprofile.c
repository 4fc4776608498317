/* Bandwidth profiles and track hints: see hqbwprofile.h.
 *
 * A reader works on a copy and commits only when every field was good,
 * so a refused request changes nothing.  Error messages name the field as
 * a person finds it in the message they sent ("video.mode",
 * "hints[2].render_dimensions.width").
 */
#include "hqbwprofile.h"

#include <string.h>

static const gchar *const modes[] = {
  [HQ_BW_MODE_GRID] = "grid",
  [HQ_BW_MODE_COLLABORATION] = "collaboration",
  [HQ_BW_MODE_PRESENTATION] = "presentation",
};

static const gchar *const switch_off_modes[] = {
  [HQ_SWITCH_OFF_PREDICTED] = "predicted",
  [HQ_SWITCH_OFF_DETECTED] = "detected",
  [HQ_SWITCH_OFF_DISABLED] = "disabled",
};

static const gchar *const controls[] = {
  [HQ_CONTROL_AUTO] = "auto",
  [HQ_CONTROL_MANUAL] = "manual",
};

static const gchar *const reasons[] = {
  [HQ_SWITCH_OFF_NONE] = NULL,
  [HQ_SWITCH_OFF_BY_SUBSCRIBER] = "disabled-by-subscriber",
  [HQ_SWITCH_OFF_BY_PUBLISHER] = "disabled-by-publisher",
  [HQ_SWITCH_OFF_MAX_BANDWIDTH] = "max-bandwidth-reached",
  [HQ_SWITCH_OFF_CONGESTION] = "network-congestion",
};

const gchar *
hq_bw_mode_name (HqBwMode mode)
{
  return (guint)mode < G_N_ELEMENTS (modes) ? modes[mode] : NULL;
}

const gchar *
hq_switch_off_mode_name (HqSwitchOffMode mode)
{
  return (guint)mode < G_N_ELEMENTS (switch_off_modes) ? switch_off_modes[mode]
                                                       : NULL;
}

const gchar *
hq_control_mode_name (HqControlMode mode)
{
  return (guint)mode < G_N_ELEMENTS (controls) ? controls[mode] : NULL;
}

const gchar *
hq_switch_off_reason_name (HqSwitchOffReason reason)
{
  return (guint)reason < G_N_ELEMENTS (reasons) ? reasons[reason] : NULL;
}

void
hq_bandwidth_profile_init (HqBandwidthProfile *profile)
{
  memset (profile, 0, sizeof *profile);
  profile->mode = HQ_BW_MODE_COLLABORATION;
  profile->dominant_speaker_priority = HQ_PRIORITY_STANDARD;
  profile->max_subscription_bitrate = 0;
  profile->track_switch_off_mode = HQ_SWITCH_OFF_PREDICTED;
  profile->client_track_switch_off_control = HQ_CONTROL_AUTO;
  profile->content_preferences_mode = HQ_CONTROL_AUTO;
}

/* Reads string field @name of @video as one of @names (@n of them) into
 * *@out; absent or null leaves it. */
static gboolean
read_choice (JsonObject *video, const gchar *name, const gchar *const *names,
    guint n, guint *out, GError **error)
{
  const gchar *value = NULL;
  g_autoptr (GString) list = NULL;

  if (!hq_protocol_read_optional_string (video, name, &value, error)) {
    g_prefix_error (error, "video.");
    return FALSE;
  }
  if (value == NULL)
    return TRUE;
  for (guint i = 0; i < n; i++) {
    if (g_str_equal (value, names[i])) {
      *out = i;
      return TRUE;
    }
  }
  list = g_string_new (NULL);
  for (guint i = 0; i < n; i++)
    g_string_append_printf (
        list, "%s%s", names[i], i + 2 < n ? ", " : (i + 1 < n ? " or " : ""));
  g_set_error (error, HQ_PROTOCOL_ERROR, HQ_PROTOCOL_ERROR_INVALID_FIELD,
      "video.%s must be %s, not \"%.64s\".", name, list->str, value);
  return FALSE;
}

gboolean
hq_bandwidth_profile_read (
    JsonObject *video, HqBandwidthProfile *profile, GError **error)
{
  HqBandwidthProfile p = *profile;
  guint mode = p.mode, switch_off = p.track_switch_off_mode;
  guint control = p.client_track_switch_off_control;
  guint content = p.content_preferences_mode;
  gint64 cap = -1;
  const gchar *speaker = NULL;

  if (video == NULL)
    return TRUE;
  if (!read_choice (video, "mode", modes, G_N_ELEMENTS (modes), &mode, error)
      || !read_choice (video, "track_switch_off_mode", switch_off_modes,
          G_N_ELEMENTS (switch_off_modes), &switch_off, error)
      || !read_choice (video, "client_track_switch_off_control", controls,
          G_N_ELEMENTS (controls), &control, error)
      || !read_choice (video, "content_preferences_mode", controls,
          G_N_ELEMENTS (controls), &content, error))
    return FALSE;
  if (!hq_protocol_read_optional_string (
          video, "dominant_speaker_priority", &speaker, error)
      || !hq_protocol_check_priority (
          speaker, &p.dominant_speaker_priority, error)) {
    g_prefix_error (error, "video.dominant_speaker_");
    return FALSE;
  }
  if (!hq_protocol_read_int (video, "max_subscription_bitrate", &cap, error)) {
    g_prefix_error (error, "video.");
    return FALSE;
  }
  if (cap != -1 && cap != 0
      && (cap < HQ_MAX_SUBSCRIPTION_BITRATE_MIN
          || cap > HQ_MAX_SUBSCRIPTION_BITRATE_MAX)) {
    g_set_error (error, HQ_PROTOCOL_ERROR, HQ_PROTOCOL_ERROR_INVALID_FIELD,
        "video.max_subscription_bitrate must be 0 (no cap) or %d to %d bits "
        "per second, not %" G_GINT64_FORMAT ".",
        HQ_MAX_SUBSCRIPTION_BITRATE_MIN, HQ_MAX_SUBSCRIPTION_BITRATE_MAX, cap);
    return FALSE;
  }
  if (cap >= 0)
    p.max_subscription_bitrate = cap;
  p.mode = mode;
  p.track_switch_off_mode = switch_off;
  p.client_track_switch_off_control = control;
  p.content_preferences_mode = content;
  *profile = p;
  return TRUE;
}

JsonObject *
hq_bandwidth_profile_to_json (const HqBandwidthProfile *p)
{
  JsonObject *video = json_object_new ();

  json_object_set_string_member (video, "mode", hq_bw_mode_name (p->mode));
  json_object_set_string_member (video, "dominant_speaker_priority",
      hq_protocol_priority_name (p->dominant_speaker_priority));
  json_object_set_int_member (
      video, "max_subscription_bitrate", (gint64)p->max_subscription_bitrate);
  json_object_set_string_member (video, "track_switch_off_mode",
      hq_switch_off_mode_name (p->track_switch_off_mode));
  json_object_set_string_member (video, "client_track_switch_off_control",
      hq_control_mode_name (p->client_track_switch_off_control));
  json_object_set_string_member (video, "content_preferences_mode",
      hq_control_mode_name (p->content_preferences_mode));
  return video;
}

static gboolean G_GNUC_PRINTF (3, 4)
    hint_error (GError **error, guint i, const gchar *format, ...)
{
  g_autofree gchar *what = NULL;
  va_list args;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, HQ_PROTOCOL_ERROR, HQ_PROTOCOL_ERROR_INVALID_FIELD,
      "hints[%u]%s", i, what);
  return FALSE;
}

static gboolean
read_dimension (
    JsonObject *dims, guint i, const gchar *name, guint *out, GError **error)
{
  gint64 v = -1;
  g_autoptr (GError) local = NULL;

  if (!hq_protocol_read_int (dims, name, &v, &local) || v < 1
      || v > HQ_RENDER_DIMENSION_MAX)
    return hint_error (error, i,
        ".render_dimensions.%s must be a whole number from 1 to %d.", name,
        HQ_RENDER_DIMENSION_MAX);
  *out = v;
  return TRUE;
}

static gboolean
read_hint (JsonNode *node, guint i, HqTrackHint *hint, GError **error)
{
  JsonObject *h =
      JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  const gchar *sid = NULL;
  JsonNode *dims;
  g_autoptr (GError) local = NULL;

  memset (hint, 0, sizeof *hint);
  if (h == NULL)
    return hint_error (error, i, " must be an object with a track_sid.");
  if (!hq_protocol_read_string (h, "track_sid", &sid, &local)
      || strlen (sid) >= sizeof hint->track_sid || *sid == '\0')
    return hint_error (error, i, ".track_sid must be a track's sid.");
  g_strlcpy (hint->track_sid, sid, sizeof hint->track_sid);
  if (json_object_has_member (h, "enabled")
      && !json_object_get_null_member (h, "enabled")) {
    if (!hq_protocol_read_bool (h, "enabled", &hint->enabled, &local))
      return hint_error (error, i, ".enabled must be true or false.");
    hint->has_enabled = TRUE;
  }
  dims = json_object_get_member (h, "render_dimensions");
  if (dims == NULL)
    return TRUE;
  hint->has_render = TRUE;
  if (JSON_NODE_HOLDS_NULL (dims))
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (dims))
    return hint_error (error, i,
        ".render_dimensions must be {\"width\": W, \"height\": H} or null.");
  return read_dimension (
             json_node_get_object (dims), i, "width", &hint->width, error)
      && read_dimension (
          json_node_get_object (dims), i, "height", &hint->height, error);
}

GArray *
hq_track_hints_read (JsonArray *hints, GError **error)
{
  g_autoptr (GArray) out = g_array_new (FALSE, TRUE, sizeof (HqTrackHint));
  guint n = hints ? json_array_get_length (hints) : 0;

  if (n > HQ_TRACK_HINTS_MAX) {
    g_set_error (error, HQ_PROTOCOL_ERROR, HQ_PROTOCOL_ERROR_INVALID_FIELD,
        "hints may have at most %d entries, not %u.", HQ_TRACK_HINTS_MAX, n);
    return NULL;
  }
  g_array_set_size (out, n);
  for (guint i = 0; i < n; i++)
    if (!read_hint (json_array_get_element (hints, i), i,
            &g_array_index (out, HqTrackHint, i), error))
      return NULL;
  return g_steal_pointer (&out);
}
