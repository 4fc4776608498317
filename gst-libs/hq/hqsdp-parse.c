/* SDP parsing: the text of a remote offer or answer into an HqSdp.
 * See hqsdp.h for the model and docs/sdp.md for what we accept.
 *
 * Parsing runs in three steps.  A pre-scan of the raw bytes refuses what
 * is not SDP text at all (binary, no v= line, too big, too many m-lines)
 * before anything is allocated per line.  GstSDPMessage then splits the
 * text into session and media attributes; its number fields use atoi(), so
 * every number we keep (ports, payload types, SSRCs, extmap ids) is read
 * again here with a strict reader that reports what is out of range.
 * Last, each m-line is checked for what WebRTC needs, and the session as a
 * whole (unique mids, BUNDLE) for consistency.  Every error names the
 * m-line (1-based, as a person counts them) and the attribute.
 */
#include "hqsdp.h"
#include "hqsdp-private.h"
#include "hqdebug.h"
#include "hqutil.h"

#include <string.h>
#include <gst/gst.h>
#include <gst/sdp/sdp.h>

/* colon-separated hex of a SHA-256 digest: 32 * 3 - 1 characters */
#define HQ_SDP_SHA256_FP_LEN 95

/* --- parsing helpers --- */

/* Where an error was found: the session (index 0) or an m-line. */
typedef struct
{
  guint index;
  const gchar *kind;
} Where;

static void where_error (GError **error, const Where *w, gint code,
    const gchar *format, ...) G_GNUC_PRINTF (4, 5);

static void
where_error (
    GError **error, const Where *w, gint code, const gchar *format, ...)
{
  g_autofree gchar *what = NULL;
  va_list args;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  if (w != NULL && w->index > 0)
    g_set_error (error, HQ_SDP_ERROR, code, "m-line %u (%s): %s", w->index,
        w->kind, what);
  else
    g_set_error_literal (error, HQ_SDP_ERROR, code, what);
}

/* Puts the place @w in front of an error another file of the SDP layer
 * set; returns @ok. */
static gboolean
where_prefix (const Where *w, gboolean ok, GError **error)
{
  if (!ok && w != NULL && w->index > 0)
    g_prefix_error (error, "m-line %u (%s): ", w->index, w->kind);
  return ok;
}

/* Reads all of @s as a decimal number in @min..@max. */
NumResult
parse_uint (const gchar *s, guint64 min, guint64 max, guint64 *out)
{
  gboolean overflow = FALSE;
  guint64 v = 0;

  if (s == NULL || *s == '\0')
    return NUM_NOT_A_NUMBER;
  /* keep scanning after an overflow: a long run of digits followed by a
   * letter is still not a number, and the caller reports which it was */
  for (const gchar *p = s; *p != '\0'; p++) {
    guint d;

    if (!g_ascii_isdigit (*p))
      return NUM_NOT_A_NUMBER;
    d = *p - '0';
    if (overflow || v > (G_MAXUINT64 - d) / 10)
      overflow = TRUE;
    else
      v = v * 10 + d;
  }
  if (overflow || v > max || v < min)
    return NUM_OUT_OF_RANGE;
  *out = v;
  return NUM_OK;
}

/* Reads @s as a number in @min..@max, or sets @error naming @what (the
 * attribute and field, "a=rtpmap: payload type"). */
static gboolean
read_uint (const Where *w, const gchar *what, const gchar *s, guint64 min,
    guint64 max, guint64 *out, GError **error)
{
  switch (parse_uint (s, min, max, out)) {
    case NUM_OK:
      return TRUE;
    case NUM_NOT_A_NUMBER:
      where_error (error, w, HQ_SDP_ERROR_SYNTAX, "%s '%.20s' is not a number",
          what, s ? s : "");
      return FALSE;
    case NUM_OUT_OF_RANGE:
      where_error (error, w, HQ_SDP_ERROR_SYNTAX,
          "%s %.20s%s out of range (%" G_GUINT64_FORMAT "..%" G_GUINT64_FORMAT
          ")",
          what, s, strlen (s) > 20 ? "..." : "", min, max);
      return FALSE;
  }
  return FALSE;
}

/* Splits @s at spaces and tabs into its non-empty words. */
static GStrv
words_new (const gchar *s)
{
  g_auto (GStrv) parts = g_strsplit_set (s ? s : "", " \t", -1);
  GPtrArray *words = g_ptr_array_new ();

  for (guint i = 0; parts[i] != NULL; i++)
    if (parts[i][0] != '\0')
      g_ptr_array_add (words, g_strdup (parts[i]));
  g_ptr_array_add (words, NULL);
  return (GStrv)g_ptr_array_free (words, FALSE);
}

gboolean
is_ice_chars (const gchar *s, gsize min, gsize max)
{
  gsize n = 0;

  for (; *s != '\0'; s++, n++)
    if (!g_ascii_isalnum (*s) && *s != '+' && *s != '/')
      return FALSE;
  return n >= min && n <= max;
}

static gboolean
check_ufrag (const Where *w, const gchar *value, GError **error)
{
  if (!is_ice_chars (value, 4, 256)) {
    where_error (error, w, HQ_SDP_ERROR_SYNTAX,
        "a=ice-ufrag: '%.40s' is not 4 to 256 ICE characters", value);
    return FALSE;
  }
  return TRUE;
}

static gboolean
check_pwd (const Where *w, const gchar *value, GError **error)
{
  if (!is_ice_chars (value, 22, 256)) {
    where_error (error, w, HQ_SDP_ERROR_SYNTAX,
        "a=ice-pwd: not 22 to 256 ICE characters");
    return FALSE;
  }
  return TRUE;
}

