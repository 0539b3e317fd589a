"""Writing articles and their incidents: each article in one transaction (or many to one), each of its
reports joining the stored incidents with a report of the same event (`geo.store.merge`) or added, with
its sources; re-extraction of every stored article keeps people's corrections."""
from __future__ import annotations

import hashlib
import os
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property, reduce
from typing import Any

import sqlalchemy as sa

from ..text.document import Article
from ..text.incidents import Incident, IncidentPlace
from .audit import CORRECTED_INCIDENTS, DELETED_ARTICLE, reapply_corrections
from .errors import ArticleRefused
from .merge import SAME_EVENT_DAYS, Merged, as_report, combine, degrees_around, same_event
from .prepared import Prepared
from .queries import ARTICLE_EXISTS
from .rows import as_date, incident_from_row, incident_row, now
from .schema import articles, corrections, incident_renames, incident_sources, incidents


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

    def fail(self, problem: str) -> None:
        """Count an article that could not be stored, with its one line."""
        self.failed += 1
        self.failures.append(problem)

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


_REPORTS = incident_sources.c
_REPORTS_NEAR = sa.select(_REPORTS.incident_id, _REPORTS.event_type, _REPORTS.topic, _REPORTS.date, _REPORTS.lat,
                          _REPORTS.lon, _REPORTS.country).distinct().where(
    _REPORTS.event_type == sa.bindparam("event_type"),
    _REPORTS.date.between(sa.bindparam("day_from", type_=sa.Date), sa.bindparam("day_to", type_=sa.Date)))
_FIRST_REPORT = incident_sources.alias("first_report")
_INCIDENT_COLUMNS = [c for c in incidents.c if c.name != "geom"]
_LINK_COLUMNS = [c.name for c in incident_sources.c if c.name != "fid"]


class _Statements:
    """What an article is written with, prepared for one engine (`geo.store.prepared`)."""

    def __init__(self, dialect: sa.Dialect, point: sa.ColumnElement) -> None:
        prepare = lambda statement: Prepared(statement, dialect)  # noqa: E731
        self.article_exists = prepare(ARTICLE_EXISTS)
        self.insert_article = prepare(articles.insert().values(
            {c.name: sa.bindparam(c.name, type_=c.type) for c in articles.c if c.name != "fid"}))
        # Stored reports that may be of the same event as a new one: the same type and day,
        # and near its point (or, without one, in its country).
        self.reports_near_point = prepare(_REPORTS_NEAR.where(
            _REPORTS.lat.between(sa.bindparam("lat_from"), sa.bindparam("lat_to")),
            _REPORTS.lon.between(sa.bindparam("lon_from"), sa.bindparam("lon_to"))))
        self.reports_in_country = prepare(_REPORTS_NEAR.where(_REPORTS.lat.is_(None),
                                                              _REPORTS.country == sa.bindparam("country")))
        # A stored incident, with the publication day and article of its first report and whether a
        # person corrected it.
        self.incident = prepare(
            sa.select(*_INCIDENT_COLUMNS, _FIRST_REPORT.c.published.label("first_published"),
                      _FIRST_REPORT.c.article_key.label("first_source"),
                      sa.exists().where(corrections.c.incident_id == incidents.c.incident_id,
                                        corrections.c.field != DELETED_ARTICLE).label("corrected"))
            .outerjoin(_FIRST_REPORT, _FIRST_REPORT.c.report_id == incidents.c.incident_id)
            .where(incidents.c.incident_id == sa.bindparam("id")))
        values = {c.name: sa.bindparam(c.name, type_=c.type) for c in _INCIDENT_COLUMNS if c.name != "fid"}
        self.insert_incident = prepare(incidents.insert().values({**values, "geom": point}))
        by_fid = incidents.update().where(incidents.c.fid == sa.bindparam("_fid"))
        self.update_incident = prepare(by_fid.values({**values, "geom": point}))
        self.update_incident_not_moved = prepare(by_fid.values(values))  # the R-tree is left as it is
        # An incident whose id changes (a report published earlier joined it, or it joined another)
        # takes its sources and corrections along; the incidents it joined are deleted.
        new_id = {"incident_id": sa.bindparam("new_id")}
        self.rename_sources = prepare(incident_sources.update().where(
            incident_sources.c.incident_id == sa.bindparam("old_id")).values(new_id))
        self.rename_corrections = prepare(corrections.update().where(
            corrections.c.incident_id == sa.bindparam("old_id"), corrections.c.field != DELETED_ARTICLE).values(new_id))
        # Every earlier id of a renamed incident points at its new one (so at the current id, always).
        self.rename_renamed = prepare(incident_renames.update().where(
            incident_renames.c.new_id == sa.bindparam("old_id")).values(new_id=sa.bindparam("new_id")))
        self.add_rename = prepare(incident_renames.insert().values(old_id=sa.bindparam("old_id"),
                                                                   new_id=sa.bindparam("new_id")))
        self.delete_incident = prepare(incidents.delete().where(incidents.c.fid == sa.bindparam("_fid")))
        self.insert_links = prepare(incident_sources.insert().values(
            {name: sa.bindparam(name, type_=incident_sources.c[name].type) for name in _LINK_COLUMNS}))


