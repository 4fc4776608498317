"""The bandwidth_profile and track_hints requests and join's
bandwidth_profile field (docs/protocol.md, "Simulcast and bandwidth
profiles"), with raw WebSocket clients against a real hq-server: what is
answered, what is refused and with which words, in group and peer-to-peer
rooms.  The media side (layers, switch-off) is tests/check/server/
sfusimulcast.c.  Suite `simulcast`.
"""
import unittest

from hqtest import Server
from hqws import Signal


class BandwidthProfile(unittest.TestCase):
    def setUp(self):
        self.srv = Server().__enter__()
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()
        self.srv.__exit__(None, None, None)

    def join(self, identity, room, expect="joined", **fields):
        s = Signal(self.srv.url)
        self.clients.append(s)
        reply = s.join(self.srv.access_token(identity, room, "guest"),
                       room=room, **fields)
        self.assertEqual(reply["type"], expect, reply)
        return s, reply

    def test_profile_from_join_then_changed(self):
        self.srv.create_room("bw", Type="group")
        _, refused = self.join("ana", "bw", expect="error",
                               bandwidth_profile={"video": {"mode": "tiles"}})
        self.assertEqual(refused["code"], "invalid_field")
        self.assertEqual(refused["message"],
                         'bandwidth_profile.video.mode must be grid, collaboration or '
                         'presentation, not "tiles".')
        ana, _ = self.join("ana", "bw", bandwidth_profile={
            "video": {"mode": "grid", "max_subscription_bitrate": 1000000}})
        # an empty request changes nothing and says what is in effect
        reply = ana.request("bandwidth_profile")
        self.assertEqual(reply["type"], "bandwidth_profile", reply)
        self.assertEqual(reply["video"], {
            "mode": "grid", "dominant_speaker_priority": "standard",
            "max_subscription_bitrate": 1000000,
            "track_switch_off_mode": "predicted",
            "client_track_switch_off_control": "auto",
            "content_preferences_mode": "auto"})
        reply = ana.request("bandwidth_profile", video={
            "track_switch_off_mode": "disabled", "max_subscription_bitrate": 0})
        self.assertEqual(reply["video"]["mode"], "grid")
        self.assertEqual(reply["video"]["track_switch_off_mode"], "disabled")
        self.assertEqual(reply["video"]["max_subscription_bitrate"], 0)
        # a refused request changes nothing
        reply = ana.request("bandwidth_profile", video={
            "mode": "presentation", "max_subscription_bitrate": 10})
        self.assertEqual(reply["code"], "invalid_field")
        self.assertIn("video.max_subscription_bitrate", reply["message"])
        reply = ana.request("bandwidth_profile")
        self.assertEqual(reply["video"]["mode"], "grid")
        reply = ana.request("bandwidth_profile", video="grid")
        self.assertEqual(reply["code"], "invalid_field")

    def test_track_hints(self):
        self.srv.create_room("hints", Type="group")
        ana, _ = self.join("ana", "hints")
        ben, _ = self.join("ben", "hints")
        cam = ana.request("track_publish", name="cam", kind="video")["track"]
        ben.wait_for("track_published", lambda m: m["track"]["sid"] == cam["sid"])
        reply = ben.request("track_hints", hints=[
            {"track_sid": cam["sid"], "enabled": False},
            {"track_sid": cam["sid"], "render_dimensions": {"width": 320, "height": 180}},
            {"track_sid": cam["sid"], "render_dimensions": None}])
        self.assertEqual(reply["type"], "ok", reply)
        # its own track is no other participant's
        reply = ana.request("track_hints", hints=[{"track_sid": cam["sid"], "enabled": True}])
        self.assertEqual(reply["code"], "not_found")
        self.assertIn(cam["sid"], reply["message"])
        reply = ben.request("track_hints", hints=[
            {"track_sid": cam["sid"], "render_dimensions": {"width": 0, "height": 10}}])
        self.assertEqual(reply["code"], "invalid_field")
        self.assertEqual(reply["message"], "hints[0].render_dimensions.width must be a "
                                           "whole number from 1 to 16384.")
        reply = ben.request("track_hints", hints="all")
        self.assertEqual(reply["code"], "invalid_field")
        reply = ben.request("track_hints")
        self.assertEqual(reply["code"], "invalid_field")
        reply = ben.request("track_hints", hints=[{"track_sid": cam["sid"]}] * 101)
        self.assertEqual(reply["code"], "invalid_field")
        self.assertIn("at most 100", reply["message"])

    def test_peer_to_peer_room_refuses(self):
        self.srv.create_room("p2p", Type="peer-to-peer")
        # join's field is ignored there: the room carries no media to profile
        ana, _ = self.join("ana", "p2p", bandwidth_profile={"video": {"mode": "grid"}})
        reply = ana.request("bandwidth_profile", video={"mode": "grid"})
        self.assertEqual(reply["code"], "invalid_field")
        self.assertIn("peer to peer", reply["message"])
        reply = ana.request("track_hints", hints=[])
        self.assertEqual(reply["code"], "invalid_field")


if __name__ == "__main__":
    unittest.main()
