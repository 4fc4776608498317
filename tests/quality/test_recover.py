"""Media comes back after the network goes dark and heals (ICE restart).

A publisher (hqroomsink, alice) and a subscriber (hqroomsrc !
hqqualitymeter, bob) on a real hq-server over 127.0.0.1, each in a
process of its own (tests/quality/impaired.c) whose media transports go
through the impairment relay (docs/relay.md).  Once media flows, both
links drop every datagram (`both loss=100%`) until the transports give up
on ICE consent: alice's publish transport and bob's subscribe transport
say so (relayhook's "a transport failed" line, the elements'
hq-media-reconnecting) while the signalling WebSocket, plain TCP to the
server, stays up.  Then the links heal, and the test asserts what a user
would check: both elements post hq-media-restored, bob decodes new video
frames and hears the tone again (hqqualitymeter intervals with frames,
RTP packets and no silence), and the server's log says both transports
are connected again.  Publish is restarted by alice (the offerer), the
subscribe transport by the server (docs/protocol.md, "When a connection
fails").  Every wait is for an event, with a deadline; none is a sleep.
"""
import time
import unittest

from test_quality import DEADLINE, RoomCase, parse

# Consent freshness gives up after about 10 s of silence (libnice
# 0.1.21, docs/transport.md); this is for a loaded machine.
FAIL_DEADLINE = 120


class Recovery(RoomCase):
    ROOM = "r"

    def setUp(self):
        super().setUp()
        url = self.server.url
        self.alice = self.start(
            f"hqroomsink name=s server={url} room=r identity=alice "
            "videotestsrc is-live=true pattern=smpte horizontal-speed=8 ! "
            "video/x-raw,width=320,height=240,framerate=15/1 ! s.video_0 "
            "audiotestsrc is-live=true freq=440 volume=0.3 ! s.audio_0")
        self.alice.wait_for(lambda l: any("hq-joined" in x for x in l),
                            "alice to join", DEADLINE)
        self.bob = self.start(
            f"hqroomsrc name=r server={url} room=r identity=bob "
            "hqqualitymeter name=m "
            "r. ! queue ! video/x-raw ! m.video_0 "
            "r. ! queue ! audio/x-raw ! m.audio_0 "
            "m.src_video_0 ! fakesink m.src_audio_0 ! fakesink")

    def media_flows(self, start):
        """Bob's meter saw, after line @start, a second of video with new
        frames off the network and a second of audio that is the tone."""
        video = audio = False
        for m in self.bob.messages("hq-quality", start):
            if m.get("net-packets", 0) == 0:
                continue
            if m["kind"] == "video" and m.get("frames", 0) > 0:
                video = True
            if m["kind"] == "audio" and m.get("silence-ratio", 1) < 0.5:
                audio = True
        return video and audio

    def wait_media(self, start, what):
        self.bob.wait_for(lambda l: self.media_flows(start), what, DEADLINE)

    @staticmethod
    def said(who, name, transport, start):
        return any(m.get("transport") == transport
                   for m in who.messages(name, start))

    def transport_events(self, identity_sid, transport):
        return [e["state"] for e in self.server.log_events()
                if e.get("event") == "transport"
                and e.get("participant") == identity_sid
                and e.get("transport") == transport]

    def sid_of(self, who):
        for line in who.lines:
            name, fields = parse(line)
            if name == "hq-joined":
                return fields["participant-sid"]
        raise AssertionError("no hq-joined")

    def test_media_comes_back_after_the_network_heals(self):
        try:
            self.media_comes_back()
        except AssertionError:
            for who in (self.alice, self.bob):
                lines = [x for x in who.lines
                         if not x.startswith(("message hq-quality",
                                              "message hq-network-quality"))]
                print(f"--- exit {who.proc.poll()}:\n"
                      + "\n".join(x[:300] for x in lines[-40:]), flush=True)
            raise

    def media_comes_back(self):
        self.wait_media(0, "bob to see and hear alice")
        alice_sid, bob_sid = self.sid_of(self.alice), self.sid_of(self.bob)

        a0, b0 = len(self.alice.lines), len(self.bob.lines)
        cut = time.monotonic()
        self.alice.command("both loss=100%")
        self.bob.command("both loss=100%")
        # Each process's own transport gives up on consent: alice's
        # publish transport and bob's subscribe transport (the relay hook
        # prints it; old code and new alike).
        for who in (self.alice, self.bob):
            who.wait_for(
                lambda l: any("a transport failed" in x and "consent" in x
                              for x in l[a0 if who is self.alice else b0:]),
                "a transport to lose ICE consent", FAIL_DEADLINE)
        healed = time.monotonic()
        print(f"both lost consent {healed - cut:.1f} s after the cut",
              flush=True)

        a1, b1 = len(self.alice.lines), len(self.bob.lines)
        self.alice.command("both none")
        self.bob.command("both none")
        self.wait_media(b1, "bob to see and hear alice again")
        print("video and audio at bob again "
              f"{time.monotonic() - healed:.1f} s after the heal", flush=True)
        self.assertTrue(self.said(self.alice, "hq-media-reconnecting",
                                  "publish", a0))
        self.assertTrue(self.said(self.bob, "hq-media-reconnecting",
                                  "subscribe", b0))
        self.alice.wait_for(
            lambda l: self.said(self.alice, "hq-media-restored", "publish",
                                a1), "alice's hq-media-restored", DEADLINE)
        self.bob.wait_for(
            lambda l: self.said(self.bob, "hq-media-restored", "subscribe",
                                b1), "bob's hq-media-restored", DEADLINE)
        # The server's side: down (failed, or restarted while it still
        # looked connected because the participant failed first), then
        # connected again.
        for sid, transport in ((alice_sid, "publish"),
                               (bob_sid, "subscribe")):
            def back(lines, sid=sid, transport=transport):
                states = self.transport_events(sid, transport)
                return states.count("connected") >= 2 \
                    and states[-1] == "connected"
            # Polled as bob's meter prints its lines, every second.
            self.bob.wait_for(back, f"the server's {transport} transport "
                              "to be connected again", DEADLINE)
            states = self.transport_events(sid, transport)
            print(f"server, {transport}: {' -> '.join(states)}", flush=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
