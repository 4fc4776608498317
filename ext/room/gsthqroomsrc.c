/**
 * SECTION:element-hqroomsrc
 * @title: hqroomsrc
 *
 * Joins an hq-server room and receives the other participants' tracks:
 * one sometimes pad per remote track, `audio_%u` or `video_%u`, with the
 * read-only pad properties participant-identity, participant-sid, priority,
 * track-name and track-sid.  Each stream also carries the tags
 * `hq-participant` (the identity) and title (the track name), so
 * hqspeakerdetect or hqrecorder label it without extra wiring.
 *
 * Output is decoded (raw audio, raw video) unless the element linked to
 * the pad names the codec in its caps (a muxer, a parser): then the
 * encoded frames (Opus, VP8, H.264) come out as they arrived, without
 * decoding.  Elements that accept anything (fakesink) get raw.
 *
 * Inside: the libhq subscribe transport -> rtpbin (jitter buffer of
 * #GstHqRoomSrc:latency ms, RTCP receiver reports, NACK and keyframe
 * requests, lip sync from the server's sender reports) -> depayloader ->
 * [hqframedecrypt, with an e2ee-secret or $HQ_E2EE_SECRET: end-to-end
 * encrypted VP8 and Opus, docs/e2ee.md] -> decoder.
 *
 * #GstHqRoomSrc:participants and #GstHqRoomSrc:kinds choose what to
 * receive; the server filters (they become subscribe rules), so what is
 * not wanted never crosses the network.
 *
 * Pads appear when a track's media first arrives, and get EOS and go away
 * when the track is unpublished or its participant leaves; a participant
 * who comes back gets new pads.  A pad is keyed by (participant identity,
 * track name): while the element reconnects to the server (a restart, a
 * network loss) pads stay, and the same identity's same track continues
 * on them, after a discontinuity, so a running pipeline stays linked.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 hqroomsrc server=http://127.0.0.1:8844 room=consult-1 \
 *     identity=recorder name=room \
 *   room. ! queue ! fakesink  room. ! queue ! fakesink
 * ]|
 */
#include "gsthqroomsrc.h"

#include <stdio.h>
#include <string.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <hq/hqcodec.h>
#include <hq/hqprotocol.h>
#include <hq/hqrtcp.h>
#include <hq/hqrtp.h>
#include <hq/hqtags.h>
#include "gsthqroombin.h"
#include "hqarrival.h"
#include "gsthqroomsrcpad.h"
#include "hqe2ee.h"

GST_DEBUG_CATEGORY_STATIC (gst_hq_room_src_debug);
#define GST_CAT_DEFAULT gst_hq_room_src_debug

#define DEFAULT_LATENCY 200
/* how long a stream's first packets wait to learn their timing
 * (hqarrival.c): a start-up burst drains in a few ms, and the packets
 * after it show the delay of the path */
#define ARRIVAL_HOLD (250 * GST_MSECOND)

/* One remote track, keyed by identity + track name.  Reference counted:
 * the tables hold one, and a streaming thread that makes the stream's pad
 * takes one under the lock (the client thread may end the stream
 * meanwhile).  key is fixed; the rest is read and written under the
 * element's lock. */
typedef struct
{
  gatomicrefcount ref;
  gchar *key;
  HqRoomRemoteTrack *track; /* replaced by every subscribe offer */
  GstHqRoomSrcPad *pad; /* once media arrived; the element owns it */
  GstElement *chain;
  gboolean seen; /* in the latest subscribe offer */
  gboolean ended; /* no longer in the tables: attach nothing more */
} Stream;

struct _GstHqRoomSrc
{
  GstHqRoomBin parent;

  gchar **participants; /* NULL: everyone */
  GstHqRoomKinds kinds;
  guint latency;
  /* simulcast layer choice (docs/hqroomsrc.md, "Simulcast") */
  guint render_width, render_height;
  guint max_subscription_bitrate;

  GstElement *rtpbin; /* the base's */
  GstElement *rtp_in, *rtcp_in, *rtcp_out;
  GMutex lock; /* streams, by_ssrc */
  GHashTable *streams; /* key -> Stream */
  GHashTable *by_ssrc; /* ssrc -> Stream */
  HqArrival *arrival; /* first packets of each SSRC, under lock */
  guint audio_count, video_count;
  GstHqRoomNetqCache *netq; /* for the pads' stats */
  gchar *e2ee_secret; /* under the object lock */
};

enum
{
  PROP_0,
  PROP_PARTICIPANTS,
  PROP_KINDS,
  PROP_LATENCY,
  PROP_E2EE_SECRET,
  PROP_RENDER_WIDTH,
  PROP_RENDER_HEIGHT,
  PROP_MAX_SUBSCRIPTION_BITRATE,
};

static GstStaticPadTemplate audio_template =
    GST_STATIC_PAD_TEMPLATE ("audio_%u", GST_PAD_SRC, GST_PAD_SOMETIMES,
        GST_STATIC_CAPS ("audio/x-raw; audio/x-opus"));
static GstStaticPadTemplate video_template =
    GST_STATIC_PAD_TEMPLATE ("video_%u", GST_PAD_SRC, GST_PAD_SOMETIMES,
        GST_STATIC_CAPS ("video/x-raw; video/x-vp8; video/x-h264"));

GstHqRoomNetqCache *
gst_hq_room_src_get_netq (GstHqRoomSrc *self)
{
  return self->netq;
}

/* --- streams --- */

static Stream *
stream_ref (Stream *s)
{
  g_atomic_ref_count_inc (&s->ref);
  return s;
}

static void
stream_unref (Stream *s)
{
  if (!g_atomic_ref_count_dec (&s->ref))
    return;
  g_free (s->key);
  hq_room_remote_track_free (s->track);
  g_free (s);
}

