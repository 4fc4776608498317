/* Registration of the hqrooms stream tags (see hqtags.h). */
#include "hqtags.h"

void
hq_tags_register (void)
{
  static gsize done = 0;

  if (!g_once_init_enter (&done))
    return;
  gst_tag_register (HQ_TAG_PARTICIPANT, GST_TAG_FLAG_META, G_TYPE_STRING,
      "participant", "identity of the room participant a stream belongs to",
      gst_tag_merge_use_first);
  gst_tag_register (HQ_TAG_TRACK_NAME, GST_TAG_FLAG_META, G_TYPE_STRING,
      "track name", "name of the room track a stream carries",
      gst_tag_merge_use_first);
  g_once_init_leave (&done, 1);
}
