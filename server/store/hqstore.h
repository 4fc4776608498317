/* hq-server's storage interface: rooms, participants, tracks, chat messages
 * and the audit log, as plain records.
 *
 * The control plane keeps live state in memory (hqroom.c) and writes every
 * change through here before it announces it, so the store is what REST
 * reads and what survives a restart.  Each call is synchronous and returns
 * only once its change is committed: a caller that acknowledges something
 * after a successful call never loses it to a crash of the process.
 *
 * hqstore-sqlite.c implements it on one SQLite database (WAL) in the data
 * directory.  Another backend (a networked database serving several nodes)
 * implements these same functions and is chosen at build time.
 */
#ifndef __HQ_STORE_H__
#define __HQ_STORE_H__

#include <glib.h>

G_BEGIN_DECLS

#define HQ_STORE_ERROR (hq_store_error_quark ())
GQuark hq_store_error_quark (void);

typedef enum
{
  HQ_STORE_ERROR_IO, /* the database cannot be opened, read or written */
  HQ_STORE_ERROR_NOT_FOUND, /* no such record */
  HQ_STORE_ERROR_CONFLICT, /* an in-progress room already has this name */
} HqStoreError;

typedef struct _HqStore HqStore;

/* Times are unix milliseconds; 0 means "not yet". */
typedef struct
{
  gchar *sid;
  gchar *unique_name;
  gchar *status; /* in-progress | completed */
  gchar *type; /* go | peer-to-peer | group-small | group */
  gchar *status_callback; /* NULL: none */
  gchar *end_reason; /* NULL while in progress */
  gint max_participants;
  gint empty_room_timeout; /* minutes */
  gint unused_room_timeout; /* minutes */
  gint64 max_participant_duration; /* seconds */
  gboolean record_participants_on_connect;
  gboolean waiting_room;
  gint64 callback_sequence; /* last status callback sequence number sent */
  gint64 created;
  gint64 updated;
  gint64 ended;
} HqRoomRecord;

typedef struct
{
  gchar *sid;
  gchar *room_sid;
  gchar *identity;
  gchar *status; /* connected | disconnected */
  gchar *role; /* host | guest */
  gchar *end_reason; /* NULL while connected */
  gint64 created;
  gint64 updated;
  gint64 ended;
  gchar *name; /* display name from the token, or NULL: the identity */
} HqParticipantRecord;

typedef struct
{
  gchar *sid;
  gchar *room_sid;
  gchar *participant_sid;
  gchar *name;
  gchar *kind; /* audio | video | data */
  gchar *priority; /* low | standard | high */
  gboolean enabled;
  gboolean published; /* FALSE once unpublished */
  gint64 created;
  gint64 updated;
} HqTrackRecord;

typedef struct
{
  gchar *room_sid;
  gint64 index; /* 1, 2, ... per room; assigned by hq_store_add_chat */
  gchar *participant_sid;
  gchar *identity;
  gchar *body;
  gchar *attributes; /* a JSON object as text, or NULL */
  gint64 created;
  gchar *name; /* the sender's display name, or NULL: the identity */
  gchar *media; /* the attachment as a JSON object's text, or NULL */
} HqChatRecord;

/* A file attached to a chat message (docs/protocol.md, "Chat
 * attachments"), uploaded before the message that carries it. */
typedef struct
{
  gchar *sid; /* ME + 32 hex */
  gchar *room_sid;
  gchar *identity; /* who uploaded it */
  gchar *filename; /* as the uploader named it, or NULL */
  gchar *content_type;
  gint64 size; /* bytes */
  gchar *file; /* where it is, under the data directory */
  gint64 created;
} HqChatMediaRecord;

/* An identity a host or the REST API removed from a room: its joins are
 * refused until the ban is lifted (docs/rooms.md, "Removal sticks"). */
typedef struct
{
  gchar *room_sid;
  gchar *identity;
  gchar *reason; /* removed | kicked | denied */
  gchar *participant_sid; /* the participant removed, or NULL */
  gchar *actor_sid; /* the host who did it, or NULL (REST) */
  gint64 created;
} HqBanRecord;

/* An invite link's code (docs/invites.md): only its SHA-256 is kept, so
 * the database never holds a working link. */
typedef struct
{
  gchar *code_hash; /* hex SHA-256 of the code */
  gchar *visit; /* the room's unique name */
  gchar *role; /* host | guest */
  gboolean waiting_room; /* for the room a host link creates */
  gint max_uses; /* 0: any number until it expires */
  gint uses;
  gint64 created;
  gint64 expires;
} HqInviteRecord;

typedef struct
{
  gchar *room_sid;
  gint64 sequence; /* per store, increasing; assigned by hq_store_add_event */
  gchar *event; /* e.g. "participant-connected", "participant-muted" */
  gchar *participant_sid; /* the participant it is about, or NULL */
  gchar *identity;
  gchar *track_sid;
  gchar *actor_sid; /* who caused it (a host), or NULL */
  gchar *detail; /* a JSON object as text, or NULL */
  gint64 created;
} HqEventRecord;

