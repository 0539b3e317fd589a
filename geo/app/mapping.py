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
from folium.elements import JSCSSMixin
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


class _PluginScripts(JSCSSMixin, MacroElement):
    """The plugins' scripts, loaded with the base map: st_folium loads scripts only when the map is first
    drawn, so a layer swapped in later (heat, clusters) must find its plugin already there."""

    _template = Template("")
    default_js = OfflineHeatMap.default_js + OfflineMarkerCluster.default_js
    default_css = OfflineMarkerCluster.default_css


class _IconPath(MacroElement):
    """Leaflet guesses its image folder wrongly when served locally."""

    _template = Template("{% macro script(this, kwargs) %}L.Icon.Default.imagePath = '" + VENDOR
                         + "/leaflet/images/';{% endmacro %}")


class _Fetched(MacroElement):
    """A GeoJSON layer the browser fetches from the app's static files (not sent with every page)."""

    _template = Template(
        "{% macro script(this, kwargs) %}fetch({{ this.url|tojson }}).then(function (r) { return r.json(); })"
        ".then(function (data) { L.geoJSON(data, {style: {{ this.style|tojson }}, interactive: false})"
        ".addTo({{ this._parent.get_name() }}).bringToBack(); });{% endmacro %}")

    def __init__(self, url: str, style: dict) -> None:
        super().__init__()
        self.url, self.style = url, style


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
    lat, lon = np.round(lat, digits), np.round(lon, digits)
    # Grouped with numpy: pandas' per-group Python functions (the most frequent type, the id lists) took
    # seconds at 10,000 incidents.
    group = pd.factorize(pd.MultiIndex.from_arrays([lat, lon]))[0]
    n = int(group.max()) + 1
    order = np.argsort(group, kind="stable")
    first = order[np.r_[0, np.flatnonzero(np.diff(group[order])) + 1]]
    types = pd.Categorical(located["event_type"].astype(str), categories=list(EVENT_TYPES) + ["other"]).fillna("other")
    by_type = np.bincount(group * len(types.categories) + types.codes, minlength=n * len(types.categories))
    killed = located["killed"].fillna(0).astype("int64").to_numpy()
    wounded = located["wounded"].fillna(0).astype("int64").to_numpy()
    precision = np.full(n, 3, dtype="int64")
    np.minimum.at(precision, group, located["geo_precision"].fillna(3).astype("int64").to_numpy())
    ids = located["incident_id"].astype(str).to_numpy()[order]
    out = pd.DataFrame({
        "lat": lat[first], "lon": lon[first], "count": np.bincount(group, minlength=n),
        "killed": np.bincount(group, killed, minlength=n).astype("int64"),
        "wounded": np.bincount(group, wounded, minlength=n).astype("int64"), "precision": precision,
        "place_name": located["place_name"].fillna("").astype(str).to_numpy()[first],
        "event_type": np.asarray(types.categories)[by_type.reshape(n, -1).argmax(axis=1)],
        "incident_ids": [list(chunk) for chunk in np.split(ids, np.cumsum(np.bincount(group, minlength=n))[:-1])]})
    out["label"] = [_label(p, c, t, k, w) for p, c, t, k, w in
                    zip(out.place_name, out["count"], out.event_type, out.killed, out.wounded)]
    return out


def _label(place: str, count: int, event_type: str, killed: int, wounded: int) -> str:
    what = EVENT_LABELS.get(event_type, event_type) if count == 1 else f"{count} incidents"
    toll = f", {killed} killed" if killed else ""
    toll += f", {wounded} wounded" if wounded else ""
    return html.escape(f"{place or 'Unnamed place'}: {what}{toll}")



# -- the base map: what stays put while the incidents change (time playback, filters within the view) ------
LABEL_ZOOMS = {"country": 3, "minor-country": 5, "capital": 6, "city": 7, "place": 7}  # the zoom each kind shows from
BIG_CITY = 500_000  # people: the cities named on the basemap (about 1,000), so a marker does not sit on blank beige
MAJOR_COUNTRY = 25_000_000  # people: the countries named from zoom 3; the rest from 5, so names do not pile up


