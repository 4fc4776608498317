"""Resource limits that hold before the resource is spent (issue 14, point
3): what one client without credentials can make hq-server hold (memory,
connections, descriptors, requests) is bounded, and the server keeps
answering.  Each case starts a real hq-server with the limit under test
made small (docs/configuration.md), so the tests wait seconds, not
minutes; every wait is for an event, with a deadline.  Suite `security`.
"""
import base64
import contextlib
import functools
import hashlib
import json
import os
import resource
import select
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import zlib
from unittest import mock

from hqtest import Server
from hqws import GUID, OP_TEXT, Closed, Signal, WsClient

MB = 1024 * 1024
DEADLINE = 30  # seconds; generous for a loaded machine under ASan


def raise_own_fd_limit(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < want:
        raise unittest.SkipTest(f"cannot open {want} descriptors here")


def status_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def host_port(srv):
    host, port = srv.url.split("//", 1)[1].rsplit(":", 1)
    return host, int(port)


def connect(srv, timeout=DEADLINE):
    return socket.create_connection(host_port(srv), timeout=timeout)


def read_response(sock, deadline):
    """Status code, headers (lower-case names) and body of one HTTP
    response, or None when the connection ends (or the deadline passes)
    before a whole one arrived."""
    buf = b""
    while True:
        if b"\r\n\r\n" in buf:
            head, body = buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            headers = {k.strip().lower(): v.strip() for k, v in
                       (line.split(":", 1) for line in lines[1:])}
            if len(body) >= int(headers.get("content-length", 0)):
                return int(lines[0].split()[1]), headers, body
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        if not poller.poll(left * 1000):
            continue
        try:
            chunk = sock.recv(65536)
        except OSError:
            return None
        if not chunk:
            return None
        buf += chunk


def healthz_ok(srv, timeout=5):
    """Whether GET /healthz is answered 200 within @timeout seconds."""
    try:
        with connect(srv, timeout) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n"
                      b"Connection: close\r\n\r\n")
            r = read_response(s, time.monotonic() + timeout)
            return r is not None and r[0] == 200
    except OSError:
        return False


def wait_until(pred, timeout=DEADLINE, what="condition"):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.05)


def log_has(srv, event):
    return any(e.get("event") == event for e in srv.log_events())


class Sender(threading.Thread):
    """Sends @chunks (an iterator of bytes) until it ends or the server
    stops taking them; counts what it sent."""

    def __init__(self, sock, chunks):
        super().__init__(daemon=True)
        self.sock, self.chunks, self.sent = sock, chunks, 0

    def run(self):
        try:
            for chunk in self.chunks:
                self.sock.sendall(chunk)
                self.sent += len(chunk)
        except OSError:
            pass


