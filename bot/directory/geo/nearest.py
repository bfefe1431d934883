"""The commune whose centre is nearest to a position: a shared location names no town, and the remote
help a person may get depends on their département (bot/directory/areas.py)."""

from __future__ import annotations

import math
import threading
import weakref
from typing import Iterable, Optional, Sequence

import numpy as np

from bot.directory.geo.reference import Commune


class NearestCommune:
    """Commune centres in radians, for one commune index (about 35,000 communes: one vectorised pass)."""

    def __init__(self, communes: Iterable[Commune]):
        self.communes: Sequence[Commune] = tuple(communes)
        self._lat = np.radians(np.array([c.latitude for c in self.communes], dtype=float))
        self._lon = np.radians(np.array([c.longitude for c in self.communes], dtype=float))
        self._cos_lat = np.cos(self._lat)

    def __call__(self, latitude: float, longitude: float) -> Optional[Commune]:
        if not self.communes or not (math.isfinite(latitude) and math.isfinite(longitude)):
            return None
        phi, lam = math.radians(latitude), math.radians(longitude)
        # haversine's monotonic part: the smallest is the nearest
        a = np.sin((self._lat - phi) / 2) ** 2 + math.cos(phi) * self._cos_lat * np.sin((self._lon - lam) / 2) ** 2
        return self.communes[int(np.argmin(a))]


_built: "weakref.WeakKeyDictionary[object, NearestCommune]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def nearest_commune(index, latitude: float, longitude: float) -> Optional[Commune]:
    """The commune of `index` (a CommuneIndex, or any iterable of communes that can be weakly referenced)
    whose centre is nearest to the position; built once per index."""
    with _lock:
        finder = _built.get(index)
        if finder is None:
            finder = _built[index] = NearestCommune(index)
    return finder(latitude, longitude)