static HqRoomRemoteTrack *
track_copy (const HqRoomRemoteTrack *t)
{
  HqRoomRemoteTrack *copy = g_new0 (HqRoomRemoteTrack, 1);

  copy->mid = g_strdup (t->mid);
  copy->ssrc = t->ssrc;
  copy->kind = t->kind;
  copy->track_sid = g_strdup (t->track_sid);
  copy->name = g_strdup (t->name);
  copy->participant_sid = g_strdup (t->participant_sid);
  copy->identity = g_strdup (t->identity);
  copy->priority = g_strdup (t->priority);
  copy->codecs = g_ptr_array_ref (t->codecs);
  return copy;
}

static const HqSdpCodec *
stream_codec (Stream *s, guint pt)
{
  for (guint i = 0; i < s->track->codecs->len; i++) {
    const HqSdpCodec *c = g_ptr_array_index (s->track->codecs, i);
    if (c->pt == pt)
      return c;
  }
  return NULL;
}

static gboolean
wanted (GstHqRoomSrc *self, const HqRoomRemoteTrack *t)
{
  gboolean ok;

  GST_OBJECT_LOCK (self);
  ok = (self->kinds == GST_HQ_ROOM_KINDS_BOTH
           || (self->kinds == GST_HQ_ROOM_KINDS_AUDIO
               && t->kind == HQ_SDP_KIND_AUDIO)
           || (self->kinds == GST_HQ_ROOM_KINDS_VIDEO
               && t->kind == HQ_SDP_KIND_VIDEO))
      && (self->participants == NULL || self->participants[0] == NULL
          || (t->identity
              && g_strv_contains (
                  (const gchar *const *)self->participants, t->identity)));
  GST_OBJECT_UNLOCK (self);
  return ok;
}

/* The subscribe rules that ask the server for what participants and kinds
 * select (docs/protocol.md, "Choosing what you receive"): an include rule
 * per identity (or one for all), and an exclude rule for the kind not
 * wanted.  Called with the object lock. */
static JsonArray *
subscribe_rules_locked (GstHqRoomSrc *self)
{
  JsonArray *rules = json_array_new ();
  gboolean some = FALSE;

  for (guint i = 0; self->participants && self->participants[i]; i++) {
    if (*self->participants[i] == '\0')
      continue;
    hq_protocol_rule_add (rules, HQ_RULE_INCLUDE, HQ_RULE_FILTER_PUBLISHER,
        self->participants[i]);
    some = TRUE;
  }
  if (!some)
    hq_protocol_rule_add (rules, HQ_RULE_INCLUDE, HQ_RULE_FILTER_ALL, NULL);
  if (self->kinds != GST_HQ_ROOM_KINDS_BOTH)
    hq_protocol_rule_add (rules, HQ_RULE_EXCLUDE, HQ_RULE_FILTER_KIND,
        hq_sdp_kind_to_string (self->kinds == GST_HQ_ROOM_KINDS_AUDIO
                ? HQ_SDP_KIND_VIDEO
                : HQ_SDP_KIND_AUDIO));
  return rules;
}

/* A pad of an ended stream: EOS, then it goes. */
static void
end_pad (GstHqRoomSrc *self, GstHqRoomSrcPad *pad)
{
  gst_pad_push_event (GST_PAD (pad), gst_event_new_eos ());
  gst_pad_set_active (GST_PAD (pad), FALSE);
  gst_element_remove_pad (GST_ELEMENT (self), GST_PAD (pad));
}

static void
end_chain (GstHqRoomSrc *self, GstElement *chain)
{
  gst_element_set_locked_state (chain, TRUE);
  gst_element_set_state (chain, GST_STATE_NULL);
  gst_bin_remove (GST_BIN (self), chain);
}

/* Ends a stream taken out of the tables: its pad gets EOS, then the pad
 * and its chain go; a pad or chain being made for it now is ended by its
 * maker (on_rtpbin_pad_added).  Not on a streaming thread of that chain. */
static void
stream_end (GstHqRoomSrc *self, Stream *s)
{
  GstHqRoomSrcPad *pad;
  GstElement *chain;

  g_mutex_lock (&self->lock);
  s->ended = TRUE;
  pad = g_steal_pointer (&s->pad);
  chain = g_steal_pointer (&s->chain);
  g_mutex_unlock (&self->lock);
  if (pad) {
    GST_INFO_OBJECT (self, "track %s ended", s->key);
    end_pad (self, pad);
  }
  if (chain)
    end_chain (self, chain);
}

static void
on_tracks_changed (HqRoomClient *client, GPtrArray *tracks, GstHqRoomSrc *self)
{
  GHashTableIter iter;
  gpointer value;
  g_autoptr (GPtrArray) gone = g_ptr_array_new ();

  g_mutex_lock (&self->lock);
  g_hash_table_iter_init (&iter, self->streams);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    ((Stream *)value)->seen = FALSE;
  g_hash_table_remove_all (self->by_ssrc);
  for (guint i = 0; i < tracks->len; i++) {
    const HqRoomRemoteTrack *t = g_ptr_array_index (tracks, i);
    g_autofree gchar *key = NULL;
    Stream *s;
    HqRoomRemoteTrack *copy;

    GST_DEBUG_OBJECT (self, "track %s of %s: %s mid %s ssrc %u", t->name,
        t->identity, hq_sdp_kind_to_string (t->kind), t->mid, t->ssrc);
    if (!wanted (self, t) || t->ssrc == 0)
      continue;
    key = g_strdup_printf (
        "%s\n%s", t->identity ? t->identity : "", t->name ? t->name : "");
    copy = track_copy (t);
    s = g_hash_table_lookup (self->streams, key);
    if (s == NULL) {
      s = g_new0 (Stream, 1);
      g_atomic_ref_count_init (&s->ref);
      s->key = g_steal_pointer (&key);
      g_hash_table_insert (self->streams, s->key, s);
    } else {
      hq_room_remote_track_free (s->track);
    }
    s->track = copy;
    s->seen = TRUE;
    if (s->pad)
      gst_hq_room_src_pad_set_track (s->pad, copy);
    g_hash_table_insert (self->by_ssrc, GUINT_TO_POINTER (copy->ssrc), s);
  }
  hq_arrival_forget_others (self->arrival, self->by_ssrc);
  g_hash_table_iter_init (&iter, self->streams);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (!((Stream *)value)->seen) {
      g_ptr_array_add (gone, value);
      g_hash_table_iter_steal (&iter);
    }
  g_mutex_unlock (&self->lock);
  for (guint i = 0; i < gone->len; i++) {
    stream_end (self, g_ptr_array_index (gone, i));
    stream_unref (g_ptr_array_index (gone, i));
  }
}

