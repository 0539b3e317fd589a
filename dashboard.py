"""Streamlit front: layout and widgets only; every step is a call into `geo`."""
from __future__ import annotations

import dataclasses
import hashlib
import os
import time
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.app.areas import Area, add_draw_control, area_layer, country_outlines, in_provinces, provinces, within
from geo.app.change import default_week_end, weekly_change
from geo.app.downloads import browser_download_html
from geo.app.mapping import (EVENT_LABELS, Layers, MapView, base_map, basemap_labels, change_layer, counts_by_type,
                             incident_layers, place_groups, view_of)
from geo.app.selection import click_choice, source_stating, still_in_view, table_choice
from geo.app.timeplay import in_period, periods, timeline, timeline_chart
from geo.app.urls import read_query, write_query
from geo.app.watch_views import alerts_tab, watch_tab
from geo.app.views import (audit_view, build_sample_store, count_words, country_choice, country_codes, country_name,
                           headline, headline_caption, incident_card_html, incident_table, plain_label,
                           read_uploads, stored_article_html, highlight_html)
from geo.pipeline import default_pipeline
from geo.places.gazetteer import load_gazetteer
from geo.store import EditConflict, Filters, Store, StoreError, resolve_url
from geo.store.auth import ROLES, AuthConfig, PermissionDenied, SignInGuard, User
from geo.store.export import FORMATS, MEDIA_TYPES, export_bytes
from geo.text.incidents import EVENT_TYPES

ROOT = Path(__file__).resolve().parent
SAMPLES = ROOT / "data" / "articles"
BIG_STORE = 50_000  # incidents
PLAY_SECONDS = 1.5  # per step of the time playback

st.set_page_config(page_title="Incident atlas", page_icon="🗺️", layout="wide")


@st.cache_resource(show_spinner=False)
def open_store(url: str) -> Store:
    return Store.open(url)  # a GeoPackage, PostGIS, or (read-only) a GeoParquet dataset folder


@st.cache_data(ttl=600, max_entries=32, show_spinner=False)
def load_incidents(url: str, filters: Filters, revision: tuple):
    return open_store(url).incidents(filters)


@st.cache_data(ttl=600, max_entries=4, show_spinner=False)
def load_choices(url: str, revision: tuple) -> dict:
    return open_store(url).choices()


@st.cache_data(ttl=600, max_entries=4, show_spinner=False)
def load_sources(url: str, revision: tuple) -> pd.DataFrame:
    return open_store(url).sources()


@st.cache_resource(show_spinner=False)
def map_labels() -> list:
    return basemap_labels()


# How long "what was done" stays on the page: the map's own reruns (it reports its view after it is
# drawn again) must not wipe the confirmation before the editor has read it.
FLASH_SECONDS = 15


def flash(message: str) -> None:
    """Say what was done, on the page as it is after the change (the tab stays where it was)."""
    st.session_state["flash"] = (message, time.monotonic())
    st.rerun()


# -- the store, built from the samples on the first run ----------------------------------------------
url = resolve_url(os.environ.get("GEO_DB"))
try:
    store = open_store(url)
except StoreError as exc:
    st.error(f"The store cannot be opened: {exc}")
    st.stop()
# -- who is here: team mode (sign-in, roles) when secrets.toml configures it, else one local user ---------
try:
    auth = AuthConfig.from_secrets(st.secrets)
except ValueError as exc:
    st.error(f"Sign-in is misconfigured in .streamlit/secrets.toml: {exc}")
    st.stop()


@st.cache_resource(show_spinner=False)
def sign_in_guards() -> dict:
    return {}  # one guard per configuration, shared by every session of this server


def current_user() -> User | None:
    if not auth.enabled:
        return User(st.session_state.get("editor") or "local", "admin")
    if auth.oidc and st.user.get("is_logged_in"):
        signed = auth.oidc_user(st.user.get("email"), st.user.get("name"))
    elif "user" in st.session_state:
        signed = st.session_state["user"]
    else:
        return None
    return User(signed.name, store.role_of(signed.name) or signed.role)  # an admin's setting wins


