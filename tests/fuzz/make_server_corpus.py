#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets `frames` (WebSocket message
sequences, see fuzz_frames.c) and `rest` (raw HTTP connections, see
fuzz_rest.c): one file per case, small, each reaching one path.

    tests/fuzz/make_server_corpus.py   # rewrites corpus/frames, corpus/rest
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def j(**m):
    return json.dumps(m, separators=(",", ":"))


# Commands (fuzz_frames.c): '@' 'A' 'B' 'C' text from conn 0..3, 'D'..'G'
# padded over 64 KiB, 'H'..'K' over 1023 KiB, 'L'..'O' exactly 64 KiB,
# 'P'..'S' binary, 'a' 'b' 'c' join, 'p' 'q' 'r' 's' drop.
def frames_cases():
    with open(os.path.join(HERE, "corpus", "sdp", "chromium-offer.sdp")) as f:
        offer = f.read()
    pub = "A" + j(type="track_publish", id="1", name="cam", kind="video")
    cases = {
        "prejoin-ping": ["@" + j(type="ping", id="p")],
        "prejoin-deep": ["@" + "[" * 40],
        "prejoin-deep-big": ["D" + "["],
        "prejoin-type-number-big": ["D" + '{"type":1}'],
        "prejoin-type-true": ["@" + '{"type":true}'],
        "prejoin-type-float": ["@" + '{"type":1.5}'],
        "prejoin-sdp-big": ["D" + j(type="publish_offer", sdp="v=0")],
        "prejoin-request": ["@" + j(type="chat_send", id="c", body="x")],
        "prejoin-binary": ["P" + j(type="ping")],
        "prejoin-exact-64k": ["L" + j(type="ping", id="p")],
        "prejoin-over-1m": ["H" + j(type="ping")],
        "join-fields": ["@" + '{"type":"join","id":"j","token":"$T",'
                        '"room":1}',
                        "@" + '{"type":"join","token":"$T",'
                        '"subscribe_rules":[{"type":"include","all":true}]}'],
        "join-bad-token": ["@" + j(type="join", id="j", token="a.b.c")],
        "join-then-ping": ["a", "A" + j(type="ping", id="p")],
        "join-twice": ["a", "a"],
        "chat": ["a", "b", "A" + j(type="chat_send", id="1", body="hi",
                                    attributes={"k": [1, {"x": None}]}),
                 "B" + j(type="chat_history", id="2", limit=5, before=9)],
        "tracks": ["a", pub,
                   "A" + '{"type":"track_update","id":"2","track_sid":"$K",'
                   '"enabled":false,"priority":"high"}',
                   "A" + '{"type":"track_unpublish","id":"3",'
                   '"track_sid":"$K"}'],
        "moderation": ["a", "b", "A" + '{"type":"mute","id":"1",'
                       '"participant_sid":"$G","track_sid":"$K"}',
                       "A" + '{"type":"remove","id":"2",'
                       '"participant_sid":"$G"}'],
        "publish-offer": ["a", pub,
                          "A" + json.dumps({"type": "publish_offer",
                                            "id": "o", "sdp": offer,
                                            "tracks": [{"mid": "1",
                                                        "track_sid": "$K"}]},
                                           separators=(",", ":"))],
        "publish-offer-big": ["a", pub,
                              "E" + json.dumps({"type": "publish_offer",
                                                "id": "o", "sdp": offer},
                                               separators=(",", ":"))],
        "publish-bad-tracks": ["a", "A" + j(type="publish_offer", sdp="v=0",
                                            tracks=[1, {"mid": 2}])],
        "candidate-wrong": ["a", "A" + j(type="candidate", transport=1,
                                         candidate="candidate:1")],
        "candidate": ["a", "A" + j(type="candidate", transport="publish",
                                   candidate="candidate:1 1 udp 1 127.0.0.1 "
                                   "9 typ host"),
                      "A" + j(type="end_of_candidates",
                              transport="subscribe")],
        "subscribe-answer": ["a", "b", "B" + j(type="subscribe_answer",
                                               sdp="v=0", revision=1)],
        "quality": ["a", "A" + j(type="network_quality_configure", id="q",
                                 local=3, remote="2")],
        "rules": ["a", "A" + j(type="subscribe_rules", id="r",
                               rules=[{"type": "include", "kind": "audio"},
                                      {"type": {}, "all": True}])],
        "deep-after-join": ["a", "E" + '{"type":"publish_offer","sdp":'
                            + "[" * 60],
        "deep-behind-comment": ["a", "E" + '{"type":"publish_offer",'
                                '"x":/*"*/' + "[" * 60],
        "deep-behind-single-quote": ["a", "E" + '{"type":"publish_offer",'
                                     '"x":\'"\',"sdp":' + "[" * 60],
        "big-not-sdp-after-join": ["a", "E" + j(type="chat_send", body="x")],
        "resume": ["b", "r", "B" + '{"type":"join","id":"j","token":"$T",'
                   '"resume_token":"$R"}'],
        "duplicate-identity": ["a", "c", "A" + j(type="ping", id="p")],
        "drop-and-rejoin": ["a", "b", "q", "a"],
        "leave": ["a", "A" + j(type="leave", id="l"),
                  "A" + j(type="ping", id="p")],
    }
    rooms = {
        "p2p-relay": ("#2", ["a", "b",
                             "A" + '{"type":"peer_offer","to":"$G",'
                             '"sdp":"v=0"}',
                             "B" + '{"type":"peer_candidate","to":"$H",'
                             '"candidate":3}']),
        "lobby": ("#4", ["a", "b", "B" + j(type="chat_send", body="x"),
                         "A" + '{"type":"admit","id":"1",'
                         '"participant_sid":"$G"}']),
        "go-lobby-deny": ("#7", ["a", "b",
                                 "A" + '{"type":"deny",'
                                 '"participant_sid":"$G"}']),
    }
    for name, lines in cases.items():
        yield name, "\n".join(lines) + "\n"
    for name, (head, lines) in rooms.items():
        yield name, "\n".join([head] + lines) + "\n"


