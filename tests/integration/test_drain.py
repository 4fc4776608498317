"""Stopping hq-server gracefully (docs/server.md, "Stopping"): with
[server] drain_timeout set, SIGTERM lets the calls in progress go on, takes
no new participant, tells everyone when the server stops, and stops when
the rooms are empty or the timeout has passed.  Suite `server`.

Every wait is for an event (a message, a closed connection, the process's
exit), never for a fixed time.
"""
import signal
import subprocess
import unittest

from hqtest import Server
from hqws import Closed, Signal

WAIT = 60  # seconds, for any one event; generous under ASan


class Draining(unittest.TestCase):
    def start(self, drain_timeout):
        srv = Server(env={"HQ_DRAIN_TIMEOUT": str(drain_timeout)})
        srv.start()
        self.addCleanup(self.finish, srv)
        return srv

    def finish(self, srv):
        if srv.proc.poll() is None:
            srv.kill()
        srv.proc.stdout.close()
        srv._stderr.close()
        if srv._tmp:
            srv._tmp.cleanup()

    def join(self, srv, identity, room="visit"):
        c = Signal(srv.url)
        self.addCleanup(c.close)
        reply = c.join(srv.access_token(identity, room), room=room)
        return c, reply

    def exit_code(self, srv):
        try:
            return srv.proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.fail("hq-server did not stop:\n" + srv.stderr_text())

    def test_calls_go_on_and_the_server_stops_when_they_end(self):
        srv = self.start(drain_timeout=600)
        srv.create_room("visit")
        ana, reply = self.join(srv, "dr-ana")
        self.assertEqual(reply["type"], "joined", reply)
        pat, reply = self.join(srv, "patient")
        self.assertEqual(reply["type"], "joined", reply)
        resume = reply["resume_token"]
        self.assertEqual(srv.request("GET", "/healthz").status, 200)

        srv.proc.send_signal(signal.SIGTERM)
        # Everyone hears it, with the time the server stops.
        for c in (ana, pat):
            msg = c.wait_for("server_draining", timeout=WAIT)
            self.assertGreater(msg["seconds"], 500, msg)
            self.assertTrue(msg["deadline"].endswith("Z"), msg)
        # A load balancer sees it; the server is still there.
        r = srv.request("GET", "/healthz")
        self.assertEqual(r.status, 503, r.body)
        self.assertEqual(r.json()["status"], "draining")
        self.assertIsNone(srv.proc.poll())

        # Nobody new joins, and is told why.
        late, reply = self.join(srv, "family")
        self.assertEqual(reply["type"], "error", reply)
        self.assertEqual(reply["code"], "server_draining", reply)
        self.assertIn("shutting down", reply["message"])

        # The call goes on: a dropped connection resumes.
        pat.ws.drop()
        again = Signal(srv.url)
        self.addCleanup(again.close)
        reply = again.join(srv.access_token("patient", "visit"), room="visit",
                           resume_token=resume)
        self.assertEqual(reply["type"], "joined", reply)
        chat = ana.request("chat_send", body="still here")
        self.assertEqual(chat["type"], "chat_sent", chat)
        self.assertIsNone(srv.proc.poll())

        # The last one out stops the server.
        self.assertEqual(ana.request("leave")["type"], "left")
        self.assertIsNone(srv.proc.poll())
        self.assertEqual(again.request("leave")["type"], "left")
        self.assertEqual(self.exit_code(srv), 0, srv.stderr_text())
        self.assertIn("drained", srv.stderr_text())

    def test_the_timeout_ends_what_is_left(self):
        srv = self.start(drain_timeout=2)
        srv.create_room("visit")
        ana, reply = self.join(srv, "dr-ana")
        self.assertEqual(reply["type"], "joined", reply)
        srv.proc.send_signal(signal.SIGTERM)
        msg = ana.wait_for("server_draining", timeout=WAIT)
        self.assertLessEqual(msg["seconds"], 2, msg)
        code, _ = ana.ws.wait_closed(timeout=WAIT)
        self.assertEqual(code, 1001)
        self.assertEqual(self.exit_code(srv), 0, srv.stderr_text())
        self.assertIn("drain timeout has passed", srv.stderr_text())

    def test_a_second_sigterm_stops_at_once(self):
        srv = self.start(drain_timeout=600)
        srv.create_room("visit")
        ana, _ = self.join(srv, "dr-ana")
        srv.proc.send_signal(signal.SIGTERM)
        ana.wait_for("server_draining", timeout=WAIT)
        srv.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.exit_code(srv), 0, srv.stderr_text())
        self.assertIn("again while draining", srv.stderr_text())

    def test_an_empty_server_and_sigint_stop_at_once(self):
        srv = self.start(drain_timeout=600)
        srv.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.exit_code(srv), 0, srv.stderr_text())
        srv = self.start(drain_timeout=600)
        srv.create_room("visit")
        ana, _ = self.join(srv, "dr-ana")
        srv.proc.send_signal(signal.SIGINT)
        self.assertEqual(self.exit_code(srv), 0, srv.stderr_text())
        try:
            ana.wait_for("server_draining", timeout=WAIT)
            self.fail("SIGINT drained")
        except Closed as e:
            self.assertEqual(e.code, 1001)


if __name__ == "__main__":
    unittest.main(verbosity=2)