/* One track's recording (Twilio's Recording resource). */
typedef struct
{
  gchar *sid; /* RT... */
  gchar *room_sid;
  gchar *participant_sid;
  gchar *track_sid;
  gchar *track_name;
  gchar *type; /* audio | video */
  gchar *status; /* processing | completed | failed */
  gchar *container; /* mka | mkv */
  gchar *codec; /* opus | vp8 | h264; NULL until known */
  gchar *file; /* path of the media file; NULL until known */
  gchar *session; /* the recorder run that made it */
  gint64 offset; /* ms from the room's start to the recording's start */
  gint64 duration; /* seconds */
  gint64 size; /* bytes */
  gint64 created;
  gint64 updated;
} HqRecordingRecord;

/* One composition (Twilio's Composition resource). */
typedef struct
{
  gchar *sid; /* CJ... */
  gchar *room_sid;
  gchar *status; /* enqueued | processing | completed | failed */
  gchar *audio_sources; /* JSON array as text */
  gchar *video_layout; /* JSON object as text */
  gchar *resolution; /* "1280x720" */
  gchar *format; /* webm | mp4 */
  gchar *status_callback; /* NULL: none */
  gchar *file; /* NULL until completed */
  gchar *error; /* why it failed, or NULL */
  gint64 duration; /* seconds */
  gint64 size; /* bytes */
  gint64 created;
  gint64 updated;
} HqCompositionRecord;

void hq_recording_record_free (HqRecordingRecord *rec);
void hq_composition_record_free (HqCompositionRecord *rec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HqRecordingRecord, hq_recording_record_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HqCompositionRecord, hq_composition_record_free)

void hq_room_record_free (HqRoomRecord *rec);
void hq_participant_record_free (HqParticipantRecord *rec);
void hq_track_record_free (HqTrackRecord *rec);
void hq_chat_record_free (HqChatRecord *rec);
void hq_event_record_free (HqEventRecord *rec);
void hq_chat_media_record_free (HqChatMediaRecord *rec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HqChatMediaRecord, hq_chat_media_record_free)
void hq_ban_record_free (HqBanRecord *rec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HqBanRecord, hq_ban_record_free)
HqRoomRecord *hq_room_record_copy (const HqRoomRecord *rec);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HqRoomRecord, hq_room_record_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HqParticipantRecord, hq_participant_record_free)

/* Opens (creating when needed) the store in @data_dir. */
HqStore *hq_store_open (const gchar *data_dir, GError **error);
void hq_store_close (HqStore *store);

/* Inserts or replaces by sid.  A room in progress whose unique name another
 * in-progress room has fails with HQ_STORE_ERROR_CONFLICT. */
gboolean hq_store_put_room (
    HqStore *store, const HqRoomRecord *room, GError **error);
/* By sid; HQ_STORE_ERROR_NOT_FOUND when absent. */
HqRoomRecord *hq_store_get_room (
    HqStore *store, const gchar *sid, GError **error);
/* Newest first.  @status and @unique_name filter when not NULL.  Returns an
 * array of HqRoomRecord (free with g_ptr_array_unref). */
GPtrArray *hq_store_list_rooms (HqStore *store, const gchar *status,
    const gchar *unique_name, guint limit, guint offset, GError **error);

/* What a REST list of rooms or recordings asks for; NULL and 0 members do
 * not filter.  Dates are ms since the epoch: created_after is inclusive,
 * created_before exclusive (as Twilio's DateCreatedAfter/Before). */
typedef struct
{
  const gchar *status;
  const gchar *unique_name;
  gint64 created_after;
  gint64 created_before;
} HqRoomFilter;

typedef struct
{
  const gchar *room_sid;
  const gchar *status;
  const gchar *source_sid; /* the track sid */
  const gchar *type; /* audio | video */
  /* Each of these must be the room's or the participant's sid. */
  const gchar *const *grouping_sids;
  gint64 created_after;
  gint64 created_before;
} HqRecordingFilter;

/* Newest first, as hq_store_list_rooms. */
GPtrArray *hq_store_find_rooms (HqStore *store, const HqRoomFilter *filter,
    guint limit, guint offset, GError **error);

gboolean hq_store_put_participant (
    HqStore *store, const HqParticipantRecord *participant, GError **error);
HqParticipantRecord *hq_store_get_participant (
    HqStore *store, const gchar *room_sid, const gchar *sid, GError **error);
/* Oldest first, filtered by @status and @identity when not NULL. */
GPtrArray *hq_store_list_participants (HqStore *store, const gchar *room_sid,
    const gchar *status, const gchar *identity, guint limit, guint offset,
    GError **error);

gboolean hq_store_put_track (
    HqStore *store, const HqTrackRecord *track, GError **error);
/* A participant's tracks still published, oldest first. */
GPtrArray *hq_store_list_tracks (
    HqStore *store, const gchar *participant_sid, GError **error);

