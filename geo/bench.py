"""Speed and memory benchmark: `python -m geo bench`.

Documents of about 2,000 characters are made by recombining paragraphs of the sample articles, then
extracted on one core. Reports documents a second for the whole extraction (places and incidents,
serialised as `python -m geo extract` writes them) and for places alone, the cold start of a new
process (import, index load and one short article), peak memory, and the gazetteer index's build time
and size on disk.
"""
from __future__ import annotations

import random
import resource
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"


def benchmark_documents(n: int, files: list[str] | None = None, size: int = 2000, seed: int = 7) -> list[str]:
    paths = [Path(f) for f in files] if files else sorted((DATA / "articles").glob("*.txt"))
    paragraphs = [p.strip() for path in paths for p in path.read_text(encoding="utf-8").split("\n\n")
                  if len(p.strip()) > 80]
    if not paragraphs:
        raise ValueError("no paragraphs to build benchmark documents from")
    rng = random.Random(seed)
    docs = []
    for _ in range(n):
        parts, length = [], 0
        while length < size:
            parts.append(rng.choice(paragraphs))
            length += len(parts[-1]) + 2
        docs.append("\n\n".join(parts)[: size + 400])
    return docs


def cold_start_seconds() -> float:
    code = ("from geo.pipeline import default_pipeline; from geo.text.document import Article; "
            "default_pipeline()(Article('x', 'Clashes near the Chaman border crossing in Pakistan killed four.'))")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=DATA.parent)
    return time.perf_counter() - start


def _throughput(pipeline, docs: list[str]) -> tuple[float, int, int]:
    """Seconds to extract and serialise every document, and the places and incidents found."""
    import json

    from .text.document import Article
    start = time.perf_counter()
    places = incidents = 0
    for i, text in enumerate(docs):
        doc = pipeline(Article(str(i), text))
        json.dumps(doc.as_json(), ensure_ascii=False)
        places += len(doc.places)
        incidents += len(doc.incidents)
    return time.perf_counter() - start, places, incidents


