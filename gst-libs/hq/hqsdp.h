/* hqrooms SDP layer: WebRTC session descriptions as plain C structs.
 *
 * An HqSdp is what an offer or answer says that our transport, SFU and
 * room elements act on: the ICE credentials, the DTLS fingerprint and
 * role, the BUNDLE group, and per m-line (HqSdpMedia) the mid, direction,
 * codecs with their RTX payload types, header extensions, SSRCs and ICE
 * candidates.  Everything else in the text (a=rtcp, b=, unknown
 * attributes) is dropped on parsing.
 *
 * hq_sdp_parse() reads text through GstSDPMessage and refuses what we
 * cannot use with an HQ_SDP_ERROR whose message says what and where
 * ("m-line 2 (video): no a=mid").  hq_sdp_to_text() writes text Chromium
 * and webrtcbin accept.  hq_sdp_build_offer() and hq_sdp_build_answer()
 * make descriptions with our codec set (Opus, VP8, H.264 constrained
 * baseline, RTX); see docs/sdp.md.
 *
 * None of this needs gst_init(): GstSDPMessage is plain data.
 *
 * Ownership: an HqSdp owns its media, a media owns its codecs, extmaps,
 * SSRCs and candidates.  The structs are public so callers read fields
 * directly; pointer arrays free their elements.
 */
#ifndef __HQ_SDP_H__
#define __HQ_SDP_H__

#include <glib.h>
#include <gst/gst.h>

G_BEGIN_DECLS

/* Longest text hq_sdp_parse() reads, in bytes. */
#define HQ_SDP_MAX_SIZE (1024 * 1024)
/* Most m-lines a description may have (a 50-participant room's subscribe
 * offer has about 100). */
#define HQ_SDP_MAX_MEDIA 256
/* Most SSRCs and ICE candidates one m-line may carry. */
#define HQ_SDP_MAX_SSRCS 64
#define HQ_SDP_MAX_CANDIDATES 128

/* The header extension URIs we offer and accept. */
#define HQ_SDP_EXT_MID "urn:ietf:params:rtp-hdrext:sdes:mid"
#define HQ_SDP_EXT_AUDIO_LEVEL "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
#define HQ_SDP_EXT_ABS_SEND_TIME                                               \
  "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
#define HQ_SDP_EXT_TWCC                                                        \
  "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
/* RFC 8852: the RID of a simulcast layer, and of the layer an RTX packet
 * repairs; both carry the RID as text, as the mid extension does. */
#define HQ_SDP_EXT_RID "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
#define HQ_SDP_EXT_REPAIRED_RID                                                \
  "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
/* Most simulcast layers (RIDs) one m-line may carry, and the longest RID:
 * 16 bytes is what one element of a one-byte header extension holds. */
#define HQ_SDP_MAX_RIDS 3
#define HQ_SDP_MAX_RID_LEN 16

#define HQ_SDP_ERROR (hq_sdp_error_quark ())
GQuark hq_sdp_error_quark (void);

/**
 * HqSdpError:
 * @HQ_SDP_ERROR_NOT_SDP: the text is not an SDP at all: no v= line first,
 *   control bytes or invalid UTF-8, empty.
 * @HQ_SDP_ERROR_TOO_LARGE: more than %HQ_SDP_MAX_SIZE bytes, more than
 *   %HQ_SDP_MAX_MEDIA m-lines, or too many SSRCs or candidates in one.
 * @HQ_SDP_ERROR_SYNTAX: a line or attribute value is malformed: a number
 *   that is not one or out of range, a missing field.
 * @HQ_SDP_ERROR_MISSING: something WebRTC needs is absent: a=mid,
 *   ICE credentials, fingerprint, setup, a=rtcp-mux, an rtpmap.
 * @HQ_SDP_ERROR_UNSUPPORTED: well-formed but not something we can use: a
 *   fingerprint algorithm other than sha-256, a transport other than
 *   UDP/TLS/RTP/SAVPF, a media kind other than audio, video, application.
 * @HQ_SDP_ERROR_INCONSISTENT: the parts disagree: BUNDLE names an unknown
 *   mid, two m-lines share a mid, apt names no codec, a payload type or
 *   extmap id is used twice, an answer says a=setup:actpass.
 * @HQ_SDP_ERROR_INVALID_ARGUMENT: a builder was asked for something it
 *   cannot make (no ICE credentials, a duplicate mid, answering an answer).
 */
