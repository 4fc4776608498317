"""A room's chat beyond participants: chat-only connections (`chat_join`)
and chat attachments (POST /v1/ChatMedia, signed links), against a real
hq-server with real WebSocket clients (docs/protocol.md, "Chat-only
connections" and "Chat attachments").  Suite `rooms`.

The browser side (@hqrooms/conversations) is tests/sdk/conversations.test.mjs;
this checks what the server itself enforces, whatever the client.
"""
import json
import os
import socket
import stat
import tempfile
import unittest
import urllib.parse

from hqtest import Server, b64url_decode
from hqws import Signal

MAX_SIZE = 1000


class ChatTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(env={"HQ_CHAT_MEDIA_MAX_SIZE": str(MAX_SIZE),
                                 "HQ_CHAT_MEDIA_TYPES": "application/pdf, image/*"})
        cls.server.start()
        creds = cls.server.credentials()
        cls.key = (creds["key_sid"], creds["key_secret"])
        cls.passcode = creds["passcode"]

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    def guest(self, name, room, **extra):
        """A token from /token as the reference app asks for one."""
        r = self.server.request("POST", "/token", {
            "user_identity": name, "room_name": room, "create_room": True,
            "create_conversation": True, "passcode": self.passcode, **extra})
        self.assertEqual(r.status, 200, r.body)
        return r.json()

    def room_sid(self, name):
        return self.server.request("GET", f"/v1/Rooms/{name}",
                                   auth=self.key).json()["sid"]

    def chat_member(self, token, room):
        s = Signal(self.server.url)
        reply = s.request("chat_join", token=token, room=room)
        self.assertEqual(reply["type"], "chat_joined", reply)
        return s, reply

    def upload(self, token, room, data, ctype, filename=None):
        q = {"Room": room}
        if filename:
            q["Filename"] = filename
        headers = {"Content-Type": ctype}
        if token:
            headers["Authorization"] = "Bearer " + token
        return self.server.request(
            "POST", "/v1/ChatMedia?" + urllib.parse.urlencode(q), data,
            headers=headers)

    def audit(self, sid):
        return self.server.request(
            "GET", f"/v1/Rooms/{sid}/Events?PageSize=1000",
            auth=self.key).json()["events"]

    def test_token_grants_video_and_chat(self):
        t = self.guest("Ana", "chat-token")
        payload = json.loads(b64url_decode(t["token"].split(".")[1]))
        self.assertEqual(payload["grants"]["video"]["room"], "chat-token")
        self.assertRegex(payload["grants"]["chat"]["service_sid"],
                         "^IS[0-9a-f]{32}$")
        r = self.server.request("POST", "/token", {
            "user_identity": "Ana", "room_name": "chat-token",
            "create_conversation": "yes", "passcode": self.passcode})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["error"]["message"], "invalid parameter")

    def test_chat_join_needs_a_chat_grant(self):
        self.guest("Ana", "chat-grant")
        video_only = self.server.request(
            "POST", "/v1/AccessTokens",
            {"Identity": "vic", "Room": "chat-grant"}, auth=self.key)
        s = Signal(self.server.url)
        reply = s.request("chat_join", token=video_only.json()["token"],
                          room="chat-grant")
        self.assertEqual(reply["code"], "invalid_token")
        self.assertIn("no_chat_grant", reply["message"])
        other = self.guest("Ana", "chat-other")["token"]
        reply = s.request("chat_join", token=other, room="chat-grant")
        self.assertEqual(reply["code"], "room_not_granted")
        reply = s.request("chat_join", token=other, room="chat-nowhere")
        self.assertEqual(reply["code"], "room_not_granted")
        s.close()

    def test_a_chat_member_is_no_participant(self):
        ana = self.guest("Ana", "chat-call")
        sid = self.room_sid("chat-call")
        video = Signal(self.server.url)
        self.assertEqual(video.join(ana["token"])["type"], "joined")
        ben = self.guest("Ben", "chat-call")
        member, joined = self.chat_member(ben["token"], sid)
        self.assertEqual(joined["room"]["sid"], sid)
        self.assertEqual(joined["room"]["name"], "chat-call")
        self.assertRegex(joined["member"]["sid"], "^MB[0-9a-f]{32}$")
        self.assertEqual(joined["member"]["name"], "Ben")
        self.assertEqual(joined["media"], {
            "max_size": MAX_SIZE, "types": ["application/pdf", "image/*"]})
        self.assertNotIn("participants", joined)
        # Only chat: no call, no second join on this connection.
        for t, fields in (("track_publish", {"name": "cam", "kind": "video"}),
                          ("subscribe_rules", {"rules": []}),
                          ("network_quality_configure", {"local": 1})):
            reply = member.request(t, **fields)
            self.assertEqual(reply["code"], "forbidden", reply)
            self.assertIn("chat only", reply["message"])
        self.assertEqual(member.join(ben["token"])["code"], "already_joined")
        # The participant heard nothing of it, and REST lists one.
        self.assertEqual(video.request("ping")["type"], "pong")
        self.assertEqual([m for m in video.events
                          if m["type"].startswith("participant_")], [])
        listed = self.server.request(
            "GET", f"/v1/Rooms/{sid}/Participants?Status=connected",
            auth=self.key).json()["participants"]
        self.assertEqual([p["identity"] for p in listed], [ana["identity"]])
        # A second participant: the member hears the chat, not the call.
        cleo = Signal(self.server.url)
        cj = cleo.join(self.guest("Cleo", "chat-call")["token"])
        self.assertEqual([p["identity"] for p in cj["participants"]],
                         [ana["identity"]])
        sent = member.request("chat_send", body="from the chat")
        self.assertEqual(sent["message"]["participant_sid"],
                         joined["member"]["sid"])
        for s in (video, cleo):
            got = s.wait_for("chat_message")
            self.assertEqual(got["message"]["body"], "from the chat")
            self.assertEqual(got["message"]["identity"], ben["identity"])
        video.request("chat_send", body="from the call")
        first = member.wait_for("chat_message")
        self.assertEqual(first["message"]["body"], "from the call")
        self.assertEqual(member.request("ping")["type"], "pong")
        self.assertEqual(
            [m["type"] for m in member.events], [],
            "a chat member hears chat_message only (not cleo's arrival, "
            "not network quality)")
        history = member.request("chat_history", limit=10)
        self.assertEqual([m["body"] for m in history["messages"]],
                         ["from the chat", "from the call"])
        self.assertEqual(member.request("leave")["type"], "left")
        member.close()
        events = [e["event"] for e in self.audit(sid)]
        self.assertIn("chat-member-joined", events)
        self.assertIn("chat-member-left", events)
        for s in (video, cleo):
            s.close()

    def test_the_waiting_room_keeps_the_chat_too(self):
        r = self.server.request("POST", "/v1/Rooms", {
            "UniqueName": "chat-lobby", "WaitingRoom": True}, auth=self.key)
        self.assertEqual(r.status, 201, r.body)
        host_token = self.server.request(
            "POST", "/v1/AccessTokens", {"Identity": "dr", "Room": "chat-lobby",
                                         "Role": "host"}, auth=self.key).json()["token"]
        host = Signal(self.server.url)
        self.assertEqual(host.join(host_token)["type"], "joined")
        guest = self.guest("Pat", "chat-lobby", create_room=False)
        chat = Signal(self.server.url)
        reply = chat.request("chat_join", token=guest["token"],
                             room="chat-lobby")
        self.assertEqual(reply["code"], "not_admitted")
        self.assertIn("waiting room", reply["message"])
        call = Signal(self.server.url)
        waiting = call.join(guest["token"])
        self.assertEqual(waiting["type"], "waiting")
        self.assertEqual(chat.request("chat_join", token=guest["token"],
                                      room="chat-lobby")["code"],
                         "not_admitted")
        self.assertEqual(host.request("admit", participant_sid=waiting[
            "participant_sid"])["type"], "ok")
        self.assertEqual(call.wait_for("joined")["type"], "joined")
        reply = chat.request("chat_join", token=guest["token"],
                             room="chat-lobby")
        self.assertEqual(reply["type"], "chat_joined", reply)
        for s in (host, chat, call):
            s.close()

    def test_removal_ends_the_chat_too(self):
        host_token = self.server.request(
            "POST", "/v1/AccessTokens", {"Identity": "dr", "Room": "chat-rm",
                                         "Role": "host"}, auth=self.key)
        pat = self.guest("Pat", "chat-rm")
        host = Signal(self.server.url)
        self.assertEqual(host.join(host_token.json()["token"])["type"],
                         "joined")
        call = Signal(self.server.url)
        joined = call.join(pat["token"])
        chat, _ = self.chat_member(pat["token"], "chat-rm")
        self.assertEqual(host.request("remove", participant_sid=joined[
            "participant"]["sid"])["type"], "ok")
        self.assertEqual(chat.ws.wait_closed()[0], 4001)
        again = Signal(self.server.url)
        self.assertEqual(again.request("chat_join", token=pat["token"],
                                       room="chat-rm")["code"], "banned")
        for s in (host, again):
            s.close()

    def test_chat_join_without_a_room_signs_in(self):
        t = self.guest("Ana", "chat-later")["token"]
        s = Signal(self.server.url)
        reply = s.request("chat_join", token=t)
        self.assertEqual(reply["type"], "chat_joined")
        self.assertIsNone(reply["room"])
        self.assertEqual(reply["member"]["name"], "Ana")
        self.assertEqual(s.request("chat_send", body="x")["code"],
                         "not_joined")
        reply = s.request("chat_join", token=t, room="chat-later")
        self.assertEqual(reply["room"]["name"], "chat-later")
        s.close()

    def test_attachments_limits_links_and_audit(self):
        ana = self.guest("Ana", "chat-files")
        ben = self.guest("Ben", "chat-files")
        sid = self.room_sid("chat-files")
        outsider = self.guest("Olga", "chat-files")
        pdf = (b"%PDF-1.4\n" + bytes(range(256)) * 4)[:MAX_SIZE - 6] + b"%%EOF\n"
        # Nobody uploads before being in the chat.
        r = self.upload(None, sid, pdf, "application/pdf")
        self.assertEqual((r.status, r.json()["error"]["message"]),
                         (401, "missing token"))
        r = self.upload(ana["token"] + "x", sid, pdf, "application/pdf")
        self.assertEqual((r.status, r.json()["error"]["message"]),
                         (401, "invalid token"))
        r = self.upload(ana["token"], sid, pdf, "application/pdf")
        self.assertEqual((r.status, r.json()["error"]["message"]),
                         (403, "not in the chat"))
        a, _ = self.chat_member(ana["token"], sid)
        b, _ = self.chat_member(ben["token"], "chat-files")
        # The type allowlist and the size limit.
        r = self.upload(ana["token"], sid, b"MZ", "application/x-msdownload",
                        "setup.exe")
        self.assertEqual(r.status, 415)
        self.assertEqual(
            r.json()["error"]["explanation"],
            "Files of type application/x-msdownload cannot be attached here; "
            "the server takes: application/pdf, image/*.")
        self.assertEqual(self.upload(ana["token"], sid, b"", "image/png").status,
                         400)
        r = self.upload(ana["token"], sid, b"x" * (MAX_SIZE + 1), "image/png")
        self.assertEqual(r.status, 413)
        self.assertEqual(r.json()["error"]["message"], "file too large")
        self.assertIn("at most 1000 bytes", r.json()["error"]["explanation"])
        # A chunked body over the limit is refused as it passes it.
        with socket.create_connection(
                ("127.0.0.1", urllib.parse.urlsplit(self.server.url).port)) as c:
            c.sendall((f"POST /v1/ChatMedia?Room={sid} HTTP/1.1\r\nHost: x\r\n"
                       f"Authorization: Bearer {ana['token']}\r\n"
                       "Content-Type: image/png\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n").encode())
            for _ in range(3):
                try:
                    c.sendall(b"200\r\n" + b"y" * 512 + b"\r\n")
                except OSError:
                    break
            reply = b""
            while chunk := c.recv(65536):
                reply += chunk
        self.assertTrue(reply.startswith(b"HTTP/1.1 413 "), reply[:200])
        # Exactly the limit, with an awkward name, is taken.
        r = self.upload(ana["token"], sid, pdf, "application/pdf",
                        'my "report"/v2.pdf')
        self.assertEqual(r.status, 201, r.body)
        media = r.json()
        self.assertRegex(media["sid"], "^ME[0-9a-f]{32}$")
        self.assertEqual(media["filename"], "my _report__v2.pdf")
        self.assertEqual(media["size"], MAX_SIZE)
        path = os.path.join(self.server.data_dir, "chat-media", sid,
                            media["sid"])
        with open(path, "rb") as f:
            self.assertEqual(f.read(), pdf)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        # Only its uploader sends it; the message carries its metadata.
        reply = b.request("chat_send", media_sid=media["sid"])
        self.assertEqual(reply["code"], "not_found")
        sent = a.request("chat_send", media_sid=media["sid"])
        self.assertEqual(sent["message"]["media"], {
            "sid": media["sid"], "filename": "my _report__v2.pdf",
            "content_type": "application/pdf", "size": MAX_SIZE})
        self.assertEqual(sent["message"]["body"], "")
        got = b.wait_for("chat_message")
        self.assertEqual(got["message"]["media"]["sid"], media["sid"])
        # A link, the file by it, and nothing for a sid of another room.
        link = b.request("chat_media_url", media_sid=media["sid"])
        self.assertTrue(link["url"].startswith(f"/v1/MediaLinks/{media['sid']}?Expires="))
        r = self.server.request("GET", link["url"])
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, pdf)
        self.assertEqual(r.headers["Content-Type"], "application/pdf")
        self.assertEqual(r.headers["X-Content-Type-Options"], "nosniff")
        self.assertEqual(r.headers["Content-Disposition"],
                         'attachment; filename="my _report__v2.pdf"')
        self.assertEqual(
            b.request("chat_media_url", media_sid="ME" + "0" * 32)["code"],
            "not_found")
        o, _ = self.chat_member(self.guest("Olga", "chat-elsewhere")["token"],
                                "chat-elsewhere")
        self.assertEqual(
            o.request("chat_media_url", media_sid=media["sid"])["code"],
            "not_found")
        events = self.audit(sid)
        up = [e for e in events if e["event"] == "chat-media-uploaded"]
        down = [e for e in events if e["event"] == "chat-media-downloaded"]
        links = [e for e in events if e["event"] == "chat-media-link"]
        self.assertEqual(len(up), 1)
        self.assertEqual(up[0]["participant_identity"], ana["identity"])
        self.assertEqual(up[0]["detail"]["size"], MAX_SIZE)
        self.assertEqual(len(down), 1)
        self.assertEqual(down[0]["detail"]["media_sid"], media["sid"])
        self.assertEqual([e["participant_identity"] for e in links],
                         [ben["identity"]])
        del outsider
        for s in (a, b, o):
            s.close()


