"""Simulcast from a GStreamer pipeline (issue 20, acceptance: "hqroomsink
with simulcast=true publishes three layers and hqroomsrc subscribers with
different preferences receive different layers"), against a real hq-server
on loopback, driven through gst-launch-1.0 processes as a user would run
them.

1. One hqroomsink simulcast=true publishes 1280x720 test video; two
   hqroomsrc subscribers render it at 320x180 and at 1280x720
   (render-width/render-height).  Each one's sink gets decoded frames of
   the size it asked for, both at the same time, and the server lists the
   three layers the publisher sends and which one each subscriber gets.
2. Adaptive simulcast: with only the small subscriber, the server tells
   the publisher that nobody receives the full-size layer, and the
   publisher stops it (its bus message, and nothing of that layer
   arrives at the server); when a large subscriber comes, the layer
   resumes and that subscriber decodes full-size frames.
3. max-subscription-bitrate: a subscriber that renders large but caps its
   video at 300 kbit/s gets the small layer.

Every wait is on an event (a line of output, a REST state), with a
generous deadline, never a fixed sleep.
"""
import os
import shutil
import signal
import tempfile
import time
import unittest

import hqtest
from gstgraph import playing, sink_caps, stop_graph
from test_room import DEADLINE, Launch, count, launch_env, make_room

# Decoded I420 frame sizes: width * height * 3 / 2.
SMALL = 320 * 180 * 3 // 2
LARGE = 1280 * 720 * 3 // 2


def frames(lines, name, size):
    """How many decoded frames of @size bytes fakesink @name got (-v
    prints a last-message per buffer)."""
    return count(lines, rf"GstFakeSink:{name}: last-message = chain .*"
                        rf"\({size} bytes,")


