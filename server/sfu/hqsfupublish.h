/* Publish offers and answers (hqsfupublish.c). */
#ifndef __HQSFUPUBLISH_H__
#define __HQSFUPUBLISH_H__

#include "hqsfustate.h"

G_BEGIN_DECLS

void hq_sfu_handle_publish_offer (
    HqSfuParticipant *p, JsonObject *msg, const gchar *id);

G_END_DECLS

#endif /* __HQSFUPUBLISH_H__ */
