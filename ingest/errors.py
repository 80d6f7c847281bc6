"""The one error ingestion raises for bad input (a leaf: imports nothing of the project)."""

from __future__ import annotations


class IngestError(ValueError):
    """A file cannot be ingested; the message is for the user: what is wrong and what to do."""
