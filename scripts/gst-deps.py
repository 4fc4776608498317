#!/usr/bin/env python3
"""What hqrooms uses from the system, read from its own sources.

One scanner for two jobs (issue 13):

  gst-deps.py list [--root DIR]
      Prints every GStreamer element, program and Python module the code,
      tests, examples and scripts use, with where each is used.
  gst-deps.py check [--root DIR] [--registry FILE]
      The `setup` test: each element must come from an installed plugin
      whose Debian package, and each program and Python module from a
      Debian package, that scripts/setup.sh installs (its list and their
      dependencies, as `apt-get install --no-install-recommends` would).
  gst-deps.py plugin-dir --out DIR [--root DIR] [--registry FILE]
      Makes DIR a folder of symlinks to exactly the system plugins that
      provide those elements (and the few plugins some of them load by
      themselves), for the tests' GST_PLUGIN_SYSTEM_PATH_1_0.

Extraction is structured, not a word search: the first argument of
gst_element_factory_make() and _find() (and of the local helpers that pass
a parameter on to them), the elements of pipeline descriptions (strings
with a `!` between elements, arguments of gst_parse_launch() and
gst_parse_bin_from_description(), gst-launch-1.0 command lines and argument
lists), program names at command positions in shell scripts, in argv
arrays and subprocess calls, find_program() in meson files, and imports.
Comments and Python docstrings are not read.
"""

import argparse
import concurrent.futures
import json
import os
import re
import shlex
import subprocess
import sys

# Our own elements, built by this repository.
OWN_ELEMENTS = {"hqroomsrc", "hqroomsink", "hqspeakerdetect", "hqrecorder",
                "hqqualitymeter", "hqframeencrypt", "hqframedecrypt",
                "hqrtpvp8pay"}

# Plugins that an element or a program loads by itself, without naming
# them: autoplugging needs the typefinders, and GstEncodingProfile /
# discoverer types come from pbtypes; hlssink2 muxes with mpegtsmux into
# splitmuxsink (multifile), and what it writes is read back (tsdemux);
# webrtcbin makes ICE (nice), DTLS, SRTP, RTP session and SCTP elements.
# Demuxers for the other files we write come with their muxers' plugins
# (matroska, isomp4).
IMPLIED_PLUGINS = {
    "decodebin": ["typefindfunctions", "pbtypes"],
    "parsebin": ["typefindfunctions", "pbtypes"],
    "uridecodebin": ["typefindfunctions", "pbtypes", "playback"],
    "gst-discoverer-1.0": ["typefindfunctions", "pbtypes", "playback",
                           "coreelements"],
    "hlssink2": ["mpegtsmux", "multifile", "mpegtsdemux"],
    "webrtcbin": ["nice", "dtls", "srtp", "rtpmanager", "sctp"],
}

# Plugins left out of the shared folder (plugin-dir without --webrtc):
# what webrtcbin alone loads.  GStreamer's srtp plugin, loaded into a
# process that also runs libhq's SRTP (an in-process registry scan loads
# every plugin of the folder), leaves hqroomsrc there without media; its
# ICE and DTLS plugins bring a second libnice and OpenSSL user into such a
# process too.  Only the processes that run webrtcbin get them, from a
# second folder (plugin-dir --webrtc).
WEBRTC_ONLY_PLUGINS = {"srtp", "dtls", "nice", "sctp"}

# Functions whose argument N names an element factory / is a pipeline.
C_FACTORY_FUNCS = {"gst_element_factory_make": {0},
                   "gst_element_factory_make_full": {0},
                   "gst_element_factory_find": {0}}
C_PIPELINE_FUNCS = {"gst_parse_launch": {0}, "gst_parse_launch_full": {0},
                    "gst_parse_bin_from_description": {0},
                    "gst_parse_bin_from_description_full": {0}}
# Struct fields that hold element names or pipeline fragments, set as
# `.payloader = "rtpvp8pay ..."` (libhq's codec table, hqcodec.c).
C_ELEMENT_FIELDS = {"factory", "payloader", "depayloader", "parser",
                    "output_parser"}
# Functions whose argument N is a program to run.
C_PROGRAM_FUNCS = {"g_subprocess_new": 2, "g_subprocess_launcher_spawn": 2,
                   "g_find_program_in_path": 0}

SHELL_BUILTINS = set("""
. : [ [[ ]] alias bg break builtin caller case cd command compgen complete
continue coproc declare dirs disown do enable
done echo elif else esac eval exec exit export false fg fi for function getopts
hash if in jobs kill let local mapfile popd printf pushd read readarray return
select set shift shopt source test then time trap true type ulimit umask unalias
unset until wait while { } !
""".split())

SYSTEM_BIN_DIRS = ["/usr/bin", "/usr/sbin", "/bin", "/sbin"]

SKIP_DIRS = {".git", "node_modules", "build", "corpus", "subprojects"}


class Uses:
    """Names found, each with the places (path:line) it is used."""

    def __init__(self):
        self.elements = {}
        self.programs = {}
        self.files = {}
        self.modules = {}

    def add(self, kind, name, where):
        getattr(self, kind).setdefault(name, []).append(where)


# --- lexing -----------------------------------------------------------------

class Tok:
    __slots__ = ("kind", "text", "line")

    def __init__(self, kind, text, line):
        self.kind, self.text, self.line = kind, text, line

    def __repr__(self):
        return f"{self.kind}:{self.text!r}@{self.line}"


C_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'", "0": "\0"}


