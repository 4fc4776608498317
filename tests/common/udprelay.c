/* Test UDP relay; see udprelay.h and docs/relay.md. */
#include "udprelay.h"

#include <stdlib.h>
#include <string.h>

/* A datagram waiting for its time. */
typedef struct
{
  gint64 due_us;
  gsize len;
  guint8 data[];
} Held;

/* One direction's impairment and its state; the relay's lock. */
typedef struct
{
  HqRelayImpairment imp;
  gboolean bad; /* Gilbert-Elliott state */
  gint64 link_free_us; /* when the capped link has sent what it holds */
  gint64 last_due_us; /* order kept: none leaves before this */
  GQueue held; /* of Held, by due_us */
  GSource *timer;
  HqRelayCounters counters;
} Direction;

struct _HqUdpRelay
{
  GMainContext *context;
  GSocket *sock[2]; /* [A_TO_B]: faces A; [B_TO_A]: faces B */
  GSource *source[2];
  GSocketAddress *peer[2]; /* [A_TO_B]: B's address; [B_TO_A]: A's */
  HqRelayFilter filter;
  gpointer filter_data;
  guint64 forwarded[2];
  GMutex lock; /* imp and counters in dir[] */
  Direction dir[2];
  GRand *rand;
};

void
hq_udp_relay_inject (
    HqUdpRelay *relay, HqRelayDirection dir, const guint8 *buf, gsize len)
{
  GSocket *out = relay->sock[dir == HQ_RELAY_A_TO_B ? 1 : 0];
  GSocketAddress *to;

  /* The addresses may be set from another thread (relayhook.c). */
  g_mutex_lock (&relay->lock);
  to = relay->peer[dir] ? g_object_ref (relay->peer[dir]) : NULL;
  g_mutex_unlock (&relay->lock);
  if (to == NULL)
    return;
  g_socket_send_to (out, to, (const gchar *)buf, len, NULL, NULL);
  g_object_unref (to);
}

/* Sends what is due in @d and arms the timer for the rest. */
static gboolean
on_timer (gpointer user_data)
{
  GSource *timer = g_main_current_source ();
  HqUdpRelay *relay = user_data;
  HqRelayDirection dir =
      timer == relay->dir[0].timer ? HQ_RELAY_A_TO_B : HQ_RELAY_B_TO_A;
  Direction *d = &relay->dir[dir];
  gint64 now = g_get_monotonic_time ();
  Held *h;

  while ((h = g_queue_peek_head (&d->held)) && h->due_us <= now) {
    g_queue_pop_head (&d->held);
    relay->forwarded[dir]++;
    hq_udp_relay_inject (relay, dir, h->data, h->len);
    g_free (h);
  }
  g_source_set_ready_time (timer, h ? h->due_us : -1);
  return G_SOURCE_CONTINUE;
}

/* A source that only wakes at its ready time (a timeout source would
 * reset that after each dispatch). */
static gboolean
timer_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  return callback (user_data);
}

static GSourceFuncs timer_funcs = { NULL, NULL, timer_dispatch, NULL, NULL,
  NULL };

static gint
held_cmp (gconstpointer a, gconstpointer b, gpointer user_data)
{
  const Held *x = a, *y = b;

  /* g_queue_insert_sorted passes (held, new) and goes on past a held one
   * while this is negative: past those due at the same time too, so
   * datagrams due together leave in the order they came. */
  return x->due_us <= y->due_us ? -1 : 1;
}

/* The impairment of @dir on a datagram: FALSE when it is dropped, else
 * the time it is due in *@due_us (0: now). */
