"""The Python API: one `Memory` per library home, with the same verbs as the CLI.

`Memory` is the facade that wires the parts: the models (models/), the episodic store, the unit of
work that writes files (lifelog/writer.py), semantic and visual memory, and the agent, which reads
through the `lifelog.schema.Retriever` interface that `Memory` implements. Nothing imports it back.
The facade stays whole: each method is a few lines that hand one verb to the part that owns it,
and splitting it would scatter the public API over several classes.

    import lifelog
    mem = lifelog.open()                       # ~/.local/share/lifelog, bundled models
    mem.ingest(["~/Pictures/2025"])
    answer = mem.ask("where did I leave my keys?")
    print(answer.text, answer.citations[0].path, answer.citations[0].start_s)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

import models
from ingest.options import text_path
from lifelog import budget, consolidation, semantic, vocab
from lifelog import forget as forgetting
from lifelog.hits import fuse, hit_from_row
from lifelog.schema import Answer, Filters, Hit, ModelRow, Status
from lifelog.semantic import people as persons
from lifelog.semantic import places, things
from lifelog.settings import Settings, load_settings, object_store_options
from lifelog.sql import in_list
from lifelog.store import Store, VectorColumn
from lifelog.writer import FileWriter

# `min_score` left at this: the library's cut-off (`Settings.min_score`); None: no cut-off
DEFAULT = "default"


class Memory:
    """A person's memory: the store, the models that fill and read it, and the agent."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._vocab: dict[str, Any] = {}  # place names, tags and words, read once per ingest

    # --- models ------------------------------------------------------------------------------
    def spec(self, role: str) -> models.ModelSpec:
        return models.resolve(role, self.settings.profile, dict(self.settings.models))

    def model(self, role: str) -> Any:
        """The loaded wrapper for a role (loaded on first use, then cached for the process)."""
        return models.load(self.spec(role), self.settings.cache_dir, self.settings.device)

    def has_model(self, role: str) -> bool:
        spec = self.spec(role)
        return spec.family in models.LOADERS and spec.availability(self.settings.cache_dir)[0]

    def models_table(self, profiles: Sequence[str] | None = None) -> list[ModelRow]:
        """Every role's model in each profile, and whether it is available on this machine."""
        rows = []
        for profile in profiles or models.PROFILES:
            for role in models.ROLES:
                spec = models.resolve(role, profile, dict(self.settings.models) if profile == self.settings.profile else None)
                ok, reason = spec.availability(self.settings.cache_dir)
                if spec.source.kind == "none":
                    reason = spec.notes
                rows.append(ModelRow(
                    role=role, title=models.ROLE_TITLES[role], profile=profile, name=spec.name,
                    source=spec.source.describe(), available=ok, reason=reason, size_mb=spec.size_mb,
                    dim=spec.dim, licence=spec.licence, notes=spec.notes, active=profile == self.settings.profile,
                ))
        return rows

    def pull(self, profile: str, progress: Callable[[str], None] | None = None) -> list[Any]:
        from models.pull import pull_profile

        return pull_profile(profile, self.settings.cache_dir, progress=progress)

    # --- store -------------------------------------------------------------------------------
    def _columns(self) -> tuple[VectorColumn, VectorColumn]:
        text, image = self.spec("text_embed"), self.spec("image_text")
        return (VectorColumn("text_vector", text.name, int(text.dim or 0)),
                VectorColumn("image_vector", image.name, int(image.dim or 0)))

    @cached_property
    def store(self) -> Store:
        from lifelog.assets import Assets
        from lifelog.db import Database

        text, image = self._columns()
        database = Database(self.settings.db_path, storage_options=self.settings.storage_options(),
                            lock_dir=self.settings.home, refresh_s=self.settings.db_refresh_s)
        store = Store(database, text, image)
        store.assets = Assets(database, self.settings.home)
        return store

    @cached_property
    def writer(self) -> FileWriter:
        """Writes and forgets whole files across every table (the ingest `Sink`)."""
        return FileWriter(self.store)

    def _check_columns(self) -> None:
        stale = self.store.stale_columns()
        if stale:
            s = stale[0]
            raise RuntimeError(
                f"the library's {s.name} was made by {s.stored_model} ({s.stored_dim}-d) but the active profile "
                f"{self.settings.profile!r} uses {s.wanted_model} ({s.wanted_dim}-d). Run `lifelog reindex` to "
                f"recompute only that column from the stored text and keyframes (no re-ingest), or switch back."
            )

    # --- ingestion ---------------------------------------------------------------------------
    def ingest_options(self) -> Any:
        from ingest.options import IngestOptions

        return IngestOptions(
            **dict(self.settings.ingest),
            home=self.settings.home,
            profile=self.settings.profile,
            cache_dir=self.settings.cache_dir,
            model_overrides=tuple(sorted(self.settings.models.items())),
            device=self.settings.device,
            workers=self.settings.worker_count,
            visual_budget_tokens=self.settings.visual_budget_tokens,
            visual_chunk_frames=self.settings.visual_chunk_frames,
            object_store=tuple(sorted(object_store_options("s3://", self.settings.storage).items())),
        )

    def ingest(self, paths: Iterable[str | Path], *, progress: Callable[[Any], None] | None = None,
               stop: threading.Event | None = None, ray: str | None = None, ray_workers: int | None = None) -> Any:
        """Ingest files and folders; already known files are skipped. Returns a `BatchReport`.
        With `ray` (a cluster's address) the files are processed on its workers and written here
        (lifelog/cluster.py)."""
        from ingest.batch import ingest_paths

        self._check_columns()
        from ingest.remote import is_uri

        paths = [p if is_uri(p) else Path(p).expanduser() for p in map(str, paths)]  # s3://...: listed there
        missing = [str(p) for p in paths if isinstance(p, Path) and not p.exists()]
        if missing:
            raise FileNotFoundError(f"no such file or folder: {', '.join(missing)}")
        self.store.repair()  # a killed run's half-written file (under the lock: no one else is half-way)
        self.finish_forget()  # a forget a crash interrupted: finished before new files come in
        runner = None
        if ray:
            from lifelog.cluster import RayRunner

            runner = RayRunner(ray, uri=self.store.database.uri, storage_options=self.store.database.storage_options,
                               actors=ray_workers)
        report = ingest_paths(paths, self.writer, self.ingest_options(), progress=progress, stop=stop, runner=runner)
        with self.store.lock:  # a concurrent ingest's files count as new here too: consolidation is idempotent
            # every stored file that consolidation has not folded in: this run's, a concurrent ingest's,
            # and those of a run killed between its last write and its consolidation
            new = consolidation.pending(self.store, self._day_zone())
            if new:
                self.consolidate(new)
            self.store.refresh_if_changed()
        self._vocab.clear()
        self.last_budget = self.enforce_budget()  # over the storage budget: the oldest derived data goes
        return report

    def repair(self) -> int:
        """After a crash: drop half-written files' rows, finish a killed reindex's column swap
        clean-up, and bring the indexes up to date. Returns the files dropped."""
        with self.store.lock:
            dropped = self.store.repair()
            self.store.refresh_indexes()
        return dropped

    def _day_zone(self) -> Any:
        """The zone whose midnight separates days: the reference "now"'s, else this machine's."""
        return (self.settings.now or datetime.now().astimezone()).tzinfo

    def consolidate(self, new_media: Sequence[Any] | None = None) -> int:
        """Rebuild cross-file episodes (photo sessions, bursts, days) for the days new media touched,
        then semantic memory; one writer holds the library throughout."""
        with self.store.lock:
            created = self._consolidate(new_media)
            self.store.refresh_if_changed()
            return created

    def _consolidate(self, new_media: Sequence[Any] | None, semantic_memory: bool = True) -> int:
        store = self.store
        if new_media is None:
            new_media = store.all_media("status = 'ok'")
        created = consolidation.rebuild_days(store, new_media, self.ingest_options(), self._day_zone(),
                                             lambda: self.model("text_embed"))
        # semantic memory (people, visits, things) after the episodes are in place: "sleep-time" consolidation
        if created is not None and semantic_memory:  # False: forgetting rebuilds days and photo sessions only
            self.last_consolidation = semantic.consolidate(store, new_media)
        consolidation.mark(store, new_media)
        return created or 0

    def consolidate_semantic(self, *, detect_faces: bool = False) -> Any:
        """Fold every file into semantic memory again (`lifelog consolidate`); with detect_faces, run
        the face model on the stored keyframes of files that have no faces yet."""
        with self.store.lock:
            if detect_faces:
                report = semantic.consolidate(self.store, None, face_model=lambda: self.model("faces"),
                                              home=self.settings.home)
            else:
                report = semantic.consolidate(self.store, None)
            self.store.refresh_if_changed()
        return report

    # --- searching and asking ----------------------------------------------------------------
    def embed_query(self, text: str) -> np.ndarray:
        return self.model("text_embed").embed([text], kind="query")[0]

    def search(self, text: str, *, filters: Filters | None = None, scale: str | None = "segment",
               limit: int | None = None, min_score: float | None | str = DEFAULT, classes: bool = False) -> list[Hit]:
        """Hybrid search (text vectors + full-text) at one time scale, best first.

        Hits scoring under `min_score` (default: `Settings.min_score`) are dropped: a search for
        something that is not in memory returns nothing rather than the nearest unrelated episode.
        Pass min_score=None for raw ranking. With `classes`, an episode tagged with a kind of a thing
        the words name ("coffee" finds the "espresso", "animals" the "Egyptian cat": WordNet, as the
        agent reads them) counts as a match at the cut-off even where the vectors are far apart.
        """
        if classes:
            from lifelog.rounds import with_classes

            floor = self.settings.min_score if min_score == DEFAULT else min_score
            hits = self.search(text, filters=filters, scale=scale, limit=limit, min_score=floor)
            return hits if floor is None else with_classes(self, text, hits, filters=filters or Filters(),
                                                           scale=scale, limit=limit or self.settings.top_k,
                                                           floor=float(floor))  # type: ignore[arg-type]
        self._check_columns()
        if min_score == DEFAULT:
            min_score = self.settings.min_score
        filters = filters or Filters()
        limit = limit or self.settings.top_k
        where = filters.where(scale)
        pool = max(limit * 4, 20)
        query = self.embed_query(text)
        # a window of weeks keeps few of a lifetime's rows: filter first (lifelog/indexes.py measured why)
        short = bool(filters.start and filters.end and filters.end - filters.start <= timedelta(days=62))
        vector_rows = self.store.vector_search(query, where=where, limit=pool, selective=short)
        keyword_rows = self.store.text_search(text, where=where, limit=pool)
        hits = fuse(query, vector_rows, keyword_rows, self.store.media_info(vector_rows + keyword_rows),
                    self.settings.home, limit=pool, min_score=min_score)  # type: ignore[arg-type]
        return [h for h in hits if filters.admits(h)][:limit]

    def search_by_image(self, image: Any, *, filters: Filters | None = None, scale: str | None = "segment",
                        limit: int | None = None, min_score: float | None = 0.7) -> list[Hit]:
        """Episodes that look like an example picture (a PIL image or a path), by image vectors.

        With the bundled profile the image vector is the label-based fallback (it finds pictures
        of the same ImageNet things, not the same scene); the full profile's CLIP does better.
        """
        from PIL import Image, ImageOps

        self._check_columns()
        if not isinstance(image, Image.Image):
            import ingest.probe  # noqa: F401 - registers Pillow's HEIC opener: an iPhone's photo as ingestion reads it
            image = ImageOps.exif_transpose(Image.open(image))
        filters = filters or Filters()
        vector = self.model("image_text").embed_images([image.convert("RGB")])[0]
        rows = self.store.vector_search(vector, column="image_vector",
                                        where=filters.where(scale), limit=limit or self.settings.top_k)
        media = self.store.media_info(rows)
        hits = [hit_from_row(r, media, self.settings.home, score=1.0 - float(r["_distance"]),
                             similarity=1.0 - float(r["_distance"])) for r in rows]
        return [h for h in hits if (min_score is None or h.score >= min_score) and filters.admits(h)]

    def browse(self, filters: Filters, *, scale: str | None = "segment", limit: int | None = None) -> list[Hit]:
        """Every episode that matches the filters, in time order (no relevance ranking), over the
        whole library; `limit` keeps the first ones in time, after sorting."""
        rows = self.store.episodes(filters.where(scale), limit=None,
                                   columns=[c for c in self.store.episode_table.schema.names if not c.endswith("_vector")])
        rows.sort(key=lambda r: r["start"])
        media = self.store.media_info(rows)
        hits = [h for h in (hit_from_row(r, media, self.settings.home) for r in rows) if filters.admits(h)]
        return hits[:limit] if limit else hits

    def places(self) -> list[str]:
        """Every place name (and each part of it: town, region, country) that episodes carry.

        Read once per process and after each ingest, not per question, like `tags` and `vocabulary`."""
        return self._read("places", vocab.place_names)

    def tags(self) -> list[str]:
        """Every image tag that episodes carry."""
        return self._read("tags", vocab.tag_names)

    def vocabulary(self) -> dict[str, list[str]]:
        """The words of transcripts and picture text (5 letters or more), by first letter."""
        return self._read("vocabulary", vocab.word_index)

    def _read(self, name: str, scan: Callable[[Store], Any]) -> Any:
        if name not in self._vocab:
            self._vocab[name] = scan(self.store)
        return self._vocab[name]

    def hit(self, episode_id: str) -> Hit | None:
        """One episode as a hit (score 1: found by what it is, not by a search)."""
        row = self.store.episode(episode_id)
        return hit_from_row(row, self.store.media_info([row]), self.settings.home, score=1.0) if row else None

    def embed(self, texts: Sequence[str], *, kind: str = "passage") -> np.ndarray:
        """Text vectors from the profile's text embedder (kind "query" for a question)."""
        return self.model("text_embed").embed(list(texts), kind=kind)

    def chat(self, messages: list[dict], *, max_tokens: int) -> str:
        return self.model("llm").chat(messages, max_tokens=max_tokens)

    def has_vlm(self) -> bool:
        return self.spec("caption").family == "hf-vlm"

    def visual_encoder(self) -> Any:
        """The StreamMem encoder over the profile's VLM, or None where the profile has none."""
        from lifelog import visual  # loads torch

        return visual.encoder(self.spec("caption"), cache_dir=self.settings.cache_dir, device=self.settings.device,
                              budget=self.settings.visual_budget_tokens, chunk_frames=self.settings.visual_chunk_frames)

    def ask_visual(self, question: str, episode_ids: Sequence[str]) -> Any:
        """The VLM's answer over the stored visual memories of some episodes (`lifelog.visual`)."""
        from lifelog import visual

        return visual.ask_visual(self.store, self.visual_encoder(), question, episode_ids)

    def ask(self, question: str, *, agent: str | None = None, now: datetime | None = None) -> Answer:
        """Answer a question from memory with citations, or abstain."""
        from lifelog.agent import answer_question

        self._check_columns()
        return answer_question(self, question, agent=agent or self.settings.agent,
                               now=now or self.settings.now or datetime.now().astimezone())

    # --- browsing ------------------------------------------------------------------------------
    def episode(self, episode_id: str) -> dict | None:
        return self.store.episode(episode_id)

    def children(self, episode_id: str) -> list[dict]:
        return self.store.children(episode_id)

    def media_file(self, media_id: str) -> Path:
        """The file behind a media id; only files in the library can be reached this way."""
        record = self.store.media(media_id)
        if record is None or record.status != "ok":
            raise KeyError(f"no media {media_id!r} in this library")
        from ingest.remote import download, is_uri

        if is_uri(record.path):  # ingested from a bucket: a copy cached here the first time it is shown
            cached = self.settings.home / "cache" / "media" / (media_id + Path(record.path).suffix.lower())
            if not cached.is_file():
                download(record.path, object_store_options(record.path, self.settings.storage), cached)
            return cached
        return text_path(record.path)  # a name that was not UTF-8 is stored with \xNN escapes

    def thumbnail_path(self, relative: str) -> Path | None:
        if not relative:
            return None
        path = (self.settings.home / relative).resolve()
        home = self.settings.home.resolve()
        if home not in path.parents or not path.is_file():
            return None
        return path

    def failures(self) -> list[tuple[str, str]]:
        return [(m.path, m.error) for m in self.store.all_media("status = 'failed'")]

    def status(self) -> Status:
        counts = self.store.counts()
        disk = {  # a remote library's database is the bucket's to count; its pictures here are a cache
            **({} if self.settings.remote else {"database": _du(self.settings.db_path)}),  # type: ignore[arg-type]
            ("pictures cached" if self.settings.remote else "thumbnails"): _du(self.settings.thumbs_dir),
            "models": _du(self.settings.cache_dir),
        }
        stale = [f"{s.name}: {s.stored_model} -> {s.wanted_model}" for s in self.store.stale_columns()]
        status = Status(home=str(self.settings.home), profile=self.settings.profile, disk_bytes=disk,
                        stale_columns=stale, **counts)
        if self.settings.remote:  # where the library itself lives; the home holds a cache of its pictures
            status.extra["database"] = str(self.settings.db_path)
        return status

    def reindex(self, progress: Callable[[int, int], None] | None = None) -> list[str]:
        """Recompute the vector columns whose model changed, from stored text and keyframes."""
        from PIL import Image

        done = []
        text_col, image_col = self._columns()
        for stale in self.store.stale_columns(include_unfinished=True):
            if stale.name == "text_vector":
                embedder = self.model("text_embed")

                def compute(rows: list[dict]) -> np.ndarray:
                    return embedder.embed([r["text"] or "" for r in rows])

                self.store.reembed(text_col, compute, progress=progress)
            else:
                embedder = self.model("image_text")

                def compute(rows: list[dict]) -> np.ndarray:
                    out = np.zeros((len(rows), image_col.dim), np.float32)
                    have = [i for i, r in enumerate(rows) if r["keyframe"] and (self.settings.home / r["keyframe"]).is_file()]
                    if have:
                        images = [Image.open(self.settings.home / rows[i]["keyframe"]).convert("RGB") for i in have]
                        out[have] = embedder.embed_images(images)
                    return out

                self.store.reembed(image_col, compute, progress=progress)
            done.append(stale.name)
        if done:
            self.store.refresh_indexes()
        return done

    # --- semantic memory: people, places, things -----------------------------------------------
    def people(self, *, include_hidden: bool = False) -> list[persons.Person]:
        """Every person found by face, the most often seen first."""
        return persons.list_people(self.store, include_hidden=include_hidden)

    def name_person(self, ref: str, name: str) -> persons.Person:
        """Name a person (by id, id suffix or current name); answers then use the name."""
        return self._edit_people(persons.name_person, ref, name)

    def hide_person(self, ref: str, hidden: bool = True) -> persons.Person:
        return self._edit_people(persons.hide_person, ref, hidden)

    def merge_people(self, keep: str, other: str) -> persons.Person:
        return self._edit_people(persons.merge_people, keep, other)

    def split_person(self, ref: str, ids: Sequence[str]) -> persons.Person:
        """Move some of a person's faces, or some of their voices, to a new unnamed person (ids from
        `person_faces` or `person_voices`; one kind per split)."""
        from lifelog.semantic import voices

        ids = list(ids)
        voice_ids = {v["voice_id"] for v in voices.person_voices(self.store, ref)}
        if ids and all(i in voice_ids for i in ids):
            return self._edit_people(voices.split_voices, ref, ids)
        if any(i in voice_ids for i in ids):
            raise ValueError("split faces and voices apart: give only face ids or only voice ids")
        return self._edit_people(persons.split_person, ref, ids)

    def _edit_people(self, edit: Callable[..., persons.Person], *args: Any) -> persons.Person:
        """One people edit as one writer: read, change and write back under the lock (a concurrent
        consolidation cannot write its copy of the people table over a rename), then re-index."""
        with self.store.lock:
            person = edit(self.store, *args)
            self.store.refresh_if_changed()
        return person

    def person_faces(self, ref: str) -> list[dict]:
        return persons.person_faces(self.store, ref)

    def hearings(self, name: str, start: datetime | None = None, end: datetime | None = None) -> list[persons.Sighting]:
        """Each moment a person was heard speaking (their voice), in time order."""
        from lifelog.semantic import voices

        return voices.hearings(self.store, name, start, end)

    def link_proposals(self, ref: str) -> list[tuple[persons.Person, str]]:
        """People who may be the same as a voice: seen on screen while it speaks, with why."""
        from lifelog.semantic import voices

        return voices.link_proposals(self.store, ref)

    def talkers(self, start: datetime | None = None, end: datetime | None = None) -> list[tuple[str, str]]:
        """Who spoke in a span: (person's label, a segment they speak in), in time order."""
        from lifelog.semantic import voices

        return voices.talkers(self.store, start, end)

    def speakers(self) -> list[str]:
        """The names of the people the library knows by voice (visible, named)."""
        from lifelog.db import VOICES_TABLE

        if not self.store.has_table(VOICES_TABLE):
            return []
        ids = {r["person_id"] for r in self.store.table(VOICES_TABLE).search().where("person_id != ''")
               .select(["person_id"]).limit(None).to_list()}
        return sorted(p.name for p in self.people() if p.person_id in ids and p.name)

    def person_voices(self, ref: str) -> list[dict]:
        """A person's voices: each recording they speak in, their turns and the segments they say."""
        from lifelog.semantic import voices

        return voices.person_voices(self.store, ref)

    def who_is(self, episode_id: str) -> list[str]:
        return persons.who_is(self.store, episode_id)

    def sightings(self, name: str, start: datetime | None = None, end: datetime | None = None) -> list[persons.Sighting]:
        return persons.sightings(self.store, name, start, end)

    def visits(self) -> list[places.Visit]:
        return places.visits(self.store)

    def last_visit(self, place_words: str) -> places.Visit | None:
        return places.last_visit(self.store, place_words)

    def last_seen(self, thing: str) -> things.ThingRecord | None:
        return things.last_seen(self.store, thing)

    def thing_history(self, thing: str) -> list[things.ThingRecord]:
        return things.thing_history(self.store, thing)

    # --- forgetting and the storage budget (lifelog/forget.py, lifelog/budget.py) ----------------
    def forget(self, media_id: str) -> forgetting.ForgetReport:
        """Forget one file everywhere (`forget_files`)."""
        return self.forget_files([media_id])

    def forget_files(self, items: Iterable[str | Path], *, dry_run: bool = False) -> forgetting.ForgetReport:
        """Forget files (paths, folders: every file under them, or media ids) from every table and
        from disk: episodes, the days and photo sessions they were part of (rebuilt from the other
        files), faces, people, things, visits, visual memory, thumbnails. dry_run: only say what."""
        return self._forgotten(forgetting.forget_files(self.store, self.settings.home, list(items), self._rebuild_days,
                                                   dry_run=dry_run))

    def forget_span(self, start: datetime, end: datetime, *, dry_run: bool = False) -> forgetting.ForgetReport:
        """Forget every file captured in [start, end) (or recording through its start)."""
        return self._forgotten(forgetting.forget_span(self.store, self.settings.home, start, end, self._rebuild_days,
                                                  dry_run=dry_run))

    def forget_person(self, ref: str, *, dry_run: bool = False) -> forgetting.ForgetReport:
        """Forget a person (id, id suffix or name): their faces, record, crops and name in episodes."""
        return self._forgotten(forgetting.forget_person(self.store, self.settings.home, ref, self._rebuild_days,
                                                    dry_run=dry_run))

    def finish_forget(self) -> forgetting.ForgetReport | None:
        """Finish a forget that a crash interrupted (also done by the next forget and ingest)."""
        if forgetting.pending(self.settings.home) is None:
            return None
        return self._forgotten(forgetting.finish_pending(self.store, self.settings.home, self._rebuild_days))

    def _forgotten(self, report: Any) -> Any:
        if report is not None and not report.dry_run:
            self._vocab.clear()  # place names and tags are read again
        return report

    def _rebuild_days(self, media_ids: list[str]) -> None:
        """Make the days and photo sessions of these files anew (no semantic memory: forgetting
        recounts people, visits and things itself)."""
        media = self.store.all_media(in_list("media_id", media_ids))
        if media:
            with self.store.lock:
                self._consolidate(media, semantic_memory=False)

    def budget_status(self) -> budget.BudgetStatus:
        """The storage budget, what the library's derived data uses, and what was dropped so far."""
        return budget.status(self.settings.home, budget.budget_bytes(self.settings.budget_gb))

    def enforce_budget(self) -> budget.BudgetReport | None:
        """Degrade the oldest media's keyframes, thumbnails, then visual memory until the library
        fits its budget (run after each ingest); None without a budget."""
        limit = budget.budget_bytes(self.settings.budget_gb)
        if self.settings.remote:  # a bucket's size is its owner's to manage; the budget is this disk's
            return None
        return None if limit is None else budget.enforce(self.store, self.settings.home, limit)


def _du(path: Path) -> int:
    if not path.exists():
        return 0
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def open(home: str | Path | None = None, *, profile: str | None = None, **settings: Any) -> Memory:
    """Open (or create) the library at `home` (default: $LIFELOG_HOME or the XDG data dir)."""
    return Memory(load_settings({"home": Path(home).expanduser() if home else None, "profile": profile, **settings}))
