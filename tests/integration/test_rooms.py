"""Rooms, REST, signalling, chat, waiting room, moderation and storage,
against a real hq-server on loopback with real WebSocket clients.  Suite
`rooms`.

Timeouts are shortened through the server's HQ_*_MS knobs (one room-timeout
"minute" lasts HQ_TIMEOUT_MINUTE_MS) so that a room's expiry happens within
a test; tests wait for the event itself (a status callback, a message, a
closed connection), never for a fixed time.
"""
import hashlib
import hmac
import http.server
import json
import os
import queue
import tempfile
import threading
import time
import unittest
import urllib.parse

from hqtest import Server, jwt_encode, read_credentials
from hqws import OP_BINARY, OP_TEXT, Signal

WAIT = 30  # seconds, for any one event


class CallbackReceiver:
    """An HTTP endpoint for status callbacks that checks each signature and
    queues the verified events.  With fail_first, the first delivery gets
    a 500, so the server has to retry."""

    def __init__(self, secret, fail_first=False, fail_event=None):
        self.events = queue.Queue()
        self.bad_signatures = 0
        self.failed = []  # the events answered with 500
        outer = self
        self.fail_next = fail_first

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                expect = "sha256=" + hmac.new(secret.encode(), body,
                                              hashlib.sha256).hexdigest()
                if not hmac.compare_digest(
                        expect, self.headers.get("X-Hq-Signature", "")):
                    outer.bad_signatures += 1
                    self.send_response(403)
                else:
                    fields = dict(urllib.parse.parse_qsl(body.decode()))
                    event = fields["StatusCallbackEvent"]
                    if outer.fail_next or event == fail_event:
                        outer.fail_next = False
                        outer.failed.append(event)
                        self.send_response(500)
                    else:
                        outer.events.put(fields)
                        self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/hook"
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    def until(self, event):
        """Every event received up to and including the first @event."""
        got = []
        while True:
            fields = self.events.get(timeout=WAIT)
            got.append(fields)
            if fields["StatusCallbackEvent"] == event:
                return got

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class RoomsTestCase(unittest.TestCase):
    # Real-length room timeouts unless a test class shortens them: a room
    # must not expire under a test that did not ask for it.
    env = {"HQ_RECONNECT_GRACE_MS": "30000", "HQ_CALLBACK_RETRY_MS": "50"}

    def setUp(self):
        self.srv = Server(env=self.env).__enter__()
        creds = read_credentials(self.srv.data_dir)
        self.auth = (creds["key_sid"], creds["key_secret"])
        self.secret = creds["key_secret"]
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.ws.sock.close()
        self.srv.__exit__(None, None, None)

    def rest(self, method, path, body=None, status=None):
        r = self.srv.request(method, path, body, auth=self.auth)
        if status is not None:
            self.assertEqual(r.status, status, r.body)
        return r

    def create_room(self, **params):
        return self.rest("POST", "/v1/Rooms", params, 201).json()

    def token(self, identity, room, role="guest"):
        """A token for @room, or for any room when @room is None."""
        body = {"Identity": identity, "Role": role}
        if room is not None:
            body["Room"] = room
        return self.rest("POST", "/v1/AccessTokens", body, 201).json()["token"]

    def connect(self):
        c = Signal(self.srv.url)
        self.clients.append(c)
        return c

    def join(self, identity, room, role="guest", expect="joined", **fields):
        # The token first: a connection must not idle (keepalive tests).
        token = self.token(identity, room, role)
        c = self.connect()
        reply = c.join(token, **fields)
        self.assertEqual(reply["type"], expect, reply)
        return c, reply

    def events(self, room_sid):
        return self.rest("GET", f"/v1/Rooms/{room_sid}/Events?PageSize=1000",
                         status=200).json()["events"]

    def participants(self, room, query=""):
        return self.rest("GET", f"/v1/Rooms/{room}/Participants{query}",
                         status=200).json()["participants"]