def lex_c(src, macros=None):
    """C/JS-like tokens: 'str' (literal, unescaped), 'id', 'op'.  Comments
    are dropped.  Adjacent string literals are joined (C); a macro named
    *_FORMAT between them stands for its printf conversion."""
    toks, i, line, n = [], 0, 1, len(src)
    while i < n:
        c = src[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif src.startswith("//", i):
            while i < n and src[i] != "\n":
                i += 1
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            line += src.count("\n", i, j)
            i = j
        elif c == "#" and (not toks or toks[-1].line != line):
            # preprocessor line (with continuations); a macro that is
            # string literals is kept, to stand for them where used
            j = i
            while j < n and src[j] != "\n":
                if src[j] == "\\" and j + 1 < n and src[j + 1] == "\n":
                    line += 1
                    j += 1
                j += 1
            m = re.match(r"#\s*define\s+(\w+)\s+(.*)",
                         src[i:j].replace("\\\n", " "), re.S)
            if m and macros is not None:
                body = lex_c(m.group(2), macros)
                if body and all(t.kind == "str" for t in body):
                    macros[m.group(1)] = "".join(t.text for t in body)
            i = j
        elif c in "\"'`":
            text, j = read_quoted(src, i + 1, c)
            toks.append(Tok("str" if c != "'" or len(text) != 1 else "chr",
                            text, line))
            line += src.count("\n", i, j)
            i = j + 1
        else:
            i = lex_word(src, i, line, toks, "_$", macros)
    return join_adjacent(toks)


def read_quoted(src, k, end, raw=False):
    """The text of a string literal whose body starts at src[k], escapes
    undone unless @raw; returns it and the index of its closing @end."""
    out, n = [], len(src)
    while k < n and not src.startswith(end, k):
        if src[k] == "\\" and k + 1 < n and not raw:
            out.append(C_ESCAPES.get(src[k + 1], src[k + 1]))
            k += 2
            continue
        out.append(src[k])
        k += 1
    return "".join(out), k


def lex_word(src, i, line, toks, id_chars, macros=None):
    """An identifier (a string macro stands for its text), a number or one
    operator character at src[i]; returns the index after it."""
    c, j, n = src[i], i, len(src)
    if c.isalpha() or c in id_chars:
        while j < n and (src[j].isalnum() or src[j] in id_chars):
            j += 1
        word = src[i:j]
        if macros and word in macros:
            toks.append(Tok("str", macros[word], line))
        else:
            toks.append(Tok("id", word, line))
        return j
    if c.isdigit():
        while j < n and (src[j].isalnum() or src[j] in "._"):
            j += 1
        toks.append(Tok("num", src[i:j], line))
        return j
    toks.append(Tok("op", c, line))
    return i + 1


def join_adjacent(toks):
    out = []
    for t in toks:
        if (t.kind == "id" and t.text.endswith("_FORMAT") and out
                and out[-1].kind == "str"):
            out[-1] = Tok("str", out[-1].text + "lu", out[-1].line)
            out[-1].kind = "strcat"
            continue
        if t.kind == "str" and out and out[-1].kind in ("str", "strcat"):
            out[-1] = Tok("str", out[-1].text + t.text, out[-1].line)
            continue
        if out and out[-1].kind == "strcat":
            out[-1].kind = "str"
        out.append(t)
    for t in out:
        if t.kind == "strcat":
            t.kind = "str"
    return out


JS_REGEX_BEFORE = set("(,=:[!&|?{};")


def lex_js(src):
    """JavaScript: like C, but a `/` where an operand starts begins a
    regular expression literal, skipped."""
    out, i, n = [], 0, len(src)
    # blank regex literals first (keeping newlines), then lex as C
    chars, prev = list(src), ""
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
            continue
        if src.startswith("/*", i):
            j = src.find("*/", i + 2)
            i = n if j < 0 else j + 2
            prev = ""
            continue
        if c in "\"'`":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            i = j + 1
            prev = "x"
            continue
        if c == "/" and prev in JS_REGEX_BEFORE:
            j, in_class = i + 1, False
            while j < n and src[j] != "\n":
                if src[j] == "\\":
                    j += 2
                    continue
                if src[j] == "[":
                    in_class = True
                elif src[j] == "]":
                    in_class = False
                elif src[j] == "/" and not in_class:
                    break
                j += 1
            for k in range(i, min(j + 1, n)):
                chars[k] = " "
            i = j + 1
            prev = "x"
            continue
        if not c.isspace():
            prev = c if not (c.isalnum() or c in "_$") else "x"
            if prev == "x" and src[i:i + 6] in ("return",):
                prev = "("
        i += 1
    del out
    return lex_c("".join(chars), {})


def lex_py(src, meson=False):
    """Python (and meson): 'str' tokens for literals; f-string fields stay
    as written (`{x}`), so they never look like names.  Triple-quoted
    strings (docstrings, prose) are dropped.  Comments are dropped."""
    toks, i, line, n = [], 0, 1, len(src)
    while i < n:
        c = src[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace() or c == "\\":
            i += 1
        elif c == "#":
            while i < n and src[i] != "\n":
                i += 1
        elif c in "\"'" or (c in "fFrRbBuU" and i + 1 < n
                            and (src[i + 1] in "\"'" or (
                                src[i + 1] in "fFrRbB" and i + 2 < n
                                and src[i + 2] in "\"'"))):
            j = i
            while src[j] not in "\"'":
                j += 1
            prefix, q = src[i:j].lower(), src[j]
            triple = src.startswith(q * 3, j)
            end = q * 3 if triple else q
            text, k = read_quoted(src, j + len(end), end, "r" in prefix)
            if triple and not meson:
                toks.append(Tok("doc", "", line))
            else:
                toks.append(Tok("str", text, line))
            line += src.count("\n", i, k)
            i = k + len(end)
        else:
            i = lex_word(src, i, line, toks, "_")
    return join_adjacent(toks)


def call_args(toks, i):
    """toks[i] is '(': returns (list of args, each a token list; index
    after the closing ')')."""
    depth, args, cur, j = 0, [], [], i
    pairs = {"(": ")", "[": "]", "{": "}"}
    while j < len(toks):
        t = toks[j]
        if t.kind == "op" and t.text in pairs:
            depth += 1
            if depth > 1:
                cur.append(t)
        elif t.kind == "op" and t.text in ")]}":
            depth -= 1
            if depth == 0:
                if cur:
                    args.append(cur)
                return args, j + 1
            cur.append(t)
        elif t.kind == "op" and t.text == "," and depth == 1:
            args.append(cur)
            cur = []
        else:
            cur.append(t)
        j += 1
    return args, j


def top_literals(arg):
    """String literals of an argument that are its value (a literal, a
    cast literal, either side of a ?:), not arguments of a nested call."""
    out, depth = [], 0
    for k, t in enumerate(arg):
        if t.kind == "op" and t.text in "([{":
            # a cast `(gchar *)` is not a call: look at what precedes
            if depth == 0 and k > 0 and arg[k - 1].kind == "id":
                depth += 1
                continue
            if depth > 0:
                depth += 1
            continue
        if t.kind == "op" and t.text in ")]}":
            if depth > 0:
                depth -= 1
            continue
        if depth == 0 and t.kind == "str":
            out.append(t)
    return out


# Calls whose strings are messages for people, never pipelines.
OUTPUT_CALL = re.compile(
    r"^(printf|fprintf|puts|fputs|g_print|g_printerr|g_message|g_warning|"
    r"g_info|g_debug|g_critical|g_error|g_test_message|g_test_skip|"
    r"g_set_error|g_prefix_error|g_assert\w*|GST_[A-Z_]+|print|log|warn|"
    r"error|fail|skipTest|assert\w*|sys\.exit|exit)$")


def output_strings(toks):
    """ids of the tokens inside message calls (see OUTPUT_CALL)."""
    out = set()
    for i, t in enumerate(toks[:-1]):
        if t.kind == "id" and toks[i + 1].text == "(" and \
                OUTPUT_CALL.match(t.text):
            _, end = call_args(toks, i + 1)
            out.update(id(x) for x in toks[i + 1:end])
    return out


# --- pipelines --------------------------------------------------------------

CONVERSION = re.compile(
    r"%%|%[-+ #0]*(?:\d+|\*)?(?:\.(?:\d+|\*))?"
    r"(?:hh|h|ll|l|z|j|t|L)?[diouxXeEfgGcsp]")


def split_words(text):
    """Whitespace-separated words; quotes keep their spaces."""
    words, cur, q = [], [], None
    for ch in text:
        if q:
            cur.append(ch)
            if ch == q:
                q = None
        elif ch in "\"'":
            q = ch
            cur.append(ch)
        elif ch.isspace():
            if cur:
                words.append("".join(cur))
                cur = []
        else:
            cur.append(ch)
    if cur:
        words.append("".join(cur))
    return words


ELEMENT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def pipeline_words(text):
    """(element names, conversions at element positions) of a pipeline
    description or fragment.  Properties (a=b), caps (x/y,...), pad and
    element references (name.pad), gst-launch-1.0 flags and placeholders
    are not elements."""
    words = split_words(text)
    if words and words[0].rsplit("/", 1)[-1] == "gst-launch-1.0":
        words = words[1:]
    names, placeholders = [], []
    for w in words:
        if w == "!" or w.startswith("-") or "=" in w or "/" in w:
            continue
        if CONVERSION.fullmatch(w) and w != "%%":
            placeholders.append(w)
            continue
        if "." in w or not ELEMENT_NAME.match(w):
            continue
        names.append(w)
    return names, placeholders


def is_pipeline(text):
    return "!" in split_words(text)


def conversions(fmt):
    return [m.group(0) for m in CONVERSION.finditer(fmt) if m.group(0) != "%%"]


# --- per language -----------------------------------------------------------

def scan_c(path, rel, src, uses, js=False):
    toks = lex_js(src) if js else lex_c(src, {})
    at = lambda t: f"{rel}:{t.line}"

    def add_pipeline(t, forced=False):
        if not (forced or is_pipeline(t.text)):
            return []
        names, ph = pipeline_words(t.text)
        for name in names:
            uses.add("elements", name, at(t))
        return ph

    # Local helpers that pass a parameter on to a factory/pipeline call.
    factory = {k: set(v) for k, v in C_FACTORY_FUNCS.items()}
    pipeline = {k: set(v) for k, v in C_PIPELINE_FUNCS.items()}
    if not js:
        funcs = []  # (name, params, body tokens)
        depth, i = 0, 0
        while i < len(toks):
            t = toks[i]
            if t.kind == "op" and t.text == "{":
                depth += 1
            elif t.kind == "op" and t.text == "}":
                depth -= 1
            elif (depth == 0 and t.kind == "id" and i + 1 < len(toks)
                  and toks[i + 1].text == "("):
                args, j = call_args(toks, i + 1)
                if j < len(toks) and toks[j].text == "{":
                    params = [a[-1].text if a and a[-1].kind == "id" else ""
                              for a in args]
                    d, k = 0, j
                    while k < len(toks):
                        if toks[k].text == "{" and toks[k].kind == "op":
                            d += 1
                        elif toks[k].text == "}" and toks[k].kind == "op":
                            d -= 1
                            if d == 0:
                                break
                        k += 1
                    funcs.append((t.text, params, toks[j:k + 1]))
                    i = k + 1
                    continue
            i += 1
        changed = True
        while changed:
            changed = False
            for name, params, body in funcs:
                for table in (factory, pipeline):
                    for k, t in enumerate(body[:-1]):
                        if t.kind != "id" or t.text not in table or \
                                body[k + 1].text != "(":
                            continue
                        args, _ = call_args(body, k + 1)
                        for n in list(table[t.text]):
                            if (n < len(args) and len(args[n]) == 1
                                    and args[n][0].kind == "id"
                                    and args[n][0].text in params):
                                at_n = params.index(args[n][0].text)
                                if at_n not in table.setdefault(name, set()):
                                    table[name].add(at_n)
                                    changed = True

    messages = output_strings(toks)
    for i, t in enumerate(toks):
        if t.kind == "str":
            if t.text.startswith(("/usr/", "/bin/", "/sbin/")) and \
                    " " not in t.text and not t.text.endswith("/"):
                uses.add("files", t.text, at(t))
            continue
        if id(t) in messages:
            continue
        if t.kind != "id" or i + 1 >= len(toks) or toks[i + 1].text != "(":
            continue
        name = t.text
        if OUTPUT_CALL.match(name):
            continue
        args, _ = call_args(toks, i + 1)
        if js:
            if name in ("spawn", "spawnSync", "execFile", "execFileSync") \
                    and args:
                for lit in top_literals(args[0]):
                    uses.add("programs", lit.text, at(lit))
            # an argument list with a `!`, or starting with gst-launch-1.0
            for a in args:
                if a and a[0].text == "[":
                    add_list(a, uses, rel)
            continue
        for n in factory.get(name, ()):
            for lit in top_literals(args[n]) if n < len(args) else []:
                uses.add("elements", lit.text, at(lit))
        for n in pipeline.get(name, ()):
            for lit in top_literals(args[n]) if n < len(args) else []:
                add_pipeline(lit, forced=True)
        if name in C_PROGRAM_FUNCS and C_PROGRAM_FUNCS[name] < len(args):
            for lit in top_literals(args[C_PROGRAM_FUNCS[name]]):
                uses.add("programs", lit.text, at(lit))
        # printf-like: a pipeline format whose %s stands for elements
        for n, a in enumerate(args):
            lits = top_literals(a)
            if len(lits) != 1 or len(a) != 1 or not is_pipeline(lits[0].text):
                continue
            ph = add_pipeline(lits[0])
            if not ph:
                break
            convs = conversions(lits[0].text)
            for p in set(ph):
                # every conversion equal to an element-position one
                for ci, conv in enumerate(convs):
                    if conv == p and n + 1 + ci < len(args):
                        for lit in top_literals(args[n + 1 + ci]):
                            for e in pipeline_words(lit.text)[0]:
                                uses.add("elements", e, at(lit))
            break
    # pipeline strings anywhere else (assigned, returned, ?:)
    seen = set()
    for t in toks:
        if t.kind == "str" and is_pipeline(t.text) and id(t) not in seen \
                and id(t) not in messages:
            seen.add(id(t))
            names, _ = pipeline_words(t.text)
            for name in names:
                if rel + ":" + str(t.line) not in uses.elements.get(name, []):
                    uses.add("elements", name, at(t))
    # element fields of designated initializers
    for i, t in enumerate(toks[:-3]):
        if (t.kind == "op" and t.text == "." and toks[i + 1].kind == "id"
                and toks[i + 1].text in C_ELEMENT_FIELDS
                and toks[i + 2].text == "=" and toks[i + 3].kind == "str"):
            for name in pipeline_words(toks[i + 3].text)[0]:
                uses.add("elements", name, at(toks[i + 3]))
    # argv arrays: { "prog", ... } assigned to a variable named *argv*
    for i, t in enumerate(toks):
        if (t.kind == "id" and "argv" in t.text.lower() and not js
                and i + 4 < len(toks) and toks[i + 1].text == "["
                and toks[i + 2].text == "]" and toks[i + 3].text == "="
                and toks[i + 4].text == "{"):
            args, _ = call_args(toks, i + 4)
            if args:
                for lit in top_literals(args[0]):
                    uses.add("programs", lit.text, at(lit))


def add_list(items_tok, uses, rel):
    """A list literal (tokens from '['): when it is an argument vector for
    gst-launch-1.0 or holds a `!`, each literal item is one word of a
    pipeline (an item with spaces is one value, never an element)."""
    args, _ = call_args(items_tok, 0)
    words = [(a[0].text, a[0].line) for a in args
             if len(a) == 1 and a[0].kind == "str"]
    if not words or not (words[0][0] == "gst-launch-1.0"
                         or any(w == "!" for w, _ in words)):
        return
    for w, line in words:
        if " " in w or w == "gst-launch-1.0":
            continue
        for name in pipeline_words(w)[0]:
            uses.add("elements", name, f"{rel}:{line}")


def scan_py(path, rel, src, uses, meson=False):
    toks = lex_py(src, meson=meson)
    at = lambda t: f"{rel}:{t.line}"
    wrappers = set()
    if not meson:
        for m in re.finditer(r"^def (\w+)\(\*(\w+)\):\n((?:[ \t]+.*\n|\n)*)",
                             src, re.M):
            if re.search(r"subprocess\.\w+\(\s*" + m.group(2) + r"\b",
                         m.group(3)):
                wrappers.add(m.group(1))
        for m in re.finditer(r"^\s*(?:import\s+([\w.]+(?:\s*,\s*[\w.]+)*)"
                             r"|from\s+([\w.]+)\s+import)", src, re.M):
            names = m.group(1).split(",") if m.group(1) else [m.group(2)]
            line = src.count("\n", 0, m.start()) + 1
            for nm in names:
                nm = nm.strip().split(".")[0]
                if nm:
                    uses.add("modules", nm, f"{rel}:{line}")
        # for TOOL in ("a", "b"): ... shutil.which(TOOL)
        for m in re.finditer(r"for (\w+) in \(([^)]*)\):\n((?:[ \t]+.*\n)+)",
                             src):
            if re.search(r"shutil\.which\(" + m.group(1) + r"\)", m.group(3)):
                line = src.count("\n", 0, m.start()) + 1
                for lit in re.findall(r"\"([^\"]+)\"|'([^']+)'", m.group(2)):
                    uses.add("programs", lit[0] or lit[1], f"{rel}:{line}")
    messages = output_strings(toks)
    for i, t in enumerate(toks):
        if id(t) in messages:
            continue
        if t.kind == "str" and is_pipeline(t.text):
            for name in pipeline_words(t.text)[0]:
                uses.add("elements", name, at(t))
        if t.kind == "op" and t.text in "[(":
            if t.text == "[" or (i > 0 and toks[i - 1].kind != "id"):
                add_list(toks[i:], uses, rel)
        if t.kind != "id" or i + 1 >= len(toks) or toks[i + 1].text != "(":
            continue
        args, _ = call_args(toks, i + 1)
        if not args:
            continue
        prev = toks[i - 2].text if i >= 2 and toks[i - 1].text == "." else ""
        if meson and t.text in ("find_program", "run_command"):
            lits = top_literals(args[0])
            if len(args[0]) == 1 and lits and "/" not in lits[0].text:
                uses.add("programs", lits[0].text, at(lits[0]))
        elif prev == "subprocess" and t.text in (
                "run", "Popen", "call", "check_call", "check_output"):
            a = args[0]
            if a and a[0].text in "[(":
                inner, _ = call_args(a, 0)
                if inner:
                    for lit in top_literals(inner[0])[:1]:
                        uses.add("programs", lit.text, at(lit))
        elif (prev == "shutil" and t.text == "which") or t.text in wrappers:
            for lit in top_literals(args[0])[:1]:
                uses.add("programs", lit.text, at(lit))


def shell_logical_lines(src):
    """(line number, text) of each command line: continuations joined,
    comments and here-document bodies left out."""
    lines = src.split("\n")
    out, i, heredoc = [], 0, None
    while i < len(lines):
        start, text = i + 1, lines[i]
        if heredoc is not None:
            if text.strip() == heredoc:
                heredoc = None
            i += 1
            continue
        while text.endswith("\\") and i + 1 < len(lines):
            i += 1
            text = text[:-1] + " " + lines[i]
        i += 1
        # comments: a # at a word start outside quotes
        q, cut = None, len(text)
        for k, ch in enumerate(text):
            if q:
                if ch == q:
                    q = None
            elif ch in "\"'":
                q = ch
            elif ch == "#" and (k == 0 or text[k - 1].isspace()):
                cut = k
                break
        text = text[:cut]
        if re.match(r"^\s*\w+\+?=\([^)]*$", text):
            # a multi-line array: words, not commands
            while i < len(lines) and ")" not in lines[i]:
                i += 1
            i += 1
            continue
        m = re.search(r"<<-?\s*['\"]?(\w+)['\"]?", text)
        if m:
            heredoc = m.group(1)
        out.append((start, text))
    return out


SHELL_SEPARATORS = {"|", "||", "&&", ";", ";;", "(", "&", "|&", "$("}
SHELL_PREFIXES = {"!", "then", "do", "else", "elif", "if", "while", "until",
                  "exec", "time", "sudo", "{", "xargs", "nohup", "env"}


def scan_sh(path, rel, src, uses):
    functions = set(re.findall(r"^\s*(?:function\s+)?([\w-]+)\s*\(\)", src,
                               re.M))
    for line, text in shell_logical_lines(src):
        at = f"{rel}:{line}"
        plain = re.sub(r"\$\{[^}]*\}", "$X", text)
        plain = re.sub(r"\b(\w+\+?=)\([^)]*\)", r"\1$X", plain)
        try:
            lex = shlex.shlex(plain, posix=True, punctuation_chars=True)
            lex.whitespace_split = True
            words = list(lex)
        except ValueError:
            continue
        command_pos, after_command_v = True, False
        for k, w in enumerate(words):
            if w in SHELL_SEPARATORS:
                command_pos = True
                continue
            if after_command_v:
                if not w.startswith("-"):
                    uses.add("programs", w, at)
                    after_command_v = False
                continue
            if not command_pos:
                continue
            if w in SHELL_PREFIXES:
                continue
            if k + 1 < len(words) and words[k + 1] == ")":
                continue  # a case pattern ("rest) ..."): a command follows
            if w == ")":
                continue
            if w == "command" and k + 1 < len(words) and words[k + 1] == "-v":
                after_command_v = True
                continue
            if re.match(r"^\w+\+?=", w) or re.match(r"^\$\w+$", w):
                continue  # VAR=x [cmd], or $wrapper cmd ($sudo apt-get)
            command_pos = False
            if w == "gst-launch-1.0":
                for name in pipeline_words(" ".join(
                        x if " " not in x else "%v"
                        for x in words[k + 1:]))[0]:
                    uses.add("elements", name, at)
            if (w in SHELL_BUILTINS or w in functions
                    or w.startswith(("$", "-", ".", "~"))
                    or not re.match(r"^[\w./+-]+$", w)):
                continue
            if w.startswith("/"):
                uses.add("files", w, at)
            elif "/" not in w:
                uses.add("programs", w, at)
        # quoted pipeline strings: VAR="a ! b"
        for m in re.finditer(r"\"([^\"]*)\"|'([^']*)'", text):
            s = m.group(1) if m.group(1) is not None else m.group(2)
            if is_pipeline(s) and "gst-launch-1.0" not in text:
                for name in pipeline_words(s)[0]:
                    uses.add("elements", name, at)


def source_files(root):
    try:
        out = subprocess.run(
            ["git", "-C", root, "ls-files", "-z", "--cached", "--others",
             "--exclude-standard"], capture_output=True, check=True).stdout
        files = [f for f in out.decode().split("\0") if f]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for d, dirs, names in os.walk(root):
            dirs[:] = [x for x in dirs if x not in SKIP_DIRS]
            files += [os.path.relpath(os.path.join(d, x), root) for x in names]
    for rel in sorted(files):
        parts = rel.split("/")
        if any(p in SKIP_DIRS for p in parts[:-1]):
            continue
        path = os.path.join(root, rel)
        if not os.path.isfile(path):
            continue
        base = parts[-1]
        kind = None
        if base.endswith((".c", ".h")):
            kind = "c"
        elif base.endswith((".mjs", ".js")):
            kind = "js"
        elif base.endswith(".py"):
            kind = "py"
        elif base == "meson.build":
            kind = "meson"
        elif base.endswith(".sh"):
            kind = "sh"
        elif base.endswith(".md"):
            kind = "md"
        elif "." not in base:
            try:
                with open(path, "rb") as f:
                    first = f.readline()
            except OSError:
                continue
            if first.startswith(b"#!") and (b"sh" in first):
                kind = "sh"
            elif first.startswith(b"#!") and b"python" in first:
                kind = "py"
        if kind:
            yield rel, path, kind


def scan_text(kind, rel, src, uses):
    if kind in ("c", "js"):
        scan_c(rel, rel, src, uses, js=kind == "js")
    elif kind in ("py", "meson"):
        scan_py(rel, rel, src, uses, meson=kind == "meson")
    elif kind == "sh":
        scan_sh(rel, rel, src, uses)
    elif kind == "md":
        scan_sh(rel, rel, markdown_shell(src), uses)


def markdown_shell(src):
    """The ```sh blocks of a Markdown page (the commands its reader is
    told to run), the rest blanked so line numbers stay."""
    out, inside = [], False
    for line in src.split("\n"):
        fence = line.strip().startswith("```")
        if fence:
            inside = not inside and line.strip()[3:].strip() in ("sh", "bash")
            out.append("")
        else:
            out.append(line if inside else "")
    return "\n".join(out)


# The scanner's own check: what it must find in each kind of source, and
# what it must not take for an element (prose, comments, messages, caps,
# properties, references, arguments of other calls).
SELFTEST = [
    ("c", r'''
#define SRC "videotestsrc is-live=true"
static GstElement *
make (const gchar *f)
{
  return gst_element_factory_make (f, NULL);
}
static GstElement *
make_first (const gchar *a, const gchar *b)
{
  GstElement *e = make (a);
  return e ? e : make (b);
}
void
f (void)
{
  /* filesrc ! notelement1 */
  make_first ("avdec_h264", "openh264dec");
  make (video ? "compositor" : "audiomixer");
  gst_parse_launch (SRC " ! video/x-raw,width=320 ! vp8enc ! r.video_0", 0);
  g_strdup_printf ("%s name=mux ! filesink location=\"%s\"",
      g_str_equal (f, "notelement2") ? "webmmux" : "mp4mux faststart=true", p);
  printf ("videotestsrc ! notelement3 %.3f\n", x);
  gchar *argv[] = { (gchar *)"gst-discoverer-1.0", path, NULL };
}
''', {"videotestsrc", "avdec_h264", "openh264dec", "compositor", "audiomixer",
      "vp8enc", "webmmux", "mp4mux", "filesink"}, {"gst-discoverer-1.0"}),
    ("py", r'''
"""A docstring: decodebin ! notelement4."""
subprocess.run(["gst-launch-1.0", "-q", "filesrc", f"location={p}", "!",
                "decodebin", "name=d", "d.", "!", "queue", "!", "fakesink"])
p = Launch(f"audiotestsrc wave=sine ! s.audio_0 hqroomsink name=s "
           f"server={url}")
print("tee ! notelement6")  # level ! notelement7
r = requests.get("Basic !!!")
''', {"filesrc", "decodebin", "queue", "fakesink", "audiotestsrc"},
     {"gst-launch-1.0"}),
    ("sh", r'''
#!/bin/sh
# audioconvert ! notelement8
who=${3:?participant identity to bridge}
if ! command -v node >/dev/null; then missing+=(nodejs); fi
case $t in
  rest) asan=detect_leaks=0 ;;
  *) sox -n out.wav ;;
esac
exec gst-launch-1.0 -e \
  hqroomsrc name=room server="$server" \
  room.video_0 ! queue ! x264enc tune=zerolatency ! hls.video
''', {"queue", "x264enc"}, {"node", "sox", "gst-launch-1.0"}),
]


def selftest():
    problems = []
    for kind, src, elements, programs in SELFTEST:
        uses = Uses()
        scan_text(kind, "selftest." + kind, src, uses)
        got_e = set(uses.elements) - OWN_ELEMENTS
        got_p = set(uses.programs)
        if got_e != elements:
            problems.append(f"{kind}: elements {sorted(got_e)}, "
                            f"expected {sorted(elements)}")
        if got_p != programs:
            problems.append(f"{kind}: programs {sorted(got_p)}, "
                            f"expected {sorted(programs)}")
    return problems


def scan(root):
    uses = Uses()
    local_py = set()
    files = list(source_files(root))
    for rel, path, kind in files:
        if kind == "py":
            local_py.add(os.path.basename(rel)[:-3])
        with open(path, encoding="utf-8", errors="replace") as f:
            scan_text(kind, rel, f.read(), uses)
    for m in list(uses.modules):
        if m in local_py:
            del uses.modules[m]
    for name in list(uses.elements):
        if name in OWN_ELEMENTS:
            del uses.elements[name]
    # repository scripts and our own programs are not system programs
    own = {os.path.basename(rel) for rel, _, _ in files}
    own |= {"hq-server", "hq-demo", "hq-record", "hq-compose"}
    for name in list(uses.programs):
        if name in own or not re.match(r"^[\w.+-]+$", name):
            del uses.programs[name]
    return uses


# --- the system ---------------------------------------------------------------

def gst_env(registry):
    env = dict(os.environ)
    for v in ("GST_PLUGIN_PATH", "GST_PLUGIN_PATH_1_0",
              "GST_PLUGIN_SYSTEM_PATH", "GST_PLUGIN_SYSTEM_PATH_1_0",
              "LD_PRELOAD"):
        env.pop(v, None)
    if registry:
        env["GST_REGISTRY"] = registry
    return env


def inspect(name, env):
    """(kind, plugin name, plugin file) of an element factory or plugin
    called @name, or None."""
    try:
        r = subprocess.run(["gst-inspect-1.0", name], env=env,
                           capture_output=True, text=True, timeout=120)
    except OSError:
        return None
    if r.returncode != 0:
        return None
    text = r.stdout
    kind = "element" if "Factory Details:" in text else "plugin"
    m = re.search(r"Plugin Details:\n\s+Name\s+(\S+)", text)
    f = re.search(r"\n\s+Filename\s+(\S+)", text)
    if not m or not f:
        return None
    return kind, m.group(1), f.group(1)


def resolve_plugins(uses, registry):
    """element -> (plugin, file) (None when no installed plugin has it),
    and implied plugin name -> file."""
    env = gst_env(registry)
    inspect("coreelements", env)  # one scan fills the registry first
    names = sorted(uses.elements)
    implied = sorted({p for k in list(uses.elements) + list(uses.programs)
                      for p in IMPLIED_PLUGINS.get(k, [])})
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda n: inspect(n, env), names + implied))
    elements = {}
    for n, r in zip(names, got[:len(names)]):
        elements[n] = (r[1], r[2]) if r and r[0] == "element" else None
    plugins = {}
    for n, r in zip(implied, got[len(names):]):
        plugins[n] = r[2] if r else None
    return elements, plugins


