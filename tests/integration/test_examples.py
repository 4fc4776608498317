"""The shell examples in examples/, run as a user would against a real
hq-server: a gst-launch-1.0 publisher with hqroomsink is in the room, and
the example must produce what it promises.  Suite `room`."""
import json
import os
import select
import signal
import subprocess
import time
import unittest

from hqtest import Server

EXAMPLES = os.environ.get("HQ_EXAMPLES_DIR", "examples")
DEADLINE = 90  # seconds; generous for a loaded machine under ASan


def discover(path):
    return subprocess.run(["gst-discoverer-1.0", path], capture_output=True,
                          text=True, timeout=60).stdout


class Examples(unittest.TestCase):
    def publish(self, srv, identity, room):
        token = srv.access_token(identity, room)
        proc = subprocess.Popen(
            ["gst-launch-1.0", "hqroomsink", "name=room", f"server={srv.url}",
             f"room={room}", "videotestsrc", "is-live=true", "!",
             "video/x-raw,width=320,height=240,framerate=15/1", "!", "room.",
             "audiotestsrc", "is-live=true", "wave=sine", "!", "room."],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env={**os.environ, "HQ_ACCESS_TOKEN": token})
        self.addCleanup(self.stop, proc)
        return proc

    def stop(self, proc):
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout:
            proc.stdout.close()

    def test_bridge_hls(self):
        with Server() as srv:
            srv.create_room("hls-room")
            self.publish(srv, "dr-jones", "hls-room")
            out = os.path.join(srv.data_dir, "hls")
            token = srv.access_token("hls-bridge", "hls-room")
            bridge = subprocess.Popen(
                [os.path.join(EXAMPLES, "bridge-hls.sh"), srv.url, "hls-room",
                 "dr-jones", out],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                env={**os.environ, "HQ_ACCESS_TOKEN": token})
            self.addCleanup(self.stop, bridge)
            playlist = os.path.join(out, "playlist.m3u8")
            deadline = time.monotonic() + DEADLINE
            segments = []
            # Poll the files the bridge writes: two finished segments named
            # in the playlist (the first may be short).
            while time.monotonic() < deadline:
                if bridge.poll() is not None:
                    self.fail("bridge-hls.sh stopped:\n"
                              + bridge.stdout.read().decode(errors="replace"))
                if os.path.exists(playlist):
                    with open(playlist) as f:
                        segments = [l.strip() for l in f
                                    if l.strip().endswith(".ts")]
                if len(segments) >= 2:
                    break
                time.sleep(0.2)
            self.assertGreaterEqual(len(segments), 2, "two HLS segments")
            info = discover(os.path.join(out, os.path.basename(segments[1])))
            self.assertIn("H.264", info)
            self.assertRegex(info, r"MPEG-4 AAC|AAC")

    def test_monitor_room(self):
        with Server() as srv:
            srv.create_room("monitor-room")
            self.publish(srv, "dr-jones", "monitor-room")
            report = os.path.join(srv.data_dir, "quality.json")
            token = srv.access_token("monitor", "monitor-room")
            mon = subprocess.Popen(
                [os.path.join(EXAMPLES, "monitor-room.sh"), srv.url,
                 "monitor-room", "dr-jones", report],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                env={**os.environ, "HQ_ACCESS_TOKEN": token})
            self.addCleanup(self.stop, mon)
            # Three seconds of both streams scored, then Ctrl-C.
            deadline = time.monotonic() + DEADLINE
            out = b""
            while out.count(b"hq-quality") < 6:
                if time.monotonic() > deadline or mon.poll() is not None:
                    self.fail("no hq-quality lines from monitor-room.sh:\n"
                              + out.decode(errors="replace")[-3000:])
                ready, _, _ = select.select([mon.stdout], [], [], 1.0)
                if ready:
                    out += os.read(mon.stdout.fileno(), 65536)
            mon.send_signal(signal.SIGINT)
            rest, _ = mon.communicate(timeout=DEADLINE)
            self.assertEqual(mon.returncode, 0, rest.decode(errors="replace"))
            with open(report) as f:
                visit = json.load(f)
            (who,) = visit["participants"]
            self.assertEqual(who["participant"], "dr-jones")
            kinds = {s["kind"]: s for s in who["streams"]}
            self.assertGreater(kinds["video"]["frames"], 10)
            self.assertGreater(kinds["audio"]["duration"], 1.0)
            self.assertIn("net-fraction-lost", kinds["audio"])
            self.assertIn(who["level"], range(6))


if __name__ == "__main__":
    unittest.main(verbosity=2)
