"""kill -9 at seeded random moments of ingest, consolidate and reindex, then one run to completion:
the library must equal a clean reference made without kills (the same files, episodes, days,
things, visits, faces and, for reindex, the same vectors and column metadata).

The kill moments are drawn between 0.3 s and the length of the clean run, so they land in start-up,
model loading, decoding and the LanceDB writes alike. No clean-up of any kind runs: SIGKILL, as a
power cut would leave it.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from _library import ROOT, cli, env, run, sample_folder, snapshot

pytestmark = pytest.mark.slow

KILLS = 10


def _kill_loop(home: Path, args: list[str], length_s: float, seed: int, extra_env: dict[str, str] | None = None,
               start_from: Path | None = None) -> list[float]:
    """Start the command and SIGKILL it after a random delay, KILLS times; returns the delays that
    killed. A run that finishes before its kill does not count, and the library goes back to where
    it started (`start_from`, else empty), so that later kills land in the middle of the work again."""
    rng = random.Random(seed)
    killed: list[float] = []
    for _ in range(5 * KILLS):
        if len(killed) >= KILLS:
            break
        delay = rng.uniform(0.3, max(1.0, length_s))
        proc = subprocess.Popen(cli(home, *args), cwd=ROOT, env=dict(env(), **(extra_env or {})),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            proc.wait(timeout=delay)
            shutil.rmtree(home)
            if start_from is not None:
                shutil.copytree(start_from, home)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            killed.append(round(delay, 2))
    assert len(killed) >= KILLS, f"only {len(killed)} kills landed: {killed}"
    return killed


def _timed(home: Path, *args: str, extra_env: dict[str, str] | None = None) -> float:
    t0 = time.perf_counter()
    r = subprocess.run(cli(home, *args), cwd=ROOT, env=dict(env(), **(extra_env or {})), capture_output=True,
                       text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    return time.perf_counter() - t0


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, float]:
    """sample_media/ ingested once (bundled models): (folder, library home, seconds it took)."""
    tmp = tmp_path_factory.mktemp("kills")
    folder = sample_folder(tmp)
    home = tmp / "reference"
    return folder, home, _timed(home, "ingest", str(folder), "--quiet")


def test_kills_during_ingest(library, tmp_path: Path) -> None:
    folder, reference, seconds = library
    home = tmp_path / "home"
    killed = _kill_loop(home, ["ingest", str(folder), "--quiet"], seconds, seed=1)
    _timed(home, "ingest", str(folder), "--quiet")
    assert snapshot(home) == snapshot(reference), f"killed after {killed} s"


def _forget_consolidation(home: Path) -> None:
    """A library whose files are stored but never consolidated: no days or photo sessions, no
    people, visits or things, faces unassigned (what a kill right after the last write leaves)."""
    import lifelog
    from lifelog.db import FACES_TABLE, PEOPLE_TABLE, THINGS_TABLE, VISITS_TABLE

    store = lifelog.open(home).store
    store.delete_episodes("media_id = ''")
    store.episode_table.update(where="scale = 'segment' AND kind = 'photo'", values={"parent_id": "", "duplicate_of": ""})
    for name in (PEOPLE_TABLE, THINGS_TABLE, VISITS_TABLE):
        store.table(name).delete("true")
    store.table(FACES_TABLE).update(where="true", values={"person_id": ""})


def test_kills_during_consolidate(library, tmp_path: Path) -> None:
    _, built, _ = library
    bare = tmp_path / "bare"
    shutil.copytree(built, bare)
    _forget_consolidation(bare)
    reference, home = tmp_path / "reference", tmp_path / "home"
    shutil.copytree(bare, reference)
    shutil.copytree(bare, home)
    seconds = _timed(reference, "consolidate")
    assert snapshot(reference) == snapshot(built)  # consolidating from scratch rebuilds what ingest made
    killed = _kill_loop(home, ["consolidate"], seconds, seed=2, start_from=bare)
    _timed(home, "consolidate")
    assert snapshot(home) == snapshot(reference), f"killed after {killed} s"


def test_kills_during_reindex(library, tmp_path: Path) -> None:
    _, built, _ = library
    other_model = {"LIFELOG_MODEL_TEXT_EMBED": "minilm-random"}  # 32-d, seeded random weights
    reference, home = tmp_path / "reference", tmp_path / "home"
    shutil.copytree(built, reference)
    shutil.copytree(built, home)
    seconds = _timed(reference, "reindex", extra_env=other_model)
    killed = _kill_loop(home, ["reindex"], seconds, seed=3, extra_env=other_model, start_from=built)
    # between kills the column in use is whole: a search works with the model it names (the old one
    # while the new column fills, the new one once a run got to the swap)
    between = run(home, "search", "keys")
    if between.returncode == 2 and "lifelog reindex" in between.stderr:
        between = subprocess.run(cli(home, "search", "keys"), cwd=ROOT, env=dict(env(), **other_model),
                                 capture_output=True, text=True, timeout=300)
    assert between.returncode == 0 and "Traceback" not in between.stderr, between.stderr[-2000:]
    _timed(home, "reindex", extra_env=other_model)
    os.environ.update(other_model)
    try:
        got, want = snapshot(home, vectors=True), snapshot(reference, vectors=True)
    finally:
        os.environ.pop("LIFELOG_MODEL_TEXT_EMBED")
    assert got["columns"][0] == ("minilm-random", 32)
    assert got == want, f"killed after {killed} s"
