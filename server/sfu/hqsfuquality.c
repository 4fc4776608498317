/* Network quality (docs/netq.md): once a second each participant is
 * scored from what we receive of its tracks and what its receiver reports
 * say of what it receives, and everyone is sent the levels it asked for
 * (network_quality). */
#include "hqsfuquality.h"
#include "hqsfuedge.h"
#include "hqmetrics.h"
#include <hq/hqprotocol.h>

#include <string.h>

void
hq_sfu_participant_set_metrics_level (HqSfuParticipant *p, gint level)
{
  if (level == p->metrics_level)
    return;
  if (p->metrics_level >= 0 && p->metrics_level <= 5)
    hq_metrics_gauge_add (HQ_GAUGE_NETQ_LEVEL_0 + p->metrics_level, -1);
  if (level >= 0 && level <= 5)
    hq_metrics_gauge_add (HQ_GAUGE_NETQ_LEVEL_0 + level, 1);
  p->metrics_level = level;
}

/* One interval's quality samples of @p, by direction (0: what it sends,
 * as we receive it; 1: what it receives, as its reports say) and kind
 * (0 audio, 1 video). */
typedef struct
{
  HqNetqSample s[2][2][HQ_TRACKS_MAX_SAMPLES];
  guint n[2][2];
} QualitySamples;

static void
add_sample (QualitySamples *q, guint dir, const HqNetqSample *s)
{
  guint kind = s->kind == HQ_NETQ_AUDIO ? 0 : 1;

  if (q->n[dir][kind] < HQ_TRACKS_MAX_SAMPLES)
    q->s[dir][kind][q->n[dir][kind]++] = *s;
}

static void
quality_samples (HqSfuParticipant *p, QualitySamples *q, gint64 now)
{
  memset (q->n, 0, sizeof q->n);
  for (guint i = 0; i < p->tracks->len; i++) {
    HqSfuTrack *t = g_ptr_array_index (p->tracks, i);
    HqNetqSample s = { .kind = t->kind == HQ_SDP_KIND_AUDIO ? HQ_NETQ_AUDIO
                                                            : HQ_NETQ_VIDEO,
      .rtt_ms = p->rtt_ms,
      .bitrate_bps = t->bitrate_bps };
    if (!t->ssrc || !t->enabled || !hq_sfu_connected (p->pub))
      continue;
    /* A track its publisher ended (BYE) carries nothing by design; one
     * that went silent while enabled still counts as silent. */
    if (t->gone && t->said_bye)
      continue;
    if (t->have_report) {
      s.fraction_lost = t->report.fraction_lost / 256.0;
      s.jitter_ms =
          t->clock_rate ? t->report.jitter * 1000.0 / t->clock_rate : 0;
    }
    /* Bandwidth against demand: what arrived of what the publisher sent
     * between its last two sender reports.  A link that carries less
     * than the publisher sends queues or drops the rest; before its
     * queue overflows into loss, only this shows it. */
    if (t->sr_sent_bps > 0) {
      s.bitrate_bps = t->sr_delivered_bps;
      s.demand_bps = t->sr_sent_bps;
    }
    /* Media expected, none came: the publisher is unreachable. */
    s.silent = t->stats.received == t->quality_seen;
    t->quality_seen = t->stats.received;
    add_sample (q, 0, &s);
  }
  for (guint i = 0; i < p->subs->len; i++) {
    HqSfuSub *sub = g_ptr_array_index (p->subs, i);
    HqNetqSample s;
    if (!sub->negotiated || !sub->started)
      continue;
    s = sub->quality;
    /* The publish and subscribe legs share the path: one RTT for both. */
    s.rtt_ms = p->rtt_ms;
    s.bitrate_bps = sub->bitrate_bps;
    if (sub->track->kind == HQ_SDP_KIND_VIDEO && sub->share_bps >= 0) {
      /* Bandwidth against demand: what this subscriber can take for the
       * track (its share) against what the publisher sends of it. */
      s.demand_bps = sub->track->bitrate_bps;
      s.available_bps = MAX (sub->share_bps, 1.0);
    }
    add_sample (q, 1, &s);
  }
}

/* Scores @p for this interval and keeps its full report (levels by
 * direction and kind, and the figures) in p->quality_report. */
static gboolean
transport_failed (HqTransport *t)
{
  return t && hq_transport_get_state (t) == HQ_TRANSPORT_STATE_FAILED;
}

