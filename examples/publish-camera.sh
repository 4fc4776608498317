#!/bin/sh
# Publish this machine's camera and microphone into a room.
#
#   HQ_ACCESS_TOKEN=$(hq-server token --identity studio-1 --room consult-1) \
#     examples/publish-camera.sh http://127.0.0.1:8844 consult-1
#
# hqroomsink encodes raw input itself (VP8 and Opus by default; add
# video-codec=h264 for H.264) and adapts the video bitrate to what the
# room's subscribers can take (congestion-control=on).  The token comes
# from HQ_ACCESS_TOKEN, never from the command line.
set -eu
server=${1:-http://127.0.0.1:8844}
room=${2:-demo}
exec gst-launch-1.0 -e \
  hqroomsink name=room server="$server" room="$room" \
    congestion-control=on max-bitrate=2000000 \
  autovideosrc ! videoconvert ! videoscale \
    ! video/x-raw,width=1280,height=720 ! room.video_0 \
  autoaudiosrc ! audioconvert ! audioresample ! room.audio_0
