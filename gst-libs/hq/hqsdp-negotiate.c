/* SDP negotiation: our offers and answers, built from the local
 * transport (HqSdpLocal) and the tracks we send (HqSdpTrack).  See hqsdp.h
 * for the model and docs/sdp.md for what we offer and accept.
 */
#include "hqsdp.h"
#include "hqsdp-private.h"
#include "hqdebug.h"
#include "hqutil.h"

#include <string.h>
#include <gst/gst.h>

#define HQ_SDP_OPUS_PT 111
#define HQ_SDP_VP8_PT 96
#define HQ_SDP_VP8_RTX_PT 97
#define HQ_SDP_H264_PT 102
#define HQ_SDP_H264_RTX_PT 103
#define HQ_SDP_OPUS_FMTP "minptime=10;useinbandfec=1"
#define HQ_SDP_H264_FMTP                                                       \
  "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"

static const gchar *const video_fbs[] = { "goog-remb", "transport-cc",
  "ccm fir", "nack", "nack pli", NULL };
static const gchar *const audio_fbs[] = { "transport-cc", NULL };
static const gchar *const audio_exts[] = { HQ_SDP_EXT_AUDIO_LEVEL,
  HQ_SDP_EXT_ABS_SEND_TIME, HQ_SDP_EXT_TWCC, HQ_SDP_EXT_MID, NULL };
static const gchar *const video_exts[] = { HQ_SDP_EXT_ABS_SEND_TIME,
  HQ_SDP_EXT_TWCC, HQ_SDP_EXT_MID, NULL };

/* --- building --- */

GPtrArray *
hq_sdp_default_codecs (HqSdpKind kind)
{
  GPtrArray *codecs =
      g_ptr_array_new_with_free_func ((GDestroyNotify)hq_sdp_codec_free);
  HqSdpCodec *c;

  if (kind == HQ_SDP_KIND_AUDIO) {
    c = hq_sdp_codec_new (HQ_SDP_OPUS_PT, "opus", 48000, 2, HQ_SDP_OPUS_FMTP);
    for (guint i = 0; audio_fbs[i] != NULL; i++)
      g_ptr_array_add (c->rtcp_fb, g_strdup (audio_fbs[i]));
    g_ptr_array_add (codecs, c);
  } else if (kind == HQ_SDP_KIND_VIDEO) {
    c = hq_sdp_codec_new (HQ_SDP_VP8_PT, "VP8", 90000, 0, NULL);
    c->rtx_pt = HQ_SDP_VP8_RTX_PT;
    g_ptr_array_add (codecs, c);
    c = hq_sdp_codec_new (HQ_SDP_H264_PT, "H264", 90000, 0, HQ_SDP_H264_FMTP);
    c->rtx_pt = HQ_SDP_H264_RTX_PT;
    g_ptr_array_add (codecs, c);
    for (guint i = 0; i < codecs->len; i++)
      for (guint j = 0; video_fbs[j] != NULL; j++)
        g_ptr_array_add (
            ((HqSdpCodec *)codecs->pdata[i])->rtcp_fb, g_strdup (video_fbs[j]));
  }
  return codecs;
}

static guint64
random_session_id (void)
{
  guint64 id;

  hq_random_bytes ((guint8 *)&id, sizeof id);
  /* JSEP: a 62-bit number, so it never looks negative to anyone */
  return (id >> 2) | 1;
}

static gboolean
check_local (const HqSdpLocal *local, GError **error)
{
  if (local == NULL || local->ice_ufrag == NULL || local->ice_pwd == NULL
      || local->fingerprint == NULL) {
    g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_INVALID_ARGUMENT,
        "a description needs our ICE ufrag, password and DTLS fingerprint");
    return FALSE;
  }
  if (!is_ice_chars (local->ice_ufrag, 4, 256)
      || !is_ice_chars (local->ice_pwd, 22, 256)) {
    g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_INVALID_ARGUMENT,
        "our ICE ufrag must be 4 to 256 and our password 22 to 256 "
        "ICE characters");
    return FALSE;
  }
  if (!is_sha256_fingerprint (local->fingerprint)) {
    g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_INVALID_ARGUMENT,
        "our fingerprint must be a SHA-256 digest as 32 colon-separated "
        "hex bytes");
    return FALSE;
  }
  return TRUE;
}

