"""hq-server as a process: first start with no configuration, the token
endpoints and every error case, keys from the environment and config files,
clean shutdown.  Suite `server`."""
import http.client
import os
import stat
import tempfile
import time
import unittest

from hqtest import Server, jwt_decode_verify, read_credentials


class FirstStart(unittest.TestCase):
    def test_creates_private_dev_key_and_keeps_it(self):
        with tempfile.TemporaryDirectory() as tmp:
            data = os.path.join(tmp, "data")
            with Server(data_dir=data) as srv:
                self.assertTrue(any("Created a development API key" in line
                                    for line in srv.stdout_lines))
                path = os.path.join(data, "credentials.conf")
                self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
                self.assertEqual(stat.S_IMODE(os.stat(data).st_mode), 0o700)
                creds = read_credentials(data)
                self.assertRegex(creds["key_sid"], r"^SK[0-9a-f]{32}$")
                self.assertRegex(creds["account_sid"], r"^AC[0-9a-f]{32}$")
                self.assertGreaterEqual(len(creds["key_secret"]), 32)
                # The guest passcode of POST /token, made and printed with
                # the key.
                self.assertRegex(creds["passcode"], r"^[0-9]{12}$")
                self.assertTrue(any(creds["passcode"] in line
                                    for line in srv.stdout_lines))
                tok = srv.access_token("a", "r")
            # The second start reuses the key: the old token still verifies.
            with Server(data_dir=data) as srv:
                self.assertFalse(any("Created" in line
                                     for line in srv.stdout_lines))
                self.assertEqual(read_credentials(data), creds)
                out = srv.run_cli("verify-token", "--room", "r", input=tok)
                self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
                self.assertIn("identity=a", out.stdout)

    def test_healthz_and_unknown_path(self):
        with Server() as srv:
            r = srv.request("GET", "/healthz")
            self.assertEqual(r.status, 200)
            self.assertEqual(r.json()["status"], "ok")
            r = srv.request("GET", "/no/such/thing")
            self.assertEqual(r.status, 404)
            self.assertIn("/no/such/thing", r.json()["error"]["explanation"])

    def test_structured_log_line_per_request(self):
        with Server() as srv:
            srv.request("GET", "/healthz")
            srv.request("POST", "/token", {"room_name": "x"})
        http_events = [e for e in srv.log_events() if e["event"] == "http"]
        self.assertEqual([(e["method"], e["path"], e["status"])
                          for e in http_events],
                         [("GET", "/healthz", 200), ("POST", "/token", 400)])
        self.assertTrue(all("ts" in e and "us" in e for e in http_events))


