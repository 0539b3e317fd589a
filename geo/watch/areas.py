"""Watch areas: where someone wants to hear about incidents, of which types, from what toll, and whom to tell.

An area is a polygon (drawn, or a W,S,E,N box), a point with a radius, or a region (a country, or one of
its first-level divisions). Areas are kept in the store with their owner; every change is audited with
the values before and after. `matching` finds the areas an incident lies in.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass

import pandas as pd
import shapely
import sqlalchemy as sa

from ..places.geodesy import EARTH_KM
from ..store.auth import PermissionDenied
from . import tables
from .tables import area_audit, areas

KINDS = ("polygon", "circle", "region")


class AreaError(ValueError):
    """A watch area that cannot be saved, said in one line."""


@dataclass(frozen=True)
class WatchArea:
    name: str
    kind: str                                  # polygon, circle or region
    geojson: dict | None = None                # polygon: GeoJSON Polygon or MultiPolygon (lon, lat)
    lat: float | None = None                   # circle: centre and radius
    lon: float | None = None
    radius_km: float | None = None
    country: str | None = None                 # region: ISO2, and optionally a first-level division
    admin1: str | None = None
    event_types: tuple[str, ...] = ()          # empty: every type
    min_casualties: int = 0                    # 0: any incident; else killed + wounded at least this
    webhook: str | None = None
    email: str | None = None
    owner: str = ""
    version: int = 0                           # 0 for an area not stored yet

    def describe(self) -> str:
        if self.kind == "circle":
            where = f"{self.radius_km:g} km around {self.lat:.4f}, {self.lon:.4f}"
        elif self.kind == "region":
            where = f"{self.admin1}, {self.country}" if self.admin1 else str(self.country)
        else:
            w, s, e, n = shapely.geometry.shape(self.geojson).bounds
            where = f"polygon within {w:.3f},{s:.3f},{e:.3f},{n:.3f}"
        types = ", ".join(self.event_types) or "all types"
        toll = f"at least {self.min_casualties} killed + wounded" if self.min_casualties else "any incident"
        return f"{where}; {types}; {toll}"


def box_area(name: str, west: float, south: float, east: float, north: float, **options) -> WatchArea:
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise AreaError(f"box {west},{south},{east},{north}: give W,S,E,N in degrees, west before east")
    return polygon_area(name, shapely.geometry.mapping(shapely.box(west, south, east, north)), **options)


def polygon_area(name: str, geojson: dict, **options) -> WatchArea:
    return checked(WatchArea(name, "polygon", geojson=geojson, **options))


def circle_area(name: str, lat: float, lon: float, radius_km: float, **options) -> WatchArea:
    return checked(WatchArea(name, "circle", lat=lat, lon=lon, radius_km=radius_km, **options))


def region_area(name: str, country: str, admin1: str | None = None, **options) -> WatchArea:
    return checked(WatchArea(name, "region", country=country.upper(), admin1=admin1 or None, **options))


def checked(area: WatchArea) -> WatchArea:
    """The area if it can be saved, else AreaError saying what is wrong."""
    from ..text.incidents import EVENT_TYPES
    if not area.name or not area.name.strip() or len(area.name) > 100 or "\n" in area.name:
        raise AreaError("an area needs a name of one line, at most 100 characters")
    if area.kind == "polygon":
        geometry = _polygon(area.geojson)
        if geometry is None:
            raise AreaError(f"{area.name}: a polygon area needs a valid GeoJSON Polygon or MultiPolygon")
        lon_min, lat_min, lon_max, lat_max = geometry.bounds
        if not (-180 <= lon_min and lon_max <= 180 and -90 <= lat_min and lat_max <= 90):
            raise AreaError(f"{area.name}: the polygon is not in longitude/latitude degrees")
    elif area.kind == "circle":
        if area.lat is None or area.lon is None or not (-90 <= area.lat <= 90 and -180 <= area.lon <= 180):
            raise AreaError(f"{area.name}: the centre must be a latitude and longitude in degrees")
        if area.radius_km is None or not 0 < area.radius_km <= 20_000:
            raise AreaError(f"{area.name}: the radius must be between 0 and 20,000 km")
    elif area.kind == "region":
        if not area.country or len(area.country) != 2 or not area.country.isalpha():
            raise AreaError(f"{area.name}: a region needs a two-letter country code (ISO 3166-1)")
    else:
        raise AreaError(f"{area.name}: kind must be one of {', '.join(KINDS)}")
    unknown = [t for t in area.event_types if t not in EVENT_TYPES]
    if unknown:
        raise AreaError(f"{area.name}: unknown event type {unknown[0]!r} (types: {', '.join(EVENT_TYPES)})")
    if area.min_casualties < 0:
        raise AreaError(f"{area.name}: the casualty threshold cannot be negative")
    if area.webhook and not area.webhook.startswith(("http://", "https://")):
        raise AreaError(f"{area.name}: the webhook must be an http(s) URL")
    if area.email and (area.email.count("@") != 1 or any(c.isspace() or c in ",;<>" for c in area.email)):
        raise AreaError(f"{area.name}: {area.email!r} is not one e-mail address")
    return area


def _polygon(geojson: dict | None):
    try:
        geometry = shapely.geometry.shape(geojson) if geojson else None
    except (AttributeError, KeyError, TypeError, ValueError, shapely.errors.GEOSException):
        return None
    if geometry is None or geometry.geom_type not in ("Polygon", "MultiPolygon") or not geometry.is_valid \
            or geometry.is_empty:
        return None
    return geometry


# -- kept in the store ----------------------------------------------------------------------------------
def _require_editor(store) -> None:
    if not store.user.can("correct"):
        raise PermissionDenied(f"{store.user.name} ({store.user.role}) may not edit watch areas; "
                               "ask an admin for the editor role")


def row_values(area: WatchArea) -> dict:
    return {"name": area.name.strip(), "kind": area.kind,
            "geojson": json.dumps(area.geojson) if area.geojson else None, "lat": area.lat, "lon": area.lon,
            "radius_km": area.radius_km, "country": area.country, "admin1": area.admin1,
            "event_types": ",".join(area.event_types), "min_casualties": area.min_casualties,
            "webhook": area.webhook or None, "email": area.email or None}


def from_row(row) -> WatchArea:
    m = row._mapping
    return WatchArea(m["name"], m["kind"], json.loads(m["geojson"]) if m["geojson"] else None, m["lat"], m["lon"],
                     m["radius_km"], m["country"], m["admin1"],
                     tuple(t for t in m["event_types"].split(",") if t), m["min_casualties"], m["webhook"],
                     m["email"], m["owner"], m["version"])


def save_area(store, area: WatchArea, expected_version: int | None = None) -> WatchArea:
    """Add an area, or change the one of that name (refused if someone changed it since `expected_version`);
    audited. Returns the area as stored."""
    _require_editor(store)
    tables.ensure(store)
    area = checked(area)
    values = row_values(area)
    at = tables.now()
    with store.write() as conn:
        old = conn.execute(sa.select(areas).where(areas.c.name == values["name"])).first()
        if old is None:
            owner = area.owner or store.user.name
            conn.execute(areas.insert().values(**values, owner=owner, version=1, updated_at=at))
            before = None
        else:
            if expected_version is not None and old.version != expected_version:
                raise AreaError(f"area {area.name!r} was changed by someone else since you loaded it (version "
                                f"{expected_version}, now {old.version}); reload it")
            conn.execute(areas.update().where(areas.c.fid == old.fid).values(**values, version=old.version + 1,
                                                                             updated_at=at))
            before = json.dumps(_audit_values(from_row(old)))
        if store.dialect == "postgresql":
            tables.set_search_shapes(conn, [(values["name"], search_shape(area))])
        saved = from_row(conn.execute(sa.select(areas).where(areas.c.name == values["name"])).one())
        conn.execute(area_audit.insert().values(area=saved.name, action="add" if old is None else "edit",
                                                before=before, after=json.dumps(_audit_values(saved)),
                                                who=store.user.name, at=at))
    return saved


def remove_area(store, name: str) -> None:
    _require_editor(store)
    tables.ensure(store)
    with store.write() as conn:
        old = conn.execute(sa.select(areas).where(areas.c.name == name)).first()
        if old is None:
            raise AreaError(f"no watch area named {name!r}")
        conn.execute(areas.delete().where(areas.c.fid == old.fid))
        conn.execute(area_audit.insert().values(area=name, action="remove", before=json.dumps(
            _audit_values(from_row(old))), after=None, who=store.user.name, at=tables.now()))


def _audit_values(area: WatchArea) -> dict:
    return {k: v for k, v in asdict(area).items() if k != "version"}


def list_areas(store) -> list[WatchArea]:
    tables.ensure(store)
    with store.read() as conn:
        return [from_row(r) for r in conn.execute(sa.select(areas).order_by(areas.c.name))]


def area_history(store, name: str | None = None) -> pd.DataFrame:
    """The audit of watch areas, newest first: area, action, who, when, values before and after."""
    tables.ensure(store)
    q = sa.select(area_audit).order_by(area_audit.c.fid.desc())
    if name:
        q = q.where(area_audit.c.area == name)
    with store.read() as conn:
        rows = conn.execute(q).all()
    return pd.DataFrame([r._mapping for r in rows], columns=[c.name for c in area_audit.c])


# -- shapes --------------------------------------------------------------------------------------------
def search_shape(area: WatchArea):
    """What a spatial index holds for an area: its polygon, a circle's bounding box (the exact distance is
    tested after), nothing for a region."""
    if area.kind == "polygon":
        return _polygon(area.geojson)
    return _circle_box(area) if area.kind == "circle" else None


def _circle_box(area: WatchArea):
    """The bounding box of a circle on the sphere, in degrees (whole longitudes near a pole or across 180)."""
    dlat = math.degrees(area.radius_km / EARTH_KM)
    south, north = max(-90.0, area.lat - dlat), min(90.0, area.lat + dlat)
    cos_lat = math.cos(math.radians(max(abs(south), abs(north))))
    dlon = 180.0 if cos_lat < 1e-6 else math.degrees(area.radius_km / (EARTH_KM * cos_lat))
    west, east = area.lon - dlon, area.lon + dlon
    if west < -180 or east > 180:
        west, east = -180.0, 180.0
    return shapely.box(west, south, east, north)
