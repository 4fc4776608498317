/* Subscribers' RTCP (hqsfufeedback.c). */
#ifndef __HQSFUFEEDBACK_H__
#define __HQSFUFEEDBACK_H__

#include "hqsfustate.h"

G_BEGIN_DECLS

/* The receive function of a participant's subscribe transport. */
void hq_sfu_on_subscribe_packet (
    gboolean rtcp, guint8 *data, gsize len, gpointer user_data);

G_END_DECLS

#endif /* __HQSFUFEEDBACK_H__ */
