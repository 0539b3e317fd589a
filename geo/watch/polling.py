"""Polling sources: conditional requests (ETag / Last-Modified, so an unchanged feed costs a 304), a
failing source tried again after a delay that doubles with each failure (up to `MAX_BACKOFF_S`), and each
source's state (last poll, last success, last error, items seen, validators) written to the store, so a
restarted watcher goes on where it stopped. Each feed item is claimed in the store before it is read: two
watchers never ingest one item twice, and an item claimed by a watcher that died is taken over after
`STALE_CLAIM_S`. Items are read and ingested through the same path as `python -m geo ingest`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

import httpx
import sqlalchemy as sa

from ..store import article_key
from ..text.document import Article
from ..text.sources import MAX_BYTES, USER_AGENT, InputError, feed_entries, looks_like_feed, page_article
from . import tables
from .tables import items, sources

MAX_BACKOFF_S = 6 * 3600.0
STALE_CLAIM_S = 600.0
FETCH_TIMEOUT_S = 20.0


# -- fetching ----------------------------------------------------------------------------------------------
class FetchError(Exception):
    pass


@dataclass(frozen=True)
class Fetched:
    status: int                       # 200, or 304 when unchanged
    body: bytes = b""
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class Fetcher:
    """Conditional GETs over http(s) with httpx, and file:// URLs (their size and time stand in for an ETag)."""

    max_bytes: int = MAX_BYTES
    client: httpx.Client = field(default_factory=lambda: httpx.Client(
        headers={"User-Agent": USER_AGENT}, follow_redirects=True, timeout=FETCH_TIMEOUT_S))

    def get(self, url: str, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        if url.startswith("file://"):
            parts = urlparse(url)   # feedparser turns file:///a/b into file://a/b: a host that is no host
            host = "" if parts.netloc in ("", "localhost") else "/" + parts.netloc
            return self._file(Path(unquote(host + parts.path)), etag)
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            with self.client.stream("GET", url, headers=headers) as response:
                if response.status_code == 304:
                    return Fetched(304, etag=etag, last_modified=last_modified)
                if response.status_code >= 400:
                    raise FetchError(f"HTTP {response.status_code} {response.reason_phrase}")
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise FetchError(f"too large (over {self.max_bytes / 1e6:.1f} MB)")
                return Fetched(200, bytes(body), response.headers.get("Content-Type", ""),
                               response.headers.get("ETag"), response.headers.get("Last-Modified"))
        except httpx.HTTPError as exc:
            raise FetchError(f"{type(exc).__name__}: {exc}") from None

    def _file(self, path: Path, etag: str | None) -> Fetched:
        try:
            info = path.stat()
            stamp = f"{info.st_mtime_ns}-{info.st_size}"
            if stamp == etag:
                return Fetched(304, etag=etag)
            if info.st_size > self.max_bytes:
                raise FetchError(f"too large ({info.st_size / 1e6:.1f} MB)")
            return Fetched(200, path.read_bytes(), "", stamp)
        except OSError as exc:
            raise FetchError(exc.strerror or str(exc)) from None

    def close(self) -> None:
        self.client.close()


# -- polling -----------------------------------------------------------------------------------------------
@dataclass
class PollResult:
    url: str
    ok: bool
    not_modified: bool = False
    new_items: int = 0                # items this watcher claimed and read
    articles_new: int = 0             # ... whose article was new to the store
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        if not self.ok:
            return f"{self.url}: error: {self.problems[0]}"
        said = "not modified" if self.not_modified else f"{self.new_items} new items, {self.articles_new} new articles"
        return f"{self.url}: {said}" + "".join(f"; {p}" for p in self.problems)


def backoff_delay(interval_s: float, failures: int) -> float:
    """The wait after `failures` failures in a row: the interval, doubled for each, at most MAX_BACKOFF_S."""
    return min(max(MAX_BACKOFF_S, interval_s), interval_s * 2 ** min(failures, 20))


def poll_due(store, fetcher: Fetcher, extract: Callable, now: float, ahead: float = 0.0) -> list[PollResult]:
    """Poll every unpaused source whose time has come, or comes within `ahead` seconds (claimed first, so two
    watchers share them)."""
    tables.ensure(store)
    with store.read() as conn:
        due = conn.execute(sa.select(sources).where(sources.c.paused.is_(False), sources.c.next_poll <= now + ahead)
                           .order_by(sources.c.next_poll)).all()
    results = []
    for row in due:
        with store.write() as conn:  # the lease: nobody else polls it until it is done or its interval passed
            taken = conn.execute(sources.update().where(sources.c.fid == row.fid, sources.c.next_poll == row.next_poll)
                                 .values(next_poll=now + row.interval_s)).rowcount
        if not taken:
            continue
        try:
            results.append(poll_source(store, row, fetcher, extract, now))
        except Exception as exc:  # noqa: BLE001 - one bad page or item must not stop the other sources
            message = f"{type(exc).__name__}: {exc}".splitlines()[0]
            _failed(store, row, now, message)
            results.append(PollResult(row.url, ok=False, problems=[message]))
    return results


def poll_source(store, row, fetcher: Fetcher, extract: Callable, now: float) -> PollResult:
    result = PollResult(row.url, ok=True)
    try:
        got = fetcher.get(row.url, row.etag, row.last_modified)
    except FetchError as exc:
        result.ok, result.problems = False, [str(exc)]
        _failed(store, row, now, str(exc))
        return result
    last_item = None
    if got.status == 304:
        result.not_modified = True
    else:
        last_item = _read_items(store, row.url, got, fetcher, extract, now, result)
    values = {"last_poll": now, "last_success": now, "last_error": None, "failures": 0,
              "next_poll": now + row.interval_s, "etag": got.etag, "last_modified": got.last_modified,
              "items_seen": sources.c.items_seen + result.new_items}
    if last_item:
        values.update(last_item=last_item, last_item_at=now)
    _polled(store, row.url, **values)
    return result


def _polled(store, url: str, **values) -> None:
    """A source's state after a poll; nothing when an admin removed the source meanwhile."""
    with store.write() as conn:
        conn.execute(sources.update().where(sources.c.url == url).values(**values))


def _failed(store, row, now: float, error: str) -> None:
    """A failed poll: the error kept, the next one after the backoff. The validators stay as they were,
    so what was not read this time is fetched again."""
    failures = row.failures + 1
    _polled(store, row.url, last_poll=now, last_error=error[:500], failures=failures,
            next_poll=now + backoff_delay(row.interval_s, failures))


def _read_items(store, url: str, got: Fetched, fetcher: Fetcher, extract: Callable, now: float,
                result: PollResult) -> str | None:
    """Claim and ingest the items of a feed (or the page itself) that no watcher has read; the last title."""
    entries = feed_entries(got.body) if looks_like_feed(got.body, got.content_type) else None
    if entries is None:  # a page: it is one item, named by its text
        article = _article(url, got.body, None, None, result)
        if article is None or not _claim(store, url, [f"page:{article_key(article.text)}"], now):
            return None
        return _ingest(store, url, f"page:{article_key(article.text)}", article, extract, result)
    last = None
    for key in _claim(store, url, [e.key for e in reversed(entries)], now):   # oldest first
        entry = next(e for e in entries if e.key == key)
        if not entry.link:
            result.problems.append(f"{entry.title or key}: a feed entry with no link")
            _finish_item(store, url, key, None)
            continue
        try:
            page = fetcher.get(entry.link)
        except FetchError as exc:
            result.problems.append(f"{entry.link}: {exc} (tried again at the next poll)")
            _release(store, url, key)
            continue
        article = _article(entry.link, page.body, entry.title, entry.published, result)
        if article is None:
            _finish_item(store, url, key, None)
            continue
        last = _ingest(store, url, key, article, extract, result) or last
    return last


def _article(url, body, title, published, result: PollResult):
    for item in page_article(url, body, title, published, None):
        if isinstance(item, InputError):
            result.problems.append(str(item))
        elif isinstance(item, Article):
            return item
    return None


def _ingest(store, url: str, key: str, article, extract: Callable, result: PollResult) -> str | None:
    try:
        outcome = store.ingest(article, extract)
    except Exception:
        _release(store, url, key)   # not lost: the next poll claims it again
        raise
    result.new_items += 1
    result.articles_new += outcome.status == "new"
    _finish_item(store, url, key, outcome.article_key)
    return article.title or article.url


def _claim(store, url: str, keys: list[str], now: float) -> list[str]:
    """The item keys this watcher may read: not seen before, or claimed by a watcher that has gone quiet."""
    if not keys:
        return []
    claimed = []
    with store.write() as conn:   # writers take turns, so looking then inserting cannot race
        known = {r.item_key: r for r in conn.execute(sa.select(items.c.item_key, items.c.status, items.c.claimed_at)
                                                     .where(items.c.source_url == url, items.c.item_key.in_(keys)))}
        for key in dict.fromkeys(keys):
            row = known.get(key)
            if row is None:
                conn.execute(items.insert().values(source_url=url, item_key=key, status="claimed", claimed_at=now))
            elif row.status == "claimed" and row.claimed_at < now - STALE_CLAIM_S:
                conn.execute(items.update().where(items.c.source_url == url, items.c.item_key == key)
                             .values(claimed_at=now))
            else:
                continue
            claimed.append(key)
    return claimed


def _finish_item(store, url: str, key: str, article: str | None) -> None:
    with store.write() as conn:
        conn.execute(items.update().where(items.c.source_url == url, items.c.item_key == key)
                     .values(status="done", article_key=article))


def _release(store, url: str, key: str) -> None:
    with store.write() as conn:
        conn.execute(items.delete().where(items.c.source_url == url, items.c.item_key == key,
                                          items.c.status == "claimed"))
