/* Worker-side state of the SFU, shared by its files (the layering is in
 * hqsfu.c's opening comment).  Everything below HqSfuRoom's `media`
 * pointer lives on the room's worker thread only. */
#ifndef __HQ_SFU_PRIVATE_H__
#define __HQ_SFU_PRIVATE_H__

#include <hq/hqbwprofile.h>
#include <hq/hqdsi.h>
#include <hq/hqnetq.h>
#include <hq/hqrtcp.h>
#include <hq/hqrtp.h>
#include <hq/hqsdp.h>
#include <hq/hqtransport.h>
#include <hq/hqtwcc.h>
#include "hqsfutypes.h"
#include "hqworkers.h"

G_BEGIN_DECLS

/* Most simulcast layers of one video track (hqsdp.h's limit). */
#define HQ_SFU_MAX_LAYERS HQ_SDP_MAX_RIDS
/* Packets of history kept per video track for answering NACKs (about a
 * second at 1 Mbit/s). */
#define HQ_SFU_HISTORY 512
#define HQ_SFU_MAX_PACKET 1500
/* Keyframe requests to one publisher track at most this often. */
#define HQ_SFU_PLI_INTERVAL_US (300 * 1000)
#define HQ_SFU_PLI_MIN_US (100 * 1000)
/* The bitrate the SFU lets each publisher's video reach (REMB) when no
 * subscriber is constrained, and the least it asks for. */
#define HQ_SFU_REMB_BPS 1500000
#define HQ_SFU_REMB_MIN_BPS 100000
/* How fast a publisher's clock may drift against ours, in microseconds a
 * second (1000 ppm, far more than real clocks do). */
#define HQ_SFU_CLOCK_DRIFT_US 1000
/* A publisher's clock offset that moves this far sends its subscribers
 * new sender reports at once (not at the next second), so all of its
 * tracks stay on one mapping at every subscriber. */
#define HQ_SFU_SR_MOVED_US 1000
/* For this long after forwarding to a subscriber starts, it gets our
 * sender report every HQ_SFU_SR_EARLY_INTERVAL_US instead of every
 * second: its jitter buffer's estimate of the delay settles over several
 * seconds, at a different pace per stream, and the subscriber re-lines up
 * its streams only at a report (docs/sfu.md, "Lip sync from the first
 * frame"). */
#define HQ_SFU_SR_EARLY_US (10 * G_USEC_PER_SEC)
#define HQ_SFU_SR_EARLY_INTERVAL_US (100 * 1000)
/* What each audio subscription is assumed to take of a subscriber's
 * estimated bandwidth before video gets the rest. */
#define HQ_SFU_AUDIO_BPS 40000
/* How a subscriber's video bandwidth is shared between the video tracks
 * it receives: in proportion to these weights of their priorities, none
 * below HQ_SFU_REMB_MIN_BPS (docs/sfu.md, REMB policy). */
#define HQ_SFU_WEIGHT_LOW 1
#define HQ_SFU_WEIGHT_STANDARD 2
#define HQ_SFU_WEIGHT_HIGH 4
/* Congestion on a subscriber's link counts as detected
 * (track_switch_off_mode "detected", hq_sfu_twcc_congested()) while its
 * receiver reports said this much video was lost within the last
 * HQ_SFU_CONGESTION_HOLD_US, or its transport-wide estimator saw overuse
 * or loss. */
#define HQ_SFU_CONGESTION_LOSS 0.02
#define HQ_SFU_CONGESTION_HOLD_US (4 * G_USEC_PER_SEC)
/* A subscriber's REMB counts for this long. */
#define HQ_SFU_REMB_VALID_US (5 * G_USEC_PER_SEC)
/* Transport-wide congestion control (hqsfutwcc.c): feedback to a
 * publisher at most this often while its packets come, and where a
 * subscriber's estimate starts: high enough to constrain nobody until
 * its feedback shows congestion (docs/sfu.md, "Congestion control"). */
#define HQ_SFU_TWCC_FEEDBACK_US (50 * 1000)
#define HQ_SFU_TWCC_START_BPS 5000000
/* An enabled track that sends nothing for this long is gone (never while
 * disabled: a muted track may legitimately be silent). */
#define HQ_SFU_AUDIO_TIMEOUT_US (5 * G_USEC_PER_SEC)
#define HQ_SFU_VIDEO_TIMEOUT_US (10 * G_USEC_PER_SEC)
/* Upstream NACKs: one sequence number is asked again only after this
 * long, and at most this many per track per second. */
