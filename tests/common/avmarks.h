/* Test sources whose audio and video mark the same instants: a picture
 * that turns white and a 1 kHz beep, for the same spans of time, so that a
 * test can measure how far apart the two come out of whatever carried
 * them (a room, a recorder). */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* The marks: from @first s on, @length s long, every @period s (0: once).
 * Times are the buffers' timestamps. */
typedef struct
{
  gdouble first;
  gdouble period;
  gdouble length;
} HqAvMarks;

gboolean hq_av_marks_contain (const HqAvMarks *marks, gdouble t);

/* On the src pad of @pipeline's element @name (a video source): frames
 * inside a mark get their first @bytes bytes (0: all) set to @value, e.g.
 * the luma plane of I420 to 235, or all of RGBx to 255: white. */
void hq_av_marks_flash (GstElement *pipeline, const gchar *name,
    const HqAvMarks *marks, gsize bytes, guint8 value);

/* On the src pad of @pipeline's element @name (S16 mono audio at @rate):
 * inside a mark a 1 kHz tone at half scale, starting at phase 0 when the
 * mark starts; silence elsewhere, which is not flagged as a gap. */
void hq_av_marks_beep (GstElement *pipeline, const gchar *name,
    const HqAvMarks *marks, guint rate);

G_END_DECLS
