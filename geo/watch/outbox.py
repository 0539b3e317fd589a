"""Delivering alerts: every queued delivery is tried until its receiver takes it.

A delivery that fails is tried again after a delay that doubles each time (30 s up to an hour), forever:
a receiver that is down loses nothing, it gets its alerts late. A watcher claims a delivery before
sending it (for `CLAIM_S`), so two watchers do not both send it; one that dies mid-send leaves the
claim to expire and another sends it (at least once, then). A receiver whose deliveries keep failing
is reported as failing (`receivers`), for the dashboard.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import httpx
import pandas as pd
import sqlalchemy as sa

from . import tables
from .channels import DeliveryError, SmtpSettings, post_webhook, send_email
from .tables import alerts, outbox

FIRST_RETRY_S = 30.0
MAX_RETRY_S = 3600.0
CLAIM_S = 60.0
FAILING_AFTER = 3          # failed attempts in a row before a receiver shows as failing


def retry_delay(attempts: int) -> float:
    return min(MAX_RETRY_S, FIRST_RETRY_S * 2 ** max(0, attempts - 1))


@dataclass
class Deliverer:
    """Sends one alert over one channel; e-mail only when SMTP is configured."""

    smtp: SmtpSettings | None = None
    client: httpx.Client = field(default_factory=lambda: httpx.Client(follow_redirects=False))

    def send(self, channel: str, target: str, fields: dict) -> None:
        if channel == "webhook":
            post_webhook(self.client, target, fields)
        elif channel == "email":
            if self.smtp is None:
                raise DeliveryError("no SMTP server configured ([atlas.smtp] in .streamlit/secrets.toml)")
            send_email(self.smtp, target, fields)
        else:
            raise DeliveryError(f"unknown channel {channel!r}")

    def close(self) -> None:
        self.client.close()


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0


def deliver_due(store, deliverer: Deliverer, now: float | None = None, limit: int = 200) -> DeliveryReport:
    """Send the deliveries that are due (oldest first), each claimed first; returns what was sent and failed."""
    tables.ensure(store)
    now = tables.now() if now is None else now
    report = DeliveryReport()
    with store.read() as conn:
        due = conn.execute(sa.select(outbox.c.fid, outbox.c.channel, outbox.c.target, outbox.c.attempts,
                                     outbox.c.next_attempt, alerts.c.payload)
                           .join(alerts, alerts.c.fid == outbox.c.alert)
                           .where(outbox.c.sent_at.is_(None), outbox.c.next_attempt <= now)
                           .order_by(outbox.c.fid).limit(limit)).all()
    for row in due:
        if not _claim(store, row.fid, row.next_attempt, now + CLAIM_S):
            continue  # another watcher has it
        try:
            deliverer.send(row.channel, row.target, json.loads(row.payload))
        except DeliveryError as exc:
            report.failed += 1
            with store.write() as conn:
                conn.execute(outbox.update().where(outbox.c.fid == row.fid).values(
                    attempts=row.attempts + 1, next_attempt=now + retry_delay(row.attempts + 1),
                    last_error=str(exc)[:500]))
            continue
        report.sent += 1
        with store.write() as conn:
            conn.execute(outbox.update().where(outbox.c.fid == row.fid).values(
                attempts=row.attempts + 1, sent_at=tables.now(), last_error=None))
    return report


def _claim(store, fid: int, seen_next_attempt: float, until: float) -> bool:
    with store.write() as conn:
        return conn.execute(outbox.update().where(outbox.c.fid == fid, outbox.c.sent_at.is_(None),
                                                  outbox.c.next_attempt == seen_next_attempt)
                            .values(next_attempt=until)).rowcount == 1


def next_due(store) -> float | None:
    """When the next unsent delivery is due (Unix seconds), if any."""
    tables.ensure(store)
    with store.read() as conn:
        return conn.execute(sa.select(sa.func.min(outbox.c.next_attempt)).where(outbox.c.sent_at.is_(None))).scalar()


def receivers(store) -> pd.DataFrame:
    """Per receiver (channel, target): deliveries sent and waiting, the last error, and whether it is failing
    (its oldest waiting delivery has failed FAILING_AFTER times or more)."""
    tables.ensure(store)
    pending = sa.case((outbox.c.sent_at.is_(None), 1), else_=0)
    q = (sa.select(outbox.c.channel, outbox.c.target, sa.func.count().label("deliveries"),
                   sa.func.sum(pending).label("waiting"),
                   sa.func.max(sa.case((outbox.c.sent_at.is_(None), outbox.c.attempts), else_=0)).label("attempts"),
                   sa.func.max(outbox.c.sent_at).label("last_sent"))
         .group_by(outbox.c.channel, outbox.c.target).order_by(outbox.c.channel, outbox.c.target))
    with store.read() as conn:
        frame = pd.DataFrame([r._mapping for r in conn.execute(q)],
                             columns=["channel", "target", "deliveries", "waiting", "attempts", "last_sent"])
        errors = {(c, t): e for c, t, e in conn.execute(
            sa.select(outbox.c.channel, outbox.c.target, outbox.c.last_error)
            .where(outbox.c.sent_at.is_(None), outbox.c.last_error.is_not(None)).order_by(outbox.c.fid))}
    frame["last_error"] = [errors.get((c, t)) for c, t in zip(frame["channel"], frame["target"])]
    frame["failing"] = frame["attempts"].fillna(0).astype(int) >= FAILING_AFTER
    return frame
