/* The hqrecorder plugin: registers the element and the hqrooms stream
 * tags it reads. */
#include "gsthqrecorder.h"

static gboolean
plugin_init (GstPlugin *plugin)
{
  hq_tags_register ();
  return GST_ELEMENT_REGISTER (hqrecorder, plugin);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, hqrecorder,
    "hqrooms recorder", plugin_init, HQ_VERSION, "LGPL", "hqrooms",
    "https://github.com/hqrooms/hqrooms")
