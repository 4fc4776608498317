"""A few calls of a Twilio customer's back-end through Debian's
python3-twilio, unmodified, against a real hq-server: only the host of
each request is rewritten.  Suite `twilio`.  Skipped (77) when the
twilio module is not installed."""
import http.server
import queue
import sys
import threading
import unittest
import urllib.parse

try:
    from twilio.base.exceptions import TwilioRestException
    from twilio.jwt.access_token import AccessToken
    from twilio.jwt.access_token.grants import VideoGrant
    from twilio.request_validator import RequestValidator
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client
except ImportError:
    print("python3-twilio is not installed", file=sys.stderr)
    sys.exit(77)

from hqtest import Server, read_credentials
from hqws import Signal


class Receiver:
    """Status callbacks as they come: (url, X-Twilio-Signature, params)."""

    def __init__(self):
        self.got = queue.Queue()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.got.put((
                    f"http://127.0.0.1:{self.server.server_port}{self.path}",
                    self.headers.get("X-Twilio-Signature"),
                    dict(urllib.parse.parse_qsl(body.decode()))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/video?x=1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


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
        self.creds = creds
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

    def test_pages_followed_through_page_tokens(self):
        made = [self.tw.video.v1.rooms.create(unique_name=f"py-page-{i}").sid
                for i in range(3)]
        page = self.tw.video.v1.rooms.page(page_size=1, status="in-progress")
        self.assertIn("PageToken=PT1", page.next_page_url)
        listed = self.tw.video.v1.rooms.list(page_size=1, status="in-progress")
        self.assertEqual(sorted(r.sid for r in listed), sorted(made))

    def test_callbacks_verify_with_request_validator(self):
        hook = Receiver()
        self.addCleanup(hook.close)
        self.tw.video.v1.rooms.create(unique_name="py-hook",
                                      status_callback=hook.url)
        url, signature, params = hook.got.get(timeout=30)
        self.assertEqual(params["StatusCallbackEvent"], "room-created")
        validator = RequestValidator(self.creds["auth_token"])
        self.assertTrue(validator.validate(url, params, signature))
        self.assertFalse(RequestValidator("0" * 32).validate(
            url, params, signature))

    def test_hs512_token_from_twilio_python_joins(self):
        self.tw.video.v1.rooms.create(unique_name="py-join", type="group")
        token = AccessToken(self.creds["account_sid"], self.creds["key_sid"],
                            self.creds["key_secret"], identity="py-user")
        # This twilio-python (Debian's 7.7) has no algorithm argument yet;
        # the attribute its to_jwt() signs with is the same thing.
        token.algorithm = "HS512"
        token.add_grant(VideoGrant(room="py-join"))
        jwt = token.to_jwt()
        if isinstance(jwt, bytes):
            jwt = jwt.decode()
        client = Signal(self.srv.url)
        self.addCleanup(client.close)
        reply = client.join(jwt)
        self.assertEqual(reply["type"], "joined", reply)


if __name__ == "__main__":
    unittest.main()
