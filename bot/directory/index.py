"""In-memory index of the directory for the nearest-place search (bot/directory/search.py).

A snapshot of the few columns the search needs, with what does not depend on the query computed
once: coordinates in radians, per-level eligibility (in person, remote), programme bonus, date of
last update. A search then finds its candidates with a few vectorised numpy operations over the
national directory instead of SQL scans, and only scores (opening hours) the places that can
still make the list.

One index per database engine and process, rebuilt when the directory's version token changes
(bot/directory/models.py: every write to `places` through SQLAlchemy, in any process, gives a new
token in the same transaction). The token is read at every search, so a re-import done by the CLI
is seen by the next search of the action server. An index is immutable once built, so threads
share it without locking; a lock per engine only keeps them from building it twice at once.
"""

from __future__ import annotations

import math
import threading
import weakref
from datetime import date
from typing import Dict, FrozenSet, Hashable, Iterable, Iterator, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
from sqlalchemy import select

from bot.directory.areas import place_departement
from bot.directory.matching import (
    EARTH_RADIUS_KM,
    LEVELS,
    LIGHT_COLUMNS,
    MAX_PROGRAMME_BONUS_KM,
    STALE_PENALTY_KM,
    bounding_box,
    haversine_km,
    matches_level,
    matches_remote,
    programme_bonus,
    specific_ok,
    stale_after_months,
)
from bot.directory.models import Place, read_directory_version

# numpy and math compute haversine with different rounding (~1e-12 km): numpy only selects
# candidates, with this margin, and the exact distances come from haversine_km as before.
DISTANCE_MARGIN_KM = 1e-9
# Circles tried in turn for the remote list before the whole country (km).
REMOTE_WINDOWS_KM = (30.0, 120.0, 500.0)
# Distinct specific-need combinations whose filter is kept (there are 7 needs; people ask for 1 or 2).
MAX_CACHED_NEEDS = 64
_NO_DATE = -10**6  # months since year 0 for a missing date_maj: always stale, like date_is_stale
_LIGHT_TABLE_COLUMNS = tuple(Place.__table__.c[column.key] for column in LIGHT_COLUMNS)
_LIGHT_KEYS = tuple(column.key for column in LIGHT_COLUMNS)


class _Offer(NamedTuple):  # the columns matches_level / matches_remote read
    services: Optional[str]
    modalites_accompagnement: Optional[str]
    modalites_acces: Optional[str]


class _Programmes(NamedTuple):  # what _programme_bonus reads
    dispositif_programmes_nationaux: Optional[str]


class _Needs(NamedTuple):  # what _specific_ok reads
    prise_en_charge_specifique: Optional[str]


def _codes(values: Sequence[Hashable]) -> Tuple[np.ndarray, List[Hashable]]:
    """(code of each value, distinct values): a national directory repeats a few hundred
    combinations of its vocabularies, so predicates are evaluated once per distinct value."""
    distinct: Dict[Hashable, int] = {}
    codes = np.fromiter((distinct.setdefault(v, len(distinct)) for v in values), np.int64, len(values))
    return codes, list(distinct)


def _per_row(per_value: List, codes: np.ndarray, dtype) -> np.ndarray:
    """Spread the result computed for each distinct value back to the rows."""
    return np.array(per_value, dtype=dtype)[codes] if per_value else np.zeros(len(codes), dtype=dtype)


