/* Compositions: one playable file made from a completed room's track
 * recordings (Twilio's Compositions), as background jobs.
 *
 * POST /v1/Compositions stores a row `enqueued`; jobs run one at a time,
 * oldest first, each as an `hq-compose` child process (server/recording/hq-compose.c:
 * decode the selected track files, place video in a grid, mix audio,
 * encode to webm or mp4) writing <data dir>/compositions/<sid>.<format>.
 * The row goes `processing`, then `completed` (with duration and size) or
 * `failed` (with the reason).  Jobs a previous process left enqueued or
 * processing run again at start.  Status callbacks go to the composition's
 * own StatusCallback: composition-enqueued, composition-started,
 * composition-available, composition-failed.
 */
#ifndef __HQ_COMPOSITIONS_H__
#define __HQ_COMPOSITIONS_H__

#include <json-glib/json-glib.h>
#include "hqroom.h"

G_BEGIN_DECLS

typedef struct _HqCompositions HqCompositions;

/**
 * HqCompositionParams:
 * @room_sid: a completed group or group-small room
 * @audio_sources, @audio_sources_excluded: track names (or sids) with `*`
 *   wildcards; NULL: none
 * @video_layout: {"<region>": {"video_sources": [...],
 *   "video_sources_excluded": [...]}, ...}; NULL: no video
 * @resolution: "WxH" (NULL: 640x480), w*h at most 921600
 * @format: webm | mp4 (NULL: webm)
 * @status_callback: NULL: none
 */
typedef struct
{
  const gchar *room_sid;
  JsonArray *audio_sources;
  JsonArray *audio_sources_excluded;
  JsonObject *video_layout;
  const gchar *resolution;
  const gchar *format;
  const gchar *status_callback;
} HqCompositionParams;

HqCompositions *hq_compositions_new (HqRooms *rooms);
/* Stops a running job (it runs again at the next start). */
void hq_compositions_free (HqCompositions *compositions);

/* Validates and enqueues; returns the new row or NULL with an
 * HQ_ROOM_ERROR (INVALID, NOT_FOUND, STORE). */
HqCompositionRecord *hq_compositions_create (HqCompositions *compositions,
    const HqCompositionParams *params, GError **error);

JsonObject *hq_composition_to_json (
    const HqCompositionRecord *rec, const gchar *base);

G_END_DECLS

#endif /* __HQ_COMPOSITIONS_H__ */
