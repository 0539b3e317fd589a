from geopy.geocoders import Nominatim
from geopy.geocoders.base import Geocoder
from geopy.location import Location

from geo.places.geocoders import CachedGeocoder, GeocoderChain, OfflineGazetteer


def test_offline_gazetteer_is_a_geopy_geocoder():
    g = OfflineGazetteer()
    assert isinstance(g, Geocoder)
    loc = g.geocode("Kabul")
    assert isinstance(loc, Location)
    assert loc.raw["country"] == "AF" and loc.raw["geonameid"] is not None
    assert abs(loc.latitude - 34.5) < 0.2


def test_qualified_queries_and_lists():
    g = OfflineGazetteer()
    assert g.geocode("Springfield, Illinois").raw["admin1"] == "Illinois"
    assert g.geocode("Chaman, Pakistan").raw["country"] == "PK"
    many = g.geocode("Springfield", exactly_one=False, limit=5)
    assert len(many) == 5 and all(isinstance(x, Location) for x in many)
    assert g.geocode("Springfield", country_codes="AU") is None or g.geocode("Springfield", country_codes="AU").raw["country"] == "AU"


def test_unknown_name_is_none():
    assert OfflineGazetteer().geocode("Xqzzvillebergstadt") is None


def test_online_failure_never_breaks_the_run(tmp_path):
    # A real geopy geocoder whose server refuses: loopback port 9 has nothing listening.
    dead = Nominatim(user_agent="incident-atlas-tests", domain="127.0.0.1:9", scheme="http", timeout=2)
    online = CachedGeocoder(dead, min_delay_seconds=0, cache_path=tmp_path / "cache.sqlite")
    assert online.geocode("Somewhere") is None
    chain = GeocoderChain(OfflineGazetteer(), online)
    assert chain.geocode("Kandahar").raw["country"] == "AF"
    assert chain.geocode("Xqzzvillebergstadt") is None


class CountingGeocoder(OfflineGazetteer):
    calls = 0

    def geocode(self, query, **kwargs):
        CountingGeocoder.calls += 1
        return super().geocode(query, **kwargs)


def test_online_answers_are_cached_on_disk(tmp_path):
    path = tmp_path / "cache.sqlite"
    first = CachedGeocoder(CountingGeocoder(), min_delay_seconds=0, cache_path=path).geocode("Doha")
    again = CachedGeocoder(CountingGeocoder(), min_delay_seconds=0, cache_path=path).geocode("Doha")
    assert CountingGeocoder.calls == 1
    assert (again.latitude, again.longitude) == (first.latitude, first.longitude)
    assert again.raw["country"] == "QA"


def test_variant_spellings_geocode_with_their_candidates():
    g = OfflineGazetteer()
    for query, name in [("Deir Ezzor", "Deir ez-Zor"), ("Edlib", "Idlib"), ("Jisr Al-Shughur", "Jisr ash Shughūr")]:
        found = g.geocode(query, exactly_one=False, limit=5)
        place = next(loc.raw for loc in found if loc.raw["name"] == name and loc.raw["kind"] == "city")
        assert place["country"] == "SY" and place["admin1"] and place["population"] > 0 and place["geonameid"]


def test_geocode_command_lists_candidates_with_country_province_and_population():
    import json
    import subprocess
    import sys

    from conftest import ROOT
    r = subprocess.run([sys.executable, "-m", "geo", "geocode", "Deir", "Ezzor"], capture_output=True, text=True,
                       cwd=ROOT, timeout=300)
    rows = [json.loads(line)["raw"] for line in r.stdout.splitlines()]
    assert r.returncode == 0 and len(rows) >= 2
    assert all(row["country"] == "SY" and row["admin1"] == "Dayr az Zawr" and row["population"] > 0 for row in rows)
