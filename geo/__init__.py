"""Offline-first incident atlas for news: the library behind the CLI and the dashboard.

    >>> from geo import extract
    >>> doc = extract("Clashes near the Chaman border crossing in Pakistan killed four.")
    >>> [(p.mention.text, p.place.country) for p in doc.places]
    [('Chaman', 'PK'), ('Pakistan', 'PK')]
"""
from __future__ import annotations

from datetime import date

from .document import Article, Document, Mention, ResolvedPlace
from .gazetteer import Gazetteer, Place, load_gazetteer

__all__ = ["Article", "Document", "Gazetteer", "Mention", "Place", "ResolvedPlace", "extract", "load_gazetteer"]


def extract(text: str, id: str = "article", published: date | None = None, title: str | None = None) -> Document:
    """Run the default pipeline over one article's text."""
    from .pipeline import default_pipeline
    return default_pipeline()(Article(id=id, text=text, published=published, title=title))
