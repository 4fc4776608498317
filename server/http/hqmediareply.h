/* Serving stored media (recordings, compositions, chat attachments) to a
 * caller the REST layer has authorised: a sealed file (docs/at-rest.md)
 * is decrypted as it is sent, one 64 KiB chunk at a time, so a large
 * recording never sits decrypted in memory or on disk; a clear file (no
 * operator key, or written before one was configured) is sent as it is.
 *
 * A sealed file the server cannot open (its operator key is missing or
 * different, the file is damaged or cut short) is refused with 500 and a
 * body that says the server cannot decrypt it, never 404: the media is
 * there, the server's keys are wrong.  The full reason is logged
 * ({"event": "at-rest", "what": "decrypt-failed"}). */
#ifndef __HQ_MEDIA_REPLY_H__
#define __HQ_MEDIA_REPLY_H__

#include <libsoup/soup.h>
#include "hqsealed.h"

G_BEGIN_DECLS

/* Replies with @file as a download of type @type named @name; @what
 * names it for people ("recording RT..."). Returns the status sent. */
guint hq_media_reply (SoupServerMessage *msg, const HqSealKeys *keys,
    const gchar *file, const gchar *type, const gchar *name, const gchar *what);

G_END_DECLS

#endif /* __HQ_MEDIA_REPLY_H__ */
