"""The store: articles, incidents and corrections in a GeoPackage file or a PostGIS database.

One interface, chosen by a URL (`--db` or `GEO_DB`): a file path or `sqlite:///...` opens a GeoPackage
(default `data/incidents.gpkg`: one file, no server, QGIS opens it), `postgresql://...` a PostGIS
database for a team. The same SQLAlchemy Core code runs on both; only the geometry column and the
locking differ.

Every article is written in one transaction: its row, its incidents (merged with the same event told
by articles already stored, `geo.store.merge`), their sources. A crash leaves the store as it was before
that article; two writers take turns (SQLite: BEGIN IMMEDIATE with a long busy timeout; PostgreSQL: a
transaction-scoped advisory lock), so neither fails with "database is locked" nor loses a merge. Ingesting the same text again changes nothing: articles are keyed by a hash of their
normalised text.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.types import UserDefinedType

from . import gpkg
from .auth import LOCAL, User
from ..text.document import Article
from .frame import COLUMNS, LIST_SEPARATOR, conform, incident_id, incident_record, split_list
from ..text.incidents import Incident, IncidentPlace, Span
from .merge import combine, same_event

SCHEMA_VERSION = 2
DEFAULT_DB = Path(__file__).resolve().parents[2] / "data" / "incidents.gpkg"
_LOCK_KEY = 7_467_913  # the advisory lock PostgreSQL writers take turns on
_BUSY_SECONDS = 120


class StoreError(Exception):
    """A problem with the store, said in one line."""


class EditConflict(StoreError):
    """Someone else changed the incident since it was loaded."""

    def __init__(self, incident: str, expected: int, found: int, last: dict | None) -> None:
        self.incident, self.expected, self.found, self.last = incident, expected, found, last
        by = f" by {last['who']} at {last['at']:%Y-%m-%d %H:%M} ({last['field']}: {last['before']} -> {last['after']})" \
            if last else ""
        super().__init__(f"incident {incident} was changed{by} since you loaded it (version {expected}, now "
                         f"{found}); reload it and apply your change again")


EDITABLE = {"event_type": str, "date": date, "date_precision": str, "geo_precision": int, "place_name": str,
            "country": str, "admin1": str, "geonameid": int, "lat": float, "lon": float, "killed": int,
            "killed_low": int, "killed_high": int, "wounded": int, "wounded_low": int, "wounded_high": int,
            "actors": str, "claimed_by": str, "victims": str, "contested": bool, "notes": str}


def _check_correction(name: str, value: Any) -> Any:
    """A corrected value, checked and typed; a bad one is refused with a reason."""
    from ..text.incidents import EVENT_TYPES
    if name not in EDITABLE:
        raise StoreError(f"{name!r} cannot be corrected (fields: {', '.join(sorted(EDITABLE))})")
    if value is None or (isinstance(value, str) and not value.strip() and EDITABLE[name] is not str):
        return None
    kind = EDITABLE[name]
    try:
        if kind is date:
            value = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        elif kind is bool:
            value = bool(value)
        else:
            value = kind(value)
    except (TypeError, ValueError):
        raise StoreError(f"{name}: {value!r} is not a valid {kind.__name__}") from None
    if name == "event_type" and value not in EVENT_TYPES:
        raise StoreError(f"event_type must be one of {', '.join(EVENT_TYPES)}")
    if name == "lat" and not -90 <= value <= 90 or name == "lon" and not -180 <= value <= 180:
        raise StoreError(f"{name} {value} is outside the earth")
    if name.startswith(("killed", "wounded")) and value < 0:
        raise StoreError(f"{name} cannot be negative")
    if name == "geo_precision" and value not in (1, 2, 3):
        raise StoreError("geo_precision is 1, 2 or 3")
    if name == "country":
        value = value.upper()
    return value


def _row_json(row: Any) -> dict[str, Any]:
    """A table row as JSON-ready values (geometries left out: they follow lat and lon)."""
    return {k: _jsonable(v) for k, v in row._mapping.items() if k not in ("fid", "geom")}


def _from_row_json(table: sa.Table, values: dict[str, Any]) -> dict[str, Any]:
    """Values of `_row_json` typed back for `table`'s columns."""
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


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def _from_json(name: str, value: Any) -> Any:
    return date.fromisoformat(value) if EDITABLE.get(name) is date and value else value


# -- schema ------------------------------------------------------------------------------------------
class PointColumn(UserDefinedType):
    """A point geometry in EPSG:4326: `POINT` (GeoPackage binary) in SQLite, PostGIS `geometry` in PostgreSQL.
    Values are written through SQL functions (see `_point_sql`), never bound directly."""

    cache_ok = True

    def get_col_spec(self, **kw) -> str:
        return "POINT"


@compiles(PointColumn, "postgresql")
def _postgis_point(element, compiler, **kw) -> str:
    return "geometry(POINT, 4326)"


