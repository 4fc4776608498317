/* Simulcast through a real hq-server (docs/sfu.md, "Layer selection";
 * docs/protocol.md, "Simulcast and bandwidth profiles").  Three libhq
 * protocol clients in one group room (tests/common/sfuclient.h): A
 * publishes its video as three RID layers q, h, f (320x180, 640x360,
 * 1280x720 VP8 frames of about 70, 380 and 1200 kbit/s, SSRCs announced
 * only by the RID extension, a keyframe when the server asks for one);
 * B and C subscribe to A alone and say what they render.
 *
 * - Render dimensions: B hints 320x180 and gets the q layer, C hints
 *   1280x720 and gets f; each as one SSRC of its own, rewritten.  A gets
 *   receiver reports on each layer's SSRC and a REMB for all layers.
 * - Bandwidth: C renders 640x360 (h); its REMB drops to 150 kbit/s and it
 *   goes down to q, at a keyframe of q, its sequence numbers going on by
 *   one and its timestamps moving forward by less than a second.
 * - Switch-off: B hints enabled:false and gets track_switched_off with
 *   reason disabled-by-subscriber, then nothing of A's video while C
 *   goes on receiving; enabled:true brings track_switched_on and video.
 * - Adaptive simulcast: when B and C both render 320x180, A is told by
 *   publish_layers that h and f are inactive; when C renders 1280x720
 *   again, f is active again and C gets it.
 * - Profile: bandwidth_profile answers the profile in effect, refuses a
 *   bad mode with invalid_field naming it; max_subscription_bitrate
 *   200000 takes C from f down to q; REST shows A's layers and what C
 *   gets.
 * - Probing: C returns transport-wide feedback as Chromium does; a queue
 *   growing on its link takes it from f down to q, and once the queue
 *   stops growing the server's probes (padding-only packets on C's video
 *   SSRC, continuing its sequence at its last timestamp) prove the room
 *   and C gets f again.  Without probes its estimate could not rise past
 *   1.5 times what q carries.
 * - Switch-off modes: at a REMB of 30 kbit/s C's track is switched off
 *   (predicted, the default); with track_switch_off_mode "detected" it
 *   comes back on q and stays there while nothing is lost, and goes off
 *   once C's receiver report says 20 % was lost.
 * - Retransmission: a packet of f lost before the server; C NACKs it, the
 *   server asks A, A sends it as RTX on the layer's RTX SSRC with the
 *   repaired-RID extension (the server learns that SSRC from it), and C
 *   gets the original packet in its own sequence numbers. */
#include <string.h>
#include <hq/hqprotocol.h>
#include <hq/hqrtcp.h>
#include <hq/hqrtp.h>
#include <hq/hqsdp.h>
#include <hq/hqtwcc.h>
#include "../../common/sfuclient.h"

/* Packets per layer and frame, and their payload sizes: at 30 frames a
 * second q is about 70 kbit/s, h 380 kbit/s, f 1.2 Mbit/s. */
static const guint layer_packets[3] = { 1, 2, 5 };
static const gsize layer_payload[3] = { 300, 800, 1000 };

typedef struct
{
  guint32 ssrc;
  guint16 seq;
  guint32 ts;
  gint layer;
  gboolean keyframe;
} Got;

typedef struct
{
  HqSfuClient *c;
  GArray *got; /* Got: A's video as this subscriber received it */
  guint64 remb; /* sent every 200 ms when set */
  GPtrArray *events; /* JsonObject: switch events and replies */
  /* Transport-wide feedback, when @twcc is set: each arrival noted @drift_ms
   * late, that growing by @drift_step_ms a packet (a queue building). */
  HqTwccRecorder *twcc;
  gdouble drift_ms, drift_step_ms;
  gint64 feedback_us;
  /* A's video stream as it came, padding included: its last packet, the
   * padding-only packets and those that did not continue it at its last
   * timestamp. */
  gboolean have_video;
  guint32 video_ssrc, video_ts;
  guint16 video_seq;
  guint padding, padding_wrong;
} Sub;

typedef struct
{
  HqTestServer *server;
  HqSfuClient *a;
  Sub b, c;
  guint tick_source;
  gboolean key_wanted[3]; /* a PLI for that layer came */
  gboolean rr_seen[3]; /* a receiver report block for that layer came */
  guint64 remb; /* the last REMB A was sent */
  gboolean layer_active[3]; /* as publish_layers last said */
  guint n_publish_layers;
  gint64 last_sr_us;
  gint64 last_remb_us;
  /* RTX: the next f packet in a frame's middle is not sent (a loss
   * before the server); A sends it again as RTX when the server asks */
  gboolean drop_f;
  gint dropped_seq; /* A's sequence number of it; -1: none yet */
  gint64 dropped_capture_us;
  gboolean rtx_sent;
  gchar *rest; /* the last REST reply polled */
  gint64 rest_us;
} Fx;