void
hq_sfu_score_participant (HqSfuParticipant *p, gint64 now)
{
  static const gchar *const dirs[] = { "send", "recv" };
  static const gchar *const kinds[] = { "audio", "video" };
  QualitySamples *q = g_new0 (QualitySamples, 1);
  HqNetqSample all[4 * HQ_TRACKS_MAX_SAMPLES];
  JsonObject *report = json_object_new ();
  JsonObject *stats = json_object_new ();
  guint n_all = 0;
  gint level;

  quality_samples (p, q, now);
  for (guint d = 0; d < 2; d++) {
    HqNetqSample dir_samples[2 * HQ_TRACKS_MAX_SAMPLES];
    guint n_dir = 0;
    JsonObject *dir_stats = json_object_new ();
    for (guint k = 0; k < 2; k++) {
      gdouble lost = 0, jitter = 0, rtt = -1, bitrate = 0, demand = 0;
      gdouble available = -1;
      for (guint i = 0; i < q->n[d][k]; i++) {
        const HqNetqSample *s = &q->s[d][k][i];
        dir_samples[n_dir++] = *s;
        all[n_all++] = *s;
        lost = MAX (lost, s->fraction_lost);
        jitter = MAX (jitter, s->jitter_ms);
        rtt = MAX (rtt, s->rtt_ms);
        bitrate += s->bitrate_bps;
        demand += s->demand_bps;
        if (s->available_bps > 0)
          available = available < 0 ? s->available_bps
                                    : MIN (available, s->available_bps);
      }
      p->part_level[d][k] =
          hq_netq_score_update (&p->part_quality[d][k], q->s[d][k], q->n[d][k]);
      if (q->n[d][k] > 0) {
        JsonObject *f = json_object_new ();
        json_object_set_double_member (f, "fraction_lost", lost);
        json_object_set_double_member (f, "jitter_ms", jitter);
        if (rtt >= 0)
          json_object_set_double_member (f, "rtt_ms", rtt);
        else
          json_object_set_null_member (f, "rtt_ms");
        json_object_set_double_member (f, "bitrate_bps", bitrate);
        if (demand > 0)
          json_object_set_double_member (f, "demand_bps", demand);
        if (available > 0)
          json_object_set_double_member (f, "available_bps", available);
        json_object_set_object_member (dir_stats, kinds[k], f);
      }
    }
    p->dir_level[d] =
        hq_netq_score_update (&p->dir_quality[d], dir_samples, n_dir);
    json_object_set_object_member (stats, dirs[d], dir_stats);
  }
  level = hq_netq_score_update (&p->quality, all, n_all);
  /* A failed transport carries nothing: that link is broken (level 0, as
   * Twilio's "network broken"), not perfect for want of samples. */
  if (transport_failed (p->pub)) {
    p->dir_level[0] = 0;
    level = 0;
  }
  if (hq_sfu_sub_failed (p)) {
    p->dir_level[1] = 0;
    level = 0;
  }
  json_object_set_int_member (report, "level", level);
  hq_sfu_participant_set_metrics_level (p, level);
  json_object_set_int_member (report, "send", p->dir_level[0]);
  json_object_set_int_member (report, "recv", p->dir_level[1]);
  for (guint k = 0; k < 2; k++) {
    JsonObject *o = json_object_new ();
    json_object_set_int_member (o, "send", p->part_level[0][k]);
    json_object_set_int_member (o, "recv", p->part_level[1][k]);
    json_object_set_object_member (report, kinds[k], o);
  }
  json_object_set_object_member (report, "stats", stats);
  g_clear_pointer (&p->quality_report, json_object_unref);
  p->quality_report = report;
  g_free (q);
}

/* @about's report as @to may see it: verbosity 1 the level, 2 also the
 * send/recv levels, 3 also the figures (docs/protocol.md). */
static JsonObject *
report_for (HqSfuParticipant *about, guint verbosity)
{
  JsonObject *r = about->quality_report;
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "participant_sid", about->sid);
  json_object_set_string_member (o, "identity", about->identity);
  json_object_set_int_member (
      o, "level", json_object_get_int_member (r, "level"));
  if (verbosity >= 2) {
    json_object_set_int_member (
        o, "send", json_object_get_int_member (r, "send"));
    json_object_set_int_member (
        o, "recv", json_object_get_int_member (r, "recv"));
    json_object_set_member (
        o, "audio", json_node_copy (json_object_get_member (r, "audio")));
    json_object_set_member (
        o, "video", json_node_copy (json_object_get_member (r, "video")));
  }
  if (verbosity >= 3)
    json_object_set_member (
        o, "stats", json_node_copy (json_object_get_member (r, "stats")));
  return o;
}

/* Each participant gets its own level at its local verbosity and the
 * others' at its remote verbosity (0: not at all). */
void
hq_sfu_quality_send (HqSfuRoomMedia *media)
{
  GHashTableIter iter, inner;
  gpointer value, other;

  g_hash_table_iter_init (&iter, media->participants);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    HqSfuParticipant *to = value;
    JsonArray *levels = json_array_new ();
    JsonObject *msg;

    g_hash_table_iter_init (&inner, media->participants);
    while (g_hash_table_iter_next (&inner, NULL, &other)) {
      HqSfuParticipant *about = other;
      guint v = about == to ? to->verbosity_local : to->verbosity_remote;
      if (v > 0 && !about->hidden)
        json_array_add_object_element (levels, report_for (about, v));
    }
    msg = hq_protocol_message_new (HQ_MESSAGE_NETWORK_QUALITY, NULL);
    json_object_set_array_member (msg, "participants", levels);
    if (to->verbosity_local > 0 || to->verbosity_remote > 0)
      hq_sfu_room_send (media->room, to->sid, msg);
    json_object_unref (msg);
  }
}
