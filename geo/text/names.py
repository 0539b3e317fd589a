"""The name reader: whether a place name the recogniser found names a place, or a person, an
organisation or a team that shares its name ("Boko" in Boko Haram, "Senator Flores", "Jordan scored").

The recogniser's rules catch the plain cases (a title before the name, a given name before a surname);
this reads the rest from cheap evidence around each mention: its words and shape, the words before and
after it ("said", "'s", "coach", a capitalised word that continues another name), what the gazetteer
knows of the place (population, kind, how common the word is in English) and how the same name is used
elsewhere in the article. A binary logistic regression trained on entity-annotated text with a licence
that lets us ship what is learned (`geo.learn.names`) turns them into the probability that the mention
is a place; below the threshold chosen by cross-validation on that text the mention is dropped. The
model is a JSON file of weights (`geo/learn/models/names.json`), loaded once; its card beside it gives
the data, licences and cross-validated scores.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

from .document import Mention
from ..places.gazetteer import KINDS

_WORD = re.compile(r"[^\W\d_]+(?:['\u2019.-][^\W\d_]+)*|\d+|[^\w\s]")
_WINDOW = 40   # characters either side read for the two words before and after
_OTHER_USES = 8  # at most this many other uses of the name in the article are read
# Words before a name that make it a person's or an organisation's, grouped so that rare ones generalise.
_TITLE = frozenset("mr mrs ms miss dr president gen general minister senator sen rep gov governor mayor judge "
                   "justice officer sgt capt captain col colonel lt maj major prof professor rev pope king queen "
                   "prince princess sheikh imam chief coach sir lord lady spokesman spokeswoman secretary "
                   "chairman commander ambassador envoy director adviser advisor premier leader striker "
                   "midfielder defender goalkeeper forward quarterback pitcher manager ceo founder actor "
                   "actress singer author writer player star son daughter wife husband brother sister".split())
_SPEECH = frozenset("said says told added stated wrote argued noted explained asked replied scored won "
                    "signed played".split())
_CONJOINED = frozenset({"continued", "p1shape=Xx", "p1title", "n1speech", "possessive", "p1=<s>", "cued",
                        "other_title", "other_after_name", "other_speech", "other_continued", "n1shape=Xx"})
_SENTENCE_END = frozenset(".!?:;\"\u201c\u201d")


@dataclass(frozen=True, slots=True)
class PlaceEvidence:
    """What the gazetteer says of a mention's readings under the name as written."""

    population: int
    major: bool       # a country, division, region, a city of a million or a capital
    kind: str         # the gazetteer kind of the most populous reading
    zipf: float       # how common the name is as an English word (wordfreq Zipf scale)


def place_evidence(hits, population: list[int], major: list[bool], kind: list[int], zipf: float) -> PlaceEvidence:
    """The evidence of a mention's gazetteer readings (`population`, `major`, `kind`: by place row)."""
    best = max((h.place for h in hits), key=population.__getitem__)
    return PlaceEvidence(population[best], any(major[h.place] for h in hits), KINDS[kind[best]], zipf)


def _bucket(population: int) -> str:
    return "0" if population <= 0 else str(min(7, int(math.log10(population))))


def _shape(word: str) -> str:
    if word.isupper():
        return "X"
    if word[:1].isupper():
        return "Xx"
    if word[:1].islower():
        return "x"
    return "d" if word[:1].isdigit() else "p"


