/* HqRoomClient and simulcast (docs/protocol.md, "Simulcast and bandwidth
 * profiles"): what a subscriber asks of the server's layer selection
 * (its bandwidth profile, the size it renders video at), and reading the
 * server's `publish_layers` for a publisher that pauses layers nobody
 * receives.
 *
 * A subscriber's wishes outlive connections as its subscribe rules do:
 * the bandwidth profile goes with every join; the render size goes as
 * `track_hints` for each video track once it arrives (the server keeps
 * hints across a resume; a rejoin brings new track sids, hinted anew),
 * and for every video track at once when it changes. */
#include "hqroomclient-private.h"

#include <string.h>
#include <hq/hqbwprofile.h>
#include "hqdebug.h"

#define GST_CAT_DEFAULT hq_room_client_debug

/* --- the bandwidth profile --- */

static void
send_bandwidth_profile (HqRoomClient *c)
{
  JsonObject *m = hq_protocol_message_new (HQ_MESSAGE_BANDWIDTH_PROFILE,
      hq_protocol_message_name (HQ_MESSAGE_BANDWIDTH_PROFILE));

  json_object_set_member (
      m, "video", json_from_string (c->bandwidth_profile, NULL));
  hq_room_client_ws_send (c, m);
  json_object_unref (m);
}

void
hq_room_client_set_bandwidth_profile (
    HqRoomClient *c, const HqBandwidthProfile *profile)
{
  g_autofree gchar *text = NULL;
  HqBandwidthProfile defaults;

  if (profile == NULL && c->bandwidth_profile == NULL)
    return;
  /* Back to the server's default: it is told the default profile. */
  if (profile == NULL) {
    hq_bandwidth_profile_init (&defaults);
    profile = &defaults;
  }
  {
    g_autoptr (JsonObject) video = hq_bandwidth_profile_to_json (profile);
    g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);

    json_node_set_object (node, video);
    text = json_to_string (node, FALSE);
  }
  if (g_strcmp0 (text, c->bandwidth_profile) == 0)
    return;
  g_free (c->bandwidth_profile);
  c->bandwidth_profile = g_steal_pointer (&text);
  if (c->joined)
    send_bandwidth_profile (c);
}

/* In `join` as in the request, {"video": {...}}: in effect from the
 * first subscribe offer on, after a resume and a rejoin too. */
void
hq_room_client_add_bandwidth_profile (HqRoomClient *c, JsonObject *join)
{
  JsonObject *profile;

  if (c->bandwidth_profile == NULL)
    return;
  profile = json_object_new ();
  json_object_set_member (
      profile, "video", json_from_string (c->bandwidth_profile, NULL));
  json_object_set_object_member (join, "bandwidth_profile", profile);
}

/* --- render dimensions, as track hints --- */

/* What @c last hinted for a track: "WxH", or "" for none. */
static gchar *
render_key (HqRoomClient *c)
{
  return c->render_width && c->render_height
      ? g_strdup_printf ("%ux%u", c->render_width, c->render_height)
      : g_strdup ("");
}

void
hq_room_client_send_track_hints (HqRoomClient *c)
{
  g_autofree gchar *key = render_key (c);
  g_autoptr (GHashTable) hinted =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  JsonArray *hints = json_array_new ();
  JsonObject *m;

  for (guint i = 0; c->remote && i < c->remote->len; i++) {
    const HqRoomRemoteTrack *t = g_ptr_array_index (c->remote, i);
    const gchar *said =
        c->hinted ? g_hash_table_lookup (c->hinted, t->track_sid) : NULL;
    JsonObject *hint;

    if (t->kind != HQ_SDP_KIND_VIDEO || t->track_sid == NULL)
      continue;
    g_hash_table_replace (hinted, g_strdup (t->track_sid), g_strdup (key));
    /* nothing to say: as hinted, or never hinted and no size wanted */
    if (g_strcmp0 (said, key) == 0 || (said == NULL && *key == '\0'))
      continue;
    hint = json_object_new ();
    json_object_set_string_member (hint, "track_sid", t->track_sid);
    if (*key) {
      JsonObject *dims = json_object_new ();
      json_object_set_int_member (dims, "width", c->render_width);
      json_object_set_int_member (dims, "height", c->render_height);
      json_object_set_object_member (hint, "render_dimensions", dims);
    } else {
      json_object_set_null_member (hint, "render_dimensions");
    }
    json_array_add_object_element (hints, hint);
  }
  /* only tracks we receive now are remembered */
  g_clear_pointer (&c->hinted, g_hash_table_unref);
  c->hinted = g_steal_pointer (&hinted);
  if (json_array_get_length (hints) == 0 || !c->joined) {
    json_array_unref (hints);
    return;
  }
  GST_DEBUG ("%s: render dimensions %s for %u video tracks", c->ws_url,
      *key ? key : "forgotten", json_array_get_length (hints));
  m = hq_protocol_message_new (HQ_MESSAGE_TRACK_HINTS,
      hq_protocol_message_name (HQ_MESSAGE_TRACK_HINTS));
  json_object_set_array_member (m, "hints", hints);
  hq_room_client_ws_send (c, m);
  json_object_unref (m);
}

void
hq_room_client_set_render_dimensions (
    HqRoomClient *c, guint width, guint height)
{
  if (width == 0 || height == 0)
    width = height = 0;
  width = MIN (width, HQ_RENDER_DIMENSION_MAX);
  height = MIN (height, HQ_RENDER_DIMENSION_MAX);
  if (width == c->render_width && height == c->render_height)
    return;
  c->render_width = width;
  c->render_height = height;
  hq_room_client_send_track_hints (c);
}

void
hq_room_client_forget_track_hints (HqRoomClient *c)
{
  g_clear_pointer (&c->hinted, g_hash_table_unref);
}

/* --- publish_layers --- */

const gchar *
hq_room_client_read_publish_layers (
    HqRoomClient *c, JsonObject *msg, GArray **layers)
{
  const gchar *sid = hq_room_client_str_member (msg, "track_sid");
  JsonArray *list = hq_room_client_array_member (msg, "layers");
  const LocalTrack *track = NULL;

  *layers = NULL;
  for (guint i = 0; sid && i < c->local->len; i++) {
    const LocalTrack *t = g_ptr_array_index (c->local, i);
    if (g_strcmp0 (t->sid, sid) == 0)
      track = t;
  }
  if (track == NULL || list == NULL)
    return NULL;
  *layers = g_array_new (FALSE, TRUE, sizeof (HqRoomLayerState));
  for (guint i = 0; i < json_array_get_length (list); i++) {
    JsonNode *n = json_array_get_element (list, i);
    JsonObject *o =
        JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
    const gchar *rid = o ? hq_room_client_str_member (o, "rid") : NULL;
    JsonNode *active = o ? json_object_get_member (o, "active") : NULL;
    HqRoomLayerState state = { 0 };

    if (rid == NULL || strlen (rid) > HQ_SDP_MAX_RID_LEN || active == NULL
        || !JSON_NODE_HOLDS_VALUE (active)
        || json_node_get_value_type (active) != G_TYPE_BOOLEAN)
      continue;
    strcpy (state.rid, rid);
    state.active = json_node_get_boolean (active);
    g_array_append_val (*layers, state);
  }
  return track->name;
}