/* TRUE when @fp is 32 colon-separated hex bytes. */
gboolean
is_sha256_fingerprint (const gchar *fp)
{
  if (strlen (fp) != HQ_SDP_SHA256_FP_LEN)
    return FALSE;
  for (guint i = 0; i < HQ_SDP_SHA256_FP_LEN; i++) {
    gboolean colon = i % 3 == 2;
    if (colon ? fp[i] != ':' : !g_ascii_isxdigit (fp[i]))
      return FALSE;
  }
  return TRUE;
}

/* Reads a=fingerprint into @alg and @fp (the first one wins).  Browsers
 * and webrtcbin use sha-256; anything else is refused rather than skipped,
 * so a peer we could not verify hears why. */
static gboolean
parse_fingerprint (
    const Where *w, const gchar *value, gchar **alg, gchar **fp, GError **error)
{
  g_auto (GStrv) words = words_new (value);

  if (g_strv_length (words) != 2) {
    where_error (error, w, HQ_SDP_ERROR_SYNTAX,
        "a=fingerprint: expected '<algorithm> <hex>'");
    return FALSE;
  }
  if (g_ascii_strcasecmp (words[0], "sha-256") != 0) {
    where_error (error, w, HQ_SDP_ERROR_UNSUPPORTED,
        "a=fingerprint: algorithm %.16s not supported (we need sha-256)",
        words[0]);
    return FALSE;
  }
  if (!is_sha256_fingerprint (words[1])) {
    where_error (error, w, HQ_SDP_ERROR_SYNTAX,
        "a=fingerprint: sha-256 value is not 32 colon-separated hex bytes");
    return FALSE;
  }
  if (*fp == NULL) {
    *alg = g_strdup ("sha-256");
    *fp = g_ascii_strup (words[1], -1);
  }
  return TRUE;
}

static gboolean
parse_setup (
    const Where *w, const gchar *value, HqSdpSetup *setup, GError **error)
{
  for (HqSdpSetup s = HQ_SDP_SETUP_ACTPASS; s <= HQ_SDP_SETUP_PASSIVE; s++) {
    if (g_strcmp0 (value, hq_sdp_setup_to_string (s)) == 0) {
      *setup = s;
      return TRUE;
    }
  }
  where_error (error, w, HQ_SDP_ERROR_UNSUPPORTED,
      "a=setup: '%.16s' is not actpass, active or passive", value);
  return FALSE;
}

static gboolean
has_word (const gchar *value, const gchar *word)
{
  g_auto (GStrv) words = words_new (value);

  return g_strv_contains ((const gchar *const *)words, word);
}

/* --- pre-scan --- */

/* Refuses what is not SDP text before GstSDPMessage sees it, and collects
 * the raw m= lines (their values), which we read ourselves. */
static gboolean
prescan (const gchar *text, gsize len, GPtrArray *mlines, GError **error)
{
  guint line = 1;
  gsize start = 0;

  if (len == 0) {
    g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_NOT_SDP,
        "not an SDP: the text is empty");
    return FALSE;
  }
  if (len > HQ_SDP_MAX_SIZE) {
    g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_TOO_LARGE,
        "SDP of %" G_GSIZE_FORMAT " bytes is larger than the %d we accept", len,
        HQ_SDP_MAX_SIZE);
    return FALSE;
  }
  for (gsize i = 0; i < len; i++) {
    guchar c = text[i];

    if ((c < 0x20 && c != '\r' && c != '\n' && c != '\t') || c == 0x7f) {
      g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_NOT_SDP,
          "not an SDP: byte 0x%02x on line %u is not text", c, line);
      return FALSE;
    }
    if (c == '\r' && i + 1 < len && text[i + 1] != '\n') {
      g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_NOT_SDP,
          "not an SDP: line %u has a carriage return inside it", line);
      return FALSE;
    }
    if (c == '\n')
      line++;
  }
  if (!g_utf8_validate (text, len, NULL)) {
    g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_NOT_SDP,
        "not an SDP: the text is not UTF-8");
    return FALSE;
  }
  if (len < 3 || text[0] != 'v' || text[1] != '=') {
    g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_NOT_SDP,
        "not an SDP: no v= line first");
    return FALSE;
  }
  if (text[2] != '0' || (len > 3 && text[3] != '\r' && text[3] != '\n')) {
    g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_UNSUPPORTED,
        "v=: only SDP version 0 exists");
    return FALSE;
  }

  line = 0;
  while (start < len) {
    gsize end = start;

    while (end < len && text[end] != '\n')
      end++;
    line++;
    /* a line is "<letter>=<value>"; blank lines are tolerated */
    if (end > start && !(end - start == 1 && text[start] == '\r')) {
      if (end - start < 2 || !g_ascii_islower (text[start])
          || text[start + 1] != '=') {
        g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_SYNTAX,
            "line %u is not '<letter>=<value>'", line);
        return FALSE;
      }
      if (text[start] == 'm') {
        gsize vend = end;

        if (mlines->len == HQ_SDP_MAX_MEDIA) {
          g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_TOO_LARGE,
              "too many m-lines: more than %d", HQ_SDP_MAX_MEDIA);
          return FALSE;
        }
        if (vend > start && text[vend - 1] == '\r')
          vend--;
        g_ptr_array_add (
            mlines, g_strndup (text + start + 2, vend - (start + 2)));
      }
    }
    start = end + 1;
  }
  return TRUE;
}

