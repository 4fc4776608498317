/* Transports behind impairment relays; see relayhook.h. */
#include "relayhook.h"

#include <stdlib.h>
#include <string.h>
#include <hq/hqtransport.h>

struct _HqRelayHook
{
  GMainContext *context;
  GMutex lock;
  GHashTable *relays; /* HqTransport * (not referenced) -> HqUdpRelay */
  HqRelayImpairment imp[2];
};

/* A transport behind a relay that fails says why (the relay may have
 * made its peer give up: consent checks lost). */
static void
on_state (HqTransport *t, gint state, gpointer user_data)
{
  const GError *error = hq_transport_get_error (t);

  if (state == HQ_TRANSPORT_STATE_FAILED)
    g_printerr ("relayhook: a transport failed: %s\n",
        error ? error->message : "(no reason)");
}

/* The relay of @t, made on first use. */
static HqUdpRelay *
relay_for (HqRelayHook *hook, HqTransport *t)
{
  HqUdpRelay *relay;

  g_mutex_lock (&hook->lock);
  relay = g_hash_table_lookup (hook->relays, t);
  if (relay == NULL) {
    g_autoptr (GError) error = NULL;
    relay = hq_udp_relay_new (hook->context, &error);
    if (relay == NULL)
      g_error ("cannot make a relay: %s", error->message);
    for (guint d = 0; d < 2; d++)
      hq_udp_relay_set_impairment (relay, d, &hook->imp[d]);
    g_hash_table_insert (hook->relays, t, relay);
    g_signal_connect (t, "state-changed", G_CALLBACK (on_state), NULL);
  }
  g_mutex_unlock (&hook->lock);
  return relay;
}

static gchar *
on_candidate (
    HqTransport *t, gboolean local, const gchar *candidate, gpointer user_data)
{
  HqRelayHook *hook = user_data;
  g_auto (GStrv) f = g_strsplit (candidate, " ", -1);
  HqUdpRelay *relay;
  guint port;

  /* candidate:F C UDP PRIORITY IP PORT typ host ... */
  if (g_strv_length (f) < 8 || g_ascii_strcasecmp (f[2], "udp") != 0
      || !g_str_equal (f[4], "127.0.0.1") || !g_str_equal (f[7], "host"))
    return NULL;
  port = (guint)atoi (f[5]);
  relay = relay_for (hook, t);
  if (local) {
    hq_udp_relay_set_a_address (relay, f[4], port);
    return hq_udp_relay_candidate (relay, HQ_RELAY_B_TO_A);
  }
  hq_udp_relay_set_b_address (relay, f[4], port);
  return hq_udp_relay_candidate (relay, HQ_RELAY_A_TO_B);
}

HqRelayHook *
hq_relay_hook_install (GMainContext *context)
{
  HqRelayHook *hook = g_new0 (HqRelayHook, 1);

  hook->context = g_main_context_ref (context);
  g_mutex_init (&hook->lock);
  hook->relays = g_hash_table_new_full (
      NULL, NULL, NULL, (GDestroyNotify)hq_udp_relay_free);
  hq_transport_set_candidate_hook (on_candidate, hook);
  return hook;
}

void
hq_relay_hook_remove (HqRelayHook *hook)
{
  hq_transport_set_candidate_hook (NULL, NULL);
  g_hash_table_unref (hook->relays);
  g_mutex_clear (&hook->lock);
  g_main_context_unref (hook->context);
  g_free (hook);
}

void
hq_relay_hook_set_impairment (HqRelayHook *hook, HqRelayDirection dir,
    const HqRelayImpairment *impairment)
{
  GHashTableIter iter;
  gpointer value;

  g_mutex_lock (&hook->lock);
  hook->imp[dir] = *impairment;
  g_hash_table_iter_init (&iter, hook->relays);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    hq_udp_relay_set_impairment (value, dir, impairment);
  g_mutex_unlock (&hook->lock);
}

guint
hq_relay_hook_get_relays (HqRelayHook *hook)
{
  guint n;

  g_mutex_lock (&hook->lock);
  n = g_hash_table_size (hook->relays);
  g_mutex_unlock (&hook->lock);
  return n;
}

guint64
hq_relay_hook_get_totals (
    HqRelayHook *hook, HqRelayDirection dir, HqRelayCounters *counters)
{
  GHashTableIter iter;
  gpointer value;
  guint64 forwarded = 0;

  memset (counters, 0, sizeof *counters);
  g_mutex_lock (&hook->lock);
  g_hash_table_iter_init (&iter, hook->relays);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    HqRelayCounters c;
    hq_udp_relay_get_counters (value, dir, &c);
    forwarded += hq_udp_relay_get_forwarded (value, dir);
    counters->lost += c.lost;
    counters->queue_dropped += c.queue_dropped;
    counters->reordered += c.reordered;
  }
  g_mutex_unlock (&hook->lock);
  return forwarded;
}
