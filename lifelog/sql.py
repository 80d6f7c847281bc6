"""SQL text for LanceDB filters: quoting, IN lists and timestamp literals, in one place.

Standard library only: `lifelog.schema.Filters` builds its where-clauses with these on paths that
must not import LanceDB or the models.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable


def quote(value: str) -> str:
    """A string literal: 'it''s'."""
    return "'" + str(value).replace("'", "''") + "'"


def in_list(column: str, values: Iterable[str]) -> str:
    """`column IN ('a', 'b')`; an empty set matches nothing."""
    items = [quote(v) for v in values]
    return f"{column} IN ({', '.join(items)})" if items else "false"


def utc(value: datetime | None) -> datetime | None:
    """Naive times are UTC already; aware ones are converted; None stays None."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def ts(value: datetime) -> str:
    """A timestamp literal in UTC: timestamp '2025-06-14 18:05:00'."""
    return "timestamp '" + utc(value).strftime("%Y-%m-%d %H:%M:%S") + "'"  # type: ignore[union-attr]