def http(method, path, body=None, ctype="application/json", auth=True,
         extra=""):
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if auth:
        head += "Authorization: $A\r\n"
    head += extra
    if body is not None:
        head += f"Content-Type: {ctype}\r\nContent-Length: $L\r\n"
    return head + "\r\n" + (body or "")


def ws_frame(text, opcode=1):
    """A client text frame, masked (as RFC 6455 requires of clients) with
    the key 0, so its payload reads as it is."""
    data = text.encode()
    n = len(data)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    else:
        head += bytes([0x80 | 126, n >> 8, n & 0xff])
    return (head + b"\0\0\0\0" + data).decode("latin-1")


def rest_cases():
    cases = {
        "healthz": http("GET", "/healthz", auth=False),
        "static": http("GET", "/", auth=False),
        "token": http("POST", "/token", j(user_identity="p",
                                          room_name="fuzz"), auth=False),
        "token-form": http("POST", "/token", "user_identity=p&room_name=fuzz",
                           "application/x-www-form-urlencoded", auth=False),
        "token-deep": http("POST", "/token", "[" * 100, auth=False),
        "access-token": http("POST", "/v1/AccessTokens",
                             j(Identity="a", Room="fuzz", Role="host",
                               Ttl=60)),
        "access-token-types": http("POST", "/v1/AccessTokens",
                                   j(Identity=1, Room=[], Ttl="x")),
        "rooms-create": http("POST", "/v1/Rooms",
                             j(UniqueName="r1", Type="group",
                               MaxParticipants=3, WaitingRoom=True)),
        "rooms-create-form": http("POST", "/v1/Rooms",
                                  "UniqueName=r2&Type=go&"
                                  "RecordParticipantsOnConnect=true",
                                  "application/x-www-form-urlencoded"),
        "rooms-list": http("GET", "/v1/Rooms?Status=in-progress&PageSize=2"),
        "room-get": http("GET", "/v1/Rooms/$S"),
        "room-complete": http("POST", "/v1/Rooms/$S",
                              j(Status="completed")),
        "room-participants": http("GET", "/v1/Rooms/fuzz/Participants"),
        "room-events": http("GET", "/v1/Rooms/$S/Events?PageSize=5"),
        "recording-rules": http("POST", "/v1/Rooms/$S/RecordingRules",
                                j(Rules=[{"type": "include", "all": True}])),
        "recording-rules-form": http("POST", "/v1/Rooms/$S/RecordingRules",
                                     'Rules=[{"type":"include","kind":1}]',
                                     "application/x-www-form-urlencoded"),
        "recordings": http("GET", "/v1/Recordings"),
        "compositions": http("POST", "/v1/Compositions",
                             j(RoomSid="$S", AudioSources=["*"],
                               VideoLayout={"grid": {"video_sources":
                                                     ["*"]}})),
        "subscribe-rules": http("POST", "/v1/Rooms/$S/Participants/x/"
                                "SubscribeRules",
                                j(Rules=[{"type": "include", "all": True}])),
        "bad-auth": http("GET", "/v1/Rooms", extra="Authorization: Basic "
                         "Zm9vOmJhcg==\r\n", auth=False),
        "bad-method": http("DELETE", "/v1/Rooms"),
        "chunked": ("POST /v1/Rooms HTTP/1.1\r\nHost: x\r\nAuthorization: $A"
                    "\r\nContent-Type: application/json\r\nTransfer-Encoding: "
                    "chunked\r\n\r\n5\r\n{\"Uni\r\n0\r\n\r\n"),
        "pipelined": (http("GET", "/healthz", auth=False)
                      + http("GET", "/v1/Rooms/$S")),
        "two-connections": (http("POST", "/v1/Rooms", j(UniqueName="a"))
                            + "\n@@@\n" + http("GET", "/v1/Rooms/a")),
        "websocket-upgrade": ("GET /v1/signal HTTP/1.1\r\nHost: x\r\n"
                              "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                              "Sec-WebSocket-Version: 13\r\n\r\n"),
        "garbage": "\x01\x02 / HTTP/9\r\n\r\n",
        # After the upgrade the same connection carries WebSocket frames:
        # libsoup's frame reader, then hqsignal.c and the session.
        "websocket-frames": ("GET /v1/signal HTTP/1.1\r\nHost: x\r\n"
                             "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                             "Sec-WebSocket-Version: 13\r\n\r\n"
                             + ws_frame(j(type="ping", id="p"))
                             + ws_frame('{"type":1}')
                             + ws_frame("[" * 40)
                             + ws_frame(j(type="join", token="a.b.c"))
                             + ws_frame("x", opcode=2)),
    }
    yield from cases.items()


def write(name, cases):
    d = os.path.join(HERE, "corpus", name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    for case, text in cases:
        with open(os.path.join(d, case), "wb") as f:
            f.write(text.encode("latin-1") if "websocket" in case
                    else text.encode())


if __name__ == "__main__":
    write("frames", frames_cases())
    write("rest", rest_cases())