static gboolean
wait_for (GSourceFunc done, gpointer data, guint seconds)
{
  gint64 end = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;

  while (!done (data)) {
    if (g_get_monotonic_time () > end)
      return FALSE;
    g_main_context_iteration (NULL, TRUE);
  }
  return TRUE;
}

/* --- A: the simulcast publisher --- */

static void
a_packet (gboolean rtcp, guint8 *data, gsize len, gpointer user_data)
{
  HqSfuClient *a = user_data;
  Fx *fx = a->user_data;
  HqRtcpIter iter;
  HqRtcpPacket pkt;

  if (!rtcp || !hq_rtcp_iter_init (&iter, data, len, NULL))
    return;
  {
    g_autoptr (GArray) nacked = g_array_new (FALSE, FALSE, sizeof (guint16));
    hq_sfu_client_read_feedback (
        data, len, a->layer_ssrc[2], &fx->remb, nacked);
    for (guint i = 0; i < nacked->len; i++)
      if (fx->dropped_seq >= 0
          && g_array_index (nacked, guint16, i) == fx->dropped_seq)
        fx->rtx_sent |=
            hq_sfu_client_send_layer_rtx (a, 2, fx->dropped_capture_us,
                layer_payload[2], FALSE, FALSE, (guint16)fx->dropped_seq);
  }
  hq_sfu_client_read_layer_plis (a, data, len, fx->key_wanted);
  while (hq_rtcp_iter_next (&iter, &pkt)) {
    HqRtcpReportBlock blocks[HQ_RTCP_MAX_COUNT];
    guint32 reporter;
    guint n = 0;

    if (pkt.type == HQ_RTCP_RR
        && hq_rtcp_parse_rr (&pkt, &reporter, blocks, &n, NULL))
      for (guint i = 0; i < n; i++)
        for (guint l = 0; l < 3; l++)
          fx->rr_seen[l] |= blocks[i].ssrc == a->layer_ssrc[l];
  }
}

static void
a_message (HqSfuClient *a, const gchar *type, JsonObject *msg, gpointer data)
{
  Fx *fx = data;

  if (!g_str_equal (type, "publish_layers"))
    return;
  g_assert_true (hq_sfu_client_read_publish_layers (msg, fx->layer_active));
  fx->n_publish_layers++;
}

/* One frame on each active layer, as an encoder would send it; its sender
 * reports every half second, on each layer's own RTP clock. */
static void
a_send_frame (Fx *fx, gint64 now)
{
  for (guint l = 0; l < 3; l++) {
    gboolean key = fx->key_wanted[l];

    if (!fx->layer_active[l])
      continue;
    fx->key_wanted[l] = FALSE;
    for (guint i = 0; i < layer_packets[l]; i++) {
      gboolean drop = l == 2 && i == 1 && !key && fx->drop_f;
      guint16 seq = hq_sfu_client_send_layer (fx->a, l, now, layer_payload[l],
          i == 0, i == layer_packets[l] - 1, key && i == 0, drop);
      if (drop) {
        fx->drop_f = FALSE;
        fx->dropped_seq = seq;
        fx->dropped_capture_us = now;
      }
    }
  }
  if (now - fx->last_sr_us < G_USEC_PER_SEC / 2)
    return;
  fx->last_sr_us = now;
  for (guint l = 0; l < 3; l++)
    hq_sfu_client_send_layer_sr (fx->a, l, now);
}

/* --- B and C: subscribers --- */

/* A packet's transport-wide number, noted as arriving now plus the
 * drift; the feedback goes every 50 ms, as Chromium's does. */
static void
note_arrival (Sub *s, const guint8 *data, const HqRtpHeader *hdr)
{
  gint64 now = g_get_monotonic_time ();
  HqRtpExt ext;
  guint16 seq;

  if (!hq_rtp_ext_find (
          data, hdr, (guint8)hq_sdp_offer_extmap_id (HQ_SDP_EXT_TWCC), &ext)
      || !hq_rtp_ext_read_twcc_seq (&ext, &seq))
    return;
  s->drift_ms += s->drift_step_ms;
  hq_twcc_recorder_add (s->twcc, seq, now + (gint64)(s->drift_ms * 1000));
  if (now - s->feedback_us >= 50000) {
    guint8 buf[1200];
    HqRtcpWriter w;

    s->feedback_us = now;
    hq_rtcp_writer_init (&w, buf, sizeof buf);
    while (hq_twcc_recorder_write (s->twcc, &w, 0xc0c0c0c0, 0))
      ;
    if (w.len > 0)
      hq_sfu_client_send_rtcp (s->c, FALSE, buf, w.len);
  }
}

