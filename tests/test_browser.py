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
