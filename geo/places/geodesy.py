"""Distances on the earth."""
from __future__ import annotations

import math

EARTH_KM = 6371.0088


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle (haversine) distance in kilometres between two (lat, lon) points."""
    p1, l1, p2, l2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin((l2 - l1) / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(h)))


def unit_vectors(lat, lon):
    """Points as unit vectors on the sphere, an (n, 3) array: distances between them are then a matrix product."""
    import numpy as np
    p, l = np.radians(np.asarray(lat, float)), np.radians(np.asarray(lon, float))
    return np.stack([np.cos(p) * np.cos(l), np.cos(p) * np.sin(l), np.sin(p)], axis=1)


def km_matrix(a, b):
    """Great-circle distances in kilometres between every unit vector of `a` (rows) and of `b` (columns),
    from the chord between them."""
    import numpy as np
    chord = np.sqrt(np.maximum(0.0, 2.0 - 2.0 * (a @ b.T)))
    return 2 * EARTH_KM * np.arcsin(np.minimum(1.0, chord / 2))
