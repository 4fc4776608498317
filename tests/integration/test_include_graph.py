"""No import circle between hq-server's parts.  Suite `server`.

The graph is read from the sources the way a reader follows them: a .c
file depends on the headers it includes, and a header's own includes are
dependencies of whoever owns it.  A part is named after its header: hqfoo.h
belongs to hqfoo.c and to the files split from it (hqfoo-*.c, hqfoo-*.h).
A header that declares functions another file defines belongs to that file
too (hqsfustate.h declares what hqsfuforward.c defines; hqroom.h what
hqparticipant.c defines): including it depends on both.  Two parts that
depend on each other, directly or around a longer loop, are a circle.

KNOWN lists the circles other work is still breaking; each is printed
while it is tolerated, and the list empties when they are gone.
"""
import os
import re
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SERVER = os.path.join(ROOT, "server")

# Circles tolerated for now, each as the sorted names of its parts, with
# who is breaking it.
KNOWN = {}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
# A function definition in GNU style: its name at the start of a line,
# its return type on the line before ("static" there: not exported).
DEFINITION = re.compile(r'^(?P<type>[^\n]*)\n(?P<name>hq_\w+) \(', re.M)
# A declaration in a header: a line that starts in the first column (not
# a call in an inline function's body, not a #define) and names a function.
DECLARATION = re.compile(r'^(?![\s#])[^\n;{}]*?\b(hq_\w+)\s*\(', re.M)
COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*', re.S)


def part_of(filename):
    """hqroom.c, hqroom.h, hqroomcore-private.h -> hqroom, hqroomcore."""
    stem = os.path.splitext(filename)[0]
    return stem.split("-")[0] if stem.startswith("hq") else stem


def read_sources(root=SERVER):
    files = {}
    for folder, _, names in sorted(os.walk(root)):
        for name in sorted(names):
            if name.endswith((".c", ".h")):
                with open(os.path.join(folder, name), encoding="utf-8") as f:
                    files[name] = COMMENT.sub("", f.read())
    return files


def build_graph(files):
    """{part: {part it depends on: the reason, a file and what it
    includes}}."""
    definer = {}
    for name, text in files.items():
        if name.endswith(".c"):
            for m in DEFINITION.finditer(text):
                if not m.group("type").startswith("static"):
                    definer.setdefault(m.group("name"), part_of(name))
    owners = {}
    for name, text in files.items():
        if name.endswith(".h"):
            owners[name] = {part_of(name)} | {
                definer[f] for f in DECLARATION.findall(text) if f in definer}
    graph = {}
    # .c files first: an edge names the include in a source file when
    # there is one.
    for name, text in sorted(files.items(),
                             key=lambda kv: (not kv[0].endswith(".c"), kv[0])):
        # A header's includes are its owners' dependencies.
        froms = owners.get(name, {part_of(name)})
        for header in INCLUDE.findall(text):
            if header not in owners:
                continue  # not a server header (hq/..., system)
            for src in froms:
                for dst in owners[header]:
                    if dst != src:
                        graph.setdefault(src, {}).setdefault(
                            dst, f"{name} includes {header}")
    return graph


def circles(graph):
    """The strongly connected parts of @graph with more than one member
    (Tarjan), each as a sorted tuple."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, {})):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            members = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                members.append(w)
                if w == v:
                    break
            if len(members) > 1:
                out.append(tuple(sorted(members)))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def describe(circle, graph):
    """Each edge inside @circle with the include that makes it."""
    lines = []
    for src in circle:
        for dst, why in sorted(graph.get(src, {}).items()):
            if dst in circle:
                lines.append(f"  {src} -> {dst} ({why})")
    return "\n".join(lines)


class IncludeGraph(unittest.TestCase):
    def test_reads_the_dependencies(self):
        # The reading itself: edges known to exist must be found, or "no
        # circle" proves nothing.
        graph = build_graph(read_sources())
        self.assertIn("hqroom", graph["hqsignal"])
        self.assertIn("hqstore", graph["hqroom"])
        # The rooms' three layers: hqroom above hqparticipant above
        # hqroomcore, which includes neither.
        self.assertIn("hqparticipant", graph["hqroom"])
        self.assertIn("hqroomcore", graph["hqparticipant"])
        self.assertNotIn("hqroom", graph["hqroomcore"])
        self.assertNotIn("hqparticipant", graph["hqroomcore"])
        # hqsfutypes.h declares functions hqsfucmd.c defines: including
        # it depends on hqsfucmd too.
        self.assertIn("hqsfucmd", graph["hqsfustate"])

    def test_finds_a_circle(self):
        graph = build_graph({
            "hqa.c": '#include "hqa.h"\n#include "hqb.h"\n',
            "hqa.h": "void\nhq_a (void);\n",
            "hqb.c": '#include "hqb-private.h"\n',
            "hqb-private.h": '#include "hqa.h"\n',
            "hqb.h": "",
            "hqc.c": '#include "hqa.h"\n'})
        self.assertEqual(circles(graph), [("hqa", "hqb")])

    def test_no_circle_between_server_parts(self):
        graph = build_graph(read_sources())
        found = circles(graph)
        for circle in found:
            if circle in KNOWN:
                print(f"tolerated circle {' <-> '.join(circle)}: "
                      f"{KNOWN[circle]}\n{describe(circle, graph)}")
        for circle in KNOWN:
            if circle not in found:
                print(f"known circle {' <-> '.join(circle)} is gone: take "
                      f"it out of KNOWN")
        unknown = [c for c in found if c not in KNOWN]
        self.assertEqual(unknown, [], "import circles between server parts:\n"
                         + "\n".join(" <-> ".join(c) + "\n" + describe(c, graph)
                                     for c in unknown))


if __name__ == "__main__":
    unittest.main(verbosity=2)
