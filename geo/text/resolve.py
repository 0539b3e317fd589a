"""Resolution: choose, for each place mention, the gazetteer entry it means.

Each candidate is scored by how prominent the place is (population, kind, capital), how the name
relates to it (its own name or an alternate), what the words around the mention say ("X province",
"Springfield, Ill."), and which countries the article is about (Chaman with Pakistan in the text is
Chaman, Pakistan; Kabul in an article about Afghanistan is not the Kabul in Israel). A name keeps one
meaning within an article.
"""
from __future__ import annotations


import numpy as np

from .document import Document, Mention, ResolvedPlace
from ..places.geodesy import km_matrix, unit_vectors
from ..places.gazetteer import DEMONYM, FUZZY, KIND_CODE, PRIMARY, VARIANT, Gazetteer, importance
from ..places.normalize import fold
from ..places.transliterate import variant_key

_COUNTRY = KIND_CODE["country"]
_FEATURE_KINDS = {"admin1": (KIND_CODE["admin1"],), "admin2": (KIND_CODE["admin2"], KIND_CODE["city"]),
                  "city": (KIND_CODE["city"],)}
ALTERNATIVES = 5
# A spelling variant ("Deir Ezzor") stands without support when the name is long enough to be specific
# or the place prominent; a consonant-skeleton match ("Tabaqa") only inside the article's country.
SPECIFIC_VARIANT = 8
PROMINENT = 5.0        # importance(): a city of about 100,000, a province
SUPPORTING_SHARE = 0.2
COHERENCE_TOP = 10    # readings of each name that lend and gain closeness
COHERENCE_KM = 400.0
NEEDS_COUNTRY, NEEDS_CUE = 1, 2  # the article's country; that and a cue around the mention
CITY_OVER_PROVINCE = 1.0  # a bare "Daraa": the city, by a margin the article's other places rarely undo


