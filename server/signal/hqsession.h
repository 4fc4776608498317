/* One participant's signalling session: the protocol of docs/protocol.md
 * spoken over any transport that carries text messages.  hqsignal.c
 * gives each WebSocket connection one; the fuzzer drives one directly. */
#ifndef __HQ_SESSION_H__
#define __HQ_SESSION_H__

#include "hqconfig.h"
#include "hqroom.h"
#include "hqratelimit.h"

G_BEGIN_DECLS

typedef struct _HqSession HqSession;

/**
 * HqSessionTransport:
 * @send: deliver one text message to the client.
 * @close: end the connection with a WebSocket close @code and @reason.
 */
typedef struct
{
  void (*send) (gpointer user_data, const gchar *text);
  void (*close) (gpointer user_data, gushort code, const gchar *reason);
} HqSessionTransport;

HqSession *hq_session_new (HqConfig *config, HqRooms *rooms,
    const HqSessionTransport *transport, gpointer user_data);
/* Frees the session only: call hq_session_connection_lost() or
 * hq_session_detach() first if it has a participant. */
void hq_session_free (HqSession *session);

/* The client's address, and the limits its joins count against (either
 * may be NULL: no limit). */
void hq_session_set_peer (
    HqSession *session, const gchar *address, HqRateLimits *limits);
/* Whether a join succeeded on this connection (joined or waiting). */
gboolean hq_session_has_joined (HqSession *session);

/* Handles one message (@len bytes of UTF-8 text, not NUL-terminated). */
/* Handles one WebSocket message (@len bytes, not NUL-terminated; UTF-8
 * when @text): the size limits of docs/protocol.md (closing the
 * connection with 1009 beyond them), then a parse bounded in depth, then
 * the typed fields of its type, then what it asks. */
void hq_session_handle_frame (
    HqSession *session, gboolean text, const gchar *data, gsize len);
/* hq_session_handle_frame() of a text message. */
void hq_session_handle_text (HqSession *session, const gchar *data, gsize len);
/* Sends an `error` without id, for what the transport refuses itself. */
void hq_session_send_error (
    HqSession *session, HqProtocolError code, const gchar *message);
/* The connection dropped: the participant may resume within the grace. */
void hq_session_connection_lost (HqSession *session);
/* Forgets the participant without telling the room (shutdown). */
void hq_session_detach (HqSession *session);

G_END_DECLS

#endif /* __HQ_SESSION_H__ */