def sign_in_page() -> None:
    st.title("Incident atlas")
    st.write("Sign in to see the incidents.")
    if auth.oidc:
        st.button("Sign in with your organisation's account", on_click=st.login, key="oidc_login")
    if auth.users:
        guard = sign_in_guards().setdefault(tuple(sorted(auth.users)), SignInGuard(auth, store))
        with st.form("sign_in"):
            name = st.text_input("User name", key="sign_in_name")
            password = st.text_input("Password", type="password", key="sign_in_password")
            if st.form_submit_button("Sign in"):
                try:
                    signed = guard.sign_in(name, password, st.context.ip_address)
                except PermissionDenied as exc:
                    st.error(str(exc))
                else:
                    if signed is None:
                        st.error("Wrong user name or password.")
                    else:
                        st.session_state["user"] = signed
                        st.rerun()


user = current_user()
if user is None:
    sign_in_page()
    st.stop()
if store.read_only:  # a GeoParquet dataset: look and export only
    user = User(user.name, "viewer")
store = store.for_user(user)  # the library refuses what the role may not do, whatever the page shows

if store.counts()["articles"] == 0 and user.can("add"):
    bar = st.progress(0.0, "Building the store from the sample articles…")
    summary = build_sample_store(store, SAMPLES, default_pipeline(),
                                 lambda share, name: bar.progress(share, f"Reading {name}"))
    bar.empty()
    st.toast(f"Store built from the samples: {summary}")

revision = store.revision()
options = load_choices(url, revision)

# -- the URL: filters, drawn area, chosen incident; a bad value is named and dropped ----------------------
outlines = country_outlines()
page = read_query({k: st.query_params.get_all(k) for k in st.query_params}, outlines, country_codes())
for problem in page.problems:
    st.warning(problem)
query = page.filters
if "area" not in st.session_state:  # the first run of this session: the URL's view
    st.session_state["area"] = page.area
    st.session_state["selected"] = [page.incident] if page.incident else []
area: Area | None = st.session_state["area"]

# -- filters: in the sidebar -------------------------------------------------------------------------------
st.sidebar.header("Filters")
first_day = options["first_day"] or date(2025, 1, 1)
last_day = options["last_day"] or date.today()
# A big store opens on its last 90 days, filtered in the database, so the page stays quick.
default_from = max(first_day, last_day - timedelta(days=90)) if options["incidents"] > BIG_STORE else first_day
period_value = (query.date_from or default_from, query.date_to or last_day)
period_value = (min(period_value), max(period_value))
chosen_period = st.sidebar.date_input("Dates", value=period_value, key="f_dates")
types = st.sidebar.multiselect("Event types", EVENT_TYPES, default=list(query.event_types),
                               format_func=EVENT_LABELS.get, key="f_types")
countries = st.sidebar.multiselect("Countries", options["countries"],
                                   default=[c for c in query.countries if c in options["countries"]],
                                   format_func=country_choice, key="f_countries",
                                   help="Type a name or a code: Afghanistan, AF.")
minimum = st.sidebar.number_input("At least this many killed + wounded", min_value=0, value=query.min_casualties,
                                  step=1, key="f_min")
actors = st.sidebar.multiselect("Actors", options["actors"],
                                default=[a for a in query.actors if a in options["actors"]],
                                key="f_actors")
text = st.sidebar.text_input("Text (evidence, place, actors, claims)", value=query.text, key="f_text", max_chars=200)
outline = st.sidebar.selectbox("Inside the outline of", [None, *outlines], key="f_outline",
                               index=[None, *outlines].index(page.outline),
                               format_func=lambda name: "(anywhere)" if name is None else name)
if area is not None:
    st.sidebar.caption(f"Only the area drawn on the map ({len(area.ring)} corners).")
    st.sidebar.button("Clear the drawn area", key="clear_area", on_click=lambda: st.session_state.update(area=None))
else:
    st.sidebar.caption("Draw a polygon or rectangle on the map (tools at its top left) to keep only that area.")
chosen_from = chosen_period[0] if len(chosen_period) > 0 and chosen_period[0] != first_day else None
chosen_to = chosen_period[1] if len(chosen_period) > 1 and chosen_period[1] != last_day else None
filters = Filters(date_from=chosen_from, date_to=chosen_to,
                  event_types=tuple(types), countries=tuple(countries), min_casualties=int(minimum),
                  text=text.strip(), actors=tuple(actors), bbox=query.bbox)
