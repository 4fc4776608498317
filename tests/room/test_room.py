"""hqroomsrc and hqroomsink against a real hq-server on loopback, driven
through gst-launch-1.0 processes as a user would run them.

Acceptance (issue #6): 1. a publisher's audio and video reach a subscriber
decoded, labelled with the publisher's identity; 4. both pipelines survive
a restart of the server and media resumes; 5. a refused token, an
unknown room and a full room fail fast with an element error that says
which; 6. kinds=audio is filtered at the server: no video is sent; 7. a
subscribe offer sent while the subscriber's connection was down reaches it
after it resumes; 8. changing kinds on a running element re-subscribes;
9. hqroomsink sends RFC 6464 audio levels, so the server's dominant
speaker follows two publishers taking turns; 10. a pad's priority is its
track's priority in the room.  Every wait is on an event (a line of
output, a process exit), with a generous deadline, never a fixed sleep.
"""
import math
import os
import random
import re
import select
import signal
import socket
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
    """A gst-launch-1.0 process (or @argv) whose output we read line by
    line."""

    def __init__(self, pipeline, env, argv=None, verbose=True, stdin=None):
        self.lines = []
        self.proc = subprocess.Popen(
            argv or [GST_LAUNCH] + (["-m", "-v"] if verbose else [])
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


class CuttableProxy:
    """A TCP relay to the server that can cut every connection through it
    and refuse new ones, like a network that goes away and comes back
    (the server sees the connection close; nothing says `leave`)."""

    def __init__(self, port):
        self.target = ("127.0.0.1", port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.up = threading.Event()
        self.up.set()
        self.lock = threading.Lock()
        self.socks = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            if not self.up.is_set():
                client.close()
                continue
            server = socket.create_connection(self.target)
            with self.lock:
                self.socks += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b),
                                 daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        self.up.clear()
        with self.lock:
            socks, self.socks = self.socks, []
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def restore(self):
        self.up.set()

    def close(self):
        self.cut()
        self.listener.close()


class Program(Launch):
    """Another program, read like gst-launch-1.0, that takes commands on
    its stdin."""

    def __init__(self, argv, env):
        self.lines = []
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, env=env)
        self._buf = b""

    def say(self, line):
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def stop(self):
        if self.proc.stdin and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
        super().stop()


def launch_env(server, creds):
    """The environment of the pipelines we start against @server: its API
    key, so the elements mint their own tokens, and in sanitizer builds
    (see meson.build) the runtimes and a plugin set for gst-launch-1.0
    only, with a registry of its own."""
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
            "GST_REGISTRY": os.path.join(server.data_dir, "..",
                                         "registry.bin")})
    return env


