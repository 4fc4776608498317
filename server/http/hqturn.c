/* The ICE servers handed to participants; see hqturn.h.  The [turn]
 * settings are read by hqconfig-turn.c. */
#include "hqturn.h"

#include <string.h>
#include <hq/hqice.h>

static JsonArray *
url_array (gchar **urls)
{
  JsonArray *a = json_array_new ();

  for (gchar **u = urls; u && *u; u++)
    json_array_add_string_element (a, *u);
  return a;
}

JsonArray *
hq_turn_ice_servers (HqConfig *config, const gchar *identity)
{
  JsonArray *servers = json_array_new ();

  if (config->stun_urls) {
    JsonObject *stun = json_object_new ();
    json_object_set_array_member (stun, "urls", url_array (config->stun_urls));
    json_array_add_object_element (servers, stun);
  }
  if (config->turn_urls && config->turn_secret) {
    JsonObject *turn = json_object_new ();
    gint64 expires = g_get_real_time () / G_USEC_PER_SEC + config->turn_ttl;
    g_autofree gchar *username =
        g_strdup_printf ("%" G_GINT64_FORMAT ":%s", expires, identity);
    g_autofree gchar *credential =
        hq_turn_rest_credential (config->turn_secret, username);
    json_object_set_array_member (turn, "urls", url_array (config->turn_urls));
    json_object_set_string_member (turn, "username", username);
    json_object_set_string_member (turn, "credential", credential);
    json_array_add_object_element (servers, turn);
  }
  return servers;
}
