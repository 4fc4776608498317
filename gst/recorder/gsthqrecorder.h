/* hqrecorder: records a room's tracks, one file per track and/or one
 * composed file; see gsthqrecorder.c for the element's documentation. */
#ifndef __GST_HQ_RECORDER_H__
#define __GST_HQ_RECORDER_H__

#include <gst/gst.h>
#include <hq/hqtags.h>

G_BEGIN_DECLS

/**
 * GstHqRecorderMode:
 * @GST_HQ_RECORDER_MODE_TRACKS: one file per track (audio .mka, video .mkv)
 * @GST_HQ_RECORDER_MODE_COMPOSED: one file with every participant
 * @GST_HQ_RECORDER_MODE_BOTH: both of the above
 */
typedef enum
{
  GST_HQ_RECORDER_MODE_TRACKS = 1,
  GST_HQ_RECORDER_MODE_COMPOSED = 2,
  GST_HQ_RECORDER_MODE_BOTH = 3,
} GstHqRecorderMode;

/**
 * GstHqRecorderFormat:
 * @GST_HQ_RECORDER_FORMAT_WEBM: WebM, VP8 video and Opus audio
 * @GST_HQ_RECORDER_FORMAT_MP4: fragmented MP4, H.264 video and AAC audio
 *   (Opus when no AAC encoder is installed)
 */
typedef enum
{
  GST_HQ_RECORDER_FORMAT_WEBM,
  GST_HQ_RECORDER_FORMAT_MP4,
} GstHqRecorderFormat;

#define GST_TYPE_HQ_RECORDER_PAD (gst_hq_recorder_pad_get_type ())
G_DECLARE_FINAL_TYPE (
    GstHqRecorderPad, gst_hq_recorder_pad, GST, HQ_RECORDER_PAD, GstGhostPad);

#define GST_TYPE_HQ_RECORDER (gst_hq_recorder_get_type ())
G_DECLARE_FINAL_TYPE (GstHqRecorder, gst_hq_recorder, GST, HQ_RECORDER, GstBin);

GST_ELEMENT_REGISTER_DECLARE (hqrecorder);

G_END_DECLS

#endif /* __GST_HQ_RECORDER_H__ */
