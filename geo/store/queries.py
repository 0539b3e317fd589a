"""Reading the store: the filters users narrow incidents with, and the queries the dashboard, the
exports and the CLI read through."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import date
from typing import Any

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa

from ..text.document import Article
from ..text.incidents import EVENT_TYPES
from . import engines
from .errors import StoreError
from .frame import COLUMNS, conform, split_list
from .rows import as_date
from .schema import articles, corrections, incident_sources, incidents, user_roles

MAX_COUNT = 2**31 - 1   # the largest count a filter may ask for (an SQL INTEGER)
MAX_TEXT = 1000


class BadFilter(StoreError, ValueError):
    """A filter value no query should get; said in one line."""


READ_COLUMNS = tuple(c for c in COLUMNS if c in incidents.c) + ("version",)
ARTICLE_EXISTS = sa.select(articles.c.fid).where(articles.c.article_key == sa.bindparam("key"))


@dataclass(frozen=True)
class Filters:
    """What a user narrows the incidents to; the dashboard and `export` share these."""

    date_from: date | None = None
    date_to: date | None = None
    event_types: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    bbox: tuple[float, float, float, float] | None = None   # min lon, min lat, max lon, max lat
    min_casualties: int = 0                                  # killed + wounded
    text: str = ""                                           # in the evidence, place, actors, claims
    actors: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Refuse what no query should get (values from a URL or a command line): each is one line."""
        for name in ("date_from", "date_to"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, date):
                raise BadFilter(f"{name} must be a date, not {value!r}")
        unknown = [t for t in self.event_types if t not in EVENT_TYPES]
        if unknown:
            raise BadFilter(f"unknown event type {unknown[0]!r} (one of {', '.join(EVENT_TYPES)})")
        for country in self.countries:
            if not (isinstance(country, str) and len(country) == 2 and country.isascii() and country.isalpha()):
                raise BadFilter(f"country {country!r} is not a two-letter ISO code")
        if self.bbox is not None:
            try:
                min_lon, min_lat, max_lon, max_lat = (float(x) for x in self.bbox)
            except (TypeError, ValueError):
                raise BadFilter(f"bbox {self.bbox!r} is not four numbers") from None
            if not all(map(math.isfinite, (min_lon, min_lat, max_lon, max_lat))) or min_lon > max_lon \
                    or min_lat > max_lat:
                raise BadFilter(f"bbox {self.bbox!r} is not a box (min lon, min lat, max lon, max lat)")
            object.__setattr__(self, "bbox", (max(min_lon, -180.0), max(min_lat, -90.0), min(max_lon, 180.0),
                                              min(max_lat, 90.0)))
        if isinstance(self.min_casualties, bool) or not isinstance(self.min_casualties, int) \
                or not 0 <= self.min_casualties <= MAX_COUNT:
            raise BadFilter(f"min_casualties must be a whole number from 0 to {MAX_COUNT}")
        for value in (self.text, *self.actors):
            if not isinstance(value, str) or "\x00" in value or len(value) > MAX_TEXT:
                raise BadFilter(f"text filters are text of {MAX_TEXT} characters at most, without NUL")

    def clauses(self, t: Any = incidents.c) -> list[sa.ColumnElement]:
        """SQL conditions on the incidents table (`t`: its columns), every value a bound parameter;
        `%` and `_` in text match themselves."""
        out: list[sa.ColumnElement] = []
        if self.date_from:
            out.append(t.date >= self.date_from)
        if self.date_to:
            out.append(t.date <= self.date_to)
        if self.event_types:
            out.append(t.event_type.in_(list(self.event_types)))
        if self.countries:
            out.append(t.country.in_([c.upper() for c in self.countries]))
        if self.bbox:
            min_lon, min_lat, max_lon, max_lat = self.bbox
            out.append(sa.and_(t.lon.between(min_lon, max_lon), t.lat.between(min_lat, max_lat)))
        if self.min_casualties:
            out.append(sa.func.coalesce(t.killed, 0) + sa.func.coalesce(t.wounded, 0) >= self.min_casualties)
        if self.text:
            pattern = _containing(self.text)
            out.append(sa.or_(*(column.ilike(pattern, escape="\\") for column in
                                (t.evidence, t.place_name, t.actors, t.claimed_by))))
        for actor in self.actors:
            out.append(t.actors.ilike(_containing(actor), escape="\\"))
        return out


