#!/usr/bin/env python3
"""One protocol definition (issue 15, point 3): every message type name,
close code, track priority name, rule type and filter name, leave reason
and room end reason of docs/protocol.md is spelled in C only in libhq's
hqprotocol.c (close codes: their numbers in hqprotocol.h's HqCloseCode),
and every one of them is in docs/protocol.md.

The names are read from hqprotocol.c's tables (TABLES below: each must
be there), the numbers from hqprotocol.h; then every
.c and .h under server/, gst-libs/, gst/, ext/, tests/common/ and
examples/ is searched, comments left out:

- a name counts where it is a C string literal "name", except as the JSON
  member name of a *_member (obj, "name") call, a GstStructure field or a
  GObject signal name
  (a field or a signal that happens to share the word is no message type);
- a close code counts where its number is a whole word on a line that
  closes something or compares a code (close, code, `case N:`, `== N`,
  "(N)").

Prints each name found elsewhere with file:line, and fails; a spelling
in KNOWN (work in progress elsewhere) is printed and tolerated.  Usage:
names.py SOURCE_ROOT (run by meson as the `protocol-names` test)."""
import os
import re
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), '..', '..')
HOME_C = os.path.join('gst-libs', 'hq', 'hqprotocol.c')
HOME_H = os.path.join('gst-libs', 'hq', 'hqprotocol.h')
DIRS = ['server', 'gst-libs', 'gst', 'ext', os.path.join('tests', 'common'),
        'examples']