class Consultation(RoomsTestCase):
    # One timeout minute lasts 400 ms: EmptyRoomTimeout=1 ends the room
    # soon after it empties, UnusedRoomTimeout=60 (24 s) never interferes.
    env = dict(RoomsTestCase.env, HQ_TIMEOUT_MINUTE_MS="400")

    def test_full_consultation(self):
        hook = CallbackReceiver(self.secret, fail_first=True)
        self.addCleanup(hook.close)
        room = self.create_room(UniqueName="consult-1", Type="group-small",
                                StatusCallback=hook.url, EmptyRoomTimeout=1,
                                UnusedRoomTimeout=60)
        self.assertRegex(room["sid"], r"^RM[0-9a-f]{32}$")
        self.assertEqual((room["status"], room["max_participants"]),
                         ("in-progress", 4))

        doc, joined_doc = self.join("dr-who", "consult-1", "host")
        pat, joined_pat = self.join("patient", "consult-1")
        doc_sid = joined_doc["participant"]["sid"]
        pat_sid = joined_pat["participant"]["sid"]
        self.assertRegex(pat_sid, r"^PA[0-9a-f]{32}$")
        # Each sees the other: the later one in `joined`, the earlier by event.
        self.assertEqual([p["identity"] for p in joined_pat["participants"]],
                         ["dr-who"])
        ev = doc.wait_for("participant_connected")
        self.assertEqual(ev["participant"]["sid"], pat_sid)

        cam = doc.request("track_publish", name="camera", kind="video")
        self.assertEqual(cam["type"], "track_published")
        self.assertRegex(cam["track"]["sid"], r"^MT[0-9a-f]{32}$")
        seen = pat.wait_for("track_published")
        self.assertEqual(seen["track"], cam["track"])
        self.assertEqual(seen["participant_sid"], doc_sid)

        pub = self.rest(
            "GET", f"/v1/Rooms/{room['sid']}/Participants/{doc_sid}"
            "/PublishedTracks", status=200).json()["published_tracks"]
        self.assertEqual([(t["sid"], t["name"], t["kind"], t["enabled"])
                          for t in pub],
                         [(cam["track"]["sid"], "camera", "video", True)])

        off = doc.request("track_update", track_sid=cam["track"]["sid"],
                          enabled=False)
        self.assertEqual(off["type"], "track_disabled")
        self.assertFalse(pat.wait_for("track_disabled")["track"]["enabled"])
        doc.request("track_update", track_sid=cam["track"]["sid"],
                    enabled=True)
        self.assertTrue(pat.wait_for("track_enabled")["track"]["enabled"])

        sent = pat.request("chat_send", body="Hello doctor",
                           attributes={"lang": "en"})
        self.assertEqual(sent["type"], "chat_sent")
        msg = doc.wait_for("chat_message")["message"]
        self.assertEqual((msg["body"], msg["identity"], msg["attributes"],
                          msg["index"]),
                         ("Hello doctor", "patient", {"lang": "en"},
                          sent["message"]["index"]))

        self.assertEqual(pat.request("leave")["type"], "left")
        gone = doc.wait_for("participant_disconnected")
        self.assertEqual((gone["participant"]["sid"], gone["reason"]),
                         (pat_sid, "left"))
        doc.request("leave")

        # The empty room completes after its timeout: wait for the event.
        got = hook.until("room-ended")
        done = self.rest("GET", "/v1/Rooms/consult-1", status=200).json()
        self.assertEqual((done["status"], done["end_reason"]),
                         ("completed", "empty_room_timeout"))
        self.assertIsNotNone(done["duration"])
        parts = self.participants(room["sid"])
        self.assertEqual({p["identity"]: p["status"] for p in parts},
                         {"dr-who": "disconnected", "patient": "disconnected"})

        pub = self.rest(
            "GET", f"/v1/Rooms/{room['sid']}/Participants/{doc_sid}"
            "/PublishedTracks", status=200).json()["published_tracks"]
        self.assertEqual(pub, [])

        # Callbacks: every one signed, in order, none lost to the failed
        # first delivery, and the same story as the audit log.
        self.assertEqual(hook.bad_signatures, 0)
        self.assertEqual([int(e["SequenceNumber"]) for e in got],
                         list(range(1, len(got) + 1)))
        self.assertTrue(all(e["RoomSid"] == room["sid"] for e in got))
        story = [(e["StatusCallbackEvent"], e.get("ParticipantSid"))
                 for e in got]
        self.assertEqual(story, [
            ("room-created", None),
            ("participant-connected", doc_sid),
            ("participant-connected", pat_sid),
            ("track-added", doc_sid),
            ("track-disabled", doc_sid),
            ("track-enabled", doc_sid),
            ("participant-disconnected", pat_sid),
            ("track-removed", doc_sid),
            ("participant-disconnected", doc_sid),
            ("room-ended", None)])
        audit = [(e["event"], e["participant_sid"])
                 for e in self.events(room["sid"])]
        self.assertEqual(audit, story)

    def test_callbacks_retry_then_give_up_and_go_on(self):
        hook = CallbackReceiver(self.secret, fail_event="room-created")
        self.addCleanup(hook.close)
        room = self.create_room(UniqueName="flaky-hook",
                                StatusCallback=hook.url, UnusedRoomTimeout=60)
        self.join("pat", "flaky-hook")
        # room-created fails every time; after its last attempt the next
        # event still goes out, with its own sequence number.
        got = hook.events.get(timeout=WAIT)
        self.assertEqual((got["StatusCallbackEvent"], got["SequenceNumber"],
                          got["RoomSid"]),
                         ("participant-connected", "2", room["sid"]))
        self.assertEqual(hook.failed, ["room-created"] * 6)
        self.assertIn("giving up", self.srv.stderr_text())

    def test_unused_room_completes(self):
        hook = CallbackReceiver(self.secret)
        self.addCleanup(hook.close)
        room = self.create_room(StatusCallback=hook.url, UnusedRoomTimeout=1)
        ended = hook.until("room-ended")[-1]
        self.assertEqual(ended["RoomSid"], room["sid"])
        done = self.rest("GET", f"/v1/Rooms/{room['sid']}", status=200).json()
        self.assertEqual(done["end_reason"], "unused_room_timeout")


