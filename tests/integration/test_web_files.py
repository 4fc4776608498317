"""The web client and the SDKs hq-server serves at / and /sdk/ are compiled
into it (a GResource, server/hq-web.gresource.xml); HQ_WEB_DIR serves them
from a folder instead.  Suite `server`.

What is served is read from hqserver.c's list of files (handle_static), so
a file added there and not to the resource fails here.
"""
import os
import re
import shutil
import tempfile
import unittest

from hqtest import Server

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
WEB = os.path.join(ROOT, "web")


def served_files():
    """[(URL path, file in the source tree)] from handle_static's table."""
    with open(os.path.join(ROOT, "server", "hqserver.c"),
              encoding="utf-8") as f:
        text = f.read()
    table = text[text.index("handle_static ("):]
    table = table[:table.index("};")]
    out = [(path, os.path.normpath(os.path.join(WEB, file)))
           for path, file in re.findall(r'\{ "(/[^"]*)", "([^"]+)"', table)]
    out += [("/sdk/lib/" + name,
             os.path.join(ROOT, "sdk", "js", "video", "lib", name))
            for name in re.findall(r'HQ_SDK_LIB \("([^"]+)"\)', table)]
    return out


def read(path):
    with open(path, "rb") as f:
        return f.read()


class WebFiles(unittest.TestCase):
    def test_reads_the_list(self):
        files = dict(served_files())
        self.assertEqual(files["/"], os.path.join(WEB, "index.html"))
        self.assertEqual(files["/sdk/video.js"],
                         os.path.join(ROOT, "sdk", "js", "video", "index.js"))
        self.assertIn("/sdk/lib/room.js", files)
        self.assertGreater(len(files), 25)

    def test_the_binary_carries_the_files(self):
        # Without the source tree next to it: the bytes are in hq-server.
        binary = read(os.environ["HQ_SERVER_BIN"])
        for path, file in served_files():
            self.assertTrue(read(file) in binary,
                            f"{path}: {file} is not in hq-server")

    def test_serves_the_built_in_copy(self):
        with Server() as srv:
            for path, file in served_files():
                r = srv.request("GET", path)
                self.assertEqual(r.status, 200, path)
                self.assertEqual(r.body, read(file), path)
                self.assertEqual(r.headers["Cache-Control"], "no-cache")
            self.assertEqual(srv.request("GET", "/nothing.js").status, 404)

    def test_web_dir_serves_a_folder(self):
        with tempfile.TemporaryDirectory(prefix="hq-web-") as tmp:
            web = os.path.join(tmp, "web")
            shutil.copytree(WEB, web)
            shutil.copytree(os.path.join(ROOT, "sdk", "js"),
                            os.path.join(tmp, "sdk", "js"))
            with open(os.path.join(web, "index.html"), "ab") as f:
                f.write(b"<!-- edited -->\n")
            with Server(env={"HQ_WEB_DIR": web}) as srv:
                r = srv.request("GET", "/")
                self.assertEqual(r.status, 200)
                self.assertTrue(r.body.endswith(b"<!-- edited -->\n"))
                r = srv.request("GET", "/sdk/lib/room.js")
                self.assertEqual(r.body, read(os.path.join(
                    ROOT, "sdk", "js", "video", "lib", "room.js")))
                os.remove(os.path.join(web, "app.js"))
                r = srv.request("GET", "/app.js")
                self.assertEqual(r.status, 500)
                self.assertEqual(r.json()["error"]["message"],
                                 "web client missing")


if __name__ == "__main__":
    unittest.main(verbosity=2)
