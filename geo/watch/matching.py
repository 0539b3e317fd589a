"""Which watch areas an incident lies in, and whether they want it (its type, its toll).

On a GeoPackage, `AreaIndex` matches many incidents against many areas at once through a shapely STRtree
(an R-tree in memory), so 10,000 areas against 1,000 incidents is a few tree queries; on PostGIS the
database does it through the GiST indexes of the areas' search shapes and the incidents' points.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import shapely
import sqlalchemy as sa

from ..places.geodesy import km
from .areas import WatchArea, from_row, search_shape
from .tables import areas


@dataclass(frozen=True)
class IncidentFacts:
    """What matching needs of an incident."""

    incident_id: str
    event_type: str
    lat: float | None
    lon: float | None
    country: str | None
    admin1: str | None
    casualties: int                            # killed + wounded, unknown counted as 0


@dataclass
class AreaIndex:
    """Many areas, ready to match incidents: an STRtree over polygons and circles' bounding boxes, and
    regions by country code."""

    areas: list[WatchArea]
    _shapes: list = field(default_factory=list, repr=False)
    _owners: list[WatchArea] = field(default_factory=list, repr=False)
    _regions: dict[str, list[WatchArea]] = field(default_factory=dict, repr=False)
    _tree: shapely.STRtree | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for area in self.areas:
            if area.kind == "region":
                self._regions.setdefault(area.country.upper(), []).append(area)
            else:
                self._shapes.append(search_shape(area))
                self._owners.append(area)
        self._tree = shapely.STRtree(self._shapes) if self._shapes else None

    def matches(self, found: Iterable[IncidentFacts]) -> list[tuple[WatchArea, IncidentFacts]]:
        """Every (area, incident) where the incident lies in the area and is of a type and toll it wants."""
        found = list(found)
        pairs: list[tuple[WatchArea, IncidentFacts]] = []
        located = [f for f in found if f.lat is not None and f.lon is not None]
        if self._tree is not None and located:
            points = shapely.points(np.array([f.lon for f in located]), np.array([f.lat for f in located]))
            hits, shapes = self._tree.query(points, predicate="intersects")
            for i, j in zip(hits.tolist(), shapes.tolist()):
                area, facts = self._owners[j], located[i]
                if area.kind == "circle" and km((area.lat, area.lon), (facts.lat, facts.lon)) > area.radius_km:
                    continue
                pairs.append((area, facts))
        for facts in found:
            for area in self._regions.get((facts.country or "").upper(), ()):
                if area.admin1 is None or (facts.admin1 or "").casefold() == area.admin1.casefold():
                    pairs.append((area, facts))
        return [(a, f) for a, f in pairs if wants(a, f)]


# PostGIS does the spatial part itself, through the GiST indexes of both tables: polygons and circles' boxes
# that hold the incident's point (the circle's exact distance on the same sphere as `km`), and regions.
_POSTGIS_MATCHES = sa.text("""
SELECT a.fid, i.incident_id FROM incidents i JOIN watch_areas a ON ST_Intersects(a.geom, i.geom)
 WHERE i.incident_id IN :ids AND (a.kind <> 'circle' OR ST_DWithin(
       ST_SetSRID(ST_MakePoint(a.lon, a.lat), 4326)::geography, i.geom::geography, a.radius_km * 1000, false))
UNION ALL
SELECT a.fid, i.incident_id FROM incidents i JOIN watch_areas a
    ON a.kind = 'region' AND a.country = upper(i.country) AND (a.admin1 IS NULL OR lower(a.admin1) = lower(i.admin1))
 WHERE i.incident_id IN :ids""").bindparams(sa.bindparam("ids", expanding=True))


def postgis_matches(conn: sa.Connection, found: dict[str, IncidentFacts]) -> list[tuple[WatchArea, IncidentFacts]]:
    """`AreaIndex.matches` done by PostGIS for the incidents `found` (by id)."""
    if not found:
        return []
    hits = conn.execute(_POSTGIS_MATCHES, {"ids": list(found)}).all()
    fids = sorted({fid for fid, _ in hits})
    by_fid = {r.fid: from_row(r) for r in conn.execute(sa.select(areas).where(areas.c.fid.in_(fids)))} if fids else {}
    pairs = [(by_fid[fid], found[incident]) for fid, incident in hits]
    return [(a, f) for a, f in pairs if wants(a, f)]


def wants(area: WatchArea, facts: IncidentFacts) -> bool:
    """Whether the area cares about an incident of this type and toll (its place aside)."""
    return (not area.event_types or facts.event_type in area.event_types) and facts.casualties >= area.min_casualties