def usr_variants(path):
    out = [path]
    if path.startswith("/usr/"):
        out.append(path[4:])
    else:
        out.append("/usr" + path)
    return out


def owners(paths):
    """path -> set of Debian packages shipping it (usrmerge-aware)."""
    query = sorted({v for p in paths for v in usr_variants(p)})
    found = {}
    if query:
        r = subprocess.run(["dpkg", "-S"] + query, capture_output=True,
                           text=True)
        for line in r.stdout.splitlines():
            if ": " not in line:
                continue
            pkgs, path = line.rsplit(": ", 1)
            if pkgs.startswith("diversion "):
                continue
            found.setdefault(path, set()).update(
                p.strip().split(":")[0] for p in pkgs.split(","))
    return {p: set().union(*(found.get(v, set()) for v in usr_variants(p)))
            for p in paths}


def setup_packages(root):
    r = subprocess.run(["bash", os.path.join(root, "scripts", "setup.sh"),
                        "--list"], capture_output=True, text=True, check=True)
    return r.stdout.split()


def base_system():
    """Packages every Debian system has (Essential, or Priority required):
    nothing depends on them by name, and setup.sh need not list them."""
    r = subprocess.run(["dpkg-query", "-W", "-f",
                        "${Package} ${Essential} ${Priority}\n"],
                       capture_output=True, text=True)
    return {w[0] for w in (line.split() for line in r.stdout.splitlines())
            if len(w) >= 2 and ("yes" in w[1:] or "required" in w[1:])}


