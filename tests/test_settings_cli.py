"""Settings precedence, time expressions, and the CLI's surface (no models)."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from lifelog.cli import build_parser, main
from lifelog.settings import load_settings
from lifelog.timeparse import parse_time

NOW = datetime(2025, 6, 15, 10, 30, tzinfo=timezone(timedelta(hours=1)))


def test_settings_precedence(tmp_path: Path) -> None:
    home = tmp_path / "lib"
    home.mkdir()
    (home / "config.toml").write_text('profile = "tiny"\ntop_k = 3\n[models]\nspeech = "whisper-base-ct2"\n')
    s = load_settings(env={"LIFELOG_HOME": str(home)})
    assert s.profile == "tiny" and s.top_k == 3 and s.models["speech"] == "whisper-base-ct2"
    s = load_settings(env={"LIFELOG_HOME": str(home), "LIFELOG_TOP_K": "5", "LIFELOG_MODEL_OCR": "/x/ocr"})
    assert s.top_k == 5 and s.models["ocr"] == "/x/ocr"
    s = load_settings({"top_k": 9}, env={"LIFELOG_HOME": str(home), "LIFELOG_TOP_K": "5"})
    assert s.top_k == 9
    assert s.db_path == home / "lancedb" and s.cache_dir == home / "models"


def test_database_anywhere_lancedb_opens(tmp_path: Path) -> None:
    home = tmp_path / "lib"
    home.mkdir()
    s = load_settings(env={"LIFELOG_HOME": str(home)})
    assert not s.remote and s.storage_options() == {}
    s = load_settings(env={"LIFELOG_HOME": str(home), "LIFELOG_DB_URI": str(tmp_path / "elsewhere")})
    assert s.db_path == tmp_path / "elsewhere" and not s.remote
    # a bucket: credentials and an S3-compatible endpoint from the standard variables; http allowed,
    # path-style addressing (what MinIO and SeaweedFS want); the config's table wins over them
    aws = {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_ENDPOINT_URL": "http://127.0.0.1:9000",
           "AWS_DEFAULT_REGION": "eu-west-1"}
    s = load_settings(env={"LIFELOG_HOME": str(home), "LIFELOG_DB_URI": "s3://bucket/lifelog"})
    assert s.remote and s.db_path == "s3://bucket/lifelog"
    assert s.storage_options(aws) == {"aws_access_key_id": "k", "aws_secret_access_key": "s", "aws_region": "eu-west-1",
                                      "aws_endpoint": "http://127.0.0.1:9000", "allow_http": "true",
                                      "aws_virtual_hosted_style_request": "false"}
    (home / "config.toml").write_text('db_uri = "s3://b2/lib"\n[storage_options]\naws_region = "us-east-1"\n')
    s = load_settings(env={"LIFELOG_HOME": str(home)})
    assert s.db_path == "s3://b2/lib" and s.storage_options(aws)["aws_region"] == "us-east-1"
    assert s.storage_options({})["aws_region"] == "us-east-1" and "aws_endpoint" not in s.storage_options({})


def test_every_ingest_and_agent_setting_can_be_set(tmp_path: Path) -> None:
    """Ingestion's options come from an [ingest] table and LIFELOG_INGEST_*; the agent's cut-offs from
    their own settings; each reaches the code that reads it."""
    import lifelog

    home = tmp_path / "lib"
    home.mkdir()
    (home / "config.toml").write_text('min_score = 0.4\n[ingest]\nframe_interval_s = 2.5\nphoto_session_km = 3\n')
    s = load_settings(env={"LIFELOG_HOME": str(home), "LIFELOG_INGEST_OCR": "never", "LIFELOG_KEYWORD_FLOOR": "0.2"})
    assert s.min_score == 0.4 and s.keyword_floor == 0.2 and s.sufficient_score == 0.5
    opts = lifelog.Memory(s).ingest_options()
    assert (opts.frame_interval_s, opts.photo_session_km, opts.ocr) == (2.5, 3.0, "never")
    assert opts.home == home and opts.profile == s.profile
    with pytest.raises(ValueError, match="unknown ingest setting 'fps'"):
        load_settings({"ingest": {"fps": 3}}, env={"LIFELOG_HOME": str(home)})
    with pytest.raises(ValueError, match="segment_max_s='long' is not a float"):
        load_settings(env={"LIFELOG_HOME": str(home), "LIFELOG_INGEST_SEGMENT_MAX_S": "long"})


def test_settings_errors_name_the_value(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="LIFELOG_TOP_K='many'"):
        load_settings(env={"LIFELOG_HOME": str(tmp_path), "LIFELOG_TOP_K": "many"})
    with pytest.raises(ValueError, match="profile 'huge'"):
        load_settings(env={"LIFELOG_HOME": str(tmp_path), "LIFELOG_PROFILE": "huge"})
    (tmp_path / "config.toml").write_text("colour = 'blue'\n")
    with pytest.raises(ValueError, match="unknown setting 'colour'"):
        load_settings(env={"LIFELOG_HOME": str(tmp_path)})


def test_default_home_is_xdg(tmp_path: Path) -> None:
    s = load_settings(env={"XDG_DATA_HOME": str(tmp_path)})
    assert s.home == tmp_path / "lifelog"


@pytest.mark.parametrize("text,start,end", [
    ("what did I do yesterday afternoon", datetime(2025, 6, 14, 12), datetime(2025, 6, 14, 18)),
    ("beach photos from last April", datetime(2025, 4, 1), datetime(2025, 5, 1)),
    ("photos from last August", datetime(2024, 8, 1), datetime(2024, 9, 1)),
    ("in April 2017", datetime(2017, 4, 1), datetime(2017, 5, 1)),
    ("what happened on 22 October 2008", datetime(2008, 10, 22), datetime(2008, 10, 23)),
    ("on October 22, 2008 in the morning", datetime(2008, 10, 22, 5), datetime(2008, 10, 22, 12)),
    ("this morning", datetime(2025, 6, 15, 5), datetime(2025, 6, 15, 12)),
    ("last week", datetime(2025, 6, 2), datetime(2025, 6, 9)),
    ("in 2015", datetime(2015, 1, 1), datetime(2016, 1, 1)),
])
def test_time_expressions(text: str, start: datetime, end: datetime) -> None:
    span = parse_time(text, NOW)
    assert span is not None, text
    assert span.start.replace(tzinfo=None) == start and span.end.replace(tzinfo=None) == end


def test_no_time_expression() -> None:
    assert parse_time("where did I leave my keys", NOW) is None
    assert parse_time("what did Sam say about the dentist", NOW) is None


def test_every_command_has_help() -> None:
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"ingest", "search", "ask", "ui", "models", "status", "demo"} <= set(commands)
    for name in commands:
        with pytest.raises(SystemExit) as e:
            main([name, "--help"])
        assert e.value.code == 0


def test_models_list_tells_the_truth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--home", str(tmp_path), "models", "list"]) == 0
    out = capsys.readouterr().out
    # bundled roles are here; CLIP and captioner are honestly absent in bundled, full needs a pull
    assert "whisper-tiny.en-ct2" in out and "composite-caption" in out and "No CLIP" in out
    full = out.split("\nfull:")[1].split("\ntiny:")[0]
    assert "mobileclip2-s2" in full and "not pulled" in full


def test_cli_runs_as_a_command(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "lifelog.cli", "--home", str(tmp_path), "status"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "nothing yet" in r.stdout


@pytest.mark.slow
def test_ui_command_serves_the_app(tmp_path: Path) -> None:
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "lifelog.cli", "--home", str(tmp_path), "ui", "--no-browser",
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                    assert r.status == 200 and "Lifelog" in r.read().decode("utf-8", "replace")
                    break
            except OSError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                assert time.monotonic() < deadline, "the app did not come up within 120 s"
                time.sleep(1)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_local_model_path_is_read_like_the_pulled_model() -> None:
    import models

    spec = models.resolve("image_text", "bundled", {"image_text": "/models/clip/open_clip_model.safetensors"})
    assert spec.family == "open-clip" and spec.source.kind == "local" and spec.dim == 512
    assert models.resolve("llm", "bundled", {"llm": "/m/q.gguf"}).family == "llama-cpp"
    # a registry name still picks that spec
    assert models.resolve("speech", "bundled", {"speech": "whisper-base-ct2"}).name == "whisper-base-ct2"
