"""Helpers for hqrooms integration tests: a real hq-server process on an
ephemeral loopback port, HTTP requests against it, and an independent JWT
implementation (Python's standard library only) to check tokens against.

Nothing here waits for a fixed time: the server is ready when it prints its
"listening on" line, and it is gone when its process has exited.
"""
import base64
import hashlib
import hmac
import json
import os
import select
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

SERVER_BIN = os.environ.get("HQ_SERVER_BIN", "hq-server")
START_TIMEOUT = 60  # seconds; generous for a loaded CI machine under ASan


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_encode(payload: dict, secret: str, header=None) -> str:
    """Signs like Twilio's helper libraries do."""
    if header is None:
        header = {"typ": "JWT", "alg": "HS256", "cty": "twilio-fpa;v=1"}
    h = b64url(json.dumps(header, separators=(",", ":")).encode())
    p = b64url(json.dumps(payload, separators=(",", ":")).encode())
    sig = hmac.new(secret.encode(), f"{h}.{p}".encode(), hashlib.sha256)
    return f"{h}.{p}.{b64url(sig.digest())}"


def jwt_decode_verify(token: str, secret: str):
    """Returns (header, payload) when the HS256 signature matches, else
    raises ValueError."""
    h, p, s = token.split(".")
    expect = hmac.new(secret.encode(), f"{h}.{p}".encode(),
                      hashlib.sha256).digest()
    if not hmac.compare_digest(expect, b64url_decode(s)):
        raise ValueError("signature mismatch")
    return json.loads(b64url_decode(h)), json.loads(b64url_decode(p))


def read_credentials(data_dir: str) -> dict:
    creds = {}
    with open(os.path.join(data_dir, "credentials.conf")) as f:
        for line in f:
            if "=" in line and not line.startswith("#"):
                k, v = line.strip().split("=", 1)
                creds[k] = v
    return creds


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)


class Server:
    """A running hq-server.  Use as a context manager; on exit it sends
    SIGTERM and checks the process stopped cleanly (exit 0, which under
    ASan also means no leak was found)."""

    def __init__(self, env=None, args=(), data_dir=None):
        self._tmp = None
        if data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="hq-test-")
            data_dir = os.path.join(self._tmp.name, "data")
        self.data_dir = data_dir
        self.env = dict(os.environ)
        for k in list(self.env):
            if k.startswith(("HQ_", "TWILIO_")) and k != "HQ_SERVER_BIN":
                del self.env[k]
        self.env.update(env or {})
        self.args = list(args)
        self.proc = None
        self.url = None
        self.stdout_lines = []
        self._final_log = ""

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        code = self.stop()
        if self._tmp:
            self._tmp.cleanup()
        log = self.stderr_text()
        self._stderr.close()
        self._final_log = log
        if exc_type is None and code != 0:
            raise AssertionError(f"hq-server exited with {code}:\n{log}")

    def start(self):
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [SERVER_BIN, "--data-dir", self.data_dir, "--listen",
             "127.0.0.1:0"] + self.args,
            stdout=subprocess.PIPE, stderr=self._stderr, env=self.env)
        deadline = time.monotonic() + START_TIMEOUT
        buf = b""
        while self.url is None:
            left = deadline - time.monotonic()
            if left <= 0:
                self.proc.kill()
                raise AssertionError("hq-server did not start in time:\n"
                                     + self.stderr_text())
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                self.proc.wait()
                self.proc.stdout.close()
                raise AssertionError(
                    f"hq-server exited with {self.proc.returncode} before "
                    f"listening:\n{self.stderr_text()}")
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                text = line.decode()
                self.stdout_lines.append(text)
                if " listening on " in text:
                    self.url = text.rsplit(" ", 1)[1]

    def stop(self):
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("hq-server did not stop on SIGTERM")
        self.proc.stdout.close()
        return self.proc.returncode

    def kill(self):
        self.proc.kill()
        self.proc.wait()

    def crash(self):
        """kill -9, as a crash would, and let go of the process's pipes;
        for a server started with start() rather than as a context."""
        self.kill()
        self.proc.stdout.close()
        self._final_log = self.stderr_text()
        self._stderr.close()
        if self._tmp:
            self._tmp.cleanup()

    def stderr_text(self):
        if self._stderr.closed:
            return self._final_log
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def log_events(self):
        """The server's structured log lines so far; a line still being
        written (no newline yet) is left for the next call."""
        text = self.stderr_text()
        text = text[:text.rfind("\n") + 1]
        return [json.loads(line) for line in text.splitlines()
                if line.startswith("{")]

    def request(self, method, path, body=None, headers=None, auth=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        elif isinstance(body, str):
            body = body.encode()
        req = urllib.request.Request(self.url + path, data=body,
                                     method=method, headers=headers or {})
        if auth is not None:
            cred = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            req.add_header("Authorization", "Basic " + cred)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return Response(resp.status, resp.headers, resp.read())
        except urllib.error.HTTPError as e:
            return Response(e.code, e.headers, e.read())

    def credentials(self):
        """What the server generated on first start: its development key
        (key_sid, key_secret, account_sid) and the guest passcode."""
        return read_credentials(self.data_dir)

    def access_token(self, identity, room, role="guest"):
        """A token from the back-end's endpoint (the API key): the
        identity is @identity."""
        creds = self.credentials()
        r = self.request("POST", "/v1/AccessTokens", {
            "Identity": identity, "Room": room, "Role": role},
            auth=(creds["key_sid"], creds["key_secret"]))
        if r.status != 201:
            raise AssertionError(f"no token: {r.status} {r.body!r}")
        return r.json()["token"]

    def create_room(self, name, **params):
        """Creates room @name through REST, as a back-end does."""
        creds = self.credentials()
        r = self.request("POST", "/v1/Rooms", {"UniqueName": name, **params},
                         auth=(creds["key_sid"], creds["key_secret"]))
        if r.status != 201:
            raise AssertionError(f"room not created: {r.status} {r.body!r}")
        return r.json()

    def guest_token(self, name, room, **fields):
        """A guest token from POST /token with the server's passcode: the
        identity is the server's, @name only the display name."""
        r = self.request("POST", "/token", {
            "user_identity": name, "room_name": room,
            "passcode": self.credentials().get("passcode", ""), **fields})
        if r.status != 200:
            raise AssertionError(f"no token: {r.status} {r.body!r}")
        return r.json()["token"]

    def run_cli(self, *args, input=None):
        """Runs `hq-server ARGS --data-dir DIR` with the server's env."""
        return subprocess.run([SERVER_BIN] + list(args)
                              + ["--data-dir", self.data_dir],
                              input=input, capture_output=True, text=True,
                              env=self.env, timeout=60)
