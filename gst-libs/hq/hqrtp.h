/* RTP on plain bytes for the forwarding hot path: header validation and
 * parsing, RFC 8285 header extensions (one- and two-byte forms) with typed
 * readers for the extensions WebRTC uses, in-place rewriting of the fixed
 * header, 16-bit sequence arithmetic, and the RFC 3550 receive statistics a
 * receiver report is filled from.
 *
 * Nothing here allocates.  hq_rtp_parse() checks a packet once (lengths,
 * padding, every header extension element); afterwards the accessors and
 * the extension iterator read only bytes the parse has proven present, so
 * they cannot fail on hostile input.  The packet bytes stay owned by the
 * caller; an HqRtpHeader and HqRtpExt point into them and are valid as long
 * as those bytes are.  RTCP lives in hqrtcp.h.
 */
#ifndef __HQ_RTP_H__
#define __HQ_RTP_H__

#include <glib.h>

G_BEGIN_DECLS

#define HQ_RTP_ERROR (hq_rtp_error_quark ())
GQuark hq_rtp_error_quark (void);

/**
 * HqRtpError:
 * @HQ_RTP_ERROR_TRUNCATED: the bytes end before a length field says the
 *   packet (or a part of it) ends.
 * @HQ_RTP_ERROR_BAD_VERSION: the version field is not 2.
 * @HQ_RTP_ERROR_BAD_PADDING: the padding bit is set but the padding count
 *   is zero or larger than what follows the header.
 * @HQ_RTP_ERROR_BAD_EXTENSION: a header extension element runs past its
 *   block or uses a reserved id.
 * @HQ_RTP_ERROR_BAD_LENGTH: a length field disagrees with the others (an
 *   RTCP length that does not cover its fixed part, a TWCC status count
 *   that the chunks do not cover, ...).
 * @HQ_RTP_ERROR_BAD_TYPE: the packet is of another type than asked for
 *   (e.g. hq_rtcp_parse_sr() on an RR), or a reserved value is used.
 * @HQ_RTP_ERROR_NO_SPACE: a builder's buffer is too small for the packet;
 *   nothing was written.
 * @HQ_RTP_ERROR_NOT_FOUND: the header extension asked for is not in the
 *   packet, or has another length than its type requires.
 * @HQ_RTP_ERROR_INVALID_ARGUMENT: a builder was asked for something no
 *   valid packet can say (too many SSRCs, a CNAME over 255 bytes, ...).
 *
 * The error codes of HQ_RTP_ERROR, shared by hqrtp.h and hqrtcp.h.
 */
typedef enum
{
  HQ_RTP_ERROR_TRUNCATED,
  HQ_RTP_ERROR_BAD_VERSION,
  HQ_RTP_ERROR_BAD_PADDING,
  HQ_RTP_ERROR_BAD_EXTENSION,
  HQ_RTP_ERROR_BAD_LENGTH,
  HQ_RTP_ERROR_BAD_TYPE,
  HQ_RTP_ERROR_NO_SPACE,
  HQ_RTP_ERROR_NOT_FOUND,
  HQ_RTP_ERROR_INVALID_ARGUMENT,
} HqRtpError;

/* Size of the fixed RTP header. */
#define HQ_RTP_HEADER_LEN 12
/* Profile values of the RFC 8285 extension forms.  The two-byte form is
 * 0x100 followed by 4 "appbits", so any of 0x1000..0x100f. */
#define HQ_RTP_EXT_ONE_BYTE 0xBEDE
#define HQ_RTP_EXT_TWO_BYTE 0x1000

