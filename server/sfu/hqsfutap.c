/* The forwarding tap, a test hook: see hqsfutap.h. */
#include "hqsfutap.h"

#include <stdio.h>
#include <string.h>

#define LINKTYPE_RAW 101 /* the packet starts with its IPv4 header */

static GMutex tap_lock; /* around writes to tap_file */
static FILE *tap_file; /* set once, in tap_open () */

static void
put16 (guint8 *p, guint v)
{
  p[0] = (guint8)(v >> 8);
  p[1] = (guint8)v;
}

/* Opens the file named by $HQ_SFU_TAP and writes its pcap header; leaves
 * tap_file NULL when the tap is off or the file cannot be written (said
 * on stderr).  Runs once (g_once_init_enter). */
static void
tap_open (void)
{
  /* magic, version 2.4, zone, accuracy, snap length, link type, in the
   * machine's byte order, which the magic tells readers */
  const guint32 magic = 0xa1b2c3d4, rest[4] = { 0, 0, 65535, LINKTYPE_RAW };
  const guint16 version[2] = { 2, 4 };
  const gchar *path;

  path = g_getenv ("HQ_SFU_TAP");
  if (path == NULL || *path == '\0')
    return;
  tap_file = fopen (path, "wb");
  if (tap_file == NULL) {
    g_printerr ("hq-server: cannot write the forwarding tap %s\n", path);
    return;
  }
  fwrite (&magic, sizeof magic, 1, tap_file);
  fwrite (version, sizeof version, 1, tap_file);
  fwrite (rest, sizeof rest, 1, tap_file);
}

void
hq_sfu_tap_packet (const guint8 *rtp, gsize len, gboolean video)
{
  static gsize opened;
  guint8 ip[28] = { 0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 127, 0, 0, 1,
    127, 0, 0, 1 };
  gint64 now;
  guint32 rec[4];

  /* Every forwarded packet comes here, from every media worker: with the
   * tap off (always, outside tests) it costs one read, no lock. */
  if (g_once_init_enter (&opened)) {
    tap_open ();
    g_once_init_leave (&opened, 1);
  }
  if (tap_file == NULL || len > 65535 - sizeof ip)
    return;
  now = g_get_real_time ();
  put16 (ip + 2, (guint)(len + sizeof ip));
  put16 (ip + 20, 40000);
  put16 (ip + 22, video ? 5004 : 5002);
  put16 (ip + 24, (guint)(len + 8));
  rec[0] = (guint32)(now / G_USEC_PER_SEC);
  rec[1] = (guint32)(now % G_USEC_PER_SEC);
  rec[2] = rec[3] = (guint32)(len + sizeof ip);
  g_mutex_lock (&tap_lock);
  fwrite (rec, sizeof rec, 1, tap_file);
  fwrite (ip, sizeof ip, 1, tap_file);
  fwrite (rtp, len, 1, tap_file);
  fflush (tap_file);
  g_mutex_unlock (&tap_lock);
}
