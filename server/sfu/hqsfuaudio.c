/* Loudest-N audio: a room forwards a publisher's audio only while it is
 * among the room's loudest few speakers (HqSfu's loudest_audio, [media]
 * loudest_audio, 3 by default), as Jitsi's bridge does, so a room of 50
 * sends each subscriber a few audio streams instead of 49.
 *
 * Each audio packet's RFC 6464 level (the same one dominant speaker
 * detection reads) updates its track's loudness, 127 - level: it rises
 * at once to a louder level and falls by a quarter of the way per packet,
 * and it is 0 for levels of HQ_SFU_AUDIO_SILENT_LEVEL or quieter.  A
 * track is among the loudest when fewer than N other enabled audio tracks
 * of the room are louder and it is not silent, or when the room has no
 * more than N audio tracks at all (then nothing is held back).  While it
 * is, and for HQ_SFU_AUDIO_HANGOVER_US after, its packets go out: a new
 * speaker enters with its first loud packet (no first syllable lost), a
 * speaker who stops is heard to the end of the word.
 *
 * What is not judged: a packet without a level (a publisher that does not
 * send the extension) always goes out; the recorder gets every packet of
 * the tracks it records (hqsfuforward.c).  docs/sfu.md, "Loudest-N
 * audio", says why.
 *
 * Sequence numbers: a subscriber that was held back packets gets the next
 * one numbered right after the last it got, so its jitter buffer sees no
 * loss (no NACK, no concealment counted); timestamps keep their offset,
 * so the pause shows as the timestamp jump Opus DTX makes. */
#include "hqsfuaudio.h"

/* Per packet, the loudness moves this part of the way down to a quieter
 * level (a louder one it takes at once). */
#define LOUDNESS_FALL 0.25
#define MAX_LOUDNESS 127

/* @t's loudness now: 0 when its last level is stale. */
static gdouble
loudness_now (const HqSfuTrack *t, gint64 now)
{
  return now - t->loudness_us > HQ_SFU_AUDIO_FRESH_US ? 0 : t->loudness;
}

/* Whether @track is among the @n loudest of its room's audio tracks that
 * can be heard (enabled, sending), or the room has no more than @n. */
static gboolean
among_loudest (HqSfuTrack *track, guint n, gint64 now)
{
  GHashTableIter iter;
  gpointer value;
  guint audio = 0, louder = 0;

  g_hash_table_iter_init (&iter, track->publisher->media->tracks);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    HqSfuTrack *t = value;

    if (t->kind != HQ_SDP_KIND_AUDIO || !t->enabled || t->gone || !t->ssrc)
      continue;
    audio++;
    if (t != track && loudness_now (t, now) > track->loudness)
      louder++;
  }
  return audio <= n || (track->loudness > 0 && louder < n);
}

gboolean
hq_sfu_audio_audible (HqSfuTrack *track, gint level, gint64 now)
{
  guint n = track->publisher->media->room->sfu->loudest_audio;
  gdouble loud;

  if (n == 0 || level < 0)
    return TRUE;
  loud = level < HQ_SFU_AUDIO_SILENT_LEVEL ? MAX_LOUDNESS - level : 0;
  track->loudness = loudness_now (track, now);
  if (loud >= track->loudness)
    track->loudness = loud;
  else
    track->loudness += (loud - track->loudness) * LOUDNESS_FALL;
  /* What is left of a fall below the silence line is silence. */
  if (track->loudness < MAX_LOUDNESS - HQ_SFU_AUDIO_SILENT_LEVEL)
    track->loudness = 0;
  track->loudness_us = now;
  if (among_loudest (track, n, now))
    track->audible_until_us = now + HQ_SFU_AUDIO_HANGOVER_US;
  return now < track->audible_until_us;
}

gboolean
hq_sfu_audio_hold (HqSfuSub *sub)
{
  if (sub->started)
    sub->audio_held = TRUE;
  return sub->negotiated && hq_sfu_sub_up (sub->subscriber);
}

void
hq_sfu_audio_resume (HqSfuSub *sub, guint16 seq)
{
  if (!sub->audio_held)
    return;
  sub->audio_held = FALSE;
  sub->seq_delta = (guint16)(sub->last_seq + 1 - seq);
}

/* @p's counts, made at its first audio packet. */
static HqSfuAudioCounts *
counts_of (HqSfuParticipant *p)
{
  HqSfuRoom *room = p->media->room;

  if (p->audio_counts)
    return p->audio_counts;
  g_mutex_lock (&room->audio_lock);
  p->audio_counts = g_hash_table_lookup (room->audio_counts, p->sid);
  if (p->audio_counts == NULL) {
    p->audio_counts = g_new0 (HqSfuAudioCounts, 1);
    p->audio_counts->participant_sid = g_strdup (p->sid);
    g_hash_table_insert (
        room->audio_counts, p->audio_counts->participant_sid, p->audio_counts);
  }
  g_mutex_unlock (&room->audio_lock);
  return p->audio_counts;
}

void
hq_sfu_audio_count (HqSfuTrack *track, guint sent, guint held)
{
  HqSfuAudioCounts *c = counts_of (track->publisher);

  __atomic_add_fetch (&c->forwarded, sent, __ATOMIC_RELAXED);
  if (held == 0)
    return;
  __atomic_add_fetch (&c->silenced, held, __ATOMIC_RELAXED);
  __atomic_add_fetch (
      &track->publisher->media->room->silenced_audio, held, __ATOMIC_RELAXED);
}
