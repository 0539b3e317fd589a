"""The dashboard through Streamlit's AppTest: first run, filters and crafted values in the URL, the
map's assets, clicks, the selection kept as an incident id, time, areas, exports, corrections, and
untrusted text kept inert."""
import json
import os
import shutil
from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT

XSS_TITLE = "<script>window.__pwned = 1</script>Blast <img src=x onerror=\"window.__pwned = 2\">"
XSS_TEXT = (XSS_TITLE + "\nPublished: 2025-11-08\n\nA bomb exploded at a market in Kandahar on Friday, killing "
            "three people <img src=x onerror=\"window.__pwned = 3\">, police said <script>window.__pwned = 4</script>.\n")
SPIN_BOLDAK = (31.0058, 66.4)
KABUL = (34.5281, 69.1723)


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    """A GeoPackage holding the sample articles, built once; each test works on its own copy."""
    from geo.app.views import build_sample_store
    from geo.pipeline import default_pipeline
    from geo.store import Store
    path = tmp_path_factory.mktemp("samples") / "store.gpkg"
    with Store.open(path) as store:
        build_sample_store(store, ROOT / "data" / "articles", default_pipeline())
    return path


@pytest.fixture
def app(tmp_path, monkeypatch, samples):
    shutil.copy(samples, tmp_path / "store.gpkg")
    monkeypatch.setenv("GEO_DB", str(tmp_path / "store.gpkg"))
    return lambda: AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=180)


def map_args(at):
    (component,) = [n for n in at.get("component_instance") if "st_folium" in n.proto.component_name]
    return json.loads(component.proto.json_args)


def map_returns(at, value):
    """What st_folium sends back after a click or a drawing (also mirrored under its key, as in a browser)."""
    at.session_state[map_args(at)["key"]] = value
    at.session_state["map"] = value
    return at.run()


def click(at, lat, lng):
    return map_returns(at, {"last_object_clicked": {"lat": lat, "lng": lng}})


def cards(at) -> str:
    return " ".join(h.proto.body for h in at.get("html") if "geo-card" in h.proto.body)


def incidents(at) -> int:
    return int(at.metric[0].value.replace(",", ""))


def test_first_run_builds_the_store_from_the_samples_and_shows_the_map(tmp_path, monkeypatch):
    monkeypatch.setenv("GEO_DB", str(tmp_path / "empty.gpkg"))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=180).run()
    assert not at.exception
    assert incidents(at) >= 15 and int(at.metric[1].value) > 50
    args = map_args(at)
    assert all(link.startswith("/app/static/vendor/") for link in args["js_links"] + args["css_links"])
    assert "/app/static/vendor/draw/leaflet.draw.js" in args["js_links"]
    assert "/app/static/countries.geojson" in args["script"] and "AFGHANISTAN" in args["script"].upper()
    assert "L.circleMarker" in args["feature_group"]  # the incidents: swapped without redrawing the map
    assert any("GeoNames" in c.value and "Natural Earth" in c.value for c in at.caption)


def test_the_legend_counts_each_type_and_the_timeline_uses_the_map_colours(app):
    from geo.app.mapping import EVENT_COLORS, EVENT_LABELS
    from geo.app.timeplay import timeline, timeline_chart
    at = app().run()
    assert '"battle": 5' in map_args(at)["feature_group"]  # the legend's count of battles on the map
    assert "bottomright" in map_args(at)["script"]         # the legend no longer covers the scale bar
    from geo.store import Store
    with Store.open(os.environ["GEO_DB"]) as store:
        spec = timeline_chart(timeline(store.incidents())).to_dict()
    scale = spec["encoding"]["color"]["scale"]
    assert dict(zip(scale["domain"], scale["range"]))[EVENT_LABELS["battle"]] == EVENT_COLORS["battle"]
    caption = at.caption[0].value
    assert "…" not in caption and "or more" in caption and "incidents have no locatable place" in caption


