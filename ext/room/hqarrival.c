/* Arrival times of a subscriber's RTP packets, steady from a stream's first
 * packet.
 *
 * rtpjitterbuffer times a stream by its first packet's arrival and then
 * learns how late that packet was: it follows the least (arrival - RTP
 * time) of a 2 s window, quickly while the window fills, then by 1/125 a
 * packet.  When a stream starts, its first packets come in a burst (the
 * subscriber, or the server, was busy with the new subscription: in the
 * sanitizer build, 400 ms of media within 2 ms), so the first packet is
 * hundreds of ms late and each stream's timing moves by that much over its
 * first seconds, audio and video at different paces.  rtpbin lines the two
 * up by the sender reports, but each report only holds for the timing at
 * that instant, and a packet's time is taken at its arrival while the
 * offset that lines it up is applied when it leaves the jitter buffer:
 * the first marks were up to 96 ms apart.
 *
 * So a stream's first packets are held for @hold (arrival time) and then
 * stamped as if they had come with the least delay seen meanwhile: the
 * jitter buffer starts from the timing it would otherwise take seconds to
 * learn, and has nothing left to move.  Later packets pass at once with
 * their real arrival time.  Held packets keep their order; a packet that
 * came with the least delay keeps its arrival time, the others get an
 * earlier one (never a later one).
 *
 * The same after a stall: when the subscriber gets no CPU for longer than
 * the jitter buffer's latency, the packets meanwhile come in a burst, and
 * a jitter buffer that sees a packet later than its timestamp plus the
 * latency starts its timing anew from that late packet, and learns the
 * delay again for seconds, each stream at its own pace.  So a packet that
 * comes more than @late after the least delay (allowed to rise by 1 ms a
 * second, for clock drift) is stamped @late after it: the jitter buffer
 * keeps its timing, and plays such a packet late or not at all, as it
 * would any late packet.  Only when packets stay that late for a second
 * (the path really got slower), or one comes over a second late (a new
 * timeline, which the jitter buffer takes up at once too), does the least
 * delay follow, and the jitter buffer with it.  A @late of 0 turns this
 * off. */
#include "hqarrival.h"

/* how long packets must stay late before the least delay follows them */
#define FOLLOW_AFTER GST_SECOND

/* beyond this many packets the hold ends early (a burst this large is
 * several seconds of video) */
#define MAX_HELD 512

typedef struct
{
  GstBuffer *buf;
  gint64 media; /* ns of RTP time since the stream's first packet */
} Held;

typedef struct
{
  guint32 ssrc;
  gboolean passing; /* the hold is over */
  GstClockTime first; /* arrival of the first packet */
  guint32 last_rtptime; /* the latest RTP timestamp */
  gint64 last_ticks; /* its RTP time since the first packet */
  gint64 least_delay; /* least (arrival - media) seen */
  GstClockTime least_at; /* when it was seen */
  GQueue held; /* of Held */
  GstClockTime late_since; /* first of the late packets in a row */
  gint64 late_least; /* the least delay among those */
} Stream;

struct _HqArrival
{
  GstClockTime hold;
  GstDebugCategory *cat;
  GHashTable *streams; /* ssrc -> Stream */
};

static void
held_free (gpointer data)
{
  Held *h = data;

  gst_buffer_unref (h->buf);
  g_free (h);
}

static void
stream_free (gpointer data)
{
  Stream *s = data;

  g_queue_clear_full (&s->held, held_free);
  g_free (s);
}

HqArrival *
hq_arrival_new (GstClockTime hold, GstDebugCategory *cat)
{
  HqArrival *self = g_new0 (HqArrival, 1);

  self->hold = hold;
  self->cat = cat;
  self->streams = g_hash_table_new_full (NULL, NULL, NULL, stream_free);
  return self;
}

void
hq_arrival_free (HqArrival *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->streams);
  g_free (self);
}

static void
stamp (GstBuffer *buf, GstClockTime t)
{
  GST_BUFFER_DTS (buf) = GST_BUFFER_PTS (buf) = t;
}

/* The RTP time of @rtptime after the stream's first packet, in ns
 * (negative for a packet that came out of order before it), across
 * wrap-arounds of the 32-bit timestamp. */
static gint64
media_time (Stream *s, guint32 rtptime, guint clock_rate)
{
  gint64 ticks = s->last_ticks + (gint32)(rtptime - s->last_rtptime);
  gint64 ns = (gint64)gst_util_uint64_scale_int (
      (guint64)ABS (ticks), GST_SECOND, (gint)clock_rate);

  if (ticks > s->last_ticks) {
    s->last_ticks = ticks;
    s->last_rtptime = rtptime;
  }
  return ticks < 0 ? -ns : ns;
}