class _Legend(MacroElement):
    """The event-type colours, with how many incidents of each are shown, and the casualty circles: a
    Leaflet control in the bottom-right corner, so it stacks with the scale bar instead of covering it.
    The counts are filled in by the incident layers (`_LegendCounts`)."""

    _template = Template(
        "{% macro script(this, kwargs) %}(function () { var legend = L.control({position: 'bottomright'}); "
        "legend.onAdd = function () { var d = L.DomUtil.create('div', 'geo-legend'); d.innerHTML = {{ this.body|tojson }};"
        " return d; }; legend.addTo({{ this._parent.get_name() }}); })();{% endmacro %}"
        "{% macro header(this, kwargs) %}<style>.geo-legend{background:white;padding:6px 8px;border-radius:4px;"
        "font:12px sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3)}.geo-legend i{display:inline-block;width:10px;"
        "height:10px;border-radius:50%;margin-right:6px}.geo-legend b.geo-count{font-weight:normal;color:#555;"
        "margin-left:4px}</style>{% endmacro %}")

    def __init__(self) -> None:
        super().__init__()
        rows = "".join(f"<div><i style='background:{EVENT_COLORS[t]}'></i>{EVENT_LABELS[t]}"
                       f"<b class='geo-count' data-type='{t}'></b></div>" for t in EVENT_TYPES)
        rows += (f"<div><i style='background:{KILLED_COLOR}'></i>Killed (circle area)</div>"
                 f"<div><i style='background:{WOUNDED_COLOR}'></i>Wounded (circle area)</div>")
        self.body = "<b>Incidents</b>" + rows


class _LegendCounts(MacroElement):
    """Incidents per type shown in the legend, for what the map shows now."""

    _template = Template(
        "{% macro script(this, kwargs) %}(function (c) { document.querySelectorAll('.geo-legend .geo-count')"
        ".forEach(function (el) { el.textContent = '(' + (c[el.dataset.type] || 0) + ')'; }); })"
        "({{ this.counts|tojson }});{% endmacro %}")

    def __init__(self, counts: dict[str, int]) -> None:
        super().__init__()
        self.counts = counts


class _Labels(MacroElement):
    """Names on the map as text (country, capital, place), each shown from its zoom up: the container
    carries `geo-z-lt-N` classes for the zooms it is below (set by `_LabelZoom`). Rows: [lat, lon,
    escaped text, kind]."""

    _template = Template(
        "{% macro script(this, kwargs) %}(function () { var rows = {{ this.rows|tojson }}, "
        "layer = {{ this._parent.get_name() }}; rows.forEach(function (r) { L.marker([r[0], r[1]], {icon: "
        "L.divIcon({className: 'geo-label geo-label-' + r[3], html: '<span>' + r[2] + '</span>', iconSize: null}), "
        "interactive: false, "
        "keyboard: false}).addTo(layer); }); })();{% endmacro %}")

    def __init__(self, rows: list) -> None:
        super().__init__()
        self.rows = rows


class _LabelZoom(MacroElement):
    """Hides each kind of name below its zoom (CSS on classes the map container gets on every zoom)."""

    _template = Template(
        "{% macro script(this, kwargs) %}(function () { var map = {{ this._parent.get_name() }}; "
        "function mark() { var z = map.getZoom(), c = map.getContainer(); for (var k = 1; k <= 18; k++) "
        "{ c.classList.toggle('geo-z-lt-' + k, z < k); } } map.on('zoomend', mark); mark(); })();{% endmacro %}"
        "{% macro header(this, kwargs) %}<style>.geo-label{white-space:nowrap;font:11px sans-serif;color:#333;"
        "text-shadow:0 0 2px #fff,0 0 2px #fff,0 0 3px #fff;pointer-events:none;width:0;height:0}"
        ".geo-label>span{display:inline-block;transform:translate(-50%,-50%)}"
        ".geo-label-country,.geo-label-minor-country{font-size:11px;letter-spacing:.05em;text-transform:uppercase;"
        "color:#777}"
        ".geo-label-capital{font-weight:bold}.geo-label-capital,.geo-label-city{color:#111;"
        "}.geo-label-capital>span,.geo-label-city>span{transform:translate(7px,-50%)}.geo-label-city{color:#555}"
        ".geo-label-place{color:#000;font-style:italic}.geo-label-place>span{transform:translate(-50%,11px)}"
        "{{ this.rules }}</style>{% endmacro %}")

    def __init__(self) -> None:
        super().__init__()
        self.rules = "".join(f".geo-z-lt-{z} .geo-label-{kind}{{display:none}}" for kind, z in LABEL_ZOOMS.items())


