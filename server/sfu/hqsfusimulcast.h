/* Simulcast layers, layer selection per subscriber, track switch-off and
 * adaptive simulcast (hqsfusimulcast.c; docs/sfu.md, "Layer selection"). */
#ifndef __HQSFUSIMULCAST_H__
#define __HQSFUSIMULCAST_H__

#include "hqsfustate.h"

G_BEGIN_DECLS

/* Forgets the layers' SSRCs in the publisher's table (remap, removal). */
void hq_sfu_simulcast_unmap (HqSfuTrack *track);
/* Publishing: gives @track a layer per RID of offer m-line @om (answered
 * by @am) and forgets its old layers; FALSE (no layers) for an m-line
 * without a=simulcast. */
gboolean hq_sfu_simulcast_map (
    HqSfuTrack *track, const HqSdpMedia *om, const HqSdpMedia *am);
/* Tells @track's publisher which layers to send (publish_layers) when
 * that changed, or always with @force. */
void hq_sfu_simulcast_announce (HqSfuTrack *track, gboolean force);

/* Whether @sub (a simulcast track) gets a lower layer than its render
 * size asks for, or is switched off for congestion; then *@need_bps is
 * the share it would need for the next layer up (the layer's bitrate
 * and the headroom going up needs).  For probing (hqsfuprobe.c). */
gboolean hq_sfu_simulcast_wants_more (const HqSfuSub *sub, gdouble *need_bps);
/* Decides @p's subscriptions' layers now, from their present shares (as
 * the once-a-second pass does). */
void hq_sfu_simulcast_select (HqSfuParticipant *p, gint64 now);

/* A new subscription takes its subscriber's hint for the track. */
void hq_sfu_sub_apply_hint (HqSfuSub *sub);
/* What layer @i of @sub's simulcast track takes of its share: its
 * bitrate, with headroom when it is above the layer @sub forwards (or
 * @sub forwards none: coming back on needs the headroom too). */
gdouble hq_sfu_layer_need (const HqSfuSub *sub, gint i);
/* The lowest layer of @sub's simulcast track at least as large as its
 * render dimensions; the top one without them. */
gint hq_sfu_wanted_layer (const HqSfuSub *sub);

/* The weight of @sub's track in its subscriber's share of bandwidth, from
 * the priority @priority and the bandwidth profile's mode. */
guint hq_sfu_profile_weight (const HqSfuSub *sub, HqSfuPriority priority);
/* @p's estimate capped by its max_subscription_bitrate (@est negative:
 * unknown). */
gdouble hq_sfu_profile_cap (HqSfuParticipant *p, gdouble est);

/* Once a second, before the shares are made: @t's layers' bitrates. */
void hq_sfu_simulcast_account (HqSfuTrack *t);
/* Once a second, after the shares: each subscription's
 * layer or switch-off, publish_layers. */
void hq_sfu_simulcast_second (HqSfuRoomMedia *media, gint64 now);
/* Adds @t's layers' receiver reports to @blocks (up to @max) and their
 * SSRCs to @ssrcs (up to @max_ssrcs); returns the REMB @t's layers ask
 * for, 0 when @t has none. */
guint64 hq_sfu_simulcast_feedback (HqSfuTrack *t, gint64 now,
    HqRtcpReportBlock *blocks, guint *n, guint max, guint32 *ssrcs,
    guint *n_ssrcs, guint max_ssrcs);

/* Commands: a subscriber's bandwidth profile and track hints. */
void hq_sfu_set_bandwidth_profile (
    HqSfuParticipant *p, const HqBandwidthProfile *profile);
void hq_sfu_set_track_hints (
    HqSfuParticipant *p, const HqTrackHint *hints, guint n);

/* The layers of every video track and what each subscriber receives, as
 * JSON text for REST (hqsfu.c keeps the last one). */
gchar *hq_sfu_simulcast_snapshot (HqSfuRoomMedia *media, gint64 now);

G_END_DECLS

#endif /* __HQSFUSIMULCAST_H__ */
