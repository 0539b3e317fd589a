"""Dates in news text, resolved against the publication date.

"Oct. 9" takes the year that puts it on or before publication; "on Thursday night" is the last
Thursday on or before it; "yesterday", "last month" and "in October" are relative to it. A date
keeps its precision ("day", "month", "year") and the span that states it.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from ..places.normalize import lower_same_length

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
MONTHS["sept"] = 9
WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}

_MONTH = r"(?P<{g}>january|february|march|april|may|june|july|august|september|october|november|december|" \
         r"jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"
_DAY = r"(?P<{g}>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<{g}>(?:19|20)\d\d)"
_PATTERNS = [
    ("iso", r"\b" + _YEAR.format(g="y") + r"-(?P<m>[01]\d)-(?P<d>[0-3]\d)\b"),
    ("mdy", r"\b" + _MONTH.format(g="mon") + r"\s+" + _DAY.format(g="d") + r"\b(?:,?\s+" + _YEAR.format(g="y")
     + r"\b)?"),
    ("dmy", r"\b" + _DAY.format(g="d") + r"\s+(?:of\s+)?" + _MONTH.format(g="mon") + r"(?:,?\s+"
     + _YEAR.format(g="y") + r"\b)?"),
    ("my", r"\b(?:in|during|since|until|early|mid|late|last|this)[\s-]+(?:of\s+)?" + _MONTH.format(g="mon")
     + r"(?:,?\s+" + _YEAR.format(g="y") + r")?\b"),
    ("weekday", r"\b(?:(?P<last>last|this|on|late|early)\s+)?(?P<wd>monday|tuesday|wednesday|thursday|friday|"
     r"saturday|sunday)(?:'s)?\b"),
    ("relday", r"\b(?P<rel>yesterday|today|tonight|last night|this morning|this afternoon|this evening|"
     r"overnight|the day before yesterday)(?:'s)?\b"),
    ("ago", r"\b(?P<n>\d{1,3}|one|two|three|four|five|six|seven|eight|nine|ten|a|an)\s+(?P<unit>day|days|week|"
     r"weeks|hour|hours|minute|minutes)\s+ago\b"),
    ("relmonth", r"\b(?P<which>last|this|earlier this|past)\s+(?P<unit>month|year)\b"),
    ("year", r"\b(?:in|since|during|of|until|the)\s+" + _YEAR.format(g="y") + r"\b"),
]
# One pattern per kind, matched on lower-cased text, and tried only when the text holds a word it needs.
_DATE_RES = {name: re.compile(pattern) for name, pattern in _PATTERNS}
_MONTH_WORDS = frozenset(MONTHS)
_NEEDS: dict[str, frozenset[str] | None] = {
    "iso": None, "year": None, "mdy": _MONTH_WORDS, "dmy": _MONTH_WORDS, "my": _MONTH_WORDS,
    "weekday": frozenset(WEEKDAYS),
    "relday": frozenset("yesterday today tonight night morning afternoon evening overnight day".split()),
    "ago": frozenset({"ago"}), "relmonth": frozenset({"month", "year"})}
_WORDS = re.compile(r"[a-z]+")
_YEAR_DIGITS = re.compile(r"(?:19|20)\d\d")  # what the two patterns that need no word ("iso", "year") need
_RANK = {"iso": 3, "mdy": 3, "dmy": 3, "weekday": 2, "relday": 2, "ago": 2, "my": 1, "relmonth": 1, "year": 1}
_SMALL = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
          "ten": 10, "a": 1, "an": 1}


@dataclass(frozen=True, slots=True)
class DateMention:
    start: int
    end: int
    date: date
    precision: str            # "day", "month" or "year"
    rank: int                 # how firmly it dates an event: 3 a stated day, 2 a relative day, 1 a month or year


def find_dates(text: str, published: date | None, start: int = 0, end: int | None = None,
               low: str | None = None, words: frozenset[str] | None = None) -> list[DateMention]:
    """The dates stated in `text[start:end]` that can be resolved (relative ones need `published`).
    Callers that have them pass the text as `lower_same_length` gives it and the words of the span."""
    low = lower_same_length(text) if low is None else low
    end = len(text) if end is None else end
    if words is None:
        words = frozenset(_WORDS.findall(low, start, end))
    year_digits = _YEAR_DIGITS.search(low, start, end) is not None
    matches = []
    for kind, needs in _NEEDS.items():
        if (year_digits if needs is None else not needs.isdisjoint(words)):
            matches.extend((m.start(), -m.end(), kind, m) for m in _DATE_RES[kind].finditer(low, start, end))
    found: list[DateMention] = []
    for begin, _, kind, m in sorted(matches, key=lambda x: x[:2]):
        if found and begin < found[-1].end:
            continue  # overlaps a date already read ("October 9, 2024" is not also "in 2024")
        groups = {k: v for k, v in m.groupdict().items() if v is not None}
        try:
            resolved = _resolve(kind, groups, published)
        except (OverflowError, ValueError):  # "yesterday" or "last year" in an article dated 0001-01-01
            resolved = None
        if resolved is not None:
            found.append(DateMention(m.start(), m.end(), *resolved, _RANK[kind]))
    return found


def _resolve(kind: str, g: dict, pub: date | None) -> tuple[date, str] | None:
    try:
        if kind == "iso":
            return date(int(g["y"]), int(g["m"]), int(g["d"])), "day"
        if kind in ("mdy", "dmy"):
            month, day = MONTHS[g["mon"].lower().rstrip(".")], int(g["d"])
            if "y" in g:
                return date(int(g["y"]), month, day), "day"
            return (_year_before(pub, month, day), "day") if pub else None
        if kind == "my":
            month = MONTHS[g["mon"].lower().rstrip(".")]
            if "y" in g:
                return date(int(g["y"]), month, 1), "month"
            return (_year_before(pub, month, 1), "month") if pub else None
        if kind == "year":
            return date(int(g["y"]), 1, 1), "year"
    except ValueError:  # "Feb. 30"
        return None
    if pub is None:
        return None
    if kind == "weekday":
        back = (pub.weekday() - WEEKDAYS[g["wd"].lower()]) % 7
        if back == 0 and (g.get("last") or "").lower() == "last":
            back = 7
        return pub - timedelta(days=back), "day"
    if kind == "relday":
        rel = g["rel"].lower()
        back = 2 if rel.startswith("the day before") else 1 if rel in ("yesterday", "last night") else 0
        return pub - timedelta(days=back), "day"
    if kind == "ago":
        n = int(g["n"]) if g["n"].isdigit() else _SMALL[g["n"].lower()]
        unit = g["unit"].lower()
        days = n if unit.startswith("day") else 7 * n if unit.startswith("week") else 0
        return pub - timedelta(days=days), "day"
    if kind == "relmonth":
        this = g["which"].lower() in ("this", "earlier this")
        if g["unit"].lower() == "year":
            return date(pub.year - (not this), 1, 1), "year"
        first = pub.replace(day=1)
        return (first if this else (first - timedelta(days=1)).replace(day=1)), "month"
    return None


def _year_before(pub: date, month: int, day: int) -> date:
    """The date with this month and day closest on or before publication (a week's grace for previews)."""
    candidate = date(pub.year, month, day)
    if candidate <= pub or (pub.year < date.max.year and candidate <= pub + timedelta(days=7)):
        return candidate
    return date(pub.year - 1, month, day)


_PUBLISHED_LINE = re.compile(r"^\s*(?:published|posted|updated|date)\s*(?:on)?\s*[:\-]?\s*(?P<value>.{6,40}?)\s*$",
                             re.IGNORECASE | re.MULTILINE)
_AGO_LINE = re.compile(r"^\s*(?P<value>(?:\d{1,3}|an?|one)\s+(?:minute|hour|day|week)s?\s+ago)\s*$",
                       re.IGNORECASE | re.MULTILINE)


def stated_publication_date(text: str) -> date | None:
    """A publication date the article states near its top: "Published: 2025-11-08", "Posted Nov. 8, 2025"."""
    m = _PUBLISHED_LINE.search(text, 0, 1500)
    if m:
        from dateutil import parser as dateutil_parser
        try:
            return dateutil_parser.parse(m.group("value"), fuzzy=True).date()
        except (ValueError, OverflowError):
            pass
    return None


def relative_publication_date(text: str, retrieved: date) -> date | None:
    """A relative stamp near the top ("3 days ago"), read against the day the article was retrieved."""
    m = _AGO_LINE.search(text, 0, 1500)
    if m:
        dates = find_dates(m.group("value"), retrieved)
        if dates:
            return dates[0].date
    return None
