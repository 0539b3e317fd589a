"""Streamlit front: layout and widgets only; every step is a call into `geo`."""
from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.store.export import FORMATS, csv_frame, geojson_bytes, write_export
from geo.places.gazetteer import load_gazetteer
from geo.text.incidents import EVENT_TYPES
from geo.app.mapping import EVENT_LABELS, MapView, incident_map, nearest_group, place_groups
from geo.pipeline import default_pipeline
from geo.store.auth import ROLES, AuthConfig, PermissionDenied, SignInGuard, User
from geo.store import EditConflict, Filters, Store, StoreError, resolve_url
from geo.app.views import (build_sample_store, filters_from_query, filters_to_query, headline, highlight_html,
                       incident_card_html, read_uploads, timeline)

ROOT = Path(__file__).resolve().parent
SAMPLES = ROOT / "data" / "articles"
BIG_STORE = 50_000  # incidents

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


EXPORT_TYPES = {"geojson": "application/geo+json", "csv": "text/csv", "gpkg": "application/geopackage+sqlite3"}


def export_bytes(store: Store, frame, fmt: str) -> bytes:
    if fmt == "geojson":
        return geojson_bytes(frame, store.sources(frame["incident_id"].tolist()))
    if fmt == "csv":
        return csv_frame(frame).to_csv(index=False).encode()
    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        return write_export(frame, Path(folder) / "incidents.gpkg", "gpkg").read_bytes()




def flash(message: str) -> None:
    """Say what was done, on the page as it is after the change."""
    st.session_state["flash"] = message
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

# -- filters: in the sidebar, kept in the URL -------------------------------------------------------
query = filters_from_query({k: st.query_params.get_all(k) if k in ("type", "country", "actor")
                            else st.query_params.get(k) for k in st.query_params})
st.sidebar.header("Filters")
first_day = options["first_day"] or date(2025, 1, 1)
last_day = options["last_day"] or date.today()
# A big store opens on its last 90 days, filtered in the database, so the page stays quick.
default_from = max(first_day, last_day - timedelta(days=90)) if options["incidents"] > BIG_STORE else first_day
period = st.sidebar.date_input("Dates", value=(query.date_from or default_from, query.date_to or last_day),
                               key="f_dates")
types = st.sidebar.multiselect("Event types", EVENT_TYPES, default=list(query.event_types),
                               format_func=EVENT_LABELS.get, key="f_types")
countries = st.sidebar.multiselect("Countries", options["countries"],
                                   default=[c for c in query.countries if c in options["countries"]],
                                   key="f_countries")
minimum = st.sidebar.number_input("At least this many killed + wounded", min_value=0, value=query.min_casualties,
                                  step=1, key="f_min")
actors = st.sidebar.multiselect("Actors", options["actors"],
                                default=[a for a in query.actors if a in options["actors"]],
                                key="f_actors")
text = st.sidebar.text_input("Text (evidence, place, actors, claims)", value=query.text, key="f_text")
chosen_from = period[0] if len(period) > 0 and period[0] != first_day else None
chosen_to = period[1] if len(period) > 1 and period[1] != last_day else None
filters = Filters(date_from=chosen_from, date_to=chosen_to,
                  event_types=tuple(types), countries=tuple(countries), min_casualties=int(minimum),
                  text=text.strip(), actors=tuple(actors), bbox=query.bbox)
wanted = filters_to_query(filters)
if "incident" in st.query_params:
    wanted["incident"] = st.query_params["incident"]
if wanted != {k: (st.query_params.get_all(k) if isinstance(v, list) else st.query_params.get(k))
              for k, v in wanted.items()} or set(st.query_params) - set(wanted):
    st.query_params.from_dict(wanted)  # the URL keeps the view, so it can be shared

if auth.enabled:
    st.sidebar.write(f"Signed in as **{user.name}** ({user.role})")
    if st.sidebar.button("Sign out", key="sign_out"):
        st.session_state.pop("user", None)
        st.logout() if auth.oidc and st.user.get("is_logged_in") else st.rerun()
st.sidebar.header("Map")
online = st.sidebar.toggle("Online map tiles (OpenStreetMap)", value=False,
                           help="Off: the offline basemap of country outlines. On: tiles, when the internet is there.")
if not auth.enabled:
    st.sidebar.text_input("Your name (for corrections)", key="editor")

frame = load_incidents(url, filters, revision)

# -- export what is filtered (made when asked: a 100,000-incident GeoJSON takes a second or two) ---------
st.sidebar.header("Export what is filtered")
fmt = st.sidebar.radio("Format", FORMATS, horizontal=True, format_func=str.upper, key="export_format")
if st.sidebar.button(f"Prepare {fmt.upper()} of {len(frame)} incidents", key="export_prepare"):
    st.session_state["export"] = (fmt, export_bytes(store, frame, fmt))