class TokenEndpoint(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server().__enter__()
        cls.creds = read_credentials(cls.srv.data_dir)

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)

    def assert_error(self, resp, status, message):
        self.assertEqual(resp.status, status, resp.body)
        body = resp.json()
        self.assertEqual(body["error"]["message"], message)
        self.assertTrue(body["error"]["explanation"])
        # The server carries on after every error.
        self.assertEqual(self.srv.request("GET", "/healthz").status, 200)

    def post_token(self, body):
        """POST /token with the server's passcode."""
        return self.srv.request("POST", "/token", {
            **body, "passcode": self.creds["passcode"]})

    def test_token_verifies(self):
        r = self.post_token({"user_identity": "patient-7",
                             "room_name": "consult-1"})
        self.assertEqual(r.status, 200)
        body = r.json()
        self.assertEqual(body["room_type"], "group")
        header, claims = jwt_decode_verify(body["token"],
                                           self.creds["key_secret"])
        self.assertEqual(header["cty"], "twilio-fpa;v=1")
        # What the guest typed is its display name; the identity is the
        # server's.
        self.assertRegex(claims["grants"]["identity"], r"^guest-[0-9a-f]{16}$")
        self.assertEqual(body["identity"], claims["grants"]["identity"])
        self.assertEqual(claims["grants"]["video"]["name"], "patient-7")
        self.assertEqual(claims["grants"]["video"]["room"], "consult-1")
        self.assertEqual(claims["iss"], self.creds["key_sid"])
        self.assertEqual(claims["sub"], self.creds["account_sid"])
        self.assertLessEqual(claims["exp"] - claims["iat"], 24 * 3600)

    def test_curl_style_body(self):
        # `curl -d '{...}'` sends JSON labelled as a form.
        r = self.srv.request(
            "POST", "/token", '{"user_identity":"a","room_name":"r",'
            '"passcode":"%s"}' % self.creds["passcode"],
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 200, r.body)
        self.assertIn("token", r.json())

    def test_create_room_false_without_room(self):
        # Never a token for any room.
        self.assert_error(self.post_token({"user_identity": "a",
                                           "create_room": False}),
                          400, "missing room_name")

    def test_missing_identity(self):
        self.assert_error(self.srv.request("POST", "/token",
                                           {"room_name": "r"}),
                          400, "missing user_identity")

    def test_identity_wrong_type_and_too_long(self):
        self.assert_error(self.srv.request(
            "POST", "/token", {"user_identity": 5, "room_name": "r"}),
            400, "invalid user_identity")
        self.assert_error(self.srv.request(
            "POST", "/token", {"user_identity": "x" * 129,
                               "room_name": "r"}),
            400, "invalid user_identity")

    def test_missing_room(self):
        self.assert_error(self.srv.request("POST", "/token",
                                           {"user_identity": "a"}),
                          400, "missing room_name")

    def test_create_room_not_boolean(self):
        self.assert_error(self.srv.request(
            "POST", "/token", {"user_identity": "a", "room_name": "r",
                               "create_room": "maybe"}),
            400, "invalid parameter")

    def test_malformed_json(self):
        for body in ['{"user_identity": "a"', "[1, 2]", '"text"', "\xff"]:
            r = self.srv.request("POST", "/token", body.encode("latin-1"),
                                 headers={"Content-Type":
                                          "application/json"})
            self.assertEqual(r.status, 400, body)
            self.assertIn(r.json()["error"]["message"],
                          ("malformed JSON", "bad request"))
        self.assert_error(self.srv.request(
            "POST", "/token", '{"user_identity": "a"',
            headers={"Content-Type": "application/json"}),
            400, "malformed JSON")

    def test_body_too_large(self):
        big = b'{"user_identity":"' + b"a" * 70000 + b'"}'
        self.assert_error(self.srv.request(
            "POST", "/token", big,
            headers={"Content-Type": "application/json"}),
            413, "request too large")

    def test_chunked_body_too_large(self):
        host, port = self.srv.url[len("http://"):].rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        chunks = (b'{"user_identity":"' + b"a" * 70000 + b'"}',)
        conn.request("POST", "/token", body=iter(chunks),
                     headers={"Content-Type": "application/json"},
                     encode_chunked=True)
        resp = conn.getresponse()
        self.assertEqual(resp.status, 413)
        conn.close()
        self.assertEqual(self.srv.request("GET", "/healthz").status, 200)

    def test_wrong_method(self):
        r = self.srv.request("GET", "/token")
        self.assertEqual(r.status, 405)
        self.assertEqual(r.headers["Allow"], "POST")


