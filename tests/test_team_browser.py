"""The hosted team dashboard in real headless Chromium, on PostGIS: sign-in, what each role sees, an
editor's correction seen in another session with its audit entry, and a concurrent edit refused."""
import time

import pytest

from conftest import ROOT, postgis_url, require_chromium, start_dashboard
from test_browser import browser  # noqa: F401 (the browser fixture)
from test_team import PASSWORD


@pytest.fixture(scope="module")
def team_server(tmp_path_factory):
    require_chromium()
    from geo.store.auth import hash_password
    from geo.pipeline import default_pipeline
    from geo.store import Store
    from geo.app.views import build_sample_store
    url = postgis_url()
    with Store.open(url) as store:
        build_sample_store(store, ROOT / "data" / "articles", default_pipeline())
    folder = tmp_path_factory.mktemp("team")
    hashed = hash_password(PASSWORD)
    secrets = folder / "secrets.toml"
    secrets.write_text("[atlas]\nmax_failed_attempts = 5\n" + "".join(
        f'[atlas.users.{name}]\npassword = "{hashed}"\nrole = "{role}"\n'
        for name, role in (("vic", "viewer"), ("ed", "editor"), ("ed2", "editor"), ("ad", "admin"))))
    proc, base = start_dashboard({"GEO_DB": url}, "--secrets.files", str(secrets))
    with Store.open(url) as store:
        incident = store.incidents().sort_values("killed", ascending=False).incident_id.iloc[0]
    yield base, url, incident
    proc.terminate()
    proc.wait(timeout=20)


def session(browser, base, name=None, path="/"):  # noqa: F811
    page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    page.goto(base + path)
    page.get_by_text("Sign in to see the incidents").wait_for(timeout=60_000)
    if name:
        page.get_by_role("textbox", name="User name").fill(name)
        page.get_by_role("textbox", name="Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_text(f"Signed in as {name}").wait_for(timeout=60_000)
    return page


def test_signed_out_sees_only_the_sign_in(team_server, browser):  # noqa: F811
    base, _, _ = team_server
    page = session(browser, base)
    time.sleep(1)
    assert page.locator("iframe[title='streamlit_folium.st_folium']").count() == 0
    assert page.locator("[data-testid='stMetric']").count() == 0
    assert page.get_by_role("tab").count() == 0


def test_a_viewer_sees_no_edit_controls(team_server, browser):  # noqa: F811
    base, _, incident = team_server
    page = session(browser, base, "vic", f"/?incident={incident}")
    page.get_by_role("tab", name="Incidents").click()
    page.get_by_text(f"Incident {incident}").wait_for(timeout=60_000)
    tabs = [t.inner_text().strip() for t in page.get_by_role("tab").all()]
    assert tabs == ["Map", "Incidents", "Change", "Articles", "Alerts", "Watch"]
    assert page.get_by_text("Correct this incident").count() == 0


def test_an_edit_shows_in_another_session_and_a_concurrent_edit_is_refused(team_server, browser):  # noqa: F811
    base, url, incident = team_server
    first = session(browser, base, "ed", f"/?incident={incident}")
    second = session(browser, base, "ed2", f"/?incident={incident}")
    for page in (first, second):  # both load the incident as it is now
        page.get_by_role("tab", name="Incidents").click()
        page.get_by_text("Correct this incident").click()
    first.get_by_test_id("stForm").get_by_role("spinbutton", name="Killed").fill("4321")
    first.get_by_role("button", name="Save correction").click()
    first.get_by_text("Correction saved").wait_for(timeout=60_000)
    second.get_by_test_id("stForm").get_by_role("spinbutton", name="Killed").fill("1234")
    second.get_by_role("button", name="Save correction").click()
    second.get_by_text("was changed by ed").wait_for(timeout=60_000)  # refused, with the other edit shown

    admin = session(browser, base, "ad", f"/?incident={incident}")
    admin.get_by_role("tab", name="Incidents").click()
    admin.locator(".geo-card:visible").filter(has_text="Killed: 4321").first.wait_for(timeout=60_000)  # the card: corrected
    admin.get_by_text("ed: killed").first.wait_for(timeout=60_000)   # and its audit entry: who, before, after
    from geo.store import Store
    with Store.open(url) as store:
        log = store.corrections(incident)
        assert log.who.tolist()[:1] == ["ed"] and "4321" in log.after.tolist()
        assert 1234 not in store.incidents().killed.dropna().tolist()