def test_filters_come_from_the_url_and_go_back_to_it(app):
    at = app()
    at.query_params["type"] = ["battle"]
    at.query_params["country"] = ["AF"]
    at.run()
    assert not at.exception
    assert incidents(at) == 1  # the Spin Boldak clash (the October clashes have no country)
    countries = at.sidebar.multiselect(key="f_countries")
    assert countries.format_func("AF") == "Afghanistan (AF)"
    by_name = app()
    by_name.query_params["country"] = ["Afghanistan"]
    by_name.run()
    assert by_name.sidebar.multiselect(key="f_countries").value == ["AF"] and not by_name.warning
    at.sidebar.multiselect(key="f_types").set_value(["battle", "protest"]).run()
    as_list = lambda v: v if isinstance(v, list) else [v]  # noqa: E731 (one value reads back as a string)
    assert as_list(at.query_params["type"]) == ["battle", "protest"] and as_list(at.query_params["country"]) == ["AF"]


@pytest.mark.parametrize("key,value", [("bbox", "nan,nan,nan,nan"), ("bbox", "1,2,3"), ("q", "\x00"),
                                       ("min", "99999999999999999999"), ("min", "-5"), ("from", "9999-12-31"),
                                       ("to", "yesterday"), ("area", "1 2,inf 4,5 6"), ("incident", "1' OR 1=1"),
                                       ("type", "nuclear"), ("country", "Afghanistan!"), ("outline", "Atlantis")])
def test_a_crafted_url_value_is_ignored_with_a_short_message(app, key, value):
    at = app()
    at.query_params[key] = value
    at.run()
    assert not at.exception
    (warning,) = at.warning
    assert warning.value.startswith(f"Ignored {key}=") and len(warning.value) < 160 and "Traceback" not in warning.value
    assert incidents(at) == 18  # nothing else changed: every sample incident shown


def test_a_click_identifies_the_marker_clicked(app):
    at = click(app().run(), *KABUL)
    assert not at.exception
    assert "Explosion / remote violence" in cards(at) and "explosions in Kabul on Oct. 9" in cards(at)
    assert any(s.value == "1 incident at Kabul" for s in at.subheader)
    at = click(at, *SPIN_BOLDAK)
    assert "Spīn Bōldak" in cards(at) and "Kabul on Oct. 9" not in cards(at)
    assert "[31.0058, 66.4, 15," in map_args(at)["feature_group"]  # the clicked marker ringed
    at = click(at, SPIN_BOLDAK[0] + 0.05, SPIN_BOLDAK[1])  # the map, not a marker: nothing guessed
    assert cards(at) == ""


def test_a_selection_is_an_incident_kept_or_cleared_never_a_row_number(app):
    at = app().run()
    table_key = at.dataframe[0].proto.id.split("-", 2)[-1]  # incident_table_<view>
    at.session_state[table_key] = {"selection": {"rows": [2], "columns": [], "cells": []}}
    at.run()
    assert "Spīn Bōldak" in cards(at) and at.query_params["incident"] == "943ecb08590d10fa"
    at.sidebar.multiselect(key="f_countries").set_value(["AF"]).run()  # still in view: still chosen
    assert not at.exception and "Spīn Bōldak" in cards(at)
    at.sidebar.multiselect(key="f_countries").set_value(["UA"]).run()  # filtered out: cleared, and said so
    assert not at.exception
    assert cards(at) == "" and any("outside the current filters" in i.value for i in at.info)
    assert "incident" not in at.query_params


def test_a_link_to_an_incident_opens_its_card_on_the_map(app):
    at = app()
    at.query_params["incident"] = "e7ee5162416b9de9"
    at.run()
    assert not at.exception
    assert "explosions in Kabul on Oct. 9" in cards(at)
    assert "[34.5281, 69.1723, 15," in map_args(at)["feature_group"]


def test_show_on_the_map_goes_to_the_map_tab(app):
    at = app()
    at.query_params["incident"] = "e7ee5162416b9de9"
    at.query_params["tab"] = "Incidents"
    at.run()
    at.button(key="focus_button").click().run()
    assert at.session_state["tab"] == "Map" and at.session_state["focus"] == pytest.approx(KABUL)


