"""Forgetting that forgets: a file, a folder, a time span or a person leaves no row in any table and
no byte in the library's files, what spanned it is rebuilt, and a forget killed with -9 at random
moments ends, once rerun, exactly as a clean one.

The sample day (sample_media/) is ingested once per module with the bundled models, into two
folders (morning/, evening/); each test forgets in its own copy of that library.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pytest

import lifelog
from lifelog import vacuum
from lifelog.forget import JOURNAL, parse_when

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_media"
FOLDERS = {
    "morning": ["IMG_20250614_081205.jpg", "IMG_20250614_081206.jpg", "IMG_20250614_081207.jpg",
                "IMG_20250614_094112.jpg", "IMG_20250614_094230.jpg", "VID_20250614_103000.mp4"],
    "evening": ["IMG_20250614_152045.jpg", "REC_20250614_190500.m4a", "IMG_20250614_210210.jpg",
                "REC_20250614_211000.m4a"],
}
KEYS_NOTE = "evening/REC_20250614_190500.m4a"  # "Note to self: I left my keys on the kitchen table, ..."
PHRASES = (b"kitchen table", b"left my keys", b"kitchen")  # the last also catches a full-text token
SKIP_BINARY = ("text_vector", "image_vector", "embedding", "centroid", "keys", "values", "box")


# --- helpers ---------------------------------------------------------------------------------------
def files_containing(home: Path, needle: bytes) -> list[str]:
    """Every file under the library folder (not the model cache) whose bytes contain `needle`."""
    out = []
    for p in sorted(home.rglob("*")):
        rel = p.relative_to(home)
        if p.is_file() and rel.parts[0] != "models" and needle in p.read_bytes():
            out.append(str(rel))
    return out


def rows_mentioning(mem: lifelog.Memory, needles: list[str]) -> list[str]:
    """(table, row) of every row of every table whose values mention one of the needles."""
    db = mem.store.database
    found = []
    for name in db.table_names():
        for row in db.table(name).search().limit(None).to_list():
            text = json.dumps({k: v for k, v in row.items() if k not in SKIP_BINARY}, default=str).casefold()
            found += [f"{name}: {n}" for n in needles if n.casefold() in text]
    return found


def copy_library(base: Path, tmp_path: Path) -> lifelog.Memory:
    home = tmp_path / "home"
    shutil.copytree(base / "home", home)
    return lifelog.open(home)


def media_id(mem: lifelog.Memory, name: str) -> str:
    (m,) = [m for m in mem.store.all_media() if Path(m.path).name == Path(name).name]
    return m.media_id


def assert_consistent(mem: lifelog.Memory) -> None:
    """Exactly once: no id twice in any table, no parent that is gone, no row of a file not in memory."""
    store = mem.store
    media = {m.media_id for m in store.all_media()}
    rows = store.episodes(columns=["episode_id", "media_id", "parent_id", "duplicate_of", "sources"])
    ids = Counter(r["episode_id"] for r in rows)
    assert not [i for i, n in ids.items() if n > 1], "an episode twice"
    assert not [r["episode_id"] for r in rows if r["parent_id"] and r["parent_id"] not in ids], "a parent is gone"
    assert not [r for r in rows if r["duplicate_of"] and r["duplicate_of"] not in ids], "a representative is gone"
    assert {r["media_id"] for r in rows if r["media_id"]} <= media
    assert {s["media_id"] for r in rows for s in r["sources"] or []} <= media
    for table, key in (("faces", "face_id"), ("people", "person_id"), ("visits", "visit_id"), ("media", "media_id")):
        n = Counter(r[key] for r in store.table(table).search().select([key]).limit(None).to_list())
        assert not [k for k, c in n.items() if c > 1], f"{table}: {key} twice"
    things = store.table("things").search().limit(None).to_list()
    assert not [k for k, c in Counter((r["thing"], r["episode_id"]) for r in things).items() if c > 1]
    assert {r["media_id"] for r in things} <= media
    assert {r["media_id"] for r in store.table("faces").search().select(["media_id"]).limit(None).to_list()} <= media
    assert {m for v in mem.visits() for m in v.media_ids} <= media
    current = Counter(r["thing"] for r in things if r["valid_to"] is None)
    assert set(current) == {r["thing"] for r in things} and max(current.values(), default=1) == 1, current


def snapshot(mem: lifelog.Memory) -> dict:
    """What a forget must leave the same, whichever way it got there."""
    store = mem.store

    def rows(table: str, columns: list[str]) -> list[tuple]:
        out = store.table(table).search().select(columns).limit(None).to_list()
        return sorted(tuple(_round(r[c]) for c in columns) for r in out)

    return {
        "media": sorted(m.media_id for m in store.all_media()),
        "episodes": rows("episodes", ["episode_id", "parent_id", "duplicate_of", "text", "people"]),
        "things": rows("things", ["thing", "episode_id", "media_id", "evidence", "valid_from", "valid_to"]),
        "visits": rows("visits", ["visit_id", "place", "lat", "lon", "start", "end", "n_points", "media_ids", "keywords"]),
        "faces": rows("faces", ["face_id", "media_id", "person_id"]),
        "people": rows("people", ["person_id", "name", "n_faces", "first_seen", "last_seen", "cover"]),
    }


def _round(v: object) -> object:
    if isinstance(v, float):
        return round(v, 6)
    if isinstance(v, list):
        return tuple(v)
    return v


# --- fast: the pieces ------------------------------------------------------------------------------
def test_parse_when() -> None:
    lisbon = timezone(timedelta(hours=1))
    assert parse_when("2025-06-14", lisbon) == datetime(2025, 6, 14, tzinfo=lisbon)
    assert parse_when("2025-06-14", lisbon, end=True) == datetime(2025, 6, 15, tzinfo=lisbon)  # the day included
    assert parse_when("2025-06-14T08:00", lisbon) == datetime(2025, 6, 14, 8, tzinfo=lisbon)
    assert parse_when("2025-06-14T08:00+00:00", lisbon).utcoffset() == timedelta(0)
    with pytest.raises(ValueError, match="not a date"):
        parse_when("last tuesday", lisbon)


def test_purge_removes_a_deleted_row_that_optimize_keeps(tmp_path: Path) -> None:
    """One row deleted out of a fragment of 200: LanceDB's optimize() rewrites a fragment only past
    10% deleted, so the row's bytes stay in the data file and the index; purge removes them."""
    import lancedb
    from lancedb.index import FTS, BTree

    db = lancedb.connect(str(tmp_path))
    texts = [f"an ordinary row number {i}" for i in range(200)]
    texts[50] = "I left my keys on the kitchen table"
    t = db.create_table("x", pa.table({"id": [str(i) for i in range(200)], "text": texts,
                                       "thing": [f"thing {i}" if i != 50 else "kitchen table" for i in range(200)]}))
    t.create_index("text", config=FTS())
    t.create_index("thing", config=BTree())
    t.delete("id = '50'")
    vacuum.cleanup(t)  # what optimize alone does
    assert files_containing(tmp_path, b"kitchen table"), "the test needs the deleted row still on disk"
    stats = vacuum.purge(t, tmp_path / "x.lance")
    assert stats.fragments_rewritten == 1 and stats.indexes_rebuilt == 2
    assert files_containing(tmp_path, b"kitchen") == []
    assert t.count_rows() == 199 and len(t.search("ordinary", query_type="fts").limit(300).to_list()) == 199
    assert t.search().where("thing = 'thing 7'").to_list()[0]["id"] == "7"