class Simulcast(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = hqtest.Server()
        cls.server.start()
        creds = hqtest.read_credentials(cls.server.data_dir)
        cls.key = (creds["key_sid"], creds["key_secret"])
        cls.env = launch_env(cls.server, creds)

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    def launch(self, pipeline, env=None):
        p = Launch(pipeline, dict(self.env, **(env or {})))
        self.addCleanup(p.stop)
        return p

    def publisher(self, room):
        make_room(self.server, self.key, room)
        pub = self.launch(
            f"hqroomsink name=s server={self.server.url} room={room} "
            "identity=camera simulcast=true "
            "videotestsrc is-live=true ! "
            "video/x-raw,width=1280,height=720,framerate=15/1 ! s.video_0")
        pub.wait_for(lambda l: count(l, r"hq-joined"), "the publisher to join")
        return pub

    def subscriber(self, room, identity, props):
        """A viewer whose gst-launch-1.0 draws its graphs into a folder of
        its own (for sink_widths)."""
        dots = tempfile.mkdtemp(prefix="hq-simulcast-dot-")
        self.addCleanup(shutil.rmtree, dots, True)
        sub = self.launch(
            f"hqroomsrc name=r server={self.server.url} room={room} "
            f"identity={identity} {props} "
            f"r. ! queue ! fakesink name={identity} silent=false",
            {"GST_DEBUG_DUMP_DOT_DIR": dots})
        sub.dots = dots
        return sub

    def sink_widths(self, *viewers):
        """For each (viewer, fakesink name, frame size, other size) in
        @viewers: once the sink has decoded frames of its size again
        (steady), all are stopped at once as a user does (Ctrl-C), none
        seeing another leave first, and the widths of the caps their sinks
        hold are read from the graphs gst-launch-1.0 draws as it stops
        (tests/common/gstgraph.py: not from -v's caps lines, which it can
        drop)."""
        for sub, name, size, other in viewers:
            sub.wait_for(lambda l: playing("\n".join(l)),
                         f"{name}'s pipeline to play")
            self.steady(sub, name, size, other, n=10)
        for sub, _, _, _ in viewers:
            sub.proc.send_signal(signal.SIGINT)
        widths = []
        for sub, name, _, _ in viewers:
            self.assertEqual(sub.wait_exit(), 0, "\n".join(sub.lines[-40:]))
            caps = sink_caps(stop_graph(sub.dots)).get(name)
            self.assertTrue(caps and caps["media"] == "video/x-raw",
                            f"{name} holds {caps}")
            widths.append(int(caps["width"]))
        return widths

    def rest(self, path):
        r = self.server.request("GET", path, auth=self.key)
        self.assertEqual(r.status, 200, f"{path}: {r.status} {r.body}")
        return r.json()

    def layers(self, room):
        """The layers of the camera's video track, as REST lists them."""
        tracks = self.rest(f"/v1/Rooms/{room}/Participants/camera/"
                           "PublishedTracks")["published_tracks"]
        video = [t for t in tracks if t.get("kind") == "video"]
        return video[0].get("layers") or [] if video else []

    def layer_of(self, room, identity):
        """The RID of the layer @identity receives of the camera's video."""
        tracks = self.rest(f"/v1/Rooms/{room}/Participants/{identity}/"
                           "SubscribedTracks")["subscribed_tracks"]
        video = [t for t in tracks if t.get("kind") == "video"]
        return video[0].get("layer") if video else None

    def wait_rest(self, what, cond):
        end = time.monotonic() + DEADLINE
        while True:
            value = cond()
            if value:
                return value
            if time.monotonic() > end:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.2)

    def wait_layer(self, room, identity, rid):
        """Waits until REST says @identity receives layer @rid (the
        server's view, refreshed as its statistics are)."""
        seen = []
        try:
            self.wait_rest(f"{identity} to receive layer {rid}", lambda: (
                seen.append(self.layer_of(room, identity)) or seen[-1] == rid))
        except AssertionError as e:
            raise AssertionError(f"{e}; REST said {seen[-5:]}") from None

    def steady(self, sub, name, size, other, n=20):
        """Waits until fakesink @name has decoded @n more frames of @size
        bytes, and checks that none of size @other came meanwhile."""
        sub.wait_for(lambda l: frames(l, name, size) >= 10,
                     f"{name} to decode frames of {size} bytes")
        before = (frames(sub.lines, name, size), frames(sub.lines, name, other))
        sub.wait_for(lambda l: frames(l, name, size) >= before[0] + n,
                     f"{n} more frames of {size} bytes at {name}")
        self.assertEqual(frames(sub.lines, name, other), before[1],
                         f"{name} decoded frames of {other} bytes too, "
                         "while it had its own layer")

    def test_1_subscribers_get_the_layer_of_their_size(self):
        self.publisher("sim1")
        small = self.subscriber("sim1", "small",
                                "render-width=320 render-height=180")
        large = self.subscriber("sim1", "large",
                                "render-width=1280 render-height=720")
        self.steady(small, "small", SMALL, LARGE)
        self.steady(large, "large", LARGE, SMALL)
        # The server saw three layers, and forwards each its own.
        layers = self.wait_rest(
            "three layers with their sizes at the server",
            lambda: (lambda ls: ls if len(ls) == 3 and all(
                l.get("width") for l in ls) else None)(self.layers("sim1")))
        self.assertEqual([l["rid"] for l in layers], ["q", "h", "f"], layers)
        self.assertEqual([(l["width"], l["height"]) for l in layers],
                         [(320, 180), (640, 360), (1280, 720)], layers)
        self.wait_layer("sim1", "small", "q")
        self.wait_layer("sim1", "large", "f")
        # What a user checks in the pipeline: the caps at each sink.
        self.assertEqual(self.sink_widths((small, "small", SMALL, LARGE),
                                          (large, "large", LARGE, SMALL)),
                         [320, 1280])

    def test_2_a_layer_nobody_receives_stops_and_resumes(self):
        pub = self.publisher("sim2")
        small = self.subscriber("sim2", "small",
                                "render-width=320 render-height=180")
        small.wait_for(lambda l: frames(l, "small", SMALL) >= 10,
                       "the small subscriber to decode small frames")
        paused = r"hq-publish-layers.*track-name=\(string\)video_0.*" \
                 r"f=\(boolean\)false"
        pub.wait_for(lambda l: count(l, paused),
                     "the publisher to pause its full-size layer")
        # Nothing of it arrives at the server any more.
        self.wait_rest("the full-size layer to stop arriving", lambda: [
            l for l in self.layers("sim2")
            if l["rid"] == "f" and l.get("bitrate_bps") == 0
            and l.get("active") is False])
        mark = len(pub.lines)
        large = self.subscriber("sim2", "large",
                                "render-width=1280 render-height=720")
        resumed = r"hq-publish-layers.*track-name=\(string\)video_0.*" \
                  r"f=\(boolean\)true"
        pub.wait_for(lambda l: count(l[mark:], resumed),
                     "the publisher to resume its full-size layer")
        self.steady(large, "large", LARGE, SMALL)
        self.wait_rest("the full-size layer to arrive again", lambda: [
            l for l in self.layers("sim2")
            if l["rid"] == "f" and l.get("bitrate_bps", 0) > 0])

    def test_3_max_subscription_bitrate_gets_the_small_layer(self):
        self.publisher("sim3")
        capped = self.subscriber(
            "sim3", "capped", "render-width=1280 render-height=720 "
            "max-subscription-bitrate=300000")
        self.steady(capped, "capped", SMALL, LARGE)
        self.wait_layer("sim3", "capped", "q")
        self.assertEqual(
            self.sink_widths((capped, "capped", SMALL, LARGE)), [320])


if __name__ == "__main__":
    unittest.main(verbosity=2)