# The store narrows to the area's bounding box; the exact outline is tested on the frame.
store_filters = dataclasses.replace(filters, bbox=area.bbox) if area is not None else filters
placed = within(load_incidents(url, store_filters, revision), area and area.polygon, outlines.get(outline))
chosen_provinces = st.sidebar.multiselect("Provinces", provinces(placed), key="f_provinces",
                                          default=[p for p in page.provinces if p in provinces(placed)],
                                          help="The province each incident is coded to.")
frame = in_provinces(placed, tuple(chosen_provinces))

# -- the chosen incidents: ids, kept while they are in view, cleared (and said so) when filtered out ----------
view_key = hashlib.sha1(repr((store_filters, area, outline, chosen_provinces)).encode()).hexdigest()[:10]
table_key = f"incident_table_{view_key}"  # a new table per view: a row number never outlives its rows
table_pick = table_choice(frame, ((st.session_state.get(table_key) or {}).get("selection") or {}).get("rows") or [])
if table_pick and st.session_state.get("table_pick") != (table_key, table_pick):  # a row newly selected
    st.session_state["table_pick"] = (table_key, table_pick)
    st.session_state["selected"] = [table_pick]
map_click = (st.session_state.get("map") or {}).get("last_object_clicked")
if map_click and map_click != st.session_state.get("handled_click"):  # a click seen before the map is drawn
    st.session_state["handled_click"] = map_click
    st.session_state["selected"] = click_choice(place_groups(frame), map_click)
selected, dropped = still_in_view(st.session_state["selected"], frame)
if dropped:
    st.info("The incident you chose is outside the current filters, so it is no longer selected.")
st.session_state["selected"] = selected

# The URL keeps the view, so it can be shared ("tab" belongs to the tabs widget, which keeps it itself).
wanted = write_query(filters, area, selected[0] if len(selected) == 1 else None, outline, tuple(chosen_provinces))
for stale in set(st.query_params) - set(wanted) - {"tab"}:
    del st.query_params[stale]
for name, value in wanted.items():
    if (st.query_params.get_all(name) if isinstance(value, list) else st.query_params.get(name)) != value:
        st.query_params[name] = value

if auth.enabled:
    st.sidebar.write(f"Signed in as **{plain_label(user.name)}** ({user.role})")
    if st.sidebar.button("Sign out", key="sign_out"):
        st.session_state.pop("user", None)
        st.logout() if auth.oidc and st.user.get("is_logged_in") else st.rerun()
st.sidebar.header("Map")
online = st.sidebar.toggle("Online map tiles (OpenStreetMap)", value=False,
                           help="Off: the offline basemap of country outlines. On: tiles, when the internet is there.")
layers = Layers(casualties=st.sidebar.toggle("Casualty circles", value=True, key="layer_casualties"),
                heat=st.sidebar.toggle("Heat", value=False, key="layer_heat"),
                precision=st.sidebar.toggle("Precision of vague places", value=False, key="layer_precision"),
                place_names=st.sidebar.toggle("Place names", value=True, key="layer_names"))
if not auth.enabled:
    st.sidebar.text_input("Your name (for corrections)", key="editor")

# -- export what is filtered: made when the button is clicked, sent over this session's own connection ----
st.sidebar.header("Export what is filtered")
for fmt in FORMATS:
    if st.sidebar.button(f"{fmt.upper()} of {count_words(len(frame), 'incident')}", key=f"export_{fmt}"):
        data = export_bytes(frame, fmt, store.sources(frame["incident_id"].tolist()))
        try:
            st.sidebar.iframe(browser_download_html(data, f"incidents.{fmt}", MEDIA_TYPES[fmt]), height=30)
        except ValueError as too_big:
            st.sidebar.warning(str(too_big))

# -- the page --------------------------------------------------------------------------------------------
st.title("Incident atlas")
if "flash" in st.session_state:
    message, said_at = st.session_state["flash"]
    if time.monotonic() - said_at < FLASH_SECONDS:
        st.success(message)
    else:
        del st.session_state["flash"]
figures = headline(frame)
a, b, c = st.columns(3)
a.metric("Incidents", f"{figures['incidents']:,}")
b.metric("Killed", f"{figures['killed']:,}")
c.metric("Wounded", f"{figures['wounded']:,}")
st.caption(headline_caption(figures, int(frame.geometry.isna().sum())))