/* --- receiving --- */

#define ref_client(self) gst_hq_room_bin_ref_client (GST_HQ_ROOM_BIN (self))

/* The running time now, as udpsrc stamps a packet's arrival: the jitter
 * buffer derives playout times (and lip sync) from it, and appsrc's own
 * do-timestamp would stamp when its streaming thread gets to the packet,
 * which can be late and in bursts.  Before PLAYING there is no base time
 * yet: appsrc stamps those. */
static GstClockTime
arrival_time (GstHqRoomSrc *self)
{
  GstClock *clock = GST_STATE (self) == GST_STATE_PLAYING
      ? gst_element_get_clock (GST_ELEMENT (self))
      : NULL;
  GstClockTime t = GST_CLOCK_TIME_NONE;

  if (clock) {
    GstClockTime now = gst_clock_get_time (clock);
    GstClockTime base = gst_element_get_base_time (GST_ELEMENT (self));

    if (now >= base)
      t = now - base;
    gst_object_unref (clock);
  }
  return t;
}

static void
on_receive (HqRoomTransportKind which, gboolean rtcp, const guint8 *data,
    gsize len, gpointer user_data)
{
  GstHqRoomSrc *self = user_data;
  GstClockTime now, late;
  GQueue ready = G_QUEUE_INIT;
  GstBuffer *buf;
  HqRtpHeader h;
  Stream *s;

  if (which != HQ_ROOM_TRANSPORT_SUBSCRIBE)
    return;
  if (rtcp) {
    /* The server sends each SR in a compound packet of its own with its
     * CNAME (docs/sfu.md), as rtpbin needs it for lip sync. */
    gst_app_src_push_buffer (
        GST_APP_SRC (self->rtcp_in), gst_buffer_new_memdup (data, len));
    return;
  }
  /* Only SSRCs of tracks we want reach rtpbin; anything else would make
   * a pad nobody links. */
  if (!hq_rtp_parse (data, len, &h, NULL))
    return;
  now = arrival_time (self);
  /* a packet later than the path's delay by half the jitter buffer's
   * latency is stamped as if it came then (hqarrival.c): the jitter
   * buffer keeps its timing through a stall */
  GST_OBJECT_LOCK (self);
  late = self->latency * GST_MSECOND / 2;
  GST_OBJECT_UNLOCK (self);
  buf = gst_buffer_new_memdup (data, len);
  g_mutex_lock (&self->lock);
  s = g_hash_table_lookup (self->by_ssrc, GUINT_TO_POINTER (h.ssrc));
  if (s && GST_CLOCK_TIME_IS_VALID (now)) {
    /* a stream's first packets wait until their timing is known
     * (hqarrival.c) */
    const HqSdpCodec *c = stream_codec (s, h.payload_type);
    hq_arrival_add (self->arrival, h.ssrc, h.timestamp, c ? c->clock_rate : 0,
        now, late, g_steal_pointer (&buf), &ready);
  }
  g_mutex_unlock (&self->lock);
  if (s == NULL) {
    GST_LOG_OBJECT (self, "dropping RTP of unknown ssrc %u", h.ssrc);
    gst_buffer_unref (buf);
    return;
  }
  if (buf)
    g_queue_push_tail (&ready, buf);
  while ((buf = g_queue_pop_head (&ready)) != NULL)
    gst_app_src_push_buffer (GST_APP_SRC (self->rtp_in), buf);
}

static GstFlowReturn
on_rtcp_out (GstAppSink *appsink, gpointer user_data)
{
  GstHqRoomSrc *self = user_data;
  GstSample *sample = gst_app_sink_pull_sample (appsink);
  HqRoomClient *client = ref_client (self);
  GstMapInfo map;

  if (sample && client
      && gst_buffer_map (gst_sample_get_buffer (sample), &map, GST_MAP_READ)) {
    hq_room_client_send_rtcp (
        client, HQ_ROOM_TRANSPORT_SUBSCRIBE, map.data, map.size);
    gst_buffer_unmap (gst_sample_get_buffer (sample), &map);
  }
  g_clear_object (&client);
  if (sample)
    gst_sample_unref (sample);
  return GST_FLOW_OK;
}

/* rtpbin asks what a payload type is: the subscribe offer says. */
static GstCaps *
on_request_pt_map (
    GstElement *rtpbin, guint session, guint pt, GstHqRoomSrc *self)
{
  GHashTableIter iter;
  gpointer value;
  GstCaps *caps = NULL;

  g_mutex_lock (&self->lock);
  g_hash_table_iter_init (&iter, self->streams);
  while (caps == NULL && g_hash_table_iter_next (&iter, NULL, &value)) {
    Stream *s = value;
    const HqSdpCodec *c = stream_codec (s, pt);
    /* GStreamer's own reading of the offer's m-line (rtpmap, fmtp,
     * rtcp-fb): only what the server offered. */
    if (c && hq_codec_find (c->name))
      caps = hq_sdp_codec_get_caps (s->track->kind, c);
  }
  g_mutex_unlock (&self->lock);
  GST_DEBUG_OBJECT (self, "pt %u: %" GST_PTR_FORMAT, pt, caps);
  return caps;
}

