"""The dashboard in a real headless Chromium against a running Streamlit server, with no internet:
the map draws from the app's own files, a click shows the incident's card, the URL carries the
filters, and untrusted article text never runs."""
import time
from datetime import date

import pytest

from conftest import ROOT, require_chromium, start_dashboard
from test_dashboard import XSS_TEXT, XSS_TITLE

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`streamlit run dashboard.py` on a store holding the samples and an article full of HTML."""
    require_chromium()
    from geo.text.document import Article
    from geo.pipeline import default_pipeline
    from geo.store import Store
    from geo.app.views import build_sample_store
    folder = tmp_path_factory.mktemp("browser")
    db = folder / "store.gpkg"
    with Store.open(db) as store:
        build_sample_store(store, ROOT / "data" / "articles", default_pipeline())
        store.ingest(Article("xss", XSS_TEXT, title=XSS_TITLE, published=date(2025, 11, 8)), default_pipeline())
    proc, base = start_dashboard({"GEO_DB": str(db)})
    yield base
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=require_chromium(), args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-sync"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A page that may only talk to the local server: everything else fails, as offline."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.outside = []
    page.errors = []
    page.dialogs = []

    def route(r):
        if r.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1")):
            r.continue_()
        else:
            page.outside.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    yield page
    context.close()


MAP = "iframe[title='streamlit_folium.st_folium']"
FIND_MAP = "() => Object.values(window).find(v => v && v instanceof L.Map)"


def _map_frame(page):
    page.wait_for_selector(MAP, timeout=60_000)
    page.frame_locator(MAP).locator(".leaflet-container").wait_for(timeout=60_000)
    return page.locator(MAP).element_handle().content_frame()


def test_map_draws_offline_and_a_click_shows_the_card(server, page):
    page.goto(server)
    frame = _map_frame(page)
    frame.wait_for_function(f"() => {{ const m = ({FIND_MAP})(); if (!m) return false; let n = 0, g = 0; "
                            "m.eachLayer(l => { if (l instanceof L.CircleMarker) n++; if (l instanceof L.GeoJSON) g++; });"
                            " return n > 10 && g > 0; }", timeout=60_000)
    box = page.locator(MAP).bounding_box()
    point = frame.evaluate(f"() => ({FIND_MAP})().latLngToContainerPoint([34.5281, 69.1723])")  # Kabul
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    page.get_by_text("explosions in Kabul on Oct. 9", exact=False).first.wait_for(timeout=60_000)
    assert page.outside == [] or all("tile.openstreetmap" not in u for u in page.outside)
    assert not page.errors, page.errors


def test_filters_in_the_url_drive_the_figures(server, page):
    page.goto(f"{server}/?type=protest")
    page.get_by_text("Incidents", exact=True).first.wait_for(timeout=60_000)
    metric = page.locator("[data-testid='stMetricValue']").first
    metric.wait_for(timeout=60_000)
    time.sleep(1.0)
    assert metric.inner_text().strip() == "2"  # the samples' protests: Niamey and Khartoum
    assert "type=protest" in page.url


def test_untrusted_text_never_runs(server, page):
    page.goto(f"{server}/?q=bomb")
    _map_frame(page)
    page.get_by_role("tab", name="Articles", exact=True).click()
    page.get_by_role("combobox", name="Article", exact=True).click()  # the article picker
    page.get_by_role("option").filter(has_text="Blast").first.click()
    page.get_by_text("A bomb exploded at a market in Kandahar", exact=False).first.wait_for(timeout=60_000)
    body = page.locator("body").inner_text()
    assert "<script>window.__pwned = 4</script>" in body or "window.__pwned = 4" in body
    for frame in page.frames:
        assert frame.evaluate("() => window.__pwned") is None
    assert page.dialogs == [] and page.locator("img[src='x']").count() == 0


# -- what an analyst does all day ------------------------------------------------------------------------
SPIN_BOLDAK = (31.0058, 66.4)


def _open(page, server, path="/"):
    page.goto(server + path)
    frame = _map_frame(page)
    frame.wait_for_function(f"() => {{ const m = ({FIND_MAP})(); if (!m) return false; let n = 0; "
                            "m.eachLayer(l => { if (l instanceof L.CircleMarker) n++; }); return n > 0; }", timeout=60_000)
    return frame


def _click_at(page, frame, lat, lon):
    box = page.locator(MAP).bounding_box()
    point = frame.evaluate(f"() => ({FIND_MAP})().latLngToContainerPoint([{lat}, {lon}])")
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])


COUNT_MARKERS = (f"() => {{ let n = 0; ({FIND_MAP})().eachLayer(l => {{ if (l instanceof L.CircleMarker && "
                 "l.options.interactive !== false) n++; }); return n; }")


def _markers(frame) -> int:
    return frame.evaluate(COUNT_MARKERS)


def test_each_click_at_the_opening_zoom_shows_the_place_clicked(server, page):
    """Every marker answers a click with its own card; where markers overlap at this zoom, with the card of
    one of the markers under the pointer (never nothing, never a place elsewhere)."""
    frame = _open(page, server)
    places = frame.evaluate(f"""() => {{ const map = ({FIND_MAP})(), out = [];
        map.eachLayer(l => {{ if (l instanceof L.CircleMarker && l.options.interactive !== false && l.getTooltip()) {{
            const p = map.latLngToContainerPoint(l.getLatLng());
            out.push([l.getLatLng().lat, l.getLatLng().lng, l.getTooltip().getContent().split(':')[0], p.x, p.y,
                      l.options.radius]); }} }}); return out; }}""")
    assert len(places) >= 15
    for lat, lon, name, x, y, _ in places:
        under = {other for _, _, other, ox, oy, r in places if (ox - x) ** 2 + (oy - y) ** 2 <= (r + 4) ** 2}  # + stroke
        _click_at(page, frame, lat, lon)
        page.wait_for_function("names => [...document.querySelectorAll('h3')].some(h => names.some(n => "
                               "h.innerText.endsWith('at ' + n)))", arg=sorted(under), timeout=60_000)
    assert not page.errors, page.errors


def test_a_row_then_a_filter_that_drops_it_clears_the_selection_without_a_crash(server, page):
    page.goto(f"{server}/?tab=Incidents&country=AF&type=battle")
    page.get_by_text("Select a row for its card").wait_for(timeout=60_000)
    grid = page.locator("[data-testid='stDataFrame']").first.bounding_box()
    page.mouse.click(grid["x"] + 12, grid["y"] + 35 + 17)  # the first row's checkbox: Spin Boldak
    page.wait_for_function("() => location.search.includes('incident=943ecb08590d10fa')", timeout=60_000)
    page.locator(".geo-card:visible").filter(has_text="Where: Spīn Bōldak").first.wait_for(timeout=60_000)
    page.get_by_role("textbox", name="Text (evidence, place, actors, claims)").fill("Kharkiv")
    page.keyboard.press("Enter")  # a filter that excludes it, in the same session
    page.get_by_text("outside the current filters").wait_for(timeout=60_000)
    assert page.get_by_text("Where: Spīn Bōldak").count() == 0
    assert page.locator("[data-testid='stException']").count() == 0
    assert "incident=" not in page.url
    assert not page.errors, page.errors


def test_the_time_slider_moves_the_markers_and_play_animates_them(server, page):
    frame = _open(page, server)
    everything = _markers(frame)
    page.get_by_text("Time slider", exact=True).click()
    slider = page.get_by_role("slider")
    slider.wait_for(timeout=60_000)
    slider.focus()
    page.keyboard.press("Home")  # the first week: only the October clashes (no place) and Kabul's? none placed
    page.get_by_text("In 29 Sep", exact=False).wait_for(timeout=60_000)
    frame = _map_frame(page)  # the slider above it made a new map element; from here on it stays
    frame.wait_for_function(f"n => ({COUNT_MARKERS})() < n", arg=everything, timeout=60_000)
    first_week = _markers(frame)
    zoom = frame.evaluate(f"() => ({FIND_MAP})().getZoom()")
    page.get_by_text("▶ Play", exact=True).click()
    page.get_by_text("In 13 Oct", exact=False).wait_for(timeout=60_000)  # two steps on, by itself
    page.get_by_text("In 03 Nov", exact=False).wait_for(timeout=60_000)
    frame = page.locator(MAP).element_handle().content_frame()
    assert _markers(frame) > first_week
    assert frame.evaluate(f"() => ({FIND_MAP})().getZoom()") == zoom  # the map was not redrawn from scratch
    assert not page.errors, page.errors


def test_a_drawn_rectangle_filters_the_figures_the_table_and_the_export(server, page):
    frame = _open(page, server)
    box = page.locator(MAP).bounding_box()
    frame.locator(".leaflet-draw-draw-rectangle").click()
    north_west = frame.evaluate(f"() => ({FIND_MAP})().latLngToContainerPoint([38, 60])")
    south_east = frame.evaluate(f"() => ({FIND_MAP})().latLngToContainerPoint([29, 72])")
    page.mouse.move(box["x"] + north_west["x"], box["y"] + north_west["y"])
    page.mouse.down()
    page.mouse.move(box["x"] + south_east["x"], box["y"] + south_east["y"], steps=8)
    page.mouse.move(box["x"] + south_east["x"], box["y"] + south_east["y"])  # Leaflet.draw ends where the last move was
    time.sleep(0.3)
    page.mouse.up()
    page.wait_for_function("() => location.search.includes('area=')", timeout=60_000)
    page.wait_for_function("() => document.querySelector(\"[data-testid='stMetricValue']\").innerText.trim() === '3'",
                           timeout=60_000)  # Kabul, Spin Boldak and the Kandahar market of the test article
    asked = []
    page.on("request", lambda r: asked.append(r.url))
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="GEOJSON of 3 incidents").click()
    import json
    exported = json.loads(open(download.value.path()).read())
    assert sorted(f["properties"]["country"] for f in exported["features"]) == ["AF", "AF", "AF"]
    assert download.value.suggested_filename == "incidents.geojson"
    assert not [u for u in asked if "/media/" in u], asked  # made in the browser, no address on the server
    shared = page.url
    other = page.context.new_page()
    other.goto(shared)  # the same view from the link
    other.wait_for_function("() => document.querySelector(\"[data-testid='stMetricValue']\") && "
                            "document.querySelector(\"[data-testid='stMetricValue']\").innerText.trim() === '3'",
                            timeout=60_000)


def test_from_a_card_to_the_article_at_the_evidence(server, page):
    frame = _open(page, server, "/?incident=943ecb08590d10fa")
    page.locator(".geo-card:visible").filter(has_text="Where: Spīn Bōldak").first.wait_for(timeout=60_000)
    ringed = frame.evaluate(f"() => {{ let n = 0; ({FIND_MAP})().eachLayer(l => {{ if (l instanceof L.CircleMarker && "
                            "l.options.weight === 3) n++; }); return n; }")
    assert ringed == 1  # the chosen place is ringed on the map
    page.get_by_role("button", name="Open the article at the evidence").first.click()
    page.wait_for_function("() => location.search.includes('tab=Articles')", timeout=60_000)
    evidence = page.locator("#geo-evidence")
    evidence.wait_for(timeout=60_000)
    assert "four Afghan civilians were killed" in evidence.inner_text()
    page.wait_for_function("() => { const r = document.getElementById('geo-evidence').getBoundingClientRect(); "
                           "return r.top >= 0 && r.bottom <= window.innerHeight; }", timeout=30_000)
    assert page.locator("#geo-evidence mark.geo-toll").count() >= 1
    assert page.locator("mark.geo-trigger").count() >= 1


def test_names_show_on_the_basemap_when_zoomed_in(server, page):
    frame = _open(page, server, "/?incident=943ecb08590d10fa")
    frame.evaluate(f"() => {{ ({FIND_MAP})().setView([{SPIN_BOLDAK[0]}, {SPIN_BOLDAK[1]}], 7); }}")
    frame.locator(".geo-label-country > span", has_text="Afghanistan").first.wait_for(state="visible", timeout=30_000)
    frame.locator(".geo-label-place > span", has_text="Spīn Bōldak").first.wait_for(state="visible", timeout=30_000)
    assert frame.locator(".geo-label-capital > span", has_text="Kabul").first.is_visible()
    legend = frame.locator(".geo-legend").inner_text()
    assert "Battle (5)" in legend.replace("\n", " ").replace("Battle(", "Battle (")


def test_a_markdown_title_in_the_preview_fetches_nothing(server, page):
    page.goto(f"{server}/?tab=Add%20articles")
    page.get_by_role("textbox", name="Article text").fill(
        "![x](http://example.invalid/pixel.png) Title\nA bomb killed six people in Mogadishu on Friday, police said.")
    page.keyboard.press("Control+Enter")
    page.get_by_text("![x](http://example.invalid/pixel.png) Title", exact=False).first.wait_for(timeout=60_000)
    time.sleep(1)
    assert not any("example.invalid" in u for u in page.outside)


def test_after_a_correction_the_editor_stays_on_the_incident(server, page):
    page.goto(f"{server}/?tab=Incidents&incident=0fa40862576e5b86")
    page.get_by_role("textbox", name="Your name (for corrections)").fill("ana")
    page.keyboard.press("Enter")
    page.get_by_text("Correct this incident").click()
    page.get_by_test_id("stForm").get_by_role("spinbutton", name="Killed").fill("18")
    page.get_by_role("button", name="Save correction").click()
    page.get_by_text("Correction saved by ana").wait_for(timeout=60_000)
    assert page.get_by_role("tab", name="Incidents").get_attribute("aria-selected") == "true"
    page.get_by_text("ana: killed", exact=False).filter(has_text="-> 18").first.wait_for(timeout=60_000)


def test_heat_switched_on_later_draws_without_reloading_the_map(server, page):
    frame = _open(page, server)
    page.get_by_text("Heat", exact=True).click()
    frame.wait_for_function(f"() => {{ let n = 0; ({FIND_MAP})().eachLayer(l => {{ if (l._heat) n++; }}); "
                            "return n === 1; }", timeout=60_000)
    assert not page.errors, page.errors


def test_the_change_tab_lists_where_violence_rises(server, page):
    page.goto(f"{server}/?tab=Change")
    page.get_by_text("against the weekly average of the four weeks before").wait_for(timeout=60_000)
    grid = page.locator("[data-testid='stDataFrame']:visible").first
    grid.wait_for(timeout=60_000)
    page.get_by_text("Per", exact=True).wait_for()
    change_map = page.locator(MAP).last.element_handle().content_frame()
    change_map.wait_for_function(f"() => {{ const m = ({FIND_MAP})(); if (!m) return false; let n = 0; "
                                 "m.eachLayer(l => { if (l instanceof L.CircleMarker) n++; }); return n > 5; }",
                                 timeout=60_000)
    assert change_map.locator(".geo-legend").count() == 0  # the incident legend does not belong here
    assert page.locator("[data-testid='stException']").count() == 0


def test_a_crafted_url_shows_a_line_not_a_traceback(server, page):
    page.goto(f"{server}/?bbox=nan,nan,nan,nan&q=%00&min=99999999999999999999&from=9999-12-31")
    page.get_by_text("Ignored bbox=").wait_for(timeout=60_000)
    for key in ("q", "min", "from"):
        page.get_by_text(f"Ignored {key}=").wait_for(timeout=10_000)
    assert page.locator("[data-testid='stException']").count() == 0
    assert "Traceback" not in page.locator("body").inner_text()
    page.wait_for_function("() => [...document.querySelectorAll(\"[data-testid='stMetric']\")].some(m => "
                           "m.innerText.startsWith('Incidents') && m.innerText.trim().endsWith('19'))", timeout=30_000)
    # every incident of the store (the samples and the test article): the bad values changed nothing


def test_show_on_the_map_opens_the_map_tab_at_the_incident(server, page):
    page.goto(f"{server}/?tab=Incidents&incident=943ecb08590d10fa")
    page.get_by_role("button", name="Show on the map").click()
    page.wait_for_function("() => [...document.querySelectorAll('[role=tab]')].some(t => "
                           "t.innerText.trim() === 'Map' && t.getAttribute('aria-selected') === 'true')", timeout=60_000)
    frame = _map_frame(page)
    frame.wait_for_function(f"() => {{ const m = ({FIND_MAP})(); return m && m.getZoom() === 8 && "
                            f"Math.abs(m.getCenter().lat - {SPIN_BOLDAK[0]}) < 0.01; }}", timeout=60_000)
