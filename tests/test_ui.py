"""The app's handlers on a small library: answers with evidence, search results and the empty state,
the timeline's days/sessions/moments, ingestion in the background, and media served only from the library.

The library is filled by writing episodes directly (as ingestion would), with text vectors from the
bundled text embedding: the tiny profile's random weights make every text look alike.
"""

from __future__ import annotations

import math
import os
import shutil
import struct
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path

import gradio as gr
import pytest
from PIL import Image

import lifelog
from ingest.records import EpisodeRecord, FileResult, MediaRecord, Source
from ui.app import build_app
from ui.context import make_context
from ui.evidence import open_evidence
from ui.reports import progress_html
from ui.tabs.ask import ask
from ui.tabs.library import add_folder, poll
from ui.tabs.people import people_view, save_name, select_person, split_selected
from ui.tabs.search import can_search_by_image, search
from ui.tabs.timeline import open_day, open_session, timeline_days
from ui.views import answer_markdown

SAMPLE_MEDIA = Path(__file__).resolve().parents[1] / "sample_media"
# the sample day's cat and coffee photos, the café menu, the viewpoint video and both voice notes
SAMPLE_DAY = ["IMG_20250614_081205.jpg", "IMG_20250614_094112.jpg", "IMG_20250614_094230.jpg",
              "VID_20250614_103000.mp4", "REC_20250614_190500.m4a", "REC_20250614_211000.m4a"]

T0 = datetime(2025, 6, 14, 9, 0, tzinfo=UTC)
LINES = ["Start at the outer corner and then back out.", "I left my keys on the kitchen table.",
         "We will have dinner with Sam at eight."]


def write_wav(path: Path, seconds: float = 15.0) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"".join(struct.pack("<h", int(3000 * math.sin(i / 8))) for i in range(int(8000 * seconds))))


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> tuple[lifelog.Memory, Path]:
    tmp = tmp_path_factory.mktemp("ui")
    files = tmp / "files"
    files.mkdir()
    mem = lifelog.open(tmp / "home", profile="bundled")
    embed = mem.model("text_embed")

    audio = files / "note.wav"
    write_wav(audio)
    aid = "a" * 32
    segs = [EpisodeRecord(episode_id=f"{aid}:segment:{i}", scale="segment", kind="audio", media_id=aid,
                          start=T0 + timedelta(seconds=5 * i), end=T0 + timedelta(seconds=5 * i + 5),
                          offset_start=5.0 * i, offset_end=5.0 * i + 5, parent_id=f"{aid}:session:0",
                          sources=[Source(aid, 5.0 * i, 5.0 * i + 5)], title=t, transcript=t, text=t)
            for i, t in enumerate(LINES)]
    session = EpisodeRecord(episode_id=f"{aid}:session:0", scale="session", kind="audio", media_id=aid, start=T0,
                            end=T0 + timedelta(seconds=15), parent_id="day:2025-06-14", title="Voice note",
                            text=" ".join(LINES), transcript=" ".join(LINES))

    photo = files / "coffee.png"
    Image.new("RGB", (64, 48), (120, 80, 40)).save(photo)
    thumbs = mem.settings.home / "thumbs" / ("p" * 32)
    thumbs.mkdir(parents=True)
    Image.new("RGB", (32, 24), (120, 80, 40)).save(thumbs / "thumb.jpg")
    pid = "p" * 32
    photo_seg = EpisodeRecord(episode_id=f"{pid}:segment:0", scale="segment", kind="photo", media_id=pid,
                              start=T0 + timedelta(hours=1), end=T0 + timedelta(hours=1), parent_id=f"photos:{pid}",
                              title="a cup of coffee on a wooden table", caption="a cup of coffee on a wooden table",
                              text="photo: a cup of coffee with a saucer and spoon on a wooden table",
                              thumbnail=f"thumbs/{pid}/thumb.jpg", place="Madrid")
    photo_session = EpisodeRecord(episode_id=f"photos:{pid}", scale="session", kind="photo", start=photo_seg.start,
                                  end=photo_seg.end, parent_id="day:2025-06-14", title="1 photo", text="1 photo: coffee")
    day = EpisodeRecord(episode_id="day:2025-06-14", scale="day", kind="mixed", start=T0, end=photo_seg.end,
                        title="Saturday 14 June 2025", caption="Saturday 14 June 2025: 1 audio session, 1 photo session",
                        text="a voice note and a photo of coffee")
    for e in [*segs, session, photo_seg, photo_session, day]:
        e.text_vector = embed.embed([e.text])[0]
    mem.writer.write(FileResult(MediaRecord(media_id=aid, path=str(audio), kind="audio", size_bytes=audio.stat().st_size,
                                           mtime=T0, captured_at=T0, duration_s=15.0), segs + [session]))
    mem.writer.write(FileResult(MediaRecord(media_id=pid, path=str(photo), kind="photo", size_bytes=photo.stat().st_size,
                                           mtime=T0, captured_at=photo_seg.start, thumbnail=f"thumbs/{pid}/thumb.jpg"),
                               [photo_seg]))
    mem.store.add_episodes([photo_session, day])
    return mem, tmp


