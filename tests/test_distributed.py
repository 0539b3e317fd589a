"""Batch extraction on a real local Dask cluster (two worker processes): the same incidents as one
process, nothing lost or written twice when a worker dies, a GeoParquet dataset, and re-processing."""
import os
import signal
from datetime import date, timedelta

import pytest

from conftest import ROOT
from geo.text.document import Article
from geo.text.sources import read_files

FIELDS = ["incident_id", "event_type", "date", "place_name", "killed", "wounded", "n_sources"]


@pytest.fixture(scope="module")
def client():
    from geo.distributed import connect
    with connect(workers=2) as c:
        yield c


def sample_articles():
    return [a for a in read_files([str(ROOT / "data" / "articles")]) if isinstance(a, Article)]


def many_articles(n=160):
    from geo.bench import benchmark_documents
    return [Article(f"doc-{i}", f"{text}\n\nReport {i}.", published=date(2025, 11, 8) - timedelta(days=i % 20))
            for i, text in enumerate(benchmark_documents(n, seed=5))]


def one_process(store, articles):
    from geo.pipeline import default_pipeline
    for article in articles:
        store.ingest(article, default_pipeline())
    return _rows(store)


def _rows(store):
    frame = store.incidents()
    return sorted(tuple(str(v) for v in row) for row in frame[FIELDS].itertuples(index=False))


def test_the_same_input_gives_the_same_incidents_in_both_modes(client, tmp_path):
    from geo.distributed import ingest_to_store
    from geo.store import Store
    articles = sample_articles() + many_articles(60)
    with Store.open(tmp_path / "one.gpkg") as one, Store.open(tmp_path / "many.gpkg") as many:
        expected = one_process(one, articles)
        summary = ingest_to_store(client, articles, many, partition_size=7)
        assert summary.new == len(articles) and _rows(many) == expected
        again = ingest_to_store(client, articles, many, partition_size=7)
        assert again.new == 0 and again.unchanged == len(articles) and _rows(many) == expected


def test_a_worker_killed_mid_run_loses_nothing_and_writes_nothing_twice(client, tmp_path):
    from geo.distributed import run
    from geo.store import Store
    articles = many_articles(200)
    with Store.open(tmp_path / "one.gpkg") as one, Store.open(tmp_path / "many.gpkg") as many:
        expected = one_process(one, articles)
        killed = False
        for part in run(client, articles, partition_size=5, in_flight=6):
            for article, found in part:
                many.store_document(article, found)
            if not killed:  # the first results are in: kill a worker while others are running
                pids = client.run(os.getpid)
                os.kill(sorted(pids.values())[0], signal.SIGKILL)
                killed = True
        assert killed and _rows(many) == expected
        counts = many.counts()
        assert counts["articles"] == len(articles) == one.counts()["articles"]
        assert counts["incident_sources"] == one.counts()["incident_sources"]


def test_an_article_that_fails_in_a_worker_is_named_and_the_rest_go_in(client, tmp_path):
    from geo.distributed import ingest_to_parquet, ingest_to_store
    from geo.store import Store
    odd = Article("odd", "Clashes in Kandahar on Friday killed four soldiers.", published="last Friday")
    nul = Article("nul", "Shelling hit Kharkiv\u0000 overnight, killing two.", published=date(2025, 11, 8))
    articles = sample_articles()
    failed = []
    with Store.open(tmp_path / "s.gpkg") as store:
        summary = ingest_to_store(client, [odd, *articles[:3], nul, *articles[3:]], store, partition_size=2,
                                  failed=failed.append)
        assert (summary.new, summary.failed) == (len(articles), 2) and store.counts()["articles"] == len(articles)
    assert failed[0] == "odd: cannot extract: AttributeError: 'str' object has no attribute 'weekday'"
    assert failed[1].startswith("'nul': its text holds a NUL character") and len(failed) == 2
    failed.clear()
    summary = ingest_to_parquet(client, [*articles[:2], odd], tmp_path / "dataset", failed=failed.append)
    assert (summary.new, summary.failed) == (2, 1) and failed[0].startswith("odd: cannot extract")


def test_a_geoparquet_dataset_written_twice_is_the_same(client, tmp_path):
    from geo.distributed import ingest_to_parquet, read_parquet_dataset
    from geo.store import Filters, Store
    out = tmp_path / "dataset"
    summary = ingest_to_parquet(client, sample_articles(), out, partition_size=3)
    first = read_parquet_dataset(out)
    assert summary.new == 7 and len(first) == summary.added > 10
    assert {p.parent.name for p in out.glob("month=*/*.parquet")} >= {"month=2025-10", "month=2025-11"}
    ingest_to_parquet(client, sample_articles(), out, partition_size=4)
    again = read_parquet_dataset(out)
    assert sorted(again.incident_id) == sorted(first.incident_id)
    # The dashboard reads the dataset like a store, filtering by date (months pruned) and country.
    store = Store.open(out)
    sudan = store.incidents(Filters(date_from=date(2025, 11, 5), countries=("SD",)))
    assert set(sudan.place_name) == {"El Fasher", "Khartoum"}
    with pytest.raises(Exception, match="read-only"):
        store.correct(sudan.incident_id[0], {"killed": 1})


def test_reprocess_keeps_corrections_and_reports_changes(tmp_path):
    from geo.pipeline import default_pipeline
    from geo.store import Store
    with Store.open(tmp_path / "s.gpkg") as store:
        for article in sample_articles():
            store.ingest(article, default_pipeline())
        incident = store.incidents().iloc[0]
        store.correct(incident.incident_id, {"killed": 999}, who="ana")
        report = store.reprocess(lambda batch: [(a, default_pipeline()(a).incidents) for a in batch])
        assert report["articles"] == 7 and report["added"] == report["removed"] == report["changed"] == 0
        assert report["corrections_reapplied"] == 1
        assert 999 in store.incidents().killed.dropna().tolist()


def test_cli_distributed_ingest_and_reprocess(tmp_path):
    from test_cli import geo
    db = str(tmp_path / "s.gpkg")
    r = geo("ingest", str(ROOT / "data" / "articles"), "--workers", "2", "--db", db, "--quiet")
    assert r.returncode == 0, r.stderr
    assert "articles: 7 new" in r.stdout and "2 local workers" in r.stdout
    r = geo("reprocess", "--db", db, "--workers", "2")
    assert r.returncode == 0, r.stderr and '"changed": 0' in r.stdout
    r = geo("ingest", str(ROOT / "data" / "articles"), "--out", str(tmp_path / "d"))
    assert r.returncode == 2 and "goes with --workers" in r.stderr
