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

from .text.document import Article
from .places.geodesy import km
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


# -- incidents -------------------------------------------------------------------------------------
@dataclass
class IncidentScore:
    articles: int
    gold: int
    predicted: int
    precision: float
    recall: float
    f1: float
    type_acc: float | None
    killed_acc: float | None
    wounded_acc: float | None
    date_acc: float | None
    country_acc: float | None


def _incident_point(inc: dict) -> tuple[float, float] | None:
    place = inc.get("place") if isinstance(inc.get("place"), dict) else {}
    lat, lon = place.get("lat", inc.get("lat")), place.get("lon", inc.get("lon"))
    return None if lat is None or lon is None else (float(lat), float(lon))


def _incident_country(inc: dict) -> str:
    place = inc.get("place") if isinstance(inc.get("place"), dict) else {}
    return (place.get("country") or inc.get("country") or inc.get("country_iso2") or "").upper()


def _count_right(gold: dict, pred: dict, key: str) -> bool | None:
    """Whether a predicted count is right: inside the gold range where it has one (None: not scored)."""
    if gold.get(key) is None:
        return None
    value = pred.get(key)
    if value is None:
        return False
    low, high = gold.get(key + "_low"), gold.get(key + "_high")
    return low <= value <= high if low is not None and high is not None else value == gold[key]


def score_incidents(gold: dict[str, dict], predicted: dict[str, list[dict]]) -> IncidentScore:
    """Per article, each gold incident takes the nearest unused prediction within 25 km (precision 1)
    or 100 km (2 and 3); one with no point takes the first unused prediction in its country or with
    none. Then type, counts, date and country are compared over the matched pairs."""
    tp = fp = fn = 0
    right = {k: [0, 0] for k in ("type", "killed", "wounded", "date", "country")}
    for doc_id, g in gold.items():
        preds = predicted.get(doc_id, [])
        used = [False] * len(preds)
        for gi in g["incidents"]:
            gp, best, best_km = _incident_point(gi), None, None
            for i, pi in enumerate(preds):
                if used[i]:
                    continue
                if gp is None:
                    if best is None and _incident_country(pi) in ("", gi["country_iso2"].upper()):
                        best, best_km = i, 0.0
                    continue
                pp = _incident_point(pi)
                if pp is None:
                    continue
                d = km(gp, pp)
                if d <= (25 if gi.get("geo_precision", 1) == 1 else 100) and (best_km is None or d < best_km):
                    best, best_km = i, d
            if best is None:
                fn += 1
                continue
            used[best] = True
            tp += 1
            pi = preds[best]
            pairs = {"type": pi.get("event_type") == gi["event_type"],
                     "killed": _count_right(gi, pi, "killed"), "wounded": _count_right(gi, pi, "wounded"),
                     "date": pi.get("date") == gi["date"] if gi.get("date") else None,
                     "country": _incident_country(pi) == gi["country_iso2"].upper()}
            for key, ok in pairs.items():
                if ok is not None:
                    right[key][0] += ok
                    right[key][1] += 1
        fp += used.count(False)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    acc = {k: round(a / n, 3) if n else None for k, (a, n) in right.items()}
    return IncidentScore(len(gold), tp + fn, tp + fp, round(precision, 3), round(recall, 3),
                         round(2 * precision * recall / (precision + recall), 3) if precision + recall else 0.0,
                         acc["type"], acc["killed"], acc["wounded"], acc["date"], acc["country"])


def evaluate_incidents(folder: Path, pipeline: Pipeline) -> tuple[IncidentScore, dict[str, list[dict]]]:
    """Extract the incidents of `folder/articles/<id>.txt` and score them against `folder/gold.jsonl`."""
    from .text.sources import InputProblem, read_files
    with open(folder / "gold.jsonl", encoding="utf-8") as f:
        gold = {str(d["id"]): d for d in (json.loads(line) for line in f if line.strip())}
    predicted: dict[str, list[dict]] = {}
    for item in read_files([str(folder / "articles" / f"{doc_id}.txt") for doc_id in gold]):
        if not isinstance(item, InputProblem):
            predicted[item.id] = [i.as_json() for i in pipeline(item).incidents]
    return score_incidents(gold, predicted), predicted


def default_incident_dir() -> Path:
    return default_eval_dir().parent / "incidents"


# -- every dev set at once ---------------------------------------------------------------------------
# What each set's own scorer (../shared/eval/score_*.py) reports, as (label, key) columns of the table.
DEV_SETS = {
    "geoparse": [("F1", "f1"), ("acc161", "acc161"), ("e2e161", "e2e161")],
    "incidents": [("F1", "f1"), ("type", "type_acc"), ("killed", "killed_acc"), ("wounded", "wounded_acc"),
                  ("date", "date_acc"), ("country", "country_acc")],
    "wad": [("found", "detected"), ("killed", "killed_exact"), ("wounded", "wounded_exact"),
            ("place161", "place161_of_all"), ("country", "country"), ("date", "date")],
    "ged": [("found25", "found25_all"), ("exact", "found25_exact"), ("variant", "found25_variant")],
    "case": [("accuracy", "accuracy"), ("macroF1", "macro_f1")],
}