static gboolean
check_track (const HqSdpTrack *t, GError **error)
{
  if (t->kind == HQ_SDP_KIND_APPLICATION) {
    g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_INVALID_ARGUMENT,
        "track %s: we do not offer data channels", t->mid ? t->mid : "(new)");
    return FALSE;
  }
  if (!simulcast_check_track (t, error))
    return FALSE;
  if (direction_sends (t->direction)
      && (t->track_id == NULL
          || (t->ssrc == 0 && !simulcast_track_has_rids (t)))) {
    g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_INVALID_ARGUMENT,
        "track %s sends, so it needs a track id and an SSRC",
        t->mid ? t->mid : "(new)");
    return FALSE;
  }
  if (t->rtx_ssrc != 0
      && (t->kind != HQ_SDP_KIND_VIDEO || t->rtx_ssrc == t->ssrc)) {
    g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_INVALID_ARGUMENT,
        "track %s: an RTX SSRC needs a video track and differs from its SSRC",
        t->mid ? t->mid : "(new)");
    return FALSE;
  }
  return TRUE;
}

static void
set_transport (HqSdpMedia *m, const HqSdpLocal *local, HqSdpSetup setup)
{
  g_free (m->ice_ufrag);
  g_free (m->ice_pwd);
  g_free (m->fingerprint_alg);
  g_free (m->fingerprint);
  m->ice_ufrag = g_strdup (local->ice_ufrag);
  m->ice_pwd = g_strdup (local->ice_pwd);
  m->fingerprint_alg = g_strdup ("sha-256");
  m->fingerprint = g_ascii_strup (local->fingerprint, -1);
  m->setup = setup;
}

/* Adds our SSRCs, msid and FID group when the m-line sends. */
static void
set_sender (
    HqSdpMedia *m, const HqSdpTrack *t, const gchar *cname, gboolean with_rtx)
{
  g_autofree gchar *msid = NULL;
  const gchar *stream = t->stream_id ? t->stream_id : "-";

  if (!direction_sends (m->direction))
    return;
  msid = g_strdup_printf ("%s %s", stream, t->track_id);
  m->msid_stream = g_strdup (stream);
  m->msid_track = g_strdup (t->track_id);
  /* a simulcast sender may leave its SSRCs to the RID extension */
  if (t->ssrc == 0)
    return;
  if (with_rtx && t->rtx_ssrc != 0) {
    HqSdpSsrcFid fid = { t->ssrc, t->rtx_ssrc };
    g_array_append_val (m->fids, fid);
  }
  g_ptr_array_add (m->ssrcs, ssrc_new (t->ssrc, cname, msid));
  if (with_rtx && t->rtx_ssrc != 0)
    g_ptr_array_add (m->ssrcs, ssrc_new (t->rtx_ssrc, cname, msid));
}

guint
hq_sdp_offer_extmap_id (const gchar *uri)
{
  static const gchar *const ids[] = { NULL, HQ_SDP_EXT_AUDIO_LEVEL,
    HQ_SDP_EXT_ABS_SEND_TIME, HQ_SDP_EXT_TWCC, HQ_SDP_EXT_MID };

  for (guint id = 1; uri && id < G_N_ELEMENTS (ids); id++) {
    if (g_str_equal (uri, ids[id]))
      return id;
  }
  /* the ids Chromium gives them, offered only with simulcast */
  if (g_strcmp0 (uri, HQ_SDP_EXT_RID) == 0)
    return 10;
  if (g_strcmp0 (uri, HQ_SDP_EXT_REPAIRED_RID) == 0)
    return 11;
  return 0;
}

static HqSdpMedia *
offer_media (const HqSdpTrack *t, const gchar *mid, const HqSdpLocal *local,
    const gchar *cname)
{
  const gchar *const *exts =
      t->kind == HQ_SDP_KIND_AUDIO ? audio_exts : video_exts;
  HqSdpMedia *m = hq_sdp_media_new (t->kind, mid);

  g_ptr_array_unref (m->codecs);
  m->codecs = hq_sdp_default_codecs (t->kind);
  m->direction = t->direction;
  m->rtcp_mux = TRUE;
  m->rtcp_rsize = TRUE;
  for (guint i = 0; exts[i] != NULL; i++)
    g_ptr_array_add (
        m->extmaps, extmap_new (hq_sdp_offer_extmap_id (exts[i]), exts[i]));
  set_transport (m, local, HQ_SDP_SETUP_ACTPASS);
  set_sender (m, t, cname, TRUE);
  simulcast_offer (m, t);
  return m;
}

