"""Time: the periods a slider steps through, the incidents of one period (or everything up to it), and
the timeline chart in the map's colours.

Playback is the page stepping a Streamlit slider and redrawing only the incident layers (st_folium's
`feature_group_to_add`): folium's TimestampedGeoJson does not animate inside st_folium, and redrawing the
incident layers keeps the user's zoom, the figures and the chart in step with the map.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import altair as alt
import pandas as pd

from ..text.incidents import EVENT_TYPES
from .mapping import EVENT_COLORS, EVENT_LABELS

STEPS = {"day": 1, "week": 7}


@dataclass(frozen=True)
class Period:
    start: date
    days: int

    @property
    def end(self) -> date:
        """The last day in the period."""
        return self.start + timedelta(days=self.days - 1)

    def label(self) -> str:
        return self.start.strftime("%d %b %Y") if self.days == 1 else \
            f"{self.start:%d %b} – {self.end:%d %b %Y}"


def periods(first: date, last: date, step: str = "week") -> list[Period]:
    """Consecutive periods covering first..last; weeks start on Mondays."""
    days = STEPS[step]
    start = first - timedelta(days=first.weekday()) if step == "week" else first
    out = []
    while start <= last:
        out.append(Period(start, days))
        start += timedelta(days=days)
    return out


def in_period(frame: pd.DataFrame, period: Period, cumulative: bool = False) -> pd.DataFrame:
    """The incidents dated within `period` (or, cumulative, up to its end); undated ones are left out."""
    day = frame["date"].dt.normalize()
    keep = day <= pd.Timestamp(period.end)
    if not cumulative:
        keep &= day >= pd.Timestamp(period.start)
    return frame[keep.fillna(False).to_numpy(dtype=bool)]


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


def timeline_chart(series: pd.DataFrame, measure: str = "incidents", period: Period | None = None) -> alt.Chart:
    """Bars per day stacked by event type, in the map's colours, with the playback period shaded."""
    data = series.assign(type=series.event_type.map(EVENT_LABELS))
    labels = [EVENT_LABELS[t] for t in EVENT_TYPES]
    bars = alt.Chart(data).mark_bar().encode(
        x=alt.X("date:T", title=None), y=alt.Y(f"sum({measure}):Q", title=measure.capitalize()),
        color=alt.Color("type:N", title="Event type",
                        scale=alt.Scale(domain=labels, range=[EVENT_COLORS[t] for t in EVENT_TYPES]),
                        legend=alt.Legend(orient="bottom", labelLimit=0)),
        tooltip=[alt.Tooltip("date:T", format="%d %b %Y"), "type:N", alt.Tooltip(f"{measure}:Q")])
    if period is None:
        return bars
    shade = alt.Chart(pd.DataFrame({"start": [pd.Timestamp(period.start)],
                                    "end": [pd.Timestamp(period.end) + pd.Timedelta(hours=23)]})).mark_rect(
        opacity=0.15, color="#333").encode(x="start:T", x2="end:T")
    return shade + bars