static void
release (GstDebugCategory *cat, Stream *s, GstClockTime now, GQueue *ready)
{
  Held *h = g_queue_peek_head (&s->held);

  if (h)
    GST_CAT_DEBUG (cat, "ssrc %u: %u packets held; the first came %.1f ms late",
        s->ssrc, s->held.length,
        ((gint64)s->first - h->media - s->least_delay) / 1e6);

  while ((h = g_queue_pop_head (&s->held)) != NULL) {
    gint64 t = h->media + s->least_delay;

    stamp (h->buf, t > 0 ? (GstClockTime)t : 0);
    g_queue_push_tail (ready, g_steal_pointer (&h->buf));
    g_free (h);
  }
  s->passing = TRUE;
  s->least_at = now;
  s->late_since = GST_CLOCK_TIME_NONE;
}

/* The time to stamp a packet of RTP time @media arriving @now with, once
 * the stream's hold is over. */
static GstClockTime
passing_time (GstDebugCategory *cat, Stream *s, gint64 media, GstClockTime now,
    GstClockTime late)
{
  gint64 delay = (gint64)now - media;
  gint64 least = s->least_delay + (gint64)(now - s->least_at) / 1000;
  gint64 t;

  if (delay <= least) {
    s->least_delay = delay;
    s->least_at = now;
  }
  if (late == 0 || delay <= least + (gint64)late) {
    s->late_since = GST_CLOCK_TIME_NONE;
    return now;
  }
  if (delay > least + (gint64)GST_SECOND) {
    /* a new timeline, which the jitter buffer takes up at once too */
    s->least_delay = delay;
    s->least_at = now;
    s->late_since = GST_CLOCK_TIME_NONE;
    return now;
  }
  if (!GST_CLOCK_TIME_IS_VALID (s->late_since)) {
    GST_CAT_DEBUG (
        cat, "ssrc %u: a packet %.1f ms late", s->ssrc, (delay - least) / 1e6);
    s->late_since = now;
    s->late_least = delay;
  }
  s->late_least = MIN (s->late_least, delay);
  if (now >= s->late_since + FOLLOW_AFTER) {
    GST_CAT_DEBUG (cat, "ssrc %u: the delay rose by %.1f ms", s->ssrc,
        (s->late_least - least) / 1e6);
    s->least_delay = s->late_least;
    s->least_at = now;
    s->late_since = GST_CLOCK_TIME_NONE;
    return now;
  }
  t = media + least + (gint64)late;
  return t > 0 ? (GstClockTime)t : 0;
}

/**
 * hq_arrival_add:
 * @ssrc, @rtptime, @clock_rate: of the RTP packet @buf
 * @now: the running time it arrived at
 * @late: how much later than the path's least delay a packet may come and
 *   keep its arrival time
 * @ready: (inout): packets to push, in order, stamped, are appended here
 *
 * Takes @buf.  A stream's first packets stay until @hold has passed since
 * the first one arrived (seen at the next packet of any stream), then all
 * come out stamped with the least delay seen; afterwards each comes out at
 * once, stamped @now, or if it came more than @late after the least delay,
 * stamped @late after it.
 */
void
hq_arrival_add (HqArrival *self, guint32 ssrc, guint32 rtptime,
    guint clock_rate, GstClockTime now, GstClockTime late, GstBuffer *buf,
    GQueue *ready)
{
  Stream *s = g_hash_table_lookup (self->streams, GUINT_TO_POINTER (ssrc));
  GHashTableIter iter;
  gpointer value;
  Held *h;
  gint64 delay;

  if (s == NULL) {
    s = g_new0 (Stream, 1);
    s->ssrc = ssrc;
    s->first = now;
    s->last_rtptime = rtptime;
    s->least_delay = G_MAXINT64;
    g_queue_init (&s->held);
    g_hash_table_insert (self->streams, GUINT_TO_POINTER (ssrc), s);
  }
  if (clock_rate == 0) {
    stamp (buf, now);
    g_queue_push_tail (ready, buf);
  } else if (s->passing) {
    stamp (buf,
        passing_time (
            self->cat, s, media_time (s, rtptime, clock_rate), now, late));
    g_queue_push_tail (ready, buf);
  } else {
    h = g_new0 (Held, 1);
    h->buf = buf;
    h->media = media_time (s, rtptime, clock_rate);
    g_queue_push_tail (&s->held, h);
    delay = (gint64)now - h->media;
    s->least_delay = MIN (s->least_delay, delay);
    if (s->held.length >= MAX_HELD)
      release (self->cat, s, now, ready);
  }
  /* the holds that are over, also of streams that went quiet meanwhile */
  g_hash_table_iter_init (&iter, self->streams);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    s = value;
    if (!s->passing && now >= s->first + self->hold)
      release (self->cat, s, now, ready);
  }
}

/* Forgets the streams whose SSRC is not a key of @keep (they ended);
 * their held packets go with them. */
void
hq_arrival_forget_others (HqArrival *self, GHashTable *keep)
{
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, self->streams);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (keep, key))
      g_hash_table_iter_remove (&iter);
}

void
hq_arrival_clear (HqArrival *self)
{
  g_hash_table_remove_all (self->streams);
}
