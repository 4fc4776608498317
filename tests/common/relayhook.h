/* Every media transport of this process behind its own impairment relay
 * (udprelay.h): a test puts a participant — an element that owns its
 * transports, hqroomsink or hqroomsrc — on an impaired link to hq-server
 * without touching the server.  It installs libhq's test candidate hook
 * (hq_transport_set_candidate_hook): of the candidates a transport
 * announces, only its 127.0.0.1 host candidate goes out, replaced by the
 * relay's server-facing socket; of those it is given, only the server's
 * 127.0.0.1 host candidate is used, replaced by the relay's
 * participant-facing socket.  So every datagram of the transport crosses
 * the relay.  A is the participant, B the server: HQ_RELAY_A_TO_B is
 * upstream.  docs/relay.md. */
#ifndef __HQ_RELAY_HOOK_H__
#define __HQ_RELAY_HOOK_H__

#include "udprelay.h"

G_BEGIN_DECLS

typedef struct _HqRelayHook HqRelayHook;

/* The relays run on @context (which the caller iterates). */
HqRelayHook *hq_relay_hook_install (GMainContext *context);
void hq_relay_hook_remove (HqRelayHook *hook);
/* For every relay, present and future. */
void hq_relay_hook_set_impairment (HqRelayHook *hook, HqRelayDirection dir,
    const HqRelayImpairment *impairment);
/* Relays made so far, and what they did in @dir, summed. */
guint hq_relay_hook_get_relays (HqRelayHook *hook);
guint64 hq_relay_hook_get_totals (
    HqRelayHook *hook, HqRelayDirection dir, HqRelayCounters *counters);

G_END_DECLS

#endif /* __HQ_RELAY_HOOK_H__ */
