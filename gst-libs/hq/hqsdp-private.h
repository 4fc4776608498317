/* What the files of the SDP layer (hqsdp*.c) share and no caller of
 * libhq should see. */
#ifndef HQ_SDP_PRIVATE_H
#define HQ_SDP_PRIVATE_H

#include "hqsdp.h"

#include <gst/sdp/sdp.h>

G_BEGIN_DECLS

typedef enum
{
  NUM_OK,
  NUM_NOT_A_NUMBER,
  NUM_OUT_OF_RANGE,
} NumResult;

G_GNUC_INTERNAL gboolean direction_from_string (
    const gchar *str, HqSdpDirection *direction);
G_GNUC_INTERNAL gboolean direction_sends (HqSdpDirection d);
G_GNUC_INTERNAL gboolean direction_receives (HqSdpDirection d);
G_GNUC_INTERNAL HqSdpDirection direction_make (gboolean send, gboolean recv);
G_GNUC_INTERNAL void extmap_free (gpointer data);
G_GNUC_INTERNAL HqSdpExtmap *extmap_new (guint id, const gchar *uri);
G_GNUC_INTERNAL void ssrc_free (gpointer data);
G_GNUC_INTERNAL HqSdpSsrc *ssrc_new (
    guint32 ssrc, const gchar *cname, const gchar *msid);
G_GNUC_INTERNAL NumResult parse_uint (
    const gchar *s, guint64 min, guint64 max, guint64 *out);
G_GNUC_INTERNAL gboolean is_ice_chars (const gchar *s, gsize min, gsize max);
G_GNUC_INTERNAL gboolean is_sha256_fingerprint (const gchar *fp);

/* hqsdp-simulcast.c */
G_GNUC_INTERNAL void rid_free (gpointer data);
G_GNUC_INTERNAL gboolean simulcast_parse_rid (
    HqSdpMedia *media, const gchar *value, GError **error);
G_GNUC_INTERNAL gboolean simulcast_parse_line (
    HqSdpMedia *media, const gchar *value, GError **error);
G_GNUC_INTERNAL gboolean simulcast_check (
    const HqSdpMedia *media, GError **error);
G_GNUC_INTERNAL void simulcast_write (GstSDPMedia *gm, const HqSdpMedia *m);
G_GNUC_INTERNAL void simulcast_offer (HqSdpMedia *m, const HqSdpTrack *t);
G_GNUC_INTERNAL void simulcast_answer (HqSdpMedia *m, const HqSdpMedia *om);
G_GNUC_INTERNAL gboolean simulcast_is_rid_ext (const gchar *uri);
G_GNUC_INTERNAL gboolean simulcast_track_has_rids (const HqSdpTrack *t);
G_GNUC_INTERNAL gboolean simulcast_check_track (
    const HqSdpTrack *t, GError **error);

G_END_DECLS

#endif /* HQ_SDP_PRIVATE_H */
