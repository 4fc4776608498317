/* A room on its worker (hqsfuroom.c). */
#ifndef __HQSFUROOM_H__
#define __HQSFUROOM_H__

#include "hqsfustate.h"
#include "hqsfucmd.h"

G_BEGIN_DECLS

/* Runs one command of the API on @room's worker. */
void hq_sfu_room_run (HqSfuRoom *room, const HqSfuCmd *cmd);

G_END_DECLS

#endif /* __HQSFUROOM_H__ */
