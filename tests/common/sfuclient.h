/* A real hq-server process and minimal protocol clients on libhq, for the
 * SFU's C tests and bench/sfu: WebSocket signalling, SDP, ICE/DTLS/SRTP
 * transports on loopback.
 *
 * A client joins a room, publishes an audio and a video track, answers
 * every subscribe_offer and trickles candidates.  Packets it sends carry
 * their send time (monotonic microseconds) two bytes into the payload,
 * after a VP8 descriptor that starts a keyframe, so subscribers never wait
 * for one.  It keeps the last packets it sent for answering NACKs, and
 * counts what its subscribe transport receives; the test or bench adds its
 * own handlers for packets and messages. */
#ifndef __HQ_SFU_CLIENT_H__
#define __HQ_SFU_CLIENT_H__

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>
#include <hq/hqsdp.h>
#include <hq/hqtransport.h>

G_BEGIN_DECLS

typedef struct
{
  GSubprocess *proc;
  gchar *data_dir;
  gchar *url;
  gchar *key_sid, *key_secret, *account_sid;
  SoupSession *http;
} HqTestServer;

/* Starts @bin on 127.0.0.1 with a fresh data directory; its log goes to
 * our stderr when @keep_log. */
HqTestServer *hq_test_server_start (const gchar *bin, gboolean keep_log);
void hq_test_server_stop (HqTestServer *server);
/* hq_test_server_start() of $HQ_SERVER_BIN (its log kept with
 * $HQ_TEST_SERVER_LOG) with a group room @room made by REST, and the
 * server's API key in the environment, where the room elements mint their
 * tokens from ($HQ_ACCESS_TOKEN unset). */
HqTestServer *hq_test_server_start_room (const gchar *room);
/* A REST call with the server's API key; the body, or NULL. */
gchar *hq_test_server_rest (HqTestServer *server, const gchar *method,
    const gchar *path, const gchar *form);
/* CPU seconds and resident memory (kB) of the server process. */
void hq_test_server_usage (HqTestServer *server, gdouble *cpu, gint64 *rss_kb);

typedef struct _HqSfuClient HqSfuClient;

typedef void (*HqSfuClientMessageFunc) (
    HqSfuClient *client, const gchar *type, JsonObject *msg, gpointer data);

#define HQ_SFU_CLIENT_KEEP 256 /* packets kept per kind for NACKs */

struct _HqSfuClient
{
  HqTestServer *server;
  guint index;
  gchar *identity;
  gchar *room;
  gboolean consent;
  SoupWebsocketConnection *ws;
  HqTransport *pub, *sub;
  gchar *audio_sid, *video_sid;
  guint32 audio_ssrc, video_ssrc;
  guint audio_pt, video_pt;
  guint16 aseq, vseq;
  /* When set, packets carry a transport-wide sequence number (extension
   * id @twcc_id, numbers from @twcc_seq on). */
  guint twcc_id;
  guint16 twcc_seq;
  guint sub_mlines; /* m-lines carrying a track in the last subscribe offer */
  gboolean published;
  guint ping_timer; /* the protocol's keepalive `ping` */
  /* Sent packets, by sequence number modulo HQ_SFU_CLIENT_KEEP. */
  guint8 (*kept)[1500];
  gsize *kept_len;
  guint8 buf[1500 + HQ_SRTP_MAX_TRAILER];
  /* Optional handlers, called after the client's own handling. */
  HqTransportReceiveFunc on_sub_packet;
  HqTransportReceiveFunc on_pub_packet;
  HqSfuClientMessageFunc on_message;
  gpointer user_data;
  /* Simulcast (set right after hq_sfu_client_new()): the video track is
   * published as three RID layers, "q", "h", "f" (320x180, 640x360,
   * 1280x720), without a=ssrc, each packet carrying the MID and RID
   * extensions; hq_sfu_client_send_layer() sends them. */
  gboolean simulcast;
  guint32 layer_ssrc[3];
  guint16 layer_seq[3];
  guint32 layer_ts_base[3]; /* each layer's own random RTP time offset */
  guint mid_ext_id, rid_ext_id, rrid_ext_id; /* as answered */
  gint video_rtx_pt; /* as answered, -1: none */
  guint16 rtx_seq;
};

/* The payload of a layer packet starts with a VP8 descriptor and frame
 * header; at HQ_SFU_CLIENT_LAYER_MARK come "SIM" and the layer's index, so
 * a subscriber can tell which layer the server forwards; at
 * HQ_SFU_CLIENT_LAYER_SENT the send time (monotonic microseconds, host
 * order) and at HQ_SFU_CLIENT_LAYER_FROM the publisher's index (16 bits,
 * network order), so it can tell whose and how late.  Layer payloads are
 * at least HQ_SFU_CLIENT_LAYER_MIN bytes. */
