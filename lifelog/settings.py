"""Settings in one place: defaults, then a TOML config file, then LIFELOG_* variables, then CLI flags.

    LIFELOG_HOME=~/memories LIFELOG_PROFILE=full lifelog ask "where are my keys?"

The config file is `$LIFELOG_CONFIG`, else `<home>/config.toml`; its keys are the field names
below (`profile = "full"`, `[models] speech = "/path/to/whisper"`). Ingestion's own settings
(`ingest.options.IngestOptions`: video sampling, segmentation, OCR gating, photo sessions, image
sizes) go in an `[ingest]` table (`[ingest] frame_interval_s = 2.0`) or `LIFELOG_INGEST_<NAME>`.

The library's database may live anywhere LanceDB can open (`db_uri = "s3://bucket/lifelog"`, or
`LIFELOG_DB_URI`); its credentials come from a `[storage_options]` table or the standard AWS
variables (`storage_options` below). The home stays on this machine: config, models, the writer's
lock and a cache of the thumbnails.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping

import models
from ingest.options import IngestOptions

ENV_PREFIX = "LIFELOG_"


def default_home(env: Mapping[str, str] | None = None) -> Path:
    """The library's home: $XDG_DATA_HOME/lifelog (~/.local/share/lifelog)."""
    env = os.environ if env is None else env
    xdg = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "lifelog"


@dataclass(frozen=True)
class Settings:
    # the library's folder: LanceDB database, thumbnails, model cache, config
    home: Path = field(default_factory=default_home)
    # which models: bundled (no download), full (pulled once), tiny (random weights, tests)
    profile: str = "bundled"
    # per-role overrides: a registry name or a local path, e.g. {"speech": "whisper-base-ct2"}
    models: Mapping[str, str] = field(default_factory=dict)
    # where pulled and derived model files live; default <home>/models
    model_cache: Path | None = None
    device: str = "cpu"
    # parallel files during ingestion; default: the machine's cores
    workers: int = 0
    # the agent: "adaptive" (WorldMM-style rounds) or "flat" (one search, the baseline)
    agent: str = "adaptive"
    # most retrieval rounds the adaptive agent may take before it answers or abstains
    max_rounds: int = 4
    # results per search
    top_k: int = 8
    # relevance cut-offs on the fused score (lifelog/hits.py): a search drops hits under min_score
    # (MiniLM puts unrelated sentences at 0.1-0.3 from a query); the agent answers at once from a hit
    # of sufficient_score, and from a weaker one only when it shares the question's words and
    # reaches keyword_floor
    min_score: float = 0.35
    sufficient_score: float = 0.5
    keyword_floor: float = 0.3
    # StreamMem visual memory: tokens kept per video (and per event) and frames per encoding chunk
    visual_budget_tokens: int = 512
    visual_chunk_frames: int = 8
    # "now" for resolving "yesterday" and "last April"; None means the clock (tests pin it)
    now: datetime | None = None
    # the UI's address; loopback only unless the user says otherwise
    host: str = "127.0.0.1"
    port: int = 7860
    # ingestion settings by IngestOptions field name, e.g. {"frame_interval_s": 2.0, "ocr": "never"}
    ingest: Mapping[str, Any] = field(default_factory=dict)
    # storage budget in GB for the library's derived data (database + thumbnails; never your files, text
    # or vectors): over it, after an ingest, the oldest keyframes, thumbnails, then visual memory go
    # (lifelog/budget.py). None: no budget
    budget_gb: float | None = None
    # where the database lives: None is <home>/lancedb; else any URI LanceDB opens ("s3://bucket/lib",
    # "gs://...", "az://...", a folder). Thumbnails and keyframes then go into it too (lifelog/assets.py)
    db_uri: str | None = None
    # object-store options for db_uri (LanceDB's storage_options: aws_endpoint, aws_region, ...);
    # unset keys come from the standard AWS_* variables (`storage_options()` below)
    storage: Mapping[str, str] = field(default_factory=dict)
    # seconds a reader of a remote library may lag other machines' writes (None: lifelog.db's
    # REMOTE_REFRESH_S; 0: check the bucket on every read, several more requests per search)
    db_refresh_s: float | None = None
    # a Ray cluster to ingest on (`lifelog ingest --ray`; lifelog/cluster.py), e.g. "127.0.0.1:6379"
    ray_address: str | None = None

    @property
    def db_path(self) -> Path | str:
        """The database: a local folder (the default), or the URI of a remote one."""
        if self.db_uri and "://" in self.db_uri and not self.db_uri.startswith("file://"):
            return self.db_uri
        if self.db_uri:
            return Path(self.db_uri.removeprefix("file://")).expanduser()
        return self.home / "lancedb"

    @property
    def remote(self) -> bool:
        return isinstance(self.db_path, str)

    def storage_options(self, env: Mapping[str, str] | None = None) -> dict[str, str]:
        """LanceDB's storage_options for a remote db_uri (`object_store_options`); {} for a folder."""
        return object_store_options(str(self.db_path), self.storage, env) if self.remote else {}

    @property
    def thumbs_dir(self) -> Path:
        return self.home / "thumbs"

    @property
    def cache_dir(self) -> Path:
        return self.model_cache or (self.home / "models")

    @property
    def worker_count(self) -> int:
        return self.workers or max(1, os.cpu_count() or 1)


# storage_options key -> the standard variables it is read from, first found wins
_AWS_ENV = {
    "aws_access_key_id": ("AWS_ACCESS_KEY_ID",),
    "aws_secret_access_key": ("AWS_SECRET_ACCESS_KEY",),
    "aws_session_token": ("AWS_SESSION_TOKEN",),
    "aws_region": ("AWS_REGION", "AWS_DEFAULT_REGION"),
    "aws_endpoint": ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT"),
}