/* --- session level --- */

static gboolean
parse_origin (HqSdp *sdp, const GstSDPMessage *msg, GError **error)
{
  const GstSDPOrigin *o = gst_sdp_message_get_origin (msg);
  guint64 v;

  if (o->sess_id == NULL || o->sess_version == NULL || *o->sess_id == '\0') {
    g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_MISSING,
        "no o= line with a session id and version");
    return FALSE;
  }
  if (!read_uint (
          NULL, "o=: session id", o->sess_id, 0, G_MAXUINT64, &v, error))
    return FALSE;
  sdp->session_id = v;
  if (!read_uint (NULL, "o=: session version", o->sess_version, 0, G_MAXUINT64,
          &v, error))
    return FALSE;
  sdp->session_version = v;
  return TRUE;
}

static gboolean
parse_session_attributes (HqSdp *sdp, const GstSDPMessage *msg, GError **error)
{
  gboolean have_bundle = FALSE;

  for (guint i = 0; i < gst_sdp_message_attributes_len (msg); i++) {
    const GstSDPAttribute *a = gst_sdp_message_get_attribute (msg, i);
    const gchar *key = a->key;
    const gchar *value = a->value ? a->value : "";

    if (g_str_equal (key, "group")) {
      g_auto (GStrv) words = words_new (value);

      if (words[0] == NULL || !g_str_equal (words[0], "BUNDLE"))
        continue;
      if (have_bundle) {
        g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_UNSUPPORTED,
            "a=group:BUNDLE: only one BUNDLE group is supported");
        return FALSE;
      }
      have_bundle = TRUE;
      for (guint j = 1; words[j] != NULL; j++)
        g_ptr_array_add (sdp->bundle, g_strdup (words[j]));
    } else if (g_str_equal (key, "ice-ufrag")) {
      if (!check_ufrag (NULL, value, error))
        return FALSE;
      g_free (sdp->ice_ufrag);
      sdp->ice_ufrag = g_strdup (value);
    } else if (g_str_equal (key, "ice-pwd")) {
      if (!check_pwd (NULL, value, error))
        return FALSE;
      g_free (sdp->ice_pwd);
      sdp->ice_pwd = g_strdup (value);
    } else if (g_str_equal (key, "ice-options")) {
      if (has_word (value, "trickle"))
        sdp->ice_trickle = TRUE;
    } else if (g_str_equal (key, "fingerprint")) {
      if (!parse_fingerprint (
              NULL, value, &sdp->fingerprint_alg, &sdp->fingerprint, error))
        return FALSE;
    } else if (g_str_equal (key, "setup")) {
      if (!parse_setup (NULL, value, &sdp->setup, error))
        return FALSE;
      sdp->has_setup = TRUE;
    } else if (g_str_equal (key, "msid-semantic")) {
      g_free (sdp->msid_semantic);
      sdp->msid_semantic = g_strstrip (g_strdup (value));
    } else if (g_str_equal (key, "extmap-allow-mixed")) {
      sdp->extmap_allow_mixed = TRUE;
    }
  }
  return TRUE;
}

/* --- media level --- */

/* What one m-line's attributes said, before codecs are assembled. */
typedef struct
{
  GArray *pts; /* guint, m-line order */
  GHashTable *rtpmaps; /* pt -> "name/rate[/channels]" */
  GHashTable *fmtps; /* pt -> params */
  GHashTable *fbs; /* pt -> GPtrArray of values; G_MAXUINT for "*" */
} MediaScratch;

static void
scratch_clear (MediaScratch *s)
{
  g_clear_pointer (&s->pts, g_array_unref);
  g_clear_pointer (&s->rtpmaps, g_hash_table_unref);
  g_clear_pointer (&s->fmtps, g_hash_table_unref);
  g_clear_pointer (&s->fbs, g_hash_table_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (MediaScratch, scratch_clear)

static gboolean
media_has_pt (const MediaScratch *s, guint pt)
{
  for (guint i = 0; i < s->pts->len; i++)
    if (g_array_index (s->pts, guint, i) == pt)
      return TRUE;
  return FALSE;
}

/* Reads "m=<kind> <port>[/<n>] <proto> <fmt> ..." from the raw line. */
static gboolean
parse_mline (HqSdpMedia *media, Where *w, const gchar *raw, MediaScratch *s,
    GError **error)
{
  g_auto (GStrv) words = words_new (raw);
  g_auto (GStrv) port = NULL;
  guint64 v;

  if (g_strv_length (words) < 4) {
    g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_SYNTAX,
        "m-line %u: expected 'm=<kind> <port> <protocol> <formats>'", w->index);
    return FALSE;
  }
  if (g_str_equal (words[0], "audio"))
    media->kind = HQ_SDP_KIND_AUDIO;
  else if (g_str_equal (words[0], "video"))
    media->kind = HQ_SDP_KIND_VIDEO;
  else if (g_str_equal (words[0], "application"))
    media->kind = HQ_SDP_KIND_APPLICATION;
  else {
    g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_UNSUPPORTED,
        "m-line %u: media kind '%.16s' not supported", w->index, words[0]);
    return FALSE;
  }
  w->kind = hq_sdp_kind_to_string (media->kind);

  port = g_strsplit (words[1], "/", 2);
  if (!read_uint (w, "m=: port", port[0], 0, 65535, &v, error))
    return FALSE;
  media->port = v;

  g_free (media->protocol);
  media->protocol = g_strdup (words[2]);
  if (media->kind == HQ_SDP_KIND_APPLICATION) {
    if (!g_str_equal (words[2], "UDP/DTLS/SCTP")
        && !g_str_equal (words[2], "DTLS/SCTP")) {
      where_error (error, w, HQ_SDP_ERROR_UNSUPPORTED,
          "protocol %.32s not supported (need UDP/DTLS/SCTP)", words[2]);
      return FALSE;
    }
    media->app_formats = g_strjoinv (" ", words + 3);
    return TRUE;
  }
  if (!g_str_equal (words[2], "UDP/TLS/RTP/SAVPF")) {
    where_error (error, w, HQ_SDP_ERROR_UNSUPPORTED,
        "protocol %.32s not supported (need UDP/TLS/RTP/SAVPF)", words[2]);
    return FALSE;
  }
  for (guint i = 3; words[i] != NULL; i++) {
    guint pt;

    if (!read_uint (w, "m=: payload type", words[i], 0, 127, &v, error))
      return FALSE;
    pt = v;
    if (media_has_pt (s, pt)) {
      where_error (error, w, HQ_SDP_ERROR_INCONSISTENT,
          "m=: payload type %u listed twice", pt);
      return FALSE;
    }
    g_array_append_val (s->pts, pt);
  }
  return TRUE;
}