def strip_comments(text):
    """@text with C comments blanked (newlines kept), strings untouched."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == '\\' else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith('/*', i):
            j = text.find('*/', i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r'[^\n]', ' ', text[i:j]))
            i = j
        elif text.startswith('//', i):
            j = text.find('\n', i)
            j = n if j < 0 else j
            i = j
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def table(text, name):
    """The first string of each row of `name[] = { ... };` in @text."""
    m = re.search(r'\b' + name + r'\[\]\s*=\s*\{(.*?)\n\};', text, re.S)
    if not m:
        return []
    return re.findall(r'(?:\]\s*=\s*\{?|^\s*\{)\s*"([^"]+)"', m.group(1), re.M)


# hqprotocol.c's tables of names that go on the wire, and what each is.
# Participant and transport states are not searched: "connected",
# "failed" and "closed" are also REST statuses, recording states, ICE
# states and GObject signals, so a literal of theirs says nothing.
TABLES = [('messages', 'message type'), ('priorities', 'priority'),
          ('rule_types', 'rule type'), ('rule_filters', 'rule filter'),
          ('leave_reasons', 'leave reason'),
          ('room_end_reasons', 'room end reason')]


def read_names():
    src = strip_comments(open(os.path.join(ROOT, HOME_C)).read())
    hdr = strip_comments(open(os.path.join(ROOT, HOME_H)).read())
    names, missing = {}, []
    for tab, what in TABLES:
        found = table(src, tab)
        if not found:
            missing.append(tab)
        for n in found:
            names.setdefault(n, what)
    codes = {}
    m = re.search(r'typedef enum\s*\{(.*?)\}\s*HqCloseCode;', hdr, re.S)
    if m:
        for sym, num in re.findall(r'(HQ_CLOSE_\w+)\s*=\s*(\d+)', m.group(1)):
            codes[num] = sym
    return names, codes, missing


# A literal that is a JSON member's or a field's name, a log line's event
# or a GObject signal's name, not a value: the second argument of
# *_member*(), *_or_null(), field_*(), read_*() (a condition may choose
# between two names) or hq_log_begin(), or the signal argument of
# g_signal_*().
KEY_BEFORE = re.compile(
    r'(\w*_member\w*|\w*_or_null|\bfield_\w+|\w*_read_\w+|hq_log_begin'
    r'|g_signal_connect\w*|g_signal_emit_by_name|gst_structure_\w+)'
    r'\s*\(\s*(?:[^,()]|\([^()]*\))*,\s*'
    r'(?:[\w>.-]+\s*\?\s*(?:"[^"]*"\s*:\s*)?)?$'
    r'|g_signal_new\s*\(\s*$')

# The few literals that share a protocol name but mean something else,
# each with what it is (by file, or file name prefix).
OTHER_MEANINGS = {
    ('gst-libs/hq/hqsdp', 'candidate'): 'an SDP attribute, a=candidate',
    ('server/hqlog.c', 'error'): 'the level of a log line',
    ('server/recording/hq-record.c', 'error'):
        "an event of hq-record's own output to the server",
    ('server/hqserver.c', 'ok'): "the health endpoint's status",
    ('server/recording/hqrecordings', 'joined'):
        "a recorder run's log event",
    ('server/http/hqroomsapi', 'subscribe_rules'):
        "the name of a REST room's link to its subscribe rules",
    ('server/recording/hq-record.c', 'track'):
        "an event of hq-record's own output to the server",
    ('server/recording/hqrecordings', 'track'):
        "hq-record's track event, and a manifest's track name field",
    ('ext/room/gsthqroomenums.c', 'all'):
        "the nick of ice-transport-policy=all",
    ('ext/room/gsthqroombin', 'track'):
        "the member of a track message that holds the track",
    ('ext/room/gsthqroombin', 'kind'): "a track's member",
}

# Names still spelled outside hqprotocol by work in progress elsewhere,
# each (file, name) with who is taking it out; printed while tolerated.
KNOWN = {}

# A literal followed by a GType is a field name in a GstStructure's (or a
# g_object_set's) list of fields, not a value.
FIELD_AFTER = re.compile(r'\s*,\s*G_TYPE_')


def sources():
    for d in DIRS:
        for base, _, files in os.walk(os.path.join(ROOT, d)):
            for f in sorted(files):
                if f.endswith(('.c', '.h')):
                    path = os.path.join(base, f)
                    yield os.path.relpath(path, ROOT), path


def main():
    names, codes, missing = read_names()
    for tab in missing:
        print('hqprotocol.c has no %s[] table: those names have no one '
              'definition' % tab)
    if not names or not codes:
        print('hqprotocol.c has no messages[]/priorities[] tables or '
              'hqprotocol.h no HqCloseCode: nothing defines the protocol '
              'in one place (%d names, %d close codes read)'
              % (len(names), len(codes)))
    found = {}
    # Character constants first, so that '"' never opens a string.
    lit = re.compile(r"'(?:[^'\\\n]|\\.)*'|\"((?:[^\"\\\n]|\\.)*)\"")
    for rel, path in sources():
        if rel in (HOME_C, HOME_H):
            continue
        text = strip_comments(open(path, errors='replace').read())
        for m in lit.finditer(text):
            word = m.group(1)
            if word is None or word not in names or any(
                    rel.startswith(f) and word == w
                    for f, w in OTHER_MEANINGS):
                continue
            # The statement so far: from the last ; { or } on.
            start = max(text.rfind(c, 0, m.start()) for c in ';{}') + 1
            before = ' '.join(text[start:m.start()].split())
            if KEY_BEFORE.search(before + (' ' if before.endswith(',') else '')):
                continue
            if FIELD_AFTER.match(text, m.end()):
                continue
            lineno = text.count('\n', 0, m.start()) + 1
            found.setdefault((names[word], word), []).append(
                '%s:%d' % (rel, lineno))
        for lineno, line in enumerate(text.split('\n'), 1):
            low = line.lower()
            for num in codes:
                if not re.search(r'(?<![\w.])' + num + r'(?![\w.])', line):
                    continue
                if ('close' in low or 'code' in low
                        or re.search(r'case\s+' + num + r'\s*:', line)
                        or re.search(r'==\s*' + num + r'\b', line)
                        or '(' + num + ')' in line):
                    found.setdefault(('close code', num), []).append(
                        '%s:%d' % (rel, lineno))
    doc = open(os.path.join(ROOT, 'docs', 'protocol.md')).read()
    undocumented = [n for n in list(names) + list(codes)
                    if not re.search(r'(?<![\w])' + n + r'(?![\w])', doc)]
    tolerated = set()
    for (what, word), where in sorted(found.items()):
        known = [w for w in where if (w.split(':')[0], word) in KNOWN]
        for w in known:
            tolerated.add((w.split(':')[0], word))
            print('tolerated: %s "%s" in %s: %s' % (
                what, word, w, KNOWN[(w.split(':')[0], word)]))
        where = [w for w in where if w not in known]
        if where:
            print('%s "%s" is also spelled in %d place(s): %s' % (
                what, word, len(where), ', '.join(where)))
        else:
            del found[(what, word)]
    for gone in sorted(set(KNOWN) - tolerated):
        print('known spelling %s "%s" is gone: take it out of KNOWN' % gone)
    for n in undocumented:
        print('"%s" is in hqprotocol but not in docs/protocol.md' % n)
    print('%d names and %d close codes read from hqprotocol; %d spelled '
          'elsewhere' % (len(names), len(codes), len(found)))
    ok = names and codes and not found and not undocumented and not missing
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
