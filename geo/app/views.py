"""What the dashboard shows, computed in the library so the dashboard holds only layout and widgets:
headline figures, incident cards, article text with the evidence, event words, places and numbers
marked, the audit log in words, names for codes. Every string that becomes HTML is escaped here.
"""
from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from ..store import IngestSummary, Store
from ..text.casualties import find_counts
from ..text.document import Article, Document
from ..text.incidents import TRIGGER_WORDS
from .mapping import EVENT_COLORS, EVENT_LABELS


@lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    from ..places.gazetteer import load_gazetteer
    gazetteer = load_gazetteer()
    return {code: gazetteer.place(index).name for code, index in gazetteer.country_places.items()}


def country_name(code: Any) -> str:
    """"Afghanistan" for "AF" (the code itself when the gazetteer does not know it)."""
    if not isinstance(code, str) or not code:
        return ""
    return _country_names().get(code.upper(), code)


def country_codes() -> dict[str, str]:
    """Lower-case country name -> code ("afghanistan" -> "AF")."""
    return {name.lower(): code for code, name in _country_names().items()}


def country_choice(code: str) -> str:
    """How a country reads in a filter: its name, with the code, so either can be typed."""
    name = country_name(code)
    return f"{name} ({code})" if name != code else code


def event_label(code: Any) -> str:
    return EVENT_LABELS.get(str(code), str(code))


def headline(frame: pd.DataFrame) -> dict[str, Any]:
    """Incidents, killed and wounded, each count with its range (low sum; high sum, or None when some
    incident has no upper bound)."""
    out: dict[str, Any] = {"incidents": len(frame)}
    for kind in ("killed", "wounded"):
        values = frame[kind]
        highs = frame[kind + "_high"].fillna(values)
        out[kind] = int(values.fillna(0).sum())
        out[kind + "_low"] = int(frame[kind + "_low"].fillna(values).fillna(0).sum())
        out[kind + "_high"] = None if (values.notna() & frame[kind + "_high"].isna()).any() else int(highs.fillna(0).sum())
    return out


def range_words(low: int, high: int | None) -> str:
    """A total's range in words: "109 to 130", "exactly 12", "109 or more" (some count has no upper bound)."""
    if high is None:
        return f"{low:,} or more"
    return f"exactly {low:,}" if low == high else f"{low:,} to {high:,}"


def headline_caption(figures: Mapping[str, Any], unplaced: int) -> str:
    where = f"{unplaced:,} {'incident has' if unplaced == 1 else 'incidents have'} no locatable place and " \
            f"{'is' if unplaced == 1 else 'are'} not on the map." if unplaced else "Every incident is on the map."
    return (f"Killed: {range_words(figures['killed_low'], figures['killed_high'])} · wounded: "
            f"{range_words(figures['wounded_low'], figures['wounded_high'])} (the sources' ranges) · {where}")


