/* The impairment relay of the tests (tests/common/udprelay.h): what each
 * impairment does to datagrams between two loopback sockets.  Counts, not
 * times: loss near its share, bursts in runs, a queue that drops what does
 * not fit, reordering only when asked, changes while running, and clear
 * errors for bad specifications. */
#include <string.h>
#include "../../common/udprelay.h"

#define N 2000

typedef struct
{
  HqUdpRelay *relay;
  GSocket *a, *b;
  GSocketAddress *to_relay;
} Rig;

static GSocket *
bound_socket (void)
{
  g_autoptr (GInetAddress) lo =
      g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (lo, 0);
  GSocket *s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
      G_SOCKET_PROTOCOL_UDP, NULL);

  g_assert_nonnull (s);
  g_assert_true (g_socket_bind (s, addr, FALSE, NULL));
  g_socket_set_blocking (s, FALSE);
  return s;
}

static guint
port_of (GSocket *s)
{
  g_autoptr (GSocketAddress) addr = g_socket_get_local_address (s, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (addr));
}

static void
rig_init (Rig *r, const gchar *spec)
{
  HqRelayImpairment imp;
  g_autoptr (GError) error = NULL;

  r->relay = hq_udp_relay_new (NULL, &error);
  g_assert_no_error (error);
  r->a = bound_socket ();
  r->b = bound_socket ();
  hq_udp_relay_set_a_address (r->relay, "127.0.0.1", port_of (r->a));
  hq_udp_relay_set_b_address (r->relay, "127.0.0.1", port_of (r->b));
  r->to_relay = g_inet_socket_address_new_from_string (
      "127.0.0.1", hq_udp_relay_get_port (r->relay, HQ_RELAY_A_TO_B));
  g_assert_true (hq_relay_impairment_parse (&imp, spec, &error));
  g_assert_no_error (error);
  hq_udp_relay_set_impairment (r->relay, HQ_RELAY_A_TO_B, &imp);
}

static void
rig_clear (Rig *r)
{
  hq_udp_relay_free (r->relay);
  g_object_unref (r->a);
  g_object_unref (r->b);
  g_object_unref (r->to_relay);
}

/* Sends @n numbered datagrams of @size bytes from A, @per_turn at a
 * time between turns of the relay's loop, then runs the loop until
 * nothing has moved for a while; returns B's numbers in arrival order. */
static GArray *
run (Rig *r, guint n, gsize size, guint per_turn)
{
  GArray *got = g_array_new (FALSE, FALSE, sizeof (guint32));
  guint8 buf[2048] = { 0 };
  guint quiet = 0;
  gssize len;

  for (guint i = 0; i < n; i++) {
    memcpy (buf, &i, sizeof i);
    g_assert_cmpint (
        g_socket_send_to (r->a, r->to_relay, (gchar *)buf, size, NULL, NULL),
        ==, (gssize)size);
    if ((i + 1) % per_turn == 0)
      while (g_main_context_iteration (NULL, FALSE))
        ;
    while ((len = g_socket_receive (r->b, (gchar *)buf, sizeof buf, NULL, NULL))
        > 0) {
      guint32 v;
      memcpy (&v, buf, sizeof v);
      g_array_append_val (got, v);
    }
  }
  /* The relay's timers hold the rest: run until 1 s passed without a
   * datagram (a deadline, not a measurement). */
  while (quiet < 100) {
    gboolean moved = FALSE;
    /* One dispatch at a time, reading in between: a burst of datagrams
     * due together would overflow B's receive buffer. */
    g_main_context_iteration (NULL, FALSE);
    while ((len = g_socket_receive (r->b, (gchar *)buf, sizeof buf, NULL, NULL))
        > 0) {
      guint32 v;
      memcpy (&v, buf, sizeof v);
      g_array_append_val (got, v);
      moved = TRUE;
    }
    quiet = moved ? 0 : quiet + 1;
    if (!moved)
      g_usleep (10000);
  }
  return got;
}

static guint
inversions (GArray *got)
{
  guint n = 0;

  for (guint i = 1; i < got->len; i++)
    n += g_array_index (got, guint32, i) < g_array_index (got, guint32, i - 1);
  return n;
}

static void
test_clean (void)
{
  Rig r;
  g_autoptr (GArray) got = NULL;

  rig_init (&r, "none");
  got = run (&r, N, 100, 10);
  g_assert_cmpuint (got->len, ==, N);
  g_assert_cmpuint (inversions (got), ==, 0);
  rig_clear (&r);
}

static void
test_random_loss (void)
{
  Rig r;
  g_autoptr (GArray) got = NULL;
  HqRelayCounters c;

  rig_init (&r, "loss=10%");
  got = run (&r, N, 100, 10);
  hq_udp_relay_get_counters (r.relay, HQ_RELAY_A_TO_B, &c);
  /* 10 % of 2000: 200, sd 13.4; 5 sd either side. */
  g_assert_cmpuint (c.lost, >=, 133);
  g_assert_cmpuint (c.lost, <=, 267);
  g_assert_cmpuint (got->len + c.lost, ==, N);
  rig_clear (&r);
}

