/* libhq's GStreamer debug categories, one per module: GST_DEBUG=hqtransport:5
 * (ICE, DTLS and transport state), hqdtls:5 (the handshake), hqsdp:5
 * (parsing and negotiation), hqroomclient:5 (signalling, join, reconnects).
 * docs/troubleshooting.md says which lines to look for.  Private to libhq.
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

GST_DEBUG_CATEGORY_EXTERN (hq_transport_debug);
GST_DEBUG_CATEGORY_EXTERN (hq_dtls_debug);
GST_DEBUG_CATEGORY_EXTERN (hq_sdp_debug);
GST_DEBUG_CATEGORY_EXTERN (hq_room_client_debug);

/* Registers the categories (once; any thread). */
void hq_debug_init (void);

G_END_DECLS
