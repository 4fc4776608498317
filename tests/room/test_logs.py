"""Logs that explain a failed call (issue 15, point 5): with
GST_DEBUG=hqroomsrc:5,hqtransport:5, a gst-launch-1.0 hqroomsrc that
cannot reach its server, and one whose ICE fails, print lines that say what
failed and why (the lines docs/troubleshooting.md quotes).

ICE fails for real: the subscriber reaches hq-server through a WebSocket
proxy that turns every ICE candidate in the signalling, both ways, into a
UDP port that takes datagrams and never answers, so no check of either
side is ever answered.
"""
import os
import re
import socket
import struct
import subprocess
import threading
import time
import unittest

import hqtest
from test_room import (DEADLINE, GST_LAUNCH, Launch, count, launch_env,
                       make_room)

DEBUG = "hqroomsrc:5,hqtransport:5"
CANDIDATE = re.compile(r"(candidate:\S+ \d+ \S+ \d+ )(\S+) (\d+)( typ)")


def free_port():
    """A TCP port nothing listens on (connections to it are refused)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def read_head(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed during the handshake")
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    return head + b"\r\n\r\n", rest


class CandidateProxy:
    """Forwards WebSocket signalling from 127.0.0.1:port to @upstream
    (host, port), rewriting every ICE candidate's address to @dead."""

    def __init__(self, upstream, dead):
        self.upstream, self.dead = upstream, dead
        self.rewritten = 0
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.listener.close()

    def _rewrite(self, text):
        def sub(m):
            self.rewritten += 1
            return f"{m.group(1)}127.0.0.1 {self.dead}{m.group(4)}"
        return CANDIDATE.sub(sub, text)

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,),
                             daemon=True).start()

    def _serve(self, client):
        server = socket.create_connection(self.upstream)
        try:
            head, rest = read_head(client)
            server.sendall(head + rest)
            head, rest = read_head(server)
            client.sendall(head)
            threading.Thread(target=self._pump, args=(server, client, rest,
                                                      False),
                             daemon=True).start()
            self._pump(client, server, b"", True)
        except OSError:
            pass
        finally:
            for s in (client, server):
                try:
                    s.close()
                except OSError:
                    pass

    def _pump(self, src, dst, buf, from_client):
        """Frames from @src to @dst; text frames rewritten (client frames
        are masked, RFC 6455 5.3, and stay so)."""
        while True:
            frame = self._frame(buf)
            if frame is None:
                chunk = src.recv(65536)
                if not chunk:
                    dst.close()
                    return
                buf += chunk
                continue
            b0, payload, buf = frame
            if b0 == 0x81:  # a whole text frame
                payload = self._rewrite(payload.decode()).encode()
            dst.sendall(self._encode(b0, payload, from_client))

    @staticmethod
    def _frame(buf):
        if len(buf) < 2:
            return None
        n, pos = buf[1] & 0x7F, 2
        if n == 126:
            if len(buf) < 4:
                return None
            n, pos = struct.unpack("!H", buf[2:4])[0], 4
        elif n == 127:
            if len(buf) < 10:
                return None
            n, pos = struct.unpack("!Q", buf[2:10])[0], 10
        mask = b""
        if buf[1] & 0x80:
            mask, pos = buf[pos:pos + 4], pos + 4
        if len(buf) < pos + n:
            return None
        data = buf[pos:pos + n]
        if mask:
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        return buf[0], data, buf[pos + n:]

    @staticmethod
    def _encode(b0, payload, masked):
        n = len(payload)
        bit = 0x80 if masked else 0
        if n < 126:
            head = bytes([b0, bit | n])
        elif n < 65536:
            head = bytes([b0, bit | 126]) + struct.pack("!H", n)
        else:
            head = bytes([b0, bit | 127]) + struct.pack("!Q", n)
        if not masked:
            return head + payload
        mask = os.urandom(4)
        return head + mask + bytes(b ^ mask[i % 4]
                                   for i, b in enumerate(payload))