def make_room(server, key, name, **extra):
    """Creates group room @name on @server by REST with API key @key."""
    form = "&".join([f"UniqueName={name}", "Type=group"]
                    + [f"{k}={v}" for k, v in extra.items()])
    r = server.request(
        "POST", "/v1/Rooms", form, auth=key,
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    if r.status != 201:
        raise AssertionError(f"creating room {name}: {r.status} {r.body}")


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
        # A long grace: test 7's subscriber is away while a publisher
        # starts, which a loaded machine may take a while to do.
        cls.server = hqtest.Server(env={"HQ_RECONNECT_GRACE_MS": "120000"})
        cls.server.start()
        creds = hqtest.read_credentials(cls.server.data_dir)
        cls.key = (creds["key_sid"], creds["key_secret"])
        cls.env = launch_env(cls.server, creds)

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    def make_room(self, name, **extra):
        make_room(self.server, self.key, name, **extra)

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

    def room_media(self, name):
        r = self.server.request("GET", f"/v1/Rooms/{name}", auth=self.key)
        self.assertEqual(r.status, 200, r.body)
        return r.json()["media"]

    def test_6_kinds_audio_is_filtered_at_the_server(self):
        self.make_room("r6")
        pub = self.publisher("r6", "alice")
        pub.wait_for(lambda l: count(l, r"hq-joined"), "the publisher to join")
        sub = self.launch(
            f"hqroomsrc name=r server={self.server.url} room=r6 "
            "identity=transcriber kinds=audio "
            "r. ! queue ! fakesink silent=false")
        audio = r"GstFakeSink:\w+: last-message = chain .*\(3840 bytes,"
        video = r"GstFakeSink:\w+: last-message = chain .*\(115200 bytes,"
        sub.wait_for(lambda l: count(l, audio) >= 50,
                     "decoded audio at the audio-only subscriber")
        # The server sent it audio and nothing else: the only subscriber,
        # so every packet the room forwarded went to it.
        media = self.room_media("r6")
        # (Not >= 50: the decoder may conceal a late packet with a buffer
        # of its own.)
        self.assertGreater(media["forwarded_audio_packets"], 0, media)
        self.assertEqual(media["forwarded_video_packets"], 0, media)
        # The counter does see video: a second subscriber wants both.
        both = self.launch(
            f"hqroomsrc name=r server={self.server.url} room=r6 "
            "identity=watcher r. ! queue ! fakesink silent=false "
            "r. ! queue ! fakesink silent=false")
        both.wait_for(lambda l: count(l, video) >= 10,
                      "decoded video at the second subscriber")
        media = self.room_media("r6")
        self.assertGreater(media["forwarded_video_packets"], 0, media)
        sub.wait_for(lambda l: count(l, audio) >= 100,
                     "more audio at the audio-only subscriber")
        self.assertEqual(count(sub.lines, video), 0)
        self.assertEqual(count(sub.lines, r"GstHqRoomSrc:r\.\w*:video_"), 0,
                         "the audio-only subscriber got a video pad")
        self.assertTrue(count(sub.lines, r"GstHqRoomSrc:r\.\w*:audio_"))

    def test_7_offer_missed_while_away_arrives_after_resume(self):
        """Issue 6: while the subscriber's connection is down, another
        participant publishes; the offer the server sent then went nowhere.
        After the subscriber resumes it receives that track."""
        self.make_room("r7")
        alice = self.publisher("r7", "alice")
        alice.wait_for(lambda l: count(l, r"hq-joined"), "alice to join")
        proxy = CuttableProxy(int(self.server.url.rsplit(":", 1)[1]))
        self.addCleanup(proxy.close)
        # async=false: a sink that gets no pad (yet) must not hold back the
        # other's buffers.
        sub = self.launch(
            f"hqroomsrc name=r server={proxy.url} room=r7 identity=listener "
            "kinds=audio reconnect-timeout=120000 "
            "r. ! queue ! fakesink silent=false async=false "
            "r. ! queue ! fakesink silent=false async=false")
        audio = r"GstFakeSink:\w+: last-message = chain .*\(3840 bytes,"
        sub.wait_for(lambda l: count(l, audio) >= 10, "alice's audio")
        sid = re.search(r"hq-joined.*participant-sid=\(string\)(PA\w+)",
                        "\n".join(sub.lines)).group(1)

        def offers():
            return [e for e in self.server.log_events()
                    if e.get("event") == "subscribe_offer"
                    and e.get("participant") == sid]

        first = len(offers())
        proxy.cut()
        sub.wait_for(lambda l: count(l, r"hq-reconnecting"),
                     "the subscriber to notice")
        bob = self.launch(
            f"hqroomsink name=s server={self.server.url} room=r7 "
            "identity=bob audiotestsrc is-live=true wave=ticks ! s.audio_0")
        bob.wait_for(lambda l: count(l, r"hq-joined"), "bob to join")
        # The server offered bob's track while the subscriber was away.
        end = time.monotonic() + DEADLINE
        while len(offers()) == first:
            self.assertLess(time.monotonic(), end, "no offer for bob's track")
            bob._read(0.1)  # also keeps bob's output drained
        proxy.restore()
        sub.wait_for(lambda l: count(l, r"hq-joined.*resumed=\(boolean\)true"),
                     "the subscriber to resume")
        sub.wait_for(lambda l: count(l, r"GstMessageTag.*hq-participant.*bob"),
                     "bob's track at the subscriber after the resume")
        # alice's pad came first, on fakesink0: bob's is decoded on the
        # other.
        sub.wait_for(lambda l: count(l, r"GstFakeSink:fakesink1: last-message"
                                        r" = chain .*\(3840 bytes,") >= 10,
                     "bob's audio decoded")

    def test_8_kinds_change_while_running(self):
        """Setting kinds on a running hqroomsrc asks the server at once."""
        self.make_room("r8")
        pub = self.publisher("r8", "alice")
        pub.wait_for(lambda l: count(l, r"hq-joined"), "alice to join")
        sub = Program([os.environ["HQ_ROOM_KINDS_BIN"], self.server.url,
                       "r8", "switcher"], self.env)
        self.addCleanup(sub.stop)
        sub.wait_for(lambda l: count(l, r"^decoded audio_0 50$"),
                     "decoded audio with kinds=audio")
        self.assertEqual(self.room_media("r8")["forwarded_video_packets"], 0)
        sub.say("both")
        sub.wait_for(lambda l: count(l, r"^decoded video_\d+ 10$"),
                     "decoded video after kinds=both")
        self.assertGreater(
            self.room_media("r8")["forwarded_video_packets"], 0)
        self.assertFalse(count(sub.lines, r"^error "), sub.lines)

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

    def test_9_server_follows_the_speaker(self):
        self.make_room("r9")
        observer = self.observer("r9")
        turn = ["alice"]
        pubs = [self.speaker("r9", "alice", turn, 440),
                self.speaker("r9", "bob", turn, 660)]
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

    def test_10_pad_priority_reaches_the_room(self):
        # The pad property, by nick and by its old number, is the track's
        # priority for everyone in the room.
        self.make_room("r10")
        observer = self.observer("r10")
        self.launch(
            f"hqroomsink name=s server={self.server.url} room=r10 "
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
        env = launch_env(first, creds)
        make_room(first, (creds["key_sid"], creds["key_secret"]), "r4")
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
