/* The hqspeakerdetect plugin: registers the element and the
 * hq-participant stream tag it reads. */
#include "gsthqspeakerdetect.h"

static gboolean
plugin_init (GstPlugin *plugin)
{
  gst_tag_register (HQ_TAG_PARTICIPANT, GST_TAG_FLAG_META, G_TYPE_STRING,
      "participant", "identity of the room participant a stream belongs to",
      gst_tag_merge_use_first);
  return GST_ELEMENT_REGISTER (hqspeakerdetect, plugin);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, hqspeakerdetect,
    "hqrooms dominant speaker detection", plugin_init, HQ_VERSION, "LGPL",
    "hqrooms", "https://github.com/hqrooms/hqrooms")
