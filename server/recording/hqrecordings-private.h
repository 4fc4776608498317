/* What the recording supervisor's two files share: hqrecordings.c decides
 * (room states, rules, what the participants are told), hqrecordings-run.c
 * runs (one hq-record child per run, its output, and settling its rows
 * from the manifest when it exits).  Main context only. */
#ifndef __HQ_RECORDINGS_PRIVATE_H__
#define __HQ_RECORDINGS_PRIVATE_H__

#include "hqrecordings.h"
#include "hqlog.h"

G_BEGIN_DECLS

typedef struct _RoomState RoomState;
typedef struct _Run Run;

typedef struct
{
  HqRecordingRecord *rec;
  gchar *identity; /* the publisher's, to find the row in the manifest */
  gint64 media_ms; /* wall clock of its first media, as the child said */
  gboolean media_exact; /* media_ms from the first packet ("media") */
} RunRow;

struct _Run
{
  HqRecordings *recordings;
  RoomState *state; /* NULL once the room state let go of the run */
  gchar *room_sid;
  gchar *session;
  gchar *dir;
  gchar *jti;
  GSubprocess *child; /* NULL for a run left by a previous process */
  GDataInputStream *out;
  GCancellable *cancel; /* the pending read of its output */
  gboolean stopping; /* we asked it to finish */
  gchar *recorder_sid; /* its hidden participant, once joined */
  gboolean joined; /* it joined the room at least once */
  GHashTable *open; /* track sid -> RunRow being recorded (borrowed) */
  GPtrArray *rows; /* RunRow, owned, in creation order */
  gint64 started;
};

struct _RoomState
{
  gchar *room_sid;
  HqRoom *room; /* NULL once the room ended */
  JsonArray *rules;
  gint64 rules_created, rules_updated;
  Run *run;
  gboolean restart_blocked; /* the last run died young */
  /* Who set the rules last: a host by signalling ({sid, identity, name}),
   * or NULL for REST and RecordParticipantsOnConnect. */
  JsonObject *rules_by;
  /* What the participants were last told: on or off, and the sorted sids
   * of the participants being recorded. */
  gboolean told_on;
  gchar *told_participants;
};

struct _HqRecordings
{
  HqRooms *rooms;
  gchar *dir;
  gchar *url; /* where the recorder joins */
  gchar *tls_certificate; /* the server's certificate file; NULL: http */
  gboolean closing; /* the server is stopping: no new runs */
  GHashTable *states; /* room sid -> RoomState */
  GPtrArray *runs; /* Run with a live child */
};

/* hqrecordings-run.c */
Run *hq_recordings_run_start (HqRecordings *recs, RoomState *state);
void hq_recordings_run_stop (Run *run);
void hq_recordings_log_run (
    Run *run, HqLogLevel level, const gchar *what, const gchar *detail);
void hq_recordings_row_changed (
    HqRecordings *recs, HqRecordingRecord *rec, const gchar *event);
void hq_recordings_settle_orphans (HqRecordings *recs);

/* hqrecordings.c */
void hq_recordings_sync_room (HqRecordings *recs, RoomState *state);
void hq_recordings_announce (RoomState *state);

G_END_DECLS

#endif /* __HQ_RECORDINGS_PRIVATE_H__ */
