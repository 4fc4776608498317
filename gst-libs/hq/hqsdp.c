/* SDP model: the HqSdp, HqSdpMedia and HqSdpCodec structures, their
 * constructors, lookups and the names of their enums.  See hqsdp.h for the
 * model and docs/sdp.md for what we offer and accept.
 *
 * The rest of the SDP layer has a file per job: hqsdp-parse.c reads the
 * text of a remote description, hqsdp-write.c writes one as text and
 * hqsdp-negotiate.c builds our offers and answers.  What they share and no
 * caller should see is in hqsdp-private.h.
 */
#include "hqsdp.h"
#include "hqsdp-private.h"

#include <string.h>
#include <gst/gst.h>

G_DEFINE_QUARK (hq - sdp - error - quark, hq_sdp_error);

const gchar *
hq_sdp_error_name (gint code)
{
  static const gchar *const names[] = {
    [HQ_SDP_ERROR_NOT_SDP] = "not_sdp",
    [HQ_SDP_ERROR_TOO_LARGE] = "too_large",
    [HQ_SDP_ERROR_SYNTAX] = "syntax",
    [HQ_SDP_ERROR_MISSING] = "missing",
    [HQ_SDP_ERROR_UNSUPPORTED] = "unsupported",
    [HQ_SDP_ERROR_INCONSISTENT] = "inconsistent",
    [HQ_SDP_ERROR_INVALID_ARGUMENT] = "invalid_argument",
  };

  if (code < 0 || code >= (gint)G_N_ELEMENTS (names) || names[code] == NULL)
    return "unknown";
  return names[code];
}

const gchar *
hq_sdp_kind_to_string (HqSdpKind kind)
{
  switch (kind) {
    case HQ_SDP_KIND_AUDIO:
      return "audio";
    case HQ_SDP_KIND_VIDEO:
      return "video";
    case HQ_SDP_KIND_APPLICATION:
      return "application";
  }
  return "unknown";
}

const gchar *
hq_sdp_direction_to_string (HqSdpDirection direction)
{
  switch (direction) {
    case HQ_SDP_SENDRECV:
      return "sendrecv";
    case HQ_SDP_SENDONLY:
      return "sendonly";
    case HQ_SDP_RECVONLY:
      return "recvonly";
    case HQ_SDP_INACTIVE:
      return "inactive";
  }
  return "inactive";
}

gboolean
direction_from_string (const gchar *str, HqSdpDirection *direction)
{
  for (HqSdpDirection d = HQ_SDP_SENDRECV; d <= HQ_SDP_INACTIVE; d++) {
    if (g_strcmp0 (str, hq_sdp_direction_to_string (d)) == 0) {
      *direction = d;
      return TRUE;
    }
  }
  return FALSE;
}

HqSdpDirection
hq_sdp_direction_reverse (HqSdpDirection direction)
{
  if (direction == HQ_SDP_SENDONLY)
    return HQ_SDP_RECVONLY;
  if (direction == HQ_SDP_RECVONLY)
    return HQ_SDP_SENDONLY;
  return direction;
}

gboolean
direction_sends (HqSdpDirection d)
{
  return d == HQ_SDP_SENDRECV || d == HQ_SDP_SENDONLY;
}

gboolean
direction_receives (HqSdpDirection d)
{
  return d == HQ_SDP_SENDRECV || d == HQ_SDP_RECVONLY;
}

HqSdpDirection
direction_make (gboolean send, gboolean recv)
{
  if (send && recv)
    return HQ_SDP_SENDRECV;
  if (send)
    return HQ_SDP_SENDONLY;
  if (recv)
    return HQ_SDP_RECVONLY;
  return HQ_SDP_INACTIVE;
}

const gchar *
hq_sdp_setup_to_string (HqSdpSetup setup)
{
  switch (setup) {
    case HQ_SDP_SETUP_ACTPASS:
      return "actpass";
    case HQ_SDP_SETUP_ACTIVE:
      return "active";
    case HQ_SDP_SETUP_PASSIVE:
      return "passive";
  }
  return "actpass";
}

/* --- the model --- */

HqSdpCodec *
hq_sdp_codec_new (guint pt, const gchar *name, guint clock_rate, guint channels,
    const gchar *fmtp)
{
  HqSdpCodec *codec = g_new0 (HqSdpCodec, 1);

  codec->pt = pt;
  codec->name = g_strdup (name);
  codec->clock_rate = clock_rate;
  codec->channels = channels;
  codec->fmtp = g_strdup (fmtp);
  codec->rtcp_fb = g_ptr_array_new_with_free_func (g_free);
  codec->rtx_pt = -1;
  return codec;
}

