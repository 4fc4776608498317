"""Recording in the server: recording rules, the hidden recorder child
(hq-record: hqroomsrc ! hqrecorder), recordings and compositions over
REST.  Suite `recorder`.

Everything runs for real: an hq-server on loopback, publishers that are
gst-launch-1.0 pipelines with hqroomsink, the server's own hq-record and
hq-compose children.  The end-to-end tests need the hqroomsrc, hqroomsink
and hqrecorder elements (GST_PLUGIN_PATH points at the build tree); when
they are not built they are skipped with the reason, the REST and
supervision tests still run.  Nothing waits for a fixed time: every wait
is for an event (a status callback, a file growing, a status changing)
with a generous deadline.
"""
import json
import os
import re
import signal
import stat
import subprocess
import tempfile
import time
import unittest
import urllib.parse

from hqtest import Server, read_credentials
from hqws import Signal
import test_rooms

WAIT = 60  # seconds, for any one event
MEDIA_MS = int(os.environ.get("HQ_TEST_MEDIA_MS", "2000"))  # per recording


def tool_env(**extra):
    """The environment of a gst-launch-1.0 or gst-inspect-1.0 we run: in a
    sanitizer build the instrumented plugins need the runtimes preloaded
    into these uninstrumented tools."""
    env = dict(os.environ, **extra)
    preload = os.environ.get("HQ_TEST_GST_PRELOAD")
    if preload:
        env["LD_PRELOAD"] = preload
        env["ASAN_OPTIONS"] = "detect_leaks=0"
    return env


def have_element(name):
    return subprocess.run(["gst-inspect-1.0", name], env=tool_env(),
                          stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


ELEMENTS = ("hqroomsrc", "hqroomsink", "hqrecorder")
MISSING = [e for e in ELEMENTS if not have_element(e)]


class CallbackReceiver(test_rooms.CallbackReceiver):
    def until_count(self, events, n):
        """The next @n callbacks whose event is one of @events (others
        received meanwhile are dropped)."""
        if isinstance(events, str):
            events = (events,)
        got = []
        while len(got) < n:
            fields = self.events.get(timeout=WAIT)
            if fields["StatusCallbackEvent"] in events:
                got.append(fields)
        return got


def wait_until(what, fn, timeout=WAIT):
    """Calls fn until it returns something true; returns that."""
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def discover(path):
    """gst-discoverer-1.0's view of a file: (duration s, [stream kinds])."""
    out = subprocess.run(["gst-discoverer-1.0", path], capture_output=True,
                         text=True, timeout=60, env=tool_env()).stdout
    m = re.search(r"Duration: (\d+):(\d+):([\d.]+)", out)
    dur = (int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3])) if m else 0
    return dur, out


def plays(path):
    """Decodes the whole file; True when every stream decodes to the end."""
    r = subprocess.run(["gst-launch-1.0", "-q", "filesrc", f"location={path}",
                        "!", "decodebin", "name=d", "d.", "!", "queue", "!",
                        "fakesink", "sync=false"],
                       capture_output=True, text=True, timeout=120,
                       env=tool_env())
    return r.returncode == 0


class RecordingTestCase(unittest.TestCase):
    env = {"HQ_RECONNECT_GRACE_MS": "30000", "HQ_CALLBACK_RETRY_MS": "50"}

    def setUp(self):
        self.srv = Server(env=self.env).__enter__()
        creds = read_credentials(self.srv.data_dir)
        self.auth = (creds["key_sid"], creds["key_secret"])
        self.secret = creds["key_secret"]
        self.clients = []
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for c in self.clients:
            c.ws.sock.close()
        self.srv.__exit__(None, None, None)

    def rest(self, method, path, body=None, status=None, auth=True):
        r = self.srv.request(method, path, body,
                             auth=self.auth if auth else None)
        if status is not None:
            self.assertEqual(r.status, status, r.body)
        return r

    def create_room(self, **params):
        return self.rest("POST", "/v1/Rooms", params, 201).json()

    def token(self, identity, room):
        return self.rest("POST", "/v1/AccessTokens",
                         {"Identity": identity, "Room": room},
                         201).json()["token"]

    def join(self, identity, room):
        c = Signal(self.srv.url)
        self.clients.append(c)
        reply = c.join(self.token(identity, room))
        self.assertEqual(reply["type"], "joined", reply)
        return c, reply

    def recordings(self, room_sid):
        return self.rest("GET", f"/v1/Rooms/{room_sid}/Recordings",
                         status=200).json()["recordings"]

    def recorder_events(self, what):
        return [e for e in self.srv.log_events()
                if e.get("event") == "recorder" and e.get("what") == what]


