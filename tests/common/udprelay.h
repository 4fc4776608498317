/* A user-space UDP relay for tests: two loopback sockets, one facing each
 * peer, forwarding datagrams between them on a GMainContext.  A filter sees
 * every datagram first and may change, drop or duplicate it, or the test
 * may inject its own — how tests put garbage, replays and loss on a real
 * connection (the kernel here has no netem).  An impairment per direction
 * (HqRelayImpairment, changeable while running) adds random and bursty
 * loss, delay, jitter, reordering and a bandwidth cap with a queue:
 * docs/relay.md.
 *
 * Wiring for ICE: give peer A the candidate of the A-facing port and peer B
 * the candidate of the B-facing port.  A's packets go to the A-facing
 * socket and leave from the B-facing one towards B's address, so each peer
 * sees one consistent remote address. */
#ifndef __HQ_UDP_RELAY_H__
#define __HQ_UDP_RELAY_H__

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum
{
  HQ_RELAY_A_TO_B,
  HQ_RELAY_B_TO_A,
} HqRelayDirection;

typedef struct _HqUdpRelay HqUdpRelay;

/* Returns FALSE to drop the datagram; may rewrite @buf (up to @size) and
 * *@len. */
typedef gboolean (*HqRelayFilter) (HqUdpRelay *relay, HqRelayDirection dir,
    guint8 *buf, gsize *len, gsize size, gpointer user_data);

HqUdpRelay *hq_udp_relay_new (GMainContext *context, GError **error);
void hq_udp_relay_free (HqUdpRelay *relay);

/* Where the relay sends what A sends. */
void hq_udp_relay_set_b_address (
    HqUdpRelay *relay, const gchar *ip, guint port);
guint hq_udp_relay_get_port (HqUdpRelay *relay, HqRelayDirection facing);
void hq_udp_relay_set_filter (
    HqUdpRelay *relay, HqRelayFilter filter, gpointer user_data);
/* Sends @len bytes as if they came through in @dir. */
void hq_udp_relay_inject (
    HqUdpRelay *relay, HqRelayDirection dir, const guint8 *buf, gsize len);
/* Datagrams forwarded in @dir so far. */
guint64 hq_udp_relay_get_forwarded (HqUdpRelay *relay, HqRelayDirection dir);

/* "candidate:..." line for the socket facing @facing. */
gchar *hq_udp_relay_candidate (HqUdpRelay *relay, HqRelayDirection facing);
/* Where the relay sends what B sends, instead of learning it from the
 * first datagram A sends. */
void hq_udp_relay_set_a_address (
    HqUdpRelay *relay, const gchar *ip, guint port);

/**
 * HqRelayImpairment:
 * @loss: share of datagrams dropped at random, 0..1
 * @burst_enter: bursty loss (Gilbert-Elliott): per datagram, the chance
 *   that the link turns bad; 0 for no bursts
 * @burst_leave: per datagram in the bad state, the chance it turns good
 * @burst_loss: share dropped while bad, 0..1
 * @delay_ms: added one-way delay
 * @jitter_ms: each datagram is delayed a further 0..@jitter_ms (uniform);
 *   datagrams keep their order unless @reorder says otherwise
 * @reorder: share of datagrams held back a further @reorder_ms, so that
 *   those sent after them overtake them
 * @reorder_ms: how long a reordered datagram is held back
 * @rate_bps: bandwidth cap, bit/s of UDP payload; 0 for none
 * @queue_bytes: the cap's queue: a datagram that finds this many bytes
 *   waiting is dropped (tail drop); 0 for 64 kB
 *
 * What the relay does to one direction.  Zero-initialised: nothing.  Loss
 * applies before the queue, then the cap, then delay, jitter and
 * reordering.
 */
typedef struct
{
  gdouble loss;
  gdouble burst_enter;
  gdouble burst_leave;
  gdouble burst_loss;
  guint delay_ms;
  guint jitter_ms;
  gdouble reorder;
  guint reorder_ms;
  guint64 rate_bps;
  gsize queue_bytes;
} HqRelayImpairment;

/* Thread-safe; applies to datagrams arriving from now on. */
void hq_udp_relay_set_impairment (HqUdpRelay *relay, HqRelayDirection dir,
    const HqRelayImpairment *impairment);
/* Parses "loss=5% burst=0.02/0.3/0.8 delay=150 jitter=20 reorder=1%/30
 * rate=500k queue=30000" (any of them, in any order; "none" or "" for
 * nothing; rate takes k and M; burst is enter/leave/loss) into
 * @impairment (zeroed first).  FALSE with @error naming the bad word. */
gboolean hq_relay_impairment_parse (
    HqRelayImpairment *impairment, const gchar *text, GError **error);

/* What the impairment did in @dir so far. */
typedef struct
{
  guint64 lost; /* random and bursty loss */
  guint64 queue_dropped; /* found the cap's queue full */
  guint64 reordered;
} HqRelayCounters;
void hq_udp_relay_get_counters (
    HqUdpRelay *relay, HqRelayDirection dir, HqRelayCounters *counters);

G_END_DECLS

#endif /* __HQ_UDP_RELAY_H__ */
