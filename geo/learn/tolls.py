"""Training the toll reader (`geo.text.tolls`) from ledes labelled with their event's killed and wounded.

Each candidate number of a lede is labelled by the lede's gold: the number equal to the killed figure is
"killed", the one equal to the wounded figure "wounded", any other "none". Where no single number equals
the killed figure, two that add up to it are the groups of one toll ("five soldiers and three
civilians"); a lede whose figure no number gives (a toll the coder added up across sentences, a word
such as "several") teaches nothing about its numbers and is left out. Scores are cross-validated over
ledes through the whole extractor, never on the ledes a model learned from.
"""
from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..text.casualties import find_counts
from ..text.document import Article
from ..text.sources import parse_date
from ..places.normalize import lower_same_length
from ..text.sentences import split_sentences
from ..text.tolls import KINDS, Candidate, TollModel, candidates
from .linear import fit_weights, save as save_weights

MODEL_PATH = Path(__file__).resolve().parent / "models" / "tolls.json"


@dataclass(frozen=True)
class Lede:
    """A labelled text: its event's killed and wounded (None: not coded as a number), and its source."""

    id: str
    text: str
    killed: int | None
    wounded: int | None
    source: str
    published: str | None = None

    def article(self) -> Article:
        return Article(self.id, self.text, published=parse_date(self.published))


def read_wad(path: Path) -> list[Lede]:
    """The WAD ledes of `../shared/eval/wad/dev.jsonl` (PITF World Atrocities Dataset, public research data)."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                gold = d["gold"]
                out.append(Lede(str(d["id"]), d["text"], gold.get("killed"), gold.get("wounded"),
                                "PITF World Atrocities Dataset (WAD) dev split", d.get("published")))
    return out


def read_labelled(path: Path) -> list[Lede]:
    """Ledes labelled by hand in this repository (`data/training/tolls.jsonl`), each with its source URL."""
    if not path.is_file():
        return []
    with open(path, encoding="utf-8") as f:
        return [Lede(d["id"], d["text"], d.get("killed"), d.get("wounded"), d["source"], d.get("published"))
                for d in (json.loads(line) for line in f if line.strip())]


def lede_candidates(text: str) -> list[Candidate]:
    low = lower_same_length(text)
    out: list[Candidate] = []
    told = False
    for s in split_sentences(text):
        rule_counts = find_counts(text, s.start, s.end, low)
        out.extend(candidates(text, low, s.start, s.end, rule_counts, told))
        told = told or any(c.value for c in rule_counts)
    return out


def labelled_candidates(lede: Lede) -> list[tuple[Candidate, str]] | None:
    """The lede's candidates with their labels; None when its gold cannot be read off its numbers."""
    cands = lede_candidates(lede.text)
    killed = _matching(cands, lede.killed, set())
    if lede.wounded is None and _WOUND_WORD.search(lede.text):
        return None  # wounded, but not as a number: which numbers count them is unknown
    wounded = _matching(cands, lede.wounded or 0, killed or set())
    if killed is None or wounded is None:
        return None
    return [(c, "killed" if i in killed else "wounded" if i in wounded else "none") for i, c in enumerate(cands)
            if c.form != "vague"]  # vague words keep ACLED's exact rule ("dozens" = 12), whatever a coder wrote


_WOUND_WORD = re.compile(r"wound|injur|hurt", re.I)


def _matching(cands: list[Candidate], figure: int | None, taken: set[int]) -> set[int] | None:
    """Indices of the candidates that state `figure`: every one equal to it, else two that add up to it."""
    if figure is None:
        return None
    if figure == 0:
        return set()
    free = [(i, c) for i, c in enumerate(cands) if i not in taken]
    equal = {i for i, c in free if c.value == figure or (c.value is None and c.low == figure)}
    if equal:
        return equal
    for (i, a), (j, b) in itertools.combinations(free, 2):
        if a.value and b.value and a.value + b.value == figure:
            return {i, j}
    return None


def fit(ledes: Iterable[Lede], c: float = 1.0) -> TollModel:
    """A multinomial logistic regression over the candidates of `ledes` (scikit-learn, CPU, seconds)."""
    rows, labels = [], []
    for lede in ledes:
        for cand, label in labelled_candidates(lede) or ():
            rows.append(cand.features)
            labels.append(label)
    weights, intercept = fit_weights(rows, labels, KINDS, c)
    return TollModel(weights, intercept)


def save(model: TollModel, path: Path = MODEL_PATH) -> Path:
    return save_weights(model, path)


def write_card(path: Path, ledes: list[Lede], used: int, c: float, cv: dict | None, rules_only: dict | None,
               k: int, heldout: dict | None = None) -> None:
    """The model card beside the model: what it learned from, under which terms, how well it does."""
    sources: dict[str, int] = {}
    for lede in ledes:
        sources[lede.source] = sources.get(lede.source, 0) + 1
    lines = ["# Toll reader (geo/learn/models/tolls.json)", "",
             "Which numbers of a sentence count the killed, which the wounded, and which neither: a multinomial "
             "logistic regression (scikit-learn, C=%g) over each candidate number's words around it, nearest "
             "death and injury words, qualifier and what the hand rules made of it (`geo/text/tolls.py`). "
             "Rebuilt with `python -m geo train tolls`." % c, "",
             "## Data", ""]
    lines += [f"- {n} ledes: {src}" for src, n in sorted(sources.items())]
    lines += [f"- {used} of them could be labelled number by number (the others' tolls are words, or sums "
              "no pair of numbers gives) and were trained on.", "",
              "WAD (Political Instability Task Force, World Atrocities Dataset) is public research data; the "
              "shipped file holds feature weights, not text.", ""]
    if cv:
        lines += [f"## Cross-validated scores ({k} folds over ledes, the whole extractor on the held-out fold, "
                  "scored by ../shared/eval/score_wad.py)", "",
                  "| | found | killed exact | wounded exact | place within 161 km | country | date |",
                  "|---|---|---|---|---|---|---|"]
        for name, s in (("rules alone", rules_only), ("with the toll reader", cv)):
            if s:
                lines.append(f"| {name} | {s['detected']} | {s['killed_exact']} | {s['wounded_exact']} | "
                             f"{s['place161_of_all']} | {s['country']} | {s['date']} |")
    if heldout:
        lines += ["", f"## Held out: {heldout['ledes']} Wikinews ledes (`data/heldout/wikinews_tolls.jsonl`, CC BY 2.5, "
                  "labelled in this repository, never trained on)", "",
                  f"killed exact {heldout['killed_exact']}, wounded exact {heldout['wounded_exact']} (the shipped model, "
                  "through the whole extractor)."]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