/* Splits "<pt> <rest>" of a=rtpmap, a=fmtp and a=rtcp-fb.  A "*" payload
 * type (rtcp-fb for all) gives G_MAXUINT. */
static gboolean
split_pt (const Where *w, const gchar *attr, const gchar *value, guint *pt,
    const gchar **rest, GError **error)
{
  const gchar *space = strchr (value, ' ');
  g_autofree gchar *num = NULL;
  g_autofree gchar *what = NULL;
  guint64 v;

  if (space == NULL || space[1] == '\0') {
    where_error (error, w, HQ_SDP_ERROR_SYNTAX,
        "a=%s: expected '<payload type> <value>'", attr);
    return FALSE;
  }
  num = g_strndup (value, space - value);
  *rest = space + 1;
  while (**rest == ' ')
    (*rest)++;
  if (g_str_equal (num, "*") && g_str_equal (attr, "rtcp-fb")) {
    *pt = G_MAXUINT;
    return TRUE;
  }
  /* most lines are fine: name the attribute only for an error */
  if (parse_uint (num, 0, 127, &v) != NUM_OK) {
    what = g_strdup_printf ("a=%s: payload type", attr);
    return read_uint (w, what, num, 0, 127, &v, error);
  }
  *pt = v;
  return TRUE;
}

static gboolean
parse_extmap (
    HqSdpMedia *media, const Where *w, const gchar *value, GError **error)
{
  g_auto (GStrv) words = words_new (value);
  g_auto (GStrv) id_dir = NULL;
  HqSdpExtmap *ext;
  guint64 id;

  if (g_strv_length (words) < 2) {
    where_error (error, w, HQ_SDP_ERROR_SYNTAX,
        "a=extmap: expected '<id>[/<direction>] <uri>'");
    return FALSE;
  }
  id_dir = g_strsplit (words[0], "/", 2);
  if (!read_uint (w, "a=extmap: id", id_dir[0], 1, 255, &id, error))
    return FALSE;
  if (hq_sdp_media_extmap_id (media, words[1]) != 0) {
    where_error (error, w, HQ_SDP_ERROR_INCONSISTENT,
        "a=extmap: %.80s mapped twice", words[1]);
    return FALSE;
  }
  for (guint i = 0; i < media->extmaps->len; i++) {
    if (((HqSdpExtmap *)media->extmaps->pdata[i])->id == id) {
      where_error (error, w, HQ_SDP_ERROR_INCONSISTENT,
          "a=extmap: id %u used twice", (guint)id);
      return FALSE;
    }
  }
  ext = extmap_new (id, words[1]);
  if (id_dir[1] != NULL) {
    if (!direction_from_string (id_dir[1], &ext->direction)) {
      extmap_free (ext);
      where_error (error, w, HQ_SDP_ERROR_SYNTAX,
          "a=extmap: '%.16s' is not a direction", id_dir[1]);
      return FALSE;
    }
    ext->has_direction = TRUE;
  }
  g_ptr_array_add (media->extmaps, ext);
  return TRUE;
}

static HqSdpSsrc *
find_or_add_ssrc (HqSdpMedia *media, guint32 ssrc)
{
  for (guint i = 0; i < media->ssrcs->len; i++) {
    HqSdpSsrc *s = media->ssrcs->pdata[i];
    if (s->ssrc == ssrc)
      return s;
  }
  if (media->ssrcs->len == HQ_SDP_MAX_SSRCS)
    return NULL;
  g_ptr_array_add (media->ssrcs, ssrc_new (ssrc, NULL, NULL));
  return media->ssrcs->pdata[media->ssrcs->len - 1];
}

static gboolean
parse_ssrc (
    HqSdpMedia *media, const Where *w, const gchar *value, GError **error)
{
  const gchar *space = strchr (value, ' ');
  g_autofree gchar *num =
      space ? g_strndup (value, space - value) : g_strdup (value);
  HqSdpSsrc *s;
  guint64 v;

  if (!read_uint (w, "a=ssrc:", num, 0, G_MAXUINT32, &v, error))
    return FALSE;
  s = find_or_add_ssrc (media, v);
  if (s == NULL) {
    where_error (error, w, HQ_SDP_ERROR_TOO_LARGE, "a=ssrc: more than %d SSRCs",
        HQ_SDP_MAX_SSRCS);
    return FALSE;
  }
  if (space == NULL)
    return TRUE;
  space++;
  if (g_str_has_prefix (space, "cname:")) {
    g_free (s->cname);
    s->cname = g_strdup (space + 6);
  } else if (g_str_has_prefix (space, "msid:")) {
    g_free (s->msid);
    s->msid = g_strdup (space + 5);
  }
  return TRUE;
}

