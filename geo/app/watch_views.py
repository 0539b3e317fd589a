"""The dashboard's watch pages: the Alerts tab (unread and read, receivers' health), the Sources panel
(status for everyone; admins add, pause, remove) and watch areas (editors draw or type them).

The tables are built by plain functions (tested without a browser); the `*_tab` functions lay them out
with Streamlit. Untrusted text (article evidence, place names, a receiver's error) is shown only in
dataframes and text inputs, never in Markdown.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pandas as pd

from ..store.auth import PermissionDenied, User
from ..watch import AreaError, WatchArea, WatchError
from ..watch import alerts as watch_alerts
from ..watch import areas as watch_areas
from ..watch import outbox, sources
from ..watch.channels import alert_text


def _when(seconds: Any) -> str:
    if seconds is None or pd.isna(seconds) or not seconds:
        return ""
    return datetime.fromtimestamp(float(seconds), timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _text(value: Any) -> str:
    """A cell's text; a missing value (None, NaN) is empty."""
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def alerts_table(frame: pd.DataFrame, show_read: bool) -> pd.DataFrame:
    """Alerts for display, newest first: when, area, what happened (plain text), read."""
    if not show_read:
        frame = frame[~frame["read"]]
    rows = [{"alert": r["fid"], "when": _when(r["created_at"]), "area": r["area"],
             "what": alert_text(r), "killed": r["killed"], "wounded": r["wounded"],
             "incident": r["incident_id"], "read": bool(r["read"])} for r in frame.to_dict("records")]
    return pd.DataFrame(rows, columns=["alert", "when", "area", "what", "killed", "wounded", "incident", "read"])


def receivers_table(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"receiver": frame["channel"] + ": " + frame["target"],
                         "state": ["failing" if f else "ok" for f in frame["failing"]],
                         "waiting": frame["waiting"].fillna(0).astype(int), "sent": frame["deliveries"] -
                         frame["waiting"].fillna(0).astype(int), "last sent": frame["last_sent"].map(_when),
                         "last error": frame["last_error"].fillna("")})


def sources_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Each source's state in words: ok, failing (with the error and the failures in a row), paused."""
    def state(r) -> str:
        if r["paused"]:
            return "paused"
        if _text(r["last_error"]):
            return f"failing ({int(r['failures'])} in a row)"
        return "ok" if _when(r["last_success"]) else "not polled yet"
    return pd.DataFrame([{"source": _text(r["label"]) or r["url"], "url": r["url"], "state": state(r),
                          "every": _interval(r["interval_s"]), "last poll": _when(r["last_poll"]),
                          "last success": _when(r["last_success"]), "error": _text(r["last_error"]),
                          "items": int(r["items_seen"]), "last item": _text(r["last_item"]),
                          "next poll": "" if r["paused"] else _when(r["next_poll"])}
                         for r in frame.to_dict("records")],
                        columns=["source", "url", "state", "every", "last poll", "last success", "error", "items",
                                 "last item", "next poll"])


