"""People by voice across files: how well consolidation (lifelog/semantic/voices.py) groups the
voices that ingestion keeps (ingest/diarize.py) into persons, against who really speaks in the media.

The audio and video files of ../shared/media, ../shared/eval/media and sample_media/ are ingested
into a temporary library (or `--home H` is read as it is); the voices table and the persons are
read back and scored against GROUND_TRUTH below (from the notes beside the media):

- purity: for each predicted person, the share of its voices that belong to its majority reference
  speaker, weighted by voices (1.0 when no person mixes two people);
- coverage: for each reference speaker, the share of its voices that land in its most common
  predicted person, weighted by voices (1.0 when nobody is split);
- persons vs reference speakers, and pairwise precision / recall over voice pairs;
- the same for two trivial baselines in the same run: every voice its own person, all voices one;
- the cosine between voices of one reference speaker vs of two, so SAME_VOICE can be judged, and
  what a few other thresholds would give, re-clustered offline with assign_voices' greedy rule
  (checked first: at SAME_VOICE the replica must reproduce the library's assignment);
- a proxy for "one voice heard twice": each long single-speaker recording's voice cut into two
  halves of its speech, each half embedded as ingestion embeds a voice (same session and microphone,
  so an optimistic bound for the same person in two different recordings).

    .venv/bin/python benchmarks/bench_voices.py [--home H] [--no-halves]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import lifelog
from ingest.probe import AUDIO_EXTS, VIDEO_EXTS
from lifelog.db import VOICES_TABLE
from lifelog.semantic import people
from lifelog.semantic.voices import SAME_VOICE

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
FOLDERS = [SHARED / "media", SHARED / "eval" / "media", ROOT / "sample_media"]
THRESHOLDS = [0.60, 0.65, 0.70, 0.75, 0.80, 0.85, 0.88, 0.90, 0.92, 0.94, 0.96, 0.98]


@dataclass(frozen=True)
class Ref:
    """Who speaks in one file. `speakers`: one label per distinct person (two labels = two different
    people). `rttm` (file, recording id): reference turns that map each of the file's voices to a
    speaker by overlap; without it, a multi-speaker file is scored only when it has exactly as many
    voices as speakers (any one-to-one mapping scores the same: its labels occur in no other file).
    `speech` (start_s, end_s): where the one speaker speaks, from the notes; a voice whose turns lie
    mostly outside it (or outside the rttm's turns) is not that speaker but noise, and left out."""

    speakers: tuple[str, ...]
    source: str
    rttm: tuple[str, str] | None = None
    # a stereo file with one speaker per channel: voice k is channel k's (ingest/audio.py)
    channels: bool = False
    speech: tuple[tuple[float, float], ...] | None = None


# a voice with less than this share of its turns inside the reference speech is not a speaker's
MIN_REF_OVERLAP = 0.5


NO_SPEECH = Ref((), "")  # placeholder; entries below say why

# File name -> who speaks. Labels are provenance: files from different corpora / repositories are
# taken to be different people (no note says two sources share a speaker; not checked by ear), and
# files made by one synthetic voice share a label. Speaker counts come from the notes named per row.
GROUND_TRUTH: dict[str, Ref] = {
    # --- ../shared/media (MANIFEST.tsv "description", checked by listening per its README) ----------
    # "Two-person English conversation (speaker90 / speaker91 alternate, overlap at 18 s); reference
    # diarization in the .rttm" (pyannote tutorials/assets/sample.wav + sample.rttm, recording "sample")
    "two_speaker_conversation_pyannote_sample.wav": Ref(
        ("pyannote-sample:speaker90", "pyannote-sample:speaker91"), "shared/media/MANIFEST.tsv + .rttm",
        ("two_speaker_conversation_pyannote_sample.rttm", "sample")),
    # "AMI meeting-room excerpt ... speakers MEE009/MEE012"; turns in debug.development.rttm, recording "dev00"
    "ami_meeting_dev00_pyannote.wav": Ref(
        ("AMI:MEE009", "AMI:MEE012"), "shared/media/MANIFEST.tsv + .rttm",
        ("ami_meeting_debug.development.rttm", "dev00")),
    # "One man giving a 60 s talk/lecture in English" (silero-vad tests/data/test.wav)
    "monologue_talk_60s_silero.wav": Ref(("silero-test:man",), "shared/media/MANIFEST.tsv"),
    # "Stereo file, a different English speaker per channel" (faster-whisper stereo_diarization.wav).
    # ingest/audio.py makes each channel's speaker a voice (one with under MIN_VOICE_S of speech has none)
    "stereo_two_speakers_fasterwhisper.wav": Ref(
        ("fw-stereo:left", "fw-stereo:right"), "shared/media/MANIFEST.tsv", channels=True),
    # "Man says 'one two three'" (speech_recognition examples/english.wav; 2.74 s, under MIN_VOICE_S)
    "one_two_three_speechrecognition.wav": Ref(("speech_recognition-english:man",), "shared/media/MANIFEST.tsv"),
    # "a man narrates instructions in English" (mmaction2 tests/data/test.avi, same audio as test.wav)
    "pool_vacuum_firstperson_narrated_mmaction2.avi": Ref(("mmaction2-test:narrator",), "shared/media/MANIFEST.tsv"),
    # no speech per MANIFEST.tsv: "Audio track silent" (ego4d, cockatoo, coffee), "no audio" (kids,
    # mixer), "faint ambient audio" (windowsill), "loud wind/rotor audio" (drone). A voice from one
    # of these is not a person: left out of the score and counted as spurious
    "ego4d_cooking_stir_pan_lavila.mp4": NO_SPEECH,
    "cockatoo_closeup_imageio.mp4": NO_SPEECH,
    "pour_coffee_blue_mug_sam2.mp4": NO_SPEECH,
    "kids_jumping_on_bed_sam2.mp4": NO_SPEECH,
    "kitchen_hand_mixer_batter_askanything.mp4": NO_SPEECH,
    "office_windowsill_handheld_imageio_realshort.mp4": NO_SPEECH,
    "gopro_drone_beach_coast_gps_karma.mp4": NO_SPEECH,
    # --- ../shared/eval/media (CONTENT.md "Recordings", MANIFEST.tsv "source") ----------------------
    # "One male speaker: 'At that high level, the air is pure.'" (speechbrain tests/samples/ASR/spk1_snt3.wav; 2.7 s)
    "REC_20150210_120518.m4a": Ref(("speechbrain-ASR:spk1",), "shared/eval/CONTENT.md"),
    # "13 LJ Speech sentences ... one female reader" in 5 passages over 15 min of pink noise
    # "speech span in the file" per passage (CONTENT.md's table); the rest is pink-noise room tone
    "REC_20150210_143000.m4a": Ref(("LJSpeech:reader",), "shared/eval/CONTENT.md",
                                   speech=((19.9, 31.9), (214.8, 238.8), (452.2, 469.0), (655.0, 676.8),
                                           (837.9, 849.1))),
    # "One reader, the MIT licence: 0.0-29.6 s in English ..., then 29.6-59.7 s the same text in German"
    # (faster-whisper tests/data/multilingual.mp3): one person in two languages
    "REC_20160912_143015.m4a": Ref(("fw-multilingual:reader",), "shared/eval/CONTENT.md"),
    # "One speaker: '331 in favour, 225 against.'" (speechbrain single-mic/example3.sph; 2.9 s)
    "REC_20161230_213040.m4a": Ref(("speechbrain-single-mic:example3",), "shared/eval/CONTENT.md"),
    # "One male reader, Frankenstein ch. 11" (LibriSpeech via speechbrain multi-mic sample)
    "REC_20180407_223105.m4a": Ref(("LibriSpeech:frankenstein-reader",), "shared/eval/CONTENT.md"),
    # "One male speaker reading digits" (vosk-api python/example/test.wav)
    "REC_20230924_211530.m4a": Ref(("vosk-test:man",), "shared/eval/CONTENT.md"),
    # "no audio" (CONTENT.md "Videos")
    "VID_20170311_213045.mp4": NO_SPEECH,
    "VID_20230924_170512.mp4": NO_SPEECH,
    # --- sample_media/ (SOURCES.md: "Speech: espeak-ng, voice en-us, 120 words/min, word gap 40 ms";
    # the video's narration and both voice notes are "espeak-ng" in its ingredients table): one
    # synthetic voice in three files, the only cross-file same-speaker ground truth in these media
    "VID_20250614_103000.mp4": Ref(("espeak-ng:en-us",), "sample_media/SOURCES.md"),
    "REC_20250614_190500.m4a": Ref(("espeak-ng:en-us",), "sample_media/SOURCES.md"),
    "REC_20250614_211000.m4a": Ref(("espeak-ng:en-us",), "sample_media/SOURCES.md"),
}


# --- reading the library --------------------------------------------------------------------------


@dataclass
class Voice:
    voice_id: str
    media_id: str
    file: str
    path: str
    speaker: int
    seconds: float
    time: object
    starts: list[float]
    ends: list[float]
    emb: np.ndarray
    person: str
    ref: str | None = None  # reference speaker; None: left out of the score
    why: str = ""  # why it is left out
    ref_share: float | None = None  # with reference turns: the share of its turns its speaker speaks in


def media_files() -> list[Path]:
    out = []
    for folder in FOLDERS:
        if folder.is_dir():
            out += sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTS | VIDEO_EXTS)
    return out


