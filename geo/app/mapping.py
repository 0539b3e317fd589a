"""The incident map: folium layers that draw with no internet, and stay fast at 10,000 incidents.

Leaflet, jQuery and the plugins are served by Streamlit from `static/vendor/` (stock folium loads them
from CDNs, and one unreachable script leaves the map blank); the offline basemap is Natural Earth's
country outlines from `static/countries.geojson`. Incidents at the same place are one marker, and each
layer is one GeoJSON layer (or one clustered layer when there are many places), never one folium object
per incident. Every string that reaches the map's HTML is escaped here: article text is untrusted.
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import MacroElement
from folium.plugins import FastMarkerCluster, HeatMap
from jinja2 import Template

from ..text.incidents import EVENT_TYPES

STATIC = "/app/static"
VENDOR = f"{STATIC}/vendor"
COUNTRIES_URL = f"{STATIC}/countries.geojson"
EVENT_COLORS = {"battle": "#d62728", "explosion_remote_violence": "#ff7f0e",
                "violence_against_civilians": "#9467bd", "protest": "#1f77b4", "riot": "#8c564b",
                "strategic_development": "#2ca02c"}
EVENT_LABELS = {"battle": "Battle", "explosion_remote_violence": "Explosion / remote violence",
                "violence_against_civilians": "Violence against civilians", "protest": "Protest", "riot": "Riot",
                "strategic_development": "Strategic development"}
KILLED_COLOR, WOUNDED_COLOR = "#7f0000", "#f0a30a"
PRECISION_METERS = {2: 15_000, 3: 75_000}  # a district, a province: how far the true place may be
CLUSTER_ABOVE = 1500   # places; beyond this the incidents layer clusters
TILES_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
TILES_ATTRIBUTION = "&copy; OpenStreetMap contributors"


class OfflineMap(folium.Map):
    default_js = [("leaflet", f"{VENDOR}/leaflet/leaflet.js"), ("jquery", f"{VENDOR}/jquery/jquery.min.js")]
    default_css = [("leaflet_css", f"{VENDOR}/leaflet/leaflet.css")]


class OfflineMarkerCluster(FastMarkerCluster):
    default_js = [("markerclusterjs", f"{VENDOR}/markercluster/leaflet.markercluster.js")]
    default_css = [("markerclustercss", f"{VENDOR}/markercluster/MarkerCluster.css"),
                   ("markerclusterdefaultcss", f"{VENDOR}/markercluster/MarkerCluster.Default.css")]


class OfflineHeatMap(HeatMap):
    default_js = [("leaflet-heat.js", f"{VENDOR}/heat/leaflet-heat.js")]


class _IconPath(MacroElement):
    """Leaflet guesses its image folder wrongly when served locally."""

    _template = Template("{% macro script(this, kwargs) %}L.Icon.Default.imagePath = '" + VENDOR
                         + "/leaflet/images/';{% endmacro %}")


class _Legend(MacroElement):
    """The event-type colours and the casualty circles, in the map's corner (fixed text only)."""

    def __init__(self) -> None:
        super().__init__()
        rows = "".join(f"<div><span style='background:{EVENT_COLORS[t]}'></span>{EVENT_LABELS[t]}</div>"
                       for t in EVENT_TYPES)
        rows += (f"<div><span style='background:{KILLED_COLOR}'></span>Killed (circle area)</div>"
                 f"<div><span style='background:{WOUNDED_COLOR}'></span>Wounded (circle area)</div>")
        self._template = Template(
            "{% macro html(this, kwargs) %}<div class='geo-legend' style='position:absolute;bottom:24px;left:10px;"
            "z-index:9999;background:white;padding:6px 8px;border-radius:4px;font:12px sans-serif;"
            "box-shadow:0 1px 4px rgba(0,0,0,.3)'><b>Incidents</b>" + rows + "</div><style>.geo-legend span{"
            "display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:6px}</style>"
            "{% endmacro %}")


class _Fetched(MacroElement):
    """A GeoJSON layer the browser fetches from the app's static files (not sent with every page)."""

    _template = Template(
        "{% macro script(this, kwargs) %}fetch({{ this.url|tojson }}).then(function (r) { return r.json(); })"
        ".then(function (data) { L.geoJSON(data, {style: {{ this.style|tojson }}, interactive: false})"
        ".addTo({{ this._parent.get_name() }}).bringToBack(); });{% endmacro %}")

    def __init__(self, url: str, style: dict) -> None:
        super().__init__()
        self.url, self.style = url, style


@dataclass(frozen=True)
class MapView:
    center: tuple[float, float] | None = None
    zoom: int | None = None