# GeoPackage allows only some SQL type names (TEXT, INTEGER, DOUBLE, DATE, DATETIME ...), and GDAL
# reads DATETIME as ISO 8601 with a "T" and a "Z" (kept to the second).
Text = sa.Text
BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True).with_variant(sqlite.DATETIME(
    storage_format="%(year)04d-%(month)02d-%(day)02dT%(hour)02d:%(minute)02d:%(second)02dZ",
    regexp=r"(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)Z"), "sqlite")

metadata = sa.MetaData()
store_meta = sa.Table("store_meta", metadata, sa.Column("key", Text, primary_key=True),
                      sa.Column("value", Text, nullable=False))
articles = sa.Table(
    "articles", metadata,
    sa.Column("fid", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("article_key", Text, nullable=False, unique=True),   # hash of the normalised text
    sa.Column("external_id", Text), sa.Column("title", Text), sa.Column("source", Text),
    sa.Column("url", Text), sa.Column("published", sa.Date), sa.Column("text", sa.Text, nullable=False),
    sa.Column("ingested_at", Timestamp, nullable=False),
    sqlite_autoincrement=True)
_LIST_COLUMNS = ("killed_text", "wounded_text", "victims", "actors", "claimed_by", "sources", "notes")
_INT_COLUMNS = ("geo_precision", "geonameid", "killed", "killed_low", "killed_high", "wounded", "wounded_low",
                "wounded_high", "evidence_start", "evidence_end", "n_sources")
incidents = sa.Table(
    "incidents", metadata,
    sa.Column("fid", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("incident_id", Text, nullable=False, unique=True),
    sa.Column("event_type", Text, nullable=False), sa.Column("topic", Text),
    sa.Column("date", sa.Date), sa.Column("date_precision", Text), sa.Column("date_from", Text),
    sa.Column("geo_precision", sa.Integer), sa.Column("place_name", Text), sa.Column("country", Text),
    sa.Column("admin1", Text), sa.Column("geonameid", BigInt),
    sa.Column("lat", sa.Double), sa.Column("lon", sa.Double),
    *[sa.Column(c, sa.Integer) for c in ("killed", "killed_low", "killed_high", "wounded", "wounded_low",
                                         "wounded_high")],
    *[sa.Column(c, sa.Text) for c in ("killed_text", "wounded_text", "victims", "actors", "claimed_by")],
    sa.Column("contested", sa.Boolean, nullable=False, default=False),
    sa.Column("evidence", sa.Text), sa.Column("evidence_start", sa.Integer), sa.Column("evidence_end", sa.Integer),
    sa.Column("sources", sa.Text), sa.Column("n_sources", sa.Integer), sa.Column("notes", sa.Text),
    sa.Column("version", sa.Integer, nullable=False, default=1),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("geom", PointColumn),
    sa.Index("incidents_type_date", "event_type", "date"), sa.Index("incidents_lat_lon", "lat", "lon"),
    sa.Index("incidents_country", "country"),
    sqlite_autoincrement=True)
incident_sources = sa.Table(
    "incident_sources", metadata,
    sa.Column("fid", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("incident_id", Text, nullable=False, index=True),
    sa.Column("article_key", Text, nullable=False, index=True),
    sa.Column("evidence_start", sa.Integer), sa.Column("evidence_end", sa.Integer), sa.Column("evidence", sa.Text),
    sa.Column("killed", sa.Integer), sa.Column("wounded", sa.Integer),
    sa.UniqueConstraint("incident_id", "article_key", "evidence_start"),
    sqlite_autoincrement=True)
corrections = sa.Table(
    "corrections", metadata,
    sa.Column("fid", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("incident_id", Text, nullable=False, index=True),
    sa.Column("field", Text, nullable=False),
    sa.Column("before", sa.Text), sa.Column("after", sa.Text),   # JSON values
    sa.Column("who", Text, nullable=False), sa.Column("at", Timestamp, nullable=False),
    sa.Column("note", sa.Text),
    sqlite_autoincrement=True)
_READ_COLUMNS = tuple(c for c in COLUMNS if c in incidents.c) + ("version",)
def _candidates_query(where: sa.ColumnElement) -> sa.Select:
    """Stored incidents that may be the same event as a new one: same type (or re-typed by a person from
    it), a day apart at most, and `where`. Built once, with parameters, so ingest compiles it once."""
    t = incidents.c
    retyped = sa.select(corrections.c.incident_id).where(corrections.c.field == "event_type",
                                                         corrections.c.before == sa.bindparam("retyped"))
    return sa.select(incidents).where(
        sa.or_(t.event_type == sa.bindparam("event_type"), t.incident_id.in_(retyped)),
        t.date.between(sa.bindparam("day_from", type_=sa.Date), sa.bindparam("day_to", type_=sa.Date)), where)


_CANDIDATES_NEAR_POINT = _candidates_query(sa.and_(
    incidents.c.lat.between(sa.bindparam("lat_from"), sa.bindparam("lat_to")),
    incidents.c.lon.between(sa.bindparam("lon_from"), sa.bindparam("lon_to"))))
_CANDIDATES_IN_COUNTRY = _candidates_query(sa.and_(incidents.c.lat.is_(None),
                                                   incidents.c.country == sa.bindparam("country")))
DELETED_ARTICLE = "(article deleted)"   # the `field` of the correction that records a deletion
_CORRECTED_INCIDENTS = sa.select(corrections.c.incident_id).where(corrections.c.field != DELETED_ARTICLE).distinct()
_PUBLISHED = sa.select(articles.c.article_key, articles.c.published).where(
    articles.c.article_key.in_(sa.bindparam("keys", expanding=True)))
_ARTICLE_EXISTS = sa.select(articles.c.fid).where(articles.c.article_key == sa.bindparam("key"))
user_roles = sa.Table(
    "user_roles", metadata,
    sa.Column("fid", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", Text, nullable=False, unique=True),      # a user name or an OIDC e-mail
    sa.Column("role", Text, nullable=False), sa.Column("set_by", Text, nullable=False),
    sa.Column("set_at", Timestamp, nullable=False),
    sqlite_autoincrement=True)


def _add_user_roles(conn: sa.Connection) -> None:
    """Version 2: roles set by admins in the dashboard."""
    user_roles.create(conn, checkfirst=True)
    if conn.dialect.name == "sqlite":
        for statement in gpkg.metadata_statements({}, ["user_roles"]):
            conn.exec_driver_sql(statement)


# Migrations from each older schema version to the next; a store is brought up to SCHEMA_VERSION on open.
MIGRATIONS: dict[int, Callable[[sa.Connection], None]] = {1: _add_user_roles}


# -- values ------------------------------------------------------------------------------------------
def article_key(text: str) -> str:
    """The identity of an article: a hash of its text, Unicode-normalised with whitespace collapsed."""
    normal = " ".join(unicodedata.normalize("NFC", text).split())
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()[:16]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _join(items: list[str]) -> str:
    return LIST_SEPARATOR.join(x.replace(LIST_SEPARATOR, ", ") for x in items)


def _incident_row(inc: Incident) -> dict[str, Any]:
    record = incident_record(inc)
    record.pop("geometry")
    for column in _LIST_COLUMNS:
        record[column] = _join(getattr(inc, column))
    record["date"] = inc.date
    record["topic"] = inc.topic
    record["lat"] = record["point_lat"] = inc.place.lat if inc.place and inc.place.has_point else None
    record["lon"] = record["point_lon"] = inc.place.lon if inc.place and inc.place.has_point else None
    return record


def _incident_from_row(row: Any) -> Incident:
    m = row._mapping
    place = None
    if m["place_name"] is not None or m["country"] is not None:
        place = IncidentPlace(m["place_name"], m["geonameid"], m["country"], m["lat"], m["lon"], admin1=m["admin1"])
    inc = Incident(m["event_type"], place, m["geo_precision"] or 3, m["date"], m["date_precision"],
                   Span(m["evidence_start"] or 0, m["evidence_end"] or 0, m["evidence"] or ""),
                   date_from=m["date_from"], topic=m["topic"], contested=bool(m["contested"]))
    for column in ("killed", "killed_low", "killed_high", "wounded", "wounded_low", "wounded_high"):
        setattr(inc, column, m[column])
    for column in _LIST_COLUMNS:
        setattr(inc, column, split_list(m[column]))
    return inc


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

    def clauses(self, t: Any = incidents.c) -> list[sa.ColumnElement]:
        """SQL conditions on the incidents table (`t`: its columns, or unqualified stand-ins)."""
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
            pattern = f"%{self.text}%"
            out.append(sa.or_(t.evidence.ilike(pattern), t.place_name.ilike(pattern), t.actors.ilike(pattern),
                              t.claimed_by.ilike(pattern)))
        for actor in self.actors:
            out.append(t.actors.ilike(f"%{actor}%"))
        return out


@dataclass
class IngestResult:
    article_key: str
    status: str               # "new" or "unchanged"
    added: int = 0            # incidents new to the store
    merged: int = 0           # incidents that joined one already stored


@dataclass
class IngestSummary:
    new: int = 0
    unchanged: int = 0
    failed: int = 0
    added: int = 0
    merged: int = 0
    failures: list[str] = field(default_factory=list)

    def add(self, result: IngestResult) -> None:
        setattr(self, result.status, getattr(self, result.status) + 1)
        self.added += result.added
        self.merged += result.merged

    def __str__(self) -> str:
        return (f"articles: {self.new} new, {self.unchanged} unchanged, {self.failed} failed; "
                f"incidents: {self.added} added, {self.merged} merged")


# -- the store ---------------------------------------------------------------------------------------
def resolve_url(url: str | os.PathLike | None = None) -> str:
    """The store named by the argument, else GEO_DB, else data/incidents.gpkg: an SQLAlchemy URL, or the
    path of a folder (a GeoParquet dataset, read-only)."""
    raw = str(url) if url else os.environ.get("GEO_DB") or str(DEFAULT_DB)
    if raw.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + raw.split("://", 1)[1]
    if "://" in raw:
        return raw
    path = Path(raw).expanduser().resolve()
    return str(path) if path.is_dir() else f"sqlite:///{path}"


def display_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url


class Store:
    """Articles, incidents and corrections; `Store.open(url)` creates or upgrades the schema."""

    read_only = False

    def __init__(self, engine: sa.Engine, user: User = LOCAL) -> None:
        self.engine = engine
        self.user = user
        self.dialect = engine.dialect.name
        self.url = display_url(str(engine.url.render_as_string(hide_password=False)))
        self._insert_incident = incidents.insert().values(geom=self._point_sql())
        self._update_incident = (incidents.update().where(incidents.c.fid == sa.bindparam("_fid"))
                                 .values(geom=self._point_sql()))

    # opening ------------------------------------------------------------------------------------
    @classmethod
    def open(cls, url: str | os.PathLike | None = None) -> "Store":
        """A store by URL or path; a folder holding a GeoParquet dataset opens read-only (`geo.store.dataset`)."""
        full = resolve_url(url)
        if "://" not in full:
            from .dataset import DatasetStore
            return DatasetStore(Path(full))  # type: ignore[return-value]
        try:
            if full.startswith("sqlite"):
                engine = _sqlite_engine(full)
            elif full.startswith("postgresql"):
                engine = sa.create_engine(full, pool_pre_ping=True, connect_args={"connect_timeout": 10})
            else:
                raise StoreError(f"{display_url(full)}: not a store URL (a .gpkg path or postgresql://...)")
            store = cls(engine)
            store._prepare()
        except sa.exc.OperationalError as exc:
            raise StoreError(f"{display_url(full)}: cannot open the store: {_first_line(exc)}") from None
        except sa.exc.DatabaseError as exc:
            raise StoreError(f"{display_url(full)}: not a usable store: {_first_line(exc)}") from None
        return store

    def close(self) -> None:
        self.engine.dispose()

    def for_user(self, user: User) -> "Store":
        """The same store, acting as `user`: writes the user's role does not allow are refused."""
        view = copy.copy(self)
        view.user = user
        return view

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _point_sql(self) -> sa.ColumnElement:
        lon, lat = sa.bindparam("point_lon", type_=sa.Float), sa.bindparam("point_lat", type_=sa.Float)
        if self.dialect == "postgresql":
            return sa.func.ST_SetSRID(sa.func.ST_MakePoint(lon, lat), 4326)
        return sa.func.gpkg_point(lon, lat)

    def _prepare(self) -> None:
        """Create or upgrade the schema."""
        with self.write() as conn:
            inspector = sa.inspect(conn)
            if not inspector.has_table("store_meta"):
                if self.dialect == "sqlite" and inspector.get_table_names():
                    names = set(inspector.get_table_names())
                    if "gpkg_contents" not in names:
                        raise StoreError(f"{self.url}: an SQLite database that is not a GeoPackage store")
                self._create(conn)
                return
            found = conn.execute(sa.select(store_meta.c.value).where(store_meta.c.key == "schema_version")).scalar()
            version = int(found or 0)
            if version > SCHEMA_VERSION:
                raise StoreError(f"{self.url}: the store's schema is version {version}, newer than this program's "
                                 f"({SCHEMA_VERSION}); upgrade the program")
            for step in range(version, SCHEMA_VERSION):
                MIGRATIONS[step](conn)
            if version < SCHEMA_VERSION:
                conn.execute(store_meta.update().where(store_meta.c.key == "schema_version")
                             .values(value=str(SCHEMA_VERSION)))

    def _create(self, conn: sa.Connection) -> None:
        if self.dialect == "sqlite":
            conn.exec_driver_sql(f"PRAGMA application_id = {gpkg.APPLICATION_ID}")
            conn.exec_driver_sql(f"PRAGMA user_version = {gpkg.USER_VERSION}")
        else:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
        metadata.create_all(conn)
        if self.dialect == "sqlite":
            for statement in gpkg.metadata_statements({"incidents": "geom"},
                                                      ["articles", "incident_sources", "corrections",
                                                       "user_roles"]):
                conn.exec_driver_sql(statement)
        else:
            conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS incidents_geom_gist ON incidents USING gist (geom)")
        conn.execute(store_meta.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))

    # transactions -------------------------------------------------------------------------------
    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """One write transaction; writers take turns, readers are never blocked."""
        with self.engine.connect().execution_options(geo_write=True) as conn:
            with conn.begin():
                if self.dialect == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
                yield conn

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn:
            yield conn

    # articles -----------------------------------------------------------------------------------
    def has_article(self, key: str) -> bool:
        with self.read() as conn:
            return conn.execute(_ARTICLE_EXISTS, {"key": key}).first() is not None

    def ingest(self, article: Article, extract: Callable[[Article], Any]) -> IngestResult:
        """Store an article and its incidents (extracted with `extract`, e.g. the default pipeline)."""
        self.user.require("add")
        key = article_key(article.text)
        if self.has_article(key):
            return IngestResult(key, "unchanged")
        doc = extract(article)   # outside the transaction: writers hold the lock only to write
        return self.store_document(article, doc.incidents, key)

    def store_document(self, article: Article, found: list[Incident], key: str | None = None) -> IngestResult:
        self.user.require("add")
        key = key or article_key(article.text)
        pause = float(os.environ.get("GEO_INGEST_PAUSE", "0") or 0)  # a crash-test aid: sleep mid-transaction
        with self.write() as conn:
            if conn.execute(_ARTICLE_EXISTS, {"key": key}).first():
                return IngestResult(key, "unchanged")  # another writer stored it meanwhile
            conn.execute(articles.insert().values(
                article_key=key, external_id=article.id, title=article.title, source=article.source,
                url=article.url, published=article.published, text=article.text, ingested_at=_now()))
            result = IngestResult(key, "new")
            self._store_incidents(conn, found, key, article.published, result, pause)
        return result

    def _store_incidents(self, conn: sa.Connection, found: list[Incident], key: str, published: date | None,
                         result: IngestResult, pause: float = 0.0) -> None:
        """An article's incidents: each merged into the stored one of the same event, or added."""
        corrected = {r[0] for r in conn.execute(_CORRECTED_INCIDENTS)} if found else set()
        links = []
        for inc in found:
            inc.sources = [key]
            target = self._merge(conn, inc, key, published, corrected)
            if target:
                result.merged += 1
            else:
                target = incident_id(inc)
                self._insert(conn, inc)
                result.added += 1
            links.append({"incident_id": target, "article_key": key, "evidence_start": inc.evidence.start,
                          "evidence_end": inc.evidence.end, "evidence": inc.evidence.text, "killed": inc.killed,
                          "wounded": inc.wounded})
            if pause:
                time.sleep(pause)
        if links:
            conn.execute(incident_sources.insert(), links)  # one statement for all the article's sources

    def reprocess(self, extract: Callable[[list[Article]], Iterable[tuple[Article, list[Incident]]]]) -> dict[str, Any]:
        """Re-extract every stored article with the current extractor and rebuild the incidents (merged as
        ingest merges them), in one transaction; people's corrections are applied again to the incidents
        that keep their id. `extract` maps articles to (article, incidents), in one process or on a Dask
        cluster. Returns what changed."""
        self.user.require("delete")
        before = self.incidents()
        stored = self._frame(sa.select(articles.c.article_key, articles.c.external_id, articles.c.title,
                                       articles.c.source, articles.c.url, articles.c.published, articles.c.text)
                             .order_by(articles.c.fid))
        keyed = {}
        for row in stored.itertuples():
            published = date.fromisoformat(str(row.published)[:10]) if isinstance(row.published, (str, date)) \
                and str(row.published) else None
            keyed[row.article_key] = Article(row.external_id or row.article_key, row.text, row.title, published,
                                             row.source, row.url)
        results = {article_key(a.text): found for a, found in extract(list(keyed.values()))}
        with self.write() as conn:
            conn.execute(incident_sources.delete())
            conn.execute(incidents.delete())
            total = IngestResult("", "new")
            for key, article in keyed.items():  # in the order they were first ingested
                self._store_incidents(conn, results.get(key, []), key, article.published, total)
            corrected = {r.incident_id for r in conn.execute(sa.select(corrections.c.incident_id).where(
                corrections.c.field != DELETED_ARTICLE).distinct())}
            kept = 0
            for row in conn.execute(sa.select(incidents).where(incidents.c.incident_id.in_(corrected))).all():
                values = {}
                self._corrected(conn, row.incident_id, values)
                if values:
                    if "lat" in values or "lon" in values:
                        values["geom"] = self._point_sql().params(point_lat=values.get("lat", row.lat),
                                                                  point_lon=values.get("lon", row.lon))
                    conn.execute(incidents.update().where(incidents.c.fid == row.fid).values(**values))
                    kept += 1
        after = self.incidents()
        fields = ["event_type", "date", "place_name", "killed", "wounded", "n_sources"]
        old = before.set_index("incident_id")[fields].astype(str).fillna("")
        new = after.set_index("incident_id")[fields].astype(str).fillna("")
        common = old.index.intersection(new.index)
        return {"articles": len(keyed), "incidents_before": len(before), "incidents_after": len(after),
                "added": len(new.index.difference(old.index)), "removed": len(old.index.difference(new.index)),
                "changed": int((old.loc[common] != new.loc[common]).any(axis=1).sum()),
                "corrections_reapplied": kept, "corrections_orphaned": len(corrected - set(after.incident_id))}

    def _insert(self, conn: sa.Connection, inc: Incident) -> None:
        row = _incident_row(inc)
        row.update(version=1, updated_at=_now())
        conn.execute(self._insert_incident, row)

    def _merge(self, conn: sa.Connection, inc: Incident, key: str, published: date | None,
               corrected: set[str]) -> str | None:
        """Fold `inc` into the stored incident of the same event, if there is one; its id."""
        if inc.date is None:
            return None
        near = {"event_type": inc.event_type, "retyped": json.dumps(inc.event_type),
                "day_from": inc.date - timedelta(days=1), "day_to": inc.date + timedelta(days=1)}
        if inc.point:
            lat, lon = inc.point
            q = _CANDIDATES_NEAR_POINT
            near.update(lat_from=lat - 0.3, lat_to=lat + 0.3, lon_from=lon - 0.5, lon_to=lon + 0.5)
        elif inc.country:
            q = _CANDIDATES_IN_COUNTRY
            near["country"] = inc.country
        else:
            return None
        for row in conn.execute(q, near):
            stored = _incident_from_row(row)
            stored.event_type = inc.event_type if row.event_type != inc.event_type else stored.event_type
            if not same_event(stored, inc):
                continue
            # Which report is the latest matters only to choose between two tolls.
            tolls = (stored.killed_text or stored.wounded_text) and (inc.killed_text or inc.wounded_text)
            dates = self._published(conn, stored.sources + [key]) if tolls else {}
            if published:
                dates[key] = published
            values = _incident_row(combine(stored, inc, dates))
            if row.incident_id in corrected:
                self._corrected(conn, row.incident_id, values)
            values.update(incident_id=row.incident_id, version=row.version + 1, updated_at=_now(), _fid=row.fid)
            conn.execute(self._update_incident, values)
            return row.incident_id
        return None

    @staticmethod
    def _published(conn: sa.Connection, keys: list[str]) -> dict[str, date]:
        return {k: p for k, p in conn.execute(_PUBLISHED, {"keys": keys}) if p}

    # corrections ----------------------------------------------------------------------------------
    def correct(self, incident: str, changes: dict[str, Any], who: str | None = None,
                expected_version: int | None = None, note: str | None = None) -> int:
        """Change fields of an incident as a person's correction, recorded with the value before; returns
        the incident's new version. With `expected_version`, a change made meanwhile by someone else
        is refused (`EditConflict`) rather than overwritten. `who` defaults to the store's user."""
        self.user.require("correct")
        values = {name: _check_correction(name, value) for name, value in changes.items()}
        who = who if who is not None else self.user.name
        if not who or not who.strip():
            raise StoreError("a correction needs the name of who makes it")
        with self.write() as conn:
            row = conn.execute(sa.select(incidents).where(incidents.c.incident_id == incident)).first()
            if row is None:
                raise StoreError(f"no incident {incident!r} in {self.url}")
            if expected_version is not None and row.version != expected_version:
                raise EditConflict(incident, expected_version, row.version, self._last_correction(conn, incident))
            for kind in ("killed", "wounded"):  # a corrected count stays inside its range
                if values.get(kind) is not None:
                    low = values.get(f"{kind}_low", row._mapping[f"{kind}_low"])
                    high = values.get(f"{kind}_high", row._mapping[f"{kind}_high"])
                    if low is None or low > values[kind]:
                        values[f"{kind}_low"] = values[kind]
                    if high is not None and high < values[kind]:
                        values[f"{kind}_high"] = values[kind]
            changed = {k: v for k, v in values.items() if _jsonable(row._mapping[k]) != _jsonable(v)}
            if not changed:
                return row.version
            at = _now()
            for name, value in changed.items():
                conn.execute(corrections.insert().values(
                    incident_id=incident, field=name, before=json.dumps(_jsonable(row._mapping[name])),
                    after=json.dumps(_jsonable(value)), who=who.strip(), at=at, note=note))
            update = dict(changed, version=row.version + 1, updated_at=at)
            if "lat" in changed or "lon" in changed:
                lat, lon = update.get("lat", row.lat), update.get("lon", row.lon)
                update["geom"] = self._point_sql().params(point_lat=lat, point_lon=lon)
            conn.execute(incidents.update().where(incidents.c.fid == row.fid).values(**update))
            return row.version + 1

    def delete_article(self, key: str, note: str | None = None) -> int:
        """Delete an article, its sources, and the incidents no other article reports (admins only).
        Everything removed is kept in the audit log, so the deletion can be undone; returns its entry."""
        self.user.require("delete")
        with self.write() as conn:
            article = conn.execute(sa.select(articles).where(articles.c.article_key == key)).first()
            if article is None:
                raise StoreError(f"no article {key!r} in {self.url}")
            links = conn.execute(sa.select(incident_sources).where(incident_sources.c.article_key == key)).all()
            touched = sorted({link.incident_id for link in links})
            only_here = [i for i in touched if not conn.execute(
                sa.select(incident_sources.c.fid).where(incident_sources.c.incident_id == i,
                                                        incident_sources.c.article_key != key)).first()]
            removed = conn.execute(sa.select(incidents).where(incidents.c.incident_id.in_(only_here))).all()
            before = {"article": _row_json(article), "sources": [_row_json(r) for r in links],
                      "incidents": [_row_json(r) for r in removed]}
            conn.execute(incident_sources.delete().where(incident_sources.c.article_key == key))
            conn.execute(incidents.delete().where(incidents.c.incident_id.in_(only_here)))
            for incident in set(touched) - set(only_here):  # still told by other articles
                keys = [r.article_key for r in conn.execute(sa.select(incident_sources.c.article_key).where(
                    incident_sources.c.incident_id == incident))]
                conn.execute(incidents.update().where(incidents.c.incident_id == incident).values(
                    sources=_join(keys), n_sources=len(keys), version=incidents.c.version + 1, updated_at=_now()))
            conn.execute(articles.delete().where(articles.c.article_key == key))
            return conn.execute(corrections.insert().values(
                incident_id=key, field=DELETED_ARTICLE, before=json.dumps(before, default=str), after=None,
                who=self.user.name, at=_now(), note=note)).inserted_primary_key[0]

    def undo(self, entry: int) -> None:
        """Undo one audit entry (admins only): a correction gets its value before back, as a new
        correction; a deleted article comes back with its sources and incidents."""
        self.user.require("undo")
        with self.write() as conn:
            row = conn.execute(sa.select(corrections).where(corrections.c.fid == entry)).first()
            if row is None:
                raise StoreError(f"no audit entry {entry}")
            if row.field == DELETED_ARTICLE:
                before = json.loads(row.before)
                if conn.execute(_ARTICLE_EXISTS, {"key": before["article"]["article_key"]}).first():
                    raise StoreError("that article is in the store again; nothing to undo")
                conn.execute(articles.insert().values(**_from_row_json(articles, before["article"])))
                for item in before["incidents"]:
                    values = _from_row_json(incidents, item)
                    values.pop("geom", None)
                    values.update(point_lat=values.get("lat"), point_lon=values.get("lon"))
                    conn.execute(self._insert_incident, values)
                for item in before["sources"]:
                    conn.execute(incident_sources.insert().values(**_from_row_json(incident_sources, item)))
                for incident in {item["incident_id"] for item in before["sources"]}:
                    keys = [r.article_key for r in conn.execute(sa.select(incident_sources.c.article_key).where(
                        incident_sources.c.incident_id == incident))]
                    conn.execute(incidents.update().where(incidents.c.incident_id == incident).values(
                        sources=_join(keys), n_sources=len(keys)))
                note = f"undo of #{entry}: article restored"
                target, name = before["article"]["article_key"], "(article restored)"
            else:
                self._undo_correction(conn, row, entry)
                return
            conn.execute(corrections.insert().values(incident_id=target, field=name, before=None, after=None,
                                                     who=self.user.name, at=_now(), note=note))

    def _undo_correction(self, conn: sa.Connection, row: Any, entry: int) -> None:
        """Give back the values before a correction: every field changed in the same save."""
        current = conn.execute(sa.select(incidents).where(incidents.c.incident_id == row.incident_id)).first()
        if current is None:
            raise StoreError(f"incident {row.incident_id} is no longer in the store")
        same_save = conn.execute(sa.select(corrections).where(
            corrections.c.incident_id == row.incident_id, corrections.c.who == row.who, corrections.c.at == row.at,
            corrections.c.field != DELETED_ARTICLE)).all()
        at = _now()
        update: dict[str, Any] = {"version": current.version + 1, "updated_at": at}
        for change in same_save:
            update[change.field] = _from_json(change.field, json.loads(change.before))
            conn.execute(corrections.insert().values(
                incident_id=row.incident_id, field=change.field, before=json.dumps(_jsonable(current._mapping[change.field])),
                after=change.before, who=self.user.name, at=at, note=f"undo of #{entry}"))
        if "lat" in update or "lon" in update:
            update["geom"] = self._point_sql().params(point_lat=update.get("lat", current.lat),
                                                      point_lon=update.get("lon", current.lon))
        conn.execute(incidents.update().where(incidents.c.fid == current.fid).values(**update))

    def set_role(self, name: str, role: str) -> None:
        """Give a user (name or OIDC e-mail) a role, over what the secrets say (admins only)."""
        from .auth import ROLES
        self.user.require("roles")
        if role not in ROLES:
            raise StoreError(f"role must be one of {', '.join(ROLES)}")
        with self.write() as conn:
            conn.execute(user_roles.delete().where(user_roles.c.name == name.lower()))
            conn.execute(user_roles.insert().values(name=name.lower(), role=role, set_by=self.user.name,
                                                    set_at=_now()))

    def role_of(self, name: str) -> str | None:
        """The role an admin set for `name`, if any."""
        with self.read() as conn:
            return conn.execute(sa.select(user_roles.c.role).where(user_roles.c.name == name.lower())).scalar()

    def roles(self) -> pd.DataFrame:
        return self._frame(sa.select(user_roles.c.name, user_roles.c.role, user_roles.c.set_by, user_roles.c.set_at)
                           .order_by(user_roles.c.name))

    def corrections(self, incident: str | None = None) -> pd.DataFrame:
        q = sa.select(corrections).order_by(corrections.c.fid)
        if incident:
            q = q.where(corrections.c.incident_id == incident)
        with self.read() as conn:
            result = conn.execute(q)
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()))

    @staticmethod
    def _last_correction(conn: sa.Connection, incident: str) -> dict | None:
        row = conn.execute(sa.select(corrections).where(corrections.c.incident_id == incident)
                           .order_by(corrections.c.fid.desc()).limit(1)).first()
        return dict(row._mapping) if row else None

    @staticmethod
    def _corrected(conn: sa.Connection, incident: str, values: dict[str, Any]) -> None:
        """Re-apply a person's corrections over values recomputed from the articles (a new report of the
        same event must not undo them)."""
        rows = conn.execute(sa.select(corrections.c.field, corrections.c.after)
                            .where(corrections.c.incident_id == incident).order_by(corrections.c.fid))
        for name, after in rows:
            values[name] = _from_json(name, json.loads(after))
        if "lat" in values and "point_lat" in values:
            values["point_lat"], values["point_lon"] = values["lat"], values["lon"]

    # reading ------------------------------------------------------------------------------------
    def incidents(self, filters: Filters | None = None, limit: int | None = None) -> gpd.GeoDataFrame:
        """The incidents as a GeoDataFrame with the documented columns (`geo.store.frame`) and `version`,
        newest first."""
        filters = filters or Filters()
        if self.dialect == "sqlite" and limit is None:
            frame = self._read_gpkg(filters)
        else:
            columns = [incidents.c[c] for c in _READ_COLUMNS] + [incidents.c.lat, incidents.c.lon]
            q = sa.select(*columns).where(*filters.clauses()).order_by(incidents.c.date.desc(), incidents.c.fid)
            frame = self._frame(q.limit(limit) if limit else q)
            geometry = gpd.points_from_xy(frame["lon"], frame["lat"], crs="EPSG:4326")
            frame = gpd.GeoDataFrame(frame.drop(columns=["lat", "lon"]), geometry=geometry)
            frame.loc[frame.geometry.is_empty, "geometry"] = None
        versions = frame["version"].astype("Int64")
        out = conform(frame)
        out["version"] = versions.to_numpy()
        return out

    def _read_gpkg(self, filters: Filters) -> gpd.GeoDataFrame:
        """GDAL reads a GeoPackage through Arrow several times faster than rows through Python."""
        import pyogrio
        import pyogrio.errors
        unqualified = SimpleNamespace(**{c.name: sa.column(c.name, c.type) for c in incidents.c})
        clauses = filters.clauses(unqualified)
        where = str(sa.and_(*clauses).compile(dialect=self.engine.dialect, compile_kwargs={"literal_binds": True})) \
            if clauses else None
        for attempt in range(20):
            try:
                frame = pyogrio.read_dataframe(self.engine.url.database, layer="incidents",
                                               columns=list(_READ_COLUMNS), where=where, use_arrow=True,
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
             .order_by(incident_sources.c.fid))
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
        return {"first_day": _as_date(first), "last_day": _as_date(last), "countries": countries, "actors": actors,
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


def _sqlite_engine(url: str) -> sa.Engine:
    path = Path(sa.engine.make_url(url).database or "")
    if path.is_dir():
        raise StoreError(f"{path}: a folder, not a GeoPackage file")
    if path.exists():
        problem = gpkg.check_file(path)
        if problem:
            raise StoreError(f"{path}: {problem}")
    elif not path.parent.is_dir():
        raise StoreError(f"{path}: the folder {path.parent} does not exist")
    engine = sa.create_engine(url, connect_args={"timeout": _BUSY_SECONDS, "check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # transactions are begun explicitly, below
        gpkg.register_functions(dbapi_connection)
        dbapi_connection.create_function(
            "gpkg_point", 2, lambda lon, lat: None if lon is None or lat is None else gpkg.point_blob(lon, lat),
            deterministic=True)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {_BUSY_SECONDS * 1000}")
        # The rollback journal, not WAL: GDAL (QGIS, pyogrio) reads committed data from the file itself.
        # NORMAL sync: a killed process loses nothing committed; only a power cut may lose the last commits.
        cursor.execute("PRAGMA journal_mode = DELETE")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        # A writer takes the write lock up front, so two writers queue instead of deadlocking.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("geo_write") else "BEGIN")

    return engine


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
