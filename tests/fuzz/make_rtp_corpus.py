#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz target fuzz_rtp (tests/fuzz/corpus/rtp).

One small file per packet shape the parsers know: RTP with one- and
two-byte header extensions (audio level, abs-send-time, TWCC sequence,
MID), CSRCs and padding; RTCP compounds with SR, RR, SDES, BYE, APP, and
each feedback type (NACK, TWCC with run-length and both vector kinds, PLI,
FIR, REMB).  The bytes are laid out by hand from the RFCs, independently
of the C builders, so the fuzzer starts from valid inputs of every kind.

    tests/fuzz/make_rtp_corpus.py [DIR]
"""
import os
import struct
import sys


def rtp(pt=111, seq=4242, ts=90000, ssrc=0xDEADBEEF, marker=True, csrcs=(),
        ext=None, payload=b"\x01\x02\x03\x04", pad=0):
    b0 = 0x80 | (0x20 if pad else 0) | (0x10 if ext else 0) | len(csrcs)
    b1 = (0x80 if marker else 0) | pt
    out = struct.pack("!BBHII", b0, b1, seq, ts, ssrc)
    out += b"".join(struct.pack("!I", c) for c in csrcs)
    if ext:
        profile, body = ext
        body += b"\0" * (-len(body) % 4)
        out += struct.pack("!HH", profile, len(body) // 4) + body
    out += payload
    if pad:
        out += b"\0" * (pad - 1) + bytes([pad])
    return out


def one_byte(elements):
    return 0xBEDE, b"".join(bytes([(i << 4) | (len(d) - 1)]) + d
                            for i, d in elements)


def two_byte(elements, appbits=0):
    return 0x1000 | appbits, b"".join(bytes([i, len(d)]) + d
                                      for i, d in elements)


WEBRTC_EXT = [(1, bytes([0x80 | 42])), (3, b"\x06\x00\x00"),
              (5, b"\xfe\xdc"), (4, b"video-1")]


def rtcp(pt, count, body, padded=0):
    body += b"\0" * (-len(body) % 4)
    if padded:
        body += b"\0" * (padded - 1) + bytes([padded])
    return struct.pack("!BBH", 0x80 | (0x20 if padded else 0) | count, pt,
                       (len(body) + 4) // 4 - 1) + body


def block(ssrc, frac, lost, ehs, jitter, lsr, dlsr):
    return struct.pack("!IB", ssrc, frac) + (lost & 0xFFFFFF).to_bytes(3, "big") \
        + struct.pack("!IIII", ehs, jitter, lsr, dlsr)


def sr(blocks):
    return rtcp(200, len(blocks), struct.pack("!IIIIII", 0x1234, 0xE8D4A510, 0,
                                              3000, 150, 24000) + b"".join(blocks))


def sdes(chunks):
    body = b""
    for ssrc, items in chunks:
        c = struct.pack("!I", ssrc) + b"".join(bytes([t, len(v)]) + v
                                               for t, v in items) + b"\0"
        body += c + b"\0" * (-len(c) % 4)
    return rtcp(202, len(chunks), body)


def bye(ssrcs, reason=b""):
    body = b"".join(struct.pack("!I", s) for s in ssrcs)
    if reason:
        body += bytes([len(reason)]) + reason
    return rtcp(203, len(ssrcs), body)


def fb(pt, fmt, fci, media=0xABCD):
    return rtcp(pt, fmt, struct.pack("!II", 0x1234, media) + fci)


def twcc(base, count, ref, fbc, chunks, deltas):
    fci = struct.pack("!HH", base, count) + (ref & 0xFFFFFF).to_bytes(3, "big") \
        + bytes([fbc]) + b"".join(struct.pack("!H", c) for c in chunks) + deltas
    return fb(205, 15, fci)


SEEDS = {
    "rtp-plain": rtp(),
    "rtp-csrc-pad": rtp(csrcs=(1, 2, 3), pad=7),
    "rtp-one-byte-ext": rtp(ext=one_byte(WEBRTC_EXT)),
    "rtp-two-byte-ext": rtp(ext=two_byte(WEBRTC_EXT + [(200, b"")], 5)),
    "rtp-ext-padding-id15": rtp(ext=(0xBEDE, b"\x11\xaa\xbb\x00\xf0\x21\0\0")),
    "rtp-other-ext": rtp(ext=(0x0001, b"\x01\x02\x03\x04")),
    "rtcp-sr-sdes-bye": sr([block(1, 25, 100, 0x1000A, 45, 0x33445566, 98304),
                            block(2, 255, -5, 7, 0, 0, 0)])
    + sdes([(0x1234, [(1, b"hq-abc"), (2, b"Bob")]), (0x5678, [(1, b"x")])])
    + bye([0x1234, 0x5678], b"consultation over"),
    "rtcp-rr-padded": rtcp(201, 1, struct.pack("!I", 0x1234)
                           + block(9, 1, 2, 3, 4, 5, 6), padded=8),
    "rtcp-app-pli": rtcp(204, 1, struct.pack("!I", 1) + b"NAME" + b"data")
    + fb(206, 1, b""),
    "rtcp-nack": fb(205, 1, struct.pack("!HHHH", 65530, 0x8001, 100, 0)),
    "rtcp-fir": fb(206, 4, struct.pack("!IBxxxIBxxx", 0xABCD, 7, 0xEF01, 200),
                   media=0),
    "rtcp-remb": fb(206, 15, b"REMB" + bytes([2, (2 << 2) | 3]) + b"\xd0\x90"
                    + struct.pack("!II", 0x1111, 0x2222), media=0),
    "rtcp-twcc-run": twcc(100, 221, 1, 0, [0x00DD], b""),
    "rtcp-twcc-vec1": twcc(65534, 14, 1, 7, [0x9F1C], b"\x04" * 8),
    "rtcp-twcc-vec2": twcc(7, 5, -1, 9, [0xD890],
                           b"\x0a\xff\xfc\x03\xe8\x00"),
    "rtcp-twcc-mixed": twcc(1000, 40, 20, 3, [0x2014, 0x9F1C, 0xD890],
                            b"\x04" * 20 + b"\x04" * 8 + b"\x0a\xff\xfc\x03\xe8\x00"),
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus", "rtp")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