/* Assigns @msg->index (the room's next) and commits the message. */
gboolean hq_store_add_chat (HqStore *store, HqChatRecord *msg, GError **error);
/* Up to @limit messages with index < @before (0: the newest), returned
 * oldest first. */
GPtrArray *hq_store_chat_history (HqStore *store, const gchar *room_sid,
    gint64 before, guint limit, GError **error);

/* Chat attachments: inserted by sid; by sid (HQ_STORE_ERROR_NOT_FOUND when
 * absent). */
gboolean hq_store_add_chat_media (
    HqStore *store, const HqChatMediaRecord *rec, GError **error);
HqChatMediaRecord *hq_store_get_chat_media (
    HqStore *store, const gchar *sid, GError **error);

/* Assigns @event->sequence and commits the event. */
gboolean hq_store_add_event (
    HqStore *store, HqEventRecord *event, GError **error);
/* Oldest first. */
GPtrArray *hq_store_list_events (HqStore *store, const gchar *room_sid,
    guint limit, guint offset, GError **error);

/* Recordings: inserted or replaced by sid. */
gboolean hq_store_put_recording (
    HqStore *store, const HqRecordingRecord *rec, GError **error);
HqRecordingRecord *hq_store_get_recording (
    HqStore *store, const gchar *sid, GError **error);
/* Oldest first; @room_sid and @status filter when not NULL. */
GPtrArray *hq_store_list_recordings (HqStore *store, const gchar *room_sid,
    const gchar *status, guint limit, guint offset, GError **error);
/* Oldest first, as hq_store_list_recordings. */
GPtrArray *hq_store_find_recordings (HqStore *store,
    const HqRecordingFilter *filter, guint limit, guint offset, GError **error);

gboolean hq_store_put_composition (
    HqStore *store, const HqCompositionRecord *rec, GError **error);
HqCompositionRecord *hq_store_get_composition (
    HqStore *store, const gchar *sid, GError **error);
typedef struct
{
  const gchar *room_sid;
  const gchar *status;
  gint64 created_after; /* 0: any */
  gint64 created_before; /* 0: any */
} HqCompositionFilter;

/* Oldest first; @room_sid and @status filter when not NULL. */
GPtrArray *hq_store_list_compositions (HqStore *store, const gchar *room_sid,
    const gchar *status, guint limit, guint offset, GError **error);
/* Oldest first, as hq_store_list_compositions. */
GPtrArray *hq_store_find_compositions (HqStore *store,
    const HqCompositionFilter *filter, guint limit, guint offset,
    GError **error);

/* A room's recording rules as JSON text ({"rules": [...]}); NULL (no error)
 * when none were ever set. */
gboolean hq_store_put_recording_rules (
    HqStore *store, const gchar *room_sid, const gchar *rules, GError **error);
gchar *hq_store_get_recording_rules (
    HqStore *store, const gchar *room_sid, GError **error);

/* Bans, one per room and identity; putting one again replaces it. */
gboolean hq_store_put_ban (
    HqStore *store, const HqBanRecord *ban, GError **error);
/* HQ_STORE_ERROR_NOT_FOUND when @identity is not banned from the room. */
HqBanRecord *hq_store_get_ban (HqStore *store, const gchar *room_sid,
    const gchar *identity, GError **error);
/* Oldest first. */
GPtrArray *hq_store_list_bans (
    HqStore *store, const gchar *room_sid, GError **error);
/* HQ_STORE_ERROR_NOT_FOUND when there was no such ban. */
gboolean hq_store_delete_ban (HqStore *store, const gchar *room_sid,
    const gchar *identity, GError **error);

void hq_invite_record_free (HqInviteRecord *rec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HqInviteRecord, hq_invite_record_free)
/* Invites: inserted once; by the hash of the code
 * (HQ_STORE_ERROR_NOT_FOUND when absent). */
gboolean hq_store_put_invite (
    HqStore *store, const HqInviteRecord *invite, GError **error);
HqInviteRecord *hq_store_get_invite (
    HqStore *store, const gchar *code_hash, GError **error);
/* Counts one use, in one statement, unless the invite's uses are spent:
 * *@used says whether it counted. */
gboolean hq_store_use_invite (
    HqStore *store, const gchar *code_hash, gboolean *used, GError **error);
/* Forgets the invites that expired before @before (unix ms). */
gboolean hq_store_prune_invites (HqStore *store, gint64 before, GError **error);

/* Rooms whose participants exchanged end-to-end keys (e2ee_send): the
 * server cannot decode their media (docs/e2ee.md).  Marking one again
 * changes nothing; kept after the room ends. */
gboolean hq_store_mark_e2ee (
    HqStore *store, const gchar *room_sid, GError **error);
/* FALSE too when the store cannot tell (@error set). */
gboolean hq_store_is_e2ee (
    HqStore *store, const gchar *room_sid, GError **error);

G_END_DECLS

#endif /* __HQ_STORE_H__ */