/* A new jitter buffer, for one SSRC.  It asks for retransmission only
 * when the SDP negotiated NACK for the track's codec (the server offers it
 * for video, not audio: it keeps no audio history), and only for packets
 * known to be missing, because a later one came.  rtpjitterbuffer's
 * default (rtx-next-seqnum) also asks for the *next* packet as soon as it
 * is later than a guess from the previous ones: on a lossless loopback
 * that NACKed about a third of all packets, each one merely a video frame
 * encoded a few ms late or an Opus packet cut from 21.3 ms buffers. */
static void
on_new_jitterbuffer (GstElement *rtpbin, GstElement *jitterbuffer,
    guint session, guint ssrc, GstHqRoomSrc *self)
{
  gboolean nack = FALSE;
  Stream *s;

  g_mutex_lock (&self->lock);
  s = g_hash_table_lookup (self->by_ssrc, GUINT_TO_POINTER (ssrc));
  for (guint i = 0; s && i < s->track->codecs->len; i++)
    nack |=
        hq_sdp_codec_has_fb (g_ptr_array_index (s->track->codecs, i), "nack");
  g_mutex_unlock (&self->lock);
  GST_DEBUG_OBJECT (self, "ssrc %u: NACK %s", ssrc, nack ? "on gaps" : "off");
  g_object_set (
      jitterbuffer, "do-retransmission", nack, "rtx-next-seqnum", FALSE, NULL);
}

/* Depayloader [+ decryption] [+ parser] [+ decoder] for @codec (the
 * codec table, libhq's hqcodec); decryption where end-to-end encryption
 * covers the codec. */
static gchar *
chain_description (
    const HqCodec *codec, gboolean decode, gboolean e2ee, GError **error)
{
  const gchar *crypt =
      e2ee && hq_codec_e2ee (codec) ? " ! hqframedecrypt name=crypt" : "";
  g_autofree gchar *decoder =
      decode ? hq_codec_decoder_description (codec, error) : NULL;
  const gchar *tail = decode ? decoder : hq_codec_output_parser (codec);

  if (decode && decoder == NULL)
    return NULL;
  return g_strdup_printf ("%s%s%s%s", hq_codec_depayloader (codec), crypt,
      *tail ? " ! " : "", tail);
}

/* Encoded output when the linked element names the codec in its caps;
 * raw otherwise. */
static gboolean
downstream_wants_encoded (GstPad *pad, const HqCodec *codec)
{
  g_autoptr (GstCaps) peer_caps = gst_pad_peer_query_caps (pad, NULL);
  g_autoptr (GstCaps) encoded =
      gst_caps_new_empty_simple (hq_codec_media_type (codec));

  return !gst_caps_is_any (peer_caps)
      && gst_caps_can_intersect (peer_caps, encoded);
}

/* A new SSRC's pad on rtpbin (its streaming thread): the stream's pad,
 * if it has none yet, and a chain from this pad to it.  The client thread
 * can end the stream at any time meanwhile (a subscribe offer without it);
 * this works on a reference and a copy of the track, and what it made for
 * a stream that ended meanwhile it ends itself. */