typedef enum
{
  HQ_SDP_ERROR_NOT_SDP,
  HQ_SDP_ERROR_TOO_LARGE,
  HQ_SDP_ERROR_SYNTAX,
  HQ_SDP_ERROR_MISSING,
  HQ_SDP_ERROR_UNSUPPORTED,
  HQ_SDP_ERROR_INCONSISTENT,
  HQ_SDP_ERROR_INVALID_ARGUMENT,
} HqSdpError;

/* A stable short name for an HQ_SDP_ERROR code ("not_sdp", ...). */
const gchar *hq_sdp_error_name (gint code);

typedef enum
{
  HQ_SDP_OFFER,
  HQ_SDP_ANSWER,
} HqSdpType;

typedef enum
{
  HQ_SDP_KIND_AUDIO,
  HQ_SDP_KIND_VIDEO,
  HQ_SDP_KIND_APPLICATION,
} HqSdpKind;

typedef enum
{
  HQ_SDP_SENDRECV,
  HQ_SDP_SENDONLY,
  HQ_SDP_RECVONLY,
  HQ_SDP_INACTIVE,
} HqSdpDirection;

/* The DTLS role (RFC 4145 a=setup).  Offers say actpass; an answer picks
 * active (DTLS client) or passive (DTLS server). */
typedef enum
{
  HQ_SDP_SETUP_ACTPASS,
  HQ_SDP_SETUP_ACTIVE,
  HQ_SDP_SETUP_PASSIVE,
} HqSdpSetup;

const gchar *hq_sdp_kind_to_string (HqSdpKind kind);
const gchar *hq_sdp_direction_to_string (HqSdpDirection direction);
const gchar *hq_sdp_setup_to_string (HqSdpSetup setup);
/* The direction the other side sees: sendonly <-> recvonly. */
HqSdpDirection hq_sdp_direction_reverse (HqSdpDirection direction);

/**
 * HqSdpCodec:
 * @pt: RTP payload type, 0..127
 * @name: encoding name as written ("opus", "VP8", "H264", "red", ...)
 * @clock_rate: RTP clock rate in Hz
 * @channels: audio channels (0 when the rtpmap gives none, as for video)
 * @fmtp: the a=fmtp parameters ("minptime=10;useinbandfec=1"), or NULL
 * @rtcp_fb: (element-type utf8): a=rtcp-fb values without the payload
 *   type ("nack", "nack pli", "transport-cc", ...)
 * @rtx_pt: payload type of the RTX stream for this codec (its apt), or -1
 *
 * One payload format of an m-line.  RTX formats are not codecs of their
 * own: they appear as @rtx_pt of the codec they repair.
 */
typedef struct
{
  guint pt;
  gchar *name;
  guint clock_rate;
  guint channels;
  gchar *fmtp;
  GPtrArray *rtcp_fb;
  gint rtx_pt;
} HqSdpCodec;

HqSdpCodec *hq_sdp_codec_new (guint pt, const gchar *name, guint clock_rate,
    guint channels, const gchar *fmtp);
HqSdpCodec *hq_sdp_codec_copy (const HqSdpCodec *codec);
void hq_sdp_codec_free (HqSdpCodec *codec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HqSdpCodec, hq_sdp_codec_free)

/* The RTP caps of @codec in an m-line of @kind, as GStreamer's SDP library
 * makes them from the m-line (gst_sdp_media_get_caps_from_media):
 * "application/x-rtp" with media, payload, clock-rate, encoding-name,
 * encoding-params, each fmtp parameter and an rtcp-fb-* field per
 * feedback ("rtcp-fb-nack-pli").  What rtpbin's request-pt-map wants.
 * Caller owns the caps; NULL when GStreamer cannot describe the codec. */
GstCaps *hq_sdp_codec_get_caps (HqSdpKind kind, const HqSdpCodec *codec);

/* TRUE when @codec has the rtcp-fb value @fb ("nack pli"). */
gboolean hq_sdp_codec_has_fb (const HqSdpCodec *codec, const gchar *fb);
/* The value of fmtp parameter @key ("apt", "packetization-mode"), newly
 * allocated, or NULL when absent. */
gchar *hq_sdp_codec_get_param (const HqSdpCodec *codec, const gchar *key);

/**
 * HqSdpExtmap:
 * @id: extension id, 1..255 (1..14 for one-byte headers)
 * @uri: extension URI
 * @has_direction: whether the line named a direction
 * @direction: the direction when @has_direction
 */
typedef struct
{
  guint id;
  gchar *uri;
  gboolean has_direction;
  HqSdpDirection direction;
} HqSdpExtmap;

/**
 * HqSdpSsrc:
 * @ssrc: the SSRC
 * @cname: a=ssrc:N cname:, or NULL
 * @msid: a=ssrc:N msid: ("stream track"), or NULL
 */
