/* libhq's debug categories; see hqdebug.h. */
#include "hqdebug.h"

GST_DEBUG_CATEGORY (hq_transport_debug);
GST_DEBUG_CATEGORY (hq_dtls_debug);
GST_DEBUG_CATEGORY (hq_sdp_debug);
GST_DEBUG_CATEGORY (hq_room_client_debug);

void
hq_debug_init (void)
{
  static gsize done;

  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (hq_transport_debug, "hqtransport", 0,
        "libhq transport: ICE, DTLS-SRTP and connection state");
    GST_DEBUG_CATEGORY_INIT (
        hq_dtls_debug, "hqdtls", 0, "libhq DTLS handshake and SRTP keys");
    GST_DEBUG_CATEGORY_INIT (
        hq_sdp_debug, "hqsdp", 0, "libhq SDP parsing and negotiation");
    GST_DEBUG_CATEGORY_INIT (hq_room_client_debug, "hqroomclient", 0,
        "libhq room client: signalling, join, reconnects");
    g_once_init_leave (&done, 1);
  }
}