static void
sub_packet (gboolean rtcp, guint8 *data, gsize len, gpointer user_data)
{
  HqSfuClient *c = user_data;
  Fx *fx = c->user_data;
  Sub *s = c == fx->b.c ? &fx->b : &fx->c;
  const guint8 *p;
  HqRtpHeader hdr;
  Got g;

  if (rtcp || !hq_rtp_parse (data, len, &hdr, NULL))
    return;
  if (s->twcc)
    note_arrival (s, data, &hdr);
  if (hdr.padding && hdr.payload_len == 0) {
    s->padding++;
    if (!s->have_video || hdr.ssrc != s->video_ssrc
        || hdr.seq != (guint16)(s->video_seq + 1)
        || hdr.timestamp != s->video_ts)
      s->padding_wrong++;
    s->video_seq = hdr.seq;
    return;
  }
  if (hdr.payload_len < HQ_SFU_CLIENT_LAYER_MARK + 4)
    return;
  p = data + hdr.payload_offset;
  if (memcmp (p + HQ_SFU_CLIENT_LAYER_MARK, "SIM", 3) != 0)
    return; /* not A's video */
  s->have_video = TRUE;
  s->video_ssrc = hdr.ssrc;
  s->video_seq = hdr.seq;
  s->video_ts = hdr.timestamp;
  g.ssrc = hdr.ssrc;
  g.seq = hdr.seq;
  g.ts = hdr.timestamp;
  g.layer = p[HQ_SFU_CLIENT_LAYER_MARK + 3];
  g.keyframe = (p[0] & 0x10) && (p[1] & 0x01) == 0;
  g_array_append_val (s->got, g);
}

static void
sub_message (HqSfuClient *c, const gchar *type, JsonObject *msg, gpointer data)
{
  Fx *fx = data;
  Sub *s = c == fx->b.c ? &fx->b : &fx->c;

  if (g_str_equal (type, "track_switched_off")
      || g_str_equal (type, "track_switched_on")
      || g_str_equal (type, "bandwidth_profile")
      || (g_str_equal (type, "error") && json_object_has_member (msg, "id")))
    g_ptr_array_add (s->events, json_object_ref (msg));
}

static void
send_remb (Sub *s)
{
  guint8 buf[64];
  HqRtcpWriter w;
  guint32 none = 0;

  hq_rtcp_writer_init (&w, buf, sizeof buf);
  g_assert_true (hq_rtcp_write_remb (&w, 0x5eb, s->remb, &none, 1, NULL));
  hq_sfu_client_send_rtcp (s->c, FALSE, buf, w.len);
}

static gboolean
tick (gpointer data)
{
  Fx *fx = data;
  gint64 now = g_get_monotonic_time ();

  a_send_frame (fx, now);
  if (now - fx->last_remb_us >= 200 * 1000) {
    fx->last_remb_us = now;
    if (fx->b.remb)
      send_remb (&fx->b);
    if (fx->c.remb)
      send_remb (&fx->c);
  }
  return G_SOURCE_CONTINUE;
}

static void
hint (Sub *s, const gchar *track_sid, gint enabled, guint w, guint h)
{
  JsonObject *m = hq_protocol_message_new (HQ_MESSAGE_TRACK_HINTS, "hint");
  JsonArray *hints = json_array_new ();
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "track_sid", track_sid);
  if (enabled >= 0)
    json_object_set_boolean_member (o, "enabled", enabled);
  if (w) {
    JsonObject *d = json_object_new ();
    json_object_set_int_member (d, "width", w);
    json_object_set_int_member (d, "height", h);
    json_object_set_object_member (o, "render_dimensions", d);
  }
  json_array_add_object_element (hints, o);
  json_object_set_array_member (m, "hints", hints);
  hq_sfu_client_send_message (s->c, m);
}

/* Only A's tracks (subscribe rules), so the subscriber's whole video
 * bandwidth is A's video's share. */
static void
only_a (Sub *s)
{
  JsonObject *m = hq_protocol_message_new (HQ_MESSAGE_SUBSCRIBE_RULES, "r");
  JsonArray *rules = json_array_new ();
  JsonObject *r = json_object_new ();

  json_object_set_string_member (r, "type", "include");
  json_object_set_string_member (r, "publisher", "sim-0");
  json_array_add_object_element (rules, r);
  json_object_set_array_member (m, "rules", rules);
  hq_sfu_client_send_message (s->c, m);
}

