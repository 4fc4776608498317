"""A few calls of a Twilio customer's back-end through Debian's
python3-twilio, unmodified, against a real hq-server: only the host of
each request is rewritten.  Suite `twilio`.  Skipped (77) when the
twilio module is not installed."""
import sys
import unittest

try:
    from twilio.base.exceptions import TwilioRestException
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client
except ImportError:
    print("python3-twilio is not installed", file=sys.stderr)
    sys.exit(77)

from hqtest import Server, read_credentials


class HostRewrite(TwilioHttpClient):
    """Twilio's own HTTP client; only the host changes."""

    def __init__(self, base):
        super().__init__()
        self.base = base

    def request(self, method, url, *args, **kwargs):
        url = url.replace("https://video.twilio.com", self.base)
        return super().request(method, url, *args, **kwargs)


class PythonSdk(unittest.TestCase):
    def setUp(self):
        self.srv = Server().__enter__()
        self.addCleanup(self.srv.__exit__, None, None, None)
        creds = read_credentials(self.srv.data_dir)
        self.tw = Client(creds["key_sid"], creds["key_secret"],
                         creds["account_sid"],
                         http_client=HostRewrite(self.srv.url))

    def test_error_code_and_message(self):
        with self.assertRaises(TwilioRestException) as cm:
            self.tw.video.v1.rooms("no-such-room").fetch()
        self.assertEqual(cm.exception.status, 404)
        self.assertEqual(cm.exception.code, 20404)
        self.assertIn("no-such-room", cm.exception.msg)

    def test_room_created_fetched_and_listed(self):
        room = self.tw.video.v1.rooms.create(unique_name="py-room",
                                             type="group")
        self.assertTrue(room.sid.startswith("RM"))
        self.assertEqual(room.status, "in-progress")
        got = self.tw.video.v1.rooms("py-room").fetch()
        self.assertEqual(got.sid, room.sid)
        listed = self.tw.video.v1.rooms.list(unique_name="py-room")
        self.assertEqual([r.sid for r in listed], [room.sid])


if __name__ == "__main__":
    unittest.main()
