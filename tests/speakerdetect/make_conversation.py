#!/usr/bin/env python3
"""Writes a synthetic consultation with known ground truth for evaluating
dominant speaker detection: one WAV file per participant (as each one's
microphone would record it) and truth.tsv saying who speaks when.

    make_conversation.py OUT_DIR --seed N --speakers 3 --turns 24 --busy 1

Speech comes from espeak-ng (fixed voices and texts), everything else from
sox: background noise per microphone at its own level, coughs, keyboard
clicks and door slams (short broadband noise) on tracks whose owner is not
speaking, short backchannels ("mm-hm") over someone else's turn, and some
turns that start before the previous one ended.  One speaker is loud, one is
quiet (16 dB below the loud one), and the files differ in rate and channel
count.  The same seed gives the same files, byte for byte (sox -R).

truth.tsv, tab-separated:
    speaker <name> <file> <level>        one line per participant
    event <start> <end> <name> <kind>    kind: turn | backchannel | noise
Times are seconds from the start of every file (all files start together).
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import wave

WORK_RATE = 22050  # espeak-ng's own rate; every piece is made at it

# name, espeak voice, words per minute, peak dBFS after normalising,
# background noise amplitude, output rate, output channels
SPEAKERS = [
    ("doctor", "en-us+m3", 165, -2.0, 0.0004, 48000, 1),
    ("patient", "en-gb-x-rp+f2", 155, -18.0, 0.0002, 16000, 1),
    ("nurse", "en-gb-scotland+f4", 170, -8.0, 0.0008, 22050, 2),
]

SENTENCES = [
    "Good morning, thank you for joining the call today.",
    "How have you been feeling since our last appointment?",
    "The headaches started about two weeks ago, mostly in the evening.",
    "Have you noticed any change in your vision or your balance?",
    "Not really, but I have been sleeping badly for a while now.",
    "I would like you to keep a diary of when the pain comes.",
    "Are you still taking the tablets we prescribed in March?",
    "Yes, one in the morning and one at night, with food.",
    "Your blood pressure readings from last week look a little high.",
    "We can adjust the dose and check again in a fortnight.",
    "Is there anything else that has been worrying you?",
    "My knee is sore when I climb the stairs at work.",
    "Let us book a physiotherapy assessment for that as well.",
    "I will send the referral letter to your email this afternoon.",
    "Please call the practice if the headaches get worse.",
    "Could you tell me a bit more about your diet these days?",
    "I mostly eat at home, but lunch is often a sandwich.",
    "Try to drink more water during the day, it really helps.",
    "The nurse will take a blood sample at your next visit.",
    "Thank you, that all sounds very clear to me.",
]

BACKCHANNELS = ["mm-hm", "yeah", "right", "okay", "uh-huh", "I see"]


def run(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def read_frames(path):
    with wave.open(path, "rb") as w:
        assert w.getframerate() == WORK_RATE and w.getnchannels() == 1
        return w.readframes(w.getnframes())


class Maker:
    """Renders the pieces (utterances, noises) as mono 16-bit WAVs at
    WORK_RATE and returns their samples, trimmed to what is audible."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.count = 0

    def _path(self):
        self.count += 1
        return os.path.join(self.tmp, "piece%04d.wav" % self.count)

    def speech(self, voice, wpm, peak_db, text):
        raw, out = self._path(), self._path()
        run("espeak-ng", "-v", voice, "-s", str(wpm), "-w", raw, text)
        # Trim espeak's leading and trailing silence so that the truth
        # marks where the voice is, then set the speaker's level.
        run("sox", "-R", raw, "-b", "16", out, "silence", "1", "0.01", "0.3%",
            "reverse", "silence", "1", "0.01", "0.3%", "reverse",
            "norm", str(peak_db))
        return read_frames(out)

    def noise(self, kind, rng):
        out = self._path()
        if kind == "cough":
            synth = ["synth", "%.3f" % rng.uniform(0.25, 0.4), "pinknoise",
                     "lowpass", "2500", "fade", "q", "0.02", "-0", "0.15",
                     "norm", "-4"]
        elif kind == "door":
            synth = ["synth", "0.25", "brownnoise", "fade", "p", "0",
                     "-0", "0.22", "norm", "-1"]
        else:  # keyboard: a few clicks
            click = self._path()
            run("sox", "-R", "-n", "-r", str(WORK_RATE), "-b", "16", "-c",
                "1", click, "synth", "0.012", "whitenoise", "fade", "p", "0",
                "-0", "0.01", "norm", "-10")
            pieces = b""
            silence = b"\0\0"
            for _ in range(rng.randint(5, 9)):
                pieces += read_frames(click)
                pieces += silence * int(WORK_RATE * rng.uniform(0.08, 0.2))
            return pieces
        run("sox", "-R", "-n", "-r", str(WORK_RATE), "-b", "16", "-c", "1",
            out, *synth)
        return read_frames(out)


