"""The watch pages' tables and form, without a browser: what a user reads in the Alerts tab and the
Sources panel, and the area a filled-in form makes."""
from __future__ import annotations

import pandas as pd
import pytest

from geo.app.watch_views import alerts_table, area_from_form, area_history_table, receivers_table, \
    sources_table
from geo.watch import AreaError

ALERT = {"fid": 3, "created_at": 1_800_000_000.0, "read": False, "area": "Desk", "incident_id": "abc",
         "event_type": "battle", "date": "2026-11-30", "place": "Chaman", "country": "PK", "lat": 30.9, "lon": 66.4,
         "killed": 4, "wounded": 3, "casualties": 7, "evidence": "Clashes <b>near</b> Chaman."}


def test_alerts_table_shows_unread_first_and_read_on_request():
    frame = pd.DataFrame([ALERT, dict(ALERT, fid=2, read=True, area="Other")])
    unread = alerts_table(frame, show_read=False)
    assert list(unread["alert"]) == [3] and unread.iloc[0]["when"] == "2027-01-15 08:00 UTC"
    assert unread.iloc[0]["what"].startswith("Battle in Chaman (PK) on 2026-11-30: 4 killed, 3 wounded.")
    assert list(alerts_table(frame, show_read=True)["read"]) == [False, True]


def test_sources_and_receivers_in_words():
    status = pd.DataFrame([
        {"url": "http://127.0.0.1/a.xml", "label": "A", "interval_s": 900.0, "paused": False, "last_poll": 1.8e9,
         "last_success": 1.8e9, "last_error": None, "failures": 0, "items_seen": 4, "last_item": "Report",
         "last_item_at": 1.8e9, "next_poll": 1.8e9 + 900, "added_by": "ana"},
        {"url": "http://127.0.0.1/b.xml", "label": None, "interval_s": 90.0, "paused": False, "last_poll": 1.8e9,
         "last_success": None, "last_error": "HTTP 500 Internal Server Error", "failures": 3, "items_seen": 0,
         "last_item": None, "last_item_at": None, "next_poll": 1.8e9, "added_by": "sources file"},
        {"url": "http://127.0.0.1/c.xml", "label": "C", "interval_s": 3600.0, "paused": True, "last_poll": None,
         "last_success": None, "last_error": None, "failures": 0, "items_seen": 0, "last_item": None,
         "last_item_at": None, "next_poll": 0.0, "added_by": "ana"}])
    table = sources_table(status)
    assert list(table["state"]) == ["ok", "failing (3 in a row)", "paused"]
    assert list(table["every"]) == ["15m", "90s", "1h"] and list(table["source"])[1] == "http://127.0.0.1/b.xml"
    health = receivers_table(pd.DataFrame([{"channel": "webhook", "target": "http://127.0.0.1:9/h", "deliveries": 5,
                                            "waiting": 2, "attempts": 4, "last_sent": None,
                                            "last_error": "ConnectError", "failing": True}]))
    assert health.iloc[0].to_dict() == {"receiver": "webhook: http://127.0.0.1:9/h", "state": "failing",
                                        "waiting": 2, "sent": 3, "last sent": "", "last error": "ConnectError"}


def test_the_area_form():
    drawn = {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [
        [[66, 30], [67, 30], [67, 31], [66, 31], [66, 30]]]}}
    area = area_from_form(" Chaman ", "drawn", drawing=drawn, event_types=("battle",), min_casualties=3,
                          webhook=" http://127.0.0.1:9/h ")
    assert (area.name, area.kind, area.event_types, area.min_casualties, area.webhook) == \
        ("Chaman", "polygon", ("battle",), 3, "http://127.0.0.1:9/h")
    assert area_from_form("c", "circle", point="30.9, 66.4", radius_km=20).radius_km == 20
    assert area_from_form("r", "region", country="pk ", admin1="Sindh").country == "PK"
    with pytest.raises(AreaError, match="draw the area"):
        area_from_form("x", "drawn", drawing=None)
    with pytest.raises(AreaError, match="W,S,E,N"):
        area_from_form("x", "box", bbox="1,2,3")


