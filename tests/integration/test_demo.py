"""The README's run command, minus the install and build: hq-demo starts a
real hq-server with a demo room, two synthetic participants publish through
hqroomsink taking turns to speak, a listener subscribes with hqroomsrc and
hqspeakerdetect and records with hqrecorder.  The test waits for both
speakers to be announced by the detector and by the server, then
presses Ctrl-C (SIGINT) and expects a clean stop that says where the
recording is.  Suite `room`."""
import json
import os
import re
import select
import signal
import subprocess
import tempfile
import time
import unittest

DEMO_BIN = os.environ.get("HQ_DEMO_BIN", "hq-demo")
SERVER_BIN = os.environ.get("HQ_SERVER_BIN", "hq-server")
DEADLINE = 120  # seconds; generous for a loaded machine under ASan


class Demo(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="hq-demo-")
        self.data = os.path.join(self.tmp.name, "data")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("HQ_", "TWILIO_"))}
        env["HQ_SERVER_BIN"] = SERVER_BIN
        self.proc = subprocess.Popen(
            [DEMO_BIN, "--data-dir", self.data, "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        self.lines = []
        self.buf = b""

    def tearDown(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.tmp.cleanup()

    def read_until(self, done, what):
        """Reads output lines until done(lines) is true."""
        deadline = time.monotonic() + DEADLINE
        while not done(self.lines):
            left = deadline - time.monotonic()
            if left <= 0:
                self.fail(f"timed out waiting for {what}:\n"
                          + "\n".join(self.lines[-60:]))
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                self.proc.wait()
                self.fail(f"hq-demo exited ({self.proc.returncode}) before "
                          f"{what}:\n" + "\n".join(self.lines[-60:]))
            self.buf += chunk
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                self.lines.append(line.decode(errors="replace"))

    def announced(self, source):
        found = set()
        for line in self.lines:
            m = re.match(r"hq-demo: dominant speaker: (\S+) \((\S+)\)", line)
            if m and m.group(2) == source:
                found.add(m.group(1))
        return found

    def quality_lines(self):
        found = {}
        for line in self.lines:
            m = re.match(r"hq-demo: quality of (\S+): level (\d); video "
                         r"\d+x\d+ (\d+) fps, \d+ freezes, MOS [\d.]+; "
                         r"audio \d+ gaps, MOS [\d.]+; network loss", line)
            if m:
                found[m.group(1)] = m
        return found

    def test_demo_runs_and_stops_cleanly(self):
        both = {"synthetic-alice", "synthetic-bob"}
        self.read_until(lambda ls: any("join them from a browser" in l
                                       for l in ls), "the browser URL")
        url_line = next(l for l in self.lines if "join them from a browser"
                        in l)
        self.assertRegex(url_line, r"http://127\.0\.0\.1:\d+/\?room=demo")
        # Both synthetic participants take the floor in turn, as the local
        # detector sees it and as the server announces it (from the RFC
        # 6464 audio levels hqroomsink sends).
        self.read_until(lambda ls: both <= self.announced("hqspeakerdetect"),
                        "both synthetic speakers announced by the detector")
        self.read_until(lambda ls: both <= self.announced("server"),
                        "both synthetic speakers announced by the server")
        # The listener's quality line for each participant (hqqualitymeter,
        # every 5 s): a level and both kinds' figures, video with frames.
        self.read_until(lambda ls: both <= self.quality_lines().keys(),
                        "a quality line for each synthetic participant")
        for who, m in self.quality_lines().items():
            self.assertIn(int(m.group(2)), range(6), m.group(0))
            self.assertGreater(float(m.group(3)), 0, m.group(0))
        self.proc.send_signal(signal.SIGINT)
        self.read_until(lambda ls: any(l == "hq-demo: stopped" for l in ls),
                        "a clean stop")
        self.assertEqual(self.proc.wait(timeout=DEADLINE), 0,
                         "\n".join(self.lines[-60:]))
        rec = [l for l in self.lines if "the recording is in" in l]
        self.assertTrue(rec, "says where the recording is")
        where = re.search(r"the recording is in (\S+)", rec[0]).group(1)
        with open(os.path.join(where, "recording.json")) as f:
            manifest = json.load(f)
        tracks = [t for r in manifest["recordings"] for t in r["tracks"]]
        for who in both:
            for kind in ("audio", "video"):
                done = [t for t in tracks if t["participant"] == who
                        and t["kind"] == kind and t["status"] == "completed"]
                self.assertTrue(done, f"{who}'s {kind} was recorded: "
                                f"{json.dumps(manifest)}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