class RulesAndRest(RecordingTestCase):
    """What works without any media: rules, validation, access."""

    def test_rules_follow_record_participants_on_connect(self):
        rec = self.create_room(Type="group", RecordParticipantsOnConnect=True)
        plain = self.create_room(Type="group")
        got = self.rest("GET", f"/v1/Rooms/{rec['sid']}/RecordingRules",
                        status=200).json()
        self.assertEqual(got["rules"], [{"type": "include", "all": True}])
        self.assertEqual(got["room_sid"], rec["sid"])
        got = self.rest("GET", f"/v1/Rooms/{plain['sid']}/RecordingRules",
                        status=200).json()
        self.assertEqual(got["rules"], [])

    def test_rules_are_replaced_and_checked(self):
        room = self.create_room(Type="group-small")
        path = f"/v1/Rooms/{room['sid']}/RecordingRules"
        rules = [{"type": "include", "kind": "video"},
                 {"type": "exclude", "publisher": "nurse"}]
        # Form-encoded, as Twilio's helpers send it: Rules is JSON text.
        r = self.srv.request(
            "POST", path, "Rules=" + urllib.parse.quote(json.dumps(rules), safe=""),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            auth=self.auth)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["rules"], rules)
        self.assertEqual(self.rest("GET", path, status=200).json()["rules"],
                         rules)
        for bad, why in [
                ([{"type": "record", "all": True}], "include or exclude"),
                ([{"type": "include"}], "exactly one"),
                ([{"type": "include", "all": True, "kind": "audio"}],
                 "exactly one"),
                ([{"type": "include", "kind": "data"}], "audio or video"),
                ([{"type": "include", "all": False}], "all must be true"),
                ([{"type": "include", "track": "cam", "colour": "red"}],
                 "colour"),
                ({"type": "include"}, "JSON array")]:
            r = self.rest("POST", path, {"Rules": bad}, 400)
            self.assertIn(why, r.json()["error"]["explanation"], bad)
        # Unchanged by the refused requests.
        self.assertEqual(self.rest("GET", path, status=200).json()["rules"],
                         rules)

    def test_rooms_without_server_media_cannot_record(self):
        room = self.create_room(Type="peer-to-peer")
        r = self.rest("POST", f"/v1/Rooms/{room['sid']}/RecordingRules",
                      {"Rules": [{"type": "include", "all": True}]}, 400)
        self.assertIn("cannot be recorded", r.json()["error"]["explanation"])

    def test_completed_room_rules_are_fixed(self):
        room = self.create_room(Type="group", RecordParticipantsOnConnect=True)
        self.rest("POST", f"/v1/Rooms/{room['sid']}",
                  {"Status": "completed"}, 200)
        path = f"/v1/Rooms/{room['sid']}/RecordingRules"
        r = self.rest("POST", path, {"Rules": []}, 400)
        self.assertIn("completed", r.json()["error"]["explanation"])
        self.assertEqual(self.rest("GET", path, status=200).json()["rules"],
                         [{"type": "include", "all": True}])

    def test_api_key_only(self):
        room = self.create_room(Type="group")
        for path in ["/v1/Recordings", f"/v1/Rooms/{room['sid']}/Recordings",
                     "/v1/Recordings/RT00000000000000000000000000000000",
                     "/v1/Recordings/RT00000000000000000000000000000000/Media",
                     "/v1/Compositions"]:
            self.assertEqual(self.rest("GET", path, auth=False).status, 401,
                             path)
            # An access token is not an API key.
            tok = self.token("eve", room["unique_name"])
            r = self.srv.request("GET", path,
                                 headers={"Authorization": "Bearer " + tok})
            self.assertEqual(r.status, 401, path)
        self.assertEqual(self.rest("GET", "/v1/Recordings",
                                   status=200).json()["recordings"], [])
        r = self.rest("GET",
                      "/v1/Recordings/RT00000000000000000000000000000000",
                      status=404)
        self.assertIn("no recording", r.json()["error"]["explanation"])

    def test_compositions_are_checked(self):
        live = self.create_room(Type="group")
        r = self.rest("POST", "/v1/Compositions",
                      {"RoomSid": live["sid"], "AudioSources": ["*"]}, 400)
        self.assertIn("in progress", r.json()["error"]["explanation"])
        r = self.rest("POST", "/v1/Compositions",
                      {"RoomSid": "RM00000000000000000000000000000000",
                       "AudioSources": ["*"]}, 404)
        done = self.create_room(Type="group")
        self.rest("POST", f"/v1/Rooms/{done['sid']}",
                  {"Status": "completed"}, 200)
        for body, why in [
                ({"Resolution": "1920x1080"}, "921600"),
                ({"Resolution": "wide"}, "WIDTHxHEIGHT"),
                ({"Format": "avi"}, "webm or mp4"),
                ({"AudioSources": 5}, "JSON array"),
                ({"AudioSources": "mic,"}, "AudioSources[1]"),
                ({"AudioSources": [""]}, "AudioSources[0]"),
                ({"VideoLayout": ["grid"]}, "JSON object"),
                ({"VideoLayout": {"strip": {"reuse": "sometimes"}}},
                 'region "strip": reuse must be none, show_oldest or '
                 'show_newest'),
                ({"VideoLayout": {"main": {"x_pos": -5}}},
                 "x_pos must be a non-negative integer"),
                ({"AudioSources": None}, "would be empty")]:
            payload = {"RoomSid": done["sid"], "AudioSources": ["*"], **body}
            if payload["AudioSources"] is None:
                del payload["AudioSources"]
            r = self.rest("POST", "/v1/Compositions", payload, 400)
            self.assertIn(why, r.json()["error"]["explanation"], body)

    def test_composition_of_a_room_without_recordings_fails_with_reason(self):
        hook = CallbackReceiver(self.secret)
        self.addCleanup(hook.close)
        room = self.create_room(Type="group")
        self.rest("POST", f"/v1/Rooms/{room['sid']}",
                  {"Status": "completed"}, 200)
        c = self.rest("POST", "/v1/Compositions",
                      {"RoomSid": room["sid"], "AudioSources": ["*"],
                       "StatusCallback": hook.url}, 201).json()
        self.assertRegex(c["sid"], r"^CJ[0-9a-f]{32}$")
        self.assertEqual(c["status"], "enqueued")
        events = [e["StatusCallbackEvent"]
                  for e in hook.until("composition-failed")]
        self.assertEqual(events, ["composition-enqueued",
                                  "composition-started",
                                  "composition-failed"])
        got = self.rest("GET", f"/v1/Compositions/{c['sid']}",
                        status=200).json()
        self.assertEqual(got["status"], "failed")
        self.assertIn("No completed recording", got["error"])
        self.assertEqual(self.rest("GET", f"/v1/Compositions/{c['sid']}/Media",
                                   status=404).status, 404)