def object_store_options(uri: str, configured: Mapping[str, str], env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Options for an object store (LanceDB's storage_options names): the config's `[storage_options]`,
    and for an S3 URI the standard AWS variables for what it leaves out (an S3-compatible server's
    endpoint in AWS_ENDPOINT_URL; http endpoints are allowed and addressed by path, as MinIO and
    SeaweedFS want). Used for the library's database and for inputs given as URIs."""
    env = os.environ if env is None else env
    options = {k: str(v) for k, v in configured.items()}
    if uri.startswith(("s3://", "s3a://")):
        for key, names in _AWS_ENV.items():
            value = next((env[n] for n in names if env.get(n)), None)
            if value and key not in options:
                options[key] = value
        endpoint = options.get("aws_endpoint", "")
        if endpoint.startswith("http://"):
            options.setdefault("allow_http", "true")
        if endpoint:
            options.setdefault("aws_virtual_hosted_style_request", "false")
    return options


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}
# IngestOptions fields that a user may set; the rest come from the settings above (home, models, ...)
_FROM_SETTINGS = {"home", "cache_dir", "profile", "model_overrides", "device", "workers",
                  "visual_budget_tokens", "visual_chunk_frames"}
INGEST_FIELDS = {f.name: f for f in dataclasses.fields(IngestOptions) if f.name not in _FROM_SETTINGS}


def _coerce_ingest(name: str, value: Any) -> Any:
    if name not in INGEST_FIELDS:
        raise ValueError(f"unknown ingest setting {name!r}; known: {', '.join(sorted(INGEST_FIELDS))}")
    kind = str(INGEST_FIELDS[name].type)
    try:
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
    except ValueError:
        raise ValueError(f"ingest setting {name}={value!r} is not a {kind}") from None
    return str(value)


def _coerce(name: str, value: Any) -> Any:
    """Turn a string from the environment or a TOML value into the field's type."""
    if value is None:
        return None
    if name in ("home", "model_cache"):
        return Path(str(value)).expanduser()
    if name in ("workers", "max_rounds", "top_k", "port", "visual_budget_tokens", "visual_chunk_frames"):
        try:
            return int(value)
        except ValueError:
            raise ValueError(f"{ENV_PREFIX}{name.upper()}={value!r} is not a whole number") from None
    if name in ("min_score", "sufficient_score", "keyword_floor", "budget_gb", "db_refresh_s"):
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"{ENV_PREFIX}{name.upper()}={value!r} is not a number") from None
    if name == "ingest":
        return {k: _coerce_ingest(k, v) for k, v in dict(value).items()}
    if name == "storage":
        if isinstance(value, str):
            raise ValueError("storage options are a table: [storage_options] in config.toml, or AWS_* variables")
        return {str(k): str(v) for k, v in dict(value).items()}
    if name == "db_uri":
        return str(value).strip() or None
    if name == "now":
        if isinstance(value, datetime):
            return value
        try:
            return datetime.fromisoformat(str(value))
        except ValueError:
            raise ValueError(f"{ENV_PREFIX}NOW={value!r} is not an ISO date-time such as 2025-06-15T09:00") from None
    if name == "profile" and value not in models.PROFILES:
        raise ValueError(f"profile {value!r} is unknown; choose one of {', '.join(models.PROFILES)}")
    if name == "agent" and value not in ("adaptive", "flat"):
        raise ValueError(f"agent {value!r} is unknown; choose adaptive or flat")
    return value


def load_settings(overrides: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Build the settings: defaults < config file < environment < overrides (CLI flags, API keywords)."""
    env = os.environ if env is None else env
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    values: dict[str, Any] = {}

    home = overrides.get("home") or env.get(ENV_PREFIX + "HOME") or default_home(env)
    values["home"] = home
    config_path = Path(env.get(ENV_PREFIX + "CONFIG") or Path(home).expanduser() / "config.toml")
    if config_path.is_file():
        try:
            config = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise ValueError(f"config file {config_path} is not valid TOML: {e}") from e
        for key, value in config.items():
            if key == "storage_options":  # the TOML table's name says what it is; the field is shorter
                key = "storage"
            if key not in _FIELDS:
                raise ValueError(f"config file {config_path}: unknown setting {key!r}; known: {', '.join(_FIELDS)}")
            values[key] = value

    model_overrides = dict(values.get("models", {}))
    ingest = dict(values.get("ingest", {}))
    for name in INGEST_FIELDS:
        raw = env.get(f"{ENV_PREFIX}INGEST_{name.upper()}")
        if raw not in (None, ""):
            ingest[name] = raw
    ingest.update(overrides.pop("ingest", None) or {})
    values["ingest"] = ingest
    for name in _FIELDS:
        if name in ("models", "ingest", "storage"):
            continue
        raw = env.get(ENV_PREFIX + name.upper())
        if raw not in (None, ""):
            values[name] = raw
    for role in models.ROLES:
        raw = env.get(f"{ENV_PREFIX}MODEL_{role.upper()}")
        if raw:
            model_overrides[role] = raw
    model_overrides.update(overrides.pop("models", None) or {})
    values.update(overrides)
    values["models"] = model_overrides
    for role in model_overrides:
        if role not in models.ROLES:
            raise ValueError(f"unknown model role {role!r}; roles: {', '.join(models.ROLES)}")
    return Settings(**{k: _coerce(k, v) for k, v in values.items()})
