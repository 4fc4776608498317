/* The worker side of the SFU's edge between threads (hqsfuedge.c). */
#ifndef __HQSFUEDGE_H__
#define __HQSFUEDGE_H__

#include "hqsfustate.h"
#include <hq/hqprotocol.h>

G_BEGIN_DECLS

/* The room's reference count (atomic: the main context and the work
 * queued on the worker hold references). */
HqSfuRoom *hq_sfu_room_ref (HqSfuRoom *room);
void hq_sfu_room_unref (HqSfuRoom *room);

/* Back to the control plane: @msg crosses as JSON text (the caller keeps
 * it), parsed again on the main context for the room's send callback;
 * @participant_sid NULL: everyone. */
void hq_sfu_room_send (
    HqSfuRoom *room, const gchar *participant_sid, JsonObject *msg);
/* {"type": "error", "id": @id, "code": @code, "message": @message} */
void hq_sfu_send_error (HqSfuRoom *room, const gchar *sid, const gchar *id,
    HqProtocolError code, const gchar *message);
/* {"type": "ok", "id": @id}: a request that has nothing else to say. */
void hq_sfu_send_ok (HqSfuRoom *room, const gchar *sid, const gchar *id);

G_END_DECLS

#endif /* __HQSFUEDGE_H__ */
