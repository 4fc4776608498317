/* libFuzzer target for libhq's RTP and RTCP parsers (hqrtp.h, hqrtcp.h).
 *
 * Every input is read both ways.  As RTP: the header with all extension
 * elements through every typed reader, then a copy rewritten in place
 * must parse again with the new values and the same layout.  As RTCP: a
 * compound packet whose every packet goes through the parser for its type
 * (all feedback types included); what parses is built again with our
 * builders and must parse back to the same values.  Any disagreement
 * aborts, which libFuzzer reports as a crash.
 */
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <math.h>
#include <hq/hqrtcp.h>
#include <hq/hqtwcc.h>

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond))                                                               \
      abort ();                                                                \
  } while (0)

/* Reading the extension with every typed reader must stay inside it. */
static void
read_extension (const HqRtpExt *ext)
{
  gboolean voice;
  guint8 level;
  guint32 ast;
  guint16 seq;
  gchar mid[256];

  hq_rtp_ext_read_audio_level (ext, &voice, &level);
  hq_rtp_ext_read_abs_send_time (ext, &ast);
  hq_rtp_ext_read_twcc_seq (ext, &seq);
  hq_rtp_ext_read_mid (ext, mid, sizeof mid);
}

static void
fuzz_rtp (const guint8 *data, gsize size)
{
  HqRtpHeader hdr, again;
  HqRtpExtIter iter;
  HqRtpExt ext, found;
  g_autofree guint8 *copy = NULL;

  if (!hq_rtp_parse (data, size, &hdr, NULL))
    return;
  CHECK (hdr.payload_offset + hdr.payload_len + hdr.padding_len == size);

  copy = g_memdup2 (data, size);
  hq_rtp_set_ssrc (copy, ~hdr.ssrc);
  hq_rtp_set_seq (copy, hdr.seq + 1);
  hq_rtp_set_timestamp (copy, hdr.timestamp + 3000);
  hq_rtp_set_payload_type (copy, hdr.payload_type ^ 1);
  hq_rtp_set_marker (copy, !hdr.marker);

  hq_rtp_ext_iter_init (&iter, data, &hdr);
  while (hq_rtp_ext_iter_next (&iter, &ext)) {
    CHECK (ext.data >= data + hdr.ext_offset);
    CHECK (ext.data + ext.len <= data + hdr.ext_offset + hdr.ext_len);
    read_extension (&ext);
    CHECK (hq_rtp_ext_find (data, &hdr, ext.id, &found));
    /* Rewrite the value in the copy where the first element with this id
     * has the right size for it, and read it back. */
    if (found.len == 2
        && hq_rtp_ext_write_twcc_seq (copy, &hdr, ext.id, 0xbeef, NULL)) {
      guint16 seq = 0;

      CHECK (hq_rtp_ext_find (copy, &hdr, ext.id, &found));
      CHECK (hq_rtp_ext_read_twcc_seq (&found, &seq) && seq == 0xbeef);
    } else if (found.len == 3
        && hq_rtp_ext_write_abs_send_time (
            copy, &hdr, ext.id, 0xabcdef, NULL)) {
      guint32 t = 0;

      CHECK (hq_rtp_ext_find (copy, &hdr, ext.id, &found));
      CHECK (hq_rtp_ext_read_abs_send_time (&found, &t) && t == 0xabcdef);
    }
  }

  CHECK (hq_rtp_parse (copy, size, &again, NULL));
  CHECK (again.ssrc == (guint32)~hdr.ssrc);
  CHECK (again.seq == (guint16)(hdr.seq + 1));
  CHECK (again.timestamp == hdr.timestamp + 3000);
  CHECK (again.payload_type == (hdr.payload_type ^ 1));
  CHECK (again.marker == !hdr.marker);
  CHECK (again.payload_offset == hdr.payload_offset);
  CHECK (again.payload_len == hdr.payload_len);
  CHECK (memcmp (copy + hdr.payload_offset, data + hdr.payload_offset,
             hdr.payload_len)
      == 0);
}

/* The first packet of the compound in @w, which must be valid. */
static HqRtcpPacket
first_packet (const HqRtcpWriter *w)
{
  HqRtcpIter iter;
  HqRtcpPacket pkt;

  CHECK (hq_rtcp_iter_init (&iter, w->buf, w->len, NULL));
  CHECK (hq_rtcp_iter_next (&iter, &pkt));
  return pkt;
}

static gint
cmp_u16 (gconstpointer a, gconstpointer b)
{
  return (gint) * (const guint16 *)a - (gint) * (const guint16 *)b;
}

/* Sorted, without repeats: NACK lists compare as sets, as packing may
 * merge FCIs that repeat or overlap. */