class TrackPriority(RoomsTestCase):
    """track_publish's and track_update's priority (docs/protocol.md): its
    default, where it shows, and what bad values get."""

    def test_track_priority(self):
        room = self.create_room(UniqueName="prio", Type="group")
        doc, jd = self.join("dr", "prio", "host")
        pat, _ = self.join("pat", "prio")
        doc_sid = jd["participant"]["sid"]
        # Absent: standard; given: kept, and everyone is told.
        cam = doc.request("track_publish", name="camera", kind="video")
        self.assertEqual(cam["track"]["priority"], "standard", cam)
        self.assertEqual(pat.wait_for("track_published")["track"]["priority"],
                         "standard")
        screen = doc.request("track_publish", name="screen", kind="video",
                             priority="high")
        self.assertEqual(screen["track"]["priority"], "high", screen)
        self.assertEqual(pat.wait_for("track_published")["track"],
                         screen["track"])
        # Bad values name the field and what it may be.
        for bad, why in (("urgent", "priority must be low, standard or high"),
                         (3, "priority must be a string")):
            r = doc.request("track_publish", name="x", kind="audio",
                            priority=bad)
            self.assertEqual((r["type"], r["code"]),
                             ("error", "invalid_field"), r)
            self.assertIn(why, r["message"])
            r = doc.request("track_update", track_sid=cam["track"]["sid"],
                            priority=bad)
            self.assertEqual((r["type"], r["code"]),
                             ("error", "invalid_field"), r)
            self.assertIn(why, r["message"])
        r = doc.request("track_update", track_sid=cam["track"]["sid"])
        self.assertEqual(r["code"], "invalid_field", r)
        self.assertIn("enabled or priority", r["message"])
        # Changed later: the reply and everyone else's event.
        low = doc.request("track_update", track_sid=cam["track"]["sid"],
                          priority="low")
        self.assertEqual((low["type"], low["track"]["priority"]),
                         ("track_priority_changed", "low"), low)
        seen = pat.wait_for("track_priority_changed")
        self.assertEqual((seen["participant_sid"], seen["track"]),
                         (doc_sid, low["track"]))
        # With enabled too: both change, the reply is enabled's.
        both = doc.request("track_update", track_sid=cam["track"]["sid"],
                           priority="high", enabled=False)
        self.assertEqual((both["type"], both["track"]["priority"],
                          both["track"]["enabled"]),
                         ("track_disabled", "high", False), both)
        # Whoever joins later sees it in the participant objects, and REST
        # in the published tracks.
        _, jn = self.join("nurse", "prio")
        tracks = {t["name"]: t["priority"] for p in jn["participants"]
                  if p["sid"] == doc_sid for t in p["tracks"]}
        self.assertEqual(tracks, {"camera": "high", "screen": "high"})
        pub = self.rest(
            "GET", f"/v1/Rooms/{room['sid']}/Participants/{doc_sid}"
            "/PublishedTracks", status=200).json()["published_tracks"]
        self.assertEqual({t["name"]: t["priority"] for t in pub},
                         {"camera": "high", "screen": "high"})