#define HQ_SFU_NACK_REPEAT_US (100 * 1000)
#define HQ_SFU_NACK_PER_SECOND 250
/* Most quality samples per direction and kind one interval uses. */
#define HQ_TRACKS_MAX_SAMPLES 64
/* Most video tracks one REMB names. */
#define HQ_TRACKS_PER_REMB 32

typedef struct _HqSfuRoomMedia HqSfuRoomMedia;
typedef struct _HqSfuParticipant HqSfuParticipant;
typedef struct _HqSfuTrack HqSfuTrack;
typedef struct _HqSfuSub HqSfuSub;
typedef struct _HqSfuProbe HqSfuProbe;
typedef struct _HqSfuPace HqSfuPace;
typedef struct _HqSfuLeg HqSfuLeg;

struct _HqSfu
{
  HqWorkers *workers;
  HqCertificate *cert;
  gchar *public_address;
  guint port_min, port_max;
  gboolean ice_tcp; /* offer ICE over TCP too */
  guint loudest_audio; /* 0: forward all audio (hqsfuaudio.c) */
  /* A room of this many participants puts later subscribe transports on
   * other workers too (hqsfushard.h); 0: never. */
  guint room_shards;
  GMainContext *main_context;
};

struct _HqSfuRoom
{
  gint refcount; /* atomic: main + queued work */
  HqSfu *sfu;
  HqWorker *worker;
  gchar *sid;
  HqSfuSendFunc send;
  gpointer user_data;
  gboolean alive; /* main context only */
  HqSfuRoomMedia *media; /* worker only */
  guint64 forwarded; /* atomic */
  /* atomic; see HqSfuRoomCounters */
  guint64 nacked, retransmitted, nacked_upstream;
  guint64 forwarded_kind[2]; /* atomic: of those, [audio, video] */
  guint64 silenced_audio; /* atomic: audio held back (hqsfuaudio.c) */
  /* atomic each: packets forwarded by each worker's thread, [its index]
   * (more than one: the room's subscribers are spread, hqsfushard.h) */
  guint64 *forwarded_by_worker;
  guint n_workers;
  guint64 handoff_dropped; /* atomic: lost to a full hand-off ring */
  /* participant sid -> HqSfuAudioCounts, owned; entries are added by the
   * worker and read by the main context under the lock, their counts
   * are atomic; kept until the room goes (a publisher who left still
   * counts). */
  GMutex audio_lock;
  GHashTable *audio_counts;
  /* The worker's last hq_sfu_simulcast_snapshot(), for REST. */
  GMutex layers_lock;
  gchar *layers_json; /* under layers_lock */
  gint64 layers_read_us; /* atomic: when REST last read it */
};

typedef struct
{
  guint16 seq;
  gsize len;
  guint8 data[HQ_SFU_MAX_PACKET];
} HqSfuPacket;