/* Turns @m into a removed m-line: port 0, inactive, nothing sent. */
static void
media_remove (HqSdpMedia *m)
{
  m->port = 0;
  m->direction = HQ_SDP_INACTIVE;
  g_ptr_array_set_size (m->ssrcs, 0);
  g_array_set_size (m->fids, 0);
  g_ptr_array_set_size (m->candidates, 0);
  g_ptr_array_set_size (m->rids, 0);
  g_ptr_array_set_size (m->simulcast, 0);
  m->end_of_candidates = FALSE;
  g_clear_pointer (&m->msid_stream, g_free);
  g_clear_pointer (&m->msid_track, g_free);
}

static HqSdpMedia *
media_copy_removed (const HqSdpMedia *src)
{
  HqSdpMedia *m = hq_sdp_media_new (src->kind, src->mid);

  g_free (m->protocol);
  m->protocol = g_strdup (src->protocol);
  m->app_formats = g_strdup (src->app_formats);
  for (guint i = 0; i < src->codecs->len; i++)
    g_ptr_array_add (m->codecs, hq_sdp_codec_copy (src->codecs->pdata[i]));
  m->rtcp_mux = src->rtcp_mux;
  media_remove (m);
  return m;
}

/* The m-line of @pm's kind kept for the BUNDLE tag when its track is gone:
 * transport and codecs as offered, inactive, no SSRC or msid.  RFC 8843
 * lets the tag move to another m-line, but Chromium then builds a new
 * transport for the group, which the other side never answers. */
static HqSdpMedia *
offer_idle_tag (const HqSdpMedia *pm, const HqSdpLocal *local)
{
  HqSdpTrack idle = { .kind = pm->kind, .direction = HQ_SDP_INACTIVE };

  return offer_media (&idle, pm->mid, local, NULL);
}

static const HqSdpTrack *
find_track (const HqSdpTrack *tracks, guint n, const gchar *mid)
{
  for (guint i = 0; i < n; i++)
    if (g_strcmp0 (tracks[i].mid, mid) == 0)
      return &tracks[i];
  return NULL;
}

/* The next number, as a mid, greater than every numeric mid in use. */
static guint
next_numeric_mid (const HqSdp *previous, const HqSdpTrack *tracks, guint n)
{
  guint64 next = 0, v;

  for (guint i = 0; previous != NULL && i < previous->media->len; i++) {
    const HqSdpMedia *m = previous->media->pdata[i];
    if (parse_uint (m->mid, 0, G_MAXUINT - 1, &v) == NUM_OK && v + 1 > next)
      next = v + 1;
  }
  for (guint i = 0; i < n; i++)
    if (tracks[i].mid != NULL
        && parse_uint (tracks[i].mid, 0, G_MAXUINT - 1, &v) == NUM_OK
        && v + 1 > next)
      next = v + 1;
  return next;
}

static gchar *
make_cname (const HqSdpLocal *local)
{
  guint8 bytes[8];

  if (local->cname != NULL)
    return g_strdup (local->cname);
  hq_random_bytes (bytes, sizeof bytes);
  return hq_base64url_encode (bytes, sizeof bytes);
}

static void
set_msid_semantic (HqSdp *sdp)
{
  GString *s = g_string_new ("WMS");

  for (guint i = 0; i < sdp->media->len; i++) {
    const HqSdpMedia *m = sdp->media->pdata[i];
    g_autofree gchar *word = NULL;

    if (m->msid_stream == NULL || g_str_equal (m->msid_stream, "-"))
      continue;
    word = g_strconcat (" ", m->msid_stream, NULL);
    if (!strstr (s->str, word)) /* streams shared by tracks, listed once */
      g_string_append (s, word);
  }
  sdp->msid_semantic = g_string_free (s, FALSE);
}

