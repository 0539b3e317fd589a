"""Reading articles from files and JSON Lines, with one clear error per bad input.

Text from articles is untrusted: it is decoded defensively, HTML goes through a real extractor
(trafilatura) and never through regular expressions, and nothing here raises past a bad input:
each problem becomes an `InputError` naming the input, and the next input is read.
"""
from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import ClassVar

from .dates import relative_publication_date, stated_publication_date
from .document import Article

MAX_BYTES = 10 * 1024 * 1024
TEXT_SUFFIXES = {".txt", ".md", ".text", ""}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}


@dataclass(frozen=True, slots=True)
class InputProblem:
    """Something wrong with one input, in words a user can act on."""

    source: str
    reason: str
    fatal: ClassVar[bool] = True

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}" if self.fatal else f"{self.source}: warning: {self.reason}"


class InputError(InputProblem):
    """An input that could not be read: it is skipped, the next one is read."""

    __slots__ = ()


class InputWarning(InputProblem):
    """An input read despite a problem (invalid UTF-8, not English): it is still processed."""

    __slots__ = ()
    fatal = False


@dataclass(frozen=True, slots=True)
class MoreErrors(InputError):
    """The bad lines of one input past the first few, counted rather than each named."""

    count: int = 0

    @property
    def fatal(self) -> int:  # type: ignore[override]  # counts as `count` failures wherever they are summed
        return self.count


class BadInput(ValueError):
    pass


SHOWN_ERRORS = 10  # bad lines named one by one in an input; the rest are counted


def parse_date(value: str | None, what: str = "date") -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise BadInput(f"{what} {value!r} is not a YYYY-MM-DD date") from None


