/* Recording in hq-server: which tracks a room records (its recording
 * rules), the recorder child process that records them, and the recording
 * rows (Twilio's Recording resources) it leaves in the store.
 *
 * A room records while its rules select at least one published audio or
 * video track.  Then the server runs `hq-record` (server/recording/hq-record.c) as a
 * child process: hqroomsrc ! hqrecorder mode=tracks, joined to the room as
 * a *hidden participant* with a token the server minted for that one run
 * (passed in the child's environment, never argv; docs/protocol.md,
 * "Recorder").  Nobody sees the hidden participant; the SFU offers it
 * exactly the tracks the rules select (hq_sfu_room_set_selection).  A row
 * per track is stored `processing` when the track is offered to the
 * recorder, and settled `completed` or `failed` from the recorder's
 * manifest (recording.json) when the run ends, however it ends: the server
 * watches the child with g_subprocess_wait_async, so a recorder crash ends
 * only its run, never the server or the room.  Rows a previous server
 * process left `processing` are settled the same way at start.
 *
 * Everything here runs on the main context.  No GStreamer in this process:
 * media work happens in the children.
 */
#ifndef __HQ_RECORDINGS_H__
#define __HQ_RECORDINGS_H__

#include <json-glib/json-glib.h>
#include <hq/hqtoken.h>
#include "hqconfig.h"
#include "hqroom.h"
#include "hqstore.h"

G_BEGIN_DECLS

/* The identity the recorder joins with (it is never shown to anyone). */
#define HQ_RECORDER_IDENTITY "hq-recorder"

typedef struct _HqRecordings HqRecordings;

/* Follows @rooms (hqroom.h: an HqRoomObserver, and the HqRoomRecording
 * the rooms ask), from the rooms already in progress on. */
HqRecordings *hq_recordings_new (HqRooms *rooms);
/* The server's base URL, where recorders join (set once it listens), and
 * over https the file of the certificate it serves (NULL: plain http). */
void hq_recordings_set_url (
    HqRecordings *recordings, const gchar *url, const gchar *tls_certificate);
/* Stops every recorder (SIGTERM) and waits for them to finish, so their
 * rows are settled before the store closes (before hq_rooms_free, after
 * hq_rooms_close_connections), and stops following the rooms. */
void hq_recordings_free (HqRecordings *recordings);

/* The room's rules as REST shows them: {"room_sid", "rules": [...],
 * "date_created", "date_updated"} (new). */
JsonObject *hq_recordings_get_rules (
    HqRecordings *recordings, HqRoom *room, const gchar *room_sid);
/* Replaces the rules of a room in progress (@rules: a JSON array of
 * {"type": "include"|"exclude", "all": true | "kind": "audio"|"video" |
 * "publisher": identity | "track": name}); FALSE with an error naming the
 * bad rule.  @host: the host who asked by signalling (recording_start,
 * recording_stop), NULL for REST; participants are told who it was. */
gboolean hq_recordings_set_rules (HqRecordings *recordings, HqRoom *room,
    JsonArray *rules, const HqParticipantRecord *host, GError **error);

/* A recording as REST shows it (new). */
JsonObject *hq_recording_to_json (
    const HqRecordingRecord *rec, const gchar *base);

/* The path of a helper program (hq-record, hq-compose): $HQ_<NAME>_BIN, or
 * next to the running hq-server. */
gchar *hq_helper_program_path (const gchar *name, const gchar *env);
/* The environment of a helper child: ours without the API key secrets. */
gchar **hq_helper_environment (void);

G_END_DECLS

#endif /* __HQ_RECORDINGS_H__ */
