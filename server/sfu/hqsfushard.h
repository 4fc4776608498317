/* A room's subscribers spread over the workers (docs/sfu.md, "Threads"):
 * a subscriber's transport may live on another worker than its room's
 * (a *shard*), as an HqSfuLeg.  Everything the SFU decides for the
 * subscriber stays on the room's worker (its *home*), which owns the
 * participant and its subscriptions: which packets it gets, their
 * sequence numbers, timestamps and SSRCs, layers, audio selection,
 * sender reports, transport-wide numbers, estimates.  The shard owns the
 * HqTransport alone: ICE, DTLS, consent, and the per-packet work that
 * costs most, SRTP protection and the send.  The home hands each packet,
 * ready but for protection, to the shard through the hand-off ring of
 * their two workers (hqworkers.h); its calls on the transport (describe,
 * remote description, candidates, restart, close) go as closures that
 * first run what the ring holds; what the transport says (credentials,
 * candidates, states, the subscriber's RTCP) comes back to the home as
 * closures.  Each field of HqSfuLeg belongs to one of the two threads. */
#ifndef __HQSFUSHARD_H__
#define __HQSFUSHARD_H__

#include "hqsfustate.h"

G_BEGIN_DECLS

/* What the home hears of a leg, on the home's thread, while its
 * participant is there. */
typedef struct
{
  /* The leg's ICE credentials are known: after hq_sfu_leg_new(), or an
   * ICE restart (@restart; @ok FALSE: it failed, @message says why). */
  void (*credentials) (
      HqSfuParticipant *p, gboolean restart, gboolean ok, const gchar *message);
  /* A local candidate; NULL: gathering is done. */
  void (*candidate) (HqSfuParticipant *p, const gchar *candidate);
  /* The transport's state; @local, @remote, @pair: the selected pair when
   * CONNECTED (hq_transport_describe_selected_pair), else NULL. */
  void (*state) (HqSfuParticipant *p, HqTransportState state,
      const GError *error, const gchar *local, const gchar *remote,
      const gchar *pair);
  /* RTCP the subscriber sent. */
  HqTransportReceiveFunc rtcp;
} HqSfuLegFuncs;

/* The SFU's settings for a transport of its own on @worker (the
 * subscribe one is @controlling: we offer it). */
void hq_sfu_transport_config (HqSfu *sfu, HqWorker *worker,
    gboolean controlling, HqTransportConfig *config);

/* A log line, when the room ends on a server that spreads rooms: the
 * packets each worker sent, and those lost to a full hand-off ring. */
void hq_sfu_shard_log_end (HqSfuRoom *room);

/* The worker @p's subscribe transport should run on: its room's, unless
 * the room has [media] room_shards participants or more and there are
 * several workers; then the one with the fewest of the room's subscribe
 * transports.  Counted until hq_sfu_leg_unplace(). */
HqWorker *hq_sfu_leg_place (HqSfuParticipant *p);
void hq_sfu_leg_unplace (HqSfuParticipant *p, HqWorker *worker);

/* Makes @p's subscribe transport on @shard (home: @p's room's worker,
 * the caller's thread); @funcs->credentials follows. */
HqSfuLeg *hq_sfu_leg_new (
    HqSfuParticipant *p, HqWorker *shard, const HqSfuLegFuncs *funcs);
/* On the home: the transport is closed on its shard, and nothing of it
 * reaches @p any more. */
void hq_sfu_leg_close (HqSfuLeg *leg);
/* Credentials known (not waiting for hq_sfu_leg_new's or a restart's). */
gboolean hq_sfu_leg_ready (HqSfuLeg *leg);
/* hq_transport_describe() of the leg: the strings are the leg's. */
void hq_sfu_leg_describe (HqSfuLeg *leg, HqSdpLocal *local, const gchar *cname);
void hq_sfu_leg_gather (HqSfuLeg *leg);
/* New credentials; @funcs->credentials follows with @restart. */
void hq_sfu_leg_restart_ice (HqSfuLeg *leg);
/* The participant's answer (its credentials, fingerprint, candidates);
 * a failure shows as state FAILED. */
void hq_sfu_leg_set_remote (HqSfuLeg *leg, const HqSdp *sdp);
/* NULL: end of candidates. */
void hq_sfu_leg_add_candidate (HqSfuLeg *leg, const gchar *candidate);

/* Sends @len bytes of RTP (or RTCP) in @buf to @p's subscriber: on @p's
 * subscribe transport here, or handed to its shard, which protects and
 * sends them.  @buf has @size bytes of room (protection here is in
 * place).  FALSE when not sent (or not handed). */
gboolean hq_sfu_sub_send (
    HqSfuParticipant *p, gboolean rtcp, guint8 *buf, gsize len, gsize size);

G_END_DECLS

#endif /* __HQSFUSHARD_H__ */
