/* Test UDP relay; see udprelay.h. */
#include "udprelay.h"

struct _HqUdpRelay
{
  GMainContext *context;
  GSocket *sock[2]; /* [A_TO_B]: faces A; [B_TO_A]: faces B */
  GSource *source[2];
  GSocketAddress *peer[2]; /* [A_TO_B]: B's address; [B_TO_A]: A's */
  HqRelayFilter filter;
  gpointer filter_data;
  guint64 forwarded[2];
};

void
hq_udp_relay_inject (
    HqUdpRelay *relay, HqRelayDirection dir, const guint8 *buf, gsize len)
{
  GSocket *out = relay->sock[dir == HQ_RELAY_A_TO_B ? 1 : 0];
  GSocketAddress *to = relay->peer[dir];

  if (to == NULL)
    return;
  g_socket_send_to (out, to, (const gchar *)buf, len, NULL, NULL);
}

static gboolean
on_readable (GSocket *sock, GIOCondition cond, gpointer user_data)
{
  HqUdpRelay *relay = user_data;
  HqRelayDirection dir =
      sock == relay->sock[0] ? HQ_RELAY_A_TO_B : HQ_RELAY_B_TO_A;
  guint8 buf[65536];
  GSocketAddress *from = NULL;
  gssize n;

  while ((n = g_socket_receive_from (
              sock, &from, (gchar *)buf, sizeof buf, NULL, NULL))
      >= 0) {
    gsize len = (gsize)n;
    /* A's address is learnt from what it sends. */
    if (dir == HQ_RELAY_A_TO_B && relay->peer[HQ_RELAY_B_TO_A] == NULL)
      relay->peer[HQ_RELAY_B_TO_A] = g_object_ref (from);
    g_clear_object (&from);
    if (relay->filter
        && !relay->filter (
            relay, dir, buf, &len, sizeof buf, relay->filter_data))
      continue;
    relay->forwarded[dir]++;
    hq_udp_relay_inject (relay, dir, buf, len);
  }
  return G_SOURCE_CONTINUE;
}

static GSocket *
open_socket (GError **error)
{
  g_autoptr (GSocket) sock = g_socket_new (G_SOCKET_FAMILY_IPV4,
      G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, error);
  g_autoptr (GInetAddress) lo =
      g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (lo, 0);

  if (sock == NULL || !g_socket_bind (sock, addr, FALSE, error))
    return NULL;
  g_socket_set_blocking (sock, FALSE);
  return g_steal_pointer (&sock);
}

HqUdpRelay *
hq_udp_relay_new (GMainContext *context, GError **error)
{
  HqUdpRelay *relay = g_new0 (HqUdpRelay, 1);

  relay->context = context ? g_main_context_ref (context)
                           : g_main_context_ref_thread_default ();
  for (int i = 0; i < 2; i++) {
    relay->sock[i] = open_socket (error);
    if (relay->sock[i] == NULL) {
      hq_udp_relay_free (relay);
      return NULL;
    }
    relay->source[i] = g_socket_create_source (relay->sock[i], G_IO_IN, NULL);
    g_source_set_callback (
        relay->source[i], G_SOURCE_FUNC (on_readable), relay, NULL);
    g_source_attach (relay->source[i], relay->context);
  }
  return relay;
}

void
hq_udp_relay_free (HqUdpRelay *relay)
{
  for (int i = 0; i < 2; i++) {
    if (relay->source[i]) {
      g_source_destroy (relay->source[i]);
      g_source_unref (relay->source[i]);
    }
    g_clear_object (&relay->sock[i]);
    g_clear_object (&relay->peer[i]);
  }
  g_main_context_unref (relay->context);
  g_free (relay);
}

void
hq_udp_relay_set_b_address (HqUdpRelay *relay, const gchar *ip, guint port)
{
  g_clear_object (&relay->peer[HQ_RELAY_A_TO_B]);
  relay->peer[HQ_RELAY_A_TO_B] =
      g_inet_socket_address_new_from_string (ip, port);
}

guint
hq_udp_relay_get_port (HqUdpRelay *relay, HqRelayDirection facing)
{
  g_autoptr (GSocketAddress) addr = g_socket_get_local_address (
      relay->sock[facing == HQ_RELAY_A_TO_B ? 0 : 1], NULL);

  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (addr));
}

void
hq_udp_relay_set_filter (
    HqUdpRelay *relay, HqRelayFilter filter, gpointer user_data)
{
  relay->filter = filter;
  relay->filter_data = user_data;
}

guint64
hq_udp_relay_get_forwarded (HqUdpRelay *relay, HqRelayDirection dir)
{
  return relay->forwarded[dir];
}

gchar *
hq_udp_relay_candidate (HqUdpRelay *relay, HqRelayDirection facing)
{
  return g_strdup_printf ("candidate:9 1 UDP 2130706431 127.0.0.1 %u typ "
                          "host",
      hq_udp_relay_get_port (relay, facing));
}