def mention_features(text: str, m: Mention, ev: PlaceEvidence, others: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The features the model reads for mention `m` of `text` (`others`: features of the name's other
    uses in the article, from `other_uses`)."""
    surface = m.text
    before = _WORD.findall(text, max(0, m.start - _WINDOW), m.start)[-2:]
    after = _WORD.findall(text, m.end, m.end + _WINDOW)[:3]
    if after and after[0] in ("'s", "\u2019s", "'", "\u2019"):
        after = after[1:]
        possessive = True
    else:
        possessive = text.startswith(("'s", "\u2019s"), m.end)
    words = surface.split()
    feats = [f"n={min(len(words), 3)}", f"role={m.role}",
             f"pop={_bucket(ev.population)}", f"kind={ev.kind}", f"zipf={min(7, int(ev.zipf))}",
             f"shape={_shape(surface)}"]
    if ev.major:
        feats.append("major")
    if m.cued:
        feats.append("cued")
    if m.feature:
        feats.append(f"feature={m.feature}")
    if possessive:
        feats.append("possessive")
    p1 = before[-1] if before else ""
    sentence_start = not p1 or p1 in _SENTENCE_END or "\n" in text[max(0, m.start - 3):m.start]
    if sentence_start:
        feats.append("p1=<s>")
    else:
        feats += [f"p1={p1.lower()}", f"p1shape={_shape(p1)}"]
        if p1.lower().rstrip(".") in _TITLE:
            feats.append("p1title")
        if len(before) > 1 and before[0] not in _SENTENCE_END:
            feats.append(f"p2={before[0].lower()}")
    if after:
        n1 = after[0]
        feats += [f"n1={n1.lower()}", f"n1shape={_shape(n1)}"]
        if n1.lower() in _SPEECH:
            feats.append("n1speech")
        if _shape(n1) == "Xx" and text[m.end:m.end + 1] == " ":
            # "Boko Haram", "Michael Lehmkuhle": the capitals go on; a given name opens a person's name.
            feats += ["continued", f"continued_by={n1.lower()}", f"continued_from={surface.lower()}"]
        if len(after) > 1:
            feats.append(f"n2={after[1].lower()}")
    feats.extend(others)
    # The same context says more of a village or a surname than of a country: "Jordan scored", "Flores said".
    size = "big" if ev.major or ev.population >= 100_000 else "small"
    feats.extend([f"{f}|{size}" for f in feats if f in _CONJOINED])
    return tuple(feats)


def other_uses(text: str, mentions: list[Mention]) -> list[tuple[str, ...]]:
    """For each mention, how its name is used elsewhere in the article: after a title, before "said",
    inside a longer capitalised name ("Jordan Henderson ... Jordan"). Each name's uses are read once."""
    uses: dict[str, list[tuple[int, frozenset[str]]]] = {}
    out = []
    for m in mentions:
        if m.text not in uses:
            uses[m.text] = _uses(text, m.text)
        out.append(tuple(sorted(frozenset().union(*(f for start, f in uses[m.text] if start != m.start)))))
    return out


def _uses(text: str, name: str) -> list[tuple[int, frozenset[str]]]:
    """The first uses of `name` as a whole word in `text`, each with what surrounds it."""
    found = []
    start = text.find(name)
    while start >= 0 and len(found) <= _OTHER_USES:
        end = start + len(name)
        if not (start and (text[start - 1].isalnum() or text[start - 1] == "-")) and \
                not (end < len(text) and (text[end].isalnum() or text[end] == "-")):
            feats = {"other_use"}
            before = _WORD.findall(text, max(0, start - 20), start)[-1:]
            after = _WORD.findall(text, end, end + 20)[:1]
            if before and before[0].lower().rstrip(".") in _TITLE:
                feats.add("other_title")
            if before and _shape(before[0]) == "Xx" and text[start - 1] == " " and \
                    "\n" not in text[start - 3:start]:
                feats.add("other_after_name")
            if after and after[0].lower() in _SPEECH:
                feats.add("other_speech")
            if after and _shape(after[0]) == "Xx" and text[end:end + 1] == " ":
                feats.add("other_continued")
            found.append((start, frozenset(feats)))
        start = text.find(name, start + 1)
    return found


def _opens_name(text: str, m: Mention) -> bool:
    """Whether `m` is one title-case word that opens a run of capitalised words, as a given name does
    ("Michael Jordan"; not "CTV Saskatoon", "Robinson College Cambridge")."""
    before = _WORD.findall(text, max(0, m.start - 20), m.start)[-1:]
    return " " not in m.text and _shape(m.text) == "Xx" and not (before and _shape(before[0]) == "Xx")


@dataclass(frozen=True)
class NameModel:
    """A binary logistic regression: the probability that a mention names a place."""

    weights: dict[str, float]
    intercept: float
    threshold: float = 0.5  # below this probability of a place the mention is dropped

    def probability(self, features: tuple[str, ...]) -> float:
        weights = self.weights
        score = self.intercept + sum([weights[f] for f in features if f in weights])
        return 1.0 / (1.0 + math.exp(-score)) if score > -30 else 0.0

    def places(self, text: str, mentions: list[Mention], features: list[tuple[str, ...]]) -> set[int]:
        """The ids of the mentions read as places. A name right after one read as a given name ("Michael
        Jordan") is the person's too, and so are the article's other uses of it that nothing marks as a
        place ("Jordan said", not "in Jordan")."""
        keep = [self.probability(f) >= self.threshold for f in features]
        surnames = set()
        for k in range(1, len(mentions)):
            if keep[k] and not keep[k - 1] and text[mentions[k - 1].end:mentions[k].start] == " " and \
                    _opens_name(text, mentions[k - 1]):
                keep[k] = False
                surnames.add(mentions[k].text)
        return {id(m) for m, kept in zip(mentions, keep) if kept and (m.cued or m.text not in surnames)}

    def to_json(self) -> dict:
        return {"classes": ["other", "place"], "intercept": self.intercept, "threshold": self.threshold,
                "weights": {k: round(v, 5) for k, v in sorted(self.weights.items())}}

    @classmethod
    def from_json(cls, data: dict) -> "NameModel":
        return cls(dict(data["weights"]), data["intercept"], data.get("threshold", 0.5))


@lru_cache(maxsize=1)
def shipped_model() -> NameModel | None:
    """The model shipped in the package; None where it has not been trained yet (the rules alone)."""
    path = files("geo.learn").joinpath("models/names.json")
    if not path.is_file():
        return None
    return NameModel.from_json(json.loads(path.read_text()))