def closure(packages):
    r = subprocess.run(
        ["apt-cache", "depends", "--recurse", "--no-recommends",
         "--no-suggests", "--no-conflicts", "--no-breaks", "--no-replaces",
         "--no-enhances"] + packages, capture_output=True, text=True)
    names = set()
    for line in r.stdout.splitlines():
        if line and not line[0].isspace():
            names.add(line.strip().strip("<>").split(":")[0])
    return names


def find_program(name):
    for d in SYSTEM_BIN_DIRS:
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    return None


def python_module_files(modules):
    """module -> file it loads from under Debian's python3 ('' builtin),
    or None when it does not import."""
    code = ("import importlib.util, sys\n"
            "for m in sys.argv[1:]:\n"
            "    try:\n"
            "        s = importlib.util.find_spec(m)\n"
            "    except Exception:\n"
            "        s = None\n"
            "    print(m, '-' if s is None else (s.origin if s.origin and "
            "s.origin not in ('built-in', 'frozen') else '+'))\n")
    if not os.path.exists("/usr/bin/python3"):
        return {m: None for m in modules}
    r = subprocess.run(["/usr/bin/python3", "-I", "-c", code] + sorted(modules),
                       capture_output=True, text=True)
    out = {}
    for line in r.stdout.splitlines():
        m, f = line.split(" ", 1)
        out[m] = None if f == "-" else ("" if f == "+" else f)
    return out


