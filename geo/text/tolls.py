"""The toll reader: which numbers in a sentence count the killed, which the wounded, and which neither.

The hand rules of `casualties.find_counts` read the common phrasings exactly ("at least 7 people were
killed", sums of groups, "the toll rose to"), but news says a toll in more ways than rules can list
("hacked to death at least nine", "a tribal leader was shot dead", "killed no fewer than 15"). So every
number of a sentence (digits, number words, "dozens", and "a"/"an"/"another" before a person) is a
candidate, described by the words around it, the nearest death and injury words and what the rules made
of it, and a small multinomial logistic regression trained on labelled ledes (`geo.learn`) decides.
The rules' counts are kept where the model agrees, turned to the other kind where it reads the other
kind, dropped where it reads neither, and the candidates the rules missed are added, adjacent ones of
one kind summed as groups. The model is a JSON file of weights (`geo/learn/models/tolls.json`), loaded
once; its card beside it gives the data, licence and cross-validated scores.
"""
from __future__ import annotations

import bisect
import json
import math
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib.resources import files

from .casualties import NUMBER, QUALIFIER, Count, _bounds, _victims, find_counts, parse_number

KINDS = ("killed", "wounded", "none")
_TOKEN = re.compile(r"[a-z]+(?:['\u2019-][a-z]+)*|\d[\d,]*|[^\s\w]")
_CANDIDATE = re.compile(rf"\b(?:(?P<qual>{QUALIFIER}|no\s+fewer\s+than|not\s+less\s+than)\s+)?(?P<num>{NUMBER})\b"
                        r"|\b(?P<one>a|an|another|(?<=killed\s)the|(?<=killing\s)the|(?<=murdered\s)the)"
                        r"\s+(?:[\w'\u2019-]+\s+){0,3}?(?:%s)\b"
                        # a singular passive names one victim, whoever it is: "the mayor was shot dead"
                        r"|\b(?P<was>was|has\s+been|had\s+been)\s+(?:[\w-]+\s+){0,2}?(?:killed|shot\s+dead|"
                        r"murdered|assassinated|beheaded|lynched|executed|slain|gunned\s+down|hacked\s+to\s+death|"
                        r"stabbed\s+to\s+death|found\s+dead|wounded|injured)\b")
_PERSONS = ("man|woman|child|boy|girl|baby|person|civilian|soldier|policeman|policewoman|officer|journalist|"
            "reporter|teenager|youth|student|teacher|worker|resident|villager|farmer|herder|herdsman|fighter|"
            "militant|commander|leader|chief|official|member|guard|pilot|driver|trader|businessman|doctor|nurse|"
            "priest|pastor|imam|cleric|muezzin|monk|bystander|passenger|lawyer|judge|activist|politician|"
            "candidate|mayor|governor|councillor|councilor|lawmaker|legislator|elder|pilgrim|refugee|migrant|"
            "tourist|shopkeeper|vendor|rebel|insurgent|prisoner|inmate|employee|"
            "contractor|engineer|ranger|tribesman|sheikh|spokesman|wife|husband|son|daughter|mother|father|"
            "brother|sister|relative|neighbour|neighbor|delegate|secretary|chairman|chairwoman|director|head|"
            "minister|deputy|commissioner|councilman|agent|staffer|photographer|cameraman|editor|campaigner|"
            "supporter|senator|ambassador|diplomat|general|colonel|captain|sergeant|lieutenant|clerk|observer")
_CANDIDATE = re.compile(_CANDIDATE.pattern % _PERSONS)
# A named victim after a killing verb is one death: "killed Qasem Soleimani", "shot dead journalist Ziad
# al-Sharabi" (read in the original text: the capitals say it is a name).
_NAMED = re.compile(r"\b(?:killed|killing|kills|assassinated|murdered|shot\s+dead|executed|beheaded|"
                    r"stabbed\s+to\s+death|gunned\s+down)\s+(?:[a-z][\w'\u2019.-]*\s+){0,5}?"
                    r"(?P<name>[A-Z][\w'\u2019-]+(?:\s+(?:al-|bin\s+|de\s+|van\s+)?[A-Z][\w'\u2019-]+)+)")