typedef struct
{
  guint32 ssrc;
  gchar *cname;
  gchar *msid;
} HqSdpSsrc;

/**
 * HqSdpRid:
 * @id: the RID (RFC 8851): 1 to %HQ_SDP_MAX_RID_LEN letters, digits, '-'
 *   or '_'
 * @direction: %HQ_SDP_SENDONLY for "send", %HQ_SDP_RECVONLY for "recv"
 * @params: what follows the direction ("max-width=320;max-fps=15"), or
 *   NULL; kept as text, we neither enforce nor write restrictions
 *
 * One a=rid line: a simulcast layer of an m-line.
 */
typedef struct
{
  gchar *id;
  HqSdpDirection direction;
  gchar *params;
} HqSdpRid;

/* An a=ssrc-group:FID pair: RTX for @primary is sent with SSRC @rtx. */
typedef struct
{
  guint32 primary;
  guint32 rtx;
} HqSdpSsrcFid;

/**
 * HqSdpMedia:
 * @kind: audio, video or application (data channel)
 * @mid: the a=mid (never NULL in a parsed or built description)
 * @port: the m-line port; 0 means rejected (answer) or removed (offer)
 * @protocol: "UDP/TLS/RTP/SAVPF", or for application "UDP/DTLS/SCTP"
 * @app_formats: the m-line formats of an application m-line
 *   ("webrtc-datachannel"), NULL for audio and video
 * @direction: a=sendrecv/sendonly/recvonly/inactive (default sendrecv)
 * @rtcp_mux: a=rtcp-mux present
 * @rtcp_rsize: a=rtcp-rsize present
 * @codecs: (element-type HqSdpCodec): in m-line (preference) order
 * @extmaps: (element-type HqSdpExtmap)
 * @ssrcs: (element-type HqSdpSsrc): in order of first appearance
 * @fids: (element-type HqSdpSsrcFid): a=ssrc-group:FID pairs
 * @msid_stream: a=msid stream id ("-" for none), or NULL
 * @msid_track: a=msid track id, or NULL
 * @ice_ufrag: ICE username fragment (inherited from the session level
 *   when the m-line has none)
 * @ice_pwd: ICE password (inherited likewise)
 * @fingerprint_alg: "sha-256" (inherited likewise)
 * @fingerprint: uppercase colon-separated hex (inherited likewise)
 * @setup: DTLS role (inherited likewise)
 * @candidates: (element-type utf8): "candidate:..." strings, as
 *   RTCIceCandidate.candidate has them
 * @end_of_candidates: a=end-of-candidates present
 * @rids: (element-type HqSdpRid): the a=rid lines, in order
 * @simulcast: (element-type utf8): the RIDs of a=simulcast, in its order
 *   (lowest resolution first, as our protocol asks); empty when the
 *   m-line has no a=simulcast.  A paused RID ("~h") is listed without its
 *   '~'; only the first alternative of a "a,b" choice is kept.
 * @simulcast_direction: %HQ_SDP_SENDONLY (a=simulcast:send) or
 *   %HQ_SDP_RECVONLY (a=simulcast:recv) when @simulcast is not empty
 */
typedef struct
{
  HqSdpKind kind;
  gchar *mid;
  guint port;
  gchar *protocol;
  gchar *app_formats;
  HqSdpDirection direction;
  gboolean rtcp_mux;
  gboolean rtcp_rsize;
  GPtrArray *codecs;
  GPtrArray *extmaps;
  GPtrArray *ssrcs;
  GArray *fids;
  gchar *msid_stream;
  gchar *msid_track;
  gchar *ice_ufrag;
  gchar *ice_pwd;
  gchar *fingerprint_alg;
  gchar *fingerprint;
  HqSdpSetup setup;
  GPtrArray *candidates;
  gboolean end_of_candidates;
  GPtrArray *rids;
  GPtrArray *simulcast;
  HqSdpDirection simulcast_direction;
} HqSdpMedia;

HqSdpMedia *hq_sdp_media_new (HqSdpKind kind, const gchar *mid);
void hq_sdp_media_free (HqSdpMedia *media);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HqSdpMedia, hq_sdp_media_free)

/* Payload type lookups; NULL when absent. */
const HqSdpCodec *hq_sdp_media_find_codec (const HqSdpMedia *media, guint pt);
/* The first codec called @name (case-insensitive), or NULL. */
const HqSdpCodec *hq_sdp_media_find_codec_by_name (
    const HqSdpMedia *media, const gchar *name);
