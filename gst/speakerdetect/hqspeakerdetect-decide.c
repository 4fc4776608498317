/* hqspeakerdetect's decisions: every decision interval, the levels the
 * pads measured are fed to the detector (libhq dsi) up to the running
 * time every pad has reached, and the dominant speaker and levels
 * messages are made under the element's object lock and posted outside
 * it.  See gsthqspeakerdetect.c for the pads and their threads.
 */
#include "gsthqspeakerdetect.h"
#include "hqspeakerdetect-private.h"

#include <math.h>
#include <stdio.h>
#include <gst/audio/audio.h>
#include <hq/hqdsi.h>

#define GST_CAT_DEFAULT hq_speaker_detect_debug

GstHqSpeakerDetectPad *
find_pad_locked (GstHqSpeakerDetect *self, guint32 id)
{
  for (guint i = 0; i < self->sinkpads->len; i++) {
    GstHqSpeakerDetectPad *pad = g_ptr_array_index (self->sinkpads, i);
    if (pad->id == id)
      return pad;
  }
  return NULL;
}

/* In a live pipeline, the running time up to which a pad that sends
 * nothing (a muted participant, Opus DTX) counts as silent: LIVE_STALL
 * behind the clock.  NONE when not live and PLAYING with a clock: files
 * wait for every pad, so their decisions never depend on thread timing. */
static GstClockTime
live_floor_locked (GstHqSpeakerDetect *self)
{
  GstClock *clock = GST_ELEMENT_CLOCK (self);
  GstClockTime now;
  gboolean live = FALSE;

  for (guint i = 0; i < self->sinkpads->len && !live; i++)
    live =
        ((GstHqSpeakerDetectPad *)g_ptr_array_index (self->sinkpads, i))->live;
  if (!live || clock == NULL || GST_STATE (self) != GST_STATE_PLAYING)
    return GST_CLOCK_TIME_NONE;
  now = gst_clock_get_time (clock);
  if (now < GST_ELEMENT_CAST (self)->base_time + LIVE_STALL)
    return 0;
  return now - GST_ELEMENT_CAST (self)->base_time - LIVE_STALL;
}

/* The running time every candidate pad has reached, or NONE while one of
 * them has no data yet. */
static GstClockTime
common_position_locked (GstHqSpeakerDetect *self, gboolean *any_open)
{
  GstClockTime common = GST_CLOCK_TIME_NONE;
  GstClockTime floor = live_floor_locked (self);

  *any_open = FALSE;
  for (guint i = 0; i < self->sinkpads->len; i++) {
    GstHqSpeakerDetectPad *pad = g_ptr_array_index (self->sinkpads, i);
    GstClockTime position = pad->position;

    if (pad->eos)
      continue;
    *any_open = TRUE;
    if (GST_CLOCK_TIME_IS_VALID (floor)
        && (!GST_CLOCK_TIME_IS_VALID (position) || position < floor))
      position = floor;
    if (!GST_CLOCK_TIME_IS_VALID (position))
      return GST_CLOCK_TIME_NONE;
    if (!GST_CLOCK_TIME_IS_VALID (common) || position < common)
      common = position;
  }
  return common;
}

/* Hands the pad's levels that end by @decision to the detector. */
static void
feed_levels_locked (
    GstHqSpeakerDetect *self, GstHqSpeakerDetectPad *pad, GstClockTime decision)
{
  guint n = 0;

  for (; n < pad->pending->len; n++) {
    PendingLevel *l = &g_array_index (pad->pending, PendingLevel, n);
    GError *error = NULL;

    if (l->running_time + LEVEL_DURATION > decision)
      break;
    pad->interval_sum += l->mean_square;
    pad->interval_count++;
    if (pad->in_dsi
        && !hq_dsi_push_level (self->dsi, pad->id,
            hq_level_from_mean_square (l->mean_square),
            l->running_time / GST_MSECOND, &error)) {
      GST_LOG_OBJECT (pad, "level not used: %s", error->message);
      g_clear_error (&error);
    }
  }
  g_array_remove_range (pad->pending, 0, n);
}

static GstMessage *
dominant_message_locked (
    GstHqSpeakerDetect *self, GstClockTime decision, GstHqSpeakerDetectPad *pad)
{
  gchar *participant = pad ? pad_dup_participant (pad) : NULL;
  GstStructure *s;

  s = gst_structure_new ("hq-dominant-speaker", "participant", G_TYPE_STRING,
      participant, "pad", G_TYPE_STRING, pad ? GST_OBJECT_NAME (pad) : NULL,
      "running-time", G_TYPE_UINT64, decision, "previous", G_TYPE_STRING,
      self->dominant, NULL);
  GST_INFO_OBJECT (self,
      "dominant speaker at %" GST_TIME_FORMAT ": %s "
      "(was %s)",
      GST_TIME_ARGS (decision), GST_STR_NULL (participant),
      GST_STR_NULL (self->dominant));
  g_free (self->dominant);
  self->dominant = participant;
  return gst_message_new_element (GST_OBJECT (self), s);
}

