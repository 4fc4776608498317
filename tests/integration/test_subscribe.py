"""Subscribe rules and subscribe offers across a resume, against a real
hq-server on loopback with real WebSocket clients speaking the protocol
(docs/protocol.md, "Subscribing").  Suite `subscribe`.

No media flows here: a track is ready for subscribers once a publish_offer
maps an m-line (with its a=ssrc) to it, which is all the subscribe offers
depend on.  Tests wait for messages and log lines, never for a fixed time.
"""
import os
import random
import tempfile
import time
import unittest

from hqtest import Server
from test_rooms import RoomsTestCase

WAIT = 30  # seconds, for any one event

FINGERPRINT = "sha-256 " + ":".join(["5D"] * 32)
CODECS = {"audio": ("111", "opus/48000/2"), "video": ("96", "VP8/90000")}


def offer_sdp(lines):
    """A publish offer: @lines is [(mid, kind, ssrc)], each sendonly."""
    out = ["v=0", "o=- 1 2 IN IP4 127.0.0.1", "s=-", "t=0 0",
           "a=group:BUNDLE " + " ".join(mid for mid, _, _ in lines)]
    for mid, kind, ssrc in lines:
        pt, rtpmap = CODECS[kind]
        out += [f"m={kind} 9 UDP/TLS/RTP/SAVPF {pt}", "c=IN IP4 0.0.0.0",
                "a=ice-ufrag:pUbL", "a=ice-pwd:publisherpasswordpassword1",
                f"a=fingerprint:{FINGERPRINT}", "a=setup:actpass",
                f"a=mid:{mid}", "a=sendonly", "a=rtcp-mux",
                f"a=rtpmap:{pt} {rtpmap}", f"a=ssrc:{ssrc} cname:pub"]
    return "\r\n".join(out) + "\r\n"


def sections(sdp):
    """The m-sections of @sdp as lists of lines."""
    secs = []
    for line in sdp.replace("\r\n", "\n").split("\n"):
        if line.startswith("m="):
            secs.append([line])
        elif secs and line:
            secs[-1].append(line)
    return secs


def active_kinds(sdp):
    """The kind of every m-line of @sdp that carries a track: not rejected
    (port 0) and not the BUNDLE tag kept idle (a=inactive, docs/sdp.md)."""
    return sorted(sec[0][2:].split()[0] for sec in sections(sdp)
                  if sec[0].split()[1] != "0" and "a=inactive" not in sec)


def answer_sdp(offer):
    """A subscriber's answer: every offered m-line that is not rejected is
    received (recvonly) with the codecs offered, or inactive when offered
    inactive."""
    secs = sections(offer)
    live = [l[6:] for s in secs for l in s
            if l.startswith("a=mid:") and s[0].split()[1] != "0"]
    out = ["v=0", "o=- 2 2 IN IP4 127.0.0.1", "s=-", "t=0 0",
           "a=group:BUNDLE " + " ".join(live)]
    for sec in secs:
        rejected = sec[0].split()[1] == "0"
        out += [sec[0], "c=IN IP4 0.0.0.0", "a=ice-ufrag:sUbL",
                "a=ice-pwd:subscriberpasswordpassword1",
                f"a=fingerprint:{FINGERPRINT}", "a=setup:active"]
        out += [l for l in sec if l.startswith(
            ("a=mid:", "a=rtpmap:", "a=fmtp:", "a=rtcp-fb:"))]
        idle = rejected or "a=inactive" in sec
        out += ["a=inactive" if idle else "a=recvonly", "a=rtcp-mux"]
    return "\r\n".join(out) + "\r\n"