/* The id of the header extension @uri, or 0 when not negotiated. */
guint hq_sdp_media_extmap_id (const HqSdpMedia *media, const gchar *uri);
/* The RTX SSRC paired with @ssrc by a=ssrc-group:FID, or 0. */
guint32 hq_sdp_media_rtx_ssrc (const HqSdpMedia *media, guint32 ssrc);
/* The SSRCs that carry media (not RTX repair streams), in order.  Free
 * the array with g_array_unref(). */
GArray *hq_sdp_media_primary_ssrcs (const HqSdpMedia *media);
/* TRUE when the m-line is in use (port not 0). */
gboolean hq_sdp_media_is_active (const HqSdpMedia *media);
/* TRUE when the m-line has an a=simulcast (with its a=rid lines). */
gboolean hq_sdp_media_is_simulcast (const HqSdpMedia *media);
/* The a=rid line whose id is @rid, or NULL. */
const HqSdpRid *hq_sdp_media_find_rid (
    const HqSdpMedia *media, const gchar *rid);
/* The position of @rid in the a=simulcast list (0 = lowest layer), or -1
 * when it is not one of its layers. */
gint hq_sdp_media_simulcast_index (const HqSdpMedia *media, const gchar *rid);

/**
 * HqSdp:
 * @type: offer or answer (hq_sdp_parse() takes it from the caller)
 * @session_id: o= session id
 * @session_version: o= session version; a re-offer increments it
 * @ice_ufrag: session-level a=ice-ufrag, or NULL
 * @ice_pwd: session-level a=ice-pwd, or NULL
 * @ice_trickle: a=ice-options:trickle at session or any media level
 * @fingerprint_alg: session-level fingerprint algorithm, or NULL
 * @fingerprint: session-level fingerprint, or NULL
 * @has_setup: a session-level a=setup was present
 * @setup: session-level a=setup when @has_setup
 * @bundle: (element-type utf8): mids of the a=group:BUNDLE (empty: none)
 * @msid_semantic: a=msid-semantic value ("WMS" or "WMS s1 s2"), or NULL
 * @extmap_allow_mixed: a=extmap-allow-mixed present
 * @media: (element-type HqSdpMedia): the m-lines in order
 *
 * Session-level ICE and DTLS values are also copied into every m-line
 * that has none, so readers look only at HqSdpMedia.
 */
typedef struct
{
  HqSdpType type;
  guint64 session_id;
  guint64 session_version;
  gchar *ice_ufrag;
  gchar *ice_pwd;
  gboolean ice_trickle;
  gchar *fingerprint_alg;
  gchar *fingerprint;
  gboolean has_setup;
  HqSdpSetup setup;
  GPtrArray *bundle;
  gchar *msid_semantic;
  gboolean extmap_allow_mixed;
  GPtrArray *media;
} HqSdp;

HqSdp *hq_sdp_new (HqSdpType type);
void hq_sdp_free (HqSdp *sdp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HqSdp, hq_sdp_free)

/* Parses @text (@len bytes, or -1 when NUL-terminated) as an offer or
 * answer.  Returns the model, or NULL with @error set to an HQ_SDP_ERROR
 * saying what is wrong and where.  Never crashes on hostile input. */
HqSdp *hq_sdp_parse (
    HqSdpType type, const gchar *text, gssize len, GError **error);

/* Writes @sdp as SDP text (CRLF line ends) that Chromium and webrtcbin
 * accept. */
gchar *hq_sdp_to_text (const HqSdp *sdp);

/* The m-line whose mid is @mid, or NULL. */
HqSdpMedia *hq_sdp_find_media (const HqSdp *sdp, const gchar *mid);
/* The m-line that carries the transport: the first mid of the BUNDLE
 * group, else the first active m-line; NULL when none is active. */
const HqSdpMedia *hq_sdp_transport_media (const HqSdp *sdp);

/* The transport's ICE and DTLS parameters (from hq_sdp_transport_media());
 * NULL / ACTPASS when there is no active m-line. */
const gchar *hq_sdp_get_ice_ufrag (const HqSdp *sdp);
const gchar *hq_sdp_get_ice_pwd (const HqSdp *sdp);
const gchar *hq_sdp_get_fingerprint (const HqSdp *sdp);
HqSdpSetup hq_sdp_get_setup (const HqSdp *sdp);
/* All candidates of the transport m-line ("candidate:..."), in order;
 * the array belongs to @sdp. */
const GPtrArray *hq_sdp_get_candidates (const HqSdp *sdp);