class Supervision(RecordingTestCase):
    """A recorder that cannot run is noticed and reported, is not restarted
    in a loop, and the room carries on."""

    # A recorder program that exits at once, as one missing its plugins
    # does: the server must not depend on the elements to survive.
    env = dict(RecordingTestCase.env, GST_PLUGIN_PATH="/nonexistent",
               GST_PLUGIN_SYSTEM_PATH="/nonexistent",
               GST_REGISTRY=os.path.join(tempfile.gettempdir(),
                                         "hq-rec-empty-registry.bin"))

    def test_recorder_death_is_noticed_and_the_room_carries_on(self):
        room = self.create_room(Type="group", RecordParticipantsOnConnect=True)
        alice, _ = self.join("alice", room["unique_name"])
        bob, joined = self.join("bob", room["unique_name"])
        alice.request("track_publish", name="camera", kind="video")
        exited = wait_until("the recorder's exit in the log",
                            lambda: self.recorder_events("exited"))
        self.assertIn("status 1", exited[0]["detail"])
        # The room carries on; the recorder never showed up in it.
        pong = bob.request("ping")
        self.assertEqual(pong["type"], "pong", pong)
        # Not started again (the round trip above came after the turn of
        # the server's loop that would have).
        self.assertEqual(len(self.recorder_events("started")), 1)
        # No row was opened: the recorder never joined.
        self.assertEqual(self.recordings(room["sid"]), [])
        got = self.rest("GET", f"/v1/Rooms/{room['sid']}", status=200).json()
        self.assertEqual(got["status"], "in-progress")
        ids = [p["identity"] for p in self.rest(
            "GET", f"/v1/Rooms/{room['sid']}/Participants",
            status=200).json()["participants"]]
        self.assertEqual(sorted(ids), ["alice", "bob"])
        # A change of rules tries again (once).
        self.rest("POST", f"/v1/Rooms/{room['sid']}/RecordingRules",
                  {"Rules": [{"type": "include", "kind": "video"}]}, 200)
        wait_until("a second attempt",
                   lambda: len(self.recorder_events("exited")) == 2)
        self.assertEqual(len(self.recorder_events("started")), 2)


