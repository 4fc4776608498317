"""The Debian package (docs/package.md): scripts/package.sh builds it from
this checkout, lintian finds no error in it, its contents extracted into a
scratch root run a server that answers /healthz and serves the web app
and SDK, gst-inspect-1.0 finds its elements, and systemd-analyze accepts
its service unit.  Suite `package` (normal build; it builds the project
once more, inside dpkg-buildpackage).
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
ELEMENTS = ["hqroomsrc", "hqroomsink", "hqspeakerdetect", "hqqualitymeter",
            "hqrecorder"]


def run(*args, **kw):
    return subprocess.run(list(args), capture_output=True, text=True, **kw)


class Package(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="hq-package-")
        out = os.path.join(cls.tmp.name, "out")
        built = run(os.path.join(ROOT, "scripts", "package.sh"), out)
        if built.returncode != 0:
            raise AssertionError("scripts/package.sh failed:\n"
                                 + built.stdout + built.stderr)
        debs = glob.glob(os.path.join(out, "hqrooms_*.deb"))
        assert len(debs) == 1, debs
        cls.deb = debs[0]
        cls.root = os.path.join(cls.tmp.name, "root")
        x = run("dpkg-deb", "-x", cls.deb, cls.root)
        assert x.returncode == 0, x.stderr
        arch = run("dpkg-architecture", "-qDEB_HOST_MULTIARCH").stdout.strip()
        cls.libdir = os.path.join(cls.root, "usr", "lib", arch)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def env(self, **extra):
        env = dict(os.environ)
        for k in list(env):
            if k.startswith(("HQ_", "GST_")):
                del env[k]
        env["LD_LIBRARY_PATH"] = self.libdir
        env.update(extra)
        return env

    def test_lintian_finds_no_error(self):
        lint = run("lintian", "--fail-on", "error", "--no-tag-display-limit",
                   self.deb)
        print(lint.stdout, lint.stderr, file=sys.stderr)
        self.assertEqual(lint.returncode, 0, lint.stdout + lint.stderr)
        self.assertNotRegex(lint.stdout, r"(?m)^E: ")

    def test_contents(self):
        for path in ["usr/bin/hq-server", "usr/bin/hq-record",
                     "usr/bin/hq-compose", "etc/hqrooms/hq-server.conf",
                     "lib/systemd/system/hqrooms.service",
                     "usr/share/hqrooms/web/index.html",
                     "usr/share/hqrooms/sdk/js/video/index.js",
                     "usr/share/doc/hqrooms/configuration.md"]:
            # dh_compress gzips the longer documents.
            self.assertTrue(os.path.exists(os.path.join(self.root, path))
                            or os.path.exists(os.path.join(self.root,
                                                           path + ".gz")),
                            path)
        conffiles = run("dpkg-deb", "-I", self.deb, "conffiles").stdout
        self.assertIn("/etc/hqrooms/hq-server.conf", conffiles)

    def test_the_packaged_server_runs_and_serves_its_web_app(self):
        data = os.path.join(self.tmp.name, "data")
        web = os.path.join(self.root, "usr", "share", "hqrooms", "web")
        proc = subprocess.Popen(
            [os.path.join(self.root, "usr", "bin", "hq-server"),
             "--data-dir", data, "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env=self.env(HQ_WEB_DIR=web))
        try:
            url = None
            for line in proc.stdout:
                if " listening on " in line:
                    url = line.split()[-1]
                    break
            if url is None:
                proc.wait(timeout=60)
                self.fail(f"hq-server exited ({proc.returncode}) before it "
                          "listened")
            import urllib.request
            with urllib.request.urlopen(url + "/healthz", timeout=30) as r:
                self.assertEqual(r.status, 200)
                self.assertIn(b'"ok"', r.read())
            with urllib.request.urlopen(url + "/", timeout=30) as r:
                self.assertIn("text/html", r.headers["Content-Type"])
            with urllib.request.urlopen(url + "/sdk/video.js", timeout=30) as r:
                self.assertIn(b"export", r.read())
        finally:
            proc.terminate()
            self.assertEqual(proc.wait(timeout=60), 0)

    def test_gst_inspect_finds_the_elements(self):
        registry = os.path.join(self.tmp.name, "registry.bin")
        plugins = os.path.join(self.libdir, "gstreamer-1.0")
        for element in ELEMENTS:
            with self.subTest(element=element):
                r = run("gst-inspect-1.0", element, env=self.env(
                    GST_PLUGIN_PATH=plugins, GST_REGISTRY=registry))
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertIn(plugins, r.stdout)

    def test_systemd_accepts_the_unit(self):
        unit = os.path.join(self.root, "lib", "systemd", "system",
                            "hqrooms.service")
        with open(unit) as f:
            text = f.read()
        # verify checks that ExecStart's program exists: point it at the
        # extracted one (the unit is otherwise as packaged).
        check = os.path.join(self.tmp.name, "unit", "hqrooms.service")
        os.makedirs(os.path.dirname(check), exist_ok=True)
        with open(check, "w") as f:
            f.write(text.replace("ExecStart=/usr/bin/hq-server",
                                 "ExecStart=" + os.path.join(
                                     self.root, "usr/bin/hq-server")))
        r = run("systemd-analyze", "verify", check)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertNotIn("hqrooms.service:", r.stderr)  # no warning either
        for directive in ("DynamicUser=yes", "StateDirectory=hqrooms",
                          "ProtectSystem=strict", "NoNewPrivileges=yes",
                          "RestrictAddressFamilies=", "LimitNOFILE="):
            self.assertIn(directive, text)
        sec = run("systemd-analyze", f"--root={self.root}", "security",
                  "--offline=yes", "--threshold=50",
                  "/lib/systemd/system/hqrooms.service")
        print(sec.stdout[-600:], file=sys.stderr)
        self.assertEqual(sec.returncode, 0, sec.stdout[-3000:] + sec.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