def dev_inputs(eval_dir: Path) -> list[tuple[str, Path, list[Article]]]:
    """(name, gold file, articles) of every dev set in `eval_dir` (../shared/eval), in the table's order."""
    from .text.sources import parse_date

    def articles(path: Path) -> list[Article]:
        with open(path, encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
        return [Article(str(r["id"]), r["text"], published=parse_date(r.get("published"))) for r in rows]

    sets = [(f"geoparse {p.stem}", p, articles(p)) for p in sorted((eval_dir / "geoparse").glob("*.jsonl"))]
    folder = eval_dir / "incidents"
    if (folder / "gold.jsonl").is_file():
        from .text.sources import InputProblem, read_files
        with open(folder / "gold.jsonl", encoding="utf-8") as f:
            ids = [json.loads(line)["id"] for line in f if line.strip()]
        read = [a for a in read_files([str(folder / "articles" / f"{i}.txt") for i in ids])
                if not isinstance(a, InputProblem)]
        sets.append(("incidents", folder / "gold.jsonl", read))
    for name in ("wad", "ged", "case"):
        if (eval_dir / name / "dev.jsonl").is_file():
            sets.append((name, eval_dir / name / "dev.jsonl", articles(eval_dir / name / "dev.jsonl")))
    return sets


def score_with_shared(eval_dir: Path, name: str, gold: Path, docs: list[dict]) -> dict:
    """Score predictions (`Document.as_json()` rows) with the set's own scorer, as the team scores them."""
    import subprocess
    import sys
    import tempfile
    scorer = eval_dir / f"score_{name.split()[0]}.py"
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8") as pred:
        for d in docs:
            pred.write(json.dumps(d) + "\n")
        pred.flush()
        out = subprocess.run([sys.executable, str(scorer), str(gold), pred.name], capture_output=True, text=True,
                             check=True)
    return json.loads(out.stdout)


POOLED = ("lgl", "trnews", "geowebnews")  # the news corpora the pooled end-to-end target is set on


def evaluate_dev_sets(pipeline: Pipeline, eval_dir: Path) -> dict[str, dict]:
    """Every dev set extracted with `pipeline` and scored by its own scorer: {set name: scores}, with
    the pooled end-to-end score of LGL, TR-News and GeoWebNews after the geoparsing corpora."""
    sets = dev_inputs(eval_dir)
    scores = _scored(pipeline, eval_dir, sets)
    golds = {name: gold for name, gold, _ in sets if name.startswith("geoparse") and gold.stem in POOLED}
    if len(golds) < len(POOLED):
        return scores
    geoparse = {n: s for n, s in scores.items() if n.startswith("geoparse")}
    rest = {n: s for n, s in scores.items() if n not in geoparse}
    return {**geoparse, "geoparse pooled": _pooled_e2e(scores, golds), **rest}


def geoparse_dev_scores(pipeline: Pipeline, eval_dir: Path) -> dict[str, dict]:
    """The geoparsing dev sets alone, each scored by its own scorer."""
    return _scored(pipeline, eval_dir, [s for s in dev_inputs(eval_dir) if s[0].startswith("geoparse")])


def _scored(pipeline: Pipeline, eval_dir: Path, sets: list[tuple[str, Path, list[Article]]]) -> dict[str, dict]:
    return {name: score_with_shared(eval_dir, name, gold, [pipeline(a).as_json() for a in arts])
            for name, gold, arts in sets}


def _pooled_e2e(scores: dict[str, dict], golds: dict[str, Path]) -> dict:
    """End to end over the corpora together: each weighted by its gold toponyms with coordinates."""
    counts = {}
    for name, gold in golds.items():
        with open(gold, encoding="utf-8") as f:
            counts[name] = sum(t.get("lat") is not None for line in f if line.strip()
                               for t in json.loads(line)["toponyms"])
    found = sum(scores[n]["e2e161"] * counts[n] for n in counts)
    return {"e2e161": round(found / sum(counts.values()), 4), "corpora": "+".join(POOLED)}


def format_dev_table(scores: dict[str, dict]) -> str:
    rows = []
    for name, s in scores.items():
        cells = "  ".join(f"{label} {s.get(key) if s.get(key) is not None else '-':<6}"
                          for label, key in DEV_SETS[name.split()[0]])
        rows.append(f"{name:<20}{cells}")
    return "\n".join(rows)


def cross_validate_tolls(ledes: list, k: int, eval_dir: Path, c: float = 1.0) -> dict:
    """WAD scores of the toll reader trained on k-1 folds of `ledes` and run, through the whole
    extractor, on the fold it did not see; the folds' predictions are scored together."""
    from .learn.linear import folds
    from .learn.tolls import fit
    from .pipeline import incident_pipeline
    from .places.gazetteer import load_gazetteer
    gaz = load_gazetteer()
    docs = []
    for train, held_out in folds(ledes, k):
        pipeline = incident_pipeline(gaz, tolls=fit(train, c))
        docs.extend(pipeline(x.article()).as_json() for x in held_out)
    return score_with_shared(eval_dir, "wad", eval_dir / "wad" / "dev.jsonl", docs)


def toll_scores(pipeline: Pipeline, ledes: list) -> dict:
    """Killed and wounded exact over labelled ledes (`geo.learn.tolls.Lede`), counted as WAD counts a
    lede: the sum over its violent incidents of the best figure (else the "at least" one)."""
    from .text.incidents import VIOLENT

    def total(incidents: list, kind: str) -> int:
        return sum((getattr(i, kind) if getattr(i, kind) is not None else getattr(i, kind + "_low")) or 0
                   for i in incidents if i.event_type in VIOLENT)

    killed = wounded = wounded_n = 0
    for x in ledes:
        incidents = pipeline(x.article()).incidents
        killed += total(incidents, "killed") == x.killed
        if x.wounded is not None:
            wounded_n += 1
            wounded += total(incidents, "wounded") == x.wounded
    return {"ledes": len(ledes), "killed_exact": round(killed / len(ledes), 3) if ledes else None,
            "wounded_exact": round(wounded / wounded_n, 3) if wounded_n else None}