names = ["Map", "Incidents", "Change", "Articles"] + (["Add articles"] if user.can("add") else []) + \
    (["Audit"] if user.can("correct") else []) + (["Users"] if user.can("roles") else []) + \
    ([] if store.read_only else ["Alerts", "Watch"])
if st.session_state.get("tab") not in names:
    st.session_state.pop("tab", None)
tabs = dict(zip(names, st.tabs(names, key="tab", bind="query-params", on_change="rerun")))


def open_article(incident_id: str, evidence: str) -> None:
    """From a card to the article that states its evidence, scrolled to it."""
    source = source_stating(store.sources([incident_id]), evidence)
    if source is not None:
        st.session_state.update(article_choice=source["article_key"], tab="Articles", article_focus=source["evidence"])


def show_cards(ids: list[str], where: str) -> None:
    rows = frame[frame["incident_id"].isin(ids)]
    sources = store.sources(rows["incident_id"].tolist()) if not rows.empty else None
    for row in rows.head(20).to_dict("records"):
        st.html(incident_card_html(row, sources[sources.incident_id == row["incident_id"]]))
        st.button("Open the article at the evidence", key=f"open_{where}_{row['incident_id']}",
                  on_click=open_article, args=(row["incident_id"], row["evidence"]))


def show_on_map(lat: float, lon: float) -> None:
    st.session_state.update(focus=(lat, lon), tab="Map")


# -- time: the controls that change how the map is redrawn sit outside the playing part ------------------------
def time_controls():
    dated = frame["date"].dropna()
    if dated.empty:
        return None
    with tabs["Map"]:
        left, mid, right, far = st.columns([1.2, 1.2, 1, 1])
        if not left.toggle("Time slider", key="time_on", help="Step through the days or weeks; Play animates."):
            return None
        step = mid.segmented_control("Step", ["day", "week"], default="week", key="time_step") or "week"
        cumulative = right.toggle("Cumulative", key="time_cumulative", help="Everything up to the period, not just it.")
        playing = far.toggle("▶ Play", key="time_play")
    return periods(dated.min().date(), dated.max().date(), step), cumulative, playing


def map_tab(timing) -> None:
    shown, period = frame, None
    if timing is not None:
        steps, cumulative, playing = timing
        index = min(st.session_state.get("time_index", len(steps) - 1), len(steps) - 1)
        st.session_state["time_index"] = (index + 1) % len(steps) if playing else index
        index = st.select_slider("Period", range(len(steps)), format_func=lambda i: steps[i].label(), key="time_index")
        period = steps[index]
        shown = in_period(frame, period, cumulative)
        figures = headline(shown)
        st.caption(f"{f'Up to {period.end:%d %b %Y}' if cumulative else f'In {period.label()}'}: "
                   f"{count_words(figures['incidents'], 'incident')}, "
                   f"{figures['killed']:,} killed, {figures['wounded']:,} wounded.")
    groups = place_groups(shown)
    chosen = groups[groups.incident_ids.map(lambda ids: bool(set(ids) & set(selected)))]
    ring = (float(chosen.lat.iat[0]), float(chosen.lon.iat[0])) if not chosen.empty else None
    focus = st.session_state.get("focus")
    view = MapView(center=focus, zoom=8) if focus else view_of(place_groups(frame), area)
    m = base_map(view, online_tiles=online, labels=map_labels())
    if area is not None:
        area_layer(area).add_to(m)
    add_draw_control(m)
    out = st_folium(m, key="map", height=560, use_container_width=True,
                    feature_group_to_add=incident_layers(groups, counts_by_type(shown), layers, ring),
                    returned_objects=["last_object_clicked", "last_active_drawing"])
    click = (out or {}).get("last_object_clicked")
    if click and click != st.session_state.get("handled_click"):
        st.session_state["handled_click"] = click
        selected[:] = click_choice(groups, click)
        st.session_state["selected"] = list(selected)
    drawing = (out or {}).get("last_active_drawing")
    if drawing and drawing != st.session_state.get("handled_drawing"):
        st.session_state["handled_drawing"] = drawing
        drawn = Area.from_drawing(drawing)
        if drawn is not None and drawn != area:
            st.session_state["area"] = drawn
            st.rerun()
    here = [i for i in selected if i in set(shown["incident_id"])]
    if here:
        place = frame.loc[frame["incident_id"] == here[0], "place_name"].iat[0]
        st.subheader(f"{count_words(len(here), 'incident')} at {place or 'this place'}")
        show_cards(here, "map")
    else:
        st.caption("Click a marker for its incidents.")
    series = timeline(frame)
    if not series.empty:
        st.subheader("Timeline")
        measure = st.segmented_control("Show", ["incidents", "killed", "wounded"], default="incidents",
                                       key="timeline_measure") or "incidents"
        st.altair_chart(timeline_chart(series, measure, period), width="stretch")