def count_words(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def day_text(day: Any, precision: Any = "day") -> str:
    """A date as a reader wants it: "7 Nov 2025"; "Nov 2025 (month only)" when the text gave only the month."""
    if day is None or pd.isna(day):
        return "date not stated"
    stamp = pd.Timestamp(day)
    if precision == "month":
        return f"{stamp:%b %Y} (month only)"
    if precision == "year":
        return f"{stamp:%Y} (year only)"
    return f"{stamp.day} {stamp:%b %Y}"


def incident_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The incidents as the table shows them: words, not codes."""
    return pd.DataFrame({
        "date": [day_text(d, p) for d, p in zip(frame["date"], frame["date_precision"])],
        "type": frame["event_type"].astype(str).map(event_label).to_numpy(),
        "place": frame["place_name"].to_numpy(),
        "country": frame["country"].map(country_name).to_numpy(),
        "killed": frame["killed"].to_numpy(), "wounded": frame["wounded"].to_numpy(),
        "contested": frame["contested"].map({True: "yes", False: ""}).to_numpy(),
        "actors": frame["actors"].to_numpy(), "claimed by": frame["claimed_by"].to_numpy(),
        "evidence": frame["evidence"].to_numpy(), "sources": frame["n_sources"].to_numpy()})


def _range(value, low, high) -> str:
    if pd.isna(value) and pd.isna(low):
        return "not stated"
    if pd.isna(value):
        return f"at least {int(low)} (no number given)"
    text = str(int(value))
    if not pd.isna(low) and not pd.isna(high) and low != high:
        text += f" (range {int(low)}–{int(high)})"
    elif pd.isna(high) and not pd.isna(low):
        text += f" (at least {int(low)})"
    return text


def incident_card_html(row: Mapping[str, Any], sources: pd.DataFrame | None = None) -> str:
    """One incident as an HTML card: type, date, place and precision, casualties with range and wording,
    actors, who claims it, contested or not, the evidence sentence and the sources (links when they
    have a web address). All text escaped."""
    e = html.escape
    event_type = str(row["event_type"])
    precision = {1: "the named place", 2: "near it, or a district", 3: "a province, region or country"}.get(
        int(row["geo_precision"]) if not pd.isna(row["geo_precision"]) else 3, "")
    day = day_text(row["date"], row.get("date_precision") or "day")
    if row.get("date_from") == "publication":
        day += " (the publication date)"
    place = row["place_name"] if not pd.isna(row["place_name"]) else "no locatable place"
    country = f", {country_name(row['country'])}" if not pd.isna(row.get("country")) else ""
    parts = [f"<div class='geo-card' style='border-left:4px solid {EVENT_COLORS.get(event_type, '#555')};"
             f"padding:4px 10px;margin:6px 0'>",
             f"<b>{e(event_label(event_type))}</b> · {e(day)}<br>",
             f"<b>Where:</b> {e(str(place))}{e(country)} <i>(precision {e(precision)})</i><br>",
             f"<b>Killed:</b> {e(_range(row['killed'], row['killed_low'], row['killed_high']))}"]
    if _present(row.get("killed_text")):
        parts.append(f" <i>“{e(str(row['killed_text']))}”</i>")
    parts.append(f"<br><b>Wounded:</b> {e(_range(row['wounded'], row['wounded_low'], row['wounded_high']))}")
    if _present(row.get("wounded_text")):
        parts.append(f" <i>“{e(str(row['wounded_text']))}”</i>")
    for label, key in (("Victims", "victims"), ("Actors", "actors"), ("Claimed by", "claimed_by")):
        if _present(row.get(key)):
            parts.append(f"<br><b>{label}:</b> {e(str(row[key]))}")
    parts.append(f"<br><b>Contested:</b> {'yes — accounts disagree' if row.get('contested') else 'no'}")
    parts.append(f"<br><b>Evidence:</b> <q>{e(str(row['evidence'] or ''))}</q>")
    if sources is not None and not sources.empty:
        items = []
        for s in sources.itertuples():
            title = s.title or s.external_id or s.article_key
            link = f"<a href='{e(s.url, quote=True)}' target='_blank' rel='noopener noreferrer'>{e(str(title))}</a>" \
                if isinstance(s.url, str) and s.url.startswith(("http://", "https://")) else e(str(title))
            published = f" ({day_text(s.published)})" if s.published and not pd.isna(s.published) else ""
            items.append(f"<li>{link}{e(published)}</li>")
        parts.append(f"<br><b>Sources:</b><ul style='margin:0'>{''.join(items)}</ul>")
    parts.append("</div>")
    return "".join(parts)


def _present(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


@dataclass(frozen=True)
class Mark:
    start: int
    end: int
    css: str
    title: str = ""


_STYLE = ("<style>.geo-place{background:#cfe8ff}.geo-toll{background:#ffd6d6;font-weight:bold}"
          ".geo-trigger{background:#ffe9a8;font-weight:bold}.geo-evidence{background:#fff7d1;"
          "outline:2px solid #e0b400;border-radius:2px}</style>")


def marked_html(text: str, marks: Iterable[Mark], evidence: Iterable[tuple[int, int]] = ()) -> str:
    """`text` escaped, with `marks` (non-overlapping; the first wins) inside the `evidence` sentences'
    frames; the frame of the first sentence given has the id `geo-evidence`, so a page can scroll to it.
    A mark that would straddle a frame's edge is left out, so the HTML always nests."""
    evidence = [(s, e) for s, e in evidence if 0 <= s < e <= len(text)]
    spans: list[list[int]] = []
    for start, end in sorted(evidence):
        if spans and start < spans[-1][1]:
            spans[-1][1] = max(end, spans[-1][1])
        else:
            spans.append([start, end])
    edges = {edge for span in spans for edge in span}
    kept, reach = [], 0
    for m in sorted(marks, key=lambda m: (m.start, -m.end)):
        if m.start >= reach and not any(m.start < edge < m.end for edge in edges):
            kept.append(m)
            reach = m.end
    opens: dict[int, list[str]] = {}
    closes: dict[int, list[str]] = {}
    target = evidence[0][0] if evidence else None
    for start, end in spans:
        is_target = target is not None and start <= target < end
        opens.setdefault(start, []).append("<span class='geo-evidence'" + (" id='geo-evidence'" if is_target else "")
                                           + ">")
        closes.setdefault(end, []).append("</span>")
    for m in kept:
        opens.setdefault(m.start, []).append(f"<mark class='{m.css}' title='{html.escape(m.title, quote=True)}'>")
        closes.setdefault(m.end, []).insert(0, "</mark>")
    out, cursor = [], 0
    for point in sorted(set(opens) | set(closes)):
        out.append(html.escape(text[cursor:point]))
        out.extend(closes.get(point, []) + opens.get(point, []))
        cursor = point
    out.append(html.escape(text[cursor:]))
    body = "".join(out).replace("\n", "<br>")
    return _STYLE + f"<div style='line-height:1.5'>{body}</div>"


_WORD = re.compile(r"[A-Za-z][A-Za-z-]*")


def number_and_trigger_marks(text: str) -> list[Mark]:
    """The casualty phrases and the event words of `text` (cheap: no extraction run)."""
    marks = [Mark(c.start, c.end, "geo-toll", f"{c.kind}: {c.value if c.value is not None else 'vague'}")
             for c in find_counts(text, 0, len(text))]
    marks += [Mark(m.start(), m.end(), "geo-trigger", "event word") for m in _WORD.finditer(text)
              if m.group().lower() in TRIGGER_WORDS]
    return marks


def highlight_html(doc: Document) -> str:
    """A freshly read article (the Add articles preview): places, casualty phrases and event words marked."""
    marks = [Mark(rp.mention.start, rp.mention.end, "geo-place",
                  f"{rp.place.name}, {rp.place.country or ''} ({rp.place.kind})" if rp.place else "not in the gazetteer")
             for rp in doc.places]
    return marked_html(doc.text, marks + number_and_trigger_marks(doc.text))


def evidence_spans(text: str, evidence: Iterable[str]) -> list[tuple[int, int]]:
    """Where each stored evidence sentence sits in the article text (found, not trusted from offsets:
    a merged incident's offsets belong to its first source)."""
    out = []
    for sentence in evidence:
        if isinstance(sentence, str) and sentence and (at := text.find(sentence)) >= 0:
            out.append((at, at + len(sentence)))
    return out


def stored_article_html(text: str, evidence: Iterable[str], focus: str | None = None) -> str:
    """A stored article, no extraction run: its incidents' evidence sentences framed (`focus`, when
    given, first, so the page opens there), event words and casualty numbers marked."""
    sentences = [s for s in evidence if s]
    if focus:
        sentences = [focus] + [s for s in sentences if s != focus]
    spans = evidence_spans(text, sentences)
    return marked_html(text, number_and_trigger_marks(text), spans)


FIELD_WORDS = {"event_type": "event type", "place_name": "place", "geonameid": "gazetteer entry", "admin1": "province",
               "lat": "latitude", "lon": "longitude", "killed_low": "killed (low)", "killed_high": "killed (high)",
               "wounded_low": "wounded (low)", "wounded_high": "wounded (high)", "article": "article deleted"}


def audit_view(log: pd.DataFrame, incidents: pd.DataFrame) -> pd.DataFrame:
    """The audit log in words: which incident (type, place, date) rather than its hash, place names
    rather than gazetteer ids; newest first."""
    by_id = incidents.set_index("incident_id") if not incidents.empty else None

    def what(incident_id: Any) -> str:
        if by_id is None or incident_id not in by_id.index:
            return "(a deleted article)" if not isinstance(incident_id, str) else "(not in the current filters)"
        r = by_id.loc[incident_id]
        return f"{event_label(r['event_type'])} in {r['place_name'] or 'an unnamed place'}, {day_text(r['date'])}"

    def value(field: Any, raw: Any) -> str:
        text = "" if raw is None or (not isinstance(raw, str) and pd.isna(raw)) else str(raw).strip('"')
        if field == "geonameid" and text:
            return f"GeoNames entry {text}"
        if field == "event_type":
            return event_label(text)
        return text

    ordered = log.sort_values("fid", ascending=False)
    return pd.DataFrame({"entry": ordered["fid"].to_numpy(),
                         "when": pd.to_datetime(ordered["at"]).dt.strftime("%d %b %Y %H:%M").to_numpy(),
                         "who": ordered["who"].to_numpy(),
                         "incident": [what(i) for i in ordered["incident_id"]],
                         "changed": ordered["field"].map(lambda f: FIELD_WORDS.get(f, f)).to_numpy(),
                         "before": [value(f, v) for f, v in zip(ordered["field"], ordered["before"])],
                         "after": [value(f, v) for f, v in zip(ordered["field"], ordered["after"])],
                         "note": ordered["note"].to_numpy()})


def build_sample_store(store: Store, folder: Path, extract: Callable[[Article], Document],
                       progress: Callable[[float, str], None] | None = None) -> IngestSummary:
    """Fill an empty store from the sample articles (the dashboard's first run)."""
    from ..text.sources import InputProblem, read_files
    items = list(read_files([str(folder)]))
    summary = IngestSummary()
    for i, item in enumerate(items, 1):
        if isinstance(item, InputProblem):
            summary.failed += item.fatal
            continue
        summary.add(store.ingest(item, extract))
        if progress:
            progress(i / len(items), item.title or item.id)
    return summary


def read_uploads(files: Iterable[tuple[str, bytes]], published: date | None = None) -> list:
    """Uploaded files (name, bytes) as articles and input problems: .txt, .md, .html, .jsonl. They are
    read from a temporary folder, but every message names the uploaded file, never the server's path."""
    import dataclasses
    import tempfile

    from ..text.sources import InputProblem, read_files, read_jsonl
    out = []
    with tempfile.TemporaryDirectory() as folder:
        for name, data in files:
            shown = Path(name).name
            path = Path(folder) / shown
            path.write_bytes(data)
            reader = read_jsonl(str(path), published) if path.suffix.lower() == ".jsonl" else \
                read_files([str(path)], published)
            for item in reader:
                if isinstance(item, InputProblem):
                    item = dataclasses.replace(item, source=item.source.replace(str(path), shown).replace(folder, ""),
                                               reason=item.reason.replace(str(path), shown).replace(folder, ""))
                elif folder in (item.id or ""):
                    item.id = item.id.replace(str(path), shown).replace(folder, "")
                out.append(item)
    return out


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:])")


def plain_label(text: str) -> str:
    """Untrusted text for a Streamlit label (expander, button), which renders Markdown: every Markdown
    character escaped, so a title like `![x](http://...)` shows as typed and fetches nothing."""
    return _MARKDOWN.sub(r"\\\1", " ".join(str(text).split()))