@pytest.fixture
def ctx(library: tuple[lifelog.Memory, Path], tmp_path: Path):
    return make_context(library[0], tmp_path / "staged")


def test_build_app(library: tuple[lifelog.Memory, Path]) -> None:
    demo = build_app(library[0])
    assert isinstance(demo, gr.Blocks)
    root = demo.lifelog_context.media.root
    assert root.is_dir() and (root / ".pid").read_text() == str(os.getpid())
    demo.lifelog_context.media.close()
    assert not root.exists()


def test_ask_answers_with_evidence_and_a_player_at_the_cited_second(ctx) -> None:
    history, box, evidence, items, steps, viewer = ask(ctx, "what did he say about the corner?", [])
    assert box == ""
    assert history[0] == {"role": "user", "content": "what did he say about the corner?"}
    assert "outer corner" in history[1]["content"]
    assert evidence[0].media_id == "a" * 32 and evidence[0].start_s == 0.0
    image, cap = items[0]
    assert Path(image).is_relative_to(ctx.media.root) and "recording" in cap and "0:00\u20130:05" in cap
    assert "| round |" in steps and "episodic" in steps
    # the top evidence opens at once: an audio player seeking to the cited second, its lines around
    assert 'src="/gradio_api/file=' in viewer and "#t=0.00,5.00" in viewer and "<audio" in viewer
    assert "ll-current" in viewer and "outer corner" in viewer and "keys on the kitchen table" in viewer

    keys = ask(ctx, "where did I leave my keys?", history)
    assert "kitchen table" in keys[0][-1]["content"] and len(keys[0]) == 4
    second = open_evidence(ctx, keys[2], 0)
    assert "#t=5.00,10.00" in second and 'data-start="5.00"' in second and "autoplay" in second


def test_ask_abstains_and_rejects_an_empty_question(ctx) -> None:
    history, _, evidence, items, _, viewer = ask(ctx, "giraffe spaceship launch", [])
    assert "don't know" in history[-1]["content"] and evidence == [] and items == []
    with pytest.raises(gr.Error, match="Type a question"):
        ask(ctx, "   ", [])


def test_search_results_with_scores_and_the_empty_state(ctx) -> None:
    msg, hits, items, _ = search(ctx, "coffee", None, None, [], "", "segment")
    assert hits[0].kind == "photo" and "for \u201ccoffee\u201d" in msg
    assert items[0][1].startswith(f"{hits[0].score:.2f}") and "Madrid" in items[0][1]
    photo = open_evidence(ctx, hits, 0)
    assert "<img" in photo and "coffee" in photo
    msg, hits, items, _ = search(ctx, "giraffe spaceship", None, None, [], "", "segment")
    assert hits == [] and items == [] and "Nothing in memory matches \u201cgiraffe spaceship\u201d" in msg
    # filters: the right kind only, and a date range that excludes everything
    _, hits, _, _ = search(ctx, "coffee", None, None, ["audio"], "", "segment")
    assert all(h.kind == "audio" for h in hits)
    msg, hits, _, _ = search(ctx, "coffee", "2024-01-01", "2024-01-31", [], "", "segment")
    assert hits == [] and "filters" in msg
    with pytest.raises(gr.Error, match="not a date"):
        search(ctx, "coffee", "yesterday-ish", None, [], "", "segment")


def test_timeline_days_sessions_moments(ctx) -> None:
    days = timeline_days(ctx)
    assert days == [("Saturday 14 June 2025", "day:2025-06-14")]
    msg, sessions, items, _, _, _ = open_day(ctx, "day:2025-06-14")
    assert "1 audio session" in msg
    assert {s.episode_id for s in sessions} == {"a" * 32 + ":session:0", "photos:" + "p" * 32}
    i = [s.kind for s in sessions].index("audio")
    moments, moment_items, viewer = open_session(ctx, sessions, i)
    assert [m.text for m in moments] == LINES and len(moment_items) == 3
    assert "<audio" in viewer


