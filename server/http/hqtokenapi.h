/* The two token endpoints of hq-server.
 *
 *   POST /token            the reference app's token server, for browsers:
 *                          {user_identity, room_name, create_room?,
 *                          passcode?} -> {token, room_type}
 *   POST /v1/AccessTokens  for back-ends, HTTP Basic with an API key:
 *                          Identity, Room?, Ttl?, Role? -> 201 {token, ...}
 *
 * Both are documented in docs/tokens.md.
 */
#ifndef __HQ_TOKEN_API_H__
#define __HQ_TOKEN_API_H__

#include <libsoup/soup.h>
#include "hqconfig.h"
#include "hqroom.h"
#include "hqratelimit.h"

G_BEGIN_DECLS

/* With @rooms, POST /token's create_room creates the room (of the
 * configured type) when none of that name is in progress.  @limits (may
 * be NULL) bounds POST /token and the rooms it creates per address. */
void hq_token_api_register (
    SoupServer *server, HqConfig *config, HqRooms *rooms, HqRateLimits *limits);

G_END_DECLS

#endif /* __HQ_TOKEN_API_H__ */
