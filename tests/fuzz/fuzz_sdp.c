/* Fuzz target for libhq's SDP parser and builders.
 *
 * Each input is parsed as an offer.  What parses is written back out and
 * must parse again to the same number of m-lines (a description we accept
 * but cannot reproduce would break renegotiation), and an answer is built
 * to it, written and parsed as an answer.  Inputs that are refused must
 * come with an error message.  Any crash, sanitizer report or abort here
 * is a bug in hqsdp-parse.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <glib.h>
#include <hq/hqsdp.h>
#include "../check/libs/sdp/local.h"

int LLVMFuzzerTestOneInput (const guint8 *data, gsize size);

static HqSdp *
reparse (const HqSdp *sdp)
{
  g_autofree gchar *text = hq_sdp_to_text (sdp);
  g_autoptr (GError) error = NULL;
  HqSdp *again = hq_sdp_parse (sdp->type, text, -1, &error);

  /* abort(), not g_error(): libFuzzer saves the input on SIGABRT */
  if (again == NULL) {
    fprintf (stderr, "could not re-read what we wrote: %s\n%s\n",
        error->message, text);
    abort ();
  }
  if (again->media->len != sdp->media->len) {
    fprintf (stderr, "m-lines changed on re-reading:\n%s\n", text);
    abort ();
  }
  return again;
}

int
LLVMFuzzerTestOneInput (const guint8 *data, gsize size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HqSdp) offer = NULL;
  g_autoptr (HqSdp) again = NULL;
  g_autoptr (HqSdp) answer = NULL;
  g_autoptr (HqSdp) answer_again = NULL;

  offer = hq_sdp_parse (HQ_SDP_OFFER, (const gchar *)data, size, &error);
  if (offer == NULL) {
    g_assert (error != NULL && error->message[0] != '\0');
    return 0;
  }
  again = reparse (offer);
  answer = hq_sdp_build_answer (offer, &local, NULL, 0, &error);
  g_assert (answer != NULL);
  answer_again = reparse (answer);
  return 0;
}
