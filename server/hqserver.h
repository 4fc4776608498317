/* hq-server: the HTTP and WebSocket front of a room server, built on
 * libsoup 3.  It owns the configuration and routes requests to the
 * endpoints; each endpoint lives in its own file. */
#ifndef __HQ_SERVER_H__
#define __HQ_SERVER_H__

#include <libsoup/soup.h>
#include "hqconfig.h"
#include "hqroom.h"
#include "hqtls.h"

G_BEGIN_DECLS

typedef struct _HqServer HqServer;

/* Starts listening as @config says; takes @config. */
HqServer *hq_server_new (HqConfig *config, GError **error);
void hq_server_free (HqServer *server);

/* The base URL clients use, e.g. "http://127.0.0.1:8844" ("https://"
 * with TLS). */
const gchar *hq_server_get_url (HqServer *server);
HqConfig *hq_server_get_config (HqServer *server);
HqRooms *hq_server_get_rooms (HqServer *server);
/* The SoupServer, e.g. to hand it a connection (the REST fuzz target). */
SoupServer *hq_server_get_soup (HqServer *server);
/* The TLS certificate it serves (hq_tls_reload() swaps it for new
 * connections); NULL when it speaks plain http. */
HqTls *hq_server_get_tls (HqServer *server);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HqServer, hq_server_free)

G_END_DECLS

#endif /* __HQ_SERVER_H__ */
