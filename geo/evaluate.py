"""Evaluation of the geoparser on gold-annotated corpora (the shapes of ../shared/eval/geoparse).

Recognition: a gold toponym is found when a predicted span overlaps it; a prediction overlapping no
gold span is a false positive. Resolution, over found toponyms with gold coordinates: accuracy within
161 km, median and mean error, and the AUC of the log error curve (Gritta et al. 2018; lower is better).
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

from .document import Article
from .geodesy import km
from .pipeline import Pipeline

WORST_KM = 20039.0  # half the earth's circumference: an unresolved toponym


@dataclass
class GeoparseScore:
    corpus: str
    docs: int
    gold: int
    predicted: int
    precision: float
    recall: float
    f1: float
    acc161: float
    median_km: float | None
    mean_km: float | None
    auc: float | None


def score_documents(corpus: str, gold_docs: list[dict], predictions: dict[str, list[dict]]) -> GeoparseScore:
    tp = fp = fn = 0
    errors: list[float] = []
    for g in gold_docs:
        pred = predictions.get(str(g["id"]), [])
        used = [False] * len(pred)
        for t in g["toponyms"]:
            hit = next((i for i, q in enumerate(pred)
                        if not used[i] and q["start"] < t["end"] and t["start"] < q["end"]), None)
            if hit is None:
                fn += 1
                continue
            used[hit] = True
            tp += 1
            if t.get("lat") is None or t.get("lon") is None:
                continue
            q = pred[hit]
            errors.append(WORST_KM if q.get("lat") is None else km((t["lat"], t["lon"]), (q["lat"], q["lon"])))
        fp += sum(1 for i, q in enumerate(pred) if not used[i] and not any(
            q["start"] < t["end"] and t["start"] < q["end"] for t in g["toponyms"]))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    errors.sort()
    n = len(errors)
    return GeoparseScore(
        corpus=corpus, docs=len(gold_docs), gold=tp + fn, predicted=tp + fp, precision=round(precision, 4),
        recall=round(recall, 4), f1=round(f1, 4), acc161=round(sum(e <= 161 for e in errors) / n, 4) if n else 0.0,
        median_km=round(errors[n // 2], 1) if n else None, mean_km=round(sum(errors) / n, 1) if n else None,
        auc=round(sum(math.log(e + 1) for e in errors) / (n * math.log(WORST_KM + 1)), 4) if n else None)


def evaluate_corpus(path: Path, pipeline: Pipeline) -> GeoparseScore:
    with open(path, encoding="utf-8") as f:
        gold = [json.loads(line) for line in f if line.strip()]
    predictions = {}
    for g in gold:
        doc = pipeline(Article(id=str(g["id"]), text=g["text"]))
        predictions[str(g["id"])] = [p.as_json() for p in doc.places]
    return score_documents(path.stem, gold, predictions)


def default_eval_dir() -> Path:
    return Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "geoparse"


def format_table(scores: list[GeoparseScore]) -> str:
    head = f"{'corpus':<12}{'docs':>5}{'gold':>6}{'P':>8}{'R':>8}{'F1':>8}{'acc161':>8}{'median':>9}{'AUC':>8}"
    rows = [head] + [f"{s.corpus:<12}{s.docs:>5}{s.gold:>6}{s.precision:>8.3f}{s.recall:>8.3f}{s.f1:>8.3f}"
                     f"{s.acc161:>8.3f}{(s.median_km if s.median_km is not None else float('nan')):>9.1f}"
                     f"{(s.auc if s.auc is not None else float('nan')):>8.3f}" for s in scores]
    return "\n".join(rows)


def as_dict(score: GeoparseScore) -> dict:
    return asdict(score)
