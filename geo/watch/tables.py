"""The watch tables, kept in the store beside its own (GeoPackage or PostGIS, the store's engine).

They are created on first use (`ensure`), so a store made before watching existed gains them without a
migration. Times are Unix seconds (floats): the watcher schedules with them, and they mean the same on
both engines.
"""
from __future__ import annotations

import time
import weakref
from datetime import datetime, timezone

import sqlalchemy as sa

metadata = sa.MetaData()

# What the watcher polls: from the sources file or added in the dashboard; state survives restarts.
sources = sa.Table(
    "watch_sources", metadata,
    sa.Column("fid", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("url", sa.Text, nullable=False, unique=True),
    sa.Column("label", sa.Text), sa.Column("interval_s", sa.Float, nullable=False),
    sa.Column("paused", sa.Boolean, nullable=False, default=False),
    sa.Column("etag", sa.Text), sa.Column("last_modified", sa.Text),
    sa.Column("next_poll", sa.Float, nullable=False, default=0.0),
    sa.Column("last_poll", sa.Float), sa.Column("last_success", sa.Float), sa.Column("last_error", sa.Text),
    sa.Column("failures", sa.Integer, nullable=False, default=0),
    sa.Column("items_seen", sa.Integer, nullable=False, default=0),
    sa.Column("last_item", sa.Text), sa.Column("last_item_at", sa.Float),
    sa.Column("added_by", sa.Text),
    sqlite_autoincrement=True)

# Feed items claimed by a watcher: the unique key is what stops two watchers ingesting one item.
items = sa.Table(
    "watch_items", metadata,
    sa.Column("fid", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source_url", sa.Text, nullable=False), sa.Column("item_key", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),         # "claimed" while being read, then "done"
    sa.Column("claimed_at", sa.Float, nullable=False), sa.Column("article_key", sa.Text),
    sa.UniqueConstraint("source_url", "item_key"),
    sqlite_autoincrement=True)

areas = sa.Table(
    "watch_areas", metadata,
    sa.Column("fid", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("kind", sa.Text, nullable=False),           # polygon, circle or region
    sa.Column("geojson", sa.Text),                        # polygon: a GeoJSON Polygon or MultiPolygon
    sa.Column("lat", sa.Float), sa.Column("lon", sa.Float), sa.Column("radius_km", sa.Float),
    sa.Column("country", sa.Text), sa.Column("admin1", sa.Text),
    sa.Column("event_types", sa.Text, nullable=False, default=""),   # comma-separated; empty: every type
    sa.Column("min_casualties", sa.Integer, nullable=False, default=0),
    sa.Column("webhook", sa.Text), sa.Column("email", sa.Text),
    sa.Column("owner", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, default=1),
    sa.Column("updated_at", sa.Float, nullable=False),
    sqlite_autoincrement=True)

# Every change to a watch area, with the values before and after (JSON), as corrections are audited.
area_audit = sa.Table(
    "watch_area_audit", metadata,
    sa.Column("fid", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("area", sa.Text, nullable=False), sa.Column("action", sa.Text, nullable=False),
    sa.Column("before", sa.Text), sa.Column("after", sa.Text),
    sa.Column("who", sa.Text, nullable=False), sa.Column("at", sa.Float, nullable=False),
    sqlite_autoincrement=True)

# One row per alert: an incident matched an area at this casualty total. The unique key makes recording
# idempotent, so a re-ingest, a merge or a second watcher cannot alert twice for the same state.
alerts = sa.Table(
    "watch_alerts", metadata,
    sa.Column("fid", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("area", sa.Text, nullable=False), sa.Column("incident_id", sa.Text, nullable=False),
    sa.Column("casualties", sa.Integer, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),        # the alert's fields, JSON (see alerts.alert_fields)
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("area", "incident_id", "casualties"),
    sa.Index("watch_alerts_incident", "incident_id"),
    sqlite_autoincrement=True)

alert_reads = sa.Table(
    "watch_alert_reads", metadata,
    sa.Column("fid", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("alert", sa.Integer, nullable=False), sa.Column("reader", sa.Text, nullable=False),
    sa.UniqueConstraint("alert", "reader"),
    sqlite_autoincrement=True)

# Deliveries waiting, done or failing: one per alert and receiver; retried with backoff until sent.
outbox = sa.Table(
    "watch_outbox", metadata,
    sa.Column("fid", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("alert", sa.Integer, nullable=False),
    sa.Column("channel", sa.Text, nullable=False), sa.Column("target", sa.Text, nullable=False),
    sa.Column("sent_at", sa.Float), sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt", sa.Float, nullable=False), sa.Column("last_error", sa.Text),
    sa.UniqueConstraint("alert", "channel", "target"),
    sa.Index("watch_outbox_due", "sent_at", "next_attempt"),
    sqlite_autoincrement=True)

state = sa.Table("watch_state", metadata, sa.Column("key", sa.Text, primary_key=True),
                 sa.Column("value", sa.Text, nullable=False))

WATERMARK = "matched_until"   # incidents written since this time are matched next (alerts.py)
_ready: "weakref.WeakSet[sa.Engine]" = weakref.WeakSet()


def ensure(store) -> None:
    """Create the watch tables in `store` if they are missing (once per engine and process)."""
    if store.engine in _ready:
        return
    with store.write() as conn:
        metadata.create_all(conn, checkfirst=True)
        # Each round reads the incidents written since the last: without this index, a scan of them all.
        conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS watch_incidents_updated_at ON incidents (updated_at)")
        if store.dialect == "sqlite":  # listed as attribute tables, so GDAL and QGIS show them too
            from ..store import gpkg
            for statement in gpkg.metadata_statements({}, list(metadata.tables)):
                conn.exec_driver_sql(statement)
        else:  # PostGIS matches in the database: each area's search shape, in a GiST index
            conn.exec_driver_sql("ALTER TABLE watch_areas ADD COLUMN IF NOT EXISTS geom geometry(Geometry, 4326)")
            conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS watch_areas_geom ON watch_areas USING gist (geom)")
        if get_state(conn, WATERMARK) is None:  # watching starts now: older incidents are not alerted
            set_state(conn, WATERMARK, datetime.now(timezone.utc).isoformat())
    _ready.add(store.engine)


def set_search_shapes(conn: sa.Connection, shapes: list[tuple[str, object]]) -> None:
    """PostGIS: areas' search shapes (name, a shapely geometry or None for a region) into their `geom`."""
    conn.execute(sa.text("UPDATE watch_areas SET geom = ST_GeomFromText(:wkt, 4326) WHERE name = :name"),
                 [{"wkt": shape.wkt if shape is not None else None, "name": name} for name, shape in shapes])


def now() -> float:
    return time.time()


def get_state(conn: sa.Connection, key: str) -> str | None:
    return conn.execute(sa.select(state.c.value).where(state.c.key == key)).scalar()


def set_state(conn: sa.Connection, key: str, value: str) -> None:
    if conn.execute(state.update().where(state.c.key == key).values(value=value)).rowcount == 0:
        conn.execute(state.insert().values(key=key, value=value))
