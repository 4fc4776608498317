/* Pacing (docs/sfu.md, "Pacing"), per subscriber, on the room's worker,
 * before hq_sfu_sub_send() (so a sharded room paces on its home too).
 *
 * A token bucket fills at the pacing rate, PACE_FACTOR times what the
 * subscribe leg can take (our transport-wide estimate, no more than a
 * fresh REMB; the subscriber's REMB alone when it sends no transport-wide
 * feedback), and holds at most PACE_BURST_US of it (at least one full
 * packet).  No estimate known: no pacing.  A packet leaves at once when
 * the bucket has room for it and nothing waits (the common case: a
 * little arithmetic, no copy, no timer); else it is copied into a ring
 * allocated once per subscriber, and a timer that exists only while
 * something waits sends what the bucket allows every PACE_TICK_MS.
 * Retransmissions have their own ring, sent before new media.  Audio is
 * never queued (small and late audio is worse than late video), but its
 * bytes are taken from the bucket.  A full media ring drops its oldest
 * packet (all queued media is video) and counts it (the `pacing` log
 * line when the subscriber leaves); its NACK may bring it back.  The transport-wide number of a queued packet
 * is written when it leaves, so the estimator sees real send times. */
#include "hqsfupace.h"
#include "hqsfushard.h"
#include "hqsfutwcc.h"
#include "hqlog.h"

#include <string.h>

#define PACE_FACTOR 2.5
#define PACE_BURST_US (20 * 1000)
#define PACE_TICK_MS 5
/* The rate is read again at most this often. */
#define PACE_RATE_US (100 * 1000)
/* What waits is sent within about this long, faster than the pacing
 * rate when it must (as libwebrtc's pacer bounds its queue): else a
 * subscriber whose estimate fell far under what was queued for it would
 * get video seconds old, long after its layer changed. */
#define PACE_MAX_QUEUE_US (1000 * 1000)
#define PACE_MEDIA_SLOTS 256
#define PACE_RTX_SLOTS 32

typedef struct
{
  guint16 len;
  guint16 twcc_at;
  guint8 data[HQ_SFU_MAX_PACKET + HQ_SRTP_MAX_TRAILER];
} Slot;

typedef struct
{
  Slot *slots;
  guint n_slots, head, count;
  gsize bytes; /* of the packets waiting */
} Ring;

struct _HqSfuPace
{
  gdouble rate; /* bytes per microsecond; 0: not paced */
  gint64 rate_us; /* when it was read */
  gdouble tokens; /* bytes */
  gint64 tokens_us;
  Ring media, rtx;
  GSource *timer; /* while something waits */
  guint64 queued, dropped;
};

static void
read_rate (HqSfuParticipant *p, HqSfuPace *pc, gint64 now)
{
  gdouble est = hq_sfu_twcc_estimate (p, now);

  if (p->remb_bps && now - p->remb_us < HQ_SFU_REMB_VALID_US)
    est = est > 0 ? MIN (est, (gdouble)p->remb_bps) : (gdouble)p->remb_bps;
  pc->rate = est > 0 ? PACE_FACTOR * est / 8.0 / G_USEC_PER_SEC : 0;
  pc->rate_us = now;
}

/* The bucket at @now (the rate read again when it is old). */
static void
refill (HqSfuParticipant *p, HqSfuPace *pc, gint64 now)
{
  gdouble cap, rate;

  if (now - pc->rate_us >= PACE_RATE_US)
    read_rate (p, pc, now);
  if (pc->rate <= 0) {
    pc->tokens = 0; /* unpaced sends leave no debt */
    pc->tokens_us = now;
    return;
  }
  /* fast enough to send what waits within PACE_MAX_QUEUE_US */
  rate = MAX (
      pc->rate, (gdouble)(pc->media.bytes + pc->rtx.bytes) / PACE_MAX_QUEUE_US);
  cap = MAX (rate * PACE_BURST_US, (gdouble)HQ_SFU_MAX_PACKET);
  pc->tokens = MIN (cap, pc->tokens + rate * (gdouble)(now - pc->tokens_us));
  pc->tokens_us = now;
}

static gboolean
send_now (HqSfuParticipant *p, HqSfuPace *pc, guint8 *data, gsize len,
    gsize size, gsize twcc_at, gint64 now)
{
  if (twcc_at)
    hq_sfu_twcc_stamp (p, data + twcc_at, len, now);
  pc->tokens -= (gdouble)len;
  return hq_sfu_sub_send (p, FALSE, data, len, size);
}

