"""Areas drawn on the map: the offline drawing control, a drawn shape read back from the browser,
kept in the URL as text, and the incidents inside it.

The drawing control is Leaflet.draw served from `static/vendor/draw/` (folium's `Draw` loads it from a
CDN, and one unreachable script leaves the whole map blank). `add_draw_control` is the one place that
puts it on a map, for the area filter and for anything else that lets a user draw (watch areas).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
from folium.plugins import Draw
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from .mapping import VENDOR

COUNTRIES_FILE = Path(__file__).resolve().parents[2] / "static" / "countries.geojson"
MAX_VERTICES = 200   # a hand-drawn outline; more is not a drawing, and would make the URL unwieldy


class OfflineDraw(Draw):
    default_js = [("leaflet_draw_js", f"{VENDOR}/draw/leaflet.draw.js")]
    default_css = [("leaflet_draw_css", f"{VENDOR}/draw/leaflet.draw.css")]


def add_draw_control(m: folium.Map, shapes: tuple[str, ...] = ("polygon", "rectangle"),
                     position: str = "topleft") -> OfflineDraw:
    """Let the user draw `shapes` (Leaflet.draw names: polygon, rectangle, circle, marker, polyline) on
    `m`. st_folium returns the shape as `last_active_drawing` (a GeoJSON feature) when asked for it in
    `returned_objects`; `Area.from_drawing` reads it."""
    every = ("polygon", "rectangle", "circle", "marker", "polyline", "circlemarker")
    options = {name: ({"showArea": False} if name == "polygon" else {}) if name in shapes else False for name in every}
    control = OfflineDraw(position=position, draw_options=options, edit_options={"edit": False, "remove": False},
                          show_geometry_on_click=False)
    control.add_to(m)
    return control


@dataclass(frozen=True)
class Area:
    """A polygon on the map: its outline as (lon, lat) pairs, not closed (the last point is not the first)."""

    ring: tuple[tuple[float, float], ...]

    @classmethod
    def from_points(cls, points: Any) -> "Area | None":
        """An area from (lon, lat) pairs, or None when they do not make one (too few, too many, not
        finite numbers, off the globe)."""
        try:
            ring = tuple((float(lon), float(lat)) for lon, lat in points)
        except (TypeError, ValueError):
            return None
        if ring and ring[0] == ring[-1]:
            ring = ring[:-1]
        if not 3 <= len(ring) <= MAX_VERTICES or not all(
                math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90
                for lon, lat in ring):
            return None
        area = cls(tuple((round(lon, 4), round(lat, 4)) for lon, lat in ring))
        return area if area.polygon.area > 0 else None

    @classmethod
    def from_drawing(cls, feature: Any) -> "Area | None":
        """The shape st_folium returns for a drawn polygon or rectangle (GeoJSON), else None."""
        geometry = (feature or {}).get("geometry") if isinstance(feature, dict) else None
        if not isinstance(geometry, dict) or geometry.get("type") != "Polygon" or not geometry.get("coordinates"):
            return None
        return cls.from_points(geometry["coordinates"][0])

    @classmethod
    def from_query(cls, value: Any) -> "Area | None":
        """An area from its URL text (`lon lat,lon lat,...`); None when malformed."""
        if not isinstance(value, str) or len(value) > MAX_VERTICES * 24:
            return None
        return cls.from_points(pair.split() for pair in value.split(","))

    def to_query(self) -> str:
        return ",".join(f"{lon:g} {lat:g}" for lon, lat in self.ring)

    @property
    def polygon(self) -> Polygon:
        return Polygon(self.ring)

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """min lon, min lat, max lon, max lat: what the store can filter on before the exact test."""
        return self.polygon.bounds

    def outline(self) -> list[list[float]]:
        """The outline as Leaflet wants it: [lat, lon] pairs."""
        return [[lat, lon] for lon, lat in self.ring]


def within(frame: gpd.GeoDataFrame, *shapes: BaseGeometry | None) -> gpd.GeoDataFrame:
    """The incidents of `frame` inside every one of `shapes` (a drawn area's polygon, a country's
    outline; None: no limit). On the edge counts as inside; unplaced incidents are outside."""
    for shape in shapes:
        if shape is not None:
            frame = frame[(frame.geometry.notna() & frame.geometry.covered_by(shape)).to_numpy()]
    return frame


@lru_cache(maxsize=1)
def country_outlines() -> dict[str, BaseGeometry]:
    """Natural Earth's country outlines (the offline basemap's), by name. There are no offline
    outlines of provinces: those are filtered by the province each incident is coded to."""
    outlines = gpd.read_file(COUNTRIES_FILE)
    return {name: shape.buffer(0) for name, shape in sorted(zip(outlines["name"], outlines.geometry))}


def provinces(frame) -> list[str]:
    """The provinces of `frame`'s incidents, as "Kandahār, AF" (the key `in_provinces` takes)."""
    keyed = frame["admin1"].notna() & frame["country"].notna()
    return sorted(set(frame.loc[keyed, "admin1"].astype(str) + ", " + frame.loc[keyed, "country"].astype(str)))


def in_provinces(frame, chosen: tuple[str, ...]):
    """The incidents coded to one of `chosen` provinces (all of them when none is chosen)."""
    if not chosen:
        return frame
    key = frame["admin1"].astype(str) + ", " + frame["country"].astype(str)
    return frame[key.isin(chosen).fillna(False).to_numpy(dtype=bool)]


def area_layer(area: Area) -> folium.FeatureGroup:
    """The area the view is filtered to, outlined on the map (not clickable, so markers inside stay so)."""
    layer = folium.FeatureGroup(name="Drawn area", control=False)
    folium.Polygon(area.outline(), color="#3366cc", weight=2, fill=True, fill_opacity=0.05, dash_array="6",
                   interactive=False).add_to(layer)
    return layer
