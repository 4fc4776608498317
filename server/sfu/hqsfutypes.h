/* The SFU's vocabulary, below every part of it: the handles, track
 * priorities, the configuration, the send callback and the counters.
 * hqsfu.h is the API on top; the worker's own files (hqsfustate.h and
 * what includes it) need only these words, not the API. */
#ifndef __HQ_SFU_TYPES_H__
#define __HQ_SFU_TYPES_H__

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _HqSfu HqSfu;
typedef struct _HqSfuRoom HqSfuRoom;

/**
 * HqSfuPriority:
 * @HQ_SFU_PRIORITY_LOW: "low"
 * @HQ_SFU_PRIORITY_STANDARD: "standard", the default
 * @HQ_SFU_PRIORITY_HIGH: "high"
 *
 * A track's publish priority (docs/protocol.md): when a subscriber cannot
 * take every video track at full rate, its bandwidth is shared in
 * proportion to the tracks' priority weights (docs/sfu.md, REMB policy).
 */
typedef enum
{
  HQ_SFU_PRIORITY_LOW,
  HQ_SFU_PRIORITY_STANDARD,
  HQ_SFU_PRIORITY_HIGH,
} HqSfuPriority;

/* The protocol's names: "low", "standard", "high".  _from_string() is
 * FALSE for anything else (NULL included) and leaves @priority alone. */
gboolean hq_sfu_priority_from_string (
    const gchar *text, HqSfuPriority *priority);
const gchar *hq_sfu_priority_to_string (HqSfuPriority priority);

/**
 * HqSfuConfig:
 * @workers: media threads (0: one per core)
 * @public_address: address announced in host candidates (1:1 NAT), or NULL
 * @port_min, @port_max: UDP port range for media (0: any); ICE-TCP's
 *   passive candidates listen on TCP ports of the same range
 * @ice_tcp: also offer ICE over TCP (passive candidates), for clients
 *   without UDP
 * @loudest_audio: forward audio only from the loudest this many speakers
 *   (with a hangover; docs/sfu.md, "Loudest-N audio"); 0: all audio
 * @room_shards: a room of this many participants or more spreads the
 *   subscribe transports of those who join later over all workers
 *   (docs/sfu.md, "Threads"); 0: never
 */
typedef struct
{
  guint workers;
  const gchar *public_address;
  guint port_min;
  guint port_max;
  gboolean ice_tcp;
  guint loudest_audio;
  guint room_shards;
} HqSfuConfig;

/**
 * HqSfuSendFunc:
 * @participant_sid: who gets @msg, or NULL for every participant of the
 *   room
 * @msg: a protocol message (borrowed)
 *
 * Called on the main context.
 */
typedef void (*HqSfuSendFunc) (
    gpointer user_data, const gchar *participant_sid, JsonObject *msg);

/* What a room's SFU did so far, in packets: forwarded to subscribers;
 * asked for again by subscribers' NACKs (each sequence number counts);
 * of those, sent again from the history; and asked of publishers because
 * the server never had them.  On a lossless network the last three stay
 * near 0: NACKs there are false alarms.  Audio packets not sent to a
 * subscriber because their publisher was not among the loudest count in
 * @silenced_audio (one per subscriber, as forwarded ones do);
 * @audio_publishers has both counts per publisher (HqSfuAudioCounts, a
 * copy: free it with hq_sfu_room_counters_clear()).  @forwarded_by_worker:
 * of the forwarded packets, how many each media worker's thread sent
 * (guint64, by worker index; more than one is non-zero when the room's
 * subscribers are spread over the workers). */
typedef struct
{
  guint64 forwarded;
  guint64 forwarded_audio; /* of those */
  guint64 forwarded_video;
  guint64 nacked;
  guint64 retransmitted;
  guint64 nacked_upstream;
  guint64 silenced_audio;
  GPtrArray *audio_publishers;
  GArray *forwarded_by_worker;
} HqSfuRoomCounters;

/* One publisher's audio so far: packets sent to subscribers, and not sent
 * because it was not among the loudest (hangover over). */
typedef struct
{
  gchar *participant_sid;
  guint64 forwarded; /* atomic while the SFU counts */
  guint64 silenced; /* atomic while the SFU counts */
} HqSfuAudioCounts;

G_END_DECLS

#endif /* __HQ_SFU_TYPES_H__ */
