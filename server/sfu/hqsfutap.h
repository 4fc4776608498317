/* A test hook (docs/e2ee.md, "Proving it at the server"): with
 * $HQ_SFU_TAP naming a file, hq-server appends every RTP packet the SFU
 * forwards, as it is before SRTP protects it, to that file as a pcap
 * capture (IPv4/UDP from 127.0.0.1 to 127.0.0.1, destination port 5002
 * for audio and 5004 for video).  It shows what the server itself can
 * read of the media: with end-to-end encryption, headers and ciphertext.
 * Not for production: the file grows with every packet. */
#ifndef __HQ_SFU_TAP_H__
#define __HQ_SFU_TAP_H__

#include <glib.h>

G_BEGIN_DECLS

/* Appends @rtp (@len bytes, plain RTP) when the tap is on; thread-safe. */
void hq_sfu_tap_packet (const guint8 *rtp, gsize len, gboolean video);

G_END_DECLS

#endif /* __HQ_SFU_TAP_H__ */
