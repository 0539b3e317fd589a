"""Casualty counts in a sentence: who was killed or wounded, how many, and the words that say so.

Counts follow ACLED's conservative coding and UCDP's ranges: "at least 7" is 7 with no upper bound,
"dozens" 12 and "hundreds" 100 (lower bounds), "several" no number but at least 2; sums of named
groups ("23 Pakistani soldiers and nine Afghan soldiers are killed") add up; a number after
"including" is a part of a toll, not another one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..places.normalize import lower_same_length

_UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
          "sixteen seventeen eighteen nineteen").split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
WORD_VALUES = {w: i for i, w in enumerate(_UNITS)} | {w: 20 + 10 * i for i, w in enumerate(_TENS)}
# Vague quantities: (value, low, high). ACLED: "dozens" = 12, "hundreds" = 100; "several" has no number.
VAGUE = {"dozens": (12, 12, None), "a dozen": (12, 12, 12), "scores": (20, 20, None),
         "hundreds": (100, 100, None), "thousands": (1000, 1000, None), "several": (None, 2, None),
         "a few": (None, 2, None), "a number": (None, 2, None), "many": (None, 2, None),
         "some": (None, 1, None), "a handful": (None, 2, None)}
IMPLAUSIBLE = 500_000  # more killed or wounded than this in one incident is a misreading or a typo

_RANGE = re.compile(r"(\d{1,3})\s?[-\u2013]\s?(\d{1,3})")
_WORD_NUM = (r"(?:(?:%s)(?:[-\s](?:%s))?|%s)(?:\s+hundred(?:\s+and\s+(?:%s))?)?"
             % ("|".join(_TENS), "|".join(_UNITS[1:10]), "|".join(sorted(_UNITS, key=len, reverse=True)),
                "|".join(_TENS + sorted(_UNITS[1:], key=len, reverse=True))))
NUMBER = (r"(?:\d{1,3}\s?[-\u2013]\s?\d{1,3}(?![\d,])|"  # a range: "5-6"
          r"\d{1,3}(?:,\d{3})+|\d+|a\s+hundred|one\s+hundred|a\s+dozen|a\s+handful|a\s+few|a\s+number|"
          r"dozens|hundreds|thousands|scores|several|many|" + _WORD_NUM + r")")
QUALIFIER = (r"(?:at\s+least\s+another|at\s+least|more\s+than|over|nearly|almost|about|around|approximately|roughly|an\s+estimated|"
             r"a\s+total\s+of|up\s+to|as\s+many\s+as|fewer\s+than|less\s+than|at\s+most|another|some)")
_Q_NUM = rf"(?P<qual>{QUALIFIER}\s+)?(?P<num>{NUMBER})\b"
_KILLED = r"killed|dead|died|slain|deaths|fatalities|bodies|shot\s+dead|lost\s+their\s+lives"
_WOUNDED = r"wounded|injured|hurt|injuries|hospitali[sz]ed"
_AUX = r"(?:(?:were|are|was|is|have\s+been|has\s+been|had\s+been|being|been|got|left|reported|later|" \
       r"confirmed|reportedly|also|all|critically|seriously|severely|fatally|badly|slightly)\s+)*"
_NP_WORD = r"(?!(?:and|or|in|at|on|by|from|with|after|during|for|when|while|that|who|which|were|are|was|is|" \
           r"have|has|had|to|but|as|including|killed|wounded|injured|dead)\b)[\w'\u2019-]+"
# "four Afghan civilians were killed", "five others wounded", "Dozens of people are killed", "eight deaths"
# "Three Palestinians, including a child, are killed"; not "several of the wounded" (a noun there)
_PASSIVE = re.compile(rf"\b{_Q_NUM}(?P<np>(?:\s+{_NP_WORD}){{0,5}}?)(?<!\bthe)(?:,\s+including\s+[^,.;]{{1,40}},)?"
                      rf"(?:\s+(?:who|that))?\s+{_AUX}(?P<verb>{_KILLED}|{_WOUNDED})\b")
# "killing at least 19 people", "injures over 200 others", "killed dozens"
_ACTIVE = re.compile(rf"\b(?P<verb>kill|kills|killed|killing|wound|wounds|wounded|wounding|injure|injures|injured|"
                     rf"injuring)\s+{_Q_NUM}(?P<np>(?:\s+{_NP_WORD}){{0,3}})")
_TOLL = re.compile(rf"\bdeath\s+toll\s+(?:(?:from|in|of)\s+[^.;]{{0,60}}?\s+)?(?:has\s+|had\s+)?(?:rose|rises|risen|climbed|climbs|reached|reaches|"
                   rf"stands\s+at|stood\s+at|increased|jumped|is|was|of|at|now)\s+(?:to\s+|at\s+)?{_Q_NUM}")
_ONE = re.compile(r"\b(?:a|an|one)\s+(?:[\w'\u2019-]+\s+){0,3}?(?P<np>man|woman|child|boy|girl|civilian|soldier|"
                  r"person|policeman|policewoman|officer|journalist|teenager|student|worker|resident|farmer|"
                  r"fighter|militant|guard|pilot|aid\s+worker|protester)\s+(?:was|has\s+been|had\s+been|is)\s+"
                  r"(?:\w+\s+)?(?P<verb>killed|shot\s+dead|wounded|injured)\b")
_ANOTHER = re.compile(r"\banother\s+(?:[\w'\u2019-]+\s+){0,2}?(?:has\s+|had\s+)?(?P<verb>died|was\s+killed|"
                      r"was\s+shot\s+dead|succumbed|was\s+wounded|was\s+injured)\b")
_NONE = re.compile(r"\b(?:no\s+(?:one|deaths|casualties|fatalities|injuries)|nobody)\b(?:[^.]{0,30}?"
                   r"(?P<verb>killed|hurt|injured|wounded|dead))?")
_VERB_TAKES_OBJECT = re.compile(rf"\s+(?:{QUALIFIER}\s+)?(?:\d|(?:{_WORD_NUM})\b|(?:a|an|the|his|her|their|"
                                rf"dozens|scores|hundreds|several|many)\s)")
_AUX_WORD = re.compile(r"\b(?:were|are|was|is|been|being|got)\b")
_GROUP_BEFORE = re.compile(rf"{_Q_NUM}(?:\s+{_NP_WORD}){{0,4}}\s*(?:,|,?\s+and)\s+$")
_GROUP_AFTER = re.compile(rf"\s*(?:,|,?\s+and)\s+{_Q_NUM}(?P<np>(?:\s+{_NP_WORD}){{1,3}})")
_AUX_AFTER = re.compile(r"\s+(?:were|are|was|is|have|has|had|got|remain|remained)\b")
_VERB_BEFORE = re.compile(r"\b(?:kill|kills|killed|killing|wound|wounds|wounded|wounding|injure|injures|injured|"
                          r"injuring)\s+$")
_SUBSET_BEFORE = re.compile(r"\b(?:including|among\s+them|among\s+whom|of\s+whom|of\s+them)\s+$")
_INCLUDING = re.compile(r",?\s+including\s+([^.;:]{0,80}?)(?=,?\s+and\s+(?:wound|injur|kill)|[.;:]|$)")
_NOT_A_COUNT = re.compile(r"\s*(?:-|percent|%|km|kilomet|miles?|years?|days?|hours?|weeks?|months?|times|"
                          r"am|pm|a\.m|p\.m|,\s*(?:19|20)\d\d)")

VICTIM_WORDS = {
    "civilians": "civilian civilians child children woman women man men resident residents villager villagers "
                 "worshipper worshippers student students journalist journalists pilgrim pilgrims refugee "
                 "refugees farmer farmers passenger passengers family families boy boys girl girls teenager "
                 "teenagers worker workers patients",
    "soldiers": "soldier soldiers troop troops personnel servicemen servicemembers marines army military",
    "police": "police policeman policemen policewoman officers officer guards guard security",
    "militants": "militant militants fighter fighters insurgent insurgents rebel rebels gunmen gunman attackers "
                 "bandit bandits jihadist jihadists terrorists vigilante vigilantes militiamen volunteers assailants",
    "protesters": "protester protesters demonstrator demonstrators",
}
_VICTIM = {w: category for category, words in VICTIM_WORDS.items() for w in words.split()}


@dataclass(frozen=True, slots=True)
class Count:
    """One stated count of killed or wounded."""

    kind: str                 # "killed" or "wounded"
    value: int | None         # the number to code (ACLED's conservative reading); None when only vague
    low: int | None
    high: int | None
    start: int
    end: int
    text: str                 # the words that state it: "at least 19 people", "dozens"
    victims: tuple[str, ...] = ()
    subset: bool = False      # "including three children": part of another count
    revised: bool = False     # "the death toll rose to": replaces earlier counts
    rejected: str | None = None
    more: bool = False        # "another died", "another 40 wounded": adds to the toll told before


def parse_number(words: str) -> tuple[int | None, int | None, int | None]:
    """(value, low, high) of a number written in digits or words: "23", "twenty-three", "dozens"."""
    span = _RANGE.fullmatch(words.strip())
    if span:  # "5-6 people": the lower as the count, both as the range (UCDP's low and high)
        low, high = sorted((int(span.group(1)), int(span.group(2))))
        return low, low, high
    w = " ".join(words.lower().replace("-", " ").split())
    if w in VAGUE:
        return VAGUE[w]
    if w.replace(",", "").isdigit():
        n = int(w.replace(",", ""))
        return n, n, n
    total, current = 0, 0
    for part in w.split():
        if part in ("a", "and"):
            current = current or (1 if part == "a" else 0)
        elif part == "hundred":
            current = (current or 1) * 100
        elif part in WORD_VALUES:
            current += WORD_VALUES[part]
        else:
            return None, None, None
    total += current
    return total, total, total


def _bounds(qualifier: str, value: int | None, low: int | None, high: int | None):
    q = " ".join(qualifier.lower().split())
    if value is None:
        return value, low, high
    if q in ("at least", "more than", "over", "another", "at least another", "some"):
        return value, value, None
    if q in ("up to", "as many as", "fewer than", "less than", "at most"):
        return value, None, value
    return value, low, high


def find_counts(text: str, start: int, end: int, low: str | None = None) -> list[Count]:
    """Counts of killed and wounded stated in `text[start:end]`, in text order (`low`: the text as
    `lower_same_length` gives it, when the caller has it)."""
    original = text
    text = lower_same_length(text) if low is None else low
    found: list[Count] = []
    taken: list[tuple[int, int]] = []

    def free(s: int, e: int) -> bool:
        return all(e <= a or s >= b for a, b in taken)

    for m in _TOLL.finditer(text, start, end):
        _add(found, taken, text, m, "killed", original, revised=True)
    for m in _NONE.finditer(text, start, end):
        phrase = m.group().lower()
        kinds = [_kind(m.group("verb"))] if m.group("verb") else \
            ["wounded"] if "injur" in phrase else ["killed"] if ("death" in phrase or "fatal" in phrase) \
            else ["killed", "wounded"]
        found.extend(Count(k, 0, 0, 0, m.start(), m.end(), original[m.start():m.end()]) for k in kinds)
        taken.append((m.start(), m.end()))
    for m in _PASSIVE.finditer(text, start, end):
        if _VERB_TAKES_OBJECT.match(text, m.end()) and not _AUX_WORD.search(text, m.start("num"), m.start("verb")):
            continue  # "two suicide bombers killed at least 35": who killed, not who died
        if free(m.start("num"), m.end("num")):
            _add_group(found, taken, text, m, start, original)
    for m in _ACTIVE.finditer(text, start, end):
        if free(m.start("num"), m.end("num")):
            count = _add(found, taken, text, m, _kind(m.group("verb")), original)
            if count is not None:
                _add_objects(found, taken, text, m, count, end, original)
    for m in _ONE.finditer(text, start, end):
        if free(m.start(), m.end()):
            found.append(Count(_kind(m.group("verb")), 1, 1, 1, m.start(), m.end(), original[m.start():m.end()],
                               _victims(m.group("np"))))
            taken.append((m.start(), m.end()))
    for m in _ANOTHER.finditer(text, start, end):
        if free(m.start(), m.end()):
            found.append(Count(_kind(m.group("verb")), 1, 1, 1, m.start(), m.end(), original[m.start():m.end()],
                               more=True))
            taken.append((m.start(), m.end()))
    found.sort(key=lambda c: c.start)
    return found


def _kind(verb: str) -> str:
    v = verb.lower()
    return "wounded" if v.startswith(("wound", "injur", "hurt", "hospital")) else "killed"


def _victims(np: str) -> tuple[str, ...]:
    out = []
    for w in np.lower().replace("\u2019", "'").split():
        category = _VICTIM.get(w.strip(",.'"))
        if category and category not in out:
            out.append(category)
    return tuple(out)


def _is_count(text: str, m: re.Match) -> bool:
    num = m.group("num")
    if len(num) == 4 and num[:2] in ("19", "20") and num.isdigit():
        return False  # a year
    return not _NOT_A_COUNT.match(text, m.end("num"))


def _add(found, taken, text, m, kind, original, revised=False, subset=None) -> Count | None:
    if not _is_count(text, m):
        return None
    value, low, high = _bounds(m.group("qual") or "", *parse_number(m.group("num")))
    if value is None and low is None:
        return None
    s = min(m.start("qual") if m.group("qual") else m.start("num"), m.start())
    np = m.groupdict().get("np") or ""
    listed = _INCLUDING.match(text, m.end())
    if listed and not any(c.isdigit() for c in listed.group(1)):
        np += " " + listed.group(1)  # "killed dozens, including soldiers, civilians, and militants"
    rejected = None
    if value is not None and value > IMPLAUSIBLE:
        rejected = f"{value:,} {kind} in one incident is not plausible; count left out"
        value = low = high = None
    if subset is None:
        subset = bool(_SUBSET_BEFORE.search(text, max(0, s - 25), s))
    count = Count(kind, value, low, high, s, m.end(), original[s:m.end()].rstrip(), _victims(np), subset, revised,
                  rejected, more=(m.group("qual") or "").lower().rstrip().endswith("another"))
    found.append(count)
    taken.append((s, m.end()))
    return count


def _add_objects(found, taken, text, m, first: Count, end: int, original: str) -> None:
    """The groups after an active verb: "killing 12 soldiers and five volunteers" is 17."""
    parts, cursor = [first], m.end()
    while True:
        g = _GROUP_AFTER.match(text, cursor, end)
        if not g or not _is_count(text, g) or _AUX_AFTER.match(text, g.end()):
            break  # "killed two people and five others were wounded": a clause of its own
        value, low, high = _bounds(g.group("qual") or "", *parse_number(g.group("num")))
        parts.append(Count(first.kind, value, low, high, g.start("num"), g.end(), original[g.start("num"):g.end()],
                           _victims(g.group("np"))))
        cursor = g.end()
    if len(parts) > 1:
        found.remove(first)
        found.append(_sum(parts, first.start, cursor, original, first.subset))
        taken.append((first.start, cursor))


def _sum(parts: list[Count], start: int, end: int, original: str, subset: bool) -> Count:
    """One count for groups told together: values add; a missing value leaves the sum open."""
    values = [p.value for p in parts]
    highs = [p.high for p in parts]
    victims = tuple(dict.fromkeys(v for p in parts for v in p.victims))
    return Count(parts[0].kind, sum(values) if None not in values else None, sum(p.low or 0 for p in parts),
                 sum(highs) if None not in highs else None, start, end, original[start:end], victims, subset)


def _add_group(found, taken, text, m, floor: int, original: str) -> None:
    """A passive count and the groups joined to it before the verb: "23 soldiers and nine militants"."""
    kind = _kind(m.group("verb"))
    last = _add(found, taken, text, m, kind, original)
    if last is None:
        return
    parts = [last]
    cursor = last.start
    while True:
        g = _GROUP_BEFORE.search(text, max(floor, cursor - 80), cursor)
        if not g or g.end() != cursor or not _is_count(text, g):
            break
        if _VERB_BEFORE.search(text, max(floor, g.start() - 20), g.start()):
            break  # "killed two people and five others were wounded": the object of another verb
        value, low, high = _bounds(g.group("qual") or "", *parse_number(g.group("num")))
        s = g.start("qual") if g.group("qual") else g.start("num")
        parts.append(Count(kind, value, low, high, s, g.end("num"), original[s:g.end("num")],
                           _victims(text[g.end("num"):g.end()])))
        cursor = s
    if len(parts) == 1:
        return
    found.pop()
    parts.reverse()
    found.append(_sum(parts, parts[0].start, m.end(), original,
                      bool(_SUBSET_BEFORE.search(text, max(0, parts[0].start - 25), parts[0].start))))
    taken.append((parts[0].start, m.end()))