static void
on_rtpbin_pad_added (GstElement *rtpbin, GstPad *rtp_pad, GstHqRoomSrc *self)
{
  g_autofree gchar *name = gst_pad_get_name (rtp_pad);
  guint session, ssrc, pt;
  Stream *s;
  const HqSdpCodec *codec;
  const HqCodec *known;
  g_autofree gchar *desc = NULL, *codec_name = NULL, *pad_name = NULL;
  g_autofree gchar *secret = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (HqRoomClient) client = NULL;
  HqRoomRemoteTrack *track = NULL;
  GstHqRoomSrcPad *pad = NULL;
  GstElement *chain;
  GstPad *chain_sink, *chain_src;
  gboolean audio, decode, ended;

  if (sscanf (name, "recv_rtp_src_%u_%u_%u", &session, &ssrc, &pt) != 3)
    return;
  g_mutex_lock (&self->lock);
  s = g_hash_table_lookup (self->by_ssrc, GUINT_TO_POINTER (ssrc));
  codec = s ? stream_codec (s, pt) : NULL;
  if (codec)
    codec_name = g_strdup (codec->name);
  if (s && s->chain) {
    /* The same track from a new SSRC (the server came back): continue on
     * the existing chain and pad. */
    GstPad *sink = gst_element_get_static_pad (s->chain, "sink");
    GstPad *old = gst_pad_get_peer (sink);
    if (old) {
      gst_pad_unlink (old, sink);
      gst_object_unref (old);
    }
    gst_pad_link (rtp_pad, sink);
    gst_object_unref (sink);
    g_mutex_unlock (&self->lock);
    return;
  }
  if (s && codec_name) {
    stream_ref (s);
    track = track_copy (s->track);
    pad = s->pad ? gst_object_ref (s->pad) : NULL;
  }
  g_mutex_unlock (&self->lock);
  if (track == NULL) {
    GST_WARNING_OBJECT (self, "no track for %s", name);
    return;
  }

  audio = track->kind == HQ_SDP_KIND_AUDIO;
  if (pad == NULL) {
    GstPadTemplate *templ = gst_element_class_get_pad_template (
        GST_ELEMENT_GET_CLASS (self), audio ? "audio_%u" : "video_%u");
    GST_OBJECT_LOCK (self);
    pad_name = g_strdup_printf (audio ? "audio_%u" : "video_%u",
        audio ? self->audio_count++ : self->video_count++);
    GST_OBJECT_UNLOCK (self);
    /* ours; the element takes its own */
    pad = gst_hq_room_src_pad_new (pad_name, templ, track);
    /* Linked here (gst-launch links in pad-added) before the chain is
     * chosen, so the chain can follow what downstream takes. */
    if (!gst_element_add_pad (GST_ELEMENT (self), GST_PAD (pad))) {
      GST_WARNING_OBJECT (self, "cannot add pad %s", pad_name);
      goto out;
    }
    g_mutex_lock (&self->lock);
    ended = s->ended || s->pad != NULL;
    if (!ended) {
      /* the track as it is now: a priority may have changed meanwhile */
      gst_hq_room_src_pad_set_track (pad, s->track);
      s->pad = pad;
    }
    g_mutex_unlock (&self->lock);
    if (ended) {
      GST_INFO_OBJECT (self, "track %s ended as its pad was made", s->key);
      end_pad (self, pad);
      goto out;
    }
  }
  known = hq_codec_find (codec_name);
  decode = known && !downstream_wants_encoded (GST_PAD (pad), known);
  GST_OBJECT_LOCK (self);
  secret = hq_e2ee_resolve_secret (self->e2ee_secret);
  GST_OBJECT_UNLOCK (self);
  desc =
      known ? chain_description (known, decode, secret != NULL, &error) : NULL;
  chain = desc ? gst_parse_bin_from_description (desc, TRUE, &error) : NULL;
  /* the room's key epochs, shared by every stream */
  client = secret ? ref_client (self) : NULL;
  if (chain && secret
      && !hq_e2ee_setup_chain (chain, hq_e2ee_client_crypt (client),
          hq_e2ee_client_crypt (client) ? NULL : secret, track->identity))
    GST_ELEMENT_WARNING (self, STREAM, DECRYPT,
        ("cannot decrypt %s from %s: end-to-end encryption covers VP8 and "
         "Opus, not %s",
            audio ? "audio" : "video", track->identity, codec_name),
        (NULL));
  if (chain == NULL) {
    GST_ELEMENT_WARNING (self, CORE, MISSING_PLUGIN,
        ("cannot receive %s (%s): %s", s->key, codec_name,
            error ? error->message : "unknown codec"),
        (NULL));
    goto out;
  }
  GST_INFO_OBJECT (
      self, "track %s on %s: %s", s->key, GST_PAD_NAME (pad), desc);
  gst_bin_add (GST_BIN (self), chain);
  gst_element_sync_state_with_parent (chain);
  chain_src = gst_element_get_static_pad (chain, "src");
  gst_ghost_pad_set_target (GST_GHOST_PAD (pad), chain_src);
  gst_object_unref (chain_src);
  chain_sink = gst_element_get_static_pad (chain, "sink");
  gst_pad_link (rtp_pad, chain_sink);
  gst_object_unref (chain_sink);
  g_mutex_lock (&self->lock);
  ended = s->ended;
  if (!ended)
    s->chain = chain;
  g_mutex_unlock (&self->lock);
  if (ended)
    end_chain (self, chain);
out:
  gst_object_unref (pad);
  hq_room_remote_track_free (track);
  stream_unref (s);
}

/* --- client --- */

static void
on_joined (HqRoomClient *client, JsonObject *joined, gboolean resumed,
    GstHqRoomSrc *self)
{
  gst_hq_room_netq_cache_joined (self->netq, client);
}

/* A publisher changed a track's priority: its pad says so.  The pad is
 * found among the element's pads, not as its stream's: a pad is added (and
 * its pad-added emitted) before on_rtpbin_pad_added records it in the
 * stream, and in between it must change too. */
static void
priority_changed (GstHqRoomSrc *self, JsonObject *msg)
{
  JsonObject *track = json_object_get_member (msg, "track")
          && JSON_NODE_HOLDS_OBJECT (json_object_get_member (msg, "track"))
      ? json_object_get_object_member (msg, "track")
      : NULL;
  const gchar *sid, *priority;
  GHashTableIter iter;
  gpointer value;
  GList *pads = NULL;

  if (!track)
    return;
  sid = json_object_get_string_member_with_default (track, "sid", NULL);
  priority =
      json_object_get_string_member_with_default (track, "priority", NULL);
  g_mutex_lock (&self->lock);
  g_hash_table_iter_init (&iter, self->streams);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    Stream *s = value;

    /* also before its pad exists, which takes the track's priority */
    if (sid && g_strcmp0 (s->track->track_sid, sid) == 0) {
      g_free (s->track->priority);
      s->track->priority = g_strdup (priority);
      break;
    }
  }
  g_mutex_unlock (&self->lock);
  GST_OBJECT_LOCK (self);
  for (GList *l = GST_ELEMENT (self)->srcpads; l; l = l->next)
    pads = g_list_prepend (pads, gst_object_ref (l->data));
  GST_OBJECT_UNLOCK (self);
  for (GList *l = pads; l; l = l->next) {
    if (G_TYPE_CHECK_INSTANCE_TYPE (l->data, GST_TYPE_HQ_ROOM_SRC_PAD)
        && gst_hq_room_src_pad_has_track (l->data, sid))
      gst_hq_room_src_pad_set_priority (l->data, priority);
  }
  g_list_free_full (pads, gst_object_unref);
}

