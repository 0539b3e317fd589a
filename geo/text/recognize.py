"""Recognition: find the spans of an article that name places.

No model download: capitalised word runs are matched against the gazetteer (longest match first),
then filtered by the evidence an English news text gives about proper names. A sentence's first word
and headline words are capitalised anyway, so a common word there ("Nice", "Reading", "Share") is only
a place when the place is a major one; a place name inside a longer name ("Jessica Williams", "Asim
Malik") or after a title ("Gen.", "Minister") is a person, and so are later bare uses of that surname.
What these rules keep, the name reader (`names.py`, a small learned model) judges once more: "Douglas
said", "Michael Jordan ... Jordan said" are people.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate, compress
from operator import itemgetter, not_

import numpy as np

from .document import Document, Mention
from .names import NameModel, mention_features, other_uses, place_evidence, shipped_model
from ..places.gazetteer import ABBREV, DEMONYM, FUZZY, KIND_CODE, VARIANT, Gazetteer, NameHit
from ..places.normalize import fold

_TOKEN = re.compile(r"(?:[A-Z][a-z]{0,2}\.){2,}|[^\W\d_]+(?:['\u2019][^\W\d_]+)*")
_TOKEN_SPLIT = re.compile(f"({_TOKEN.pattern})")
_POSSESSIVE = re.compile(r"['\u2019]s?$")  # "Pakistan's", "Afghans'"
_MAX_TOKENS = 6

# Lower-case words that may sit inside a place name: "Bosnia and Herzegovina", "Stoke-on-Trent".
CONNECTORS = frozenset("of the and de del della di da do dos das du des la le les el al es ad ar as ash az ul "
                       "upon on am an en y sur bin ibn van von der den aan".split())
# Capitalised words that may precede a place without making it part of another name.
MODIFIERS = frozenset("north south east west northern southern eastern western central upper lower greater "
                      "inner outer downtown northeast northwest southeast southwest northeastern northwestern "
                      "southeastern southwestern mid coastal rural suburban metro metropolitan occupied "
                      "neighbouring neighboring nearby in at from to near across".split())
# Words that are division or place names somewhere but, alone, almost always mean something else.
GENERIC = MODIFIERS | frozenset("centre center capital coast lakes islands island middle interior plateau "
                                "littoral mountain highlands valley river border union federal national "
                                "january february march april may june july august september october "
                                "november december monday tuesday wednesday thursday friday saturday "
                                "sunday".split())
# Words that make the capitalised name after them a person's.
TITLES = frozenset("mr mrs ms miss dr president gen general minister senator sen rep gov governor mayor judge "
                   "justice officer sgt capt captain col colonel lt maj major prof professor rev pope king queen "
                   "prince princess sheikh imam chief coach sir lord lady spokesman spokeswoman spokesperson "
                   "secretary chairman commander ambassador envoy director adviser advisor by premier "
                   "leader mullah emir saint st".split())
_DATELINE_END = re.compile(r"\s*(?:,|\(|\u2014|\u2013|-|:)")
_LOCATIVE = frozenset("in at near from outside into across to of toward towards via between around "
                      "throughout inside within".split())
_SPEECH = re.compile(r"\s+(?:said|says|told|added|stated|wrote|argued|noted|explained)\b")
# The feature a following or preceding word says the place is.
_FEATURE_AFTER = {"province": "admin1", "state": "admin1", "governorate": "admin1", "region": "admin1",
                  "oblast": "admin1", "prefecture": "admin1", "district": "admin2", "county": "admin2",
                  "city": "city", "town": "city", "village": "city"}
_FEATURE_BEFORE = re.compile(r"\b(?:city|town|village|hamlet|suburb)\s+of\s+$", re.IGNORECASE)
# Words around a name that say it is a place, whatever its spelling: "in X", "countryside of X", "X city".
_CUE_BEFORE = re.compile(r"\b(?:in|at|near|from|outside|into|toward|towards|around|across|between|on|of|to|via|"
                         r"inside|within)\s+(?:the\s+)?$", re.IGNORECASE)
_CUE_AFTER = re.compile(r"[\s-]+(?:city|town|village|hamlet|district|sub-?district|province|governorate|region|"
                        r"countryside|area|camp|neighbou?rhood|suburb|airport|air ?base|crossing|outskirts|"
                        r"municipality|valley|plain|desert)\b", re.IGNORECASE)
_SENTENCE_BREAK = frozenset('.!?\n:;"\u201c\u201d(\u2014\u2013|\u2022')
_WEAK = VARIANT | FUZZY
_MAJOR_KINDS = {KIND_CODE[k] for k in ("country", "admin1", "continent", "region", "water")}


class Recognizer:
    """Pipeline component: fills `doc.mentions`."""

    def __init__(self, gazetteer: Gazetteer, demonyms: bool = True, names: NameModel | None | str = "shipped") -> None:
        """`names`: the name reader's model, which drops people and organisations named like places
        (None: the rules alone)."""
        self.gaz = gazetteer
        self.demonyms = demonyms
        self.names = shipped_model() if names == "shipped" else names
        self.common = gazetteer.common_words
        self._name_cache: dict[tuple[str, bool], tuple[NameHit, ...]] = {}
        rows = gazetteer.places
        self._population = rows["population"].tolist()
        self._is_major = (np.isin(rows["kind"], list(_MAJOR_KINDS)) | (rows["population"] >= 1_000_000)
                          | (rows["capital"] > 0)).tolist()
        self._kind = rows["kind"].tolist()

    def __call__(self, doc: Document) -> Document:
        doc.mentions = self.find(doc.text)
        return doc

    # -- tokens and their case evidence -------------------------------------------------------
    def _tokens(self, text: str):
        # re.split with a capturing group hands over words and the gaps between them in one C call.
        parts = _TOKEN_SPLIT.split(text)
        gaps, words = parts[0:-1:2], parts[1::2]
        n = len(words)
        # Offsets by running sums, and only the few words and gaps that can matter visited in Python
        # (map and compress loop in C): a huge text has millions of words.
        bounds = list(accumulate(map(len, parts)))
        toks = list(zip(bounds[0:-1:2], bounds[1::2], words))
        uninformative = [False] * n  # capitalised because of its position, not as a name
        caps_ok = [False] * n        # an all-caps word that may be a name (dateline, headline)
        line_starts = [0]
        for i in compress(range(n), map(" ".__ne__, gaps)):  # most gaps are one space: nothing to look for
            if not _SENTENCE_BREAK.isdisjoint(gaps[i]):
                uninformative[i] = True
            if "\n" in gaps[i]:
                line_starts.append(i)
        for i in compress(range(n), map(str.isupper, words)):
            if len(words[i]) > 2 and (i == line_starts[bisect_right(line_starts, i) - 1]
                                      or (caps_ok[i - 1] and gaps[i] == " ")):
                caps_ok[i] = True
        if n:
            uninformative[0] = True
        self._mark_datelines(text, toks, uninformative, caps_ok)
        self._mark_headlines(text, toks, uninformative, caps_ok)
        return toks, uninformative, caps_ok

    @staticmethod
    def _mark_datelines(text, toks, uninformative, caps_ok) -> None:
        """"BEIRUT (AP) -", "NEW YORK, March 3": an all-caps run opening a sentence, then punctuation."""
        n = len(toks)
        i = 0
        while i < n:
            if not (uninformative[i] and toks[i][2].isupper() and len(toks[i][2]) >= 3):
                i += 1
                continue
            j = i + 1
            while j < n and toks[j][2].isupper() and text[toks[j - 1][1]:toks[j][0]] in (" ", "-"):
                j += 1
            if _DATELINE_END.match(text, toks[j - 1][1]):
                for k in range(i, j):
                    caps_ok[k] = True
            i = j

    @staticmethod
    def _mark_headlines(text, toks, uninformative, caps_ok) -> None:
        """Title-case and all-caps lines say nothing about which words are names."""
        i = 0
        n = len(toks)
        while i < n:
            j = i
            line_end = text.find("\n", toks[i][0])
            line_end = len(text) if line_end < 0 else line_end
            while j < n and toks[j][0] < line_end:
                j += 1
            if j - i > 40:  # a paragraph, not a headline
                i = j
                continue
            words = [t for _, _, t in toks[i:j] if len(t) > 3]
            if len(words) >= 3:
                caps = sum(t[0].isupper() for t in words)
                if caps >= 0.75 * len(words):
                    allcaps = sum(t.isupper() for t in words) >= 0.75 * len(words)
                    for k in range(i, j):
                        uninformative[k] = True
                        caps_ok[k] = caps_ok[k] or allcaps
            i = max(j, i + 1)

    # -- matching ---------------------------------------------------------------------------
    def find(self, text: str) -> list[Mention]:
        toks, uninformative, caps_ok = self._tokens(text)
        n = len(toks)
        folded = [None] * n
        surnames: set[str] = set()
        mentions: list[Mention] = []

        def key(k: int) -> str:
            if folded[k] is None:
                folded[k] = fold(_POSSESSIVE.sub("", toks[k][2]))
            return folded[k]

        # Whether each word may be (part of) a name: capitalised, or all caps where that is allowed.
        # A word opening in lower case is none (looked at in C); the others one by one.
        name_like = [False] * n
        starts = []
        first_letters = map(itemgetter(0), map(itemgetter(2), toks))
        for k in compress(range(n), map(not_, map(str.islower, first_letters))):
            t = toks[k][2]
            if (caps_ok[k] or len(t) <= 5) if len(t) > 1 and t.isupper() else t[0].isupper():
                name_like[k] = True
                starts.append(k)
        i = 0
        for first in starts:
            if first < i:
                continue
            i = first
            # The run of name-like words (and connectors between them) starting here.
            j = i + 1
            while j < n:
                gap = text[toks[j - 1][1]:toks[j][0]]
                if gap not in (" ", "-", ". ") or (gap == ". " and toks[j - 1][2] not in ("St", "Mt", "Ft", "Ste")):
                    break
                if toks[j - 1][2].endswith(("'s", "\u2019s")):
                    break
                if name_like[j]:
                    j += 1
                    continue
                # Up to two connectors between names: "Bosnia and Herzegovina", "Republic of the Congo".
                k = j
                while k < n and k - j < 2 and toks[k][2] in CONNECTORS and \
                        (k == j or text[toks[k - 1][1]:toks[k][0]] in (" ", "-")):
                    k += 1
                if j < k < n and name_like[k] and text[toks[k - 1][1]:toks[k][0]] in (" ", "-"):
                    j = k + 1
                else:
                    break
            mentions.extend(self._match_run(text, toks, i, j, key, uninformative, caps_ok, surnames))
            i = j
        if surnames:
            mentions = [m for m in mentions if not (m.role == "name" and fold(m.text) in surnames
                                                    and not self._major(m.hits))]
        if self.names is not None:
            mentions = self._drop_names(text, mentions)
        self._link_qualifiers(text, mentions)
        return mentions

    def name_features(self, text: str, mentions: list[Mention]) -> list[tuple[str, ...]]:
        """What the name reader (`names.py`) reads of each mention."""
        return [mention_features(text, m, place_evidence(
            [h for h in m.hits if not h.flags & _WEAK], self._population, self._is_major, self._kind,
            min(self.common.get(fold(w), 0.0) for w in m.text.split())), others)
            for m, others in zip(mentions, other_uses(text, mentions))]

    @staticmethod
    def name_candidates(mentions: list[Mention]) -> list[Mention]:
        """The mentions the name reader judges: not demonyms, nor names reached only as another
        romanisation, which the resolver already asks the article to support ("Bokamal", "Tabaqa")."""
        return [m for m in mentions if m.role != "demonym" and not all(h.flags & _WEAK for h in m.hits)]

    def _drop_names(self, text: str, mentions: list[Mention]) -> list[Mention]:
        """The mentions the name reader takes for places, and those it does not judge."""
        judged = self.name_candidates(mentions)
        kept = self.names.places(text, judged, self.name_features(text, judged))
        judged_ids = {id(m) for m in judged}
        return [m for m in mentions if id(m) in kept or id(m) not in judged_ids]

    def _lookup(self, text, toks, a: int, b: int, key, caps_ok, skeleton: bool) -> tuple[list[NameHit], int]:
        """Hits for tokens a..b-1 and the end offset of the name (an abbreviation may take a '.')."""
        e = toks[b - 1][1]
        if b - a == 1:
            tok = toks[a][2]
            verbatim = [h for h in self.gaz.lookup(tok) if h.flags & ABBREV]
            if text.startswith(".", e):
                dotted = [h for h in self.gaz.lookup(tok + ".") if h.flags & ABBREV]
                if dotted:
                    return dotted, e + 1
            if (tok.isupper() and not caps_ok[a]) or len(tok) <= 2:
                return verbatim, e  # two letters name a place only as an abbreviation ("UK"), not "Al"
            return verbatim + self._name_hits(key(a), skeleton), e
        return self._name_hits(" ".join(key(t) for t in range(a, b)), skeleton), e

    def _name_hits(self, k: str, skeleton: bool) -> list[NameHit]:
        """Places named `k`, then those it is another romanisation of ("Deir Ezzor"); places sharing only
        its consonants when nothing else matches. The resolver asks the article to support the latter."""
        hits = self._name_cache.get((k, skeleton))
        if hits is None:
            hits = self._find_name_hits(k, skeleton)
            if len(self._name_cache) < 200_000:  # names recur; bound the memory
                self._name_cache[(k, skeleton)] = hits
        return list(hits)

    def _find_name_hits(self, k: str, skeleton: bool) -> tuple[NameHit, ...]:
        hits = tuple(h for h in self.gaz.lookup(k) if not h.flags & ABBREV)
        if all(self.common.get(w, 0.0) >= 3.0 for w in k.split()):
            return hits  # English words and names ("School", "Taylor") are no one's romanisation
        exact = {h.place for h in hits}
        return hits + tuple(h for h in self.gaz.variant_hits(k, skeleton=skeleton and not hits)
                            if h.place not in exact)

    def _longest(self, text, toks, a: int, shortest: int, j: int, key, caps_ok, skeleton: bool):
        """(end token, hits, end offset) of the longest name from token a ending after token `shortest`."""
        for b in range(min(j, a + _MAX_TOKENS), shortest, -1):
            if toks[b - 1][2] not in CONNECTORS:
                hits, end = self._lookup(text, toks, a, b, key, caps_ok, skeleton)
                if hits:
                    return b, hits, end
        return None

    def _opens_name(self, toks, i: int, j: int, key) -> bool:
        """Whether a common word opens a longer name as written: "NEW YORK", "The Hague"."""
        return any(self.gaz.lookup(" ".join(key(t) for t in range(i, b)))
                   for b in range(min(j, i + _MAX_TOKENS), i + 1, -1) if toks[b - 1][2] not in CONNECTORS)

    def _match_run(self, text, toks, i, j, key, uninformative, caps_ok, surnames) -> list[Mention]:
        out: list[Mention] = []
        # A title before the run makes the run a person's name.
        if i > 0 and fold(toks[i - 1][2]) in TITLES and text[toks[i - 1][1]:toks[i][0]] in (" ", ". ") \
                and toks[i - 1][2] != "by":  # "By Jessica Williams" is a byline; "killed by Israeli fire" is not
            surnames.add(key(j - 1))
            return out
        # Sentence-opening function words ("In", "But") are not part of the name that follows.
        while i < j - 1 and uninformative[i] and self.common.get(key(i), 0) >= 5.5 and not self._major(
                self.gaz.lookup(key(i))) and not self._opens_name(toks, i, j, key):
            i += 1
        prev_word = text[max(0, toks[i][0] - 12):toks[i][0]].split()
        locative = bool(prev_word) and prev_word[-1].lower() in _LOCATIVE
        spans: list[int] = []
        a = i
        matched_before = False
        while a < j:
            if toks[a][2] in CONNECTORS or toks[a][2] == "The":
                a += 1
                continue
            # Longest match first, under the name as written or another romanisation of it; then a longer
            # consonant-skeleton match may replace a variant of its first word, never a name as
            # written ("IBA-Karachi" keeps Karachi).
            found = self._longest(text, toks, a, a, j, key, caps_ok, skeleton=False)
            if found is None or all(h.flags & _WEAK for h in found[1]):
                found = self._longest(text, toks, a, found[0] if found else a, j, key, caps_ok, skeleton=True) or found
            if not found:
                a += 1
                matched_before = False
                continue
            b, hits, end = found
            start = toks[a][0]
            possessive = _POSSESSIVE.search(toks[b - 1][2])
            if possessive:
                end -= len(possessive.group())
            surface = text[start:end]
            verdict = self._judge(text, toks, i, j, a, b, hits, key, uninformative, matched_before, locative)
            if verdict == "person":
                surnames.add(key(b - 1))
            elif verdict:
                role = "demonym" if all(h.flags & DEMONYM for h in hits) else (
                    "abbreviation" if all(h.flags & ABBREV for h in hits) else "name")
                if role != "demonym" or self.demonyms:
                    cued = bool(_CUE_BEFORE.search(text, max(0, start - 30), start) or _CUE_AFTER.match(text, end))
                    out.append(Mention(start, end, surface, hits, role, self._feature(text, toks, b, start),
                                       cued=cued))
                    spans.append(b - a)
            # A skeleton or variant match is no evidence that "Barangay" in "Barangay Paciano" is a place.
            matched_before = bool(verdict) and verdict != "person" and not all(h.flags & _WEAK for h in hits)
            a = b
        # "Michael Flores": two or three capitalised words, each a minor place at most, are a person
        # ("Downtown Greer" is not: a modifier opens it).
        if 2 <= j - i <= 3 and out and not locative and all(w == 1 for w in spans) and key(i) not in MODIFIERS and \
                not any(self._major(m.hits) for m in out) and all(
                    toks[k][2] not in CONNECTORS and not toks[k][2].isupper() for k in range(i, j)):
            surnames.add(key(j - 1))
            return []
        return out

    def _populous(self, hits, population: int) -> bool:
        return any(self._population[h.place] >= population for h in hits if not h.flags & _WEAK)

    def _major(self, hits) -> bool:
        """Whether any reading under the name as written is a country, division, region or a city of a
        million or a capital (another romanisation is no evidence that a word is a name)."""
        return any(self._is_major[h.place] for h in hits if not h.flags & _WEAK)

    def _judge(self, text, toks, i, j, a, b, hits, key, uninformative, matched_before, locative):
        """True to keep a match, "person" when it is part of a person's name, False to drop it."""
        major = self._major(hits)
        single = b - a == 1
        word = key(a) if single else None
        if a > i and not matched_before:
            prev = toks[a - 1][2]
            prev_key = key(a - 1)
            if prev_key in TITLES and prev_key not in ("by", "st"):  # not "22nd St. North"
                return "person"  # "Senator Flores said" opening a sentence: the title is in the run
            if prev not in CONNECTORS and prev_key not in MODIFIERS and not (
                    uninformative[a - 1] and self.common.get(prev_key, 0) >= 3.5) and not (
                    prev.isupper() and len(prev) > 1):
                # "Jessica Williams", "Asim Malik": a name after a capitalised word is a person's.
                return "person" if b == j and b - i <= 3 and not major else (major and single)
        if single and word in GENERIC:
            return False  # "South", "Centre", "May" alone
        if single and not (toks[a][2].isupper() and len(toks[a][2]) <= 5 and all(h.flags & ABBREV for h in hits)):
            zipf = self.common.get(word, 0.0)
            if uninformative[a] and zipf >= (4.5 if locative else 3.0) and not major:
                return False  # "Nice weather", "Reading the report", "Share:"
            if not locative and zipf >= 4.0 and not major and not self._populous(hits, 100_000):
                return False  # "Police", "Act", "Congress" are words first
        if single and b == j and not major and _SPEECH.match(text, toks[b - 1][1]):
            return "person"
        return True

    @staticmethod
    def _feature(text, toks, b, start) -> str | None:
        if b < len(toks) and text[toks[b - 1][1]:toks[b][0]] == " ":
            feature = _FEATURE_AFTER.get(toks[b][2].lower())
            if feature:
                return feature
        if _FEATURE_BEFORE.search(text, max(0, start - 20), start):
            return "city"
        # A dateline names the city the story was filed from: "NEW YORK (Reuters) -", "BEIRUT, Lebanon -".
        end = toks[b - 1][1]
        if text[start:end].isupper() and (start == 0 or text[start - 1] == "\n") and _DATELINE_END.match(text, end):
            return "city"
        return None

    @staticmethod
    def _link_qualifiers(text: str, mentions: list[Mention]) -> None:
        """"Springfield, Illinois", "Chaman, Pakistan": the second mention narrows the first."""
        for k in range(len(mentions) - 1):
            m, q = mentions[k], mentions[k + 1]
            if text[m.end:q.start] in (", ", ",") and q.role != "demonym":
                m.qualified_by = k + 1