def decode(data: bytes, source: str, warnings: list[InputWarning]) -> str:
    if not data.strip():
        raise BadInput("empty input")
    if b"\x00" in data:
        raise BadInput("binary data, not text (it holds NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        warnings.append(InputWarning(source, f"invalid UTF-8 at byte {exc.start}; undecodable bytes replaced"))
        return data.decode("utf-8", errors="replace")


def html_to_text(html: str) -> tuple[str, dict]:
    """The article text and metadata of an HTML page, scripts and boilerplate left out."""
    import trafilatura
    text = trafilatura.extract(html, include_comments=False, include_tables=False, favor_recall=True)
    if not text or not text.strip():
        raise BadInput("HTML with no article text in it")
    meta = trafilatura.extract_metadata(html)
    info = {}
    if meta is not None:
        info = {"title": meta.title, "published": meta.date, "url": meta.url, "source": meta.sitename}
    return text, info


def looks_like_html(text: str, suffix: str) -> bool:
    if suffix in HTML_SUFFIXES:
        return True
    head = text.lstrip()[:200].lower()
    return head.startswith("<!doctype html") or head.startswith("<html")


def date_article(article: Article, default: date | None, retrieved: date | None) -> Article:
    """The publication date, from the first that has one: the input's own (JSONL field, HTML metadata),
    a "Published:" line in the text, the caller's default (`--published`), a relative stamp ("3 days
    ago") against the retrieval date."""
    if article.published is None:
        article.published = (stated_publication_date(article.text) or default
                             or (relative_publication_date(article.text, retrieved) if retrieved else None))
    return article


def article_from_bytes(data: bytes, source: str, article_id: str, published: date | None,
                       warnings: list[InputWarning], suffix: str = "") -> Article:
    text = decode(data, source, warnings)
    title = url = site = None
    if looks_like_html(text, suffix):
        text, meta = html_to_text(text)
        title, url, site = meta.get("title"), meta.get("url"), meta.get("source")
        if published is None and meta.get("published"):
            try:
                published = parse_date(meta["published"])
            except BadInput:
                pass
    elif title is None:
        title = _first_line_title(text)
    return Article(id=article_id, text=text, title=title, published=published, source=site, url=url)


def _first_line_title(text: str) -> str | None:
    """A text file's first line is its headline when it is short."""
    first = text.lstrip().split("\n", 1)[0].strip()
    return first if 0 < len(first) <= 200 else None


ARTICLE_SUFFIXES = (TEXT_SUFFIXES | HTML_SUFFIXES) - {""}
PUBLISHED_LISTING = "published.tsv"  # in a folder: file name <TAB> YYYY-MM-DD, for files that state no date


def _is_article_file(path: Path) -> bool:
    """In a folder, the files that are articles: text, Markdown, HTML; not a README or the dates listing."""
    return (path.is_file() and not path.name.startswith(".") and path.suffix.lower() in ARTICLE_SUFFIXES
            and not path.stem.lower().startswith(("readme", "license")))


def folder_dates(folder: Path) -> dict[str, date]:
    """Publication dates a folder's `published.tsv` gives its files (by file name)."""
    listing = folder / PUBLISHED_LISTING
    dates: dict[str, date] = {}
    if listing.is_file():
        for line in listing.read_text(encoding="utf-8").splitlines():
            name, _, day = line.partition("\t")
            if day.strip() and not name.startswith("#"):
                try:
                    dates[name.strip()] = date.fromisoformat(day.strip())
                except ValueError:
                    continue
    return dates


def not_readable_kind(path: Path) -> str | None:
    """Why `path` cannot be read as a stream of bytes (a device, a socket), or None: regular files and
    FIFOs (`<(command)`) can. Reading /dev/zero would never end."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    for test, kind in ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return f"{kind}, not a file"
    return None


def expand_paths(paths: Iterable[str]) -> Iterator[Path | InputError]:
    """Files, folders (recursively: their article files) and globs, in a stable order. A name that
    exists is read as it is, even with glob characters in it (`report [final].txt`)."""
    import glob
    for raw in paths:
        literal = os.path.lexists(raw) or not any(c in raw for c in "*?[")
        matches = [raw] if literal else sorted(glob.glob(raw, recursive=True))
        if not matches:
            yield InputError(raw, "no file matches this pattern")
        for m in matches:
            p = Path(m)
            problem = not_readable_kind(p)
            if problem:
                yield InputError(m, problem)
            elif p.is_dir():
                files = sorted(f for f in p.rglob("*") if _is_article_file(f))
                if not files:
                    yield InputError(m, "folder holds no article files (.txt, .md, .html)")
                yield from files
            elif p.exists():
                yield p
            else:
                yield InputError(m, "no such file or folder")


def read_files(paths: Iterable[str], published: date | None = None, max_bytes: int = MAX_BYTES,
               retrieved: date | None = None) -> Iterator[Article | InputError | InputWarning]:
    for p in expand_paths(paths):
        if isinstance(p, InputError):
            yield p
            continue
        source = str(p)
        warnings: list[InputWarning] = []
        try:
            size = p.stat().st_size
            if size > max_bytes:
                raise BadInput(f"too large ({size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB)")
            with open(p, "rb") as f:
                data = f.read(max_bytes + 1)  # a FIFO has no size to check beforehand
            if len(data) > max_bytes:
                raise BadInput(f"too large (over {max_bytes / 1e6:.1f} MB, the limit)")
            article = article_from_bytes(data, source, p.stem, None, warnings, p.suffix.lower())
            article.published = article.published or folder_dates(p.parent).get(p.name)
            _finish(article, source, warnings, published, retrieved)
        except (BadInput, OSError) as exc:
            yield InputError(source, str(exc) if isinstance(exc, BadInput) else exc.strerror or str(exc))
            continue
        yield from warnings
        yield article


def read_jsonl(path: str, published: date | None = None, max_bytes: int = MAX_BYTES,
               retrieved: date | None = None) -> Iterator[Article | InputError | InputWarning]:
    """`{"id", "text", "published"?, "title"?, "retrieved"?}` per line; a bad line is named and skipped
    (the first few by name, the rest counted). Lines are read with a bound, so a huge or endless
    line costs no memory."""
    problem = None if path == "-" else not_readable_kind(Path(path)) or (
        "a folder, not a file of JSON Lines" if os.path.isdir(path) else None)
    if problem:
        yield InputError(path, problem)
        return
    try:
        f = sys_stdin() if path == "-" else open(path, "rb")
    except OSError as exc:
        yield InputError(path, exc.strerror or str(exc))
        return
    bad = 0
    with f:
        for lineno, raw in enumerate(_bounded_lines(f, max_bytes), 1):
            source = f"{path}:{lineno}"
            if not raw.strip():
                continue
            warnings: list[InputWarning] = []
            try:
                if raw is _LONG_BINARY:
                    yield InputError(source, "binary data, not JSON Lines (it holds NUL bytes); the rest of "
                                     "this input is skipped")
                    return
                if raw is _TOO_LONG:
                    raise BadInput(f"line too large (over {max_bytes / 1e6:.1f} MB, the limit)")
                article = _jsonl_article(raw, source, lineno, published, retrieved, warnings)
            except BadInput as exc:
                bad += 1
                if bad <= SHOWN_ERRORS:
                    yield InputError(source, str(exc))
                continue
            yield from warnings
            yield article
    if bad > SHOWN_ERRORS:
        yield MoreErrors(path, f"{bad - SHOWN_ERRORS} more bad lines not shown", bad - SHOWN_ERRORS)


_TOO_LONG = b"(too long)"        # `_bounded_lines` yields these (by identity) for lines it cannot give
_LONG_BINARY = b"(long binary)"


def _bounded_lines(f, limit: int) -> Iterator[bytes]:
    """The lines of a binary stream; `_TOO_LONG` for a line over `limit` bytes (skipped to its end), and
    `_LONG_BINARY`, then nothing more, for one of NUL bytes (/dev/zero has no line end to skip to)."""
    while True:
        line = f.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(b"\n"):
            if b"\x00" in line:
                yield _LONG_BINARY
                return
            while line and not line.endswith(b"\n"):
                line = f.readline(1 << 20)
            yield _TOO_LONG
            continue
        yield line


_JSONL_TEXT_FIELDS = ("title", "url", "source")


def _kind(value: object) -> str:
    return {list: "a list", dict: "an object", bool: "a boolean", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__)


def _jsonl_article(raw: bytes, source: str, lineno: int, published: date | None, retrieved: date | None,
                   warnings: list[InputWarning]) -> Article:
    """The article of one JSON line, its fields checked: strings where strings belong, no NUL characters."""
    try:
        obj = json.loads(decode(raw, source, warnings))
    except json.JSONDecodeError as exc:
        raise BadInput(f"not JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise BadInput("not a JSON object")
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadInput('no "text" string')
    for name in _JSONL_TEXT_FIELDS:
        if obj.get(name) is not None and not isinstance(obj[name], str):
            raise BadInput(f'"{name}" is {_kind(obj[name])}, not a string')
    raw_id = obj.get("id")
    if raw_id is not None and (isinstance(raw_id, bool) or not isinstance(raw_id, (str, int, float))):
        raise BadInput(f'"id" is {_kind(raw_id)}, not a string or a number')
    article_id = str(raw_id) if raw_id is not None else str(lineno)
    for name, value in (("text", text), ("id", article_id), *((n, obj.get(n)) for n in _JSONL_TEXT_FIELDS)):
        if isinstance(value, str) and "\x00" in value:
            raise BadInput(f'"{name}" holds a NUL character (\\u0000), which is not text')
    art_published = parse_date(obj.get("published"), "published")
    art_retrieved = parse_date(obj.get("retrieved"), "retrieved") or retrieved
    if looks_like_html(text, ""):
        article = article_from_bytes(text.encode(), source, article_id, art_published, warnings, ".html")
    else:
        article = Article(id=article_id, text=text, title=obj.get("title"), published=art_published,
                          source=obj.get("source"), url=obj.get("url"))
    _finish(article, source, warnings, published, art_retrieved)
    return article


def sys_stdin():
    import sys
    return os.fdopen(os.dup(sys.stdin.fileno()), "rb")


_ENGLISH = frozenset("the of and to in a is was for on that with by as at from said has have were are it "
                     "its be an this which after their been".split())


def _finish(article: Article, source: str, warnings: list[InputWarning], published: date | None,
            retrieved: date | None) -> None:
    """What every read article gets: its publication date, and a warning when it is not English."""
    date_article(article, published, retrieved)
    reason = english_warning(article)
    if reason:
        warnings.append(InputWarning(source, reason))


def english_warning(article: Article) -> str | None:
    """A warning when the text does not read as English, which recognition is tuned for."""
    words = article.text[:20000].lower().split()
    if len(words) < 30:
        return None
    share = sum(w in _ENGLISH for w in words) / len(words)
    if share < 0.08:
        return (f"does not look like English ({share:.0%} common English words); places are still "
                "looked up, but expect fewer of them")
    return None


# -- the web: pages and RSS/Atom feeds ----------------------------------------------------------------
USER_AGENT = "incident-atlas/0.1 (+https://github.com/; offline-first news incident atlas)"
FETCH_TIMEOUT = 20


def is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def fetch(url: str, max_bytes: int = MAX_BYTES) -> tuple[bytes, str]:
    """The body and content type of a URL; BadInput with the reason when it cannot be had."""
    import urllib.error
    import urllib.request
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:
            data = response.read(max_bytes + 1)
            content_type = response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        raise BadInput(f"cannot fetch: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise BadInput(f"cannot fetch ({reason}); ingesting URLs needs the internet") from None
    if len(data) > max_bytes:
        raise BadInput(f"too large (over {max_bytes / 1e6:.1f} MB)")
    return data, content_type


def _looks_like_feed(data: bytes, content_type: str) -> bool:
    head = data[:500].lstrip().lower()
    return any(t in content_type for t in ("rss", "atom", "xml")) or head.startswith((b"<?xml", b"<rss", b"<feed"))


def read_urls(urls: Iterable[str], published: date | None = None, max_bytes: int = MAX_BYTES,
              retrieved: date | None = None) -> Iterator[Article | InputError | InputWarning]:
    """Articles from web pages, and from every entry of RSS/Atom feeds (feedparser)."""
    for url in urls:
        try:
            data, content_type = fetch(url, max_bytes)
        except BadInput as exc:
            yield InputError(url, str(exc))
            continue
        if _looks_like_feed(data, content_type):
            yield from _feed_articles(url, data, published, max_bytes, retrieved)
        else:
            yield from _page_article(url, data, None, published, retrieved)


def _feed_articles(url, data, published, max_bytes, retrieved):
    import feedparser
    feed = feedparser.parse(data)
    if not feed.entries:
        yield InputError(url, "a feed with no entries" if feed.get("version") else "neither an article nor a feed")
        return
    for entry in feed.entries:
        link = entry.get("link")
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        entry_date = date(*stamp[:3]) if stamp else None
        if not link:
            yield InputError(f"{url} ({entry.get('title', 'entry')})", "a feed entry with no link")
            continue
        try:
            page, _ = fetch(link, max_bytes)
        except BadInput as exc:
            yield InputError(link, str(exc))
            continue
        yield from _page_article(link, page, entry.get("title"), entry_date or published, retrieved)


def _page_article(url, data, title, published, retrieved):
    warnings: list[InputWarning] = []
    try:
        article = article_from_bytes(data, url, url, None, warnings, ".html")
        article.url = article.url or url
        article.title = title or article.title
        _finish(article, url, warnings, published, retrieved)
    except BadInput as exc:
        yield InputError(url, str(exc))
        return
    yield from warnings
    yield article
