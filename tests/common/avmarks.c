/* Test sources marking the same instants in audio and video; see
 * avmarks.h. */
#include "avmarks.h"

#include <math.h>
#include <string.h>

typedef struct
{
  HqAvMarks marks;
  gsize bytes;
  guint8 value;
  guint rate;
} Probe;

/* The start of the mark @t is in, or a negative number outside marks. */
static gdouble
mark_start (const HqAvMarks *m, gdouble t)
{
  gdouble k;

  if (t < m->first)
    return -1;
  k = m->period > 0 ? floor ((t - m->first) / m->period) : 0;
  t -= m->first + k * m->period;
  return t < m->length ? m->first + k * m->period : -1;
}

gboolean
hq_av_marks_contain (const HqAvMarks *marks, gdouble t)
{
  return mark_start (marks, t) >= 0;
}

static GstPadProbeReturn
flash_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  const Probe *p = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstMapInfo map;

  /* a frame's timestamp may be rounded down by a nanosecond or so */
  if (!hq_av_marks_contain (
          &p->marks, GST_BUFFER_PTS (buf) / (gdouble)GST_SECOND + 0.0005))
    return GST_PAD_PROBE_OK;
  buf = gst_buffer_make_writable (buf);
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  memset (map.data, p->value,
      p->bytes && p->bytes < map.size ? p->bytes : map.size);
  gst_buffer_unmap (buf, &map);
  GST_PAD_PROBE_INFO_DATA (info) = buf;
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
beep_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  const Probe *p = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstClockTime pts = GST_BUFFER_PTS (buf);
  GstMapInfo map;
  gint16 *s;

  buf = gst_buffer_make_writable (buf);
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  s = (gint16 *)map.data;
  for (gsize i = 0; i < map.size / 2; i++) {
    gdouble t = (pts + gst_util_uint64_scale (i, GST_SECOND, p->rate))
        / (gdouble)GST_SECOND;
    gdouble start = mark_start (&p->marks, t);

    s[i] =
        start >= 0 ? (gint16)(16000 * sin (2 * G_PI * 1000 * (t - start))) : 0;
  }
  gst_buffer_unmap (buf, &map);
  /* silence comes flagged as a gap, which mixers skip */
  GST_BUFFER_FLAG_UNSET (buf, GST_BUFFER_FLAG_GAP);
  GST_PAD_PROBE_INFO_DATA (info) = buf;
  return GST_PAD_PROBE_OK;
}

static void
add_probe (
    GstElement *pipeline, const gchar *name, GstPadProbeCallback cb, Probe *p)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (pipeline), name);
  GstPad *pad;

  g_assert (e != NULL);
  pad = gst_element_get_static_pad (e, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, cb, p, g_free);
  gst_object_unref (pad);
  gst_object_unref (e);
}

void
hq_av_marks_flash (GstElement *pipeline, const gchar *name,
    const HqAvMarks *marks, gsize bytes, guint8 value)
{
  Probe *p = g_new0 (Probe, 1);

  p->marks = *marks;
  p->bytes = bytes;
  p->value = value;
  add_probe (pipeline, name, flash_probe, p);
}

void
hq_av_marks_beep (
    GstElement *pipeline, const gchar *name, const HqAvMarks *marks, guint rate)
{
  Probe *p = g_new0 (Probe, 1);

  p->marks = *marks;
  p->rate = rate;
  add_probe (pipeline, name, beep_probe, p);
}