class SubscribeTestCase(RoomsTestCase):
    def setUp(self):
        super().setUp()
        self.ssrc = 1000

    def publish(self, client, tracks):
        """Publishes [(name, kind)] and maps them in one publish_offer;
        returns {name: track sid}."""
        sids, lines, mapping = {}, [], []
        for name, kind in tracks:
            r = client.request("track_publish", name=name, kind=kind)
            self.assertEqual(r["type"], "track_published", r)
            sids[name] = r["track"]["sid"]
            self.ssrc += 1
            lines.append((name, kind, self.ssrc))
            mapping.append({"mid": name, "track_sid": sids[name]})
        r = client.request("publish_offer", sdp=offer_sdp(lines),
                           tracks=mapping)
        self.assertEqual(r["type"], "publish_answer", r)
        return sids

    def next_offer(self, client, revision=None):
        """Waits for the next subscribe_offer (of @revision) and answers
        it."""
        offer = client.wait_for(
            "subscribe_offer",
            lambda m: revision is None or m["revision"] == revision,
            timeout=WAIT)
        client.send({"type": "subscribe_answer", "revision": offer["revision"],
                     "sdp": answer_sdp(offer["sdp"])})
        return offer

    def candidates(self, client):
        """The server's candidates for @client's subscribe transport, up to
        its end_of_candidates (they come before it)."""
        client.wait_for("end_of_candidates",
                        lambda m: m["transport"] == "subscribe", timeout=WAIT)
        got = [m for m in client.events if m["type"] == "candidate"
               and m["transport"] == "subscribe"]
        for m in got:
            client.events.remove(m)
        return sorted(m["candidate"] for m in got)

    def offered(self, offer):
        return sorted((t["identity"], t["name"], t["kind"])
                      for t in offer["tracks"])

    def wait_log(self, pred):
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            for line in self.srv.log_events():
                if pred(line):
                    return line
            # The server writes to a file; poll it without busy-spinning.
            time.sleep(0.02)
        self.fail("no such log line:\n" + self.srv.stderr_text()[-4000:])