class Rest(RoomsTestCase):
    def test_token_endpoint_creates_the_room(self):
        token = self.srv.guest_token("p", "walk-in")
        room = self.rest("GET", "/v1/Rooms/walk-in", status=200).json()
        self.assertEqual((room["status"], room["type"]),
                         ("in-progress", "group"))
        c = self.connect()
        joined = c.join(token)
        self.assertEqual(joined["type"], "joined")
        self.assertEqual(joined["participant"]["name"], "p")
        # A second token for the same name joins the same room.
        c2 = self.connect()
        self.assertEqual(c2.join(self.srv.guest_token("q", "walk-in"))
                         ["room"]["sid"], room["sid"])

    def test_needs_api_key(self):
        r = self.srv.request("GET", "/v1/Rooms")
        self.assertEqual(r.status, 401)
        r = self.srv.request("GET", "/v1/Rooms", auth=(self.auth[0], "nope"))
        self.assertEqual(r.status, 401)

    def test_form_encoded_create_and_fetch(self):
        r = self.srv.request(
            "POST", "/v1/Rooms", "UniqueName=form-room&Type=go"
            "&MaxParticipants=1&WaitingRoom=true",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            auth=self.auth)
        self.assertEqual(r.status, 201, r.body)
        room = r.json()
        self.assertEqual((room["type"], room["max_participants"],
                          room["waiting_room"]), ("go", 1, True))
        by_sid = self.rest("GET", f"/v1/Rooms/{room['sid']}", status=200)
        by_name = self.rest("GET", "/v1/Rooms/form-room", status=200)
        self.assertEqual(by_sid.json(), by_name.json())
        self.assertEqual(by_sid.json()["url"].split("/v1/")[1],
                         f"Rooms/{room['sid']}")

    def test_unique_names_in_paths(self):
        name = "Sprechstunde Dr. Müller 14:00"
        room = self.create_room(UniqueName=name)
        path = "/v1/Rooms/" + urllib.parse.quote(name, safe="")
        self.assertEqual(self.rest("GET", path, status=200).json()["sid"],
                         room["sid"])
        self.assertEqual(self.rest("GET", path + "/Participants",
                                   status=200).json()["participants"], [])
        r = self.rest("POST", "/v1/Rooms", {"UniqueName": "a/b"}, 400)
        self.assertIn('"/"', r.json()["error"]["explanation"])

    def test_invalid_parameters(self):
        cases = [({"Type": "huge"}, "Type"),
                 ({"Type": "go", "MaxParticipants": 3}, "MaxParticipants"),
                 ({"MaxParticipants": "many"}, "MaxParticipants"),
                 ({"EmptyRoomTimeout": 61}, "EmptyRoomTimeout"),
                 ({"StatusCallback": "ftp://x/y"}, "StatusCallback"),
                 ({"UniqueName": "x" * 129}, "UniqueName")]
        for body, field in cases:
            r = self.rest("POST", "/v1/Rooms", body, 400)
            self.assertIn(field, r.json()["error"]["explanation"], body)
        self.assertEqual(self.rest("GET", "/v1/Rooms", status=200)
                         .json()["rooms"], [])

    def test_unique_name_conflict_and_reuse(self):
        first = self.create_room(UniqueName="dup")
        r = self.rest("POST", "/v1/Rooms", {"UniqueName": "dup"}, 409)
        self.assertIn("already in progress", r.json()["error"]["explanation"])
        self.rest("POST", f"/v1/Rooms/{first['sid']}",
                  {"Status": "completed"}, 200)
        second = self.create_room(UniqueName="dup")
        self.assertNotEqual(first["sid"], second["sid"])
        # By name: the one in progress.
        self.assertEqual(self.rest("GET", "/v1/Rooms/dup", status=200)
                         .json()["sid"], second["sid"])

    def test_list_filters_and_pages(self):
        sids = [self.create_room(UniqueName=f"r{i}")["sid"] for i in range(3)]
        self.rest("POST", f"/v1/Rooms/{sids[0]}", {"Status": "completed"},
                  200)
        live = self.rest("GET", "/v1/Rooms?Status=in-progress",
                         status=200).json()["rooms"]
        self.assertEqual(sorted(r["sid"] for r in live), sorted(sids[1:]))
        named = self.rest("GET", "/v1/Rooms?UniqueName=r2",
                          status=200).json()["rooms"]
        self.assertEqual([r["sid"] for r in named], [sids[2]])
        page = self.rest("GET", "/v1/Rooms?PageSize=2", status=200).json()
        self.assertEqual(len(page["rooms"]), 2)
        nxt = page["meta"]["next_page_url"]
        u = urllib.parse.urlsplit(nxt)
        rest = self.rest("GET", f"{u.path}?{u.query}", status=200).json()
        self.assertEqual(len(rest["rooms"]), 1)
        self.assertIsNone(rest["meta"]["next_page_url"])
        self.rest("GET", "/v1/Rooms?PageSize=0", status=400)

    def test_not_found_and_bad_status(self):
        self.rest("GET", "/v1/Rooms/RM" + "0" * 32, status=404)
        self.rest("GET", "/v1/Rooms/nobody-here", status=404)
        room = self.create_room()
        self.rest("POST", f"/v1/Rooms/{room['sid']}", {"Status": "paused"},
                  400)
        self.rest("GET", f"/v1/Rooms/{room['sid']}/Participants/PA" + "1" * 32,
                  status=404)
        self.rest("GET", f"/v1/Rooms/{room['sid']}/Nothing", status=404)

    def test_kick_by_rest(self):
        room = self.create_room(UniqueName="kick")
        host, _ = self.join("host", "kick", "host")
        guest, j = self.join("guest", "kick")
        sid = j["participant"]["sid"]
        r = self.rest("POST", f"/v1/Rooms/{room['sid']}/Participants/{sid}",
                      {"Status": "disconnected"}, 200).json()
        self.assertEqual((r["status"], r["end_reason"]),
                         ("disconnected", "kicked"))
        self.assertEqual(guest.wait_for("removed")["by"], None)
        self.assertEqual(guest.ws.wait_closed()[0], 4001)
        self.assertEqual(host.wait_for("participant_disconnected")["reason"],
                         "kicked")
        connected = self.participants(room["sid"], "?Status=connected")
        self.assertEqual([p["identity"] for p in connected], ["host"])