/**
 * HqRtpHeader:
 * @padding: the P bit; @padding_len then holds the padding byte count
 * @extension: the X bit; @ext_profile, @ext_offset and @ext_len are set
 * @marker: the M bit
 * @payload_type: 0..127
 * @csrc_count: number of entries in @csrcs (0..15)
 * @ext_profile: the 16-bit "defined by profile" field (0xBEDE, 0x100x, or
 *   any other value for extensions that are not RFC 8285)
 * @ext_offset: offset of the extension data (after its 4-byte header)
 * @ext_len: length of the extension data in bytes
 * @payload_offset: offset of the payload
 * @payload_len: payload length with the padding removed
 *
 * A parsed RTP header.  Offsets are from the first byte of the packet.
 */
typedef struct
{
  gboolean padding;
  gboolean extension;
  gboolean marker;
  guint8 payload_type;
  guint8 csrc_count;
  guint8 padding_len;
  guint16 seq;
  guint32 timestamp;
  guint32 ssrc;
  guint32 csrcs[15];
  guint16 ext_profile;
  gsize ext_offset;
  gsize ext_len;
  gsize payload_offset;
  gsize payload_len;
} HqRtpHeader;

/* Parses and validates the RTP packet in @data.  Refuses (with one
 * HQ_RTP_ERROR code and a message saying why) packets that are shorter
 * than their header, CSRC list, extension or padding say, whose version is
 * not 2, or whose RFC 8285 extension elements are malformed.  An empty
 * payload is valid (e.g. padding-only probes). */
gboolean hq_rtp_parse (
    const guint8 *data, gsize len, HqRtpHeader *hdr, GError **error);

/* In-place rewriting of the fixed header, for a packet that hq_rtp_parse()
 * accepted (so at least HQ_RTP_HEADER_LEN bytes).  The SFU uses these to
 * map a publisher's stream onto a subscriber's. */
void hq_rtp_set_ssrc (guint8 *data, guint32 ssrc);
void hq_rtp_set_seq (guint8 *data, guint16 seq);
void hq_rtp_set_timestamp (guint8 *data, guint32 timestamp);
void hq_rtp_set_payload_type (guint8 *data, guint8 payload_type);
void hq_rtp_set_marker (guint8 *data, gboolean marker);

/* --- RFC 8285 header extensions --- */

/**
 * HqRtpExt:
 * @id: the element id (1..14 one-byte form, 1..255 two-byte form)
 * @len: the number of data bytes (1..16 one-byte, 0..255 two-byte)
 * @data: the element data, inside the packet
 *
 * One header extension element.
 */
typedef struct
{
  guint8 id;
  guint8 len;
  const guint8 *data;
} HqRtpExt;

typedef struct
{
  const guint8 *pos;
  const guint8 *end;
  gboolean two_byte;
} HqRtpExtIter;

/* Starts iterating the extension elements of @data, parsed into @hdr.  A
 * packet without an RFC 8285 extension block yields no elements. */
void hq_rtp_ext_iter_init (
    HqRtpExtIter *iter, const guint8 *data, const HqRtpHeader *hdr);
/* Stores the next element in @ext; FALSE when there are no more.  Padding
 * bytes are skipped. */
gboolean hq_rtp_ext_iter_next (HqRtpExtIter *iter, HqRtpExt *ext);
/* Finds the first element with @id; FALSE when there is none. */
gboolean hq_rtp_ext_find (
    const guint8 *data, const HqRtpHeader *hdr, guint8 id, HqRtpExt *ext);

/* Typed readers.  Each returns FALSE when @ext has a length its type does
 * not allow, and then leaves the outputs unchanged. */

/* RFC 6464 client-to-mixer audio level: @voice is the V bit, @level the
 * level in -dBov (0 loudest, 127 silence). */
gboolean hq_rtp_ext_read_audio_level (
    const HqRtpExt *ext, gboolean *voice, guint8 *level);
/* abs-send-time: 24-bit send time, 6.18 fixed-point seconds. */
gboolean hq_rtp_ext_read_abs_send_time (const HqRtpExt *ext, guint32 *time);
/* transport-wide-cc-01: the 16-bit transport-wide sequence number. */
gboolean hq_rtp_ext_read_twcc_seq (const HqRtpExt *ext, guint16 *seq);
/* RFC 8843 sdes:mid: copies the MID into @buf as a NUL-terminated string.
 * Refuses empty values, values with NUL or control characters, and values
 * that do not fit @buf_size (256 always suffices). */
