/* bench/sdp: what reading, writing and answering a session description
 * costs, against GStreamer's own SDP parser and writer measured in the
 * same run (the layer libhq builds on: the ratio is what our checks and
 * model add).
 *
 * Two descriptions: a browser offer (3 m-lines, the Chromium 156 capture
 * from tests/check/libs/sdp/) and the subscribe offer the SFU sends in a
 * full 50-participant room (98 m-lines, built here).
 *
 *   build/bench/bench-sdp [iterations]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gst/sdp/sdp.h>
#include <hq/hqsdp.h>
#include "../tests/check/libs/sdp/local.h"

/* The SFU's subscribe offer: audio and video from each of 49 others. */
static gchar *
room_offer_text (void)
{
  HqSdpTrack tracks[98];
  gchar *ids[98];
  g_autoptr (HqSdp) offer = NULL;
  gchar *text;

  for (guint i = 0; i < 98; i++) {
    ids[i] = g_strdup_printf ("p%u-%s", i / 2, i % 2 ? "cam" : "mic");
    tracks[i] = (HqSdpTrack){ i % 2 ? HQ_SDP_KIND_VIDEO : HQ_SDP_KIND_AUDIO,
      NULL, HQ_SDP_SENDONLY, ids[i], ids[i], 1000 + 2 * i,
      i % 2 ? 1001 + 2 * i : 0 };
  }
  offer = hq_sdp_build_offer (&local, tracks, 98, NULL, NULL);
  text = hq_sdp_to_text (offer);
  for (guint i = 0; i < 98; i++)
    g_free (ids[i]);
  return text;
}

static double
now_us (void)
{
  return (double)g_get_monotonic_time ();
}

static void
bench (const gchar *name, const gchar *text, long n)
{
  gsize len = strlen (text);
  double t0, gst_parse, hq_parse, gst_write, hq_write, answer;
  GstSDPMessage *msg = NULL;
  HqSdp *sdp = NULL;

  t0 = now_us ();
  for (long i = 0; i < n; i++) {
    gst_sdp_message_new (&msg);
    gst_sdp_message_parse_buffer ((const guint8 *)text, len, msg);
    if (i + 1 < n)
      gst_sdp_message_free (msg);
  }
  gst_parse = (now_us () - t0) / n;

  t0 = now_us ();
  for (long i = 0; i < n; i++) {
    hq_sdp_free (sdp);
    sdp = hq_sdp_parse (HQ_SDP_OFFER, text, len, NULL);
  }
  hq_parse = (now_us () - t0) / n;
  if (sdp == NULL) {
    fprintf (stderr, "%s does not parse\n", name);
    exit (1);
  }

  t0 = now_us ();
  for (long i = 0; i < n; i++)
    g_free (gst_sdp_message_as_text (msg));
  gst_write = (now_us () - t0) / n;

  t0 = now_us ();
  for (long i = 0; i < n; i++)
    g_free (hq_sdp_to_text (sdp));
  hq_write = (now_us () - t0) / n;

  t0 = now_us ();
  for (long i = 0; i < n; i++)
    hq_sdp_free (hq_sdp_build_answer (sdp, &local, NULL, 0, NULL));
  answer = (now_us () - t0) / n;

  printf ("%s (%u m-lines, %zu bytes), %ld iterations:\n", name,
      sdp->media->len, len, n);
  printf ("  parse   gst_sdp_message_parse_buffer %9.1f us\n", gst_parse);
  printf ("          hq_sdp_parse                 %9.1f us  ratio %.2f\n",
      hq_parse, hq_parse / gst_parse);
  printf ("  write   gst_sdp_message_as_text      %9.1f us\n", gst_write);
  printf ("          hq_sdp_to_text               %9.1f us  ratio %.2f\n",
      hq_write, hq_write / gst_write);
  printf ("  answer  hq_sdp_build_answer          %9.1f us\n", answer);
  gst_sdp_message_free (msg);
  hq_sdp_free (sdp);
}

int
main (int argc, char **argv)
{
  long n = argc > 1 ? atol (argv[1]) : 2000;
  g_autofree gchar *browser = NULL;
  g_autofree gchar *room = room_offer_text ();

  if (!g_file_get_contents (
          SDP_FIXTURES "/chromium156-offer-real.sdp", &browser, NULL, NULL)) {
    fprintf (stderr, "cannot read the Chromium fixture\n");
    return 1;
  }
  bench ("browser offer", browser, n);
  bench ("50-participant subscribe offer", room, n / 20 > 0 ? n / 20 : 1);
  return 0;
}
