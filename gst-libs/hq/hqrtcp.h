/* RTCP on plain bytes: the RTP/RTCP demux rule, compound packet iteration
 * with validation, parsers and builders for the report and feedback
 * packets a WebRTC SFU exchanges (SR, RR, SDES CNAME, BYE, generic NACK,
 * transport-wide CC feedback, PLI, FIR, REMB), and a writer that
 * concatenates them into a compound packet and pads it.
 *
 * hq_rtcp_iter_init() validates a whole compound packet up front (version,
 * lengths, padding only on the last packet), so iteration cannot fail; the
 * per-type parsers then check what is particular to their type.  Parsers
 * fill caller-provided structs and arrays; where a list has no small bound
 * (NACK, FIR, TWCC) they append to a caller-owned GArray that a caller
 * reuses, so steady-state parsing does not allocate.  Builders append to an
 * HqRtcpWriter over a caller-provided buffer and write nothing when the
 * packet does not fit.
 *
 * Reduced-size RTCP (RFC 5506) is accepted: a compound packet need not
 * start with an SR or RR.  Errors are in HQ_RTP_ERROR (hqrtp.h).
 */
#ifndef __HQ_RTCP_H__
#define __HQ_RTCP_H__

#include <glib.h>
#include "hqrtp.h"

G_BEGIN_DECLS

/**
 * HqRtcpType:
 *
 * RTCP packet types (RFC 3550, RFC 4585).
 */
typedef enum
{
  HQ_RTCP_SR = 200,
  HQ_RTCP_RR = 201,
  HQ_RTCP_SDES = 202,
  HQ_RTCP_BYE = 203,
  HQ_RTCP_APP = 204,
  HQ_RTCP_RTPFB = 205,
  HQ_RTCP_PSFB = 206,
} HqRtcpType;

/* Feedback message types (FMT) within RTPFB and PSFB. */
#define HQ_RTCP_RTPFB_NACK 1
#define HQ_RTCP_RTPFB_TWCC 15
#define HQ_RTCP_PSFB_PLI 1
#define HQ_RTCP_PSFB_FIR 4
#define HQ_RTCP_PSFB_AFB 15

/* Most report blocks, SDES chunks or BYE SSRCs one packet can hold. */
#define HQ_RTCP_MAX_COUNT 31

/* RFC 5761 / RFC 7983 demultiplexing of RTP and RTCP on one port: TRUE when
 * the first byte is 128..191 and the second (the RTCP packet type) is
 * 192..223.  Call only on bytes already known to be RTP or RTCP (first
 * byte 128..191), as the transport's demux does. */
gboolean hq_rtcp_is_rtcp (const guint8 *data, gsize len);

/**
 * HqRtcpPacket:
 * @type: the packet type (HqRtcpType or another value, e.g. XR 207)
 * @count: the 5-bit RC/SC/FMT field
 * @data: the first byte of the packet's header
 * @len: the packet's length in bytes, header and padding included
 * @body: what follows the 4-byte header
 * @body_len: its length without padding
 *
 * One packet of a compound packet.  Points into the caller's bytes.
 */
typedef struct
{
  guint8 type;
  guint8 count;
  const guint8 *data;
  gsize len;
  const guint8 *body;
  gsize body_len;
} HqRtcpPacket;

typedef struct
{
  const guint8 *pos;
  const guint8 *end;
} HqRtcpIter;

/* Validates the compound packet in @data and starts iterating it.  Refuses
 * empty input, a version other than 2, a length that runs past the end or
 * leaves bytes over, and padding anywhere but on the last packet or with a
 * count that does not fit. */
gboolean hq_rtcp_iter_init (
    HqRtcpIter *iter, const guint8 *data, gsize len, GError **error);
/* Stores the next packet in @packet; FALSE after the last one. */
gboolean hq_rtcp_iter_next (HqRtcpIter *iter, HqRtcpPacket *packet);