static Slot *
ring_push (Ring *r, guint n_slots, guint64 *dropped)
{
  if (r->slots == NULL) {
    r->slots = g_new (Slot, n_slots);
    r->n_slots = n_slots;
  }
  if (r->count == r->n_slots) {
    /* full: the oldest goes */
    r->bytes -= r->slots[r->head].len;
    r->head = (r->head + 1) % r->n_slots;
    r->count--;
    (*dropped)++;
  }
  return &r->slots[(r->head + r->count++) % r->n_slots];
}

/* Sends from @r what the bucket allows (everything when not paced). */
static void
drain_ring (HqSfuParticipant *p, HqSfuPace *pc, Ring *r, gint64 now)
{
  while (r->count > 0) {
    Slot *s = &r->slots[r->head];
    if (pc->rate > 0 && pc->tokens < s->len)
      return;
    send_now (p, pc, s->data, s->len, sizeof s->data, s->twcc_at, now);
    r->bytes -= s->len;
    r->head = (r->head + 1) % r->n_slots;
    r->count--;
  }
}

static gboolean
pace_tick (gpointer data)
{
  HqSfuParticipant *p = data;
  HqSfuPace *pc = p->pace;
  gint64 now = g_get_monotonic_time ();

  refill (p, pc, now);
  drain_ring (p, pc, &pc->rtx, now);
  if (pc->rtx.count == 0)
    drain_ring (p, pc, &pc->media, now);
  if (pc->rtx.count > 0 || pc->media.count > 0)
    return G_SOURCE_CONTINUE;
  g_source_unref (pc->timer);
  pc->timer = NULL;
  return G_SOURCE_REMOVE;
}

gboolean
hq_sfu_pace_send (HqSfuParticipant *p, guint8 *data, gsize len, gsize twcc_at,
    gboolean audio, gboolean retransmission, gint64 now)
{
  HqSfuPace *pc = p->pace;
  Slot *s;

  if (G_UNLIKELY (pc == NULL)) {
    pc = p->pace = g_new0 (HqSfuPace, 1);
    read_rate (p, pc, now);
    pc->tokens_us = now;
  }
  refill (p, pc, now);
  if (pc->rate <= 0 && pc->timer == NULL)
    return send_now (p, pc, data, len, len + HQ_SRTP_MAX_TRAILER, twcc_at, now);
  if (audio || (pc->timer == NULL && pc->tokens >= (gdouble)len))
    return send_now (p, pc, data, len, len + HQ_SRTP_MAX_TRAILER, twcc_at, now);
  s = retransmission ? ring_push (&pc->rtx, PACE_RTX_SLOTS, &pc->dropped)
                     : ring_push (&pc->media, PACE_MEDIA_SLOTS, &pc->dropped);
  memcpy (s->data, data, len);
  s->len = (guint16)len;
  (retransmission ? &pc->rtx : &pc->media)->bytes += len;
  s->twcc_at = (guint16)twcc_at;
  pc->queued++;
  if (pc->timer == NULL) {
    pc->timer = g_timeout_source_new (PACE_TICK_MS);
    g_source_set_callback (pc->timer, pace_tick, p, NULL);
    g_source_attach (pc->timer, hq_worker_get_context (p->media->room->worker));
  }
  return TRUE;
}

gboolean
hq_sfu_pace_busy (HqSfuParticipant *p)
{
  return p->pace && p->pace->timer != NULL;
}

void
hq_sfu_pace_charge (HqSfuParticipant *p, gsize len, gint64 now)
{
  if (p->pace == NULL)
    return;
  refill (p, p->pace, now);
  p->pace->tokens -= (gdouble)len;
}

void
hq_sfu_pace_clear (HqSfuParticipant *p)
{
  HqSfuPace *pc = p->pace;

  if (pc == NULL)
    return;
  if (pc->queued > 0) {
    JsonObject *line = hq_log_begin (HQ_LOG_INFO, "sfu");
    json_object_set_string_member (line, "what", "pacing");
    json_object_set_string_member (line, "room_sid", p->media->room->sid);
    json_object_set_string_member (line, "participant_sid", p->sid);
    json_object_set_int_member (line, "queued", (gint64)pc->queued);
    json_object_set_int_member (line, "dropped", (gint64)pc->dropped);
    hq_log_end (line);
  }
  if (pc->timer) {
    g_source_destroy (pc->timer);
    g_source_unref (pc->timer);
  }
  g_free (pc->media.slots);
  g_free (pc->rtx.slots);
  g_clear_pointer (&p->pace, g_free);
}
