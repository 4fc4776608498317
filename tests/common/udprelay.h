/* A user-space UDP relay for tests: two loopback sockets, one facing each
 * peer, forwarding datagrams between them on a GMainContext.  A filter sees
 * every datagram first and may change, drop or duplicate it, or the test
 * may inject its own — how tests put garbage, replays and loss on a real
 * connection (the kernel here has no netem).
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

G_END_DECLS

#endif /* __HQ_UDP_RELAY_H__ */
