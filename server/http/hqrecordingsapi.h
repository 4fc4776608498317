/* The recordings and compositions REST API of hq-server, HTTP Basic with
 * an API key only (never an access token):
 *
 *   GET  /v1/Recordings                       list (RoomSid, Status, paged)
 *   GET  /v1/Recordings/{sid}                 fetch
 *   GET  /v1/Recordings/{sid}/Media           the track file (mka/mkv)
 *   GET  /v1/Rooms/{sid}/Recordings           a room's recordings (paged)
 *   GET  /v1/Rooms/{sid}/RecordingRules       the room's rules
 *   POST /v1/Rooms/{sid}/RecordingRules       Rules=[...] replaces them
 *   POST /v1/Compositions                     compose a completed room
 *   GET  /v1/Compositions                     list (RoomSid, Status, paged)
 *   GET  /v1/Compositions/{sid}               fetch
 *   GET  /v1/Compositions/{sid}/Media         the composed file
 *
 * The two /v1/Rooms paths are routed here by hqroomsapi.c.  Documented in
 * docs/recordings.md.
 */
#ifndef __HQ_RECORDINGS_API_H__
#define __HQ_RECORDINGS_API_H__

#include <libsoup/soup.h>
#include "hqconfig.h"
#include "hqroom.h"
#include "hqrecordings.h"

G_BEGIN_DECLS

typedef struct _HqRecordingsApi HqRecordingsApi;

/* Registers /v1/Recordings and /v1/Compositions on @soup and starts the
 * composition queue. */
HqRecordingsApi *hq_recordings_api_new (
    HqConfig *config, HqRooms *rooms, SoupServer *soup);
void hq_recordings_api_free (HqRecordingsApi *api);

/* GET /v1/Rooms/{sid}/Recordings for the stored room @room_sid, or with
 * @sid one of them, or with @media too its Media. */
void hq_recordings_api_room_recordings (SoupServerMessage *msg, HqRooms *rooms,
    const gchar *room_sid, const gchar *sid, gboolean media, const gchar *path,
    GHashTable *query);
/* GET or POST /v1/Rooms/{sid}/RecordingRules. */
void hq_recordings_api_room_rules (SoupServerMessage *msg, HqRooms *rooms,
    HqRecordings *recordings, const gchar *room_sid);

G_END_DECLS

#endif /* __HQ_RECORDINGS_API_H__ */