static gboolean
parse_ssrc_group (
    HqSdpMedia *media, const Where *w, const gchar *value, GError **error)
{
  g_auto (GStrv) words = words_new (value);
  HqSdpSsrcFid fid;
  guint64 a, b;

  /* SIM and FEC-FR groups are not ours to use */
  if (words[0] == NULL || !g_str_equal (words[0], "FID"))
    return TRUE;
  if (g_strv_length (words) != 3) {
    where_error (error, w, HQ_SDP_ERROR_SYNTAX,
        "a=ssrc-group:FID: expected two SSRCs (primary, rtx)");
    return FALSE;
  }
  if (!read_uint (
          w, "a=ssrc-group:FID: SSRC", words[1], 0, G_MAXUINT32, &a, error)
      || !read_uint (
          w, "a=ssrc-group:FID: SSRC", words[2], 0, G_MAXUINT32, &b, error))
    return FALSE;
  if (media->fids->len == HQ_SDP_MAX_SSRCS) {
    where_error (error, w, HQ_SDP_ERROR_TOO_LARGE,
        "a=ssrc-group: more than %d FID groups", HQ_SDP_MAX_SSRCS);
    return FALSE;
  }
  fid.primary = a;
  fid.rtx = b;
  g_array_append_val (media->fids, fid);
  return TRUE;
}

static gboolean
parse_candidate (
    HqSdpMedia *media, const Where *w, const gchar *value, GError **error)
{
  g_auto (GStrv) words = words_new (value);

  if (g_strv_length (words) < 8 || !g_str_equal (words[6], "typ")) {
    where_error (error, w, HQ_SDP_ERROR_SYNTAX,
        "a=candidate: expected '<foundation> <component> <transport> "
        "<priority> <address> <port> typ <type>'");
    return FALSE;
  }
  if (media->candidates->len == HQ_SDP_MAX_CANDIDATES) {
    where_error (error, w, HQ_SDP_ERROR_TOO_LARGE,
        "a=candidate: more than %d candidates", HQ_SDP_MAX_CANDIDATES);
    return FALSE;
  }
  g_ptr_array_add (media->candidates, g_strconcat ("candidate:", value, NULL));
  return TRUE;
}

static gboolean
parse_media_attribute (HqSdpMedia *media, const Where *w, MediaScratch *s,
    const gchar *key, const gchar *value, gboolean *trickle, GError **error)
{
  HqSdpDirection dir;
  const gchar *rest;
  guint pt;

  if (g_str_equal (key, "mid")) {
    if (*value == '\0' || strpbrk (value, " \t") != NULL) {
      where_error (error, w, HQ_SDP_ERROR_SYNTAX,
          "a=mid: '%.32s' is not a token", value);
      return FALSE;
    }
    g_free (media->mid);
    media->mid = g_strdup (value);
  } else if (direction_from_string (key, &dir)) {
    media->direction = dir;
  } else if (g_str_equal (key, "rtcp-mux")) {
    media->rtcp_mux = TRUE;
  } else if (g_str_equal (key, "rtcp-rsize")) {
    media->rtcp_rsize = TRUE;
  } else if (g_str_equal (key, "rtpmap") || g_str_equal (key, "fmtp")) {
    GHashTable *table = key[0] == 'r' ? s->rtpmaps : s->fmtps;

    if (!split_pt (w, key, value, &pt, &rest, error))
      return FALSE;
    if (g_hash_table_contains (table, GUINT_TO_POINTER (pt))) {
      where_error (error, w, HQ_SDP_ERROR_INCONSISTENT,
          "a=%s: payload type %u described twice", key, pt);
      return FALSE;
    }
    g_hash_table_insert (table, GUINT_TO_POINTER (pt), g_strdup (rest));
  } else if (g_str_equal (key, "rtcp-fb")) {
    GPtrArray *list;

    if (!split_pt (w, key, value, &pt, &rest, error))
      return FALSE;
    list = g_hash_table_lookup (s->fbs, GUINT_TO_POINTER (pt));
    if (list == NULL) {
      list = g_ptr_array_new_with_free_func (g_free);
      g_hash_table_insert (s->fbs, GUINT_TO_POINTER (pt), list);
    }
    /* 16 per codec is more than anyone sends; the cap keeps a hostile
     * text from making us copy the same line thousands of times */
    if (list->len < 16)
      g_ptr_array_add (list, g_strstrip (g_strdup (rest)));
  } else if (g_str_equal (key, "extmap")) {
    return parse_extmap (media, w, value, error);
  } else if (g_str_equal (key, "ssrc")) {
    return parse_ssrc (media, w, value, error);
  } else if (g_str_equal (key, "ssrc-group")) {
    return parse_ssrc_group (media, w, value, error);
  } else if (g_str_equal (key, "msid")) {
    g_auto (GStrv) words = words_new (value);

    if (words[0] == NULL) {
      where_error (error, w, HQ_SDP_ERROR_SYNTAX,
          "a=msid: expected '<stream id> [<track id>]'");
      return FALSE;
    }
    g_free (media->msid_stream);
    g_free (media->msid_track);
    media->msid_stream = g_strdup (words[0]);
    media->msid_track = g_strdup (words[1]);
  } else if (g_str_equal (key, "ice-ufrag")) {
    if (!check_ufrag (w, value, error))
      return FALSE;
    g_free (media->ice_ufrag);
    media->ice_ufrag = g_strdup (value);
  } else if (g_str_equal (key, "ice-pwd")) {
    if (!check_pwd (w, value, error))
      return FALSE;
    g_free (media->ice_pwd);
    media->ice_pwd = g_strdup (value);
  } else if (g_str_equal (key, "ice-options")) {
    if (has_word (value, "trickle"))
      *trickle = TRUE;
  } else if (g_str_equal (key, "fingerprint")) {
    return parse_fingerprint (
        w, value, &media->fingerprint_alg, &media->fingerprint, error);
  } else if (g_str_equal (key, "setup")) {
    return parse_setup (w, value, &media->setup, error);
  } else if (g_str_equal (key, "candidate")) {
    return parse_candidate (media, w, value, error);
  } else if (g_str_equal (key, "end-of-candidates")) {
    media->end_of_candidates = TRUE;
  } else if (g_str_equal (key, "rid")) {
    return where_prefix (w, simulcast_parse_rid (media, value, error), error);
  } else if (g_str_equal (key, "simulcast")) {
    return where_prefix (w, simulcast_parse_line (media, value, error), error);
  }
  return TRUE;
}

