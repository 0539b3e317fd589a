"""Writing articles and their incidents: each article in one transaction, each incident merged into the
stored one of the same event (`geo.store.merge`) or added, with its sources; re-extraction of every
stored article keeps people's corrections."""
from __future__ import annotations

import hashlib
import json
import os
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from ..places.geodesy import km
from ..text.document import Article
from ..text.incidents import Incident
from .audit import CORRECTED_INCIDENTS, reapply_corrections
from .errors import ArticleRefused
from .frame import incident_id
from .merge import combine, same_event
from .queries import ARTICLE_EXISTS
from .rows import incident_from_row, incident_row, now
from .schema import articles, corrections, incident_sources, incidents


def article_key(text: str) -> str:
    """The identity of an article: a hash of its text, Unicode-normalised with whitespace collapsed."""
    normal = " ".join(unicodedata.normalize("NFC", text).split())
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()[:16]


@dataclass
class IngestResult:
    article_key: str
    status: str               # "new" or "unchanged"
    added: int = 0            # incidents new to the store
    merged: int = 0           # incidents that joined one already stored


@dataclass
class IngestSummary:
    new: int = 0
    unchanged: int = 0
    failed: int = 0
    added: int = 0
    merged: int = 0
    failures: list[str] = field(default_factory=list)

    def add(self, result: IngestResult) -> None:
        setattr(self, result.status, getattr(self, result.status) + 1)
        self.added += result.added
        self.merged += result.merged

    def __str__(self) -> str:
        return (f"articles: {self.new} new, {self.unchanged} unchanged, {self.failed} failed; "
                f"incidents: {self.added} added, {self.merged} merged")


def _check_storable(article: Article) -> None:
    """Refuse, on both engines alike, what PostgreSQL cannot keep in text: a NUL character."""
    for name in ("text", "title", "id", "source", "url"):
        value = getattr(article, name)
        if isinstance(value, str) and "\x00" in value:
            raise ArticleRefused(f"{article.id!r}: its {name} holds a NUL character (\\u0000), which is not text")


def _candidates_query(where: sa.ColumnElement) -> sa.Select:
    """Stored incidents that may be the same event as a new one: same type (or re-typed by a person from
    it), a day apart at most, and `where`. Built once, with parameters, so ingest compiles it once."""
    t = incidents.c
    retyped = sa.select(corrections.c.incident_id).where(corrections.c.field == "event_type",
                                                         corrections.c.before == sa.bindparam("retyped"))
    return sa.select(incidents).where(
        sa.or_(t.event_type == sa.bindparam("event_type"), t.incident_id.in_(retyped)),
        t.date.between(sa.bindparam("day_from", type_=sa.Date), sa.bindparam("day_to", type_=sa.Date)), where)


_CANDIDATES_NEAR_POINT = _candidates_query(sa.and_(
    incidents.c.lat.between(sa.bindparam("lat_from"), sa.bindparam("lat_to")),
    incidents.c.lon.between(sa.bindparam("lon_from"), sa.bindparam("lon_to"))))
_CANDIDATES_IN_COUNTRY = _candidates_query(sa.and_(incidents.c.lat.is_(None),
                                                   incidents.c.country == sa.bindparam("country")))
def _closeness(stored: Incident, new: Incident) -> tuple[int, float]:
    """How near a stored incident is to a new report of the same event: days apart, then km apart."""
    days = abs((stored.date - new.date).days) if stored.date and new.date else 0
    return days, km(stored.point, new.point) if stored.point and new.point else 0.0


_PUBLISHED = sa.select(articles.c.article_key, articles.c.published).where(
    articles.c.article_key.in_(sa.bindparam("keys", expanding=True)))


