"""Load benchmark for rooms and signalling: N WebSocket participants spread
over R rooms join, chat and leave against a real hq-server on loopback.

    python3 bench/rooms.py [--participants 200] [--rooms 20] [--messages 10]
    (PYTHONPATH=tests/integration, HQ_SERVER_BIN=build/server/hq-server;
     `meson test -C build bench-rooms -v` sets both)

It prints joins per second and chat messages per second, each next to a
baseline measured in the same run over the same connections: WebSocket
handshakes per second for joins, and `ping` round trips per second for
chat (the signalling path without the store and the fan-out), and their
ratio.  It fails (exit 1) on any protocol error, any lost chat delivery, or
a server that does not exit cleanly (under ASan that includes leaks); the
figures themselves are never judged.
"""
import argparse
import asyncio
import json
import sys
import time

from hqtest import Server, jwt_encode, read_credentials
from hqws import AsyncWsClient

WAIT = 60  # seconds for any one phase to make progress


class Participant:
    def __init__(self, url, token):
        self.url = url
        self.token = token
        self.ws = None
        self.waiting = {}  # id -> future
        self.next_id = 0
        self.chat_seen = 0
        self.chat_target = None
        self.chat_done = asyncio.Event()
        self.errors = []
        self.reader = None

    async def connect(self):
        self.ws = await AsyncWsClient.connect(
            self.url.replace("http://", "ws://") + "/v1/signal")
        self.reader = asyncio.ensure_future(self.read_loop())

    async def read_loop(self):
        try:
            while True:
                msg = json.loads(await self.ws.recv())
                fut = self.waiting.pop(msg.get("id"), None)
                if fut is not None:
                    fut.set_result(msg)
                elif msg["type"] == "chat_message":
                    self.chat_seen += 1
                    if self.chat_seen == self.chat_target:
                        self.chat_done.set()
                elif msg["type"] == "error":
                    self.errors.append(msg)
        except Exception:  # closed: pending requests fail below
            for fut in self.waiting.values():
                if not fut.done():
                    fut.set_exception(ConnectionError("connection closed"))

    async def request(self, type_, **fields):
        self.next_id += 1
        rid = str(self.next_id)
        fut = asyncio.get_running_loop().create_future()
        self.waiting[rid] = fut
        self.ws.send_text(json.dumps({"type": type_, "id": rid, **fields}))
        reply = await asyncio.wait_for(fut, WAIT)
        if reply["type"] == "error":
            self.errors.append(reply)
        return reply


async def timed(label, coros, parallel):
    """Runs @coros at most @parallel at a time; returns seconds taken."""
    sem = asyncio.Semaphore(parallel)

    async def one(c):
        async with sem:
            return await c

    start = time.perf_counter()
    await asyncio.gather(*(one(c) for c in coros))
    return time.perf_counter() - start


async def run(srv, args):
    creds = read_credentials(srv.data_dir)
    auth = (creds["key_sid"], creds["key_secret"])
    for r in range(args.rooms):
        resp = srv.request("POST", "/v1/Rooms", {"UniqueName": f"load-{r}",
                                                 "Type": "group"}, auth=auth)
        if resp.status != 201:
            raise SystemExit(f"room not created: {resp.body!r}")
    now = int(time.time())
    people = []
    for i in range(args.participants):
        claims = {"jti": f"{auth[0]}-{now}", "iss": auth[0],
                  "sub": creds["account_sid"], "iat": now, "exp": now + 3600,
                  "grants": {"identity": f"user-{i}",
                             "video": {"room": f"load-{i % args.rooms}"}}}
        people.append(Participant(srv.url, jwt_encode(claims, auth[1])))
    per_room = [args.participants // args.rooms
                + (1 if r < args.participants % args.rooms else 0)
                for r in range(args.rooms)]
    for i, p in enumerate(people):
        p.chat_target = (per_room[i % args.rooms] - 1) * args.messages

    t_connect = await timed("connect", (p.connect() for p in people),
                            args.parallel)

    async def join(p):
        reply = await p.request("join", token=p.token)
        if reply["type"] != "joined":
            raise SystemExit(f"join failed: {reply}")

    t_join = await timed("join", (join(p) for p in people), args.parallel)

    async def pings(p):
        for _ in range(args.messages):
            await p.request("ping")

    t_ping = await timed("ping", (pings(p) for p in people), args.parallel)

    async def chat(p):
        for m in range(args.messages):
            reply = await p.request("chat_send", body=f"message {m}")
            if reply["type"] != "chat_sent":
                raise SystemExit(f"chat failed: {reply}")

    start = time.perf_counter()
    t_chat = await timed("chat", (chat(p) for p in people), args.parallel)
    for p in people:
        if p.chat_target > 0:
            await asyncio.wait_for(p.chat_done.wait(), WAIT)
    t_fanout = time.perf_counter() - start

    async def leave(p):
        reply = await p.request("leave")
        if reply["type"] != "left":
            raise SystemExit(f"leave failed: {reply}")
        await p.ws.close()
        p.reader.cancel()

    t_leave = await timed("leave", (leave(p) for p in people), args.parallel)

    errors = [e for p in people for e in p.errors]
    if errors:
        raise SystemExit(f"{len(errors)} protocol errors, first: {errors[0]}")
    # Everyone is gone from every room, as REST tells it.
    for r in range(args.rooms):
        resp = srv.request(
            "GET", f"/v1/Rooms/load-{r}/Participants?Status=connected",
            auth=auth)
        if resp.json()["participants"]:
            raise SystemExit(f"room load-{r} still has participants")

    n, msgs = args.participants, args.participants * args.messages
    deliveries = sum(p.chat_target for p in people)
    print(f"rooms load: {n} participants in {args.rooms} rooms, "
          f"{args.messages} messages each, loopback")
    print(f"  baseline websocket connects  {n / t_connect:9.1f} /s")
    print(f"  joins                        {n / t_join:9.1f} /s   "
          f"ratio {t_connect / t_join:.2f} of connects")
    print(f"  baseline ping round trips    {msgs / t_ping:9.1f} /s")
    print(f"  chat messages (acknowledged) {msgs / t_chat:9.1f} /s   "
          f"ratio {t_ping / t_chat:.2f} of pings")
    print(f"  chat deliveries (fan-out)    {deliveries / t_fanout:9.1f} /s")
    print(f"  leaves                       {n / t_leave:9.1f} /s")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--participants", type=int, default=200)
    ap.add_argument("--rooms", type=int, default=20)
    ap.add_argument("--messages", type=int, default=10)
    ap.add_argument("--parallel", type=int, default=50,
                    help="requests in flight at once")
    args = ap.parse_args()
    if args.participants / args.rooms > 50:
        ap.error("a group room holds at most 50 participants")
    with Server() as srv:
        asyncio.run(run(srv, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
