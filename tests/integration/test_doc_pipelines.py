"""Every gst-launch-1.0 line the README and docs/ show, run as a reader
would run it (issue 15): against a real hq-server where the line joins a
room, with the files it reads made first, and judged by what the reader
would look for (the element's messages, caps reaching the sinks, the files
it writes, the error the page quotes).  Suite `room`.

What the test changes in a line, as a reader on this machine must:
- the server URL (http://127.0.0.1:8844, the default, also when the line
  leaves `server` out) becomes the test server's; `/tmp/` paths go to a
  folder of the test's own;
- `v4l2src` becomes `videotestsrc is-live=true` (no camera here);
- `-m -v` are added, so the messages and caps can be seen; the plugin path
  is the build tree's whatever the line sets.

What reached the sinks is read from the graph gst-launch-1.0 draws as it
stops (GST_DEBUG_DUMP_DOT_DIR), not from the `-v` caps lines, which it can
drop (tests/common/gstgraph.py).

A line this test cannot judge fails it: add a check with the new line.
"""
import glob
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from gstgraph import playing, sink_caps, stop_graph
from hqtest import Server

ROOT = os.environ.get("HQ_SOURCE_ROOT",
                      os.path.join(os.path.dirname(__file__), "..", ".."))
DEADLINE = 90  # seconds for any one thing to happen; generous under load
DEFAULT_SERVER = "http://127.0.0.1:8844"


