/* The hqroom plugin: hqroomsrc and hqroomsink (on their base,
 * GstHqRoomBin), the stream tags they set, and the end-to-end encryption
 * steps they use (hqe2ee.c).  Each element has its debug category, made in
 * its class_init: GST_DEBUG=hqroomsrc:5 or hqroomsink:5. */
#include <hq/hqtags.h>
#include "gsthqroomsink.h"
#include "gsthqroomsrc.h"
#include "hqe2ee.h"

static gboolean
plugin_init (GstPlugin *plugin)
{
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
