"""Hostile signalling messages cannot crash the server (issue 14, points 1
and 2).  Suite `security`, test `security-parse`.

Each case sends what an outsider (before `join`) or a participant (after)
can send, then checks what a user would: the sender got an `error` with
code `invalid_field` (or `malformed_json`, or its connection was closed
with 1009, as docs/protocol.md says), the server still answers /healthz,
and another participant who joined before it still has a working session
(a ping is answered and a chat message reaches the sender's room).
"""
import json
import unittest

from hqws import Closed, WsClient
from test_rooms import RoomsTestCase

WAIT = 30  # seconds, for any one answer

# One wrong value of each JSON type, per the type a field expects.
WRONG = {
    "string": [1, 1.5, True, {}, ["x"]],
    "int": ["3", 1.5, True, {}, []],
    "bool": [1, "true", {}, []],
    "object": ["x", 1, [], True],
    "array": ["x", 1, {}, True],
}

# Every request a joined participant can send in a group room, with a
# valid base message and the type each field must have.
GROUP_MESSAGES = [
    ("chat_send", {"body": "hi"}, {"body": "string", "attributes": "object"}),
    ("chat_history", {}, {"before": "int", "limit": "int"}),
    ("track_publish", {"name": "cam", "kind": "video"},
     {"name": "string", "kind": "string", "enabled": "bool",
      "priority": "string"}),
    ("track_unpublish", {"track_sid": "MT0"}, {"track_sid": "string"}),
    ("track_update", {"track_sid": "MT0", "enabled": True},
     {"track_sid": "string", "enabled": "bool", "priority": "string"}),
    ("admit", {"participant_sid": "PA0"}, {"participant_sid": "string"}),
    ("deny", {"participant_sid": "PA0"}, {"participant_sid": "string"}),
    ("remove", {"participant_sid": "PA0"}, {"participant_sid": "string"}),
    ("mute", {"participant_sid": "PA0", "track_sid": "MT0"},
     {"participant_sid": "string", "track_sid": "string"}),
    ("publish_offer", {"sdp": "v=0\r\n"}, {"sdp": "string", "tracks": "array"}),
    ("subscribe_answer", {"sdp": "v=0\r\n", "revision": 1},
     {"sdp": "string", "revision": "int"}),
    ("candidate", {"transport": "publish", "candidate": "candidate:1"},
     {"transport": "string", "candidate": "string"}),
    ("end_of_candidates", {"transport": "publish"}, {"transport": "string"}),
    ("network_quality_configure", {"local": 1, "remote": 1},
     {"local": "int", "remote": "int"}),
    ("subscribe_rules", {"rules": []}, {"rules": "array"}),
    ("ice_restart", {"transport": "subscribe"}, {"transport": "string"}),
    ("e2ee_send", {"data": "key1"}, {"to": "string", "data": "string"}),
]

# The relay messages of peer-to-peer rooms.
P2P_MESSAGES = [
    ("peer_offer", {"to": "PA0", "sdp": "v=0"}, {"to": "string",
                                                  "sdp": "string"}),
    ("peer_answer", {"to": "PA0", "sdp": "v=0"}, {"to": "string",
                                                   "sdp": "string"}),
    ("peer_candidate", {"to": "PA0", "candidate": "c"},
     {"to": "string", "candidate": "string"}),
]