static void
on_message (HqRoomClient *client, const gchar *type, JsonObject *msg,
    GstHqRoomSrc *self)
{
  const gchar *id = json_object_get_string_member_with_default (msg, "id", "");
  HqMessageType t = hq_protocol_message_type (type);

  /* The filter still holds on our side; the server sends more than asked.
   * (HqRoomClient's requests go by their type's name.) */
  if (t == HQ_MESSAGE_ERROR
      && hq_protocol_message_type (id) == HQ_MESSAGE_SUBSCRIBE_RULES)
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("The server refused the subscribe rules for participants/kinds: "
         "%s: %s",
            json_object_get_string_member_with_default (msg, "code", ""),
            json_object_get_string_member_with_default (msg, "message", "")),
        (NULL));
  if (t == HQ_MESSAGE_ERROR
      && hq_protocol_message_type (id) == HQ_MESSAGE_BANDWIDTH_PROFILE)
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("The server refused max-subscription-bitrate: %s: %s",
            json_object_get_string_member_with_default (msg, "code", ""),
            json_object_get_string_member_with_default (msg, "message", "")),
        (NULL));
  if (t == HQ_MESSAGE_TRACK_PRIORITY_CHANGED)
    priority_changed (self, msg);
  if (t == HQ_MESSAGE_NETWORK_QUALITY)
    gst_hq_room_netq_cache_update (self->netq, msg);
}

/* Tells @client what participants and kinds select (its thread). */
static void
update_rules_now (HqRoomClient *client, GstHqRoomSrc *self)
{
  g_autoptr (JsonArray) rules = NULL;

  GST_OBJECT_LOCK (self);
  rules = subscribe_rules_locked (self);
  GST_OBJECT_UNLOCK (self);
  hq_room_client_set_subscribe_rules (client, rules);
}

static gboolean
update_rules_cb (gpointer data)
{
  GstHqRoomSrc *self = data;
  HqRoomClient *client = ref_client (self);

  if (client)
    update_rules_now (client, self);
  g_clear_object (&client);
  return G_SOURCE_REMOVE;
}

/* participants or kinds changed: a running client asks the server at once
 * (at start, setup_client does). */
static void
update_rules (GstHqRoomSrc *self)
{
  HqRoomClient *client = ref_client (self);

  if (client)
    gst_hq_room_bin_invoke (GST_HQ_ROOM_BIN (self), update_rules_cb,
        gst_object_ref (self), gst_object_unref);
  g_clear_object (&client);
}

/* Tells @client what the server should pick simulcast layers by: the
 * size we render video at, our bitrate cap (its thread). */
static void
update_layer_choice_now (HqRoomClient *client, GstHqRoomSrc *self)
{
  HqBandwidthProfile profile;
  guint width, height, max;

  GST_OBJECT_LOCK (self);
  width = self->render_width;
  height = self->render_height;
  max = self->max_subscription_bitrate;
  GST_OBJECT_UNLOCK (self);
  hq_room_client_set_render_dimensions (client, width, height);
  hq_bandwidth_profile_init (&profile);
  profile.max_subscription_bitrate =
      max ? MAX (max, HQ_MAX_SUBSCRIPTION_BITRATE_MIN) : 0;
  hq_room_client_set_bandwidth_profile (client, max ? &profile : NULL);
}

static gboolean
update_layer_choice_cb (gpointer data)
{
  GstHqRoomSrc *self = data;
  HqRoomClient *client = ref_client (self);

  if (client)
    update_layer_choice_now (client, self);
  g_clear_object (&client);
  return G_SOURCE_REMOVE;
}

/* GstHqRoomBin's setup_client: on the client's thread before it starts. */
static void
setup_client (GstHqRoomBin *bin, HqRoomClient *client)
{
  GstHqRoomSrc *self = GST_HQ_ROOM_SRC (bin);
  g_autofree gchar *secret = NULL;

  g_signal_connect (client, "joined", G_CALLBACK (on_joined), self);
  g_signal_connect (client, "message", G_CALLBACK (on_message), self);
  g_signal_connect (
      client, "tracks-changed", G_CALLBACK (on_tracks_changed), self);
  hq_room_client_set_receive_func (client, on_receive, self, NULL);
  GST_OBJECT_LOCK (self);
  secret = hq_e2ee_resolve_secret (self->e2ee_secret);
  GST_OBJECT_UNLOCK (self);
  hq_e2ee_attach_client (GST_ELEMENT (self), client, NULL, secret);
  update_rules_now (client, self);
  update_layer_choice_now (client, self);
}

/* --- the element --- */

#define gst_hq_room_src_parent_class parent_class
G_DEFINE_TYPE (GstHqRoomSrc, gst_hq_room_src, GST_TYPE_HQ_ROOM_BIN);
GST_ELEMENT_REGISTER_DEFINE (
    hqroomsrc, "hqroomsrc", GST_RANK_NONE, GST_TYPE_HQ_ROOM_SRC);

/* GstHqRoomBin's stopped: the client left, every pad goes. */
static void
remove_all_streams (GstHqRoomBin *bin)
{
  GstHqRoomSrc *self = GST_HQ_ROOM_SRC (bin);
  g_autoptr (GList) values = NULL;

  g_mutex_lock (&self->lock);
  g_hash_table_remove_all (self->by_ssrc);
  hq_arrival_clear (self->arrival);
  values = g_hash_table_get_values (self->streams);
  g_hash_table_steal_all (self->streams);
  g_mutex_unlock (&self->lock);
  for (GList *l = values; l; l = l->next) {
    stream_end (self, l->data);
    stream_unref (l->data);
  }
}

