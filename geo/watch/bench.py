"""`python -m geo bench --watch`: what watching costs, on loopback.

- matching: 10,000 synthetic watch areas (circles, boxes, regions) against 1,000 new incidents, first the
  in-memory index alone, then `match_new_incidents` on a store (reading, matching, recording alerts);
- idle: the watcher's own CPU with 100 sources that answer 304, served by another process;
- latency: from an item appearing in a feed to its alert reaching a webhook, with the watcher on its own.
"""
from __future__ import annotations

import multiprocessing
import random
import resource
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from ..text.incidents import EVENT_TYPES
from .areas import WatchArea, box_area, circle_area, region_area, search_shape
from .matching import AreaIndex, IncidentFacts
from .loopback import WebhookReceiver, free_port, serve_feeds

# Where the synthetic areas and incidents are: the countries news of violence names most, and a box over
# Africa, the Middle East and Asia.
_COUNTRIES = ("AF PK IN IR IQ SY YE SO ET SD SS NG ML BF NE CD CF CM UA RU MM TH PH CO MX VE HT LY EG IL PS LB TR "
              "KE UG MZ TD DZ TN MA SA BD LK NP ID MY KH KG TJ AZ AM GE BY PL RS BA HN GT SV BR").split()


def synthetic_areas(n: int, rng: random.Random) -> list[WatchArea]:
    out = []
    for i in range(n):
        lat, lon = rng.uniform(-40, 60), rng.uniform(-20, 120)
        options = {"event_types": (rng.choice(EVENT_TYPES),) if i % 4 == 0 else (),
                   "min_casualties": rng.choice((0, 0, 0, 5, 20))}
        if i % 10 < 5:
            out.append(circle_area(f"circle {i}", lat, lon, rng.uniform(5, 150), **options))
        elif i % 10 < 9:
            w, h = rng.uniform(0.1, 3), rng.uniform(0.1, 3)
            out.append(box_area(f"box {i}", lon, lat, min(180, lon + w), min(90, lat + h), **options))
        else:
            out.append(region_area(f"region {i}", rng.choice(_COUNTRIES), **options))
    return out


def synthetic_incidents(n: int, rng: random.Random) -> list[IncidentFacts]:
    return [IncidentFacts(f"i{i}", EVENT_TYPES[i % 6], rng.uniform(-40, 60), rng.uniform(-20, 120),
                          rng.choice(_COUNTRIES), None, i % 30) for i in range(n)]


def _store_incidents(store, found: list[IncidentFacts]) -> None:
    """The incidents written as ingest writes them: one article each (not timed)."""
    from datetime import date, timedelta

    from ..text.document import Article
    from ..text.incidents import Incident, IncidentPlace, Span
    for i, f in enumerate(found):
        incident = Incident(f.event_type, IncidentPlace(f"Place {i}", None, f.country, f.lat, f.lon, "city"), 1,
                            date(2026, 1, 1) + timedelta(days=i % 300), "day", Span(0, 9, "Evidence."),
                            killed=f.casualties)
        store.store_document(Article(f"bench-{i}", f"Report {i}."), [incident])


def bench_matching(n_areas: int = 10_000, n_incidents: int = 1_000, db: str | None = None,
                   empty: Callable = lambda store: None) -> dict:
    """`empty` clears a store given with `db` of its articles and incidents first (geo.bench passes its own)."""
    from ..store import Store
    from . import tables
    from .alerts import match_new_incidents
    from .areas import row_values

    rng = random.Random(17)
    areas = synthetic_areas(n_areas, rng)
    found = synthetic_incidents(n_incidents, rng)
    start = time.perf_counter()
    index = AreaIndex(areas)
    built = time.perf_counter() - start
    matched = []
    for _ in range(3):   # best of three: the first query also pays for warming up GEOS
        start = time.perf_counter()
        pairs = index.matches(found)
        matched.append(time.perf_counter() - start)

    with tempfile.TemporaryDirectory() as folder, Store.open(db or str(Path(folder) / "bench.gpkg")) as store:
        empty(store)
        tables.ensure(store)
        with store.write() as conn:
            for table in (tables.outbox, tables.alerts, tables.areas):
                conn.execute(table.delete())
            conn.execute(tables.areas.insert(), [dict(row_values(a), owner="bench", version=1, updated_at=0.0)
                                                 for a in areas])
            if store.dialect == "postgresql":
                tables.set_search_shapes(conn, [(a.name, search_shape(a)) for a in areas])
        _store_incidents(store, found)
        start = time.perf_counter()
        matched_in_store = _match_stored(store)
        engine_seconds = time.perf_counter() - start
        start = time.perf_counter()
        alerts = match_new_incidents(store)
        in_store = time.perf_counter() - start
        engine = store.dialect
    return {"areas": n_areas, "incidents": n_incidents, "index_build_seconds": round(built, 3),
            "match_seconds": round(min(matched), 3), "pairs": len(pairs), "engine": engine,
            "matched_by": "PostGIS GiST" if engine == "postgresql" else "STRtree over the stored areas",
            "engine_match_seconds": round(engine_seconds, 3), "engine_pairs": matched_in_store,
            "match_new_incidents_seconds": round(in_store, 3), "alerts_recorded": len(alerts)}