def documented_lines():
    """(where, env, argv) of each gst-launch-1.0 command in a ```sh block
    of README.md and docs/*.md."""
    pages = [os.path.join(ROOT, "README.md")] + sorted(
        glob.glob(os.path.join(ROOT, "docs", "*.md")))
    found = []
    for page in pages:
        with open(page) as f:
            lines = f.read().split("\n")
        inside = False
        i = 0
        while i < len(lines):
            text = lines[i].strip()
            if text.startswith("```"):
                inside = not inside and text[3:].strip() in ("sh", "bash")
                i += 1
                continue
            start = i
            while inside and text.endswith("\\") and i + 1 < len(lines):
                i += 1
                text = text[:-1] + " " + lines[i].strip()
            i += 1
            if not inside or "gst-launch-1.0" not in text:
                continue
            words = shlex.split(text)
            env = {}
            while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
                k, v = words.pop(0).split("=", 1)
                env[k] = v
            if not words or words[0] != "gst-launch-1.0":
                continue
            where = f"{os.path.relpath(page, ROOT)}:{start + 1}"
            found.append((where, env, words[1:]))
    return found


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Run:
    """One gst-launch-1.0, its output collected."""

    def __init__(self, argv, env, cwd):
        self.out = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(["gst-launch-1.0"] + argv, env=env,
                                     cwd=cwd, stdout=self.out,
                                     stderr=subprocess.STDOUT)

    def text(self):
        self.out.seek(0)
        return self.out.read().decode(errors="replace")

    def wait_for(self, what, pred):
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            text = self.text()
            if pred(text):
                return text
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"gst-launch-1.0 exited ({self.proc.returncode}) before "
                    f"{what}:\n{self.text()[-4000:]}")
            time.sleep(0.2)  # polling a file; what it waits for is an event
        raise AssertionError(f"timed out waiting for {what}:\n"
                             f"{self.text()[-4000:]}")

    def finish(self, timeout=DEADLINE):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("gst-launch-1.0 did not end:\n"
                                 + self.text()[-4000:])

    def interrupt(self):
        """Ctrl-C, as the reader stops a live pipeline."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        return self.finish()

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.out.close()


def graph_sink_caps(dot_dir):
    """The media types at the fakesinks' pads, from the graph
    gst-launch-1.0 draws as the pipeline stops playing (gstgraph, not
    -v's caps lines, which it can drop)."""
    return {caps["media"] for caps in sink_caps(stop_graph(dot_dir)).values()
            if caps}


class DocumentedPipelines(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lines = documented_lines()

    def setUp(self):
        self.srv = Server()
        self.srv.start()
        self.addCleanup(self.srv.__exit__, None, None, None)
        creds = self.srv.credentials()
        self.tmp = tempfile.TemporaryDirectory(prefix="hq-doc-")
        self.addCleanup(self.tmp.cleanup)
        self.env = dict(os.environ, HQ_API_KEY_SID=creds["key_sid"],
                        HQ_API_KEY_SECRET=creds["key_secret"],
                        HQ_ACCOUNT_SID=creds["account_sid"])
        self.rooms = set()

    def adapt(self, argv):
        out = []
        for w in argv:
            w = w.replace(DEFAULT_SERVER, self.srv.url)
            w = w.replace("/tmp/", self.tmp.name + "/")
            out.append(w)
        for el in ("hqroomsink", "hqroomsrc"):
            if el in out and not any(w.startswith("server=") for w in out):
                out.insert(out.index(el) + 1, f"server={self.srv.url}")
        if "v4l2src" in out:
            i = out.index("v4l2src")
            out[i:i + 1] = ["videotestsrc", "is-live=true"]
        flags = [f for f in ("-m", "-v") if f not in out]
        return flags + out

    def start(self, argv, env=None):
        run = Run(argv, dict(self.env, **(env or {})), self.tmp.name)
        self.addCleanup(run.close)
        return run

    def start_drawn(self, argv):
        """start(), gst-launch-1.0 drawing its graphs into a folder of the
        run's own (for graph_sink_caps)."""
        dots = tempfile.mkdtemp(prefix="dot-", dir=self.tmp.name)
        return self.start(argv, {"GST_DEBUG_DUMP_DOT_DIR": dots}), dots

    def room_of(self, argv):
        room = next(w.split("=", 1)[1] for w in argv if w.startswith("room="))
        if room not in self.rooms:
            self.srv.create_room(room, Type="group")
            self.rooms.add(room)
        return room

    def published(self, room, identity):
        r = self.srv.request(
            "GET", f"/v1/Rooms/{room}/Participants/{identity}/PublishedTracks",
            auth=(self.env["HQ_API_KEY_SID"], self.env["HQ_API_KEY_SECRET"]))
        if r.status != 200:
            return []
        return [t for t in r.json().get("published_tracks", [])
                if t.get("enabled", True)]

    def publisher(self, room):
        """A camera in @room for a viewer line to receive."""
        self.room_of([f"room={room}"])
        run = self.start([
            "hqroomsink", "name=s", f"server={self.srv.url}", f"room={room}",
            "identity=doc-camera", "videotestsrc", "is-live=true", "!",
            "s.video_0", "audiotestsrc", "is-live=true", "!", "s.audio_0"])
        run.kinds = {"video", "audio"}
        return run

    # --- how each kind of line is judged ---

    def check_sink(self, where, argv):
        """hqroomsink: it joins and the server lists each pad's track."""
        room = self.room_of(argv)
        identity = next(w.split("=", 1)[1] for w in argv
                        if w.startswith("identity="))
        pads = {w.split(".", 1)[1] for w in argv
                if re.match(r"^s\.(video|audio)_\d+$", w)}
        run = self.start(argv)
        run.kinds = {p.split("_")[0] for p in pads}
        run.wait_for("hq-joined", lambda t: "hq-joined" in t)
        deadline = time.monotonic() + DEADLINE
        while len(self.published(room, identity)) < len(pads):
            self.assertLess(time.monotonic(), deadline,
                            f"{where}: the server lists "
                            f"{self.published(room, identity)}, not {pads}")
            time.sleep(0.2)
        return run

    def check_src(self, where, argv, running):
        """hqroomsrc: with someone publishing, what they publish reaches
        the line's fakesinks decoded: every sink has had data, and the
        caps into the fakesinks are raw audio and video when it stops."""
        room = self.room_of(argv)
        if not running.get(room):
            running[room] = self.publisher(room)
            running[room].wait_for("the camera to join",
                                   lambda t: "hq-joined" in t)
        kinds = running[room].kinds
        # kinds=audio|video on the line: the server sends only that kind
        kinds = kinds & {w.split("=", 1)[1] for w in argv
                         if w in ("kinds=audio", "kinds=video")} or kinds
        want = {f"{k}/x-raw" for k in kinds}
        try:
            got, text = self.sinks_get(argv)
        except AssertionError as e:
            # what the camera said too (a transport of its that failed
            # shows as network quality level 0 in the viewer's output)
            raise AssertionError(f"{e}\n--- the camera's line printed:\n"
                                 f"{running[room].text()[-3000:]}") from None
        self.assertIn("hq-joined", text, where)
        self.assertEqual(got, want, f"{where}:\n{text[-3000:]}")

    def sinks_get(self, argv):
        """Runs @argv until it is playing (every sink in it has had data),
        stops it as the reader does (Ctrl-C) and says which media types
        reached its fakesinks, and what it printed.

        Not at async-done: the pipeline goes on from there to PLAYING in
        another thread, and a Ctrl-C in between stops it without the graph
        (doc-pipelines failed so in CI on the thumbnail viewer line of
        docs/hqroomsrc.md; stopped at once after async-done, 3 of 40 runs
        of that line drew no such graph)."""
        run, dots = self.start_drawn(argv)
        run.wait_for("the pipeline to play (every sink had data)", playing)
        self.assertEqual(run.interrupt(), 0, run.text()[-3000:])
        return graph_sink_caps(dots), run.text()

    def test_sinks_judged_without_caps_lines(self):
        """What reached the sinks is judged without -v's caps lines, which
        gst-launch-1.0 can drop (graph_sink_caps): here there are none
        at all, and both branches' raw media is still seen."""
        got, text = self.sinks_get([
            "-m", "audiotestsrc", "is-live=true", "!", "queue", "!",
            "fakesink", "videotestsrc", "is-live=true", "!", "queue", "!",
            "fakesink"])
        self.assertNotIn("caps = ", text)
        self.assertEqual(got, {"audio/x-raw", "video/x-raw"}, text[-3000:])

    def check_unreachable(self, where, argv, env):
        """The troubleshooting page's line: no server at that address; the
        element gives up saying so, in the words the page quotes."""
        port = free_port()
        argv = [re.sub(r"127\.0\.0\.1:\d+", f"127.0.0.1:{port}", w)
                for w in argv]
        run = self.start(argv, dict(env, GST_DEBUG_NO_COLOR="1"))
        self.assertNotEqual(run.finish(), 0, where)
        text = run.text()
        self.assertRegex(text, r"ERROR: from element .*hqroomsrc.*lost the "
                         r"server at ws://127\.0\.0\.1:\d+/v1/signal and could "
                         r"not reconnect within 1500 ms", where)
        self.assertRegex(text, r"INFO +hqroomsrc .*connecting to "
                         r"http://127\.0\.0\.1:\d+, room logs "
                         r"\(reconnect-timeout 1500 ms\)", where)
        self.assertRegex(text, r"ERROR +hqroomsrc .*the room client gave up: "
                         r"lost the server", where)

    def check_speakerdetect(self, where, argv):
        """Two people talking in turn (tests/speakerdetect's synthetic
        consultation): the line names both as they take the floor."""
        made = os.path.join(self.tmp.name, "conversation")
        subprocess.run([sys.executable, os.path.join(
            ROOT, "tests", "speakerdetect", "make_conversation.py"), made,
            "--speakers", "2", "--turns", "4"], check=True, timeout=300,
            capture_output=True)
        shutil.copy(os.path.join(made, "doctor.wav"),
                    os.path.join(self.tmp.name, "alice.wav"))
        shutil.copy(os.path.join(made, "patient.wav"),
                    os.path.join(self.tmp.name, "bob.wav"))
        run = self.start(argv)
        self.assertEqual(run.finish(), 0, f"{where}:\n{run.text()[-3000:]}")
        named = set(re.findall(r"hq-dominant-speaker.*participant="
                               r"\(string\)(\w+)", run.text()))
        self.assertEqual(named, {"alice", "bob"}, where)

    def check_qualitymeter(self, where, argv):
        run = self.start(argv)
        self.assertEqual(run.finish(), 0, f"{where}:\n{run.text()[-3000:]}")
        text = run.text()
        self.assertIn("hq-quality", text, where)
        if any("ref_video" in w for w in argv):
            self.assertRegex(text, r"ssim=\(double\)0\.\d+", where)
        for w in argv:
            if w.startswith("location="):
                with open(w.split("=", 1)[1]) as f:
                    report = json.load(f)
                self.assertEqual(report["participants"][0]["participant"],
                                 "alice", where)

    def check_framecrypt(self, where, argv):
        """Frames encrypted and decrypted again: every one decodes (a frame
        that does not decrypt is dropped with a warning; vp8dec fails on
        one that is still encrypted)."""
        run, dots = self.start_drawn(argv)
        self.assertEqual(run.finish(), 0, f"{where}:\n{run.text()[-3000:]}")
        text = run.text()
        self.assertIn("video/x-raw", graph_sink_caps(dots), where)
        self.assertNotRegex(text, r"WARNING|ERROR|cannot decrypt", where)
        self.assertIn("Got EOS from element", text, where)

    def check_recorder(self, where, argv):
        location = next(w.split("=", 1)[1] for w in argv
                        if w.startswith("location="))
        shutil.rmtree(location, ignore_errors=True)  # a reader's fresh folder
        run = self.start(argv)
        manifest = os.path.join(location, "recording.json")
        run.wait_for("recording.json and media in it",
                     lambda t: os.path.exists(manifest)
                     and len(self.media(location)) > 0
                     and all(os.path.getsize(p) > 50000
                             for p in self.media(location)))
        self.assertEqual(run.interrupt(), 0, f"{where}:\n{run.text()[-3000:]}")
        with open(manifest) as f:
            json.load(f)
        for path in self.media(location):
            r = subprocess.run(["gst-discoverer-1.0", path],
                               capture_output=True, text=True, timeout=60,
                               env=self.env)
            self.assertRegex(r.stdout, r"Duration: 0:00:(0[0-9]\.0*[1-9]|"
                             r"[0-9][1-9]\.)", f"{where}: {path}")

    def media(self, location):
        return [p for p in glob.glob(os.path.join(location, "**", "*"),
                                     recursive=True)
                if p.endswith((".webm", ".mkv", ".mp4", ".ogg", ".opus"))]

    def test_every_documented_line_runs(self):
        self.assertGreaterEqual(len(self.lines), 10, self.lines)
        running = {}  # room -> a publisher still in it
        judged = []
        for where, env, words in self.lines:
            argv = self.adapt(words)
            with self.subTest(where=where):
                env = {k: v for k, v in env.items()
                       if k != "GST_PLUGIN_PATH"}
                if "hqroomsrc" in argv and \
                        not any(DEFAULT_SERVER in w for w in words) and \
                        any(re.search(r"127\.0\.0\.1:\d+", w) for w in words):
                    self.check_unreachable(where, argv, env)
                elif "hqroomsink" in argv:
                    room = self.room_of(argv)
                    old = running.pop(room, None)
                    if old:
                        old.interrupt()
                    running[room] = self.check_sink(where, argv)
                elif "hqroomsrc" in argv:
                    self.check_src(where, argv, running)
                elif "hqspeakerdetect" in argv:
                    self.check_speakerdetect(where, argv)
                elif "hqqualitymeter" in argv:
                    self.check_qualitymeter(where, argv)
                elif "hqframedecrypt" in argv:
                    self.check_framecrypt(where, argv)
                elif "hqrecorder" in argv:
                    self.check_recorder(where, argv)
                else:
                    self.fail(f"{where}: no check for this line: {words}")
                judged.append(where)
            print(f"ran {where}", flush=True)
        for run in running.values():
            self.assertEqual(run.interrupt(), 0, run.text()[-3000:])
        self.assertEqual(len(judged), len(self.lines))


if __name__ == "__main__":
    unittest.main(verbosity=2)
