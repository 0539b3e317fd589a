"""What the dashboard shows, computed in the library so the dashboard holds only layout and widgets:
filters read from and written to the URL, headline figures, the timeline, incident cards, and article
text with its places and casualty phrases highlighted. Every string that becomes HTML is escaped here.
"""
from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from ..text.casualties import find_counts
from ..text.document import Article, Document
from ..text.incidents import EVENT_TYPES
from .mapping import EVENT_COLORS, EVENT_LABELS
from ..store import Filters, IngestSummary, Store

_LIST_KEYS = {"type": "event_types", "country": "countries", "actor": "actors"}


def filters_from_query(params: Mapping[str, Any]) -> Filters:
    """Filters from URL query parameters (`?from=2025-10-01&type=battle&type=protest&min=5&q=kabul`);
    anything malformed is ignored rather than breaking the page."""
    def many(key: str) -> tuple[str, ...]:
        value = params.get(key)
        values = value if isinstance(value, (list, tuple)) else ([value] if value else [])
        return tuple(v for v in values if v)

    def day(key: str) -> date | None:
        try:
            return date.fromisoformat(str(params.get(key))[:10]) if params.get(key) else None
        except ValueError:
            return None

    try:
        minimum = max(0, int(str(params.get("min", "0") or 0)))
    except ValueError:
        minimum = 0
    bbox = None
    if params.get("bbox"):
        try:
            parts = tuple(float(x) for x in str(params["bbox"]).split(","))
            bbox = parts if len(parts) == 4 else None
        except ValueError:
            bbox = None
    return Filters(date_from=day("from"), date_to=day("to"),
                   event_types=tuple(t for t in many("type") if t in EVENT_TYPES),
                   countries=tuple(c.upper() for c in many("country")), bbox=bbox, min_casualties=minimum,
                   text=str(params.get("q") or ""), actors=many("actor"))


def filters_to_query(f: Filters) -> dict[str, str | list[str]]:
    """The URL query parameters of `f` (empty ones left out), so a view can be shared."""
    out: dict[str, str | list[str]] = {}
    if f.date_from:
        out["from"] = f.date_from.isoformat()
    if f.date_to:
        out["to"] = f.date_to.isoformat()
    for key, name in _LIST_KEYS.items():
        if getattr(f, name):
            out[key] = list(getattr(f, name))
    if f.bbox:
        out["bbox"] = ",".join(f"{x:g}" for x in f.bbox)
    if f.min_casualties:
        out["min"] = str(f.min_casualties)
    if f.text:
        out["q"] = f.text
    return out


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


def timeline(frame: pd.DataFrame) -> pd.DataFrame:
    """Incidents, killed and wounded per day and event type."""
    dated = frame[frame["date"].notna()]
    if dated.empty:
        return pd.DataFrame(columns=["date", "event_type", "incidents", "killed", "wounded"])
    table = pd.DataFrame({"date": dated["date"].dt.normalize(), "event_type": dated["event_type"].astype(str),
                          "killed": dated["killed"].fillna(0).astype(int),
                          "wounded": dated["wounded"].fillna(0).astype(int)})
    return (table.groupby(["date", "event_type"], as_index=False)
            .agg(incidents=("killed", "size"), killed=("killed", "sum"), wounded=("wounded", "sum")))


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
    actors, who claims it, contested or not, the evidence sentence and the sources. All text escaped."""
    e = html.escape
    event_type = str(row["event_type"])
    precision = {1: "the named place", 2: "near it, or a district", 3: "a province, region or country"}.get(
        int(row["geo_precision"]) if not pd.isna(row["geo_precision"]) else 3, "")
    day = "date not stated" if pd.isna(row["date"]) else pd.Timestamp(row["date"]).date().isoformat()
    if not pd.isna(row.get("date_precision")) and row.get("date_precision") != "day":
        day += f" ({row['date_precision']})"
    if row.get("date_from") == "publication":
        day += " (publication date)"
    place = row["place_name"] if not pd.isna(row["place_name"]) else "no locatable place"
    country = f", {row['country']}" if not pd.isna(row.get("country")) else ""
    parts = [f"<div class='geo-card' style='border-left:4px solid {EVENT_COLORS.get(event_type, '#555')};"
             f"padding:4px 10px;margin:6px 0'>",
             f"<b>{e(EVENT_LABELS.get(event_type, event_type))}</b> · {e(day)}<br>",
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
            published = f" ({s.published})" if s.published and not pd.isna(s.published) else ""
            items.append(f"<li>{link}{e(published)}</li>")
        parts.append(f"<br><b>Sources:</b><ul style='margin:0'>{''.join(items)}</ul>")
    parts.append("</div>")
    return "".join(parts)


def _present(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def highlight_html(doc: Document) -> str:
    """The article text with its places and casualty phrases marked, everything else escaped."""
    text = doc.text
    marks: list[tuple[int, int, str, str]] = []
    for rp in doc.places:
        m = rp.mention
        title = f"{rp.place.name}, {rp.place.country or ''} ({rp.place.kind})" if rp.place else "not in the gazetteer"
        marks.append((m.start, m.end, "geo-place", title))
    for c in find_counts(text, 0, len(text)):
        marks.append((c.start, c.end, "geo-toll", f"{c.kind}: {c.value if c.value is not None else 'vague'}"))
    marks.sort()
    out, cursor = [], 0
    for start, end, css, title in marks:
        if start < cursor:
            continue  # overlapping marks: the first wins
        out.append(html.escape(text[cursor:start]))
        out.append(f"<mark class='{css}' title='{html.escape(title, quote=True)}'>{html.escape(text[start:end])}</mark>")
        cursor = end
    out.append(html.escape(text[cursor:]))
    body = "".join(out).replace("\n", "<br>")
    return ("<style>.geo-place{background:#cfe8ff}.geo-toll{background:#ffd6d6}</style>"
            f"<div style='line-height:1.5'>{body}</div>")


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
    """Uploaded files (name, bytes) as articles and input problems: .txt, .md, .html, .jsonl."""
    import tempfile

    from ..text.sources import read_files, read_jsonl
    out = []
    with tempfile.TemporaryDirectory() as folder:
        for name, data in files:
            path = Path(folder) / Path(name).name
            path.write_bytes(data)
            reader = read_jsonl(str(path), published) if path.suffix.lower() == ".jsonl" else \
                read_files([str(path)], published)
            out.extend(reader)
    return out