def _containing(text: str) -> str:
    """A LIKE pattern for values containing `text` literally (its `%`, `_` and `\\` escaped)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class Reading:
    """The read side of `geo.store.Store` (a mixin: it needs `engine`, `dialect`, `url` and `read()`)."""

    def has_article(self, key: str) -> bool:
        with self.read() as conn:
            return conn.execute(ARTICLE_EXISTS, {"key": key}).first() is not None

    def incidents(self, filters: Filters | None = None, limit: int | None = None) -> gpd.GeoDataFrame:
        """The incidents as a GeoDataFrame with the documented columns (`geo.store.frame`) and `version`,
        newest first."""
        filters = filters or Filters()
        if self.dialect == "sqlite" and limit is None:
            frame = self._read_gpkg(filters)
        else:
            columns = [incidents.c[c] for c in READ_COLUMNS] + [incidents.c.lat, incidents.c.lon]
            q = sa.select(*columns).where(*filters.clauses()).order_by(incidents.c.date.desc(), incidents.c.fid)
            frame = self._frame(q.limit(limit) if limit else q)
            geometry = gpd.points_from_xy(frame["lon"], frame["lat"], crs="EPSG:4326")
            frame = gpd.GeoDataFrame(frame.drop(columns=["lat", "lon"]), geometry=geometry)
        versions = frame["version"].astype("Int64")
        out = conform(frame)
        out["version"] = versions.to_numpy()
        return out

    def _read_gpkg(self, filters: Filters) -> gpd.GeoDataFrame:
        """GDAL reads a GeoPackage through Arrow several times faster than rows through Python. GDAL
        takes no bound parameters, so the filters run first as a bound query for the matching fids, and
        GDAL gets only those integers."""
        import pyogrio
        import pyogrio.errors
        engines.checkpoint(self.engine)
        where = None
        clauses = filters.clauses()
        if clauses:
            with self.read() as conn:
                fids = conn.execute(sa.select(incidents.c.fid).where(*clauses)).scalars().all()
            where = f"fid IN ({','.join(str(int(f)) for f in fids)})" if fids else "0"
        for attempt in range(20):
            try:
                frame = pyogrio.read_dataframe(self.engine.url.database, layer="incidents",
                                               columns=list(READ_COLUMNS), where=where, use_arrow=True,
                                               fid_as_index=True)
                break
            except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:  # a writer committing now
                if "locked" not in str(exc) or attempt == 19:
                    raise StoreError(f"{self.url}: cannot read: {exc}") from None
                time.sleep(0.05 * (attempt + 1))
        frame = frame.sort_index().sort_values("date", ascending=False, kind="stable", na_position="last")
        return frame.reset_index(drop=True)

    def articles(self) -> pd.DataFrame:
        frame = self._frame(sa.select(articles.c.article_key, articles.c.external_id, articles.c.title,
                                      articles.c.source, articles.c.url, articles.c.published,
                                      articles.c.ingested_at).order_by(articles.c.fid))
        frame["published"] = pd.to_datetime(frame["published"]).dt.date
        return frame

    def _frame(self, q: sa.Select) -> pd.DataFrame:
        """A query's rows as a DataFrame, read through the driver's cursor: SQLAlchemy's row objects
        cost more than the query itself on 100,000 rows. Dates and times come back as the driver
        gives them (ISO strings from SQLite)."""
        compiled = q.compile(dialect=self.engine.dialect, compile_kwargs={"render_postcompile": True})
        params = compiled.params
        if compiled.positional:
            params = tuple(params[name] for name in compiled.positiontup)
        processors = compiled._bind_processors
        if compiled.positional:
            params = tuple(processors[n](v) if n in processors else v for n, v in zip(compiled.positiontup, params))
        with self.engine.connect() as conn:
            cursor = conn.connection.dbapi_connection.cursor()
            try:
                cursor.execute(str(compiled), params)
                rows = cursor.fetchall()
            finally:
                cursor.close()
        return pd.DataFrame.from_records(rows, columns=[c.name for c in q.selected_columns])

    def article(self, key: str) -> Article | None:
        with self.read() as conn:
            row = conn.execute(sa.select(articles).where(articles.c.article_key == key)).first()
        if row is None:
            return None
        return Article(row.external_id or key, row.text, row.title, row.published, row.source, row.url)

    def sources(self, incident_ids: list[str] | None = None) -> pd.DataFrame:
        """Each incident's sources: article key, id, title, URL, publication date, evidence."""
        q = (sa.select(incident_sources.c.incident_id, incident_sources.c.article_key, articles.c.external_id,
                       articles.c.title, articles.c.url, articles.c.published, incident_sources.c.evidence,
                       incident_sources.c.killed, incident_sources.c.wounded)
             .join(articles, articles.c.article_key == incident_sources.c.article_key)
             .order_by(sa.nulls_last(articles.c.published.asc()), incident_sources.c.article_key,
                       incident_sources.c.evidence_start))  # the same order however they came in
        if incident_ids is not None:
            q = q.where(incident_sources.c.incident_id.in_(incident_ids))
        frame = self._frame(q)
        frame["published"] = pd.to_datetime(frame["published"]).dt.date
        return frame

    def choices(self) -> dict[str, Any]:
        """What the filters offer, computed in the database (not by reading every incident): the first
        and last day, the countries, the actors, how many incidents there are."""
        t = incidents.c
        with self.read() as conn:
            first, last, total = conn.execute(sa.select(sa.func.min(t.date), sa.func.max(t.date),
                                                        sa.func.count())).one()
            countries = sorted(c for (c,) in conn.execute(sa.select(t.country).distinct()) if c)
            actors = sorted({a for (value,) in conn.execute(sa.select(t.actors).distinct()) for a in split_list(value)})
        return {"first_day": as_date(first), "last_day": as_date(last), "countries": countries, "actors": actors,
                "incidents": total}

    def revision(self) -> tuple:
        """Changes whenever anything is written (articles, merges, corrections, deletions): readers that
        cache what they read key it with this, so a change by anyone shows everywhere at once."""
        with self.read() as conn:
            return tuple(conn.execute(sa.select(
                sa.select(sa.func.count()).select_from(corrections).scalar_subquery(),
                sa.select(sa.func.count()).select_from(incident_sources).scalar_subquery(),
                sa.select(sa.func.count()).select_from(articles).scalar_subquery(),
                sa.select(sa.func.max(incidents.c.version)).scalar_subquery(),
                sa.select(sa.func.count()).select_from(user_roles).scalar_subquery())).one())

    def counts(self) -> dict[str, int]:
        with self.read() as conn:
            return {name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                    for name, table in (("articles", articles), ("incidents", incidents),
                                        ("incident_sources", incident_sources), ("corrections", corrections))}
