"""The unit of work for one file: its rows in every table of the library, written in an order that
makes the media row the commit marker, and forgotten from every table together.

    writer = FileWriter(store)
    writer.write(result)      # episodes, visual memory, faces and voices, then the media row
    writer.forget(media_id)

`FileWriter` is the `ingest.records.Sink` that batch ingestion writes through. A crash before the
media row leaves rows that `Store.remove_orphans` drops on the next open; after it, the file is
whole. Semantic tables derived across files (people, visits, things) are consolidation's.
"""

from __future__ import annotations

from ingest.records import FileResult, MediaRecord
from lifelog.db import CONSOLIDATED_TABLE, FACES_TABLE, THINGS_TABLE, VISITS_TABLE, VISUAL_TABLE, VOICES_TABLE
from lifelog.semantic import people, places, things, voices
from lifelog.sql import quote
from lifelog.store import Store


class FileWriter:
    """Writes and forgets whole files across the episodic, semantic and visual tables."""

    def __init__(self, store: Store):
        self.store = store

    # --- the Sink interface -------------------------------------------------------------------
    def known(self, media_id: str) -> MediaRecord | None:
        return self.store.known(media_id)

    def write(self, result: FileResult) -> None:
        """Episodes first, then visual memory and faces, then the media row (the commit marker)."""
        store, media = self.store, result.media
        with store.lock:
            store.replace_episodes(media.media_id, result.episodes)
            if result.visual is not None or store.has_table(VISUAL_TABLE):
                from lifelog import visual  # loads torch: only when there is visual memory

                visual.delete(store, media.media_id)
                if result.visual is not None:
                    visual.save_video(store, media.media_id, result.visual.video, result.visual.events)
            people.write_faces(store, media, result.faces)
            voices.write_voices(store, media, result.voices)
            if store.assets is not None:  # its pictures: here already, or sent by a Ray worker
                store.assets.put(media.media_id, result.assets)
            for stale in store.commit_media(media):  # a changed file replaces its old version
                self.forget(stale)

    def write_failure(self, media: MediaRecord) -> None:
        self.store.write_failure(media)

    def note_path(self, media_id: str, path: str) -> None:
        self.store.note_path(media_id, path)

    # --- forgetting -----------------------------------------------------------------------------
    def forget(self, media_id: str) -> None:
        """Remove one file's own rows: visual memory, faces (their people recounted), sightings of
        things, its place in visits, episodes and media row. Days and photo sessions that span files
        are rebuilt by the caller's consolidation (`lifelog.forget` does all of it, crash-safe)."""
        store = self.store
        with store.lock:
            if store.has_table(VISUAL_TABLE):
                from lifelog import visual

                visual.delete(store, media_id)
            if store.has_table(FACES_TABLE):
                persons = people.people_of_media(store, [media_id])
                store.table(FACES_TABLE).delete(f"media_id = {quote(media_id)}")
                if store.has_table(VOICES_TABLE):
                    store.table(VOICES_TABLE).delete(f"media_id = {quote(media_id)}")
                people.recount_people(store, persons)
            if store.has_table(THINGS_TABLE):
                things.forget_sightings(store, [media_id], things.things_of_media(store, [media_id]))
            if store.has_table(VISITS_TABLE):
                places.drop_from_visits(store, places.visits_of_media(store, [media_id]), [media_id])
            if store.has_table(CONSOLIDATED_TABLE):
                store.table(CONSOLIDATED_TABLE).delete(f"media_id = {quote(media_id)}")
            store.delete_media(media_id)
