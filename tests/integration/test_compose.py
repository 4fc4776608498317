"""hq-compose places videos as a composition's VideoLayout says (libhq
hqlayout, the same as hqrecorder): real VP8 (and H.264) files in, a real
webm (or mp4) out, judged by the colours of its decoded pixels.  Its
decoders and encoders come from libhq's codec table (hqcodec).

A red and a blue camera are composed side by side on 320x120; the test
reads the middle of each half of a decoded frame."""

import os
import subprocess
import tempfile
import unittest

from test_recordings import tool_env

COMPOSE = os.environ.get("HQ_COMPOSE_BIN", "build/server/hq-compose")
WIDTH, HEIGHT = 320, 120


def make_video(path, pattern, h264=False):
    """One second of a solid colour, 160x120 VP8 (or H.264) in Matroska,
    as hqrecorder writes a track."""
    encoder = (["x264enc", "tune=zerolatency", "!", "h264parse"] if h264
               else ["vp8enc", "deadline=1"])
    subprocess.run(["gst-launch-1.0", "-q", "videotestsrc",
                    f"pattern={pattern}", "num-buffers=30", "!",
                    "video/x-raw,width=160,height=120,framerate=30/1", "!",
                    *encoder, "!", "matroskamux", "!",
                    "filesink", f"location={path}"],
                   check=True, timeout=60, env=tool_env())


def colour(rgb):
    r, g, b = rgb
    if r > 180 and g < 80 and b < 80:
        return "red"
    if b > 180 and r < 80 and g < 80:
        return "blue"
    if g > 180 and r < 80 and b < 80:
        return "green"
    if r < 40 and g < 40 and b < 40:
        return "black"
    return f"rgb{rgb}"


class ComposeTestCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.red = os.path.join(self.tmp.name, "red.mkv")
        self.blue = os.path.join(self.tmp.name, "blue.mkv")
        make_video(self.red, "red")
        make_video(self.blue, "blue")

    def tearDown(self):
        self.tmp.cleanup()

    def compose(self, *args, fmt="webm"):
        out = os.path.join(self.tmp.name, "out." + fmt)
        r = subprocess.run([COMPOSE, "--output", out, "--format", fmt,
                            "--resolution", f"{WIDTH}x{HEIGHT}", *args],
                           capture_output=True, text=True, timeout=120)
        return r, out

    def colours(self, path, points, frame=9):
        """The colours at @points (x, y) of decoded frame @frame (counted
        from 0; the tenth by default)."""
        raw = os.path.join(self.tmp.name, "out.rgb")
        subprocess.run(["gst-launch-1.0", "-q", "filesrc",
                        f"location={path}", "!", "decodebin", "!",
                        "videoconvert", "!", "video/x-raw,format=RGB", "!",
                        "filesink", f"location={raw}"],
                       check=True, timeout=60, env=tool_env())
        with open(raw, "rb") as f:
            data = f.read()
        size = WIDTH * HEIGHT * 3
        self.assertGreaterEqual(len(data), (frame + 1) * size)
        first = frame * size

        def at(x, y):
            i = first + (y * WIDTH + x) * 3
            return colour(tuple(data[i:i + 3]))
        return tuple(at(x, y) for x, y in points)

    def halves(self, path, frame=9):
        """The colours at the middle of the left and right halves."""
        return self.colours(path, [(WIDTH // 4, HEIGHT // 2),
                                   (3 * WIDTH // 4, HEIGHT // 2)], frame)

    def test_grid_follows_the_order(self):
        r, out = self.compose("--video", f"{self.blue}@0",
                              "--video", f"{self.red}@0")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.halves(out), ("blue", "red"))

    def test_regions_place_by_name(self):
        layout = ('{"left": {"x_pos": 0, "width": 160, '
                  '"video_sources": ["red-*"]}, '
                  '"right": {"x_pos": 160, "width": 160, '
                  '"video_sources": ["RTblue"]}}')
        r, out = self.compose("--layout", layout,
                              "--video", f"{self.blue}@0",
                              "--video", f"{self.red}@0",
                              "--video-names", '["cam", "MT1", "RTblue"]',
                              "--video-names", '["red-cam", "MT2", "RT2"]')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.halves(out), ("red", "blue"))

    def test_a_video_no_region_takes_is_left_out(self):
        # the red camera alone, over the whole frame: its 4:3 picture in
        # the middle of the 8:3 frame, black on either side
        r, out = self.compose("--layout",
                              '{"only": {"video_sources": ["red-cam"]}}',
                              "--video", f"{self.blue}@0",
                              "--video", f"{self.red}@0",
                              "--video-names", '["blue-cam"]',
                              "--video-names", '["red-cam"]')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.colours(out, [(20, 60), (160, 60), (300, 60)]),
                         ("black", "red", "black"))

    def test_h264_in_mp4_out(self):
        # an H.264 track (decoded by the codec table's H.264 decoder) next
        # to a VP8 one, into an H.264 mp4 (its encoder)
        green = os.path.join(self.tmp.name, "green.mkv")
        make_video(green, "green", h264=True)
        r, out = self.compose("--video", f"{self.blue}@0",
                              "--video", f"{green}@0", fmt="mp4")
        self.assertEqual(r.returncode, 0, r.stderr)
        info = subprocess.run(["gst-discoverer-1.0", out],
                              capture_output=True, text=True, timeout=60,
                              env=tool_env()).stdout
        self.assertIn("H.264", info)
        # both from the first frame: the compositor waits for each input
        # (a pad made only when the slower H.264 input was found came after
        # the compositor had gone on without it)
        self.assertEqual(self.halves(out, frame=0), ("blue", "green"))
        self.assertEqual(self.halves(out), ("blue", "green"))

    def test_a_bad_layout_says_what_is_wrong(self):
        r, _ = self.compose("--layout", '{"a": {"reuse": "sometimes"}}',
                            "--video", f"{self.red}@0")
        self.assertEqual(r.returncode, 2)
        self.assertIn("reuse must be none, show_oldest or show_newest",
                      r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
