"""Import a directory file of the national standard "lieux de médiation numérique".

The work is split by job:

- bot/directory/import_sources.py reads the file: CSV or JSON (told apart by content), its encoding,
  one place at a time (streamed);
- bot/directory/import_mapping.py maps a version of the standard to the current one (field names,
  list values); the mapping is chosen once per file from its fields;
- bot/directory/import_values.py checks and normalises each value;
- bot/directory/import_report.py counts what happened and writes the French summary;
- this module decides, place by place, and upserts on `id` in batches.

Bad rows are reported (line, id, field, French message) and skipped, good rows are upserted on `id`.
A second import of the same file changes nothing (every row is reported as unchanged, thanks to
`row_hash`). A file that is not a directory file raises `ImportFileError` before anything is written.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import date, datetime, timezone
from typing import Dict, List, Optional, Sequence, TextIO, Tuple, Union

from sqlalchemy import select

from bot.core.db import session_scope
from bot.directory import import_messages as msg
from bot.directory.import_mapping import MappingChooser, canonical_enum_value, choose_mapping
from bot.directory.import_report import ImportReport, RowError
from bot.directory.import_sources import ImportFileError, Record, open_path, read_places
from bot.directory.import_values import ERROR, FATAL, Problem, check_values, normalize_phone
from bot.directory.models import REQUIRED_FIELDS, STANDARD_FIELDS, Place

__all__ = ["ImportFileError", "ImportReport", "RowError", "canonical_enum_value", "import_places", "normalize_phone"]

BATCH_SIZE = 500

Source = Union[str, "os.PathLike[str]", TextIO]


def _row_hash(values: Dict[str, object], demo: bool) -> str:
    payload = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items()}
    payload["__demo__"] = demo
    data = json.dumps(payload, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def _utc_naive(now: Optional[datetime]) -> datetime:
    if now is None:
        return datetime.now(timezone.utc).replace(tzinfo=None)
    if now.tzinfo is not None:
        return now.astimezone(timezone.utc).replace(tzinfo=None)
    return now


def _check_fields(fields: Sequence[str], file_format: str) -> None:
    """Refuse a file whose fields cannot be places of the standard, before anything is written.

    A CSV's header must name the required columns; a JSON file's first place, which may leave out
    empty fields, must have at least one field of the standard."""
    if file_format == "json":
        if not set(fields) & set(STANDARD_FIELDS):
            raise ImportFileError(msg.MSG_FILE_NOT_STANDARD.format(missing=", ".join(REQUIRED_FIELDS)))
        return
    missing = [f for f in REQUIRED_FIELDS if f not in fields]
    if missing:
        raise ImportFileError(msg.MSG_FILE_NOT_STANDARD.format(missing=", ".join(missing)))


def _flush_batch(factory, batch: Sequence[Tuple[Dict[str, object], str]], demo: bool, imported_at: datetime,
                 report: ImportReport) -> None:
    if not batch:
        return
    with session_scope(factory) as session:
        ids = [values["id"] for values, _ in batch]
        existing = {p.id: p for p in session.execute(select(Place).where(Place.id.in_(ids))).scalars()}
        for values, digest in batch:
            place = existing.get(values["id"])
            if place is None:
                place = Place(**values, is_demo=demo, imported_at=imported_at, row_hash=digest)
                session.add(place)
                existing[place.id] = place
                report.created += 1
            elif place.row_hash == digest:
                report.unchanged += 1
            else:
                for key, value in values.items():
                    setattr(place, key, value)
                place.is_demo = demo
                place.imported_at = imported_at
                place.row_hash = digest
                report.updated += 1


def _decide(report: ImportReport, record: Record, values: Dict[str, object], found: List[Problem],
            seen: Dict[str, int], strict: bool) -> bool:
    """Record the place's problems in the report; True when the place is kept.

    With `strict`, every problem but a note rejects the place; otherwise only fatal ones do, and the
    others are warnings (the value was already dropped by check_values)."""
    row_id = values["id"]  # type: ignore[assignment]
    if record.not_an_object:
        report.errors.append(RowError(record.line, None, "lieu", msg.MSG_NOT_AN_OBJECT))
        return False
    if record.extra:
        found.insert(0, Problem("ligne", "colonnes_en_trop", msg.MSG_EXTRA_COLUMNS.format(count=record.extra)))
    if row_id and row_id in seen:
        found.append(Problem("id", "doublon", msg.MSG_DUPLICATE.format(value=row_id, line=seen[row_id]), FATAL))
    rejecting = [p for p in found if p.severity == FATAL or (strict and p.severity == ERROR)]
    if rejecting:
        report.errors.extend(RowError(record.line, row_id, p.field, p.message) for p in rejecting)  # type: ignore
        return False
    for p in found:
        report.warn(record.line, row_id, p.kind, p.field, p.message, p.value)  # type: ignore[arg-type]
    return True


def import_places(factory, source: Source, *, demo: bool = False, now: Optional[datetime] = None,
                  batch_size: int = BATCH_SIZE, mapping: MappingChooser = choose_mapping,
                  strict: bool = True) -> ImportReport:
    """Validate and upsert the places of a directory file (CSV or JSON); return what happened.

    `factory` is a SQLAlchemy sessionmaker; `source` a path or an open text file. Raises
    `ImportFileError` (message in French) when the source is not a directory file, before
    touching the database. Rows are committed in batches of `batch_size`. `mapping` chooses, from
    the file's fields, how its version of the standard maps to the current one.
    """
    report = ImportReport(strict=strict)
    imported_at = _utc_naive(now)
    own_stream = not hasattr(source, "read")
    encoding: Optional[str] = None
    if own_stream:
        stream, encoding = open_path(source)  # type: ignore[arg-type]
    else:
        stream = source  # type: ignore[assignment]
    try:
        places = read_places(stream, encoding)
        report.source = places.info
        fields = places.info.fields
        standard = mapping(fields or ())
        report.mapping = standard
        if fields is not None:  # None: a JSON file with an empty list of places
            _check_fields(standard.current_fields(fields), places.info.format)
        seen: Dict[str, int] = {}
        batch: List[Tuple[Dict[str, object], str]] = []
        for record in places:
            values, found = check_values(standard.map_row(record.fields))
            if not _decide(report, record, values, found, seen, strict):
                continue
            seen[values["id"]] = record.line  # type: ignore[index]
            batch.append((values, _row_hash(values, demo)))
            if len(batch) >= batch_size:
                _flush_batch(factory, batch, demo, imported_at, report)
                batch = []
        _flush_batch(factory, batch, demo, imported_at, report)
    finally:
        if own_stream:
            stream.close()
    return report