static gboolean
impair (HqUdpRelay *relay, HqRelayDirection dir, gsize len, gint64 *due_us)
{
  Direction *d = &relay->dir[dir];
  const HqRelayImpairment *imp = &d->imp;
  gint64 now = g_get_monotonic_time ();
  gint64 due = now;
  gboolean lose, reordered = FALSE;

  g_mutex_lock (&relay->lock);
  if (imp->burst_enter > 0) {
    if (d->bad)
      d->bad = g_rand_double (relay->rand) >= imp->burst_leave;
    else
      d->bad = g_rand_double (relay->rand) < imp->burst_enter;
  } else {
    d->bad = FALSE;
  }
  lose = g_rand_double (relay->rand) < (d->bad ? imp->burst_loss : imp->loss);
  if (lose) {
    d->counters.lost++;
    g_mutex_unlock (&relay->lock);
    return FALSE;
  }
  if (imp->rate_bps > 0) {
    gsize limit = imp->queue_bytes ? imp->queue_bytes : 65536;
    gint64 start = MAX (now, d->link_free_us);
    gdouble queued = (start - now) * (gdouble)imp->rate_bps / 8e6;
    if (queued + len > limit) {
      d->counters.queue_dropped++;
      g_mutex_unlock (&relay->lock);
      return FALSE;
    }
    d->link_free_us = start + (gint64)(len * 8e6 / imp->rate_bps);
    due = d->link_free_us;
  }
  due += (gint64)imp->delay_ms * 1000;
  if (imp->jitter_ms > 0)
    due += g_rand_int_range (relay->rand, 0, (gint32)imp->jitter_ms * 1000 + 1);
  if (imp->reorder > 0 && g_rand_double (relay->rand) < imp->reorder) {
    due += (gint64)imp->reorder_ms * 1000;
    d->counters.reordered++;
    reordered = TRUE;
  } else {
    due = MAX (due, d->last_due_us);
  }
  if (!reordered)
    d->last_due_us = due;
  g_mutex_unlock (&relay->lock);
  *due_us = due > now ? due : 0;
  return TRUE;
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
    g_mutex_lock (&relay->lock);
    if (dir == HQ_RELAY_A_TO_B && relay->peer[HQ_RELAY_B_TO_A] == NULL)
      relay->peer[HQ_RELAY_B_TO_A] = g_object_ref (from);
    g_mutex_unlock (&relay->lock);
    g_clear_object (&from);
    if (relay->filter
        && !relay->filter (
            relay, dir, buf, &len, sizeof buf, relay->filter_data))
      continue;
    gint64 due = 0;
    if (!impair (relay, dir, len, &due))
      continue;
    /* Nothing waiting and nothing to wait for: straight through. */
    if (due == 0 && g_queue_is_empty (&relay->dir[dir].held)) {
      relay->forwarded[dir]++;
      hq_udp_relay_inject (relay, dir, buf, len);
    } else {
      Direction *d = &relay->dir[dir];
      Held *h = g_malloc (sizeof (Held) + len);
      h->due_us = due ? due : g_get_monotonic_time ();
      h->len = len;
      memcpy (h->data, buf, len);
      g_queue_insert_sorted (&d->held, h, held_cmp, NULL);
      g_source_set_ready_time (
          d->timer, ((Held *)g_queue_peek_head (&d->held))->due_us);
    }
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
  g_mutex_init (&relay->lock);
  relay->rand = g_rand_new ();
  for (int i = 0; i < 2; i++) {
    g_queue_init (&relay->dir[i].held);
    relay->dir[i].timer = g_source_new (&timer_funcs, sizeof (GSource));
    g_source_set_ready_time (relay->dir[i].timer, -1);
    g_source_set_callback (relay->dir[i].timer, on_timer, relay, NULL);
    g_source_attach (relay->dir[i].timer, relay->context);
  }
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
    if (relay->dir[i].timer) {
      g_source_destroy (relay->dir[i].timer);
      g_source_unref (relay->dir[i].timer);
    }
    g_queue_clear_full (&relay->dir[i].held, g_free);
  }
  g_rand_free (relay->rand);
  g_mutex_clear (&relay->lock);
  g_main_context_unref (relay->context);
  g_free (relay);
}