HqSdpCodec *
hq_sdp_codec_copy (const HqSdpCodec *codec)
{
  HqSdpCodec *copy = hq_sdp_codec_new (
      codec->pt, codec->name, codec->clock_rate, codec->channels, codec->fmtp);

  for (guint i = 0; i < codec->rtcp_fb->len; i++)
    g_ptr_array_add (copy->rtcp_fb, g_strdup (codec->rtcp_fb->pdata[i]));
  copy->rtx_pt = codec->rtx_pt;
  return copy;
}

void
hq_sdp_codec_free (HqSdpCodec *codec)
{
  if (codec == NULL)
    return;
  g_free (codec->name);
  g_free (codec->fmtp);
  g_ptr_array_unref (codec->rtcp_fb);
  g_free (codec);
}

gboolean
hq_sdp_codec_has_fb (const HqSdpCodec *codec, const gchar *fb)
{
  for (guint i = 0; i < codec->rtcp_fb->len; i++)
    if (g_ascii_strcasecmp (codec->rtcp_fb->pdata[i], fb) == 0)
      return TRUE;
  return FALSE;
}

gchar *
hq_sdp_codec_get_param (const HqSdpCodec *codec, const gchar *key)
{
  g_auto (GStrv) params = NULL;
  gsize key_len = strlen (key);

  if (codec->fmtp == NULL)
    return NULL;
  params = g_strsplit (codec->fmtp, ";", -1);
  for (guint i = 0; params[i] != NULL; i++) {
    const gchar *p = params[i];

    while (*p == ' ')
      p++;
    if (g_ascii_strncasecmp (p, key, key_len) == 0 && p[key_len] == '=')
      return g_strstrip (g_strdup (p + key_len + 1));
  }
  return NULL;
}

void
extmap_free (gpointer data)
{
  HqSdpExtmap *ext = data;

  g_free (ext->uri);
  g_free (ext);
}

HqSdpExtmap *
extmap_new (guint id, const gchar *uri)
{
  HqSdpExtmap *ext = g_new0 (HqSdpExtmap, 1);

  ext->id = id;
  ext->uri = g_strdup (uri);
  return ext;
}

void
ssrc_free (gpointer data)
{
  HqSdpSsrc *s = data;

  g_free (s->cname);
  g_free (s->msid);
  g_free (s);
}

HqSdpSsrc *
ssrc_new (guint32 ssrc, const gchar *cname, const gchar *msid)
{
  HqSdpSsrc *s = g_new0 (HqSdpSsrc, 1);

  s->ssrc = ssrc;
  s->cname = g_strdup (cname);
  s->msid = g_strdup (msid);
  return s;
}

HqSdpMedia *
hq_sdp_media_new (HqSdpKind kind, const gchar *mid)
{
  HqSdpMedia *media = g_new0 (HqSdpMedia, 1);

  media->kind = kind;
  media->mid = g_strdup (mid);
  media->port = 9;
  media->protocol = g_strdup (
      kind == HQ_SDP_KIND_APPLICATION ? "UDP/DTLS/SCTP" : "UDP/TLS/RTP/SAVPF");
  media->direction = HQ_SDP_SENDRECV;
  media->codecs =
      g_ptr_array_new_with_free_func ((GDestroyNotify)hq_sdp_codec_free);
  media->extmaps = g_ptr_array_new_with_free_func (extmap_free);
  media->ssrcs = g_ptr_array_new_with_free_func (ssrc_free);
  media->fids = g_array_new (FALSE, FALSE, sizeof (HqSdpSsrcFid));
  media->candidates = g_ptr_array_new_with_free_func (g_free);
  media->rids = g_ptr_array_new_with_free_func (rid_free);
  media->simulcast = g_ptr_array_new_with_free_func (g_free);
  media->simulcast_direction = HQ_SDP_SENDONLY;
  return media;
}

void
hq_sdp_media_free (HqSdpMedia *media)
{
  if (media == NULL)
    return;
  g_free (media->mid);
  g_free (media->protocol);
  g_free (media->app_formats);
  g_ptr_array_unref (media->codecs);
  g_ptr_array_unref (media->extmaps);
  g_ptr_array_unref (media->ssrcs);
  g_array_unref (media->fids);
  g_free (media->msid_stream);
  g_free (media->msid_track);
  g_free (media->ice_ufrag);
  g_free (media->ice_pwd);
  g_free (media->fingerprint_alg);
  g_free (media->fingerprint);
  g_ptr_array_unref (media->candidates);
  g_ptr_array_unref (media->rids);
  g_ptr_array_unref (media->simulcast);
  g_free (media);
}

const HqSdpCodec *
hq_sdp_media_find_codec (const HqSdpMedia *media, guint pt)
{
  for (guint i = 0; i < media->codecs->len; i++) {
    const HqSdpCodec *c = media->codecs->pdata[i];
    if (c->pt == pt)
      return c;
  }
  return NULL;
}

