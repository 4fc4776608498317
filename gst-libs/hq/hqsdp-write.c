/* SDP writing: an HqSdp as text.  See hqsdp.h for the model and
 * docs/sdp.md for what we write.
 *
 * Writing goes through GstSDPMessage, laying out the lines as Chromium
 * does (transport attributes in every active m-line).
 */
#include "hqsdp.h"
#include "hqsdp-private.h"

#include <string.h>
#include <gst/gst.h>
#include <gst/sdp/sdp.h>

/* --- writing --- */

static void add_attr (GstSDPMedia *gm, const gchar *key, const gchar *format,
    ...) G_GNUC_PRINTF (3, 4);

static void
add_attr (GstSDPMedia *gm, const gchar *key, const gchar *format, ...)
{
  g_autofree gchar *value = NULL;
  va_list args;

  if (format != NULL) {
    va_start (args, format);
    value = g_strdup_vprintf (format, args);
    va_end (args);
  }
  gst_sdp_media_add_attribute (gm, key, value);
}

static void
write_codec (GstSDPMedia *gm, const HqSdpCodec *c)
{
  if (c->channels > 0)
    add_attr (gm, "rtpmap", "%u %s/%u/%u", c->pt, c->name, c->clock_rate,
        c->channels);
  else
    add_attr (gm, "rtpmap", "%u %s/%u", c->pt, c->name, c->clock_rate);
  for (guint j = 0; j < c->rtcp_fb->len; j++)
    add_attr (gm, "rtcp-fb", "%u %s", c->pt, (gchar *)c->rtcp_fb->pdata[j]);
  if (c->fmtp != NULL)
    add_attr (gm, "fmtp", "%u %s", c->pt, c->fmtp);
  if (c->rtx_pt >= 0) {
    add_attr (gm, "rtpmap", "%d rtx/%u", c->rtx_pt, c->clock_rate);
    add_attr (gm, "fmtp", "%d apt=%u", c->rtx_pt, c->pt);
  }
}

/* One m-line with only @codec, for GStreamer to read its caps from. */
GstCaps *
hq_sdp_codec_get_caps (HqSdpKind kind, const HqSdpCodec *codec)
{
  g_autofree gchar *pt = NULL;
  GstSDPMedia *gm;
  GstCaps *caps;

  g_return_val_if_fail (codec != NULL, NULL);
  pt = g_strdup_printf ("%u", codec->pt);
  gst_sdp_media_new (&gm);
  gst_sdp_media_set_media (gm, hq_sdp_kind_to_string (kind));
  gst_sdp_media_set_proto (gm, "UDP/TLS/RTP/SAVPF");
  gst_sdp_media_add_format (gm, pt);
  write_codec (gm, codec);
  caps = gst_sdp_media_get_caps_from_media (gm, codec->pt);
  gst_sdp_media_free (gm);
  /* named application/x-unknown until the caller says which transport */
  if (caps != NULL)
    gst_structure_set_name (
        gst_caps_get_structure (caps, 0), "application/x-rtp");
  return caps;
}