gboolean hq_rtp_ext_read_mid (const HqRtpExt *ext, gchar *buf, gsize buf_size);

/* In-place writers: overwrite the value of the extension element @id of a
 * parsed packet, which must already be there with the right length (3 for
 * abs-send-time, 2 for TWCC).  HQ_RTP_ERROR_NOT_FOUND otherwise. */
gboolean hq_rtp_ext_write_twcc_seq (guint8 *data, const HqRtpHeader *hdr,
    guint8 id, guint16 seq, GError **error);
gboolean hq_rtp_ext_write_abs_send_time (guint8 *data, const HqRtpHeader *hdr,
    guint8 id, guint32 time, GError **error);

/* Writes at @out an extension block (RFC 8285, one-byte header) that holds
 * only the transport-wide sequence number @seq as element @id (1..14):
 * 8 bytes, returned.  For a packet built without extensions: the block
 * goes after the CSRCs, and the caller sets the X bit. */
gsize hq_rtp_write_twcc_ext_block (guint8 *out, guint8 id, guint16 seq);

/* Most padding octets one packet can carry (the count is one byte). */
#define HQ_RTP_MAX_PADDING 255

/* Writes at @out a padding-only packet (a bandwidth probe, RFC 3550 5.1:
 * the P bit, no payload, @padding octets whose last holds their count,
 * 1..HQ_RTP_MAX_PADDING) with the transport-wide sequence number @seq
 * as extension element @ext_id (1..14); the header's payload type,
 * sequence number, timestamp and SSRC are for the caller to set.
 * Returns the packet's size (12 + 8 + @padding), 0 for a bad argument. */
gsize hq_rtp_write_padding_packet (
    guint8 *out, guint padding, guint8 ext_id, guint16 seq);

/* abs-send-time from and to microseconds.  The field wraps every 64 s, so
 * hq_rtp_abs_send_time_to_us() gives the time within that window. */
guint32 hq_rtp_abs_send_time_from_us (guint64 us);
guint64 hq_rtp_abs_send_time_to_us (guint32 time);

/* --- 16-bit sequence numbers --- */

/* @a - @b the short way round the 16-bit circle: -32768..32767. */
gint hq_rtp_seq_diff (guint16 a, guint16 b);
/* TRUE when @a comes after @b (the short way round). */
gboolean hq_rtp_seq_newer (guint16 a, guint16 b);

/**
 * HqRtpSeqUnwrapper:
 *
 * Maps 16-bit sequence numbers onto a 64-bit counter that keeps counting
 * across wraps: each number goes to the value nearest to the last one
 * seen.  The first number maps to itself, so a packet reordered across a
 * wrap before the first one gets a negative value.  Zero-initialise it or
 * call hq_rtp_seq_unwrapper_init().
 */
typedef struct
{
  gint64 last;
  gboolean started;
} HqRtpSeqUnwrapper;

void hq_rtp_seq_unwrapper_init (HqRtpSeqUnwrapper *unwrapper);
gint64 hq_rtp_seq_unwrap (HqRtpSeqUnwrapper *unwrapper, guint16 seq);

/* --- receive statistics (RFC 3550 section 6.4.1 and appendix A) --- */

/**
 * HqRtcpReportBlock:
 * @ssrc: the source reported on
 * @fraction_lost: packets lost since the previous report, in 1/256
 * @cumulative_lost: packets lost since the start (24-bit signed: duplicates
 *   can make it negative)
 * @ext_highest_seq: cycles << 16 | highest sequence number received
 * @jitter: interarrival jitter in timestamp units
 * @lsr: middle 32 bits of the NTP time of the last SR, 0 if none
 * @dlsr: delay since that SR in 1/65536 s, 0 if none
 *
 * One reception report block, as an RR or SR carries it.
 */