class WaitingRoomAndModeration(RoomsTestCase):
    def test_guest_waits_until_admitted(self):
        room = self.create_room(UniqueName="clinic", WaitingRoom=True)
        host, _ = self.join("dr", "clinic", "host")
        guest, waiting = self.join("pat", "clinic", expect="waiting")
        guest_sid = waiting["participant_sid"]
        lobby = host.wait_for("lobby_changed")
        self.assertEqual([p["sid"] for p in lobby["waiting"]], [guest_sid])
        # A waiting guest cannot chat, and nobody else sees them yet.
        self.assertEqual(guest.request("chat_send", body="hi")["code"],
                         "not_admitted")
        self.assertEqual(self.participants("clinic", "?Status=connected")
                         .__len__(), 1)

        ok = host.request("admit", participant_sid=guest_sid)
        self.assertEqual(ok["type"], "ok", ok)
        joined = guest.wait_for("joined")
        self.assertEqual(joined["participant"]["sid"], guest_sid)
        self.assertEqual([p["identity"] for p in joined["participants"]],
                         ["dr"])
        self.assertEqual(host.wait_for("participant_connected")
                         ["participant"]["sid"], guest_sid)
        self.assertEqual(host.wait_for("lobby_changed")["waiting"], [])
        self.assertEqual(guest.request("chat_send", body="hi")["type"],
                         "chat_sent")
        audit = self.events(room["sid"])
        admitted = [e for e in audit if e["event"] == "participant-admitted"]
        self.assertEqual(len(admitted), 1)
        self.assertEqual(admitted[0]["participant_sid"], guest_sid)

    def test_denied_guest_is_told_and_disconnected(self):
        room = self.create_room(UniqueName="clinic2", WaitingRoom=True)
        host, jh = self.join("dr", "clinic2", "host")
        guest, waiting = self.join("pat", "clinic2", expect="waiting")
        host.wait_for("lobby_changed")
        # Another guest may not moderate.
        r = host.request("deny", participant_sid=waiting["participant_sid"])
        self.assertEqual(r["type"], "ok", r)
        denied = guest.wait_for("denied")
        self.assertTrue(denied["message"])
        self.assertEqual(guest.ws.wait_closed()[0], 4003)
        self.assertEqual(host.wait_for("lobby_changed")["waiting"], [])
        ev = [e for e in self.events(room["sid"])
              if e["event"] == "participant-denied"]
        self.assertEqual(ev[0]["actor_sid"], jh["participant"]["sid"])

    def test_lobby_and_tracks_are_bounded(self):
        self.create_room(UniqueName="crowd", WaitingRoom=True)
        for i in range(50):
            self.join(f"g{i}", "crowd", expect="waiting")
        _, r = self.join("one-too-many", "crowd", expect="error")
        self.assertEqual(r["code"], "room_full")
        self.assertIn("waiting room", r["message"])
        host, _ = self.join("dr", "crowd", "host")
        for i in range(32):
            r = host.request("track_publish", name=f"t{i}", kind="data")
            self.assertEqual(r["type"], "track_published", r)
        r = host.request("track_publish", name="t32", kind="data")
        self.assertEqual((r["type"], r["code"]), ("error", "invalid_field"))
        self.assertIn("at most 32", r["message"])

    def test_host_mutes_and_removes(self):
        room = self.create_room(UniqueName="mod")
        host, jh = self.join("dr", "mod", "host")
        guest, jg = self.join("pat", "mod")
        other, _ = self.join("nurse", "mod")
        mic = guest.request("track_publish", name="mic", kind="audio")
        gsid = jg["participant"]["sid"]

        # Guests cannot moderate.
        r = other.request("mute", participant_sid=gsid,
                          track_sid=mic["track"]["sid"])
        self.assertEqual(r["code"], "not_host")
        r = host.request("mute", participant_sid=gsid,
                         track_sid=mic["track"]["sid"])
        self.assertEqual(r["type"], "ok", r)
        muted = guest.wait_for("muted")
        self.assertEqual((muted["track_sid"], muted["by"]["sid"]),
                         (mic["track"]["sid"], jh["participant"]["sid"]))
        off = other.wait_for("track_disabled")
        self.assertFalse(off["track"]["enabled"])

        r = host.request("remove", participant_sid=gsid)
        self.assertEqual(r["type"], "ok", r)
        self.assertEqual(guest.wait_for("removed")["by"]["identity"], "dr")
        self.assertEqual(guest.ws.wait_closed()[0], 4001)
        gone = other.wait_for("participant_disconnected")
        self.assertEqual((gone["participant"]["sid"], gone["reason"]),
                         (gsid, "removed"))
        audit = {e["event"]: e for e in self.events(room["sid"])}
        self.assertEqual(audit["track-muted"]["actor_sid"],
                         jh["participant"]["sid"])
        self.assertEqual(audit["participant-removed"]["participant_sid"], gsid)


class Caps(RoomsTestCase):
    def test_third_in_a_go_room_is_refused(self):
        self.create_room(UniqueName="pair", Type="go")
        self.join("a", "pair")
        b, _ = self.join("b", "pair")
        c, full = self.join("c", "pair", expect="error")
        self.assertEqual(full["code"], "room_full")
        self.assertIn("at most 2", full["message"])
        # Once someone leaves there is room again, on the same connection.
        b.request("leave")
        again = c.join(self.token("c", "pair"))
        self.assertEqual(again["type"], "joined")

    def test_max_participants_lowers_the_cap(self):
        self.create_room(UniqueName="solo", MaxParticipants=1)
        self.join("a", "solo")
        _, r = self.join("b", "solo", expect="error")
        self.assertEqual(r["code"], "room_full")


