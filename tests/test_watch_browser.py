"""The watch pages in a real headless Chromium, offline: an editor draws a watch area on the map and saves
it; the Alerts tab shows an alert and marks it read."""
from __future__ import annotations

from datetime import date

import pytest

from conftest import require_chromium, start_dashboard
from test_browser import browser, page  # noqa: F401 (fixtures: Chromium, a page kept offline)
from watch_servers import ARTICLES

MAP = "iframe[title='streamlit_folium.st_folium']"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The dashboard on a store holding one incident in Goma and an alert about it."""
    require_chromium()
    from geo.pipeline import default_pipeline
    from geo.store import Store
    from geo.text.document import Article
    from geo.watch import match_new_incidents, region_area, save_area
    db = tmp_path_factory.mktemp("watch-browser") / "store.gpkg"
    with Store.open(db) as store:
        save_area(store, region_area("Congo desk", "CD"))
        store.ingest(Article("goma", ARTICLES["goma"], published=date(2026, 11, 30)), default_pipeline())
        assert len(match_new_incidents(store)) == 1
    proc, base = start_dashboard({"GEO_DB": str(db)})
    yield base, db
    proc.terminate()
    proc.wait(timeout=20)


def test_an_editor_draws_a_watch_area_and_saves_it(server, page):
    from geo.store import Store
    from geo.watch import list_areas
    base, db = server
    page.goto(f"{base}/?tab=Watch")
    panel = page.get_by_role("tabpanel", name="Watch")
    panel.get_by_text("Watch areas").first.wait_for(timeout=60_000)
    frame_element = panel.locator(MAP)
    frame_element.wait_for(timeout=60_000)
    frame = frame_element.element_handle().content_frame()
    frame.locator(".leaflet-draw-draw-rectangle").wait_for(timeout=60_000)
    frame.locator(".leaflet-draw-draw-rectangle").click()
    box = frame.locator(".leaflet-container").bounding_box()
    x, y = box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.3
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 40, y + 30, steps=5)
    page.mouse.move(x + 80, y + 60, steps=5)
    page.mouse.up()
    frame.wait_for_function("() => { const m = Object.values(window).find(v => v && v instanceof L.Map); let n = 0;"
                            " m.eachLayer(l => { if (l instanceof L.Rectangle) n++; }); return n === 1; }",
                            timeout=30_000)   # drawn (on the map's canvas)
    page.wait_for_timeout(1500)   # the drawing reaches the server, which reruns the page
    panel.get_by_label("Name").fill("Drawn desk")
    panel.get_by_label("Webhook URL (Slack/Teams)").fill("http://127.0.0.1:9/hook")
    panel.get_by_role("button", name="Save area").click()
    panel.get_by_text("Saved (version 1).").wait_for(timeout=60_000)
    with Store.open(db) as store:
        drawn = next(a for a in list_areas(store) if a.name == "Drawn desk")
    ring = drawn.geojson["coordinates"][0]
    assert drawn.kind == "polygon" and len(ring) == 5 and drawn.webhook == "http://127.0.0.1:9/hook"
    lons, lats = {round(p[0], 6) for p in ring}, {round(p[1], 6) for p in ring}
    assert len(lons) == 2 and len(lats) == 2, "a rectangle"
    assert drawn.owner == "local"
    assert not page.errors, page.errors


def test_the_alerts_tab_shows_an_alert_and_marks_it_read(server, page):
    base, _ = server
    page.goto(f"{base}/?tab=Alerts")
    panel = page.get_by_role("tabpanel", name="Alerts")
    panel.get_by_text("1 unread", exact=False).first.wait_for(timeout=60_000)
    panel.get_by_role("button", name="Mark all as read").click()
    panel.get_by_text("No unread alerts.").wait_for(timeout=60_000)
    assert not page.errors, page.errors