static void
array_append_string (GValue *array, const gchar *str)
{
  GValue v = G_VALUE_INIT;

  g_value_init (&v, G_TYPE_STRING);
  g_value_set_string (&v, str);
  gst_value_array_append_and_take_value (array, &v);
}

static GstMessage *
levels_message_locked (GstHqSpeakerDetect *self, GstClockTime decision)
{
  GValue pads = G_VALUE_INIT, participants = G_VALUE_INIT;
  GValue levels = G_VALUE_INIT;
  GstStructure *s;

  g_value_init (&pads, GST_TYPE_ARRAY);
  g_value_init (&participants, GST_TYPE_ARRAY);
  g_value_init (&levels, GST_TYPE_ARRAY);
  for (guint i = 0; i < self->sinkpads->len; i++) {
    GstHqSpeakerDetectPad *pad = g_ptr_array_index (self->sinkpads, i);
    GValue v = G_VALUE_INIT;
    gchar *participant = pad_dup_participant (pad);

    array_append_string (&pads, GST_OBJECT_NAME (pad));
    array_append_string (&participants, participant);
    g_free (participant);
    g_value_init (&v, G_TYPE_UINT);
    g_value_set_uint (&v,
        pad->interval_count ? hq_level_from_mean_square (
            pad->interval_sum / pad->interval_count)
                            : HQ_DSI_LEVEL_SILENCE);
    gst_value_array_append_and_take_value (&levels, &v);
  }
  s = gst_structure_new (
      "hq-speaker-levels", "running-time", G_TYPE_UINT64, decision, NULL);
  gst_structure_take_value (s, "pads", &pads);
  gst_structure_take_value (s, "participants", &participants);
  gst_structure_take_value (s, "levels", &levels);
  return gst_message_new_element (GST_OBJECT (self), s);
}

/* Makes every decision the data allows; the messages to post are appended
 * to @messages. */
void
decide_locked (GstHqSpeakerDetect *self, GPtrArray *messages)
{
  for (;;) {
    gboolean any_open, has_dominant;
    GstClockTime reached = common_position_locked (self, &any_open);
    GstClockTime decision = self->next_decision;
    guint32 id;

    if (!any_open || !GST_CLOCK_TIME_IS_VALID (reached) || reached < decision)
      return;

    for (guint i = 0; i < self->sinkpads->len; i++) {
      GstHqSpeakerDetectPad *pad = g_ptr_array_index (self->sinkpads, i);
      feed_levels_locked (self, pad, decision);
      /* An ended stream stays a candidate until its last data is used. */
      if (pad->eos && pad->in_dsi && pad->pending->len == 0
          && pad->position <= decision) {
        hq_dsi_remove_speaker (self->dsi, pad->id, NULL);
        pad->in_dsi = FALSE;
      }
    }
    if (hq_dsi_tick (self->dsi, decision / GST_MSECOND, &id, &has_dominant))
      g_ptr_array_add (messages,
          dominant_message_locked (self, decision,
              has_dominant ? find_pad_locked (self, id) : NULL));
    if (self->post_levels)
      g_ptr_array_add (messages, levels_message_locked (self, decision));
    for (guint i = 0; i < self->sinkpads->len; i++) {
      GstHqSpeakerDetectPad *pad = g_ptr_array_index (self->sinkpads, i);
      pad->interval_sum = 0;
      pad->interval_count = 0;
    }
    self->next_decision = decision + self->decision_interval * GST_MSECOND;
  }
}

void
post_messages (GstHqSpeakerDetect *self, GPtrArray *messages)
{
  gboolean changed = FALSE;

  for (guint i = 0; i < messages->len; i++) {
    GstMessage *m = g_ptr_array_index (messages, i);
    changed |= gst_message_has_name (m, "hq-dominant-speaker");
    gst_element_post_message (GST_ELEMENT (self), m);
  }
  if (changed)
    g_object_notify (G_OBJECT (self), "dominant-speaker");
  g_ptr_array_free (messages, TRUE);
}

/* Adds a pad's new levels and the position it reached, then decides. */
void
pad_advance (GstHqSpeakerDetect *self, GstHqSpeakerDetectPad *pad,
    GArray *levels, GstClockTime position)
{
  GPtrArray *messages = g_ptr_array_new ();

  GST_OBJECT_LOCK (self);
  if (levels && levels->len)
    g_array_append_vals (pad->pending, levels->data, levels->len);
  if (GST_CLOCK_TIME_IS_VALID (position)
      && (!GST_CLOCK_TIME_IS_VALID (pad->position) || position > pad->position))
    pad->position = position;
  decide_locked (self, messages);
  GST_OBJECT_UNLOCK (self);
  post_messages (self, messages);
}