static void
sort_unique (GArray *seqs)
{
  guint out = 0;

  g_array_sort (seqs, cmp_u16);
  for (guint i = 0; i < seqs->len; i++) {
    if (out == 0
        || g_array_index (seqs, guint16, i)
            != g_array_index (seqs, guint16, out - 1))
      g_array_index (seqs, guint16, out++) = g_array_index (seqs, guint16, i);
  }
  g_array_set_size (seqs, out);
}

static void
round_trip_blocks (
    const HqRtcpReportBlock *a, const HqRtcpReportBlock *b, guint n)
{
  for (guint i = 0; i < n; i++) {
    CHECK (a[i].ssrc == b[i].ssrc && a[i].fraction_lost == b[i].fraction_lost);
    CHECK (a[i].cumulative_lost == b[i].cumulative_lost);
    CHECK (a[i].ext_highest_seq == b[i].ext_highest_seq);
    CHECK (a[i].jitter == b[i].jitter && a[i].lsr == b[i].lsr);
    CHECK (a[i].dlsr == b[i].dlsr);
  }
}

static void
fuzz_nack (const HqRtcpPacket *pkt, HqRtcpWriter *w)
{
  g_autoptr (GArray) lost = g_array_new (FALSE, FALSE, sizeof (guint16));
  g_autoptr (GArray) back = g_array_new (FALSE, FALSE, sizeof (guint16));
  HqRtcpFb fb, fb2;
  HqRtcpPacket out;

  if (!hq_rtcp_parse_nack (pkt, &fb, lost, NULL))
    return;
  if (!hq_rtcp_write_nack (w, fb.sender_ssrc, fb.media_ssrc,
          (const guint16 *)lost->data, lost->len, NULL))
    return;
  out = first_packet (w);
  CHECK (hq_rtcp_parse_nack (&out, &fb2, back, NULL));
  CHECK (fb2.media_ssrc == fb.media_ssrc);
  sort_unique (lost);
  sort_unique (back);
  CHECK (lost->len == back->len);
  CHECK (memcmp (lost->data, back->data, lost->len * sizeof (guint16)) == 0);
}

/* Arrival times come back modulo the 24-bit reference time's range. */
#define TWCC_WRAP_US ((G_GINT64_CONSTANT (1) << 24) * 64000)

/* libhq hqtwcc on hostile feedback: a sender that sent the packets it
 * reports on, given it twice (the second time only its losses still
 * match), keeps a finite estimate at or above its floor; a recorder
 * given its arrivals reports them all, in packets that each make
 * progress. */
static void
fuzz_twcc_ends (const HqTwccFeedback *twcc, GArray *st)
{
  HqTwccSender *sender = hq_twcc_sender_new (1e6, 5e4);
  HqTwccRecorder *rec = hq_twcc_recorder_new ();
  const HqTwccStatus *s = (const HqTwccStatus *)st->data;
  guint8 buf[1500];
  HqRtcpWriter w;
  gdouble est;

  for (guint i = 0; i < (guint)twcc->base_seq + st->len; i++)
    hq_twcc_sender_next (sender, 1200, (gint64)i * 1000);
  for (guint round = 0; round < 2; round++)
    hq_twcc_sender_on_feedback (sender, s, st->len, 1000000 * (round + 1));
  est = hq_twcc_sender_estimate (sender);
  CHECK (est < 0 || (isfinite (est) && est >= 5e4));
  for (guint i = 0; i < st->len; i++)
    if (s[i].received)
      hq_twcc_recorder_add (rec, s[i].seq, s[i].arrival_us);
  while (hq_twcc_recorder_pending (rec) > 0) {
    guint before = hq_twcc_recorder_pending (rec);
    hq_rtcp_writer_init (&w, buf, sizeof buf);
    CHECK (hq_twcc_recorder_write (rec, &w, 1, 2));
    CHECK (hq_twcc_recorder_pending (rec) < before);
  }
  hq_twcc_sender_free (sender);
  hq_twcc_recorder_free (rec);
}

