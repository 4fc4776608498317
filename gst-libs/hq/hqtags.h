/* Stream tags the hqrooms elements share.  hqroomsrc puts them on each
 * remote track's pad; hqspeakerdetect and hqrecorder read them.  Every
 * plugin that reads or writes them calls hq_tags_register() from its
 * plugin_init: the registration itself lives here, once. */
#ifndef __HQ_TAGS_H__
#define __HQ_TAGS_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* The identity of the room participant a stream belongs to (a string). */
#define HQ_TAG_PARTICIPANT "hq-participant"

/* The name the participant gave the track (a string), e.g. "camera".
 * Elements fall back to GST_TAG_TITLE when it is absent. */
#define HQ_TAG_TRACK_NAME "hq-track-name"

/* Registers the tags above with GStreamer; safe to call more than once. */
void hq_tags_register (void);

G_END_DECLS

#endif /* __HQ_TAGS_H__ */
