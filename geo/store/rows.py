"""Incidents and other values as table rows, and back: the conversions writing, reading and the audit
log share."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import sqlalchemy as sa

from ..text.incidents import Incident, IncidentPlace, Span
from .frame import LIST_SEPARATOR, incident_id, split_list
from .schema import LIST_COLUMNS


def now() -> datetime:
    return datetime.now(timezone.utc)


def join(items: list[str]) -> str:
    """A list column's value: the items "; "-joined (a separator inside an item becomes a comma)."""
    return LIST_SEPARATOR.join(x.replace(LIST_SEPARATOR, ", ") for x in items)


def as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def row_json(row: Any) -> dict[str, Any]:
    """A table row as JSON-ready values (geometries left out: they follow lat and lon)."""
    return {k: jsonable(v) for k, v in row._mapping.items() if k not in ("fid", "geom")}


def from_row_json(table: sa.Table, values: dict[str, Any]) -> dict[str, Any]:
    """Values of `row_json` typed back for `table`'s columns."""
    out = {}
    for name, value in values.items():
        column = table.c.get(name)
        if column is None:
            continue
        if value is not None and isinstance(column.type, sa.Date):
            value = date.fromisoformat(value)
        elif value is not None and name in ("ingested_at", "updated_at", "at", "set_at"):
            value = datetime.fromisoformat(value)
        out[name] = value
    return out


def incident_row(inc: Incident) -> dict[str, Any]:
    """The values of an incident's row, with `point_lat`/`point_lon` for its geometry (`engines.point_sql`)."""
    place = inc.place
    lat, lon = (place.lat, place.lon) if place and place.has_point else (None, None)
    row = {"incident_id": incident_id(inc), "event_type": inc.event_type, "topic": inc.topic, "date": inc.date,
           "date_precision": inc.date_precision, "date_from": inc.date_from, "geo_precision": inc.geo_precision,
           "place_name": place.name if place else None, "country": place.country if place else None,
           "admin1": place.admin1 if place else None, "geonameid": place.geonameid if place else None,
           "lat": lat, "lon": lon, "point_lat": lat, "point_lon": lon, "contested": inc.contested,
           "evidence": inc.evidence.text, "evidence_start": inc.evidence.start, "evidence_end": inc.evidence.end,
           "n_sources": len(inc.sources)}
    for column in ("killed", "killed_low", "killed_high", "wounded", "wounded_low", "wounded_high"):
        row[column] = getattr(inc, column)
    for column in LIST_COLUMNS:
        row[column] = join(getattr(inc, column))
    return row


def incident_from_row(row: Any) -> Incident:
    """An incident from its row (an SQLAlchemy row, or a dict of a row's values by column)."""
    m = getattr(row, "_mapping", row)
    place = None
    if m["place_name"] is not None or m["country"] is not None:
        place = IncidentPlace(m["place_name"], m["geonameid"], m["country"], m["lat"], m["lon"], admin1=m["admin1"])
    inc = Incident(m["event_type"], place, m["geo_precision"] or 3, as_date(m["date"]), m["date_precision"],
                   Span(m["evidence_start"] or 0, m["evidence_end"] or 0, m["evidence"] or ""),
                   date_from=m["date_from"], topic=m["topic"], contested=bool(m["contested"]))
    for column in ("killed", "killed_low", "killed_high", "wounded", "wounded_low", "wounded_high"):
        setattr(inc, column, m[column])
    for column in LIST_COLUMNS:
        setattr(inc, column, split_list(m[column]))
    return inc
