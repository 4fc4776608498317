"""Sign-in through an identity provider on POST /token (docs/tokens.md,
"Signing in with an identity provider").  Suite `oidc`.

A test issuer runs on loopback: an OpenID discovery document and a JWKS
with keys this test makes (RSA 2048 and EC P-256), served by Python's
http.server in a thread.  The test signs ID tokens as a provider would
(Firebase, Keycloak, ...), and a real hq-server verifies them: valid ones
get a token (host for the clinicians' group, guest otherwise), and every
way a token can be wrong is refused with a sentence that says which.
"""
import base64
import http.server
import json
import os
import threading
import time
import unittest

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import \
    decode_dss_signature

from hqtest import Server, b64url, jwt_decode_verify

AUDIENCE = "hq-clinic-test"


def b64int(n, length=None):
    raw = n.to_bytes(length or (n.bit_length() + 7) // 8, "big")
    return b64url(raw)


class Key:
    def __init__(self, kid, kind):
        self.kid, self.kind = kid, kind
        if kind == "RS256":
            self.private = rsa.generate_private_key(65537, 2048)
        else:
            self.private = ec.generate_private_key(ec.SECP256R1())

    def jwk(self):
        pub = self.private.public_key().public_numbers()
        if self.kind == "RS256":
            return {"kty": "RSA", "kid": self.kid, "use": "sig",
                    "alg": "RS256", "n": b64int(pub.n), "e": b64int(pub.e)}
        return {"kty": "EC", "kid": self.kid, "use": "sig", "crv": "P-256",
                "x": b64int(pub.x, 32), "y": b64int(pub.y, 32)}

    def sign(self, data):
        if self.kind == "RS256":
            return self.private.sign(data, padding.PKCS1v15(),
                                     hashes.SHA256())
        r, s = decode_dss_signature(
            self.private.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


class Issuer:
    """The provider: discovery and JWKS on 127.0.0.1."""

    def __init__(self, keys):
        self.keys = keys
        self.jwks_fetches = 0
        issuer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": issuer.url,
                            "jwks_uri": issuer.url + "/keys"}
                elif self.path == "/keys":
                    issuer.jwks_fetches += 1
                    body = {"keys": [k.jwk() for k in issuer.keys]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", "public, max-age=3600")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def id_token(self, key, header=None, **claims):
        now = int(time.time())
        payload = {"iss": self.url, "aud": AUDIENCE, "sub": "user-1",
                   "email": "ana@clinic.example", "email_verified": True,
                   "iat": now, "exp": now + 600, **claims}
        payload = {k: v for k, v in payload.items() if v is not None}
        head = {"alg": key.kind, "kid": key.kid, "typ": "JWT",
                **(header or {})}
        signing = (b64url(json.dumps(head).encode()) + "."
                   + b64url(json.dumps(payload).encode()))
        return signing + "." + b64url(key.sign(signing.encode()))


class SignIn(unittest.TestCase):
    def setUp(self):
        self.rsa = Key("rsa-1", "RS256")
        self.ec = Key("ec-1", "ES256")
        self.issuer = Issuer([self.rsa, self.ec])
        self.addCleanup(self.issuer.close)
        self.srv = Server(env={
            "HQ_OIDC_ISSUER": self.issuer.url,
            "HQ_OIDC_AUDIENCE": AUDIENCE,
            "HQ_OIDC_ALLOWED_EMAILS": "*@clinic.example, pat@mail.example",
            "HQ_OIDC_HOST_CLAIM": "groups",
            "HQ_OIDC_HOST_VALUE": "clinicians",
            "HQ_OIDC_REFRESH_MIN": "0",
        }).__enter__()
        self.addCleanup(self.srv.__exit__, None, None, None)

    def token(self, id_token, **fields):
        body = {"room_name": "visit-1", **fields}
        return self.srv.request("POST", "/token", body, headers={
            "Authorization": "Bearer " + id_token})

    def granted(self, r):
        self.assertEqual(r.status, 200, r.body)
        secret = self.srv.credentials()["key_secret"]
        return jwt_decode_verify(r.json()["token"], secret)[1]

    def refused(self, id_token, status, words):
        r = self.token(id_token)
        self.assertEqual(r.status, status, r.body)
        self.assertIn(words, r.json()["error"]["explanation"])

    def test_a_clinician_signs_in_as_host_and_a_patient_as_guest(self):
        doc = self.token(self.issuer.id_token(
            self.rsa, groups=["staff", "clinicians"], name="Dr Ana"))
        claims = self.granted(doc)
        video = claims["grants"]["video"]
        self.assertEqual(claims["grants"]["identity"], "ana@clinic.example")
        self.assertEqual((video["room"], video["role"]), ("visit-1", "host"))
        self.assertEqual((doc.json()["role"], doc.json()["name"]),
                         ("host", "Dr Ana"))

        pat = self.token(self.issuer.id_token(
            self.ec, sub="p-7", email="pat@mail.example", groups=[]),
            user_identity="Pat")
        # A guest token carries no role (guest is the default, docs/tokens.md).
        self.assertNotIn("role", self.granted(pat)["grants"]["video"])
        self.assertEqual((pat.json()["identity"], pat.json()["role"],
                          pat.json()["name"]),
                         ("pat@mail.example", "guest", "Pat"))
        # One fetch served both (the cache holds the keys).
        self.assertEqual(self.issuer.jwks_fetches, 1)

    def test_wrong_tokens_are_refused_saying_why(self):
        now = int(time.time())
        cases = [
            (self.issuer.id_token(self.rsa, iss="https://evil.example"),
             "was issued by \"https://evil.example\""),
            (self.issuer.id_token(self.rsa, aud="someone-else"),
             "issued for another application"),
            (self.issuer.id_token(self.rsa, exp=now - 3600),
             "has expired"),
            (self.issuer.id_token(self.rsa, iat=now + 3600, nbf=now + 3600),
             "not valid yet"),
            (self.issuer.id_token(self.rsa, header={"kid": "nobody"}),
             "which the identity provider does not publish"),
            (self.issuer.id_token(self.rsa, email="eve@elsewhere.example"),
             "eve@elsewhere.example may not sign in"),
            (self.issuer.id_token(self.rsa, email_verified=False),
             "an unverified one"),
            (self.issuer.id_token(self.rsa, sub=""), "names no user"),
        ]
        for id_token, words in cases:
            with self.subTest(words=words):
                self.refused(id_token, 401, words)

    def test_forged_and_unsigned_tokens_are_refused(self):
        good = self.issuer.id_token(self.rsa)
        head, payload, sig = good.split(".")
        forged = json.loads(base64.urlsafe_b64decode(payload + "=="))
        forged["groups"] = ["clinicians"]
        tampered = ".".join([head, b64url(json.dumps(forged).encode()), sig])
        self.refused(tampered, 401, "signature does not verify")
        none = ".".join([b64url(b'{"alg":"none","kid":"rsa-1"}'), payload,
                         ""])
        self.refused(none, 401, "only RS256 and ES256")
        hs = ".".join([b64url(b'{"alg":"HS256","kid":"rsa-1"}'), payload,
                       sig])
        self.refused(hs, 401, "only RS256 and ES256")
        # An RS256 token whose kid names the EC key: not that key's kind.
        self.refused(self.issuer.id_token(self.rsa, header={"kid": "ec-1"}),
                     401, "signature does not verify")
        r = self.srv.request("POST", "/token", {"room_name": "visit-1"},
                             headers={"Authorization": "Bearer x.y"})
        self.assertEqual(r.status, 401, r.body)
        self.assertIn("not a JSON Web Token", r.json()["error"]["explanation"])

    def test_a_key_rotation_is_picked_up(self):
        self.granted(self.token(self.issuer.id_token(self.rsa)))
        new = Key("rsa-2", "RS256")
        self.issuer.keys = [new, self.ec]  # rsa-1 retired
        self.granted(self.token(self.issuer.id_token(new)))
        self.assertEqual(self.issuer.jwks_fetches, 2)
        self.refused(self.issuer.id_token(self.rsa), 401,
                     "does not publish")


class WithoutProvider(unittest.TestCase):
    def test_bearer_without_a_configured_provider(self):
        with Server() as srv:
            r = srv.request("POST", "/token", {"room_name": "r"},
                            headers={"Authorization": "Bearer a.b.c"})
            self.assertEqual(r.status, 401, r.body)
            self.assertIn("does not sign people in",
                          r.json()["error"]["explanation"])

    def test_an_unreachable_provider_is_a_clear_503(self):
        key = Key("rsa-1", "RS256")
        issuer = Issuer([key])
        id_token = issuer.id_token(key)
        url = issuer.url
        issuer.close()  # the provider is down
        with Server(env={"HQ_OIDC_ISSUER": url,
                         "HQ_OIDC_AUDIENCE": AUDIENCE}) as srv:
            r = srv.request("POST", "/token", {"room_name": "r"},
                            headers={"Authorization": "Bearer " + id_token})
            self.assertEqual(r.status, 503, r.body)
            self.assertIn("could not be fetched",
                          r.json()["error"]["explanation"])

    def test_a_provider_over_plain_http_elsewhere_is_refused_at_start(self):
        srv = Server(env={"HQ_OIDC_ISSUER": "http://idp.example.org",
                          "HQ_OIDC_AUDIENCE": AUDIENCE})
        self.addCleanup(srv.stop)
        with self.assertRaises(AssertionError) as ctx:
            srv.start()
        self.assertIn("must be an https URL", str(ctx.exception))


if __name__ == "__main__":
    unittest.main(verbosity=2)