class Resolver:
    """Pipeline component: fills `doc.places` from `doc.mentions`."""

    def __init__(self, gazetteer: Gazetteer, context_weight: float = 3.0, admin1_weight: float = 2.0,
                 qualifier_weight: float = 6.0, coherence_weight: float = 8.0) -> None:
        self.gaz = gazetteer
        self.context_weight = context_weight
        self.admin1_weight = admin1_weight
        self.qualifier_weight = qualifier_weight
        self.coherence_weight = coherence_weight
        self._cache: dict[tuple, tuple] = {}

    def __call__(self, doc: Document) -> Document:
        doc.places = self.resolve(doc.mentions)
        return doc

    def _candidates(self, m: Mention):
        key = (m.text, m.role, m.feature)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._score_candidates(m)
            if len(self._cache) < 100_000:
                self._cache[key] = cached
        return cached

    def _score_candidates(self, m: Mention):
        hits = m.hits
        if m.role == "demonym":
            hits = [h for h in hits if h.flags & DEMONYM] or hits
        idx = np.fromiter((h.place for h in hits), dtype=np.int64, count=len(hits))
        rows = self.gaz.places[idx]
        flags = np.fromiter((h.flags for h in hits), dtype=np.int64, count=len(hits))
        prior = importance(rows)
        variant = (flags & VARIANT) > 0
        fuzzy = (flags & FUZZY) > 0
        base = prior + 0.7 * ((flags & PRIMARY) > 0) - 1.0 * variant - 2.0 * fuzzy
        if m.feature:
            base = base + 3.0 * np.isin(rows["kind"], _FEATURE_KINDS[m.feature])
        else:
            base = _city_for_its_province(rows, base)
        # What support each candidate needs: none for the name as written; for a spelling variant, none
        # when the name is specific or the place prominent, else the article's country; for a skeleton
        # match, the article's country and a cue around the mention ("in X", "X city").
        length = len(variant_key(fold(m.text)))
        standalone = (length >= SPECIFIC_VARIANT) | ((prior >= PROMINENT) & (length >= 6))
        needs = np.where(fuzzy, NEEDS_CUE, np.where(variant & ~standalone, NEEDS_COUNTRY, 0))
        return idx, rows, base, needs, unit_vectors(rows["lat"], rows["lon"])

    def resolve(self, mentions: list[Mention]) -> list[ResolvedPlace]:
        scored = [self._candidates(m) for m in mentions]
        # The article's countries: those it names, and those of names with one clear reading.
        weight = np.zeros(len(self.gaz.countries))
        admin1_weight = np.zeros(len(self.gaz.admin1s))
        seen: set[str] = set()
        votes: dict[str, tuple[int, int, float]] = {}
        for m, (idx, rows, base, needs, _) in zip(mentions, scored):
            # Each name counts once: twenty "Dublin"s must not outvote one "Ohio".
            if m.text in seen or (needs > 0).all():  # another spelling is no evidence of the country
                continue
            seen.add(m.text)
            best = int(base.argmax())
            margin = base[best] - np.partition(base, -2)[-2] if len(base) > 1 else 10.0
            if margin > (3.0 if rows["kind"][best] == _COUNTRY else 1.5):
                votes[m.text] = (int(rows["country"][best]), int(rows["admin1"][best]),
                                 2.0 if rows["kind"][best] == _COUNTRY else 1.0)
                weight[votes[m.text][0]] += votes[m.text][2]
                admin1_weight[votes[m.text][1]] += 1.0

        # Each name (or qualified mention) scored once: prominence, the article's countries and divisions,
        # a qualifier; candidates the article does not support for their spelling are ruled out.
        groups: dict[tuple, int] = {}
        group_of = [groups.setdefault((fold(m.text), k if m.qualified_by is not None else -1), k)
                    for k, m in enumerate(mentions)]
        scores: dict[int, np.ndarray] = {}
        for k in groups.values():
            m = mentions[k]
            idx, rows, base, needs, _ = scored[k]
            if len(idx) == 1 and not needs[0]:
                scores[k] = base  # one reading, nothing to weigh
                continue
            # A name's own vote does not count for it: "Athens" must not outvote ", Georgia".
            own = votes.get(m.text) if len(idx) > 1 else None
            share = _shares(rows["country"], weight, own and (own[0], own[2]))
            admin1_share = _shares(rows["admin1"], admin1_weight, own and (own[1], 1.0))
            score = base + self.context_weight * np.sqrt(share) + self.admin1_weight * np.sqrt(admin1_share)
            if m.qualified_by is not None:
                score = score + self.qualifier_weight * self._qualified(rows, scored[m.qualified_by])
            if needs.any():
                country = (share >= SUPPORTING_SHARE) | (admin1_share > 0)
                support = np.where(country, NEEDS_COUNTRY + int(m.cued or m.qualified_by is not None), 0)
                score = np.where(support < needs, -np.inf, score)
            if np.isfinite(score).any():  # else a name the article gives no reason to believe
                scores[k] = score
        if self.coherence_weight and len(scores) > 1:
            self._add_coherence(mentions, scored, scores)

        # Each group's reading is worked out once; its mentions share it.
        readings = {g: self._reading(scored[g][0], score) for g, score in scores.items()}
        out: list[ResolvedPlace] = []
        for m, g in zip(mentions, group_of):
            reading = readings.get(g)
            if reading is not None:
                place, prob, alts = reading
                out.append(ResolvedPlace(m, place, prob, list(alts)))
        return out

    def _reading(self, idx: np.ndarray, score: np.ndarray):
        """(best place, its probability, the runners-up with theirs) of one name's scores."""
        order = np.argsort(-score)[:ALTERNATIVES + 1]
        order = order[np.isfinite(score[order])]
        probs = np.exp(score[order] - score[order[0]])
        probs = probs / np.exp(score[np.isfinite(score)] - score[order[0]]).sum()
        alts = [(self.gaz.place(int(idx[o])), round(float(q), 3)) for o, q in zip(order[1:], probs[1:])]
        return self.gaz.place(int(idx[order[0]])), float(probs[0]), alts

    def _add_coherence(self, mentions, scored, scores: dict[int, np.ndarray]) -> None:
        """Spatial coherence: a reading near the likely readings of the article's other names gains
        ("Dublin" beside "Ohio" is Dublin, Ohio). Each name's top readings, weighted by their probability,
        lend every other name's top readings a closeness that falls by e every COHERENCE_KM km; one
        distance matrix over all of them per article."""
        groups, orders, points, weights, names = [], [], [], [], []
        folded: dict[str, int] = {}
        for k, score in scores.items():
            order = np.argsort(-score)[:COHERENCE_TOP]
            order = order[np.isfinite(score[order])]
            p = np.exp(score[order] - score[order[0]])
            groups.append(k)
            orders.append(order)
            points.append(scored[k][4][order])
            weights.append(p / p.sum())
            names.append(np.full(len(order), folded.setdefault(fold(mentions[k].text), len(folded))))
        if len(folded) < 2:
            return
        name = np.concatenate(names)
        other = name[:, None] != name[None, :]
        closeness = np.exp(-km_matrix(np.concatenate(points), np.concatenate(points)) / COHERENCE_KM) * other
        # Averaged over the other names: each lends at most 1.
        bonus = closeness @ np.concatenate(weights) / (len(folded) - 1)
        start = 0
        for k, order in zip(groups, orders):
            if len(order) > 1:
                scores[k] = scores[k].copy()
                scores[k][order] += self.coherence_weight * bonus[start:start + len(order)]
            start += len(order)

    def _qualified(self, rows, q_scored) -> np.ndarray:
        """1 for candidates inside a place the qualifier can mean ("Springfield, Ill.")."""
        q_rows = q_scored[1]
        q_countries = set(q_rows["country"][q_rows["kind"] == _COUNTRY].tolist())
        q_admin1 = set(q_rows["admin1"][q_rows["kind"] == KIND_CODE["admin1"]].tolist())
        return np.isin(rows["country"], list(q_countries)) | np.isin(rows["admin1"], list(q_admin1 - {0}))


def _city_for_its_province(rows, base: np.ndarray) -> np.ndarray:
    """A bare name shared by a province and a city inside it ("Daraa", "Kandahar") means the city: the
    province is said as such ("Daraa province"), and the city is where an event there is mapped (ACLED
    and UCDP code a province-wide report at its capital). The city takes the province's prominence and a margin."""
    provinces = np.flatnonzero(rows["kind"] == KIND_CODE["admin1"])
    if not len(provinces):
        return base
    base = base.copy()
    for a in provinces:
        inside = (rows["kind"] == KIND_CODE["city"]) & (rows["admin1"] == rows["admin1"][a]) & \
            (rows["country"] == rows["country"][a])
        if inside.any():
            c = np.flatnonzero(inside)[base[inside].argmax()]
            base[c] = max(base[c], base[a] + CITY_OVER_PROVINCE)
    return base


def _shares(codes: np.ndarray, weight: np.ndarray, own: tuple[int, float] | None) -> np.ndarray:
    """Each code's share of the article's weight (0 for no country or division), less a name's own vote."""
    values = weight[codes]
    total = weight.sum()
    if own:
        values = values - own[1] * (codes == own[0])
        total -= own[1]
    values = np.where(codes == 0, 0.0, values)
    return values / total if total > 0 else np.zeros(len(codes))
