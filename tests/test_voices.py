"""People by voice, on real recordings with the bundled models: a conversation's two speakers get
turns and segments of their own, voices become people across the library, and naming one changes
what "what did X say" finds; a voice linked to a face is one person for "see" and "say" alike.

../shared/media/audio/two_speaker_conversation_pyannote_sample.wav: two people; one says "I'm in
New Jersey now though", the other "... and Texas, originally from Chicago" and never New Jersey.
The 60 s monologue is one speaker; the sample day's 15:20 photo shows one face.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import lifelog
from lifelog.db import VOICES_TABLE

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
CONVERSATION = "audio/two_speaker_conversation_pyannote_sample.wav"
NARRATED = "video/pool_vacuum_firstperson_narrated_mmaction2.avi"  # a face on screen while a man narrates
MONOLOGUE = "audio/monologue_talk_60s_silero.wav"
STEREO = "audio/stereo_two_speakers_fasterwhisper.wav"  # one speaker per channel
FACE = ROOT / "sample_media" / "IMG_20250614_152045.jpg"


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, shared_media: Path):
    tmp = tmp_path_factory.mktemp("voices")
    media = tmp / "media"
    media.mkdir()
    for f in (CONVERSATION, MONOLOGUE, NARRATED, STEREO):
        shutil.copyfile(shared_media / f, media / Path(f).name)
    shutil.copyfile(FACE, media / FACE.name)
    mem = lifelog.open(tmp / "home", now="2026-12-31T12:00:00+00:00", ingest={"voices": "auto"})
    assert mem.ingest([media]).ingested == 5
    return mem, tmp


def voices_of(mem: lifelog.Memory, name: str) -> list[dict]:
    media_id = next(m.media_id for m in mem.store.all_media() if Path(m.path).name == name)
    return [v for v in mem.store.table(VOICES_TABLE).search().limit(None).to_list() if v["media_id"] == media_id]


def photo_id(mem: lifelog.Memory) -> str:
    return next(m.media_id for m in mem.store.all_media() if Path(m.path).name == FACE.name)


def said(mem: lifelog.Memory, episode_ids: list[str]) -> str:
    rows = mem.store.episodes(" OR ".join(f"episode_id = '{e}'" for e in episode_ids), columns=["transcript"])
    return " ".join(r["transcript"] for r in rows)


def test_two_speakers_get_two_voices_and_segments_of_their_own(library) -> None:
    mem, _ = library
    talk = voices_of(mem, Path(CONVERSATION).name)
    assert len(talk) == 2 and {v["speaker"] for v in talk} == {0, 1}
    assert talk[0]["person_id"] and talk[0]["person_id"] != talk[1]["person_id"]  # two people, never one
    # the transcript is cut where the speaker changes: each voice has its own segments, none shared
    a, b = (set(v["episode_ids"]) for v in talk)
    assert a and b and not a & b
    jersey = next(v for v in talk if "New Jersey" in said(mem, v["episode_ids"]))
    other = next(v for v in talk if v is not jersey)
    assert "New Jersey" not in said(mem, other["episode_ids"])
    assert len(voices_of(mem, Path(MONOLOGUE).name)) == 1  # one voice, one speaker
    voice_people = [p for p in mem.people() if p.n_faces == 0]
    assert len(voice_people) == 5 and all(p.label.startswith("unnamed voice") for p in voice_people)


def test_a_stereo_files_channels_are_its_speakers(library) -> None:
    mem, _ = library
    # left: 4.7 s of speech, a voice of its own; right: 2.4 s, under MIN_VOICE_S (too little for a vector)
    (left,) = voices_of(mem, Path(STEREO).name)
    assert left["speaker"] == 0 and left["person_id"] and left["seconds"] > 4
    words = said(mem, left["episode_ids"])
    assert "curtain" in words and "horizon" not in words  # its own channel's line, not the other's


def test_a_face_on_screen_while_a_voice_speaks_is_proposed_as_theirs(library) -> None:
    mem, _ = library
    narrator = voices_of(mem, Path(NARRATED).name)
    assert len(narrator) == 1
    proposals = mem.link_proposals(narrator[0]["person_id"])
    faces_there = {f["person_id"] for f in mem.store.table("faces").search().limit(None).to_list()
                   if f["media_id"] == narrator[0]["media_id"]}
    assert proposals and proposals[0][0].person_id in faces_there and "on screen in" in proposals[0][1]


def test_naming_a_voice_changes_the_answer_then_a_face_and_a_voice_are_one_person(library) -> None:
    mem, _ = library
    talk = voices_of(mem, Path(CONVERSATION).name)
    jersey = next(v for v in talk if "New Jersey" in said(mem, v["episode_ids"]))
    other = next(v for v in talk if v is not jersey)
    # before anyone is named, the line about Texas is the answer, whoever said it (the other voice did)
    before = mem.ask("What did Sam say about Texas?")
    assert not before.abstained and before.citations[0].episode_id in other["episode_ids"], before.text

    mem.name_person(jersey["person_id"], "Sam")
    mem.name_person(other["person_id"], "Anna")
    assert mem.speakers() == ["Anna", "Sam"]
    assert mem.ask("What did Sam say about Texas?").abstained  # Sam never says it: not Anna's line
    anna = mem.ask("What did Anna say about Texas?")
    assert not anna.abstained and anna.citations[0].episode_id in other["episode_ids"], anna.text
    answer = mem.ask("What did Sam say about New Jersey?")
    assert not answer.abstained and "New Jersey" in answer.text, answer.text
    assert answer.citations[0].episode_id in jersey["episode_ids"]  # Sam's segment, not Anna's
    assert mem.ask("What did Anna say about New Jersey?").abstained  # Anna never mentions it
    heard = mem.ask("When did I last hear Anna?")
    assert heard.text.startswith("Last heard Anna") and heard.citations[0].episode_id in other["episode_ids"]
    assert mem.ask("How often did I talk to Sam?").text.startswith("1 time")  # one conversation, many turns
    talked = mem.ask("Who was I talking to?")
    assert "Anna" in talked.text and "Sam" in talked.text, talked.text

    # link: Sam's voice and the face in the photo are one person; the name stays on both
    face = next(p for p in mem.people() if p.n_faces > 0
                and {f["media_id"] for f in mem.person_faces(p.person_id)} == {photo_id(mem)})
    merged = mem.merge_people(face.person_id, "Sam")
    assert merged.name == "Sam" and merged.n_faces == 1
    assert [v["voice_id"] for v in mem.person_voices(face.person_id)] == [jersey["voice_id"]]
    seen = mem.ask("When did I last see Sam?")
    assert not seen.abstained and seen.citations[0].path.endswith(FACE.name), seen.text
    again = mem.ask("What did Sam say about New Jersey?")
    assert not again.abstained and again.citations[0].episode_id in jersey["episode_ids"], again.text


def test_splitting_a_voice_off_a_person_takes_the_name_off_its_words(library) -> None:
    mem, _ = library  # after the test above: Sam is the photo's face and the New Jersey voice
    sam = next(p for p in mem.people() if p.name == "Sam")
    (jersey,) = mem.person_voices(sam.person_id)
    with pytest.raises(ValueError):  # faces and voices are split apart, never in one go
        mem.split_person(sam.person_id, [jersey["voice_id"], mem.person_faces(sam.person_id)[0]["face_id"]])
    new = mem.split_person(sam.person_id, [jersey["voice_id"]])  # a wrong link, undone
    assert new.name == "" and new.n_faces == 0 and new.label.startswith("unnamed voice")
    assert [v["voice_id"] for v in mem.person_voices(new.person_id)] == [jersey["voice_id"]]
    assert mem.person_voices(sam.person_id) == [] and len(mem.person_faces(sam.person_id)) == 1
    segments = mem.store.episodes(" OR ".join(f"episode_id = '{e}'" for e in jersey["episode_ids"]), columns=["people"])
    assert segments and all("Sam" not in (r["people"] or []) for r in segments)  # no longer Sam's words
    assert not mem.ask("When did I last see Sam?").abstained  # the face is still Sam
    mem.name_person(new.person_id, "Lee")
    answer = mem.ask("What did Lee say about New Jersey?")
    assert not answer.abstained and answer.citations[0].episode_id in jersey["episode_ids"], answer.text
    with pytest.raises(ValueError):  # a voice-only person cannot give away its only voice
        mem.split_person(new.person_id, [jersey["voice_id"]])


def test_forgetting_a_person_forgets_their_face_and_voice(library) -> None:
    mem, _ = library
    talk = voices_of(mem, Path(CONVERSATION).name)
    anna = next(v for v in talk if "New Jersey" not in said(mem, v["episode_ids"]))
    report = mem.forget_person("Anna")
    assert report.people == ["Anna"]
    assert not [v for v in mem.store.table(VOICES_TABLE).search().limit(None).to_list()
                if v["voice_id"] == anna["voice_id"]]
    assert all("Anna" not in (r["people"] or []) for r in mem.store.episodes("scale = 'segment'", columns=["people"]))
    assert "Anna" not in [p.name for p in mem.people(include_hidden=True)]
