"""One event, one incident across articles.

Two incidents are the same event when they have the same type, happened at most a day apart and
within 25 km (strategic developments without a point: the same topic and country). The merged
incident lists every source, keeps the most specific place, widens the casualty ranges, and takes
its counts from the latest report, so an updated toll revises it.
"""
from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import date

from ..places.geodesy import km
from ..text.incidents import Incident

SAME_EVENT_KM = 25.0
SAME_EVENT_DAYS = 1


def same_event(a: Incident, b: Incident) -> bool:
    if a.event_type != b.event_type or a.topic != b.topic:
        return False
    if a.date is None or b.date is None or abs((a.date - b.date).days) > SAME_EVENT_DAYS:
        return False
    if a.point and b.point:
        return km(a.point, b.point) <= SAME_EVENT_KM
    # Without points, only the same country with no stated place at all can be the same event.
    return a.point is None and b.point is None and a.country is not None and a.country == b.country


def merge_incidents(incidents: Iterable[Incident], published: dict[str, date] | None = None) -> list[Incident]:
    """Merge the same event reported by several articles. `published` maps article ids to their
    publication dates, so the latest report's toll wins; incidents are not modified in place."""
    published = published or {}
    merged: list[Incident] = []
    buckets: dict[tuple, list[int]] = {}
    for inc in incidents:
        target = None
        for key in _neighbour_keys(inc):
            for i in buckets.get(key, ()):
                if same_event(merged[i], inc):
                    target = i
                    break
            if target is not None:
                break
        if target is None:
            merged.append(_copy(inc))
            buckets.setdefault(_key(inc), []).append(len(merged) - 1)
        else:
            merged[target] = combine(merged[target], inc, published)
    return merged


def combine(a: Incident, b: Incident, published: dict[str, date]) -> Incident:
    """The incident both reports describe."""
    out = _copy(a)
    latest_a = max((published.get(s, date.min) for s in a.sources), default=date.min)
    latest_b = max((published.get(s, date.min) for s in b.sources), default=date.min)
    newer = b if latest_b > latest_a else a
    for kind in ("killed", "wounded"):
        values = [getattr(x, kind) for x in (a, b) if getattr(x, kind) is not None]
        lows = [getattr(x, kind + "_low") for x in (a, b) if getattr(x, kind + "_low") is not None]
        highs = [v for x in (a, b) for v in (getattr(x, kind + "_high"), getattr(x, kind)) if v is not None]
        current = getattr(newer, kind)
        setattr(out, kind, current if current is not None else (values[0] if values else None))
        setattr(out, kind + "_low", min(lows) if lows else None)
        setattr(out, kind + "_high", max(highs) if highs and all(getattr(x, kind + "_high") is not None
                                                                 for x in (a, b) if getattr(x, kind) is not None)
                else None)
        texts = getattr(out, kind + "_text")
        texts.extend(t for t in getattr(b, kind + "_text") if t not in texts)
    if b.point and (not a.point or b.geo_precision < a.geo_precision):
        out.place, out.geo_precision = copy.copy(b.place), b.geo_precision
    if b.date_precision == "day" and a.date_precision != "day":
        out.date, out.date_precision, out.date_from = b.date, b.date_precision, b.date_from
    for name in ("actors", "claimed_by", "victims", "sources", "notes"):
        into = getattr(out, name)
        into.extend(x for x in getattr(b, name) if x not in into)
    out.contested = a.contested or b.contested
    return out


def _copy(inc: Incident) -> Incident:
    """A copy whose lists can change without changing the original's (places and spans are not changed)."""
    out = copy.copy(inc)
    for name in ("killed_text", "wounded_text", "victims", "actors", "claimed_by", "sentences", "sources", "notes"):
        setattr(out, name, list(getattr(inc, name)))
    return out


def _key(inc: Incident) -> tuple:
    if inc.point:
        return (inc.event_type, round(inc.point[0] * 4), round(inc.point[1] * 4))
    return (inc.event_type, inc.country)


def _neighbour_keys(inc: Incident) -> list[tuple]:
    """Grid cells of a quarter degree around the point (25 km fits in one cell's neighbours)."""
    if not inc.point:
        return [_key(inc)]
    la, lo = round(inc.point[0] * 4), round(inc.point[1] * 4)
    return [(inc.event_type, la + i, lo + j) for i in (-1, 0, 1) for j in (-1, 0, 1)]
