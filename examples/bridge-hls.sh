#!/bin/sh
# Bridge one participant of a room to HLS for a broadcaster: their video
# and audio, re-encoded to H.264 and AAC, in 2-second segments that any
# HLS player or CDN can take.
#
#   HQ_ACCESS_TOKEN=$(hq-server token --identity hls-bridge --room consult-1) \
#     examples/bridge-hls.sh http://127.0.0.1:8844 consult-1 dr-jones /var/www/hls
#
# Needs x264enc (gstreamer1.0-plugins-ugly) and avenc_aac
# (gstreamer1.0-libav).  hqroomsrc names its pads video_0/audio_0 in the
# order tracks appear; `participants=<who>` restricts it to one person, so each
# kind has exactly one pad.
set -eu
server=${1:-http://127.0.0.1:8844}
room=${2:-demo}
who=${3:?participant identity to bridge}
out=${4:-./hls}
mkdir -p "$out"
exec gst-launch-1.0 -e \
  hqroomsrc name=room server="$server" room="$room" participants="<\"$who\">" \
  hlssink2 name=hls target-duration=2 max-files=10 \
    location="$out/segment%05d.ts" playlist-location="$out/playlist.m3u8" \
  room.video_0 ! queue ! videoconvert \
    ! x264enc tune=zerolatency key-int-max=60 bitrate=2000 ! h264parse ! hls.video \
  room.audio_0 ! queue ! audioconvert ! audioresample ! avenc_aac ! aacparse ! hls.audio
