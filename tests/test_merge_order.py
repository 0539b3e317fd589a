"""Merging does not depend on the order articles come in: the same articles in order, reversed or shuffled,
on a GeoPackage or on PostGIS, give the same incidents with the same sources.

The articles are the samples in data/articles and short wire reports (tests/data/chains) of the same
and of neighbouring events with differing tolls: El Fasher shelled on the 5th, 6th and 7th (three
reports of the 6th, one a toll that rose), Mogadishu bombed on the 7th (a toll that rose), 8th and
9th, border clashes at Spin Boldak on the 6th (two reports) and at Chaman, 10 km away, on the 7th.
"""
import random
from datetime import date

import pytest

from conftest import ROOT, postgis_url
from geo.text.document import Article
from geo.text.sources import read_files

ORDERS = ["as listed", "reversed", "shuffled 1", "shuffled 2", "shuffled 3"]


@pytest.fixture(scope="module")
def pipeline():
    from geo.pipeline import default_pipeline
    return default_pipeline()


@pytest.fixture(scope="module")
def articles():
    found = read_files([str(ROOT / "data" / "articles"), str(ROOT / "tests" / "data" / "chains")])
    return [a for a in found if isinstance(a, Article)]


def in_order(articles, order):
    if order == "as listed":
        return list(articles)
    if order == "reversed":
        return articles[::-1]
    shuffled = list(articles)
    random.Random(int(order.split()[1])).shuffle(shuffled)
    return shuffled


def canonical(store):
    """Every incident as what a user sees of it, its sources as a sorted list of article ids, in a sorted list."""
    import pandas as pd
    frame = store.incidents()
    sources = store.sources()
    by_incident = sources.groupby("incident_id").external_id.apply(lambda ids: tuple(sorted(ids))).to_dict()
    out = []
    for row in frame.itertuples():
        point = None if row.geometry is None else (round(row.geometry.x, 5), round(row.geometry.y, 5))
        out.append((row.incident_id, row.event_type, str(row.date.date()), row.date_precision, row.date_from,
                    row.place_name, row.country, int(row.geo_precision), point,
                    *[None if pd.isna(v) else int(v) for v in (row.killed, row.killed_low, row.killed_high,
                                                                      row.wounded, row.wounded_low, row.wounded_high)],
                    row.killed_text, row.actors, row.victims, row.contested, row.evidence,
                    tuple(sorted(row.sources.split("; "))), int(row.n_sources), by_incident[row.incident_id]))
    return sorted(out, key=repr)


def ingested(url, articles, pipeline, order):
    from geo.store import Store
    with Store.open(url) as store:
        for article in in_order(articles, order):
            store.ingest(article, pipeline)
        return canonical(store)


def fresh(url, tmp_path, name):
    return str(tmp_path / f"{name}.gpkg") if url == "gpkg" else postgis_url()


@pytest.mark.parametrize("engine", ["gpkg", "postgis"])
def test_the_same_articles_in_any_order_give_the_same_incidents(engine, articles, pipeline, tmp_path):
    results = {order: ingested(fresh(engine, tmp_path, order.replace(" ", "-")), articles, pipeline, order)
               for order in ORDERS}
    expected = results["as listed"]
    for order in ORDERS[1:]:
        assert results[order] == expected, order
    sources = [incident[-1] for incident in expected]
    # One incident per event: reports of the same day and place join, shelling day after day does not chain.
    assert ("fasher_2", "fasher_4", "sample_sudan") in sources
    assert ("fasher_1",) in sources and ("fasher_3",) in sources
    assert ("mogadishu_1", "mogadishu_2") in sources and ("mogadishu_3",) in sources and ("mogadishu_4",) in sources
    assert ("000_291e9b028d6a323a", "kandahar_1") in sources and ("kandahar_2",) in sources
    fasher = next(i for i in expected if i[-1][0] == "fasher_2")
    assert fasher[5:8] == ("El Fasher", "SD", 1)
    assert fasher[2] == "2025-11-06" and fasher[9] == 31  # the day all three tell, the highest toll


def test_either_engine_gives_the_same_incidents(articles, pipeline, tmp_path):
    on_postgis = ingested(postgis_url(), articles, pipeline, "shuffled 2")
    on_gpkg = ingested(str(tmp_path / "s.gpkg"), articles, pipeline, "reversed")
    assert on_gpkg == on_postgis


def test_merging_a_list_of_reports_does_not_depend_on_their_order(articles, pipeline):
    """The merge behind GeoParquet datasets and `geo.incidents_frame_of` follows the same rule."""
    from geo.store.frame import incidents_frame
    from geo.store.merge import merge_incidents

    def merged(order):
        found, published = [], {}
        for article in in_order(articles, order):
            for incident in pipeline(article).incidents:
                incident.sources = [article.id]
                found.append(incident)
            published[article.id] = article.published or date.min
        frame = incidents_frame(merge_incidents(found, published)).drop(columns="geometry")
        return sorted(map(repr, frame.astype(str).itertuples(index=False)))

    expected = merged("as listed")
    assert len(expected) < sum(len(pipeline(a).incidents) for a in articles)  # some did merge
    for order in ORDERS[1:]:
        assert merged(order) == expected, order
