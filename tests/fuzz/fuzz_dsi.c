/* Fuzz target for libhq dsi: the SFU feeds it levels and times that come
 * from the network (RFC 6464 header extensions, packet arrival), so any
 * sequence of calls with any values must keep it consistent.
 *
 * The input is a program of 4-byte instructions: op, speaker id, and a
 * 16-bit argument (a level or a time step).  After each one the detector
 * must still name only a tracked speaker. */
#include <glib.h>
#include <hq/hqdsi.h>

#define MAX_IDS 8

int LLVMFuzzerTestOneInput (const guint8 *data, gsize size);

int
LLVMFuzzerTestOneInput (const guint8 *data, gsize size)
{
  HqDsi *dsi = hq_dsi_new (
      size && (data[0] & 1) ? HQ_DSI_ALGORITHM_LOUDEST : HQ_DSI_ALGORITHM_DSI);
  gboolean tracked[MAX_IDS] = { FALSE };
  gint64 now = 0;

  for (gsize i = 1; i + 4 <= size; i += 4) {
    guint32 id = data[i + 1] % MAX_IDS, dominant;
    guint arg = data[i + 2] | (data[i + 3] << 8);

    switch (data[i] % 6) {
      case 0:
        g_assert (hq_dsi_add_speaker (dsi, id, NULL) == !tracked[id]);
        tracked[id] = TRUE;
        break;
      case 1:
        g_assert (hq_dsi_remove_speaker (dsi, id, NULL) == tracked[id]);
        tracked[id] = FALSE;
        break;
      case 2:
        /* A level at now, or a little in the past (reordered). */
        hq_dsi_push_level (dsi, id, arg & 0xff, now - (arg >> 8) % 64, NULL);
        break;
      case 3:
        now += arg;
        hq_dsi_tick (dsi, now, NULL, NULL);
        break;
      case 4:
        hq_dsi_set_silence_timeout (dsi, (gint16)arg);
        break;
      default:
        now += arg % 40;
        break;
    }
    if (hq_dsi_get_dominant (dsi, &dominant))
      g_assert (dominant < MAX_IDS && tracked[dominant]);
  }
  hq_dsi_free (dsi);
  return 0;
}
