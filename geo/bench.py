"""Speed and memory benchmark: `python -m geo bench`.

Documents of about 2,000 characters are made by recombining paragraphs of the sample articles, then
extracted on one core. Reports documents a second for the whole extraction (places and incidents,
serialised as `python -m geo extract` writes them) and for places alone, the cold start of a new
process (import, index load and one short article), and peak memory.
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
    code = ("from geo.pipeline import default_pipeline; from geo.document import Article; "
            "default_pipeline()(Article('x', 'Clashes near the Chaman border crossing in Pakistan killed four.'))")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=DATA.parent)
    return time.perf_counter() - start


def _throughput(pipeline, docs: list[str]) -> tuple[float, int, int]:
    """Seconds to extract and serialise every document, and the places and incidents found."""
    import json

    from .document import Article
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

    # Build the index in another process, so its one-off cost stays out of this one's peak memory.
    subprocess.run([sys.executable, "-m", "geo", "gazetteer", "build"], check=True, cwd=DATA.parent,
                   stdout=subprocess.DEVNULL)
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
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