if st.session_state.get("export") and st.session_state["export"][0] == fmt:
    st.sidebar.download_button(f"Download incidents.{fmt}", st.session_state["export"][1], f"incidents.{fmt}",
                               EXPORT_TYPES[fmt], on_click="ignore", key="export_download")

# -- the page --------------------------------------------------------------------------------------------
st.title("Incident atlas")
if "flash" in st.session_state:
    st.success(st.session_state.pop("flash"))
figures = headline(frame)
a, b, c = st.columns(3)
a.metric("Incidents", figures["incidents"])
b.metric("Killed", figures["killed"], help=f"range {figures['killed_low']}–{figures['killed_high'] or 'open'}")
c.metric("Wounded", figures["wounded"], help=f"range {figures['wounded_low']}–{figures['wounded_high'] or 'open'}")
st.caption(f"Killed: range {figures['killed_low']}–{figures['killed_high'] if figures['killed_high'] is not None else '…'}"
           f" · wounded: range {figures['wounded_low']}–"
           f"{figures['wounded_high'] if figures['wounded_high'] is not None else '…'} · "
           f"{int(frame.geometry.isna().sum())} incidents have no locatable place and are not on the map.")

names = ["Map", "Incidents", "Articles"] + (["Add articles"] if user.can("add") else []) + \
    (["Audit"] if user.can("correct") else []) + (["Users"] if user.can("roles") else [])
tabs = dict(zip(names, st.tabs(names)))
tab_map, tab_table, tab_articles = tabs["Map"], tabs["Incidents"], tabs["Articles"]
groups = place_groups(frame)


def show_card(incident_id: str) -> None:
    row = frame[frame["incident_id"] == incident_id]
    if row.empty:
        return
    st.html(incident_card_html(row.iloc[0], store.sources([incident_id])))


with tab_map:
    focus = st.session_state.get("focus")
    view = MapView(center=focus, zoom=8) if focus else None
    clicked = st_folium(incident_map(groups, online_tiles=online, view=view), key="map", height=560,
                        use_container_width=True, returned_objects=["last_object_clicked"])
    point = (clicked or {}).get("last_object_clicked")
    if point:
        group = nearest_group(groups, point["lat"], point["lng"])
        if group is not None:
            st.subheader(f"{group['count']} incident(s) here")
            for incident_id in group["incident_ids"][:20]:
                show_card(incident_id)
    else:
        st.caption("Click a marker for its incidents.")
    series = timeline(frame)
    if not series.empty:
        st.subheader("Timeline")
        measure = st.segmented_control("Show", ["incidents", "killed", "wounded"], default="incidents",
                                       key="timeline_measure") or "incidents"
        chart = series.pivot_table(index="date", columns="event_type", values=measure, aggfunc="sum", fill_value=0)
        st.bar_chart(chart.rename(columns=EVENT_LABELS))

def correction_form(chosen) -> None:
    """Another type, other counts, another gazetteer candidate or coordinates: saved as a correction.
    The version the editor first saw is what the save checks, so an edit made meanwhile by someone
    else is refused rather than overwritten."""
    loaded_key = f"loaded_version_{chosen['incident_id']}"
    loaded = st.session_state.setdefault(loaded_key, int(chosen["version"]))
    with st.form("correction"):
        new_type = st.selectbox("Event type", EVENT_TYPES, index=EVENT_TYPES.index(chosen["event_type"]),
                                format_func=EVENT_LABELS.get)
        killed = st.number_input("Killed", min_value=0, value=int(chosen["killed"])
                                 if not pd.isna(chosen["killed"]) else 0)
        wounded = st.number_input("Wounded", min_value=0, value=int(chosen["wounded"])
                                  if not pd.isna(chosen["wounded"]) else 0)
        candidates = load_gazetteer().search(chosen["place_name"] or "", limit=8) \
            if isinstance(chosen["place_name"], str) else []
        labels = ["(keep the place)"] + [f"{p.name}, {p.admin1 or ''} {p.country or ''} ({p.kind}, "
                                         f"{p.lat:.3f}, {p.lon:.3f})" for p in candidates]
        choice = st.selectbox("Another gazetteer candidate", range(len(labels)), format_func=labels.__getitem__)
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
                store.correct(chosen["incident_id"], changes, expected_version=loaded)
                st.session_state.pop(loaded_key)
                flash("Correction saved; every view shows it.")
            except EditConflict as exc:
                st.session_state[loaded_key] = exc.found  # shown the other edit, the editor may apply theirs again
                st.error(str(exc))
            except StoreError as exc:
                st.error(str(exc))