HqSdp *
hq_sdp_build_offer (const HqSdpLocal *local, const HqSdpTrack *tracks,
    guint n_tracks, const HqSdp *previous, GError **error)
{
  g_autoptr (HqSdp) sdp = hq_sdp_new (HQ_SDP_OFFER);
  g_autoptr (GArray) reusable = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autofree gchar *cname = NULL;
  const gchar *tag = NULL;
  guint next_mid;

  if (!check_local (local, error))
    return NULL;
  if (n_tracks + (previous ? previous->media->len : 0) > HQ_SDP_MAX_MEDIA) {
    g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_INVALID_ARGUMENT,
        "an offer may have at most %d m-lines", HQ_SDP_MAX_MEDIA);
    return NULL;
  }
  for (guint i = 0; i < n_tracks; i++) {
    if (!check_track (&tracks[i], error))
      return NULL;
    if (tracks[i].mid != NULL
        && find_track (tracks, i, tracks[i].mid) != NULL) {
      g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_INVALID_ARGUMENT,
          "two tracks have mid %s", tracks[i].mid);
      return NULL;
    }
  }
  cname = make_cname (local);
  next_mid = next_numeric_mid (previous, tracks, n_tracks);
  sdp->ice_trickle = TRUE;

  if (previous != NULL) {
    hq_sdp_continue_session (sdp, previous);
    if (previous->bundle->len > 0)
      tag = previous->bundle->pdata[0];
    for (guint i = 0; i < previous->media->len; i++) {
      const HqSdpMedia *pm = previous->media->pdata[i];
      const HqSdpTrack *t = find_track (tracks, n_tracks, pm->mid);
      gboolean is_tag = g_strcmp0 (pm->mid, tag) == 0;

      if (t != NULL && t->kind != pm->kind) {
        g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_INVALID_ARGUMENT,
            "mid %s is %s in the previous offer; it cannot become %s", pm->mid,
            hq_sdp_kind_to_string (pm->kind), hq_sdp_kind_to_string (t->kind));
        return NULL;
      }
      if (t != NULL)
        g_ptr_array_add (sdp->media, offer_media (t, pm->mid, local, cname));
      else if (is_tag && pm->kind != HQ_SDP_KIND_APPLICATION)
        g_ptr_array_add (sdp->media, offer_idle_tag (pm, local));
      else
        g_ptr_array_add (sdp->media, media_copy_removed (pm));
      /* only a slot whose removal was already negotiated may be recycled */
      if (t == NULL && !hq_sdp_media_is_active (pm))
        g_array_append_val (reusable, i);
    }
  } else {
    sdp->session_id =
        local->session_id ? local->session_id : random_session_id ();
    sdp->session_version = 1;
  }

  for (guint i = 0, r = 0; i < n_tracks; i++) {
    const HqSdpTrack *t = &tracks[i];
    g_autofree gchar *mid = NULL;
    HqSdpMedia *m;

    if (t->mid != NULL && previous != NULL
        && hq_sdp_find_media (previous, t->mid) != NULL)
      continue;
    mid = t->mid ? g_strdup (t->mid) : g_strdup_printf ("%u", next_mid++);
    m = offer_media (t, mid, local, cname);
    if (r < reusable->len) {
      guint slot = g_array_index (reusable, guint, r++);
      hq_sdp_media_free (sdp->media->pdata[slot]);
      sdp->media->pdata[slot] = m;
    } else {
      g_ptr_array_add (sdp->media, m);
    }
  }

  /* the tag stays first, even when a recycled slot comes before it */
  if (tag != NULL && hq_sdp_find_media (sdp, tag) != NULL
      && hq_sdp_media_is_active (hq_sdp_find_media (sdp, tag)))
    g_ptr_array_add (sdp->bundle, g_strdup (tag));
  for (guint i = 0; i < sdp->media->len; i++) {
    const HqSdpMedia *m = sdp->media->pdata[i];
    if (hq_sdp_media_is_active (m) && g_strcmp0 (m->mid, tag) != 0)
      g_ptr_array_add (sdp->bundle, g_strdup (m->mid));
  }
  set_msid_semantic (sdp);
  return g_steal_pointer (&sdp);
}

void
hq_sdp_continue_session (HqSdp *sdp, const HqSdp *previous)
{
  sdp->session_id = previous->session_id;
  sdp->session_version = previous->session_version + 1;
}

/* H.264 we can send and receive: packetization-mode=1 and a constrained
 * baseline profile-level-id (profile_idc 0x42 with constraint_set1). */