timing = time_controls()
with tabs["Map"]:
    if timing is not None and timing[2]:
        st.fragment(run_every=PLAY_SECONDS)(map_tab)(timing)  # only the map, its figures and the chart replay
    else:
        map_tab(timing)


def gazetteer_search(chosen) -> list:
    wanted_name = st.text_input("Search the gazetteer (any spelling)",
                                value="" if pd.isna(chosen["place_name"]) else chosen["place_name"],
                                key=f"gazetteer_{chosen['incident_id']}")
    return load_gazetteer().search(wanted_name, limit=12) if wanted_name.strip() else []


def place_words(p) -> str:
    where = ", ".join(x for x in (p.admin1, country_name(p.country)) if x)
    return f"{p.name}, {where} — {p.kind}, population {p.population:,} ({p.lat:.3f}, {p.lon:.3f})"


def correction_form(chosen) -> None:
    """Another type, other counts, another gazetteer place or coordinates: saved as a correction.
    The version the editor first saw is what the save checks, so an edit made meanwhile by someone
    else is refused rather than overwritten."""
    editor = user.name if auth.enabled else (st.session_state.get("editor") or "").strip()
    if not editor:
        st.info("Enter your name in the sidebar first: every correction carries who made it.")
        return
    loaded_key = f"loaded_version_{chosen['incident_id']}"
    loaded = st.session_state.setdefault(loaded_key, int(chosen["version"]))
    candidates = gazetteer_search(chosen)
    with st.form("correction"):
        new_type = st.selectbox("Event type", EVENT_TYPES, index=EVENT_TYPES.index(chosen["event_type"]),
                                format_func=EVENT_LABELS.get)
        killed = st.number_input("Killed", min_value=0, value=int(chosen["killed"])
                                 if not pd.isna(chosen["killed"]) else 0)
        wounded = st.number_input("Wounded", min_value=0, value=int(chosen["wounded"])
                                  if not pd.isna(chosen["wounded"]) else 0)
        labels = ["(keep the place)"] + [place_words(p) for p in candidates]
        choice = st.selectbox("Place from the gazetteer", range(len(labels)), format_func=labels.__getitem__)
        lat = st.text_input("Or set latitude", "")
        lon = st.text_input("and longitude", "")
        if st.form_submit_button("Save correction"):
            changes: dict = {"event_type": new_type}
            if killed != (0 if pd.isna(chosen["killed"]) else int(chosen["killed"])):
                changes["killed"] = killed
            if wounded != (0 if pd.isna(chosen["wounded"]) else int(chosen["wounded"])):
                changes["wounded"] = wounded
            if choice:
                p = candidates[choice - 1]
                changes.update(place_name=p.name, geonameid=p.geonameid, country=p.country, admin1=p.admin1,
                               lat=p.lat, lon=p.lon)
            if lat.strip() and lon.strip():
                changes.update(lat=lat, lon=lon)
            try:
                store.correct(chosen["incident_id"], changes, who=editor, expected_version=loaded)
                st.session_state.pop(loaded_key)
                flash(f"Correction saved by {editor}; every view shows it.")
            except EditConflict as exc:
                st.session_state[loaded_key] = exc.found  # shown the other edit, the editor may apply theirs again
                st.error(str(exc))
            except StoreError as exc:
                st.error(str(exc))