class Reconnect(RoomsTestCase):
    def test_same_identity_replaces_without_ghost(self):
        room = self.create_room(UniqueName="re")
        host, _ = self.join("dr", "re", "host")
        first, j1 = self.join("pat", "re")
        host.wait_for("participant_connected")
        second, j2 = self.join("pat", "re")
        self.assertNotEqual(j1["participant"]["sid"],
                            j2["participant"]["sid"])
        self.assertEqual(first.ws.wait_closed()[0], 4002)
        gone = host.wait_for("participant_disconnected")
        self.assertEqual(gone["reason"], "replaced")
        connected = self.participants(room["sid"], "?Status=connected")
        self.assertEqual(sorted(p["identity"] for p in connected),
                         ["dr", "pat"])
        self.assertEqual([p["identity"] for p in j2["participants"]], ["dr"])

    def test_resume_keeps_the_participant(self):
        room = self.create_room(UniqueName="resume")
        host, _ = self.join("dr", "resume", "host")
        pat, j1 = self.join("pat", "resume")
        sid = j1["participant"]["sid"]
        pat.request("track_publish", name="mic", kind="audio")
        pat.ws.drop()
        self.assertEqual(host.wait_for("participant_reconnecting")
                         ["participant"]["sid"], sid)
        again, j2 = self.join("pat", "resume",
                              resume_token=j1["resume_token"])
        self.assertEqual(j2["participant"]["sid"], sid)
        self.assertEqual([t["name"] for t in j2["participant"]["tracks"]],
                         ["mic"])
        self.assertEqual(host.wait_for("participant_reconnected")
                         ["participant"]["sid"], sid)
        connected = self.participants(room["sid"], "?Status=connected")
        self.assertEqual(sorted(p["identity"] for p in connected),
                         ["dr", "pat"])


class GraceExpiry(RoomsTestCase):
    env = dict(RoomsTestCase.env, HQ_RECONNECT_GRACE_MS="200")

    def test_dropped_participant_leaves_after_grace(self):
        self.create_room(UniqueName="grace")
        host, _ = self.join("dr", "grace", "host")
        pat, j = self.join("pat", "grace")
        pat.ws.drop()
        gone = host.wait_for("participant_disconnected")
        self.assertEqual((gone["participant"]["sid"], gone["reason"]),
                         (j["participant"]["sid"], "connection_lost"))


class Demo(unittest.TestCase):
    def test_demo_token_joins_the_demo_room(self):
        with Server(args=["--demo"]) as srv:
            lines = srv.stdout_lines
            at = next(i for i, line in enumerate(lines)
                      if line.startswith("Demo room"))
            token = lines[at + 1].strip()
            c = Signal(srv.url)
            joined = c.join(token)
            self.assertEqual(joined["type"], "joined", joined)
            self.assertEqual((joined["room"]["name"],
                              joined["participant"]["role"]), ("demo", "host"))
            c.close()
            # Guests get into the demo room without a passcode (--demo
            # opens it, and only it).
            r = srv.request("POST", "/token", {"user_identity": "patient",
                                               "room_name": "demo"})
            self.assertEqual(r.status, 200, r.body)
            r = srv.request("POST", "/token", {"user_identity": "patient",
                                               "room_name": "other"})
            self.assertEqual(r.status, 401, r.body)


class Shutdown(unittest.TestCase):
    def test_sigterm_closes_connections_and_keeps_rooms(self):
        with tempfile.TemporaryDirectory() as tmp:
            data = os.path.join(tmp, "data")
            with Server(data_dir=data) as srv:
                creds = read_credentials(data)
                auth = (creds["key_sid"], creds["key_secret"])
                srv.request("POST", "/v1/Rooms", {"UniqueName": "stay"},
                            auth=auth)
                tok = srv.request("POST", "/v1/AccessTokens", {
                    "Identity": "pat", "Room": "stay"},
                    auth=auth).json()["token"]
                c = Signal(srv.url)
                self.assertEqual(c.join(tok)["type"], "joined")
                srv.stop()  # SIGTERM with the participant still connected
                self.assertEqual(c.ws.wait_closed()[0], 1001)
                c.ws.sock.close()
            with Server(data_dir=data) as srv:
                room = srv.request("GET", "/v1/Rooms/stay", auth=auth).json()
                self.assertEqual(room["status"], "in-progress")
                parts = srv.request(
                    "GET", f"/v1/Rooms/{room['sid']}/Participants",
                    auth=auth).json()["participants"]
                self.assertEqual([(p["status"], p["end_reason"])
                                  for p in parts],
                                 [("disconnected", "server_restart")])
                c = Signal(srv.url)
                self.assertEqual(c.join(tok)["type"], "joined")
                c.close()