class ParseTest(RoomsTestCase):
    def setUp(self):
        super().setUp()
        self.create_room(UniqueName="visit", Type="group")
        # The bystander: joined before any attack, checked after each.
        self.bystander, _ = self.join("bystander", "visit", role="host")

    def assert_server_fine(self):
        """/healthz answers and the bystander's session works."""
        self.assertIsNone(self.srv.proc.poll(),
                          "hq-server died:\n" + self.srv.stderr_text()[-3000:])
        self.assertEqual(self.srv.request("GET", "/healthz").status, 200)
        self.assertEqual(self.bystander.request("ping", timeout=WAIT)["type"],
                         "pong")
        reply = self.bystander.request("chat_send", body="still here",
                                       timeout=WAIT)
        self.assertEqual(reply["type"], "chat_sent", reply)

    def raw(self):
        """A connection that has not joined, for frames Signal cannot send."""
        ws = WsClient(self.srv.url.replace("http://", "ws://") + "/v1/signal")
        self.clients.append(type("C", (), {"ws": ws})())
        return ws

    def assert_error(self, reply, code, field):
        self.assertEqual(reply["type"], "error", reply)
        self.assertEqual(reply["code"], code, reply)
        self.assertIn(field, reply["message"], reply)

    # --- before join ---

    def test_deep_nesting_before_join(self):
        """80,000 nested [ (80 KB) and 60,000 (under 64 KiB)."""
        ws = self.raw()
        ws.send_text("[" * 80000)
        code, reason = ws.wait_closed(WAIT)
        self.assertEqual(code, 1009, reason)
        self.assert_server_fine()

        ws = self.raw()
        ws.send_text("[" * 60000)
        reply = json.loads(ws.recv(WAIT))
        self.assert_error(reply, "malformed_json", "nested")
        # The connection stays usable.
        ws.send_text(json.dumps({"type": "ping", "id": "p"}))
        self.assertEqual(json.loads(ws.recv(WAIT))["type"], "pong")
        self.assert_server_fine()

    def test_deep_nesting_behind_a_comment_or_single_quote(self):
        """json-glib reads /* comments */ and 'strings' as JSON does not: a
        quote hidden in them must not hide brackets from the depth limit."""
        guest, _ = self.join("guest", "visit")
        for head in ('{"type":"publish_offer","x":/*"*/',
                     '{"type":"publish_offer","x":\'"\',"sdp":'):
            with self.subTest(head=head):
                guest.ws.send_text(head + "[" * 200000)
                self.assert_error(guest.wait_for("error", timeout=WAIT),
                                  "malformed_json", "JSON")
                self.assertEqual(guest.request("ping", timeout=WAIT)["type"],
                                 "pong")
        self.assert_server_fine()

    def test_deep_nesting_inside_a_string_is_text(self):
        ws = self.raw()
        ws.send_text(json.dumps({"type": "ping", "id": "p",
                                 "pad": "[" * 60000}))
        self.assertEqual(json.loads(ws.recv(WAIT))["type"], "pong")

    def test_wrong_type_of_type_before_join(self):
        pad = "x" * 70000
        for value in (1, True, 1.5, None, {}, []):
            with self.subTest(type=value, size="70 KB"):
                ws = self.raw()
                ws.send_text(json.dumps({"type": value, "pad": pad}))
                code, reason = ws.wait_closed(WAIT)
                self.assertEqual(code, 1009, reason)
                self.assert_server_fine()
            with self.subTest(type=value, size="small"):
                ws = self.raw()
                ws.send_text(json.dumps({"type": value}))
                self.assert_error(json.loads(ws.recv(WAIT)), "invalid_field",
                                  "type")
                self.assert_server_fine()

    def test_large_sdp_message_before_join_is_refused_unread(self):
        """Only `join` is read before join: 64 KiB at most, whatever the
        type says."""
        ws = self.raw()
        ws.send_text(json.dumps({"type": "publish_offer",
                                 "sdp": "v=0\r\n" + "a=x\r\n" * 20000}))
        code, reason = ws.wait_closed(WAIT)
        self.assertEqual(code, 1009, reason)
        self.assert_server_fine()

    def test_join_fields_of_the_wrong_type(self):
        fields = {"token": "string", "room": "string",
                  "resume_token": "string", "subscribe_rules": "array",
                  "id": "string"}
        token = self.token("guest", "visit")
        for field, kind in fields.items():
            for value in WRONG[kind]:
                with self.subTest(field=field, value=value):
                    c = self.connect()
                    msg = {"type": "join", "token": token, field: value}
                    c.send(msg)
                    reply = c._next(WAIT)
                    self.assert_error(reply, "invalid_field", field)
                    c.close()
        self.assert_server_fine()

    def test_deep_nesting_in_rest_bodies(self):
        """The REST API reads JSON with the same bounds: a body, and a
        form field holding JSON (Rules), nested 65,000 deep (under the
        64 KiB body limit), with and without credentials."""
        deep = "[" * 65000
        for path, auth in (("/token", None), ("/v1/Rooms", self.auth),
                           ("/v1/AccessTokens", self.auth)):
            with self.subTest(path=path):
                r = self.srv.request("POST", path, deep, auth=auth,
                                     headers={"Content-Type":
                                              "application/json"})
                self.assertIn(r.status, (400, 401), r.body)
                self.assert_server_fine()
        room = self.rest("GET", "/v1/Rooms/visit", status=200).json()
        r = self.srv.request(
            "POST", f"/v1/Rooms/{room['sid']}/RecordingRules",
            "Rules=" + deep, auth=self.auth,
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 400, r.body)
        self.assertIn(b"nested", r.body)
        self.assert_server_fine()

    # --- after join ---

    def check_messages(self, client, messages):
        for type_, base, fields in messages:
            for field, kind in fields.items():
                for value in WRONG[kind]:
                    with self.subTest(type=type_, field=field, value=value):
                        reply = client.request(type_, timeout=WAIT,
                                               **{**base, field: value})
                        self.assert_error(reply, "invalid_field", field)
            with self.subTest(type=type_, field="id"):
                client.send({**base, "type": type_, "id": 7})
                reply = client.wait_for("error", timeout=WAIT)
                self.assert_error(reply, "invalid_field", "id")
        self.assert_server_fine()

    def test_candidate_transport_number(self):
        """The crash of the issue, on the SFU worker thread."""
        guest, _ = self.join("guest", "visit")
        reply = guest.request("candidate", transport=1,
                              candidate="candidate:1 1 UDP 1 127.0.0.1 9 typ "
                              "host", timeout=WAIT)
        self.assert_error(reply, "invalid_field", "transport")
        self.assert_server_fine()

    def test_every_group_message_with_wrong_types(self):
        guest, _ = self.join("guest", "visit")
        self.check_messages(guest, GROUP_MESSAGES)
        # The guest's own session still works too.
        self.assertEqual(guest.request("ping", timeout=WAIT)["type"], "pong")

    def test_ice_restart_requests(self):
        """ice_restart says in words what it cannot do (docs/protocol.md,
        "When a connection fails"); nobody else notices."""
        guest, _ = self.join("guest", "visit")
        reply = guest.request("ice_restart", transport="publish",
                              timeout=WAIT)
        self.assert_error(reply, "invalid_field", "publish_offer")
        reply = guest.request("ice_restart", transport="camera", timeout=WAIT)
        self.assert_error(reply, "invalid_field", "subscribe")
        # Nothing to receive yet: no subscribe connection to restart.
        reply = guest.request("ice_restart", transport="subscribe",
                              timeout=WAIT)
        self.assert_error(reply, "invalid_field", "no subscribe connection")
        self.assert_server_fine()

    def test_every_relay_message_with_wrong_types(self):
        self.create_room(UniqueName="p2p", Type="peer-to-peer")
        guest, _ = self.join("guest", "p2p")
        self.check_messages(guest, P2P_MESSAGES)

    def test_nested_fields_of_the_wrong_type(self):
        guest, _ = self.join("guest", "visit")
        for tracks in ([1], [{"mid": 1, "track_sid": "MT0"}],
                       [{"mid": "0", "track_sid": True}]):
            with self.subTest(tracks=tracks):
                reply = guest.request("publish_offer", timeout=WAIT,
                                      sdp="v=0\r\n", tracks=tracks)
                self.assertEqual(reply["type"], "error", reply)
                self.assertIn(reply["code"], ("invalid_field", "invalid_sdp"),
                              reply)
        for rules in ([1], [{"type": 1, "all": True}],
                      [{"type": {}, "all": True}],
                      [{"type": "include", "kind": ["audio"]}]):
            with self.subTest(rules=rules):
                reply = guest.request("subscribe_rules", rules=rules,
                                      timeout=WAIT)
                self.assert_error(reply, "invalid_field", "rules[0]")
        self.assert_server_fine()

    def test_null_is_absent(self):
        """null counts as an absent field, as docs/protocol.md says: a
        track_update with enabled null changes only the priority."""
        guest, _ = self.join("guest", "visit")
        track = guest.request("track_publish", name="cam", kind="video",
                              timeout=WAIT)["track"]
        reply = guest.request("track_update", track_sid=track["sid"],
                              enabled=None, priority="high", timeout=WAIT)
        self.assertEqual(reply["type"], "track_priority_changed", reply)
        self.assertEqual(reply["track"]["priority"], "high", reply)
        reply = guest.request("chat_send", body="x", attributes=None,
                              timeout=WAIT)
        self.assertEqual(reply["type"], "chat_sent", reply)
        self.assert_server_fine()

    def test_deep_and_large_messages_after_join(self):
        guest, _ = self.join("guest", "visit")
        # Too deep, under the SDP limit: refused before it is parsed.
        guest.ws.send_text('{"type":"publish_offer","sdp":' + "[" * 80000)
        self.assert_error(guest.wait_for("error", timeout=WAIT),
                          "malformed_json", "nested")
        self.assertEqual(guest.request("ping", timeout=WAIT)["type"], "pong")
        # Over 64 KiB with a type that carries no SDP: 1009.
        guest.send({"type": 1, "pad": "x" * 70000})
        try:
            while True:
                guest._next(WAIT)
        except Closed as e:
            self.assertEqual(e.code, 1009, e.reason)
        self.assert_server_fine()


if __name__ == "__main__":
    unittest.main()