def read_voices(mem) -> tuple[list[Voice], list, dict[str, str]]:
    store = mem.store
    media = {m.media_id: m for m in store.all_media()}
    if not store.has_table(VOICES_TABLE):
        return [], people.load_people(store), {m.media_id: Path(m.path).name for m in media.values()}
    rows = store.table(VOICES_TABLE).search().limit(None).to_list()
    voices = [Voice(r["voice_id"], r["media_id"], Path(media[r["media_id"]].path).name, media[r["media_id"]].path,
                    int(r["speaker"]), float(r["seconds"]), r["time"], list(r["starts"] or []),
                    list(r["ends"] or []), np.asarray(r["embedding"], np.float32), r["person_id"] or "")
              for r in rows]
    voices.sort(key=lambda v: (v.time is None, v.time, v.voice_id))  # assign_voices' order
    return voices, people.load_people(store), {m.media_id: Path(m.path).name for m in media.values()}


def read_rttm(path: Path, recording: str) -> list[tuple[float, float, str]]:
    out = []
    for line in path.read_text().splitlines():
        f = line.split()
        if len(f) > 7 and f[0] == "SPEAKER" and f[1] == recording:
            out.append((float(f[3]), float(f[3]) + float(f[4]), f[7]))
    return out


def label_voices(voices: list[Voice]) -> dict[str, list[str]]:
    """Each voice's reference speaker (GROUND_TRUTH); returns the files left out and why."""
    by_file: dict[str, list[Voice]] = defaultdict(list)
    for v in voices:
        by_file[v.file].append(v)
    left_out: dict[str, list[str]] = defaultdict(list)
    for name, vs in by_file.items():
        ref = GROUND_TRUTH.get(name)
        if ref is None:
            why = "file not in GROUND_TRUTH"
        elif not ref.speakers:
            why = "no speech in the file per its notes (a spurious voice)"
        elif ref.rttm or ref.speech:
            if ref.rttm:  # the .rttm lies beside the file
                turns = [(s, e, next(x for x in ref.speakers if x.endswith(":" + who)))
                         for s, e, who in read_rttm(Path(vs[0].path).parent / ref.rttm[0], ref.rttm[1])]
            else:
                turns = [(s, e, ref.speakers[0]) for s, e in ref.speech or ()]
            for v in vs:
                overlap: Counter[str] = Counter()
                for a, b in zip(v.starts, v.ends):
                    for s, e, who in turns:
                        overlap[who] += max(0.0, min(b, e) - max(a, s))
                total = sum(b - a for a, b in zip(v.starts, v.ends))
                # overlapping reference turns can count twice: the share is capped at 1
                inside = min(1.0, sum(overlap.values()) / total) if total else 0.0
                if overlap and inside >= MIN_REF_OVERLAP:
                    who, secs = overlap.most_common(1)[0]
                    v.ref, v.ref_share = who, round(min(1.0, secs / total), 2)
                else:
                    v.why = f"{inside:.0%} of its turns inside the reference speech: not a speaker"
            continue
        elif ref.channels:
            for v in vs:
                v.ref = ref.speakers[v.speaker]
            continue
        elif len(ref.speakers) == 1:
            for v in vs:
                v.ref = ref.speakers[0]
            continue
        elif len(vs) == len(ref.speakers):
            for v, s in zip(sorted(vs, key=lambda v: v.speaker), ref.speakers):
                v.ref = s  # any one-to-one mapping: these labels occur in no other file
            continue
        else:
            why = f"{len(vs)} voices for {len(ref.speakers)} distinct speakers and no reference turns"
        for v in vs:
            v.why = why
        left_out[name].append(why)
    for v in voices:
        if v.ref is None and v.why and v.file not in left_out:
            left_out[v.file].append(v.why)
    return {k: sorted(set(w)) for k, w in left_out.items()}


