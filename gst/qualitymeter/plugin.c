/* The hqqualitymeter plugin: registers the element and the hq-participant
 * stream tag it reads. */
#include "gsthqqualitymeter.h"
#include <hq/hqtags.h>

static gboolean
plugin_init (GstPlugin *plugin)
{
  hq_tags_register ();
  return GST_ELEMENT_REGISTER (hqqualitymeter, plugin);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, hqqualitymeter,
    "hqrooms quality meter", plugin_init, HQ_VERSION, "LGPL", "hqrooms",
    "https://github.com/hqrooms/hqrooms")