struct _HqSfuTrack
{
  gchar *sid;
  gchar *name;
  HqSdpKind kind;
  HqSfuParticipant *publisher;
  gboolean enabled;
  HqSfuPriority priority;
  /* Set once a publish_offer maps an m-line to the track. */
  gchar *mid;
  guint32 ssrc;
  guint pt;
  gchar *codec; /* "opus", "VP8", "H264" */
  guint clock_rate;
  guint audio_level_id;
  guint32 rtx_ssrc; /* 0 when the publisher sends no RTX */
  gint rtx_pt;
  gint64 last_pli_us;
  gint64 last_keyframe_us; /* the last keyframe packet from the publisher */
  HqRtpRecvStats stats;
  guint32 quality_seen; /* stats.received at the last quality tick */
  HqRtcpReportBlock report; /* this second's, for RR and quality */
  gboolean have_report;
  guint64 octets_in; /* payload bytes received */
  guint64 octets_in_prev; /* at the last second tick */
  gdouble bitrate_bps; /* received in the last second */
  /* Delivery between the publisher's sender reports: what it sent (its
   * SR octet counts) against what arrived here in the same time, for
   * network quality (docs/netq.md); 0 until two SRs 0.5 s apart. */
  gboolean have_sr_octets;
  guint32 sr_octets;
  gint64 sr_octets_ntp_us;
  guint64 sr_octets_in; /* octets_in at that SR */
  gdouble sr_sent_bps;
  gdouble sr_delivered_bps;
  /* The publisher's clock: from its last SR (its RTP time and its
   * wallclock, on our monotonic clock through the participant's
   * sr_offset_us), else its last packet. */
  gboolean have_sr;
  guint32 sr_rtp;
  gint64 sr_ntp_us; /* the SR's NTP time, in microseconds */
  guint32 last_rtp_ts;
  gint64 last_packet_us;
  gint64 timeout_from_us; /* when it was last enabled */
  gboolean gone; /* RTCP BYE, or silent past its timeout while enabled */
  gboolean said_bye;
  HqSfuPacket *history; /* video only: HQ_SFU_HISTORY slots */
  /* Upstream NACKs: when each sequence number was last asked for. */
  guint16 *nack_seq;
  gint64 *nack_us;
  gint64 nack_window_us;
  guint nack_in_window;
  /* Loudest-N audio (hqsfuaudio.c): the loudness (127 - level) of its
   * recent levels, when the last level came, and until when its packets
   * are forwarded (the hangover after it was last among the loudest). */
  gdouble loudness;
  gint64 loudness_us;
  gint64 audible_until_us;
  GPtrArray *subs; /* HqSfuSub, not owned */
  /* Simulcast (hqsfusimulcast.c): a track whose m-line has layers keeps
   * each layer as an HqSfuTrack of its own in @layers (owned; lowest
   * first), which has the stream's SSRCs, stats, history, keyframe and
   * PLI times and clock; the track itself then has no SSRC.  A layer
   * points back at its track with @parent. */
  HqSfuTrack *layers[HQ_SFU_MAX_LAYERS];
  guint n_layers;
  HqSfuTrack *parent;
  guint layer_index;
  gchar *rid;
  guint mid_ext_id, rid_ext_id, rrid_ext_id; /* from our publish answer */
  guint width, height; /* a layer's, from its last VP8 keyframe; 0: unknown */
  gboolean active; /* a layer: as publish_layers last said */
  gint64 wanted_us; /* a layer: when a subscriber last received or wanted it */
};

struct _HqSfuSub
{
  HqSfuTrack *track;
  HqSfuParticipant *subscriber;
  gchar *mid;
  guint32 ssrc; /* what the subscriber sees */
  guint pt; /* in the subscriber's negotiation */
  gboolean negotiated; /* its m-line is in an applied answer */
  gboolean waiting_keyframe;
  gboolean started;
  guint16 seq_delta;
  guint32 ts_delta;
  guint16 last_seq;
  guint32 last_ts;
  guint32 packets_sent; /* for our sender reports */
  guint32 octets_sent;
  guint32 octets_sent_prev; /* at the last second tick */
  gdouble bitrate_bps; /* sent in the last second */
  /* Its part of the subscriber's estimate this second (video only);
   * negative: the subscriber is not constrained. */
  gdouble share_bps;
  gint64 last_us;
  gint64 started_us; /* forwarding began */
  gint64 sr_sent_us; /* our last sender report for it */
  HqNetqSample quality; /* from the subscriber's receiver reports */
  /* Audio packets were held back since the last one it got: the next
   * continues its sequence (hqsfuaudio.c). */
  gboolean audio_held;
  /* Simulcast and switch-off (hqsfusimulcast.c): the layer forwarded
   * (-1: none yet) and the one wanted (-1: switched off); the first
   * sequence number sent after the last switch (NACKs for older ones are
   * not answered from the new layer's history); the subscriber's hints. */
  gint layer;
  gint target_layer;
  gint64 switched_us;
  guint16 switch_seq;
  gboolean have_switch_seq;
  HqSwitchOffReason off_reason; /* NONE: forwarded */
  gboolean off_announced; /* track_switched_off was sent */
  gboolean hint_disabled;
  guint hint_width, hint_height; /* 0: no render dimensions */
};

struct _HqSfuParticipant
{
  HqSfuRoomMedia *media;
  gchar *sid;
  gchar *identity;
  guint32 speaker_id; /* 0: hidden, not a speaker */
  /* A hidden participant (the recorder) is offered only the tracks in
   * @selection, and nobody is told about it (hq_sfu_room_add_hidden). */
  gboolean hidden;
  GHashTable *selection; /* track sid -> itself, hidden only */
  /* Everyone else is offered what its subscribe rules select (hqrules.h;
   * NULL: every track). */
  JsonArray *rules;