/* Bursty loss comes in runs: the same share of loss as random loss,
 * in far fewer, longer holes. */
static void
test_bursts (void)
{
  Rig r;
  g_autoptr (GArray) got = NULL;
  guint holes = 0, lost;

  /* bad 1/0.02 of the time... stationary share 0.02/(0.02+0.2) = 9 % */
  rig_init (&r, "burst=0.02/0.2/1");
  got = run (&r, N, 100, 10);
  lost = N - got->len;
  for (guint i = 1; i < got->len; i++)
    holes += g_array_index (got, guint32, i)
        != g_array_index (got, guint32, i - 1) + 1;
  g_assert_cmpuint (lost, >=, 60);
  g_assert_cmpuint (lost, <=, 400);
  /* mean run length 1/0.2 = 5 */
  g_assert_cmpuint (holes * 2, <, lost);
  rig_clear (&r);
}

/* A cap with a small queue: a burst far faster than the cap keeps what
 * fits in the queue, plus what the link sent meanwhile. */
static void
test_cap_queue (void)
{
  Rig r;
  g_autoptr (GArray) got = NULL;
  HqRelayCounters c;

  /* 100 kbit/s, 10 datagrams of 1000 bytes in the queue */
  rig_init (&r, "rate=100k queue=10000");
  got = run (&r, 200, 1000, 20);
  hq_udp_relay_get_counters (r.relay, HQ_RELAY_A_TO_B, &c);
  g_assert_cmpuint (got->len + c.queue_dropped, ==, 200);
  g_assert_cmpuint (got->len, >=, 10);
  g_assert_cmpuint (got->len, <, 40);
  g_assert_cmpuint (inversions (got), ==, 0);
  rig_clear (&r);
}

static void
test_jitter_keeps_order (void)
{
  Rig r;
  g_autoptr (GArray) got = NULL;

  /* 100: released together they still fit B's receive buffer */
  rig_init (&r, "delay=5 jitter=30");
  got = run (&r, 100, 100, 1);
  g_assert_cmpuint (got->len, ==, 100);
  g_assert_cmpuint (inversions (got), ==, 0);
  rig_clear (&r);
}

static void
test_reorder (void)
{
  Rig r;
  g_autoptr (GArray) got = NULL;
  HqRelayCounters c;

  rig_init (&r, "reorder=20%/30");
  got = run (&r, 100, 100, 1);
  hq_udp_relay_get_counters (r.relay, HQ_RELAY_A_TO_B, &c);
  g_assert_cmpuint (got->len, ==, 100);
  /* 20 expected, sd 4 */
  g_assert_cmpuint (c.reordered, >, 5);
  g_assert_cmpuint (inversions (got), >, 0);
  rig_clear (&r);
}

/* A change applies to what comes next, while the relay runs. */
static void
test_change_while_running (void)
{
  Rig r;
  g_autoptr (GArray) first = NULL, second = NULL;
  HqRelayImpairment imp;

  rig_init (&r, "loss=100%");
  first = run (&r, 100, 100, 10);
  g_assert_cmpuint (first->len, ==, 0);
  g_assert_true (hq_relay_impairment_parse (&imp, "", NULL));
  hq_udp_relay_set_impairment (r.relay, HQ_RELAY_A_TO_B, &imp);
  second = run (&r, 100, 100, 10);
  g_assert_cmpuint (second->len, ==, 100);
  rig_clear (&r);
}

static void
test_parse_errors (void)
{
  HqRelayImpairment imp;
  const gchar *bad[] = { "loss=150%", "loss=", "delay=abc", "burst=0.1/0.2",
    "rate=fast", "speed=3", "reorder=5%" };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;
    g_assert_false (hq_relay_impairment_parse (&imp, bad[i], &error));
    g_assert_nonnull (strstr (error->message, bad[i]));
  }
  g_assert_true (hq_relay_impairment_parse (
      &imp, "loss=2% delay=150 jitter=20 rate=1.5M queue=30000", NULL));
  g_assert_cmpfloat (imp.loss, ==, 0.02);
  g_assert_cmpuint (imp.delay_ms, ==, 150);
  g_assert_cmpuint (imp.jitter_ms, ==, 20);
  g_assert_cmpuint (imp.rate_bps, ==, 1500000);
  g_assert_cmpuint (imp.queue_bytes, ==, 30000);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/relay/clean", test_clean);
  g_test_add_func ("/relay/random-loss", test_random_loss);
  g_test_add_func ("/relay/bursts", test_bursts);
  g_test_add_func ("/relay/cap-queue", test_cap_queue);
  g_test_add_func ("/relay/jitter-keeps-order", test_jitter_keeps_order);
  g_test_add_func ("/relay/reorder", test_reorder);
  g_test_add_func ("/relay/change-while-running", test_change_while_running);
  g_test_add_func ("/relay/parse-errors", test_parse_errors);
  return g_test_run ();
}
