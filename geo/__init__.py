"""Offline-first incident atlas for news: the library behind the CLI and the dashboard.

    >>> from geo import extract
    >>> doc = extract("Clashes near the Chaman border crossing in Pakistan killed four.")
    >>> [(p.mention.text, p.place.country) for p in doc.places]
    [('Chaman', 'PK'), ('Pakistan', 'PK')]
    >>> [(i.event_type, i.place.name, i.killed) for i in doc.incidents]
    [('battle', 'Chaman', 4)]
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

from .text.document import Article, Document, Mention, ResolvedPlace
from .places.gazetteer import Gazetteer, Place, load_gazetteer
from .text.incidents import EVENT_TYPES, Incident, IncidentPlace

if TYPE_CHECKING:
    import geopandas

EXPORT_FORMATS = ("geojson", "csv", "gpkg")  # what `python -m geo export` and the dashboard write

__all__ = ["EXPORT_FORMATS", "Article", "Document", "EVENT_TYPES", "Gazetteer", "Incident", "IncidentPlace", "Mention", "Place",
           "ResolvedPlace", "extract", "incidents_frame_of", "load_gazetteer"]


def extract(text: str, id: str = "article", published: date | None = None, title: str | None = None) -> Document:
    """Run the default pipeline over one article's text."""
    from .pipeline import default_pipeline
    return default_pipeline()(Article(id=id, text=text, published=published, title=title))


def incidents_frame_of(articles: Iterable[Article]) -> "geopandas.GeoDataFrame":
    """Extract every article, merge the same event told by several of them, and return the incidents
    as a GeoDataFrame (columns documented in `geo.store.frame`)."""
    from .store.frame import incidents_frame
    from .store.merge import merge_incidents
    from .pipeline import default_pipeline
    pipeline = default_pipeline()
    found, published = [], {}
    for article in articles:
        found.extend(pipeline(article).incidents)
        if article.published:
            published[article.id] = article.published
    return incidents_frame(merge_incidents(found, published))
