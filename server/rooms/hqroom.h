/* Rooms, the control plane's model of who is meeting where.
 *
 * HqRooms owns every room in progress; a room owns its participants
 * (connected, reconnecting or waiting in the lobby) and they own their
 * tracks' metadata.  Every state change is written to the store first,
 * then logged in the room's audit log, sent as a status callback and
 * announced to the participants as protocol messages (docs/protocol.md).
 * Completed rooms live only in the store.
 *
 * A participant talks to the world through an HqPeer: the signalling
 * connection implements it today; the SFU will attach its transports to the
 * same participant.  Everything runs on the main GMainContext.
 *
 * This header is the rooms' whole interface: it includes hqparticipant.h
 * (what participants do) and hqroomcore.h (the types, events and
 * observers), and adds the rooms themselves.
 */
#ifndef __HQ_ROOM_H__
#define __HQ_ROOM_H__

#include "hqconfig.h"
#include "hqparticipant.h"
#include "hqroomcore.h"
#include "hqsfu.h"
#include "hqstore.h"

G_BEGIN_DECLS

/* The protocol error code for an HQ_ROOM_ERROR ("room_full", ...). */
const gchar *hq_room_error_code (gint code);

/**
 * HqRoomParams:
 *
 * What POST /v1/Rooms asks for.  Zero fields take the defaults.
 */
typedef struct
{
  const gchar *unique_name; /* NULL: the sid */
  const gchar *type; /* NULL: the server's default */
  gint max_participants; /* 0: the type's cap */
  const gchar *status_callback;
  gint empty_room_timeout; /* minutes, 1..60; 0: 5 */
  gint unused_room_timeout; /* minutes, 1..60; 0: 5 */
  gint64 max_participant_duration; /* seconds, 600..86400; 0: 14400 */
  gboolean record_participants_on_connect;
  gboolean waiting_room;
} HqRoomParams;

/* Restores the rooms @store has in progress (their participants are
 * disconnected: their connections died with the previous process). */
HqRooms *hq_rooms_new (HqConfig *config, HqStore *store, GError **error);
void hq_rooms_free (HqRooms *rooms);
HqStore *hq_rooms_get_store (HqRooms *rooms);
HqConfig *hq_rooms_get_config (HqRooms *rooms);
HqCallbacks *hq_rooms_get_callbacks (HqRooms *rooms);
/* Appends the rooms' gauges (rooms, participants, published tracks) in
 * Prometheus' text format (docs/metrics.md). */
void hq_rooms_metrics (HqRooms *rooms, GString *out);

/* Stopping gracefully (docs/server.md, "Stopping"): from now on no new
 * participant joins (resumes still do), and everyone in a room hears
 * `server_draining` with the time the server stops, @deadline_ms (Unix
 * ms). */
void hq_rooms_drain (HqRooms *rooms, gint64 deadline_ms);
gboolean hq_rooms_is_draining (HqRooms *rooms);
/* Participants in rooms in progress: connected, reconnecting or waiting
 * (not the recorder, not chat-only members). */
guint hq_rooms_count_participants (HqRooms *rooms);

HqRoom *hq_rooms_create (
    HqRooms *rooms, const HqRoomParams *params, GError **error);
/* The room in progress with this sid or unique name, or NULL. */
HqRoom *hq_rooms_lookup (HqRooms *rooms, const gchar *sid_or_name);

const HqRoomRecord *hq_room_get_record (HqRoom *room);
/* Ends the room for @reason: everyone is told and disconnected, and @room
 * is freed. */
void hq_room_complete (HqRoom *room, HqRoomEndReason reason);
/* Disconnects a participant by REST (Status=disconnected); its identity
 * is banned from the room like a host's remove. */
gboolean hq_room_kick (
    HqRoom *room, const gchar *participant_sid, GError **error);

/* Media packets the room's SFU forwarded so far (0 when it has none). */
guint64 hq_room_forwarded_packets (HqRoom *room);
/* The room's SFU counters; all 0 when it has none. */
void hq_room_media_counters (HqRoom *room, HqSfuRoomCounters *out);

/* A host ends the room for everyone (`room_complete`): FALSE with
 * FORBIDDEN unless @host is an admitted host; else the room completes
 * (reason completed_by_host) and @host, like everyone, is gone. */
gboolean hq_participant_may_end_room (HqParticipant *host, GError **error);
void hq_participant_end_room (HqParticipant *host);

/* Every participant's connection closes (1001, "server shutting down");
 * the rooms stay in progress, for the next start.  hq_rooms_free does it
 * too; a server calls it first when something must finish in between
 * (recorders finishing their files). */
void hq_rooms_close_connections (HqRooms *rooms);

G_END_DECLS

#endif /* __HQ_ROOM_H__ */