def test_the_history_of_areas_reads_like_the_audit(tmp_path):
    from geo.store import Store
    from geo.watch import box_area, remove_area, save_area
    from geo.watch.areas import area_history
    with Store.open(tmp_path / "s.gpkg") as store:
        save_area(store, box_area("Kivu", 27, -3, 30, 0))
        remove_area(store, "Kivu")
        table = area_history_table(area_history(store))
    assert list(table["change"]) == ["remove", "add"] and list(table["who"]) == ["local", "local"]
    assert table.iloc[0]["after"] == "" and '"name": "Kivu"' in table.iloc[0]["before"]


def _alerts_page(db: str, name: str, role: str) -> None:
    from geo.app.watch_views import alerts_tab
    from geo.store import Store
    from geo.store.auth import User
    store = Store.open(db).for_user(User(name, role))
    alerts_tab(store, store.user)


def _watch_page(db: str, name: str, role: str) -> None:
    from geo.app.watch_views import watch_tab
    from geo.store import Store
    from geo.store.auth import User
    store = Store.open(db).for_user(User(name, role))
    watch_tab(store, store.user)


@pytest.fixture
def alerted_store(tmp_path):
    """A GeoPackage with one alert, waiting for a webhook that is down."""
    from geo.pipeline import default_pipeline
    from geo.store import Store
    from geo.text.document import Article
    from geo.watch import Deliverer, deliver_due, match_new_incidents, region_area, save_area
    from watch_servers import ARTICLES
    db = str(tmp_path / "s.gpkg")
    with Store.open(db) as store:
        save_area(store, region_area("Congo", "CD", webhook="http://127.0.0.1:9/down"))
        store.ingest(Article("goma", ARTICLES["goma"], published=__import__("datetime").date(2026, 11, 30)),
                     default_pipeline())
        assert len(match_new_incidents(store)) == 1
        for _ in range(3):
            deliver_due(store, Deliverer(), now=__import__("time").time() + 1e6 * (_ + 1))
    return db


def test_the_alerts_tab_marks_read_per_person_and_shows_a_failing_receiver(alerted_store):
    from streamlit.testing.v1 import AppTest
    page = AppTest.from_function(_alerts_page, args=(alerted_store, "ana", "viewer"), default_timeout=60).run()
    assert not page.exception
    assert "1 unread" in page.caption[0].value
    assert page.dataframe[0].value.iloc[0]["area"] == "Congo"
    assert "1 receiver(s) failing" in page.error[0].value
    page.button(key="watch_mark_read").click().run()
    assert "0 unread" in page.caption[0].value and page.info[0].value == "No unread alerts."
    other = AppTest.from_function(_alerts_page, args=(alerted_store, "bob", "viewer"), default_timeout=60).run()
    assert "1 unread" in other.caption[0].value


def test_admins_add_and_pause_sources_and_viewers_only_read(tmp_path):
    from streamlit.testing.v1 import AppTest
    db = str(tmp_path / "s.gpkg")
    admin = AppTest.from_function(_watch_page, args=(db, "ana", "admin"), default_timeout=60).run()
    admin.text_input(key="watch_source_url").input("http://127.0.0.1:9/feed.xml")
    admin.text_input(key="watch_source_label").input("Desk feed")
    admin.text_input(key="watch_source_interval").input("5m")
    admin.button[0].click().run()
    assert not admin.exception
    assert admin.dataframe[0].value.iloc[0][["source", "state", "every"]].tolist() == ["Desk feed", "not polled yet",
                                                                                       "5m"]
    admin.button(key="watch_source_pause").click().run()
    assert admin.dataframe[0].value.iloc[0]["state"] == "paused"
    viewer = AppTest.from_function(_watch_page, args=(db, "vic", "viewer"), default_timeout=60).run()
    assert viewer.dataframe[0].value.iloc[0]["state"] == "paused"
    assert not [w for w in viewer.text_input if w.key == "watch_source_url"] and not viewer.button
