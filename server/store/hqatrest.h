/* Encryption at rest in hq-server (docs/at-rest.md): when media files are
 * sealed (hqsealed.h), and how sealed files reach hq-compose.
 *
 * - A recording file is sealed when its recorder run has ended and the
 *   row is settled (crash-recovered runs too, at the next start); a
 *   composition when hq-compose has finished it; a chat attachment is
 *   written sealed and never exists in the clear.  Sealing of recordings
 *   and compositions happens in one background thread, so a large file
 *   never stalls the server's main loop; it writes the sealed file beside
 *   the clear one and renames it over it.
 * - At start (hq_at_rest_sweep) every completed file still clear is
 *   sealed: files a stopped or crashed server had not sealed yet, and
 *   files written before an operator key was configured.
 * - Without an operator key nothing is sealed and every file stored in
 *   the clear is logged as a warning; with [at-rest] required the server
 *   does not start without a key.
 */
#ifndef __HQ_AT_REST_H__
#define __HQ_AT_REST_H__

#include <gio/gio.h>
#include "hqsealed.h"
#include "hqstore.h"

G_BEGIN_DECLS

typedef struct _HqAtRest HqAtRest;

/* @keys (taken) may be NULL: no operator key, files stay clear. */
HqAtRest *hq_at_rest_new (HqSealKeys *keys);
/* Waits for the sealing in progress and queued. */
void hq_at_rest_free (HqAtRest *at_rest);
/* The operator keys, or NULL. */
const HqSealKeys *hq_at_rest_get_keys (HqAtRest *at_rest);

/* Logs the state at start: which key seals, or a warning that media is
 * stored in the clear. */
void hq_at_rest_log_state (HqAtRest *at_rest);

/* @path is complete (a settled recording, a finished composition): seal
 * it in the background; without a key, logs that it stays clear. */
void hq_at_rest_seal_later (HqAtRest *at_rest, const gchar *path);
/* Seals now (the calling thread); hq-server rewrap uses it. */
gboolean hq_at_rest_seal_now (
    HqAtRest *at_rest, const gchar *path, GError **error);

/* Queues every completed recording and composition file of @store and
 * every chat attachment under @data_dir still in the clear; returns how
 * many were queued (with @now, sealed at once instead, and
 * *@failed counts those that could not be). */
guint hq_at_rest_sweep (HqAtRest *at_rest, HqStore *store,
    const gchar *data_dir, gboolean now, guint *failed);

/* hq-compose reads its inputs from descriptors: every "FILE@MS" after
 * --audio or --video in @argv becomes "/dev/fd/N@MS"; a clear file is
 * opened here and handed over (a rename meanwhile cannot change what the
 * child reads), a sealed one is decrypted into a pipe by a thread of its
 * own.  FALSE with *@why when an input cannot be opened or decrypted.
 * The threads are added to @feeds; join them with
 * hq_at_rest_feeds_join() once the child has exited. */
gboolean hq_at_rest_feed_inputs (HqAtRest *at_rest,
    GSubprocessLauncher *launcher, GPtrArray *argv, GPtrArray *feeds,
    gchar **why);
void hq_at_rest_feeds_join (GPtrArray *feeds);

G_END_DECLS

#endif /* __HQ_AT_REST_H__ */
