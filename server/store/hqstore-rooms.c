/* The store's rooms, participants and their tracks, the audit log, bans
 * and invites; see hqstore.h and hqstore-sqlite.c. */
#include "hqstore-private.h"

#include <hq/hqprotocol.h>

#include <json-glib/json-glib.h>

/* --- rooms --- */

#define ROOM_COLUMNS                                                           \
  "sid, unique_name, status, type, status_callback, end_reason, "              \
  "max_participants, empty_room_timeout, unused_room_timeout, "                \
  "max_participant_duration, record_participants_on_connect, waiting_room, "   \
  "callback_sequence, created, updated, ended"

static gpointer
read_room (sqlite3_stmt *s)
{
  HqRoomRecord *r = g_new0 (HqRoomRecord, 1);

  r->sid = col_text (s, 0);
  r->unique_name = col_text (s, 1);
  r->status = col_text (s, 2);
  r->type = col_text (s, 3);
  r->status_callback = col_text (s, 4);
  r->end_reason = col_text (s, 5);
  r->max_participants = sqlite3_column_int (s, 6);
  r->empty_room_timeout = sqlite3_column_int (s, 7);
  r->unused_room_timeout = sqlite3_column_int (s, 8);
  r->max_participant_duration = sqlite3_column_int64 (s, 9);
  r->record_participants_on_connect = sqlite3_column_int (s, 10);
  r->waiting_room = sqlite3_column_int (s, 11);
  r->callback_sequence = sqlite3_column_int64 (s, 12);
  r->created = sqlite3_column_int64 (s, 13);
  r->updated = sqlite3_column_int64 (s, 14);
  r->ended = sqlite3_column_int64 (s, 15);
  return r;
}

gboolean
hq_store_put_room (HqStore *store, const HqRoomRecord *r, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      /* Not INSERT OR REPLACE: that would settle a unique-name conflict
       * by deleting the other room. */
      "INSERT INTO rooms (" ROOM_COLUMNS ") VALUES "
      "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (sid) DO UPDATE SET "
      "unique_name = excluded.unique_name, status = excluded.status, "
      "type = excluded.type, status_callback = excluded.status_callback, "
      "end_reason = excluded.end_reason, "
      "max_participants = excluded.max_participants, "
      "empty_room_timeout = excluded.empty_room_timeout, "
      "unused_room_timeout = excluded.unused_room_timeout, "
      "max_participant_duration = excluded.max_participant_duration, "
      "record_participants_on_connect = "
      "excluded.record_participants_on_connect, "
      "waiting_room = excluded.waiting_room, "
      "callback_sequence = excluded.callback_sequence, "
      "created = excluded.created, updated = excluded.updated, "
      "ended = excluded.ended",
      error);

  if (s == NULL)
    return FALSE;
  bind_text (s, 1, r->sid);
  bind_text (s, 2, r->unique_name);
  bind_text (s, 3, r->status);
  bind_text (s, 4, r->type);
  bind_text (s, 5, r->status_callback);
  bind_text (s, 6, r->end_reason);
  sqlite3_bind_int (s, 7, r->max_participants);
  sqlite3_bind_int (s, 8, r->empty_room_timeout);
  sqlite3_bind_int (s, 9, r->unused_room_timeout);
  sqlite3_bind_int64 (s, 10, r->max_participant_duration);
  sqlite3_bind_int (s, 11, r->record_participants_on_connect);
  sqlite3_bind_int (s, 12, r->waiting_room);
  sqlite3_bind_int64 (s, 13, r->callback_sequence);
  sqlite3_bind_int64 (s, 14, r->created);
  sqlite3_bind_int64 (s, 15, r->updated);
  sqlite3_bind_int64 (s, 16, r->ended);
  return run (store, s, error);
}

HqRoomRecord *
hq_store_get_room (HqStore *store, const gchar *sid, GError **error)
{
  sqlite3_stmt *s =
      stmt (store, "SELECT " ROOM_COLUMNS " FROM rooms WHERE sid = ?", error);

  if (s == NULL)
    return NULL;
  bind_text (s, 1, sid);
  return one (store, s, read_room, (GDestroyNotify)hq_room_record_free, "room",
      sid, error);
}

GPtrArray *
hq_store_list_rooms (HqStore *store, const gchar *status,
    const gchar *unique_name, guint limit, guint offset, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "SELECT " ROOM_COLUMNS " FROM rooms "
      "WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR unique_name = ?2) "
      "ORDER BY created DESC, rowid DESC LIMIT ?3 OFFSET ?4",
      error);

  if (s == NULL)
    return NULL;
  bind_text (s, 1, status);
  bind_text (s, 2, unique_name);
  sqlite3_bind_int64 (s, 3, limit);
  sqlite3_bind_int64 (s, 4, offset);
  return collect (
      store, s, read_room, (GDestroyNotify)hq_room_record_free, error);
}

