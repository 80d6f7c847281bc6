"""Inputs in object storage: `lifelog ingest s3://bucket/footage/` (with or without a Ray cluster).

The objects under a prefix are listed like a folder's files (supported media types, hidden names
passed over, in name order); each is copied to a local temporary file named like it, with the
object's modification time (a photo without capture metadata is dated by it, as a local file
is), ingested, and removed. Records keep the object's URI as the file's path.

    options = {"aws_endpoint": "http://127.0.0.1:9000", ...}   # LanceDB's storage_options names
    uris = list_media("s3://bucket/footage/", options)
    with fetched(uris[0], options, Path("/tmp")) as local:
        ...
    download(uri, options, home / "cache" / "media" / name)    # a reader's copy, to play a clip
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any

_URI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def is_uri(path: object) -> bool:
    """An object-store URI (s3://, gs://, ...), not a local path (file:// counts as local)."""
    return isinstance(path, str) and bool(_URI.match(path)) and not path.startswith("file://")


def filesystem(uri: str, options: Mapping[str, str]) -> tuple[Any, str]:
    """A pyarrow file system for the URI's store, and the path inside it (bucket/key)."""
    from pyarrow import fs

    scheme, _, rest = uri.partition("://")
    if scheme in ("s3", "s3a"):
        endpoint = options.get("aws_endpoint", "")
        s3 = fs.S3FileSystem(
            access_key=options.get("aws_access_key_id"), secret_key=options.get("aws_secret_access_key"),
            session_token=options.get("aws_session_token"), region=options.get("aws_region") or "us-east-1",
            endpoint_override=endpoint.split("://", 1)[-1] if endpoint else None,
            scheme="http" if endpoint.startswith("http://") else "https",
            force_virtual_addressing=options.get("aws_virtual_hosted_style_request") == "true")
        return s3, rest.rstrip("/")
    return fs.FileSystem.from_uri(uri)


def list_media(uri: str, options: Mapping[str, str], extensions: set[str]) -> list[str]:
    """The URIs of the media objects under a prefix (or the one object named), in name order."""
    from pyarrow import fs

    store, path = filesystem(uri, options)
    info = store.get_file_info(path)
    if info.type == fs.FileType.NotFound:
        raise FileNotFoundError(f"no such object or prefix: {uri}")
    scheme = uri.partition("://")[0]
    if info.type == fs.FileType.File:
        return [uri]
    found = store.get_file_info(fs.FileSelector(path, recursive=True))
    keep = []
    for f in found:
        rel = PurePosixPath(f.path).relative_to(path)
        if f.type == fs.FileType.File and PurePosixPath(f.path).suffix.lower() in extensions \
                and not any(part.startswith(".") for part in rel.parts):
            keep.append(f"{scheme}://{f.path}")
    return sorted(keep)


@contextmanager
def fetched(uri: str, options: Mapping[str, str], folder: Path | None = None) -> Iterator[Path]:
    """A local copy of one object, named like it and dated by its modification time; removed after."""
    store, path = filesystem(uri, options)
    info = store.get_file_info(path)
    where = Path(tempfile.mkdtemp(prefix="lifelog-fetch-", dir=folder))
    local = where / PurePosixPath(path).name
    try:
        with store.open_input_stream(path) as src, open(local, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        if info.mtime is not None:
            stamp = info.mtime.timestamp()
            os.utime(local, (stamp, stamp))
        yield local
    finally:
        shutil.rmtree(where, ignore_errors=True)


def download(uri: str, options: Mapping[str, str], target: Path) -> Path:
    """One object copied to `target` whole (a partial copy never takes its name): a reader's cache
    of a file that lives in a bucket."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with fetched(uri, options, target.parent) as local:
        os.replace(local, target)
    return target


__all__ = ["download", "fetched", "filesystem", "is_uri", "list_media"]
