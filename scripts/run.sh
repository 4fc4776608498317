#!/usr/bin/env bash
# The main job: install what is missing, build, and run the whole system on
# this machine: hq-server with its embedded defaults (data under
# ~/.local/share/hqrooms, 127.0.0.1:8844) and a demo room where two
# synthetic participants publish through hqroomsink while a listener
# subscribes with hqroomsrc, detects the dominant speaker and records
# (examples/hq-demo.c).  It prints the browser URL to join the same room.
# Ctrl-C stops everything cleanly and says where the recording is.
# Extra arguments go to hq-server (e.g. --listen 0.0.0.0:8844).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
build=$PWD/build
export GST_PLUGIN_PATH="$build/ext/room:$build/gst/speakerdetect:$build/gst/recorder:$build/gst/qualitymeter${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
exec "$build/examples/hq-demo" --hq-server "$build/server/hq-server" "$@"
