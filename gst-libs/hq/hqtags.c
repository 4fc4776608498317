/* Registration of the hqrooms stream tags (see hqtags.h). */
#include "hqtags.h"

void
hq_tags_register (void)
{
  /* gst_tag_register() keeps the first registration of a name, so every
   * plugin may call this. */
  gst_tag_register (HQ_TAG_PARTICIPANT, GST_TAG_FLAG_META, G_TYPE_STRING,
      "participant", "identity of the room participant a stream belongs to",
      gst_tag_merge_use_first);
}
