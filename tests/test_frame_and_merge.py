"""The incident GeoDataFrame, and one event reported by several articles becoming one incident."""
from datetime import date

import pandas as pd
import pytest

from geo.text.document import Article


@pytest.fixture(scope="module")
def pipeline():
    from geo.pipeline import default_pipeline
    return default_pipeline()


def incidents_of(pipeline, text, article_id, published):
    return pipeline(Article(article_id, text, published=published)).incidents


def test_frame_has_documented_columns_and_dtypes(pipeline):
    from geo.store.frame import COLUMNS, incidents_frame
    found = incidents_of(pipeline, "An airstrike on a market in Idlib killed 12 people on Friday. Five civilians "
                                   "were killed in a shootout at the border on Thursday.", "a", date(2025, 11, 8))
    frame = incidents_frame(found)
    assert len(frame) == 2 and frame.crs.to_epsg() == 4326
    assert list(frame.columns) == [*COLUMNS, "geometry"]
    for column, dtype in COLUMNS.items():
        assert str(frame[column].dtype) == dtype, column
    idlib = frame[frame.place_name == "Idlib"].iloc[0]
    assert idlib.geometry.x == pytest.approx(36.63, abs=0.1) and idlib.geometry.y == pytest.approx(35.93, abs=0.1)
    assert idlib.killed == 12 and idlib.date == pd.Timestamp("2025-11-07")
    border = frame[frame.geometry.isna()].iloc[0]  # placed only by the article's one country
    assert border.place_name == "Syria" and border.country == "SY" and border.geo_precision == 3
    assert border.killed == 5 and pd.isna(border.wounded)
    # An empty frame has the same schema.
    empty = incidents_frame([])
    assert empty.dtypes.equals(frame.dtypes) and empty.crs == frame.crs


def test_incident_ids_are_stable(pipeline):
    from geo.store.frame import incidents_frame
    text = "An airstrike on a market in Idlib killed 12 people on Friday."
    a = incidents_frame(incidents_of(pipeline, text, "a", date(2025, 11, 8)))
    b = incidents_frame(incidents_of(pipeline, text, "a", date(2025, 11, 8)))
    assert a.incident_id.tolist() == b.incident_id.tolist()


def test_the_same_event_in_two_articles_merges_and_the_later_toll_revises_it(pipeline):
    from geo.store.merge import merge_incidents
    first = incidents_of(pipeline, "A car bomb exploded in Mogadishu on Friday, killing at least 7 people.", "wire-1",
                         date(2025, 11, 8))
    later = incidents_of(pipeline, "The death toll from Friday's car bombing in Mogadishu rose to 12, officials "
                                   "said.", "wire-2", date(2025, 11, 9))
    other = incidents_of(pipeline, "A car bomb exploded in Kismayo on Friday, killing two.", "wire-3",
                         date(2025, 11, 8))
    merged = merge_incidents(first + later + other, {"wire-1": date(2025, 11, 8), "wire-2": date(2025, 11, 9),
                                                     "wire-3": date(2025, 11, 8)})
    assert len(merged) == 2
    mogadishu = next(i for i in merged if i.place.name == "Mogadishu")
    assert mogadishu.sources == ["wire-1", "wire-2"]
    assert (mogadishu.killed, mogadishu.killed_low) == (12, 7)
    assert first[0].sources == ["wire-1"]  # the inputs are not modified


def test_merge_keeps_events_apart_in_time_type_and_space(pipeline):
    from geo.store.merge import merge_incidents
    a = incidents_of(pipeline, "A car bomb exploded in Mogadishu on Friday, killing 7.", "a", date(2025, 11, 8))
    b = incidents_of(pipeline, "A car bomb exploded in Mogadishu on Monday, killing 3.", "b", date(2025, 11, 8))
    c = incidents_of(pipeline, "Clashes in Mogadishu on Friday killed 4 soldiers.", "c", date(2025, 11, 8))
    assert len(merge_incidents(a + b + c)) == 3


def test_library_front_builds_the_frame_from_articles():
    import geo
    frame = geo.incidents_frame_of([Article("a", "An airstrike on a market in Idlib killed 12 people on Friday.",
                                            published=date(2025, 11, 8)),
                                    Article("b", "An air strike on a market in Idlib on Friday killed 12 people, "
                                                 "medics said.", published=date(2025, 11, 8))])
    assert len(frame) == 1 and frame.iloc[0].sources == "a; b" and frame.iloc[0].n_sources == 2
