"""The protocol's additions for the SDK's extensions and the web app
(docs/protocol.md: Recording, Data tracks in group rooms, Track priority,
deny/remove reasons, room_complete), with raw WebSocket clients against a
real hq-server, so that the server's side of them also runs in the
sanitizer build (the browser test, sdk-extensions, runs in the normal
build only).  Suite `rooms`.
"""
import base64
import unittest

from hqtest import Server
from hqws import Closed, Signal


class ProtocolExtensions(unittest.TestCase):
    def setUp(self):
        self.srv = Server().__enter__()
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()
        self.srv.__exit__(None, None, None)

    def join(self, identity, room, role="guest", expect="joined"):
        s = Signal(self.srv.url)
        self.clients.append(s)
        reply = s.join(self.srv.access_token(identity, room, role), room=room)
        self.assertEqual(reply["type"], expect, reply)
        return s, reply

    def closed_with(self, s):
        with self.assertRaises(Closed) as ctx:
            while True:
                s.wait_for("never", timeout=30)
        return ctx.exception.code

    def test_data_messages_relayed_in_order_with_limits(self):
        self.srv.create_room("data", Type="group")
        ana, joined = self.join("ana", "data")
        ben, _ = self.join("ben", "data")
        track = ana.request("track_publish", name="chat", kind="data")["track"]
        audio = ana.request("track_publish", name="mic", kind="audio")["track"]
        ben.wait_for("track_published", lambda m: m["track"]["sid"] == track["sid"])

        ana.send({"type": "data_send", "track_sid": track["sid"], "data": "héllo"})
        blob = bytes(range(256)) * 64  # 16384 bytes: the limit
        ana.send({"type": "data_send", "track_sid": track["sid"],
                  "data": base64.b64encode(blob).decode(), "binary": True})
        got = ben.wait_for("data_message")
        self.assertEqual(got, {"type": "data_message", "participant_sid": joined["participant"]["sid"],
                               "track_sid": track["sid"], "data": "héllo"})
        got = ben.wait_for("data_message")
        self.assertTrue(got["binary"])
        self.assertEqual(base64.b64decode(got["data"]), blob)

        refused = ana.request("data_send", track_sid=track["sid"],
                              data=base64.b64encode(blob + b"x").decode(), binary=True)
        self.assertEqual(refused["code"], "message_too_big")
        self.assertEqual(refused["message"], "A data track message carries at most 16384 bytes; "
                         "this one has 16385. Nobody received it.")
        self.assertEqual(ana.request("data_send", track_sid=track["sid"], data="a?b=",
                                     binary=True)["code"], "invalid_field")
        wrong = ana.request("data_send", track_sid=audio["sid"], data="x")
        self.assertEqual(wrong["message"], f"Track {audio['sid']} is not a published data track.")
        self.assertEqual(ben.request("data_send", track_sid=track["sid"], data="x")["code"], "not_found")
        # None of those reached ben: the next message it gets is this one.
        ana.send({"type": "data_send", "track_sid": track["sid"], "data": "after"})
        self.assertEqual(ben.wait_for("data_message")["data"], "after")

        # A subscriber whose rules leave data out gets none.
        self.assertEqual(ben.request("subscribe_rules", rules=[{"type": "include", "kind": "video"}])["type"],
                         "subscribe_rules")
        ana.send({"type": "data_send", "track_sid": track["sid"], "data": "not for ben"})
        self.assertEqual(ana.request("ping")["type"], "pong")
        self.assertEqual(ben.request("ping")["type"], "pong")
        self.assertFalse([m for m in ben.events if m["type"] == "data_message"])

        # Peer-to-peer rooms carry data on data channels.
        self.srv.create_room("p2p", Type="peer-to-peer")
        cat, _ = self.join("cat", "p2p")
        t = cat.request("track_publish", name="d", kind="data")["track"]
        self.assertEqual(cat.request("data_send", track_sid=t["sid"], data="x")["code"], "invalid_field")

    def test_subscriber_priority(self):
        self.srv.create_room("prio", Type="group")
        ana, _ = self.join("ana", "prio")
        ben, _ = self.join("ben", "prio")
        video = ana.request("track_publish", name="cam", kind="video")["track"]
        own = ben.request("track_publish", name="cam", kind="video")["track"]
        self.assertEqual(ben.request("subscribe_priority", track_sid=video["sid"], priority="high")["type"], "ok")
        self.assertEqual(ben.request("subscribe_priority", track_sid=video["sid"], priority=None)["type"], "ok")
        bad = ben.request("subscribe_priority", track_sid=video["sid"], priority="urgent")
        self.assertEqual(bad["code"], "invalid_field")
        self.assertEqual(ben.request("subscribe_priority", track_sid=own["sid"], priority="low")["code"],
                         "not_found")
        # Nobody else is told.
        self.assertEqual(ana.request("ping")["type"], "pong")
        self.assertFalse([m for m in ana.events if "priority" in m["type"]])

    def test_deny_and_remove_with_reasons(self):
        self.srv.create_room("lobby", Type="group", WaitingRoom="true")
        dr, _ = self.join("dr", "lobby", role="host")
        pat, _ = self.join("pat", "lobby", expect="waiting")
        fam, _ = self.join("fam", "lobby", expect="waiting")
        lobby = dr.wait_for("lobby_changed", lambda m: len(m["waiting"]) == 2)["waiting"]
        sids = {w["identity"]: w["sid"] for w in lobby}
        too_long = dr.request("deny", participant_sid=sids["pat"], reason="x" * 257)
        self.assertEqual(too_long["message"], "reason must be 1 to 256 bytes, not 257.")
        self.assertEqual(dr.request("deny", participant_sid=sids["pat"], reason="Wrong day.")["type"], "ok")
        denied = pat.wait_for("denied")
        self.assertEqual(denied["message"], "A host declined to admit you to this room: Wrong day.")
        self.assertEqual(denied["reason"], "Wrong day.")
        self.assertEqual(self.closed_with(pat), 4003)

        self.assertEqual(dr.request("admit", participant_sid=sids["fam"])["type"], "ok")
        fam.wait_for("joined")
        self.assertEqual(dr.request("remove", participant_sid=sids["fam"], reason="Wrong visit.")["type"], "ok")
        removed = fam.wait_for("removed")
        self.assertEqual(removed["message"], "A host removed you from this room: Wrong visit.")
        self.assertEqual(removed["by"]["identity"], "dr")
        self.assertEqual(self.closed_with(fam), 4001)

    def test_recording_requests_and_room_complete(self):
        self.srv.create_room("rec", Type="group")
        dr, joined = self.join("dr", "rec", role="host")
        self.assertIsNone(joined["recording"])
        pat, _ = self.join("pat", "rec")
        refused = pat.request("recording_start")
        self.assertEqual((refused["code"], refused["message"]),
                         ("not_host", "Only a host may start or stop recording."))
        started = dr.request("recording_start")
        self.assertEqual(started["type"], "recording_rules")
        self.assertEqual(started["rules"], [{"type": "include", "all": True}])
        # The same rules as REST shows them.
        creds = self.srv.credentials()
        rest = self.srv.request("GET", f"/v1/Rooms/{started['room_sid']}/RecordingRules",
                                auth=(creds["key_sid"], creds["key_secret"])).json()
        self.assertEqual(rest["rules"], started["rules"])
        bad = dr.request("recording_start", rules=[{"type": "include", "kind": "data"}])
        self.assertEqual(bad["code"], "invalid_field")
        self.assertEqual(dr.request("recording_stop")["rules"], [])

        self.assertEqual(pat.request("room_complete")["code"], "not_host")
        self.assertEqual(dr.request("room_complete")["type"], "ok")
        for s in (dr, pat):
            self.assertEqual(s.wait_for("room_completed")["reason"], "completed_by_host")
            self.assertEqual(self.closed_with(s), 4004)

        self.srv.create_room("p2p", Type="peer-to-peer")
        host, _ = self.join("host", "p2p", role="host")
        self.assertEqual(host.request("recording_start")["code"], "invalid_field")


if __name__ == "__main__":
    unittest.main()
