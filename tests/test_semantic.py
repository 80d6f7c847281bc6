"""Semantic memory on real media: places from GPS, faces clustered into people, names, "last seen"."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from lifelog.semantic import places, things

ROOT = Path(__file__).resolve().parents[1]
MEDIA = ROOT.parent / "shared" / "media"
SAMPLE = ROOT / "sample_media"


def test_normalise_and_extract_things() -> None:
    assert things.normalise_thing("my Keys") == "key"
    assert things.normalise_thing("the blue mug") == "blue mug"
    assert things.normalise_thing("glasses") == "glasses"
    found = things.things_in({"tags": ["espresso"], "ocr": "CAFÉ AURORA / 0,80",
                                "transcript": "I left my keys on the kitchen table, next to the blue mug."})
    assert {t for t, _, _ in found} == {"espresso", "café aurora", "key", "mug", "blue mug"}


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory):
    """Geotagged photos, the GoPro clip, the sample day and two faces (astronaut and cameraman), ingested
    with the bundled profile and consolidated."""
    if not MEDIA.is_dir():
        pytest.skip(f"real test media not found at {MEDIA}")
    import skimage.data
    from PIL import Image

    import lifelog

    src = tmp_path_factory.mktemp("faces")
    # astronaut (Eileen Collins, NASA, public domain); sample_media/IMG_20250614_152045.jpg is the same face
    Image.fromarray(skimage.data.astronaut()[20:400, 50:450]).save(src / "astronaut_crop.jpg")
    # cameraman, CC0 (Lav Varshney, per skimage.data.camera): a different person
    Image.fromarray(np.stack([skimage.data.camera()] * 3, -1)).save(src / "cameraman.jpg")
    mem = lifelog.open(tmp_path_factory.mktemp("home"))
    mem.ingest([src, MEDIA / "photos" / "wisteria_madrid_gps_iphone6.jpg", MEDIA / "photos" / "wildflower_gps_iphone11.HEIC",
                MEDIA / "video" / "gopro_drone_beach_coast_gps_karma.mp4", SAMPLE])
    # ingestion kept the faces and ran the consolidation; a second pass finds nothing new
    report = mem.last_consolidation
    again = mem.consolidate_semantic(detect_faces=True)
    assert again.faces == 0 and again.new_people == []
    return mem, report, src


def _media(mem, name: str):
    (m,) = [m for m in mem.store.all_media("status = 'ok'") if Path(m.path).name == name]
    return m


def _visit_of(mem, name: str) -> places.Visit:
    mid = _media(mem, name).media_id
    (v,) = [v for v in mem.visits() if mid in v.media_ids]
    return v


@pytest.mark.slow
def test_places_from_gps(library) -> None:
    mem, report, _ = library
    assert report.visits >= 5
    madrid = _visit_of(mem, "wisteria_madrid_gps_iphone6.jpg").place
    assert "Madrid" in madrid and madrid.endswith("Spain")
    heic = _visit_of(mem, "wildflower_gps_iphone11.HEIC").place
    assert "Missouri" in heic and heic.endswith("United States")
    gopro = _visit_of(mem, "gopro_drone_beach_coast_gps_karma.mp4")
    assert "California" in gopro.place and gopro.end > gopro.start  # the clip's 12 s span
    beach = mem.last_visit("the beach")
    assert beach is not None and beach.place.startswith("Cascais")  # the sample day's evening, not 2017's drone flight
    assert mem.last_visit("Madrid").place == madrid


@pytest.mark.slow
def test_faces_cluster_into_people(library) -> None:
    mem, _, _ = library
    astronaut = {_media(mem, "astronaut_crop.jpg").media_id, _media(mem, "IMG_20250614_152045.jpg").media_id}
    cameraman = _media(mem, "cameraman.jpg").media_id
    people = [p for p in mem.people() if p.n_faces]  # people by face (voices: tests/test_voices.py)
    assert len(people) == 2
    by_media = {p.person_id: {f["media_id"] for f in mem.person_faces(p.person_id)} for p in people}
    assert sorted(by_media.values(), key=len) == [{cameraman}, astronaut]


@pytest.mark.slow
def test_naming_changes_who_and_survives_new_media(library, tmp_path: Path) -> None:
    mem, _, src = library
    import skimage.data
    from PIL import Image

    from lifelog.schema import Filters

    episode = f"{_media(mem, 'IMG_20250614_152045.jpg').media_id}:segment:0"
    (before,) = mem.who_is(episode)
    assert before.startswith("unnamed person")
    person = mem.name_person(before.rsplit(" ", 1)[1], "Eileen")
    assert mem.who_is(episode) == ["Eileen"]
    assert mem.store.episode(episode)["people"] == ["Eileen"]
    assert {h.episode_id for h in mem.browse(Filters(people=("Eileen",)))} >= {episode}
    assert len(mem.sightings("Eileen", datetime(2025, 6, 14, tzinfo=timezone.utc),
                                  datetime(2025, 6, 15, tzinfo=timezone.utc))) == 1
    # a new photo of her, at another scale: assigned by embedding to the named person
    new = tmp_path / "astronaut_small.jpg"
    Image.fromarray(skimage.data.astronaut()).resize((300, 300)).save(new)
    known = {m.media_id for m in mem.store.all_media()}
    mem.ingest([new])
    added = [m for m in mem.store.all_media("status = 'ok'") if m.media_id not in known]
    report = mem.last_consolidation  # ingest consolidates the new photo itself
    assert report.faces == 1 and report.new_people == []
    assert mem.who_is(f"{added[0].media_id}:segment:0") == ["Eileen"]
    assert mem.people()[0].person_id == person.person_id


@pytest.mark.slow
def test_last_seen_keys_points_to_the_voice_note(library) -> None:
    mem, _, _ = library
    keys = mem.last_seen("my keys")
    assert keys is not None and keys.source == "speech"
    assert Path(mem.media_file(keys.media_id)).name == "REC_20250614_190500.m4a"
    assert "kitchen table" in keys.evidence
    mug = mem.last_seen("the blue mug")
    assert mug is not None and mug.media_id == keys.media_id


@pytest.mark.slow
def test_newer_sighting_supersedes_without_deleting(library) -> None:
    mem, _, _ = library
    # the cat burst: three photos tagged with the same cat breed, one current record, two closed
    history = mem.thing_history("tabby")
    assert len(history) >= 2
    assert [h.valid_to is None for h in history].count(True) == 1 and history[-1].valid_to is None
    assert all(a.valid_to == b.time for a, b in zip(history, history[1:]))
