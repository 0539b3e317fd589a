"""The store on both engines: a real GeoPackage file and a real PostGIS server."""
import os
import signal
import subprocess
import sys
import time
from datetime import date

import pytest

from conftest import ROOT, SEED
from geo.text.document import Article

WIRE_1 = Article("wire-1", "A car bomb exploded outside a market in Mogadishu on Friday, killing at least 7 people "
                 "and wounding 20, police said.", published=date(2025, 11, 8))
WIRE_2 = Article("wire-2", "The death toll from Friday's car bombing in Mogadishu rose to 12, officials said.",
                 published=date(2025, 11, 9))
KISMAYO = Article("wire-3", "Clashes between Al-Shabaab fighters and government troops in Kismayo on Thursday "
                  "killed four soldiers.", published=date(2025, 11, 8))


@pytest.fixture(scope="module")
def pipeline():
    from geo.pipeline import default_pipeline
    return default_pipeline()


@pytest.fixture
def store(store_url):
    from geo.store import Store
    with Store.open(store_url) as s:
        yield s


def seed_article():
    return Article(SEED.stem, SEED.read_text(encoding="utf-8"), published=date(2025, 11, 8))


def test_ingest_is_idempotent(store, pipeline):
    first = store.ingest(seed_article(), pipeline)
    assert first.status == "new" and first.added == 5
    counts = store.counts()
    again = store.ingest(Article("renamed", "  " + seed_article().text.replace("\n\n", "\n \n") + "\n"), pipeline)
    assert again.status == "unchanged" and store.counts() == counts


def test_the_same_event_from_two_articles_is_one_incident_with_both_sources(store, pipeline):
    for article in (WIRE_1, WIRE_2, KISMAYO):
        store.ingest(article, pipeline)
    frame = store.incidents()
    assert len(frame) == 2
    blast = frame[frame.place_name == "Mogadishu"].iloc[0]
    assert blast.n_sources == 2 and (blast.killed, blast.killed_low) == (12, 7) and blast.wounded == 20
    sources = store.sources([blast.incident_id])
    assert sources.external_id.tolist() == ["wire-1", "wire-2"]
    assert blast.geometry.x == pytest.approx(45.34, abs=0.05)


def test_frame_from_the_store_keeps_the_documented_schema(store, pipeline):
    from geo.store.frame import COLUMNS
    empty = store.incidents()
    store.ingest(seed_article(), pipeline)
    frame = store.incidents()
    assert frame.crs.to_epsg() == 4326
    for column, dtype in COLUMNS.items():
        assert str(frame[column].dtype) == dtype == str(empty[column].dtype), column
    battle = frame[(frame.event_type == "battle") & (frame.date == "2025-11-06")].iloc[0]
    assert battle.killed == 4 and battle.contested and "Afghan forces" in battle.actors


def test_filters(store, pipeline):
    from geo.store import Filters
    for article in (seed_article(), WIRE_1, KISMAYO):
        store.ingest(article, pipeline)
    ids = lambda f: set(store.incidents(f).place_name.dropna())  # noqa: E731
    assert ids(Filters(countries=("so",))) == {"Mogadishu", "Kismayo"}
    assert ids(Filters(event_types=("explosion_remote_violence",))) == {"Kabul", "Mogadishu"}
    assert ids(Filters(date_from=date(2025, 11, 6), date_to=date(2025, 11, 7), countries=("SO",))) == \
        {"Mogadishu", "Kismayo"}
    assert ids(Filters(bbox=(40.0, -2.0, 46.0, 0.0))) == {"Kismayo"}
    assert ids(Filters(min_casualties=20)) == {"Mogadishu"}
    assert ids(Filters(text="market")) == {"Mogadishu"}
    assert ids(Filters(actors=("Al-Shabaab",))) == {"Kismayo"}


