"""The chosen incidents: kept as incident ids, never row numbers, so a filter that drops one clears the
choice (and the page says so) instead of moving it to whatever incident now sits in that row."""
from __future__ import annotations

from typing import Any

import pandas as pd

from .mapping import group_at


def table_choice(frame: pd.DataFrame, rows: list[int]) -> str | None:
    """The incident in the first selected row of the table that shows `frame` (None: no row, or a row
    number the table no longer has)."""
    return str(frame["incident_id"].iat[rows[0]]) if rows and 0 <= rows[0] < len(frame) else None


def click_choice(groups: pd.DataFrame, click: dict[str, Any] | None) -> list[str]:
    """The incidents of the marker clicked (st_folium's `last_object_clicked`); none off the markers."""
    hit = group_at(groups, click["lat"], click["lng"]) if click else None
    return list(hit.incident_ids) if hit is not None else []


def still_in_view(chosen: list[str], frame: pd.DataFrame) -> tuple[list[str], bool]:
    """The chosen incidents `frame` still holds, and whether the filters dropped every one of them."""
    ids = set(frame["incident_id"])
    kept = [i for i in chosen if i in ids]
    return kept, bool(chosen) and not kept


def source_stating(sources: pd.DataFrame, evidence: str) -> pd.Series | None:
    """Of an incident's sources, the one whose evidence is the incident's (the article to open at it);
    else the first; None without sources."""
    if sources.empty:
        return None
    stating = sources[sources["evidence"] == evidence]
    return (stating if not stating.empty else sources).iloc[0]
