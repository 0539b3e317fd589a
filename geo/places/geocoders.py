"""geopy-compatible geocoders: the offline gazetteer, and a chain that falls back to online ones.

`OfflineGazetteer` is a `geopy.geocoders.base.Geocoder`: its `geocode()` returns
`geopy.location.Location` objects with the GeoNames record in `.raw`, so it can be swapped with or
chained to geopy's online geocoders (Nominatim, OpenCage, ...) for names the gazetteer lacks.
Online geocoding is off unless asked for; when on, answers are cached on disk, requests are
rate-limited (geopy's RateLimiter; Nominatim allows one a second) and a failure is logged, never raised.
"""
from __future__ import annotations

import json
import logging
import os
import sqlite3
from pathlib import Path

from geopy.exc import GeopyError
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders.base import Geocoder
from geopy.location import Location
from geopy.point import Point

from .gazetteer import Gazetteer, Place, default_cache_dir, load_gazetteer

log = logging.getLogger(__name__)
USER_AGENT = "incident-atlas/0.1 (offline-first news geoparser)"


def place_location(place: Place) -> Location:
    address = ", ".join(x for x in (place.name, place.admin1 if place.admin1 != place.name else None,
                                    place.country) if x)
    return Location(address, Point(place.lat, place.lon), place.as_raw())


class OfflineGazetteer(Geocoder):
    """Geocode against the embedded GeoNames index: no network, no rate limit."""

    def __init__(self, gazetteer: Gazetteer | None = None, country_bias: str | None = None) -> None:
        super().__init__()
        self.gazetteer = gazetteer or load_gazetteer()
        self.country_bias = country_bias

    def geocode(self, query: str, *, exactly_one: bool = True, limit: int = 10,
                country_codes: str | list[str] | None = None, **_ignored):
        codes = [country_codes] if isinstance(country_codes, str) else list(country_codes or [])
        name, _, qualifier = str(query).partition(",")
        places = self.gazetteer.search(name, limit=200)
        if codes:
            places = [p for p in places if p.country in {c.upper() for c in codes}]
        qualifier = qualifier.strip()
        if qualifier:
            # "Springfield, Illinois" / "Chaman, Pakistan": keep the places inside the qualifier.
            inside = {(q.country, q.admin1 if q.kind == "admin1" else None) for q in self.gazetteer.search(qualifier)}
            narrowed = [p for p in places if (p.country, None) in inside or (p.country, p.admin1) in inside]
            places = narrowed or places
        if self.country_bias:
            places.sort(key=lambda p: p.country != self.country_bias.upper())
        if not places:
            return None
        locations = [place_location(p) for p in places[:limit]]
        return locations[0] if exactly_one else locations

    def reverse(self, query, *, exactly_one: bool = True, **_ignored):
        raise NotImplementedError("the offline gazetteer geocodes names; reverse geocoding is not offered")


class CachedGeocoder:
    """An online geopy geocoder behind a disk cache and a rate limiter; failures return None."""

    def __init__(self, geocoder: Geocoder, min_delay_seconds: float = 1.0, cache_path: Path | None = None) -> None:
        self.geocoder = geocoder
        self._geocode = RateLimiter(geocoder.geocode, min_delay_seconds=min_delay_seconds, max_retries=1,
                                    swallow_exceptions=False)
        path = cache_path or default_cache_dir() / "online-geocode.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), timeout=30)
        self.db.execute("CREATE TABLE IF NOT EXISTS answers (provider TEXT, query TEXT, answer TEXT, "
                        "PRIMARY KEY (provider, query))")
        self.provider = type(geocoder).__name__

    def geocode(self, query: str) -> Location | None:
        row = self.db.execute("SELECT answer FROM answers WHERE provider = ? AND query = ?",
                              (self.provider, query)).fetchone()
        if row:
            data = json.loads(row[0])
            return Location(data["address"], Point(data["lat"], data["lon"]), data["raw"]) if data else None
        try:
            loc = self._geocode(query, exactly_one=True)
        except (GeopyError, OSError, ValueError) as exc:
            log.warning("online geocoder %s failed for %r: %s", self.provider, query, exc)
            return None  # not cached: a later run may reach the service
        data = {"address": loc.address, "lat": loc.latitude, "lon": loc.longitude, "raw": loc.raw} if loc else None
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?)",
                            (self.provider, query, json.dumps(data, default=str)))
        return loc


class GeocoderChain:
    """Ask each geocoder in turn; the first answer wins (offline first, online only for misses)."""

    def __init__(self, *geocoders) -> None:
        self.geocoders = geocoders

    def geocode(self, query: str) -> Location | None:
        for g in self.geocoders:
            loc = g.geocode(query)
            if loc is not None:
                return loc
        return None


def online_geocoder(name: str | None = None) -> CachedGeocoder | None:
    """The online fallback named by `name` or GEO_ONLINE_GEOCODER ("nominatim"), or None (the default)."""
    name = (name or os.environ.get("GEO_ONLINE_GEOCODER") or "").lower()
    if not name:
        return None
    from geopy.geocoders import get_geocoder_for_service
    cls = get_geocoder_for_service(name)
    user_agent = os.environ.get("GEO_USER_AGENT", USER_AGENT)
    return CachedGeocoder(cls(user_agent=user_agent, timeout=10), min_delay_seconds=1.0)