class SubscribeRules(SubscribeTestCase):
    def test_rules_choose_what_the_server_offers(self):
        room = self.create_room(UniqueName="sr")
        pub, _ = self.join("alice", "sr")
        self.publish(pub, [("mic", "audio"), ("cam", "video")])
        audio_only = [{"type": "include", "kind": "audio"}]
        sub, j = self.join("rec", "sr", subscribe_rules=audio_only)
        everyone, _ = self.join("bob", "sr")

        offer = self.next_offer(sub)
        self.assertEqual(self.offered(offer), [("alice", "mic", "audio")])
        self.assertEqual(active_kinds(offer["sdp"]), ["audio"])
        # Without rules: everything (Twilio's default).
        self.assertEqual(self.offered(self.next_offer(everyone)),
                         [("alice", "cam", "video"),
                          ("alice", "mic", "audio")])

        # A track published later is offered by the same rules.
        self.publish(everyone, [("voice", "audio"), ("screen", "video")])
        offer = self.next_offer(sub)
        self.assertEqual(self.offered(offer), [("alice", "mic", "audio"),
                                               ("bob", "voice", "audio")])
        self.assertEqual(active_kinds(offer["sdp"]), ["audio", "audio"])

        # New rules re-offer at once: everything but bob.
        rules = [{"type": "include", "all": True},
                 {"type": "exclude", "publisher": "bob"}]
        reply = sub.request("subscribe_rules", rules=rules)
        self.assertEqual(reply["type"], "subscribe_rules", reply)
        self.assertEqual(reply["rules"], rules)
        offer = self.next_offer(sub)
        self.assertEqual(self.offered(offer), [("alice", "cam", "video"),
                                               ("alice", "mic", "audio")])
        self.assertEqual(active_kinds(offer["sdp"]), ["audio", "video"])
        # bob's voice is withdrawn: its m-line stays, with port 0.
        self.assertEqual(len(sections(offer["sdp"])), 3)

        # Only one track, by name; an empty list receives nothing.
        sub.request("subscribe_rules",
                    rules=[{"type": "include", "track": "screen"}])
        self.assertEqual(self.offered(self.next_offer(sub)),
                         [("bob", "screen", "video")])
        self.assertEqual(sub.request("subscribe_rules", rules=[])["rules"], [])
        offer = self.next_offer(sub)
        self.assertEqual((offer["tracks"], active_kinds(offer["sdp"])),
                         ([], []))
        # The first m-line holds the BUNDLE transport: it stays, idle.
        first = sections(offer["sdp"])[0]
        self.assertNotEqual(first[0].split()[1], "0", first)
        self.assertIn("a=inactive", first)
        tag = next(l[6:] for l in first if l.startswith("a=mid:"))
        self.assertIn(f"a=group:BUNDLE {tag}\r\n", offer["sdp"])

        # REST shows and changes the same rules (Twilio's SubscribeRules).
        path = (f"/v1/Rooms/{room['sid']}/Participants/"
                f"{j['participant']['sid']}/SubscribeRules")
        got = self.rest("GET", path, status=200).json()
        self.assertEqual((got["rules"], got["participant_sid"],
                          got["room_sid"]),
                         ([], j["participant"]["sid"], room["sid"]))
        r = self.rest("POST", path,
                      {"Rules": [{"type": "include", "kind": "video"}]}, 200)
        self.assertEqual(r.json()["rules"],
                         [{"type": "include", "kind": "video"}])
        self.assertEqual(self.offered(self.next_offer(sub)),
                         [("alice", "cam", "video"),
                          ("bob", "screen", "video")])
        # By unique name too; a participant without rules has the default.
        bob_sid = [p for p in self.rest(
            "GET", "/v1/Rooms/sr/Participants", status=200).json()[
                "participants"] if p["identity"] == "bob"][0]["sid"]
        self.assertEqual(self.rest(
            "GET", f"/v1/Rooms/sr/Participants/{bob_sid}/SubscribeRules",
            status=200).json()["rules"], [{"type": "include", "all": True}])
        self.assertEqual(self.srv.request("GET", path).status, 401)
        self.rest("GET", f"/v1/Rooms/{room['sid']}/Participants/"
                  "PA00000000000000000000000000000000/SubscribeRules",
                  status=404)
        r = self.rest("POST", path, {"Rules": [{"type": "maybe"}]}, 400)
        self.assertIn("Rules[0]: type must be include or exclude",
                      r.json()["error"]["explanation"])

    def test_bad_rules_are_refused_with_the_reason(self):
        self.create_room(UniqueName="bad")
        sub, _ = self.join("pat", "bad")
        for bad, why in [
                ([{"type": "keep", "all": True}],
                 "rules[0]: type must be include or exclude."),
                ([{"type": "include", "all": True}, {"type": "include"}],
                 "rules[1]: a rule names exactly one of all, kind,"),
                ([{"type": "include", "kind": "smell"}],
                 "rules[0]: kind must be audio, video or data."),
                ([{"type": "include", "publisher": ""}],
                 "rules[0]: kind, publisher and track take a non-empty"),
                ([{"type": "include", "all": False}],
                 "rules[0]: all must be true."),
                ([{"type": "include", "track": "cam", "colour": "red"}],
                 'rules[0]: unknown member "colour".'),
                (["include"], "rules[0]: a rule is an object."),
                ({"type": "include"}, "rules must be a JSON array"),
                (None, "rules must be a JSON array")]:
            reply = sub.request("subscribe_rules", rules=bad)
            self.assertEqual((reply["type"], reply["code"]),
                             ("error", "invalid_field"), bad)
            self.assertIn(why, reply["message"], bad)
        reply = sub.request("subscribe_rules")
        self.assertIn("rules is missing", reply["message"])
        # In join: refused before joining.
        token = self.token("nurse", "bad")
        c = self.connect()
        reply = c.join(token, subscribe_rules=[{"type": "include"}])
        self.assertEqual((reply["type"], reply["code"]),
                         ("error", "invalid_field"))
        self.assertIn("rules[0]", reply["message"])
        self.assertEqual(c.join(token)["type"], "joined")

    def test_peer_to_peer_rooms_have_nothing_to_subscribe_to(self):
        self.create_room(UniqueName="p2p", Type="peer-to-peer")
        c, _ = self.join("pat", "p2p",
                         subscribe_rules=[{"type": "include", "all": True}])
        reply = c.request("subscribe_rules", rules=[])
        self.assertEqual(reply.get("code"), "invalid_field", reply)
        self.assertIn("peer to peer", reply["message"])


