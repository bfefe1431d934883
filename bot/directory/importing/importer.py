"""Import a directory file of the national standard "lieux de médiation numérique".

The work is split by job:

- bot/directory/importing/sources.py reads the file: CSV or JSON (told apart by content), its encoding,
  one place at a time (streamed);
- bot/directory/importing/mapping.py maps the file's version of the standard to the current one (field
  names, list values; bot/directory/importing/standard_versions.py holds the versions);
- bot/directory/importing/values.py checks and normalises each value;
- bot/directory/importing/positions.py finds each place's commune in the commune reference;
- bot/directory/importing/report.py counts what happened and writes the French summary;
- this module decides, place by place, and upserts on `id` in batches.

**Lenient by value, strict by place** (the default). A value that breaks the standard (an unknown
list value, a bad phone number, date, postcode, pivot, a summary over 280 characters…) is dropped with
a warning and the place is kept. A place is rejected only when Aiguillage cannot use it:
- no name;
- no position: neither usable coordinates nor a commune the reference resolves (importing/positions.py);
- the id of a place already read in the same file.
A place without an id gets a stable one, derived from its data (`derived_id`): "lieu-" followed by the
first 16 hexadecimal digits of the SHA-256 of its normalised name, its postcode (or, without a valid
one, its normalised commune) and its normalised address, one per line; normalised means lower case,
without accents, punctuation as spaces, single spaces (bot.core.text.normalize). The same place in the
next export gets the same id, so a re-import updates it instead of adding a copy.

The commune reference completes what it can (`_Importer._locate`): a missing, "MISSING", malformed or
unknown INSEE code is derived from the commune and postcode (importing/positions.py; in Paris, Lyon and
Marseille, the arrondissement's code), an empty commune or postcode is filled in; each is a warning.

Coordinates are checked against France and the place's commune (positions.position()): swapped
ones are put back; a place without usable ones gets its commune's position, flagged `position_approx`
(shown as "environ N km"); each is a warning.

**--strict** (`strict=True`) keeps the behaviour before: every problem with a value rejects the place,
including a missing id or another required field of the standard, and coordinates out of range, for
data producers who validate their file. The fatal rules above apply in both modes; a legacy value the
standard abandoned, and what the importer completes or corrects (an INSEE code, a swapped pair, the
commune's position), are warnings in both.

Good places are upserted on `id`: a second import of the same file changes nothing (every place is
reported as unchanged, thanks to `row_hash`). A file that is not a directory file raises
`ImportFileError` before anything is written. Ids are local to their producer: with a source, a place
whose id is another source's place under another name is stored as `source_id(source, id)`
("hub-du-sud-1"), with a warning, and found there again on the next import; without a source, taking over
a place under another name is said in a warning (another producer's place, or a renamed one).

**Sources and deletions.** `import_source` (`--source NAME`) records which source each place came from.
With `replace` (`--remplacer`), once the whole file is read, the places of that source whose id the file
no longer has are withdrawn (`withdrawn_at`): kept for past referrals, no longer proposed. A place the
file still lists, even one rejected this time, is not withdrawn (its previous data stays). A file that
gives no usable place withdraws nothing: it is more likely the wrong file than an empty directory.
A withdrawn place that comes back in a later file is proposed again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import date, datetime, timezone
from typing import Dict, List, Optional, Sequence, TextIO, Tuple, Union

from sqlalchemy import select, update

from bot.core.db import session_scope
from bot.core.text import normalize
from bot.directory.areas import departement_of_postcode
from bot.directory.importing import messages as msg
from bot.directory.importing.mapping import MappingChooser, choose_mapping
from bot.directory.importing.positions import ABSENT, OUT_OF_RANGE, Area, Locator, position
from bot.directory.importing.report import ImportReport, RowError
from bot.directory.importing.sources import ImportFileError, Record, open_path, read_places
from bot.directory.importing.values import ERROR, FATAL, NOTE, Problem, check_values, normalize_phone
from bot.directory.models import REQUIRED_FIELDS, STANDARD_FIELDS, Place

__all__ = ["ImportFileError", "ImportReport", "RowError", "derived_id", "import_places",
           "normalize_phone"]

BATCH_SIZE = 500
SOURCE_MAX_LENGTH = 120  # places.import_source
POSITION_FIELDS = ("commune", "code_postal", "code_insee")

Source = Union[str, "os.PathLike[str]", TextIO]


def derived_id(values: Dict[str, object]) -> str:
    """The stable id of a place without one (see the module's docstring)."""
    where = values.get("code_postal") or normalize(str(values.get("commune") or ""))
    key = "\n".join((normalize(str(values.get("nom") or "")), str(where), normalize(str(values.get("adresse") or ""))))
    return "lieu-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def _number(value: object) -> str:
    """A coordinate as the file most likely wrote it: 48.1106, -1.68, 0."""
    return f"{value:.6f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


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


def _check_fields(fields: Sequence[str], file_format: str, strict: bool) -> None:
    """Refuse a file whose fields cannot be places of the standard, before anything is written.

    A CSV's header must name the required columns (with --strict, all of the standard's; otherwise a
    name and something to place the place with). A JSON file's first place, which may leave out
    empty fields, must have at least one field of the standard."""
    present = set(fields)
    if file_format == "json":
        if not present & set(STANDARD_FIELDS):
            raise ImportFileError(msg.MSG_FILE_NOT_STANDARD.format(missing=", ".join(REQUIRED_FIELDS)))
        return
    if strict:
        missing = [f for f in REQUIRED_FIELDS if f not in present]
    else:
        missing = [] if "nom" in present else [msg.FILE_NEEDS_NAME]
        if not ({"latitude", "longitude"} <= present or present & set(POSITION_FIELDS)):
            missing.append(msg.FILE_NEEDS_POSITION)
    if missing:
        raise ImportFileError(msg.MSG_FILE_NOT_STANDARD.format(missing=", ".join(missing)))


def source_id(source: str, file_id: str) -> str:
    """The id a place of `source` is stored under when its own id is another source's: "hub-du-sud-1"."""
    return f"{re.sub(r'[^a-z0-9]+', '-', normalize(source)).strip('-') or 'source'}-{file_id}"


def _same_name(place: Place, values: Dict[str, object]) -> bool:
    return normalize(place.nom or "") == normalize(str(values["nom"] or ""))


def _stored_id(values: Dict[str, object], existing: Dict[str, Place], source: Optional[str]) -> Tuple[str, bool]:
    """Where a place of the file goes: its own id, or (with a source) the source's form of it when that id
    is another source's place under another name. Ids are local to their producer (the standard says
    so): two regional exports both number their places 1, 2, 3…; the second must not overwrite the
    first. The same name under the same id is the same place moving between sources, as before."""
    file_id = str(values["id"])
    if source is None:
        return file_id, False
    own = source_id(source, file_id)
    if own in existing:
        return own, True
    other = existing.get(file_id)
    if other is None or other.import_source == source or _same_name(other, values):
        return file_id, False
    return own, True


def _flush_batch(factory, batch: Sequence[Tuple[Dict[str, object], str, int]], demo: bool, imported_at: datetime,
                 report: ImportReport) -> None:
    if not batch:
        return
    source = report.import_source
    with session_scope(factory) as session:
        ids = [str(values["id"]) for values, _, _ in batch]
        if source is not None:
            ids += [source_id(source, i) for i in ids]
        existing = {p.id: p for p in session.execute(select(Place).where(Place.id.in_(ids))).scalars()}
        for values, digest, line in batch:
            file_id = str(values["id"])
            stored, moved = _stored_id(values, existing, source)
            if moved:
                other = existing.get(file_id)
                values = {**values, "id": stored}
                report.warn(line, file_id, "id_autre_source", "id", msg.MSG_ID_OF_ANOTHER_SOURCE.format(
                    value=file_id, other=other.nom if other is not None else "", stored=stored))
            place = existing.get(stored)
            if place is not None and source is None and not _same_name(place, values):
                # Without a source, another file's place and a renamed place look alike: say which was replaced.
                report.warn(line, file_id, "id_repris", "id", msg.MSG_ID_TAKEN_OVER.format(value=file_id,
                                                                                           other=place.nom))
            if place is None:
                place = Place(**values, is_demo=demo, imported_at=imported_at, row_hash=digest, import_source=source)
                session.add(place)
                existing[place.id] = place
                report.created += 1
                continue
            returning = place.withdrawn_at is not None or (source is not None and place.import_source != source)
            if returning:  # back in a file (or moved to another source): proposed again, from this source
                place.withdrawn_at = None
                place.import_source = source or place.import_source
            if place.row_hash == digest and not returning:
                report.unchanged += 1
            else:
                for key, value in values.items():
                    setattr(place, key, value)
                place.is_demo = demo
                place.imported_at = imported_at
                place.row_hash = digest
                report.updated += 1


def _withdraw_absent(factory, source: str, listed: set, now: datetime) -> int:
    """Withdraw the places of `source` that the file did not list; returns how many."""
    with session_scope(factory) as session:
        current = session.execute(select(Place.id).where(Place.import_source == source,
                                                         Place.withdrawn_at.is_(None))).scalars().all()
        absent = [place_id for place_id in current if place_id not in listed]
        for start in range(0, len(absent), BATCH_SIZE):  # bounded IN lists
            session.execute(update(Place).where(Place.id.in_(absent[start:start + BATCH_SIZE]))
                            .values(withdrawn_at=now))
    return len(absent)


class _Importer:
    """The decisions of one import, place by place (see the module's docstring)."""

    def __init__(self, report: ImportReport, strict: bool, locator: Locator):
        self.report = report
        self.strict = strict
        self.locator = locator
        self.seen: Dict[str, int] = {}
        self.listed: set = set()  # every id the file gives, kept or rejected: --remplacer withdraws no such place

    def _identify(self, values: Dict[str, object], found: List[Problem]) -> None:
        if values["id"]:
            return
        if self.strict:
            found.append(Problem("id", "champ_vide", msg.MSG_REQUIRED.format(field="id"), ERROR, "id"))
        elif values["nom"]:
            values["id"] = derived_id(values)
            found.append(Problem("id", "id_calcule", msg.MSG_ID_DERIVED.format(value=values["id"]), NOTE))

    def _locate(self, values: Dict[str, object], found: List[Problem]) -> None:
        """Find the place's commune; complete its INSEE code, commune and postcode from it; reject the
        place when neither its coordinates nor its commune can place it."""
        given: Optional[str] = values["code_insee"]  # type: ignore[assignment]
        if given and not self.locator.knows(given):  # well-formed, but no commune has it (a typo, a merged commune)
            area = self.locator.area(None, values["code_postal"], values["commune"])  # type: ignore[arg-type]
            if area is not None:
                self._derive_insee(values, found, area, values["code_insee"], msg.INSEE_UNKNOWN)  # type: ignore
        else:
            area = self.locator.area(given, values["code_postal"], values["commune"])  # type: ignore[arg-type]
            area = self._against_postcode(values, found, area)
        if area is not None and not values["code_insee"]:
            invalid = next((p for p in found if p.kind == "code_insee"), None)
            if invalid is None:
                self._derive_insee(values, found, area)
            elif not self.strict:  # with --strict, the invalid code keeps rejecting the place
                found.remove(invalid)
                self._derive_insee(values, found, area, invalid.value, msg.INSEE_INVALID)
        if area is not None:
            self._complete(values, found, "commune", area.name, "commune_deduite", msg.MSG_COMMUNE_DERIVED.format(
                commune=area.name))
            if area.postcode:
                self._complete(values, found, "code_postal", area.postcode, "code_postal_deduit",
                               msg.MSG_POSTCODE_DERIVED.format(postcode=area.postcode))
        self._position(values, found, area)

    def _position(self, values: Dict[str, object], found: List[Problem], area: Optional[Area]) -> None:
        """Coordinates as positions.position() decides, each correction a warning."""
        latitude, longitude = values["latitude"], values["longitude"]
        where = position(latitude, longitude, area)  # type: ignore[arg-type]
        values["position_approx"] = False
        if where is not None and where.reason == OUT_OF_RANGE and self.strict:
            for name, value, limit, template in (("latitude", latitude, 90.0, msg.MSG_LAT_RANGE),
                                                 ("longitude", longitude, 180.0, msg.MSG_LON_RANGE)):
                if abs(value) > limit:  # type: ignore[arg-type]
                    found.append(Problem(name, "coordonnee", template.format(value=_number(value)), ERROR))
            return
        if where is None:
            found.append(Problem("position", "position", msg.MSG_NO_POSITION.format(
                commune=values["commune"] or "", postcode=values["code_postal"] or "",
                insee=values["code_insee"] or ""), FATAL))
            return
        values["latitude"], values["longitude"], values["position_approx"] = (
            where.latitude, where.longitude, where.approx)
        if where.swapped:
            found.append(Problem("latitude", "coordonnees_inversees", msg.MSG_COORDS_SWAPPED.format(
                latitude=_number(latitude), longitude=_number(longitude)), NOTE))
        elif where.approx:
            reason = msg.POSITION_REASONS[where.reason or ABSENT].format(
                latitude=_number(latitude), longitude=_number(longitude), distance=round(where.distance_km or 0))
            unreadable = [p for p in found if p.kind == "coordonnee"]
            if unreadable and not self.strict:  # one warning says both: what was wrong, what was done
                reason = unreadable[0].message
                for p in unreadable:
                    found.remove(p)
            found.append(Problem("position", "position_commune", msg.MSG_POSITION_COMMUNE.format(
                reason=reason, commune=area.name, insee=area.insee), NOTE))  # type: ignore[union-attr]

    def _against_postcode(self, values: Dict[str, object], found: List[Problem],
                          area: Optional[Area]) -> Optional[Area]:
        """A known code_insee of another département than the postcode, when the name and postcode together
        find a commune of the postcode's own: the code is the mistake (a real export put Le Mont-Dore,
        98800, under Mont-Dore in the Puy-de-Dôme, 63236), and the commune the two agree on is used. A
        commune whose postcode belongs to a neighbouring département is found again by its name: kept."""
        postcode: Optional[str] = values["code_postal"]  # type: ignore[assignment]
        if area is None or not postcode or departement_of_postcode(postcode) in (None, area.departement):
            return area
        other = self.locator.area(None, postcode, values["commune"])  # type: ignore[arg-type]
        if other is None or other.departement == area.departement:
            return area
        reason = msg.INSEE_OTHER_DEPARTEMENT.format(commune=area.name, departement=area.departement,
                                                    postcode=postcode)
        self._derive_insee(values, found, other, values["code_insee"], reason)  # type: ignore[arg-type]
        return other

    @staticmethod
    def _derive_insee(values: Dict[str, object], found: List[Problem], area: Area, given: Optional[str] = None,
                      reason: str = "") -> None:
        postcode = f", {values['code_postal'] or area.postcode}" if values["code_postal"] or area.postcode else ""
        if given:
            message = msg.MSG_INSEE_REPLACED.format(value=given, reason=reason, insee=area.insee, commune=area.name,
                                                    postcode=postcode)
        else:
            message = msg.MSG_INSEE_DERIVED.format(insee=area.insee, commune=area.name, postcode=postcode)
        values["code_insee"] = area.insee
        found.append(Problem("code_insee", "code_insee_deduit", message, NOTE, area.insee))

    def _complete(self, values: Dict[str, object], found: List[Problem], name: str, value: str, kind: str,
                  message: str) -> None:
        """Fill an empty required field from the reference: a note instead of the empty-field warning."""
        if values[name]:
            return
        empty = next((p for p in found if p.kind == "champ_vide" and p.field == name), None)
        if empty is not None and self.strict:
            return  # --strict: the empty field rejects the place, as before
        if empty is not None:
            found.remove(empty)
        values[name] = value
        found.append(Problem(name, kind, message, NOTE))

    def keep(self, record: Record, values: Dict[str, object], found: List[Problem]) -> bool:
        """Record the place's problems in the report; True when the place is kept."""
        report = self.report
        if record.not_an_object:
            report.errors.append(RowError(record.line, None, "lieu", msg.MSG_NOT_AN_OBJECT))
            return False
        self._identify(values, found)
        self._locate(values, found)
        row_id = values["id"]
        if row_id:
            self.listed.add(row_id)
            if self.report.import_source is not None:  # it may be stored under its source's form
                self.listed.add(source_id(self.report.import_source, row_id))  # type: ignore[arg-type]
        if record.extra:
            found.insert(0, Problem("ligne", "colonnes_en_trop", msg.MSG_EXTRA_COLUMNS.format(count=record.extra)))
        if row_id and row_id in self.seen:
            found.append(Problem("id", "doublon", msg.MSG_DUPLICATE.format(value=row_id, line=self.seen[row_id]),
                                 FATAL))
        rejecting = [p for p in found if p.severity == FATAL or (self.strict and p.severity == ERROR)]
        if rejecting:
            report.errors.extend(RowError(record.line, row_id, p.field, p.message) for p in rejecting)  # type: ignore
            return False
        for p in found:
            report.warn(record.line, row_id, p.kind, p.field, p.message, p.value)  # type: ignore[arg-type]
        self.seen[row_id] = record.line  # type: ignore[index]
        return True


def import_places(factory, source: Source, *, demo: bool = False, now: Optional[datetime] = None,
                  batch_size: int = BATCH_SIZE, strict: bool = False, mapping: MappingChooser = choose_mapping,
                  locator: Optional[Locator] = None, import_source: Optional[str] = None,
                  replace: bool = False) -> ImportReport:
    """Check and upsert the places of a directory file (CSV or JSON); return what happened.

    `factory` is a SQLAlchemy sessionmaker; `source` a path or an open text file. Raises
    `ImportFileError` (message in French) when the source is not a directory file, before
    touching the database. Rows are committed in batches of `batch_size`. `strict`: every problem
    rejects its place (see the module's docstring). `mapping` chooses, from the file's fields, how
    its version of the standard maps to the current one; `locator` finds communes (the packaged
    reference by default). `import_source` names the source; `replace` withdraws its places absent from
    the file (see the module's docstring).
    """
    import_source = (import_source or "").strip() or None
    if replace and import_source is None:
        raise ImportFileError(msg.MSG_REPLACE_NEEDS_SOURCE)
    if import_source is not None and len(import_source) > SOURCE_MAX_LENGTH:
        raise ImportFileError(msg.MSG_SOURCE_NAME)
    report = ImportReport(strict=strict, import_source=import_source)
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
            _check_fields(standard.current_fields(fields), places.info.format, strict)
        decide = _Importer(report, strict, locator or Locator())
        batch: List[Tuple[Dict[str, object], str, int]] = []
        for record in places:
            values, found = check_values(standard.map_row(record.fields))
            if not decide.keep(record, values, found):
                continue
            batch.append((values, _row_hash(values, demo), record.line))
            if len(batch) >= batch_size:
                _flush_batch(factory, batch, demo, imported_at, report)
                batch = []
        _flush_batch(factory, batch, demo, imported_at, report)
        if replace:
            report.withdrawn = _withdraw_absent(factory, import_source, decide.listed, imported_at) \
                if report.imported else 0
    finally:
        if own_stream:
            stream.close()
    return report
