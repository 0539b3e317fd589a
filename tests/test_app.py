"""The dashboard's library parts without a page: areas, URL state, time periods, the change view,
article marking and the audit log in words."""
import base64
import json
import re
from datetime import date

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

import geo.app.downloads as downloads
from geo.app.areas import Area, country_outlines, in_provinces, within
from geo.app.change import weekly_change
from geo.app.mapping import group_at, place_groups
from geo.app.timeplay import in_period, periods
from geo.app.urls import read_query, write_query
from geo.app.views import Mark, audit_view, day_text, marked_html, range_words, stored_article_html
from geo.store import Filters
from geo.store.frame import COLUMNS


def frame(rows):
    """A small incidents frame: (id, type, day, lat, lon, country, admin1) per row."""
    data = pd.DataFrame([{"incident_id": i, "event_type": t, "date": pd.Timestamp(d), "country": c, "admin1": a,
                          "place_name": f"P{i}", "killed": 1, "wounded": 0, "geo_precision": 1}
                         for i, t, d, _, _, c, a in rows])
    for name, dtype in COLUMNS.items():
        if name not in data:
            data[name] = pd.Series([None] * len(data), dtype=dtype if dtype not in ("category", "bool") else object)
    points = [Point(lon, lat) if lat is not None else None for _, _, _, lat, lon, _, _ in rows]
    return gpd.GeoDataFrame(data, geometry=points, crs="EPSG:4326")


AF = frame([("a", "battle", "2025-11-03", 31.0, 66.4, "AF", "Kandahār"),
            ("b", "battle", "2025-11-05", 34.5, 69.2, "AF", "Kābul"),
            ("c", "protest", "2025-10-20", 34.5, 69.2, "AF", "Kābul"),
            ("d", "riot", "2025-10-10", None, None, "AF", None),
            ("e", "battle", "2025-11-06", 50.0, 36.2, "UA", "Kharkivska oblast")])


def test_an_area_round_trips_through_the_url_and_keeps_what_is_inside():
    drawn = Area.from_drawing({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [
        [[60, 29], [72, 29], [72, 38], [60, 38], [60, 29]]]}})
    assert drawn is not None and Area.from_query(drawn.to_query()) == drawn
    assert sorted(within(AF, drawn.polygon).incident_id) == ["a", "b", "c"]  # the unplaced one is outside
    assert sorted(within(AF, country_outlines()["Ukraine"]).incident_id) == ["e"]
    for bad in ("1 2,3 4", "nan 1,2 3,4 5", "1 1,1 1,1 1", "200 0,201 1,202 0", "x", ",".join(["1 1"] * 300)):
        assert Area.from_query(bad) is None


def test_url_state_reads_back_what_it_wrote():
    f = Filters(date_from=date(2025, 10, 1), event_types=("battle",), countries=("AF",), min_casualties=5, text="kabul")
    area = Area.from_query("60 29,72 29,72 38")
    query = write_query(f, area, "e7ee5162416b9de9", "Afghanistan", ("Kābul, AF",))
    back = read_query(query, {"Afghanistan"})
    assert (back.filters, back.area, back.incident, back.outline, back.provinces, back.problems) == (
        f, area, "e7ee5162416b9de9", "Afghanistan", ("Kābul, AF",), ())


def test_periods_step_by_weeks_from_monday_and_a_period_keeps_its_days():
    weeks = periods(date(2025, 10, 1), date(2025, 11, 6), "week")
    assert weeks[0].start == date(2025, 9, 29) and weeks[-1].end == date(2025, 11, 9)
    assert sorted(in_period(AF, weeks[-1]).incident_id) == ["a", "b", "e"]
    assert sorted(in_period(AF, weeks[-2], cumulative=True).incident_id) == ["c", "d"]
    assert len(periods(date(2025, 11, 1), date(2025, 11, 6), "day")) == 6


def test_change_compares_the_last_week_with_the_four_before():
    table = weekly_change(AF, date(2025, 11, 6))
    rows = {r.area: (r.this_week, r.weekly_average_before, r.change) for r in table.itertuples()}
    assert rows["Kandahār, AF"] == (1, 0.0, "new this week")
    assert rows["Kābul, AF"] == (1, 0.25, "up 300% (25 % or more)")
    assert rows["AF (province unknown)"] == (0, 0.25, "down 100%")
    cells = weekly_change(AF, date(2025, 11, 6), by="grid")
    assert "34°, 69° cell" in set(cells.area)
    assert in_provinces(AF, ("Kābul, AF",)).incident_id.tolist() == ["b", "c"]


