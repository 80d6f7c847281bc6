"""Speaker turns (ingest/diarize.py) against reference RTTM turns, beside one speaker for all speech.

Diarization error rate, scored on 10 ms frames in the manner of NIST md-eval: missed speech + false alarm +
speaker confusion over the reference's speech time, with the best one-to-one map between found
and reference speakers (scipy's linear_sum_assignment on the frames they share), overlapping
reference speech scored (it can only be half right: a frame gets one found speaker), and a collar
of 0.25 s either side of every reference boundary left unscored (`--collar 0` for none).

Each file is run two ways, the baseline (one speaker for all the speech) beside each in the same
run: with the reference's own speech regions (only who-spoke is measured) and with Silero VAD's
spans (speech=None: what ingestion has). "VAD miss/FA" is that speech against the reference's.

    .venv/bin/python benchmarks/bench_diarize.py [--collar 0.25] [--threads 1] [--sweep]

--threads 1 (the default) because the GE2E LSTM ran 10x slower on 2 threads than on 1 while another
process held one of the two cores (26 vs 2.3 ms per 1.6 s window); pass 0 to keep torch's default.
--sweep prints, across cosine-distance thresholds, DER and speakers found on both files and the
speakers found on one-voice excerpts (the monologue, its halves, solo stretches of the two files)
and on the stereo file mixed to mono (two voices): the evidence for diarize.THRESHOLD.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest import diarize as dz  # noqa: E402
from models.speech import decode_audio  # noqa: E402

AUDIO = ROOT.parent / "shared" / "media" / "audio"
# (wav, rttm, the file id inside the rttm): the AMI rttm also holds dev01, whose audio is not here
FILES = [
    ("two_speaker_conversation_pyannote_sample.wav", "two_speaker_conversation_pyannote_sample.rttm", "sample"),
    ("ami_meeting_dev00_pyannote.wav", "ami_meeting_debug.development.rttm", "dev00"),
]
STEP = 0.01  # the frame of scoring, s


@dataclass
class Score:
    der: float
    missed: float
    false_alarm: float
    confusion: float
    scored_s: float  # reference speech time scored (outside the collars), s


def read_rttm(path: Path, file_id: str) -> list[tuple[float, float, str]]:
    """(start_s, end_s, speaker) of one file's SPEAKER lines."""
    turns = []
    for line in path.read_text(encoding="utf-8").splitlines():
        f = line.split()
        if f and f[0] == "SPEAKER" and f[1] == file_id:
            turns.append((float(f[3]), float(f[3]) + float(f[4]), f[7]))
    if not turns:
        raise ValueError(f"{path.name} has no SPEAKER lines for file id {file_id!r}")
    return turns


def _activity(turns: Sequence[tuple[float, float, object]], n: int) -> tuple[np.ndarray, list[object]]:
    """(n frames, speakers) booleans: who speaks in each frame."""
    names = sorted({s for _, _, s in turns}, key=str)
    act = np.zeros((n, len(names)), bool)
    for a, b, s in turns:
        act[int(round(a / STEP)):int(round(b / STEP)), names.index(s)] = True
    return act, names


def der(reference: Sequence[tuple[float, float, str]], found: Sequence[tuple[float, float, int]],
        total_s: float, collar: float = 0.25) -> Score:
    """Diarization error rate of `found` turns against `reference` turns (see the module docstring)."""
    from scipy.optimize import linear_sum_assignment

    n = int(round(total_s / STEP)) + 1
    ref, _ = _activity(reference, n)
    hyp, _ = _activity(found, n)
    scored = np.ones(n, bool)
    c = int(round(collar / STEP))
    for a, b, _ in reference:
        for t in (a, b):
            k = int(round(t / STEP))
            scored[max(0, k - c):k + c] = False
    ref, hyp = ref[scored], hyp[scored]
    n_ref, n_hyp = ref.sum(1), hyp.sum(1)
    # frames shared by each (reference, found) pair; the map maximises the frames both agree on
    shared = ref.T.astype(np.int64) @ hyp.astype(np.int64)
    rows, cols = linear_sum_assignment(-shared) if shared.size else ([], [])
    correct = np.zeros(len(ref), np.int64)
    for r, h in zip(rows, cols):
        correct += ref[:, r] & hyp[:, h]
    total = max(1, int(n_ref.sum()))
    missed = np.maximum(0, n_ref - n_hyp).sum() / total
    false_alarm = np.maximum(0, n_hyp - n_ref).sum() / total
    confusion = (np.minimum(n_ref, n_hyp) - correct).sum() / total
    return Score(missed + false_alarm + confusion, missed, false_alarm, confusion, total * STEP)


def one_speaker(speech: Sequence[tuple[float, float]]) -> list[tuple[float, float, int]]:
    """The baseline: every second of speech is the same speaker."""
    return [(a, b, 0) for a, b in speech]


def speech_overlap(reference: Sequence[tuple[float, float, str]], spans: Sequence[tuple[float, float]],
                   total_s: float) -> tuple[float, float]:
    """(missed, false alarm) of speech spans against the reference's speech, as shares of it (no collar)."""
    n = int(round(total_s / STEP)) + 1
    ref = _activity(reference, n)[0].any(1)
    got = _activity([(a, b, 0) for a, b in spans], n)[0].any(1)
    return float((ref & ~got).sum() / ref.sum()), float((got & ~ref).sum() / ref.sum())


