/* SDP simulcast: RID layers (RFC 8851 a=rid), a=simulcast (RFC 8853) and
 * the RID header extensions (RFC 8852), read, written, offered and
 * answered.  See hqsdp.h for the model and docs/sdp.md for what we accept.
 *
 * Simulcast is a part of the SDP layer of its own: the other files call
 * in at one place each (an attribute to read, an m-line to write, an
 * offer or answer m-line to complete), so the rules about layers live
 * here.  Our protocol lists layers lowest resolution first; we keep the
 * order of a=simulcast, which is the order the SFU numbers its layers in.
 */
#include "hqsdp.h"
#include "hqsdp-private.h"

#include <string.h>
#include <gst/sdp/sdp.h>

void
rid_free (gpointer data)
{
  HqSdpRid *rid = data;

  g_free (rid->id);
  g_free (rid->params);
  g_free (rid);
}

static HqSdpRid *
rid_new (const gchar *id, HqSdpDirection direction, const gchar *params)
{
  HqSdpRid *rid = g_new0 (HqSdpRid, 1);

  rid->id = g_strdup (id);
  rid->direction = direction;
  rid->params = g_strdup (params);
  return rid;
}

/* RFC 8851 rid-syntax, capped at what a one-byte header extension holds. */
static gboolean
is_rid (const gchar *s)
{
  gsize n = 0;

  for (; *s != '\0'; s++, n++)
    if (!g_ascii_isalnum (*s) && *s != '-' && *s != '_')
      return FALSE;
  return n >= 1 && n <= HQ_SDP_MAX_RID_LEN;
}

static gboolean
rid_direction (const gchar *word, HqSdpDirection *direction)
{
  if (g_strcmp0 (word, "send") == 0)
    *direction = HQ_SDP_SENDONLY;
  else if (g_strcmp0 (word, "recv") == 0)
    *direction = HQ_SDP_RECVONLY;
  else
    return FALSE;
  return TRUE;
}

static const gchar *
rid_direction_word (HqSdpDirection direction)
{
  return direction == HQ_SDP_RECVONLY ? "recv" : "send";
}

const HqSdpRid *
hq_sdp_media_find_rid (const HqSdpMedia *media, const gchar *rid)
{
  for (guint i = 0; rid != NULL && i < media->rids->len; i++) {
    const HqSdpRid *r = media->rids->pdata[i];
    if (g_str_equal (r->id, rid))
      return r;
  }
  return NULL;
}

gboolean
hq_sdp_media_is_simulcast (const HqSdpMedia *media)
{
  return media->simulcast->len > 0;
}

gint
hq_sdp_media_simulcast_index (const HqSdpMedia *media, const gchar *rid)
{
  for (guint i = 0; rid != NULL && i < media->simulcast->len; i++)
    if (g_str_equal (media->simulcast->pdata[i], rid))
      return i;
  return -1;
}

/* "a=rid:<id> <send|recv> [<restrictions>]" */
gboolean
simulcast_parse_rid (HqSdpMedia *media, const gchar *value, GError **error)
{
  g_auto (GStrv) parts = g_strsplit_set (value, " \t", 3);
  HqSdpDirection direction;

  if (g_strv_length (parts) < 2) {
    g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_SYNTAX,
        "a=rid: expected '<id> send|recv [<restrictions>]'");
    return FALSE;
  }
  if (!is_rid (parts[0])) {
    g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_SYNTAX,
        "a=rid: '%.20s' is not a RID (1 to %d letters, digits, '-' or '_')",
        parts[0], HQ_SDP_MAX_RID_LEN);
    return FALSE;
  }
  if (!rid_direction (parts[1], &direction)) {
    g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_SYNTAX,
        "a=rid:%s: direction '%.16s' is not send or recv", parts[0], parts[1]);
    return FALSE;
  }
  if (hq_sdp_media_find_rid (media, parts[0]) != NULL) {
    g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_INCONSISTENT,
        "a=rid:%s is described twice", parts[0]);
    return FALSE;
  }
  if (media->rids->len == HQ_SDP_MAX_RIDS) {
    g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_UNSUPPORTED,
        "a=rid: more than %d RIDs (we take at most %d simulcast layers)",
        HQ_SDP_MAX_RIDS, HQ_SDP_MAX_RIDS);
    return FALSE;
  }
  g_ptr_array_add (media->rids,
      rid_new (parts[0], direction, parts[2] && *parts[2] ? parts[2] : NULL));
  return TRUE;
}

