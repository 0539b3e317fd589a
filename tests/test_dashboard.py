from streamlit.testing.v1 import AppTest

from conftest import ROOT


def test_dashboard_shows_the_places_of_the_sample_article():
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60).run()
    assert not at.exception
    assert "place mentions" in at.subheader[0].value
    table = at.dataframe[0].value
    assert {"Chaman", "Spin Boldak", "Kabul"} <= set(table["text"])
    assert any("GeoNames" in c.value for c in at.caption)