/* --- conditions --- */

/* The last @n packets @s got are all of layer @layer (and there are n). */
static gboolean
last_are (Sub *s, gint layer, guint n)
{
  if (s->got->len < n)
    return FALSE;
  for (guint i = s->got->len - n; i < s->got->len; i++)
    if (g_array_index (s->got, Got, i).layer != layer)
      return FALSE;
  return TRUE;
}

static gboolean
ready (gpointer data)
{
  Fx *fx = data;

  return hq_sfu_client_ready (fx->a, 0) && hq_sfu_client_ready (fx->b.c, 1)
      && hq_sfu_client_ready (fx->c.c, 1) && fx->n_publish_layers > 0;
}

static gboolean
b_low_c_high (gpointer data)
{
  Fx *fx = data;

  return last_are (&fx->b, 0, 30) && last_are (&fx->c, 2, 60);
}

/* --- fixture --- */

static void
fx_setup (Fx *fx, gconstpointer unused)
{
  g_autofree gchar *reply = NULL;

  memset (fx, 0, sizeof *fx);
  fx->dropped_seq = -1;
  fx->server = hq_test_server_start (
      g_getenv ("HQ_SERVER_BIN"), g_getenv ("HQ_TEST_SERVER_LOG") != NULL);
  reply = hq_test_server_rest (
      fx->server, "POST", "/v1/Rooms", "UniqueName=sim&Type=group");
  g_assert_nonnull (reply);
  fx->a = hq_sfu_client_new (fx->server, "sim", "sim", 0, TRUE);
  fx->a->simulcast = TRUE;
  fx->b.c = hq_sfu_client_new (fx->server, "sim", "sub", 1, TRUE);
  fx->c.c = hq_sfu_client_new (fx->server, "sim", "sub", 2, TRUE);
  fx->a->user_data = fx->b.c->user_data = fx->c.c->user_data = fx;
  fx->a->on_pub_packet = a_packet;
  fx->a->on_message = a_message;
  for (guint i = 0; i < 2; i++) {
    Sub *s = i ? &fx->c : &fx->b;
    s->got = g_array_new (FALSE, FALSE, sizeof (Got));
    s->events =
        g_ptr_array_new_with_free_func ((GDestroyNotify)json_object_unref);
    s->c->on_sub_packet = sub_packet;
    s->c->on_message = sub_message;
  }
  for (guint l = 0; l < 3; l++)
    fx->key_wanted[l] = TRUE;
  g_assert_true (wait_for (ready, fx, 30));
  only_a (&fx->b);
  only_a (&fx->c);
  fx->tick_source = g_timeout_add (33, tick, fx);
}

static void
fx_teardown (Fx *fx, gconstpointer unused)
{
  g_source_remove (fx->tick_source);
  hq_sfu_client_free (fx->a);
  hq_sfu_client_free (fx->b.c);
  hq_sfu_client_free (fx->c.c);
  hq_test_server_stop (fx->server);
  g_array_unref (fx->b.got);
  g_array_unref (fx->c.got);
  g_ptr_array_unref (fx->b.events);
  g_ptr_array_unref (fx->c.events);
  hq_twcc_recorder_free (fx->b.twcc);
  hq_twcc_recorder_free (fx->c.twcc);
  g_free (fx->rest);
}

/* Every packet of A's video in @s since @from has one SSRC, not A's. */
static void
assert_one_ssrc (Fx *fx, Sub *s, guint from)
{
  guint32 ssrc = g_array_index (s->got, Got, from).ssrc;

  for (guint i = 0; i < 3; i++)
    g_assert_cmpuint (ssrc, !=, fx->a->layer_ssrc[i]);
  for (guint i = from; i < s->got->len; i++)
    g_assert_cmpuint (g_array_index (s->got, Got, i).ssrc, ==, ssrc);
}

/* --- render dimensions --- */

static gboolean
a_has_layer_reports (gpointer data)
{
  Fx *fx = data;

  return fx->rr_seen[0] && fx->rr_seen[1] && fx->rr_seen[2] && fx->remb > 0;
}

