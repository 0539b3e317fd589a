"""Exports GIS tools read: GeoJSON (RFC 7946), CSV, GeoPackage.

GeoJSON is a FeatureCollection in longitude/latitude order with no `crs` member; each feature's id is
the incident's stable id and its properties are every field of the incident: lists as arrays, dates as
ISO strings, sources as objects (article id, title, URL, publication date). Files are written to a
temporary name beside the target and renamed, so a failure leaves no half-written file; `-` writes to
standard output, and FIFOs and devices are written in place.
"""
from __future__ import annotations

import math
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import shapely

from .. import EXPORT_FORMATS
from .frame import LIST_SEPARATOR

FORMATS = EXPORT_FORMATS
LIST_FIELDS = ("killed_text", "wounded_text", "victims", "actors", "claimed_by", "notes")
COORDINATE_DIGITS = 6  # about 10 cm, as RFC 7946 suggests
MEDIA_TYPES = {"geojson": "application/geo+json", "csv": "text/csv", "gpkg": "application/geopackage+sqlite3"}


class ExportError(Exception):
    """An export that cannot be written, said in one line."""


def geojson_bytes(frame: gpd.GeoDataFrame, sources: pd.DataFrame | None = None) -> bytes:
    """The incidents as an RFC 7946 FeatureCollection."""
    columns = [c for c in frame.columns if c != frame.geometry.name and c != "incident_id"]
    values = {c: _plain(frame[c]) for c in columns}
    for c in LIST_FIELDS:
        if c in values:
            values[c] = [(v.split(LIST_SEPARATOR) if LIST_SEPARATOR in v else [v]) if v else [] for v in values[c]]
    if "sources" in values:
        by_article = _source_objects(sources)
        values["sources"] = [[by_article.get(k, {"id": k}) for k in v.split(LIST_SEPARATOR)] if v else []
                             for v in values["sources"]]
    points = frame.geometry.values
    missing = (shapely.is_missing(points) | shapely.is_empty(points)).tolist()
    xs = np.round(shapely.get_x(points), COORDINATE_DIGITS).tolist()
    ys = np.round(shapely.get_y(points), COORDINATE_DIGITS).tolist()
    geometries = [None if m else {"type": "Point", "coordinates": [x, y]} for m, x, y in zip(missing, xs, ys)]
    ids = frame["incident_id"].tolist() if "incident_id" in frame else list(range(len(frame)))
    rows = zip(*(values[c] for c in columns))
    features = [{"type": "Feature", "id": i, "geometry": g, "properties": dict(zip(columns, row))}
                for i, g, row in zip(ids, geometries, rows)]
    return orjson.dumps({"type": "FeatureCollection", "features": features})


def _plain(series: pd.Series) -> list:
    """A column as JSON-ready Python values: None for missing, ISO strings for dates, plain ints."""
    if pd.api.types.is_datetime64_any_dtype(series):
        days = series.dt.strftime("%Y-%m-%d")
        return days.astype(object).where(series.notna(), None).tolist()
    out = series.astype(object).where(series.notna(), None).tolist()
    if pd.api.types.is_float_dtype(series):
        out = [None if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in out]
    return out


def _source_objects(sources: pd.DataFrame | None) -> dict[str, dict]:
    if sources is None or sources.empty:
        return {}
    first = sources.drop_duplicates("article_key")
    return {row.article_key: {"id": row.article_key, "article": row.external_id, "title": row.title,
                              "url": row.url, "published": row.published.isoformat() if row.published else None}
            for row in first.itertuples()}


