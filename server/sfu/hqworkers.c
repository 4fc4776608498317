/* Media worker threads; see hqworkers.h. */
#include "hqworkers.h"

struct _HqWorker
{
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  gint rooms; /* atomic */
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

void
hq_workers_free (HqWorkers *workers)
{
  if (workers == NULL)
    return;
  for (guint i = 0; i < workers->n; i++) {
    HqWorker *w = &workers->workers[i];
    hq_worker_invoke (w, quit_loop, w->loop, NULL);
    g_thread_join (w->thread);
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