class TokenAccess(unittest.TestCase):
    """Who gets a token from POST /token: rooms the operator opened take
    guests without the passcode; /token creates only rooms whose names
    the configuration allows, and only so many."""

    def test_open_rooms_need_no_passcode(self):
        env = {"HQ_TOKEN_OPEN_ROOMS": "demo, walk-in-*"}
        with Server(env=env) as srv:
            for room in ("demo", "walk-in-3"):
                r = srv.request("POST", "/token", {"user_identity": "p",
                                                   "room_name": room})
                self.assertEqual(r.status, 200, r.body)
            r = srv.request("POST", "/token", {"user_identity": "p",
                                               "room_name": "consult-1"})
            self.assertEqual((r.status, r.json()["error"]["message"]),
                             (401, "passcode required"))

    def test_empty_passcode_closes_the_endpoint(self):
        with tempfile.TemporaryDirectory() as tmp:
            conf = os.path.join(tmp, "hq.conf")
            with open(conf, "w") as f:
                f.write("[token]\npasscode=\nopen_rooms=lobby\n")
            with Server(args=["--config", conf]) as srv:
                r = srv.request("POST", "/token", {"user_identity": "p",
                                                   "room_name": "r",
                                                   "passcode": ""})
                self.assertEqual((r.status, r.json()["error"]["message"]),
                                 (403, "token endpoint closed"))
                self.assertNotIn("passcode", srv.credentials())
                r = srv.request("POST", "/token", {"user_identity": "p",
                                                   "room_name": "lobby"})
                self.assertEqual(r.status, 200, r.body)

    def test_rooms_created_are_limited(self):
        env = {"HQ_TOKEN_CREATE_ROOMS": "visit-*", "HQ_TOKEN_MAX_ROOMS": "2"}
        with Server(env=env) as srv:
            # Not a name guests may create: refused, and nothing created.
            r = srv.request("POST", "/token", {
                "user_identity": "p", "room_name": "board-meeting",
                "passcode": srv.credentials()["passcode"]})
            self.assertEqual((r.status, r.json()["error"]["message"]),
                             (403, "room not created"))
            creds = srv.credentials()
            auth = (creds["key_sid"], creds["key_secret"])
            self.assertEqual(srv.request("GET", "/v1/Rooms/board-meeting",
                                         auth=auth).status, 404)
            srv.guest_token("p", "visit-1")
            srv.guest_token("p", "visit-2")
            srv.guest_token("q", "visit-2")  # exists: no new room
            r = srv.request("POST", "/token", {
                "user_identity": "p", "room_name": "visit-3",
                "passcode": creds["passcode"]})
            self.assertEqual((r.status, r.json()["error"]["message"]),
                             (429, "too many rooms"))
            # A room the back-end made is not counted, and joins as ever.
            srv.create_room("board-meeting")
            srv.guest_token("p", "board-meeting")
            # One ends: one more may be created.
            srv.request("POST", "/v1/Rooms/visit-1", {"Status": "completed"},
                        auth=auth)
            srv.guest_token("p", "visit-3")


class Passcode(unittest.TestCase):
    def test_passcode_required_incorrect_and_right(self):
        with Server(env={"HQ_PASSCODE": "1234567890"}) as srv:
            body = {"user_identity": "a", "room_name": "r"}
            r = srv.request("POST", "/token", body)
            self.assertEqual(r.status, 401)
            self.assertEqual(r.json()["error"]["message"],
                             "passcode required")
            r = srv.request("POST", "/token", {**body, "passcode": "1"})
            self.assertEqual(r.status, 401)
            self.assertEqual(r.json()["error"]["message"],
                             "passcode incorrect")
            r = srv.request("POST", "/token",
                            {**body, "passcode": "1234567890"})
            self.assertEqual(r.status, 200, r.body)

    def test_passcode_expired(self):
        with tempfile.TemporaryDirectory() as tmp:
            conf = os.path.join(tmp, "hq.conf")
            with open(conf, "w") as f:
                f.write("[token]\npasscode=abc\npasscode_expires=%d\n"
                        % (time.time() - 10))
            with Server(args=["--config", conf]) as srv:
                r = srv.request("POST", "/token",
                                {"user_identity": "a", "room_name": "r",
                                 "passcode": "abc"})
                self.assertEqual(r.status, 401)
                self.assertEqual(r.json()["error"]["message"],
                                 "passcode expired")