static void
test_render_dimensions (Fx *fx, gconstpointer unused)
{
  hint (&fx->b, fx->a->video_sid, -1, 320, 180);
  hint (&fx->c, fx->a->video_sid, -1, 1280, 720);
  g_assert_true (wait_for (b_low_c_high, fx, 30));
  assert_one_ssrc (fx, &fx->b, 0);
  assert_one_ssrc (fx, &fx->c, 0);
  g_assert_cmpuint (g_array_index (fx->b.got, Got, 0).ssrc, !=,
      g_array_index (fx->c.got, Got, 0).ssrc);
  /* the server reports on each layer's SSRC, learnt from the RID
   * extension, and lets the publisher send all its layers (2.5 Mbit/s) */
  g_assert_true (wait_for (a_has_layer_reports, fx, 30));
  g_assert_cmpuint (fx->remb, >=, 2500000);
}

/* --- bandwidth --- */

static gboolean
c_on_h (gpointer data)
{
  return last_are (&((Fx *)data)->c, 1, 40);
}

static gboolean
c_on_q (gpointer data)
{
  return last_are (&((Fx *)data)->c, 0, 30);
}

/* Where @s last went from one layer to another: the index of the first
 * packet of the new layer. */
static guint
last_switch (Sub *s)
{
  for (guint i = s->got->len - 1; i > 0; i--)
    if (g_array_index (s->got, Got, i).layer
        != g_array_index (s->got, Got, i - 1).layer)
      return i;
  return 0;
}

static void
test_remb_goes_down (Fx *fx, gconstpointer unused)
{
  const Got *before, *after;
  guint at;

  hint (&fx->c, fx->a->video_sid, -1, 640, 360);
  g_assert_true (wait_for (c_on_h, fx, 30));
  fx->c.remb = 150000;
  g_assert_true (wait_for (c_on_q, fx, 30));
  at = last_switch (&fx->c);
  g_assert_cmpuint (at, >, 0);
  before = &g_array_index (fx->c.got, Got, at - 1);
  after = &g_array_index (fx->c.got, Got, at);
  g_test_message ("switch h -> q: seq %u -> %u, ts %u -> %u", before->seq,
      after->seq, before->ts, after->ts);
  g_assert_cmpint (before->layer, ==, 1);
  g_assert_cmpint (after->layer, ==, 0);
  g_assert_true (after->keyframe);
  g_assert_cmpuint (after->ssrc, ==, before->ssrc);
  g_assert_cmpuint ((guint16)(after->seq - before->seq), ==, 1);
  g_assert_cmpint ((gint32)(after->ts - before->ts), >, 0);
  g_assert_cmpint ((gint32)(after->ts - before->ts), <, 90000);
  assert_one_ssrc (fx, &fx->c, 0);
}

/* --- switch-off --- */

static JsonObject *
event (Sub *s, const gchar *type)
{
  for (guint i = 0; i < s->events->len; i++) {
    JsonObject *e = g_ptr_array_index (s->events, i);
    if (g_str_equal (json_object_get_string_member (e, "type"), type))
      return e;
  }
  return NULL;
}

static gboolean
b_switched_off (gpointer data)
{
  return event (&((Fx *)data)->b, "track_switched_off") != NULL;
}

static gboolean
b_switched_on (gpointer data)
{
  return event (&((Fx *)data)->b, "track_switched_on") != NULL;
}

static guint c_mark;

static gboolean
c_got_90_more (gpointer data)
{
  return ((Fx *)data)->c.got->len >= c_mark + 90;
}

static gboolean
b_gets_video (gpointer data)
{
  return ((Fx *)data)->b.got->len >= 10;
}

static guint b_mark;

static gboolean
b_got_more (gpointer data)
{
  return ((Fx *)data)->b.got->len > b_mark;
}

static void
test_switch_off_by_hint (Fx *fx, gconstpointer unused)
{
  JsonObject *off, *on;
  guint b_before;

  g_assert_true (wait_for (b_gets_video, fx, 30));
  hint (&fx->b, fx->a->video_sid, FALSE, 0, 0);
  g_assert_true (wait_for (b_switched_off, fx, 30));
  off = event (&fx->b, "track_switched_off");
  g_assert_cmpstr (
      json_object_get_string_member (off, "track_sid"), ==, fx->a->video_sid);
  g_assert_cmpstr (json_object_get_string_member (off, "reason"), ==,
      "disabled-by-subscriber");
  g_assert_nonnull (json_object_get_string_member (off, "participant_sid"));
  /* while C receives three seconds of video, B gets none */
  b_before = fx->b.got->len;
  c_mark = fx->c.got->len;
  g_assert_true (wait_for (c_got_90_more, fx, 30));
  g_assert_cmpuint (fx->b.got->len, ==, b_before);
  g_assert_null (event (&fx->b, "track_switched_on"));

  hint (&fx->b, fx->a->video_sid, TRUE, 0, 0);
  g_assert_true (wait_for (b_switched_on, fx, 30));
  on = event (&fx->b, "track_switched_on");
  g_assert_cmpstr (
      json_object_get_string_member (on, "track_sid"), ==, fx->a->video_sid);
  /* the event goes out with the first packet, on another socket: either
   * may be read first */
  b_mark = b_before;
  g_assert_true (wait_for (b_got_more, fx, 30));
  /* it came back at a keyframe */
  g_assert_true (g_array_index (fx->b.got, Got, b_before).keyframe);
}