def test_media_only_from_the_library(ctx, tmp_path: Path) -> None:
    with pytest.raises(KeyError):
        ctx.media.media("not-in-the-library")
    outside = tmp_path / "secret.jpg"
    Image.new("RGB", (8, 8)).save(outside)
    assert ctx.media.thumbnail(str(outside)) is None
    assert ctx.media.thumbnail("../../secret.jpg") is None
    staged = ctx.media.media("a" * 32)
    assert staged.parent.parent == ctx.media.root and staged.read_bytes()[:4] == b"RIFF"


def test_library_ingestion_runs_in_the_background(ctx, tmp_path: Path) -> None:
    with pytest.raises(gr.Error, match="No such file or folder"):
        add_folder(ctx, str(tmp_path / "missing"))
    empty = tmp_path / "empty"
    empty.mkdir()
    html, timer = add_folder(ctx, str(empty))
    assert timer.active is True
    job = ctx.ingestor.wait(timeout=60)
    assert job is not None and not job.running
    progress, failures, status, timer = poll(ctx)
    assert timer.active is False
    assert "Done" in progress or "stopped" in progress
    assert "1 recording" in status and "1 photo" in status
    assert "Add a folder" in progress_html(None)


def test_a_real_file_converts_for_the_browser(library: tuple[lifelog.Memory, Path], tmp_path: Path,
                                              shared_media: Path) -> None:
    """An AVI is turned into an MP4 a browser can play (the library record says it is a video)."""
    mem, _ = library
    src = tmp_path / "pool.avi"
    shutil.copyfile(shared_media / "video" / "pool_vacuum_firstperson_narrated_mmaction2.avi", src)
    vid = "v" * 32
    mem.writer.write(FileResult(MediaRecord(media_id=vid, path=str(src), kind="video", size_bytes=src.stat().st_size,
                                           mtime=T0, captured_at=T0, codec="mpeg4"), []))
    ctx = make_context(mem, tmp_path / "staged")
    out = ctx.media.media(vid)
    assert out.suffix == ".mp4" and out.stat().st_size > 10_000 and b"ftyp" in out.read_bytes()[:16]
    mem.forget(vid)


# --- a real sample day, ingested with the bundled profile (image embedding, speech, places) --------
@pytest.fixture(scope="module")
def sample_day(tmp_path_factory: pytest.TempPathFactory) -> lifelog.Memory:
    """The day after the sample day: "yesterday" is Saturday 14 June 2025 in Lisbon."""
    tmp = tmp_path_factory.mktemp("ui-day")
    mem = lifelog.open(tmp / "home", profile="bundled", now=datetime(2025, 6, 15, 12, tzinfo=UTC))
    report = mem.ingest([SAMPLE_MEDIA / name for name in SAMPLE_DAY])
    assert report.ingested == len(SAMPLE_DAY) and not report.failed, report
    return mem


@pytest.fixture
def day_ctx(sample_day: lifelog.Memory, tmp_path: Path):
    return make_context(sample_day, tmp_path / "staged")


@pytest.mark.slow
def test_search_by_example_picture(day_ctx, shared_media: Path) -> None:
    """The original coffee and cat photos (other files, other sizes) find their copies in the library."""
    assert can_search_by_image(day_ctx.mem)
    coffee = shared_media / "photos" / "coffee_cup_skimage.png"
    msg, hits, items, viewer = search(day_ctx, "", None, None, [], "", "segment", str(coffee))
    assert " like coffee_cup_skimage.png" in msg and "Select one" in msg
    photos = [h for h in hits if h.kind == "photo"]
    assert Path(photos[0].path).name == "IMG_20250614_094112.jpg", [(h.path, h.score) for h in hits]
    assert all(Path(h.path).name != "IMG_20250614_081205.jpg" for h in hits)  # not the cat
    i = hits.index(photos[0])
    image, cap = items[i]
    # the score leads the caption; the time is the camera's (Lisbon, +01:00), its zone said where it is
    # not this computer's; then the place and the file, each on its own line
    first, where, name = cap.split("\n")
    assert first.startswith(f"{photos[0].score:.2f} \u00b7 photo \u00b7 Sat 14 Jun 2025, 09:41"), cap
    here = photos[0].time.astimezone().utcoffset().total_seconds() / 60
    assert ("UTC+1" in first) == (here != 60), cap
    assert "Lisbon" in where and name == "IMG_20250614_094112.jpg" and Path(image).is_relative_to(day_ctx.media.root)
    assert "<img" in open_evidence(day_ctx, hits, i)

    cat = search(day_ctx, "", None, None, [], "", "segment", str(shared_media / "photos" / "cat_chelsea_skimage.png"))
    assert Path(cat[1][0].path).name == "IMG_20250614_081205.jpg"
    # words typed beside a picture are left aside, and the page says so
    msg, hits, _, _ = search(day_ctx, "sunset", None, None, [], "", "segment", str(coffee))
    assert "\u201csunset\u201d were not used" in msg and hits
    # the same empty state as words: nothing alike, or filters that leave nothing
    msg, hits, items, _ = search(day_ctx, "", None, None, [], "", "segment",
                                 str(shared_media / "photos" / "wisteria_madrid_gps_iphone6.jpg"))
    assert hits == [] and items == [] and "ll-empty" in msg and "Nothing in memory looks like" in msg
    msg, hits, _, _ = search(day_ctx, "", None, None, ["audio"], "", "segment", str(coffee))
    assert hits == [] and "with the filters (recordings)" in msg


