/* hqspeakerdetect: dominant speaker detection on N audio streams; see
 * gsthqspeakerdetect.c for the element's documentation. */
#ifndef __GST_HQ_SPEAKER_DETECT_H__
#define __GST_HQ_SPEAKER_DETECT_H__

#include <gst/gst.h>
#include <hq/hqtags.h>

G_BEGIN_DECLS

/* HQ_TAG_PARTICIPANT (libhq hqtags.h) names the room participant a stream
 * belongs to; the sink pad's participant property defaults to it. */

/**
 * GstHqSpeakerDetectAlgorithm:
 * @GST_HQ_SPEAKER_DETECT_ALGORITHM_DSI: Volfin & Cohen dominant speaker
 *   identification (libhq dsi).
 * @GST_HQ_SPEAKER_DETECT_ALGORITHM_LOUDEST: the loudest stream of each
 *   decision interval; a naive baseline for comparison.
 */
typedef enum
{
  GST_HQ_SPEAKER_DETECT_ALGORITHM_DSI,
  GST_HQ_SPEAKER_DETECT_ALGORITHM_LOUDEST,
} GstHqSpeakerDetectAlgorithm;

#define GST_TYPE_HQ_SPEAKER_DETECT_ALGORITHM                                   \
  (gst_hq_speaker_detect_algorithm_get_type ())
GType gst_hq_speaker_detect_algorithm_get_type (void);

#define GST_TYPE_HQ_SPEAKER_DETECT_PAD (gst_hq_speaker_detect_pad_get_type ())
G_DECLARE_FINAL_TYPE (GstHqSpeakerDetectPad, gst_hq_speaker_detect_pad, GST,
    HQ_SPEAKER_DETECT_PAD, GstPad);

#define GST_TYPE_HQ_SPEAKER_DETECT (gst_hq_speaker_detect_get_type ())
G_DECLARE_FINAL_TYPE (GstHqSpeakerDetect, gst_hq_speaker_detect, GST,
    HQ_SPEAKER_DETECT, GstElement);

GST_ELEMENT_REGISTER_DECLARE (hqspeakerdetect);

G_END_DECLS

#endif /* __GST_HQ_SPEAKER_DETECT_H__ */
