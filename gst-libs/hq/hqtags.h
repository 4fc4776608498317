/* Stream tags the hqrooms elements share.  hqroomsrc puts them on each
 * remote track's pad; hqspeakerdetect, hqrecorder and others read them,
 * so they label streams without extra wiring. */
#ifndef __HQ_TAGS_H__
#define __HQ_TAGS_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* The identity of the room participant a stream belongs to (a string). */
#define HQ_TAG_PARTICIPANT "hq-participant"

/* Registers the tags above; safe to call from every plugin_init. */
void hq_tags_register (void);

G_END_DECLS

#endif /* __HQ_TAGS_H__ */