/* The static payload types a browser may list without an rtpmap. */
static gboolean
static_pt (guint pt, const gchar **name, guint *rate, guint *channels)
{
  static const struct
  {
    guint pt;
    const gchar *name;
    guint rate;
  } table[] = {
    { 0, "PCMU", 8000 },
    { 8, "PCMA", 8000 },
    { 9, "G722", 8000 },
    { 13, "CN", 8000 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (table); i++) {
    if (table[i].pt == pt) {
      *name = table[i].name;
      *rate = table[i].rate;
      *channels = 1;
      return TRUE;
    }
  }
  return FALSE;
}

/* Builds the codec of @pt from its rtpmap and fmtp. */
static HqSdpCodec *
codec_from_scratch (const Where *w, const MediaScratch *s, guint pt,
    HqSdpKind kind, GError **error)
{
  const gchar *rtpmap = g_hash_table_lookup (s->rtpmaps, GUINT_TO_POINTER (pt));
  const gchar *fmtp = g_hash_table_lookup (s->fmtps, GUINT_TO_POINTER (pt));
  g_auto (GStrv) parts = NULL;
  const gchar *name;
  guint rate, channels = 0;
  guint64 v;

  if (rtpmap == NULL) {
    if (kind == HQ_SDP_KIND_AUDIO && static_pt (pt, &name, &rate, &channels))
      return hq_sdp_codec_new (pt, name, rate, channels, fmtp);
    where_error (
        error, w, HQ_SDP_ERROR_MISSING, "payload type %u has no a=rtpmap", pt);
    return NULL;
  }
  parts = g_strsplit (rtpmap, "/", 4);
  if (g_strv_length (parts) < 2 || g_strv_length (parts) > 3
      || parts[0][0] == '\0' || strpbrk (parts[0], " \t") != NULL) {
    where_error (error, w, HQ_SDP_ERROR_SYNTAX,
        "a=rtpmap:%u: expected '<name>/<clock rate>[/<channels>]'", pt);
    return NULL;
  }
  if (!read_uint (w, "a=rtpmap: clock rate", parts[1], 1, 1000000, &v, error))
    return NULL;
  rate = v;
  if (parts[2] != NULL) {
    if (!read_uint (w, "a=rtpmap: channels", parts[2], 1, 255, &v, error))
      return NULL;
    channels = v;
  }
  return hq_sdp_codec_new (pt, parts[0], rate, channels, fmtp);
}

/* Assembles the codecs in m-line order, folding each rtx format into the
 * codec its apt names. */
static gboolean
assemble_codecs (
    HqSdpMedia *media, const Where *w, const MediaScratch *s, GError **error)
{
  GPtrArray *star = g_hash_table_lookup (s->fbs, GUINT_TO_POINTER (G_MAXUINT));
  g_autoptr (GPtrArray) rtx =
      g_ptr_array_new_with_free_func ((GDestroyNotify)hq_sdp_codec_free);

  for (guint i = 0; i < s->pts->len; i++) {
    guint pt = g_array_index (s->pts, guint, i);
    HqSdpCodec *c = codec_from_scratch (w, s, pt, media->kind, error);
    GPtrArray *fbs;

    if (c == NULL)
      return FALSE;
    if (g_ascii_strcasecmp (c->name, "rtx") == 0) {
      g_ptr_array_add (rtx, c);
      continue;
    }
    fbs = g_hash_table_lookup (s->fbs, GUINT_TO_POINTER (pt));
    for (guint j = 0; fbs != NULL && j < fbs->len; j++)
      g_ptr_array_add (c->rtcp_fb, g_strdup (fbs->pdata[j]));
    for (guint j = 0; star != NULL && j < star->len; j++)
      if (!hq_sdp_codec_has_fb (c, star->pdata[j]))
        g_ptr_array_add (c->rtcp_fb, g_strdup (star->pdata[j]));
    g_ptr_array_add (media->codecs, c);
  }

  for (guint i = 0; i < rtx->len; i++) {
    HqSdpCodec *r = rtx->pdata[i];
    g_autofree gchar *apt = hq_sdp_codec_get_param (r, "apt");
    HqSdpCodec *primary;
    guint64 v;

    if (apt == NULL) {
      where_error (error, w, HQ_SDP_ERROR_MISSING,
          "rtx payload type %u has no apt in its a=fmtp", r->pt);
      return FALSE;
    }
    if (!read_uint (w, "a=fmtp: apt", apt, 0, 127, &v, error))
      return FALSE;
    primary = (HqSdpCodec *)hq_sdp_media_find_codec (media, v);
    if (primary == NULL) {
      where_error (error, w, HQ_SDP_ERROR_INCONSISTENT,
          "rtx payload type %u: apt=%u names no codec of this m-line", r->pt,
          (guint)v);
      return FALSE;
    }
    primary->rtx_pt = r->pt;
  }
  return TRUE;
}

/* Fills in session-level transport values and checks what an active
 * m-line needs on its own; its transport is checked once BUNDLE is known
 * (check_transports()). */
static gboolean
complete_media (
    HqSdpMedia *media, const Where *w, const HqSdp *sdp, GError **error)
{
  if (media->mid == NULL) {
    where_error (error, w, HQ_SDP_ERROR_MISSING, "no a=mid");
    return FALSE;
  }
  if (media->ice_ufrag == NULL)
    media->ice_ufrag = g_strdup (sdp->ice_ufrag);
  if (media->ice_pwd == NULL)
    media->ice_pwd = g_strdup (sdp->ice_pwd);
  if (media->fingerprint == NULL) {
    media->fingerprint = g_strdup (sdp->fingerprint);
    media->fingerprint_alg = g_strdup (sdp->fingerprint_alg);
  }

  if (!hq_sdp_media_is_active (media) || media->kind == HQ_SDP_KIND_APPLICATION)
    return TRUE;
  if (!media->rtcp_mux) {
    where_error (error, w, HQ_SDP_ERROR_MISSING,
        "no a=rtcp-mux: we only multiplex RTP and RTCP on one port");
    return FALSE;
  }
  if (media->codecs->len == 0) {
    where_error (error, w, HQ_SDP_ERROR_MISSING, "no codec but rtx");
    return FALSE;
  }
  return TRUE;
}

static gboolean
in_bundle (const HqSdp *sdp, const gchar *mid)
{
  for (guint i = 0; i < sdp->bundle->len; i++)
    if (g_strcmp0 (sdp->bundle->pdata[i], mid) == 0)
      return TRUE;
  return FALSE;
}

/* Checks that every active audio/video m-line has ICE credentials, a
 * fingerprint and a DTLS role.  A bundled m-line that lacks them (RFC
 * 8843 a=bundle-only) takes them from the BUNDLE tag, the m-line of the
 * group's first mid. */
static gboolean
check_transports (HqSdp *sdp, const GArray *has_setup, GError **error)
{
  const HqSdpMedia *tag = NULL;
  gboolean tag_has_setup = FALSE;

  if (sdp->bundle->len > 0) {
    for (guint i = 0; i < sdp->media->len && tag == NULL; i++) {
      const HqSdpMedia *m = sdp->media->pdata[i];
      if (g_strcmp0 (m->mid, sdp->bundle->pdata[0]) == 0) {
        tag = m;
        tag_has_setup = g_array_index (has_setup, gboolean, i);
      }
    }
  }
  for (guint i = 0; i < sdp->media->len; i++) {
    HqSdpMedia *m = sdp->media->pdata[i];
    Where w = { i + 1, hq_sdp_kind_to_string (m->kind) };
    gboolean setup = g_array_index (has_setup, gboolean, i) || sdp->has_setup;

    if (!hq_sdp_media_is_active (m) || m->kind == HQ_SDP_KIND_APPLICATION)
      continue;
    if (tag != NULL && m != tag && in_bundle (sdp, m->mid)) {
      if (m->ice_ufrag == NULL && m->ice_pwd == NULL) {
        m->ice_ufrag = g_strdup (tag->ice_ufrag);
        m->ice_pwd = g_strdup (tag->ice_pwd);
      }
      if (m->fingerprint == NULL) {
        m->fingerprint = g_strdup (tag->fingerprint);
        m->fingerprint_alg = g_strdup (tag->fingerprint_alg);
      }
      if (!setup && tag_has_setup) {
        m->setup = tag->setup;
        setup = TRUE;
      }
    }
    if (!setup) {
      where_error (error, &w, HQ_SDP_ERROR_MISSING,
          "no a=setup (here, at session level or in the BUNDLE tag)");
      return FALSE;
    }
    /* RFC 5763: the answer fixes who is DTLS client and server */
    if (sdp->type == HQ_SDP_ANSWER && m->setup == HQ_SDP_SETUP_ACTPASS) {
      where_error (error, &w, HQ_SDP_ERROR_INCONSISTENT,
          "a=setup:actpass in an answer: the answerer must choose active or "
          "passive");
      return FALSE;
    }
    if (m->ice_ufrag == NULL || m->ice_pwd == NULL) {
      where_error (error, &w, HQ_SDP_ERROR_MISSING,
          "no a=ice-ufrag and a=ice-pwd (here, at session level or in the "
          "BUNDLE tag)");
      return FALSE;
    }
    if (m->fingerprint == NULL) {
      where_error (error, &w, HQ_SDP_ERROR_MISSING,
          "no a=fingerprint (here, at session level or in the BUNDLE tag)");
      return FALSE;
    }
  }
  return TRUE;
}

static HqSdpMedia *
parse_media (const HqSdp *sdp, const GstSDPMedia *gm, const gchar *raw,
    guint index, gboolean *trickle, gboolean *setup_given, GError **error)
{
  g_autoptr (HqSdpMedia) media = hq_sdp_media_new (HQ_SDP_KIND_AUDIO, NULL);
  g_auto (MediaScratch) s = { 0 };
  Where w = { index, "?" };
  gboolean has_setup = FALSE;

  s.pts = g_array_new (FALSE, FALSE, sizeof (guint));
  s.rtpmaps = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  s.fmtps = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  s.fbs = g_hash_table_new_full (
      NULL, NULL, NULL, (GDestroyNotify)g_ptr_array_unref);

  if (!parse_mline (media, &w, raw, &s, error))
    return NULL;
  for (guint i = 0; i < gst_sdp_media_attributes_len (gm); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute (gm, i);

    if (g_str_equal (a->key, "setup"))
      has_setup = TRUE;
    /* RFC 8843: an offered m-line with port 0 and a=bundle-only is not
     * removed, it rides on the BUNDLE transport. */
    if (g_str_equal (a->key, "bundle-only") && media->port == 0)
      media->port = 9;
    if (!parse_media_attribute (
            media, &w, &s, a->key, a->value ? a->value : "", trickle, error))
      return NULL;
  }
  if (!has_setup)
    media->setup = sdp->setup;
  *setup_given = has_setup;
  if (media->kind != HQ_SDP_KIND_APPLICATION
      && !assemble_codecs (media, &w, &s, error))
    return NULL;
  if (!where_prefix (&w, simulcast_check (media, error), error))
    return NULL;
  if (!complete_media (media, &w, sdp, error))
    return NULL;
  return g_steal_pointer (&media);
}

static gboolean
check_session (const HqSdp *sdp, GError **error)
{
  g_autoptr (GHashTable) mids = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < sdp->media->len; i++) {
    const HqSdpMedia *m = sdp->media->pdata[i];

    if (!g_hash_table_add (mids, m->mid)) {
      g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_INCONSISTENT,
          "m-line %u (%s): mid %.32s is also used by an earlier m-line", i + 1,
          hq_sdp_kind_to_string (m->kind), m->mid);
      return FALSE;
    }
  }
  for (guint i = 0; i < sdp->bundle->len; i++) {
    const gchar *mid = sdp->bundle->pdata[i];

    if (!g_hash_table_contains (mids, mid)) {
      g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_INCONSISTENT,
          "a=group:BUNDLE names mid %.32s, which no m-line has", mid);
      return FALSE;
    }
  }
  return TRUE;
}