static void
write_media (GstSDPMessage *msg, const HqSdp *sdp, const HqSdpMedia *m)
{
  GstSDPMedia gm;
  gboolean active = hq_sdp_media_is_active (m);

  memset (&gm, 0, sizeof gm);
  gst_sdp_media_init (&gm);
  gst_sdp_media_set_media (&gm, hq_sdp_kind_to_string (m->kind));
  gst_sdp_media_set_port_info (&gm, m->port, 0);
  gst_sdp_media_set_proto (&gm, m->protocol);
  if (m->kind == HQ_SDP_KIND_APPLICATION) {
    gst_sdp_media_add_format (
        &gm, m->app_formats ? m->app_formats : "webrtc-datachannel");
  } else {
    for (guint i = 0; i < m->codecs->len; i++) {
      const HqSdpCodec *c = m->codecs->pdata[i];
      g_autofree gchar *pt = g_strdup_printf ("%u", c->pt);
      gst_sdp_media_add_format (&gm, pt);
      if (c->rtx_pt >= 0) {
        g_free (pt);
        pt = g_strdup_printf ("%d", c->rtx_pt);
        gst_sdp_media_add_format (&gm, pt);
      }
    }
    /* an m-line needs a format even when it carries nothing */
    if (m->codecs->len == 0)
      gst_sdp_media_add_format (&gm, "0");
  }
  gst_sdp_media_add_connection (&gm, "IN", "IP4", "0.0.0.0", 0, 0);

  /* a data channel m-line need not carry all of them: write pairs only */
  if (active && m->ice_ufrag != NULL && m->ice_pwd != NULL) {
    add_attr (&gm, "ice-ufrag", "%s", m->ice_ufrag);
    add_attr (&gm, "ice-pwd", "%s", m->ice_pwd);
    if (sdp->ice_trickle)
      add_attr (&gm, "ice-options", "trickle");
  }
  if (active && m->fingerprint != NULL)
    add_attr (&gm, "fingerprint", "%s %s",
        m->fingerprint_alg ? m->fingerprint_alg : "sha-256", m->fingerprint);
  if (active)
    add_attr (&gm, "setup", "%s", hq_sdp_setup_to_string (m->setup));
  add_attr (&gm, "mid", "%s", m->mid);
  for (guint i = 0; i < m->extmaps->len; i++) {
    const HqSdpExtmap *e = m->extmaps->pdata[i];
    if (e->has_direction)
      add_attr (&gm, "extmap", "%u/%s %s", e->id,
          hq_sdp_direction_to_string (e->direction), e->uri);
    else
      add_attr (&gm, "extmap", "%u %s", e->id, e->uri);
  }
  if (m->kind != HQ_SDP_KIND_APPLICATION)
    add_attr (&gm, hq_sdp_direction_to_string (m->direction), NULL);
  if (m->msid_stream != NULL)
    add_attr (&gm, "msid", "%s%s%s", m->msid_stream, m->msid_track ? " " : "",
        m->msid_track ? m->msid_track : "");
  if (m->rtcp_mux)
    add_attr (&gm, "rtcp-mux", NULL);
  if (m->rtcp_rsize)
    add_attr (&gm, "rtcp-rsize", NULL);
  for (guint i = 0; i < m->codecs->len; i++)
    write_codec (&gm, m->codecs->pdata[i]);
  for (guint i = 0; i < m->fids->len; i++) {
    const HqSdpSsrcFid *f = &g_array_index (m->fids, HqSdpSsrcFid, i);
    add_attr (&gm, "ssrc-group", "FID %u %u", f->primary, f->rtx);
  }
  for (guint i = 0; i < m->ssrcs->len; i++) {
    const HqSdpSsrc *s = m->ssrcs->pdata[i];
    if (s->cname != NULL)
      add_attr (&gm, "ssrc", "%u cname:%s", s->ssrc, s->cname);
    if (s->msid != NULL)
      add_attr (&gm, "ssrc", "%u msid:%s", s->ssrc, s->msid);
    if (s->cname == NULL && s->msid == NULL)
      add_attr (&gm, "ssrc", "%u", s->ssrc);
  }
  simulcast_write (&gm, m);
  for (guint i = 0; i < m->candidates->len; i++) {
    const gchar *c = m->candidates->pdata[i];
    add_attr (&gm, "candidate", "%s",
        g_str_has_prefix (c, "candidate:") ? c + 10 : c);
  }
  if (m->end_of_candidates)
    add_attr (&gm, "end-of-candidates", NULL);
  /* takes over gm's contents */
  gst_sdp_message_add_media (msg, &gm);
}

gchar *
hq_sdp_to_text (const HqSdp *sdp)
{
  GstSDPMessage *msg = NULL;
  g_autofree gchar *id =
      g_strdup_printf ("%" G_GUINT64_FORMAT, sdp->session_id);
  g_autofree gchar *version =
      g_strdup_printf ("%" G_GUINT64_FORMAT, sdp->session_version);
  gchar *text;

  gst_sdp_message_new (&msg);
  gst_sdp_message_set_version (msg, "0");
  gst_sdp_message_set_origin (msg, "-", id, version, "IN", "IP4", "127.0.0.1");
  gst_sdp_message_set_session_name (msg, "-");
  gst_sdp_message_add_time (msg, "0", "0", NULL);
  if (sdp->bundle->len > 0) {
    GString *group = g_string_new ("BUNDLE");

    for (guint i = 0; i < sdp->bundle->len; i++)
      g_string_append_printf (group, " %s", (gchar *)sdp->bundle->pdata[i]);
    gst_sdp_message_add_attribute (msg, "group", group->str);
    g_string_free (group, TRUE);
  }
  if (sdp->extmap_allow_mixed)
    gst_sdp_message_add_attribute (msg, "extmap-allow-mixed", NULL);
  if (sdp->msid_semantic != NULL) {
    /* Chromium writes (and expects) a space after the colon */
    g_autofree gchar *value = g_strconcat (" ", sdp->msid_semantic, NULL);
    gst_sdp_message_add_attribute (msg, "msid-semantic", value);
  }
  for (guint i = 0; i < sdp->media->len; i++)
    write_media (msg, sdp, sdp->media->pdata[i]);
  text = gst_sdp_message_as_text (msg);
  gst_sdp_message_free (msg);
  return text;
}
