/* WebSocket signalling at /v1/signal: one connection per participant, JSON
 * text frames as docs/protocol.md defines them.  This file owns the
 * connections; each message goes to the connection's session
 * (hqsession.c), which checks its size, parses and checks it (libhq
 * hqprotocol) and answers it; what a message does to a room lives in
 * hqroom.c, which reaches the connection back through HqPeerOps. */
#ifndef __HQ_SIGNAL_H__
#define __HQ_SIGNAL_H__

#include <libsoup/soup.h>
#include "hqconfig.h"
#include "hqroom.h"
#include "hqratelimit.h"

G_BEGIN_DECLS

/* Message sizes: HQ_PROTOCOL_MAX_MESSAGE (64 KiB, the only size read
 * before `join`) and HQ_PROTOCOL_MAX_SDP_MESSAGE (1023 KiB, messages that
 * carry SDP after it), in libhq's hqprotocol.h; a larger message closes
 * the connection with 1009 (message too big) after a clean closing
 * handshake, unparsed. */
/* Beyond this libsoup stops reading at once and drops the connection
 * without a handshake (the peer sees 1006): no memory for floods. */
#define HQ_SIGNAL_MAX_FRAME (1024 * 1024)
typedef struct _HqSignal HqSignal;

/* @limits (may be NULL): the joins per address. */
HqSignal *hq_signal_new (
    SoupServer *server, HqConfig *config, HqRooms *rooms, HqRateLimits *limits);
/* Stops reading messages, before the rooms go away at shutdown. */
void hq_signal_stop (HqSignal *signal);
/* Closes every connection still open (1001) and frees them. */
void hq_signal_free (HqSignal *signal);

G_END_DECLS

#endif /* __HQ_SIGNAL_H__ */