class Writing:
    """The write side of `geo.store.Store` (a mixin: it needs `user`, `write()`, `incidents()`, `_frame()`,
    `_point_sql()`, `_insert_incident` and `_update_incident`)."""

    def ingest(self, article: Article, extract: Callable[[Article], Any]) -> IngestResult:
        """Store an article and its incidents (extracted with `extract`, e.g. the default pipeline)."""
        self.user.require("add")
        key = article_key(article.text)
        if self.has_article(key):
            return IngestResult(key, "unchanged")
        doc = extract(article)   # outside the transaction: writers hold the lock only to write
        return self.store_document(article, doc.incidents, key)

    def store_document(self, article: Article, found: list[Incident], key: str | None = None) -> IngestResult:
        self.user.require("add")
        key = key or article_key(article.text)
        _check_storable(article)
        pause = float(os.environ.get("GEO_INGEST_PAUSE", "0") or 0)  # a crash-test aid: sleep mid-transaction
        with self.write() as conn:
            if conn.execute(ARTICLE_EXISTS, {"key": key}).first():
                return IngestResult(key, "unchanged")  # another writer stored it meanwhile
            conn.execute(articles.insert().values(
                article_key=key, external_id=article.id, title=article.title, source=article.source,
                url=article.url, published=article.published, text=article.text, ingested_at=now()))
            result = IngestResult(key, "new")
            self._store_incidents(conn, found, key, article.published, result, pause)
        return result

    def _store_incidents(self, conn: sa.Connection, found: list[Incident], key: str, published: date | None,
                         result: IngestResult, pause: float = 0.0) -> None:
        """An article's incidents: each merged into the stored one of the same event, or added."""
        corrected = {r[0] for r in conn.execute(CORRECTED_INCIDENTS)} if found else set()
        links = []
        for inc in found:
            inc.sources = [key]
            target = self._merge(conn, inc, key, published, corrected)
            if target:
                result.merged += 1
            else:
                target = incident_id(inc)
                self._insert(conn, inc)
                result.added += 1
            links.append({"incident_id": target, "article_key": key, "evidence_start": inc.evidence.start,
                          "evidence_end": inc.evidence.end, "evidence": inc.evidence.text, "killed": inc.killed,
                          "wounded": inc.wounded})
            if pause:
                time.sleep(pause)
        if links:
            conn.execute(incident_sources.insert(), links)  # one statement for all the article's sources

    def reprocess(self, extract: Callable[[list[Article]], Iterable[tuple[Article, list[Incident]]]]) -> dict[str, Any]:
        """Re-extract every stored article with the current extractor and rebuild the incidents (merged as
        ingest merges them), in one transaction; people's corrections are applied again to the incidents
        that keep their id. `extract` maps articles to (article, incidents), in one process or on a Dask
        cluster. Returns what changed."""
        self.user.require("delete")
        before = self.incidents()
        stored = self._frame(sa.select(articles.c.article_key, articles.c.external_id, articles.c.title,
                                       articles.c.source, articles.c.url, articles.c.published, articles.c.text)
                             .order_by(articles.c.fid))
        keyed = {}
        for row in stored.itertuples():
            published = date.fromisoformat(str(row.published)[:10]) if isinstance(row.published, (str, date)) \
                and str(row.published) else None
            keyed[row.article_key] = Article(row.external_id or row.article_key, row.text, row.title, published,
                                             row.source, row.url)
        results = {article_key(a.text): found for a, found in extract(list(keyed.values()))}
        with self.write() as conn:
            conn.execute(incident_sources.delete())
            conn.execute(incidents.delete())
            total = IngestResult("", "new")
            for key, article in keyed.items():  # in the order they were first ingested
                self._store_incidents(conn, results.get(key, []), key, article.published, total)
            corrected = {r.incident_id for r in conn.execute(CORRECTED_INCIDENTS)}
            kept = 0
            for row in conn.execute(sa.select(incidents).where(incidents.c.incident_id.in_(corrected))).all():
                values: dict[str, Any] = {}
                reapply_corrections(conn, row.incident_id, values)
                if values:
                    if "lat" in values or "lon" in values:
                        values["geom"] = self._point_sql().params(point_lat=values.get("lat", row.lat),
                                                                  point_lon=values.get("lon", row.lon))
                    conn.execute(incidents.update().where(incidents.c.fid == row.fid).values(**values))
                    kept += 1
        after = self.incidents()
        fields = ["event_type", "date", "place_name", "killed", "wounded", "n_sources"]
        old = before.set_index("incident_id")[fields].astype(str).fillna("")
        new = after.set_index("incident_id")[fields].astype(str).fillna("")
        common = old.index.intersection(new.index)
        return {"articles": len(keyed), "incidents_before": len(before), "incidents_after": len(after),
                "added": len(new.index.difference(old.index)), "removed": len(old.index.difference(new.index)),
                "changed": int((old.loc[common] != new.loc[common]).any(axis=1).sum()),
                "corrections_reapplied": kept, "corrections_orphaned": len(corrected - set(after.incident_id))}

    def _insert(self, conn: sa.Connection, inc: Incident) -> None:
        row = incident_row(inc)
        row.update(version=1, updated_at=now())
        conn.execute(self._insert_incident, row)

    def _merge(self, conn: sa.Connection, inc: Incident, key: str, published: date | None,
               corrected: set[str]) -> str | None:
        """Fold `inc` into the stored incident of the same event, if there is one; its id."""
        if inc.date is None:
            return None
        near = {"event_type": inc.event_type, "retyped": json.dumps(inc.event_type),
                "day_from": inc.date - timedelta(days=1), "day_to": inc.date + timedelta(days=1)}
        if inc.point:
            lat, lon = inc.point
            q = _CANDIDATES_NEAR_POINT
            near.update(lat_from=lat - 0.3, lat_to=lat + 0.3, lon_from=lon - 0.5, lon_to=lon + 0.5)
        elif inc.country:
            q = _CANDIDATES_IN_COUNTRY
            near["country"] = inc.country
        else:
            return None
        matches = []
        for row in conn.execute(q, near):
            stored = incident_from_row(row)
            stored.event_type = inc.event_type if row.event_type != inc.event_type else stored.event_type
            if same_event(stored, inc):
                matches.append((_closeness(stored, inc), row.incident_id, row, stored))
        if not matches:
            return None
        # The closest match, whatever order the engine returns rows in: the same input gives the same
        # incidents on either engine and on every run.
        _, _, row, stored = min(matches, key=lambda m: m[:2])
        # Which report is the latest matters only to choose between two tolls.
        tolls = (stored.killed_text or stored.wounded_text) and (inc.killed_text or inc.wounded_text)
        dates = self._published(conn, stored.sources + [key]) if tolls else {}
        if published:
            dates[key] = published
        values = incident_row(combine(stored, inc, dates))
        if row.incident_id in corrected:
            reapply_corrections(conn, row.incident_id, values)
        values.update(incident_id=row.incident_id, version=row.version + 1, updated_at=now(), _fid=row.fid)
        conn.execute(self._update_incident, values)
        return row.incident_id

    @staticmethod
    def _published(conn: sa.Connection, keys: list[str]) -> dict[str, date]:
        return {k: p for k, p in conn.execute(_PUBLISHED, {"keys": keys}) if p}