  HqTransport *pub;
  /* Some SRTCP came in on @sub: the subscriber has its keys. */
  gboolean sub_heard;
  gint64 sub_waiting_since; /* monotonic µs: first media held back, 0 */
  HqSdp *pub_answer;
  gchar *pub_answer_msg; /* our last publish_answer as sent, for a resume */
  /* Our monotonic clock minus the publisher's wallclock, as its sender
   * reports show it: the least (arrival - NTP) seen, the same for all its
   * tracks, so a report that was late on the way cannot shift one track
   * against the others (lip sync).  It may rise by HQ_SFU_CLOCK_DRIFT_US a
   * second to follow a clock that runs slow. */
  gboolean have_sr_offset;
  gint64 sr_offset_us;
  gint64 sr_offset_at_us;
  gint64 sr_offset_sent_us; /* the offset our reports last went out with */
  GHashTable *pub_ssrcs; /* ssrc -> HqSfuTrack (not owned) */
  GPtrArray *tracks; /* HqSfuTrack, owned */

  HqTransport *sub;
  /* Or the subscribe transport is on another worker (hqsfushard.h): the
   * leg, the state it last said, whether it gathered, and of an ICE
   * restart, whether its new credentials came (@leg_restarted) and it
   * worked.  The worker it was placed on (hq_sfu_leg_place()), NULL
   * before the first subscribe offer. */
  HqSfuLeg *leg;
  HqTransportState leg_state;
  gboolean leg_gathered;
  gboolean leg_restarted, leg_restart_ok;
  HqWorker *sub_worker;
  HqSdp *sub_offer; /* our last offer */
  gchar *sub_offer_msg; /* ...as sent, to send again after a resume */
  /* Our candidates and end_of_candidates messages so far, per transport
   * ([publish, subscribe]), as sent: a resume sends them again. */
  GPtrArray *sent_cands[2];
  gboolean sub_answered; /* the answer to it arrived */
  gboolean sub_dirty; /* subscriptions changed since */
  /* ICE restarts (docs/protocol.md, "When a connection fails"): the
   * participant's ICE ufrag we last applied per transport ([publish,
   * subscribe]; another one in an offer or answer is a restart), whether
   * each was ever connected, and for subscribe, which we offer: a restart
   * to offer, the revision of the last offer that restarted, and the
   * retry timer with its backoff while the transport is failed. */
  gchar *remote_ufrag[2];
  gboolean ever_connected[2];
  gboolean sub_restart_wanted;
  guint sub_restart_revision;
  GSource *sub_restart_timer;
  guint sub_restart_ms;
  guint sub_revision;
  guint next_mid;
  GSource *offer_timer; /* a re-offer gathering changes */
  GPtrArray *subs; /* HqSfuSub, owned */
  /* track sid -> the subscriber's own HqSfuPriority for it
   * (GINT_TO_POINTER), set by subscribe_priority; absent: the track's. */
  GHashTable *sub_priorities;
  GHashTable *sub_ssrcs; /* our ssrc -> HqSfuSub (not owned) */
  /* The bandwidth profile and track hints it sent (hqsfusimulcast.c);
   * hints by track sid (HqTrackHint, owned), kept across a resume. */
  HqBandwidthProfile profile;
  GHashTable *hints;
  gboolean capped_by_profile; /* its estimate is max_subscription_bitrate */
  /* What the subscribe leg can take: the subscriber's REMB and our
   * loss-based estimate from its receiver reports. */
  guint64 remb_bps;
  gint64 remb_us;
  gdouble loss_estimate_bps; /* 0: no estimate yet */
  gdouble video_loss; /* worst video fraction lost reported this second */
  gboolean have_video_loss;
  gint64 video_loss_us; /* when a report last said 2 % or more was lost */
  gdouble rtt_ms; /* from its reports on our SRs; negative: unknown */
  /* Transport-wide congestion control (hqsfutwcc.c): the extension id
   * each leg negotiated (0: none); the publish leg's arrivals and when
   * feedback last went; the subscribe leg's numbering and estimate, and
   * when feedback last matched what we sent. */
  guint pub_twcc_id, sub_twcc_id;
  HqTwccRecorder *pub_twcc;
  gint64 pub_twcc_sent_us;
  HqTwccSender *sub_twcc;
  gint64 sub_twcc_us;
  HqSfuProbe *probe; /* owned, hqsfuprobe.c; NULL until it first probes */
  HqSfuPace *pace; /* owned, hqsfupace.c; NULL until it first sends */
  gdouble shared_bps; /* the estimate the shares were made of; <= 0: none */
  gint metrics_level; /* its level as counted in /metrics; -1: none */
  HqSfuAudioCounts *audio_counts; /* in media->room->audio_counts, or NULL */

