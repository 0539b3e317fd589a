"""What differs between the two engines, in one place: how a store URL is read and connected to,
how writers take turns, how a point is written, and what each adds to the schema.

GeoPackage (SQLite): one file; writers take the write lock up front (BEGIN IMMEDIATE with a long busy
timeout); points are GeoPackage binary made by a registered SQL function, indexed by the standard
R-tree triggers. PostGIS: writers take a transaction-scoped advisory lock; points are `geometry(POINT,
4326)` made by ST_MakePoint, indexed by GiST.
"""
from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import sqlalchemy as sa

from . import gpkg
from .errors import StoreError, first_line

DEFAULT_DB = Path(__file__).resolve().parents[2] / "data" / "incidents.gpkg"
_LOCK_KEY = 7_467_913  # the advisory lock PostgreSQL writers take turns on
_BUSY_SECONDS = 120
_CHECKPOINT_PAGES = 10_000


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
    """The URL without its password, for messages (even a URL too malformed to parse)."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError):
        return re.sub(r"(://[^/@]*?):[^/@]*@", r"\1:***@", url)


def connect(url: str) -> sa.Engine:
    """An engine for a resolved store URL (no connection is made yet)."""
    try:
        if url.startswith("sqlite"):
            return _sqlite_engine(url)
        if url.startswith("postgresql"):
            return sa.create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})
    except (sa.exc.ArgumentError, ValueError) as exc:
        raise StoreError(f"{display_url(url)}: not a valid store URL ({first_line(exc)})") from None
    raise StoreError(f"{display_url(url)}: not a store URL (a .gpkg path or postgresql://...)")


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
        # NORMAL sync: a killed process loses nothing committed; only a power cut may lose the last commits.
        cursor.execute("PRAGMA synchronous = NORMAL")
        # Checkpoints (copying the log into the file, with a sync) every 40 MB of log rather than 4 MB:
        # ingest writes the same index pages again and again, copied once per checkpoint (10% faster).
        cursor.execute(f"PRAGMA wal_autocheckpoint = {_CHECKPOINT_PAGES}")
        cursor.execute(f"PRAGMA journal_size_limit = {_CHECKPOINT_PAGES * 4096}")  # the log file's size after one
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        # A writer takes the write lock up front, so two writers queue instead of deadlocking.
        # On the driver's connection: SQLAlchemy's statement machinery costs more than a BEGIN.
        conn.connection.dbapi_connection.execute("BEGIN IMMEDIATE" if conn.get_execution_options().get("geo_write")
                                                 else "BEGIN")

    return engine


def checkpoint(engine: sa.Engine) -> None:
    """Copy what the write-ahead log holds into the GeoPackage file, so GDAL, which reads the file
    through its own connection, sees every commit (a no-op on PostGIS)."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")


def release(engine: sa.Engine) -> None:
    """Close the engine's connections; a GeoPackage nobody else has open goes back to the rollback
    journal, one file that QGIS, a copy or a read-only disk take as it is (another process still using
    it does that when it closes)."""
    engine.dispose()
    if engine.dialect.name != "sqlite":
        return
    import sqlite3
    try:
        with contextlib.closing(sqlite3.connect(engine.url.database, timeout=0)) as conn:
            conn.execute("PRAGMA journal_mode = DELETE")
    except sqlite3.Error:
        pass  # busy: someone else has it open


def before_write(conn: sa.Connection) -> None:
    """Before a connection's first write transaction: a GeoPackage goes to WAL, where a commit appends to
    the log without a sync (three times faster than the rollback journal). Only writers switch it, so
    reading a store (an export, a read-only disk) leaves the file as it is; `release` switches back."""
    if conn.dialect.name == "sqlite" and not conn.connection.info.get("wal"):
        import sqlite3
        try:
            conn.connection.dbapi_connection.execute("PRAGMA journal_mode = WAL")  # outside any transaction
        except sqlite3.Error:
            pass  # a read-only file: the write itself will say so, in one line
        conn.connection.info["wal"] = True


def take_write_turn(conn: sa.Connection) -> None:
    """Inside a write transaction: wait for the other writers (SQLite already did, at BEGIN IMMEDIATE)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})


def point_sql(dialect: str) -> sa.ColumnElement:
    """The SQL that makes a stored point from the bound `point_lon` and `point_lat` (NULL when either is)."""
    lon, lat = sa.bindparam("point_lon", type_=sa.Float), sa.bindparam("point_lat", type_=sa.Float)
    if dialect == "postgresql":
        return sa.func.ST_SetSRID(sa.func.ST_MakePoint(lon, lat), 4326)
    return sa.func.gpkg_point(lon, lat)


def before_create(conn: sa.Connection) -> None:
    """What a new store needs before its tables: the GeoPackage identity, or the PostGIS extension."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"PRAGMA application_id = {gpkg.APPLICATION_ID}")
        conn.exec_driver_sql(f"PRAGMA user_version = {gpkg.USER_VERSION}")
    else:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")


def after_create(conn: sa.Connection, features: dict[str, str], attributes: list[str]) -> None:
    """Declare new tables: GeoPackage metadata (`features` table -> point column, with its R-tree, and
    plain `attributes` tables), or a GiST index on each PostGIS point column."""
    if conn.dialect.name == "sqlite":
        for statement in gpkg.metadata_statements(features, attributes):
            conn.exec_driver_sql(statement)
    else:
        for table, column in features.items():
            conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {table}_{column}_gist ON {table} USING gist ({column})")


def is_foreign_sqlite(conn: sa.Connection) -> bool:
    """An SQLite database with tables that is not a GeoPackage: not ours to turn into a store."""
    names = set(sa.inspect(conn).get_table_names())
    return conn.dialect.name == "sqlite" and bool(names) and "gpkg_contents" not in names
