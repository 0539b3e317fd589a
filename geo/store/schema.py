"""The store's tables, and the migrations that bring an older store up to this program's schema.

The same tables on both engines (SQLAlchemy Core); only the point column's SQL type differs
(`PointColumn`). A store records its schema version in `store_meta`; `prepare` creates a new store or
runs the migrations from its version on.
"""
from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.types import UserDefinedType

from . import engines
from .errors import StoreError

SCHEMA_VERSION = 4


class PointColumn(UserDefinedType):
    """A point geometry in EPSG:4326: `POINT` (GeoPackage binary) in SQLite, PostGIS `geometry` in PostgreSQL.
    Values are written through SQL functions (`engines.point_sql`), never bound directly."""

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
LIST_COLUMNS = ("killed_text", "wounded_text", "victims", "actors", "claimed_by", "sources", "notes")
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
    # What the article reported, which merging relates to other reports (`geo.store.merge`): the report's
    # own incident id (its incident's id when it is the incident's first report), its publication day,
    # and the event's type, day and place as this article tells them.
    sa.Column("report_id", Text, index=True), sa.Column("published", sa.Date),
    sa.Column("event_type", Text), sa.Column("topic", Text), sa.Column("date", sa.Date),
    sa.Column("lat", sa.Double), sa.Column("lon", sa.Double), sa.Column("country", Text),
    sa.UniqueConstraint("incident_id", "article_key", "evidence_start"),
    sa.Index("incident_sources_type_date", "event_type", "date"),
    sqlite_autoincrement=True)
incident_renames = sa.Table(
    "incident_renames", metadata,   # an incident's earlier ids (merging in any order can change it)
    sa.Column("old_id", Text, primary_key=True), sa.Column("new_id", Text, nullable=False, index=True))
REPORT_COLUMNS = ("report_id", "published", "event_type", "topic", "date", "lat", "lon", "country")
corrections = sa.Table(
    "corrections", metadata,
    sa.Column("fid", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("incident_id", Text, nullable=False, index=True),
    sa.Column("field", Text, nullable=False),
    sa.Column("before", sa.Text), sa.Column("after", sa.Text),   # JSON values
    sa.Column("who", Text, nullable=False), sa.Column("at", Timestamp, nullable=False),
    sa.Column("note", sa.Text),
    sqlite_autoincrement=True)
user_roles = sa.Table(
    "user_roles", metadata,
    sa.Column("fid", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", Text, nullable=False, unique=True),      # a user name or an OIDC e-mail
    sa.Column("role", Text, nullable=False), sa.Column("set_by", Text, nullable=False),
    sa.Column("set_at", Timestamp, nullable=False),
    sqlite_autoincrement=True)

sign_in_failures = sa.Table(
    "sign_in_failures", metadata,   # failed password sign-ins, where every server process sees them
    sa.Column("fid", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", Text, nullable=False, index=True), sa.Column("address", Text, nullable=False, index=True),
    sa.Column("at", sa.Double, nullable=False),   # epoch seconds: a wait is counted in fractions of one
    sqlite_autoincrement=True)


def _add_user_roles(conn: sa.Connection) -> None:
    """Version 2: roles set by admins in the dashboard."""
    user_roles.create(conn, checkfirst=True)
    engines.after_create(conn, {}, ["user_roles"])


def _add_sign_in_failures(conn: sa.Connection) -> None:
    """Version 3: failed sign-ins counted in the store, not in one server process's memory."""
    sign_in_failures.create(conn, checkfirst=True)
    engines.after_create(conn, {}, ["sign_in_failures"])


def _add_reports(conn: sa.Connection) -> None:
    """Version 4: each source keeps what its article reported, so merging relates reports to reports,
    and an incident's earlier ids are kept (`incident_renames`).
    Older sources take their incident's values (what a merged incident's reports said one by one is
    not kept); its first source is its first report."""
    s = incident_sources
    quote = conn.dialect.identifier_preparer.quote
    for name in REPORT_COLUMNS:
        conn.exec_driver_sql(f"ALTER TABLE incident_sources ADD COLUMN {quote(name)} "
                             f"{s.c[name].type.compile(dialect=conn.dialect)}")
    of_incident = {name: sa.select(incidents.c[name]).where(incidents.c.incident_id == s.c.incident_id)
                   .scalar_subquery() for name in ("event_type", "topic", "date", "lat", "lon", "country")}
    conn.execute(s.update().values(
        **of_incident, report_id=s.c.incident_id + "-" + sa.cast(s.c.fid, Text),
        published=sa.select(articles.c.published).where(articles.c.article_key == s.c.article_key).scalar_subquery()))
    firsts = sa.select(sa.func.min(s.c.fid)).group_by(s.c.incident_id)
    conn.execute(s.update().where(s.c.fid.in_(firsts)).values(report_id=s.c.incident_id))
    for index in s.indexes:
        index.create(conn, checkfirst=True)
    incident_renames.create(conn, checkfirst=True)
    engines.after_create(conn, {}, ["incident_renames"])


# Migrations from each older schema version to the next; a store is brought up to SCHEMA_VERSION on open.
MIGRATIONS: dict[int, Callable[[sa.Connection], None]] = {1: _add_user_roles, 2: _add_sign_in_failures,
                                                          3: _add_reports}


def is_current(conn: sa.Connection) -> bool:
    """Whether the store exists with this program's schema (nothing to create or migrate)."""
    if not sa.inspect(conn).has_table("store_meta"):
        return False
    found = conn.execute(sa.select(store_meta.c.value).where(store_meta.c.key == "schema_version")).scalar()
    return int(found or 0) == SCHEMA_VERSION


def prepare(conn: sa.Connection, url: str) -> None:
    """Create the schema of a new store, or upgrade an older one (inside a write transaction)."""
    if not sa.inspect(conn).has_table("store_meta"):
        if engines.is_foreign_sqlite(conn):
            raise StoreError(f"{url}: an SQLite database that is not a GeoPackage store")
        engines.before_create(conn)
        metadata.create_all(conn)
        engines.after_create(conn, {"incidents": "geom"},
                             [t.name for t in metadata.sorted_tables if t.name not in ("incidents", "store_meta")])
        conn.execute(store_meta.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
        return
    found = conn.execute(sa.select(store_meta.c.value).where(store_meta.c.key == "schema_version")).scalar()
    version = int(found or 0)
    if version > SCHEMA_VERSION:
        raise StoreError(f"{url}: the store's schema is version {version}, newer than this program's "
                         f"({SCHEMA_VERSION}); upgrade the program")
    for step in range(version, SCHEMA_VERSION):
        MIGRATIONS[step](conn)
    if version < SCHEMA_VERSION:
        conn.execute(store_meta.update().where(store_meta.c.key == "schema_version").values(value=str(SCHEMA_VERSION)))