_KILL = re.compile(r"^(?:kill|dead|death|die|dying|slain|slew|bod(?:y|ies)|lives|life|fatal|murder|massacr|"
                   r"execut|lynch|behead|perish|toll|corpse|assassinat|hacked|butcher|gunned|shot)")
_WOUND = re.compile(r"^(?:wound|injur|hurt|hospital|maim)")
_WINDOW = 8
_SAYS = frozenset("said says say claimed claims told tells reported reports confirmed confirms stated added according "
                  "announced".split())


@dataclass(frozen=True, slots=True)
class Candidate:
    """A number (or a single person) in a sentence that may count casualties."""

    start: int          # where its words start ("at least" included)
    num_start: int
    end: int
    value: int | None
    low: int | None
    high: int | None
    form: str           # "digit", "word", "vague" ("dozens": ACLED's exact rule, never the model's), "article"
                        # ("a reporter"), "another", "singular" ("was killed": one victim)
    features: tuple[str, ...]


def candidates(text: str, low: str, start: int, end: int, rule_counts: list[Count],
               told: bool = False) -> list[Candidate]:
    """Every candidate number of `text[start:end]`, with the features the model reads (`told`: an
    earlier sentence of the article already gave a toll, so this one may detail or revise it)."""
    out: list[Candidate] = []
    matches = list(_CANDIDATE.finditer(low, start, end)) + list(_NAMED.finditer(text, start, end))
    if not matches:
        return out
    tokens = _Tokens(low, start, end)
    token_starts = tokens.starts
    for m in sorted(matches, key=lambda m: m.start()):
        named = m.re is _NAMED
        if named or m.group("one") or m.group("was"):
            value, lo, hi = 1, 1, 1
            group = "name" if named else "one" if m.group("one") else "was"
            qual, num_start, num_end = "", m.start(group), m.end(group)
            form = "named" if named else "singular" if group == "was" else \
                "another" if m.group("one") == "another" else "article"
        else:
            qual, num_start, num_end = m.group("qual") or "", m.start("num"), m.end("num")
            value, lo, hi = parse_number(m.group("num"))
            if value is None and lo is None:
                continue
            qual_norm = " ".join(qual.split())
            value, lo, hi = _bounds("at least" if qual_norm in ("no fewer than", "not less than") else qual_norm,
                                    value, lo, hi)
            word = m.group("num")
            form = "digit" if word[0].isdigit() else "vague" if value is None or word in _VAGUE_WORDS else "word"
        i = _index(token_starts, num_start)
        j = _index(token_starts, (m.end() if named or m.group("one") else num_end) - 1)  # a person: after the noun
        feats = _features(tokens, i, j, value, form, qual, num_start, rule_counts)
        if told:
            rule = next(f for f in feats if f.startswith("rule="))
            feats += ("told", f"told|{rule}", f"told|{form}")
        out.append(Candidate(m.start(), num_start, m.end(), value, lo, hi, form, feats))
    return out


_VAGUE_WORDS = frozenset("dozens hundreds thousands scores several many some a few a number a handful".split())


def _index(starts: list[int], at: int) -> int:
    return max(0, bisect.bisect_right(starts, at) - 1)


def _bucket(distance: int) -> str:
    return "1" if distance <= 1 else "2" if distance <= 3 else "3" if distance <= 6 else "4"


class _Tokens:
    """The words of a sentence, their shapes and which speak of death or injury, worked out once for all
    its candidate numbers."""

    def __init__(self, low: str, start: int, end: int) -> None:
        found = [(m.start(), m.group()) for m in _TOKEN.finditer(low, start, end)]
        self.starts = [at for at, _ in found]
        self.words = [w for _, w in found]
        self.shapes = ["#" if w[0].isdigit() else w for w in self.words]
        self.kill = list(map(_KILL.match, self.words))  # a match where the word speaks of death
        self.wound = list(map(_WOUND.match, self.words))


