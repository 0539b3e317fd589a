"""People's changes: corrections kept with who, when and the value before; deleting an article; undoing
either; the roles admins set. Every change is an entry of the `corrections` table, the audit log."""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import pandas as pd
import sqlalchemy as sa

from .errors import StoreError
from .queries import ARTICLE_EXISTS
from .rows import from_row_json, join, jsonable, now, row_json
from .schema import articles, corrections, incident_sources, incidents, sign_in_failures, user_roles

DELETED_ARTICLE = "(article deleted)"   # the `field` of the correction that records a deletion
CORRECTED_INCIDENTS = sa.select(corrections.c.incident_id).where(corrections.c.field != DELETED_ARTICLE).distinct()
EDITABLE = {"event_type": str, "date": date, "date_precision": str, "geo_precision": int, "place_name": str,
            "country": str, "admin1": str, "geonameid": int, "lat": float, "lon": float, "killed": int,
            "killed_low": int, "killed_high": int, "wounded": int, "wounded_low": int, "wounded_high": int,
            "actors": str, "claimed_by": str, "victims": str, "contested": bool, "notes": str}


class EditConflict(StoreError):
    """Someone else changed the incident since it was loaded."""

    def __init__(self, incident: str, expected: int, found: int, last: dict | None) -> None:
        self.incident, self.expected, self.found, self.last = incident, expected, found, last
        by = f" by {last['who']} at {last['at']:%Y-%m-%d %H:%M} ({last['field']}: {last['before']} -> {last['after']})" \
            if last else ""
        super().__init__(f"incident {incident} was changed{by} since you loaded it (version {expected}, now "
                         f"{found}); reload it and apply your change again")


def check_correction(name: str, value: Any) -> Any:
    """A corrected value, checked and typed; a bad one is refused with a reason."""
    from ..text.incidents import EVENT_TYPES
    if name not in EDITABLE:
        raise StoreError(f"{name!r} cannot be corrected (fields: {', '.join(sorted(EDITABLE))})")
    if value is None or (isinstance(value, str) and not value.strip() and EDITABLE[name] is not str):
        return None
    kind = EDITABLE[name]
    try:
        if kind is date:
            value = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        elif kind is bool:
            value = bool(value)
        else:
            value = kind(value)
    except (TypeError, ValueError):
        raise StoreError(f"{name}: {value!r} is not a valid {kind.__name__}") from None
    if name == "event_type" and value not in EVENT_TYPES:
        raise StoreError(f"event_type must be one of {', '.join(EVENT_TYPES)}")
    if name == "lat" and not -90 <= value <= 90 or name == "lon" and not -180 <= value <= 180:
        raise StoreError(f"{name} {value} is outside the earth")
    if name.startswith(("killed", "wounded")) and value < 0:
        raise StoreError(f"{name} cannot be negative")
    if name == "geo_precision" and value not in (1, 2, 3):
        raise StoreError("geo_precision is 1, 2 or 3")
    if name == "country":
        value = value.upper()
    return value


def _from_json(name: str, value: Any) -> Any:
    return date.fromisoformat(value) if EDITABLE.get(name) is date and value else value


def reapply_corrections(conn: sa.Connection, incident: str, values: dict[str, Any]) -> None:
    """Re-apply a person's corrections over values recomputed from the articles (a new report of the
    same event must not undo them)."""
    rows = conn.execute(sa.select(corrections.c.field, corrections.c.after)
                        .where(corrections.c.incident_id == incident).order_by(corrections.c.fid))
    for name, after in rows:
        values[name] = _from_json(name, json.loads(after))
    if "lat" in values and "point_lat" in values:
        values["point_lat"], values["point_lon"] = values["lat"], values["lon"]


