/* What the files of hqspeakerdetect (gsthqspeakerdetect.c,
 * hqspeakerdetect-decide.c) share: the instance structures and the
 * functions one file calls in the other.  Private to the plugin.
 */
#pragma once

#include "gsthqspeakerdetect.h"

#include <gst/audio/audio.h>
#include <hq/hqdsi.h>

G_BEGIN_DECLS

GST_DEBUG_CATEGORY_EXTERN (hq_speaker_detect_debug);

#define DEFAULT_DECISION_INTERVAL HQ_DSI_DEFAULT_DECISION_MS
#define DEFAULT_SILENCE_TIMEOUT 0
#define DEFAULT_ALGORITHM GST_HQ_SPEAKER_DETECT_ALGORITHM_DSI
#define DEFAULT_POST_LEVELS FALSE
#define LEVEL_DURATION (HQ_DSI_LEVEL_MS * GST_MSECOND)
/* How far behind the clock a live pad may fall before it counts as silent:
 * well above a jitter buffer's latency. */
#define LIVE_STALL ((GstClockTime)GST_SECOND)

/* One 20 ms level waiting for its decision. */
typedef struct
{
  GstClockTime running_time;
  gdouble mean_square;
} PendingLevel;

struct _GstHqSpeakerDetectPad
{
  GstPad parent;

  /* Set once at creation, then read-only. */
  GstPad *srcpad;
  guint32 id;

  /* Pad object lock: the participant names. */
  gchar *participant;
  gchar *tag_participant;

  /* Streaming thread only. */
  GstAudioInfo info;
  gboolean have_info;
  GstSegment segment;
  guint block_frames; /* frames per 20 ms */
  guint frames_in_block;
  gdouble block_sum;
  GstClockTime block_origin; /* running time of frame 0 of the run */
  guint64 run_frames; /* frames since block_origin */
  gdouble *scratch;
  gsize scratch_len;
  GArray *measured; /* of PendingLevel: this buffer's levels */
  gboolean live_checked;

  /* Element object lock: decision state. */
  GArray *pending; /* of PendingLevel, in time order */
  GstClockTime position; /* running time the data reached */
  gboolean eos;
  gboolean live; /* upstream said so in a latency query */
  gboolean in_dsi;
  gdouble interval_sum;
  guint interval_count;
};

struct _GstHqSpeakerDetect
{
  GstElement parent;

  /* Object lock. */
  HqDsi *dsi;
  GPtrArray *sinkpads; /* of GstHqSpeakerDetectPad, refs owned */
  guint decision_interval;
  guint silence_timeout;
  GstHqSpeakerDetectAlgorithm algorithm;
  gboolean post_levels;
  GstClockTime next_decision; /* running time; the first is one interval */
  gchar *dominant;
  GstClockID tick_id; /* while PLAYING with a clock */
};

/* gsthqspeakerdetect.c */
G_GNUC_INTERNAL guint hq_level_from_mean_square (gdouble mean_square);
G_GNUC_INTERNAL gchar *pad_dup_participant (GstHqSpeakerDetectPad *pad);

/* hqspeakerdetect-decide.c */
G_GNUC_INTERNAL GstHqSpeakerDetectPad *find_pad_locked (
    GstHqSpeakerDetect *self, guint32 id);
G_GNUC_INTERNAL void decide_locked (
    GstHqSpeakerDetect *self, GPtrArray *messages);
G_GNUC_INTERNAL void post_messages (
    GstHqSpeakerDetect *self, GPtrArray *messages);
G_GNUC_INTERNAL void pad_advance (GstHqSpeakerDetect *self,
    GstHqSpeakerDetectPad *pad, GArray *levels, GstClockTime position);

G_END_DECLS