def _interval(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def areas_table(found: list[WatchArea]) -> pd.DataFrame:
    return pd.DataFrame([{"area": a.name, "where and what": a.describe(), "webhook": a.webhook or "",
                          "e-mail": a.email or "", "owner": a.owner, "version": a.version} for a in found],
                        columns=["area", "where and what", "webhook", "e-mail", "owner", "version"])


def area_history_table(history: pd.DataFrame) -> pd.DataFrame:
    """The audit of watch areas, newest first, in the shape of the corrections' audit: when, who, what."""
    return pd.DataFrame({"when": history["at"].map(_when), "who": history["who"], "area": history["area"],
                         "change": history["action"], "before": history["before"].map(_text),
                         "after": history["after"].map(_text)})


def area_from_form(name: str, kind: str, *, drawing: dict | None = None, bbox: str = "", point: str = "",
                   radius_km: float = 0.0, country: str = "", admin1: str = "", event_types: tuple[str, ...] = (),
                   min_casualties: int = 0, webhook: str = "", email: str = "") -> WatchArea:
    """A watch area from the form's fields (a drawn shape is GeoJSON as the map returns it); AreaError
    says what is missing or wrong."""
    options = {"event_types": tuple(event_types), "min_casualties": int(min_casualties),
               "webhook": webhook.strip() or None, "email": email.strip() or None}
    name = name.strip()
    if kind == "drawn":
        geometry = (drawing or {}).get("geometry")
        if not geometry:
            raise AreaError("draw the area on the map first (the polygon or rectangle tool)")
        return watch_areas.polygon_area(name, geometry, **options)
    if kind == "box":
        try:
            west, south, east, north = (float(x) for x in bbox.split(","))
        except ValueError:
            raise AreaError("give the box as W,S,E,N in degrees") from None
        return watch_areas.box_area(name, west, south, east, north, **options)
    if kind == "circle":
        try:
            lat, lon = (float(x) for x in point.split(","))
        except ValueError:
            raise AreaError("give the centre as LAT,LON in degrees") from None
        return watch_areas.circle_area(name, lat, lon, radius_km, **options)
    return watch_areas.region_area(name, country.strip(), admin1.strip() or None, **options)


# -- laid out with Streamlit -------------------------------------------------------------------------------
def alerts_tab(store, user: User) -> None:
    import streamlit as st
    frame = watch_alerts.recent_alerts(store, user.name)
    unread = int((~frame["read"]).sum())
    st.caption(f"{unread} unread of the {len(frame)} newest alerts. An alert is recorded once per incident and "
               "watch area, and again when its toll rises.")
    show_read = st.toggle("Show read alerts too", key="watch_show_read")
    table = alerts_table(frame, show_read)
    if table.empty:
        st.info("No unread alerts." if not frame.empty else "No alerts yet: add a watch area in the Watch tab.")
    else:
        st.dataframe(table, hide_index=True, width="stretch")
        if unread and st.button("Mark all as read", key="watch_mark_read"):
            watch_alerts.mark_read(store, user.name, frame.loc[~frame["read"], "fid"].astype(int).tolist())
            st.rerun()
    health = outbox.receivers(store)
    if not health.empty:
        failing = int(health["failing"].sum())
        if failing:
            st.error(f"{failing} receiver(s) failing: their alerts wait and are retried (see below).")
        st.dataframe(receivers_table(health), hide_index=True, width="stretch")


def watch_tab(store, user: User) -> None:
    import streamlit as st
    st.subheader("Sources")
    status = sources.source_status(store)
    if status.empty:
        st.info("No sources yet. `python -m geo watch sources.toml` polls the sources of a file"
                + ("; or add one below." if user.can("roles") else "."))
    else:
        st.dataframe(sources_table(status), hide_index=True, width="stretch")
    if user.can("roles"):
        _source_admin(st, store, status)
    st.subheader("Watch areas")
    found = watch_areas.list_areas(store)
    if found:
        st.dataframe(areas_table(found), hide_index=True, width="stretch")
    if user.can("correct"):
        _area_editor(st, store, found)
        history = watch_areas.area_history(store)
        if not history.empty:
            with st.expander("Changes to watch areas"):
                st.dataframe(area_history_table(history), hide_index=True, width="stretch")


def _source_admin(st, store, status: pd.DataFrame) -> None:
    with st.form("watch_add_source", clear_on_submit=True):
        url = st.text_input("Feed or page URL", key="watch_source_url")
        label = st.text_input("Label", key="watch_source_label")
        every = st.text_input("Interval", value="15m", key="watch_source_interval")
        if st.form_submit_button("Add source"):
            try:
                sources.add_source(store, sources.SourceSpec(url.strip(), label.strip() or None,
                                                             sources.parse_interval(every)))
            except (WatchError, PermissionDenied) as exc:
                st.error(str(exc))
            else:
                st.rerun()
    if status.empty:
        return
    chosen = st.selectbox("Source", status["url"].tolist(), key="watch_source_chosen")
    row = status.set_index("url").loc[chosen]
    pause, remove = st.columns(2)
    if pause.button("Resume" if row["paused"] else "Pause", key="watch_source_pause"):
        sources.pause_source(store, chosen, not row["paused"])
        st.rerun()
    if remove.button("Remove", key="watch_source_remove"):
        sources.remove_source(store, chosen)
        st.rerun()


def _area_editor(st, store, found: list[WatchArea]) -> None:
    from ..text.incidents import EVENT_TYPES
    names = ["(new area)"] + [a.name for a in found]
    chosen = st.selectbox("Add or change", names, key="watch_area_chosen")
    current = next((a for a in found if a.name == chosen), None)
    kind = st.radio("Where", ["drawn", "box", "circle", "region"], horizontal=True, key="watch_area_kind",
                    index=_kind_index(current))
    drawing = _draw_map(st, current) if kind == "drawn" else None
    with st.form("watch_area_form"):
        name = st.text_input("Name", value=current.name if current else "", key="watch_area_name")
        fields: dict[str, Any] = {}
        if kind == "box":
            fields["bbox"] = st.text_input("Box W,S,E,N", key="watch_area_bbox")
        elif kind == "circle":
            fields["point"] = st.text_input("Centre LAT,LON", key="watch_area_point",
                                            value=f"{current.lat},{current.lon}" if current and current.lat else "")
            fields["radius_km"] = st.number_input("Radius (km)", min_value=0.0, value=float(
                current.radius_km or 25.0) if current else 25.0, key="watch_area_radius")
        elif kind == "region":
            fields["country"] = st.text_input("Country (ISO2)", value=current.country or "" if current else "",
                                              key="watch_area_country")
            fields["admin1"] = st.text_input("Province (optional)", value=current.admin1 or "" if current else "",
                                             key="watch_area_admin1")
        types = st.multiselect("Event types (none: all)", EVENT_TYPES, default=list(current.event_types)
                               if current else [], key="watch_area_types")
        threshold = st.number_input("At least this many killed + wounded (0: any incident)", min_value=0,
                                    value=current.min_casualties if current else 0, key="watch_area_threshold")
        webhook = st.text_input("Webhook URL (Slack/Teams)", value=current.webhook or "" if current else "",
                                key="watch_area_webhook")
        email = st.text_input("E-mail", value=current.email or "" if current else "", key="watch_area_email")
        if st.form_submit_button("Save area"):
            try:
                area = area_from_form(name, kind, drawing=drawing, event_types=tuple(types),
                                      min_casualties=threshold, webhook=webhook, email=email, **fields)
                saved = watch_areas.save_area(store, area, current.version if current and current.name == area.name
                                              else None)
            except (AreaError, PermissionDenied) as exc:
                st.error(str(exc))
            else:
                st.success(f"Saved (version {saved.version}).")
    if current is not None and st.button("Remove this area", key="watch_area_remove"):
        watch_areas.remove_area(store, current.name)
        st.rerun()


def _kind_index(area: WatchArea | None) -> int:
    if area is None or area.kind == "polygon":
        return 0
    return 2 if area.kind == "circle" else 3


def _draw_map(st, current: WatchArea | None) -> dict | None:
    """A map to draw the area on, the current one outlined; the shape drawn last, as GeoJSON, if any."""
    import folium
    from streamlit_folium import st_folium

    from .areas import add_draw_control
    from .mapping import MapView, base_map
    m = base_map(MapView(center=(25.0, 45.0), zoom=3), height=420)
    if current is not None and current.geojson:
        folium.GeoJson(current.geojson, name=current.name, interactive=False).add_to(m)
    add_draw_control(m)
    state = st_folium(m, height=420, key="watch_area_map", returned_objects=["last_active_drawing"])
    return (state or {}).get("last_active_drawing")
