"""Fetch a profile's hub models into the model cache, once, atomically.

    >>> pull_profile("full", cache_dir, progress=print)
    [PullResult(name='mobileclip2-s2', status='pulled', ...), ...]

Each model downloads into `cache_dir/.partial-<name>-<random>/` and is renamed to
`spec.cache_path(cache_dir)` only when every file arrived, with its `.complete` marker already
inside: an interrupted pull never looks like a model (registry.availability checks the marker).
Without a network a pull fails within seconds (a TCP connect check with a short timeout comes
first) and says how to install the files by hand instead.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal
from urllib.parse import urlparse

from models.registry import PROFILE_SPECS, ROLE_TITLES, ModelNotAvailableError, ModelSpec, get_spec

DEFAULT_ENDPOINT = "https://huggingface.co"

Progress = Callable[[str], None]


class PullError(ModelNotAvailableError):
    """A model could not be fetched; the message names it, the repository, why, and the manual route."""


@dataclass(frozen=True)
class PullResult:
    name: str
    role: str
    # ready: already usable (bundled, random, local, or pulled before); pulled: fetched now;
    # missing: a package spec whose package is not installed (pip fixes it, not a pull);
    # none: the profile has no model for this role
    status: Literal["ready", "pulled", "missing", "none"]
    path: Path | None = None
    seconds: float = 0.0
    detail: str = ""


def hub_endpoint() -> str:
    """The hub to pull from: HF_ENDPOINT (a mirror) or huggingface.co. Read per call, not at import."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def check_reachable(endpoint: str, timeout: float) -> str | None:
    """None when a TCP connection to the endpoint's host opens within `timeout` seconds, else why not."""
    url = urlparse(endpoint)
    host = url.hostname or ""
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as e:
        return f"cannot reach {host}:{port} ({e.strerror or type(e).__name__}; no network?)"


def _manual_route(spec: ModelSpec) -> str:
    files = ", ".join(spec.source.files) or "the whole repository"
    return (
        f"on a machine with network, download {files} of {spec.source.repo}"
        f"{'@' + spec.source.revision if spec.source.revision else ''} into a folder, copy it here and "
        f"set LIFELOG_MODEL_{spec.role.upper()}=/path/to/that/folder"
    )


def _error(spec: ModelSpec, endpoint: str, reason: str) -> PullError:
    return PullError(
        f"cannot pull model {spec.name!r} ({ROLE_TITLES[spec.role]}) from {endpoint}/{spec.source.repo}: "
        f"{reason}. Alternative: {_manual_route(spec)}"
    )


def _reason(e: BaseException) -> str:
    text = f"{type(e).__name__}: {e}"
    name = type(e).__name__
    if "LocalEntryNotFound" in name:  # huggingface_hub's wrapper for "the HEAD request failed"
        return f"the hub did not serve the file (network or server error) [{text}]"
    if "RepositoryNotFound" in name or "GatedRepo" in name:
        return f"repository not found or gated (log in with `hf auth login` or set HF_TOKEN) [{text}]"
    if "EntryNotFound" in name or "RevisionNotFound" in name:
        return f"file or revision not in the repository [{text}]"
    if isinstance(e, (OSError, TimeoutError)) or "Connect" in name or "Timeout" in name:
        return f"network error while downloading [{text}]"
    return text


