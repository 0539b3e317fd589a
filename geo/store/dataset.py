"""A GeoParquet dataset (written by `ingest --workers N --out dataset/`) read like a store, read-only.

The dashboard opens it when `GEO_DB` names the dataset's folder. Reads stay fast over millions of
incidents: the monthly partitions outside the date filter are never opened, and Parquet reads only
the columns and row groups asked for; the other filters apply to what is read.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from .auth import LOCAL, User
from .errors import StoreError
from .frame import conform, incidents_frame, unique_values
from .queries import Filters


class DatasetStore:
    """The read side of `geo.store.Store` over a GeoParquet dataset; every write is refused."""

    dialect = "geoparquet"
    read_only = True

    def __init__(self, path: Path, user: User = LOCAL) -> None:
        if not any(path.glob("month=*/*.parquet")):
            raise StoreError(f"{path}: not a GeoParquet dataset of incidents (no month=*/ partitions)")
        self.path, self.user, self.url = path, user, str(path)

    def for_user(self, user: User) -> "DatasetStore":
        return DatasetStore(self.path, user)

    def close(self) -> None:
        pass

    def __enter__(self) -> "DatasetStore":
        return self

    def __exit__(self, *exc) -> None:
        pass

    def _months(self, filters: Filters) -> list[Path]:
        out = []
        for folder in sorted(self.path.glob("month=*")):
            month = folder.name.split("=", 1)[1]
            if month != "undated":
                first = date.fromisoformat(f"{month}-01")
                last = (pd.Timestamp(first) + pd.offsets.MonthEnd(0)).date()
                if (filters.date_from and last < filters.date_from) or (filters.date_to and first > filters.date_to):
                    continue
            elif filters.date_from or filters.date_to:
                continue
            out.extend(sorted(folder.glob("*.parquet")))
        return out

    def incidents(self, filters: Filters | None = None, limit: int | None = None) -> gpd.GeoDataFrame:
        filters = filters or Filters()
        conditions = []
        if filters.event_types:
            conditions.append(("event_type", "in", list(filters.event_types)))
        if filters.countries:
            conditions.append(("country", "in", [c.upper() for c in filters.countries]))
        parts = [gpd.read_parquet(p, filters=conditions or None) for p in self._months(filters)]
        if not parts:
            return _with_version(incidents_frame([]))
        frame = conform(gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs="EPSG:4326"))
        keep = pd.Series(True, index=frame.index)
        if filters.date_from:
            keep &= frame["date"] >= pd.Timestamp(filters.date_from)
        if filters.date_to:
            keep &= frame["date"] <= pd.Timestamp(filters.date_to)
        if filters.bbox:
            min_lon, min_lat, max_lon, max_lat = filters.bbox
            x, y = frame.geometry.x, frame.geometry.y
            keep &= x.between(min_lon, max_lon).fillna(False) & y.between(min_lat, max_lat).fillna(False)
        if filters.min_casualties:
            keep &= frame["killed"].fillna(0) + frame["wounded"].fillna(0) >= filters.min_casualties
        if filters.text:
            text = filters.text.lower()
            keep &= pd.concat([frame[c].fillna("").str.lower().str.contains(text, regex=False)
                               for c in ("evidence", "place_name", "actors", "claimed_by")], axis=1).any(axis=1)
        for actor in filters.actors:
            keep &= frame["actors"].fillna("").str.lower().str.contains(actor.lower(), regex=False)
        frame = frame[keep.astype(bool)].sort_values("date", ascending=False, na_position="last").reset_index(drop=True)
        return _with_version(frame.head(limit) if limit else frame)

    def choices(self) -> dict[str, Any]:
        frame = self.incidents()
        dated = frame["date"].dropna()
        return {"first_day": dated.min().date() if len(dated) else None,
                "last_day": dated.max().date() if len(dated) else None,
                "countries": sorted(frame["country"].dropna().unique()), "actors": unique_values(frame, "actors"),
                "incidents": len(frame)}

    def revision(self) -> tuple:
        return tuple((p.name, p.stat().st_mtime_ns) for p in sorted(self.path.glob("month=*/*.parquet")))

    def counts(self) -> dict[str, int]:
        return {"articles": 0, "incidents": len(self.incidents()), "incident_sources": 0, "corrections": 0}

    def articles(self) -> pd.DataFrame:
        return pd.DataFrame(columns=["article_key", "external_id", "title", "source", "url", "published",
                                     "ingested_at"])

    def article(self, key: str):
        return None

    def sources(self, incident_ids: list[str] | None = None) -> pd.DataFrame:
        return pd.DataFrame(columns=["incident_id", "article_key", "external_id", "title", "url", "published",
                                     "evidence", "killed", "wounded"])

    def corrections(self, incident: str | None = None) -> pd.DataFrame:
        return pd.DataFrame(columns=["fid", "incident_id", "field", "before", "after", "who", "at", "note"])

    def roles(self) -> pd.DataFrame:
        return pd.DataFrame(columns=["name", "role", "set_by", "set_at"])

    def role_of(self, name: str) -> str | None:
        return None

    def __getattr__(self, name: str) -> Any:
        if name in ("ingest", "store_document", "correct", "delete_article", "undo", "set_role", "reprocess"):
            def refuse(*args, **kwargs):
                raise StoreError(f"{self.path} is a GeoParquet dataset, read-only; write to a store "
                                 "(a GeoPackage or PostGIS) instead")
            return refuse
        raise AttributeError(name)


def _with_version(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    frame["version"] = pd.array([1] * len(frame), dtype="Int64")
    return frame