class WaitingRoom(SubscribeTestCase):
    def test_rules_of_a_waiting_guest_hold_from_its_first_offer(self):
        self.create_room(UniqueName="lobby", WaitingRoom="true")
        host, _ = self.join("dr", "lobby", role="host")
        self.publish(host, [("mic", "audio"), ("cam", "video")])
        guest, w = self.join("pat", "lobby", expect="waiting",
                             subscribe_rules=[{"type": "include",
                                               "kind": "video"}])
        host.wait_for("lobby_changed", lambda m: m["waiting"])
        self.assertEqual(host.request("admit", participant_sid=w[
            "participant_sid"])["type"], "ok")
        guest.wait_for("joined")
        self.assertEqual(self.offered(self.next_offer(guest)),
                         [("dr", "cam", "video")])


class ResumeKeepsTheSubscription(SubscribeTestCase):
    def test_offer_sent_while_away_arrives_after_resume(self):
        self.create_room(UniqueName="away")
        alice, _ = self.join("alice", "away")
        self.publish(alice, [("mic", "audio")])
        no_screens = [{"type": "include", "all": True},
                      {"type": "exclude", "track": "screen"}]
        sub, j = self.join("pat", "away", subscribe_rules=no_screens)
        sid = j["participant"]["sid"]
        first = self.next_offer(sub)
        self.assertEqual(self.offered(first), [("alice", "mic", "audio")])
        # The SFU handles media messages in order and replies to this one:
        # once it has, the answer above is applied.
        self.assertEqual(sub.request("network_quality_configure",
                                     local=1)["type"], "ok")
        cands = self.candidates(sub)
        self.assertTrue(cands)

        sub.ws.drop()  # no leave: the network went away
        alice.wait_for("participant_reconnecting", timeout=WAIT)
        bob, _ = self.join("bob", "away")
        self.publish(bob, [("cam", "video"), ("screen", "video")])
        # The server offered bob's camera while pat had no connection.
        self.wait_log(lambda l: l.get("event") == "subscribe_offer"
                      and l.get("participant") == sid
                      and l.get("revision") == first["revision"] + 1)

        again, j2 = self.join("pat", "away", resume_token=j["resume_token"])
        self.assertEqual(j2["participant"]["sid"], sid)
        offer = self.next_offer(again, first["revision"] + 1)
        # By the rules of the first join: no screen.
        self.assertEqual(self.offered(offer), [("alice", "mic", "audio"),
                                               ("bob", "cam", "video")])
        self.assertEqual(active_kinds(offer["sdp"]), ["audio", "video"])
        # The server's candidates come again (they may have been gathered
        # while it was away).
        self.assertEqual(self.candidates(again), cands)
        # Its answer is taken, and negotiation goes on: carol's track
        # comes in the revision after.
        carol, _ = self.join("carol", "away")
        self.publish(carol, [("mic", "audio")])
        offer = self.next_offer(again, first["revision"] + 2)
        self.assertEqual(len(offer["tracks"]), 3)
        self.assertNotIn("screen", [t["name"] for t in offer["tracks"]])
        reply = again.request("subscribe_rules",
                              rules=[{"type": "include", "kind": "video"}])
        self.assertEqual(reply["type"], "subscribe_rules", reply)
        self.assertEqual(self.offered(self.next_offer(again)),
                         [("bob", "cam", "video"), ("bob", "screen", "video")])


    def test_publish_answer_lost_with_the_connection_comes_again(self):
        self.create_room(UniqueName="pubaway")
        host, _ = self.join("dr", "pubaway")
        pat, j = self.join("pat", "pubaway")
        r = pat.request("track_publish", name="mic", kind="audio")
        pat.send({"type": "publish_offer", "id": "offer-1",
                  "sdp": offer_sdp([("mic", "audio", 4242)]),
                  "tracks": [{"mid": "mic",
                              "track_sid": r["track"]["sid"]}]})
        pat.ws.drop()  # before reading the answer
        host.wait_for("participant_reconnecting", timeout=WAIT)
        again, j2 = self.join("pat", "pubaway",
                              resume_token=j["resume_token"])
        self.assertEqual(j2["participant"]["sid"], j["participant"]["sid"])
        answer = again.wait_for("publish_answer", timeout=WAIT)
        self.assertEqual(answer["id"], "offer-1")
        self.assertIn("a=mid:mic", answer["sdp"])
        # The track is ready: the host is offered it.
        self.assertEqual(self.offered(self.next_offer(host)),
                         [("pat", "mic", "audio")])


