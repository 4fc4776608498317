"""Encryption at rest (docs/at-rest.md): recordings, compositions and chat
attachments sealed on disk under an operator key, decrypted only as they
are served.  Suite `e2ee`.

One consultation, for real: an hq-server with an operator key file, a
gst-launch-1.0 hqroomsink publisher, the server's own hq-record and
hq-compose, a participant who attaches a PDF to the chat.  Then:

- no file under the data directory is playable media (gst-discoverer-1.0
  finds no stream in any of them) and the PDF's bytes are in no file,
  while the REST downloads of the same recordings and of the composition
  play and the attachment downloads byte for byte;
- every download is in the room's audit log;
- an attachment stored in the clear by a server without a key is sealed
  when the server next starts with one (the start-up sweep);
- recordings a killed server (kill -9) left unsettled are settled and
  sealed at its next start, and play when downloaded;
- a server with a different key under the same id, or without the key,
  refuses the media with 500 and says it cannot decrypt it;
- rotation: with the new key first and the old one kept, `hq-server
  rewrap` rewraps every sealed file; with the old key removed the
  downloads still play.

Nothing waits for a fixed time: every wait is for a state with a
deadline.
"""
import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import unittest
import urllib.parse

from hqtest import Server, read_credentials
from hqws import Signal
from test_recordings import (MISSING, MEDIA_MS, discover, plays, tool_env,
                             wait_until)

MAGIC = b"HQSEALED"
# A small PDF with text that would be easy to find on disk.
PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n"
       + b"Patient: Jane Example, DOB 1970-01-01, diagnosis: confidential. "
       * 40 + b"\n%%EOF\n")


def new_key():
    return secrets.token_hex(32)


def streams(path):
    """gst-discoverer-1.0's audio and video streams of @path ([] when it
    finds none: not media it can play)."""
    _, out = discover(path)
    return [line.strip() for line in out.splitlines()
            if line.strip().startswith(("audio #", "video #"))]