class Logs(unittest.TestCase):
    def setUp(self):
        self.server = hqtest.Server()
        self.server.start()
        self.addCleanup(self.server.__exit__, None, None, None)
        creds = hqtest.read_credentials(self.server.data_dir)
        self.env = launch_env(self.server, creds)
        self.env["GST_DEBUG"] = DEBUG
        self.env["GST_DEBUG_NO_COLOR"] = "1"
        make_room(self.server, (creds["key_sid"], creds["key_secret"]),
                  "logs")

    def run_src(self, server_url, extra=""):
        """gst-launch-1.0 hqroomsrc against @server_url until it fails;
        its output (debug lines included)."""
        argv = [GST_LAUNCH, "hqroomsrc", f"server={server_url}", "room=logs",
                "identity=viewer"] + extra.split()
        proc = subprocess.run(argv, env=self.env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=4 * DEADLINE)
        text = proc.stdout.decode(errors="replace")
        print(text)
        self.assertNotEqual(proc.returncode, 0, text)
        return text

    def test_server_unreachable(self):
        port = free_port()
        text = self.run_src(f"http://127.0.0.1:{port}",
                            "reconnect-timeout=1500")
        self.assertRegex(
            text, rf"INFO +hqroomsrc .*connecting to http://127\.0\.0\.1:"
            rf"{port}, room logs")
        self.assertRegex(
            text, rf"ERROR +hqroomsrc .*the room client gave up: lost the "
            rf"server at ws://127\.0\.0\.1:{port}/v1/signal and could not "
            r"reconnect within 1500 ms: .*Connection refused")

    def test_ice_fails(self):
        # a publisher, so that the subscriber gets an offer to answer
        pub = Launch(
            f"hqroomsink name=s server={self.server.url} room=logs "
            "identity=alice audiotestsrc is-live=true ! s.audio_0", self.env,
            verbose=False)
        self.addCleanup(pub.stop)
        dead = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        dead.bind(("127.0.0.1", 0))
        self.addCleanup(dead.close)
        host, port = self.server.url.split("//")[1].split(":")
        proxy = CandidateProxy((host, int(port)), dead.getsockname()[1])
        self.addCleanup(proxy.close)
        # ICE fails after libnice's checks time out (about 25 s); the
        # element goes on, so it is stopped once the lines are there
        src = Launch(None, self.env, argv=[
            GST_LAUNCH, "hqroomsrc", f"server=http://127.0.0.1:{proxy.port}",
            "room=logs", "identity=viewer"])
        self.addCleanup(src.stop)
        failed = re.compile(r"subscribe: transport \S+ -> failed")
        try:
            src.wait_for(lambda lines: count(lines, failed.pattern),
                         "the subscribe transport to fail", deadline=3 * DEADLINE)
        finally:
            text = "\n".join(src.lines)
            print(text)
        self.assertGreater(proxy.rewritten, 0, "no candidate went through")
        # which transport, of whom, and why: the candidates it had
        self.assertRegex(
            text, r"WARN +hqtransport .*: PA\w+ subscribe: ICE failed: no "
            r"candidate pair answered the checks; local candidates \d+ "
            r"\(host .*\), remote candidates \d+ \(host 127\.0\.0\.1:"
            + str(dead.getsockname()[1]))
        self.assertRegex(
            text, r"WARN +hqtransport .*: PA\w+ subscribe: transport "
            r"connecting -> failed: ICE failed: no candidate pair could "
            r"connect")
        # hq-server's structured lines: the publisher's ICE and DTLS steps
        # with the selected pair, and the subscriber's ICE failure with the
        # candidates it had
        end = time.monotonic() + 3 * DEADLINE
        while True:
            events = self.server.log_events()
            failed = [e for e in events if e.get("event") == "ice"
                      and e.get("state") == "failed"]
            if failed or time.monotonic() > end:
                break
            time.sleep(0.2)
        log = self.server.stderr_text()
        print("\n".join(line for line in log.splitlines() if re.search(
            r'"event":"(ice|dtls|transport)"', line)))
        self.assertTrue(failed, "no ice failed line:\n" + log)
        self.assertEqual(failed[0]["transport"], "subscribe", failed[0])
        self.assertRegex(failed[0]["remote_candidates"],
                         r"^\d+ \(host 127\.0\.0\.1:" + str(
                             dead.getsockname()[1]))
        pub_ice = [e for e in events if e.get("event") == "ice"
                   and e.get("transport") == "publish"
                   and e.get("state") in ("connected", "ready")]
        self.assertTrue(pub_ice and "local" in pub_ice[0]
                        and "remote" in pub_ice[0], log)
        self.assertTrue([e for e in events if e.get("event") == "dtls"
                         and e.get("transport") == "publish"
                         and e.get("state") == "connected"], log)
        self.assertEqual(count(text.splitlines(), r"ICE selected pair"), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
