"""The pipeline: components applied in order to one Document, as in spaCy."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache

from .text.document import Article, Document
from .places.gazetteer import Gazetteer, load_gazetteer
from .text.incidents import IncidentExtractor
from .text.recognize import Recognizer
from .text.resolve import Resolver

Component = Callable[[Document], Document]


class Pipeline:
    def __init__(self, components: list[Component]) -> None:
        self.components = components

    def __call__(self, article: Article) -> Document:
        doc = Document(article)
        for component in self.components:
            doc = component(doc)
        return doc

    def pipe(self, articles: Iterable[Article]) -> Iterator[Document]:
        for article in articles:
            yield self(article)


def geoparser(gazetteer: Gazetteer | None = None, demonyms: bool = True) -> Pipeline:
    """Recognition and resolution of places; `demonyms=False` leaves out words like "Afghan"."""
    gaz = gazetteer or load_gazetteer()
    return Pipeline([Recognizer(gaz, demonyms=demonyms), Resolver(gaz)])


def incident_pipeline(gazetteer: Gazetteer | None = None, demonyms: bool = True) -> Pipeline:
    """Places, then the incidents told of them. Actors are read from demonyms ("Afghan forces"),
    so without demonyms they are only named groups."""
    gaz = gazetteer or load_gazetteer()
    return Pipeline(geoparser(gaz, demonyms).components + [IncidentExtractor(gaz)])


@lru_cache(maxsize=2)
def default_pipeline(demonyms: bool = True) -> Pipeline:
    return incident_pipeline(demonyms=demonyms)
