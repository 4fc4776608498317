/* hqroomsrc's pad statistics; see gsthqroomsrcstats.h and
 * docs/hqroomsrc.md ("Statistics"). */
#include "gsthqroomsrcstats.h"

#include <stdio.h>
#include <hq/hqprotocol.h>

/* One participant's figures as the server last sent them. */
typedef struct
{
  gint level; /* -1: not said */
  gdouble rtt_ms; /* -1: unknown */
  /* what it sends, as the server receives it: [audio, video] */
  gdouble send_lost[2];
  gdouble send_jitter_ms[2];
} Netq;

struct _GstHqRoomNetqCache
{
  GMutex lock;
  gchar *self_sid;
  GHashTable *by_sid; /* sid -> Netq */
};

GstHqRoomNetqCache *
gst_hq_room_netq_cache_new (void)
{
  GstHqRoomNetqCache *cache = g_new0 (GstHqRoomNetqCache, 1);

  g_mutex_init (&cache->lock);
  cache->by_sid =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return cache;
}

void
gst_hq_room_netq_cache_free (GstHqRoomNetqCache *cache)
{
  if (cache == NULL)
    return;
  g_hash_table_unref (cache->by_sid);
  g_free (cache->self_sid);
  g_mutex_clear (&cache->lock);
  g_free (cache);
}

void
gst_hq_room_netq_cache_joined (GstHqRoomNetqCache *cache, HqRoomClient *client)
{
  JsonObject *m = hq_protocol_message_new (
      HQ_MESSAGE_NETWORK_QUALITY_CONFIGURE, "hqroomsrc-stats");

  g_mutex_lock (&cache->lock);
  g_free (cache->self_sid);
  cache->self_sid = g_strdup (hq_room_client_get_participant_sid (client));
  g_mutex_unlock (&cache->lock);
  /* The reply ("ok" with this id) needs nothing from us. */
  json_object_set_int_member (m, "local", 3);
  json_object_set_int_member (m, "remote", 3);
  hq_room_client_send (client, m);
  json_object_unref (m);
}

static JsonObject *
member_object (JsonObject *o, const gchar *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static gdouble
member_double (JsonObject *o, const gchar *name, gdouble unknown)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
    return unknown;
  return json_node_get_double (n);
}

void
gst_hq_room_netq_cache_update (GstHqRoomNetqCache *cache, JsonObject *msg)
{
  JsonNode *n = json_object_get_member (msg, "participants");
  JsonArray *a =
      n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
  static const gchar *const kinds[] = { "audio", "video" };

  g_mutex_lock (&cache->lock);
  for (guint i = 0; a && i < json_array_get_length (a); i++) {
    JsonObject *p = json_array_get_object_element (a, i);
    const gchar *sid = p ? json_object_get_string_member_with_default (
                           p, "participant_sid", NULL)
                         : NULL;
    JsonObject *stats = member_object (p, "stats");
    JsonObject *send = member_object (stats, "send");
    JsonObject *recv = member_object (stats, "recv");
    Netq *q;

    if (sid == NULL)
      continue;
    q = g_new0 (Netq, 1);
    q->level = (gint)json_object_get_int_member_with_default (p, "level", -1);
    q->rtt_ms = -1;
    for (guint k = 0; k < 2; k++) {
      JsonObject *s = member_object (send, kinds[k]);
      JsonObject *r = member_object (recv, kinds[k]);
      q->rtt_ms = MAX (q->rtt_ms, member_double (s, "rtt_ms", -1));
      q->rtt_ms = MAX (q->rtt_ms, member_double (r, "rtt_ms", -1));
      q->send_lost[k] = member_double (s, "fraction_lost", -1);
      q->send_jitter_ms[k] = member_double (s, "jitter_ms", -1);
    }
    g_hash_table_replace (cache->by_sid, g_strdup (sid), q);
  }
  g_mutex_unlock (&cache->lock);
}