def _as_merged(row: dict[str, Any], event_type: str) -> Merged:
    """A stored incident, typed as its reports were (a person's retyping is applied again after merging)."""
    inc = incident_from_row(row)
    inc.event_type = event_type
    return Merged(inc, (as_date(row["first_published"]) or date.max, row["first_source"] or "",
                        row["evidence_start"] or 0, row["evidence_end"] or 0, row["incident_id"]))


class _Groups:
    """Union-find over the new reports (by index) and the stored incidents they tell of (by id)."""

    def __init__(self) -> None:
        self.parent: dict[Any, Any] = {}

    def root(self, node: Any) -> Any:
        self.parent.setdefault(node, node)
        while self.parent[node] != node:
            self.parent[node] = self.parent[self.parent[node]]
            node = self.parent[node]
        return node

    def join(self, a: Any, b: Any) -> None:
        self.parent[self.root(a)] = self.root(b)

    def members(self) -> list[list[Any]]:
        """Each group, the new reports first in their order, then the stored ids sorted; groups in the
        order of their first new report."""
        out: dict[Any, list[Any]] = {}
        for node in sorted(self.parent, key=lambda n: (isinstance(n, str), n)):
            out.setdefault(self.root(node), []).append(node)
        return list(out.values())


class Writing:
    """The write side of `geo.store.Store` (a mixin: it needs `user`, `engine`, `write()`, `incidents()`,
    `_frame()` and `_point_sql()`)."""

    def ingest(self, article: Article, extract: Callable[[Article], Any]) -> IngestResult:
        """Store an article and its incidents (extracted with `extract`, e.g. the default pipeline)."""
        self.user.require("add")
        key = article_key(article.text)
        if self.has_article(key):
            return IngestResult(key, "unchanged")
        doc = extract(article)   # outside the transaction: writers hold the lock only to write
        return self.store_document(article, doc.incidents, key)

    @cached_property
    def _statements(self) -> _Statements:
        return _Statements(self.engine.dialect, self._point_sql())

    def store_document(self, article: Article, found: list[Incident], key: str | None = None) -> IngestResult:
        """Store an article and the incidents extracted from it, in one transaction."""
        self.user.require("add")
        _check_storable(article)
        with self.write() as conn:
            return self._store_article(conn, article, found, key or article_key(article.text))

    def store_documents(self, extracted: Iterable[tuple[Article, list[Incident]]], per_commit: int = 100
                        ) -> list[IngestResult | ArticleRefused]:
        """Store articles and the incidents extracted from them as `store_document` does, `per_commit`
        articles to a transaction: one commit for many. Returns when all are committed, each article's
        result or why the store refused it. A crash loses only the transaction under way, none of whose
        articles was returned as stored; storing them again is a fresh start."""
        self.user.require("add")
        pending = list(extracted)
        out: list[IngestResult | ArticleRefused] = []
        for start in range(0, len(pending), per_commit):
            with self.write() as conn:
                for article, found in pending[start:start + per_commit]:
                    try:
                        _check_storable(article)
                    except ArticleRefused as exc:
                        out.append(exc)
                        continue
                    out.append(self._store_article(conn, article, found, article_key(article.text)))
        return out

    def _store_article(self, conn: sa.Connection, article: Article, found: list[Incident], key: str) -> IngestResult:
        pause = float(os.environ.get("GEO_INGEST_PAUSE", "0") or 0)  # a crash-test aid: sleep mid-transaction
        sql = self._statements
        if sql.article_exists.rows(conn, {"key": key}):
            return IngestResult(key, "unchanged")  # another writer stored it meanwhile
        sql.insert_article.execute(conn, {
            "article_key": key, "external_id": article.id, "title": article.title, "source": article.source,
            "url": article.url, "published": article.published, "text": article.text, "ingested_at": now()})
        result = IngestResult(key, "new")
        self._store_incidents(conn, found, key, article.published, result, pause)
        return result

    def _store_incidents(self, conn: sa.Connection, found: list[Incident], key: str, published: date | None,
                         result: IngestResult, pause: float = 0.0) -> None:
        """An article's incidents: each report joins every stored incident it tells of (and the other
        reports of this article of the same event) into one, or is added as a new incident."""
        if not found:
            return
        groups = _Groups()
        for i, inc in enumerate(found):
            inc.sources = [key]
            groups.root(i)
            for j in range(i):
                if same_event(found[j], inc):
                    groups.join(j, i)
            for stored in self._stored_matches(conn, inc):
                groups.join(stored, i)
            if pause:
                time.sleep(pause)
        sql = self._statements
        rows = {}
        for stored in sorted(n for n in groups.parent if isinstance(n, str)):
            rows.update((row["incident_id"], row) for row in sql.incident.rows(conn, {"id": stored}))
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        links = []
        for members in groups.members():
            new = [found[i] for i in members if isinstance(i, int)]
            old = [rows[i] for i in members if isinstance(i, str) and i in rows]
            reports = [as_report(inc, published) for inc in new]
            merged = reduce(combine, [_as_merged(row, new[0].event_type) for row in old] + reports)
            target = merged.first[-1]
            values = incident_row(merged.incident)
            values.update(incident_id=target, version=max((r["version"] for r in old), default=0) + 1,
                          updated_at=now())
            if old:
                kept = self._join(conn, old, target)
                if kept["corrected"]:
                    reapply_corrections(conn, target, values)
                moved = (values["lat"], values["lon"]) != (kept["lat"], kept["lon"])
                updates.append(dict(values, _fid=kept["fid"], _moved=moved))
            else:
                inserts.append(values)
            result.merged += len(new) - (0 if old else 1)
            result.added += 0 if old else 1
            links.extend(_link(report, target) for report in reports)
        sql.insert_incident.executemany(conn, inserts)
        sql.update_incident.executemany(conn, [u for u in updates if u["_moved"]])
        sql.update_incident_not_moved.executemany(conn, [u for u in updates if not u["_moved"]])
        sql.insert_links.executemany(conn, links)  # one statement for all the article's sources

    def _stored_matches(self, conn: sa.Connection, inc: Incident) -> set[str]:
        """The stored incidents with a report of the same event as `inc`."""
        if inc.date is None:
            return set()
        near = {"event_type": inc.event_type, "day_from": inc.date - timedelta(days=SAME_EVENT_DAYS),
                "day_to": inc.date + timedelta(days=SAME_EVENT_DAYS)}
        if inc.point:
            lat, lon = inc.point
            dlat, dlon = degrees_around(lat)
            q = self._statements.reports_near_point
            near.update(lat_from=lat - dlat, lat_to=lat + dlat, lon_from=lon - dlon, lon_to=lon + dlon)
        elif inc.country:
            q = self._statements.reports_in_country
            near["country"] = inc.country
        else:
            return set()
        matches = set()
        for row in q.rows(conn, near):
            place = IncidentPlace("", None, row["country"], row["lat"], row["lon"])
            stored = Incident(row["event_type"], place, 3, as_date(row["date"]), "day", inc.evidence,
                              topic=row["topic"])
            if same_event(stored, inc):
                matches.add(row["incident_id"])
        return matches

    def _join(self, conn: sa.Connection, old: list[dict[str, Any]], target: str) -> dict[str, Any]:
        """Make the stored incidents `old` one, under the id `target`: the row that has it (else the
        first) is kept, and takes the others' sources and people's corrections (which win over the
        merged values, as before); the others are deleted, and their ids kept as earlier ids of the
        target (`incident_renames`: what was said about them, an alert, follows). The kept row,
        `corrected` if any was."""
        kept = next((r for r in old if r["incident_id"] == target), old[0])
        renamed = [r for r in old if r["incident_id"] != target]
        sql = self._statements
        sql.rename_sources.executemany(conn, [{"old_id": r["incident_id"], "new_id": target} for r in renamed])
        sql.rename_corrections.executemany(conn, [{"old_id": r["incident_id"], "new_id": target}
                                                  for r in renamed if r["corrected"]])
        sql.rename_renamed.executemany(conn, [{"old_id": r["incident_id"], "new_id": target} for r in renamed])
        sql.add_rename.executemany(conn, [{"old_id": r["incident_id"], "new_id": target} for r in renamed])
        sql.delete_incident.executemany(conn, [{"_fid": r["fid"]} for r in old if r is not kept])
        return dict(kept, corrected=any(r["corrected"] for r in old))

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


def _link(report: Merged, incident: str) -> dict[str, Any]:
    """The row of `incident_sources` for one article's report of `incident`."""
    inc = report.incident
    point = inc.point
    return {"incident_id": incident, "article_key": inc.sources[0], "evidence_start": inc.evidence.start,
            "evidence_end": inc.evidence.end, "evidence": inc.evidence.text, "killed": inc.killed,
            "wounded": inc.wounded, "report_id": report.first[-1],
            "published": None if report.first[0] == date.max else report.first[0], "event_type": inc.event_type,
            "topic": inc.topic, "date": inc.date, "lat": point[0] if point else None,
            "lon": point[1] if point else None, "country": inc.country}