static void
fuzz_twcc (const HqRtcpPacket *pkt)
{
  g_autoptr (GArray) st = g_array_new (FALSE, FALSE, sizeof (HqTwccStatus));
  g_autoptr (GArray) arr = g_array_new (FALSE, FALSE, sizeof (HqTwccArrival));
  g_autoptr (GArray) back = g_array_new (FALSE, FALSE, sizeof (HqTwccStatus));
  HqTwccFeedback twcc;
  HqRtcpFb fb;
  gsize done_total = 0;
  guint16 base;

  if (!hq_rtcp_parse_twcc (pkt, &fb, &twcc, st, NULL))
    return;
  CHECK (st->len == twcc.status_count);
  fuzz_twcc_ends (&twcc, st);
  for (guint i = 0; i < st->len; i++) {
    HqTwccStatus *s = &g_array_index (st, HqTwccStatus, i);
    HqTwccArrival a = { s->seq, s->arrival_us };

    CHECK (s->seq == (guint16)(twcc.base_seq + i));
    if (!s->received)
      continue;
    /* Received packets further apart than half the sequence space cannot
     * be told from reordered ones: no builder input can say that. */
    if (arr->len > 0
        && hq_rtp_seq_diff (
               a.seq, g_array_index (arr, HqTwccArrival, arr->len - 1).seq)
            <= 0)
      return;
    g_array_append_val (arr, a);
  }
  if (arr->len == 0)
    return;

  base = twcc.base_seq;
  while (done_total < arr->len) {
    guint8 buf[1500];
    HqRtcpWriter w;
    HqRtcpPacket out;
    HqTwccFeedback t2;
    gsize done = 0;

    hq_rtcp_writer_init (&w, buf, sizeof buf);
    CHECK (hq_rtcp_write_twcc (&w, fb.sender_ssrc, fb.media_ssrc, twcc.fb_count,
        base, &g_array_index (arr, HqTwccArrival, done_total),
        arr->len - done_total, &done, NULL));
    CHECK (done >= 1 && done_total + done <= arr->len);
    out = first_packet (&w);
    g_array_set_size (back, 0);
    CHECK (hq_rtcp_parse_twcc (&out, &fb, &t2, back, NULL));
    for (guint i = 0; i < back->len; i++) {
      HqTwccStatus *s = &g_array_index (back, HqTwccStatus, i);
      HqTwccArrival *a;

      if (!s->received)
        continue;
      CHECK (done_total < arr->len);
      a = &g_array_index (arr, HqTwccArrival, done_total);
      CHECK (a->seq == s->seq);
      CHECK ((a->arrival_us - s->arrival_us) % TWCC_WRAP_US == 0);
      done_total++;
    }
    base = g_array_index (arr, HqTwccArrival, done_total - 1).seq + 1;
  }
}

