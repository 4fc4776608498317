#!/usr/bin/env bash
# The main job: install what is missing, build, and start hq-server with its
# embedded defaults (data under ~/.local/share/hqrooms, 127.0.0.1:8844),
# printing its URL and a ready token for the demo room.
# Extra arguments go to hq-server (e.g. --listen 0.0.0.0:8844).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
exec build/server/hq-server --demo "$@"