static GstStateChangeReturn
gst_hq_room_src_change_state (GstElement *element, GstStateChange transition)
{
  GstHqRoomSrc *self = GST_HQ_ROOM_SRC (element);
  GstStateChangeReturn ret;
  guint latency;

  if (transition == GST_STATE_CHANGE_NULL_TO_READY && self->rtpbin) {
    GST_OBJECT_LOCK (self);
    latency = self->latency;
    GST_OBJECT_UNLOCK (self);
    g_object_set (self->rtpbin, "latency", latency, NULL);
  }
  /* GstHqRoomBin joins and leaves */
  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret != GST_STATE_CHANGE_FAILURE
      && (transition == GST_STATE_CHANGE_READY_TO_PAUSED
          || transition == GST_STATE_CHANGE_PLAYING_TO_PAUSED))
    ret = GST_STATE_CHANGE_NO_PREROLL;
  return ret;
}

/* GstHqRoomBin's property_changed: a latency goes on to rtpbin, which
 * hands it on to its jitter buffers, also while playing; participants
 * and kinds become the subscribe rules at once. */
static void
property_changed (GstHqRoomBin *bin, GParamSpec *pspec)
{
  GstHqRoomSrc *self = GST_HQ_ROOM_SRC (bin);
  guint latency;

  if (g_str_equal (pspec->name, "latency") && self->rtpbin) {
    GST_OBJECT_LOCK (self);
    latency = self->latency;
    GST_OBJECT_UNLOCK (self);
    g_object_set (self->rtpbin, "latency", latency, NULL);
  }
  if (g_str_equal (pspec->name, "participants")
      || g_str_equal (pspec->name, "kinds"))
    update_rules (self);
  if (g_str_equal (pspec->name, "render-width")
      || g_str_equal (pspec->name, "render-height")
      || g_str_equal (pspec->name, "max-subscription-bitrate"))
    gst_hq_room_bin_invoke (GST_HQ_ROOM_BIN (self), update_layer_choice_cb,
        gst_object_ref (self), gst_object_unref);
}

static void
gst_hq_room_src_finalize (GObject *object)
{
  GstHqRoomSrc *self = GST_HQ_ROOM_SRC (object);

  g_free (self->e2ee_secret);
  g_strfreev (self->participants);
  g_hash_table_unref (self->by_ssrc);
  hq_arrival_free (self->arrival);
  g_hash_table_unref (self->streams);
  gst_hq_room_netq_cache_free (self->netq);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_hq_room_src_init (GstHqRoomSrc *self)
{
  g_autoptr (GstCaps) rtp_caps =
      gst_caps_new_empty_simple ("application/x-rtp");
  g_autoptr (GstCaps) rtcp_caps =
      gst_caps_new_empty_simple ("application/x-rtcp");
  GstAppSinkCallbacks cb = { .new_sample = on_rtcp_out };

  g_mutex_init (&self->lock);
  self->latency = DEFAULT_LATENCY;
  self->streams = g_hash_table_new_full (
      g_str_hash, g_str_equal, NULL, (GDestroyNotify)stream_unref);
  self->by_ssrc = g_hash_table_new (NULL, NULL);
  self->arrival = hq_arrival_new (ARRIVAL_HOLD, GST_CAT_DEFAULT);
  self->netq = gst_hq_room_netq_cache_new ();

  self->rtpbin = gst_hq_room_bin_get_rtpbin (GST_HQ_ROOM_BIN (self));
  self->rtp_in = gst_element_factory_make ("appsrc", "rtp_in");
  self->rtcp_in = gst_element_factory_make ("appsrc", "rtcp_in");
  self->rtcp_out = gst_element_factory_make ("appsink", "rtcp_out");
  if (!self->rtpbin || !self->rtp_in || !self->rtcp_in || !self->rtcp_out) {
    /* NULL->READY fails and says why (GstHqRoomBin) */
    g_clear_object (&self->rtp_in);
    g_clear_object (&self->rtcp_in);
    g_clear_object (&self->rtcp_out);
    return;
  }
  g_object_set (self->rtpbin, "do-retransmission", TRUE, "do-lost", TRUE,
      "latency", self->latency, NULL);
  g_signal_connect (
      self->rtpbin, "request-pt-map", G_CALLBACK (on_request_pt_map), self);
  g_signal_connect (
      self->rtpbin, "pad-added", G_CALLBACK (on_rtpbin_pad_added), self);
  g_signal_connect (
      self->rtpbin, "new-jitterbuffer", G_CALLBACK (on_new_jitterbuffer), self);
  g_object_set (self->rtp_in, "is-live", TRUE, "format", GST_FORMAT_TIME,
      "do-timestamp", TRUE, "caps", rtp_caps, "max-bytes", (guint64)4000000,
      NULL);
  g_object_set (self->rtcp_in, "is-live", TRUE, "format", GST_FORMAT_TIME,
      "do-timestamp", TRUE, "caps", rtcp_caps, NULL);
  g_object_set (self->rtcp_out, "sync", FALSE, "async", FALSE,
      "enable-last-sample", FALSE, NULL);
  gst_app_sink_set_callbacks (GST_APP_SINK (self->rtcp_out), &cb, self, NULL);
  GST_OBJECT_FLAG_UNSET (self->rtcp_out, GST_ELEMENT_FLAG_SINK);
  gst_bin_add_many (
      GST_BIN (self), self->rtp_in, self->rtcp_in, self->rtcp_out, NULL);
  gst_element_link_pads (self->rtp_in, "src", self->rtpbin, "recv_rtp_sink_0");
  gst_element_link_pads (
      self->rtcp_in, "src", self->rtpbin, "recv_rtcp_sink_0");
  gst_element_link_pads (
      self->rtpbin, "send_rtcp_src_0", self->rtcp_out, "sink");
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SOURCE);
}