class MaxParticipantDuration(RoomsTestCase):
    # 600 s of MaxParticipantDuration last 2 s here; the room's other
    # timeouts (60 minutes: 12 s) do not interfere.
    env = dict(RoomsTestCase.env, HQ_TIMEOUT_MINUTE_MS="200")

    def test_participant_leaves_at_max_duration(self):
        room = self.create_room(UniqueName="short", MaxParticipantDuration=600,
                                EmptyRoomTimeout=60, UnusedRoomTimeout=60)
        pat, j = self.join("pat", "short")
        self.assertEqual(pat.ws.wait_closed()[0], 4005)
        p = self.rest("GET", f"/v1/Rooms/{room['sid']}/Participants/"
                      f"{j['participant']['sid']}", status=200).json()
        self.assertEqual((p["status"], p["end_reason"]),
                         ("disconnected", "max_participant_duration"))


class Keepalive(RoomsTestCase):
    env = dict(RoomsTestCase.env, HQ_KEEPALIVE_TIMEOUT_MS="300")

    def test_silent_connection_is_closed_and_may_resume(self):
        self.create_room(UniqueName="quiet")
        pat, j = self.join("pat", "quiet")
        # Says nothing (it still answers the server's WebSocket pings).
        self.assertEqual(pat.ws.wait_closed()[0], 4000)
        again, j2 = self.join("pat", "quiet", resume_token=j["resume_token"])
        self.assertEqual(j2["participant"]["sid"], j["participant"]["sid"])
        connected = self.participants("quiet", "?Status=connected")
        self.assertEqual(len(connected), 1)


class ChatDurability(unittest.TestCase):
    def test_acknowledged_messages_survive_kill_9(self):
        with tempfile.TemporaryDirectory() as tmp:
            data = os.path.join(tmp, "data")
            srv = Server(data_dir=data)
            srv.start()
            try:
                creds = read_credentials(data)
                auth = (creds["key_sid"], creds["key_secret"])
                r = srv.request("POST", "/v1/Rooms", {"UniqueName": "durable"},
                                auth=auth)
                self.assertEqual(r.status, 201, r.body)
                tok = srv.request("POST", "/v1/AccessTokens", {
                    "Identity": "pat", "Room": "durable"},
                    auth=auth).json()["token"]
                c = Signal(srv.url)
                self.assertEqual(c.join(tok)["type"], "joined")
                acked = {}
                for i in range(60):
                    reply = c.request("chat_send", body=f"message {i}")
                    self.assertEqual(reply["type"], "chat_sent", reply)
                    acked[reply["message"]["index"]] = f"message {i}"
                self.assertEqual(sorted(acked), list(range(1, 61)))
                # Sent but possibly never acknowledged: may or may not stay.
                c.send({"type": "chat_send", "id": "last", "body": "last"})
            finally:
                srv.crash()
            c.ws.sock.close()

            with Server(data_dir=data) as srv2:
                c = Signal(srv2.url)
                joined = c.join(tok)
                self.assertEqual(joined["type"], "joined", joined)
                got = {m["index"]: m["body"] for m in joined["chat"]}
                self.assertEqual(len(joined["chat"]), 50)
                before = min(got)
                while True:
                    page = c.request("chat_history", before=before)
                    self.assertEqual(page["type"], "chat_history", page)
                    got.update({m["index"]: m["body"]
                                for m in page["messages"]})
                    if not page["has_more"]:
                        break
                    before = page["messages"][0]["index"]
                for index, body in acked.items():
                    self.assertEqual(got.get(index), body)
                self.assertEqual(sorted(got), list(range(1, len(got) + 1)))
                c.close()


