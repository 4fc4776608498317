/* Probing the subscribe leg (docs/sfu.md, "Probing").  Runs on the
 * room's worker only.
 *
 * An SFU sends a subscriber only what publishers send.  Once congestion
 * has brought a subscriber down to a simulcast track's lowest layer, its
 * transport-wide estimate (hqsfutwcc.c, never past 1.5 times what it
 * receives) cannot show that the link has room again, and it would stay
 * there.  So, when a subscription gets less than its render size asks
 * for and the estimate is short of what the next layer up needs, the
 * server sends that subscriber a probe cluster: for PROBE_CLUSTER_US,
 * padding-only packets at the rate the next layer needs (at most
 * PROBE_STEP times the estimate), each with the transport-wide number of
 * the subscribe leg.  libhq's estimator (hqtwcc.h) judges the cluster by
 * the feedback and raises the estimate to the rate it proved; then the
 * layers are chosen again at once, and a switch up waits for a keyframe
 * as always.  A cluster that reached its target is followed by the next
 * step at once (the exponential probing of libwebrtc's probe
 * controller); one that failed, or proved less, holds probing back for
 * PROBE_BACKOFF_MIN_US, doubling with each failure up to
 * PROBE_BACKOFF_MAX_US.  Never while the estimator sees over-use or
 * loss (hq_twcc_sender_may_probe()).
 *
 * The padding goes on a video subscription's own SSRC: our subscribe
 * offers have no RTX, and Chromium takes a padding-only packet on a media
 * SSRC as a filler of the sequence (libwebrtc's receiver inserts it as
 * padding, and sends padding there itself when it has no RTX).  Each
 * takes the next sequence number and the last timestamp of that stream,
 * so the stream stays continuous; it goes only between frames (after a
 * packet with the marker bit), as a filler inside a frame would break
 * the frame's sequence.  NACKs for numbers before a padding run are not
 * answered afterwards (hq_sfu_sub_nack_ok(), as after a layer switch):
 * the offsets moved by the padding.
 */
#include "hqsfuprobe.h"
#include "hqsfubwe.h"
#include "hqsfushard.h"
#include "hqsfupace.h"
#include "hqsfusimulcast.h"
#include "hqsfutwcc.h"
#include "hqlog.h"

/* A cluster lasts this long, sent by a timer this often. */
#define PROBE_CLUSTER_US (50 * 1000)
#define PROBE_TICK_MS 5
/* Aimed at no more than this times the estimate. */
#define PROBE_STEP 2.0
/* A cluster has about this many packets, within the padding limits. */
#define PROBE_PACKETS 16
#define PROBE_MIN_PADDING 40
/* Most packets one tick sends (a late timer catches up, in bounds). */
#define PROBE_MAX_PER_TICK 40
/* A cluster that proved this share of its target succeeded. */
#define PROBE_SUCCESS 0.9
#define PROBE_BACKOFF_MIN_US G_USEC_PER_SEC
#define PROBE_BACKOFF_MAX_US (30 * G_USEC_PER_SEC)

struct _HqSfuProbe
{
  GSource *timer; /* while a cluster is sent or awaits its result */
  guint8 cluster; /* 0: none out */
  gboolean sending;
  gdouble target_bps;
  gdouble estimate_bps; /* when it began */
  guint padding; /* octets per packet */
  gint64 started_us;
  gdouble sent_bytes;
  guint sent_packets;
  gint64 not_before_us; /* backoff */
  gint64 backoff_us;
};

/* The estimate @p's subscriptions would need to each get the next layer
 * their render size asks for: the estimate plus what each one's share
 * lacks; no more than max_subscription_bitrate.  Not above @est when
 * none lacks anything. */
static gdouble
probe_goal (HqSfuParticipant *p, gdouble est)
{
  gdouble goal = est;

  for (guint i = 0; i < p->subs->len; i++) {
    HqSfuSub *sub = g_ptr_array_index (p->subs, i);
    gdouble need;

    if (sub->share_bps >= 0 && hq_sfu_simulcast_wants_more (sub, &need))
      goal += MAX (0.0, need - sub->share_bps);
  }
  if (p->profile.max_subscription_bitrate > 0)
    goal = MIN (goal, (gdouble)p->profile.max_subscription_bitrate);
  return goal;
}

