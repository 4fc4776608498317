"""Getting into a visit one was not invited to, against a real hq-server
started as the README starts it (no configuration).  Suite `security`.

- POST /token is closed by default: it needs the passcode the server made
  on first start, and never gives a token without a room;
- a guest from /token cannot take (or pose as) another participant's
  identity: what it types is only its display name;
- removal sticks: a participant removed by a host, disconnected by REST or
  denied in the lobby cannot join again with the same token or identity
  until a host admits it again, and the ban survives a restart and is in
  the audit log.
"""
import base64
import json
import os
import tempfile
import unittest

from hqtest import Server, read_credentials
from hqws import Closed, Signal


def claims_of(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


class Access(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="hq-access-")
        self.data = os.path.join(self.tmp.name, "data")
        self.srv = Server(data_dir=self.data).__enter__()
        self.read_creds()
        self.clients = []

    def read_creds(self):
        creds = read_credentials(self.data)
        self.auth = (creds["key_sid"], creds["key_secret"])
        self.passcode = creds.get("passcode", "")

    def tearDown(self):
        for c in self.clients:
            c.ws.sock.close()
        self.srv.__exit__(None, None, None)
        self.tmp.cleanup()

    # --- helpers ---

    def rest(self, method, path, body=None, status=None):
        r = self.srv.request(method, path, body, auth=self.auth)
        if status is not None:
            self.assertEqual(r.status, status, r.body)
        return r

    def token(self, identity, room, role="guest"):
        """A token from the back-end's endpoint (API key)."""
        return self.rest("POST", "/v1/AccessTokens", {
            "Identity": identity, "Room": room, "Role": role},
            201).json()["token"]

    def guest_token(self, name, room, **fields):
        r = self.srv.request("POST", "/token", {
            "user_identity": name, "room_name": room,
            "passcode": self.passcode, **fields})
        self.assertEqual(r.status, 200, r.body)
        return r.json()["token"]

    def connect(self):
        c = Signal(self.srv.url)
        self.clients.append(c)
        return c

    def join(self, token, expect="joined"):
        c = self.connect()
        reply = c.join(token)
        self.assertEqual(reply["type"], expect, reply)
        return c, reply

    def assert_banned(self, token):
        c = self.connect()
        try:
            reply = c.join(token)
        except Closed as e:
            self.fail(f"join closed ({e.code}) instead of a banned error")
        self.assertEqual((reply["type"], reply.get("code")),
                         ("error", "banned"), reply)
        self.assertIn("admit", reply["message"])

    def events(self, room_sid):
        return self.rest("GET", f"/v1/Rooms/{room_sid}/Events?PageSize=1000",
                         status=200).json()["events"]

    # --- POST /token ---

    def test_token_needs_the_passcode(self):
        body = {"user_identity": "patient", "room_name": "consult-1"}
        r = self.srv.request("POST", "/token", body)
        self.assertEqual(r.status, 401, r.body)
        self.assertEqual(r.json()["error"]["message"], "passcode required")
        self.assertIn("passcode", r.json()["error"]["explanation"])
        r = self.srv.request("POST", "/token", {**body, "passcode": "0000"})
        self.assertEqual((r.status, r.json()["error"]["message"]),
                         (401, "passcode incorrect"))
        # The passcode the server made is printed at first start, with
        # the development key.
        self.assertTrue(any(self.passcode in line
                            for line in self.srv.stdout_lines
                            if "passcode" in line), self.srv.stdout_lines)
        # With it: a guest token for that one room.
        claims = claims_of(self.guest_token("patient", "consult-1"))
        self.assertEqual(claims["grants"]["video"]["room"], "consult-1")
        self.assertNotIn("role", claims["grants"]["video"])

    def test_no_token_without_a_room(self):
        r = self.srv.request("POST", "/token", {
            "user_identity": "p", "create_room": False,
            "passcode": self.passcode})
        self.assertEqual(r.status, 400, r.body)
        self.assertEqual(r.json()["error"]["message"], "missing room_name")

    def test_guest_cannot_take_a_hosts_identity(self):
        self.rest("POST", "/v1/Rooms", {"UniqueName": "consult-2"}, 201)
        doctor, _ = self.join(self.token("dr-ana", "consult-2", "host"))
        guest, joined = self.join(self.guest_token("dr-ana", "consult-2"))
        me = joined["participant"]
        self.assertNotEqual(me["identity"], "dr-ana")
        self.assertEqual((me["name"], me["role"]), ("dr-ana", "guest"))
        # The doctor is still there, told of a guest called dr-ana with an
        # identity of its own, and still answered.
        seen = doctor.wait_for("participant_connected")["participant"]
        self.assertEqual((seen["identity"], seen["name"]),
                         (me["identity"], "dr-ana"))
        self.assertEqual(doctor.request("ping")["type"], "pong")
        present = self.rest("GET", "/v1/Rooms/consult-2/Participants"
                            "?Status=connected", status=200).json()
        self.assertEqual(sorted(p["identity"] for p in
                                present["participants"]),
                         sorted(["dr-ana", me["identity"]]))

    # --- removal sticks ---

    def test_removed_by_host_stays_out_until_admitted_again(self):
        room = self.rest("POST", "/v1/Rooms", {"UniqueName": "rm"},
                         201).json()
        host, _ = self.join(self.token("dr", "rm", "host"))
        tok = self.token("pat", "rm")
        guest, jg = self.join(tok)
        r = host.request("remove", participant_sid=jg["participant"]["sid"])
        self.assertEqual(r["type"], "ok", r)
        self.assertEqual(guest.ws.wait_closed()[0], 4001)
        self.assert_banned(tok)
        self.assert_banned(self.token("pat", "rm"))
        # Hosts are told whom they may admit again.
        _, jh2 = self.join(self.token("nurse", "rm", "host"))
        self.assertEqual([(b["identity"], b["reason"]) for b in jh2["banned"]],
                         [("pat", "removed")])
        # A host admits the identity again: it may join.
        r = host.request("admit", identity="pat")
        self.assertEqual(r["type"], "ok", r)
        self.join(tok)
        names = [e["event"] for e in self.events(room["sid"])]
        for event in ("participant-banned", "join-refused",
                      "participant-unbanned"):
            self.assertIn(event, names)

    def test_disconnected_by_rest_stays_out_until_the_ban_is_lifted(self):
        room = self.rest("POST", "/v1/Rooms", {"UniqueName": "kick"},
                         201).json()
        tok = self.token("pat", "kick")
        guest, jg = self.join(tok)
        self.rest("POST", f"/v1/Rooms/{room['sid']}/Participants/"
                  f"{jg['participant']['sid']}",
                  {"Status": "disconnected"}, 200)
        self.assertEqual(guest.ws.wait_closed()[0], 4001)
        self.assert_banned(tok)
        self.assert_banned(self.token("pat", "kick"))
        bans = self.rest("GET", f"/v1/Rooms/{room['sid']}/Bans",
                         status=200).json()["bans"]
        self.assertEqual([(b["identity"], b["reason"]) for b in bans],
                         [("pat", "kicked")])
        # A host is not needed here: the back-end lifts the ban.
        self.rest("DELETE", f"/v1/Rooms/{room['sid']}/Bans/pat", status=204)
        self.join(tok)

    def test_denied_in_the_lobby_stays_out_until_admitted_again(self):
        self.rest("POST", "/v1/Rooms", {"UniqueName": "lobby",
                                        "WaitingRoom": True}, 201)
        host, _ = self.join(self.token("dr", "lobby", "host"))
        tok = self.token("pat", "lobby")
        guest, waiting = self.join(tok, expect="waiting")
        r = host.request("deny", participant_sid=waiting["participant_sid"])
        self.assertEqual(r["type"], "ok", r)
        self.assertEqual(guest.ws.wait_closed()[0], 4003)
        self.assert_banned(tok)
        self.assert_banned(self.token("pat", "lobby"))
        self.assertEqual(host.request("admit", identity="pat")["type"], "ok")
        # Back in the lobby, where the host decides again.
        self.join(tok, expect="waiting")

    def test_ban_survives_a_restart_and_is_audited(self):
        room = self.rest("POST", "/v1/Rooms", {"UniqueName": "again"},
                         201).json()
        host, jh = self.join(self.token("dr", "again", "host"))
        tok = self.token("pat", "again")
        guest, jg = self.join(tok)
        host.request("remove", participant_sid=jg["participant"]["sid"])
        self.assertEqual(guest.ws.wait_closed()[0], 4001)
        self.srv.__exit__(None, None, None)
        self.srv = Server(data_dir=self.data).__enter__()
        self.read_creds()
        self.assert_banned(tok)
        audit = self.events(room["sid"])
        banned = [e for e in audit if e["event"] == "participant-banned"]
        self.assertEqual(len(banned), 1, audit)
        self.assertEqual((banned[0]["participant_identity"], banned[0]["actor_sid"]),
                         ("pat", jh["participant"]["sid"]))
        refused = [e for e in audit if e["event"] == "join-refused"]
        self.assertEqual([e["participant_identity"] for e in refused], ["pat"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
