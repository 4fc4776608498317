/* Commands from the SFU's API (main context) to a room's media worker.
 *
 * Ownership rule between the SFU's threads: the main context and a
 * worker share no mutable object.  An HqSfuCmd owns a copy of everything
 * it carries: strings are duplicated, JSON (a participant's media message,
 * subscribe rules) is carried as text, lists as a GStrv.  The thread that
 * builds a command never touches it again once it is handed over; the
 * worker reads it, builds its own objects from it (parsing the text
 * itself) and clears it there.  No JsonObject, JsonArray or other object
 * whose reference count is not atomic (json-glib's are not) ever goes in
 * a command.  The way back is the same: what the SFU says to a
 * participant crosses to the main context as JSON text
 * (hq_sfu_room_send()), which the main context parses into its own
 * object.  The
 * one thing both sides hold is the HqSfuRoom, and of it only the fields
 * marked atomic or set before the room's first command (hqsfustate.h).
 *
 * Layering (docs/sfu.md, "Code"): this file knows nothing of rooms,
 * participants or transports; it is the bottom of the SFU with
 * hqworkers.h.
 */
#ifndef __HQ_SFU_CMD_H__
#define __HQ_SFU_CMD_H__

#include <json-glib/json-glib.h>
#include <hq/hqbwprofile.h>

G_BEGIN_DECLS

typedef enum
{
  HQ_SFU_CMD_CREATE,
  HQ_SFU_CMD_DESTROY,
  HQ_SFU_CMD_ADD_PARTICIPANT,
  HQ_SFU_CMD_REMOVE_PARTICIPANT,
  HQ_SFU_CMD_SET_SELECTION,
  HQ_SFU_CMD_SET_RULES,
  HQ_SFU_CMD_RESUME,
  HQ_SFU_CMD_ADD_TRACK,
  HQ_SFU_CMD_REMOVE_TRACK,
  HQ_SFU_CMD_SET_TRACK_ENABLED,
  HQ_SFU_CMD_SET_TRACK_PRIORITY,
  HQ_SFU_CMD_SET_SUBSCRIBER_PRIORITY,
  HQ_SFU_CMD_HANDLE,
  HQ_SFU_CMD_SET_BANDWIDTH_PROFILE,
  HQ_SFU_CMD_SET_TRACK_HINTS,
} HqSfuCmdType;

/* Which kind of media a track carries, as the worker needs it. */
typedef enum
{
  HQ_SFU_CMD_KIND_AUDIO,
  HQ_SFU_CMD_KIND_VIDEO,
} HqSfuCmdKind;

/**
 * HqSfuCmd:
 *
 * One call of the SFU's API on its way to the room's worker.  Only the
 * member of @u that @type names is set; every pointer in it is owned by
 * the command (hq_sfu_cmd_clear() frees them).
 */
typedef struct
{
  HqSfuCmdType type;
  union
  {
    /* ADD_PARTICIPANT */
    struct
    {
      gchar *sid;
      gchar *identity;
      gboolean hidden;
    } add_participant;
    /* REMOVE_PARTICIPANT, RESUME */
    struct
    {
      gchar *sid;
    } participant;
    /* SET_SELECTION: the hidden participant's tracks */
    struct
    {
      gchar *sid;
      GStrv track_sids; /* never NULL; may be empty */
    } selection;
    /* SET_RULES: a JSON array of checked rules, NULL for every track */
    struct
    {
      gchar *sid;
      gchar *rules_json;
    } rules;
    /* ADD_TRACK */
    struct
    {
      gchar *participant_sid;
      gchar *track_sid;
      gchar *name;
      HqSfuCmdKind kind;
      gint priority; /* an HqSfuPriority */
    } add_track;
    /* REMOVE_TRACK */
    struct
    {
      gchar *track_sid;
    } track;
    /* SET_TRACK_ENABLED */
    struct
    {
      gchar *track_sid;
      gboolean enabled;
    } enabled;
    /* SET_TRACK_PRIORITY */
    struct
    {
      gchar *track_sid;
      gint priority; /* an HqSfuPriority */
    } track_priority;
    /* SET_SUBSCRIBER_PRIORITY */
    struct
    {
      gchar *sid;
      gchar *track_sid;
      gint priority; /* an HqSfuPriority, or -1: the track's again */
    } subscriber_priority;
    /* HANDLE: a media message the session checked, as JSON text */
    struct
    {
      gchar *sid;
      gchar *text;
    } handle;
    /* SET_BANDWIDTH_PROFILE: the whole profile in effect (plain data) */
    struct
    {
      gchar *sid;
      HqBandwidthProfile profile;
    } bandwidth_profile;
    /* SET_TRACK_HINTS: a copy of the hints (plain data) */
    struct
    {
      gchar *sid;
      HqTrackHint *hints;
      guint n_hints;
    } track_hints;
  } u;
} HqSfuCmd;

/* Each fills @cmd (its old content is not freed) with copies of the
 * arguments; the caller keeps what it passed.  _init() is for the
 * commands that carry nothing (CREATE, DESTROY). */
void hq_sfu_cmd_init (HqSfuCmd *cmd, HqSfuCmdType type);
void hq_sfu_cmd_init_add_participant (
    HqSfuCmd *cmd, const gchar *sid, const gchar *identity, gboolean hidden);
/* REMOVE_PARTICIPANT or RESUME */
void hq_sfu_cmd_init_participant (
    HqSfuCmd *cmd, HqSfuCmdType type, const gchar *sid);
void hq_sfu_cmd_init_selection (
    HqSfuCmd *cmd, const gchar *sid, const gchar *const *track_sids);
void hq_sfu_cmd_init_rules (HqSfuCmd *cmd, const gchar *sid, JsonArray *rules);
/* FALSE (and @cmd untouched) when @kind is neither "audio" nor "video". */
gboolean hq_sfu_cmd_init_add_track (HqSfuCmd *cmd, const gchar *participant_sid,
    const gchar *track_sid, const gchar *name, const gchar *kind,
    gint priority);
void hq_sfu_cmd_init_remove_track (HqSfuCmd *cmd, const gchar *track_sid);
void hq_sfu_cmd_init_track_enabled (
    HqSfuCmd *cmd, const gchar *track_sid, gboolean enabled);
void hq_sfu_cmd_init_track_priority (
    HqSfuCmd *cmd, const gchar *track_sid, gint priority);
void hq_sfu_cmd_init_subscriber_priority (
    HqSfuCmd *cmd, const gchar *sid, const gchar *track_sid, gint priority);
void hq_sfu_cmd_init_handle (HqSfuCmd *cmd, const gchar *sid, JsonObject *msg);
void hq_sfu_cmd_init_bandwidth_profile (
    HqSfuCmd *cmd, const gchar *sid, const HqBandwidthProfile *profile);
void hq_sfu_cmd_init_track_hints (
    HqSfuCmd *cmd, const gchar *sid, const HqTrackHint *hints, guint n);

/* Frees what @cmd owns (not @cmd itself). */
void hq_sfu_cmd_clear (HqSfuCmd *cmd);

/* @msg as compact JSON text: what crosses between the threads. */
gchar *hq_sfu_json_object_to_text (JsonObject *msg);
/* The object @text holds, parsed afresh for the calling thread, or NULL
 * when it is no JSON object. */
JsonObject *hq_sfu_json_object_from_text (const gchar *text);

G_END_DECLS

#endif /* __HQ_SFU_CMD_H__ */