/* "a=simulcast:<send|recv> <rid>[,<alt>];<rid>..." with an optional '~'
 * (paused) before a RID.  One direction only: an m-line that both sends
 * and receives simulcast is not something a room needs. */
gboolean
simulcast_parse_line (HqSdpMedia *media, const gchar *value, GError **error)
{
  g_auto (GStrv) parts = g_strsplit_set (value, " \t", -1);
  g_auto (GStrv) layers = NULL;
  const gchar *words[3] = { NULL, NULL, NULL };
  guint n_words = 0;
  HqSdpDirection direction;

  for (guint i = 0; parts[i] != NULL; i++) {
    if (parts[i][0] == '\0')
      continue;
    if (n_words < G_N_ELEMENTS (words))
      words[n_words] = parts[i];
    n_words++;
  }
  if (n_words > 2) {
    g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_UNSUPPORTED,
        "a=simulcast: only one direction (send or recv) is supported");
    return FALSE;
  }
  if (n_words != 2) {
    g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_SYNTAX,
        "a=simulcast: expected 'send|recv <rid>;<rid>...'");
    return FALSE;
  }
  if (!rid_direction (words[0], &direction)) {
    g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_SYNTAX,
        "a=simulcast: direction '%.16s' is not send or recv", words[0]);
    return FALSE;
  }
  if (media->simulcast->len > 0) {
    g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_INCONSISTENT,
        "a=simulcast given twice");
    return FALSE;
  }
  layers = g_strsplit (words[1], ";", -1);
  if (g_strv_length (layers) > HQ_SDP_MAX_RIDS) {
    g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_UNSUPPORTED,
        "a=simulcast: %u layers; we take at most %d", g_strv_length (layers),
        HQ_SDP_MAX_RIDS);
    return FALSE;
  }
  for (guint i = 0; layers[i] != NULL; i++) {
    g_auto (GStrv) alts = g_strsplit (layers[i], ",", 2);
    const gchar *rid = alts[0] ? alts[0] : "";

    if (*rid == '~')
      rid++;
    if (!is_rid (rid)) {
      g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_SYNTAX,
          "a=simulcast: layer %u '%.20s' is not a RID", i + 1, layers[i]);
      g_ptr_array_set_size (media->simulcast, 0);
      return FALSE;
    }
    if (hq_sdp_media_simulcast_index (media, rid) >= 0) {
      g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_INCONSISTENT,
          "a=simulcast: RID %s listed twice", rid);
      g_ptr_array_set_size (media->simulcast, 0);
      return FALSE;
    }
    g_ptr_array_add (media->simulcast, g_strdup (rid));
  }
  media->simulcast_direction = direction;
  return TRUE;
}

/* Once all attributes are read: every layer of a=simulcast has an a=rid
 * line in the same direction (RFC 8853 section 5.1). */
gboolean
simulcast_check (const HqSdpMedia *media, GError **error)
{
  for (guint i = 0; i < media->simulcast->len; i++) {
    const gchar *id = media->simulcast->pdata[i];
    const HqSdpRid *rid = hq_sdp_media_find_rid (media, id);

    if (rid == NULL) {
      g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_INCONSISTENT,
          "a=simulcast names RID %s, which no a=rid line describes", id);
      return FALSE;
    }
    if (rid->direction != media->simulcast_direction) {
      g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_INCONSISTENT,
          "a=rid:%s says %s but a=simulcast says %s", id,
          rid_direction_word (rid->direction),
          rid_direction_word (media->simulcast_direction));
      return FALSE;
    }
  }
  if (media->simulcast->len > 0 && media->kind != HQ_SDP_KIND_VIDEO) {
    g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_UNSUPPORTED,
        "a=simulcast on a %s m-line: only video is sent in layers",
        hq_sdp_kind_to_string (media->kind));
    return FALSE;
  }
  return TRUE;
}

