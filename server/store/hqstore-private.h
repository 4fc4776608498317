/* What the store's files share (hqstore-sqlite.c opens the database,
 * hqstore-rooms.c, hqstore-chat.c and hqstore-recordings.c keep one kind of
 * record each): the connection and the statement helpers every query
 * uses.  Main thread only, like the store. */
#ifndef __HQ_STORE_PRIVATE_H__
#define __HQ_STORE_PRIVATE_H__

#include "hqstore.h"
#include "hqmetrics.h"

#include <sqlite3.h>

G_BEGIN_DECLS

struct _HqStore
{
  sqlite3 *db;
  gchar *path;
  GHashTable *stmts; /* SQL text (static) -> sqlite3_stmt */
};

/* --- statements --- */

static inline gboolean
db_error (HqStore *store, const gchar *what, GError **error)
{
  g_set_error (error, HQ_STORE_ERROR, HQ_STORE_ERROR_IO, "%s in %s: %s", what,
      store->path, sqlite3_errmsg (store->db));
  return FALSE;
}

/* The cached statement for @sql, reset and unbound; NULL on error. */
static inline sqlite3_stmt *
stmt (HqStore *store, const gchar *sql, GError **error)
{
  sqlite3_stmt *s = g_hash_table_lookup (store->stmts, sql);

  if (s == NULL) {
    if (sqlite3_prepare_v3 (
            store->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL)
        != SQLITE_OK) {
      db_error (store, "cannot prepare a statement", error);
      return NULL;
    }
    g_hash_table_insert (store->stmts, (gpointer)sql, s);
  }
  sqlite3_reset (s);
  sqlite3_clear_bindings (s);
  return s;
}

static inline void
bind_text (sqlite3_stmt *s, int i, const gchar *text)
{
  if (text == NULL)
    sqlite3_bind_null (s, i);
  else
    sqlite3_bind_text (s, i, text, -1, SQLITE_TRANSIENT);
}

static inline gchar *
col_text (sqlite3_stmt *s, int i)
{
  const unsigned char *t = sqlite3_column_text (s, i);

  return t ? g_strdup ((const gchar *)t) : NULL;
}

/* Runs a statement that returns no rows. */
/* Steps @s once, timed for /metrics. */
static inline int
step (sqlite3_stmt *s)
{
  gint64 start = g_get_monotonic_time ();
  int rc = sqlite3_step (s);

  hq_metrics_observe (HQ_HISTOGRAM_STORE_SECONDS,
      (g_get_monotonic_time () - start) / (gdouble)G_USEC_PER_SEC);
  return rc;
}

static inline gboolean
run (HqStore *store, sqlite3_stmt *s, GError **error)
{
  int rc = step (s);

  sqlite3_reset (s);
  if (rc == SQLITE_DONE)
    return TRUE;
  if (rc == SQLITE_CONSTRAINT) {
    g_set_error (error, HQ_STORE_ERROR, HQ_STORE_ERROR_CONFLICT,
        "the change conflicts with a stored record: %s",
        sqlite3_errmsg (store->db));
    return FALSE;
  }
  return db_error (store, "cannot write", error);
}

typedef gpointer (*RowReader) (sqlite3_stmt *s);

/* Steps @s to the end, reading each row with @read into a new array. */
static inline GPtrArray *
collect (HqStore *store, sqlite3_stmt *s, RowReader read, GDestroyNotify free,
    GError **error)
{
  GPtrArray *rows = g_ptr_array_new_with_free_func (free);
  gint64 start = g_get_monotonic_time ();
  int rc;

  while ((rc = sqlite3_step (s)) == SQLITE_ROW)
    g_ptr_array_add (rows, read (s));
  hq_metrics_observe (HQ_HISTOGRAM_STORE_SECONDS,
      (g_get_monotonic_time () - start) / (gdouble)G_USEC_PER_SEC);
  sqlite3_reset (s);
  if (rc != SQLITE_DONE) {
    g_ptr_array_unref (rows);
    db_error (store, "cannot read", error);
    return NULL;
  }
  return rows;
}

/* The single row of @s, or NULL with NOT_FOUND naming @what. */
static inline gpointer
one (HqStore *store, sqlite3_stmt *s, RowReader read, GDestroyNotify free,
    const gchar *what, const gchar *sid, GError **error)
{
  GPtrArray *rows = collect (store, s, read, free, error);
  gpointer row = NULL;

  if (rows == NULL)
    return NULL;
  if (rows->len == 0)
    g_set_error (error, HQ_STORE_ERROR, HQ_STORE_ERROR_NOT_FOUND,
        "no %s with sid %s", what, sid);
  else
    row = g_ptr_array_steal_index (rows, 0);
  g_ptr_array_unref (rows);
  return row;
}

G_END_DECLS

#endif /* __HQ_STORE_PRIVATE_H__ */