static gboolean
h264_compatible (const HqSdpCodec *c)
{
  g_autofree gchar *mode = hq_sdp_codec_get_param (c, "packetization-mode");
  g_autofree gchar *plid = hq_sdp_codec_get_param (c, "profile-level-id");
  guint64 v;

  if (g_strcmp0 (mode, "1") != 0 || plid == NULL || strlen (plid) != 6)
    return FALSE;
  for (guint i = 0; i < 6; i++)
    if (!g_ascii_isxdigit (plid[i]))
      return FALSE;
  v = g_ascii_strtoull (plid, NULL, 16);
  return (v >> 16) == 0x42 && ((v >> 8) & 0x40) != 0;
}

static void
copy_fbs (
    HqSdpCodec *dst, const HqSdpCodec *offered, const gchar *const *supported)
{
  for (guint i = 0; supported[i] != NULL; i++)
    if (hq_sdp_codec_has_fb (offered, supported[i]))
      g_ptr_array_add (dst->rtcp_fb, g_strdup (supported[i]));
}

/* Our answer codec for @offered, or NULL when we do not support it. */
static HqSdpCodec *
answer_codec (const HqSdpCodec *offered, HqSdpKind kind)
{
  HqSdpCodec *c = NULL;

  if (kind == HQ_SDP_KIND_AUDIO) {
    if (g_ascii_strcasecmp (offered->name, "opus") == 0
        && offered->clock_rate == 48000 && offered->channels == 2)
      c = hq_sdp_codec_new (
          offered->pt, offered->name, 48000, 2, HQ_SDP_OPUS_FMTP);
    if (c != NULL)
      copy_fbs (c, offered, audio_fbs);
    return c;
  }
  if (offered->clock_rate != 90000)
    return NULL;
  if (g_ascii_strcasecmp (offered->name, "VP8") == 0)
    c = hq_sdp_codec_new (offered->pt, offered->name, 90000, 0, NULL);
  else if (g_ascii_strcasecmp (offered->name, "H264") == 0
      && h264_compatible (offered)) {
    g_autofree gchar *plid =
        hq_sdp_codec_get_param (offered, "profile-level-id");
    g_autofree gchar *fmtp = g_strdup_printf (
        "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=%s",
        plid);
    c = hq_sdp_codec_new (offered->pt, offered->name, 90000, 0, fmtp);
  }
  if (c != NULL) {
    copy_fbs (c, offered, video_fbs);
    c->rtx_pt = offered->rtx_pt;
  }
  return c;
}

static HqSdpMedia *
answer_media (const HqSdpMedia *om, const HqSdpTrack *t,
    const HqSdpLocal *local, HqSdpSetup setup, const gchar *cname)
{
  const gchar *const *exts =
      om->kind == HQ_SDP_KIND_AUDIO ? audio_exts : video_exts;
  HqSdpMedia *m = media_copy_removed (om);
  HqSdpDirection wish = t ? t->direction : HQ_SDP_RECVONLY;
  gboolean with_rtx = FALSE;

  /* data channels and m-lines the offer removed stay rejected */
  if (om->kind == HQ_SDP_KIND_APPLICATION || !hq_sdp_media_is_active (om))
    return m;

  g_ptr_array_set_size (m->codecs, 0);
  for (guint i = 0; i < om->codecs->len; i++) {
    HqSdpCodec *c = answer_codec (om->codecs->pdata[i], om->kind);
    if (c != NULL) {
      with_rtx |= c->rtx_pt >= 0;
      g_ptr_array_add (m->codecs, c);
    }
  }
  if (m->codecs->len == 0) {
    /* keep one offered format: an m-line must list one */
    g_ptr_array_add (m->codecs, hq_sdp_codec_copy (om->codecs->pdata[0]));
    g_ptr_array_set_size (((HqSdpCodec *)m->codecs->pdata[0])->rtcp_fb, 0);
    ((HqSdpCodec *)m->codecs->pdata[0])->rtx_pt = -1;
    return m;
  }

  m->port = 9;
  m->rtcp_mux = TRUE;
  m->rtcp_rsize = om->rtcp_rsize;
  m->direction = direction_make (
      direction_receives (om->direction) && direction_sends (wish),
      direction_sends (om->direction) && direction_receives (wish));
  for (guint i = 0; i < om->extmaps->len; i++) {
    const HqSdpExtmap *e = om->extmaps->pdata[i];
    if (g_strv_contains (exts, e->uri)
        || (hq_sdp_media_is_simulcast (om) && simulcast_is_rid_ext (e->uri)))
      g_ptr_array_add (m->extmaps, extmap_new (e->id, e->uri));
  }
  set_transport (m, local, setup);
  if (t != NULL)
    set_sender (m, t, cname, with_rtx);
  simulcast_answer (m, om);
  return m;
}