static HqSdp *
parse (HqSdpType type, const gchar *text, gssize len, GError **error)
{
  g_autoptr (GPtrArray) mlines = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (HqSdp) sdp = hq_sdp_new (type);
  g_autoptr (GArray) has_setup = g_array_new (FALSE, FALSE, sizeof (gboolean));
  GstSDPMessage *msg = NULL;
  gboolean ok = FALSE;
  gboolean trickle = FALSE;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (text == NULL) {
    g_set_error (
        error, HQ_SDP_ERROR, HQ_SDP_ERROR_NOT_SDP, "not an SDP: no text");
    return NULL;
  }
  if (len < 0)
    len = strlen (text);
  if (!prescan (text, len, mlines, error))
    return NULL;

  gst_sdp_message_new (&msg);
  gst_sdp_message_parse_buffer ((const guint8 *)text, len, msg);
  if (gst_sdp_message_medias_len (msg) != mlines->len) {
    /* cannot happen with text that passed the pre-scan; refuse rather
     * than pair attributes with the wrong m-line */
    g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_SYNTAX,
        "the m-lines could not be read");
    goto out;
  }
  if (!parse_origin (sdp, msg, error)
      || !parse_session_attributes (sdp, msg, error))
    goto out;
  for (guint i = 0; i < mlines->len; i++) {
    gboolean setup_given = FALSE;
    HqSdpMedia *m = parse_media (sdp, gst_sdp_message_get_media (msg, i),
        mlines->pdata[i], i + 1, &trickle, &setup_given, error);

    if (m == NULL)
      goto out;
    g_ptr_array_add (sdp->media, m);
    g_array_append_val (has_setup, setup_given);
  }
  if (trickle)
    sdp->ice_trickle = TRUE;
  ok = check_session (sdp, error) && check_transports (sdp, has_setup, error);

out:
  gst_sdp_message_free (msg);
  return ok ? g_steal_pointer (&sdp) : NULL;
}

HqSdp *
hq_sdp_parse (HqSdpType type, const gchar *text, gssize len, GError **error)
{
  GError *local_error = NULL;
  HqSdp *sdp;

  hq_debug_init ();
  sdp = parse (type, text, len, &local_error);
  if (sdp == NULL) {
    GST_CAT_WARNING (hq_sdp_debug, "cannot parse the remote %s: %s",
        type == HQ_SDP_ANSWER ? "answer" : "offer", local_error->message);
    g_propagate_error (error, local_error);
    return NULL;
  }
  {
    const GPtrArray *cands = hq_sdp_get_candidates (sdp);
    GST_CAT_DEBUG (hq_sdp_debug,
        "parsed the remote %s: %u m-lines, %u ICE candidates",
        type == HQ_SDP_ANSWER ? "answer" : "offer", sdp->media->len,
        cands ? cands->len : 0);
  }
  return sdp;
}
