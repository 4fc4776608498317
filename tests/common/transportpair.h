/* Two HqTransports wired to each other in one process, for tests and
 * benchmarks: candidates trickle directly (loopback only) or through a
 * HqUdpRelay, credentials and fingerprints are exchanged, and everything
 * runs on the thread-default main context.  Received packets are kept as
 * GBytes whose first byte is 'R' (RTP) or 'C' (RTCP). */
#ifndef __HQ_TRANSPORT_PAIR_H__
#define __HQ_TRANSPORT_PAIR_H__

#include <hq/hqtransport.h>
#include "udprelay.h"

G_BEGIN_DECLS

typedef struct _Pair Pair;

typedef struct
{
  HqTransport *t;
  Pair *pair;
  gboolean gathered;
  GPtrArray *received;
} Peer;

struct _Pair
{
  Peer a, b; /* a: ICE controlling, DTLS client */
  HqUdpRelay *relay; /* when set, candidates go through it */
};

typedef gboolean (*Predicate) (gpointer data);

/* Iterates the default context until @pred holds or @seconds pass. */
gboolean wait_for (Predicate pred, gpointer data, guint seconds);

void pair_init (Pair *pair, const HqSrtpProfile *profiles);
/* Exchanges credentials and fingerprints and starts gathering; B is told
 * @b_expects as A's fingerprint when not NULL. */
void pair_start (Pair *pair, const gchar *b_expects);
/* Waits until both are CONNECTED; aborts the test with the error if not. */
void assert_connected (Pair *pair, guint seconds);
void pair_clear (Pair *pair);

/* An RTP packet: V=2, PT 96, @seq, timestamp seq*3000, SSRC @ssrc and a
 * payload of @payload_len bytes derived from @seq.  Returns its length. */
gsize make_rtp (guint8 *buf, guint16 seq, guint32 ssrc, gsize payload_len);
/* An RTCP receiver report without report blocks from @ssrc. */
gsize make_rtcp (guint8 *buf, guint32 ssrc);

G_END_DECLS

#endif /* __HQ_TRANSPORT_PAIR_H__ */
