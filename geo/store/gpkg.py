"""What makes an SQLite file a GeoPackage (OGC 12-128r18) that QGIS, GDAL and geopandas open as one.

The store writes through SQLAlchemy's SQLite driver; this module adds the GeoPackage parts: the
metadata tables, geometries in GeoPackage binary (a small header, then WKB), and the R-tree spatial
index kept by the standard triggers. Those triggers call ST_IsEmpty / ST_MinX ... which GDAL provides
to its own connections; `register_functions` provides them to ours, so any writer keeps the index.
"""
from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

APPLICATION_ID = 0x47504B47  # "GPKG"
USER_VERSION = 10300         # GeoPackage 1.3
SRS_WGS84 = 4326
WGS84_WKT = ('GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],'
             'AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",'
             '0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],'
             'AUTHORITY["EPSG","4326"]]')
_HEADER = struct.Struct("<2sBBi")
_POINT_WKB = struct.Struct("<BIdd")
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}

METADATA_DDL = [
    """CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY,
       organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL,
       description TEXT)""",
    """CREATE TABLE IF NOT EXISTS gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
       identifier TEXT UNIQUE, description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT
       (strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE,
       srs_id INTEGER, CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))""",
    """CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
       geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
       CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
       CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
       CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))""",
    """CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL,
       definition TEXT NOT NULL, scope TEXT NOT NULL,
       CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))""",
]


def point_blob(lon: float, lat: float, srs_id: int = SRS_WGS84) -> bytes:
    """A point in GeoPackage binary: little-endian header without envelope, then WKB."""
    return _HEADER.pack(b"GP", 0, 0b0000_0001, srs_id) + _POINT_WKB.pack(1, 1, lon, lat)


def blob_point(blob: bytes | None) -> tuple[float, float] | None:
    """(lon, lat) of a GeoPackage binary point, None for NULL or empty."""
    if not blob:
        return None
    flags = blob[3]
    if flags & 0b0001_0000:
        return None
    start = 8 + _ENVELOPE_BYTES.get((flags >> 1) & 0b111, 0)
    order = "<" if blob[start] == 1 else ">"
    geometry_type = struct.unpack_from(order + "I", blob, start + 1)[0] % 1000
    if geometry_type != 1:
        raise ValueError(f"not a point geometry (WKB type {geometry_type})")
    return struct.unpack_from(order + "dd", blob, start + 5)


def _is_empty(blob):
    return 1 if blob is None or blob_point(blob) is None else 0


def _coordinate(index: int):
    def value(blob):
        point = blob_point(blob)
        return None if point is None else point[index]
    return value


def register_functions(connection: sqlite3.Connection) -> None:
    """The SQL functions the GeoPackage R-tree triggers call (points only: min = max)."""
    connection.create_function("ST_IsEmpty", 1, _is_empty, deterministic=True)
    for name, index in (("ST_MinX", 0), ("ST_MaxX", 0), ("ST_MinY", 1), ("ST_MaxY", 1)):
        connection.create_function(name, 1, _coordinate(index), deterministic=True)


def metadata_statements(features: dict[str, str], attributes: list[str]) -> list[str]:
    """DDL and rows declaring `features` (table -> geometry column, POINT in EPSG:4326, with an R-tree
    index) and `attributes` tables in a new GeoPackage."""
    out = list(METADATA_DDL)
    out.append("INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES ('Undefined cartesian SRS', -1, 'NONE', -1, "
               "'undefined', 'undefined cartesian coordinate reference system')")
    out.append("INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES ('Undefined geographic SRS', 0, 'NONE', 0, "
               "'undefined', 'undefined geographic coordinate reference system')")
    out.append(f"INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES ('WGS 84 geodetic', 4326, 'EPSG', 4326, "
               f"'{WGS84_WKT}', 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid')")
    for table, column in features.items():
        out.append(f"INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, srs_id, min_x, min_y, "
                   f"max_x, max_y) VALUES ('{table}', 'features', '{table}', 4326, -180, -90, 180, 90)")
        out.append(f"INSERT OR IGNORE INTO gpkg_geometry_columns VALUES ('{table}', '{column}', 'POINT', 4326, 0, 0)")
        out.extend(rtree_statements(table, column))
    for table in attributes:
        out.append(f"INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier) "
                   f"VALUES ('{table}', 'attributes', '{table}')")
    return out


def rtree_statements(table: str, column: str, pk: str = "fid") -> list[str]:
    """The spatial index extension: an R-tree and the triggers that keep it (GeoPackage 1.3, §F.3)."""
    rtree = f"rtree_{table}_{column}"
    values = f"(NEW.{pk}, ST_MinX(NEW.{column}), ST_MaxX(NEW.{column}), ST_MinY(NEW.{column}), ST_MaxY(NEW.{column}))"
    present = f"(NEW.{column} NOT NULL AND NOT ST_IsEmpty(NEW.{column}))"
    absent = f"(NEW.{column} IS NULL OR ST_IsEmpty(NEW.{column}))"
    return [
        f"INSERT OR IGNORE INTO gpkg_extensions VALUES ('{table}', '{column}', 'gpkg_rtree_index', "
        f"'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {rtree} USING rtree(id, minx, maxx, miny, maxy)",
        f"CREATE TRIGGER IF NOT EXISTS {rtree}_insert AFTER INSERT ON {table} WHEN {present} "
        f"BEGIN INSERT OR REPLACE INTO {rtree} VALUES {values}; END",
        f"CREATE TRIGGER IF NOT EXISTS {rtree}_update1 AFTER UPDATE OF {column} ON {table} "
        f"WHEN OLD.{pk} = NEW.{pk} AND {present} BEGIN INSERT OR REPLACE INTO {rtree} VALUES {values}; END",
        f"CREATE TRIGGER IF NOT EXISTS {rtree}_update2 AFTER UPDATE OF {column} ON {table} "
        f"WHEN OLD.{pk} = NEW.{pk} AND {absent} BEGIN DELETE FROM {rtree} WHERE id = OLD.{pk}; END",
        f"CREATE TRIGGER IF NOT EXISTS {rtree}_update3 AFTER UPDATE ON {table} WHEN OLD.{pk} != NEW.{pk} AND "
        f"{present} BEGIN DELETE FROM {rtree} WHERE id = OLD.{pk}; INSERT OR REPLACE INTO {rtree} VALUES {values}; END",
        f"CREATE TRIGGER IF NOT EXISTS {rtree}_update4 AFTER UPDATE ON {table} WHEN OLD.{pk} != NEW.{pk} AND "
        f"{absent} BEGIN DELETE FROM {rtree} WHERE id IN (OLD.{pk}, NEW.{pk}); END",
        f"CREATE TRIGGER IF NOT EXISTS {rtree}_delete AFTER DELETE ON {table} WHEN OLD.{column} NOT NULL "
        f"BEGIN DELETE FROM {rtree} WHERE id = OLD.{pk}; END",
    ]


def check_file(path: Path) -> str | None:
    """Why an existing file cannot be used as the store's GeoPackage, or None when it can."""
    with open(path, "rb") as f:
        head = f.read(100)
    if not head:
        return None  # an empty file: the store will make it a GeoPackage
    if not head.startswith(b"SQLite format 3\x00"):
        return "not a GeoPackage (not an SQLite database)"
    application_id = int.from_bytes(head[68:72], "big")
    if application_id not in (0, APPLICATION_ID):
        return f"not a GeoPackage (SQLite application id {application_id:#x})"
    return None
