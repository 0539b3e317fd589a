"""One event, one incident across articles, whatever order the articles come in.

Two reports (incidents as one article tells them) are of the same event when they have the same type,
happened on the same day and within 25 km (strategic developments without a point: the same topic
and country). The relation is evaluated between reports, never against a merged incident, and an
incident is every report linked to another by it, directly or through others: a report of the same
event as two incidents joins them.

Each field of an incident is chosen from all its reports by a rule that does not depend on their order
(`combine` is associative and commutative, so folding reports in any order gives the same incident):
its id and evidence are its first report's (earliest published, then by source and offset); its date
the most precise (a day the text states), then the earliest; its place the most specific with a point;
its counts the highest, with ranges widened to every report's; its lists every report's, sorted.
"""
from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import reduce

from ..places.geodesy import km
from ..text.incidents import Incident
from .frame import incident_id

SAME_EVENT_KM = 25.0
# The same day, not "a day apart": linked reports form one incident, and with a day's slack, shelling
# reported day after day at one town would chain into a single incident spanning months.
SAME_EVENT_DAYS = 0
_CELL_DEGREES = 0.25   # the grid reports are bucketed in to find their neighbours
_DATE_PRECISION = {"day": 0, "month": 1, "year": 2}
_DATE_FROM = {"text": 0, "publication": 1}
_LISTS = ("killed_text", "wounded_text", "victims", "actors", "claimed_by", "sources", "notes")
_FIELDS = [f.name for f in dataclasses.fields(Incident)]


def same_event(a: Incident, b: Incident) -> bool:
    if a.event_type != b.event_type or a.topic != b.topic:
        return False
    if a.date is None or b.date is None or abs((a.date - b.date).days) > SAME_EVENT_DAYS:
        return False
    if a.point and b.point:
        return km(a.point, b.point) <= SAME_EVENT_KM
    # Without points, only the same country with no stated place at all can be the same event.
    return a.point is None and b.point is None and a.country is not None and a.country == b.country


def degrees_around(lat: float) -> tuple[float, float]:
    """Degrees of latitude and of longitude that hold SAME_EVENT_KM around a point at `lat` (with a margin)."""
    return 0.3, min(180.0, 0.3 / max(math.cos(math.radians(min(abs(lat), 89.0))), 1e-3))


@dataclass
class Merged:
    """An incident and which report is its first: (published, source, evidence start and end, that
    report's own incident id). The first report gives the incident its id and evidence."""

    incident: Incident
    first: tuple[date, str, int, int, str]


def as_report(inc: Incident, published: date | None) -> Merged:
    """One article's incident (its one source in `inc.sources`), ready to be combined."""
    first = (published or date.max, inc.sources[0] if inc.sources else "", inc.evidence.start, inc.evidence.end,
             incident_id(inc))
    return Merged(_copy(inc), first)


def combine(a: Merged, b: Merged) -> Merged:
    """The incident both tell; the same whichever is `a`."""
    x, y = a.incident, b.incident
    first = (a if a.first <= b.first else b).incident
    out = Incident(*(getattr(first, name) for name in _FIELDS))  # every list is made anew below
    out.sentences = list(first.sentences)
    best = min(x, y, key=_date_rank)
    out.date, out.date_precision, out.date_from = best.date, best.date_precision, best.date_from
    best = min(x, y, key=_place_rank)
    out.place, out.geo_precision = copy.copy(best.place), best.geo_precision
    for kind in ("killed", "wounded"):
        counts = [getattr(s, kind) for s in (x, y) if getattr(s, kind) is not None]
        lows = [getattr(s, kind + "_low") for s in (x, y) if getattr(s, kind + "_low") is not None]
        highs = [v for s in (x, y) for v in (getattr(s, kind + "_high"), getattr(s, kind)) if v is not None]
        # A count with no upper bound leaves the merged range open above.
        open_above = any(getattr(s, kind) is not None and getattr(s, kind + "_high") is None for s in (x, y))
        setattr(out, kind, max(counts) if counts else None)
        setattr(out, kind + "_low", min(lows) if lows else None)
        setattr(out, kind + "_high", max(highs) if highs and not open_above else None)
    for name in _LISTS:
        setattr(out, name, sorted(set(getattr(x, name)) | set(getattr(y, name))))
    out.contested = x.contested or y.contested
    return Merged(out, min(a.first, b.first))


def merge_incidents(incidents: Iterable[Incident], published: dict[str, date] | None = None) -> list[Incident]:
    """Merge the same event reported by several articles (each incident's one source in `sources`);
    `published` maps sources to their publication dates. The same incidents in any order give the same
    result, ordered by first report; the inputs are not modified."""
    published = published or {}
    reports = list(incidents)
    parent = list(range(len(reports)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    buckets: dict[tuple, list[int]] = {}
    for i, inc in enumerate(reports):
        for key in _neighbour_keys(inc):
            for j in buckets.get(key, ()):
                if same_event(reports[j], inc):
                    parent[root(i)] = root(j)
        buckets.setdefault(_key(inc), []).append(i)
    groups: dict[int, list[Merged]] = {}
    for i, inc in enumerate(reports):
        groups.setdefault(root(i), []).append(as_report(inc, published.get(inc.sources[0]) if inc.sources else None))
    merged = [reduce(combine, members) for members in groups.values()]
    return [m.incident for m in sorted(merged, key=lambda m: m.first)]


def _date_rank(inc: Incident) -> tuple:
    return (_DATE_PRECISION.get(inc.date_precision or "", 3), _DATE_FROM.get(inc.date_from or "", 2),
            inc.date or date.max)


def _place_rank(inc: Incident) -> tuple:
    p = inc.place
    if p is None:
        return (2, inc.geo_precision or 9)
    return (0 if p.has_point else 1, inc.geo_precision or 9, p.name or "", p.geonameid or 0, p.lat or 0.0,
            p.lon or 0.0, p.country or "", p.admin1 or "", p.kind or "")


def _copy(inc: Incident) -> Incident:
    """A copy whose lists can change without changing the original's (places and spans are not changed);
    made from its fields, at a fraction of `copy.copy`'s cost (ingest makes one a report)."""
    return Incident(*(list(value) if isinstance(value, list) else value
                      for value in (getattr(inc, name) for name in _FIELDS)))


def _key(inc: Incident) -> tuple:
    if inc.point:
        return (inc.event_type, math.floor(inc.point[0] / _CELL_DEGREES), math.floor(inc.point[1] / _CELL_DEGREES))
    return (inc.event_type, inc.country)


def _neighbour_keys(inc: Incident) -> list[tuple]:
    """The grid cells within SAME_EVENT_KM of the point (more cells of longitude nearer the poles)."""
    if not inc.point:
        return [_key(inc)]
    _, la, lo = _key(inc)
    lon_cells = math.ceil(degrees_around(inc.point[0])[1] / _CELL_DEGREES)
    return [(inc.event_type, la + i, lo + j) for i in (-2, -1, 0, 1, 2) for j in range(-lon_cells, lon_cells + 1)]
