/* Loudest-N audio: which audio packets go to subscribers.  Worker only.
 * See hqsfuaudio.c. */
#ifndef __HQ_SFU_AUDIO_H__
#define __HQ_SFU_AUDIO_H__

#include "hqsfustate.h"

G_BEGIN_DECLS

/* Levels this quiet or quieter (RFC 6464, -dBov) are silence. */
#define HQ_SFU_AUDIO_SILENT_LEVEL 80
/* How long a track's packets still go out after it was last among the
 * loudest, so the ends of words are not clipped. */
#define HQ_SFU_AUDIO_HANGOVER_US (1000 * 1000)
/* A track's loudness older than this counts as silence (DTX, mute). */
#define HQ_SFU_AUDIO_FRESH_US (150 * 1000)

/* Whether this packet of audio track @track, with RFC 6464 level @level
 * (-1: the packet has none), goes to @track's subscribers; updates the
 * track's loudness.  Always TRUE when the room forwards all audio or the
 * packet has no level. */
gboolean hq_sfu_audio_audible (HqSfuTrack *track, gint level, gint64 now);
/* @sub is not sent a packet of its audio track: the next one it is sent
 * continues its sequence.  TRUE when it would have been sent. */
gboolean hq_sfu_audio_hold (HqSfuSub *sub);
/* Before @sub is sent its track's packet with sequence number @seq: when
 * packets were held back, the sequence goes on from the last one sent. */
void hq_sfu_audio_resume (HqSfuSub *sub, guint16 seq);
/* Counts @sent and @held packets of @track's publisher (REST). */
void hq_sfu_audio_count (HqSfuTrack *track, guint sent, guint held);

G_END_DECLS

#endif /* __HQ_SFU_AUDIO_H__ */
