"""Where a version of the standard plugs into the importer: field names and list values.

The importer reads a file into records under the file's own field names (importing/sources.py), then a
`StandardMapping`, chosen once per file from its fields (`choose_mapping`, from its CSV header or its
first JSON place), maps each record with `map_row`:

- fields come under the current standard's names (bot.directory.models.STANDARD_FIELDS); a legacy
  column feeds its current column(s); columns no version knows are left out;
- an enumerated field's value is the list of its current values, in order and without repeats,
  whatever the version's separator and spelling; the items with no current value are returned
  apart (`DroppedValue`): a legacy value the standard abandoned, or a value no version knows;
- a free list (courriels, site_web, typologie) is the list of its items;
- any other field is its text as the file gives it.

The versions, their columns and vocabularies are bot/directory/importing/standard_versions.py (data, and a
coordinators' account in docs/standard-versions.md); this module applies them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from bot.directory.importing.standard_versions import (
    LEGACY_FIELDS,
    CellTranslation,
    DetectedVersion,
    column_key,
    current_fields,
    detect_version,
    split_items,
    translate_cell,
)
from bot.directory.models import ENUMERATIONS

FREE_LISTS = ("typologie", "courriels", "site_web")

@dataclass(frozen=True)
class DroppedValue:
    column: str  # as the file names it
    value: str
    abandoned: bool  # True: a legacy value without a current equivalent; False: no version knows it


@dataclass(frozen=True)
class MappedRow:
    fields: Dict[str, object]
    dropped: Tuple[DroppedValue, ...] = ()


class StandardMapping:
    """How the records of one file become current rows (see the module's docstring).

    The version is detected from the file's fields; each column is then mapped by its own name, so
    a JSON place with a field the first place left out is read too."""

    def __init__(self, fields: Sequence[str]):
        self.detected: DetectedVersion = detect_version(list(fields))
        self._targets: Dict[str, Optional[Tuple[str, ...]]] = {}
        # column -> (how it is read, the current field it feeds first); computed once per column
        self._plan: Dict[str, Tuple[int, str]] = {}
        for column in fields:
            self._plan_of(column)

    @property
    def version(self) -> str:
        return self.detected.label

    @property
    def is_legacy(self) -> bool:
        return not self.detected.version.is_current or bool(self.legacy_columns or self.ignored_columns)

    # The columns met so far (a JSON place may have fields the first one left out).
    @property
    def legacy_columns(self) -> List[str]:
        return [c for c, targets in self._targets.items() if targets and column_key(c) in LEGACY_FIELDS]

    @property
    def ignored_columns(self) -> List[str]:
        return [c for c, targets in self._targets.items() if targets == ()]

    @property
    def unknown_columns(self) -> List[str]:
        return [c for c, targets in self._targets.items() if targets is None and c]

    def targets(self, column: str) -> Optional[Tuple[str, ...]]:
        """The current field(s) a column feeds; None or () when it feeds none."""
        self._plan_of(column)
        return self._targets[column]

    def _plan_of(self, column: str) -> Tuple[int, str]:
        plan = self._plan.get(column)
        if plan is None:
            targets = self._targets[column] = current_fields(column) if column else None
            first = targets[0] if targets else ""
            kind = _SKIP if not targets else (
                _FREE_LIST if first in FREE_LISTS else _ENUMERATED if first in ENUMERATIONS else _SCALAR)
            plan = self._plan[column] = (kind, first)
        return plan

    def current_fields(self, fields: Sequence[str]) -> List[str]:
        """The current fields columns named so can fill."""
        return list(dict.fromkeys(t for column in fields for t in (self.targets(column) or ())))

    def map_row(self, record: Mapping[str, object]) -> MappedRow:
        row: Dict[str, object] = {}
        dropped: List[DroppedValue] = []
        plans = self._plan
        for column, cell in record.items():
            if not cell:  # None, "" or []
                continue
            plan = plans.get(column) or self._plan_of(column)
            kind, first = plan
            if kind == _SCALAR:
                if not row.get(first):
                    row[first] = cell
            elif kind == _ENUMERATED:
                translated = _translate(column, cell if isinstance(cell, str) else tuple(map(str, cell))
                                        if isinstance(cell, list) else str(cell))
                for name, values in translated.values.items():
                    kept = row.get(name)
                    if kept is None:
                        row[name] = list(values)
                    else:
                        kept.extend(v for v in values if v not in kept)  # type: ignore[union-attr]
                if translated.dropped or translated.unknown:
                    dropped.extend(DroppedValue(column, v, True) for v in translated.dropped)
                    dropped.extend(DroppedValue(column, v, False) for v in translated.unknown)
            elif kind == _FREE_LIST:
                items = split_items(_cell(cell))
                kept = row.get(first)
                if kept is None:
                    row[first] = list(dict.fromkeys(items))
                else:
                    kept.extend(i for i in items if i not in kept)  # type: ignore[union-attr]
        return MappedRow(row, tuple(dropped))


_SKIP, _SCALAR, _ENUMERATED, _FREE_LIST = range(4)


def _cell(cell: object):
    return cell if isinstance(cell, (str, list)) else str(cell)


@lru_cache(maxsize=16384)
def _translate(column: str, cell: Union[str, Tuple[str, ...]]) -> CellTranslation:
    """translate_cell, cached: a national file repeats the same cells thousands of times (the result is
    only read)."""
    return translate_cell(column, cell if isinstance(cell, str) else list(cell))


MappingChooser = Callable[[Sequence[str]], StandardMapping]


def choose_mapping(fields: Sequence[str]) -> StandardMapping:
    """The mapping for a file with these fields (its CSV header, or its first JSON place's fields)."""
    return StandardMapping(fields)