typedef struct
{
  guint32 ssrc;
  guint8 fraction_lost;
  gint32 cumulative_lost;
  guint32 ext_highest_seq;
  guint32 jitter;
  guint32 lsr;
  guint32 dlsr;
} HqRtcpReportBlock;

/**
 * HqRtpRecvStats:
 *
 * What a receiver keeps per source to fill its report blocks: the RFC 3550
 * A.1 sequence bookkeeping (with resynchronisation after a large jump), the
 * A.8 interarrival jitter estimator, and the A.3 loss counters.  Fields are
 * readable; change them only through the functions below.
 */
typedef struct
{
  guint32 ssrc;
  guint32 clock_rate;
  gboolean started;
  guint16 max_seq;
  guint32 cycles; /* shifted left by 16, as in RFC 3550 A.1 */
  guint32 base_seq;
  guint32 bad_seq;
  guint32 received;
  guint32 expected_prior;
  guint32 received_prior;
  guint32 jitter_q4; /* jitter * 16, in timestamp units */
  guint32 last_transit;
  gboolean have_transit;
  gboolean have_sr;
  guint32 last_sr; /* middle 32 bits of the last SR's NTP time */
  gint64 last_sr_arrival_us;
} HqRtpRecvStats;

/* Starts statistics for @ssrc, whose RTP clock runs at @clock_rate Hz. */
void hq_rtp_recv_stats_init (
    HqRtpRecvStats *stats, guint32 ssrc, guint32 clock_rate);
/* Accounts one received packet that arrived at @arrival_us (any monotonic,
 * non-negative microsecond clock such as g_get_monotonic_time()).  Returns
 * FALSE when the packet is a large jump that
 * is not (yet) believed: RFC 3550 resynchronises on the second packet of a
 * new run, and until then the packet is neither counted nor timed. */
gboolean hq_rtp_recv_stats_update (HqRtpRecvStats *stats, guint16 seq,
    guint32 rtp_timestamp, gint64 arrival_us);
/* Remembers that a sender report with NTP time @ntp (32.32) arrived at
 * @arrival_us, for LSR and DLSR. */
void hq_rtp_recv_stats_sr_received (
    HqRtpRecvStats *stats, guint64 ntp, gint64 arrival_us);
/* Fills @block for a report sent at @now_us and starts a new interval for
 * fraction_lost.  Returns FALSE (and fills nothing) before the first
 * packet. */
gboolean hq_rtp_recv_stats_report (
    HqRtpRecvStats *stats, gint64 now_us, HqRtcpReportBlock *block);
/* Extended highest sequence number received (cycles << 16 | max_seq). */
guint32 hq_rtp_recv_stats_ext_highest_seq (const HqRtpRecvStats *stats);

/* --- payload formats the SFU and tests look into --- */

/* RFC 7741 VP8 payload descriptor: FALSE when it is truncated; else
 * *@frame_start tells whether the packet starts a frame (S bit, partition
 * 0) and *@keyframe whether that frame is a keyframe. */
gboolean hq_rtp_vp8_parse (const guint8 *payload, gsize len,
    gboolean *frame_start, gboolean *keyframe);
/* The size of the VP8 keyframe whose first packet @payload is (its frame
 * header, RFC 6386 9.1); FALSE for any other packet. */
gboolean hq_rtp_vp8_keyframe_size (
    const guint8 *payload, gsize len, guint *width, guint *height);
/* RFC 6184: TRUE when the packet carries an IDR slice or an SPS (single
 * NAL unit, the start of an FU-A, or inside a STAP-A). */
gboolean hq_rtp_h264_keyframe (const guint8 *payload, gsize len);

G_END_DECLS

#endif /* __HQ_RTP_H__ */
