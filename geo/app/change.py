"""Where violence is rising: incidents in the last week against the weekly average of the four weeks
before, per province or per grid cell (as ACLED's Trendfinder compares them)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np
import pandas as pd

WEEKS_BEFORE = 4


def weekly_change(frame: pd.DataFrame, last_day: date, by: str = "province", cell_degrees: float = 1.0,
                  country_name: Callable[[str], str] = str) -> pd.DataFrame:
    """Per area (a province: country and first-level division; or a grid cell of `cell_degrees`): the
    incidents of the week ending `last_day`, the weekly average of the four weeks before, the change
    (and its `trend`: rising, new, same, falling), rising first, and where to draw it (`lat`, `lon`: the
    middle of its placed incidents). Areas with nothing in either span are left out. `country_name`
    words a country code ("AF" -> "Afghanistan")."""
    day = frame["date"].dt.normalize()
    end = pd.Timestamp(last_day)
    week_start = end - pd.Timedelta(days=6)
    before_start = week_start - pd.Timedelta(days=7 * WEEKS_BEFORE)
    recent = (day >= week_start) & (day <= end)
    before = (day >= before_start) & (day < week_start)
    if by == "province":
        country = frame["country"].fillna("").astype(str).map(lambda code: country_name(code) if code else "")
        admin1 = frame["admin1"].fillna("").astype(str)
        area = np.where(admin1 != "", admin1 + ", " + country, np.where(country != "", country + " (province unknown)", ""))
    else:
        located = frame.geometry.notna()
        lat = np.floor(frame.geometry.y.where(located) / cell_degrees) * cell_degrees
        lon = np.floor(frame.geometry.x.where(located) / cell_degrees) * cell_degrees
        area = np.where(located, [f"{a:g}°, {o:g}° cell" for a, o in zip(lat.fillna(0), lon.fillna(0))], "")
    table = pd.DataFrame({"area": area, "this_week": recent.fillna(False).astype(int),
                          "before": before.fillna(False).astype(int),
                          "lat": frame.geometry.y.where(frame.geometry.notna()).to_numpy(),
                          "lon": frame.geometry.x.where(frame.geometry.notna()).to_numpy()})
    table = table[(table.area != "") & ((table.this_week + table.before) > 0)]
    out = table.groupby("area", as_index=False).agg(this_week=("this_week", "sum"), before=("before", "sum"),
                                                    lat=("lat", "mean"), lon=("lon", "mean"))
    out["weekly_average_before"] = (out.pop("before") / WEEKS_BEFORE).round(2)
    out["change"] = [_change(now, then) for now, then in zip(out.this_week, out.weekly_average_before)]
    out["trend"] = [_trend(now, then) for now, then in zip(out.this_week, out.weekly_average_before)]
    out["rise"] = out.this_week - out.weekly_average_before
    return out.sort_values(["rise", "this_week"], ascending=False).drop(columns="rise").reset_index(drop=True)


def _change(now: int, then: float) -> str:
    if then == 0:
        return "new this week"
    ratio = (now - then) / then
    if ratio >= 0.25:
        return f"up {ratio:.0%} (25 % or more)"
    if ratio >= 0.10:
        return f"up {ratio:.0%} (10-25 %)"
    if ratio > -0.10:
        return "about the same"
    return f"down {-ratio:.0%}"


def _trend(now: int, then: float) -> str:
    if then == 0:
        return "new"
    ratio = (now - then) / then
    return "rising" if ratio >= 0.25 else "up" if ratio >= 0.10 else "same" if ratio > -0.10 else "falling"


def default_week_end(frame: pd.DataFrame) -> date | None:
    """The last dated day of `frame`: the week to compare is the latest one with data."""
    dated = frame["date"].dropna()
    return None if dated.empty else dated.max().date()