class BadInput(RoomsTestCase):
    def assert_error(self, client, code, msg=None, raw=None, binary=False):
        if binary:
            client.ws.send_frame(OP_BINARY, b"\x00\x01")
            reply = client.wait_for("error")
        elif raw is not None:
            client.ws.send_text(raw)
            reply = client.wait_for("error")
        else:
            reply = client.request(msg.pop("type"), **msg)
        self.assertEqual(reply["type"], "error", reply)
        self.assertEqual(reply["code"], code, reply)
        self.assertTrue(reply["message"])
        # The connection carries on.
        self.assertEqual(client.request("ping")["type"], "pong")
        return reply

    def test_every_bad_input_gets_its_error(self):
        self.create_room(UniqueName="bad")
        done = self.create_room(UniqueName="over")
        self.rest("POST", f"/v1/Rooms/{done['sid']}", {"Status": "completed"},
                  200)
        peer, _ = self.join("peer", "bad")
        c = self.connect()
        good = self.token("pat", "bad")

        self.assert_error(c, "malformed_json", raw='{"type": ')
        self.assert_error(c, "bad_message", raw="[1, 2]")
        self.assert_error(c, "invalid_field", raw='{"id": "x"}')
        self.assert_error(c, "invalid_field", raw='{"type": 5}')
        self.assert_error(c, "invalid_field", raw='{"type": "ping", "id": 7}')
        self.assert_error(c, "unknown_type", {"type": "teleport"})
        self.assert_error(c, "bad_message", binary=True)
        self.assert_error(c, "not_joined", {"type": "chat_send", "body": "x"})
        self.assert_error(c, "invalid_field", {"type": "join"})
        self.assert_error(c, "invalid_field", {"type": "join", "token": 42})
        forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
        r = self.assert_error(c, "invalid_token",
                              {"type": "join", "token": forged})
        self.assertIn("bad_signature", r["message"])
        now = int(time.time())
        expired = jwt_encode({
            "jti": f"{self.auth[0]}-{now}", "iss": self.auth[0],
            "sub": read_credentials(self.srv.data_dir)["account_sid"],
            "iat": now - 7200, "exp": now - 3600,
            "grants": {"identity": "pat", "video": {"room": "bad"}}},
            self.secret)
        r = self.assert_error(c, "invalid_token",
                              {"type": "join", "token": expired})
        self.assertIn("expired", r["message"])
        self.assert_error(c, "room_not_granted",
                          {"type": "join", "token": self.token("pat", "elsewhere"),
                           "room": "bad"})
        # A token for another room does not tell whether a room exists.
        self.assert_error(c, "room_not_granted",
                          {"type": "join", "token": self.token("pat", "bad"),
                           "room": "no-such-room"})
        self.assert_error(c, "room_not_found",
                          {"type": "join", "token": self.token("pat", "nope")})
        self.assert_error(c, "room_completed",
                          {"type": "join", "token": self.token("pat", None),
                           "room": done["sid"]})
        self.assert_error(c, "room_completed",
                          {"type": "join", "token": self.token("pat", "over")})

        # After all that, a valid join works on the same connection.
        self.assertEqual(c.join(good)["type"], "joined")
        self.assert_error(c, "already_joined", {"type": "join", "token": good})
        self.assert_error(c, "invalid_field", {"type": "chat_send"})
        self.assert_error(c, "invalid_field",
                          {"type": "chat_send", "body": "x" * 4097})
        self.assert_error(c, "invalid_field",
                          {"type": "chat_send", "body": "x",
                           "attributes": [1]})
        self.assert_error(c, "invalid_field",
                          {"type": "chat_history", "limit": 0})
        self.assert_error(c, "invalid_field",
                          {"type": "track_publish", "name": "m",
                           "kind": "smell"})
        self.assert_error(c, "invalid_field",
                          {"type": "track_update", "track_sid": "MTx"})
        self.assert_error(c, "not_found",
                          {"type": "track_update", "track_sid": "MTx",
                           "enabled": False})
        self.assert_error(c, "not_host",
                          {"type": "remove", "participant_sid": "PAx"})
        # Valid requests still work, for this participant and the other.
        self.assertEqual(c.request("chat_send", body="still here")["type"],
                         "chat_sent")
        self.assertEqual(peer.wait_for("chat_message")["message"]["body"],
                         "still here")

    def test_oversize_frame_closes_with_1009(self):
        self.create_room(UniqueName="big")
        peer, _ = self.join("peer", "big")
        c, _ = self.join("pat", "big")
        c.ws.send_frame(OP_TEXT, json.dumps(
            {"type": "chat_send", "body": "x" * (65 * 1024)}).encode())
        self.assertEqual(c.ws.wait_closed()[0], 1009)
        # The server and the other participant carry on.
        self.assertEqual(peer.request("chat_send", body="ok")["type"],
                         "chat_sent")
        d, _ = self.join("pat", "big")
        self.assertEqual(d.request("ping")["type"], "pong")
        # Far beyond the limit the server stops reading and drops the
        # connection; it still carries on.
        try:
            d.ws.send_frame(OP_TEXT, b"x" * (2 * 1024 * 1024))
        except OSError:
            pass  # the server may hang up before all of it is written
        self.assertIn(d.ws.wait_closed()[0], (1006, 1009))
        self.assertEqual(peer.request("ping")["type"], "pong")

    def test_sdp_messages_may_exceed_64_kib(self):
        # A subscriber in a large room answers ~100 m-lines: more than
        # 64 KiB.  Such a message is read (here refused for what it says,
        # not for its size); other messages that large still close.
        self.create_room(UniqueName="bigsdp")
        c, _ = self.join("pat", "bigsdp")
        reply = c.request("subscribe_answer", revision=1,
                          sdp="v=0\r\n" + "a=x\r\n" * (30 * 1024))
        self.assertEqual(reply["type"], "error")
        self.assertNotIn("64 KiB", reply.get("message", ""))
        self.assertEqual(c.request("ping")["type"], "pong")
        c.ws.send_frame(OP_TEXT, json.dumps(
            {"type": "chat_send", "body": "x" * (100 * 1024)}).encode())
        self.assertEqual(c.ws.wait_closed()[0], 1009)

    def test_a_fragmented_message_is_reassembled(self):
        self.create_room(UniqueName="frag")
        c, _ = self.join("pat", "frag")
        text = json.dumps({"type": "ping", "id": "f"}).encode()
        c.ws.send_frame(OP_TEXT, text[:5], fin=False)
        c.ws.send_frame(0, text[5:])
        self.assertEqual(c.wait_for("pong")["id"], "f")


if __name__ == "__main__":
    unittest.main(verbosity=2)