def _match_stored(store) -> int:
    """The matching step alone on the store's incidents and areas, as the engine does it; the pairs found."""
    import sqlalchemy as sa

    from ..store import incidents
    from .areas import list_areas
    from .matching import postgis_matches
    with store.read() as conn:
        rows = conn.execute(sa.select(incidents.c.incident_id, incidents.c.event_type, incidents.c.lat,
                                      incidents.c.lon, incidents.c.country, incidents.c.admin1,
                                      incidents.c.killed)).all()
        found = {r.incident_id: IncidentFacts(r.incident_id, r.event_type, r.lat, r.lon, r.country, r.admin1,
                                              r.killed or 0) for r in rows}
        if store.dialect == "postgresql":
            return len(postgis_matches(conn, found))
    return len(AreaIndex(list_areas(store)).matches(found.values()))


def _feed_process(feeds: list[str]):
    port = free_port()
    process = multiprocessing.get_context("spawn").Process(target=serve_feeds, args=(feeds, port), daemon=True)
    process.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            httpx.get(f"{base}/feed/{feeds[0]}.xml", timeout=1)
            return process, base
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the benchmark's feed server did not start")


def _watcher(folder: str, base: str, feeds: list[str], interval: float):
    from ..pipeline import default_pipeline
    from ..store import Store
    from .sources import SourceSpec, sync_sources
    from .watcher import Watcher
    store = Store.open(str(Path(folder) / "watch.gpkg"))
    sync_sources(store, [SourceSpec(f"{base}/feed/{f}.xml", f, interval) for f in feeds])
    return Watcher(store, extract=default_pipeline(), log=lambda line: None)


def bench_idle(n_sources: int = 100, interval: float = 15.0, seconds: float = 60.0) -> dict:
    """CPU of the watcher process while its sources answer 304 (after a first round that fetched them)."""
    feeds = [f"feed{i}" for i in range(n_sources)]
    process, base = _feed_process(feeds)
    try:
        with tempfile.TemporaryDirectory() as folder:
            watcher = _watcher(folder, base, feeds, interval)
            watcher.round()
            polls = []
            fetch = watcher.fetcher.get
            watcher.fetcher.get = lambda *args, **kw: polls.append(1) or fetch(*args, **kw)
            stop = threading.Event()
            thread = threading.Thread(target=watcher.run, args=(stop,))
            before, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
            thread.start()
            time.sleep(seconds)
            stop.set()
            thread.join()
            after, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - wall
            watcher.close()
            watcher.store.close()
    finally:
        process.kill()
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {"sources": n_sources, "interval_seconds": interval, "seconds": round(wall, 1), "polls": len(polls),
            "cpu_seconds": round(cpu, 2), "cpu_percent_of_one_core": round(100 * cpu / wall, 2),
            "cpu_ms_per_poll": round(1000 * cpu / max(1, len(polls)), 2)}


def bench_latency(interval: float = 10.0, trials: int = 3) -> dict:
    """Seconds from an item added to a feed (at a random moment) to its alert at a webhook receiver."""
    from .areas import save_area
    items = ["goma", "quetta", "kandahar", "chaman"][:trials]
    process, base = _feed_process(["live"])
    receiver = WebhookReceiver().up()
    latencies = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            watcher = _watcher(folder, base, ["live"], interval)
            save_area(watcher.store, box_area("everywhere", -180, -90, 180, 90, webhook=receiver.url))
            stop = threading.Event()
            thread = threading.Thread(target=watcher.run, args=(stop,))
            thread.start()
            rng = random.Random(3)
            for name in items:
                time.sleep(rng.uniform(0, interval))
                receiver.received.clear()
                added = time.perf_counter()
                httpx.post(f"{base}/feed/live.xml", content=name.encode(), timeout=5)
                if not receiver.received.wait(timeout=interval + 60):
                    raise RuntimeError(f"no alert for {name} within {interval + 60:.0f} s")
                latencies.append(time.perf_counter() - added)
            stop.set()
            thread.join()
            watcher.close()
            watcher.store.close()
    finally:
        receiver.down()
        process.kill()
    return {"interval_seconds": interval, "trials": len(latencies),
            "latency_seconds": [round(x, 2) for x in latencies], "mean_seconds": round(statistics.mean(latencies), 2),
            "max_seconds": round(max(latencies), 2), "target_seconds": interval + 5}


def run_watch_benchmark(db: str | None = None, empty: Callable = lambda store: None) -> dict:
    return {"matching": bench_matching(db=db, empty=empty), "idle": bench_idle(), "latency": bench_latency()}