# --- commands ---------------------------------------------------------------

def where(places, n=2):
    more = len(places) - n
    return ", ".join(places[:n]) + (f" and {more} more" if more > 0 else "")


def cmd_list(args):
    uses = scan(args.root)
    for kind in ("elements", "programs", "files", "modules"):
        d = getattr(uses, kind)
        print(f"{kind} ({len(d)}):")
        for name in sorted(d):
            print(f"  {name:24} {where(d[name], 3)}")


def cmd_check(args):
    problems = ["the scanner's self-test: " + p for p in selftest()]
    uses = scan(args.root)
    elements, implied = resolve_plugins(uses, args.registry)
    pkgs = setup_packages(args.root)
    allowed = closure(pkgs)
    base = base_system()
    if not allowed:
        print("setup: apt-cache knows none of setup.sh's packages "
              "(run apt-get update)", file=sys.stderr)
        return 1
    plugin_files = {f for r in elements.values() if r for f in [r[1]]}
    plugin_files |= {f for f in implied.values() if f}
    program_files = {}
    for name in uses.programs:
        program_files[name] = find_program(name)
    modules = python_module_files(uses.modules)
    own = owners(list(plugin_files)
                 + [f for f in program_files.values() if f]
                 + [f for f in uses.files]
                 + [f for f in modules.values() if f]
                 + ["/usr/bin/python3"])

    checked = []

    def judge(what, path, places):
        pk = own.get(path) or set()
        checked.append(f"  {what}: {', '.join(sorted(pk)) or '?'}")
        if not pk:
            problems.append(f"{what} ({where(places)}): {path} belongs to "
                            "no Debian package, so scripts/setup.sh cannot "
                            "install it")
        elif not pk & (allowed | base):
            problems.append(f"{what} ({where(places)}) comes from Debian "
                            f"package {' or '.join(sorted(pk))}, which "
                            "scripts/setup.sh does not install")

    for name in sorted(elements):
        r = elements[name]
        if r is None:
            problems.append(f"element \"{name}\" "
                            f"({where(uses.elements[name])}): no installed "
                            "GStreamer plugin provides it")
            continue
        judge(f"element \"{name}\" (plugin {r[0]}, {r[1]})", r[1],
              uses.elements[name])
    for name, path in sorted(implied.items()):
        users = [k for k, v in IMPLIED_PLUGINS.items() if name in v
                 and (k in uses.elements or k in uses.programs)]
        places = [p for u in users
                  for p in (uses.elements.get(u) or uses.programs.get(u))]
        if path is None:
            problems.append(f"plugin \"{name}\" (loaded by "
                            f"{', '.join(users)}): not installed")
        else:
            judge(f"plugin \"{name}\" (loaded by {', '.join(users)})", path,
                  places)
    for name in sorted(program_files):
        path = program_files[name]
        if path is None:
            problems.append(f"program \"{name}\" "
                            f"({where(uses.programs[name])}): not installed "
                            f"in {':'.join(SYSTEM_BIN_DIRS)}")
            continue
        judge(f"program \"{name}\" ({path})", path, uses.programs[name])
    for path in sorted(uses.files):
        if not os.path.exists(path):
            problems.append(f"file {path} ({where(uses.files[path])}): "
                            "not installed")
            continue
        judge(f"file {path}", path, uses.files[path])
    for name in sorted(modules):
        f = modules[name]
        if f is None:
            problems.append(f"python module \"{name}\" "
                            f"({where(uses.modules[name])}): Debian's "
                            "/usr/bin/python3 cannot import it")
            continue
        judge(f"python module \"{name}\"", f or "/usr/bin/python3",
              uses.modules[name])

    plugins = {r[0] for r in elements.values() if r} | set(implied)
    print(f"setup: checked {len(elements)} elements (from {len(plugins)} "
          f"plugins), {len(program_files)} programs, {len(uses.files)} "
          f"files and {len(modules)} python modules against "
          f"{len(pkgs)} packages of scripts/setup.sh "
          f"({len(allowed)} with their dependencies)")
    print("\n".join(checked))
    for p in problems:
        print("setup: FAIL: " + p)
    if problems:
        print(f"setup: {len(problems)} problems: add the packages to "
              "scripts/setup.sh (and install them: scripts/setup.sh)")
        return 1
    return 0


