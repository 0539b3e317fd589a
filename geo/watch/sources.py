"""Sources the watcher polls: RSS/Atom feeds and pages, each at its own interval, from a TOML file or
added by an admin in the dashboard; kept in the store with their state (`polling` writes it).
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from ..store.auth import PermissionDenied
from . import tables
from .tables import sources

DEFAULT_INTERVAL_S = 15 * 60.0
MIN_INTERVAL_S = 1.0


class WatchError(Exception):
    """A problem with the watch configuration, said in one line."""


@dataclass(frozen=True)
class SourceSpec:
    url: str
    label: str | None = None
    interval_s: float = DEFAULT_INTERVAL_S


_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(text: str | float | int) -> float:
    """"90s", "15m", "2h", "1d", or a number of seconds."""
    match = _INTERVAL.match(str(text))
    if not match:
        raise WatchError(f"interval {text!r}: give a number with s, m, h or d (e.g. \"15m\")")
    seconds = float(match.group(1)) * _UNIT_S[match.group(2) or "s"]
    if seconds < MIN_INTERVAL_S:
        raise WatchError(f"interval {text!r}: at least {MIN_INTERVAL_S:g} second")
    return seconds


def read_sources_file(path: str | Path) -> list[SourceSpec]:
    """`[[source]]` tables with `url`, optional `label` and `interval`, from a TOML file."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise WatchError(f"{path}: not valid TOML ({exc})") from None
    entries = data.get("source", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise WatchError(f"{path}: sources are [[source]] tables")
    specs = []
    for n, entry in enumerate(entries, 1):
        url = entry.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://", "file://")):
            raise WatchError(f"{path}: source {n} needs a url (http://, https:// or file://)")
        specs.append(SourceSpec(url, entry.get("label"), parse_interval(entry.get("interval", DEFAULT_INTERVAL_S))))
    if not specs:
        raise WatchError(f"{path}: no [[source]] tables")
    return specs


# -- sources kept in the store -----------------------------------------------------------------------------
def sync_sources(store, specs: list[SourceSpec]) -> None:
    """Add the sources of a file to the store, or update their label and interval (their state is kept)."""
    tables.ensure(store)
    with store.write() as conn:
        for spec in specs:
            changed = conn.execute(sources.update().where(sources.c.url == spec.url).values(
                label=spec.label, interval_s=spec.interval_s)).rowcount
            if not changed:
                conn.execute(sources.insert().values(url=spec.url, label=spec.label, interval_s=spec.interval_s,
                                                     paused=False, next_poll=0.0, failures=0, items_seen=0,
                                                     added_by="sources file"))


def _require_admin(store, what: str) -> None:
    if not store.user.can("roles"):
        raise PermissionDenied(f"{store.user.name} ({store.user.role}) may not {what}; only admins manage sources")


def add_source(store, spec: SourceSpec) -> None:
    _require_admin(store, "add sources")
    if not spec.url.startswith(("http://", "https://")):
        raise WatchError(f"{spec.url!r}: a source is an http(s) URL")
    tables.ensure(store)
    with store.write() as conn:
        if conn.execute(sa.select(sources.c.fid).where(sources.c.url == spec.url)).first():
            raise WatchError(f"{spec.url} is already a source")
        conn.execute(sources.insert().values(url=spec.url, label=spec.label, interval_s=spec.interval_s,
                                             paused=False, next_poll=0.0, failures=0, items_seen=0,
                                             added_by=store.user.name))


def pause_source(store, url: str, paused: bool = True) -> None:
    _require_admin(store, "pause sources")
    _change_source(store, url, paused=paused, next_poll=0.0)


def remove_source(store, url: str) -> None:
    _require_admin(store, "remove sources")
    tables.ensure(store)
    with store.write() as conn:
        if not conn.execute(sources.delete().where(sources.c.url == url)).rowcount:
            raise WatchError(f"no source {url}")


def _change_source(store, url: str, **values) -> None:
    tables.ensure(store)
    with store.write() as conn:
        if not conn.execute(sources.update().where(sources.c.url == url).values(**values)).rowcount:
            raise WatchError(f"no source {url}")


def source_status(store) -> pd.DataFrame:
    """Every source with its state: label, interval, paused, last poll/success/error, failures, items."""
    tables.ensure(store)
    columns = ["url", "label", "interval_s", "paused", "last_poll", "last_success", "last_error", "failures",
               "items_seen", "last_item", "last_item_at", "next_poll", "added_by"]
    with store.read() as conn:
        rows = conn.execute(sa.select(*[sources.c[c] for c in columns]).order_by(sources.c.fid)).all()
    return pd.DataFrame([r._mapping for r in rows], columns=columns)