class Track:
    """One microphone: non-overlapping pieces at given times."""

    def __init__(self):
        self.pieces = []  # (start_s, frames)

    def free(self, start, end):
        for s, frames in self.pieces:
            e = s + len(frames) / 2 / WORK_RATE
            if start < e + 0.3 and s < end + 0.3:
                return False
        return True

    def add(self, start, frames):
        self.pieces.append((start, frames))

    def render(self, duration):
        n = int(duration * WORK_RATE)
        out = bytearray(n * 2)
        for start, frames in self.pieces:
            i = int(start * WORK_RATE) * 2
            out[i:i + len(frames)] = frames[:max(0, n * 2 - i)]
        return bytes(out)


def place(rng, track, events, turn_start, turn_length, frames, name, kind):
    """Puts @frames on @track somewhere in the turn, if it fits."""
    length = len(frames) / 2 / WORK_RATE
    latest = turn_start + turn_length - 1.0 - length
    if latest < turn_start + 0.5:
        return
    at = rng.uniform(turn_start + 0.5, latest)
    if track.free(at, at + length):
        track.add(at, frames)
        events.append((at, at + length, name, kind))


def write_wav(path, frames):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(WORK_RATE)
        w.writeframes(frames)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--speakers", type=int, default=3, choices=[2, 3])
    p.add_argument("--turns", type=int, default=24)
    p.add_argument("--busy", type=int, default=1,
                   help="chances per turn of a backchannel and of a noise")
    args = p.parse_args()

    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            sys.exit("make_conversation: %s is not installed "
                     "(apt-get install espeak-ng sox)" % tool)

    rng = random.Random(args.seed)
    speakers = SPEAKERS[:args.speakers]
    os.makedirs(args.out, exist_ok=True)
    events = []  # (start, end, name, kind)
    tracks = {s[0]: Track() for s in speakers}

    with tempfile.TemporaryDirectory() as tmp:
        maker = Maker(tmp)
        t = 1.0
        previous = None
        for turn in range(args.turns):
            name, voice, wpm, peak, _, _, _ = rng.choice(
                [s for s in speakers if s[0] != previous])
            text = " ".join(rng.sample(SENTENCES, rng.randint(1, 2)))
            frames = maker.speech(voice, wpm, peak, text)
            length = len(frames) / 2 / WORK_RATE
            tracks[name].add(t, frames)
            events.append((t, t + length, name, "turn"))

            others = [s for s in speakers if s[0] != name]
            # A backchannel from a listener, then a noise on a listener's
            # microphone, both inside the turn and over before the next
            # speaker could cut in.
            for _ in range(args.busy):
                if rng.random() < 0.6:
                    o = rng.choice(others)
                    bc = maker.speech(o[1], o[2], o[3],
                                      rng.choice(BACKCHANNELS))
                    place(rng, tracks[o[0]], events, t, length, bc, o[0],
                          "backchannel")
                if rng.random() < 0.7:
                    o = rng.choice(others)
                    kind = rng.choice(["cough", "door", "keyboard"])
                    place(rng, tracks[o[0]], events, t, length,
                          maker.noise(kind, rng), o[0], "noise:" + kind)

            previous = name
            if length > 1.5 and rng.random() < 0.2:
                t += length - rng.uniform(0.3, 0.7)  # the next one cuts in
            else:
                t += length + rng.uniform(0.3, 1.0)
        duration = max(e[1] for e in events) + 2.0

        with open(os.path.join(args.out, "truth.tsv"), "w") as truth:
            for name, _, _, peak, noise_amp, rate, channels in speakers:
                clean = os.path.join(tmp, name + "-clean.wav")
                noise = os.path.join(tmp, name + "-noise.wav")
                out = os.path.join(args.out, name + ".wav")
                write_wav(clean, tracks[name].render(duration))
                run("sox", "-R", "-n", "-r", str(WORK_RATE), "-b", "16",
                    "-c", "1", noise, "synth", "%.3f" % duration,
                    "pinknoise", "vol", str(noise_amp))
                run("sox", "-R", "-m", "-v", "1", clean, "-v", "1", noise,
                    "-b", "16", "-r", str(rate), "-c", str(channels), out)
                truth.write("speaker\t%s\t%s.wav\t%.0f\n" % (name, name, peak))
            for start, end, name, kind in sorted(events):
                truth.write("event\t%.3f\t%.3f\t%s\t%s\n"
                            % (start, end, name, kind))
    print("%s: %d speakers, %.1f s, %d events"
          % (args.out, len(speakers), duration, len(events)))


if __name__ == "__main__":
    main()
