"""The agent on a small library held in memory: typed answers, abstention, order and count, local
times. `Library` implements the `Retriever` interface the agent reads through, with a bag-of-words
embedder, so these tests need no model and no database and run in well under a second each. The
real path (MiniLM, LanceDB) is exercised by tests/test_end_to_end.py and `lifelog eval`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from lifelog.agent import answer_question
from lifelog.schema import Filters, Hit
from lifelog.settings import Settings

NOW = datetime(2025, 6, 15, 10, 0, tzinfo=timezone(timedelta(hours=1)))
STOP = set("a an the i my me we of in on at to for and or is was were did do what which who where when how".split())
DIM = 512


def bag(text: str) -> np.ndarray:
    """A unit vector of hashed, crudely stemmed words: cosine is word overlap."""
    v = np.zeros(DIM, np.float32)
    for w in re.findall(r"[\w']+", text.lower()):
        if w not in STOP and len(w) > 1:
            v[int(hashlib.md5(w[:5].encode()).hexdigest(), 16) % DIM] += 1.0
    n = float(np.linalg.norm(v))
    return v / n if n else v


@dataclass
class Library:
    """An in-memory `Retriever` over a list of episodes."""

    episodes: list[Hit]
    # bag-of-words cosines run lower than MiniLM's: the cut-offs are set for this embedder
    settings: Settings = field(default_factory=lambda: Settings(home=Path("/nonexistent"), sufficient_score=0.4,
                                                                keyword_floor=0.2))
    faces: dict[str, list[str]] = field(default_factory=dict)

    def _where(self, h: Hit, filters: Filters, scale: str | None) -> bool:
        if scale and h.scale != scale:
            return False
        if filters.kinds and h.kind not in filters.kinds:
            return False
        if filters.place and filters.place.lower() not in h.place.lower():
            return False
        if filters.media_id and h.media_id != filters.media_id:
            return False
        if filters.start and h.end < filters.start or filters.end and h.start >= filters.end:
            return False
        return filters.admits(h)

    def search(self, text, *, filters=None, scale="segment", limit=None, min_score=None):
        filters = filters or Filters()
        q = bag(text)
        qwords = {w[:5] for w in re.findall(r"[\w']+", text.lower()) if w not in STOP}
        out = []
        for h in self.episodes:
            if not self._where(h, filters, scale):
                continue
            body = f"{h.title} {h.text} {h.transcript} {h.ocr} {h.place}"
            sim = float(bag(body) @ q)
            kw = float(len(qwords & {w[:5] for w in re.findall(r"[\w']+", body.lower())}))
            score = min(1.0, sim + (0.25 * kw / (kw + 2.0) if kw else 0.0))
            if min_score is not None and score < min_score:
                continue
            out.append(replace(h, score=round(score, 4), similarity=round(sim, 4), keyword_score=kw))
        out.sort(key=lambda h: h.score, reverse=True)
        return out[:limit or self.settings.top_k]

    def browse(self, filters, *, scale="segment", limit=None):
        hits = sorted((h for h in self.episodes if self._where(h, filters, scale)), key=lambda h: h.start)
        return hits[:limit] if limit else hits

    def vocabulary(self):
        by = {}
        for w in sorted({w for h in self.episodes for w in re.findall(r"[^\W\d_]{5,}", f"{h.transcript} {h.ocr}".lower())}):
            by.setdefault(w[0], []).append(w)
        return by

    def tags(self):
        return sorted({t for h in self.episodes for t in h.tags})

    def hit(self, episode_id):
        return next((h for h in self.episodes if h.episode_id == episode_id), None)

    def places(self):
        return sorted({p.strip() for h in self.episodes for p in h.place.split(",") if p.strip()})

    def embed(self, texts, *, kind="passage"):
        return np.stack([bag(t) for t in texts]) if texts else np.zeros((0, DIM), np.float32)

    def chat(self, messages, *, max_tokens):
        return "I don't know."

    def has_vlm(self):
        return False

    def ask_visual(self, question, episode_ids):
        return None

    def last_seen(self, thing):
        return None

    def last_visit(self, place_words):
        return None

    def sightings(self, name, start=None, end=None):
        raise KeyError(name)

    def who_is(self, episode_id):
        return self.faces.get(episode_id, [])


_n = [0]


def ep(kind: str, when: str, *, offset_min: int | None = 60, path: str = "", place: str = "", transcript: str = "",
       ocr: str = "", title: str = "", device: str = "", duration_s: float = 0.0, time_source: str = "exif",
       start_s: float = 0.0, end_s: float = 0.0, media: str = "", tags: tuple[str, ...] = ()) -> Hit:
    """One segment; `when` is the local wall-clock time at the place of capture."""
    _n[0] += 1
    local = datetime.fromisoformat(when)
    start = (local - timedelta(minutes=offset_min or 0)).replace(tzinfo=timezone.utc) + timedelta(seconds=start_s)
    end = start + timedelta(seconds=max(end_s - start_s, 1.0))
    text = " ".join(x for x in (title, transcript, ocr, place) if x)
    return Hit(episode_id=f"e{_n[0]}", scale="segment", kind=kind, media_id=media or f"m{_n[0]}",
               path=f"/media/{path or f'file{_n[0]}'}", start=start, end=end, offset_start=start_s, offset_end=end_s or start_s,
               title=title, text=text, transcript=transcript, ocr=ocr, thumbnail="", place=place, lat=None, lon=None,
               score=1.0, similarity=1.0, keyword_score=0.0, utc_offset_min=offset_min, device=device,
               duration_s=duration_s, time_source=time_source, has_audio=kind != "photo", tags=tags)


def ask(lib: Library, question: str):
    return answer_question(lib, question, agent="adaptive", now=NOW)


@pytest.fixture
def trip() -> Library:
    """Two trips and a day at home, with receipts, voice notes and a long talk."""
    return Library([
        ep("photo", "2015-02-10T10:33:00", path="IMG_sign.jpg", place="Paris, Ile-de-France, France",
           title="Photo: street sign", ocr="Palais du LOUVRE / Musée du LOUVRE", device="Canon Canon PowerShot SX60 HS"),
        ep("audio", "2015-02-10T14:30:00", path="REC_talk.m4a", place="Paris, Ile-de-France, France", duration_s=900,
           transcript="The earliest book printed with movable types, the Gutenberg Bible, has never been surpassed.",
           start_s=452.0, end_s=469.0, media="talk"),
        ep("audio", "2015-02-10T14:30:00", path="REC_talk.m4a", place="Paris, Ile-de-France, France", duration_s=900,
           transcript="Printing differs from most of the arts and crafts in being comparatively modern.",
           start_s=20.0, end_s=35.0, media="talk"),
        ep("photo", "2016-12-30T19:55:00", offset_min=-480, path="IMG_receipt.jpg", place="Buena Park, California, United States",
           title="Photo: menu", ocr="CHO EUN / KOREAN RESTAURANT / BIBIM OCTOPUS  $13.99 / SUBTOTAL  $55.96 / TAX1  $4.48 / "
                                    "TOTAL  $60.44 / WIFI Password / 9PJz5i8n"),
        ep("audio", "2016-12-30T21:30:00", offset_min=-480, path="REC_vote.m4a", place="Buena Park, California, United States",
           transcript="The result of the vote: 331 in favour, 225 against.", duration_s=3, end_s=2.5),
        ep("photo", "2025-06-14T08:12:05", path="IMG_cat.jpg", place="Lisbon, Portugal", title="Photo: tabby cat",
           device="Lifelog Sample Phone 1"),
        ep("audio", "2025-06-14T19:05:00", path="REC_keys.m4a", place="Lisbon, Portugal", duration_s=13,
           transcript="I left my keys on the kitchen table, next to the blue mug. Dinner with Sam next Saturday at eight.",
           end_s=13),
        ep("photo", "2025-06-14T21:02:00", path="IMG_sunset.jpg", place="Cascais, Lisbon, Portugal", title="Photo: sunset, seashore"),
        ep("photo", "2024-11-15T09:30:00", offset_min=None, path="scan_0007.jpg", title="Photo: starfish on the sand",
           time_source="file"),
    ])


def test_where_was_i_on_a_date_names_the_place_not_a_quote(trip):
    a = ask(trip, "Where was I on the 10th of February 2015?")
    assert not a.abstained and a.text.startswith("Paris")
    assert {Path(c.path).name for c in a.citations} >= {"IMG_sign.jpg"}


def test_a_day_is_the_capture_places_own_day(trip):
    """21:30 on 30 December in California is 05:30 UTC on the 31st: still the 30th there."""
    a = ask(trip, "Which town was I in on 30 December 2016?")
    assert "Buena Park" in a.text
    assert "Buena Park" not in ask(trip, "Which town was I in on 31 December 2016?").text


def test_when_did_i_go_gives_the_dates(trip):
    a = ask(trip, "When did I go to Paris?")
    assert "10 Feb 2015" in a.text and not a.abstained


def test_offset_into_a_recording_is_a_player_time(trip):
    a = ask(trip, "How far into the talk did the speaker bring up the Gutenberg Bible?")
    assert "7:32" in a.text and a.citations[0].start_s == 452.0


def test_duration_is_the_files_length(trip):
    assert "15 min" in ask(trip, "How long is my recording of the talk about the Gutenberg Bible?").text


def test_device_is_read_from_the_file_and_the_make_is_not_repeated(trip):
    a = ask(trip, "What camera took my photos in Paris?")
    assert a.text.startswith("Canon PowerShot SX60 HS")


def test_a_total_is_the_total_row_not_the_first_line(trip):
    a = ask(trip, "How much did dinner at the Korean restaurant come to?")
    assert "$60.44" in a.text and "55.96" not in a.text.split("(")[0]


def test_a_labelled_value_is_read_after_its_label(trip):
    assert "9PJz5i8n" in ask(trip, "What was the Wi-Fi password on the receipt from the Korean restaurant?").text


def test_a_number_is_read_next_to_the_asked_word(trip):
    assert ask(trip, "How many votes against were there?").text.startswith("225")


def test_undated_file_is_not_given_a_capture_time(trip):
    a = ask(trip, "When did I photograph the starfish on the sand?")
    assert a.abstained and "file" in a.text and "copied" in a.text


def test_no_location_is_said_plainly(trip):
    a = ask(trip, "Where was the starfish picture taken?")
    assert a.abstained and "no location" in a.text


def test_a_place_inside_the_named_one_or_no_answer(trip):
    """"Where did I have lunch in Paris?" is not answered by "Paris"."""
    assert ask(trip, "Where did I have lunch in Paris?").abstained


def test_company_needs_a_named_face(trip):
    a = ask(trip, "Who did I have dinner with at the Korean restaurant?")
    assert a.abstained and "know who" in a.text
    trip.faces[trip.episodes[3].episode_id] = ["Anna"]
    assert ask(trip, "Who did I have dinner with at the Korean restaurant?").text.startswith("Anna")


def test_a_topic_that_is_not_in_the_evidence_is_declined(trip):
    """One shared word (Sam) is not an answer about football."""
    a = ask(trip, "What did Sam say about football?")
    assert a.abstained and "football" in a.text


def test_nothing_that_day_is_declined_not_widened(trip):
    a = ask(trip, "What did I say in my voice note on 15 June 2025?")
    assert a.abstained


def test_nonexistent_date_is_a_plain_answer(trip):
    a = ask(trip, "What did I do on 31 February 2025?")
    assert a.abstained and "no such date" in a.text


def test_earliest_ignores_file_dates(trip):
    a = ask(trip, "Which is the earliest picture I've got?")
    assert "IMG_sign.jpg" in a.text


def test_which_came_first(trip):
    a = ask(trip, "Which came first, the photo of the cat or the photo of the sunset?")
    assert a.text.lower().startswith("photo of the cat came first")


def test_what_was_said_in_a_voice_note_quotes_it(trip):
    a = ask(trip, "What did I say in the voice note in Lisbon?")
    assert "kitchen table" in a.text and "REC_keys.m4a" == Path(a.citations[0].path).name


def test_count_reads_the_whole_library_past_any_top_k():
    lib = Library([ep("photo", f"2020-05-{1 + i % 28:02d}T12:{i % 60:02d}:00", place="Rome, Lazio, Italy",
                      title="Photo: fountain") for i in range(300)])
    assert ask(lib, "How many photos did I take in Rome?").text.startswith("300 photos")


def test_order_is_over_the_whole_library():
    lib = Library([ep("photo", f"2020-{1 + i % 12:02d}-{1 + i % 27:02d}T12:00:00", title="Photo: fountain") for i in range(250)]
                  + [ep("photo", "2003-01-02T09:00:00", path="old.jpg", title="Photo: fountain")])
    assert "old.jpg" in ask(lib, "Which is the oldest photo?").text


@pytest.mark.skipif(not __import__("lifelog.lexicon").lexicon.available(), reason="WordNet not installed: make setup")
def test_a_class_finds_the_tags_that_are_kinds_of_it():
    """"Animals" is in no tag; "Egyptian cat" is a kind of animal (WordNet)."""
    lib = Library([ep("photo", "2021-03-01T10:00:00", path="cat.jpg", title="Photo: Egyptian cat", tags=("Egyptian cat",)),
                   ep("photo", "2021-03-02T10:00:00", path="lamp.jpg", title="Photo: lampshade", tags=("lampshade",))])
    a = ask(lib, "Did I see any animals?")
    assert not a.abstained and Path(a.citations[0].path).name == "cat.jpg"
    assert ask(lib, "Did I see a giraffe?").abstained


def test_a_word_is_also_searched_as_the_library_spells_it(trip):
    """Speech recognition wrote "Guttenberg"; the user asks for "Gutenberg"."""
    lib = Library([ep("audio", "2015-02-10T14:30:00", path="REC_talk.m4a", duration_s=900, start_s=452.0, end_s=469.0,
                      transcript="The earliest book printed with movable types, the Guttenberg Bible, has never been surpassed."),
                   ep("audio", "2015-02-10T14:30:00", path="REC_talk.m4a", duration_s=900, start_s=20.0, end_s=35.0,
                      transcript="Printing differs from most of the arts and crafts in being comparatively modern.")])
    a = ask(lib, "How far into the talk about books printed with movable types is Gutenberg mentioned?")
    assert "7:3" in a.text or "7:4" in a.text, a.text
    assert any("Guttenberg".lower() in str(s.hits).lower() for s in a.steps)