@unittest.skipIf(MISSING, f"elements not built: {', '.join(MISSING)}")
class AtRest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="hq-atrest-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.data_dir = os.path.join(self.tmp, "data")
        self.key_file = os.path.join(self.tmp, "at-rest.keys")
        self.srv = None
        self.procs = []
        self.clients = []

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
        if self.srv:
            self.srv.__exit__(None, None, None)

    # --- helpers ---

    def write_keys(self, *entries):
        with open(self.key_file, "w") as f:
            f.write("# operator keys, the current first\n")
            for e in entries:
                f.write(e + "\n")
        os.chmod(self.key_file, 0o600)

    def env(self, keys=True):
        env = {"HQ_RECONNECT_GRACE_MS": "30000"}
        if keys:
            env["HQ_AT_REST_KEY_FILE"] = self.key_file
        return env

    def start(self, keys=True):
        if self.srv:
            self.srv.__exit__(None, None, None)
        self.srv = Server(env=self.env(keys), data_dir=self.data_dir)
        self.srv.__enter__()
        creds = read_credentials(self.data_dir)
        self.auth = (creds["key_sid"], creds["key_secret"])

    def rest(self, method, path, body=None, status=None):
        r = self.srv.request(method, path, body, auth=self.auth)
        if status is not None:
            self.assertEqual(r.status, status, r.body[:500])
        return r

    def token(self, identity, room):
        return self.rest("POST", "/v1/AccessTokens",
                         {"Identity": identity, "Room": room},
                         201).json()["token"]

    def join(self, identity, room):
        c = Signal(self.srv.url)
        self.clients.append(c)
        token = self.token(identity, room)
        reply = c.join(token)
        self.assertEqual(reply["type"], "joined", reply)
        return c, token

    def attach(self, token, room_sid, data):
        r = self.srv.request(
            "POST", "/v1/ChatMedia?" + urllib.parse.urlencode(
                {"Room": room_sid, "Filename": "labs.pdf"}), data,
            headers={"Content-Type": "application/pdf",
                     "Authorization": "Bearer " + token})
        self.assertEqual(r.status, 201, r.body)
        return r.json()

    def publish(self, identity, room):
        args = ["gst-launch-1.0", "-q", "hqroomsink", "name=room",
                f"server={self.srv.url}", f"room={room}",
                f"identity={identity}",
                "videotestsrc", "is-live=true", "pattern=ball", "!",
                "video/x-raw,width=320,height=240,framerate=15/1", "!",
                "room.video_0",
                "audiotestsrc", "is-live=true", "wave=ticks", "!",
                "room.audio_0"]
        env = tool_env(HQ_ACCESS_TOKEN=self.token(identity, room))
        p = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        self.procs.append(p)
        return p

    def recordings(self, room_sid):
        return self.rest("GET", f"/v1/Rooms/{room_sid}/Recordings",
                         status=200).json()["recordings"]

    def recorded_ms(self, room_sid):
        """The shortest duration of the two tracks in the recorder's
        manifest (which stays clear: it holds no media)."""
        base = os.path.join(self.data_dir, "recordings", room_sid)
        try:
            run = os.path.join(base, sorted(os.listdir(base))[0])
            with open(os.path.join(run, "recording.json")) as f:
                manifest = json.load(f)
        except (OSError, ValueError, IndexError):
            return 0
        durations = [t.get("duration_ms", 0)
                     for period in manifest.get("recordings", [])
                     for t in period.get("tracks", [])]
        return min(durations) if len(durations) >= 2 else 0

    def data_files(self):
        out = []
        for folder, _, names in os.walk(self.data_dir):
            out += [os.path.join(folder, n) for n in names]
        return out

    def sealed(self, path):
        with open(path, "rb") as f:
            return f.read(8) == MAGIC

    def key_id(self, path):
        with open(path, "rb") as f:
            h = f.read(48)
        return h[17:17 + h[16]].decode()

    def download(self, media_path, suffix):
        """The media as a Twilio client fetches it: the Media resource's
        redirect_to link, then the file."""
        link = self.rest("GET", media_path, status=200).json()["redirect_to"]
        r = self.srv.request("GET", link[len(self.srv.url):])
        self.assertEqual(r.status, 200, r.body[:500])
        fd, name = tempfile.mkstemp(suffix=suffix, dir=self.tmp)
        with os.fdopen(fd, "wb") as f:
            f.write(r.body)
        return name, r

    def check_downloads_play(self, recs, comp):
        for rec in recs:
            name, resp = self.download(f"/v1/Recordings/{rec['sid']}/Media",
                                       "." + rec["container"])
            self.assertEqual(len(resp.body), rec["size"])
            kind = "video #" if rec["type"] == "video" else "audio #"
            self.assertTrue(any(s.startswith(kind) for s in streams(name)),
                            (rec, discover(name)[1]))
            self.assertTrue(plays(name), name)
        name, resp = self.download(f"/v1/Compositions/{comp['sid']}/Media",
                                   ".webm")
        self.assertEqual(len(resp.body), comp["size"])
        got = streams(name)
        self.assertIn("video #", " ".join(got))
        self.assertIn("audio #", " ".join(got))
        self.assertTrue(plays(name), name)

    # --- the test ---

    def test_media_is_sealed_on_disk_and_served_decrypted(self):
        try:
            self.consultation()
        except BaseException:
            if self.srv:
                print(self.srv.stderr_text()[-20000:])
            raise

    def consultation(self):
        # A server without a key: an attachment is stored clear (with a
        # warning in the log).
        self.start(keys=False)
        self.assertIn("UNENCRYPTED", self.srv.stderr_text())
        early = self.rest("POST", "/v1/Rooms", {"UniqueName": "early"},
                          201).json()
        _, early_token = self.join("nurse", "early")
        early_media = self.attach(early_token, early["sid"], PDF)
        early_path = os.path.join(self.data_dir, "chat-media", early["sid"],
                                  early_media["sid"])
        with open(early_path, "rb") as f:
            self.assertEqual(f.read(), PDF)
        self.assertTrue(any(e.get("what") == "stored-clear"
                            for e in self.srv.log_events()))
        for c in self.clients:
            c.ws.sock.close()
        self.clients = []

        # The operator configures a key: at start the clear attachment is
        # sealed.
        k1 = new_key()
        self.write_keys("k1:" + k1)
        self.start()
        wait_until("the early attachment sealed",
                   lambda: self.sealed(early_path))

        # A consultation recorded and composed, with a chat attachment.
        room = self.rest("POST", "/v1/Rooms", {
            "UniqueName": "visit", "Type": "group",
            "RecordParticipantsOnConnect": True}, 201).json()
        sid = room["sid"]
        watcher, watcher_token = self.join("watcher", "visit")
        self.publish("alice", "visit")
        media = self.attach(watcher_token, sid, PDF)
        stored = os.path.join(self.data_dir, "chat-media", sid, media["sid"])
        link = watcher.request("chat_media_url", media_sid=media["sid"])
        r = self.srv.request("GET", link["url"])
        self.assertEqual(r.status, 200, r.body[:300])
        self.assertEqual(r.body, PDF)
        self.assertEqual(r.headers["Content-Type"], "application/pdf")
        wait_until("two recordings", lambda: len(self.recordings(sid)) == 2)
        wait_until("two seconds of every track",
                   lambda: self.recorded_ms(sid) >= MEDIA_MS)
        self.rest("POST", f"/v1/Rooms/{sid}", {"Status": "completed"}, 200)
        recs = wait_until("the recordings completed", lambda: (
            lambda rs: rs if all(r["status"] == "completed" for r in rs)
            else None)(self.recordings(sid)))
        # The composer gets the sealed recordings (decrypted into pipes).
        run_root = os.path.join(self.data_dir, "recordings", sid)
        rec_files = [os.path.join(folder, n)
                     for folder, _, names in os.walk(run_root)
                     for n in names if n.endswith((".mka", ".mkv"))]
        self.assertEqual(len(rec_files), len(recs))
        wait_until("the recordings sealed",
                   lambda: all(self.sealed(f) for f in rec_files))
        comp = self.rest("POST", "/v1/Compositions", {
            "RoomSid": sid, "AudioSources": ["*"],
            "VideoLayout": {"grid": {"video_sources": ["*"]}},
            "Format": "webm"}, 201).json()
        comp = wait_until("the composition", lambda: (
            lambda c: c if c["status"] in ("completed", "failed") else None)(
                self.rest("GET", f"/v1/Compositions/{comp['sid']}",
                          status=200).json()), timeout=180)
        self.assertEqual(comp["status"], "completed", comp)
        comp_file = os.path.join(self.data_dir, "compositions",
                                 comp["sid"] + ".webm")
        media_files = rec_files + [comp_file, stored, early_path]
        wait_until("every media file sealed",
                   lambda: all(self.sealed(f) for f in media_files))

        # On disk: no playable media anywhere, the PDF nowhere.
        files = self.data_files()
        self.assertGreaterEqual(len(files), 6)
        for f in files:
            self.assertEqual(streams(f), [], f)
            with open(f, "rb") as fh:
                data = fh.read()
            self.assertNotIn(PDF[40:200], data, f)
        for f in media_files:
            self.assertEqual(self.key_id(f), "k1", f)
            self.assertEqual(os.stat(f).st_mode & 0o777, 0o600, f)
        # No clear file left behind by sealing.
        self.assertFalse([f for f in files if ".sealing-" in f])

        # Served: decrypted, playing, equal to what was uploaded.
        self.check_downloads_play(recs, comp)
        events = self.rest("GET", f"/v1/Rooms/{sid}/Events?PageSize=1000",
                           status=200).json()["events"]
        got = [(e["event"], e["detail"].get("recording_sid")
                or e["detail"].get("composition_sid")
                or e["detail"].get("media_sid"), e["detail"]["status"])
               for e in events if e["event"].endswith("-downloaded")]
        self.assertEqual(sorted(got), sorted(
            [("recording-media-downloaded", rec["sid"], 200) for rec in recs]
            + [("composition-media-downloaded", comp["sid"], 200),
               ("chat-media-downloaded", media["sid"], 200)]))

        # A different key under the same id: refused, and said so.
        self.write_keys("k1:" + new_key())
        self.start()
        r = self.rest("GET", f"/v1/Recordings/{recs[0]['sid']}/Media"
                      "?Redirect=false")
        self.assertEqual(r.status, 500, r.body[:300])
        err = r.json()["error"]
        self.assertEqual(err["message"], "cannot decrypt")
        self.assertIn("cannot decrypt", err["explanation"])
        self.assertIn("does not open it", err["explanation"])
        self.assertTrue(any(e.get("event") == "at-rest"
                            and e.get("what") == "decrypt-failed"
                            for e in self.srv.log_events()))
        # A composition from recordings it cannot decrypt fails, saying so.
        bad = self.rest("POST", "/v1/Compositions", {
            "RoomSid": sid, "AudioSources": ["*"], "Format": "webm"},
            201).json()
        bad = wait_until("the composition's failure", lambda: (
            lambda c: c if c["status"] in ("completed", "failed") else None)(
                self.rest("GET", f"/v1/Compositions/{bad['sid']}",
                          status=200).json()))
        self.assertEqual(bad["status"], "failed", bad)
        self.assertIn("cannot decrypt a recording", bad["error"])
        # Only the new key (the old one forgotten): refused too.
        self.write_keys("k2:" + new_key())
        self.start()
        r = self.rest("GET", f"/v1/Compositions/{comp['sid']}/Media"
                      "?Redirect=false")
        self.assertEqual(r.status, 500, r.body[:300])
        self.assertIn("does not have", r.json()["error"]["explanation"])
        events = self.rest("GET", f"/v1/Rooms/{sid}/Events?PageSize=1000",
                           status=200).json()["events"]
        self.assertIn(500, [e["detail"]["status"] for e in events
                            if e["event"] == "composition-media-downloaded"])

        # Rotation: k2 first, k1 kept; rewrap moves every file to k2.
        k2 = new_key()
        self.write_keys("k2:" + k2, "k1:" + k1)
        self.start()
        out = self.srv.run_cli("rewrap")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(f"rewrap: {len(media_files)} file(s) rewrapped to "
                      "operator key \"k2\"", out.stdout)
        for f in media_files:
            self.assertEqual(self.key_id(f), "k2", f)
        # The old key removed: everything still downloads and plays.
        self.write_keys("k2:" + k2)
        self.start()
        self.check_downloads_play(recs, comp)
        # Again: nothing left to rewrap.
        out = self.srv.run_cli("rewrap")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("0 file(s) rewrapped", out.stdout)


    def test_recordings_a_crashed_server_left_are_sealed_at_restart(self):
        try:
            self.crash_and_restart()
        except BaseException:
            if self.srv:
                print(self.srv.stderr_text()[-20000:])
            raise

    def crash_and_restart(self):
        self.write_keys("k1:" + new_key())
        self.start()
        room = self.rest("POST", "/v1/Rooms", {
            "UniqueName": "crash", "Type": "group",
            "RecordParticipantsOnConnect": True}, 201).json()
        sid = room["sid"]
        self.join("watcher", "crash")
        self.publish("alice", "crash")
        wait_until("two seconds of every track",
                   lambda: self.recorded_ms(sid) >= MEDIA_MS)
        recorder = int([e for e in self.srv.log_events()
                        if e.get("event") == "recorder"
                        and e.get("what") == "started"][-1]["detail"])
        # kill -9: the server settles nothing, seals nothing.
        self.srv.kill()
        self.srv.proc.stdout.close()
        self.srv = None
        # Its recorder child, orphaned, is stopped as it would be by its
        # lost connection (here at once, so that the files stop growing).
        try:
            os.kill(recorder, signal.SIGKILL)
        except ProcessLookupError:
            pass
        run_root = os.path.join(self.data_dir, "recordings", sid)
        rec_files = [os.path.join(folder, n)
                     for folder, _, names in os.walk(run_root)
                     for n in names if n.endswith((".mka", ".mkv"))]
        self.assertEqual(len(rec_files), 2)
        self.assertFalse(any(self.sealed(f) for f in rec_files))
        # The next start settles the rows from the manifest and seals
        # their files.
        self.start()
        recs = wait_until("the recordings settled", lambda: (
            lambda rs: rs if rs and all(r["status"] == "completed"
                                        for r in rs) else None)(
                self.recordings(sid)))
        self.assertEqual(len(recs), 2)
        wait_until("the recordings sealed",
                   lambda: all(self.sealed(f) for f in rec_files))
        for f in rec_files:
            self.assertEqual(streams(f), [], f)
        for rec in recs:
            name, resp = self.download(f"/v1/Recordings/{rec['sid']}/Media",
                                       "." + rec["container"])
            self.assertEqual(len(resp.body), rec["size"])
            self.assertTrue(streams(name), discover(name)[1])
            self.assertTrue(plays(name), name)