/* Whether @sub's stream is between frames: the last packet it was sent
 * ended a frame (the marker bit, as the publisher's history holds it). */
static gboolean
at_frame_end (HqSfuSub *sub)
{
  HqSfuTrack *stream = hq_sfu_sub_stream (sub);
  guint16 in_seq = (guint16)(sub->last_seq - sub->seq_delta);
  const HqSfuPacket *slot;

  if (stream->history == NULL)
    return FALSE;
  slot = &stream->history[in_seq % HQ_SFU_HISTORY];
  return slot->len >= 12 && slot->seq == in_seq && (slot->data[1] & 0x80);
}

/* A video subscription of @p whose stream can take padding now. */
static HqSfuSub *
carrier (HqSfuParticipant *p)
{
  for (guint i = 0; i < p->subs->len; i++) {
    HqSfuSub *sub = g_ptr_array_index (p->subs, i);

    if (sub->track->kind == HQ_SDP_KIND_VIDEO && sub->negotiated && sub->started
        && sub->last_us != 0 && (sub->track->n_layers == 0 || sub->layer >= 0)
        && at_frame_end (sub))
      return sub;
  }
  return NULL;
}

/* One padding-only packet of the cluster on @sub's stream. */
static gboolean
send_padding (HqSfuParticipant *p, HqSfuProbe *pr, HqSfuSub *sub, gint64 now)
{
  guint8 *out = p->scratch;
  guint16 seq = (guint16)(sub->last_seq + 1);
  gsize len = hq_sfu_twcc_write_probe (p, out, pr->padding, pr->cluster, now);

  if (len == 0)
    return FALSE;
  hq_rtp_set_payload_type (out, (guint8)sub->pt);
  hq_rtp_set_seq (out, seq);
  hq_rtp_set_timestamp (out, sub->last_ts);
  hq_rtp_set_ssrc (out, sub->ssrc);
  pr->sent_bytes += len;
  if (!hq_sfu_sub_send (p, FALSE, out, len, sizeof p->scratch))
    return FALSE;
  hq_sfu_pace_charge (p, len, now);
  /* the stream goes on after it; older numbers are not answered */
  sub->last_seq = seq;
  sub->seq_delta++;
  sub->switch_seq = (guint16)(seq + 1);
  sub->have_switch_seq = TRUE;
  pr->sent_packets++;
  return TRUE;
}

static gboolean probe_tick (gpointer data);

/* Starts a cluster at @target_bps. */
static void
begin_cluster (HqSfuParticipant *p, gdouble est, gdouble target_bps, gint64 now)
{
  HqSfuProbe *pr = p->probe;
  gdouble bytes = target_bps * PROBE_CLUSTER_US / 8.0 / G_USEC_PER_SEC;

  pr->cluster = hq_twcc_sender_probe_begin (p->sub_twcc, now);
  pr->sending = TRUE;
  pr->target_bps = target_bps;
  pr->estimate_bps = est;
  pr->padding = (guint)CLAMP (
      bytes / PROBE_PACKETS - 20, PROBE_MIN_PADDING, HQ_RTP_MAX_PADDING);
  pr->started_us = now;
  pr->sent_bytes = 0;
  pr->sent_packets = 0;
  if (pr->timer == NULL) {
    pr->timer = g_timeout_source_new (PROBE_TICK_MS);
    g_source_set_callback (pr->timer, probe_tick, p, NULL);
    g_source_attach (pr->timer, hq_worker_get_context (p->media->room->worker));
  }
}

/* Starts a cluster when @p wants one and may have it. */
static gboolean
maybe_begin (HqSfuParticipant *p, gint64 now)
{
  gdouble est = hq_sfu_twcc_estimate (p, now), goal;

  if (est < 0 || p->hidden || !hq_sfu_connected (p->sub)
      || (p->probe && (p->probe->cluster || now < p->probe->not_before_us)))
    return FALSE;
  goal = probe_goal (p, est);
  if (goal <= est || !hq_twcc_sender_may_probe (p->sub_twcc, now)
      || carrier (p) == NULL)
    return FALSE;
  if (p->probe == NULL)
    p->probe = g_new0 (HqSfuProbe, 1);
  begin_cluster (p, est, MIN (goal, PROBE_STEP * est), now);
  return TRUE;
}

