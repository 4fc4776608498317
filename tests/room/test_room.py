"""hqroomsrc and hqroomsink against a real hq-server on loopback, driven
through gst-launch-1.0 processes as a user would run them.

Acceptance (issue #6): 1. a publisher's audio and video reach a subscriber
decoded, labelled with the publisher's identity; 4. both pipelines survive
a restart of the server and media resumes; 5. a refused token, an
unknown room and a full room fail fast with an element error that says
which; 6. hqroomsink sends RFC 6464 audio levels, so the server's
dominant speaker follows two publishers taking turns; 7. a pad's priority
is its track's priority in the room.  Every wait is on an event (a line of output, a process exit), with
a generous deadline, never a fixed sleep.
"""
import math
import os
import random
import re
import select
import signal
import struct
import subprocess
import sys
import threading
import time
import unittest

import hqtest
from hqws import Signal

GST_LAUNCH = os.environ.get("GST_LAUNCH", "gst-launch-1.0")
DEADLINE = 60  # seconds; generous for a loaded 2-core machine


class Launch:
    """A gst-launch-1.0 process whose output we read line by line."""

    def __init__(self, pipeline, env, verbose=True, stdin=None):
        self.lines = []
        self.proc = subprocess.Popen(
            [GST_LAUNCH] + (["-m", "-v"] if verbose else [])
            + pipeline.split(), stdin=stdin,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        self._buf = b""

    def _read(self, timeout):
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return True
        chunk = os.read(self.proc.stdout.fileno(), 65536)
        if not chunk:
            return False
        self._buf += chunk
        while b"\n" in self._buf:
            line, self._buf = self._buf.split(b"\n", 1)
            self.lines.append(line.decode(errors="replace"))
        return True

    def wait_for(self, cond, what, deadline=DEADLINE):
        end = time.monotonic() + deadline
        while not cond(self.lines):
            left = end - time.monotonic()
            if left <= 0 or not self._read(min(left, 1.0)):
                if cond(self.lines):
                    return
                raise AssertionError(
                    f"timed out waiting for {what}; output:\n"
                    + "\n".join(self.lines[-40:]))

    def wait_exit(self, deadline=DEADLINE):
        end = time.monotonic() + deadline
        while self.proc.poll() is None and time.monotonic() < end:
            self._read(0.5)
        while self._read(0):
            if self.proc.poll() is not None and not select.select(
                    [self.proc.stdout], [], [], 0)[0]:
                break
        return self.proc.wait(timeout=max(1, end - time.monotonic()))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdin:
            try:
                self.proc.stdin.close()
            except OSError:
                pass  # a writer saw the pipe break
        self.proc.stdout.close()


def count(lines, pattern):
    rx = re.compile(pattern)
    return sum(1 for line in lines if rx.search(line))


RATE = 48000
CHUNK = RATE // 50  # 20 ms of mono S16


class Voice(threading.Thread):
    """Feeds a publisher's stdin with 20 ms chunks of mono S16 audio, as a
    microphone hears it: faint noise (about -70 dBov), and while turn[0]
    names it, "syllables" of a tone (-13 dBov) 200 ms long with 100 ms
    pauses.  The server's speaker detection needs both: it counts as
    speech only what rises above the noise floor it learnt in the pauses.
    The pipeline reads at the pace of its clock (clocksync), so the
    pipe's back-pressure paces the writes; a change of turn is heard
    within the pipe's 64 KB (0.7 s)."""

    def __init__(self, launch, identity, freq, turn):
        super().__init__(daemon=True)
        self.stdin = launch.proc.stdin
        self.identity = identity
        self.turn = turn
        rng = random.Random(freq)
        self.noise = [b"".join(struct.pack("<h", rng.randint(-16, 16))
                               for _ in range(CHUNK)) for _ in range(5)]
        self.tone = b"".join(
            struct.pack("<h", int(9800 * math.sin(2 * math.pi * freq * i
                                                  / RATE)))
            for i in range(CHUNK))

    def run(self):
        n = 0
        try:
            while True:
                speaking = self.turn[0] == self.identity and n % 15 < 10
                self.stdin.write(self.tone if speaking
                                 else self.noise[n % len(self.noise)])
                self.stdin.flush()
                n += 1
        except (BrokenPipeError, ValueError, OSError):
            pass  # the publisher stopped


class RoomElements(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = hqtest.Server()
        cls.server.start()
        creds = hqtest.read_credentials(cls.server.data_dir)
        cls.key = (creds["key_sid"], creds["key_secret"])
        cls.env = dict(os.environ)
        cls.env.update({"HQ_API_KEY_SID": creds["key_sid"],
                        "HQ_API_KEY_SECRET": creds["key_secret"],
                        "HQ_ACCOUNT_SID": creds["account_sid"]})
        cls.env.pop("HQ_ACCESS_TOKEN", None)
        # Sanitizer builds (see meson.build): runtimes and a plugin set
        # for gst-launch-1.0 only, with a registry of its own.
        preload = os.environ.get("HQ_ROOM_TEST_PRELOAD")
        if preload:
            cls.env.update({
                "LD_PRELOAD": preload,
                "GST_PLUGIN_SYSTEM_PATH_1_0":
                    os.environ["HQ_ROOM_TEST_SYSTEM_PLUGINS"],
                "GST_REGISTRY_FORK": "no",
                "GST_REGISTRY": os.path.join(cls.server.data_dir, "..",
                                             "registry.bin")})

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    def make_room(self, name, **extra):
        form = "&".join([f"UniqueName={name}", "Type=group"]
                        + [f"{k}={v}" for k, v in extra.items()])
        r = self.server.request(
            "POST", "/v1/Rooms", form, auth=self.key,
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 201, r.body)

    def launch(self, pipeline):
        p = Launch(pipeline, self.env)
        self.addCleanup(p.stop)
        return p

    def publisher(self, room, identity):
        return self.launch(
            f"hqroomsink name=s server={self.server.url} room={room} "
            f"identity={identity} "
            "videotestsrc is-live=true ! "
            "video/x-raw,width=320,height=240,framerate=15/1 ! s.video_0 "
            "audiotestsrc is-live=true wave=ticks ! s.audio_0")

    def test_1_subscriber_decodes_publisher(self):
        self.make_room("r1")
        pub = self.publisher("r1", "alice")
        pub.wait_for(lambda l: count(l, r"hq-joined.*identity=\(string\)alice"),
                     "the publisher to join")
        sub = self.launch(
            f"hqroomsrc name=r server={self.server.url} room=r1 identity=bob "
            "r. ! queue ! fakesink name=a silent=false "
            "r. ! queue ! fakesink name=b silent=false")

        def decoded(lines):
            # -v prints a last-message per buffer.  Decoded buffers have
            # the sizes of raw media: a 320x240 I420 frame is 115200 bytes,
            # 20 ms of 48 kHz stereo S16 audio 3840 bytes (encoded VP8 or
            # Opus frames vary in size).  This does not rely on the caps
            # notifications, which a loaded machine may print in another
            # form.
            video = count(lines, r"GstFakeSink:\w+: last-message = chain .*"
                                 r"\(115200 bytes,")
            audio = count(lines, r"GstFakeSink:\w+: last-message = chain .*"
                                 r"\(3840 bytes,")
            return video >= 10 and audio >= 10

        sub.wait_for(decoded, "decoded audio and video at the subscriber")
        self.assertTrue(count(sub.lines,
                              r"GstMessageTag.*hq-participant.*alice"),
                        "no stream was tagged with the publisher's identity")
        self.assertTrue(count(sub.lines, r"GstMessageTag.*title.*video_0"))
        self.assertTrue(count(sub.lines, r"GstMessageTag.*title.*audio_0"))
        self.assertTrue(count(sub.lines, r"hq-track-published|hq-joined"))

    def test_3_encoded_passthrough_into_webmmux(self):
        self.make_room("r3")
        pub = self.publisher("r3", "frank")
        pub.wait_for(lambda l: count(l, r"hq-joined"), "the publisher to join")
        out = os.path.join(self.server.data_dir, "..", "r3.webm")
        sub = self.launch(
            f"-e hqroomsrc name=r server={self.server.url} room=r3 "
            "identity=grace r.video_0 ! queue ! m.video_0 "
            "r.audio_0 ! queue ! m.audio_0 "
            f"webmmux name=m ! filesink location={out}")
        end = time.monotonic() + DEADLINE
        # No decoder between: the muxer takes VP8 and Opus as they came.
        while (not os.path.exists(out) or os.path.getsize(out) < 100000) \
                and time.monotonic() < end and sub.proc.poll() is None:
            sub._read(0.2)
        sub.proc.send_signal(signal.SIGINT)
        self.assertEqual(sub.wait_exit(), 0, "\n".join(sub.lines[-30:]))
        info = subprocess.run(["gst-discoverer-1.0", out], capture_output=True,
                              text=True, timeout=60).stdout
        self.assertIn("video #", info, info)
        self.assertRegex(info, r"video #\d+: VP8", info)
        self.assertRegex(info, r"audio #\d+: Opus", info)

    def expect_refusal(self, pipeline, code):
        p = self.launch(pipeline)
        rc = p.wait_exit()
        self.assertNotEqual(rc, 0)
        text = "\n".join(p.lines)
        self.assertRegex(text, r"ERROR: from element .*GstHqRoom", text)
        self.assertIn(code, text)

    def test_5a_bad_token(self):
        self.make_room("r5a")
        self.expect_refusal(
            f"hqroomsrc server={self.server.url} room=r5a token=not.a.token "
            "! fakesink", "invalid_token")

    def test_5b_unknown_room(self):
        self.expect_refusal(
            f"hqroomsrc server={self.server.url} room=no-such-room "
            "identity=carol ! fakesink", "room_not_found")

    def test_5c_full_room(self):
        self.make_room("r5c", MaxParticipants=1)
        pub = self.publisher("r5c", "dave")
        pub.wait_for(lambda l: count(l, r"hq-joined"), "the first to join")
        self.expect_refusal(
            f"hqroomsrc server={self.server.url} room=r5c identity=erin "
            "! fakesink", "room_full")

    # Acceptance 6: two hqroomsink publishers take turns to speak; an
    # observer on the signalling WebSocket sees the server's
    # dominant_speaker name each in turn.  The server decides from the RFC
    # 6464 levels in their audio packets alone: without them it names
    # nobody.  The turn changes when the observer saw the last one, never
    # after a fixed time.

    def speaker(self, room, identity, turn, freq):
        pub = Launch(
            f"fdsrc fd=0 ! rawaudioparse use-sink-caps=false format=pcm "
            f"pcm-format=s16le sample-rate={RATE} num-channels=1 ! "
            f"clocksync ! audioconvert ! s.audio_0 hqroomsink name=s "
            f"server={self.server.url} room={room} identity={identity}",
            self.env, verbose=False, stdin=subprocess.PIPE)
        self.addCleanup(pub.stop)
        Voice(pub, identity, freq, turn).start()
        return pub

    def test_6_server_follows_the_speaker(self):
        self.make_room("r6")
        observer = self.observer("r6")
        turn = ["alice"]
        pubs = [self.speaker("r6", "alice", turn, 440),
                self.speaker("r6", "bob", turn, 660)]
        named = []
        for who in ("alice", "bob", "alice"):
            turn[0] = who
            end = time.monotonic() + DEADLINE
            while True:
                # A ping every few seconds keeps the observer connected
                # (docs/protocol.md, Keepalive).
                observer.send({"type": "ping"})
                try:
                    msg = observer.wait_for("dominant_speaker", timeout=5)
                except TimeoutError:
                    msg = None
                if msg is not None:
                    named.append(msg.get("identity"))
                    if msg.get("identity") == who:
                        break
                for p in pubs:
                    p._read(0)
                self.assertLess(
                    time.monotonic(), end,
                    f"the server did not name {who}; it named {named}; "
                    "publishers said:\n" + "\n".join(
                        "\n".join(p.lines[-20:]) for p in pubs)
                    + "\nserver log:\n" + self.server.stderr_text()[-3000:])


    def observer(self, room):
        r = self.server.request(
            "POST", "/v1/AccessTokens", f"Identity=observer&Room={room}",
            auth=self.key,
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 201, r.body)
        observer = Signal(self.server.url)
        self.addCleanup(observer.close)
        self.assertEqual(observer.join(r.json()["token"])["type"], "joined")
        return observer

    def test_7_pad_priority_reaches_the_room(self):
        # The pad property, by nick and by its old number, is the track's
        # priority for everyone in the room.
        self.make_room("r7")
        observer = self.observer("r7")
        self.launch(
            f"hqroomsink name=s server={self.server.url} room=r7 "
            "identity=carol video_0::priority=high audio_0::priority=0 "
            "videotestsrc is-live=true ! "
            "video/x-raw,width=160,height=120,framerate=15/1 ! s.video_0 "
            "audiotestsrc is-live=true ! s.audio_0")
        got = {}
        while len(got) < 2:
            t = observer.wait_for("track_published", timeout=DEADLINE)
            got[t["track"]["name"]] = t["track"]["priority"]
        self.assertEqual(got, {"video_0": "high", "audio_0": "low"})

class ServerRestart(unittest.TestCase):
    """Acceptance 4: the server goes away during a session and comes back
    on the same address and data directory; both pipelines keep running
    and the subscriber decodes the publisher's video again, on the same
    pad."""

    def test_4_server_restart(self):
        first = hqtest.Server()
        first.start()
        self.addCleanup(first._tmp.cleanup)
        self.addCleanup(first._stderr.close)
        self.addCleanup(first.stop)
        port = first.url.rsplit(":", 1)[1]
        creds = hqtest.read_credentials(first.data_dir)
        env = dict(os.environ)
        env.update({"HQ_API_KEY_SID": creds["key_sid"],
                    "HQ_API_KEY_SECRET": creds["key_secret"],
                    "HQ_ACCOUNT_SID": creds["account_sid"]})
        env.pop("HQ_ACCESS_TOKEN", None)
        preload = os.environ.get("HQ_ROOM_TEST_PRELOAD")
        if preload:
            env.update({
                "LD_PRELOAD": preload,
                "GST_PLUGIN_SYSTEM_PATH_1_0":
                    os.environ["HQ_ROOM_TEST_SYSTEM_PLUGINS"],
                "GST_REGISTRY_FORK": "no",
                "GST_REGISTRY": os.path.join(first.data_dir, "..",
                                             "registry.bin")})
        r = first.request(
            "POST", "/v1/Rooms", "UniqueName=r4&Type=group",
            auth=(creds["key_sid"], creds["key_secret"]),
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 201, r.body)
        pub = Launch(f"hqroomsink name=s server={first.url} room=r4 "
                     "identity=alice reconnect-timeout=60000 "
                     "videotestsrc is-live=true ! "
                     "video/x-raw,width=320,height=240,framerate=15/1 ! "
                     "s.video_0", env)
        self.addCleanup(pub.stop)
        sub = Launch(f"hqroomsrc server={first.url} room=r4 identity=bob "
                     "reconnect-timeout=60000 kinds=video ! "
                     "fakesink name=v silent=false", env)
        self.addCleanup(sub.stop)

        def frames(lines):
            return count(lines, r"GstFakeSink:v: last-message = chain")

        sub.wait_for(lambda l: frames(l) >= 10, "frames before the restart")
        self.assertEqual(first.stop(), 0)
        before = frames(sub.lines)
        second = hqtest.Server(data_dir=first.data_dir,
                               args=["--listen", f"127.0.0.1:{port}"])
        second.start()
        self.addCleanup(second._stderr.close)
        self.addCleanup(second.stop)
        sub.wait_for(lambda l: frames(l) >= before + 30,
                     "frames after the server came back", deadline=120)
        self.assertIsNone(pub.proc.poll(), "the publisher kept running")
        self.assertIsNone(sub.proc.poll(), "the subscriber kept running")
        self.assertFalse(count(sub.lines, r"ERROR"), "no element error")


if __name__ == "__main__":
    unittest.main(verbosity=2)