def run_benchmark(n: int = 2000, files: list[str] | None = None) -> dict:
    from .pipeline import geoparser, incident_pipeline

    from .places.gazetteer import build_index
    # Build the index afresh in another process, so its one-off cost stays out of this one's peak memory.
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "geo", "gazetteer", "build", "--force"], check=True, cwd=DATA.parent,
                   stdout=subprocess.DEVNULL)
    build_seconds = time.perf_counter() - start
    index_mb = sum(f.stat().st_size for f in build_index().iterdir()) / 2**20
    cold = min(cold_start_seconds() for _ in range(3))
    docs = benchmark_documents(n, files)
    # Each stage starts with cold name caches, as a new batch of articles would.
    places_seconds, places, _ = _throughput(geoparser(), docs)
    seconds, _, incidents = _throughput(incident_pipeline(), docs)
    return {"documents": n, "mean_chars": round(sum(map(len, docs)) / n),
            "docs_per_second": round(n / seconds, 1), "seconds": round(seconds, 3),
            "places_per_doc": round(places / n, 1), "incidents_per_doc": round(incidents / n, 2),
            "places_only_docs_per_second": round(n / places_seconds, 1),
            "cold_start_seconds": round(cold, 3),
            "index_build_seconds": round(build_seconds, 1), "index_mb": round(index_mb, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def run_ledes_benchmark(path: Path, repeat: int = 3) -> dict:
    """Extraction speed on real news ledes (a JSONL file of {"text"}, e.g. ../shared/eval/wad/dev.jsonl),
    one core, best of `repeat` passes."""
    import json

    from .pipeline import incident_pipeline
    with open(path, encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f if line.strip()]
    pipeline = incident_pipeline()
    seconds = min(_throughput(pipeline, texts)[0] for _ in range(repeat))
    return {"ledes": len(texts), "mean_chars": round(sum(map(len, texts)) / len(texts)),
            "ledes_per_second": round(len(texts) / seconds, 1), "seconds": round(seconds, 3)}


_ONE_SIZE = """
import json, resource, sys, time
from geo.bench import benchmark_documents
from geo.pipeline import default_pipeline
from geo.text.document import Article
size = int(float(sys.argv[1]) * 1_000_000)
text = " ".join(benchmark_documents(size // 2000 + 1))[:size].replace("\\n", " ")  # one line, as an attack sends
pipeline = default_pipeline()
pipeline(Article("warm", "Clashes in Kandahar on Friday killed four."))
start, cpu = time.perf_counter(), time.process_time()
doc = pipeline(Article("big", text))
print(json.dumps({"mb": float(sys.argv[1]), "seconds": round(time.perf_counter() - start, 2),
                  "cpu_seconds": round(time.process_time() - cpu, 2),
                  "incidents": len(doc.incidents),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
"""


def run_size_benchmark(sizes: tuple[float, ...] = (0.1, 1, 5, 10)) -> list[dict]:
    """Extraction of one single-line text of each size (MB), each in a fresh process: time and peak memory
    grow in proportion to the text. The process's CPU seconds are given beside the elapsed ones, since
    on a shared machine the latter measure the neighbours too."""
    import json
    return [json.loads(subprocess.run([sys.executable, "-c", _ONE_SIZE, str(mb)], check=True, cwd=DATA.parent,
                                      capture_output=True, text=True).stdout) for mb in sizes]


def run_store_benchmark(n_articles: int = 2000, n_incidents: int = 100_000, db: str | None = None) -> dict:
    """Ingest speed into the store, and export and read-back speed of a store holding `n_incidents`
    (a GeoPackage in a temporary folder unless `db` names another store, which is then emptied).

    Of `n_articles` benchmark documents, the first half is extracted beforehand (not timed) and stored:
    `store_articles_per_second` with one transaction each (`Store.store_document`, as `ingest` writes),
    `store_batched_articles_per_second` a hundred to a transaction (`Store.store_documents`, as
    `ingest --workers` writes), into an empty store both times. `ingest_articles_per_second` counts the
    other half through `Store.ingest`: extraction and storing."""
    import copy
    import random as _random
    import tempfile
    from datetime import date, timedelta

    from .text.document import Article
    from .store.export import write_export
    from .pipeline import default_pipeline
    from .store import Store

    docs = benchmark_documents(n_articles, seed=11)
    # Unique texts: the benchmark documents recombine paragraphs, so a number keeps each one new.
    articles = [Article(f"bench-{i}", f"{text}\n\nReport {i}.", published=date(2025, 11, 8) - timedelta(days=i % 60))
                for i, text in enumerate(docs)]
    with tempfile.TemporaryDirectory() as folder:
        url = db or str(Path(folder) / "bench.gpkg")
        pipeline = default_pipeline()
        with Store.open(url) as store:
            _empty(store)
            extracted = [(a, pipeline(a).incidents) for a in articles[: n_articles // 2]]
            again = copy.deepcopy(extracted)
            start = time.perf_counter()
            for article, found in extracted:
                store.store_document(article, found)
            store_seconds = time.perf_counter() - start
            _empty(store)
            start = time.perf_counter()
            store.store_documents(again)
            batched_seconds = time.perf_counter() - start
            start = time.perf_counter()
            for article in articles[n_articles // 2:]:
                store.ingest(article, pipeline)
            ingest_seconds = time.perf_counter() - start

            _empty(store)
            _fill(store, n_incidents, _random.Random(5))
            start = time.perf_counter()
            frame = store.incidents()
            read_seconds = time.perf_counter() - start
            start = time.perf_counter()
            sources = store.sources()
            write_export(frame, Path(folder) / "bench.geojson", "geojson", sources)
            export_seconds = time.perf_counter() - start
            size_mb = (Path(folder) / "bench.geojson").stat().st_size / 1e6
            engine = store.dialect
    half = n_articles // 2
    return {"engine": engine, "store_articles_per_second": round(half / store_seconds, 1),
            "store_batched_articles_per_second": round(half / batched_seconds, 1),
            "ingest_articles_per_second": round((n_articles - half) / ingest_seconds, 1),
            "incidents": len(frame), "read_seconds": round(read_seconds, 3),
            "geojson_export_seconds": round(export_seconds, 3), "geojson_mb": round(size_mb, 1)}


def _empty(store) -> None:
    from .store import articles, corrections, incident_sources, incidents
    from .store.schema import incident_renames
    with store.write() as conn:
        for table in (incident_sources, corrections, incidents, articles, incident_renames):
            conn.execute(table.delete())


def _fill(store, n: int, rng) -> None:
    """`n` synthetic incidents with sources, written in bulk (not timed)."""
    from datetime import date, timedelta

    from .store import _now, articles, incident_sources
    types = ["battle", "explosion_remote_violence", "violence_against_civilians", "protest", "riot",
             "strategic_development"]
    now = _now()
    with store.write() as conn:
        conn.execute(articles.insert(), [{"article_key": f"{i:016x}", "external_id": f"a{i}", "title": f"Report {i}",
                                          "published": date(2025, 1, 1) + timedelta(days=i % 300), "text": f"text {i}",
                                          "ingested_at": now} for i in range(n // 10)])
        rows, links = [], []
        for i in range(n):
            lat, lon = rng.uniform(-40, 60), rng.uniform(-20, 120)
            point = i % 10 != 0
            rows.append({"incident_id": f"{i:016x}", "event_type": types[i % 6], "topic": None,
                         "date": date(2025, 1, 1) + timedelta(days=i % 300), "date_precision": "day",
                         "date_from": "text", "geo_precision": 1 + i % 3, "place_name": f"Place {i % 5000}",
                         "country": "AF", "admin1": None, "geonameid": i, "lat": lat if point else None,
                         "lon": lon if point else None, "point_lat": lat if point else None,
                         "point_lon": lon if point else None, "killed": i % 7, "killed_low": i % 7,
                         "killed_high": None, "wounded": i % 11, "wounded_low": i % 11, "wounded_high": None,
                         "killed_text": f"{i % 7} killed", "wounded_text": "", "victims": "civilians",
                         "actors": "Afghan forces; Pakistani forces", "claimed_by": "officials", "contested": False,
                         "evidence": f"Clashes in Place {i % 5000} killed {i % 7} people, officials said.",
                         "evidence_start": 0, "evidence_end": 60, "sources": f"{i // 10:016x}", "n_sources": 1,
                         "notes": "", "version": 1, "updated_at": now})
            links.append({"incident_id": f"{i:016x}", "article_key": f"{i // 10:016x}", "evidence_start": 0,
                          "evidence_end": 60, "evidence": rows[-1]["evidence"], "killed": i % 7, "wounded": i % 11})
        conn.execute(store._insert_incident, rows)
        conn.execute(incident_sources.insert(), links)


def run_map_benchmark(sizes: tuple[int, ...] = (10_000, 100_000)) -> list[dict]:
    """Server-side map rendering as the dashboard does it: seconds to group the incidents by place, build
    the base map (outlines, names, legend, drawing tools) and the incident layers and render them, and
    the bytes sent to the browser; for the whole view and for one playback step (cumulative, at the
    last week: the biggest step), on synthetic incidents spread over Africa, the Middle East and South Asia."""
    import random as _random
    from datetime import date, timedelta

    import geopandas as gpd

    from .app.areas import add_draw_control
    from .app.mapping import base_map, basemap_labels, counts_by_type, incident_layers, place_groups, view_of
    from .app.timeplay import in_period, periods
    from .store.frame import incidents_frame
    from .text.incidents import EVENT_TYPES, Incident, IncidentPlace, Span

    def render(shown: gpd.GeoDataFrame, view_groups) -> tuple[float, int]:
        start = time.perf_counter()
        groups = place_groups(shown)
        m = base_map(view_of(view_groups), labels=labels)
        add_draw_control(m)
        for layer in incident_layers(groups, counts_by_type(shown)):
            layer.add_to(m)
        html = m.get_root().render()
        return time.perf_counter() - start, len(html)

    rng = _random.Random(3)
    towns = [(rng.uniform(-10, 40), rng.uniform(-15, 80)) for _ in range(6000)]  # places incidents recur at
    labels = basemap_labels()
    out = []
    for n in sizes:
        found = []
        for i in range(n):
            lat, lon = towns[rng.randrange(len(towns))] if i % 3 else (rng.uniform(-10, 40), rng.uniform(-15, 80))
            place = IncidentPlace(f"Place {i % 6000}", i, "XX", lat, lon, "city")
            inc = Incident(EVENT_TYPES[i % 6], place, 1 + i % 3, date(2025, 1, 1) + timedelta(days=i % 300), "day",
                           Span(0, 10, "Evidence."), killed=i % 9, wounded=i % 13)
            inc.sources = [f"a{i}"]
            found.append(inc)
        frame: gpd.GeoDataFrame = incidents_frame(found)
        start = time.perf_counter()
        everything = place_groups(frame)  # the view's bounds: what the page groups once per rerun
        _, size = render(frame, everything)
        seconds = time.perf_counter() - start
        dated = frame["date"].dropna()
        weeks = periods(dated.min().date(), dated.max().date(), "week")
        step_start = time.perf_counter()
        _, step_size = render(in_period(frame, weeks[-1], cumulative=True), everything)
        step_seconds = time.perf_counter() - step_start
        one_week, week_size = render(in_period(frame, weeks[len(weeks) // 2]), everything)
        out.append({"incidents": n, "render_seconds": round(seconds, 3), "payload_mb": round(size / 1e6, 2),
                    "playback_step_seconds": round(step_seconds, 3), "playback_step_mb": round(step_size / 1e6, 2),
                    "one_week_step_seconds": round(one_week, 3), "one_week_step_mb": round(week_size / 1e6, 2)})
    return out


def run_dask_benchmark(sizes: tuple[int, ...] = (10_000, 100_000), workers: int = 2) -> list[dict]:
    """Extraction of recombined articles in one process and on a local Dask cluster of `workers`
    processes (results brought back to the client in input order, as ingest writes them)."""
    from datetime import date

    from .distributed import connect, run
    from .text.document import Article
    from .pipeline import default_pipeline

    out = []
    with connect(workers=workers) as client:
        for n in sizes:
            texts = benchmark_documents(n, seed=13)
            articles = [Article(f"b{i}", f"{t}\n\nReport {i}.", published=date(2025, 11, 8)) for i, t in enumerate(texts)]
            pipeline = default_pipeline()
            start = time.perf_counter()
            single = sum(len(pipeline(a).incidents) for a in articles)
            one = time.perf_counter() - start
            start = time.perf_counter()
            spread = sum(len(found) for part in run(client, articles) for _, found in part)
            many = time.perf_counter() - start
            out.append({"articles": n, "one_process_seconds": round(one, 1),
                        "one_process_per_second": round(n / one), f"dask_{workers}_workers_seconds": round(many, 1),
                        f"dask_{workers}_workers_per_second": round(n / many), "speedup": round(one / many, 2),
                        "same_incident_count": single == spread})
    return out


def run_watch_benchmark(db: str | None = None) -> dict:
    """Watching: matching 10,000 areas against 1,000 incidents, idle CPU with 100 sources, item-to-alert
    latency (`geo.watch.bench`)."""
    from .watch.bench import run_watch_benchmark as run
    return run(db, _empty)