const HqSdpCodec *
hq_sdp_media_find_codec_by_name (const HqSdpMedia *media, const gchar *name)
{
  for (guint i = 0; i < media->codecs->len; i++) {
    const HqSdpCodec *c = media->codecs->pdata[i];
    if (g_ascii_strcasecmp (c->name, name) == 0)
      return c;
  }
  return NULL;
}

guint
hq_sdp_media_extmap_id (const HqSdpMedia *media, const gchar *uri)
{
  for (guint i = 0; i < media->extmaps->len; i++) {
    const HqSdpExtmap *e = media->extmaps->pdata[i];
    if (g_strcmp0 (e->uri, uri) == 0)
      return e->id;
  }
  return 0;
}

guint32
hq_sdp_media_rtx_ssrc (const HqSdpMedia *media, guint32 ssrc)
{
  for (guint i = 0; i < media->fids->len; i++) {
    const HqSdpSsrcFid *f = &g_array_index (media->fids, HqSdpSsrcFid, i);
    if (f->primary == ssrc)
      return f->rtx;
  }
  return 0;
}

GArray *
hq_sdp_media_primary_ssrcs (const HqSdpMedia *media)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (guint32));

  for (guint i = 0; i < media->ssrcs->len; i++) {
    const HqSdpSsrc *s = media->ssrcs->pdata[i];
    gboolean is_rtx = FALSE;

    for (guint j = 0; j < media->fids->len; j++)
      if (g_array_index (media->fids, HqSdpSsrcFid, j).rtx == s->ssrc)
        is_rtx = TRUE;
    if (!is_rtx)
      g_array_append_val (out, s->ssrc);
  }
  return out;
}

gboolean
hq_sdp_media_is_active (const HqSdpMedia *media)
{
  return media->port != 0;
}

HqSdp *
hq_sdp_new (HqSdpType type)
{
  HqSdp *sdp = g_new0 (HqSdp, 1);

  sdp->type = type;
  sdp->bundle = g_ptr_array_new_with_free_func (g_free);
  sdp->media =
      g_ptr_array_new_with_free_func ((GDestroyNotify)hq_sdp_media_free);
  return sdp;
}

void
hq_sdp_free (HqSdp *sdp)
{
  if (sdp == NULL)
    return;
  g_free (sdp->ice_ufrag);
  g_free (sdp->ice_pwd);
  g_free (sdp->fingerprint_alg);
  g_free (sdp->fingerprint);
  g_ptr_array_unref (sdp->bundle);
  g_free (sdp->msid_semantic);
  g_ptr_array_unref (sdp->media);
  g_free (sdp);
}

HqSdpMedia *
hq_sdp_find_media (const HqSdp *sdp, const gchar *mid)
{
  for (guint i = 0; i < sdp->media->len; i++) {
    HqSdpMedia *m = sdp->media->pdata[i];
    if (g_strcmp0 (m->mid, mid) == 0)
      return m;
  }
  return NULL;
}

const HqSdpMedia *
hq_sdp_transport_media (const HqSdp *sdp)
{
  if (sdp->bundle->len > 0) {
    const HqSdpMedia *m = hq_sdp_find_media (sdp, sdp->bundle->pdata[0]);
    if (m != NULL && hq_sdp_media_is_active (m))
      return m;
  }
  for (guint i = 0; i < sdp->media->len; i++) {
    const HqSdpMedia *m = sdp->media->pdata[i];
    if (hq_sdp_media_is_active (m))
      return m;
  }
  return NULL;
}

const gchar *
hq_sdp_get_ice_ufrag (const HqSdp *sdp)
{
  const HqSdpMedia *m = hq_sdp_transport_media (sdp);
  return m ? m->ice_ufrag : NULL;
}

const gchar *
hq_sdp_get_ice_pwd (const HqSdp *sdp)
{
  const HqSdpMedia *m = hq_sdp_transport_media (sdp);
  return m ? m->ice_pwd : NULL;
}

const gchar *
hq_sdp_get_fingerprint (const HqSdp *sdp)
{
  const HqSdpMedia *m = hq_sdp_transport_media (sdp);
  return m ? m->fingerprint : NULL;
}

HqSdpSetup
hq_sdp_get_setup (const HqSdp *sdp)
{
  const HqSdpMedia *m = hq_sdp_transport_media (sdp);
  return m ? m->setup : HQ_SDP_SETUP_ACTPASS;
}

const GPtrArray *
hq_sdp_get_candidates (const HqSdp *sdp)
{
  const HqSdpMedia *m = hq_sdp_transport_media (sdp);
  return m ? m->candidates : NULL;
}
