"""Incidents and other values as table rows, and back: the conversions writing, reading and the audit
log share."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import sqlalchemy as sa

from ..text.incidents import Incident, IncidentPlace, Span
from .frame import LIST_SEPARATOR, incident_record, split_list
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
    record = incident_record(inc)
    record.pop("geometry")
    for column in LIST_COLUMNS:
        record[column] = join(getattr(inc, column))
    record["date"] = inc.date
    record["topic"] = inc.topic
    record["lat"] = record["point_lat"] = inc.place.lat if inc.place and inc.place.has_point else None
    record["lon"] = record["point_lon"] = inc.place.lon if inc.place and inc.place.has_point else None
    return record


def incident_from_row(row: Any) -> Incident:
    m = row._mapping
    place = None
    if m["place_name"] is not None or m["country"] is not None:
        place = IncidentPlace(m["place_name"], m["geonameid"], m["country"], m["lat"], m["lon"], admin1=m["admin1"])
    inc = Incident(m["event_type"], place, m["geo_precision"] or 3, m["date"], m["date_precision"],
                   Span(m["evidence_start"] or 0, m["evidence_end"] or 0, m["evidence"] or ""),
                   date_from=m["date_from"], topic=m["topic"], contested=bool(m["contested"]))
    for column in ("killed", "killed_low", "killed_high", "wounded", "wounded_low", "wounded_high"):
        setattr(inc, column, m[column])
    for column in LIST_COLUMNS:
        setattr(inc, column, split_list(m[column]))
    return inc