/* --- adaptive simulcast --- */

static gboolean
only_q_active (gpointer data)
{
  Fx *fx = data;

  return fx->layer_active[0] && !fx->layer_active[1] && !fx->layer_active[2];
}

static gboolean
f_active_and_c_on_f (gpointer data)
{
  Fx *fx = data;

  return fx->layer_active[2] && last_are (&fx->c, 2, 30);
}

static void
test_publish_layers (Fx *fx, gconstpointer unused)
{
  /* after the publish answer: everything */
  g_assert_true (
      fx->layer_active[0] && fx->layer_active[1] && fx->layer_active[2]);
  hint (&fx->b, fx->a->video_sid, -1, 320, 180);
  hint (&fx->c, fx->a->video_sid, -1, 320, 180);
  g_assert_true (wait_for (only_q_active, fx, 30));
  hint (&fx->c, fx->a->video_sid, -1, 1280, 720);
  g_assert_true (wait_for (f_active_and_c_on_f, fx, 30));
  g_assert_false (fx->layer_active[1]);
}

/* --- bandwidth profile --- */

static gboolean
c_has_events (gpointer data)
{
  return ((Fx *)data)->c.events->len >= 2;
}

static gboolean
c_on_f (gpointer data)
{
  return last_are (&((Fx *)data)->c, 2, 60);
}

static gboolean
rest_says_c_gets_q (gpointer data)
{
  Fx *fx = data;
  g_autofree gchar *path = g_strdup_printf (
      "/v1/Rooms/sim/Participants/sub-2/SubscribedTracks/%s", fx->a->video_sid);
  gint64 now = g_get_monotonic_time ();

  if (now - fx->rest_us < 250 * 1000)
    return FALSE;
  fx->rest_us = now;
  g_free (fx->rest);
  fx->rest = hq_test_server_rest (fx->server, "GET", path, NULL);
  return fx->rest && strstr (fx->rest, "\"layer\":\"q\"") != NULL;
}

static void
test_profile (Fx *fx, gconstpointer unused)
{
  JsonObject *m, *video, *reply, *err;
  g_autofree gchar *tracks = NULL;
  g_autofree gchar *path = NULL;

  hint (&fx->c, fx->a->video_sid, -1, 1280, 720);
  g_assert_true (wait_for (c_on_f, fx, 30));

  m = hq_protocol_message_new (HQ_MESSAGE_BANDWIDTH_PROFILE, "bad");
  video = json_object_new ();
  json_object_set_string_member (video, "mode", "big");
  json_object_set_object_member (m, "video", video);
  hq_sfu_client_send_message (fx->c.c, m);
  m = hq_protocol_message_new (HQ_MESSAGE_BANDWIDTH_PROFILE, "good");
  video = json_object_new ();
  json_object_set_string_member (video, "mode", "grid");
  json_object_set_int_member (video, "max_subscription_bitrate", 200000);
  json_object_set_object_member (m, "video", video);
  hq_sfu_client_send_message (fx->c.c, m);
  g_assert_true (wait_for (c_has_events, fx, 30));
  err = g_ptr_array_index (fx->c.events, 0);
  g_assert_cmpstr (json_object_get_string_member (err, "type"), ==, "error");
  g_assert_cmpstr (
      json_object_get_string_member (err, "code"), ==, "invalid_field");
  g_assert_nonnull (
      strstr (json_object_get_string_member (err, "message"), "video.mode"));
  reply = g_ptr_array_index (fx->c.events, 1);
  g_assert_cmpstr (json_object_get_string_member (reply, "id"), ==, "good");
  video = json_object_get_object_member (reply, "video");
  g_assert_cmpstr (json_object_get_string_member (video, "mode"), ==, "grid");
  g_assert_cmpint (
      json_object_get_int_member (video, "max_subscription_bitrate"), ==,
      200000);
  g_assert_cmpstr (
      json_object_get_string_member (video, "track_switch_off_mode"), ==,
      "predicted");
  /* 200 kbit/s less C's audio from A carries q only */
  g_assert_true (wait_for (c_on_q, fx, 30));

  /* REST: A's layers, and the layer C gets */
  path = g_strdup_printf (
      "/v1/Rooms/sim/Participants/sim-0/PublishedTracks/%s", fx->a->video_sid);
  tracks = hq_test_server_rest (fx->server, "GET", path, NULL);
  g_test_message ("%s", tracks);
  g_assert_nonnull (tracks);
  g_assert_nonnull (strstr (tracks, "\"layers\""));
  g_assert_nonnull (strstr (tracks, "\"rid\":\"q\""));
  g_assert_nonnull (strstr (tracks, "\"width\":320"));
  g_assert_nonnull (strstr (tracks, "\"height\":720"));
  /* the server's view is once a second: ask until it has caught up */
  g_assert_true (wait_for (rest_says_c_gets_q, fx, 30));
  g_test_message ("%s", fx->rest);
  g_assert_nonnull (strstr (fx->rest, "\"switched_off\":false"));
  g_assert_nonnull (strstr (fx->rest, "\"switch_off_reason\":null"));
}