# --- the sample day ----------------------------------------------------------------------------------
def faced(mem: lifelog.Memory) -> list:
    """The people found by face (the voice of the sample day's notes is a person too)."""
    return [p for p in mem.people(include_hidden=True) if p.n_faces]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample day in morning/ and evening/, ingested, and the astronaut's face named Eileen."""
    root = tmp_path_factory.mktemp("forget")
    for folder, names in FOLDERS.items():
        (root / "media" / folder).mkdir(parents=True)
        for name in names:
            shutil.copy(SAMPLE / name, root / "media" / folder / name)
    mem = lifelog.open(root / "home")
    report = mem.ingest([root / "media"])
    assert report.ingested == 10 and not report.failed, report
    (person,) = [p for p in mem.people() if p.n_faces]  # the sample day's voice notes are a person too
    mem.name_person(person.person_id, "Eileen")
    return root


@pytest.mark.slow
def test_forget_the_keys_note_leaves_nothing(base: Path, tmp_path: Path) -> None:
    mem = copy_library(base, tmp_path)
    home, mid = mem.settings.home, media_id(mem, KEYS_NOTE)
    # before: the sentence is in rows and on disk (else the checks below would prove nothing)
    assert rows_mentioning(mem, ["kitchen table"]) and files_containing(home, b"kitchen table")
    assert "kitchen table" in mem.store.episode("day:2025-06-14")["text"]
    assert mem.last_seen("keys").media_id == mid

    t0 = time.perf_counter()
    report = mem.forget_files([base / "media" / KEYS_NOTE])
    seconds = time.perf_counter() - t0
    assert report.media_ids == [mid] and report.episodes >= 2 and report.things == 3 and report.visits == 1
    assert report.bytes_freed > 0
    print(f"forgot the keys note in {seconds:.1f} s, {report.bytes_freed} bytes freed")

    assert rows_mentioning(mem, ["kitchen", "left my keys", mid]) == []
    for phrase in PHRASES + (mid.encode(),):
        assert files_containing(home, phrase) == [], phrase
    assert not (home / JOURNAL).exists() and not (home / "thumbs" / mid).exists()
    day = mem.store.episode("day:2025-06-14")
    assert "kitchen" not in day["text"] and mid not in {s["media_id"] for s in day["sources"]}
    assert "beach" in day["text"] and "custard tart" in day["text"]  # rebuilt from the other nine files
    assert mem.last_seen("keys") is None and mem.last_seen("blue mug") is None
    assert not [v for v in mem.visits() if mid in v.media_ids]
    assert not [h for h in mem.search("keys kitchen table", min_score=None, scale=None) if h.media_id == mid]
    answer = mem.ask("where did I leave my keys?")
    assert answer.abstained or not [c for c in answer.citations if c.media_id == mid], answer.text
    # the rest of memory still answers
    assert "1,20" in mem.ask("How much is a pastel de nata?").text
    assert mem.last_visit("the beach") is not None
    assert_consistent(mem)
    # forgetting it again finds nothing and changes nothing
    again = mem.forget_files([base / "media" / KEYS_NOTE])
    assert again.media_ids == [] and again.unknown == [str(base / "media" / KEYS_NOTE)]


