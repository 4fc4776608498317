"""What reached the sinks of a gst-launch-1.0 pipeline, read from the graph
gst-launch-1.0 draws as the pipeline stops playing: run it with
GST_DEBUG_DUMP_DOT_DIR=<folder>, wait until it prints (-m) that the
pipeline is PLAYING, stop it with SIGINT, then call stop_graph(<folder>)
and sink_caps().

Why a graph and not -v's caps lines: gst-launch-1.0 prints those from the
pipeline's deep-notify, a G_SIGNAL_NO_RECURSE signal, and GLib treats a
second emission on the same object while the first is still running in
another thread as a recursion: it restarts the first and drops the
second.  A queue's two sides store their caps at the same instant in two
threads, so one of them prints twice and the other, or the sink's, not at
all (doc-pipelines waited in vain for a sink's caps line about half the
runs under load; room-simulcast once read a sink's first caps, 1280
wide, as its last, the 320 after it never printed)."""
import glob
import os
import re

PLAYING = re.compile(r'from element "pipeline\d+" \(state-changed\): '
                     r'.*new-state=\(GstState\)playing')


def playing(text):
    """Whether gst-launch-1.0 -m printed that its pipeline is PLAYING (a
    bus message, never lost).  A live pipeline gets there once every sink
    has had its first buffer; its async-done comes before, and the
    pipeline goes on to PLAYING in another thread: stopped in between, it
    draws no graph as it stops playing (stop_graph)."""
    return PLAYING.search(text) is not None


def stop_graph(dot_dir):
    """The graph gst-launch-1.0 drew into @dot_dir as its pipeline went
    from PLAYING to PAUSED, on its way to stopping."""
    paths = sorted(glob.glob(os.path.join(dot_dir, "*PLAYING_PAUSED.dot")))
    if not paths:
        raise AssertionError(
            f"no graph of the pipeline stopping from PLAYING in {dot_dir} "
            f"(it never played?): {sorted(os.listdir(dot_dir))}")
    with open(paths[-1]) as f:
        return f.read()


def _caps(label):
    """A caps label of the graph ('video/x-raw\\l  width: 320\\l...') as
    a dict with the media type under 'media' and each field's value as
    drawn; None for no fixed caps (ANY, a template)."""
    rows = [r for r in label.split("\\l") if r.strip()]
    if not rows or not re.match(r"^[a-z]+/[^ ,;]+$", rows[0].strip()):
        return None
    caps = {"media": rows[0].strip()}
    for row in rows[1:]:
        key, sep, value = row.strip().partition(": ")
        if sep:
            caps[key] = value
    return caps


def sink_caps(dot, factory="GstFakeSink"):
    """{name: caps} of every @factory element in the graph @dot: the caps
    its sink pad holds (a dict, see _caps), None if it holds none.

    The graph draws a link's caps as one label when both pads hold the
    same caps, and as a taillabel (the source pad's) and a headlabel (the
    sink pad's) when they differ, as while new caps travel down a link.
    Only for sinks whose template is ANY (fakesink): a pad without caps is
    drawn with its template's."""
    names = dict(re.findall(r'subgraph cluster_(\S+) \{[^{}]*?label="'
                            + re.escape(factory) + r'\\n([^\\"]+)', dot))
    found = {name: None for name in names.values()}
    for head, attrs in re.findall(r'^\s*\S+ -> (\S+) \[(.*)\]$', dot, re.M):
        cluster = next((c for c in names if head.startswith(c + "_sink")),
                       None)
        if cluster is None:
            continue
        label = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', attrs))
        found[names[cluster]] = _caps(label.get("headlabel",
                                                label.get("label", "")))
    return found