class ChatConfigTest(unittest.TestCase):
    def test_chat_settings_from_the_config_file(self):
        with tempfile.TemporaryDirectory(prefix="hq-chat-conf-") as tmp:
            conf = os.path.join(tmp, "hq.conf")
            with open(conf, "w") as f:
                f.write("[chat]\nmedia_max_size=lots\n")
            bad = Server(args=["--config", conf])
            with self.assertRaises(AssertionError) as caught:
                bad.start()
            self.assertIn('chat.media_max_size must be a whole number from 0 '
                          'to 1073741824, not "lots"', str(caught.exception))
            bad.crash()
            with open(conf, "w") as f:
                f.write("[chat]\nmedia_max_size=0\nmedia_types=text/plain\n"
                        "media_url_ttl=60\n")
            with Server(args=["--config", conf]) as server:
                creds = server.credentials()
                token = server.request("POST", "/token", {
                    "user_identity": "Ana", "room_name": "conf",
                    "passcode": creds["passcode"]}).json()["token"]
                s = Signal(server.url)
                joined = s.request("chat_join", token=token, room="conf")
                self.assertEqual(joined["media"],
                                 {"max_size": 0, "types": ["text/plain"]})
                r = server.request(
                    "POST", "/v1/ChatMedia?Room=conf", b"hello",
                    headers={"Authorization": "Bearer " + token,
                             "Content-Type": "text/plain"})
                self.assertEqual((r.status, r.json()["error"]["message"]),
                                 (403, "attachments off"))
                s.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