class AccessTokens(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server().__enter__()
        cls.creds = read_credentials(cls.srv.data_dir)
        cls.auth = (cls.creds["key_sid"], cls.creds["key_secret"])

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)

    def post(self, body, auth=None):
        return self.srv.request("POST", "/v1/AccessTokens", body,
                                auth=auth or self.auth)

    def test_form_encoded(self):
        r = self.post("Identity=dr-ana&Room=consult-1&Ttl=600&Role=host",
                      )
        self.assertEqual(r.status, 201, r.body)
        body = r.json()
        _, claims = jwt_decode_verify(body["token"], self.creds["key_secret"])
        self.assertEqual(claims["grants"]["identity"], "dr-ana")
        self.assertEqual(claims["grants"]["video"]["room"], "consult-1")
        self.assertEqual(claims["grants"]["video"]["role"], "host")
        self.assertEqual(claims["exp"] - claims["iat"], 600)
        self.assertEqual(body["role"], "host")
        self.assertEqual(body["ttl"], 600)

    def test_json_defaults(self):
        r = self.post({"identity": "bob"})
        self.assertEqual(r.status, 201, r.body)
        body = r.json()
        self.assertIsNone(body["room"])
        self.assertEqual(body["ttl"], 3600)
        self.assertEqual(body["role"], "guest")

    def test_authentication(self):
        for auth in [("nobody", "x"), (self.auth[0], "wrong"),
                     (self.auth[0], self.auth[1] + "x"),
                     ("SK" + "0" * 32, self.auth[1])]:
            r = self.post({"Identity": "a"}, auth=auth)
            self.assertEqual(r.status, 401, auth)
            self.assertEqual(r.json()["error"]["message"],
                             "authentication failed")
            # RFC 7235: the realm as a token or a quoted string.
            self.assertRegex(r.headers["WWW-Authenticate"],
                             r'^Basic realm=("hqrooms"|hqrooms)$')
            self.assertEqual(r.json()["code"], 20003)
            self.assertEqual(r.json()["message"],
                             "The API key sid or secret is wrong.")
        r = self.srv.request("POST", "/v1/AccessTokens", {"Identity": "a"})
        self.assertEqual(r.status, 401)
        self.assertIn("Send HTTP Basic credentials", r.json()["message"])
        r = self.srv.request("POST", "/v1/AccessTokens", {"Identity": "a"},
                             headers={"Authorization": "Basic !!!"})
        self.assertEqual(r.status, 401)
        self.assertEqual(r.json()["message"],
                         'The Basic credentials are not "sid:secret".')
        self.assertEqual(self.srv.request("GET", "/healthz").status, 200)

    def test_bad_fields(self):
        cases = [({}, "missing Identity"),
                 ({"Identity": "a", "Ttl": 0}, "invalid Ttl"),
                 ({"Identity": "a", "Ttl": 86401}, "invalid Ttl"),
                 ({"Identity": "a", "Ttl": "soon"}, "invalid parameter"),
                 ({"Identity": "a", "Role": "admin"}, "invalid Role"),
                 ({"Identity": "a" * 200}, "invalid Identity"),
                 ({"Identity": "a", "Room": "r" * 129}, "invalid Room")]
        for body, message in cases:
            r = self.post(body)
            self.assertEqual(r.status, 400, body)
            self.assertEqual(r.json()["error"]["message"], message)
        r = self.post(b"{not json")
        self.assertEqual(r.status, 400)


