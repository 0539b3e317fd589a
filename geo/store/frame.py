"""Incidents as a GeoDataFrame: the one object the dashboard, the store and the exports are built from.

One row per incident, Point geometry in EPSG:4326 (None where the text names no locatable place),
and these columns, always present and always of these dtypes, even for an empty frame:

| column | dtype | meaning |
|---|---|---|
| incident_id | string | stable id: a hash of the first source, the evidence span, type, topic, place and date |
| event_type | category | ACLED's six types (`EVENT_TYPES`) |
| date | datetime64[s] | the day (first of the month or year at coarser precision) |
| date_precision | string | "day", "month", "year" |
| date_from | string | "text" (the article dates it) or "publication" |
| geo_precision | Int8 | 1 the named town, 2 near it or a district, 3 a province, region or country |
| place_name, country, admin1 | string | where; country is ISO 3166-1 alpha-2 |
| geonameid | Int64 | GeoNames id of the place |
| killed, killed_low, killed_high | Int64 | the coded count and its range (null: not stated / no bound) |
| wounded, wounded_low, wounded_high | Int64 | as killed |
| killed_text, wounded_text | string | the wording of the counts, "; "-joined |
| victims, actors, claimed_by | string | "; "-joined lists |
| contested | bool | accounts disagree |
| evidence | string | the sentence that states it |
| evidence_start, evidence_end | Int64 | its offsets in the first source's text |
| sources | string | "; "-joined article ids |
| n_sources | Int64 | how many articles report it |
| notes | string | why something was left out or doubted |
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point

from ..text.incidents import EVENT_TYPES, Incident

CRS = "EPSG:4326"
LIST_SEPARATOR = "; "
COLUMNS: dict[str, str] = {
    "incident_id": "string", "event_type": "category", "date": "datetime64[s]", "date_precision": "string",
    "date_from": "string", "geo_precision": "Int8", "place_name": "string", "country": "string",
    "admin1": "string", "geonameid": "Int64",
    "killed": "Int64", "killed_low": "Int64", "killed_high": "Int64",
    "wounded": "Int64", "wounded_low": "Int64", "wounded_high": "Int64",
    "killed_text": "string", "wounded_text": "string", "victims": "string", "actors": "string",
    "claimed_by": "string", "contested": "bool", "evidence": "string", "evidence_start": "Int64",
    "evidence_end": "Int64", "sources": "string", "n_sources": "Int64", "notes": "string",
}
EVENT_TYPE_DTYPE = pd.CategoricalDtype(list(EVENT_TYPES))


def split_list(value: object) -> list[str]:
    """The items of a "; "-joined list column (nothing for an empty or missing value)."""
    return value.split(LIST_SEPARATOR) if isinstance(value, str) and value else []


def unique_values(frame: pd.DataFrame, column: str) -> list[str]:
    """The distinct entries of a "; "-joined list column, for a filter's choices."""
    seen: dict[str, None] = {}
    for value in frame[column].dropna():
        for item in split_list(value):
            seen.setdefault(item, None)
    return sorted(seen)


def incident_id(inc: Incident) -> str:
    """Stable across runs: the same article, sentence, type, topic, place and date give the same id."""
    place = inc.place.name if inc.place else ""
    key = (f"{inc.sources[0] if inc.sources else ''}|{inc.evidence.start}|{inc.evidence.end}|{inc.event_type}|"
           f"{inc.topic or ''}|{place}|{inc.date or ''}")
    return hashlib.sha1(key.encode()).hexdigest()[:16]


def incident_record(inc: Incident) -> dict:
    place = inc.place
    join = LIST_SEPARATOR.join
    return {
        "incident_id": incident_id(inc), "event_type": inc.event_type,
        "date": pd.Timestamp(inc.date) if inc.date else pd.NaT, "date_precision": inc.date_precision,
        "date_from": inc.date_from, "geo_precision": inc.geo_precision,
        "place_name": place.name if place else None, "country": place.country if place else None,
        "admin1": place.admin1 if place else None, "geonameid": place.geonameid if place else None,
        "killed": inc.killed, "killed_low": inc.killed_low, "killed_high": inc.killed_high,
        "wounded": inc.wounded, "wounded_low": inc.wounded_low, "wounded_high": inc.wounded_high,
        "killed_text": join(inc.killed_text), "wounded_text": join(inc.wounded_text),
        "victims": join(inc.victims), "actors": join(inc.actors), "claimed_by": join(inc.claimed_by),
        "contested": inc.contested, "evidence": inc.evidence.text, "evidence_start": inc.evidence.start,
        "evidence_end": inc.evidence.end, "sources": join(inc.sources), "n_sources": len(inc.sources),
        "notes": join(inc.notes),
        "geometry": Point(place.lon, place.lat) if place and place.has_point else None,
    }


def incidents_frame(incidents: Iterable[Incident]) -> gpd.GeoDataFrame:
    """A GeoDataFrame of incidents with the documented columns and dtypes."""
    records = [incident_record(inc) for inc in incidents]
    frame = pd.DataFrame.from_records(records, columns=[*COLUMNS, "geometry"])
    return conform(gpd.GeoDataFrame(frame, geometry="geometry", crs=CRS))


def conform(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Cast a frame (built here, or read back from a file) to the documented dtypes."""
    for column, dtype in COLUMNS.items():
        if column not in frame:
            frame[column] = pd.Series([None] * len(frame), index=frame.index, dtype="object")
        if column == "event_type":
            frame[column] = frame[column].astype("object").astype(EVENT_TYPE_DTYPE)
        elif column == "date":
            frame[column] = pd.to_datetime(frame[column]).astype(dtype)
        elif column == "contested":
            frame[column] = frame[column].fillna(False).astype(bool)
        else:
            frame[column] = frame[column].astype(dtype)
    ordered = gpd.GeoDataFrame(frame[[*COLUMNS, frame.geometry.name]], geometry=frame.geometry.name)
    points = ordered.geometry.values
    # An unplaced incident has no geometry: not POINT EMPTY, not POINT(NaN NaN) (what PostGIS and
    # points_from_xy make of NULL coordinates), which exports would write as invalid points.
    unplaced = ~shapely.is_missing(points) & (shapely.is_empty(points) | np.isnan(shapely.get_x(points))
                                               | np.isnan(shapely.get_y(points)))
    if unplaced.any():
        ordered.loc[unplaced, ordered.geometry.name] = None
    return ordered.set_crs(CRS, allow_override=True) if ordered.crs is None else ordered.to_crs(CRS)