class SlowFailingRecorder(RecordingTestCase):
    """A recorder that fails before it ever joins is not restarted, however
    long the machine took to show it: on a loaded machine a recorder
    without its plugins took longer than the 5 s "died young" limit to
    exit, and the server started it again (the sanitizer build saw 2
    starts).  This one takes 6 s to fail, every time."""

    def setUp(self):
        fd, self.program = tempfile.mkstemp(prefix="hq-slow-recorder-")
        with os.fdopen(fd, "w") as f:
            f.write("#!/bin/sh\n# never joins; fails after 6 s\n"
                    "sleep 6\nexit 1\n")
        os.chmod(self.program, 0o700)
        self.env = dict(RecordingTestCase.env, HQ_RECORD_BIN=self.program)
        super().setUp()

    def tearDown(self):
        super().tearDown()
        os.unlink(self.program)

    def test_a_recorder_that_never_joined_is_not_restarted(self):
        room = self.create_room(Type="group", RecordParticipantsOnConnect=True)
        alice, _ = self.join("alice", room["unique_name"])
        bob, _ = self.join("bob", room["unique_name"])
        alice.request("track_publish", name="camera", kind="video")
        exited = wait_until("the recorder's exit in the log",
                            lambda: self.recorder_events("exited"))
        self.assertIn("status 1", exited[0]["detail"])
        # A round trip through the server's main loop, which would have
        # started the next run in the same turn as it saw the exit.
        self.assertEqual(bob.request("ping")["type"], "pong")
        self.assertEqual(len(self.recorder_events("started")), 1)
        self.assertEqual(self.recordings(room["sid"]), [])