class DirectoryIndex:
    """Immutable snapshot of the searchable columns of `places`, for one directory version.

    `rows` have the columns of matching.LIGHT_COLUMNS, in that order (see `load`).
    """

    def __init__(self, rows: Iterable, token: Optional[str] = None):
        self.token = token
        # Rows sorted by id: a position compares like the id, which breaks ties in the rankings.
        self.rows: List = sorted(rows, key=lambda r: r.id)
        count = len(self.rows)
        # One tuple per column (rows are in LIGHT_COLUMNS order): much faster than attribute access.
        columns = dict(zip(_LIGHT_KEYS, zip(*self.rows))) if count else {key: () for key in _LIGHT_KEYS}
        self._position: Dict[str, int] = {place_id: i for i, place_id in enumerate(columns["id"])}
        self._lat = np.array(columns["latitude"], dtype=float)  # None -> nan
        self._lon = np.array(columns["longitude"], dtype=float)
        located = ~(np.isnan(self._lat) | np.isnan(self._lon))
        self._located = located
        self._lat_rad = np.radians(self._lat)
        self._lon_rad = np.radians(self._lon)
        self._cos_lat = np.cos(self._lat_rad)
        dates = columns["date_maj"]
        self._months = np.array([d.year * 12 + d.month if d else _NO_DATE for d in dates], dtype=np.int64)
        self._day = np.array([d.day if d else 0 for d in dates], dtype=np.int64)

        codes, programmes = _codes(columns["dispositif_programmes_nationaux"])
        self._bonus = {level: _per_row([programme_bonus(_Programmes(p), level) for p in programmes], codes, float)
                       for level in LEVELS}
        codes, offers = _codes(list(zip(columns["services"], columns["modalites_accompagnement"],
                                        columns["modalites_acces"])))
        offers = [_Offer(*offer) for offer in offers]
        # In person: located places that fit the level, by latitude (a latitude band is one slice).
        self._in_person: Dict[str, Tuple[np.ndarray, np.ndarray]] = {}
        # Remote: located places by latitude, and in the order used when distance does not count
        # (bonus, then id) all places and those without coordinates.
        self._remote_located: Dict[str, Tuple[np.ndarray, np.ndarray]] = {}
        self._remote: Dict[str, np.ndarray] = {}
        self._remote_unlocated: Dict[str, np.ndarray] = {}
        for level in LEVELS:
            fits = _per_row([matches_level(o, level) for o in offers], codes, bool) & located
            self._in_person[level] = self._by_latitude(np.flatnonzero(fits))
            fits = _per_row([matches_remote(o, level) for o in offers], codes, bool)
            self._remote_located[level] = self._by_latitude(np.flatnonzero(fits & located))
            positions = np.flatnonzero(fits)
            positions = positions[np.lexsort((positions, -self._bonus[level][positions]))]
            self._remote[level] = positions
            self._remote_unlocated[level] = positions[~located[positions]]
        self._need_codes, self._need_values = _codes(columns["prise_en_charge_specifique"])
        self._needs: Dict[FrozenSet[str], np.ndarray] = {}
        # The département each place serves from (bot/directory/areas.py), as a code per row.
        codes, places = _codes(list(zip(columns["code_insee"], columns["code_postal"])))
        departements = [place_departement(insee, postcode) for insee, postcode in places]
        self._departement_code = {dep: i for i, dep in enumerate(dict.fromkeys(d for d in departements if d))}
        self._departement = _per_row([self._departement_code.get(d, -1) for d in departements], codes, np.int64)

    def _by_latitude(self, positions: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        positions = positions[np.argsort(self._lat[positions], kind="stable")]
        return positions, self._lat[positions]

    @classmethod
    def load(cls, session, token: Optional[str] = None) -> "DirectoryIndex":
        # Core columns: plain rows, without the ORM's per-row work. Withdrawn places are never proposed.
        return cls(session.execute(select(*_LIGHT_TABLE_COLUMNS).where(Place.withdrawn_at.is_(None))).all(), token)

    def __len__(self) -> int:
        return len(self.rows)

    # --- Filters and geometry -------------------------------------------------------------------

    def _fits_needs(self, wanted: FrozenSet[str]) -> np.ndarray:
        mask = self._needs.get(wanted)
        if mask is None:
            mask = _per_row([specific_ok(_Needs(v), wanted) for v in self._need_values], self._need_codes, bool)
            if len(self._needs) < MAX_CACHED_NEEDS:
                self._needs[wanted] = mask  # a race only computes the same mask twice
        return mask

    def _distances(self, positions: np.ndarray, latitude: float, longitude: float) -> np.ndarray:
        phi, lam = math.radians(latitude), math.radians(longitude)
        a = (np.sin((self._lat_rad[positions] - phi) / 2) ** 2
             + math.cos(phi) * self._cos_lat[positions] * np.sin((self._lon_rad[positions] - lam) / 2) ** 2)
        return 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))

    def _stale(self, positions: np.ndarray, today: date) -> np.ndarray:
        """date_is_stale(date_maj, today, stale_after_months()) for each position."""
        months = stale_after_months()
        elapsed = today.year * 12 + today.month - self._months[positions]
        return (elapsed > months) | ((elapsed == months) & (today.day > self._day[positions]))

    def _in_box(self, positions: np.ndarray, latitudes: np.ndarray, latitude: float, longitude: float,
                radius_km: float) -> np.ndarray:
        """The positions (sorted by latitude, `latitudes`) inside the bounding box of the circle."""
        min_lat, max_lat, lon_ranges = bounding_box(latitude, longitude, radius_km)
        start = int(np.searchsorted(latitudes, min_lat, side="left"))
        stop = int(np.searchsorted(latitudes, max_lat, side="right"))
        positions = positions[start:stop]
        lon = self._lon[positions]
        keep = np.zeros(len(positions), dtype=bool)
        for low, high in lon_ranges:
            keep |= (lon >= low) & (lon <= high)
        return positions[keep]

    def _keep(self, positions: np.ndarray, wanted: FrozenSet[str], excluded: Sequence[int] = (),
              served: Optional[np.ndarray] = None) -> np.ndarray:
        if served is not None:
            positions = positions[served[positions]]
        if wanted:
            positions = positions[self._fits_needs(wanted)[positions]]
        if excluded:
            positions = positions[~np.isin(positions, excluded)]
        return positions

    def _served(self, departement: Optional[str], also: Iterable[str]) -> np.ndarray:
        """Rows whose remote help reaches a person of `departement`: those of that département, and `also`."""
        code = self._departement_code.get(departement) if departement is not None else None
        served = self._departement == code if code is not None else np.zeros(len(self.rows), dtype=bool)
        extra = [self._position[i] for i in also if i in self._position]
        if extra:
            served[extra] = True
        return served

    # --- Queries ------------------------------------------------------------------------------

    def nearby(self, level: str, latitude: float, longitude: float, radius_km: float, wanted: FrozenSet[str],
               today: date) -> Iterator[Tuple[float, object]]:
        """(lower bound of the score, row) of the in-person candidates within `radius_km`, best bound first.

        The bound is distance - programme bonus + stale penalty: the score without the wait for
        opening, which can only add to it. Candidates are approximate at the radius edge
        (DISTANCE_MARGIN_KM); the caller checks the exact distance.
        """
        positions = self._keep(self._in_box(*self._in_person[level], latitude, longitude, radius_km), wanted)
        distances = self._distances(positions, latitude, longitude)
        inside = distances <= radius_km + DISTANCE_MARGIN_KM
        positions, distances = positions[inside], distances[inside]
        bounds = distances - self._bonus[level][positions] + STALE_PENALTY_KM * self._stale(positions, today)
        order = np.argsort(bounds, kind="stable")
        rows = self.rows
        for bound, position in zip(bounds[order].tolist(), positions[order].tolist()):
            yield bound, rows[position]

    def remote(self, level: str, latitude: Optional[float], longitude: Optional[float], wanted: FrozenSet[str],
               exclude: Iterable[str], limit: int, departement: Optional[str] = None,
               also: Iterable[str] = ()) -> List[Tuple[object, Optional[float]]]:
        """Best `limit` remote places that serve a person of `departement`, as (row, distance or None).

        Served: the places of that département, and those listed in `also` (the ones a setting makes
        serve it, bot/directory/areas.py); without a département, only `also`.
        Rank: distance - programme bonus, then the bonus (higher first), then the id; places without
        coordinates (or every place, without a location) come last, by bonus then id.
        """
        if limit <= 0:
            return []
        excluded = [self._position[i] for i in exclude if i in self._position]
        served = self._served(departement, also)
        picked: List[Tuple[object, Optional[float]]] = []
        if latitude is not None and longitude is not None:
            picked = self._nearest_remote(level, latitude, longitude, wanted, excluded, limit, served)
            rest = self._remote_unlocated[level]
        else:
            rest = self._remote[level]
        if len(picked) < limit:
            rest = self._keep(rest, wanted, excluded, served)
            picked += [(self.rows[p], None) for p in rest[:limit - len(picked)].tolist()]
        return picked

    def _nearest_remote(self, level: str, latitude: float, longitude: float, wanted: FrozenSet[str],
                        excluded: Sequence[int], limit: int, served: np.ndarray) -> List[Tuple[object, float]]:
        # Look in growing circles: a place farther than the circle ranks above radius - max bonus,
        # so once `limit` places rank below that, nothing outside can enter the list.
        bonus = self._bonus[level]
        located, latitudes = self._remote_located[level]
        for window in REMOTE_WINDOWS_KM + (None,):
            positions = located if window is None else self._in_box(located, latitudes, latitude, longitude, window)
            positions = self._keep(positions, wanted, excluded, served)
            if window is not None and len(positions) < limit:
                continue
            if len(positions) == 0:
                return []
            ranks = self._distances(positions, latitude, longitude) - bonus[positions]
            cut = np.partition(ranks, limit - 1)[limit - 1] if len(positions) > limit else ranks.max()
            if window is not None and cut > window - MAX_PROGRAMME_BONUS_KM - DISTANCE_MARGIN_KM:
                continue
            positions = positions[ranks <= cut + DISTANCE_MARGIN_KM]
            break
        # Exact ranks (haversine_km, as the plain search) for the few that can make the list.
        ranked = []
        for p in positions.tolist():
            row = self.rows[p]
            distance = haversine_km(latitude, longitude, row.latitude, row.longitude)
            place_bonus = float(bonus[p])
            ranked.append((distance - place_bonus, -place_bonus, row.id, row, distance))
        ranked.sort(key=lambda c: c[:3])
        return [(row, distance) for *_, row, distance in ranked[:limit]]


