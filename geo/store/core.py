"""The store: articles, incidents and corrections in a GeoPackage file or a PostGIS database.

One interface, chosen by a URL (`--db` or `GEO_DB`): a file path or `sqlite:///...` opens a GeoPackage
(default `data/incidents.gpkg`: one file, no server, QGIS opens it), `postgresql://...` a PostGIS
database for a team. The same SQLAlchemy Core code runs on both; what differs is in `engines`.

`Store` puts together its concerns, one module each: `schema` (tables and migrations), `writing`
(articles and merging), `queries` (filters and reads), `audit` (corrections, deletions, undo, roles).
Every article is written in one transaction: a crash leaves the store as it was before that article;
two writers take turns, so neither fails with "database is locked" nor loses a merge. Ingesting the
same text again changes nothing: articles are keyed by a hash of their normalised text.
"""
from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from . import engines, schema
from .audit import Auditing
from .auth import LOCAL, User
from .engines import display_url
from .errors import StoreError, first_line
from .queries import Reading
from .schema import incidents
from .writing import Writing


class Store(Reading, Writing, Auditing):
    """Articles, incidents and corrections; `Store.open(url)` creates or upgrades the schema."""

    read_only = False

    def __init__(self, engine: sa.Engine, user: User = LOCAL) -> None:
        self.engine = engine
        self.user = user
        self.dialect = engine.dialect.name
        self.url = display_url(str(engine.url.render_as_string(hide_password=False)))
        self._insert_incident = incidents.insert().values(geom=self._point_sql())

    @classmethod
    def open(cls, url: str | os.PathLike | None = None) -> "Store":
        """A store by URL or path; a folder holding a GeoParquet dataset opens read-only (`geo.store.dataset`)."""
        full = engines.resolve_url(url)
        if "://" not in full:
            from .dataset import DatasetStore
            return DatasetStore(Path(full))  # type: ignore[return-value]
        store = cls(engines.connect(full))
        try:
            with store.read() as conn:
                current = schema.is_current(conn)
        except sa.exc.OperationalError as exc:
            raise StoreError(f"{display_url(full)}: cannot open the store: {first_line(exc)}") from None
        except sa.exc.DatabaseError as exc:
            raise StoreError(f"{display_url(full)}: not a usable store: {first_line(exc)}") from None
        if not current:  # only a new or older store is written on opening (a read-only one can be read)
            with store.write() as conn:
                schema.prepare(conn, store.url)
        return store

    def close(self) -> None:
        engines.release(self.engine)

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
        return engines.point_sql(self.dialect)

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """One write transaction; writers take turns, readers are never blocked. A write the database
        refuses (a full disk, a read-only store) is rolled back and said in one line (StoreError)."""
        try:
            with self.engine.connect().execution_options(geo_write=True) as conn:
                engines.before_write(conn)
                with conn.begin():
                    engines.take_write_turn(conn)
                    yield conn
        except sa.exc.DBAPIError as exc:
            raise StoreError(f"{self.url}: cannot write: {first_line(exc)}") from None

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn:
            yield conn