void
simulcast_write (GstSDPMedia *gm, const HqSdpMedia *m)
{
  GString *list;

  for (guint i = 0; i < m->rids->len; i++) {
    const HqSdpRid *r = m->rids->pdata[i];
    g_autofree gchar *value =
        g_strdup_printf ("%s %s%s%s", r->id, rid_direction_word (r->direction),
            r->params ? " " : "", r->params ? r->params : "");
    gst_sdp_media_add_attribute (gm, "rid", value);
  }
  if (m->simulcast->len == 0)
    return;
  list = g_string_new (rid_direction_word (m->simulcast_direction));
  for (guint i = 0; i < m->simulcast->len; i++)
    g_string_append_printf (list, "%c%s", i == 0 ? ' ' : ';',
        (const gchar *)m->simulcast->pdata[i]);
  gst_sdp_media_add_attribute (gm, "simulcast", list->str);
  g_string_free (list, TRUE);
}

/* Adds @t's layers to offer m-line @m: a=rid send lines, a=simulcast:send
 * and the two RID extensions with the ids our offers give them. */
void
simulcast_offer (HqSdpMedia *m, const HqSdpTrack *t)
{
  static const gchar *const exts[] = { HQ_SDP_EXT_RID, HQ_SDP_EXT_REPAIRED_RID,
    NULL };

  if (t->rids == NULL || t->rids[0] == NULL || !direction_sends (m->direction))
    return;
  for (guint i = 0; t->rids[i] != NULL && i < HQ_SDP_MAX_RIDS; i++) {
    g_ptr_array_add (m->rids, rid_new (t->rids[i], HQ_SDP_SENDONLY, NULL));
    g_ptr_array_add (m->simulcast, g_strdup (t->rids[i]));
  }
  m->simulcast_direction = HQ_SDP_SENDONLY;
  for (guint i = 0; exts[i] != NULL; i++)
    g_ptr_array_add (
        m->extmaps, extmap_new (hq_sdp_offer_extmap_id (exts[i]), exts[i]));
}

/* Mirrors offer m-line @om's sent layers into answer m-line @m when we
 * receive them; the offered RID extensions are kept with their ids. */
void
simulcast_answer (HqSdpMedia *m, const HqSdpMedia *om)
{
  if (om->simulcast->len == 0 || om->simulcast_direction != HQ_SDP_SENDONLY
      || !direction_receives (m->direction))
    return;
  for (guint i = 0; i < om->simulcast->len; i++) {
    const gchar *id = om->simulcast->pdata[i];
    g_ptr_array_add (m->rids, rid_new (id, HQ_SDP_RECVONLY, NULL));
    g_ptr_array_add (m->simulcast, g_strdup (id));
  }
  m->simulcast_direction = HQ_SDP_RECVONLY;
}

/* TRUE when @uri is one of the RID extensions, which we answer on video
 * m-lines beside video_exts. */
gboolean
simulcast_is_rid_ext (const gchar *uri)
{
  return g_strcmp0 (uri, HQ_SDP_EXT_RID) == 0
      || g_strcmp0 (uri, HQ_SDP_EXT_REPAIRED_RID) == 0;
}

/* A sending track may leave its SSRC to the RID extension when it has
 * layers. */
gboolean
simulcast_track_has_rids (const HqSdpTrack *t)
{
  return t->kind == HQ_SDP_KIND_VIDEO && t->rids != NULL && t->rids[0] != NULL;
}

/* Checks @t's RIDs: at most HQ_SDP_MAX_RIDS, each a RID, none twice. */
gboolean
simulcast_check_track (const HqSdpTrack *t, GError **error)
{
  guint n = 0;

  if (t->rids == NULL)
    return TRUE;
  for (; t->rids[n] != NULL; n++) {
    if (!is_rid (t->rids[n])
        || g_strv_contains ((const gchar *const *)t->rids + n + 1, t->rids[n])
        || n == HQ_SDP_MAX_RIDS || t->kind != HQ_SDP_KIND_VIDEO) {
      g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_INVALID_ARGUMENT,
          "track %s: simulcast needs a video track with 1 to %d distinct "
          "RIDs of letters, digits, '-' or '_'",
          t->mid ? t->mid : "(new)", HQ_SDP_MAX_RIDS);
      return FALSE;
    }
  }
  return TRUE;
}