# --- One index per engine -------------------------------------------------------------------------


class _Slot:
    __slots__ = ("lock", "index")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.index: Optional[DirectoryIndex] = None


_slots: "weakref.WeakKeyDictionary[object, _Slot]" = weakref.WeakKeyDictionary()
_slots_lock = threading.Lock()


def _slot(engine) -> _Slot:
    with _slots_lock:
        slot = _slots.get(engine)
        if slot is None:
            slot = _slots[engine] = _Slot()
        return slot


def directory_index(session) -> DirectoryIndex:
    """The index of the directory as `session` sees it, built or rebuilt if the directory changed.

    The token is read through the session, after its autoflush: a session that wrote to `places`
    sees its own new token and gets an index of its own rows.
    """
    token = read_directory_version(session)
    if token is None:  # no version table: nothing tells us when to rebuild, so never reuse
        return DirectoryIndex.load(session)
    slot = _slot(session.get_bind(Place).engine)
    index = slot.index
    if index is not None and index.token == token:
        return index
    with slot.lock:
        index = slot.index
        if index is None or index.token != token:
            index = DirectoryIndex.load(session, token)
            slot.index = index
    return index


def clear_indexes() -> None:
    """Forget every index (they are rebuilt on the next search); for tests and tools."""
    with _slots_lock:
        _slots.clear()