/* The cluster's result is in: backoff, or the layers again and maybe
 * the next step. */
static void
cluster_done (
    HqSfuParticipant *p, HqTwccProbeState state, gdouble bps, gint64 now)
{
  HqSfuProbe *pr = p->probe;
  gboolean reached =
      state == HQ_TWCC_PROBE_DONE && bps >= PROBE_SUCCESS * pr->target_bps;
  JsonObject *line = hq_log_begin (HQ_LOG_INFO, "sfu");

  json_object_set_string_member (line, "what", "probe");
  json_object_set_string_member (line, "room_sid", p->media->room->sid);
  json_object_set_string_member (line, "participant_sid", p->sid);
  json_object_set_int_member (line, "target_bps", (gint64)pr->target_bps);
  json_object_set_int_member (line, "packets", pr->sent_packets);
  json_object_set_int_member (
      line, "estimate_before_bps", (gint64)pr->estimate_bps);
  if (state == HQ_TWCC_PROBE_DONE)
    json_object_set_int_member (line, "proved_bps", (gint64)bps);
  else
    json_object_set_null_member (line, "proved_bps");
  json_object_set_int_member (
      line, "estimate_bps", (gint64)hq_sfu_twcc_estimate (p, now));
  hq_log_end (line);

  pr->cluster = 0;
  if (reached) {
    pr->backoff_us = 0;
  } else {
    pr->backoff_us = pr->backoff_us == 0
        ? PROBE_BACKOFF_MIN_US
        : MIN (pr->backoff_us * 2, PROBE_BACKOFF_MAX_US);
    pr->not_before_us = now + pr->backoff_us;
  }
  if (state == HQ_TWCC_PROBE_DONE) {
    hq_sfu_allocate_shares (p, now);
    hq_sfu_simulcast_select (p, now);
  }
  if (reached)
    maybe_begin (p, now);
}

static gboolean
probe_tick (gpointer data)
{
  HqSfuParticipant *p = data;
  HqSfuProbe *pr = p->probe;
  gint64 now = g_get_monotonic_time ();
  HqTwccProbeState state;
  gdouble bps = -1;

  if (pr->sending) {
    gdouble due = pr->target_bps * (now - pr->started_us + PROBE_TICK_MS * 1000)
        / 8.0 / G_USEC_PER_SEC;
    /* never while paced media waits (it would go ahead of it, into a
     * frame); its bytes are taken from the pacer's bucket */
    HqSfuSub *sub =
        hq_sfu_connected (p->sub) && !hq_sfu_pace_busy (p) ? carrier (p) : NULL;
    guint n = 0;

    while (sub && pr->sent_bytes < due && n++ < PROBE_MAX_PER_TICK)
      if (!send_padding (p, pr, sub, now))
        break;
    if (now - pr->started_us >= PROBE_CLUSTER_US) {
      hq_twcc_sender_probe_end (p->sub_twcc, pr->cluster, now);
      pr->sending = FALSE;
    }
    return G_SOURCE_CONTINUE;
  }
  if (pr->cluster) {
    state = hq_twcc_sender_probe_result (p->sub_twcc, pr->cluster, now, &bps);
    if (state == HQ_TWCC_PROBE_PENDING)
      return G_SOURCE_CONTINUE;
    cluster_done (p, state, bps, now);
  }
  if (pr->cluster)
    return G_SOURCE_CONTINUE; /* the next step began */
  g_source_unref (pr->timer);
  pr->timer = NULL;
  return G_SOURCE_REMOVE;
}

void
hq_sfu_probe_second (HqSfuParticipant *p, gint64 now)
{
  maybe_begin (p, now);
}

void
hq_sfu_probe_clear (HqSfuParticipant *p)
{
  if (p->probe == NULL)
    return;
  if (p->probe->timer) {
    g_source_destroy (p->probe->timer);
    g_source_unref (p->probe->timer);
  }
  g_clear_pointer (&p->probe, g_free);
}