@pytest.mark.slow
def test_search_by_picture_errors_and_the_hidden_input(day_ctx, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    not_a_picture = tmp_path / "notes.jpg"
    not_a_picture.write_text("not a picture")
    with pytest.raises(gr.Error, match="Could not read notes.jpg as a picture"):
        search(day_ctx, "", None, None, [], "", "segment", str(not_a_picture))
    with pytest.raises(gr.Error, match="drop an example picture"):
        search(day_ctx, " ", None, None, [], "", "segment", None)
    demo = build_app(day_ctx.mem)
    box = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "ll-query-image-box")
    hint = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "ll-query-image-hint")
    assert box.visible is True and "bundled profile" in hint.value and "same kind of thing" in hint.value
    demo.lifelog_context.media.close()
    # a profile without an image embedding: no picture input, and the handler refuses politely
    monkeypatch.setattr(day_ctx.mem, "has_model", lambda role: role != "image_text")
    demo = build_app(day_ctx.mem)
    box = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "ll-query-image-box")
    assert box.visible is False
    demo.lifelog_context.media.close()
    with pytest.raises(gr.Error, match="no image embedding"):
        search(day_ctx, "", None, None, [], "", "segment", str(not_a_picture))


@pytest.mark.slow
def test_ask_counting_and_ordering_evidence(day_ctx) -> None:
    """A count lists each recording on its own line and cites each; "after" cites the next thing and
    the café; a photo's evidence names its place."""
    history, _, evidence, items, steps, viewer = ask(day_ctx, "How many voice notes did I record yesterday?", [])
    text = history[-1]["content"]
    assert text.startswith("2 recordings yesterday:\n\n- recording REC_20250614_190500.m4a, Sat 14 Jun 2025, 19:05"), text
    assert "\n- recording REC_20250614_211000.m4a, Sat 14 Jun 2025, 21:10 at Cascais" in text
    assert [Path(e.path).name for e in evidence] == ["REC_20250614_190500.m4a", "REC_20250614_211000.m4a"]
    assert "19:05" in items[0][1] and "Lisbon" in items[0][1] and "21:10" in items[1][1] and "Cascais" in items[1][1]
    assert "<audio" in viewer and "keys on the kitchen table" in viewer and "kind audio" in steps

    history, _, evidence, items, steps, viewer = ask(day_ctx, "What did I do after the café?", [])
    assert [Path(e.path).name for e in evidence] == ["VID_20250614_103000.mp4", "IMG_20250614_094230.jpg"], (
        history[-1]["content"], steps)
    assert "viewpoint" in history[-1]["content"] and "<video" in viewer and "#t=0.00" in viewer
    menu = open_evidence(day_ctx, evidence, 1)
    # the photo opens large with its place; the agent's "photo <time> at <place>:" prefix is not repeated
    assert "<img" in menu and "Lisbon, Portugal" in menu and "09:42" in menu
    assert '<blockquote class="ll-snippet">CAF\u00c9 AURORA' in menu
    assert "Lisbon" in items[1][1]