with tab_table:
    table = pd.DataFrame(frame.drop(columns="geometry"))
    columns = ["date", "event_type", "place_name", "country", "killed", "wounded", "contested", "actors",
               "claimed_by", "evidence", "n_sources"]
    picked = st.dataframe(table[columns], hide_index=True, width="stretch", on_select="rerun",
                          selection_mode="single-row", key="incident_table",
                          column_config={"evidence": st.column_config.TextColumn(width="large")})
    rows = picked.selection.rows if picked else []
    # The chosen incident: the selected row, or ?incident=ID in the URL (a link to one incident).
    chosen_id = table.iloc[rows[0]]["incident_id"] if rows else st.query_params.get("incident")
    matches = table.index[table["incident_id"] == chosen_id].tolist() if chosen_id else []
    if matches:
        position = table.index.get_loc(matches[0])
        chosen = table.iloc[position]
        st.caption(f"Incident {chosen_id} · link: ?incident={chosen_id}")
        show_card(chosen["incident_id"])
        point = frame.iloc[position].geometry
        if point is not None and st.button("Show on the map", key="focus_button"):
            st.session_state["focus"] = (point.y, point.x)
            st.rerun()
        if user.can("correct"):
            with st.expander("Correct this incident"):
                correction_form(chosen)
        log = store.corrections(chosen["incident_id"])
        if not log.empty:
            st.caption("Corrections")
            st.text("\n".join(f"#{r.fid} {r.at:%Y-%m-%d %H:%M} {r.who}: {r.field} {r.before} -> {r.after}"
                              for r in log.itertuples()))

with tab_articles:
    listing = store.articles()
    if listing.empty:
        st.info("No articles yet.")
    else:
        names = {row.article_key: f"{row.title or row.external_id} ({row.published or 'undated'})"
                 for row in listing.itertuples()}
        key = st.selectbox("Article", list(names), format_func=names.get, key="article_choice")
        article = store.article(key)
        doc = default_pipeline()(article)
        st.caption("Places are blue, casualty phrases red; hover for what they were read as.")
        st.html(highlight_html(doc))
        if user.can("delete") and st.button("Delete this article", key="delete_article",
                                            help="Its incidents that no other article reports go too; "
                                                 "the audit log keeps everything, so it can be undone."):
            entry = store.delete_article(key)
            flash(f"Article deleted (audit entry #{entry}; undo it in the Audit tab).")
        found = [i.as_json() for i in doc.incidents]
        st.subheader(f"{len(found)} incident(s) found in it")
        if found:
            st.dataframe(pd.DataFrame([{"event_type": i["event_type"], "date": i["date"], "place": i["place"]["name"],
                                        "killed": i["killed"], "wounded": i["wounded"],
                                        "evidence": i["evidence"]["text"]} for i in found]), hide_index=True)

def add_articles_tab() -> None:
    st.write("Paste an article or upload files (.txt, .md, .html, .jsonl); check what was found, then save.")
    pasted = st.text_area("Article text", height=180, key="paste")
    published = st.date_input("Published", value=None, key="paste_date")
    uploads = st.file_uploader("Or upload", type=["txt", "md", "html", "htm", "jsonl"], accept_multiple_files=True)
    items = []
    if pasted.strip():
        from geo.text.document import Article
        items.append(Article("pasted", pasted, published=published))
    if uploads:
        items.extend(read_uploads(((u.name, u.getvalue()) for u in uploads), published))
    from geo.text.sources import InputProblem
    articles = [i for i in items if not isinstance(i, InputProblem)]
    for problem in (i for i in items if isinstance(i, InputProblem)):
        st.warning(str(problem))
    for article in articles:
        doc = default_pipeline()(article)
        with st.expander(f"{article.title or article.id}: {len(doc.incidents)} incident(s), {len(doc.places)} places"):
            st.html(highlight_html(doc))
            if doc.incidents:
                st.dataframe(pd.DataFrame([{"event_type": i.event_type, "date": i.date,
                                            "place": i.place.name if i.place else None, "killed": i.killed,
                                            "wounded": i.wounded} for i in doc.incidents]), hide_index=True)
    if articles and st.button(f"Save {len(articles)} article(s) to the store", type="primary", key="save_articles"):
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
    st.dataframe(log.sort_values("fid", ascending=False)[["fid", "at", "who", "incident_id", "field", "before",
                                                           "after", "note"]], hide_index=True, width="stretch")
    if user.can("undo"):
        with st.form("undo"):
            entry = st.selectbox("Undo entry", log.sort_values("fid", ascending=False)["fid"].tolist(),
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

st.divider()
st.caption("Gazetteer data from [GeoNames](https://www.geonames.org/) (CC BY 4.0) · country outlines from "
           "[Natural Earth](https://www.naturalearthdata.com/) (public domain) · division centroids from "
           "countrystatecity-countries (ODbL 1.0) · map tiles, when online, © OpenStreetMap contributors.")