def run(collar: float) -> list[dict]:
    """Every file x speech source: DER of diarize() and of the baseline, speakers, seconds."""
    encoder = dz.load_encoder()
    rows = []
    for wav, rttm, file_id in FILES:
        audio = decode_audio(AUDIO / wav)
        total_s = len(audio) / dz.SR
        reference = read_rttm(AUDIO / rttm, file_id)
        ref_speech = dz._clean_spans([(a, b) for a, b, _ in reference], total_s)
        for source, speech in (("reference", ref_speech), ("silero", None)):
            t = time.perf_counter()
            turns = dz.diarize(audio, speech, encoder=encoder)
            took = time.perf_counter() - t
            spans = speech if speech is not None else dz.speech_spans(audio)
            mine = der(reference, [(u.start_s, u.end_s, u.speaker) for u in turns], total_s, collar)
            base = der(reference, one_speaker(spans), total_s, collar)
            sad = speech_overlap(reference, spans, total_s)
            rows.append({"file": wav, "speech": source, "der": mine.__dict__, "baseline": base.__dict__,
                         "speakers": len({u.speaker for u in turns}), "reference_speakers": len({s for *_, s in reference}),
                         "seconds": took, "audio_s": total_s, "vad_missed": sad[0], "vad_false_alarm": sad[1]})
    return rows


def _pct(x: float) -> str:
    return f"{100 * x:5.1f}"


def print_table(rows: list[dict], collar: float) -> None:
    print(f"DER % (collar {collar} s, overlap scored): miss + false alarm + confusion; baseline = one speaker")
    head = f"{'file':<38} {'speech':<10} {'VAD miss/FA':>11} | {'DER':>5} {'miss':>5} {'FA':>5} {'conf':>5} | " \
           f"{'base':>5} {'miss':>5} {'FA':>5} {'conf':>5} | spk found/ref | seconds"
    print(head)
    print("-" * len(head))
    for r in rows:
        d, b = r["der"], r["baseline"]
        print(f"{r['file'][:38]:<38} {r['speech']:<10} {_pct(r['vad_missed'])}/{_pct(r['vad_false_alarm']).strip():<5} | "
              f"{_pct(d['der'])} {_pct(d['missed'])} {_pct(d['false_alarm'])} {_pct(d['confusion'])} | "
              f"{_pct(b['der'])} {_pct(b['missed'])} {_pct(b['false_alarm'])} {_pct(b['confusion'])} | "
              f"{r['speakers']:>5} / {r['reference_speakers']:<5} | {r['seconds']:.2f} for {r['audio_s']:.0f} s")


def sweep(collar: float) -> None:
    """DER / speakers found across thresholds; speakers found on one-voice and two-voice audio."""
    two = [(w, read_rttm(AUDIO / r, f)) for w, r, f in FILES]
    conv, ami = (decode_audio(AUDIO / w) for w, _ in two)
    mono = decode_audio(AUDIO / "monologue_talk_60s_silero.wav")

    def solo(audio: np.ndarray, a: float, b: float) -> list[tuple[float, float]]:
        """Silero's speech inside a stretch where the reference has one speaker alone."""
        return [(max(x, a), min(y, b)) for x, y in dz.speech_spans(audio) if min(y, b) > max(x, a)]

    # (name, audio, speech spans or None for Silero's, voices)
    cases: list[tuple[str, np.ndarray, list[tuple[float, float]] | None, int]] = [
        ("monologue", mono, None, 1), ("mono 0-30s", mono[:30 * dz.SR], None, 1), ("mono 30-60s", mono[30 * dz.SR:], None, 1),
        ("ami solo 1-13s", ami, solo(ami, 1.44, 13.31), 1), ("conv solo 22-28s", conv, solo(conv, 21.78, 28.5), 1),
        ("conv solo 11-14s", conv, solo(conv, 10.57, 14.49), 1),
        ("stereo as mono", decode_audio(AUDIO / "stereo_two_speakers_fasterwhisper.wav"), None, 2),
    ]
    names = [f"{w[:12]} ref/silero" for w, _ in two] + [c[0] for c in cases]
    print(f"threshold sweep (collar {collar} s): DER % / speakers with the reference's speech and with Silero's;"
          " then speakers found (want 1 on the solo cases, 2 on the stereo file)")
    print("  thr    " + " | ".join(f"{n:>21}" for n in names[:2]) + " | " + " ".join(f"{n:>16}" for n in names[2:]))
    encoder = dz.load_encoder()
    for th in np.arange(0.20, 0.401, 0.0125):
        cells = []
        for (wav, ref), audio in zip(two, (conv, ami)):
            total = len(audio) / dz.SR
            got = []
            for speech in (dz._clean_spans([(a, b) for a, b, _ in ref], total), None):
                turns = dz.diarize(audio, speech, encoder=encoder, threshold=float(th))
                got.append(f"{_pct(der(ref, [(u.start_s, u.end_s, u.speaker) for u in turns], total, collar).der)}/"
                           f"{len({u.speaker for u in turns})}")
            cells.append(f"{' '.join(got):>21}")
        right = 0
        counts = []
        for name, audio, speech, voices in cases:
            k = len({u.speaker for u in dz.diarize(audio, speech, encoder=encoder, threshold=float(th))})
            right += k == voices
            counts.append(f"{k:>16}")
        print(f"  {th:.4f} " + " | ".join(cells) + " | " + " ".join(counts) + f"   {right}/{len(cases)} right")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--collar", type=float, default=0.25)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--sweep", action="store_true")
    args = ap.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    t = time.perf_counter()
    dz.load_encoder()
    print(f"encoder loaded in {time.perf_counter() - t:.2f} s (after this script's own imports; ~1.2 s from a cold process)")
    if args.sweep:
        sweep(args.collar)
        return
    dz.diarize(np.zeros(dz.SR, np.float32), [(0.0, 1.0)])  # librosa's first call (~1 s) is not the files'
    rows = run(args.collar)
    print_table(rows, args.collar)
    out = ROOT / "benchmarks" / "results" / "diarize.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"collar": args.collar, "threshold": dz.THRESHOLD, "rows": rows}, indent=1))
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
