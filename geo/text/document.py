"""The objects that flow through the pipeline: an article, the place mentions found in it, the
places they resolve to. Every object keeps character offsets into the original text."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..places.gazetteer import NameHit, Place


@dataclass(slots=True)
class Article:
    id: str
    text: str
    title: str | None = None
    published: date | None = None
    source: str | None = None
    url: str | None = None


@dataclass(slots=True)
class Mention:
    """A span of text that names a place, with the gazetteer entries its name can mean."""

    start: int
    end: int
    text: str
    hits: list[NameHit]
    role: str = "name"            # "name", "demonym" or "abbreviation"
    feature: str | None = None    # what the words around it say it is: "admin1", "admin2", "city"
    qualified_by: int | None = None  # index of the mention qualifying it: "Springfield, Ill."
    cued: bool = False            # the words around it say a place is named: "in X", "X city", "countryside of X"


@dataclass(slots=True)
class ResolvedPlace:
    """A mention resolved to one gazetteer entry (or none), with the runners-up kept."""

    mention: Mention
    place: Place | None
    score: float
    alternatives: list[tuple[Place, float]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        m, p = self.mention, self.place
        return {"start": m.start, "end": m.end, "text": m.text,
                "name": p.name if p else m.text, "geonameid": p.geonameid if p else None,
                "country": p.country if p else None, "admin1": p.admin1 if p else None,
                "lat": p.lat if p else None, "lon": p.lon if p else None,
                "kind": ("demonym" if m.role == "demonym" else p.kind) if p else "unknown",
                "score": round(self.score, 3)}


@dataclass(slots=True)
class Document:
    """One article as the pipeline's components fill it in, like a spaCy Doc."""

    article: Article
    mentions: list[Mention] = field(default_factory=list)
    places: list[ResolvedPlace] = field(default_factory=list)
    incidents: list[Any] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.article.text

    def as_json(self) -> dict[str, Any]:
        return {"id": self.article.id, "places": [p.as_json() for p in self.places],
                "incidents": [i.as_json() for i in self.incidents]}