static void
gst_hq_room_src_class_init (GstHqRoomSrcClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstHqRoomBinClass *bin_class = GST_HQ_ROOM_BIN_CLASS (klass);

  gst_hq_room_src_debug = gst_hq_room_bin_class_add_debug (
      bin_class, "hqroomsrc", "hqrooms room source");
  bin_class->subscribe = TRUE;
  bin_class->setup_client = setup_client;
  bin_class->stopped = remove_all_streams;
  bin_class->property_changed = property_changed;
  gobject_class->finalize = gst_hq_room_src_finalize;

  /* server, room, token, identity, ...: GstHqRoomBin, docs/hqroomsrc.md */
  /**
   * GstHqRoomSrc:participants:
   *
   * Identities whose tracks to receive (empty: everyone's), as a
   * GstValueArray of strings: `participants="<alice, bob>"` on a
   * gst-launch-1.0 line.  (Before, a comma-separated string.)
   *
   * The server does the filtering: with #GstHqRoomSrc:kinds it becomes
   * the participant's subscribe rules, sent with every join and again
   * when either property changes while running, so other tracks are
   * never sent at all.  The element filters too, as a guard.
   */
  gst_hq_room_bin_class_install_field (bin_class, PROP_PARTICIPANTS,
      G_STRUCT_OFFSET (GstHqRoomSrc, participants),
      gst_param_spec_array ("participants", "Participants",
          "Identities to receive, as \"<alice, bob>\" (default: all)",
          g_param_spec_string ("identity", "Identity",
              "A participant's identity", NULL,
              G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS),
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstHqRoomSrc:kinds:
   *
   * Which kinds of track to receive.  Filtered at the server, like
   * #GstHqRoomSrc:participants.
   */
  gst_hq_room_bin_class_install_field (bin_class, PROP_KINDS,
      G_STRUCT_OFFSET (GstHqRoomSrc, kinds),
      g_param_spec_enum ("kinds", "Kinds", "Kinds of track to receive",
          GST_TYPE_HQ_ROOM_KINDS, GST_HQ_ROOM_KINDS_BOTH,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstHqRoomSrc:latency:
   *
   * The jitter buffer's latency in ms.
   */
  gst_hq_room_bin_class_install_field (bin_class, PROP_LATENCY,
      G_STRUCT_OFFSET (GstHqRoomSrc, latency),
      g_param_spec_uint ("latency", "Latency", "Jitter buffer latency (ms)", 0,
          10000, DEFAULT_LATENCY,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstHqRoomSrc:e2ee-secret:
   *
   * The room secret for end-to-end encryption (write only; docs/e2ee.md).
   * When set, or when $HQ_E2EE_SECRET is, VP8 and Opus frames are
   * decrypted after the depayloader; a frame that does not decrypt is
   * dropped and counted (pad stats `e2ee-frames-dropped`, beside
   * `e2ee-frames` decrypted), and the first
   * one of a stream posts a warning that names the sender.  Taken for
   * each track when its media first arrives.
   */
  gst_hq_room_bin_class_install_field (bin_class, PROP_E2EE_SECRET,
      G_STRUCT_OFFSET (GstHqRoomSrc, e2ee_secret),
      hq_e2ee_secret_param (GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstHqRoomSrc:render-width:
   *
   * The width video is shown at, in pixels (0: no preference).  With
   * #GstHqRoomSrc:render-height, sent to the server for every video track
   * (track hints, docs/protocol.md): of a publisher's simulcast layers it
   * forwards the smallest one at least this large, bandwidth allowing, so
   * a small window does not take a full-size stream.  A change while
   * playing is sent at once; the picture changes size at the next
   * keyframe of the new layer.
   */
  gst_hq_room_bin_class_install_field (bin_class, PROP_RENDER_WIDTH,
      G_STRUCT_OFFSET (GstHqRoomSrc, render_width),
      g_param_spec_uint ("render-width", "Render width",
          "Width video is shown at: the server sends the smallest simulcast "
          "layer at least this large (0: no preference)",
          0, HQ_RENDER_DIMENSION_MAX, 0,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstHqRoomSrc:render-height:
   *
   * The height video is shown at; see #GstHqRoomSrc:render-width.  Both
   * or neither: a size with one of them 0 is no preference.
   */
  gst_hq_room_bin_class_install_field (bin_class, PROP_RENDER_HEIGHT,
      G_STRUCT_OFFSET (GstHqRoomSrc, render_height),
      g_param_spec_uint ("render-height", "Render height",
          "Height video is shown at (0: no preference)", 0,
          HQ_RENDER_DIMENSION_MAX, 0,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstHqRoomSrc:max-subscription-bitrate:
   *
   * The most the server may send of all video to this element, in bit/s
   * (0: no cap; at least 50000): Twilio's maxSubscriptionBitrate, sent in
   * the bandwidth profile.  The server picks lower simulcast layers, and
   * switches tracks off, to stay under it.  A change while playing is
   * sent at once.
   */
  gst_hq_room_bin_class_install_field (bin_class, PROP_MAX_SUBSCRIPTION_BITRATE,
      G_STRUCT_OFFSET (GstHqRoomSrc, max_subscription_bitrate),
      g_param_spec_uint ("max-subscription-bitrate",
          "Maximum subscription bitrate",
          "Most bit/s of video the server sends us in all (0: no cap)", 0,
          HQ_MAX_SUBSCRIPTION_BITRATE_MAX, 0,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));

  gst_element_class_add_static_pad_template_with_gtype (
      element_class, &audio_template, GST_TYPE_HQ_ROOM_SRC_PAD);
  gst_element_class_add_static_pad_template_with_gtype (
      element_class, &video_template, GST_TYPE_HQ_ROOM_SRC_PAD);
  gst_element_class_set_static_metadata (element_class, "hqrooms room source",
      "Source/Network", "Receives the tracks of an hq-server room", "hqrooms");
  element_class->change_state = gst_hq_room_src_change_state;
  gst_type_mark_as_plugin_api (GST_TYPE_HQ_ROOM_SRC_PAD, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_HQ_ROOM_KINDS, 0);
}
