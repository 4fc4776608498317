/* Reading the TURN settings ([turn], [media] ice_tcp; docs/configuration.md)
 * into HqConfig.  hqturn.h makes the credentials from them. */
#ifndef __HQ_CONFIG_TURN_H__
#define __HQ_CONFIG_TURN_H__

#include "hqconfig.h"

G_BEGIN_DECLS

/* Reads [turn] and [media] ice_tcp from @kf, or from the environment when
 * @kf is NULL, into @config. */
gboolean hq_turn_load (HqConfig *config, GKeyFile *kf, GError **error);

/* What no single setting can say (URLs without a secret and the like):
 * run after every source is read. */
gboolean hq_turn_check (HqConfig *config, GError **error);

G_END_DECLS

#endif /* __HQ_CONFIG_TURN_H__ */
