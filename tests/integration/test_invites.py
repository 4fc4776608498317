"""Visits and invite links (docs/invites.md) against a real hq-server:
POST /v1/Visits with the API key or a host's token, `hq-server invite`,
and the codes exchanged at POST /token: one use for a patient link, the
room started by the host link, clear refusals for unknown, used, expired
codes and for visits not started or ended, and codes that survive a
restart of the server."""
import os
import re
import sqlite3
import subprocess
import time
import unittest

from hqtest import (SERVER_BIN, Server, jwt_decode_verify, jwt_encode,
                    read_credentials)

CODE = re.compile(r"^[2-9A-HJ-NP-Z]{10}$")


def code_of(url):
    return url.rsplit("#invite=", 1)[1]


class Visits(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server().__enter__()
        cls.creds = read_credentials(cls.srv.data_dir)
        cls.key = (cls.creds["key_sid"], cls.creds["key_secret"])

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)

    def visit(self, body=None, status=201, headers=None, auth="key"):
        r = self.srv.request("POST", "/v1/Visits", body or {},
                             headers=headers,
                             auth=self.key if auth == "key" else None)
        self.assertEqual(r.status, status, r.body)
        return r.json()

    def redeem(self, code, name="Pat"):
        return self.srv.request("POST", "/token",
                                {"invite": code, "user_identity": name})

    def assert_refused(self, resp, status, message, says):
        self.assertEqual(resp.status, status, resp.body)
        err = resp.json()["error"]
        self.assertEqual(err["message"], message)
        self.assertRegex(err["explanation"], says)
        # Nobody else is disturbed.
        self.assertEqual(self.srv.request("GET", "/healthz").status, 200)

    def test_host_link_starts_the_visit_patient_link_is_single_use(self):
        v = self.visit({"UniqueName": "consult-inv-1"})
        self.assertEqual(v["visit"], "consult-inv-1")
        self.assertTrue(v["waiting_room"])
        self.assertEqual(v["patient"]["max_uses"], 1)
        for link in (v["host"], v["patient"]):
            self.assertRegex(link["code"], CODE)
            self.assertEqual(link["url"],
                             f"{self.srv.url}/#invite={link['code']}")
        self.assertNotEqual(v["host"]["code"], v["patient"]["code"])
        # Before the clinician: the patient is told, and the code is
        # still good afterwards.
        self.assert_refused(self.redeem(v["patient"]["code"]), 409,
                            "visit not started", "not started yet")
        self.assertEqual(
            self.srv.request("GET", "/v1/Rooms/consult-inv-1",
                             auth=self.key).status, 404)
        # The host link makes the room, with a waiting room.
        r = self.redeem(v["host"]["code"], "Dr Ana")
        self.assertEqual(r.status, 200, r.body)
        body = r.json()
        self.assertEqual(body["role"], "host")
        self.assertEqual(body["room_name"], "consult-inv-1")
        _, claims = jwt_decode_verify(body["token"], self.creds["key_secret"])
        self.assertEqual(claims["grants"]["video"]["room"], "consult-inv-1")
        self.assertEqual(claims["grants"]["video"]["role"], "host")
        self.assertEqual(claims["grants"]["video"]["name"], "Dr Ana")
        self.assertRegex(claims["grants"]["identity"], r"^host-[0-9a-f]{16}$")
        room = self.srv.request("GET", "/v1/Rooms/consult-inv-1",
                                auth=self.key)
        self.assertEqual(room.status, 200)
        self.assertTrue(room.json()["waiting_room"])
        # The host link works again (time-limited, not single-use), with a
        # new identity each time.
        again = self.redeem(v["host"]["code"], "Dr Ana")
        self.assertEqual(again.status, 200, again.body)
        self.assertNotEqual(again.json()["identity"], body["identity"])
        # The patient link: once, a guest; then told it was used.
        r = self.redeem(v["patient"]["code"].lower(), "Pat")
        self.assertEqual(r.status, 200, r.body)
        _, claims = jwt_decode_verify(r.json()["token"],
                                      self.creds["key_secret"])
        # No role claim: a guest (docs/tokens.md).
        self.assertEqual(claims["grants"]["video"].get("role", "guest"),
                         "guest")
        self.assertEqual(claims["grants"]["video"]["name"], "Pat")
        self.assertRegex(claims["grants"]["identity"], r"^guest-[0-9a-f]{16}$")
        self.assert_refused(self.redeem(v["patient"]["code"]), 410,
                            "invite used", "already been used")
        # The visit ends: the host link starts a new room, but a patient
        # link made before it says the visit has ended.
        v2 = self.visit({"UniqueName": "consult-inv-1", "MaxUses": 0})
        self.assertEqual(v2["patient"]["max_uses"], 0)
        done = self.srv.request("POST", "/v1/Rooms/consult-inv-1",
                                {"Status": "completed"}, auth=self.key)
        self.assertEqual(done.status, 200, done.body)
        self.assert_refused(self.redeem(v2["patient"]["code"]), 410,
                            "visit ended", "has ended")

    def test_time_limited_patient_link_and_expiry(self):
        v = self.visit({"UniqueName": "consult-inv-2", "MaxUses": 0,
                        "WaitingRoom": False, "Ttl": 3600})
        self.assertFalse(v["waiting_room"])
        self.assertEqual(self.redeem(v["host"]["code"]).status, 200)
        ids = set()
        for name in ("Pat", "Pat", "Fay"):
            r = self.redeem(v["patient"]["code"], name)
            self.assertEqual(r.status, 200, r.body)
            ids.add(r.json()["identity"])
        self.assertEqual(len(ids), 3)  # same names, different people
        # Past its time (set in the store, as an hour passing would).
        db = sqlite3.connect(os.path.join(self.srv.data_dir, "hq-server.db"))
        with db:
            db.execute("UPDATE invites SET expires = 1")
        db.close()
        for code in (v["patient"]["code"], v["host"]["code"]):
            self.assert_refused(self.redeem(code), 410, "invite expired",
                                "expired")
        # Long expired (over 30 days: expiry 1 ms after 1970), they go when
        # the next visit is made, and are then not known at all.
        self.visit()
        self.assert_refused(self.redeem(v["patient"]["code"]), 404,
                            "invite unknown", "not one of this server's")

    def test_the_store_keeps_no_code(self):
        v = self.visit()
        self.assertRegex(v["visit"], r"^visit-[2-9a-hj-np-z]{10}$")
        db = sqlite3.connect(os.path.join(self.srv.data_dir, "hq-server.db"))
        rows = db.execute("SELECT * FROM invites").fetchall()
        db.close()
        text = repr(rows)
        self.assertNotIn(v["host"]["code"], text)
        self.assertNotIn(v["patient"]["code"], text)

    def test_bad_codes(self):
        self.assert_refused(self.redeem("ZZZZZZZZZZ"), 404, "invite unknown",
                            "not one of this server's")
        self.assert_refused(self.redeem("short"), 404, "invite unknown",
                            "whole link")
        self.assert_refused(self.redeem("0000000000"), 404, "invite unknown",
                            "new one")
        r = self.srv.request("POST", "/token", {"invite": 12,
                                                "user_identity": "Pat"})
        self.assert_refused(r, 400, "invalid invite", "code of an invite")
        r = self.srv.request("POST", "/token", {"invite": "ZZZZZZZZZZ"})
        self.assert_refused(r, 400, "missing user_identity", "name")

    def test_bad_visit_parameters(self):
        for body, message, says in (
                ({"UniqueName": "a/b"}, "invalid UniqueName", "without"),
                ({"UniqueName": "RM" + "0" * 32}, "invalid UniqueName",
                 "room sid"),
                ({"UniqueName": "x" * 129}, "invalid UniqueName", "128"),
                ({"Ttl": 10}, "invalid Ttl", "60 to 2592000"),
                ({"Ttl": 10 ** 9}, "invalid Ttl", "60 to 2592000"),
                ({"MaxUses": -1}, "invalid MaxUses", "0 .* to 100"),
                ({"MaxUses": 101}, "invalid MaxUses", "0 .* to 100"),
                ({"WaitingRoom": "perhaps"}, "invalid parameter",
                 "WaitingRoom"),
                ({"Ttl": "soon"}, "invalid parameter", "Ttl")):
            with self.subTest(body=body):
                r = self.srv.request("POST", "/v1/Visits", body,
                                     auth=self.key)
                self.assert_refused(r, 400, message, says)
        r = self.srv.request("GET", "/v1/Visits", auth=self.key)
        self.assertEqual(r.status, 405)
        r = self.srv.request("POST", "/v1/Visits", {})
        self.assertEqual(r.status, 401)
        r = self.srv.request("POST", "/v1/Visits", {},
                             auth=(self.key[0], "wrong"))
        self.assertEqual(r.status, 401)

    def test_a_host_token_makes_visits_a_guest_token_does_not(self):
        def token(role, room):
            r = self.srv.request("POST", "/v1/AccessTokens",
                                 {"Identity": "dr-" + role, "Room": room,
                                  "Role": role}, auth=self.key)
            self.assertEqual(r.status, 201, r.body)
            return {"Authorization": "Bearer " + r.json()["token"]}

        host = token("host", "consult-inv-3")
        v = self.visit({}, headers=host, auth=None)
        self.assertRegex(v["visit"], r"^visit-")
        v = self.visit({"UniqueName": "consult-inv-3"}, headers=host,
                       auth=None)
        self.assertEqual(v["visit"], "consult-inv-3")
        r = self.srv.request("POST", "/v1/Visits",
                             {"UniqueName": "someone-elses"}, headers=host)
        self.assert_refused(r, 403, "not your visit", "its own room")
        r = self.srv.request("POST", "/v1/Visits", {},
                             headers=token("guest", "consult-inv-3"))
        self.assert_refused(r, 403, "not a host", "Only a host")
        forged = jwt_encode({"iss": self.creds["key_sid"],
                             "sub": self.creds["account_sid"],
                             "exp": int(time.time()) + 60,
                             "grants": {"identity": "x",
                                        "video": {"role": "host"}}},
                            "not-the-secret")
        r = self.srv.request("POST", "/v1/Visits", {},
                             headers={"Authorization": "Bearer " + forged})
        self.assert_refused(r, 401, "authentication failed", "signature")


