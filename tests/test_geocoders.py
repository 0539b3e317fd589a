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