class Auditing:
    """Corrections, deletions, undo and roles of `geo.store.Store` (a mixin: it needs `user`, `url`,
    `write()`, `read()`, `_frame()`, `_point_sql()` and `_insert_incident`)."""

    def correct(self, incident: str, changes: dict[str, Any], who: str | None = None,
                expected_version: int | None = None, note: str | None = None) -> int:
        """Change fields of an incident as a person's correction, recorded with the value before; returns
        the incident's new version. With `expected_version`, a change made meanwhile by someone else
        is refused (`EditConflict`) rather than overwritten. `who` defaults to the store's user."""
        self.user.require("correct")
        values = {name: check_correction(name, value) for name, value in changes.items()}
        who = who if who is not None else self.user.name
        if not who or not who.strip():
            raise StoreError("a correction needs the name of who makes it")
        with self.write() as conn:
            row = conn.execute(sa.select(incidents).where(incidents.c.incident_id == incident)).first()
            if row is None:
                raise StoreError(f"no incident {incident!r} in {self.url}")
            if expected_version is not None and row.version != expected_version:
                raise EditConflict(incident, expected_version, row.version, self._last_correction(conn, incident))
            for kind in ("killed", "wounded"):  # a corrected count stays inside its range
                if values.get(kind) is not None:
                    low = values.get(f"{kind}_low", row._mapping[f"{kind}_low"])
                    high = values.get(f"{kind}_high", row._mapping[f"{kind}_high"])
                    if low is None or low > values[kind]:
                        values[f"{kind}_low"] = values[kind]
                    if high is not None and high < values[kind]:
                        values[f"{kind}_high"] = values[kind]
            changed = {k: v for k, v in values.items() if jsonable(row._mapping[k]) != jsonable(v)}
            if not changed:
                return row.version
            at = now()
            for name, value in changed.items():
                conn.execute(corrections.insert().values(
                    incident_id=incident, field=name, before=json.dumps(jsonable(row._mapping[name])),
                    after=json.dumps(jsonable(value)), who=who.strip(), at=at, note=note))
            update = dict(changed, version=row.version + 1, updated_at=at)
            if "lat" in changed or "lon" in changed:
                lat, lon = update.get("lat", row.lat), update.get("lon", row.lon)
                update["geom"] = self._point_sql().params(point_lat=lat, point_lon=lon)
            conn.execute(incidents.update().where(incidents.c.fid == row.fid).values(**update))
            return row.version + 1

    def delete_article(self, key: str, note: str | None = None) -> int:
        """Delete an article, its sources, and the incidents no other article reports (admins only).
        Everything removed is kept in the audit log, so the deletion can be undone; returns its entry."""
        self.user.require("delete")
        with self.write() as conn:
            article = conn.execute(sa.select(articles).where(articles.c.article_key == key)).first()
            if article is None:
                raise StoreError(f"no article {key!r} in {self.url}")
            links = conn.execute(sa.select(incident_sources).where(incident_sources.c.article_key == key)).all()
            touched = sorted({link.incident_id for link in links})
            only_here = [i for i in touched if not conn.execute(
                sa.select(incident_sources.c.fid).where(incident_sources.c.incident_id == i,
                                                        incident_sources.c.article_key != key)).first()]
            removed = conn.execute(sa.select(incidents).where(incidents.c.incident_id.in_(only_here))).all()
            before = {"article": row_json(article), "sources": [row_json(r) for r in links],
                      "incidents": [row_json(r) for r in removed]}
            conn.execute(incident_sources.delete().where(incident_sources.c.article_key == key))
            conn.execute(incidents.delete().where(incidents.c.incident_id.in_(only_here)))
            for incident in set(touched) - set(only_here):  # still told by other articles
                keys = [r.article_key for r in conn.execute(sa.select(incident_sources.c.article_key).where(
                    incident_sources.c.incident_id == incident))]
                conn.execute(incidents.update().where(incidents.c.incident_id == incident).values(
                    sources=join(sorted(keys)), n_sources=len(keys), version=incidents.c.version + 1, updated_at=now()))
            conn.execute(articles.delete().where(articles.c.article_key == key))
            return conn.execute(corrections.insert().values(
                incident_id=key, field=DELETED_ARTICLE, before=json.dumps(before, default=str), after=None,
                who=self.user.name, at=now(), note=note)).inserted_primary_key[0]

    def undo(self, entry: int) -> None:
        """Undo one audit entry (admins only): a correction gets its value before back, as a new
        correction; a deleted article comes back with its sources and incidents."""
        self.user.require("undo")
        with self.write() as conn:
            row = conn.execute(sa.select(corrections).where(corrections.c.fid == entry)).first()
            if row is None:
                raise StoreError(f"no audit entry {entry}")
            if row.field != DELETED_ARTICLE:
                self._undo_correction(conn, row, entry)
                return
            before = json.loads(row.before)
            if conn.execute(ARTICLE_EXISTS, {"key": before["article"]["article_key"]}).first():
                raise StoreError("that article is in the store again; nothing to undo")
            conn.execute(articles.insert().values(**from_row_json(articles, before["article"])))
            for item in before["incidents"]:
                values = from_row_json(incidents, item)
                values.pop("geom", None)
                values.update(point_lat=values.get("lat"), point_lon=values.get("lon"))
                conn.execute(self._insert_incident, values)
            for item in before["sources"]:
                conn.execute(incident_sources.insert().values(**from_row_json(incident_sources, item)))
            for incident in {item["incident_id"] for item in before["sources"]}:
                keys = [r.article_key for r in conn.execute(sa.select(incident_sources.c.article_key).where(
                    incident_sources.c.incident_id == incident))]
                conn.execute(incidents.update().where(incidents.c.incident_id == incident).values(
                    sources=join(sorted(keys)), n_sources=len(keys)))
            conn.execute(corrections.insert().values(
                incident_id=before["article"]["article_key"], field="(article restored)", before=None, after=None,
                who=self.user.name, at=now(), note=f"undo of #{entry}: article restored"))

    def _undo_correction(self, conn: sa.Connection, row: Any, entry: int) -> None:
        """Give back the values before a correction: every field changed in the same save."""
        current = conn.execute(sa.select(incidents).where(incidents.c.incident_id == row.incident_id)).first()
        if current is None:
            raise StoreError(f"incident {row.incident_id} is no longer in the store")
        same_save = conn.execute(sa.select(corrections).where(
            corrections.c.incident_id == row.incident_id, corrections.c.who == row.who, corrections.c.at == row.at,
            corrections.c.field != DELETED_ARTICLE)).all()
        at = now()
        update: dict[str, Any] = {"version": current.version + 1, "updated_at": at}
        for change in same_save:
            update[change.field] = _from_json(change.field, json.loads(change.before))
            conn.execute(corrections.insert().values(
                incident_id=row.incident_id, field=change.field, before=json.dumps(jsonable(current._mapping[change.field])),
                after=change.before, who=self.user.name, at=at, note=f"undo of #{entry}"))
        if "lat" in update or "lon" in update:
            update["geom"] = self._point_sql().params(point_lat=update.get("lat", current.lat),
                                                      point_lon=update.get("lon", current.lon))
        conn.execute(incidents.update().where(incidents.c.fid == current.fid).values(**update))

    def corrections(self, incident: str | None = None) -> pd.DataFrame:
        q = sa.select(corrections).order_by(corrections.c.fid)
        if incident:
            q = q.where(corrections.c.incident_id == incident)
        with self.read() as conn:
            result = conn.execute(q)
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()))

    @staticmethod
    def _last_correction(conn: sa.Connection, incident: str) -> dict | None:
        row = conn.execute(sa.select(corrections).where(corrections.c.incident_id == incident)
                           .order_by(corrections.c.fid.desc()).limit(1)).first()
        return dict(row._mapping) if row else None

    # roles --------------------------------------------------------------------------------------
    def set_role(self, name: str, role: str) -> None:
        """Give a user (name or OIDC e-mail) a role, over what the secrets say (admins only)."""
        from .auth import ROLES
        self.user.require("roles")
        if role not in ROLES:
            raise StoreError(f"role must be one of {', '.join(ROLES)}")
        with self.write() as conn:
            conn.execute(user_roles.delete().where(user_roles.c.name == name.lower()))
            conn.execute(user_roles.insert().values(name=name.lower(), role=role, set_by=self.user.name,
                                                    set_at=now()))

    def role_of(self, name: str) -> str | None:
        """The role an admin set for `name`, if any."""
        with self.read() as conn:
            return conn.execute(sa.select(user_roles.c.role).where(user_roles.c.name == name.lower())).scalar()

    # failed sign-ins ------------------------------------------------------------------------------
    def count_sign_in(self, name: str, address: str, window_seconds: float,
                      check: Callable[[list[float], list[float], float], None]) -> None:
        """Check and count a sign-in attempt in one write transaction, so parallel attempts (from any
        server process) take turns: `check(failures of the name, failures of the address, now)`, times
        in epoch seconds within the window, raises to refuse the attempt; else it is counted as a
        failure until `forget_sign_in_failures` clears it."""
        t = sign_in_failures.c
        with self.write() as conn:
            at = time.time()  # inside the transaction: attempts are timed in the order they take turns
            conn.execute(sign_in_failures.delete().where(t.at < at - window_seconds))
            by_name = conn.execute(sa.select(t.at).where(t.name == name)).scalars().all()
            by_address = conn.execute(sa.select(t.at).where(t.address == address)).scalars().all()
            check(by_name, by_address, at)
            conn.execute(sign_in_failures.insert().values(name=name, address=address, at=at))

    def forget_sign_in_failures(self, name: str) -> None:
        """A successful sign-in: the name's failures no longer count."""
        with self.write() as conn:
            conn.execute(sign_in_failures.delete().where(sign_in_failures.c.name == name))

    def roles(self) -> pd.DataFrame:
        return self._frame(sa.select(user_roles.c.name, user_roles.c.role, user_roles.c.set_by, user_roles.c.set_at)
                           .order_by(user_roles.c.name))