with tabs["Incidents"]:
    st.dataframe(incident_table(frame), hide_index=True, width="stretch", on_select="rerun",
                 selection_mode="single-row", key=table_key,
                 column_config={"evidence": st.column_config.TextColumn(width="large")})
    if selected:
        chosen = frame[frame["incident_id"] == selected[0]].iloc[0]
        st.caption(f"Incident {chosen['incident_id']} · link: ?incident={chosen['incident_id']}")
        show_cards([chosen["incident_id"]], "table")
        point = chosen.geometry
        if point is not None:
            st.button("Show on the map", key="focus_button", on_click=show_on_map, args=(point.y, point.x))
        if user.can("correct"):
            with st.expander("Correct this incident"):
                correction_form(chosen)
        log = store.corrections(chosen["incident_id"])
        if not log.empty:
            st.caption("Corrections")
            st.text("\n".join(f"#{r.fid} {r.at:%Y-%m-%d %H:%M} {r.who}: {r.field} {r.before} -> {r.after}"
                              for r in log.itertuples()))
    else:
        st.caption("Select a row for its card.")

with tabs["Change"]:  # the tabs below are computed only when open; the map stays drawn, keeping its zoom
    week_end = default_week_end(frame)
    if tabs["Change"].open is False:
        pass
    elif week_end is None:
        st.info("No dated incidents in the current filters.")
    else:
        left, right = st.columns(2)
        by = left.segmented_control("Per", ["province", "grid cell"], default="province", key="change_by") or "province"
        week_end = right.date_input("Week ending", value=week_end, key="change_end")
        st.caption(f"Incidents from {week_end - timedelta(days=6):%d %b} to {week_end:%d %b %Y} against the weekly "
                   "average of the four weeks before; rising first.")
        change = weekly_change(frame, week_end, "province" if by == "province" else "grid", country_name=country_name)
        st.caption("On the map: " + " · ".join(f"{trend} {color_name}" for trend, color_name in (
            ("rising 25 % or more", "dark red"), ("new", "purple"), ("up 10-25 %", "orange"),
            ("about the same", "grey"), ("falling", "blue"))) + "; circle size: this week's incidents.")
        st_folium(base_map(view_of(place_groups(frame)), online_tiles=online, labels=map_labels(), legend=False),
                  key="change_map",
                  height=420, use_container_width=True, feature_group_to_add=[change_layer(change)],
                  returned_objects=[])
        st.dataframe(change.drop(columns=["lat", "lon", "trend"]), hide_index=True, width="stretch")

with tabs["Articles"]:
    listing = store.articles() if tabs["Articles"].open is not False else None
    if listing is None:
        pass
    elif listing.empty:
        st.info("No articles yet.")
    else:
        titles = {row.article_key: f"{row.title or row.external_id} ({row.published or 'undated'})"
                  for row in listing.itertuples()}
        if st.session_state.get("article_choice") not in titles:
            st.session_state.pop("article_choice", None)
        key = st.selectbox("Article", list(titles), format_func=titles.get, key="article_choice")
        article = store.article(key)
        found = load_sources(url, revision)
        found = found[found.article_key == key]
        focus = st.session_state.pop("article_focus", None)
        if isinstance(article.url, str) and article.url.startswith(("http://", "https://")):
            st.link_button("Open the original", article.url)
        st.caption("The evidence sentences are framed, event words yellow, casualty numbers red.")
        st.html(stored_article_html(article.text, found["evidence"].tolist(), focus))
        if focus:  # scroll the page to the evidence the card pointed at
            st.iframe("<script>var e = window.parent.document.getElementById('geo-evidence');"
                      " if (e) { e.scrollIntoView({block: 'center'}); }</script>", height=1)
        if user.can("delete") and st.button("Delete this article", key="delete_article",
                                            help="Its incidents that no other article reports go too; "
                                                 "the audit log keeps everything, so it can be undone."):
            entry = store.delete_article(key)
            flash(f"Article deleted (audit entry #{entry}; undo it in the Audit tab).")
        st.subheader(f"{count_words(len(found), 'incident')} stored from it")
        if not found.empty:
            stored = load_incidents(url, Filters(), revision)
            st.dataframe(incident_table(stored[stored["incident_id"].isin(found["incident_id"])]), hide_index=True)