def test_answer_markdown_lists_only_answers_that_name_each_piece() -> None:
    def cite(snippet: str) -> lifelog.Citation:
        return lifelog.Citation(media_id="m", path="/x/a.jpg", kind="photo", start_s=0, end_s=0, time=T0,
                                snippet=snippet, thumbnail="", place="", episode_id="e", score=1.0)

    def answer(text: str, *snippets: str) -> lifelog.Answer:
        return lifelog.Answer(question="q", text=text, abstained=False, citations=[cite(s) for s in snippets],
                              steps=[], agent="adaptive", seconds=0.1, confidence=1.0)

    listed = answer_markdown(answer("2 photos: photo one; photo two (and 3 more)", "photo one", "photo two"))
    assert listed.startswith("2 photos:\n\n- photo one\n- photo two\n\n(and 3 more)")
    plain = answer_markdown(answer("After that (a), next: b", "b", "a"))
    assert plain.startswith("After that (a), next: b\n\n*confidence")


# --- People: naming a face changes the answers to "who" questions --------------------------------
@pytest.mark.slow
def test_people_tab_names_a_face_and_the_answer_uses_it(tmp_path: Path) -> None:
    mem = lifelog.open(tmp_path / "home", now="2025-06-15T10:00:00+01:00")
    report = mem.ingest([SAMPLE_MEDIA / "IMG_20250614_152045.jpg"])
    assert report.ingested == 1 and not report.failed, report
    ctx = make_context(mem, tmp_path / "staged")
    question = "Who is in the photo with the football helmet?"
    before = ask(ctx, question, [])[0][-1]["content"]
    assert "unnamed person" in before and "Eileen" not in before, before

    msg, ids, items, chosen, name, info, merge, shown_in, _, _ = people_view(ctx)
    assert len(ids) == 1 and "1 person" in msg and chosen == "" and name == "" and shown_in == []
    face, cap = items[0]
    assert Path(face).is_relative_to(ctx.media.root) and Image.open(face).size[0] > 16  # the face crop, staged
    # last seen at 15:20 as lived in Lisbon (14:20 UTC)
    assert cap.startswith("unnamed person ") and "1 face" in cap and "last seen Sat 14 Jun 2025, 15:20" in cap, cap
    _, _, _, chosen, name, info, merge, shown_in, tiles, viewer = select_person(ctx, ids, 0)
    assert chosen == ids[0] and name == "" and "unnamed person" in info and merge.choices == []
    # where they appear: the photo, with its time and place
    assert [Path(e.path).name for e in shown_in] == ["IMG_20250614_152045.jpg"] and len(tiles) == 1
    assert "15:20" in tiles[0][1] and "first seen Sat 14 Jun 2025, 15:20" in info
    assert "1 person" in open_evidence(ctx, shown_in, 0) or "People: unnamed person" in open_evidence(ctx, shown_in, 0)

    with pytest.raises(gr.Error, match="type a name"):
        save_name(ctx, chosen, "  ")
    with pytest.raises(gr.Error) as err:
        save_name(ctx, "", "Eileen")
    assert err.value.message == "Select a person in the gallery first."  # not garbled with another message
    msg, ids2, items, chosen, name, info, *_ = save_name(ctx, chosen, "Eileen")
    assert ids2 == ids and name == "Eileen" and "Named Eileen" in msg and items[0][1].startswith("Eileen\n1 face")
    # the photo now names her where it counted "1 person"
    opened = open_evidence(ctx, shown_in, 0)
    assert "People: Eileen" in opened and "1 person" not in opened, opened
    after = ask(ctx, question, [])[0][-1]["content"]
    assert "Eileen" in after and "unnamed person" not in after, after
    # the Search tab's People filter finds her photo, and nothing for someone unknown
    _, hits, _, _ = search(ctx, "football helmet", None, None, [], "", "segment", None, "Eileen")
    assert [Path(h.path).name for h in hits] == ["IMG_20250614_152045.jpg"]
    msg, hits, _, _ = search(ctx, "football helmet", None, None, [], "", "segment", None, "Bob")
    assert hits == []