def test_corrections_are_kept_with_who_and_before_and_survive_a_new_report(store, pipeline):
    from geo.store import EditConflict, StoreError
    store.ingest(WIRE_1, pipeline)
    incident = store.incidents().iloc[0]
    version = int(incident.version)
    new_version = store.correct(incident.incident_id, {"killed": 9, "event_type": "violence_against_civilians"},
                                who="ana", expected_version=version)
    assert new_version == version + 1
    log = store.corrections(incident.incident_id)
    assert set(log.field) == {"killed", "event_type"} and set(log.who) == {"ana"}  # 9 is inside [7, -)
    assert log[log.field == "killed"].iloc[0][["before", "after"]].tolist() == ["7", "9"]
    with pytest.raises(EditConflict, match="changed by ana"):
        store.correct(incident.incident_id, {"killed": 10}, who="bob", expected_version=version)
    with pytest.raises(StoreError, match="event_type must be one of"):
        store.correct(incident.incident_id, {"event_type": "picnic"}, who="bob")
    store.ingest(Article("wire-4", "A car bomb exploded outside a market in Mogadishu on Friday, killing 8 people.",
                         published=date(2025, 11, 9)), pipeline)
    after = store.incidents().iloc[0]
    assert after.killed == 9 and after.event_type == "violence_against_civilians" and after.n_sources == 2


def test_spatial_index_and_gis_readability(store, pipeline, tmp_path):
    import geopandas as gpd
    import sqlalchemy as sa
    store.ingest(seed_article(), pipeline)
    points = int(store.incidents().geometry.notna().sum())
    with store.read() as conn:
        if store.dialect == "sqlite":
            assert conn.exec_driver_sql("SELECT count(*) FROM rtree_incidents_geom").scalar() == points
            path = store.engine.url.database
            layer = gpd.read_file(path, layer="incidents", bbox=(60, 25, 75, 40))  # GDAL, through the R-tree
        else:
            indexes = conn.exec_driver_sql("SELECT indexdef FROM pg_indexes WHERE tablename = 'incidents'").scalars()
            assert any("gist" in i for i in indexes)
            layer = gpd.read_postgis(sa.text("SELECT * FROM incidents WHERE geom && ST_MakeEnvelope(60,25,75,40,4326)"),
                                     conn, geom_col="geom")
    assert layer.crs.to_epsg() == 4326
    assert {"Spīn Bōldak", "Kabul"} <= set(layer.place_name)