/* --- probing --- */

static void
test_probe_regains_layer (Fx *fx, gconstpointer unused)
{
  guint padding;

  fx->c.twcc = hq_twcc_recorder_new ();
  hint (&fx->c, fx->a->video_sid, -1, 1280, 720);
  g_assert_true (wait_for (c_on_f, fx, 30));
  /* on the layer it asks for: nothing to probe for */
  g_assert_cmpuint (fx->c.padding, ==, 0);
  fx->c.drift_step_ms = 1.0;
  g_assert_true (wait_for (c_on_q, fx, 30));
  padding = fx->c.padding;
  fx->c.drift_step_ms = 0;
  if (!wait_for (c_on_f, fx, 60))
    g_error ("C stayed below f after the queue stopped growing: its last "
             "layer %d, %u padding packets",
        g_array_index (fx->c.got, Got, fx->c.got->len - 1).layer,
        fx->c.padding);
  g_test_message ("back on f after %u padding packets", fx->c.padding);
  g_assert_cmpuint (fx->c.padding, >, padding);
  g_assert_cmpuint (fx->c.padding_wrong, ==, 0);
}

/* --- switch-off modes --- */

static guint
count_events (Sub *s, const gchar *type, JsonObject **last)
{
  guint n = 0;

  for (guint i = 0; i < s->events->len; i++) {
    JsonObject *e = g_ptr_array_index (s->events, i);
    if (g_str_equal (json_object_get_string_member (e, "type"), type)) {
      n++;
      if (last)
        *last = e;
    }
  }
  return n;
}

static guint c_off_mark, c_on_mark;

static gboolean
c_switched_off_again (gpointer data)
{
  return count_events (&((Fx *)data)->c, "track_switched_off", NULL)
      > c_off_mark;
}

static gboolean
c_switched_on_again (gpointer data)
{
  return count_events (&((Fx *)data)->c, "track_switched_on", NULL) > c_on_mark;
}

static void
switch_off_mode (Sub *s, const gchar *mode)
{
  JsonObject *m = hq_protocol_message_new (HQ_MESSAGE_BANDWIDTH_PROFILE, NULL);
  JsonObject *video = json_object_new ();

  json_object_set_string_member (video, "track_switch_off_mode", mode);
  json_object_set_object_member (m, "video", video);
  hq_sfu_client_send_message (s->c, m);
}

/* A receiver report saying @fraction_lost (in 1/256) of A's video as @s
 * gets it was lost. */
static void
report_loss (Sub *s, guint8 fraction_lost)
{
  HqRtcpReportBlock block = { 0 };
  guint8 buf[64];
  HqRtcpWriter w;

  block.ssrc = s->video_ssrc;
  block.fraction_lost = fraction_lost;
  hq_rtcp_writer_init (&w, buf, sizeof buf);
  g_assert_true (hq_rtcp_write_rr (&w, 0x5eb, &block, 1, NULL));
  hq_sfu_client_send_rtcp (s->c, FALSE, buf, w.len);
}

static void
assert_off_for_congestion (Sub *s)
{
  JsonObject *off = NULL;

  count_events (s, "track_switched_off", &off);
  g_assert_nonnull (off);
  g_assert_cmpstr (
      json_object_get_string_member (off, "reason"), ==, "network-congestion");
}