def _features(tokens: _Tokens, i: int, j: int, value: int | None, form: str, qual: str, num_start: int,
              rule_counts: list[Count]) -> tuple[str, ...]:
    words, shapes, n = tokens.words, tokens.shapes, len(tokens.words)
    f = [f"form={form}", "bias"]
    if value is not None:
        f.append("v=" + ("1" if value == 1 else "2-5" if value <= 5 else "6-20" if value <= 20 else
                         "21-100" if value <= 100 else "101-1000" if value <= 1000 else "year" if 1900 <= value <= 2100
                         else "big"))
    if qual:
        f.append("q=" + " ".join(qual.split()))
    for k in (1, 2, 3):
        f.append(f"w-{k}={shapes[i - k] if i - k >= 0 else '<s>'}")
        f.append(f"w+{k}={shapes[j + k] if j + k < n else '</s>'}")
    f.append(f"{form}|w+1={shapes[j + 1] if j + 1 < n else '</s>'}")  # "a bomber killed"
    f.append(f"w+1w+2={shapes[j + 1] if j + 1 < n else '</s>'}_{shapes[j + 2] if j + 2 < n else '</s>'}")
    f.extend(["L=" + shape for shape in shapes[max(0, i - _WINDOW):i]])
    f.extend(["R=" + shape for shape in shapes[j + 1:j + 1 + _WINDOW]])
    verb = next((w for w in words[j + 1:j + 7] if w.endswith(("ed", "en")) or w in ("died", "dead")), None)
    if verb:
        f.append("verb+=" + verb)  # "four officers have been arrested": what befell them
    nearest = {}
    for name, flags in (("kill", tokens.kill), ("wound", tokens.wound)):
        right = next((k - j for k in range(j + 1, min(n, j + 13)) if flags[k]), None)
        left = next((i - k for k in range(i - 1, max(-1, i - 13), -1) if flags[k]), None)
        if right is not None:
            f.append(f"{name}R={_bucket(right)}")
        if left is not None:
            f.append(f"{name}L={_bucket(left)}")
        nearest[name] = min(d for d in (right, left, 99) if d is not None)
    if nearest["kill"] < 99 or nearest["wound"] < 99:
        f.append("nearer=" + ("kill" if nearest["kill"] < nearest["wound"] else "wound" if nearest["wound"] <
                              nearest["kill"] else "tie"))
    if any(w in _SAYS for w in words[j + 1:j + 3]):
        f.append("then_says")  # "an official said", "a witness told": who speaks, not who fell
    between = words[max(0, i - 4):i]
    if "including" in between or "among" in between:
        f.append("after_including")
    if any(t in ("(", "[") for t in between):
        f.append("in_brackets")
    rule = next((c for c in rule_counts if c.start <= num_start < c.end), None)
    if rule is not None:
        f.append(f"rule={rule.kind}")
        if rule.subset:
            f.append("rule_subset")
        if rule.revised:
            f.append("rule_revised")
        if rule.value is not None and rule.value != value:
            f.append("rule_sum")
    else:
        f.append("rule=none")
    return tuple(f)


@dataclass(frozen=True)
class TollModel:
    """A multinomial logistic regression over candidate features, as weights per feature."""

    weights: dict[str, tuple[float, float, float]]
    intercept: tuple[float, float, float]
    threshold: float = 0.5   # the probability a candidate the rules missed needs to count
    drop: float = 0.8        # the probability of "none" that drops a count the rules read

    def probabilities(self, features: tuple[str, ...]) -> tuple[float, float, float]:
        scores = list(self.intercept)
        for feat in features:
            w = self.weights.get(feat)
            if w is not None:
                scores[0] += w[0]
                scores[1] += w[1]
                scores[2] += w[2]
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return exps[0] / total, exps[1] / total, exps[2] / total

    def label(self, features: tuple[str, ...], probs: tuple[float, float, float] | None = None) -> str:
        probs = probs or self.probabilities(features)
        best = max(range(3), key=probs.__getitem__)
        return KINDS[best] if best == 2 or probs[best] >= self.threshold else "none"

    def to_json(self) -> dict:
        return {"classes": list(KINDS), "intercept": list(self.intercept), "threshold": self.threshold,
                "drop": self.drop,
                "weights": {k: [round(x, 5) for x in v] for k, v in sorted(self.weights.items())}}

    @classmethod
    def from_json(cls, data: dict) -> "TollModel":
        return cls({k: tuple(v) for k, v in data["weights"].items()}, tuple(data["intercept"]),
                   data.get("threshold", 0.5), data.get("drop", 0.8))