static HqSdp *
build_answer (const HqSdp *offer, const HqSdpLocal *local,
    const HqSdpTrack *tracks, guint n_tracks, GError **error)
{
  g_autoptr (HqSdp) sdp = hq_sdp_new (HQ_SDP_ANSWER);
  g_autofree gchar *cname = NULL;
  HqSdpSetup setup;

  if (offer == NULL || offer->type != HQ_SDP_OFFER) {
    g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_INVALID_ARGUMENT,
        "only an offer can be answered");
    return NULL;
  }
  if (!check_local (local, error))
    return NULL;
  for (guint i = 0; i < n_tracks; i++) {
    const HqSdpMedia *om = hq_sdp_find_media (offer, tracks[i].mid);

    if (!check_track (&tracks[i], error))
      return NULL;
    if (om == NULL || om->kind != tracks[i].kind) {
      g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_INVALID_ARGUMENT,
          "track %s: the offer has no %s m-line with that mid",
          tracks[i].mid ? tracks[i].mid : "(no mid)",
          hq_sdp_kind_to_string (tracks[i].kind));
      return NULL;
    }
  }
  cname = make_cname (local);
  sdp->session_id =
      local->session_id ? local->session_id : random_session_id ();
  sdp->session_version = 1;
  sdp->ice_trickle = TRUE;

  for (guint i = 0; i < offer->media->len; i++) {
    const HqSdpMedia *om = offer->media->pdata[i];

    /* RFC 5763: answer actpass with our preference, and the opposite of a
     * role the offerer already took */
    if (om->setup == HQ_SDP_SETUP_ACTIVE)
      setup = HQ_SDP_SETUP_PASSIVE;
    else if (om->setup == HQ_SDP_SETUP_PASSIVE)
      setup = HQ_SDP_SETUP_ACTIVE;
    else
      setup = local->setup == HQ_SDP_SETUP_ACTIVE ? HQ_SDP_SETUP_ACTIVE
                                                  : HQ_SDP_SETUP_PASSIVE;
    g_ptr_array_add (sdp->media,
        answer_media (
            om, find_track (tracks, n_tracks, om->mid), local, setup, cname));
  }
  for (guint i = 0; i < offer->bundle->len; i++) {
    const HqSdpMedia *m = hq_sdp_find_media (sdp, offer->bundle->pdata[i]);
    if (m != NULL && hq_sdp_media_is_active (m))
      g_ptr_array_add (sdp->bundle, g_strdup (m->mid));
  }
  set_msid_semantic (sdp);
  return g_steal_pointer (&sdp);
}

/* The public entry points, logged (GST_DEBUG=hqsdp:5). */
HqSdp *
hq_sdp_build_answer (const HqSdp *offer, const HqSdpLocal *local,
    const HqSdpTrack *tracks, guint n_tracks, GError **error)
{
  GError *local_error = NULL;
  HqSdp *sdp;

  hq_debug_init ();
  sdp = build_answer (offer, local, tracks, n_tracks, &local_error);
  if (sdp == NULL) {
    GST_CAT_WARNING (
        hq_sdp_debug, "cannot answer the offer: %s", local_error->message);
    g_propagate_error (error, local_error);
    return NULL;
  }
  for (guint i = 0; i < sdp->media->len; i++) {
    const HqSdpMedia *m = g_ptr_array_index (sdp->media, i);
    GST_CAT_DEBUG (hq_sdp_debug, "answer m-line %u (mid %s, %s): %s", i,
        m->mid ? m->mid : "-", hq_sdp_kind_to_string (m->kind),
        hq_sdp_media_is_active (m) ? "accepted" : "rejected or inactive");
  }
  return sdp;
}