static void
test_switch_off_detected (Fx *fx, gconstpointer unused)
{
  hint (&fx->c, fx->a->video_sid, -1, 1280, 720);
  g_assert_true (wait_for (c_on_f, fx, 30));
  /* predicted (the default): an estimate that carries no layer, and the
   * track is switched off, though nothing was lost */
  fx->c.remb = 30000;
  c_off_mark = 0;
  g_assert_true (wait_for (c_switched_off_again, fx, 30));
  assert_off_for_congestion (&fx->c);

  /* detected: no loss and no overuse reported, so it comes back on its
   * lowest layer and stays on */
  c_on_mark = count_events (&fx->c, "track_switched_on", NULL);
  c_off_mark = count_events (&fx->c, "track_switched_off", NULL);
  switch_off_mode (&fx->c, "detected");
  g_assert_true (wait_for (c_switched_on_again, fx, 30));
  /* (the video after the event; what was paced for it before may come
   * first) */
  g_assert_true (wait_for (c_on_q, fx, 30));
  c_mark = fx->c.got->len;
  g_assert_true (wait_for (c_got_90_more, fx, 30));
  for (guint i = c_mark; i < fx->c.got->len; i++)
    g_assert_cmpint (g_array_index (fx->c.got, Got, i).layer, ==, 0);
  g_assert_cmpuint (
      count_events (&fx->c, "track_switched_off", NULL), ==, c_off_mark);

  /* its reports say 20 % is lost: congestion detected, switched off */
  report_loss (&fx->c, 51);
  g_assert_true (wait_for (c_switched_off_again, fx, 30));
  assert_off_for_congestion (&fx->c);
}

/* --- retransmission --- */

/* The first sequence number missing from what @s received (in its own,
 * rewritten numbers), or -1. */
static gint
first_gap (Sub *s)
{
  for (guint i = 1; i < s->got->len; i++) {
    guint16 prev = g_array_index (s->got, Got, i - 1).seq;
    if (g_array_index (s->got, Got, i).seq != (guint16)(prev + 1))
      return (guint16)(prev + 1);
  }
  return -1;
}

static gboolean
c_has_gap (gpointer data)
{
  return first_gap (&((Fx *)data)->c) >= 0;
}

static gint c_missing;

static gboolean
c_got_missing (gpointer data)
{
  Sub *c = &((Fx *)data)->c;

  for (guint i = 0; i < c->got->len; i++)
    if (g_array_index (c->got, Got, i).seq == c_missing)
      return TRUE;
  return FALSE;
}

static void
test_rtx_repaired_rid (Fx *fx, gconstpointer unused)
{
  guint8 buf[64];
  guint16 lost;
  HqRtcpWriter w;

  hint (&fx->c, fx->a->video_sid, -1, 1280, 720);
  g_assert_true (wait_for (c_on_f, fx, 30));
  /* a packet of f lost on the way to the server */
  fx->dropped_seq = -1;
  fx->drop_f = TRUE;
  g_assert_true (wait_for (c_has_gap, fx, 30));
  c_missing = first_gap (&fx->c);
  g_test_message ("C misses %d (A's %d)", c_missing, fx->dropped_seq);
  /* C asks for it; the server never had it, so asks A, who sends it as
   * RTX with the repaired-RID extension; C gets the original packet */
  lost = (guint16)c_missing;
  hq_rtcp_writer_init (&w, buf, sizeof buf);
  g_assert_true (
      hq_rtcp_write_nack (&w, 0x5eb, fx->c.video_ssrc, &lost, 1, NULL));
  hq_sfu_client_send_rtcp (fx->c.c, FALSE, buf, w.len);
  if (!wait_for (c_got_missing, fx, 10))
    g_error ("C never got %d: A %s it as RTX", c_missing,
        fx->rtx_sent ? "sent" : "was not asked for");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gst_init (NULL, NULL);
  g_test_add ("/simulcast/render-dimensions", Fx, NULL, fx_setup,
      test_render_dimensions, fx_teardown);
  g_test_add ("/simulcast/remb-goes-down-at-keyframe", Fx, NULL, fx_setup,
      test_remb_goes_down, fx_teardown);
  g_test_add ("/simulcast/switch-off-by-hint", Fx, NULL, fx_setup,
      test_switch_off_by_hint, fx_teardown);
  g_test_add ("/simulcast/publish-layers", Fx, NULL, fx_setup,
      test_publish_layers, fx_teardown);
  g_test_add ("/simulcast/rtx-repaired-rid", Fx, NULL, fx_setup,
      test_rtx_repaired_rid, fx_teardown);
  g_test_add ("/simulcast/switch-off-detected", Fx, NULL, fx_setup,
      test_switch_off_detected, fx_teardown);
  g_test_add ("/simulcast/probe-regains-layer", Fx, NULL, fx_setup,
      test_probe_regains_layer, fx_teardown);
  g_test_add ("/simulcast/bandwidth-profile", Fx, NULL, fx_setup, test_profile,
      fx_teardown);
  return g_test_run ();
}
