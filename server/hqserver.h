/* hq-server: the HTTP and WebSocket front of a room server, built on
 * libsoup 3.  It owns the configuration and routes requests to the
 * endpoints; each endpoint lives in its own file. */
#ifndef __HQ_SERVER_H__
#define __HQ_SERVER_H__

#include <libsoup/soup.h>
#include "hqconfig.h"
#include "hqroom.h"

G_BEGIN_DECLS

typedef struct _HqServer HqServer;

/* Starts listening as @config says; takes @config. */
HqServer *hq_server_new (HqConfig *config, GError **error);
void hq_server_free (HqServer *server);

/* The base URL clients use, e.g. "http://127.0.0.1:8844". */
const gchar *hq_server_get_url (HqServer *server);
HqConfig *hq_server_get_config (HqServer *server);
HqRooms *hq_server_get_rooms (HqServer *server);
/* The SoupServer, e.g. to hand it a connection (the REST fuzz target). */
SoupServer *hq_server_get_soup (HqServer *server);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HqServer, hq_server_free)

G_END_DECLS

#endif /* __HQ_SERVER_H__ */
