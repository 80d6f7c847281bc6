"""A file's pictures (thumbnail, keyframes, face crops) wherever its library lives.

Records name them by a path relative to the home (`thumbs/<media_id>/thumb.jpg`), and readers open
`<home>/thumbs/<media_id>/...`. For a local library those files are the pictures. For a library
on object storage (`db_uri = "s3://..."`) the pictures are rows of its `assets` table (media id,
name, bytes), and `<home>/thumbs/` on each machine is a cache that `ensure` fills on first read.

Why a table in the same database, not objects beside it: the pictures then share the library's
one URI, credentials and commit protocol. They are written in the file's unit of work before its
media row (the commit marker: a killed write leaves rows that `Store.repair` drops, never a media
row without its pictures), forgotten and purged with the file's other rows, and listed by no
second mechanism. A thumbnail is 20-60 KB and a file has a handful: small rows for Lance.

    assets = Assets(database, home)
    assets.put(media_id)             # the pictures ingestion left in <home>/thumbs/<media_id>/
    assets.put(media_id, {"thumb.jpg": b"..."})   # or bytes a Ray worker sent
    assets.ensure([media_id, ...])   # remote: fetch what this machine has not cached yet
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from lifelog.sql import in_list, quote

ASSETS_TABLE = "assets"
# a cache folder holding this file was filled from the assets table (all of the file's pictures)
CACHED = ".cached"


def assets_schema() -> pa.Schema:
    return pa.schema([
        pa.field("asset_id", pa.string()),  # <media_id>/<name>
        pa.field("media_id", pa.string()),
        pa.field("name", pa.string()),  # a path inside thumbs/<media_id>/, forward slashes
        pa.field("data", pa.large_binary()),
    ])


def gather(folder: Path) -> dict[str, bytes]:
    """Every file under a media's pictures folder, by its path inside it (the cache marker left out)."""
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != CACHED}


def write_folder(folder: Path, files: Mapping[str, bytes], *, cached: bool = False) -> None:
    """Write pictures into a media's folder, each file whole (a temporary file renamed into place)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        target = (folder / name).resolve()
        if folder.resolve() not in target.parents:
            raise ValueError(f"picture name {name!r} leaves its folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    if cached:
        (folder / CACHED).touch()


class Assets:
    """The pictures of a library's files: a folder per file, and for a remote library a table too."""

    def __init__(self, database: Any, home: Path):
        self.database = database
        self.home = Path(home)
        self.remote = bool(database.remote)

    def folder(self, media_id: str) -> Path:
        return self.home / "thumbs" / media_id

    def put(self, media_id: str, files: Mapping[str, bytes] | None = None) -> None:
        """Store a file's pictures: `files` (from another machine) or those in its folder here.
        Remote: one commit of the file's rows, replacing an earlier write's; the caller holds the lock."""
        folder = self.folder(media_id)
        if files is not None:
            write_folder(folder, files)
        if not self.remote:
            return
        from lifelog.db import replace

        data = dict(files) if files is not None else gather(folder)
        rows = pa.Table.from_pylist(
            [{"asset_id": f"{media_id}/{name}", "media_id": media_id, "name": name, "data": blob}
             for name, blob in sorted(data.items())], schema=assets_schema())
        replace(self._table(), "asset_id", rows, f"media_id = {quote(media_id)}")
        if folder.is_dir():  # what ingestion left here is this machine's cache of them
            (folder / CACHED).touch()

    def ensure(self, media_ids: Iterable[str]) -> None:
        """Remote: bring the pictures of these files to this machine's cache, in one query for
        those it lacks. Local: nothing to do."""
        if not self.remote:
            return
        missing = sorted({m for m in media_ids if m and not (self.folder(m) / CACHED).exists()})
        if not missing or not self.database.has_table(ASSETS_TABLE):
            return
        by_media: dict[str, dict[str, bytes]] = {m: {} for m in missing}
        for row in self._table().search().where(in_list("media_id", missing)).limit(None).to_list():
            by_media[row["media_id"]][row["name"]] = row["data"]
        for media_id, files in by_media.items():
            if files:  # a file without pictures (a failed one) is asked again later: it costs a query only
                write_folder(self.folder(media_id), files, cached=True)

    def delete(self, media_ids: Iterable[str]) -> None:
        """Forget files' pictures: their folders here and, remote, their rows (the caller holds the lock)."""
        ids = sorted(set(media_ids))
        for media_id in ids:
            shutil.rmtree(self.folder(media_id), ignore_errors=True)
        if self.remote and ids and self.database.has_table(ASSETS_TABLE):
            self._table().delete(in_list("media_id", ids))

    def keep_only(self, media_ids: set[str]) -> None:
        """Remote: drop stored pictures of files that are not in the library (a killed write's)."""
        if not self.remote or not self.database.has_table(ASSETS_TABLE):
            return
        table = self._table()
        stray = sorted({r["media_id"] for r in table.search().select(["media_id"]).limit(None).to_list()} - media_ids)
        if stray:
            table.delete(in_list("media_id", stray))

    def _table(self) -> Any:
        return self.database.table(ASSETS_TABLE, assets_schema())
