/* hq-server's accept loop, in front of libsoup: every connection (HTTP
 * and WebSocket) comes in here, is counted against its address's cap,
 * and is closed when its client is too slow or silent:
 *
 *   - a request's headers and body must arrive within request_timeout of
 *     the connection opening (or, on a kept-alive connection, of the
 *     request's first byte);
 *   - a kept-alive connection waits at most idle_timeout for its next
 *     request;
 *   - an address may hold connections_per_ip connections; one more is
 *     answered 429 and closed (over TLS only closed).
 *
 * It accepts itself because libsoup's listener stops for good on the
 * first failed accept(): out of descriptors (EMFILE, ENFILE), this one
 * logs once, waits with a growing backoff and accepts again, and logs when
 * it does.  A WebSocket is the signalling's once upgraded (hqsignal.c
 * closes those that do not join).  Main context only. */
#ifndef __HQ_LISTEN_H__
#define __HQ_LISTEN_H__

#include <libsoup/soup.h>
#include "hqconfig.h"
#include "hqtls.h"

G_BEGIN_DECLS

typedef struct _HqListener HqListener;

/* Accepts connections on @socket (bound and listening) for @soup; over
 * TLS with @tls's certificate of the moment when @tls is not NULL. */
HqListener *hq_listener_new (SoupServer *soup, GSocket *socket,
    const HqConfig *config, HqTls *tls, GError **error);
/* Stops accepting; open connections stay with libsoup. */
void hq_listener_stop (HqListener *listener);
void hq_listener_free (HqListener *listener);

G_END_DECLS

#endif /* __HQ_LISTEN_H__ */
