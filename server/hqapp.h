/* An app's build folder served by hq-server in place of its own web client
 * ([server] app_dir, HQ_APP_DIR; docs/configuration.md, "Serving an
 * app"): the files under it, index.html for paths that name none (a
 * single-page app's routes), nothing outside it. */
#ifndef __HQ_APP_H__
#define __HQ_APP_H__

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* Answers a request for @path (as libsoup decoded it) that no endpoint of
 * the server took.  @root is the
 * app folder's canonical path (hq_config_load makes it so).  GET and HEAD
 * get the file the request's path names under @root, or index.html when
 * none (except below the server's own prefixes /v1, /token, /healthz and
 * /sdk, which get 404); a path with a "." or ".." segment, a name
 * starting with a dot, or a file whose real path
 * (symlinks followed) is outside @root gets 404.  Other methods get 405. */
void hq_app_serve (
    SoupServerMessage *msg, const gchar *root, const gchar *path);

G_END_DECLS

#endif /* __HQ_APP_H__ */
