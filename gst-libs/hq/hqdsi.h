/* Dominant speaker identification (DSI): which of N speakers holds the
 * floor, from one audio level per speaker per 20 ms.
 *
 * The algorithm is Volfin & Cohen, "Dominant speaker identification for
 * multipoint videoconferencing", Computer Speech & Language 27 (2013)
 * 895-910, with the parameters of the widely deployed implementation
 * described in reference/twilio-video.md:
 *
 * - Input is an RFC 6464 audio level (0..127 -dBov, 127 = silence) per
 *   speaker per 20 ms, turned into loudness 127 - level.  The last
 *   HQ_DSI_HISTORY (50, i.e. one second) loudness values are kept.
 * - Each speaker has a noise floor: it drops at once to any lower non-zero
 *   loudness, and rises only after HQ_DSI_FLOOR_WINDOW (750) values, to
 *   the geometric mean of the old floor and the smallest value of that
 *   window.  Loudness below floor + 10 counts as silence, so a noisy
 *   microphone does not look like speech.
 * - Three time scales.  Immediate: loudness / 10, one of 13 sub-bands
 *   (0..12), per 20 ms.  Medium: of each block of 5 immediates (100 ms),
 *   how many exceed 7 (0..5).  Long: of the last 10 mediums (1 s), how many
 *   exceed 4 (0..10).
 * - Speech activity score of one scale with n sub-units of which k are
 *   active: log C(n,k) + k log p + (n-k) log(1-p) - log(lambda) + lambda*k,
 *   p = 0.5, floored at 1e-10; (n, lambda) = (13, 0.78) immediate,
 *   (5, 24) medium, (10, 47) long.
 * - A decision on each tick (every 300 ms by default): a challenger replaces
 *   the dominant speaker when log(S_challenger / S_dominant) exceeds 3 for
 *   the immediate, 2 for the medium and 0 for the long scores; among
 *   several challengers the largest medium ratio wins.  So a speaker takes
 *   the floor only in a pause of the current one and only after speaking
 *   longer than a backchannel or a cough lasts.
 * - A speaker without a level for more than 40 ms is silent.  Optionally,
 *   after a silence timeout nobody is dominant.
 *
 * HQ_DSI_ALGORITHM_LOUDEST is the naive baseline kept for comparison: on
 * each tick the speaker with the highest mean loudness over the last tick
 * interval (above its noise floor) becomes dominant.
 *
 * Times are milliseconds on any clock the caller likes (stream running time
 * in hqspeakerdetect, arrival time in the SFU), as long as levels and ticks
 * use the same one.  Speakers are named by a caller-chosen 32-bit id (an
 * SSRC, a pad index).  An HqDsi is not thread-safe: one owner calls it.
 */
#ifndef __HQ_DSI_H__
#define __HQ_DSI_H__

#include <glib.h>

G_BEGIN_DECLS

/* Levels kept per speaker: one second of 20 ms levels. */
#define HQ_DSI_HISTORY 50
/* Duration of the audio one level describes, milliseconds. */
#define HQ_DSI_LEVEL_MS 20
/* Levels after which a rising noise floor is accepted (15 s). */
#define HQ_DSI_FLOOR_WINDOW 750
/* RFC 6464 level of silence (-127 dBov or quieter). */
#define HQ_DSI_LEVEL_SILENCE 127
/* Default interval between decisions, milliseconds. */
#define HQ_DSI_DEFAULT_DECISION_MS 300

#define HQ_DSI_ERROR (hq_dsi_error_quark ())
GQuark hq_dsi_error_quark (void);

/**
 * HqDsiError:
 * @HQ_DSI_ERROR_DUPLICATE_SPEAKER: a speaker with this id is already known.
 * @HQ_DSI_ERROR_UNKNOWN_SPEAKER: no speaker with this id was added (or it
 *   was removed).
 * @HQ_DSI_ERROR_INVALID_LEVEL: the level is above 127, which RFC 6464 does
 *   not allow; the caller's parser is wrong.
 * @HQ_DSI_ERROR_STALE_LEVEL: the level is older than one this speaker
 *   already gave (reordered packet) and was ignored.
 */
typedef enum
{
  HQ_DSI_ERROR_DUPLICATE_SPEAKER,
  HQ_DSI_ERROR_UNKNOWN_SPEAKER,
  HQ_DSI_ERROR_INVALID_LEVEL,
  HQ_DSI_ERROR_STALE_LEVEL,
} HqDsiError;

/**
 * HqDsiAlgorithm:
 * @HQ_DSI_ALGORITHM_DSI: Volfin & Cohen, as described above.
 * @HQ_DSI_ALGORITHM_LOUDEST: the loudest speaker of the last interval; a
 *   baseline that switches on every cough.
 */
typedef enum
{
  HQ_DSI_ALGORITHM_DSI,
  HQ_DSI_ALGORITHM_LOUDEST,
} HqDsiAlgorithm;

typedef struct _HqDsi HqDsi;

/* A detector with no speakers and nobody dominant. */
HqDsi *hq_dsi_new (HqDsiAlgorithm algorithm);
void hq_dsi_free (HqDsi *dsi);

/* After @timeout_ms without a loud level (above -47 dBov and the speaker's
 * noise floor) from anyone, the next tick makes nobody dominant, and nobody
 * is named until someone speaks loudly again.  0, the default, keeps the
 * last dominant speaker through any silence. */
void hq_dsi_set_silence_timeout (HqDsi *dsi, gint64 timeout_ms);

/* Starts tracking speaker @id.  Its history starts silent. */
gboolean hq_dsi_add_speaker (HqDsi *dsi, guint32 id, GError **error);

/* Stops tracking speaker @id.  When it was dominant, nobody is until the
 * next tick picks someone else, and that tick reports a change. */
gboolean hq_dsi_remove_speaker (HqDsi *dsi, guint32 id, GError **error);

/* Records speaker @id's RFC 6464 @level (0 = 0 dBov, loudest; 127 =
 * silence) for the 20 ms that start at @time_ms.  Levels of one speaker
 * must come in time order; a gap longer than 40 ms counts as silence. */
gboolean hq_dsi_push_level (
    HqDsi *dsi, guint32 id, guint level, gint64 time_ms, GError **error);

/* Decides who is dominant at @time_ms (call every decision interval, 300
 * ms by default, with levels up to @time_ms pushed).  Returns TRUE when
 * the dominant speaker changed; then *@dominant (if not NULL) is the new
 * one and *@has_dominant (if not NULL) FALSE when nobody is. */
gboolean hq_dsi_tick (
    HqDsi *dsi, gint64 time_ms, guint32 *dominant, gboolean *has_dominant);

/* The current dominant speaker.  Returns FALSE when there is none. */
gboolean hq_dsi_get_dominant (const HqDsi *dsi, guint32 *id);

/* Number of speakers tracked. */
guint hq_dsi_get_n_speakers (const HqDsi *dsi);

G_END_DECLS

#endif /* __HQ_DSI_H__ */