/* The jitter buffer of @ssrc: rtpssrcdemux's src_SSRC pad feeds it. */
static GstElement *
find_jitterbuffer (GstElement *rtpbin, guint ssrc)
{
  GstIterator *it = gst_bin_iterate_elements (GST_BIN (rtpbin));
  GValue v = G_VALUE_INIT;
  GstElement *jb = NULL;
  gchar name[32];

  snprintf (name, sizeof name, "src_%u", ssrc);
  while (jb == NULL && gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
    GstElement *e = g_value_get_object (&v);
    GstElementFactory *f = gst_element_get_factory (e);
    GstPad *src, *peer;

    if (f && g_str_equal (GST_OBJECT_NAME (f), "rtpssrcdemux")
        && (src = gst_element_get_static_pad (e, name)) != NULL) {
      if ((peer = gst_pad_get_peer (src)) != NULL) {
        jb = gst_pad_get_parent_element (peer);
        gst_object_unref (peer);
      }
      gst_object_unref (src);
    }
    g_value_reset (&v);
  }
  g_value_unset (&v);
  gst_iterator_free (it);
  return jb;
}

static void
copy_field (GstStructure *to, const gchar *to_name, const GstStructure *from,
    const gchar *name, GType type)
{
  const GValue *v = from ? gst_structure_get_value (from, name) : NULL;
  GValue out = G_VALUE_INIT;

  g_value_init (&out, type);
  if (v && g_value_type_transformable (G_VALUE_TYPE (v), type))
    g_value_transform (v, &out);
  gst_structure_take_value (to, to_name, &out);
}

GstStructure *
gst_hq_room_src_stats_new (GstElement *rtpbin, guint ssrc, gboolean video,
    GstHqRoomNetqCache *cache, const gchar *publisher_sid)
{
  GstStructure *s =
      gst_structure_new ("hq-rtp-stats", "ssrc", G_TYPE_UINT, ssrc, NULL);
  GstStructure *src_stats = NULL, *jb_stats = NULL;
  GObject *session = NULL, *source = NULL;
  GstElement *jb = NULL;
  gint clock_rate = 0;
  guint jitter = 0;
  Netq me = { -1, -1, { -1, -1 }, { -1, -1 } }, pub = me;
  guint k = video ? 1 : 0;

  if (rtpbin && ssrc) {
    g_signal_emit_by_name (rtpbin, "get-internal-session", 0, &session);
    if (session)
      g_signal_emit_by_name (session, "get-source-by-ssrc", ssrc, &source);
    if (source)
      g_object_get (source, "stats", &src_stats, NULL);
    jb = find_jitterbuffer (rtpbin, ssrc);
    if (jb)
      g_object_get (jb, "stats", &jb_stats, NULL);
  }
  if (src_stats) {
    gst_structure_get_int (src_stats, "clock-rate", &clock_rate);
    gst_structure_get_uint (src_stats, "jitter", &jitter);
  }
  copy_field (
      s, "packets-received", src_stats, "packets-received", G_TYPE_UINT64);
  copy_field (s, "bytes-received", src_stats, "octets-received", G_TYPE_UINT64);
  copy_field (s, "packets-lost", src_stats, "packets-lost", G_TYPE_INT64);
  copy_field (s, "bitrate", src_stats, "bitrate", G_TYPE_UINT64);
  gst_structure_set (s, "jitter-ms", G_TYPE_DOUBLE,
      clock_rate > 0 ? jitter * 1000.0 / clock_rate : 0.0, NULL);
  copy_field (s, "jitterbuffer-lost", jb_stats, "num-lost", G_TYPE_UINT64);
  copy_field (s, "nacks-sent", jb_stats, "rtx-count", G_TYPE_UINT64);
  copy_field (
      s, "nacks-recovered", jb_stats, "rtx-success-count", G_TYPE_UINT64);

  if (cache) {
    Netq *q;
    g_mutex_lock (&cache->lock);
    if (cache->self_sid
        && (q = g_hash_table_lookup (cache->by_sid, cache->self_sid)))
      me = *q;
    if (publisher_sid
        && (q = g_hash_table_lookup (cache->by_sid, publisher_sid)))
      pub = *q;
    g_mutex_unlock (&cache->lock);
  }
  gst_structure_set (s, "rtt-ms", G_TYPE_DOUBLE, me.rtt_ms, "level", G_TYPE_INT,
      me.level, "publisher-rtt-ms", G_TYPE_DOUBLE, pub.rtt_ms,
      "publisher-fraction-lost", G_TYPE_DOUBLE, pub.send_lost[k],
      "publisher-jitter-ms", G_TYPE_DOUBLE, pub.send_jitter_ms[k],
      "publisher-level", G_TYPE_INT, pub.level, NULL);

  if (src_stats)
    gst_structure_free (src_stats);
  if (jb_stats)
    gst_structure_free (jb_stats);
  g_clear_object (&source);
  g_clear_object (&session);
  g_clear_object (&jb);
  return s;
}