@pytest.mark.slow
def test_forget_a_folder(base: Path, tmp_path: Path) -> None:
    mem = copy_library(base, tmp_path)
    evening = {media_id(mem, n) for n in FOLDERS["evening"]}
    dry = mem.forget_files([base / "media" / "evening"], dry_run=True)
    assert dry.dry_run and set(dry.media_ids) == evening and len(mem.store.all_media()) == 10  # nothing changed
    report = mem.forget_files([base / "media" / "evening"])
    assert set(report.media_ids) == evening and report.faces == 1 and report.people_removed == 1
    left = {m.media_id for m in mem.store.all_media()}
    assert len(left) == 6 and not left & evening
    assert faced(mem) == [] and mem.last_visit("the beach") is None
    day = mem.store.episode("day:2025-06-14")
    assert {s["media_id"] for s in day["sources"]} == left
    assert "beach" not in day["text"] and "Eileen" not in day["text"]
    assert rows_mentioning(mem, ["Eileen", "Cascais", "kitchen"]) == []
    assert files_containing(mem.settings.home, b"Eileen") == []
    assert_consistent(mem)


@pytest.mark.slow
def test_forget_a_span_from_the_command_line(base: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from lifelog.cli import main

    mem = copy_library(base, tmp_path)
    cats = {media_id(mem, n) for n in FOLDERS["morning"][:3]}  # 08:12:05-07 local, a burst
    session = f"photos:{media_id(mem, FOLDERS['morning'][0])}"  # named after its first photo
    assert mem.store.episode(session) is not None
    span = ["--from", "2025-06-14T08:00+01:00", "--to", "2025-06-14T09:00+01:00"]
    assert main(["--home", str(mem.settings.home), "forget", *span]) == 0  # a dry run: lists, changes nothing
    out = capsys.readouterr().out
    assert "Would forget 3 files" in out and "IMG_20250614_081206.jpg" in out and "--yes" in out
    assert len(lifelog.open(mem.settings.home).store.all_media()) == 10
    assert main(["--home", str(mem.settings.home), "forget", *span, "--yes"]) == 0
    assert "Forgot 3 files" in capsys.readouterr().out
    mem = lifelog.open(mem.settings.home)
    assert not {m.media_id for m in mem.store.all_media()} & cats
    assert mem.last_seen("tabby") is None and mem.store.episode(session) is None
    assert not [e for e in mem.store.episodes("media_id = ''", columns=["sources"])
                if cats & {s["media_id"] for s in e["sources"]}]
    assert_consistent(mem)


@pytest.mark.slow
def test_a_closed_sighting_is_current_again(base: Path, tmp_path: Path) -> None:
    """The espresso photo (09:41) was closed by the video (10:30): forget the video, the photo is current."""
    mem = copy_library(base, tmp_path)
    photo, video = media_id(mem, "IMG_20250614_094112.jpg"), media_id(mem, "VID_20250614_103000.mp4")
    assert mem.last_seen("espresso").media_id == video
    mem.forget(video)
    seen = mem.last_seen("espresso")
    assert seen is not None and seen.media_id == photo and seen.valid_to is None
    assert [h.media_id for h in mem.thing_history("espresso")] == [photo]
    assert_consistent(mem)


@pytest.mark.slow
def test_forget_a_person(base: Path, tmp_path: Path) -> None:
    mem = copy_library(base, tmp_path)
    (face,) = mem.person_faces("Eileen")
    crop = mem.settings.home / face["crop"]
    assert crop.is_file() and [h for h in mem.search("Eileen", scale=None, min_score=None) if "Eileen" in h.text]
    report = mem.forget_person("Eileen")
    assert report.people == ["Eileen"] and report.faces == 1 and report.people_removed == 1
    assert faced(mem) == [] and mem.store.table("faces").count_rows() == 0
    assert not crop.exists() and len(mem.store.all_media()) == 10  # the photo stays, her face goes
    assert rows_mentioning(mem, ["Eileen"]) == [] and files_containing(mem.settings.home, b"Eileen") == []
    assert mem.who_is(face["episode_id"]) == []
    assert not [h for h in mem.search("Eileen", scale=None, min_score=None) if "Eileen" in h.text]
    with pytest.raises(KeyError):
        mem.forget_person("Eileen")
    assert_consistent(mem)


@pytest.mark.slow
def test_the_library_tab_previews_then_forgets(base: Path, tmp_path: Path) -> None:
    import gradio as gr

    from ui.context import make_context
    from ui.tabs import library

    mem = copy_library(base, tmp_path)
    ctx = make_context(mem, tmp_path / "staged")
    page, button = library.forget_preview(ctx, str(base / "media" / KEYS_NOTE), "", "")
    assert "Would forget 1 file" in page and "REC_20250614_190500.m4a" in page and button["visible"] is True
    assert len(mem.store.all_media()) == 10  # the preview changes nothing
    page, button, status = library.forget_confirm(ctx, str(base / "media" / KEYS_NOTE), "", "")
    assert "Forgot 1 file" in page and button["visible"] is False and "ll-cards" in status
    assert mem.last_seen("keys") is None
    page, _ = library.forget_preview(ctx, "", "2025-06-14", "2025-06-14")  # a date span, the day included
    assert "Would forget 9 files" in page
    with pytest.raises(gr.Error, match="not both"):
        library.forget_preview(ctx, "/some/file.jpg", "2025-06-14", "")
    with pytest.raises(gr.Error, match="not a date"):
        library.forget_preview(ctx, "", "yesterday", "today")


# --- kill -9 -------------------------------------------------------------------------------------------
KILLS, KILLS_PER_CHAIN, MAX_CHAINS = 10, 6, 5
# seconds forget sleeps before each of its steps in this test only: without it ~6 of a forget's ~9 s
# are one step (loading the text model to rebuild the day), and random kills would nearly all land there
STEP_DELAY = "0.2"
KILL_TARGETS = [KEYS_NOTE, "evening/REC_20250614_211000.m4a", "evening/IMG_20250614_152045.jpg"]


def _cli(home: Path, base: Path) -> list[str]:
    return [sys.executable, "-m", "lifelog.cli", "--home", str(home), "forget",
            *[str(base / "media" / t) for t in KILL_TARGETS], "--yes"]


def _env() -> dict[str, str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", LIFELOG_TEST_STEP_DELAY=STEP_DELAY)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


STEP = "lifelog-forget-step "
OUTSIDE = ("finished first", "start-up", "journal")  # kills that found no forget half-way


def _killed_in(log: Path) -> str:
    """The step a killed run had begun (it says so on stderr under LIFELOG_TEST_STEP_DELAY)."""
    steps = [line[len(STEP):].strip() for line in log.read_text(errors="replace").splitlines() if line.startswith(STEP)]
    return steps[-1] if steps else "start-up"


@pytest.mark.slow
def test_kill_nine_then_rerun_forgets_as_cleanly(base: Path, tmp_path: Path) -> None:
    ref_home = tmp_path / "reference"
    shutil.copytree(base / "home", ref_home)
    # the reference: the same forget, not killed; timed to aim the kills at the journal's lifetime
    proc = subprocess.Popen(_cli(ref_home, base), cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t0, seen = time.monotonic(), []
    while proc.poll() is None:
        if (ref_home / JOURNAL).exists():
            seen.append(time.monotonic() - t0)
        time.sleep(0.01)
    out, err = proc.communicate()
    assert proc.returncode == 0 and b"Forgot 3 files" in out, err[-2000:]
    assert seen, "the journal was never seen"
    first, last = seen[0], seen[-1]
    reference = snapshot(lifelog.open(ref_home))

    rng = random.Random(20250614)
    kills: list[tuple[float, str]] = []  # (seconds after start, the step it was killed in)
    chain = 0
    while chain < MAX_CHAINS and len([k for k in kills if k[1] not in OUTSIDE]) < KILLS:
        chain += 1  # a fresh copy, killed up to KILLS_PER_CHAIN times (a rerun resumes the journal), then finished
        home = tmp_path / f"chain{chain}"
        shutil.copytree(base / "home", home)
        for _ in range(KILLS_PER_CHAIN):
            delay = rng.uniform(first - 0.2, last)  # over the journal's life in a clean run
            log = tmp_path / f"chain{chain}-{len(kills)}.log"
            with open(log, "wb") as err:
                proc = subprocess.Popen(_cli(home, base), cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL, stderr=err)
                try:
                    proc.wait(timeout=delay)
                    kills.append((round(delay, 2), "finished first"))
                except subprocess.TimeoutExpired:
                    proc.send_signal(signal.SIGKILL)  # as a power cut: no clean-up of any kind
                    proc.wait()
                    kills.append((round(delay, 2), _killed_in(log)))
            if kills[-1][1] == "finished first" or not (home / JOURNAL).exists():
                break  # this chain's forget is complete (or never began): the next kills go to a fresh copy
        done = subprocess.run(_cli(home, base), cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        assert not (home / JOURNAL).exists()
        mem = lifelog.open(home)
        assert_consistent(mem)
        assert snapshot(mem) == reference, f"chain {chain} differs from the clean forget after kills {kills}"
        for phrase in PHRASES:
            assert files_containing(home, phrase) == [], (chain, phrase)
    mid_work = [k for k in kills if k[1] not in OUTSIDE]
    print(f"{len(kills)} runs in {chain} chains, {len([k for k in kills if k[1] != 'finished first'])} killed, "
          f"{len(mid_work)} mid-forget, by step: {Counter(k[1] for k in kills)}; {kills}; "
          f"the journal lived {first:.1f}-{last:.1f} s into a clean run")
    assert len(mid_work) >= KILLS, kills