def test_a_click_is_matched_to_its_marker_exactly():
    groups = place_groups(AF)
    kabul = group_at(groups, 34.5, 69.2)
    assert sorted(kabul.incident_ids) == ["b", "c"] and kabul.event_type in ("battle", "protest")
    assert group_at(groups, 34.51, 69.2) is None  # near is not on


def test_article_marks_nest_inside_the_evidence_and_the_focus_gets_the_anchor():
    text = "Peace talks stalled. Gunmen killed 4 people in Kandahar on Monday."
    html = stored_article_html(text, ["Peace talks stalled.", "Gunmen killed 4 people in Kandahar on Monday."],
                               focus="Gunmen killed 4 people in Kandahar on Monday.")
    assert "<span class='geo-evidence' id='geo-evidence'>Gunmen" in html.replace("<mark class='geo-trigger' title='event word'>", "")
    assert "class='geo-toll'" in html and html.count("<span") == html.count("</span>")
    assert marked_html("<b>", [Mark(0, 3, "geo-toll")]).endswith("<mark class='geo-toll' title=''>&lt;b&gt;</mark></div>")


def test_words_for_dates_ranges_and_the_audit_log():
    assert day_text(pd.Timestamp("2025-11-01"), "month") == "Nov 2025 (month only)"
    assert day_text(pd.Timestamp("2025-11-07")) == "7 Nov 2025" and day_text(None) == "date not stated"
    assert range_words(109, None) == "109 or more" and range_words(4, 4) == "exactly 4"
    log = pd.DataFrame({"fid": [1, 2], "at": ["2025-11-08T10:00:00", "2025-11-08T11:00:00"], "who": ["ana", "ben"],
                        "incident_id": ["a", "a"], "field": ["geonameid", "event_type"], "before": ["1", '"battle"'],
                        "after": ["2", '"riot"'], "note": [None, None]})
    view = audit_view(log, AF)
    assert view.entry.tolist() == [2, 1] and view.incident.iloc[0] == "Battle in Pa, 3 Nov 2025"
    assert view.after.tolist() == ["Riot", "GeoNames entry 2"] and view.changed.tolist() == ["event type", "gazetteer entry"]


def test_a_choice_is_an_incident_id_kept_while_in_view():
    from geo.app.selection import click_choice, source_stating, still_in_view, table_choice
    assert table_choice(AF, [1]) == "b" and table_choice(AF, [9]) is None and table_choice(AF, []) is None
    assert sorted(click_choice(place_groups(AF), {"lat": 34.5, "lng": 69.2})) == ["b", "c"]
    assert click_choice(place_groups(AF), None) == []
    assert still_in_view(["b"], AF[AF.country == "AF"]) == (["b"], False)
    assert still_in_view(["b"], AF[AF.country == "UA"]) == ([], True)
    sources = pd.DataFrame({"article_key": ["k1", "k2"], "evidence": ["Talks stalled.", "Four were killed."]})
    assert source_stating(sources, "Four were killed.")["article_key"] == "k2"
    assert source_stating(sources, "other")["article_key"] == "k1" and source_stating(sources.iloc[:0], "x") is None


def test_a_browser_download_carries_the_exact_bytes_and_refuses_what_a_browser_cannot_take(monkeypatch):
    data = bytes(range(256)) * 4  # a GeoPackage is binary
    page = downloads.browser_download_html(data, "incidents.gpkg", "application/geopackage+sqlite3")
    sent = json.loads(re.search(r"const d = (\{.*?\});", page).group(1))
    assert base64.b64decode(sent["b64"]) == data and sent["name"] == "incidents.gpkg"
    assert "Save incidents.gpkg again (1 kB)" in page and "/media/" not in page
    monkeypatch.setattr(downloads, "MAX_DOWNLOAD_BYTES", 1000)
    with pytest.raises(ValueError, match="narrow the filters, or use `python -m geo export`"):
        downloads.browser_download_html(data, "incidents.gpkg", "application/geopackage+sqlite3")
