"""A small RFC 6455 WebSocket client (Python standard library only) and a
signalling client on top of it, for tests and the load benchmark.

- encode_frame / FrameParser: the framing, shared by both clients;
- WsClient: blocking, one socket, for tests; every wait has a deadline;
- AsyncWsClient: asyncio streams, for many connections at once;
- Signal: the hqrooms protocol (docs/protocol.md) over a WsClient: requests
  with ids, replies matched by id, events queued for wait_for().
"""
import asyncio
import base64
import collections
import hashlib
import itertools
import json
import os
import select
import socket
import struct
import time
import urllib.parse

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10
TIMEOUT = 30  # seconds; generous for a loaded machine under ASan


class Closed(Exception):
    """The server closed the connection; .code and .reason say how."""

    def __init__(self, code, reason):
        super().__init__(f"closed {code} {reason}")
        self.code = code
        self.reason = reason


def encode_frame(opcode, payload: bytes, fin=True) -> bytes:
    """A client frame: always masked, as RFC 6455 section 5.3 requires."""
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


class FrameParser:
    """Feed bytes, take whole frames (opcode, payload); reassembles
    fragmented messages."""

    def __init__(self):
        self.buf = b""
        self.partial = None

    def feed(self, data):
        self.buf += data

    def frames(self):
        while True:
            if len(self.buf) < 2:
                return
            b0, b1 = self.buf[0], self.buf[1]
            n = b1 & 0x7F
            pos = 2
            if n == 126:
                if len(self.buf) < 4:
                    return
                n = struct.unpack("!H", self.buf[2:4])[0]
                pos = 4
            elif n == 127:
                if len(self.buf) < 10:
                    return
                n = struct.unpack("!Q", self.buf[2:10])[0]
                pos = 10
            if b1 & 0x80:
                pos += 4  # servers never mask, but parse it anyway
            if len(self.buf) < pos + n:
                return
            payload = self.buf[pos:pos + n]
            self.buf = self.buf[pos + n:]
            opcode, fin = b0 & 0x0F, b0 & 0x80
            if opcode == OP_CONT:
                op, data = self.partial
                self.partial = (op, data + payload)
                if fin:
                    yield self.partial
                    self.partial = None
            elif opcode in (OP_TEXT, OP_BINARY) and not fin:
                self.partial = (opcode, payload)
            else:
                yield opcode, payload


