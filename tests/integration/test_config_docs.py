"""docs/configuration.md against the code: every setting hq-server reads
(config file keys, environment variables) is in the reference, and the
reference names no setting the code does not read.  Suite `server`.

The code is read the way it reads its settings: config keys from
g_key_file_get_*() calls with a literal section and key, and from the
IntSetting tables (server/hqconfig.c) with the section their load_ints()
call names; environment variables from every quoted HQ_* or TWILIO_* name
in the server's sources.
"""
import os
import re
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SERVER = os.path.join(ROOT, "server")
DOC = os.path.join(ROOT, "docs", "configuration.md")
# Handed from hq-server to its own children, not set by anyone.
INTERNAL = {"HQ_ACCESS_TOKEN", "HQ_TLS_PINNED_CERTIFICATE"}
# The children read only what the parent hands them.
CHILDREN = {"hq-record.c", "hq-compose.c"}


def sources():
    for folder, _, names in sorted(os.walk(SERVER)):
        for name in sorted(names):
            if name.endswith(".c") and name not in CHILDREN:
                with open(os.path.join(folder, name), encoding="utf-8") as f:
                    yield name, f.read()


def code_settings():
    keys, envs = set(), set()
    for name, text in sources():
        for section, key in re.findall(
                r'g_key_file_get_\w+\s*\(\s*\w+\s*,\s*"([\w-]+)"\s*,\s*"(\w+)"',
                text):
            keys.add(f"[{section}] {key}")
        tables = dict(re.findall(
            r'static const IntSetting (\w+)\[\] = \{(.*?)\n\};', text, re.S))
        for section, table in re.findall(
                r'load_ints\s*\(\s*config\s*,\s*kf\s*,\s*"([\w-]+)"\s*,\s*(\w+)',
                text):
            for key in re.findall(r'\{\s*"(\w+)"\s*,\s*"[A-Z_0-9]+"',
                                  tables[table]):
                keys.add(f"[{section}] {key}")
        # Tables of string settings read in a loop with a literal section:
        # g_key_file_get_string (kf, "oidc", oidc_settings[i].key, NULL).
        string_tables = dict(re.findall(
            r'static const struct\s*\{[^}]*\}\s*(\w+)\[\] = \{(.*?)\n\};',
            text, re.S))
        for section, table in re.findall(
                r'g_key_file_get_\w+\s*\(\s*\w+\s*,\s*"([\w-]+)"\s*,'
                r'\s*(\w+)\[i\]\.key', text):
            for key in re.findall(r'\{\s*"(\w+)"\s*,\s*"[A-Z_0-9]+"',
                                  string_tables[table]):
                keys.add(f"[{section}] {key}")
        envs.update(re.findall(r'"((?:HQ|TWILIO)_[A-Z0-9_]+)"', text))
    return keys, envs - INTERNAL


def doc_settings():
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    keys = set(re.findall(r'`(\[[\w-]+\] \w+)`', text))
    envs = set(re.findall(r'`((?:HQ|TWILIO)_[A-Z0-9_]+)`', text))
    return keys, envs


class ConfigurationReference(unittest.TestCase):
    def test_scan_finds_the_settings(self):
        # The scan itself: settings known to exist must be found, or the
        # comparisons below prove nothing.
        keys, envs = code_settings()
        for k in ("[server] listen", "[limits] join_rate", "[media] port_min",
                  "[token] passcode", "[api-key] key_secret",
                  "[oidc] issuer", "[oidc] allowed_emails"):
            self.assertIn(k, keys)
        for e in ("HQ_LISTEN", "HQ_JOIN_RATE", "TWILIO_API_KEY_SID",
                  "HQ_RECORD_BIN"):
            self.assertIn(e, envs)

    def test_every_setting_is_documented(self):
        keys, envs = code_settings()
        doc_keys, doc_envs = doc_settings()
        self.assertEqual(sorted(keys - doc_keys), [],
                         "config keys the code reads but docs/configuration.md"
                         " does not list")
        self.assertEqual(sorted(envs - doc_envs), [],
                         "environment variables the code reads but "
                         "docs/configuration.md does not list")

    def test_every_documented_setting_is_read(self):
        keys, envs = code_settings()
        doc_keys, doc_envs = doc_settings()
        self.assertEqual(sorted(doc_keys - keys), [],
                         "docs/configuration.md lists config keys the code "
                         "never reads")
        self.assertEqual(sorted(doc_envs - envs), [],
                         "docs/configuration.md lists environment variables "
                         "the code never reads")


if __name__ == "__main__":
    unittest.main(verbosity=2)