#define HQ_SFU_CLIENT_LAYER_MARK 16
#define HQ_SFU_CLIENT_LAYER_SENT 20
#define HQ_SFU_CLIENT_LAYER_FROM 28
#define HQ_SFU_CLIENT_LAYER_MIN 30

/* Connects, joins @room as "@prefix-@index" and publishes.  @consent:
 * ICE consent freshness on its transports. */
HqSfuClient *hq_sfu_client_new (HqTestServer *server, const gchar *room,
    const gchar *prefix, guint index, gboolean consent);
void hq_sfu_client_free (HqSfuClient *client);
/* Published, both transports connected and at least @mlines m-lines
 * subscribed. */
gboolean hq_sfu_client_ready (HqSfuClient *client, guint mlines);
/* Builds the next audio or video packet with @payload_len payload bytes,
 * keeps it, and sends it unless @drop (a loss before the server).
 * Returns its sequence number; FALSE in *@sent when it was not sent. */
guint16 hq_sfu_client_send (HqSfuClient *client, gboolean video,
    gsize payload_len, gboolean drop, gboolean *sent);
/* Sends the next audio packet as hq_sfu_client_send() does, with the
 * RFC 6464 audio level @level (0: 0 dBov, loudest; 127: silence) in the
 * header extension our offers announce, as browsers and hqroomsink send
 * it; after the send time its payload carries the client's index (16
 * bits, network order) when @payload_len is 12 or more.  Returns its
 * sequence number. */
guint16 hq_sfu_client_send_audio_level (
    HqSfuClient *client, gsize payload_len, guint level);
/* Sends a packet of simulcast layer @layer (0..2) of the frame captured
 * at @capture_us (monotonic): @payload_len bytes, starting a frame when
 * @frame_start, with a VP8 keyframe header of the layer's size when
 * @keyframe (and @frame_start); not sent when @drop (a loss before the
 * server).  Returns its sequence number. */
guint16 hq_sfu_client_send_layer (HqSfuClient *client, guint layer,
    gint64 capture_us, gsize payload_len, gboolean frame_start,
    gboolean keyframe, gboolean drop);
/* Sends again, as RTX (RFC 4588) on the layer's RTX SSRC (its SSRC +
 * 0x100) with the repaired-RID extension, the packet
 * hq_sfu_client_send_layer() sent as @seq with these arguments. */
gboolean hq_sfu_client_send_layer_rtx (HqSfuClient *client, guint layer,
    gint64 capture_us, gsize payload_len, gboolean frame_start,
    gboolean keyframe, guint16 seq);
/* The RTP time of @capture_us on layer @layer's clock. */
guint32 hq_sfu_client_layer_ts (
    HqSfuClient *client, guint layer, gint64 capture_us);
/* Reads the server's RTCP @data to a simulcast publisher: sets
 * @wanted[layer] for each layer its PLIs ask a keyframe of.  Returns how
 * many PLIs named a layer. */
guint hq_sfu_client_read_layer_plis (
    HqSfuClient *client, const guint8 *data, gsize len, gboolean wanted[3]);
/* Sends a sender report for layer @layer: now on the wall clock, and the
 * RTP time of @capture_us on the layer's clock. */
gboolean hq_sfu_client_send_layer_sr (
    HqSfuClient *client, guint layer, gint64 capture_us);
/* Reads a `publish_layers` @msg about a q, h, f track into @active;
 * FALSE (and @active untouched) when it names other layers. */
gboolean hq_sfu_client_read_publish_layers (
    JsonObject *msg, gboolean active[3]);
/* Sends a kept video packet again, as it was (no RTX). */
gboolean hq_sfu_client_resend_video (HqSfuClient *client, guint16 seq);
/* Sends RTCP on the publish (@publish) or subscribe transport. */
gboolean hq_sfu_client_send_rtcp (
    HqSfuClient *client, gboolean publish, const guint8 *data, gsize len);
/* Sends a protocol message (consumes @msg). */
void hq_sfu_client_send_message (HqSfuClient *client, JsonObject *msg);
/* Reads the server's RTCP @data to a publisher: the bitrate of its last
 * REMB in *@remb_bps (left alone when there is none), and the sequence
 * numbers its NACKs ask of @media_ssrc, appended to @nacked (guint16; NULL:
 * not wanted).
 * Returns how many REMBs it held. */
guint hq_sfu_client_read_feedback (const guint8 *data, gsize len,
    guint32 media_ssrc, guint64 *remb_bps, GArray *nacked);

/* In a detailed `network_quality` @msg, the figures of @identity's own
 * entry for @dir ("send", "recv") and @kind ("audio", "video"); NULL when
 * it has none. */
JsonObject *hq_sfu_client_quality_stats (JsonObject *msg, const gchar *identity,
    const gchar *dir, const gchar *kind);

G_END_DECLS

#endif /* __HQ_SFU_CLIENT_H__ */