/**
 * HqSdpLocal:
 * @ice_ufrag: our ICE username fragment (4..256 ice-chars)
 * @ice_pwd: our ICE password (22..256 ice-chars)
 * @fingerprint: SHA-256 fingerprint of our DTLS certificate, as
 *   colon-separated hex ("AB:CD:...", 32 bytes)
 * @setup: for answers: the role we take when the offer says actpass
 *   (PASSIVE makes us the DTLS server, which we prefer with browsers;
 *   ACTPASS means the same)
 * @session_id: o= session id of a new offer or answer; 0: random
 * @cname: RTCP CNAME for our SSRCs
 *
 * What both builders need about our side.
 */
typedef struct
{
  const gchar *ice_ufrag;
  const gchar *ice_pwd;
  const gchar *fingerprint;
  HqSdpSetup setup;
  guint64 session_id;
  const gchar *cname;
} HqSdpLocal;

/**
 * HqSdpTrack:
 * @kind: audio or video
 * @mid: the m-line's mid; NULL in an offer: the builder picks the next
 *   free number
 * @direction: what we want: send and receive, only send, only receive
 * @stream_id: msid stream id, or NULL for "-"
 * @track_id: msid track id; required when sending
 * @ssrc: our SSRC when sending, else 0
 * @rtx_ssrc: our RTX SSRC for video when sending, else 0
 * @rids: (array zero-terminated=1): for a video track we send as
 *   simulcast: its RIDs, lowest resolution first, at most
 *   %HQ_SDP_MAX_RIDS; NULL otherwise.  The offer then carries a=rid:<id>
 *   send lines, a=simulcast:send and the RID and repaired-RID header
 *   extensions, and @ssrc may be 0: the answerer learns each layer's SSRC
 *   from the RID extension of its packets.
 *
 * One transceiver on our side.
 */
typedef struct
{
  HqSdpKind kind;
  const gchar *mid;
  HqSdpDirection direction;
  const gchar *stream_id;
  const gchar *track_id;
  guint32 ssrc;
  guint32 rtx_ssrc;
  const gchar *const *rids;
} HqSdpTrack;

/* Our codec set for @kind, with our payload type numbers, fmtp and
 * rtcp-fb, as offered (a new array owning its codecs). */
GPtrArray *hq_sdp_default_codecs (HqSdpKind kind);
/* The extmap id our offers give the header extension @uri (the same in
 * every m-line, as one BUNDLE transport needs), or 0 for one we do not
 * offer.  An answer to our offer keeps it (RFC 8285 section 6), so a
 * sender can write the extension with this id before the answer comes. */
guint hq_sdp_offer_extmap_id (const gchar *uri);

/* Builds an offer with one m-line per track, our codec set, BUNDLE of all
 * active mids, rtcp-mux, rtcp-rsize and setup actpass.
 *
 * With @previous (our last offer, whose answer has been applied) it builds
 * a re-offer: same session id, version + 1, every m-line of @previous
 * stays in place; one whose mid no track names is removed (port 0,
 * inactive, out of BUNDLE, mid kept), except the BUNDLE tag (the first mid
 * of @previous's group), which stays inactive with its transport and first
 * in the group; a track with a new mid takes the slot of an m-line that was
 * already removed in @previous, or is appended.
 * Sets @error (INVALID_ARGUMENT) for a duplicate mid, a sending track
 * without track id or SSRC, or missing ICE/DTLS parameters. */
HqSdp *hq_sdp_build_offer (const HqSdpLocal *local, const HqSdpTrack *tracks,
    guint n_tracks, const HqSdp *previous, GError **error);

/* Builds an answer to @offer.  @tracks says per mid what we want to send
 * (a mid with no track: we only receive).  Per m-line: codecs we share
 * with the offer, keeping its payload type numbers, rtcp-fb we support and
 * its extmap ids for the extensions we support; direction from the offer's
 * and ours; m-lines we cannot use (data channel, no common codec) are
 * rejected with port 0 and keep their mid.  BUNDLE of accepted mids.
 * A video m-line offered with a=simulcast:send that we receive is
 * answered with a=rid:<id> recv for each of its layers and
 * a=simulcast:recv in the same order (RFC 8853), and with the RID and
 * repaired-RID extensions when offered (only on such an m-line). */
HqSdp *hq_sdp_build_answer (const HqSdp *offer, const HqSdpLocal *local,
    const HqSdpTrack *tracks, guint n_tracks, GError **error);

/* Makes @sdp a later version of @previous, our last description in the
 * same session: the same o= session id and a version one higher.  For
 * re-answers (hq_sdp_build_answer() starts a new session); re-offers get
 * it from hq_sdp_build_offer()'s @previous. */
void hq_sdp_continue_session (HqSdp *sdp, const HqSdp *previous);

G_END_DECLS

#endif /* __HQ_SDP_H__ */
