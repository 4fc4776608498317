/* The hqroom plugin: hqroomsrc and hqroomsink, the stream tags they set,
 * and the end-to-end encryption steps they use (hqe2ee.c). */
#include <hq/hqtags.h>
#include "gsthqroomsink.h"
#include "gsthqroomsrc.h"
#include "hqe2ee.h"

/* one per element: GST_DEBUG=hqroomsrc:5 or hqroomsink:5 */
GST_DEBUG_CATEGORY (gst_hq_room_src_debug);
GST_DEBUG_CATEGORY (gst_hq_room_sink_debug);

static gboolean
plugin_init (GstPlugin *plugin)
{
  GST_DEBUG_CATEGORY_INIT (
      gst_hq_room_src_debug, "hqroomsrc", 0, "hqrooms room source");
  GST_DEBUG_CATEGORY_INIT (
      gst_hq_room_sink_debug, "hqroomsink", 0, "hqrooms room sink");
  hq_tags_register ();
  return GST_ELEMENT_REGISTER (hqroomsrc, plugin)
      && GST_ELEMENT_REGISTER (hqroomsink, plugin)
      && GST_ELEMENT_REGISTER (hqframeencrypt, plugin)
      && GST_ELEMENT_REGISTER (hqframedecrypt, plugin)
      && GST_ELEMENT_REGISTER (hqrtpvp8pay, plugin);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, hqroom,
    "hqrooms room source and sink", plugin_init, HQ_VERSION, "LGPL", "hqrooms",
    "https://github.com/hqrooms/hqrooms")