def fingerprint(root):
    """What the plugin folder depends on: every scanned source file
    (mtime, size) and the system plugin folders (their mtime changes when
    a package adds, removes or replaces a plugin)."""
    fp = {}
    for rel, path, _ in source_files(root):
        st = os.stat(path)
        fp[rel] = [st.st_mtime_ns, st.st_size]
    r = subprocess.run(["pkg-config", "--variable=pluginsdir",
                        "gstreamer-1.0"], capture_output=True, text=True)
    for d in {r.stdout.strip(), "/usr/lib/" + os.uname().machine
              + "-linux-gnu/gstreamer-1.0"}:
        if d and os.path.isdir(d):
            fp["dir:" + d] = [os.stat(d).st_mtime_ns, 0]
    return fp


def cmd_plugin_dir(args):
    cache_file = (args.stamp or os.path.join(args.out, "..", "plugins")) \
        + ".cache.json"
    fp = fingerprint(args.root)
    want = None
    try:
        with open(cache_file) as f:
            cached = json.load(f)
        if cached["fingerprint"] == fp and all(
                os.path.exists(t) for t in cached["plugins"].values()):
            want = cached["plugins"]
    except (OSError, ValueError, KeyError):
        pass
    if want is None:
        uses = scan(args.root)
        elements, implied = resolve_plugins(uses, args.registry)
        want = {}
        skip = set() if args.webrtc else WEBRTC_ONLY_PLUGINS
        implied = {k: v for k, v in implied.items() if k not in skip}
        for name, r in elements.items():
            if r is not None and r[0] in skip:
                continue
            if r is None:
                print(f"gst-deps: element \"{name}\" "
                      f"({where(uses.elements[name])}): no installed plugin "
                      "provides it (scripts/setup.sh installs what is "
                      "missing)", file=sys.stderr)
                continue
            want[os.path.basename(r[1])] = r[1]
        for name, f in implied.items():
            if f:
                want[os.path.basename(f)] = f
        with open(cache_file, "w") as f:
            json.dump({"fingerprint": fp, "plugins": want}, f)
    os.makedirs(args.out, exist_ok=True)
    for old in os.listdir(args.out):
        p = os.path.join(args.out, old)
        if old not in want or os.readlink(p) != want[old]:
            os.unlink(p)
    for base, target in want.items():
        p = os.path.join(args.out, base)
        if not os.path.lexists(p):
            os.symlink(target, p)
    if args.stamp:
        text = "".join(f"{b} -> {want[b]}\n" for b in sorted(want))
        old = None
        if os.path.exists(args.stamp):
            with open(args.stamp) as f:
                old = f.read()
        if old != text:
            with open(args.stamp, "w") as f:
                f.write(text)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("command", choices=["list", "check", "plugin-dir"])
    p.add_argument("--root", default=os.path.dirname(
        os.path.dirname(os.path.abspath(__file__))))
    p.add_argument("--registry", help="GStreamer registry file to use")
    p.add_argument("--out", help="plugin-dir: the folder of symlinks")
    p.add_argument("--stamp", help="plugin-dir: a file listing them")
    p.add_argument("--webrtc", action="store_true",
                   help="plugin-dir: with the plugins only webrtcbin's "
                   "processes may load (%s)" % ", ".join(WEBRTC_ONLY_PLUGINS))
    args = p.parse_args()
    if args.command == "list":
        return cmd_list(args)
    if args.command == "check":
        return cmd_check(args)
    if not args.out:
        p.error("plugin-dir needs --out")
    return cmd_plugin_dir(args)


if __name__ == "__main__":
    sys.exit(main())