def test_the_time_slider_steps_the_map_the_figures_and_the_chart(app):
    at = app().run()
    at.toggle(key="time_on").set_value(True).run()
    assert not at.exception
    slider = at.select_slider(key="time_index")
    last_week = map_args(at)["feature_group"]
    assert "Up to" not in at.caption[1].value and "In 03 Nov" in " ".join(c.value for c in at.caption)
    slider.set_value(0).run()  # the first week
    assert map_args(at)["feature_group"] != last_week and "Kabul" not in map_args(at)["feature_group"]
    at.toggle(key="time_cumulative").set_value(True).run()
    at.select_slider(key="time_index").set_value(len(at.select_slider(key="time_index").options) - 1).run()
    shown = " ".join(c.value for c in at.caption)
    assert "Up to 09 Nov 2025: 18 incidents" in shown


def test_a_drawn_area_filters_everything_and_is_kept_in_the_url(app):
    at = app().run()
    afghanistan = {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [
        [[60, 29], [72, 29], [72, 38], [60, 38], [60, 29]]]}}
    map_returns(at, {"last_active_drawing": afghanistan, "last_object_clicked": None})
    assert not at.exception
    assert incidents(at) == 2  # Kabul and Spin Boldak
    assert at.query_params["area"] == "60 29,72 29,72 38,60 38"
    at2 = app()
    at2.query_params["area"] = "60 29,72 29,72 38,60 38"  # the shared link shows the same view
    at2.run()
    assert incidents(at2) == 2 and "Only the area drawn" in " ".join(c.value for c in at2.sidebar.caption)
    at2.sidebar.button(key="clear_area").click().run()
    assert incidents(at2) == 18 and "area" not in at2.query_params


def test_a_country_outline_or_a_province_limits_the_view(app):
    at = app()
    at.query_params["outline"] = "Afghanistan"
    at.run()
    assert not at.exception and incidents(at) == 2  # Kabul and Spin Boldak, inside Natural Earth's outline
    at.sidebar.multiselect(key="f_provinces").set_value(["Kandahār, AF"]).run()
    assert incidents(at) == 1 and at.query_params["province"] == "Kandahār, AF"
    at.sidebar.selectbox(key="f_outline").select_index(0).run()  # (anywhere)
    assert incidents(at) == 1 and "outline" not in at.query_params


def test_an_export_is_made_on_click_and_sent_only_over_the_session(app):
    import base64
    import re
    from streamlit.runtime import Runtime
    at = app().run()
    buttons = [b for b in at.sidebar.button if b.key.startswith("export_")]
    assert [b.label for b in buttons] == ["GEOJSON of 18 incidents", "CSV of 18 incidents", "GPKG of 18 incidents"]
    assert not at.get("iframe")  # nothing is prepared before a click
    at.sidebar.button(key="export_geojson").click().run()
    [frame] = at.get("iframe")
    page = frame.proto.srcdoc
    data = json.loads(base64.b64decode(re.search(r'"b64": "([^"]+)"', page).group(1)))
    assert len(data["features"]) == 18 and '"name": "incidents.geojson"' in page
    # The bytes went inside the page over the session's connection: no /media address was made for them.
    media = Runtime.instance().media_file_mgr if Runtime.exists() else None
    assert "/media/" not in page and (media is None or not media._file_metadata)


def test_untrusted_article_text_is_escaped_everywhere(app, tmp_path):
    from geo.pipeline import default_pipeline
    from geo.store import Store
    from geo.text.document import Article
    with Store.open(tmp_path / "store.gpkg") as store:
        store.ingest(Article("xss", XSS_TEXT, title=XSS_TITLE, published=date(2025, 11, 8)), default_pipeline())
    at = app()
    at.query_params["q"] = "bomb"
    at.run()
    assert not at.exception
    args = map_args(at)
    assert "<img" not in args["feature_group"] + args["script"] and "<script>window" not in args["feature_group"]
    at = click(at, 31.6133, 65.7101)
    bodies = " ".join(h.proto.body for h in at.get("html"))
    assert "&lt;script&gt;" in bodies and "&lt;img src=x" in bodies
    assert "<script>window" not in bodies and "<img src=x" not in bodies


def test_the_articles_tab_reads_the_stored_result_without_extracting(app, monkeypatch):
    import geo.pipeline
    at = app()
    at.query_params["tab"] = "Articles"
    monkeypatch.setattr(geo.pipeline, "default_pipeline", lambda: pytest.fail("the page ran an extraction"))
    at.run()
    assert not at.exception
    article = " ".join(h.proto.body for h in at.get("html") if "geo-evidence" in h.proto.body)
    assert "class='geo-trigger'" in article and "class='geo-toll'" in article


