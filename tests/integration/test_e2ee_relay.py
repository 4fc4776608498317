"""The server's relay of end-to-end key messages (docs/protocol.md,
"End-to-end key messages"; docs/e2ee.md): e2ee_send to one participant or
to everyone else, as e2ee_message with the sender's sid and identity,
never read; unknown targets and oversize messages refused in words;
a room whose participants exchanged keys cannot be composed.  With raw
WebSocket clients, so it runs in the sanitizer build too.  Suite `e2ee`.
"""
import unittest

from hqtest import Server
from hqws import Signal


class E2eeRelay(unittest.TestCase):
    def setUp(self):
        self.srv = Server().__enter__()
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()
        self.srv.__exit__(None, None, None)

    def join(self, identity, room):
        s = Signal(self.srv.url)
        self.clients.append(s)
        reply = s.join(self.srv.access_token(identity, room, "guest"), room=room)
        self.assertEqual(reply["type"], "joined", reply)
        return s, reply["participant"]["sid"]

    def test_relayed_to_one_or_everyone_and_refused_in_words(self):
        self.srv.create_room("keys", Type="group")
        ana, ana_sid = self.join("ana", "keys")
        ben, ben_sid = self.join("ben", "keys")
        cat, _ = self.join("cat", "keys")

        ana.send({"type": "e2ee_send", "data": "key1 opaque hello"})
        for who in (ben, cat):
            self.assertEqual(who.wait_for("e2ee_message"), {
                "type": "e2ee_message", "from": ana_sid, "identity": "ana",
                "data": "key1 opaque hello"})
        ben.send({"type": "e2ee_send", "to": ana_sid, "data": "epoch1 for ana"})
        got = ana.wait_for("e2ee_message")
        self.assertEqual((got["from"], got["identity"], got["data"]),
                         (ben_sid, "ben", "epoch1 for ana"))
        # Nobody else got it, nor an echo of their own.
        for who in (ana, ben, cat):
            self.assertEqual(who.request("ping")["type"], "pong")
        self.assertFalse([m for m in cat.events if m["type"] == "e2ee_message"])
        self.assertFalse([m for m in ben.events if m["type"] == "e2ee_message"])

        refused = ana.request("e2ee_send", to="PA" + "0" * 32, data="x")
        self.assertEqual(refused["code"], "not_found")
        self.assertIn("No other participant", refused["message"])
        refused = ana.request("e2ee_send", to=ana_sid, data="x")
        self.assertEqual(refused["code"], "not_found")
        refused = ana.request("e2ee_send", data="x" * 4097)
        self.assertEqual(refused["code"], "message_too_big")
        self.assertEqual(refused["message"], "An e2ee_send message carries at most 4096 bytes "
                         "of data; nobody received it.")
        self.assertEqual(ana.request("e2ee_send", data=7)["code"], "invalid_field")
        self.assertEqual(ben.request("ping")["type"], "pong")
        self.assertFalse([m for m in ben.events if m["type"] == "e2ee_message"])

    def test_encrypted_room_not_composed(self):
        room = self.srv.create_room("sealed", Type="group")
        ana, _ = self.join("ana", "sealed")
        ben, _ = self.join("ben", "sealed")
        ana.send({"type": "e2ee_send", "data": "key1 opaque hello"})
        ben.wait_for("e2ee_message")
        ana.close()
        ben.close()
        self.clients.clear()
        sid = room["sid"]
        creds = self.srv.credentials()
        auth = (creds["key_sid"], creds["key_secret"])
        r = self.srv.request("POST", f"/v1/Rooms/{sid}", {"Status": "completed"}, auth=auth)
        self.assertEqual(r.status, 200, r.body)
        r = self.srv.request("POST", "/v1/Compositions",
                             {"RoomSid": sid, "AudioSources": "*"}, auth=auth)
        self.assertEqual(r.status, 400, r.body)
        self.assertIn(f"Room {sid} was end-to-end encrypted: the server cannot decode "
                      "its media to compose it.", r.json()["message"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