class KeysFromConfiguration(unittest.TestCase):
    SID = "SK" + "1" * 32
    SECRET = "a-configured-secret-0123456789"
    ACCOUNT = "AC" + "2" * 32

    def check_token_uses_key(self, srv, sid, secret, account):
        _, claims = jwt_decode_verify(srv.guest_token("a", "r"), secret)
        self.assertEqual(claims["iss"], sid)
        self.assertEqual(claims["sub"], account)
        # No development key was made (only the guest passcode).
        self.assertNotIn("key_sid", srv.credentials())

    def test_environment(self):
        env = {"HQ_API_KEY_SID": self.SID, "HQ_API_KEY_SECRET": self.SECRET,
               "HQ_ACCOUNT_SID": self.ACCOUNT}
        with Server(env=env) as srv:
            self.check_token_uses_key(srv, self.SID, self.SECRET,
                                      self.ACCOUNT)

    def test_twilio_environment_names(self):
        env = {"TWILIO_API_KEY_SID": self.SID,
               "TWILIO_API_KEY_SECRET": self.SECRET,
               "TWILIO_ACCOUNT_SID": self.ACCOUNT}
        with Server(env=env) as srv:
            self.check_token_uses_key(srv, self.SID, self.SECRET,
                                      self.ACCOUNT)

    def test_config_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            conf = os.path.join(tmp, "hq.conf")
            with open(conf, "w") as f:
                f.write("[api-key]\naccount_sid=%s\nkey_sid=%s\n"
                        "key_secret=%s\n[token]\nroom_type=go\n"
                        % (self.ACCOUNT, self.SID, self.SECRET))
            os.chmod(conf, 0o600)
            with Server(args=["--config", conf]) as srv:
                self.check_token_uses_key(srv, self.SID, self.SECRET,
                                          self.ACCOUNT)
                r = srv.request("POST", "/token", {
                    "user_identity": "a", "room_name": "r",
                    "passcode": srv.credentials()["passcode"]})
                self.assertEqual(r.json()["room_type"], "go")

    def test_a_stop_right_after_start_is_clean(self):
        """A supervisor may stop the server as soon as it says it is
        listening: SIGTERM must already be handled then (exit 0)."""
        for _ in range(5):
            with Server():
                pass

    def test_bad_configuration_says_why(self):
        srv = Server(env={"HQ_API_KEY_SID": self.SID,
                          "HQ_API_KEY_SECRET": "short",
                          "HQ_ACCOUNT_SID": self.ACCOUNT})
        with self.assertRaises(AssertionError) as ctx:
            srv.start()
        self.assertIn("at least 16", str(ctx.exception))


