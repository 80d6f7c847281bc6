"""The README's first command, and real answers from real media with the bundled models."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import lifelog
from lifelog.cli import main

from conftest import SAMPLE_MEDIA

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sample_memory(tmp_path_factory: pytest.TempPathFactory) -> lifelog.Memory:
    if not any(SAMPLE_MEDIA.glob("*")):
        pytest.fail(f"{SAMPLE_MEDIA} is empty: run scripts/make_sample_media.py")
    mem = lifelog.open(tmp_path_factory.mktemp("sample-home"), now="2025-06-15T10:00:00+01:00")
    report = mem.ingest([SAMPLE_MEDIA])
    assert report.failed == [], report.failed
    return mem


def test_keys_question_answered_from_the_voice_note(sample_memory: lifelog.Memory) -> None:
    answer = sample_memory.ask("Where did I leave my keys?")
    assert not answer.abstained
    assert "kitchen table" in answer.text.lower()
    top = answer.citations[0]
    assert top.kind == "audio" and Path(top.path).parent == SAMPLE_MEDIA
    assert top.end_s > top.start_s >= 0
    assert top.time.year == 2025 and top.time.month == 6 and top.time.day == 14


def test_unrelated_question_is_declined(sample_memory: lifelog.Memory) -> None:
    answer = sample_memory.ask("What did the giraffe eat at the zoo?")
    assert answer.abstained and answer.citations == []
    assert sample_memory.search("giraffe spaceship volcano") == []


def test_time_filter_finds_the_right_day(sample_memory: lifelog.Memory) -> None:
    tz = timezone(timedelta(hours=1))
    assert sample_memory.search("keys", filters=lifelog.Filters(
        start=datetime(2025, 6, 14, tzinfo=tz), end=datetime(2025, 6, 15, tzinfo=tz)))
    assert sample_memory.ask("where did I leave my keys in April 2019?").abstained


def test_status_counts(sample_memory: lifelog.Memory) -> None:
    s = sample_memory.status()
    assert s.media_by_kind.get("photo", 0) >= 3 and s.media_by_kind.get("video", 0) >= 1
    assert s.media_by_kind.get("audio", 0) >= 1
    assert s.episodes_by_scale.get("day", 0) >= 1
    assert s.first and s.first.year == 2025


def test_second_ingest_is_a_no_op(sample_memory: lifelog.Memory) -> None:
    report = sample_memory.ingest([SAMPLE_MEDIA])
    assert report.ingested == 0 and report.skipped >= 5 and report.failed == []


def test_demo_command_prints_answer_and_evidence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--home", str(tmp_path / "demo"), "--now", "2025-06-15T10:00:00+01:00", "demo"]) == 0
    out = capsys.readouterr().out
    assert "kitchen table" in out.lower()
    assert "Evidence:" in out and "sample_media" in out
    assert "lifelog --home" in out and " ui" in out


def test_real_recordings_answer(shared_media: Path, tmp_path: Path) -> None:
    folder = tmp_path / "media with spaces"
    folder.mkdir()
    for name in ("audio/one_two_three_speechrecognition.wav", "video/pool_vacuum_firstperson_narrated_mmaction2.avi",
                 "photos/wisteria_madrid_gps_iphone6.jpg"):
        shutil.copy(shared_media / name, folder / Path(name).name)
    mem = lifelog.open(tmp_path / "home")
    report = mem.ingest([folder])
    assert report.ingested == 3 and report.failed == []
    answer = mem.ask("what did I say about the outer corner?")
    assert not answer.abstained and "outer corner" in answer.text.lower()
    assert answer.citations[0].path.endswith(".avi") and answer.citations[0].start_s < 3.0
    answer = mem.ask("photos from Madrid")
    assert answer.citations[0].path.endswith("wisteria_madrid_gps_iphone6.jpg")
    assert "Madrid" in answer.citations[0].place and answer.citations[0].local_time.hour == 20
    hits = mem.search("one two three")
    assert hits and hits[0].path.endswith("one_two_three_speechrecognition.wav")


def test_search_by_example_image(sample_memory: lifelog.Memory, shared_media: Path) -> None:
    hits = sample_memory.search_by_image(shared_media / "photos" / "cat_chelsea_skimage.png")
    assert hits and all(h.scale == "segment" for h in hits)
    assert Path(hits[0].path).name == "IMG_20250614_081205.jpg"  # the burst's representative, not its copies
    assert all("cat" in h.title for h in hits)


def test_naming_a_person_changes_who_answers(sample_memory: lifelog.Memory, capsys: pytest.CaptureFixture[str]) -> None:
    home = str(sample_memory.settings.home)
    question = "Who is in the photo with the football helmet?"
    before = sample_memory.ask(question)
    assert "unnamed person" in before.text and before.citations[0].path.endswith("IMG_20250614_152045.jpg")
    assert main(["--home", home, "people", "list"]) == 0
    person_id = capsys.readouterr().out.split()[0]
    assert main(["--home", home, "people", "name", person_id, "Eileen"]) == 0
    fresh = lifelog.open(home, now="2025-06-15T10:00:00+01:00")  # another process would see the same
    assert fresh.ask(question).text.startswith("Eileen")
    assert "Eileen" in fresh.ask("When did I last see Eileen?").text
    with_eileen = fresh.search("photo", filters=lifelog.Filters(people=("Eileen",)), min_score=None)
    assert [Path(h.path).name for h in with_eileen] == ["IMG_20250614_152045.jpg"]
    assert "don't know anyone called Bob" in fresh.ask("When did I last see Bob?").text
    assert main(["--home", home, "people", "hide", "Eileen"]) == 0  # hidden people are not named in answers
    assert "Eileen" not in fresh.ask(question).text
    assert main(["--home", home, "people", "unhide", "Eileen"]) == 0
    assert fresh.ask(question).text.startswith("Eileen")


def test_last_seen_and_last_visit(sample_memory: lifelog.Memory) -> None:
    keys = sample_memory.ask("Where did I leave my keys?")
    assert keys.text.startswith("Last seen") and "kitchen table" in keys.text
    assert keys.citations[0].path.endswith("REC_20250614_190500.m4a")
    beach = sample_memory.ask("When was I last at the beach?")
    assert "Cascais" in beach.text and "14 Jun 2025" in beach.text