GPtrArray *
hq_store_find_rooms (HqStore *store, const HqRoomFilter *f, guint limit,
    guint offset, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "SELECT " ROOM_COLUMNS " FROM rooms "
      "WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR unique_name = ?2) "
      "AND (?3 = 0 OR created >= ?3) AND (?4 = 0 OR created < ?4) "
      "ORDER BY created DESC, rowid DESC LIMIT ?5 OFFSET ?6",
      error);

  if (s == NULL)
    return NULL;
  bind_text (s, 1, f->status);
  bind_text (s, 2, f->unique_name);
  sqlite3_bind_int64 (s, 3, f->created_after);
  sqlite3_bind_int64 (s, 4, f->created_before);
  sqlite3_bind_int64 (s, 5, limit);
  sqlite3_bind_int64 (s, 6, offset);
  return collect (
      store, s, read_room, (GDestroyNotify)hq_room_record_free, error);
}

/* --- participants --- */

#define PARTICIPANT_COLUMNS                                                    \
  "sid, room_sid, identity, status, role, end_reason, created, updated, "      \
  "ended, name"

static gpointer
read_participant (sqlite3_stmt *s)
{
  HqParticipantRecord *p = g_new0 (HqParticipantRecord, 1);

  p->sid = col_text (s, 0);
  p->room_sid = col_text (s, 1);
  p->identity = col_text (s, 2);
  p->status = col_text (s, 3);
  p->role = col_text (s, 4);
  p->end_reason = col_text (s, 5);
  p->created = sqlite3_column_int64 (s, 6);
  p->updated = sqlite3_column_int64 (s, 7);
  p->ended = sqlite3_column_int64 (s, 8);
  p->name = col_text (s, 9);
  return p;
}

gboolean
hq_store_put_participant (
    HqStore *store, const HqParticipantRecord *p, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "INSERT OR REPLACE INTO participants (" PARTICIPANT_COLUMNS ") VALUES "
      "(?,?,?,?,?,?,?,?,?,?)",
      error);

  if (s == NULL)
    return FALSE;
  bind_text (s, 1, p->sid);
  bind_text (s, 2, p->room_sid);
  bind_text (s, 3, p->identity);
  bind_text (s, 4, p->status);
  bind_text (s, 5, p->role);
  bind_text (s, 6, p->end_reason);
  sqlite3_bind_int64 (s, 7, p->created);
  sqlite3_bind_int64 (s, 8, p->updated);
  sqlite3_bind_int64 (s, 9, p->ended);
  bind_text (s, 10, p->name);
  return run (store, s, error);
}

HqParticipantRecord *
hq_store_get_participant (
    HqStore *store, const gchar *room_sid, const gchar *sid, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "SELECT " PARTICIPANT_COLUMNS " FROM participants "
      "WHERE room_sid = ? AND sid = ?",
      error);

  if (s == NULL)
    return NULL;
  bind_text (s, 1, room_sid);
  bind_text (s, 2, sid);
  return one (store, s, read_participant,
      (GDestroyNotify)hq_participant_record_free, "participant", sid, error);
}

GPtrArray *
hq_store_list_participants (HqStore *store, const gchar *room_sid,
    const gchar *status, const gchar *identity, guint limit, guint offset,
    GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "SELECT " PARTICIPANT_COLUMNS " FROM participants WHERE room_sid = ?1 "
      "AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR identity = ?3) "
      "ORDER BY created, rowid LIMIT ?4 OFFSET ?5",
      error);

  if (s == NULL)
    return NULL;
  bind_text (s, 1, room_sid);
  bind_text (s, 2, status);
  bind_text (s, 3, identity);
  sqlite3_bind_int64 (s, 4, limit);
  sqlite3_bind_int64 (s, 5, offset);
  return collect (store, s, read_participant,
      (GDestroyNotify)hq_participant_record_free, error);
}

/* --- tracks --- */

static gpointer
read_track (sqlite3_stmt *s)
{
  HqTrackRecord *t = g_new0 (HqTrackRecord, 1);

  t->sid = col_text (s, 0);
  t->room_sid = col_text (s, 1);
  t->participant_sid = col_text (s, 2);
  t->name = col_text (s, 3);
  t->kind = col_text (s, 4);
  t->enabled = sqlite3_column_int (s, 5);
  t->published = sqlite3_column_int (s, 6);
  t->created = sqlite3_column_int64 (s, 7);
  t->updated = sqlite3_column_int64 (s, 8);
  t->priority = col_text (s, 9);
  return t;
}

