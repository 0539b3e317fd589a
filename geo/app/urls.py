"""The page's URL: filters, the drawn area and the chosen incident read from the query string and
written back, so a view can be shared.

A URL is typed or pasted by anyone: every value is checked here, and a bad one is dropped with a short
message naming it (never passed on to the store, never a traceback).
"""
from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..store import Filters
from ..text.incidents import EVENT_TYPES
from .areas import Area

_LIST_KEYS = {"type": "event_types", "country": "countries", "actor": "actors"}
FIRST_YEAR, LAST_YEAR = 1900, 2100     # dates outside these are typing mistakes (or attacks)
MAX_MINIMUM = 10_000_000               # killed + wounded; beyond any war, within every integer type
MAX_TEXT = 200                         # characters of a text filter
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_INCIDENT_ID = re.compile(r"[0-9a-f]{1,64}")
_COUNTRY = re.compile(r"[A-Za-z]{2}")


@dataclass(frozen=True)
class PageQuery:
    """What the URL asks for, checked; `problems` says what was dropped and why."""

    filters: Filters = Filters()
    area: Area | None = None
    outline: str | None = None                 # a country whose outline limits the view
    provinces: tuple[str, ...] = ()            # "Kandahār, AF"
    incident: str | None = None
    problems: tuple[str, ...] = field(default=())


def _values(params: Mapping[str, Any], key: str) -> list[str]:
    value = params.get(key)
    values = value if isinstance(value, (list, tuple)) else ([value] if value is not None else [])
    return [str(v) for v in values if str(v) != ""]


def _shown(value: str) -> str:
    """A dropped value, quoted short and without control characters, for the message."""
    clean = _CONTROL.sub("?", value)
    return repr(clean if len(clean) <= 40 else clean[:40] + "…")


def read_query(params: Mapping[str, Any], outlines: Collection[str] = (),
               country_codes: Mapping[str, str] = {}) -> PageQuery:  # noqa: B006 (read only)
    """The page's state from URL query parameters (`?from=2025-10-01&type=battle&min=5&q=kabul&area=...`);
    `outlines`: the country names an `outline` may be; `country_codes`: lower-case country name -> code,
    so `?country=Afghanistan` works as `?country=AF`."""
    problems: list[str] = []

    def drop(key: str, value: str, why: str) -> None:
        problems.append(f"Ignored {key}={_shown(value)} in the URL: {why}.")

    def day(key: str) -> date | None:
        for value in _values(params, key)[:1]:
            try:
                parsed = date.fromisoformat(value[:10])
            except ValueError:
                drop(key, value, "not a date (YYYY-MM-DD)")
                return None
            if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
                drop(key, value, f"not a date between {FIRST_YEAR} and {LAST_YEAR}")
                return None
            return parsed
        return None

    def text(key: str, value: str) -> str | None:
        if _CONTROL.search(value):
            drop(key, value, "control characters")
        elif len(value) > MAX_TEXT:
            drop(key, value, f"longer than {MAX_TEXT} characters")
        else:
            return value.strip()
        return None

    minimum = 0
    for value in _values(params, "min")[:1]:
        if not value.isdigit() or int(value) > MAX_MINIMUM:
            drop("min", value, f"not a whole number from 0 to {MAX_MINIMUM:,}")
        else:
            minimum = int(value)
    bbox = None
    for value in _values(params, "bbox")[:1]:
        bbox = _bbox(value)
        if bbox is None:
            drop("bbox", value, "not four finite numbers west,south,east,north on the globe")
    area = None
    for value in _values(params, "area")[:1]:
        area = Area.from_query(value)
        if area is None:
            drop("area", value, "not an outline of 3 to 200 'lon lat' points")
    types = []
    for value in _values(params, "type"):
        (types.append(value) if value in EVENT_TYPES else drop("type", value, "not an event type"))
    countries = []
    for value in _values(params, "country"):
        code = value.upper() if _COUNTRY.fullmatch(value) else country_codes.get(value.strip().lower())
        (countries.append(code) if code else drop("country", value, "not a country name or code"))
    actors = [a for a in (text("actor", v) for v in _values(params, "actor")) if a]
    query = next((t for t in (text("q", v) for v in _values(params, "q")[:1]) if t), "")
    outline = None
    for value in _values(params, "outline")[:1]:
        if value in outlines:
            outline = value
        else:
            drop("outline", value, "not a country of the basemap")
    chosen_provinces = tuple(p for p in (text("province", v) for v in _values(params, "province")) if p)
    incident = None
    for value in _values(params, "incident")[:1]:
        if _INCIDENT_ID.fullmatch(value):
            incident = value
        else:
            drop("incident", value, "not an incident id")
    filters = Filters(date_from=day("from"), date_to=day("to"), event_types=tuple(types), countries=tuple(countries),
                      bbox=bbox, min_casualties=minimum, text=query, actors=tuple(actors))
    return PageQuery(filters, area, outline, chosen_provinces, incident, tuple(problems))


def _bbox(value: str) -> tuple[float, float, float, float] | None:
    try:
        west, south, east, north = (float(x) for x in value.split(","))
    except ValueError:
        return None
    numbers = (west, south, east, north)
    if not all(math.isfinite(x) for x in numbers) or not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        return None
    return numbers


def write_query(f: Filters, area: Area | None = None, incident: str | None = None, outline: str | None = None,
                provinces: tuple[str, ...] = ()) -> dict[str, str | list[str]]:
    """The URL query parameters of a view (empty ones left out)."""
    out: dict[str, str | list[str]] = {}
    if f.date_from:
        out["from"] = f.date_from.isoformat()
    if f.date_to:
        out["to"] = f.date_to.isoformat()
    for key, name in _LIST_KEYS.items():
        if getattr(f, name):
            out[key] = list(getattr(f, name))
    if f.bbox:
        out["bbox"] = ",".join(f"{x:g}" for x in f.bbox)
    if area is not None:
        out["area"] = area.to_query()
    if f.min_casualties:
        out["min"] = str(f.min_casualties)
    if f.text:
        out["q"] = f.text
    if outline:
        out["outline"] = outline
    if provinces:
        out["province"] = list(provinces)
    if incident:
        out["incident"] = incident
    return out
