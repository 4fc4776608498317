"""Tokens cross the boundary both ways: what hq-server mints verifies with an
independent HMAC-SHA256 (Python's standard library), and what a Twilio-style
helper mints against our key verifies in hq-server.  Suite `token`."""
import time
import unittest

from hqtest import Server, jwt_decode_verify, jwt_encode, read_credentials


class Interop(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server().__enter__()
        cls.creds = read_credentials(cls.srv.data_dir)

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)

    def verify_here(self, token, room=None):
        args = ["verify-token"] + (["--room", room] if room else [])
        return self.srv.run_cli(*args, input=token)

    def test_cli_token_verifies_independently(self):
        out = self.srv.run_cli("token", "--identity", "alice", "--room",
                               "consult-1", "--ttl", "120", "--role", "host")
        self.assertEqual(out.returncode, 0, out.stderr)
        header, claims = jwt_decode_verify(out.stdout.strip(),
                                           self.creds["key_secret"])
        self.assertEqual(header, {"typ": "JWT", "alg": "HS256",
                                  "cty": "twilio-fpa;v=1"})
        self.assertEqual(claims["grants"], {"identity": "alice", "video": {
            "room": "consult-1", "role": "host"}})
        self.assertEqual(claims["exp"] - claims["iat"], 120)
        self.assertEqual(claims["jti"], "%s-%d" % (self.creds["key_sid"],
                                                   claims["iat"]))
        with self.assertRaises(ValueError):
            jwt_decode_verify(out.stdout.strip(), "not-the-secret")

    def test_twilio_style_token_verifies_here(self):
        now = int(time.time())
        payload = {"jti": "%s-%d" % (self.creds["key_sid"], now),
                   "grants": {"identity": "patient",
                              "video": {"room": "consult-9"}},
                   "iat": now, "exp": now + 3600,
                   "iss": self.creds["key_sid"],
                   "sub": self.creds["account_sid"]}
        token = jwt_encode(payload, self.creds["key_secret"])
        out = self.verify_here(token, room="consult-9")
        self.assertEqual(out.returncode, 0, out.stdout)
        self.assertIn("identity=patient", out.stdout)
        out = self.verify_here(token, room="another-room")
        self.assertEqual(out.returncode, 1)
        self.assertIn("room_not_granted", out.stdout)

    def test_independent_refusals(self):
        now = int(time.time())
        base = {"iss": self.creds["key_sid"], "sub": self.creds["account_sid"],
                "iat": now, "exp": now + 60,
                "grants": {"identity": "x", "video": {}}}
        cases = [
            (jwt_encode(base, "wrong-secret-0123456789"), "bad_signature"),
            (jwt_encode(base, self.creds["key_secret"],
                        header={"alg": "none", "typ": "JWT"}),
             "unsupported_alg"),
            (jwt_encode({**base, "exp": now - 3600, "iat": now - 7200},
                        self.creds["key_secret"]), "expired"),
            (jwt_encode({**base, "exp": now + 48 * 3600},
                        self.creds["key_secret"]), "lifetime_too_long"),
            (jwt_encode({**base, "grants": {"video": {}}},
                        self.creds["key_secret"]), "no_identity"),
        ]
        for token, code in cases:
            out = self.verify_here(token)
            self.assertEqual(out.returncode, 1, code)
            self.assertIn("refused (%s)" % code, out.stdout)

    def test_http_tokens_verify_independently(self):
        jwt_decode_verify(self.srv.guest_token("a", "r"),
                          self.creds["key_secret"])
        r = self.srv.request("POST", "/v1/AccessTokens", {"Identity": "b"},
                             auth=(self.creds["key_sid"],
                                   self.creds["key_secret"]))
        _, claims = jwt_decode_verify(r.json()["token"],
                                      self.creds["key_secret"])
        self.assertEqual(claims["grants"]["identity"], "b")


if __name__ == "__main__":
    unittest.main(verbosity=2)