@unittest.skipIf(MISSING, "not built: " + ", ".join(MISSING))
class EndToEnd(RecordingTestCase):
    """A consultation recorded by the server, with real pipelines."""

    publisher_logs = ()

    def setUp(self):
        super().setUp()
        self.publisher_logs = []

    def publish(self, identity, room, video=True, audio=True):
        """A gst-launch-1.0 hqroomsink pipeline publishing test media."""
        args = ["gst-launch-1.0", "-q", "hqroomsink", "name=room",
                f"server={self.srv.url}", f"room={room}",
                f"identity={identity}"]
        if video:
            args += ["videotestsrc", "is-live=true", "pattern=ball", "!",
                     "video/x-raw,width=320,height=240,framerate=15/1", "!",
                     "room.video_0"]
        if audio:
            args += ["audiotestsrc", "is-live=true", "wave=ticks", "!",
                     "room.audio_0"]
        env = tool_env(HQ_ACCESS_TOKEN=self.token(identity, room))
        log = tempfile.TemporaryFile()
        self.addCleanup(log.close)
        self.publisher_logs.append(log)
        p = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL,
                             stderr=log)
        self.procs.append(p)
        return p

    def run_dirs(self, room_sid):
        base = os.path.join(self.srv.data_dir, "recordings", room_sid)
        if not os.path.isdir(base):
            return []
        return sorted(os.path.join(base, d) for d in os.listdir(base))

    def recorded_ms(self, run_dir, tracks):
        """The shortest duration hqrecorder's manifest gives for @tracks
        tracks of a run (0 until it lists them all)."""
        try:
            with open(os.path.join(run_dir, "recording.json")) as f:
                manifest = json.load(f)
        except (OSError, ValueError):
            return 0
        durations = [t.get("duration_ms", 0)
                     for period in manifest.get("recordings", [])
                     for t in period.get("tracks", [])]
        return min(durations) if len(durations) >= tracks else 0

    def download(self, path, suffix):
        """Media as Twilio serves it: {"redirect_to": a short-lived URL}
        that needs no credentials."""
        link = self.rest("GET", path, status=200).json()["redirect_to"]
        self.assertTrue(link.startswith(self.srv.url), link)
        r = self.srv.request("GET", link[len(self.srv.url):])
        self.assertEqual(r.status, 200, r.body[:300])
        fd, name = tempfile.mkstemp(suffix=suffix)
        with os.fdopen(fd, "wb") as f:
            f.write(r.body)
        self.addCleanup(os.unlink, name)
        return name, r

    def test_consultation_is_recorded_rules_switch_it_and_it_composes(self):
        try:
            self.consultation()
        except BaseException:
            # What the server, its recorder and the publisher said.
            print(self.srv.stderr_text()[-20000:])
            for log in self.publisher_logs:
                log.seek(0)
                print(log.read().decode(errors="replace")[-5000:])
            raise

    def consultation(self):
        hook = CallbackReceiver(self.secret)
        self.addCleanup(hook.close)
        # Full with the watcher and alice: the recorder does not count.
        room = self.create_room(UniqueName="rec-1", Type="group",
                                MaxParticipants=2,
                                RecordParticipantsOnConnect=True,
                                StatusCallback=hook.url)
        sid = room["sid"]
        watcher, joined = self.join("watcher", "rec-1")
        self.assertEqual(joined["participants"], [])
        pub = self.publish("alice", "rec-1")

        # One recording per track, started from the first participant on.
        started = [e for e in hook.until_count("recording-started", 2)]
        kinds = sorted(self.recordings(sid), key=lambda r: r["type"])
        self.assertEqual([r["type"] for r in kinds], ["audio", "video"])
        self.assertEqual([r["container"] for r in kinds], ["mka", "mkv"])
        self.assertTrue(all(r["status"] == "processing" for r in kinds))
        self.assertTrue(all(r["grouping_sids"]["room_sid"] == sid
                            for r in kinds))
        self.assertEqual({e["RecordingSid"] for e in started},
                         {r["sid"] for r in kinds})
        first_run = wait_until("the recorder's files",
                               lambda: self.run_dirs(sid))[0]
        wait_until("two seconds of every track",
                   lambda: self.recorded_ms(first_run, 2) >= MEDIA_MS)

        # The recorder is nobody's participant: not in REST, and nothing
        # the watcher heard so far (up to this ping's answer) names it,
        # while alice's arrival is there.
        ids = [p["identity"] for p in self.rest(
            "GET", f"/v1/Rooms/{sid}/Participants",
            status=200).json()["participants"]]
        self.assertEqual(sorted(ids), ["alice", "watcher"])
        self.assertEqual(watcher.request("ping")["type"], "pong")
        heard = json.dumps(list(watcher.events))
        self.assertIn('"identity": "alice"', heard)
        self.assertNotIn("hq-recorder", heard)

        # Rules stop recording...
        self.rest("POST", f"/v1/Rooms/{sid}/RecordingRules",
                  {"Rules": []}, 200)
        done = hook.until_count(("recording-completed", "recording-failed"),
                                2)
        self.assertEqual({e["StatusCallbackEvent"] for e in done},
                         {"recording-completed"})
        for r in self.recordings(sid):
            self.assertEqual(r["status"], "completed", r)
            self.assertGreater(r["size"], 0)
            self.assertGreaterEqual(r["duration"], 1)
            self.assertEqual(r["codec"], "VP8" if r["type"] == "video"
                             else "OPUS")
            got = self.rest("GET", f"/v1/Recordings/{r['sid']}",
                            status=200).json()
            self.assertEqual(got, dict(r, url=got["url"], links=got["links"]))
            name, resp = self.download(f"/v1/Recordings/{r['sid']}/Media",
                                       "." + r["container"])
            self.assertEqual(len(resp.body), r["size"])
            self.assertTrue(plays(name), name)
        for run in self.run_dirs(sid):
            for f in os.listdir(run):
                mode = stat.S_IMODE(os.stat(os.path.join(run, f)).st_mode)
                self.assertEqual(mode, 0o600, f)

        # ... and restart it (video only) in the same room.
        self.rest("POST", f"/v1/Rooms/{sid}/RecordingRules",
                  {"Rules": [{"type": "include", "kind": "video"}]}, 200)
        again = hook.until_count("recording-started", 1)
        self.assertNotIn(again[-1]["RecordingSid"], {r["sid"] for r in kinds})
        second_run = wait_until(
            "a second run", lambda: self.run_dirs(sid)[1:])[0]
        wait_until("two seconds of video in the second run",
                   lambda: self.recorded_ms(second_run, 1) >= MEDIA_MS)

        # Killing the recorder child: its recording is settled, never
        # left processing, and the room carries on.
        pid = int(self.recorder_events("started")[-1]["detail"])
        os.kill(pid, signal.SIGKILL)
        settled = hook.until_count(("recording-completed",
                                    "recording-failed"), 1)
        self.assertEqual(settled[-1]["RecordingSid"],
                         again[-1]["RecordingSid"])
        row = self.rest("GET", f"/v1/Recordings/{again[-1]['RecordingSid']}",
                        status=200).json()
        # Two seconds were recorded before the kill, and hqrecorder's files
        # survive a crash: the recording is completed and plays.
        self.assertEqual(row["status"], "completed", row)
        self.assertGreaterEqual(row["duration"], 1, row)
        name, _ = self.download(row["links"]["media"].split(
            self.srv.url, 1)[1], ".mkv")
        self.assertTrue(plays(name), name)
        self.assertEqual(watcher.request("ping")["type"], "pong")
        self.assertIsNone(pub.poll(), "the publisher stopped")
        self.assertEqual(self.rest("GET", f"/v1/Rooms/{sid}",
                                   status=200).json()["status"],
                         "in-progress")

        # The room ends; every recording is settled; a composition of it
        # completes and plays.
        self.rest("POST", f"/v1/Rooms/{sid}", {"Status": "completed"}, 200)
        wait_until("no recording processing", lambda: all(
            r["status"] != "processing" for r in self.recordings(sid)))
        c = self.rest("POST", "/v1/Compositions",
                      {"RoomSid": sid, "AudioSources": ["*"],
                       "VideoLayout": {"grid": {"video_sources": ["*"]}},
                       "Resolution": "640x480", "Format": "webm"},
                      201).json()
        self.assertEqual(c["status"], "enqueued")
        done = wait_until("the composition", lambda: (
            lambda got: got if got["status"] in ("completed", "failed")
            else None)(self.rest("GET", f"/v1/Compositions/{c['sid']}",
                                 status=200).json()), timeout=180)
        self.assertEqual(done["status"], "completed", done)
        self.assertGreater(done["size"], 0)
        name, resp = self.download(f"/v1/Compositions/{c['sid']}/Media",
                                   ".webm")
        self.assertEqual(len(resp.body), done["size"])
        dur, info = discover(name)
        self.assertGreaterEqual(dur, 1, info)
        self.assertLessEqual(abs(done["duration"] - dur), 1, info)

        self.assertIn("VP8", info)
        self.assertIn("Opus", info)
        self.assertTrue(plays(name), name)

        # Sources are chosen by pattern: video only (the audio excluded
        # again), as mp4.
        c = self.rest("POST", "/v1/Compositions",
                      {"RoomSid": sid, "AudioSources": ["*"],
                       "AudioSourcesExcluded": ["audio_*"],
                       "VideoLayout": {"main": {"video_sources": ["video*"]}},
                       "Format": "mp4"}, 201).json()
        done = wait_until("the mp4 composition", lambda: (
            lambda got: got if got["status"] in ("completed", "failed")
            else None)(self.rest("GET", f"/v1/Compositions/{c['sid']}",
                                 status=200).json()), timeout=180)
        self.assertEqual(done["status"], "completed", done)
        name, resp = self.download(f"/v1/Compositions/{c['sid']}/Media",
                                   ".mp4")
        self.assertEqual(resp.headers["Content-Type"], "video/mp4")
        dur, info = discover(name)
        self.assertGreaterEqual(dur, 1, info)
        self.assertIn("H.264", info)
        self.assertNotIn("audio #", info)
        self.assertTrue(plays(name), name)
        comp_dir = os.path.join(self.srv.data_dir, "compositions")
        for f in os.listdir(comp_dir):
            mode = stat.S_IMODE(os.stat(os.path.join(comp_dir, f)).st_mode)
            self.assertEqual(mode, 0o600, f)


if __name__ == "__main__":
    unittest.main(verbosity=2)