@lru_cache(maxsize=1)
def shipped_model() -> TollModel | None:
    """The model shipped in the package; None where it has not been trained yet (rules alone)."""
    path = files("geo.learn").joinpath("models/tolls.json")
    if not path.is_file():
        return None
    return TollModel.from_json(json.loads(path.read_text()))


def read_counts(text: str, start: int, end: int, low: str, model: TollModel | None, told: bool = False) -> list[Count]:
    """Counts of killed and wounded in `text[start:end]`: the rules' counts, as the model reads them
    (`told`: an earlier sentence gave a toll)."""
    rule_counts = find_counts(text, start, end, low)
    if model is None:
        return rule_counts
    scored = [(c, model.probabilities(c.features)) for c in candidates(text, low, start, end, rule_counts, told)
              if c.form != "vague"]
    out: list[Count] = []
    for rc in rule_counts:
        inside = [probs for c, probs in scored if rc.start <= c.num_start < rc.end]
        if not inside or rc.value == 0 or rc.revised:
            out.append(rc)  # "no one was hurt", "dozens", "the toll rose to 12": what the rules read exactly
            continue
        probs = max(inside, key=lambda p: max(p[0], p[1]))
        other = "wounded" if rc.kind == "killed" else "killed"
        if probs[KINDS.index(other)] >= max(model.threshold, probs[KINDS.index(rc.kind)]):
            out.append(replace(rc, kind=other))
        elif probs[2] < model.drop:  # the rules' reading stands unless the model is sure it is no toll
            out.append(rc)
    covered = [(rc.start, rc.end) for rc in rule_counts]
    fresh = [(c, model.label(c.features, probs)) for c, probs in scored
             if not any(a <= c.num_start < b for a, b in covered)]
    fresh = [(c, kind) for c, kind in fresh if kind != "none"]
    # A number beside a toll the rules read is another group of people (who were arrested, who speak);
    # a lone person beside any stated toll is who speaks or one of those counted, not one more.
    ruled = {k.kind for k in out}
    lone = ("article", "singular", "named")
    stated = ruled | {kind for c, kind in fresh if c.form not in lone}
    grouped = {id(c) for (c, kind), (d, other) in zip(fresh, fresh[1:])  # "a judge and seven relatives"
               if kind == other and c.form in ("article", "named") and _JOIN.match(low[c.end:d.start])}
    fresh = [(c, kind) for c, kind in fresh
             if kind not in (stated if c.form in lone and id(c) not in grouped else ruled)]
    fresh = [(c, kind) for n, (c, kind) in enumerate(fresh)  # "a reporter was killed": one person, said once
             if not (c.form == "singular" and any(d.form in ("article", "named") and k == kind
                                                  for d, k in fresh[:n]))]
    out.extend(_groups(fresh, text, low))
    out.sort(key=lambda c: c.start)
    return out


_JOIN = re.compile(r"^[\w\s'\u2019-]{0,30}?(?:,|\band\b)\s*$")


def _groups(fresh: list[tuple[Candidate, str]], text: str, low: str) -> list[Count]:
    """Counts for the candidates the rules missed; neighbours of one kind joined by "and" or a comma are
    groups of one toll ("killed five soldiers and three civilians")."""
    counts: list[Count] = []
    for c, kind in fresh:
        victims = _victims(low[c.end:c.end + 40])
        last = counts[-1] if counts else None
        if last is not None and last.kind == kind and _JOIN.match(low[last.end:c.start]):
            values = (last.value, c.value)
            counts[-1] = Count(kind, None if None in values else sum(values), (last.low or 0) + (c.low or 0),
                               None if None in (last.high, c.high) else last.high + c.high, last.start, c.end,
                               text[last.start:c.end], tuple(dict.fromkeys(last.victims + victims)))
        else:
            counts.append(Count(kind, c.value, c.low, c.high, c.start, c.end, text[c.start:c.end], victims))
    return counts