gboolean
hq_store_put_track (HqStore *store, const HqTrackRecord *t, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "INSERT OR REPLACE INTO tracks (sid, room_sid, participant_sid, name, "
      "kind, enabled, published, created, updated, priority) "
      "VALUES (?,?,?,?,?,?,?,?,?,?)",
      error);

  if (s == NULL)
    return FALSE;
  bind_text (s, 1, t->sid);
  bind_text (s, 2, t->room_sid);
  bind_text (s, 3, t->participant_sid);
  bind_text (s, 4, t->name);
  bind_text (s, 5, t->kind);
  sqlite3_bind_int (s, 6, t->enabled);
  sqlite3_bind_int (s, 7, t->published);
  sqlite3_bind_int64 (s, 8, t->created);
  sqlite3_bind_int64 (s, 9, t->updated);
  bind_text (s, 10,
      t->priority ? t->priority
                  : hq_protocol_priority_name (HQ_PRIORITY_STANDARD));
  return run (store, s, error);
}

GPtrArray *
hq_store_list_tracks (
    HqStore *store, const gchar *participant_sid, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "SELECT sid, room_sid, participant_sid, name, kind, enabled, published, "
      "created, updated, priority FROM tracks WHERE participant_sid = ? AND "
      "published "
      "ORDER BY created, rowid",
      error);

  if (s == NULL)
    return NULL;
  bind_text (s, 1, participant_sid);
  return collect (
      store, s, read_track, (GDestroyNotify)hq_track_record_free, error);
}

/* --- audit log --- */

static gpointer
read_event (sqlite3_stmt *s)
{
  HqEventRecord *e = g_new0 (HqEventRecord, 1);

  e->sequence = sqlite3_column_int64 (s, 0);
  e->room_sid = col_text (s, 1);
  e->event = col_text (s, 2);
  e->participant_sid = col_text (s, 3);
  e->identity = col_text (s, 4);
  e->track_sid = col_text (s, 5);
  e->actor_sid = col_text (s, 6);
  e->detail = col_text (s, 7);
  e->created = sqlite3_column_int64 (s, 8);
  return e;
}

gboolean
hq_store_add_event (HqStore *store, HqEventRecord *e, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "INSERT INTO events (room_sid, event, participant_sid, identity, "
      "track_sid, actor_sid, detail, created) VALUES (?,?,?,?,?,?,?,?)",
      error);

  if (s == NULL)
    return FALSE;
  bind_text (s, 1, e->room_sid);
  bind_text (s, 2, e->event);
  bind_text (s, 3, e->participant_sid);
  bind_text (s, 4, e->identity);
  bind_text (s, 5, e->track_sid);
  bind_text (s, 6, e->actor_sid);
  bind_text (s, 7, e->detail);
  sqlite3_bind_int64 (s, 8, e->created);
  if (!run (store, s, error))
    return FALSE;
  e->sequence = sqlite3_last_insert_rowid (store->db);
  return TRUE;
}

GPtrArray *
hq_store_list_events (HqStore *store, const gchar *room_sid, guint limit,
    guint offset, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "SELECT sequence, room_sid, event, participant_sid, identity, "
      "track_sid, actor_sid, detail, created FROM events WHERE room_sid = ? "
      "ORDER BY sequence LIMIT ? OFFSET ?",
      error);

  if (s == NULL)
    return NULL;
  bind_text (s, 1, room_sid);
  sqlite3_bind_int64 (s, 2, limit);
  sqlite3_bind_int64 (s, 3, offset);
  return collect (
      store, s, read_event, (GDestroyNotify)hq_event_record_free, error);
}

/* --- bans --- */

gboolean
hq_store_put_ban (HqStore *store, const HqBanRecord *ban, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "INSERT OR REPLACE INTO bans (room_sid, identity, reason, "
      "participant_sid, actor_sid, created) VALUES (?,?,?,?,?,?)",
      error);

  if (s == NULL)
    return FALSE;
  bind_text (s, 1, ban->room_sid);
  bind_text (s, 2, ban->identity);
  bind_text (s, 3, ban->reason);
  bind_text (s, 4, ban->participant_sid);
  bind_text (s, 5, ban->actor_sid);
  sqlite3_bind_int64 (s, 6, ban->created);
  return run (store, s, error);
}

#define BAN_COLUMNS                                                            \
  "room_sid, identity, reason, participant_sid, actor_sid, created"

