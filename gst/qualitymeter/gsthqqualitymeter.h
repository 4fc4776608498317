/* hqqualitymeter: quality figures and scores of N streams; see
 * gsthqqualitymeter.c for the element's documentation. */
#ifndef __GST_HQ_QUALITY_METER_H__
#define __GST_HQ_QUALITY_METER_H__

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_HQ_QUALITY_METER_PAD (gst_hq_quality_meter_pad_get_type ())
G_DECLARE_FINAL_TYPE (GstHqQualityMeterPad, gst_hq_quality_meter_pad, GST,
    HQ_QUALITY_METER_PAD, GstPad);

#define GST_TYPE_HQ_QUALITY_METER (gst_hq_quality_meter_get_type ())
G_DECLARE_FINAL_TYPE (
    GstHqQualityMeter, gst_hq_quality_meter, GST, HQ_QUALITY_METER, GstElement);

GST_ELEMENT_REGISTER_DECLARE (hqqualitymeter);

G_END_DECLS

#endif /* __GST_HQ_QUALITY_METER_H__ */