def test_add_an_article_preview_then_save(app):
    at = app().run()
    before = incidents(at)
    at.text_area(key="paste").input("![x](http://example.invalid/pixel.png) A suicide bomber killed six people at a "
                                    "checkpoint in Mogadishu on Friday, police said.").run()
    at.date_input(key="paste_date").set_value(date(2025, 11, 8)).run()
    (expander,) = at.expander
    assert "1 incident," in expander.label and "\\!\\[x\\]" in expander.label  # the title is text, not an image
    at.button(key="save_articles").click().run()
    assert not at.exception
    assert any("1 new" in s.value for s in at.success)  # said on the page as it is after the save
    assert incidents(at) == before + 1


def test_upload_problems_name_the_uploaded_file_not_a_server_path():
    from geo.app.views import read_uploads
    (problem,) = read_uploads([("report [final].txt", b"")])
    assert str(problem).startswith("report [final].txt") and "/tmp" not in str(problem)


def test_a_correction_needs_a_name_and_is_saved_with_it(app, tmp_path):
    from geo.store import Store
    at = app()
    at.query_params["incident"] = "943ecb08590d10fa"
    at.query_params["tab"] = "Incidents"
    at.run()
    assert any("Enter your name" in i.value for i in at.info) and "Save correction" not in [b.label for b in at.button]
    at.sidebar.text_input(key="editor").input("ana").run()
    at.text_input(key="gazetteer_943ecb08590d10fa").input("kandahar").run()
    (place,) = [s for s in at.selectbox if s.label == "Place from the gazetteer"]
    assert any("Kandahār, Afghanistan — city, population 523,300" in o for o in place.options)
    [n for n in at.number_input if n.label == "Killed"][0].set_value(77)
    at.button[[b.label for b in at.button].index("Save correction")].click().run()
    assert not at.exception
    assert at.session_state["tab"] == "Incidents"  # the analyst stays where they were
    with Store.open(tmp_path / "store.gpkg") as store:
        log = store.corrections()
        assert list(log.who.unique()) == ["ana"] and "killed" in set(log.field)
        assert 77 in store.incidents().killed.dropna().tolist()
    assert int(at.metric[1].value) >= 77  # the headline figures read the corrected count


def test_the_audit_tab_speaks_words_and_undo_offers_the_newest_first(app, tmp_path):
    from geo.store import Store
    with Store.open(tmp_path / "store.gpkg") as store:
        store.correct("943ecb08590d10fa", {"killed": 5}, who="ana")
        store.correct("943ecb08590d10fa", {"event_type": "violence_against_civilians"}, who="ben")
    at = app()
    at.query_params["tab"] = "Audit"
    at.run()
    table = at.dataframe[-1].value
    assert table["incident"].iloc[0].startswith("Violence against civilians in Spīn Bōldak, 6 Nov 2025")
    assert table["after"].iloc[0] == "Violence against civilians" and table["who"].tolist()[:2] == ["ben", "ana"]
    undo = at.selectbox(key="undo_entry")
    assert undo.value == table["entry"].iloc[0] and "ben" in undo.format_func(undo.value)


def test_the_page_config_hides_deploy_caps_uploads_and_does_not_watch_the_venv():
    import tomllib
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["toolbarMode"] == "viewer"
    assert config["server"]["maxUploadSize"] == 50
    assert config["server"]["fileWatcherType"] == "none"


def test_the_change_tab_maps_and_lists_the_trend(app):
    at = app()
    at.query_params["tab"] = "Change"
    at.run()
    assert not at.exception
    *_, change_map = [n for n in at.get("component_instance") if "st_folium" in n.proto.component_name]
    layer = json.loads(change_map.proto.json_args)["feature_group"]
    assert "new this week" in layer and "#7a0177" in layer  # the provinces with incidents only this week
    table = at.dataframe[-1].value
    assert list(table.columns) == ["area", "this_week", "weekly_average_before", "change"]
    assert table.change.iloc[0] == "new this week"
