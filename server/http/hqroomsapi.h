/* The rooms REST API of hq-server, HTTP Basic with an API key:
 *
 *   POST /v1/Rooms                          create a room
 *   GET  /v1/Rooms                          list (Status, UniqueName, paged)
 *   GET  /v1/Rooms/{sid or unique name}     fetch
 *   POST /v1/Rooms/{sid}                    Status=completed ends it
 *   GET  /v1/Rooms/{sid}/Participants       list (Status, Identity, paged)
 *   GET  /v1/Rooms/{sid}/Participants/{sid} fetch
 *   POST /v1/Rooms/{sid}/Participants/{sid} Status=disconnected kicks
 *   ({sid} of a participant may be its identity, as Twilio allows)
 *   GET  /v1/Rooms/{sid}/Participants/{sid}/PublishedTracks[/{sid}]
 *   GET  /v1/Rooms/{sid}/Participants/{sid}/SubscribedTracks[/{sid}]
 *   GET/POST /v1/Rooms/{sid}/Participants/{sid}/SubscribeRules
 *   GET  /v1/Rooms/{sid}/Events             the room's audit log (paged)
 *   GET  /v1/Rooms/{sid}/Recordings[/{sid}[/Media]],
 *   GET/POST /v1/Rooms/{sid}/RecordingRules (hqrecordingsapi.h)
 *
 * Documented in docs/rooms.md.
 */
#ifndef __HQ_ROOMS_API_H__
#define __HQ_ROOMS_API_H__

#include <libsoup/soup.h>
#include "hqconfig.h"
#include "hqroom.h"
#include "hqrecordings.h"

G_BEGIN_DECLS

typedef struct
{
  HqConfig *config;
  HqRooms *rooms;
  HqRecordings *recordings;
} HqRoomsApi;

void hq_rooms_api_register (SoupServer *server, HqRoomsApi *api);

G_END_DECLS

#endif /* __HQ_ROOMS_API_H__ */