/**
 * HqRtcpSenderInfo:
 * @ssrc: the sender
 * @ntp: NTP timestamp, 32.32 fixed-point seconds since 1900
 * @rtp_timestamp: the same instant in RTP timestamp units
 * @packet_count: packets sent
 * @octet_count: payload octets sent
 */
typedef struct
{
  guint32 ssrc;
  guint64 ntp;
  guint32 rtp_timestamp;
  guint32 packet_count;
  guint32 octet_count;
} HqRtcpSenderInfo;

/* Parses an SR: sender info and up to 31 report blocks into @blocks
 * (HQ_RTCP_MAX_COUNT entries), their number into @n_blocks.  Extension
 * bytes after the blocks are ignored. */
gboolean hq_rtcp_parse_sr (const HqRtcpPacket *packet, HqRtcpSenderInfo *info,
    HqRtcpReportBlock *blocks, guint *n_blocks, GError **error);
/* Parses an RR: the reporter's SSRC and its report blocks. */
gboolean hq_rtcp_parse_rr (const HqRtcpPacket *packet, guint32 *ssrc,
    HqRtcpReportBlock *blocks, guint *n_blocks, GError **error);

/**
 * HqRtcpSdesCname:
 * @ssrc: the SSRC or CSRC of the chunk
 * @cname: its CNAME item, NUL-terminated; empty when the chunk has none
 */
typedef struct
{
  guint32 ssrc;
  gchar cname[256];
} HqRtcpSdesCname;

/* Parses an SDES packet: one entry per chunk in @chunks
 * (HQ_RTCP_MAX_COUNT entries).  Every item is checked for length; items
 * other than CNAME are skipped.  A CNAME with a NUL byte is refused. */
gboolean hq_rtcp_parse_sdes (const HqRtcpPacket *packet,
    HqRtcpSdesCname *chunks, guint *n_chunks, GError **error);
/* Parses a BYE: the SSRCs leaving into @ssrcs (HQ_RTCP_MAX_COUNT entries)
 * and the reason, if any, into @reason (256 bytes; "" when absent). */
gboolean hq_rtcp_parse_bye (const HqRtcpPacket *packet, guint32 *ssrcs,
    guint *n_ssrcs, gchar *reason, GError **error);

/**
 * HqRtcpFb:
 * @sender_ssrc: the SSRC of the packet sender
 * @media_ssrc: the SSRC of the media source the feedback is about
 * @fci: the feedback control information
 * @fci_len: its length in bytes
 *
 * The common part of RFC 4585 feedback packets (RTPFB and PSFB).
 */
typedef struct
{
  guint32 sender_ssrc;
  guint32 media_ssrc;
  const guint8 *fci;
  gsize fci_len;
} HqRtcpFb;

/* Parses the common feedback header of an RTPFB or PSFB packet. */
gboolean hq_rtcp_parse_fb (
    const HqRtcpPacket *packet, HqRtcpFb *fb, GError **error);
/* Generic NACK (RTPFB 1): appends every lost sequence number (PID, then
 * the BLP bits in order) to @lost, a GArray of guint16. */
gboolean hq_rtcp_parse_nack (
    const HqRtcpPacket *packet, HqRtcpFb *fb, GArray *lost, GError **error);
/* PLI (PSFB 1). */
gboolean hq_rtcp_parse_pli (
    const HqRtcpPacket *packet, HqRtcpFb *fb, GError **error);

/**
 * HqRtcpFirEntry:
 * @ssrc: the source asked for a full intra request
 * @seq: the command sequence number (repeats are not new requests)
 */
typedef struct
{
  guint32 ssrc;
  guint8 seq;
} HqRtcpFirEntry;

/* FIR (PSFB 4, RFC 5104): appends one HqRtcpFirEntry per FCI entry to
 * @entries. */
gboolean hq_rtcp_parse_fir (
    const HqRtcpPacket *packet, HqRtcpFb *fb, GArray *entries, GError **error);

