"""The dashboard through Streamlit's AppTest: first run, filters in the URL, the map's assets, clicks,
exports, and untrusted text kept inert."""
import json
from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT

XSS_TITLE = "<script>window.__pwned = 1</script>Blast <img src=x onerror=\"window.__pwned = 2\">"
XSS_TEXT = (XSS_TITLE + "\nPublished: 2025-11-08\n\nA bomb exploded at a market in Kandahar on Friday, killing "
            "three people <img src=x onerror=\"window.__pwned = 3\">, police said <script>window.__pwned = 4</script>.\n")


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("GEO_DB", str(tmp_path / "store.gpkg"))
    return lambda: AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=180)


def map_args(at):
    (component,) = [n for n in at.get("component_instance") if "st_folium" in n.proto.component_name]
    return json.loads(component.proto.json_args)


def test_first_run_builds_the_store_from_the_samples_and_shows_the_map(app):
    at = app().run()
    assert not at.exception
    figures = {m.label: int(m.value) for m in at.metric}
    assert figures["Incidents"] >= 15 and figures["Killed"] > 50
    args = map_args(at)
    assert all(link.startswith("/app/static/vendor/") for link in args["js_links"] + args["css_links"])
    assert "L.circleMarker" in args["script"] and "/app/static/countries.geojson" in args["script"]
    assert any("GeoNames" in c.value and "Natural Earth" in c.value for c in at.caption)
    at.sidebar.radio(key="export_format").set_value("geojson").run()
    at.sidebar.button(key="export_prepare").click().run()
    (download,) = at.sidebar.get("download_button")
    assert download.proto.label == "Download incidents.geojson"


def test_filters_come_from_the_url_and_go_back_to_it(app):
    at = app()
    at.query_params["type"] = ["battle"]
    at.query_params["country"] = ["AF"]
    at.run()
    assert not at.exception
    assert int(at.metric[0].value) == 1  # the Spin Boldak clash (the October clashes have no country)
    at.sidebar.multiselect(key="f_types").set_value(["battle", "protest"]).run()
    as_list = lambda v: v if isinstance(v, list) else [v]  # noqa: E731 (one value reads back as a string)
    assert as_list(at.query_params["type"]) == ["battle", "protest"] and as_list(at.query_params["country"]) == ["AF"]


def test_a_click_on_the_map_shows_the_incident_cards(app):
    at = app().run()
    args = map_args(at)
    at.session_state[args["key"]] = {"last_object_clicked": {"lat": 34.5281, "lng": 69.1723}}  # Kabul
    at.run()
    assert not at.exception
    cards = " ".join(h.proto.body for h in at.get("html"))
    assert "Explosion / remote violence" in cards and "explosions in Kabul on Oct. 9" in cards


def test_untrusted_article_text_is_escaped_everywhere(app, tmp_path):
    from geo.text.document import Article
    from geo.pipeline import default_pipeline
    from geo.store import Store
    with Store.open(tmp_path / "store.gpkg") as store:
        store.ingest(Article("xss", XSS_TEXT, title=XSS_TITLE, published=date(2025, 11, 8)), default_pipeline())
    at = app()
    at.query_params["q"] = "bomb"
    at.run()
    assert not at.exception
    script = map_args(at)["script"]
    assert "<img" not in script and "<script>window" not in script
    at.session_state[map_args(at)["key"]] = {"last_object_clicked": {"lat": 31.6133, "lng": 65.7101}}
    at.run()
    bodies = " ".join(h.proto.body for h in at.get("html"))
    assert "&lt;script&gt;" in bodies and "&lt;img src=x" in bodies
    assert "<script>window" not in bodies and "<img src=x" not in bodies


def test_add_an_article_preview_then_save(app):
    at = app().run()
    before = int(at.metric[0].value)
    at.text_area(key="paste").input("A suicide bomber killed six people at a checkpoint in Mogadishu on Friday, "
                                    "police said.").run()
    at.date_input(key="paste_date").set_value(date(2025, 11, 8)).run()
    assert any("1 incident(s)" in e.label for e in at.expander)
    at.button(key="save_articles").click().run()
    assert not at.exception
    assert any("1 new" in s.value for s in at.success)  # said on the page as it is after the save
    assert int(at.metric[0].value) == before + 1


def test_a_correction_is_saved_with_who_and_shows_everywhere(app, tmp_path):
    from geo.store import Store
    at = app().run()
    at.sidebar.text_input(key="editor").input("ana").run()
    at.session_state["incident_table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    chosen = at.session_state["incident_table"]
    assert chosen["selection"]["rows"] == [0]
    form_numbers = [n for n in at.number_input if n.label == "Killed"]
    form_numbers[0].set_value(77)
    at.button[[b.label for b in at.button].index("Save correction")].click().run()
    assert not at.exception
    with Store.open(tmp_path / "store.gpkg") as store:
        log = store.corrections()
        assert list(log.who.unique()) == ["ana"] and "killed" in set(log.field)
        assert 77 in store.incidents().killed.tolist()
    assert int(at.metric[1].value) >= 77  # the headline figures read the corrected count
