/* bench/janus: Debian's Janus (videoroom plugin) as a second SFU for
 * bench-sfu --janus, driven by the same load generator as hq-server.
 *
 * Janus does not gather loopback ICE candidates, so the benchmark moves
 * itself into a network namespace of its own with a veth pair (v0
 * 10.99.0.1, v1 10.99.0.2) and starts Janus (nat.ice_enforce_list = v0)
 * and hq-server inside it.  Janus's checks and media from 10.99.0.1 never
 * reached the generator's sockets on 10.99.0.2 or 127.0.0.1, so the
 * generator's Janus transports gather on v0 as well: the selected pair is
 * 10.99.0.1 <-> 10.99.0.1, local delivery as on loopback.  The namespace has no name: it goes away
 * with the last process in it, so nothing is left behind on exit, also
 * not after an error (Janus dies with the benchmark: PR_SET_PDEATHSIG).
 *
 * Janus's own APIs on 127.0.0.1 inside the namespace: the HTTP API
 * (rooms, from the benchmark), the WebSocket API (one connection per
 * participant: create a session, attach janus.plugin.videoroom, join as a
 * publisher with an offer, attach again and join as a subscriber of
 * every other feed, start with the answer) and the Admin API (packet
 * counters). */
#ifndef __HQ_BENCH_JANUS_H__
#define __HQ_BENCH_JANUS_H__

#include "../tests/common/sfuclient.h"

G_BEGIN_DECLS

/* The interface the load generator's Janus transports gather on. */
#define HQ_JANUS_CLIENT_INTERFACE "v0"

/* Moves this process into a new network namespace with loopback up and
 * the veth pair.  Call first in main(), before any thread starts.  Needs
 * root (CAP_NET_ADMIN and CAP_SYS_ADMIN). */
gboolean hq_janus_enter_netns (GError **error);

typedef struct _HqJanus HqJanus;

/* Starts `janus` (or $HQ_JANUS_BIN) with a configuration written to a
 * fresh folder; returns once its HTTP API answers.  Its log goes to our
 * stderr when @keep_log. */
HqJanus *hq_janus_start (gboolean keep_log, GError **error);
void hq_janus_stop (HqJanus *janus);
/* "Janus 1.1.2" */
const gchar *hq_janus_version (HqJanus *janus);
/* The process, for hq_test_server_usage(): a server whose proc is set. */
HqTestServer *hq_janus_process (HqJanus *janus);
/* A videoroom for @publishers (Opus, VP8, no bitrate cap). */
gboolean hq_janus_create_room (
    HqJanus *janus, guint64 room, guint publishers, GError **error);
void hq_janus_destroy_room (HqJanus *janus, guint64 room);
/* RTP packets Janus sent to subscribers of @room so far (Admin API:
 * handle_info of every subscriber handle, packets-sent of its media). */
guint64 hq_janus_forwarded (HqJanus *janus, guint64 room);

typedef struct _HqJanusPart HqJanusPart;

/* A participant: connects, joins @room as a publisher with feed id
 * @index + 1 and publishes an audio and a video track.  Its media side is
 * @media (an HqSfuClient without signalling, hq_janus_media_new()), whose
 * transports it makes and whose fields it keeps as hq-server's client
 * does: pub, sub, payload types, `published` (once Janus said its
 * PeerConnection is up, "webrtcup"), `sub_mlines`. */
HqJanusPart *hq_janus_part_new (
    HqJanus *janus, guint64 room, HqSfuClient *media);
/* Subscribes to the feeds 1..@n other than its own (once all published). */
void hq_janus_part_subscribe (HqJanusPart *part, guint n);
void hq_janus_part_free (HqJanusPart *part);

/* An HqSfuClient with no server connection, for hq_janus_part_new(): the
 * same SSRCs and packet store as hq_sfu_client_new() makes.  Free with
 * hq_sfu_client_free() after the part. */
HqSfuClient *hq_janus_media_new (
    const gchar *room, const gchar *prefix, guint index, gboolean consent);

G_END_DECLS

#endif /* __HQ_BENCH_JANUS_H__ */