def basemap_labels() -> list:
    """Country names, capitals and big cities from the gazetteer, for the offline basemap."""
    from ..places.gazetteer import KIND_CODE, load_gazetteer
    gazetteer = load_gazetteer()
    rows = []
    for index in gazetteer.country_places.values():
        p = gazetteer.place(index)
        rows.append([p.lat, p.lon, html.escape(p.name), "country" if p.population >= MAJOR_COUNTRY else "minor-country"])
    places = gazetteer.places
    capitals = np.asarray(places["capital"]) == 1
    cities = (np.asarray(places["kind"]) == KIND_CODE["city"]) & (np.asarray(places["population"]) >= BIG_CITY)
    for index in np.flatnonzero(capitals | cities):
        p = gazetteer.place(int(index))
        rows.append([p.lat, p.lon, html.escape(p.name), "capital" if p.capital else "city"])
    return rows


@dataclass(frozen=True)
class MapView:
    """Where the map opens: a centre and zoom, else the bounds (south, west, north, east) fitted."""

    center: tuple[float, float] | None = None
    zoom: int | None = None
    bounds: tuple[float, float, float, float] | None = None


def view_of(groups: pd.DataFrame, area=None) -> MapView:
    """The view that shows every place of `groups`, or the drawn `area` (an `areas.Area`) when there is one."""
    if area is not None:
        west, south, east, north = area.bbox
        return MapView(bounds=(south, west, north, east))
    if groups.empty:
        return MapView()
    return MapView(bounds=(float(groups.lat.min()), float(groups.lon.min()), float(groups.lat.max()),
                           float(groups.lon.max())))


def base_map(view: MapView | None = None, online_tiles: bool = False, labels: list | None = None,
             height: int = 560, legend: bool = True) -> folium.Map:
    """The map without incidents: outlines (or tiles), names, legend, scale. The incidents come as
    `incident_layers`, which st_folium swaps without redrawing this (so playback keeps the user's zoom)."""
    view = view or MapView()
    m = OfflineMap(location=list(view.center) if view.center else [20, 20], zoom_start=view.zoom or 2,
                   tiles=None, maxZoom=18, minZoom=1, height=height, prefer_canvas=True, control_scale=True)
    m.add_child(_IconPath())
    m.add_child(_PluginScripts())
    if online_tiles:
        folium.TileLayer(TILES_URL, attr=TILES_ATTRIBUTION, name="OpenStreetMap (online)", max_zoom=18).add_to(m)
    else:
        m.add_child(_Fetched(COUNTRIES_URL, {"color": "#777", "weight": 0.6, "fillColor": "#f4efe1",
                                             "fillOpacity": 1.0}))
    m.add_child(_LabelZoom())
    if labels:
        m.add_child(_Labels(labels))
    if legend:
        m.add_child(_Legend())
    if view.center is None and view.bounds is not None:
        south, west, north, east = view.bounds
        m.fit_bounds([[south, west], [north, east]], max_zoom=7, padding=(20, 20))
    return m


@dataclass(frozen=True)
class Layers:
    """Which incident layers to draw besides the incidents themselves."""

    casualties: bool = True
    heat: bool = False
    precision: bool = False
    place_names: bool = True


MAX_PLACE_NAMES = 300  # the busiest places get their name written on the map


