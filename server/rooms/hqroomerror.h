/* The errors of the control plane's rooms (HQ_ROOM_ERROR), on their own so
 * that what rooms use (track rules, recordings, compositions) can report
 * them without depending on the rooms.  hq_room_error_code (hqroom.h) maps
 * them to the protocol's error codes. */
#ifndef __HQ_ROOM_ERROR_H__
#define __HQ_ROOM_ERROR_H__

#include <glib.h>

G_BEGIN_DECLS

#define HQ_ROOM_ERROR (hq_room_error_quark ())
GQuark hq_room_error_quark (void);

/**
 * HqRoomError:
 * @HQ_ROOM_ERROR_INVALID: a parameter is out of range or of the wrong kind.
 * @HQ_ROOM_ERROR_NOT_FOUND: no such room, participant or track.
 * @HQ_ROOM_ERROR_NAME_TAKEN: an in-progress room already has the name.
 * @HQ_ROOM_ERROR_COMPLETED: the room has completed.
 * @HQ_ROOM_ERROR_FULL: the room has as many participants as it may.
 * @HQ_ROOM_ERROR_FORBIDDEN: only a host may do this.
 * @HQ_ROOM_ERROR_STORE: the change could not be stored; nothing changed.
 * @HQ_ROOM_ERROR_RECORDER: the server's recorder may not do this (chat,
 *   publish, choose its subscriptions).
 * @HQ_ROOM_ERROR_BANNED: a host or the REST API removed this identity from
 *   the room (or denied it in the lobby); it may not join until a host
 *   admits it again.
 * @HQ_ROOM_ERROR_NOT_ADMITTED: a guest asked for the chat of a room with a
 *   waiting room before a host let them in.
 * @HQ_ROOM_ERROR_TOO_BIG: a data track message over HQ_PROTOCOL_MAX_DATA.
 * @HQ_ROOM_ERROR_RATE_LIMITED: more data track messages or bytes in a
 *   second than one participant may send.
 * @HQ_ROOM_ERROR_DRAINING: the server is stopping and takes no new
 *   participant (a resume is still taken).
 */
typedef enum
{
  HQ_ROOM_ERROR_INVALID,
  HQ_ROOM_ERROR_NOT_FOUND,
  HQ_ROOM_ERROR_NAME_TAKEN,
  HQ_ROOM_ERROR_COMPLETED,
  HQ_ROOM_ERROR_FULL,
  HQ_ROOM_ERROR_FORBIDDEN,
  HQ_ROOM_ERROR_STORE,
  HQ_ROOM_ERROR_RECORDER,
  HQ_ROOM_ERROR_BANNED,
  HQ_ROOM_ERROR_NOT_ADMITTED,
  HQ_ROOM_ERROR_TOO_BIG,
  HQ_ROOM_ERROR_RATE_LIMITED,
  HQ_ROOM_ERROR_DRAINING,
} HqRoomError;

/* Sets HQ_ROOM_ERROR_INVALID with a printf message; returns FALSE. */
gboolean hq_room_invalid (GError **error, const gchar *format, ...)
    G_GNUC_PRINTF (2, 3);
/* Reports a store failure (@local, taken) as HQ_ROOM_ERROR_STORE. */
gboolean hq_room_store_failed (GError *local, GError **error);

G_END_DECLS

#endif /* __HQ_ROOM_ERROR_H__ */