@pytest.mark.slow
def test_people_tab_not_them_moves_one_appearance_to_a_new_person(tmp_path: Path) -> None:
    """One synthetic voice speaks both sample recordings: one person, heard twice; "Not them" on one
    of the two appearances makes it a person of its own."""
    mem = lifelog.open(tmp_path / "home", now="2025-06-15T10:00:00+01:00")
    notes = sorted(SAMPLE_MEDIA.glob("REC_*.m4a"))
    assert mem.ingest(notes).ingested == 2
    ctx = make_context(mem, tmp_path / "staged")
    _, ids, items, *_ = people_view(ctx)
    assert len(ids) == 1 and items[0][1].startswith("unnamed voice"), items
    _, _, _, chosen, _, _, _, shown_in, _, _ = select_person(ctx, ids, 0)
    assert len(shown_in) >= 2 and len({e.media_id for e in shown_in}) == 2
    with pytest.raises(gr.Error, match="Select an appearance"):
        split_selected(ctx, chosen, "")
    moved = shown_in[0]
    msg, ids, *_ , shown_after, _, _ = split_selected(ctx, chosen, moved.episode_id)
    assert "Moved that voice to a new person, unnamed voice" in msg and len(ids) == 2, msg
    assert {e.media_id for e in shown_after} == {e.media_id for e in shown_in} - {moved.media_id}
    other = next(i for i in ids if i != chosen)
    assert {v["media_id"] for v in mem.person_voices(other)} == {moved.media_id}
    with pytest.raises(gr.Error, match="not all"):  # its only voice: nothing would be left
        split_selected(ctx, other, mem.person_voices(other)[0]["episode_ids"][0])


def test_evidence_words_say_each_thing_once_in_the_capture_zone() -> None:
    from datetime import timezone as tz

    from ui.views import filters_words, people_named, snippet, when

    text = "0:00-0:10 coffeepot, water jug\nVideo: coffeepot, water jug\nTags: coffeepot, water jug\nPlace: Lisbon"
    assert snippet(text, "0:00-0:10 coffeepot, water jug", "Lisbon") == "Video: coffeepot, water jug"
    assert snippet("Photo: cat; 1 person\nText: CAFE AURORA\nTags: cat") == "Photo: cat; 1 person\nText: CAFE AURORA"
    t = datetime(2025, 6, 14, 7, 12, tzinfo=tz.utc)
    here = int(t.astimezone().utcoffset().total_seconds() // 60)
    shown = when(t, 60)
    assert shown.startswith("Sat 14 Jun 2025, 08:12") and (("UTC+1" in shown) == (here != 60))
    assert when(t, here) == t.astimezone().strftime("%a %d %b %Y, %H:%M")  # the machine's own zone: no suffix
    assert when(t, -330).endswith("UTC-5:30")
    assert when(t, 60, time_source="file").startswith("file date ") and "not capture time" in when(t, None, time_source="file")
    assert people_named("Photo: helmet; 1 person", ["Eileen"]) == "Photo: helmet; Eileen"
    assert people_named("Photo: helmet; 2 people", ["Eileen", "unnamed person 3f9a2c"]) == "Photo: helmet; Eileen and 1 more"
    assert people_named("Photo: helmet; 1 person", ["unnamed person 3f9a2c"]) == "Photo: helmet; 1 person"
    f = lifelog.Filters(local_start=datetime(2025, 6, 1), local_end=datetime(2025, 7, 1), kinds=("photo",), place="Lisbon")
    assert filters_words(f) == "from Sun 01 Jun 2025 to Mon 30 Jun 2025 (days where captured) \u00b7 photos \u00b7 in Lisbon"
    assert filters_words(lifelog.Filters()) == ""


def test_answer_labels_do_not_repeat_the_title_time() -> None:
    from lifelog.labels import TITLE_PREFIX

    assert TITLE_PREFIX.sub("", "Photo 2015-04-10 20:12: picket fence, pot") == "picket fence, pot"
    assert TITLE_PREFIX.sub("", "0:00-0:10 coffeepot, water jug") == "coffeepot, water jug"
    assert TITLE_PREFIX.sub("", "Video 0:01: pot, bathtub") == "pot, bathtub"
    assert TITLE_PREFIX.sub("", "Recording 0:13") == "Recording 0:13"
    # a photo nothing was recognised in is titled by its time alone: a label quotes no "21:02" as its content
    from lifelog.labels import TIME_ONLY

    assert TIME_ONLY.match("Photo 2025-06-14 21:02") and not TIME_ONLY.match("Photo 2025-06-14 21:02: seashore")


def test_search_dates_as_words(ctx) -> None:
    from ui.tabs.search import parse_day

    now = datetime(2026, 12, 2, 12, 0).astimezone()
    assert parse_day("2025-06-14") == datetime(2025, 6, 14) and parse_day("2025-06-14", end=True) == datetime(2025, 6, 15)
    assert parse_day("June 2025", now=now) == datetime(2025, 6, 1)
    assert parse_day("June 2025", end=True, now=now) == datetime(2025, 7, 1)
    assert parse_day("last April", now=now) == datetime(2026, 4, 1)
    for bad in ("Junember", "yesterday-ish", "31 February 2025"):
        with pytest.raises(gr.Error):
            parse_day(bad, now=now)
