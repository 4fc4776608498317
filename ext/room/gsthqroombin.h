/* GstHqRoomBin: the abstract base of hqroomsrc and hqroomsink, as
 * gst-plugins-rs's BaseWebRTCSrc is of webrtcsrc.  It holds what being a
 * participant of a room takes, whatever the element does with media: the
 * connection settings (server, room, token, identity, reconnect-timeout,
 * ice-*, tls-ca-file), the thread that runs libhq's HqRoomClient, joining
 * on READY->PAUSED and leaving on PAUSED->READY, the `send-chat-message`
 * action, room events as element messages and the client's errors as
 * element errors.  A subclass keeps its pads, streams and chains, and
 * hooks into the client through the class's vfuncs. */
#ifndef __GST_HQ_ROOM_BIN_H__
#define __GST_HQ_ROOM_BIN_H__

#include <gst/gst.h>
#include <hq/hqroomclient.h>
#include "gsthqroomenums.h"

G_BEGIN_DECLS

#define GST_HQ_ROOM_DEFAULT_SERVER "http://127.0.0.1:8844"
#define GST_HQ_ROOM_DEFAULT_RECONNECT_TIMEOUT_MS 30000

#define GST_TYPE_HQ_ROOM_BIN (gst_hq_room_bin_get_type ())
G_DECLARE_DERIVABLE_TYPE (
    GstHqRoomBin, gst_hq_room_bin, GST, HQ_ROOM_BIN, GstBin)

/**
 * GstHqRoomBinClass:
 * @subscribe: the client subscribes to the others' tracks (hqroomsrc)
 * @debug: the subclass's debug category: what the base logs about an
 *   element goes to that element's category (GST_DEBUG=hqroomsrc:6)
 * @starting: READY->PAUSED, before the client exists (any setup that
 *   the settings of the moment decide)
 * @setup_client: on the client's thread, right after the client is made
 *   and before it starts: connect signals, set what it publishes.  The
 *   subclass's handlers run before the base's, which post the bus
 *   messages.
 * @stopped: PAUSED->READY, after the client left and its thread ended
 * @property_changed: a property installed with
 *   gst_hq_room_bin_class_install_field() was set (outside the object
 *   lock)
 */
struct _GstHqRoomBinClass
{
  GstBinClass parent_class;

  gboolean subscribe;
  GstDebugCategory *debug;

  void (*starting) (GstHqRoomBin *self);
  void (*setup_client) (GstHqRoomBin *self, HqRoomClient *client);
  void (*stopped) (GstHqRoomBin *self);
  void (*property_changed) (GstHqRoomBin *self, GParamSpec *pspec);
};

/* Installs @pspec, a property of the subclass @klass whose value is a
 * field of the instance at @offset: the base reads and writes it under
 * the object lock, and then calls @klass's property_changed outside the
 * lock (where a child's property may be set).  The field is a gchar *
 * for a string, a guint, a gboolean, an enum, or a NULL-terminated
 * gchar ** for a GstValueArray of strings (NULL when empty).  Every
 * property of a subclass goes this way. */
void gst_hq_room_bin_class_install_field (
    GstHqRoomBinClass *klass, guint prop_id, gsize offset, GParamSpec *pspec);

/* Makes the subclass's debug category @name (GST_DEBUG=@name:5), where
 * the base logs about the element too; returns it for the subclass's
 * GST_CAT_DEFAULT.  In class_init. */
GstDebugCategory *gst_hq_room_bin_class_add_debug (
    GstHqRoomBinClass *klass, const gchar *name, const gchar *description);

/* The bin's rtpbin (named "rtpbin", AVPF), or NULL when gst-plugins-good
 * is missing; owned by the bin. */
GstElement *gst_hq_room_bin_get_rtpbin (GstHqRoomBin *self);
/* The running client, with a reference, or NULL; any thread. */
HqRoomClient *gst_hq_room_bin_ref_client (GstHqRoomBin *self);
/* Runs @func on the client's thread (at once freeing @data with @notify
 * when none runs); any thread, also while the element stops. */
void gst_hq_room_bin_invoke (
    GstHqRoomBin *self, GSourceFunc func, gpointer data, GDestroyNotify notify);
/* The identity property (NULL when unset). */
gchar *gst_hq_room_bin_dup_identity (GstHqRoomBin *self);

G_END_DECLS

#endif /* __GST_HQ_ROOM_BIN_H__ */