class MediaConfigCase(SubscribeTestCase):
    """A server whose config file has [media] port_min, port_max and
    workers (docs/configuration.md)."""
    PORT_MIN = PORT_MAX = 0

    def setUp(self):
        conf = tempfile.NamedTemporaryFile(
            "w", prefix="hq-media-", suffix=".conf", delete=False)
        conf.write(f"[media]\nport_min={self.PORT_MIN}\n"
                   f"port_max={self.PORT_MAX}\nworkers=3\n")
        conf.close()
        self.addCleanup(os.unlink, conf.name)
        self.env = dict(SubscribeTestCase.env, HQ_CONFIG=conf.name)
        super().setUp()

    def port(self, candidate):
        # candidate:<foundation> <component> <transport> <priority> <addr> <port> ...
        return int(candidate.split()[5])


class MediaSettings(MediaConfigCase):
    """Firewalls open a range, so every candidate the server gives must be
    in it."""
    PORT_MIN = random.randrange(40000, 60000, 100)
    PORT_MAX = PORT_MIN + 19

    def test_candidates_use_the_configured_ports(self):
        self.create_room(UniqueName="ports")
        alice, _ = self.join("alice", "ports")
        self.publish(alice, [("mic", "audio")])
        bob, _ = self.join("bob", "ports")
        self.next_offer(bob)
        cands = list(self.candidates(bob))
        alice.wait_for("end_of_candidates",
                       lambda m: m["transport"] == "publish", timeout=WAIT)
        cands += [m["candidate"] for m in alice.events
                  if m["type"] == "candidate"
                  and m["transport"] == "publish"]
        # ICE-TCP's active candidates listen on nothing (port 9, RFC
        # 6544): every port a client connects to is in the range, the
        # passive TCP ones included.
        listening = [c for c in cands if "tcptype active" not in c]
        self.assertTrue(any(" tcp " in c.lower() for c in listening),
                        f"no passive ICE-TCP candidate among {cands}")
        ports = [self.port(c) for c in listening]
        self.assertTrue(ports)
        for p in ports:
            self.assertTrue(self.PORT_MIN <= p <= self.PORT_MAX,
                            f"port {p} outside {self.PORT_MIN}-"
                            f"{self.PORT_MAX}")
        self.wait_log(lambda l: l.get("event") == "sfu" and l.get("message") ==
                      f"3 media threads, UDP and TCP ports {self.PORT_MIN}-"
                      f"{self.PORT_MAX}")

    def test_a_bad_range_stops_the_server_saying_why(self):
        for text in ("port_min=5000\nport_max=4000",
                     "port_min=5000",
                     "port_min=80\nport_max=90",
                     "port_min=x\nport_max=5000",
                     "workers=100000"):
            with tempfile.NamedTemporaryFile("w", suffix=".conf") as conf:
                conf.write(f"[media]\n{text}\n")
                conf.flush()
                srv = Server(args=["--config", conf.name])
                with self.assertRaises(AssertionError) as ctx:
                    srv.start()
                self.assertRegex(str(ctx.exception),
                                 r"media\.(port_min|workers)", text)


class MediaPortsUsedUp(MediaConfigCase):
    """A range too small for the room: who gets no port is told why at
    once, and the others carry on."""
    PORT_MIN = random.randrange(40000, 60000, 100)
    PORT_MAX = PORT_MIN

    def test_no_free_port_is_told(self):
        self.create_room(UniqueName="full")
        alice, _ = self.join("alice", "full")
        self.publish(alice, [("mic", "audio")])
        bob, _ = self.join("bob", "full")
        self.next_offer(bob)
        failed = bob.wait_for("transport_state",
                              lambda m: m["state"] == "failed", timeout=WAIT)
        self.assertEqual(failed["transport"], "subscribe")
        self.assertIn("no free media port", failed["message"])
        self.assertIn(f"UDP {self.PORT_MIN}-{self.PORT_MAX}",
                      failed["message"])
        # The room goes on: alice can still talk to the server.
        self.assertEqual(alice.request("network_quality_configure",
                                       local=1)["type"], "ok")


if __name__ == "__main__":
    unittest.main()
