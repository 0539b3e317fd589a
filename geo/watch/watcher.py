"""The watcher: poll the sources that are due, match what changed against the watch areas, deliver alerts;
then sleep until the next source or delivery is due (or `RESCAN_S`, to see sources, areas and
corrections changed in the dashboard). `python -m geo watch` runs it; `--once` runs one round, for cron.
"""
from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from . import tables
from .alerts import Alert, match_new_incidents
from .areas import list_areas
from .matching import AreaIndex
from .outbox import DeliveryReport, Deliverer, deliver_due, next_due
from .polling import Fetcher, PollResult, poll_due
from .tables import areas, sources

RESCAN_S = 30.0


@dataclass
class RoundReport:
    polled: list[PollResult] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    delivered: DeliveryReport = field(default_factory=DeliveryReport)

    @property
    def failed_sources(self) -> int:
        return sum(not p.ok for p in self.polled)


@dataclass
class Watcher:
    store: object
    extract: Callable | None = None            # article -> document; the default pipeline unless given
    fetcher: Fetcher = field(default_factory=Fetcher)
    deliverer: Deliverer = field(default_factory=Deliverer)
    clock: Callable[[], float] = tables.now
    log: Callable[[str], None] = lambda line: print(f"geo watch: {line}", file=sys.stderr, flush=True)
    _index: AreaIndex | None = field(default=None, repr=False)
    _index_key: tuple | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        tables.ensure(self.store)
        if self.extract is None:
            from ..pipeline import default_pipeline
            self.extract = default_pipeline()

    def round(self, ahead: float = 0.0) -> RoundReport:
        """Poll the sources due now (or within `ahead` seconds: cron's minute is not the interval's second),
        match, deliver."""
        report = RoundReport()
        report.polled = poll_due(self.store, self.fetcher, self.extract, self.clock(), ahead)
        for result in report.polled:
            if not result.ok or result.new_items or result.problems:
                self.log(str(result))
        report.alerts = match_new_incidents(self.store, self._areas(), self.clock())
        for alert in report.alerts:
            self.log(f"alert: {alert.area}: {alert.fields['event_type']} at {alert.fields['place']} "
                     f"({alert.casualties} killed + wounded), incident {alert.incident_id}")
        report.delivered = deliver_due(self.store, self.deliverer, self.clock())
        if report.delivered.sent or report.delivered.failed:
            self.log(f"deliveries: {report.delivered.sent} sent, {report.delivered.failed} failed (retried later)")
        return report

    def _areas(self) -> AreaIndex | None:
        """The areas' index, rebuilt only when an area was added, changed or removed (None on PostGIS,
        which matches in the database)."""
        if self.store.dialect == "postgresql":
            return None
        with self.store.read() as conn:
            key = tuple(conn.execute(sa.select(sa.func.count(), sa.func.max(areas.c.updated_at),
                                               sa.func.sum(areas.c.version))).one())
        if key != self._index_key:
            self._index, self._index_key = AreaIndex(list_areas(self.store)), key
        return self._index

    def seconds_to_next(self) -> float:
        """How long the watcher may sleep: until a source or a delivery is due, at most RESCAN_S."""
        with self.store.read() as conn:
            next_poll = conn.execute(sa.select(sa.func.min(sources.c.next_poll))
                                     .where(sources.c.paused.is_(False))).scalar()
        due = [t for t in (next_poll, next_due(self.store)) if t is not None]
        wait = min(due) - self.clock() if due else RESCAN_S
        return max(0.0, min(RESCAN_S, wait))

    def run(self, stop: threading.Event | None = None, max_rounds: int | None = None) -> int:
        """Rounds until `stop` is set (or `max_rounds` ran); returns the rounds run."""
        stop = stop or threading.Event()
        rounds = 0
        while not stop.is_set():
            try:
                self.round()
                wait = self.seconds_to_next()
            except sa.exc.OperationalError as exc:   # the database is away for a while: keep trying
                self.log(f"store unreachable ({str(exc.orig or exc).splitlines()[0]}); trying again in {RESCAN_S:g} s")
                wait = RESCAN_S
            rounds += 1
            if max_rounds is not None and rounds >= max_rounds:
                break
            stop.wait(wait)
        return rounds

    def close(self) -> None:
        self.fetcher.close()
        self.deliverer.close()
