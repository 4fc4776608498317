/* TURN with time-limited credentials and the SFU's ICE over TCP: the
 * [turn] settings and [media] ice_tcp (docs/configuration.md), and the ICE
 * servers each participant gets in its join reply and from POST /token
 * (docs/protocol.md, "ICE servers").
 *
 * hq-server never talks to the TURN server: it shares a secret with it
 * (coturn's use-auth-secret / static-auth-secret) and hands every
 * participant a username "<expiry unix time>:<identity>" with the
 * credential base64(HMAC-SHA1(secret, username)), which the TURN server
 * checks by itself and refuses once the time has passed. */
#ifndef __HQ_TURN_H__
#define __HQ_TURN_H__

#include <json-glib/json-glib.h>
#include "hqconfig.h"

G_BEGIN_DECLS

/* The ICE servers for @identity: the STUN URLs, and the TURN URLs with
 * credentials that expire [turn] ttl seconds from now, as RTCIceServer
 * objects; an empty array when none are configured. */
JsonArray *hq_turn_ice_servers (HqConfig *config, const gchar *identity);

G_END_DECLS

#endif /* __HQ_TURN_H__ */
