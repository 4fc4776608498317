/* hqrooms bandwidth profiles and track hints (docs/protocol.md,
 * "Simulcast and bandwidth profiles"): Twilio's Bandwidth Profile API as
 * the `bandwidth_profile` and `track_hints` requests carry it, with typed
 * readers that refuse a bad value with `invalid_field` naming it, and the
 * names of the switch-off reasons of `track_switched_off`.
 *
 * The one C definition of these names, used by the server (which obeys
 * them) and by clients written on libhq (which send them).  Plain data:
 * the server reads a request on its control thread and hands the SFU the
 * structs, never the JSON.
 */
#ifndef __HQ_BW_PROFILE_H__
#define __HQ_BW_PROFILE_H__

#include <glib.h>
#include <json-glib/json-glib.h>
#include "hqprotocol.h"

G_BEGIN_DECLS

/* Most entries one `track_hints` request may carry, and the largest
 * render dimension. */
#define HQ_TRACK_HINTS_MAX 100
#define HQ_RENDER_DIMENSION_MAX 16384
/* The smallest cap `max_subscription_bitrate` takes (0 is no cap). */
#define HQ_MAX_SUBSCRIPTION_BITRATE_MIN 50000
#define HQ_MAX_SUBSCRIPTION_BITRATE_MAX 100000000

typedef enum
{
  HQ_BW_MODE_GRID,
  HQ_BW_MODE_COLLABORATION,
  HQ_BW_MODE_PRESENTATION,
} HqBwMode;

typedef enum
{
  HQ_SWITCH_OFF_PREDICTED,
  HQ_SWITCH_OFF_DETECTED,
  HQ_SWITCH_OFF_DISABLED,
} HqSwitchOffMode;

typedef enum
{
  HQ_CONTROL_AUTO,
  HQ_CONTROL_MANUAL,
} HqControlMode;

/* Why a track is not forwarded to a subscriber (`track_switched_off`'s
 * `reason`); NONE: it is forwarded. */
typedef enum
{
  HQ_SWITCH_OFF_NONE,
  HQ_SWITCH_OFF_BY_SUBSCRIBER,
  HQ_SWITCH_OFF_BY_PUBLISHER,
  HQ_SWITCH_OFF_MAX_BANDWIDTH,
  HQ_SWITCH_OFF_CONGESTION,
} HqSwitchOffReason;

/**
 * HqBandwidthProfile:
 * @mode: how a subscriber's bandwidth is shared between its video tracks
 * @dominant_speaker_priority: the priority of the dominant speaker's video
 * @max_subscription_bitrate: bits per second for all video, 0: no cap
 * @track_switch_off_mode: whether tracks are switched off for bandwidth
 * @client_track_switch_off_control: `track_hints` `enabled` control
 * @content_preferences_mode: `track_hints` `render_dimensions` control
 *
 * The `video` object of `bandwidth_profile`.
 */
typedef struct
{
  HqBwMode mode;
  HqPriority dominant_speaker_priority;
  guint64 max_subscription_bitrate;
  HqSwitchOffMode track_switch_off_mode;
  HqControlMode client_track_switch_off_control;
  HqControlMode content_preferences_mode;
} HqBandwidthProfile;

/* The profile a subscriber starts with: collaboration, standard, no cap,
 * predicted, auto, auto. */
void hq_bandwidth_profile_init (HqBandwidthProfile *profile);
/* Applies the fields @video names to *@profile.  On a bad value *@profile
 * is left as it was and @error is `invalid_field` naming the field
 * ("video.mode must be grid, collaboration or presentation, not "big"."). */
gboolean hq_bandwidth_profile_read (
    JsonObject *video, HqBandwidthProfile *profile, GError **error);
/* The whole profile as the `video` object of the reply (new). */
JsonObject *hq_bandwidth_profile_to_json (const HqBandwidthProfile *profile);

/* "disabled-by-subscriber", ...; NULL for NONE. */
const gchar *hq_switch_off_reason_name (HqSwitchOffReason reason);
/* "grid", "predicted", "auto", ... */
const gchar *hq_bw_mode_name (HqBwMode mode);
const gchar *hq_switch_off_mode_name (HqSwitchOffMode mode);
const gchar *hq_control_mode_name (HqControlMode mode);

/**
 * HqTrackHint:
 * @track_sid: the track
 * @has_enabled: the hint says `enabled`
 * @enabled: its value
 * @has_render: the hint says `render_dimensions`
 * @width: rendered width, or 0 when `render_dimensions` was null (forget)
 * @height: rendered height, likewise
 *
 * One entry of `track_hints`.
 */
typedef struct
{
  gchar track_sid[40];
  gboolean has_enabled;
  gboolean enabled;
  gboolean has_render;
  guint width;
  guint height;
} HqTrackHint;

/* Reads `track_hints`' @hints into a new array of HqTrackHint, or NULL
 * with @error `invalid_field` naming the entry and field. */
GArray *hq_track_hints_read (JsonArray *hints, GError **error);

G_END_DECLS

#endif /* __HQ_BW_PROFILE_H__ */