/**
 * HqRtcpRemb:
 * @bitrate: the estimated bitrate in bits per second
 * @n_ssrcs: number of entries in @ssrcs
 * @ssrcs: the media sources the estimate applies to
 *
 * Receiver estimated maximum bitrate (draft-alvestrand-rmcat-remb).
 */
typedef struct
{
  guint64 bitrate;
  guint n_ssrcs;
  guint32 ssrcs[255];
} HqRtcpRemb;

/* REMB (PSFB 15 with the "REMB" identifier).  HQ_RTP_ERROR_BAD_TYPE for
 * other application layer feedback. */
gboolean hq_rtcp_parse_remb (
    const HqRtcpPacket *packet, HqRtcpFb *fb, HqRtcpRemb *remb, GError **error);

/* --- round-trip time --- */

/* NTP time (32.32 seconds since 1900) of @real_us, microseconds since the
 * Unix epoch (g_get_real_time()). */
guint64 hq_rtcp_ntp_from_unix_us (gint64 real_us);
/* The other way: microseconds since the Unix epoch of NTP time @ntp. */
gint64 hq_rtcp_unix_us_from_ntp (guint64 ntp);
/* The round-trip time in milliseconds that report block @block gives when
 * it arrives at NTP time @ntp_now (RFC 3550 6.4.1: arrival - LSR - DLSR,
 * where LSR names one of our own SRs).  Negative when the block refers to
 * no SR (LSR 0) or the figure is not plausible (below 0 or over 60 s). */
gdouble hq_rtcp_rtt_ms (const HqRtcpReportBlock *block, guint64 ntp_now);

/* --- transport-wide congestion control feedback --- */

/**
 * HqTwccStatus:
 * @seq: transport-wide sequence number
 * @received: whether the packet arrived
 * @arrival_us: when, in microseconds of the feedback sender's clock
 *   (reference time * 64 ms plus the deltas); 0 when not received
 *
 * One packet's fate in a TWCC feedback.
 */
typedef struct
{
  guint16 seq;
  gboolean received;
  gint64 arrival_us;
} HqTwccStatus;

/**
 * HqTwccFeedback:
 * @base_seq: the first sequence number reported on
 * @status_count: how many packets are reported on
 * @reference_time: 24-bit signed reference time in multiples of 64 ms
 * @fb_count: the feedback packet counter
 */
typedef struct
{
  guint16 base_seq;
  guint16 status_count;
  gint32 reference_time;
  guint8 fb_count;
} HqTwccFeedback;

/* Transport-wide CC feedback (RTPFB 15, draft-holmer-rmcat-transport-wide-
 * cc-extensions-01): fills @twcc and appends @twcc->status_count
 * HqTwccStatus to @statuses, in sequence order.  Refuses chunks that do
 * not cover the status count, the reserved symbol 3, and deltas that run
 * past the packet. */
gboolean hq_rtcp_parse_twcc (const HqRtcpPacket *packet, HqRtcpFb *fb,
    HqTwccFeedback *twcc, GArray *statuses, GError **error);

/**
 * HqTwccArrival:
 * @seq: transport-wide sequence number of a received packet
 * @arrival_us: when it arrived, microseconds of the receiver's clock
 *
 * A received packet, as the TWCC feedback builder takes it.
 */
typedef struct
{
  guint16 seq;
  gint64 arrival_us;
} HqTwccArrival;

/* --- building --- */

/**
 * HqRtcpWriter:
 *
 * Appends RTCP packets to a caller-provided buffer, making a compound
 * packet.  @len is the number of bytes written so far.
 */
typedef struct
{
  guint8 *buf;
  gsize size;
  gsize len;
  gsize last; /* offset of the last packet, for padding */
} HqRtcpWriter;

void hq_rtcp_writer_init (HqRtcpWriter *writer, guint8 *buf, gsize size);
/* Pads the compound packet to a multiple of @align bytes (4..252, a
 * multiple of 4) with RTCP padding on its last packet, as RFC 3550 6.4.1
 * asks when a cipher needs a block size. */
gboolean hq_rtcp_writer_pad (HqRtcpWriter *writer, guint align, GError **error);