class AppFolder(unittest.TestCase):
    """An app's build folder served in place of the web client
    ([server] app_dir, HQ_APP_DIR): its files with their content types,
    index.html for a single-page app's routes, the server's own paths
    untouched, and nothing outside the folder, however the path is
    written."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="hq-app-")
        top = cls.tmp.name
        app = os.path.join(top, "build")
        os.makedirs(os.path.join(app, "static", "js"))
        files = {
            "index.html": "<!doctype html><title>app</title>",
            "static/js/main.1a2b.js": "console.log('app');",
            "static/main.css": "body{}",
            "manifest.json": "{}",
            "logo.svg": "<svg/>",
            "a%41.txt": "percent",
            "aA.txt": "capital",
            ".env": "SECRET_IN_APP=1",
        }
        for name, text in files.items():
            with open(os.path.join(app, name), "w") as f:
                f.write(text)
        with open(os.path.join(top, "secret.txt"), "w") as f:
            f.write("OUTSIDE-SECRET")
        os.symlink(os.path.join(top, "secret.txt"),
                   os.path.join(app, "leak.txt"))
        os.symlink(top, os.path.join(app, "up"))
        os.symlink("static/main.css", os.path.join(app, "inside.css"))
        os.mkfifo(os.path.join(app, "pipe.js"))
        cls.app = app
        # Through a symlink to the folder, by a relative name: the
        # folder's real path is what counts.
        os.symlink(app, os.path.join(top, "current"))
        cls.srv = Server(env={"HQ_APP_DIR": os.path.join(top, "current")})
        cls.srv.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)
        cls.tmp.cleanup()

    def raw_get(self, path, method="GET"):
        """The request line exactly as written (urllib would normalise
        it)."""
        host = self.srv.url.split("//", 1)[1]
        conn = http.client.HTTPConnection(host, timeout=30)
        conn.putrequest(method, path, skip_accept_encoding=True)
        conn.endheaders()
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        return resp.status, resp.getheader("Content-Type"), body

    def test_files_with_their_types(self):
        for path, ctype, body in [
                ("/", "text/html; charset=utf-8", b"<!doctype html>"),
                ("/index.html", "text/html; charset=utf-8", b"<!doctype"),
                ("/static/js/main.1a2b.js", "text/javascript; charset=utf-8",
                 b"console.log('app');"),
                ("/static/main.css", "text/css; charset=utf-8", b"body{}"),
                ("/manifest.json", "application/json", b"{}"),
                ("/logo.svg", "image/svg+xml", b"<svg/>"),
                ("/inside.css", "text/css; charset=utf-8", b"body{}"),
                ("/a%2541.txt", "text/plain; charset=utf-8", b"percent"),
                ("/a%41.txt", "text/plain; charset=utf-8", b"capital")]:
            status, got_type, got = self.raw_get(path)
            self.assertEqual((status, got_type), (200, ctype), path)
            self.assertTrue(got.startswith(body), (path, got))
        status, _, body = self.raw_get("/static/main.css", "HEAD")
        self.assertEqual((status, body), (200, b""))

    def test_single_page_app_routes_get_index_html(self):
        for path in ["/room/consult-1", "/room/consult-1?passcode=12",
                     "/deep/link/x.html", "/static/js/gone.js"]:
            status, ctype, body = self.raw_get(path)
            self.assertEqual(status, 200, path)
            self.assertEqual(ctype, "text/html; charset=utf-8", path)
            self.assertIn(b"<title>app</title>", body, path)

    def test_server_paths_stay_the_servers(self):
        r = self.srv.request("GET", "/healthz")
        self.assertEqual(r.json()["status"], "ok")
        for path in ["/v1/Nothing", "/v1", "/sdk/nothing.js", "/token/x"]:
            status, ctype, body = self.raw_get(path)
            self.assertEqual(status, 404, path)
            self.assertEqual(ctype, "application/json", path)
        status, ctype, body = self.raw_get("/sdk/video.js")
        self.assertEqual((status, ctype),
                         (200, "text/javascript; charset=utf-8"))
        self.assertIn(b"export", body)
        # The web client's own files are not served: the app is.
        status, ctype, body = self.raw_get("/hqclient.js")
        self.assertIn(b"<title>app</title>", body)
        r = self.srv.request("POST", "/room/x", "x")
        self.assertEqual(r.status, 405)

    def test_nothing_outside_the_folder(self):
        for path in ["/../secret.txt", "/static/../../secret.txt",
                     "/%2e%2e/secret.txt", "/%2E%2E/secret.txt",
                     "/static/%2e%2e/%2e%2e/secret.txt",
                     "/..%2fsecret.txt", "/static/..%2f..%2fsecret.txt",
                     "/%252e%252e/secret.txt", "//secret.txt",
                     "/leak.txt", "/up/secret.txt", "/up/build/index.html",
                     "/.env", "/%2eenv", "/static/./../.env"]:
            status, ctype, body = self.raw_get(path)
            self.assertNotIn(b"OUTSIDE-SECRET", body, path)
            self.assertNotIn(b"SECRET_IN_APP", body, path)
            # Refused outright, or the app's index.html once the path
            # resolved inside the folder.
            self.assertTrue(status in (400, 404) or b"<title>app" in body,
                            (path, status, body))
        for path in ["/leak.txt", "/up/secret.txt", "/.env"]:
            self.assertEqual(self.raw_get(path)[0], 404, path)
        # A FIFO is no file to send (and opening it must not block the
        # server): the app's index.html.
        status, _, body = self.raw_get("/pipe.js")
        self.assertEqual(status, 200)
        self.assertIn(b"<title>app</title>", body)
        self.assertEqual(self.srv.request("GET", "/healthz").status, 200)

    def test_a_folder_without_index_html_stops_the_server(self):
        for bad in [os.path.join(self.app, "static"),
                    os.path.join(self.app, "nowhere")]:
            srv = Server(env={"HQ_APP_DIR": bad})
            with self.assertRaises(AssertionError) as ctx:
                srv.start()
            self.assertIn("app_dir (HQ_APP_DIR)", str(ctx.exception))
            self.assertIn(bad, str(ctx.exception))


if __name__ == "__main__":
    unittest.main(verbosity=2)