# --- scoring --------------------------------------------------------------------------------------


def score(assign: dict[str, str], ref: dict[str, str]) -> dict:
    """Purity, coverage, counts and pairwise precision/recall of an assignment voice_id -> person over
    the scored voices (ref: voice_id -> reference speaker)."""
    ids = [i for i in ref if i in assign]
    n = len(ids)
    by_pred: dict[str, Counter] = defaultdict(Counter)
    by_ref: dict[str, Counter] = defaultdict(Counter)
    for i in ids:
        by_pred[assign[i]][ref[i]] += 1
        by_ref[ref[i]][assign[i]] += 1
    purity = sum(c.most_common(1)[0][1] for c in by_pred.values()) / n if n else 0.0
    coverage = sum(c.most_common(1)[0][1] for c in by_ref.values()) / n if n else 0.0
    tp = fp = fn = 0
    for a, b in itertools.combinations(ids, 2):
        same_p, same_r = assign[a] == assign[b], ref[a] == ref[b]
        tp += same_p and same_r
        fp += same_p and not same_r
        fn += same_r and not same_p
    return {"purity": round(purity, 3), "coverage": round(coverage, 3),
            "persons": len(by_pred), "reference_speakers": len(by_ref), "voices": n,
            "pair_precision": round(tp / (tp + fp), 3) if tp + fp else None,
            "pair_recall": round(tp / (tp + fn), 3) if tp + fn else None,
            "pairs_same_speaker": tp + fn, "pairs_joined_wrongly": fp}