# Spreadsheet tools run a cell that starts with one of these as a formula (OWASP: CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_frame(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    """The incidents as a table with lon and lat columns (QGIS: Delimited Text, X = lon, Y = lat). Text
    from articles that a spreadsheet would run as a formula starts with a quote, so it shows as text."""
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    for column in table.columns:
        if pd.api.types.is_string_dtype(table[column]) or pd.api.types.is_object_dtype(table[column]):
            text = table[column].astype("string")
            risky = text.str.startswith(_FORMULA_START).fillna(False)
            if risky.any():
                table[column] = text.mask(risky, "'" + text)
    points = frame.geometry
    table.insert(1, "lon", [None if g is None or g.is_empty else g.x for g in points])
    table.insert(2, "lat", [None if g is None or g.is_empty else g.y for g in points])
    return table


STDOUT = "-"


def export_bytes(frame: gpd.GeoDataFrame, fmt: str, sources: pd.DataFrame | None = None) -> bytes:
    """The export as bytes in memory, for a download that never touches a server path."""
    if fmt == "geojson":
        return geojson_bytes(frame, sources)
    if fmt == "csv":
        return csv_frame(frame).to_csv(index=False).encode()
    with tempfile.TemporaryDirectory() as folder:
        return write_export(frame, Path(folder) / f"incidents.{fmt}", fmt, sources).read_bytes()


def write_export(frame: gpd.GeoDataFrame, path: str | os.PathLike, fmt: str,
                 sources: pd.DataFrame | None = None) -> Path:
    """Write `frame` as `fmt` to `path` (returned). A file is replaced atomically; `-` is
    standard output; a symbolic link is followed (the link stays, its target gets the export); a FIFO
    or a device is written in place, never replaced."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r} (choose {', '.join(FORMATS)})")
    writers: dict[str, Callable[[Path], None]] = {
        "geojson": lambda tmp: tmp.write_bytes(geojson_bytes(frame, sources)),
        "csv": lambda tmp: csv_frame(frame).to_csv(tmp, index=False),
        "gpkg": lambda tmp: _write_gpkg(frame, tmp),
    }
    if str(path) == STDOUT:
        _write_into(sys.stdout.buffer, STDOUT, writers[fmt], fmt)
        return Path(STDOUT)
    target = Path(os.path.realpath(path))
    try:
        special = target.exists() and not target.is_dir() and not stat.S_ISREG(target.stat().st_mode)
    except OSError as exc:
        raise ExportError(f"{path}: {exc.strerror or exc}") from None
    if special:
        try:
            with open(target, "wb") as out:
                _write_into(out, str(path), writers[fmt], fmt)
        except OSError as exc:
            raise ExportError(f"{path}: cannot write ({exc.strerror or exc})") from None
    else:
        _atomic_write(target, writers[fmt], str(path))
    return Path(path)


def _write_gpkg(frame: gpd.GeoDataFrame, path: Path) -> None:
    import pyogrio
    import pyogrio.errors
    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.CategoricalDtype):
            out[column] = out[column].astype("string")
    try:
        pyogrio.write_dataframe(out, path, layer="incidents", driver="GPKG", use_arrow=True)
    except pyogrio.errors.DataSourceError as exc:  # GDAL's word for a write that failed (a full disk ...)
        raise OSError(str(exc).splitlines()[0] if str(exc) else "GDAL could not write") from None


def _write_into(out: BinaryIO, name: str, write: Callable[[Path], None], fmt: str) -> None:
    """Render into a temporary file, then copy it into an open stream (standard output, a FIFO, a device)."""
    with tempfile.TemporaryDirectory(prefix="geo-export-") as folder:
        tmp = Path(folder) / f"export.{fmt}"
        try:
            write(tmp)
            with open(tmp, "rb") as rendered:
                shutil.copyfileobj(rendered, out)
            out.flush()
        except OSError as exc:
            raise ExportError(f"{name}: cannot write ({exc.strerror or exc})") from None


def _atomic_write(target: Path, write: Callable[[Path], None], name: str) -> None:
    folder = target.parent
    if target.is_dir():
        raise ExportError(f"{name}: is a folder; give a file name")
    if not folder.is_dir():
        raise ExportError(f"{name}: the folder {folder} does not exist")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix or ".tmp", dir=folder)
    except OSError as exc:
        raise ExportError(f"{name}: cannot write there ({exc.strerror or exc})") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        tmp.unlink()  # some writers (GDAL) want to create the file themselves
        write(tmp)
        os.replace(tmp, target)
    except OSError as exc:
        raise ExportError(f"{name}: cannot write ({exc.strerror or exc})") from None
    finally:
        tmp.unlink(missing_ok=True)