static void
fuzz_rtcp_packet (const HqRtcpPacket *pkt)
{
  guint8 buf[2048];
  HqRtcpWriter w;
  HqRtcpPacket out;
  HqRtcpSenderInfo info, info2;
  HqRtcpReportBlock blocks[HQ_RTCP_MAX_COUNT], blocks2[HQ_RTCP_MAX_COUNT];
  HqRtcpSdesCname chunks[HQ_RTCP_MAX_COUNT], chunks2[HQ_RTCP_MAX_COUNT];
  guint32 ssrcs[HQ_RTCP_MAX_COUNT], ssrcs2[HQ_RTCP_MAX_COUNT], ssrc, ssrc2;
  gchar reason[256], reason2[256];
  HqRtcpFb fb, fb2;
  HqRtcpRemb remb, remb2;
  guint n, n2;
  g_autoptr (GArray) firs = g_array_new (FALSE, FALSE, sizeof (HqRtcpFirEntry));
  g_autoptr (GArray) firs2 =
      g_array_new (FALSE, FALSE, sizeof (HqRtcpFirEntry));

  hq_rtcp_writer_init (&w, buf, sizeof buf);
  switch (pkt->type) {
    case HQ_RTCP_SR:
      if (!hq_rtcp_parse_sr (pkt, &info, blocks, &n, NULL))
        return;
      CHECK (hq_rtcp_write_sr (&w, &info, blocks, n, NULL));
      out = first_packet (&w);
      CHECK (hq_rtcp_parse_sr (&out, &info2, blocks2, &n2, NULL) && n2 == n);
      CHECK (info2.ssrc == info.ssrc && info2.ntp == info.ntp);
      CHECK (info2.octet_count == info.octet_count);
      round_trip_blocks (blocks, blocks2, n);
      break;
    case HQ_RTCP_RR:
      if (!hq_rtcp_parse_rr (pkt, &ssrc, blocks, &n, NULL))
        return;
      CHECK (hq_rtcp_write_rr (&w, ssrc, blocks, n, NULL));
      out = first_packet (&w);
      CHECK (hq_rtcp_parse_rr (&out, &ssrc2, blocks2, &n2, NULL));
      CHECK (n2 == n && ssrc2 == ssrc);
      round_trip_blocks (blocks, blocks2, n);
      break;
    case HQ_RTCP_SDES:
      if (!hq_rtcp_parse_sdes (pkt, chunks, &n, NULL))
        return;
      for (guint i = 0; i < n; i++) {
        if (chunks[i].cname[0] == '\0')
          continue;
        hq_rtcp_writer_init (&w, buf, sizeof buf);
        CHECK (hq_rtcp_write_sdes_cname (
            &w, chunks[i].ssrc, chunks[i].cname, NULL));
        out = first_packet (&w);
        CHECK (hq_rtcp_parse_sdes (&out, chunks2, &n2, NULL) && n2 == 1);
        CHECK (chunks2[0].ssrc == chunks[i].ssrc);
        CHECK (strcmp (chunks2[0].cname, chunks[i].cname) == 0);
      }
      break;
    case HQ_RTCP_BYE:
      if (!hq_rtcp_parse_bye (pkt, ssrcs, &n, reason, NULL))
        return;
      CHECK (hq_rtcp_write_bye (&w, ssrcs, n, reason, NULL));
      out = first_packet (&w);
      CHECK (hq_rtcp_parse_bye (&out, ssrcs2, &n2, reason2, NULL) && n2 == n);
      CHECK (memcmp (ssrcs, ssrcs2, n * sizeof (guint32)) == 0);
      CHECK (strcmp (reason, reason2) == 0);
      break;
    case HQ_RTCP_RTPFB:
      if (pkt->count == HQ_RTCP_RTPFB_NACK)
        fuzz_nack (pkt, &w);
      else if (pkt->count == HQ_RTCP_RTPFB_TWCC)
        fuzz_twcc (pkt);
      else
        hq_rtcp_parse_fb (pkt, &fb, NULL);
      break;
    case HQ_RTCP_PSFB:
      if (hq_rtcp_parse_pli (pkt, &fb, NULL)) {
        CHECK (hq_rtcp_write_pli (&w, fb.sender_ssrc, fb.media_ssrc, NULL));
        out = first_packet (&w);
        CHECK (hq_rtcp_parse_pli (&out, &fb2, NULL));
        CHECK (fb2.media_ssrc == fb.media_ssrc);
      } else if (hq_rtcp_parse_fir (pkt, &fb, firs, NULL)) {
        if (!hq_rtcp_write_fir (&w, fb.sender_ssrc,
                (const HqRtcpFirEntry *)firs->data, firs->len, NULL))
          return;
        out = first_packet (&w);
        CHECK (hq_rtcp_parse_fir (&out, &fb2, firs2, NULL));
        CHECK (firs2->len == firs->len);
        for (guint i = 0; i < firs->len; i++) {
          HqRtcpFirEntry *a = &g_array_index (firs, HqRtcpFirEntry, i);
          HqRtcpFirEntry *b = &g_array_index (firs2, HqRtcpFirEntry, i);

          CHECK (a->ssrc == b->ssrc && a->seq == b->seq);
        }
      } else if (hq_rtcp_parse_remb (pkt, &fb, &remb, NULL)) {
        if (remb.n_ssrcs == 0 || remb.bitrate == G_MAXUINT64)
          return;
        CHECK (hq_rtcp_write_remb (
            &w, fb.sender_ssrc, remb.bitrate, remb.ssrcs, remb.n_ssrcs, NULL));
        out = first_packet (&w);
        CHECK (hq_rtcp_parse_remb (&out, &fb2, &remb2, NULL));
        CHECK (remb2.bitrate == remb.bitrate);
        CHECK (remb2.n_ssrcs == remb.n_ssrcs);
      }
      break;
    default:
      /* APP, XR and unknown types are stepped over. */
      break;
  }
}

static void
fuzz_rtcp (const guint8 *data, gsize size)
{
  HqRtcpIter iter;
  HqRtcpPacket pkt;
  const guint8 *end = data + size;

  if (!hq_rtcp_iter_init (&iter, data, size, NULL))
    return;
  while (hq_rtcp_iter_next (&iter, &pkt)) {
    CHECK (pkt.data >= data && pkt.data + pkt.len <= end);
    CHECK (pkt.body + pkt.body_len <= end);
    fuzz_rtcp_packet (&pkt);
  }
}

int LLVMFuzzerTestOneInput (const guint8 *data, gsize size);

int
LLVMFuzzerTestOneInput (const guint8 *data, gsize size)
{
  /* Parse from an exact-size copy, so ASan sees any read past the end
   * even where libFuzzer's buffer would have slack. */
  g_autofree guint8 *copy = g_malloc (MAX (size, 1));

  if (size > 0)
    memcpy (copy, data, size);

  fuzz_rtp (copy, size);
  fuzz_rtcp (copy, size);
  hq_rtcp_is_rtcp (copy, size);
  return 0;
}