def greedy(voices: list[Voice], t: float, *, running_mean: bool = False) -> dict[str, str]:
    """assign_voices' rule, offline, for one batch into an empty library: in time order, a voice joins
    the most similar person that has no voice of its file yet when the cosine is >= t, else opens a
    person. As assign_voices does within one call, a person opened in the batch is compared by its
    first voice (its `known` vector is not updated as voices join); running_mean=True compares with
    the unit mean of its voices so far instead (what a later batch would see)."""
    centroid: dict[str, np.ndarray] = {}
    members: dict[str, list[np.ndarray]] = {}
    taken: dict[str, set[str]] = defaultdict(set)
    out = {}
    for v in voices:  # already in (time, voice_id) order
        free = [p for p in centroid if p not in taken[v.media_id]]
        sims = {p: float(centroid[p] @ v.emb) for p in free}
        best = max(sims, key=sims.__getitem__, default=None)
        if best is None or sims[best] < t:
            best = f"p{len(centroid)}"
            centroid[best], members[best] = v.emb, []
        members[best].append(v.emb)
        if running_mean:
            m = np.mean(members[best], axis=0)
            centroid[best] = m / max(float(np.linalg.norm(m)), 1e-9)
        taken[v.media_id].add(best)
        out[v.voice_id] = best
    return out