def incident_layers(groups: pd.DataFrame, counts: dict[str, int], layers: Layers = Layers(),
                    selected: tuple[float, float] | None = None) -> list[folium.FeatureGroup]:
    """The incidents as feature groups for st_folium's `feature_group_to_add`: the markers (a click
    reports the marker's own position, so `group_at` finds exactly the place clicked), the casualty
    circles, heat, precision, the names of the busiest places, the selected place ringed, and the
    legend's counts."""
    main = folium.FeatureGroup(name="Incidents")
    main.add_child(_LegendCounts(counts))
    out = [main]
    if groups.empty:
        return out
    if layers.casualties:
        out.insert(0, _casualty_layer(groups))  # under the markers, and not clickable
    if layers.precision:
        out.insert(0, _precision_layer(groups))
    if layers.heat:
        out.insert(0, _heat_layer(groups))
    _add_markers(main, groups)
    if layers.place_names:
        busiest = groups.nlargest(MAX_PLACE_NAMES, "count")
        main.add_child(_Labels([[lat, lon, html.escape(name or ""), "place"] for lat, lon, name in
                                zip(busiest.lat.tolist(), busiest.lon.tolist(), busiest.place_name) if name]))
    if selected is not None:
        main.add_child(_Circles([[selected[0], selected[1], 15, 0, ""]], ["#111"], opacity=0.0, interactive=False,
                                weight=3))
    return out


class _Circles(MacroElement):
    """Many circles in one compact array, drawn by a loop in the browser: a fraction of the bytes of a
    GeoJSON layer with a style per feature. Rows: [lat, lon, radius, colour index, label or ""];
    labels are escaped text. A click on a circle reports the circle's centre, not the pointer's position."""

    _template = Template(
        "{% macro script(this, kwargs) %}(function () { var rows = {{ this.rows|tojson }}, "
        "colors = {{ this.colors|tojson }}, layer = {{ this._parent.get_name() }}; "
        "for (var i = 0; i < rows.length; i++) { var r = rows[i], c = colors[r[3]]; "
        "var m = {{ 'L.circle' if this.meters else 'L.circleMarker' }}([r[0], r[1]], {radius: r[2], color: c, "
        "fillColor: c, fillOpacity: {{ this.opacity }}, weight: {{ this.weight }}, "
        "interactive: {{ 'true' if this.interactive else 'false' }}"
        "{{ ', dashArray: \\'4\\'' if this.meters else '' }}}); "
        "if (r[4]) { m.bindTooltip(r[4]); } "
        "{% if this.interactive %}m.on('click', function (e) { e.latlng = this.getLatLng(); });{% endif %}"
        "m.addTo(layer); } })();{% endmacro %}")

    def __init__(self, rows: list, colors: list[str], opacity: float = 0.85, meters: bool = False,
                 interactive: bool = True, weight: int = 1) -> None:
        super().__init__()
        self.rows, self.colors, self.opacity, self.meters = rows, colors, opacity, meters
        self.interactive, self.weight = interactive, weight


_PALETTE = [EVENT_COLORS[t] for t in EVENT_TYPES]
_COLOR_INDEX = {t: i for i, t in enumerate(EVENT_TYPES)}


def _add_markers(layer: folium.FeatureGroup, groups: pd.DataFrame) -> None:
    if len(groups) > CLUSTER_ABOVE:
        colors = [EVENT_COLORS.get(t, "#555") for t in groups.event_type]
        data = [[lat, lon, c, label] for lat, lon, c, label in zip(groups.lat.tolist(), groups.lon.tolist(), colors,
                                                                    groups.label.tolist())]
        callback = ("function (row) { var m = L.circleMarker(new L.LatLng(row[0], row[1]), {radius: 6, "
                    "color: row[2], fillColor: row[2], fillOpacity: 0.85, weight: 1}); "
                    "m.bindTooltip(row[3]); m.on('click', function (e) { e.latlng = this.getLatLng(); }); "
                    "return m; }")  # row[3] is escaped text
        OfflineMarkerCluster(data, callback=callback).add_to(layer)
        return
    sizes = [round(min(14, 5 + 2 * math.log2(n)), 1) for n in groups["count"]]
    rows = [[lat, lon, r, _COLOR_INDEX.get(t, 0), label] for lat, lon, r, t, label in
            zip(groups.lat.tolist(), groups.lon.tolist(), sizes, groups.event_type, groups.label.tolist())]
    rows.sort(key=lambda row: -row[2])  # the big ones first, so a small place next to a big one stays clickable
    layer.add_child(_Circles(rows, _PALETTE))


