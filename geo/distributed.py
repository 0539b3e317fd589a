"""Past one machine: extraction on a Dask cluster, results into the store or a GeoParquet dataset.

Articles are cut into partitions; each partition is extracted in a worker (`extract_partition`, a
pure function: Dask may run it again, elsewhere, if a worker dies, and retries it on failure), with the
gazetteer index loaded once per worker process (a worker plugin warms it; the pipeline is cached per
process), never shipped with a task. The client writes what comes back:

- into the store, a partition in a few transactions (`Store.store_documents`), written as the
  single-process path writes each article: the same idempotency (articles keyed by their text) and the
  same merging of one event told by several articles; an article written once is never written twice;
- or into a GeoParquet dataset (`--out dataset/`), partitioned by month, written with dask-geopandas
  after the same cross-article merge (`geo.store.merge`); writing the same input again gives the same files.

Scheduling, retries and the cluster are Dask's: `--scheduler tcp://HOST:8786` uses a running cluster,
`--workers N` starts a local one.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from distributed import WorkerPlugin

from .text.document import Article
from .text.incidents import Incident
from .store import ArticleRefused, IngestSummary, Store, article_key

PARTITION_SIZE = 250


class ExtractionFailed(Exception):
    """One article whose extraction failed in a worker (the others of its partition are extracted)."""


Extracted = tuple[Article, "list[Incident] | ExtractionFailed"]


def extract_partition(articles: list[Article]) -> list[Extracted]:
    """Run in a worker: each article and the incidents extracted from it, or why they could not be."""
    from .pipeline import default_pipeline
    pipeline = default_pipeline()  # loaded once per worker process (cached), not sent with the task
    out: list[Extracted] = []
    for article in articles:
        try:
            out.append((article, pipeline(article).incidents))
        except Exception as exc:  # this article only: the run goes on with the rest
            out.append((article, ExtractionFailed(f"{article.id}: cannot extract: {type(exc).__name__}: {exc}")))
    return out


class WarmPipeline(WorkerPlugin):
    """A Dask worker plugin: load the gazetteer index and the pipeline when a worker starts."""

    name = "incident-atlas-pipeline"

    def setup(self, worker) -> None:
        from .pipeline import default_pipeline
        default_pipeline()


def partitions(items: Iterable[Article], size: int = PARTITION_SIZE) -> Iterator[list[Article]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def connect(scheduler: str | None = None, workers: int | None = None):
    """A Dask client: to a running scheduler, or to a local cluster of `workers` processes."""
    from dask.distributed import Client, LocalCluster
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    client.register_plugin(WarmPipeline())
    return client


def run(client, articles: Iterable[Article], partition_size: int = PARTITION_SIZE, skip: set[str] | None = None,
        progress: bool = False, in_flight: int = 8) -> Iterator[list[Extracted]]:
    """Extract on the cluster; results in input order, so the store keeps the articles in the order one
    process would have (merging does not depend on it). At most `in_flight` partitions wait at a
    time, so the input streams through; articles whose key is in `skip` are not sent at all."""
    from dask.distributed import as_completed
    todo = (a for a in articles if not skip or article_key(a.text) not in skip)
    parts = enumerate(partitions(todo, partition_size))
    pending = as_completed()
    for number, part in itertools.islice(parts, in_flight):
        pending.add(_submit(client, number, part))
    done: dict[int, list] = {}
    next_number = 0
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(unit=" articles", leave=False)
    for future in pending:
        number, result = future.result()
        future.release()
        done[number] = result
        for number, part in itertools.islice(parts, 1):
            pending.add(_submit(client, number, part))
        while next_number in done:
            result = done.pop(next_number)
            next_number += 1
            if bar is not None:
                bar.update(len(result))
            yield result
    if bar is not None:
        bar.close()


def _submit(client, number: int, part: list[Article]):
    return client.submit(_numbered, number, part, retries=3, pure=False)


def _numbered(number: int, part: list[Article]) -> tuple[int, list[Extracted]]:
    return number, extract_partition(part)


def ingest_to_store(client, articles: Iterable[Article], store: Store, partition_size: int = PARTITION_SIZE,
                    progress: bool = False, failed: Callable[[str], None] = lambda line: None) -> IngestSummary:
    """Extract on the cluster and write each article into the store. An article that cannot be extracted
    or that the store refuses is counted, said to `failed` in one line, and the run goes on; a store that
    cannot be written at all (StoreError) ends it."""
    summary = IngestSummary()
    stored = set(store.articles()["article_key"])
    fed = _counting(articles)
    for part in run(client, fed, partition_size, skip=stored, progress=progress):
        extracted = [(article, found) for article, found in part if not isinstance(found, ExtractionFailed)]
        problems = [str(found) for _, found in part if isinstance(found, ExtractionFailed)]
        for result in store.store_documents(extracted):  # a partition in a few transactions
            if isinstance(result, ArticleRefused):
                problems.append(str(result))
            else:
                summary.add(result)
        for problem in problems:
            summary.fail(problem)
            failed(problem)
    summary.unchanged += fed.skipped(stored)
    return summary


def ingest_to_parquet(client, articles: Iterable[Article], out: Path, partition_size: int = PARTITION_SIZE,
                      progress: bool = False, failed: Callable[[str], None] = lambda line: None) -> IngestSummary:
    """Extract, merge the same event across articles (and with what the dataset already holds), and
    write the dataset again, partitioned by month. An article that cannot be extracted is counted, said
    to `failed` in one line, and left out."""
    import dask_geopandas
    import geopandas as gpd
    import pandas as pd

    from .store.frame import conform, incidents_frame
    from .store.merge import merge_incidents
    summary = IngestSummary()
    found: list[Incident] = []
    published: dict[str, Any] = {}
    seen: set[str] = set()
    for part in run(client, articles, partition_size, progress=progress):
        for article, incidents in part:
            if isinstance(incidents, ExtractionFailed):
                summary.fail(str(incidents))
                failed(str(incidents))
                continue
            key = article_key(article.text)
            if key in seen:
                summary.unchanged += 1
                continue
            seen.add(key)
            summary.new += 1
            for inc in incidents:
                inc.sources = [key]
            found.extend(incidents)
            if article.published:
                published[key] = article.published
    existing = read_parquet_dataset(out) if out.exists() else None
    merged = merge_incidents(found, published)  # in any order, as the store merges them
    summary.added = len(merged)
    summary.merged = len(found) - len(merged)
    frame = incidents_frame(merged)
    if existing is not None and len(existing):
        frame = conform(gpd.GeoDataFrame(pd.concat([existing[~existing.incident_id.isin(frame.incident_id)], frame]),
                                         geometry="geometry", crs=frame.crs))
    frame["month"] = frame["date"].dt.strftime("%Y-%m").fillna("undated")
    frame = frame.sort_values(["month", "incident_id"]).reset_index(drop=True)
    months = sorted(frame["month"].unique())
    out.mkdir(parents=True, exist_ok=True)
    for month in months:  # one file per month: the same input writes the same files
        part = frame[frame["month"] == month].drop(columns="month")
        dask_geopandas.from_geopandas(part, npartitions=1).to_parquet(out / f"month={month}", overwrite=True)
    return summary


def read_parquet_dataset(path: Path, bbox: tuple[float, float, float, float] | None = None):
    """The incidents of a GeoParquet dataset written by `ingest_to_parquet`, in the documented schema."""
    import geopandas as gpd
    import pandas as pd

    from .store.frame import conform
    parts = sorted(path.glob("month=*/*.parquet"))
    if not parts:
        return None
    frame = pd.concat([gpd.read_parquet(p, bbox=bbox) for p in parts], ignore_index=True)
    return conform(gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326"))


class _counting:
    """Iterates articles, remembering the keys, to count the ones skipped as already stored."""

    def __init__(self, articles: Iterable[Article]) -> None:
        self._articles = articles
        self.keys: list[str] = []

    def __iter__(self):
        for article in self._articles:
            self.keys.append(article_key(article.text))
            yield article

    def skipped(self, stored: set[str]) -> int:
        return sum(k in stored for k in self.keys)