def test_store_errors_are_one_line(tmp_path):
    from geo.store import SCHEMA_VERSION, Store, StoreError
    not_gpkg = tmp_path / "notes.gpkg"
    not_gpkg.write_text("these are my notes, not a database")
    with pytest.raises(StoreError, match="not a GeoPackage"):
        Store.open(not_gpkg)
    with pytest.raises(StoreError, match="cannot open the store: .*refused"):
        Store.open("postgresql://postgres@127.0.0.1:9/nothing")
    with pytest.raises(StoreError, match="does not exist"):
        Store.open(tmp_path / "missing" / "x.gpkg")
    newer = tmp_path / "newer.gpkg"
    with Store.open(newer) as s, s.write() as conn:
        conn.exec_driver_sql(f"UPDATE store_meta SET value = '{SCHEMA_VERSION + 1}' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="newer than this program"):
        Store.open(newer)
    assert not_gpkg.read_text() == "these are my notes, not a database"  # nothing lost


def test_a_store_of_the_previous_schema_is_upgraded_and_new_reports_join_its_incidents(store_url, pipeline):
    """A version 3 store (sources without what each article reported) is upgraded when opened: its
    sources take their incident's values, and a new report of the same event joins the incident."""
    from geo.store import Store
    from geo.store.schema import REPORT_COLUMNS
    with Store.open(store_url) as store:
        store.ingest(WIRE_1, pipeline)
        before = store.incidents().iloc[0]
        with store.write() as conn:  # what version 3 had
            conn.exec_driver_sql("DROP INDEX incident_sources_type_date")
            conn.exec_driver_sql("DROP INDEX ix_incident_sources_report_id")
            for column in REPORT_COLUMNS:
                conn.exec_driver_sql(f'ALTER TABLE incident_sources DROP COLUMN "{column}"')
            conn.exec_driver_sql("DROP TABLE incident_renames")
            conn.exec_driver_sql("UPDATE store_meta SET value = '3' WHERE key = 'schema_version'")
    with Store.open(store_url) as store:
        store.ingest(WIRE_2, pipeline)
        (after,) = store.incidents().itertuples()
        assert after.incident_id == before.incident_id and after.n_sources == 2 and after.killed == 12
        assert store.sources().external_id.tolist() == ["wire-1", "wire-2"]


def test_articles_stored_many_to_a_transaction_are_stored_as_one_by_one(store, pipeline, tmp_path):
    from geo.store import ArticleRefused, Store
    nul = Article("nul", "Shelling hit Kharkiv\u0000 overnight.", published=date(2025, 11, 8))
    articles = [WIRE_1, KISMAYO, nul, WIRE_2, seed_article(), WIRE_1]
    results = store.store_documents([(a, pipeline(a).incidents) for a in articles], per_commit=2)
    assert [r.status if not isinstance(r, ArticleRefused) else "refused" for r in results] == \
        ["new", "new", "refused", "new", "new", "unchanged"]
    with Store.open(tmp_path / "one-by-one.gpkg") as one:
        for article in articles:
            if article is not nul:
                one.ingest(article, pipeline)
        assert one.counts() == store.counts()
        assert one.incidents().drop(columns="version").equals(store.incidents().drop(columns="version"))


# -- real processes: crashes and concurrent writers ---------------------------------------------------
def _write_articles(folder, names, body):
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        (folder / f"{name}.txt").write_text("Published: 2025-11-08\n\n" + body(i))


def _ingest(paths, db, pause="0", **kw):
    env = dict(os.environ, GEO_INGEST_PAUSE=pause)
    return subprocess.Popen([sys.executable, "-m", "geo", "ingest", *map(str, paths), "--db", db, "--quiet"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _consistent(store):
    """Every article has all its sources and every incident one source at least."""
    with store.read() as conn:
        orphan_incidents = conn.exec_driver_sql(
            "SELECT count(*) FROM incidents i WHERE NOT EXISTS (SELECT 1 FROM incident_sources s "
            "WHERE s.incident_id = i.incident_id)").scalar()
        articles_without = conn.exec_driver_sql(
            "SELECT count(*) FROM articles a WHERE NOT EXISTS (SELECT 1 FROM incident_sources s "
            "WHERE s.article_key = a.article_key)").scalar()
    return orphan_incidents == 0 and articles_without == 0


def test_kill_9_mid_ingest_leaves_the_store_as_before_that_article(store_url, tmp_path):
    from geo.store import Store
    towns = ["Kandahar", "Quetta", "Peshawar", "Herat"]
    _write_articles(tmp_path / "in", [f"a{i}" for i in range(4)],
                    lambda i: f"Clashes in {towns[i]} on Friday killed {i + 2} soldiers and wounded {i + 5}.\n")
    Store.open(store_url).close()
    proc = _ingest([tmp_path / "in"], store_url, pause="1.5")
    with Store.open(store_url) as store:
        deadline = time.time() + 180  # a loaded machine takes a while to start the ingest
        while store.counts()["articles"] < 1 and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # the second article is now inside its transaction, sleeping
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        counts = store.counts()
        assert counts["articles"] == 1 and counts["incidents"] == 1 and _consistent(store)
    finished = _ingest([tmp_path / "in"], store_url)
    out, err = finished.communicate(timeout=120)
    assert finished.returncode == 0, err
    assert "3 new, 1 unchanged" in out
    with Store.open(store_url) as store:
        assert store.counts()["articles"] == 4 and store.counts()["incidents"] == 4 and _consistent(store)


def test_two_ingests_at_once_lose_nothing(store_url, tmp_path):
    from geo.store import Store
    towns = ["Kandahar", "Quetta", "Peshawar", "Herat", "Kunduz", "Jalalabad", "Bannu", "Chaman"]
    # Both sets report the Kandahar clash (one event, two sources) and share one identical article.
    _write_articles(tmp_path / "a", [f"a{i}" for i in range(8)],
                    lambda i: f"Clashes in {towns[i]} on Friday, Nov. 7, killed {i + 2} soldiers, officials said.\n")
    _write_articles(tmp_path / "b", [f"b{i}" for i in range(8)],
                    lambda i: (f"Fighting in {towns[i]} on Friday, Nov. 7, left {i + 3} soldiers dead, a "
                               f"spokesman said.\n") if i else "Clashes in Kandahar on Friday, Nov. 7, killed 2 "
                    "soldiers, officials said.\n")
    Store.open(store_url).close()
    procs = [_ingest([tmp_path / name], store_url, pause="0.05") for name in ("a", "b")]
    results = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, results):
        assert proc.returncode == 0, err
        assert "locked" not in err.lower()
    with Store.open(store_url) as store:
        counts = store.counts()
        assert counts["articles"] == 15  # 16 files, one text in both sets
        frame = store.incidents()
        assert len(frame) == 8 and frame.n_sources.sum() == 15 and _consistent(store)
        assert (frame.n_sources == 2).sum() == 7  # each town's clash told by both sets, but one shared text


# -- hostile and odd input: what used to break --------------------------------------------------------
def unplaced_talks():
    """An article whose incident names only a country: it has no point."""
    from geo.text.incidents import Incident, IncidentPlace, Span
    article = Article("talks", "Talks between the two sides opened in Afghanistan on Saturday.",
                      published=date(2025, 11, 8))
    incident = Incident("strategic_development", IncidentPlace("Afghanistan", None, "AF", None, None), 3,
                        date(2025, 11, 8), "day", Span(0, 59, article.text[:59]))
    return article, [incident]


def test_an_unplaced_incident_has_no_geometry_on_every_engine_and_in_every_format(store, pipeline, tmp_path):
    import json

    import geopandas as gpd
    import pandas as pd
    from geo.store.export import geojson_bytes, write_export
    store.store_document(*unplaced_talks())
    store.ingest(WIRE_1, pipeline)
    for frame in (store.incidents(), store.incidents(limit=10)):
        assert frame.geometry.isna().sum() == 1 and frame.geometry.notna().sum() == 1
        assert sorted(f["geometry"] is None for f in json.loads(geojson_bytes(frame))["features"]) == [False, True]
    write_export(frame, tmp_path / "out.gpkg", "gpkg")
    back = gpd.read_file(tmp_path / "out.gpkg")
    assert back.geometry.isna().sum() == 1 and not back.geometry.is_empty.any()
    write_export(frame, tmp_path / "out.csv", "csv")
    table = pd.read_csv(tmp_path / "out.csv")
    assert table.lat.isna().sum() == 1 and table.lon.isna().sum() == 1


def test_a_report_of_two_stored_incidents_joins_them_as_if_it_had_come_first(store_url, tmp_path):
    """Two stored clashes of one day 26 km apart are two events; a third report between them is of the
    same event as each (13 km from both), so all three are one incident, with the same id and sources
    whichever came first (before, the order chose which one it joined)."""
    from geo.store import Store
    from geo.text.incidents import Incident, IncidentPlace, Span

    def report(name, day, lon):
        text = f"Clashes near Kandahar on {day} November killed soldiers ({name})."
        place = IncidentPlace("Kandahar area", None, "AF", 31.61, lon)
        return Article(name, text, published=date(2025, 11, 9)), [
            Incident("battle", place, 2, date(2025, 11, day), "day", Span(0, len(text), text))]

    reports = [report("first-west", 8, 65.57), report("same-day-east", 8, 65.85), report("between", 8, 65.71)]
    seen = []
    for url in (store_url, str(tmp_path / "reversed.gpkg")):
        with Store.open(url) as store:
            for article, found in (reports if url == store_url else reports[::-1]):
                store.store_document(article, found)
                if article.id == "same-day-east" and url == store_url:
                    assert len(store.incidents()) == 2  # two events until the report between them
            sources = store.sources()
            seen.append((sorted(sources.external_id), set(sources.incident_id), store.incidents().date.tolist()))
    assert seen[0] == seen[1] and seen[0][0] == ["between", "first-west", "same-day-east"]
    assert len(seen[0][1]) == 1 and str(seen[0][2][0].date()) == "2025-11-08"


def test_a_correction_follows_its_incident_when_a_report_joins_it_to_another(store):
    from geo.text.incidents import Incident, IncidentPlace, Span

    def report(name, day, lon, published):
        text = f"Clashes near Kandahar on {day} November killed 3 soldiers ({name})."
        place = IncidentPlace("Kandahar area", None, "AF", 31.61, lon)
        return Article(name, text, published=published), [
            Incident("battle", place, 2, date(2025, 11, day), "day", Span(0, len(text), text), killed=3)]

    store.store_document(*report("west", 8, 65.57, date(2025, 11, 8)))
    store.store_document(*report("east", 8, 65.85, date(2025, 11, 9)))
    east = store.sources()[lambda f: f.external_id == "east"].incident_id.iloc[0]
    store.correct(east, {"killed": 30, "notes": "hospital count"}, who="ana")
    store.store_document(*report("between", 8, 65.71, date(2025, 11, 10)))
    (incident,) = store.incidents().itertuples()
    assert incident.killed == 30 and incident.notes == "hospital count" and incident.n_sources == 3
    assert incident.incident_id != east  # the id of the first published report, "west"
    assert set(store.corrections(incident.incident_id).who) == {"ana"}


def test_crafted_filter_values_are_refused_and_text_is_matched_literally(store, pipeline):
    from geo.store import BadFilter, Filters
    from geo.store.queries import MAX_COUNT
    store.ingest(WIRE_1, pipeline)
    store.ingest(KISMAYO, pipeline)
    for bad in (dict(bbox=(float("nan"), 0, 10, 10)), dict(bbox=(10, 0, -10, 20)), dict(bbox=("x", 0, 1, 1)),
                dict(min_casualties=99999999999999999999), dict(min_casualties=-1), dict(text="a\x00b"),
                dict(actors=("x" * 5000,)), dict(countries=("' OR 1=1 --",)), dict(event_types=("picnic",)),
                dict(date_from="2025-01-01")):
        with pytest.raises(BadFilter):
            Filters(**bad)
    counts = store.counts()
    everything = len(store.incidents())
    for limit in (None, 10):  # the GeoPackage reads through GDAL without a limit, through SQL with one
        found = lambda **f: len(store.incidents(Filters(**f), limit=limit))  # noqa: E731
        assert found(bbox=(-500, -100, 500, 100)) == everything  # clamped to the earth
        assert found(min_casualties=MAX_COUNT) == 0
        for text in ("%", "_", "' OR '1'='1", "%' OR 1=1 --", "\\", "'; DROP TABLE incidents; --", "\u202e"):
            assert found(text=text) == 0 and found(actors=(text,)) == 0
    incident = store.incidents(Filters(countries=("SO",), text="Kismayo")).incident_id[0]
    store.correct(incident, {"actors": "50%_brigade; Al-Shabaab"}, who="test")
    for limit in (None, 10):
        found = lambda **f: len(store.incidents(Filters(**f), limit=limit))  # noqa: E731
        assert found(text="50%_b") == 1 and found(actors=("0%_brig",)) == 1
        assert found(text="5%b") == 0 and found(text="50__brigade") == 0
    assert store.counts()["incidents"] == counts["incidents"]
