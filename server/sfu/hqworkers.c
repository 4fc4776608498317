/* Media worker threads; see hqworkers.h. */
#include "hqworkers.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* Slots of one ring (a power of two): about 25 ms of a 50-person room's
 * fan-out to one worker at full load. */
#define HQ_WORKER_RING_SLOTS 4096
/* Most packets one wake-up runs before the worker's other sources (its
 * own transports) get a turn. */
#define HQ_WORKER_RING_BUDGET 256

typedef struct
{
  HqWorkerPacketFunc func;
  gpointer target;
  guint flags;
  gsize len;
  guint8 data[HQ_WORKER_SLOT_DATA + HQ_WORKER_SLOT_TRAILER];
} Slot;

/* One direction between two workers.  @head is written by the sender's
 * thread only, @tail by the receiver's only; a slot belongs to the sender
 * until @head passes it, then to the receiver until @tail passes it. */
typedef struct
{
  guint head; /* atomic */
  guint8 pad0[60];
  guint tail; /* atomic */
  guint8 pad1[60];
  gint armed; /* atomic: the receiver may sleep, write @efd */
  gint efd;
  GSource *source; /* on the receiver's context */
  Slot *slots;
} Ring;

typedef struct
{
  GSource source;
  Ring *ring;
} RingSource;

struct _HqWorker
{
  HqWorkers *all;
  guint index;
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  gint rooms; /* atomic */
  Ring **out; /* [to's index]: atomic pointers, made by this thread */
};

struct _HqWorkers
{
  guint n;
  HqWorker *workers;
};

static gpointer
worker_main (gpointer data)
{
  HqWorker *w = data;

  g_main_context_push_thread_default (w->context);
  g_main_loop_run (w->loop);
  /* Run what was queued before the stop so nothing is left half-done. */
  while (g_main_context_iteration (w->context, FALSE))
    ;
  g_main_context_pop_thread_default (w->context);
  return NULL;
}

HqWorkers *
hq_workers_new (guint n)
{
  HqWorkers *workers = g_new0 (HqWorkers, 1);

  workers->n = n ? n : MAX (1, g_get_num_processors ());
  workers->workers = g_new0 (HqWorker, workers->n);
  for (guint i = 0; i < workers->n; i++) {
    HqWorker *w = &workers->workers[i];
    g_autofree gchar *name = g_strdup_printf ("hq-media-%u", i);
    w->all = workers;
    w->index = i;
    w->out = g_new0 (Ring *, workers->n);
    w->context = g_main_context_new ();
    w->loop = g_main_loop_new (w->context, FALSE);
    w->thread = g_thread_new (name, worker_main, w);
  }
  return workers;
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

/* Waiting until every worker ran what was invoked on it before. */
typedef struct
{
  GMutex lock;
  GCond cond;
  guint done;
} Barrier;

static gboolean
barrier_reached (gpointer data)
{
  Barrier *b = data;

  g_mutex_lock (&b->lock);
  b->done++;
  g_cond_signal (&b->cond);
  g_mutex_unlock (&b->lock);
  return G_SOURCE_REMOVE;
}

static void
run_queued (HqWorkers *workers)
{
  Barrier b = { .done = 0 };

  g_mutex_init (&b.lock);
  g_cond_init (&b.cond);
  for (guint i = 0; i < workers->n; i++)
    hq_worker_invoke (&workers->workers[i], barrier_reached, &b, NULL);
  g_mutex_lock (&b.lock);
  while (b.done < workers->n)
    g_cond_wait (&b.cond, &b.lock);
  g_mutex_unlock (&b.lock);
  g_mutex_clear (&b.lock);
  g_cond_clear (&b.cond);
}

static void
ring_free (Ring *ring)
{
  g_source_destroy (ring->source);
  g_source_unref (ring->source);
  close (ring->efd);
  g_free (ring->slots);
  g_free (ring);
}

void
hq_workers_free (HqWorkers *workers)
{
  if (workers == NULL)
    return;
  /* A room's teardown on its worker may hand its last work to another
   * worker (a subscriber's transport there to close), which may answer:
   * three rounds let that settle before any worker stops. */
  for (guint round = 0; round < 3; round++)
    run_queued (workers);
  for (guint i = 0; i < workers->n; i++) {
    HqWorker *w = &workers->workers[i];
    hq_worker_invoke (w, quit_loop, w->loop, NULL);
    g_thread_join (w->thread);
  }
  for (guint i = 0; i < workers->n; i++) {
    HqWorker *w = &workers->workers[i];
    for (guint j = 0; j < workers->n; j++)
      if (w->out[j])
        ring_free (w->out[j]);
    g_free (w->out);
  }
  for (guint i = 0; i < workers->n; i++) {
    HqWorker *w = &workers->workers[i];
    g_main_loop_unref (w->loop);
    g_main_context_unref (w->context);
  }
  g_free (workers->workers);
  g_free (workers);
}

guint
hq_workers_get_n (HqWorkers *workers)
{
  return workers->n;
}

HqWorker *
hq_workers_get (HqWorkers *workers, guint index)
{
  g_return_val_if_fail (index < workers->n, NULL);
  return &workers->workers[index];
}

HqWorker *
hq_workers_pick (HqWorkers *workers)
{
  HqWorker *best = &workers->workers[0];

  for (guint i = 1; i < workers->n; i++)
    if (g_atomic_int_get (&workers->workers[i].rooms)
        < g_atomic_int_get (&best->rooms))
      best = &workers->workers[i];
  return best;
}

void
hq_worker_pin (HqWorker *worker)
{
  g_atomic_int_inc (&worker->rooms);
}

void
hq_worker_unpin (HqWorker *worker)
{
  g_atomic_int_add (&worker->rooms, -1);
}

GMainContext *
hq_worker_get_context (HqWorker *worker)
{
  return worker->context;
}

guint
hq_worker_get_index (HqWorker *worker)
{
  return worker->index;
}

void
hq_worker_invoke (
    HqWorker *worker, GSourceFunc func, gpointer data, GDestroyNotify destroy)
{
  GSource *source = g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, func, data, destroy);
  g_source_attach (source, worker->context);
  g_source_unref (source);
}

