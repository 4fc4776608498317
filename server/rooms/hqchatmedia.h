/* Chat attachments (docs/protocol.md, "Chat attachments"):
 *
 *   POST /v1/ChatMedia?Room=&Filename=   upload one file, its bytes as the
 *                                        body, authorised by an access token
 *   GET  /v1/MediaLinks/ME...            download, by a short-lived signed
 *                                        link (routed here by the recordings
 *                                        API, which owns that path)
 *
 * Files live under <data dir>/chat-media/<room sid>/<media sid>; their
 * size limit and content-type allowlist are the config's [chat] section.
 * Every upload and download is written to the room's audit log. */
#ifndef __HQ_CHAT_MEDIA_H__
#define __HQ_CHAT_MEDIA_H__

#include <libsoup/soup.h>
#include "hqconfig.h"
#include "hqroom.h"

G_BEGIN_DECLS

/* Registers POST /v1/ChatMedia on @soup, with its own body limit. */
void hq_chat_media_register (
    SoupServer *soup, HqConfig *config, HqRooms *rooms);

/* Serves attachment @sid, whose link the caller checked. */
void hq_chat_media_download (
    SoupServerMessage *msg, HqRooms *rooms, const gchar *sid);

G_END_DECLS

#endif /* __HQ_CHAT_MEDIA_H__ */
