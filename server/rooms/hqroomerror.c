/* Room errors; see hqroomerror.h. */
#include "hqroomerror.h"
#include "hqlog.h"

G_DEFINE_QUARK (hq - room - error - quark, hq_room_error);

gboolean
hq_room_invalid (GError **error, const gchar *format, ...)
{
  va_list args;

  va_start (args, format);
  if (error)
    *error =
        g_error_new_valist (HQ_ROOM_ERROR, HQ_ROOM_ERROR_INVALID, format, args);
  va_end (args);
  return FALSE;
}

gboolean
hq_room_store_failed (GError *local, GError **error)
{
  hq_log_message (HQ_LOG_ERROR, "store", "%s", local->message);
  g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_STORE,
      "the change could not be stored: %s", local->message);
  g_error_free (local);
  return FALSE;
}