def _spread(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    return {"n": len(values), "min": round(min(values), 3), "median": round(statistics.median(values), 3),
            "max": round(max(values), 3)}


def cosines(scored: list[Voice]) -> tuple[dict, list[dict]]:
    groups: dict[str, list[float]] = defaultdict(list)
    pairs = []
    for a, b in itertools.combinations(scored, 2):
        c = float(a.emb @ b.emb)
        same = a.ref == b.ref
        where = "same file" if a.media_id == b.media_id else "two files"
        groups[f"{'same' if same else 'different'} speaker, {where}"].append(c)
        pairs.append({"a": f"{a.file}#{a.speaker}", "b": f"{b.file}#{b.speaker}", "ref_a": a.ref, "ref_b": b.ref,
                      "same_speaker": same, "same_file": a.media_id == b.media_id, "cosine": round(c, 3)})
    groups["same speaker (all)"] = [p["cosine"] for p in pairs if p["same_speaker"]]
    groups["different speaker (all)"] = [p["cosine"] for p in pairs if not p["same_speaker"]]
    return {k: _spread(v) for k, v in sorted(groups.items())}, pairs


def halves(scored: list[Voice], min_s: float) -> list[dict]:
    """Each single-speaker file's voice (>= min_s of speech) cut into two halves of its speech time,
    each embedded as ingestion embeds a voice; the cosine between the halves."""
    from ingest.diarize import Turn, voice_embedding
    from models.speech import decode_audio

    out = []
    for v in scored:
        ref = GROUND_TRUTH.get(v.file)
        if ref is None or len(ref.speakers) != 1 or v.seconds < min_s:
            continue
        audio = decode_audio(v.path)
        half = sum(e - s for s, e in zip(v.starts, v.ends)) / 2
        first, second, acc = [], [], 0.0
        for s, e in zip(v.starts, v.ends):
            if acc + (e - s) <= half:
                first.append(Turn(s, e, 0))
            elif acc >= half:
                second.append(Turn(s, e, 0))
            else:  # the turn that crosses the middle is cut there
                m = s + (half - acc)
                first.append(Turn(s, m, 0))
                second.append(Turn(m, e, 0))
            acc += e - s
        a = voice_embedding(audio, first, 0)
        b = voice_embedding(audio, second, 0)
        out.append({"file": v.file, "voice": v.speaker, "seconds": v.seconds, "ref": v.ref,
                    "cosine_halves": round(float(a @ b), 3),
                    "cosine_half_to_whole": [round(float(a @ v.emb), 3), round(float(b @ v.emb), 3)]})
    return out


# --- main -----------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, help="a library that holds these media (default: ingest them into a temporary one)")
    ap.add_argument("--no-halves", action="store_true", help="skip the split-recording proxy (decodes audio again)")
    ap.add_argument("--halves-min-s", type=float, default=6.0)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "voices.json")
    args = ap.parse_args()
    files = media_files()
    home = args.home or Path(tempfile.mkdtemp(prefix="bench-voices-")) / "home"
    ingest_s = None
    if not args.home:
        t0 = time.perf_counter()
        report = lifelog.open(home, ingest={"voices": "auto"}).ingest(files)  # whatever the config says
        ingest_s = round(time.perf_counter() - t0, 1)
        print(f"ingested {len(files)} audio/video files into {home} in {ingest_s} s"
              f" ({len(getattr(report, 'failed', []) or [])} failed)")
    mem = lifelog.open(home)
    voices, persons, names = read_voices(mem)
    left_out = label_voices(voices)
    scored = [v for v in voices if v.ref is not None]
    ref = {v.voice_id: v.ref for v in scored}
    actual = {v.voice_id: v.person for v in voices}
    voice_persons = {v.person for v in voices}
    person_rows = {p.person_id: p for p in persons}

    # ground truth table and what ingestion made of each file
    per_file = defaultdict(list)
    for v in voices:
        per_file[v.file].append(v)
    gt_rows = []
    print("\nground truth (file -> reference speakers) and the voices ingestion kept:")
    for name in sorted(set(GROUND_TRUTH) | set(per_file)):
        r = GROUND_TRUTH.get(name)
        vs = per_file.get(name, [])
        row = {"file": name, "speakers": list(r.speakers) if r else None, "source": r.source if r else "",
               "voices": [{"speaker": v.speaker, "seconds": v.seconds, "ref": v.ref, "ref_share": v.ref_share,
                          "left_out": v.why or None, "person": v.person,
                          "turns": [[a, b] for a, b in zip(v.starts, v.ends)]} for v in vs]}
        gt_rows.append(row)
        said = ", ".join(f"#{v.speaker} {v.seconds:.1f}s->{v.ref or '(left out)'}"
                         + (f" ({v.ref_share:.0%} of it)" if v.ref_share is not None else "") + f" [{v.person}]"
                         for v in vs) or "no voice"
        print(f"  {name:50s} {' | '.join(r.speakers) if r and r.speakers else '(no speech)':45s} {said}")
    refs_with_voice = {v.ref for v in scored}
    all_refs = {s for r in GROUND_TRUTH.values() for s in r.speakers}
    missing_refs = sorted(all_refs - refs_with_voice)
    # one reference speaker given several voices in one file (diarization split them: they can never
    # be one person, as two speakers of one file are never made one)
    split_count = Counter((v.file, v.ref) for v in scored)
    splits = {f"{f} ({r})": n for (f, r), n in sorted(split_count.items()) if n > 1}
    # the best coverage any clustering can reach: a person holds at most one voice of each file
    ceiling = round(len(split_count) / len(scored), 3) if scored else 0.0

    # the library's assignment, the baselines, and the offline replica
    result_lib = score(actual, ref)
    single = score({v.voice_id: v.voice_id for v in voices}, ref)
    one = score({v.voice_id: "everyone" for v in voices}, ref)
    replica = greedy(voices, SAME_VOICE)
    # the replica's person ids differ: compare partitions
    same_partition = ({frozenset(i for i in actual if actual[i] == p) for p in set(actual.values())}
                      == {frozenset(i for i in replica if replica[i] == p) for p in set(replica.values())})
    sweep = []
    for t in THRESHOLDS:
        sweep.append({"threshold": t, "as_assign_voices": score(greedy(voices, t), ref),
                      "running_mean": score(greedy(voices, t, running_mean=True), ref)})
    spreads, pairs = cosines(scored)
    split_proxy = [] if args.no_halves else halves(scored, args.halves_min_s)

    print(f"\nvoices in the library: {len(voices)} from {len(per_file)} files; persons with a voice: "
          f"{len(voice_persons)} (in the people table: {sum(p in person_rows for p in voice_persons)}; "
          f"voice-only, no face: {sum(1 for p in voice_persons if p in person_rows and person_rows[p].n_faces == 0)})")
    print(f"scored: {len(scored)} voices from {len({v.file for v in scored})} files, "
          f"{len(refs_with_voice)} reference speakers; left out: "
          f"{len(voices) - len(scored)} voices from {len(left_out)} files {dict(left_out) or ''}")
    print(f"reference speakers with no voice kept: {len(missing_refs)} {missing_refs}")
    print(f"reference speakers split into several voices of one file: {splits or 'none'}")
    print(f"coverage ceiling (one voice per file per person): {ceiling}")
    print(f"offline replica at SAME_VOICE={SAME_VOICE} reproduces the library's persons: {same_partition}")

    cols = ("purity", "coverage", "persons", "reference_speakers", "pair_precision", "pair_recall", "pairs_joined_wrongly")
    print(f"\n{'assignment':34s} " + " ".join(f"{c[:14]:>14s}" for c in cols))
    for label, s in ((f"library (SAME_VOICE={SAME_VOICE})", result_lib), ("baseline: each voice alone", single),
                     ("baseline: all voices one person", one)):
        print(f"{label:34s} " + " ".join(f"{str(s[c]):>14s}" for c in cols))
    print("\nthreshold sweep (offline; left: as assign_voices in one batch, right: running mean)")
    print(f"{'t':>5s} {'purity':>7s} {'cover':>7s} {'pers':>5s} {'P_pair':>7s} {'R_pair':>7s}   |"
          f" {'purity':>7s} {'cover':>7s} {'pers':>5s}")
    for row in sweep:
        a, b = row["as_assign_voices"], row["running_mean"]
        print(f"{row['threshold']:5.2f} {a['purity']:7.3f} {a['coverage']:7.3f} {a['persons']:5d} "
              f"{str(a['pair_precision']):>7s} {str(a['pair_recall']):>7s}   | {b['purity']:7.3f} {b['coverage']:7.3f} "
              f"{b['persons']:5d}")
    print("\ncosine between scored voices:")
    for k, s in spreads.items():
        print(f"  {k:36s} {s}")
    print("  same-speaker pairs:")
    for p in sorted((p for p in pairs if p["same_speaker"]), key=lambda p: p["cosine"]):
        print(f"    {p['cosine']:.3f}  {p['a']}  ~  {p['b']}")
    print("  the most similar different-speaker pairs:")
    for p in sorted((p for p in pairs if not p["same_speaker"]), key=lambda p: -p["cosine"])[:8]:
        print(f"    {p['cosine']:.3f}  {p['a']} ({p['ref_a']})  ~  {p['b']} ({p['ref_b']})")
    if split_proxy:
        print(f"\none recording's voice cut in two halves of its speech (proxy for one voice heard twice; >= {args.halves_min_s} s):")
        for h in split_proxy:
            print(f"    {h['cosine_halves']:.3f}  {h['file']}#{h['voice']} ({h['seconds']:.1f} s)")

    result = {
        "same_voice": SAME_VOICE, "home": str(home), "ingest_s": ingest_s, "files_ingested": len(files),
        "voices": len(voices), "files_with_voices": len(per_file), "persons_with_voice": len(voice_persons),
        "scored_voices": len(scored), "scored_files": len({v.file for v in scored}),
        "left_out_files": left_out, "left_out_voices": len(voices) - len(scored),
        "reference_speakers_without_voice": missing_refs, "speakers_split_in_a_file": splits,
        "coverage_ceiling": ceiling,
        "replica_matches_library": same_partition,
        "library": result_lib, "baseline_each_alone": single, "baseline_all_one": one,
        "sweep": sweep, "cosine": spreads, "pairs": pairs, "halves": split_proxy, "ground_truth": gt_rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, default=str))
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
