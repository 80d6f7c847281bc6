"""Ingestion: files -> MediaRecord + multi-scale EpisodeRecords (see ingest.pipeline, ingest.batch)."""

from ingest.errors import IngestError
from ingest.pipeline import IngestOptions, ingest_file
from ingest.probe import SUPPORTED_EXTS, probe

__all__ = ["IngestError", "IngestOptions", "SUPPORTED_EXTS", "ingest_file", "probe"]