class AtRestConfig(unittest.TestCase):
    """The server refuses to start on a bad or unsafe operator key, and
    with [at-rest] required, without one."""

    def start_fails(self, env, expect):
        srv = Server(env=env)
        with self.assertRaises(AssertionError) as cm:
            srv.start()
        self.assertIn(expect, str(cm.exception))
        srv.proc.stdout.close()
        srv._stderr.close()
        if srv._tmp:
            srv._tmp.cleanup()

    def test_key_problems_stop_the_start(self):
        with tempfile.TemporaryDirectory() as d:
            keys = os.path.join(d, "keys")
            with open(keys, "w") as f:
                f.write("k1:" + new_key() + "\n")
            os.chmod(keys, 0o644)
            self.start_fails({"HQ_AT_REST_KEY_FILE": keys}, "chmod 600")
            os.chmod(keys, 0o600)
            with open(keys, "w") as f:
                f.write("k1:tooshort\n")
            self.start_fails({"HQ_AT_REST_KEY_FILE": keys},
                             "is not 32 bytes")
            self.start_fails({"HQ_AT_REST_KEY_FILE": d + "/none"},
                             "operator key file")
            self.start_fails({"HQ_AT_REST_REQUIRED": "true"},
                             "no operator key is configured")
        # The keys in the environment work too, and never reach the log.
        key = new_key()
        with Server(env={"HQ_AT_REST_KEYS": "env1:" + key}) as srv:
            self.assertNotIn(key, srv.stderr_text())
            self.assertTrue(any(e.get("event") == "at-rest"
                                and e.get("what") == "on"
                                and e.get("keys") == "env1 (current)"
                                for e in srv.log_events()))


if __name__ == "__main__":
    unittest.main(verbosity=2)
