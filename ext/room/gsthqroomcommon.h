/* What hqroomsrc and hqroomsink share around libhq's HqRoomClient: the
 * thread with its own GMainContext the client runs on, the access token
 * (property, HQ_ACCESS_TOKEN, or minted from HQ_API_KEY_SID/SECRET), room
 * events as element messages, and the client's errors as element errors.
 * The protocol itself lives in gst-libs/hq/hqroomclient.c. */
#ifndef __GST_HQ_ROOM_COMMON_H__
#define __GST_HQ_ROOM_COMMON_H__

#include <gst/gst.h>
#include <hq/hqroomclient.h>

G_BEGIN_DECLS

#define GST_HQ_ROOM_DEFAULT_SERVER "http://127.0.0.1:8844"
#define GST_HQ_ROOM_DEFAULT_RECONNECT_TIMEOUT_MS 30000

/**
 * GstHqRoomTrackPriority:
 * @GST_HQ_ROOM_TRACK_PRIORITY_LOW: "low"
 * @GST_HQ_ROOM_TRACK_PRIORITY_STANDARD: "standard"
 * @GST_HQ_ROOM_TRACK_PRIORITY_HIGH: "high"
 *
 * A track's priority (docs/protocol.md, Track priority); the nicks are the
 * protocol's names, the values the 0..2 the sink's pad property took as
 * an int before.
 */
typedef enum
{
  GST_HQ_ROOM_TRACK_PRIORITY_LOW,
  GST_HQ_ROOM_TRACK_PRIORITY_STANDARD,
  GST_HQ_ROOM_TRACK_PRIORITY_HIGH,
} GstHqRoomTrackPriority;

#define GST_TYPE_HQ_ROOM_TRACK_PRIORITY (gst_hq_room_track_priority_get_type ())
GType gst_hq_room_track_priority_get_type (void);
/* The protocol's name of @priority ("low", "standard", "high"). */
const gchar *gst_hq_room_track_priority_name (GstHqRoomTrackPriority priority);

/**
 * GstHqRoomIceTransportPolicy:
 * @GST_HQ_ROOM_ICE_TRANSPORT_POLICY_ALL: "all": every kind of candidate
 * @GST_HQ_ROOM_ICE_TRANSPORT_POLICY_RELAY: "relay": relayed candidates
 *   only, through the TURN servers the join reply names
 *
 * WebRTC's iceTransportPolicy for the element's transports.
 */
typedef enum
{
  GST_HQ_ROOM_ICE_TRANSPORT_POLICY_ALL,
  GST_HQ_ROOM_ICE_TRANSPORT_POLICY_RELAY,
} GstHqRoomIceTransportPolicy;

#define GST_TYPE_HQ_ROOM_ICE_TRANSPORT_POLICY                                  \
  (gst_hq_room_ice_transport_policy_get_type ())
GType gst_hq_room_ice_transport_policy_get_type (void);

/* The properties both elements have. */
typedef struct
{
  gchar *server;
  gchar *room;
  gchar *token;
  gchar *identity;
  guint reconnect_timeout_ms;
  GstHqRoomIceTransportPolicy ice_transport_policy;
  gboolean ice_udp;
  gboolean ice_tcp;
  gchar *tls_ca_file;
} GstHqRoomSettings;

void gst_hq_room_settings_init (GstHqRoomSettings *settings);
void gst_hq_room_settings_clear (GstHqRoomSettings *settings);
/* @dst gets its own copy of @src (to clear with the function above). */
void gst_hq_room_settings_copy (
    GstHqRoomSettings *dst, const GstHqRoomSettings *src);

/* The ids of those properties: each element's property enum goes on from
 * GST_HQ_ROOM_N_PROPS. */
enum
{
  GST_HQ_ROOM_PROP_SERVER = 1,
  GST_HQ_ROOM_PROP_ROOM,
  GST_HQ_ROOM_PROP_TOKEN,
  GST_HQ_ROOM_PROP_IDENTITY,
  GST_HQ_ROOM_PROP_RECONNECT_TIMEOUT,
  GST_HQ_ROOM_PROP_ICE_TRANSPORT_POLICY,
  GST_HQ_ROOM_PROP_ICE_UDP,
  GST_HQ_ROOM_PROP_ICE_TCP,
  GST_HQ_ROOM_PROP_TLS_CA_FILE,
  GST_HQ_ROOM_N_PROPS
};

/* Installs server, room, token, identity, reconnect-timeout,
 * ice-transport-policy, ice-udp, ice-tcp and tls-ca-file. */
void gst_hq_room_settings_install (GObjectClass *klass);
/* Set and get one of them, under the element's object lock; FALSE when
 * @prop_id is not one of them. */
gboolean gst_hq_room_settings_set (
    GstHqRoomSettings *settings, guint prop_id, const GValue *value);
gboolean gst_hq_room_settings_get (
    const GstHqRoomSettings *settings, guint prop_id, GValue *value);

/* Called on the client's thread right after the client is made, to
 * connect signals and set what it publishes, before it starts. */
typedef void (*GstHqRoomSetupFunc) (HqRoomClient *client, gpointer user_data);

typedef struct
{
  GstElement *element;
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  HqRoomClient *client; /* owned by the thread; set while it runs */
  GMutex lock;
  GCond cond;
  gboolean ready;
} GstHqRoomConnection;

void gst_hq_room_connection_init (GstHqRoomConnection *conn);
void gst_hq_room_connection_clear (GstHqRoomConnection *conn);

/* Resolves the token, makes the client on a new thread and starts it.
 * FALSE (with an element error posted) when the settings cannot work. */
gboolean gst_hq_room_connection_start (GstHqRoomConnection *conn,
    GstElement *element, const GstHqRoomSettings *settings, gboolean subscribe,
    GstHqRoomSetupFunc setup, gpointer user_data);
/* Leaves the room and ends the thread. */
void gst_hq_room_connection_stop (GstHqRoomConnection *conn);
/* Runs @func on the client's thread (no-op when not running); any
 * thread.  The _full form frees @data with @notify afterwards, or at once
 * when not running. */
void gst_hq_room_connection_invoke (
    GstHqRoomConnection *conn, GSourceFunc func, gpointer data);
void gst_hq_room_connection_invoke_full (GstHqRoomConnection *conn,
    GSourceFunc func, gpointer data, GDestroyNotify notify);

/* Posts the hq-* element message for the protocol message @type, if it
 * is one (see docs/hqroomsrc.md "Bus messages"). */
void gst_hq_room_post_event (
    GstElement *element, const gchar *type, JsonObject *msg);
/* hq-joined, hq-reconnecting. */
void gst_hq_room_post_joined (
    GstElement *element, JsonObject *joined, gboolean resumed);
void gst_hq_room_post_connection (GstElement *element, gboolean connected);
/* HqRoomClient's "media-changed" handler (connect it with the element as
 * data): posts hq-media-reconnecting or hq-media-restored. */
void gst_hq_room_on_media_changed (HqRoomClient *client, gint which,
    gboolean connected, const gchar *why, GstElement *element);
/* The client gave up: an element error that says why. */
void gst_hq_room_post_error (GstElement *element, const GError *error);

G_END_DECLS

#endif /* __GST_HQ_ROOM_COMMON_H__ */
