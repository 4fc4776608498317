#!/usr/bin/env bash
# Generates the evaluation conversations into OUT_DIR (deterministic: fixed
# seeds, voices and texts) and evaluates hqspeakerdetect on them.
#   run_evaluation.sh EVALUATOR OUT_DIR TURNS
# TURNS per conversation.
set -euo pipefail
evaluator=$1
out=$2
turns=$3
here=$(dirname "$0")
rm -rf "$out"
python3 "$here/make_conversation.py" "$out/three-way" --seed 1 --speakers 3 --turns "$turns"
python3 "$here/make_conversation.py" "$out/consult" --seed 7 --speakers 2 --turns "$turns"
python3 "$here/make_conversation.py" "$out/busy-room" --seed 23 --speakers 3 --turns "$turns" --busy 3
exec "$evaluator" "$out/three-way" "$out/consult" "$out/busy-room"
