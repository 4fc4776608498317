/* Media worker threads: N threads, each running its own GMainContext.
 * The SFU pins each room to one worker and attaches all its transports'
 * libnice agents there, so forwarding inside a room takes no lock.  The
 * control plane (main context) and the workers talk only by handing
 * closures to each other's contexts (hq_worker_invoke, and
 * g_main_context_invoke on the main context back), never by sharing
 * mutable state.
 *
 * Between two workers there is also a packet hand-off (a room whose
 * subscribers are spread over several workers, docs/sfu.md "Threads"):
 * one bounded single-producer, single-consumer ring per (from, to) pair,
 * made on first use, whose slots carry a copy of the packet and the
 * function that the receiving worker runs on it.  The sender's thread is
 * the only one that writes a slot, the receiver's the only one that reads
 * it; an eventfd wakes the receiver when it sleeps.  A full ring drops
 * the packet, as a full socket buffer would. */
#ifndef __HQ_WORKERS_H__
#define __HQ_WORKERS_H__

#include <glib.h>

G_BEGIN_DECLS

typedef struct _HqWorkers HqWorkers;
typedef struct _HqWorker HqWorker;

/* Starts @n workers (0: one per core). */
HqWorkers *hq_workers_new (guint n);
/* Runs what was invoked on every worker, and what that invoked on the
 * others in turn, then stops and joins them. */
void hq_workers_free (HqWorkers *workers);
guint hq_workers_get_n (HqWorkers *workers);
HqWorker *hq_workers_get (HqWorkers *workers, guint index);
/* The worker with the fewest rooms pinned to it; pin a room with
 * hq_worker_pin() and unpin it when the room goes. */
HqWorker *hq_workers_pick (HqWorkers *workers);

void hq_worker_pin (HqWorker *worker);
void hq_worker_unpin (HqWorker *worker);
GMainContext *hq_worker_get_context (HqWorker *worker);
/* Its place in hq_workers_get(), from 0. */
guint hq_worker_get_index (HqWorker *worker);

/* Runs @func (@data) on @worker's thread; @destroy (@data) runs after it,
 * there too.  Callable from any thread. */
void hq_worker_invoke (
    HqWorker *worker, GSourceFunc func, gpointer data, GDestroyNotify destroy);

/* Most bytes one handed packet may have; the receiver's buffer has room
 * for HQ_WORKER_SLOT_TRAILER more after them (an SRTP trailer). */
#define HQ_WORKER_SLOT_DATA 1500
#define HQ_WORKER_SLOT_TRAILER 160

/* Run on the receiving worker with the packet's copy, which it may change
 * in place (@size: its room, at least @len + HQ_WORKER_SLOT_TRAILER). */
typedef void (*HqWorkerPacketFunc) (
    gpointer target, guint flags, guint8 *data, gsize len, gsize size);

/* From @from's thread only: copies @data into the ring from @from to @to,
 * where @func (@target, @flags, copy...) runs soon, in the order handed.
 * FALSE when the ring is full or @len too long: nothing was handed (the
 * packet is lost). @target must stay valid until @to has run
 * it: see hq_worker_drain(). */
gboolean hq_worker_hand (HqWorker *from, HqWorker *to, HqWorkerPacketFunc func,
    gpointer target, guint flags, const guint8 *data, gsize len);
/* On @to's thread: runs everything @from handed to it so far.  A closure
 * that @from invoked on @to after handing packets runs this first, so
 * what it frees is no packet's target any more. */
void hq_worker_drain (HqWorker *from, HqWorker *to);

G_END_DECLS

#endif /* __HQ_WORKERS_H__ */