class CommandLineAndRestart(unittest.TestCase):
    def test_invite_command_links_work_across_a_restart(self):
        with Server() as srv:
            out = subprocess.run(
                [SERVER_BIN, "invite", "consult-cli", "--data-dir",
                 srv.data_dir, "--url", srv.url + "/"],
                capture_output=True, text=True, env=srv.env, check=True)
            lines = out.stdout.splitlines()
            self.assertIn('Visit "consult-cli" (waiting room on)', lines[0])
            host = re.search(r"host: +(\S+)", out.stdout).group(1)
            patient = re.search(r"patient: +(\S+)", out.stdout).group(1)
            self.assertTrue(host.startswith(srv.url + "/#invite="), host)
            self.assertIn("The patient link works 1 time.", out.stdout)
            data_dir = srv.data_dir
            # Bad input: a clear message, exit 2.
            bad = subprocess.run(
                [SERVER_BIN, "invite", "a/b", "--data-dir", srv.data_dir],
                capture_output=True, text=True, env=srv.env)
            self.assertEqual(bad.returncode, 2)
            self.assertIn("without \"/\"", bad.stderr)
            bad = subprocess.run(
                [SERVER_BIN, "invite", "--ttl", "5", "--data-dir",
                 srv.data_dir], capture_output=True, text=True, env=srv.env)
            self.assertEqual(bad.returncode, 2)
            self.assertIn("60 to 2592000 seconds", bad.stderr)
            # A restart keeps the codes.
            self.assertEqual(srv.stop(), 0)
            srv._stderr.close()
            srv.proc = None
            srv.url = None
            srv.start()
            r = srv.request("POST", "/token", {"invite": code_of(host),
                                               "user_identity": "Dr Ana"})
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(r.json()["role"], "host")
            r = srv.request("POST", "/token", {"invite": code_of(patient),
                                               "user_identity": "Pat"})
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(r.json()["room_name"], "consult-cli")
            self.assertEqual(data_dir, srv.data_dir)


if __name__ == "__main__":
    unittest.main()
