/* Media worker threads: N threads, each running its own GMainContext.
 * The SFU pins each room to one worker and attaches all its transports'
 * libnice agents there, so forwarding inside a room takes no lock.  The
 * control plane (main context) and the workers talk only by handing
 * closures to each other's contexts (hq_worker_invoke, and
 * g_main_context_invoke on the main context back), never by sharing
 * mutable state. */
#ifndef __HQ_WORKERS_H__
#define __HQ_WORKERS_H__

#include <glib.h>

G_BEGIN_DECLS

typedef struct _HqWorkers HqWorkers;
typedef struct _HqWorker HqWorker;

/* Starts @n workers (0: one per core). */
HqWorkers *hq_workers_new (guint n);
/* Stops every worker after what was invoked on it ran, and joins them. */
void hq_workers_free (HqWorkers *workers);
guint hq_workers_get_n (HqWorkers *workers);
/* The worker with the fewest rooms pinned to it; pin a room with
 * hq_worker_pin() and unpin it when the room goes. */
HqWorker *hq_workers_pick (HqWorkers *workers);

void hq_worker_pin (HqWorker *worker);
void hq_worker_unpin (HqWorker *worker);
GMainContext *hq_worker_get_context (HqWorker *worker);

/* Runs @func (@data) on @worker's thread; @destroy (@data) runs after it,
 * there too.  Callable from any thread. */
void hq_worker_invoke (
    HqWorker *worker, GSourceFunc func, gpointer data, GDestroyNotify destroy);

G_END_DECLS

#endif /* __HQ_WORKERS_H__ */