def pull_spec(
    spec: ModelSpec, cache_dir: Path, timeout: float = 10.0, *, progress: Progress | None = None, _checked: bool = False
) -> PullResult:
    """Make one spec available in the cache. Raises PullError (nothing left behind) when it cannot."""
    cache_dir = Path(cache_dir)
    src = spec.source
    ok, why = spec.availability(cache_dir)
    if src.kind == "none":
        return PullResult(spec.name, spec.role, "none", detail=spec.notes or why)
    if src.kind != "hub":
        path = Path(src.path) if src.kind == "local" else None
        return PullResult(spec.name, spec.role, "ready" if ok else "missing", path=path,
                          detail=why if ok else f"{why}; {spec.how_to_get()}")
    target = spec.cache_path(cache_dir)
    if ok:
        return PullResult(spec.name, spec.role, "ready", path=target, detail=why)
    if "not installed" in why:  # the loader's package is missing: a download would not help
        return PullResult(spec.name, spec.role, "missing", detail=why)

    endpoint = hub_endpoint()
    from huggingface_hub import constants as hf_constants

    if hf_constants.is_offline_mode():
        raise _error(spec, endpoint, "HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE is set, which forbids downloads: unset it to pull")
    if not _checked:
        unreachable = check_reachable(endpoint, min(timeout, 5.0))
        if unreachable:
            raise _error(spec, endpoint, unreachable)
    from huggingface_hub import hf_hub_download, snapshot_download

    t0 = time.monotonic()
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".partial-{spec.name}-", dir=cache_dir))
    if progress:
        progress(f"pulling {spec.name} ({spec.size_mb:.0f} MB) from {src.repo}")
    try:
        revision = src.revision or None
        if src.files:
            for f in src.files:
                hf_hub_download(src.repo, f, revision=revision, local_dir=partial, endpoint=endpoint, etag_timeout=timeout)
                if progress:
                    progress(f"  {spec.name}: {f}")
        else:
            snapshot_download(src.repo, revision=revision, local_dir=partial, endpoint=endpoint, etag_timeout=timeout)
        # huggingface_hub's own bookkeeping for local_dir downloads; not part of the model
        shutil.rmtree(partial / ".cache", ignore_errors=True)
        marker = {"repo": src.repo, "revision": src.revision, "files": list(src.files), "pulled_at": time.time()}
        (partial / ".complete").write_text(json.dumps(marker) + "\n")
        if target.exists():  # a leftover without a marker (availability said not complete)
            shutil.rmtree(target)
        os.replace(partial, target)
    except BaseException as e:
        shutil.rmtree(partial, ignore_errors=True)
        if isinstance(e, Exception):
            raise _error(spec, endpoint, _reason(e)) from e
        raise
    seconds = time.monotonic() - t0
    if progress:
        progress(f"pulled {spec.name} into {target} in {seconds:.0f} s")
    return PullResult(spec.name, spec.role, "pulled", path=target, seconds=seconds, detail=f"pulled into {target}")


def pull_profile(profile: str, cache_dir: Path, *, timeout: float = 10.0, progress: Progress | None = None) -> list[PullResult]:
    """Pull every hub model a profile uses. Keeps going past a failed model, then raises one PullError naming each."""
    if profile not in PROFILE_SPECS:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILE_SPECS)}")
    names = list(dict.fromkeys(PROFILE_SPECS[profile].values()))
    specs = [get_spec(n) for n in names]
    cache_dir = Path(cache_dir)
    # one reachability check for the whole profile: offline, every hub model fails at once
    todo = [s for s in specs if s.source.kind == "hub" and not s.availability(cache_dir)[0]]
    unreachable = check_reachable(hub_endpoint(), min(timeout, 5.0)) if todo else None
    results: list[PullResult] = []
    errors: list[str] = []
    for spec in specs:
        if spec in todo and unreachable:
            errors.append(str(_error(spec, hub_endpoint(), unreachable)))
            continue
        try:
            results.append(pull_spec(spec, cache_dir, timeout, progress=progress, _checked=True))
        except PullError as e:
            errors.append(str(e))
        if progress and results and results[-1].name == spec.name and results[-1].status != "pulled":
            progress(f"{spec.name}: {results[-1].status} ({results[-1].detail})")
    if errors:
        raise PullError(f"{len(errors)} of the {profile!r} profile's models could not be pulled:\n- " + "\n- ".join(errors))
    return results


__all__ = ["PullError", "PullResult", "check_reachable", "hub_endpoint", "pull_profile", "pull_spec"]