class Bodies(unittest.TestCase):
    """A body over 64 KiB is refused before it is read."""

    def refused_without_buffering(self, head, chunks):
        with Server() as srv:
            before = status_kb(srv.proc.pid, "VmRSS")
            with connect(srv) as s:
                s.sendall(head)
                sender = Sender(s, chunks)
                sender.start()
                reply = read_response(s, time.monotonic() + DEADLINE)
                self.assertIsNotNone(reply, "no answer to the request")
                code, headers, body = reply
                self.assertEqual(code, 413, body)
                self.assertEqual(headers.get("connection"), "close")
                self.assertEqual(json.loads(body)["error"]["message"],
                                 "request too large")
                # The server closes: the sender stops long before 300 MB.
                sender.join(DEADLINE)
                self.assertFalse(sender.is_alive(),
                                 "the server kept reading the body")
            grown = status_kb(srv.proc.pid, "VmHWM") - before
            self.assertLess(grown, 10 * 1024,
                            f"server memory grew by {grown} kB")
            self.assertTrue(healthz_ok(srv))

    def test_oversize_content_length(self):
        head = (b"POST /token HTTP/1.1\r\nHost: t\r\n"
                b"Content-Type: application/json\r\n"
                b"Content-Length: 10000000000\r\n\r\n")
        zeros = b"0" * MB
        self.refused_without_buffering(head, (zeros for _ in range(300)))

    def test_chunked_body_over_limit(self):
        head = (b"POST /token HTTP/1.1\r\nHost: t\r\n"
                b"Content-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"%x\r\n" % (64 * 1024) + b" " * (64 * 1024) + b"\r\n"
        self.refused_without_buffering(
            head, (chunk for _ in range(300 * 16)))


def deflate_handshake(srv):
    """Opens /v1/signal offering permessage-deflate; returns the socket
    and the response head."""
    key = base64.b64encode(os.urandom(16)).decode()
    s = connect(srv)
    s.sendall((f"GET /v1/signal HTTP/1.1\r\nHost: t\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Extensions: permessage-deflate; "
               "client_max_window_bits\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            raise AssertionError("closed during the handshake")
        head += chunk
    head = head.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    accept = base64.b64encode(hashlib.sha1(
        (key + GUID).encode()).digest()).decode()
    assert accept in head, head
    return s, head


def bomb_frame(inflated_mb):
    """One compressed text frame (RSV1 set) that inflates to
    @inflated_mb MiB of spaces, as a client that negotiated
    permessage-deflate would send it."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = b" " * MB
    data = b"".join(comp.compress(block) for _ in range(inflated_mb))
    data += comp.flush(zlib.Z_SYNC_FLUSH)
    data = data[:-4]  # RFC 7692: the empty block's tail is left off
    mask = os.urandom(4)
    n = len(data)
    head = bytes([0x80 | 0x40 | OP_TEXT, 0x80 | 127]) + n.to_bytes(8, "big")
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    return head + mask + masked


class Deflate(unittest.TestCase):
    def test_deflate_bomb_refused(self):
        with Server() as srv:
            s, head = deflate_handshake(srv)
            with s:
                self.assertIn(" 101 ", head.split("\r\n")[0])
                self.assertNotIn("permessage-deflate", head.lower(),
                                 "the server negotiated permessage-deflate")
                # Sent anyway: a compressed frame on a connection without
                # the extension is a protocol error, never inflated.
                s.sendall(bomb_frame(200))
                for _ in range(3):
                    self.assertTrue(healthz_ok(srv),
                                    "/healthz did not answer")
                s.settimeout(DEADLINE)
                try:
                    while s.recv(65536):
                        pass
                except OSError:
                    pass  # closed, with or without a closing handshake
            self.assertTrue(healthz_ok(srv))


class Timeouts(unittest.TestCase):
    def test_idle_sockets_closed(self):
        """2,000 connections that never send a byte, and one kept alive
        after a request, are all closed after the timeouts."""
        raise_own_fd_limit(2200)
        env = {"HQ_REQUEST_TIMEOUT": "2", "HQ_IDLE_TIMEOUT": "2",
               "HQ_CONNECTIONS_PER_IP": "5000"}
        with Server(env=env) as srv:
            socks = []
            try:
                kept = connect(srv)
                socks.append(kept)
                kept.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                reply = read_response(kept, time.monotonic() + DEADLINE)
                self.assertEqual(reply[0], 200)
                for _ in range(2000):
                    socks.append(connect(srv))
                poller = select.poll()
                open_ = {s.fileno(): s for s in socks}
                for fd in open_:
                    poller.register(fd, select.POLLIN)
                deadline = time.monotonic() + 60
                while open_ and time.monotonic() < deadline:
                    for fd, _ in poller.poll(1000):
                        try:
                            data = open_[fd].recv(4096)
                        except OSError:
                            data = b""
                        if not data:
                            poller.unregister(fd)
                            del open_[fd]
                self.assertEqual(len(open_), 0,
                                 f"{len(open_)} of 2001 idle connections "
                                 "still open")
                self.assertTrue(log_has(srv, "connection_timeout"))
                self.assertTrue(healthz_ok(srv))
            finally:
                for s in socks:
                    s.close()

    def test_slow_requests_closed(self):
        """Requests sent a byte at a time, headers or body, are closed
        after the request timeout however steadily the bytes come."""
        env = {"HQ_REQUEST_TIMEOUT": "2", "HQ_CONNECTIONS_PER_IP": "1000"}
        with Server(env=env) as srv:
            heads = [b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: ",
                     b"POST /token HTTP/1.1\r\nHost: t\r\n"
                     b"Content-Type: application/json\r\n"
                     b"Content-Length: 100000\r\n\r\n{\"a\":\""]
            open_ = {}
            try:
                for i in range(250):
                    s = connect(srv)
                    s.sendall(heads[i % 2])
                    open_[s.fileno()] = s
                poller = select.poll()
                for fd in open_:
                    poller.register(fd, select.POLLIN)
                deadline = time.monotonic() + DEADLINE
                while open_ and time.monotonic() < deadline:
                    # The attacker's pace: one more byte each 0.3 s.
                    for fd, _ in poller.poll(300):
                        try:
                            data = open_[fd].recv(4096)
                        except OSError:
                            data = b""
                        if not data:
                            poller.unregister(fd)
                            open_.pop(fd).close()
                    for fd, s in list(open_.items()):
                        try:
                            s.send(b"a")
                        except OSError:
                            poller.unregister(fd)
                            open_.pop(fd).close()
                self.assertEqual(len(open_), 0,
                                 f"{len(open_)} of 250 slow requests "
                                 "still open")
                self.assertTrue(healthz_ok(srv))
            finally:
                for s in open_.values():
                    s.close()

    def test_websocket_without_join_closed(self):
        with Server(env={"HQ_JOIN_TIMEOUT": "2"}) as srv:
            ws = WsClient(srv.url.replace("http://", "ws://") + "/v1/signal")
            code, reason = ws.wait_closed(timeout=20)
            self.assertEqual(code, 4006, reason)
            ws.close()


def low_fd_limit(n):
    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
    return limit


class Descriptors(unittest.TestCase):
    def test_descriptor_exhaustion_survived(self):
        """Out of descriptors the server logs it, and once the flood
        leaves it accepts again by itself."""
        raise_own_fd_limit(1000)
        popen = functools.partial(subprocess.Popen,
                                  preexec_fn=low_fd_limit(256))
        env = {"HQ_REQUEST_TIMEOUT": "0", "HQ_CONNECTIONS_PER_IP": "0"}
        with mock.patch.object(subprocess, "Popen", popen):
            srv = Server(env=env)
            srv.start()
        with contextlib.ExitStack() as stack:
            stack.callback(srv.__exit__, None, None, None)
            socks = []
            try:
                for _ in range(400):
                    socks.append(connect(srv, 10))
                wait_until(lambda: log_has(srv, "accept_failed"),
                           what="a log line about the failed accept")
                self.assertFalse(healthz_ok(srv, 1),
                                 "the server accepted with no descriptors")
            finally:
                for s in socks:
                    s.close()
            wait_until(lambda: healthz_ok(srv, 2),
                       what="/healthz answering after the flood")
            self.assertTrue(log_has(srv, "accept_recovered"))


class PerAddress(unittest.TestCase):
    def test_connection_cap(self):
        with Server(env={"HQ_CONNECTIONS_PER_IP": "5"}) as srv:
            held = [connect(srv) for _ in range(5)]
            try:
                with connect(srv) as s:
                    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                    reply = read_response(s, time.monotonic() + DEADLINE)
                    self.assertIsNotNone(reply)
                    code, headers, body = reply
                    self.assertEqual(code, 429, body)
                    self.assertEqual(json.loads(body)["error"]["message"],
                                     "too many connections")
                held.pop().close()
                wait_until(lambda: healthz_ok(srv),
                           what="a connection after one closed")
            finally:
                for s in held:
                    s.close()

    def test_token_rate_limit(self):
        with Server(env={"HQ_TOKEN_RATE": "3"}) as srv:
            body = {"user_identity": "a", "room_name": "r0",
                    "create_room": False,
                    "passcode": srv.credentials()["passcode"]}
            for _ in range(3):
                self.assertEqual(srv.request("POST", "/token", body).status,
                                 200)
            r = srv.request("POST", "/token", body)
            self.assertEqual(r.status, 429, r.body)
            self.assertGreaterEqual(int(r.headers["Retry-After"]), 1)
            self.assertEqual(r.json()["error"]["message"],
                             "too many requests")
            self.assertEqual(r.json()["status"], 429)

    def test_limits_from_config_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            conf = os.path.join(tmp, "hq-server.conf")
            with open(conf, "w") as f:
                f.write("[limits]\ntoken_rate=1\n")
            with Server(args=["--config", conf]) as srv:
                body = {"user_identity": "a", "room_name": "r",
                        "passcode": srv.credentials()["passcode"]}
                self.assertEqual(srv.request("POST", "/token", body).status,
                                 200)
                self.assertEqual(srv.request("POST", "/token", body).status,
                                 429)
            with open(conf, "w") as f:
                f.write("[limits]\njoin_timeout=soon\n")
            with self.assertRaises(AssertionError) as ctx:
                Server(args=["--config", conf]).start()
            self.assertIn("limits.join_timeout must be a whole number",
                          str(ctx.exception))

    def test_room_creation_rate_limit(self):
        env = {"HQ_ROOM_CREATE_RATE": "2"}
        with Server(env=env) as srv:
            passcode = srv.credentials()["passcode"]
            for i in range(2):
                r = srv.request("POST", "/token", {"user_identity": "a",
                                                   "room_name": f"new{i}",
                                                   "passcode": passcode})
                self.assertEqual(r.status, 200, r.body)
            r = srv.request("POST", "/token", {"user_identity": "a",
                                               "room_name": "new2",
                                               "passcode": passcode})
            self.assertEqual(r.status, 429, r.body)
            self.assertIn("new rooms", r.json()["error"]["explanation"])
            # Rooms that exist are not created: their tokens still come.
            r = srv.request("POST", "/token", {"user_identity": "b",
                                               "room_name": "new0",
                                               "passcode": passcode})
            self.assertEqual(r.status, 200, r.body)

    def test_join_rate_limit(self):
        with Server(env={"HQ_JOIN_RATE": "2"}) as srv:
            sig = Signal(srv.url)
            try:
                for _ in range(2):
                    reply = sig.join("not-a-token", room="r")
                    self.assertEqual(reply["code"], "invalid_token")
                reply = sig.join("not-a-token", room="r")
                self.assertEqual(reply["type"], "error")
                self.assertEqual(reply["code"], "rate_limited",
                                 reply["message"])
            except Closed as e:
                self.fail(f"closed {e.code} {e.reason}")
            finally:
                sig.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
