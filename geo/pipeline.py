"""The pipeline: components applied in order to one Document, as in spaCy."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from functools import lru_cache

from .text.document import Article, Document
from .places.gazetteer import Gazetteer, load_gazetteer
from .text.incidents import IncidentExtractor
from .text.recognize import Recognizer
from .text.tolls import TollModel
from .text.resolve import Resolver

Component = Callable[[Document], Document]


# Longer texts are read in parts of about this many characters, cut at paragraph or sentence ends, so
# that time and memory grow in proportion to the text (a part still sees hundreds of sentences around
# each event, all the context an incident draws on).
PART_CHARS = 200_000


class Pipeline:
    def __init__(self, components: list[Component]) -> None:
        self.components = components

    def __call__(self, article: Article) -> Document:
        if len(article.text) <= PART_CHARS:
            return self._run(article)
        doc = Document(article)
        for start, end in _parts(article.text):
            part = self._run(replace(article, text=article.text[start:end]))
            _shift(part, start)
            doc.places.extend(part.places)
            doc.incidents.extend(part.incidents)
        return doc

    def _run(self, article: Article) -> Document:
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


def incident_pipeline(gazetteer: Gazetteer | None = None, demonyms: bool = True,
                      tolls: TollModel | None | str = "shipped") -> Pipeline:
    """Places, then the incidents told of them. Actors are read from demonyms ("Afghan forces"),
    so without demonyms they are only named groups. `tolls`: the toll reader's model (None: the hand
    rules alone)."""
    gaz = gazetteer or load_gazetteer()
    return Pipeline(geoparser(gaz, demonyms).components + [IncidentExtractor(gaz, tolls=tolls)])


@lru_cache(maxsize=2)
def default_pipeline(demonyms: bool = True) -> Pipeline:
    return incident_pipeline(demonyms=demonyms)


def _parts(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of consecutive parts of at most about PART_CHARS, each ending at a paragraph break,
    else a sentence end, else a space."""
    start = 0
    while len(text) - start > PART_CHARS:
        limit = start + PART_CHARS
        cut = max(text.rfind("\n\n", start + PART_CHARS // 2, limit), text.rfind(". ", start + PART_CHARS // 2, limit))
        cut = cut + 2 if cut > 0 else max(text.rfind(" ", start + PART_CHARS // 2, limit) + 1, limit)
        yield start, cut
        start = cut
    yield start, len(text)


def _shift(part: Document, offset: int) -> None:
    """Move a part's offsets to the whole text's; spans and places shared by incidents move once."""
    for rp in part.places:
        rp.mention.start += offset
        rp.mention.end += offset
    spans = {id(s): s for inc in part.incidents for s in [inc.evidence, *inc.sentences]}
    places = {id(inc.place): inc.place for inc in part.incidents
              if inc.place is not None and inc.place.start is not None}
    for obj in [*spans.values(), *places.values()]:
        obj.start += offset
        obj.end += offset