void
hq_udp_relay_set_b_address (HqUdpRelay *relay, const gchar *ip, guint port)
{
  GSocketAddress *addr = g_inet_socket_address_new_from_string (ip, port);

  g_mutex_lock (&relay->lock);
  g_clear_object (&relay->peer[HQ_RELAY_A_TO_B]);
  relay->peer[HQ_RELAY_A_TO_B] = addr;
  g_mutex_unlock (&relay->lock);
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

void
hq_udp_relay_set_a_address (HqUdpRelay *relay, const gchar *ip, guint port)
{
  GSocketAddress *addr = g_inet_socket_address_new_from_string (ip, port);

  g_mutex_lock (&relay->lock);
  g_clear_object (&relay->peer[HQ_RELAY_B_TO_A]);
  relay->peer[HQ_RELAY_B_TO_A] = addr;
  g_mutex_unlock (&relay->lock);
}

void
hq_udp_relay_set_impairment (HqUdpRelay *relay, HqRelayDirection dir,
    const HqRelayImpairment *impairment)
{
  g_mutex_lock (&relay->lock);
  relay->dir[dir].imp = *impairment;
  g_mutex_unlock (&relay->lock);
}

void
hq_udp_relay_get_counters (
    HqUdpRelay *relay, HqRelayDirection dir, HqRelayCounters *counters)
{
  g_mutex_lock (&relay->lock);
  *counters = relay->dir[dir].counters;
  g_mutex_unlock (&relay->lock);
}

/* A share: "5%" or "0.05". */
static gboolean
parse_share (const gchar *text, gdouble *out)
{
  gchar *end;
  gdouble v = g_ascii_strtod (text, &end);

  if (end == text)
    return FALSE;
  if (*end == '%') {
    v /= 100;
    end++;
  }
  *out = v;
  return *end == '\0' && v >= 0 && v <= 1;
}

static gboolean
parse_uint (const gchar *text, guint64 *out, gboolean rate)
{
  gchar *end;
  gdouble v = g_ascii_strtod (text, &end);

  if (end == text || v < 0)
    return FALSE;
  if (rate && (*end == 'k' || *end == 'K')) {
    v *= 1000;
    end++;
  } else if (rate && *end == 'M') {
    v *= 1000000;
    end++;
  }
  *out = (guint64)v;
  return *end == '\0';
}

gboolean
hq_relay_impairment_parse (
    HqRelayImpairment *imp, const gchar *text, GError **error)
{
  g_auto (GStrv) words = g_strsplit_set (text ? text : "", " \t\n", -1);

  memset (imp, 0, sizeof *imp);
  for (guint i = 0; words[i]; i++) {
    const gchar *w = words[i];
    const gchar *eq = strchr (w, '=');
    g_autofree gchar *key = eq ? g_strndup (w, eq - w) : g_strdup (w);
    const gchar *v = eq ? eq + 1 : "";
    guint64 n = 0;
    gboolean ok;

    if (*w == '\0' || g_str_equal (w, "none"))
      continue;
    if (g_str_equal (key, "loss")) {
      ok = parse_share (v, &imp->loss);
    } else if (g_str_equal (key, "burst")) {
      g_auto (GStrv) p = g_strsplit (v, "/", -1);
      ok = g_strv_length (p) == 3 && parse_share (p[0], &imp->burst_enter)
          && parse_share (p[1], &imp->burst_leave)
          && parse_share (p[2], &imp->burst_loss);
    } else if (g_str_equal (key, "reorder")) {
      g_auto (GStrv) p = g_strsplit (v, "/", -1);
      ok = g_strv_length (p) == 2 && parse_share (p[0], &imp->reorder)
          && parse_uint (p[1], &n, FALSE);
      imp->reorder_ms = (guint)n;
    } else if (g_str_equal (key, "delay") || g_str_equal (key, "jitter")) {
      ok = parse_uint (v, &n, FALSE) && n <= 60000;
      if (g_str_equal (key, "delay"))
        imp->delay_ms = (guint)n;
      else
        imp->jitter_ms = (guint)n;
    } else if (g_str_equal (key, "rate")) {
      ok = parse_uint (v, &imp->rate_bps, TRUE);
    } else if (g_str_equal (key, "queue")) {
      ok = parse_uint (v, &n, FALSE);
      imp->queue_bytes = (gsize)n;
    } else {
      ok = FALSE;
    }
    if (!ok) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "cannot use \"%s\": expected loss=5%%, burst=ENTER/LEAVE/LOSS, "
          "delay=MS, jitter=MS, reorder=SHARE/MS, rate=BITS[k|M] or "
          "queue=BYTES",
          w);
      return FALSE;
    }
  }
  return TRUE;
}