def handshake_request(url):
    u = urllib.parse.urlsplit(url)
    key = base64.b64encode(os.urandom(16)).decode()
    req = (f"GET {u.path or '/'} HTTP/1.1\r\nHost: {u.netloc}\r\n"
           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
    accept = base64.b64encode(hashlib.sha1(
        (key + GUID).encode()).digest()).decode()
    return u, req.encode(), accept


def check_handshake(head: bytes, accept):
    lines = head.decode("latin-1").split("\r\n")
    if " 101 " not in lines[0]:
        raise ConnectionError(f"handshake refused: {lines[0]}")
    if f"sec-websocket-accept: {accept}".lower() not in (
            line.lower() for line in lines):
        raise ConnectionError("bad Sec-WebSocket-Accept")


def close_payload(data):
    if len(data) >= 2:
        return struct.unpack("!H", data[:2])[0], data[2:].decode(
            errors="replace")
    return 1005, ""


def take_frames(client, send):
    """Moves the parsed frames of @client into client.pending (messages)
    and client.closed, answering pings and the close through @send.
    Returns True when a message is pending."""
    for opcode, payload in client.parser.frames():
        if opcode == OP_PING:
            send(OP_PONG, payload)
        elif opcode == OP_CLOSE:
            client.closed = close_payload(payload)
            try:
                send(OP_CLOSE, payload[:2])
            except OSError:
                pass
        elif opcode in (OP_TEXT, OP_BINARY):
            client.pending.append(payload)
    return bool(client.pending)


class WsClient:
    def __init__(self, url, timeout=TIMEOUT):
        u, req, accept = handshake_request(url)
        self.sock = socket.create_connection((u.hostname, u.port),
                                             timeout=timeout)
        self.sock.sendall(req)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed during handshake")
            head += chunk
        head, rest = head.split(b"\r\n\r\n", 1)
        check_handshake(head, accept)
        self.parser = FrameParser()
        self.parser.feed(rest)
        self.pending = collections.deque()
        self.closed = None  # (code, reason) once the server closed

    def send_frame(self, opcode, payload, fin=True):
        self.sock.sendall(encode_frame(opcode, payload, fin))

    def send_text(self, text):
        self.send_frame(OP_TEXT, text.encode())

    def recv(self, timeout=TIMEOUT):
        """The next text or binary message; raises Closed or TimeoutError."""
        deadline = time.monotonic() + timeout
        while True:
            if take_frames(self, lambda op, data: self.send_frame(op, data)):
                return self.pending.popleft()
            if self.closed:
                raise Closed(*self.closed)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no message in time")
            ready, _, _ = select.select([self.sock], [], [], left)
            if ready:
                try:
                    data = self.sock.recv(65536)
                except ConnectionResetError:
                    data = b""
                if not data:
                    self.closed = self.closed or (1006, "")
                    raise Closed(*self.closed)
                self.parser.feed(data)

    def wait_closed(self, timeout=TIMEOUT):
        """Reads until the server closes; returns (code, reason)."""
        while True:
            try:
                self.recv(timeout)
            except Closed as e:
                return e.code, e.reason

    def close(self, code=1000):
        try:
            self.send_frame(OP_CLOSE, struct.pack("!H", code))
        except OSError:
            pass
        self.sock.close()

    def drop(self):
        """Vanishes without a closing handshake, like a lost network."""
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


class Signal:
    """One participant's signalling connection."""

    _ids = itertools.count(1)

    def __init__(self, server_url):
        self.ws = WsClient(server_url.replace("http://", "ws://")
                           + "/v1/signal")
        self.events = collections.deque()

    def send(self, msg):
        self.ws.send_text(json.dumps(msg))

    def _next(self, timeout):
        return json.loads(self.ws.recv(timeout))

    def request(self, type_, timeout=TIMEOUT, **fields):
        """Sends a request and returns the reply with its id (an `error`
        reply included); events that arrive meanwhile are queued."""
        rid = f"r{next(self._ids)}"
        self.send({"type": type_, "id": rid, **fields})
        deadline = time.monotonic() + timeout
        while True:
            msg = self._next(max(deadline - time.monotonic(), 0.001))
            if msg.get("id") == rid:
                return msg
            self.events.append(msg)

    def wait_for(self, type_, pred=lambda m: True, timeout=TIMEOUT):
        """The first queued or arriving message of @type_ matching @pred;
        messages before it stay queued."""
        for msg in list(self.events):
            if msg["type"] == type_ and pred(msg):
                self.events.remove(msg)
                return msg
        deadline = time.monotonic() + timeout
        while True:
            msg = self._next(max(deadline - time.monotonic(), 0.001))
            if msg["type"] == type_ and pred(msg):
                return msg
            self.events.append(msg)

    def join(self, token, **fields):
        return self.request("join", token=token, **fields)

    def close(self):
        self.ws.close()


class AsyncWsClient:
    """The same client on asyncio streams, for the load benchmark."""

    @classmethod
    async def connect(cls, url):
        self = cls()
        u, req, accept = handshake_request(url)
        self.reader, self.writer = await asyncio.open_connection(
            u.hostname, u.port)
        self.writer.write(req)
        head = await self.reader.readuntil(b"\r\n\r\n")
        check_handshake(head[:-4], accept)
        self.parser = FrameParser()
        self.pending = collections.deque()
        self.closed = None
        return self

    def send_text(self, text):
        self.writer.write(encode_frame(OP_TEXT, text.encode()))

    async def recv(self):
        while True:
            if take_frames(self, lambda op, data: self.writer.write(
                    encode_frame(op, data))):
                return self.pending.popleft()
            if self.closed:
                raise Closed(*self.closed)
            data = await self.reader.read(65536)
            if not data:
                raise Closed(*(self.closed or (1006, "")))
            self.parser.feed(data)

    async def close(self):
        try:
            self.writer.write(encode_frame(OP_CLOSE, struct.pack("!H", 1000)))
            await self.writer.drain()
        except OSError:
            pass
        self.writer.close()