  HqNetqScore quality;
  HqNetqScore dir_quality[2]; /* [send, recv] */
  HqNetqScore part_quality[2][2]; /* [send, recv][audio, video] */
  guint dir_level[2];
  guint part_level[2][2];
  JsonObject *quality_report; /* the last interval's, full detail */
  guint verbosity_local; /* network_quality: 0 none .. 3 detailed */
  guint verbosity_remote;
  guint8 scratch[HQ_SFU_MAX_PACKET + HQ_SRTP_MAX_TRAILER];
};

struct _HqSfuRoomMedia
{
  HqSfuRoom *room;
  GHashTable *participants; /* sid -> HqSfuParticipant, owned */
  GHashTable *tracks; /* sid -> HqSfuTrack, not owned */
  HqDsi *dsi;
  guint32 next_speaker_id;
  guint32 dominant_speaker_id; /* 0: none yet */
  guint seconds; /* once-a-second ticks so far */
  GSource *dsi_timer;
  GSource *second_timer;
  guint32 sfu_ssrc; /* sender SSRC of our own RTCP */
  guint *legs_per_worker; /* subscribe transports on each worker */
};

/* The stream @sub's packets come from now: a simulcast track's layer it
 * forwards (else the one it waits for, else the lowest), or the track. */
static inline HqSfuTrack *
hq_sfu_sub_stream (HqSfuSub *sub)
{
  HqSfuTrack *t = sub->track;

  if (t->n_layers == 0)
    return t;
  if (sub->layer >= 0 && (guint)sub->layer < t->n_layers)
    return t->layers[sub->layer];
  if (sub->target_layer >= 0 && (guint)sub->target_layer < t->n_layers)
    return t->layers[sub->target_layer];
  return t->layers[0];
}

/* FALSE for a NACKed sequence number (in @sub's numbering) from before
 * its last layer switch: the new layer's history does not hold it. */
static inline gboolean
hq_sfu_sub_nack_ok (const HqSfuSub *sub, guint16 out_seq)
{
  return !sub->have_switch_seq || out_seq == sub->switch_seq
      || (gint16)(out_seq - sub->switch_seq) > 0;
}

/* Whether @t is there and connected. */
static inline gboolean
hq_sfu_connected (HqTransport *t)
{
  return t && hq_transport_get_state (t) == HQ_TRANSPORT_STATE_CONNECTED;
}

/* Whether @p has a subscribe transport (here or on a shard). */
static inline gboolean
hq_sfu_has_sub (HqSfuParticipant *p)
{
  return p->sub != NULL || p->leg != NULL;
}

/* Whether @p's subscribe transport is connected (a leg's, as it last
 * said). */
static inline gboolean
hq_sfu_sub_up (HqSfuParticipant *p)
{
  return p->leg ? p->leg_state == HQ_TRANSPORT_STATE_CONNECTED
                : hq_sfu_connected (p->sub);
}

/* Whether @p's subscribe transport failed. */
static inline gboolean
hq_sfu_sub_failed (HqSfuParticipant *p)
{
  return p->leg
      ? p->leg_state == HQ_TRANSPORT_STATE_FAILED
      : p->sub && hq_transport_get_state (p->sub) == HQ_TRANSPORT_STATE_FAILED;
}

/* Continues @sub's stream at @hdr after a gap in what it forwarded (a
 * keyframe wait, a layer switch): the next sequence number after the
 * last it sent, and a timestamp as far on as the time that passed (at
 * least one tick), so the subscriber sees neither loss nor a jump. */
static inline void
hq_sfu_sub_continue_at (HqSfuSub *sub, const HqRtpHeader *hdr, gint64 now)
{
  guint32 ticks = (guint32)MAX (1,
      (now - sub->last_us) * (gint64)sub->track->clock_rate / G_USEC_PER_SEC);

  sub->seq_delta = (guint16)(sub->last_seq + 1 - hdr->seq);
  sub->ts_delta = sub->last_ts + ticks - hdr->timestamp;
}

G_END_DECLS

#endif /* __HQ_SFU_PRIVATE_H__ */