MAX_PLACES = 15_000  # beyond this, nearby places are drawn as one (the map stays usable at 100,000)


def place_groups(frame: gpd.GeoDataFrame, max_places: int = MAX_PLACES) -> pd.DataFrame:
    """Incidents with a point, one row per place (points within about 10 m; coarser,
    when there are more than `max_places` places, about 100 km at the coarsest): how many, which types, the casualties, the incident
    ids, and a short escaped label."""
    located = frame[frame.geometry.notna()]
    if located.empty:
        return pd.DataFrame(columns=["lat", "lon", "count", "killed", "wounded", "event_type", "precision",
                                     "incident_ids", "label"])
    lat, lon = located.geometry.y.to_numpy(), located.geometry.x.to_numpy()
    digits = 4
    while digits > 0 and len(np.unique(np.round(lat, digits) * 1000 + np.round(lon, digits))) > max_places:
        digits -= 1
    table = pd.DataFrame({
        "lat": np.round(lat, digits), "lon": np.round(lon, digits),
        "incident_id": located["incident_id"].astype(str).to_numpy(),
        "event_type": located["event_type"].astype(str).to_numpy(),
        "place_name": located["place_name"].fillna("").astype(str).to_numpy(),
        "killed": located["killed"].fillna(0).astype("int64").to_numpy(),
        "wounded": located["wounded"].fillna(0).astype("int64").to_numpy(),
        "precision": located["geo_precision"].fillna(3).astype("int64").to_numpy()})
    grouped = table.groupby(["lat", "lon"], sort=False)
    out = grouped.agg(count=("incident_id", "size"), killed=("killed", "sum"), wounded=("wounded", "sum"),
                      precision=("precision", "min"), place_name=("place_name", "first"),
                      event_type=("event_type", lambda s: s.mode().iat[0]),
                      incident_ids=("incident_id", list)).reset_index()
    out["label"] = [_label(p, n, t, k, w) for p, n, t, k, w in
                    zip(out.place_name, out["count"], out.event_type, out.killed, out.wounded)]
    return out


def _label(place: str, count: int, event_type: str, killed: int, wounded: int) -> str:
    what = EVENT_LABELS.get(event_type, event_type) if count == 1 else f"{count} incidents"
    toll = f", {killed} killed" if killed else ""
    toll += f", {wounded} wounded" if wounded else ""
    return html.escape(f"{place or 'Unnamed place'}: {what}{toll}")


def incident_map(groups: pd.DataFrame, online_tiles: bool = False, view: MapView | None = None,
                 height: int = 560) -> folium.Map:
    """The map of incidents grouped by place (`place_groups`, which the page also needs to know what a
    click landed on) with its layers: incidents, casualties, heat, precision, countries."""
    view = view or MapView()
    m = OfflineMap(location=list(view.center) if view.center else [20, 20], zoom_start=view.zoom or 2,
                   tiles=None, maxZoom=18, minZoom=1, height=height, prefer_canvas=True, control_scale=True)
    m.add_child(_IconPath())
    if online_tiles:
        folium.TileLayer(TILES_URL, attr=TILES_ATTRIBUTION, name="OpenStreetMap (online)", max_zoom=18).add_to(m)
    outlines = folium.FeatureGroup(name="Country outlines", control=True)
    outlines.add_child(_Fetched(COUNTRIES_URL, {"color": "#777", "weight": 0.6, "fillColor": "#f4efe1",
                                                "fillOpacity": 1.0}))
    outlines.add_to(m)
    if not groups.empty:
        _incident_layer(groups).add_to(m)
        _casualty_layer(groups).add_to(m)
        _heat_layer(groups).add_to(m)
        _precision_layer(groups).add_to(m)
        if view.center is None:
            m.fit_bounds([[groups.lat.min(), groups.lon.min()], [groups.lat.max(), groups.lon.max()]],
                         max_zoom=7, padding=(20, 20))
    folium.LayerControl(collapsed=False).add_to(m)
    m.add_child(_Legend())
    return m