/* --- the packet hand-off --- */

/* On the receiver's thread: runs up to @budget handed packets; how many. */
static guint
ring_run (Ring *ring, guint budget)
{
  guint tail = __atomic_load_n (&ring->tail, __ATOMIC_RELAXED);
  guint head = __atomic_load_n (&ring->head, __ATOMIC_ACQUIRE);
  guint n = 0;

  while (tail != head && n < budget) {
    Slot *s = &ring->slots[tail % HQ_WORKER_RING_SLOTS];
    s->func (s->target, s->flags, s->data, s->len, sizeof s->data);
    tail++;
    n++;
    __atomic_store_n (&ring->tail, tail, __ATOMIC_RELEASE);
  }
  return n;
}

static gboolean
ring_dispatch (GSource *source, GSourceFunc cb, gpointer data)
{
  RingSource *rs = (RingSource *)source;
  Ring *ring = rs->ring;
  guint64 v;

  (void)cb;
  (void)data;
  if (read (ring->efd, &v, sizeof v) < 0 && errno != EAGAIN)
    g_warning ("hq-media: reading a ring's eventfd: %s", g_strerror (errno));
  g_source_set_ready_time (source, -1);
  if (ring_run (ring, HQ_WORKER_RING_BUDGET) == HQ_WORKER_RING_BUDGET) {
    /* more to come: after the worker's other sources had a turn */
    g_source_set_ready_time (source, 0);
    return G_SOURCE_CONTINUE;
  }
  /* Going to sleep: the sender writes the eventfd for its next packet.
   * A packet that came meanwhile is run at once. */
  __atomic_store_n (&ring->armed, 1, __ATOMIC_SEQ_CST);
  if (__atomic_load_n (&ring->head, __ATOMIC_SEQ_CST)
      != __atomic_load_n (&ring->tail, __ATOMIC_RELAXED))
    g_source_set_ready_time (source, 0);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs ring_source_funcs = {
  .dispatch = ring_dispatch,
};

/* The ring from @from to @to, made on first use by @from's thread. */
static Ring *
ring_get (HqWorker *from, HqWorker *to)
{
  Ring *ring = __atomic_load_n (&from->out[to->index], __ATOMIC_ACQUIRE);
  RingSource *rs;

  if (ring)
    return ring;
  ring = g_new0 (Ring, 1);
  ring->slots = g_new (Slot, HQ_WORKER_RING_SLOTS);
  ring->armed = 1;
  ring->efd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (ring->efd < 0)
    g_error ("hq-media: no eventfd: %s", g_strerror (errno));
  ring->source = g_source_new (&ring_source_funcs, sizeof (RingSource));
  rs = (RingSource *)ring->source;
  rs->ring = ring;
  g_source_set_priority (ring->source, G_PRIORITY_DEFAULT);
  g_source_add_unix_fd (ring->source, ring->efd, G_IO_IN);
  g_source_set_name (ring->source, "hq-media hand-off");
  __atomic_store_n (&from->out[to->index], ring, __ATOMIC_RELEASE);
  g_source_attach (ring->source, to->context);
  return ring;
}

gboolean
hq_worker_hand (HqWorker *from, HqWorker *to, HqWorkerPacketFunc func,
    gpointer target, guint flags, const guint8 *data, gsize len)
{
  Ring *ring = ring_get (from, to);
  guint head = __atomic_load_n (&ring->head, __ATOMIC_RELAXED);
  Slot *s;

  if (len > HQ_WORKER_SLOT_DATA
      || head - __atomic_load_n (&ring->tail, __ATOMIC_ACQUIRE)
          >= HQ_WORKER_RING_SLOTS)
    return FALSE;
  s = &ring->slots[head % HQ_WORKER_RING_SLOTS];
  s->func = func;
  s->target = target;
  s->flags = flags;
  s->len = len;
  memcpy (s->data, data, len);
  __atomic_store_n (&ring->head, head + 1, __ATOMIC_SEQ_CST);
  if (__atomic_exchange_n (&ring->armed, 0, __ATOMIC_SEQ_CST)) {
    guint64 one = 1;
    if (write (ring->efd, &one, sizeof one) < 0 && errno != EAGAIN)
      g_warning ("hq-media: waking a worker: %s", g_strerror (errno));
  }
  return TRUE;
}

void
hq_worker_drain (HqWorker *from, HqWorker *to)
{
  Ring *ring = __atomic_load_n (&from->out[to->index], __ATOMIC_ACQUIRE);

  if (ring)
    while (ring_run (ring, G_MAXUINT) > 0)
      ;
}