/* Each builder appends one packet and returns TRUE, or writes nothing and
 * fails with HQ_RTP_ERROR_NO_SPACE or HQ_RTP_ERROR_INVALID_ARGUMENT. */
gboolean hq_rtcp_write_sr (HqRtcpWriter *writer, const HqRtcpSenderInfo *info,
    const HqRtcpReportBlock *blocks, guint n_blocks, GError **error);
gboolean hq_rtcp_write_rr (HqRtcpWriter *writer, guint32 ssrc,
    const HqRtcpReportBlock *blocks, guint n_blocks, GError **error);
/* An RR with one block per source in @stats (see
 * hq_rtp_recv_stats_report(), which this calls and so starts a new
 * fraction-lost interval).  Sources with no packet yet are left out. */
gboolean hq_rtcp_write_rr_from_stats (HqRtcpWriter *writer, guint32 ssrc,
    HqRtpRecvStats *const *stats, guint n_stats, gint64 now_us, GError **error);
/* SDES with one chunk: @ssrc and its CNAME (1..255 bytes). */
gboolean hq_rtcp_write_sdes_cname (
    HqRtcpWriter *writer, guint32 ssrc, const gchar *cname, GError **error);
/* BYE for @ssrcs with an optional @reason (NULL or up to 255 bytes). */
gboolean hq_rtcp_write_bye (HqRtcpWriter *writer, const guint32 *ssrcs,
    guint n_ssrcs, const gchar *reason, GError **error);
/* Generic NACK for the @n_lost sequence numbers in @lost.  Numbers within
 * 16 after an FCI's PID share it; given in ascending (wrap-aware) order
 * they pack tightest, but any order makes a valid packet. */
gboolean hq_rtcp_write_nack (HqRtcpWriter *writer, guint32 sender_ssrc,
    guint32 media_ssrc, const guint16 *lost, gsize n_lost, GError **error);
gboolean hq_rtcp_write_pli (HqRtcpWriter *writer, guint32 sender_ssrc,
    guint32 media_ssrc, GError **error);
/* FIR with one FCI entry per element of @entries.  The media SSRC of the
 * common header is 0, as RFC 5104 says. */
gboolean hq_rtcp_write_fir (HqRtcpWriter *writer, guint32 sender_ssrc,
    const HqRtcpFirEntry *entries, guint n_entries, GError **error);
/* REMB of @bitrate bits per second for @ssrcs (1..255).  Bitrates that do
 * not fit an 18-bit mantissa are rounded down. */
gboolean hq_rtcp_write_remb (HqRtcpWriter *writer, guint32 sender_ssrc,
    guint64 bitrate, const guint32 *ssrcs, guint n_ssrcs, GError **error);

/* Transport-wide CC feedback for the received packets in @arrivals, which
 * must be in ascending (wrap-aware) order of @seq without duplicates and
 * not before @base_seq.  Statuses start at @base_seq, so sequence numbers
 * missing before and between the arrivals are reported lost.  Writes one
 * feedback packet covering as many leading arrivals as fit the writer's
 * remaining space, the 16-bit delta range and 8192 statuses, and stores
 * that count in @n_done (at least 1 on success).  The caller sends the
 * rest in further packets, each with @base_seq one after the last
 * arrival covered and @fb_count one more, as libwebrtc does; so no loss
 * falls between two feedback packets.  Status chunks are run-length where
 * a run covers at least as many packets as a status vector would, else
 * 1-bit vectors, else 2-bit.  Arrival times are rounded to 250 µs.  When
 * more than 8191 packets are missing before the first arrival, only the
 * last 8191 of them are reported (the packet's base moves up). */
gboolean hq_rtcp_write_twcc (HqRtcpWriter *writer, guint32 sender_ssrc,
    guint32 media_ssrc, guint8 fb_count, guint16 base_seq,
    const HqTwccArrival *arrivals, gsize n_arrivals, gsize *n_done,
    GError **error);

G_END_DECLS

#endif /* __HQ_RTCP_H__ */