def add_articles_tab() -> None:
    st.write("Paste an article or upload files (.txt, .md, .html, .jsonl); check what was found, then save.")
    pasted = st.text_area("Article text", height=180, key="paste")
    published = st.date_input("Published", value=None, key="paste_date")
    uploads = st.file_uploader("Or upload", type=["txt", "md", "html", "htm", "jsonl"], accept_multiple_files=True)
    items = []
    if pasted.strip():
        from geo.text.document import Article
        items.append(Article("pasted", pasted, title=pasted.strip().splitlines()[0][:200], published=published))
    if uploads:
        items.extend(read_uploads(((u.name, u.getvalue()) for u in uploads), published))
    from geo.text.sources import InputProblem
    articles = [i for i in items if not isinstance(i, InputProblem)]
    for problem in (i for i in items if isinstance(i, InputProblem)):
        st.warning(plain_label(str(problem)))
    for article in articles:
        doc = default_pipeline()(article)
        with st.expander(plain_label(f"{article.title or article.id}: {count_words(len(doc.incidents), 'incident')}, "
                                     f"{count_words(len(doc.places), 'place')}")):
            st.html(highlight_html(doc))
            if doc.incidents:
                st.dataframe(pd.DataFrame([{"event_type": EVENT_LABELS.get(i.event_type), "date": i.date,
                                            "place": i.place.name if i.place else None, "killed": i.killed,
                                            "wounded": i.wounded} for i in doc.incidents]), hide_index=True)
    if articles and st.button(f"Save {count_words(len(articles), 'article')} to the store", type="primary",
                              key="save_articles"):
        results = [store.ingest(article, default_pipeline()) for article in articles]
        flash(f"Saved: {sum(r.status == 'new' for r in results)} new, "
              f"{sum(r.status == 'unchanged' for r in results)} already stored; "
              f"{sum(r.added for r in results)} incidents added, {sum(r.merged for r in results)} merged.")


def audit_tab() -> None:
    log = store.corrections()
    if log.empty:
        st.info("No corrections or deletions yet.")
        return
    st.caption("Every correction and deletion, newest first: who, when, the value before and after.")
    view = audit_view(log, load_incidents(url, Filters(), revision))
    st.dataframe(view, hide_index=True, width="stretch")
    if user.can("undo"):
        with st.form("undo"):
            entries = {r.entry: f"#{r.entry} · {r.when} · {r.who}: {r.changed} of {r.incident}" for r in view.itertuples()}
            entry = st.selectbox("Undo entry (newest first)", list(entries), format_func=entries.get, index=0,
                                 key="undo_entry")
            if st.form_submit_button("Undo"):
                try:
                    store.undo(int(entry))
                except StoreError as exc:
                    st.error(str(exc))
                else:
                    flash(f"Entry #{entry} undone (the undo is in the log too).")


def users_tab() -> None:
    st.caption("Named users come from .streamlit/secrets.toml (`python -m geo user add NAME --role ROLE`); "
               "OpenID Connect users get the default role unless listed. A role set here wins.")
    known = [{"user": name, "role in secrets": entry.get("role", "viewer")} for name, entry in sorted(auth.users.items())]
    known += [{"user": email, "role in secrets": role} for email, role in sorted(auth.roles.items())]
    if known:
        st.dataframe(pd.DataFrame(known), hide_index=True)
    overrides = store.roles()
    if not overrides.empty:
        st.dataframe(overrides, hide_index=True)
    with st.form("set_role"):
        who = st.text_input("User name or e-mail", key="role_user")
        role = st.selectbox("Role", ROLES, key="role_value")
        if st.form_submit_button("Set role") and who.strip():
            store.set_role(who.strip(), role)
            flash(f"{who.strip()} is now {role}.")


for name, tab_body in (("Add articles", add_articles_tab), ("Audit", audit_tab), ("Users", users_tab)):
    if name in tabs:
        with tabs[name]:
            tab_body()

for name, watch_body in (("Alerts", alerts_tab), ("Watch", watch_tab)):
    if name in tabs and tabs[name].open is not False:  # drawn only when open: the Watch tab has a map of its own
        with tabs[name]:
            watch_body(store, user)

st.divider()
st.caption("Gazetteer data from [GeoNames](https://www.geonames.org/) (CC BY 4.0) · country outlines from "
           "[Natural Earth](https://www.naturalearthdata.com/) (public domain) · division centroids from "
           "countrystatecity-countries (ODbL 1.0) · map tiles, when online, © OpenStreetMap contributors.")
