#!/bin/sh
# Score what one participant's video and audio look and sound like at the
# receiving end, and write the visit's quality report (JSON) when stopped
# with Ctrl-C; meanwhile print one hq-quality line per stream per second.
#
#   HQ_ACCESS_TOKEN=$(hq-server token --identity monitor --room consult-1) \
#     examples/monitor-room.sh http://127.0.0.1:8844 consult-1 dr-jones report.json
#
# The report's fields (freezes, gaps, MOS, network loss and round trips,
# a 0..5 level) are in docs/hqqualitymeter.md.  `participants=<who>` restricts
# hqroomsrc to one person, so each kind has exactly one pad.
set -eu
server=${1:-http://127.0.0.1:8844}
room=${2:-demo}
who=${3:?participant identity to monitor}
report=${4:-./quality.json}
exec gst-launch-1.0 -e -m \
  hqroomsrc name=room server="$server" room="$room" participants="<\"$who\">" \
  hqqualitymeter name=m location="$report" \
  room.video_0 ! queue ! video/x-raw ! m.video_0 \
  room.audio_0 ! queue ! audio/x-raw ! m.audio_0 \
  m.src_video_0 ! fakesink m.src_audio_0 ! fakesink