class _Circles(MacroElement):
    """Many circles in one compact array, drawn by a loop in the browser: a fraction of the bytes of a
    GeoJSON layer with a style per feature. Rows: [lat, lon, radius, colour index, label or ""];
    labels are escaped text."""

    _template = Template(
        "{% macro script(this, kwargs) %}(function () { var rows = {{ this.rows|tojson }}, "
        "colors = {{ this.colors|tojson }}, layer = {{ this._parent.get_name() }}; "
        "for (var i = 0; i < rows.length; i++) { var r = rows[i], c = colors[r[3]]; "
        "var m = {{ 'L.circle' if this.meters else 'L.circleMarker' }}([r[0], r[1]], {radius: r[2], color: c, "
        "fillColor: c, fillOpacity: {{ this.opacity }}, weight: 1{{ ', dashArray: \\'4\\'' if this.meters else '' }}}); "
        "if (r[4]) { m.bindTooltip(r[4]); } m.addTo(layer); } })();{% endmacro %}")

    def __init__(self, rows: list, colors: list[str], opacity: float = 0.85, meters: bool = False) -> None:
        super().__init__()
        self.rows, self.colors, self.opacity, self.meters = rows, colors, opacity, meters


_PALETTE = [EVENT_COLORS[t] for t in EVENT_TYPES]
_COLOR_INDEX = {t: i for i, t in enumerate(EVENT_TYPES)}


def _incident_layer(groups: pd.DataFrame) -> folium.FeatureGroup:
    layer = folium.FeatureGroup(name="Incidents", control=True)
    colors = [EVENT_COLORS.get(t, "#555") for t in groups.event_type]
    if len(groups) > CLUSTER_ABOVE:
        data = [[lat, lon, c, label] for lat, lon, c, label in zip(groups.lat.tolist(), groups.lon.tolist(), colors,
                                                                    groups.label.tolist())]
        callback = ("function (row) { var m = L.circleMarker(new L.LatLng(row[0], row[1]), {radius: 6, "
                    "color: row[2], fillColor: row[2], fillOpacity: 0.85, weight: 1}); "
                    "m.bindTooltip(row[3]); return m; }")  # row[3] is escaped text
        OfflineMarkerCluster(data, callback=callback).add_to(layer)
        return layer
    sizes = [round(min(14, 5 + 2 * math.log2(n)), 1) for n in groups["count"]]
    rows = [[lat, lon, r, _COLOR_INDEX.get(t, 0), label] for lat, lon, r, t, label in
            zip(groups.lat.tolist(), groups.lon.tolist(), sizes, groups.event_type, groups.label.tolist())]
    layer.add_child(_Circles(rows, _PALETTE))
    return layer


def _radius(count: np.ndarray) -> list[float]:
    """Circle radius in pixels with area proportional to the count."""
    return [round(min(40.0, 3 + 2.2 * math.sqrt(c)), 1) for c in count]


def _casualty_layer(groups: pd.DataFrame) -> folium.FeatureGroup:
    layer = folium.FeatureGroup(name="Casualties", control=True)
    for kind, color in (("wounded", WOUNDED_COLOR), ("killed", KILLED_COLOR)):  # killed drawn on top
        rows = groups[groups[kind] > 0]
        if not rows.empty:
            layer.add_child(_Circles([[lat, lon, r, 0, ""] for lat, lon, r in zip(
                rows.lat.tolist(), rows.lon.tolist(), _radius(rows[kind].to_numpy()))], [color], opacity=0.45))
    return layer


def _heat_layer(groups: pd.DataFrame) -> folium.FeatureGroup:
    layer = folium.FeatureGroup(name="Heat", control=True, show=False)
    weights = (groups["count"] + groups.killed + groups.wounded).to_numpy(dtype=float)
    data = [[lat, lon, w] for lat, lon, w in zip(groups.lat.tolist(), groups.lon.tolist(),
                                                 (weights / max(weights.max(), 1.0)).round(3).tolist())]
    OfflineHeatMap(data, radius=18, blur=14, min_opacity=0.3).add_to(layer)
    return layer


def _precision_layer(groups: pd.DataFrame) -> folium.FeatureGroup:
    """How far the true place may be, for incidents coded to a district or a province."""
    layer = folium.FeatureGroup(name="Precision (district, province)", control=True, show=False)
    vague = groups[groups.precision >= 2]
    if not vague.empty:
        layer.add_child(_Circles([[lat, lon, PRECISION_METERS[int(p)], 0, ""] for lat, lon, p in zip(
            vague.lat.tolist(), vague.lon.tolist(), vague.precision.tolist())], ["#555"], opacity=0.08, meters=True))
    return layer


def nearest_group(groups: pd.DataFrame, lat: float, lon: float) -> pd.Series | None:
    """The place group a map click landed on (the nearest, within a few kilometres)."""
    if groups.empty:
        return None
    d = (groups.lat - lat) ** 2 + ((groups.lon - lon) * math.cos(math.radians(lat))) ** 2
    i = int(d.to_numpy().argmin())
    return groups.iloc[i] if d.iat[i] < 0.05 ** 2 else None
