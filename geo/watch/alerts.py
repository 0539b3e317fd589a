"""Alerts: an incident that is new or changed, inside a watch area that wants it, recorded once.

`match_new_incidents` reads the incidents written since its last run (ingests, merges, corrections and
deletions all bump an incident's `updated_at`), matches them against every watch area, and records an
alert for each (area, incident) pair that has none yet, or whose casualty total has risen since its last
alert. A merge or a re-ingest that leaves the toll as it was therefore alerts nobody again; a toll
rising past an area's threshold, or higher still, does. Each alert queues one delivery per receiver of
the area in the outbox, in the same transaction.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pandas as pd
import sqlalchemy as sa

from ..store import incidents
from ..store.schema import incident_renames
from . import tables
from .areas import WatchArea, list_areas
from .matching import AreaIndex, IncidentFacts, postgis_matches
from .tables import WATERMARK, alert_reads, alerts, outbox

# Incidents written up to this long before the last one seen are read again: a writer whose clock lags,
# or whose transaction began earlier, still gets matched (recording is idempotent, so rereading is harmless).
OVERLAP = timedelta(minutes=2)
_COLUMNS = ("incident_id", "event_type", "date", "place_name", "country", "admin1", "lat", "lon", "killed",
            "wounded", "evidence", "updated_at")


@dataclass(frozen=True)
class Alert:
    fid: int
    area: str
    incident_id: str
    casualties: int
    fields: dict[str, Any]
    created_at: float


def match_new_incidents(store, index: AreaIndex | None = None, now: float | None = None) -> list[Alert]:
    """Match the incidents written since the last call against the watch areas: `index`, else PostGIS does
    it in the database, else an index of every area in the store. Record the new alerts (at `now`, Unix
    seconds), queue their deliveries, return them."""
    tables.ensure(store)
    with store.read() as conn:
        since = datetime.fromisoformat(tables.get_state(conn, WATERMARK)) - OVERLAP
        rows = conn.execute(sa.select(*[incidents.c[c] for c in _COLUMNS])
                            .where(incidents.c.updated_at >= since)).all()
    if not rows:
        return []
    facts = {r.incident_id: IncidentFacts(r.incident_id, r.event_type, r.lat, r.lon, r.country, r.admin1,
                                          (r.killed or 0) + (r.wounded or 0)) for r in rows}
    if index is None and store.dialect == "postgresql":
        with store.read() as conn:
            pairs = postgis_matches(conn, facts)
    else:
        pairs = (index or AreaIndex(list_areas(store))).matches(facts.values())
    latest = max(_aware(r.updated_at) for r in rows)
    by_id = {r.incident_id: r for r in rows}
    return _record(store, pairs, by_id, latest, tables.now() if now is None else now)


def _aware(value: Any) -> datetime:
    stamp = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)


def _record(store, pairs: list[tuple[WatchArea, IncidentFacts]], rows: dict, latest: datetime,
            at: float) -> list[Alert]:
    made: list[Alert] = []
    with store.write() as conn:  # writers take turns: two watchers cannot both find "not alerted yet"
        alerted = _alerted(conn, {f.incident_id for _, f in pairs})
        new: list[tuple[WatchArea, IncidentFacts]] = []
        for area, facts in pairs:
            last = alerted.get((area.name, facts.incident_id))
            if last is None or facts.casualties > last:
                new.append((area, facts))
                alerted[(area.name, facts.incident_id)] = facts.casualties
        if new:
            fields = [alert_fields(area, rows[facts.incident_id], facts.casualties) for area, facts in new]
            fids = conn.execute(alerts.insert().returning(alerts.c.fid, sort_by_parameter_order=True), [
                {"area": area.name, "incident_id": facts.incident_id, "casualties": facts.casualties,
                 "payload": json.dumps(f), "created_at": at} for (area, facts), f in zip(new, fields)]).scalars().all()
            deliveries = [{"alert": fid, "channel": channel, "target": target, "attempts": 0, "next_attempt": at}
                          for fid, (area, _) in zip(fids, new)
                          for channel, target in (("webhook", area.webhook), ("email", area.email)) if target]
            if deliveries:
                conn.execute(outbox.insert(), deliveries)
            made = [Alert(fid, area.name, facts.incident_id, facts.casualties, f, at)
                    for fid, (area, facts), f in zip(fids, new, fields)]
        stored = datetime.fromisoformat(tables.get_state(conn, WATERMARK))
        if latest > stored:
            tables.set_state(conn, WATERMARK, latest.isoformat())
    return made


def _alerted(conn: sa.Connection, incident_ids: set[str]) -> dict[tuple[str, str], int]:
    """The highest casualty total already alerted, per (area, incident), alerts under an incident's
    earlier ids (merging can change an id) counted as its own."""
    out: dict[tuple[str, str], int] = {}
    ids = sorted(incident_ids)
    for start in range(0, len(ids), 500):
        some = ids[start:start + 500]
        earlier = sa.select(incident_renames.c.old_id).where(incident_renames.c.new_id.in_(some))
        current = sa.func.coalesce(incident_renames.c.new_id, alerts.c.incident_id)
        q = (sa.select(alerts.c.area, current, sa.func.max(alerts.c.casualties))
             .outerjoin(incident_renames, incident_renames.c.old_id == alerts.c.incident_id)
             .where(sa.or_(alerts.c.incident_id.in_(some), alerts.c.incident_id.in_(earlier)))
             .group_by(alerts.c.area, current))
        for area, incident, casualties in conn.execute(q):
            out[(area, incident)] = max(casualties, out.get((area, incident), casualties))
    return out


def alert_fields(area: WatchArea, row: Any, casualties: int) -> dict[str, Any]:
    """What an alert says: the incident's fields as they were when it matched."""
    day = row.date
    return {"area": area.name, "incident_id": row.incident_id, "event_type": row.event_type,
            "date": day.isoformat() if hasattr(day, "isoformat") else day, "place": row.place_name,
            "country": row.country, "lat": row.lat, "lon": row.lon, "killed": row.killed, "wounded": row.wounded,
            "casualties": casualties, "evidence": row.evidence}


def recent_alerts(store, reader: str, limit: int = 200) -> pd.DataFrame:
    """The newest alerts with whether `reader` has read them: fid, area, incident_id, casualties, created_at,
    read, and the alert's fields."""
    tables.ensure(store)
    read = sa.select(alert_reads.c.alert).where(alert_reads.c.reader == reader)
    q = (sa.select(alerts.c.fid, alerts.c.payload, alerts.c.created_at, alerts.c.fid.in_(read).label("read"))
         .order_by(alerts.c.fid.desc()).limit(limit))
    with store.read() as conn:
        rows = conn.execute(q).all()
    records = [{"fid": r.fid, "created_at": r.created_at, "read": bool(r.read), **json.loads(r.payload)} for r in rows]
    return pd.DataFrame(records, columns=["fid", "created_at", "read", "area", "incident_id", "event_type", "date",
                                          "place", "country", "lat", "lon", "killed", "wounded", "casualties",
                                          "evidence"])


def mark_read(store, reader: str, alert_ids: list[int]) -> None:
    tables.ensure(store)
    with store.write() as conn:
        done = {a for (a,) in conn.execute(sa.select(alert_reads.c.alert).where(
            alert_reads.c.reader == reader, alert_reads.c.alert.in_(alert_ids)))}
        new = [{"alert": a, "reader": reader} for a in alert_ids if a not in done]
        if new:
            conn.execute(alert_reads.insert(), new)