def _radius(count: np.ndarray) -> list[float]:
    """Circle radius in pixels with area proportional to the count."""
    return [round(min(40.0, 3 + 2.2 * math.sqrt(c)), 1) for c in count]


def _casualty_layer(groups: pd.DataFrame) -> folium.FeatureGroup:
    layer = folium.FeatureGroup(name="Casualties")
    for kind, color in (("wounded", WOUNDED_COLOR), ("killed", KILLED_COLOR)):  # killed drawn on top
        rows = groups[groups[kind] > 0]
        if not rows.empty:
            layer.add_child(_Circles([[lat, lon, r, 0, ""] for lat, lon, r in zip(
                rows.lat.tolist(), rows.lon.tolist(), _radius(rows[kind].to_numpy()))], [color], opacity=0.45,
                interactive=False))
    return layer


def _heat_layer(groups: pd.DataFrame) -> folium.FeatureGroup:
    layer = folium.FeatureGroup(name="Heat")
    weights = (groups["count"] + groups.killed + groups.wounded).to_numpy(dtype=float)
    data = [[lat, lon, w] for lat, lon, w in zip(groups.lat.tolist(), groups.lon.tolist(),
                                                 (weights / max(weights.max(), 1.0)).round(3).tolist())]
    OfflineHeatMap(data, radius=18, blur=14, min_opacity=0.3).add_to(layer)
    return layer


def _precision_layer(groups: pd.DataFrame) -> folium.FeatureGroup:
    """How far the true place may be, for incidents coded to a district or a province."""
    layer = folium.FeatureGroup(name="Precision")
    vague = groups[groups.precision >= 2]
    if not vague.empty:
        layer.add_child(_Circles([[lat, lon, PRECISION_METERS[int(p)], 0, ""] for lat, lon, p in zip(
            vague.lat.tolist(), vague.lon.tolist(), vague.precision.tolist())], ["#555"], opacity=0.08, meters=True,
            interactive=False))
    return layer


def group_at(groups: pd.DataFrame, lat: float, lon: float) -> pd.Series | None:
    """The place whose marker was clicked: markers report their own centre, so this is an exact match
    (not the nearest place, which at a low zoom is often another one)."""
    if groups.empty:
        return None
    hit = groups[((groups.lat - lat).abs() < 1e-7) & ((groups.lon - lon).abs() < 1e-7)]
    return hit.iloc[0] if not hit.empty else None


def counts_by_type(frame: pd.DataFrame) -> dict[str, int]:
    return {str(k): int(v) for k, v in frame["event_type"].astype(str).value_counts().items()}


TREND_COLORS = {"rising": "#b30000", "new": "#7a0177", "up": "#e34a33", "same": "#8c8c8c", "falling": "#2c7fb8"}


def change_layer(change: pd.DataFrame) -> folium.FeatureGroup:
    """The change view on the map: a circle per province or grid cell with placed incidents, sized by this
    week's incidents and coloured by the trend (`change.weekly_change`)."""
    layer = folium.FeatureGroup(name="Change")
    placed = change[change.lat.notna()]
    trends = list(TREND_COLORS)
    rows = [[lat, lon, round(min(30.0, 5 + 3 * math.sqrt(n)), 1), trends.index(t),
             html.escape(f"{area}: {n} this week, {before:g} a week before ({words})")]
            for lat, lon, n, t, area, before, words in zip(placed.lat.tolist(), placed.lon.tolist(),
                                                          placed.this_week.tolist(), placed.trend, placed.area,
                                                          placed.weekly_average_before.tolist(), placed.change)]
    layer.add_child(_Circles(rows, list(TREND_COLORS.values()), opacity=0.6))
    return layer