static gpointer
read_ban (sqlite3_stmt *s)
{
  HqBanRecord *b = g_new0 (HqBanRecord, 1);

  b->room_sid = col_text (s, 0);
  b->identity = col_text (s, 1);
  b->reason = col_text (s, 2);
  b->participant_sid = col_text (s, 3);
  b->actor_sid = col_text (s, 4);
  b->created = sqlite3_column_int64 (s, 5);
  return b;
}

HqBanRecord *
hq_store_get_ban (HqStore *store, const gchar *room_sid, const gchar *identity,
    GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "SELECT " BAN_COLUMNS " FROM bans WHERE room_sid = ? AND identity = ?",
      error);

  if (s == NULL)
    return NULL;
  bind_text (s, 1, room_sid);
  bind_text (s, 2, identity);
  return one (store, s, read_ban, (GDestroyNotify)hq_ban_record_free,
      "ban of identity", identity, error);
}

GPtrArray *
hq_store_list_bans (HqStore *store, const gchar *room_sid, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "SELECT " BAN_COLUMNS " FROM bans WHERE room_sid = ? "
      "ORDER BY created, rowid",
      error);

  if (s == NULL)
    return NULL;
  bind_text (s, 1, room_sid);
  return collect (
      store, s, read_ban, (GDestroyNotify)hq_ban_record_free, error);
}

gboolean
hq_store_delete_ban (HqStore *store, const gchar *room_sid,
    const gchar *identity, GError **error)
{
  sqlite3_stmt *s = stmt (
      store, "DELETE FROM bans WHERE room_sid = ? AND identity = ?", error);

  if (s == NULL)
    return FALSE;
  bind_text (s, 1, room_sid);
  bind_text (s, 2, identity);
  if (!run (store, s, error))
    return FALSE;
  if (sqlite3_changes (store->db) == 0) {
    g_set_error (error, HQ_STORE_ERROR, HQ_STORE_ERROR_NOT_FOUND,
        "identity %s is not banned from room %s", identity, room_sid);
    return FALSE;
  }
  return TRUE;
}

/* --- invites --- */

gboolean
hq_store_put_invite (
    HqStore *store, const HqInviteRecord *invite, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "INSERT INTO invites (code_hash, visit, role, waiting_room, max_uses, "
      "uses, created, expires) VALUES (?,?,?,?,?,?,?,?)",
      error);

  if (s == NULL)
    return FALSE;
  bind_text (s, 1, invite->code_hash);
  bind_text (s, 2, invite->visit);
  bind_text (s, 3, invite->role);
  sqlite3_bind_int (s, 4, invite->waiting_room);
  sqlite3_bind_int (s, 5, invite->max_uses);
  sqlite3_bind_int (s, 6, invite->uses);
  sqlite3_bind_int64 (s, 7, invite->created);
  sqlite3_bind_int64 (s, 8, invite->expires);
  return run (store, s, error);
}

static gpointer
read_invite (sqlite3_stmt *s)
{
  HqInviteRecord *i = g_new0 (HqInviteRecord, 1);

  i->code_hash = col_text (s, 0);
  i->visit = col_text (s, 1);
  i->role = col_text (s, 2);
  i->waiting_room = sqlite3_column_int (s, 3);
  i->max_uses = sqlite3_column_int (s, 4);
  i->uses = sqlite3_column_int (s, 5);
  i->created = sqlite3_column_int64 (s, 6);
  i->expires = sqlite3_column_int64 (s, 7);
  return i;
}

HqInviteRecord *
hq_store_get_invite (HqStore *store, const gchar *code_hash, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "SELECT code_hash, visit, role, waiting_room, max_uses, uses, created, "
      "expires FROM invites WHERE code_hash = ?",
      error);

  if (s == NULL)
    return NULL;
  bind_text (s, 1, code_hash);
  return one (store, s, read_invite, (GDestroyNotify)hq_invite_record_free,
      "invite", "(code)", error);
}

gboolean
hq_store_use_invite (
    HqStore *store, const gchar *code_hash, gboolean *used, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "UPDATE invites SET uses = uses + 1 WHERE code_hash = ? "
      "AND (max_uses = 0 OR uses < max_uses)",
      error);

  if (s == NULL)
    return FALSE;
  bind_text (s, 1, code_hash);
  if (!run (store, s, error))
    return FALSE;
  *used = sqlite3_changes (store->db) == 1;
  return TRUE;
}

gboolean
hq_store_prune_invites (HqStore *store, gint64 before, GError **error)
{
  sqlite3_stmt *s =
      stmt (store, "DELETE FROM invites WHERE expires < ?", error);

  if (s == NULL)
    return FALSE;
  sqlite3_bind_int64 (s, 1, before);
  return run (store, s, error);
}
