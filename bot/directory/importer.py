"""Import a CSV file in the national standard "lieux de médiation numérique".

Each row is checked against the standard's constraints; bad rows are reported (line, id, field,
French message) and skipped, good rows are upserted on `id`. A second import of the same file
changes nothing (every row is reported as unchanged, thanks to `row_hash`).

The file is streamed and committed in batches, so a national export (~20,000 rows) never sits in
memory. Common variations are accepted and normalised: BOM, `;`/`,`/tab delimiters, curly
apostrophes, extra spaces, case and accents of vocabulary values, French-style phone numbers,
decimal commas, dates written JJ/MM/AAAA. A file that is not a CSV of the standard raises
`ImportFileError` before anything is written.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import itertools
import json
import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Dict, Iterator, List, Optional, Sequence, TextIO, Tuple, Union

from sqlalchemy import select

from bot.core.db import session_scope
from bot.core.phone import to_e164
from bot.core.text import fix_typography, normalize
from bot.directory.models import (
    ENUMERATIONS,
    MULTI_SEPARATOR,
    REQUIRED_FIELDS,
    STANDARD_FIELDS,
    Place,
)

# --- Operator-facing messages (French), kept together -----------------------------------------
MSG_REQUIRED = "{field} : champ obligatoire vide"
MSG_POSTCODE = "code_postal « {value} » : 5 chiffres attendus"
MSG_INSEE = "code_insee « {value} » : code commune INSEE à 5 caractères attendu (ex. 35238)"
MSG_PIVOT = "pivot « {value} » : SIRET, RNA ou RIDET attendu (9 à 14 lettres ou chiffres)"
MSG_ENUM = "{field} : valeur « {value} » inconnue du standard"
MSG_NUMBER = "{field} « {value} » : nombre attendu"
MSG_LAT_RANGE = "latitude « {value} » : doit être comprise entre -90 et 90"
MSG_LON_RANGE = "longitude « {value} » : doit être comprise entre -180 et 180"
MSG_COORD_PAIR = "{field} : latitude et longitude doivent être renseignées ensemble"
MSG_PHONE = "telephone « {value} » : numéro non reconnu (format attendu : +33 suivi de 9 chiffres)"
MSG_DATE = "date_maj « {value} » : date attendue au format AAAA-MM-JJ"
MSG_MAX_LENGTH = "{field} : {length} caractères, {max} au maximum"
MSG_DUPLICATE = "id « {value} » : déjà présent ligne {line}"
MSG_EXTRA_COLUMNS = "ligne : {count} valeur(s) en trop par rapport à l'en-tête"

MSG_FILE_EMPTY = "Le fichier est vide."
MSG_FILE_UNREADABLE = "Impossible de lire le fichier « {path} » : {reason}."
MSG_FILE_BINARY = "Ce fichier n'est pas un fichier texte CSV (contenu binaire)."
MSG_FILE_ENCODING = "Le fichier n'est pas lisible en UTF-8 (ligne {line}). Enregistrez-le en CSV UTF-8."
MSG_FILE_NOT_STANDARD = (
    "Ce fichier ne suit pas le standard des lieux de médiation numérique : "
    "colonne(s) obligatoire(s) absente(s) de l'en-tête : {missing}."
)
MSG_FILE_CSV = "Fichier CSV illisible ligne {line} : {error}"

SUMMARY_COUNTS = "{created} lieu(x) créé(s), {updated} mis à jour, {unchanged} inchangé(s)."
SUMMARY_NO_ERROR = "Aucune ligne rejetée."
SUMMARY_REJECTED = "{rejected} ligne(s) rejetée(s) ({errors} erreur(s)) :"
SUMMARY_ERROR_LINE = "  ligne {line}{row} : {message}"
SUMMARY_ERROR_ROW = " (id {row_id})"
SUMMARY_MORE = "  … et {count} autre(s) erreur(s)."

# --- Constraints of the standard ----------------------------------------------------------------
POSTCODE_RE = re.compile(r"^[0-9]{5}$")  # not \d: "٣٥٠٠٠" is five digits for Python
INSEE_RE = re.compile(r"^([013-9][0-9]|2[AB1-9])[0-9]{3}$")
PIVOT_RE = re.compile(r"^[a-zA-Z0-9]{9,14}$")
PHONE_RE = re.compile(r"^(\+33|\+590|\+594|\+262|\+596|\+269|\+687|\+689|\+508|\+681)([0-9]){6,9}$")
RESUME_MAX_LENGTH = 280

# Regions tried when a number is written nationally (0X XX XX XX XX): metropolitan France first,
# then the overseas territories the standard allows.
PHONE_REGIONS = ("FR", "GP", "GF", "RE", "MQ", "YT", "NC", "PF", "PM", "WF")

# Long forms seen in the standard's description and in real exports -> canonical value.
ENUM_ALIASES = {
    "modalites_accompagnement": {
        "dans un atelier collectif j'apprends collectivement a utiliser le numerique": "Dans un atelier collectif",
        "a distance par telephone ou en visioconference": "À distance",
    },
    "services": {"comprehension du monde numerique": "Compréhension du monde numérique"},
    "formations_labels": {"etapes numeriques la poste": "Étapes numériques(La Poste)"},
}

BATCH_SIZE = 500
SNIFF_BYTES = 64 * 1024


def _enum_key(value: str) -> str:
    return normalize(value)


def _build_enum_lookup() -> Dict[str, Dict[str, str]]:
    lookup: Dict[str, Dict[str, str]] = {}
    for field_name, values in ENUMERATIONS.items():
        table = {_enum_key(v): v for v in values}
        table.update(ENUM_ALIASES.get(field_name, {}))
        lookup[field_name] = table
    return lookup


_ENUM_LOOKUP = _build_enum_lookup()


@lru_cache(maxsize=8192)
def canonical_enum_value(field_name: str, value: str) -> Optional[str]:
    """Standard spelling of `value` for an enumerated field, or None if it is not in the standard.

    Tolerates case, accents, curly apostrophes and extra spaces ("point d’acces numerique caf").
    Cached: a national export repeats the same few values thousands of times.
    """
    return _ENUM_LOOKUP[field_name].get(_enum_key(value))


# --- Report -----------------------------------------------------------------------------------


class ImportFileError(ValueError):
    """The source is not a readable CSV of the standard; nothing was written."""


@dataclass(frozen=True)
class RowError:
    line: int
    row_id: Optional[str]
    field: str
    message: str


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: List[RowError] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        """Number of rows skipped because of at least one error."""
        return len({e.line for e in self.errors})

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged

    def summary_lines(self, max_errors: int = 50) -> List[str]:
        lines = [SUMMARY_COUNTS.format(created=self.created, updated=self.updated, unchanged=self.unchanged)]
        if not self.errors:
            lines.append(SUMMARY_NO_ERROR)
            return lines
        lines.append(SUMMARY_REJECTED.format(rejected=self.rejected, errors=len(self.errors)))
        for err in self.errors[:max_errors]:
            row = SUMMARY_ERROR_ROW.format(row_id=err.row_id) if err.row_id else ""
            lines.append(SUMMARY_ERROR_LINE.format(line=err.line, row=row, message=err.message))
        if len(self.errors) > max_errors:
            lines.append(SUMMARY_MORE.format(count=len(self.errors) - max_errors))
        return lines


# --- Reading ----------------------------------------------------------------------------------

Source = Union[str, "os.PathLike[str]", TextIO]


def _open_path(path: Union[str, "os.PathLike[str]"]) -> TextIO:
    try:
        with open(path, "rb") as raw:
            head = raw.read(SNIFF_BYTES)
    except OSError as exc:
        raise ImportFileError(MSG_FILE_UNREADABLE.format(path=path, reason=exc.strerror or exc)) from None
    if not head.strip():
        raise ImportFileError(MSG_FILE_EMPTY)
    if b"\x00" in head:
        raise ImportFileError(MSG_FILE_BINARY)
    encoding = "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        # Spreadsheet exports from French Windows are often cp1252.
        encoding = "cp1252"
    return open(path, "r", encoding=encoding, newline="")


def _detect_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (";", ",", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def _header_key(name: Optional[str]) -> str:
    return (name or "").replace("\ufeff", "").strip().strip('"').strip().lower()


class _Rows:
    """Streams (line_number, row_dict, extra_values) from a text stream, checking the header."""

    def __init__(self, stream: TextIO):
        self._stream = stream
        try:
            first = stream.readline()
        except UnicodeDecodeError:
            raise ImportFileError(MSG_FILE_ENCODING.format(line=1)) from None
        first = first.lstrip("\ufeff")
        if not first.strip():
            raise ImportFileError(MSG_FILE_EMPTY)
        if "\x00" in first:
            raise ImportFileError(MSG_FILE_BINARY)
        self.delimiter = _detect_delimiter(first)
        self._reader = csv.reader(itertools.chain([first], stream), delimiter=self.delimiter)
        try:
            raw_header = next(self._reader)
        except csv.Error as exc:
            raise ImportFileError(MSG_FILE_CSV.format(line=1, error=exc)) from None
        self.header = [_header_key(h) for h in raw_header]
        missing = [f for f in REQUIRED_FIELDS if f not in self.header]
        if missing:
            raise ImportFileError(MSG_FILE_NOT_STANDARD.format(missing=", ".join(missing)))

    def __iter__(self) -> Iterator[Tuple[int, Dict[str, Optional[str]], int]]:
        width = len(self.header)
        line_end = self._reader.line_num
        while True:
            start = line_end + 1
            try:
                values = next(self._reader)
            except StopIteration:
                return
            except UnicodeDecodeError:
                raise ImportFileError(MSG_FILE_ENCODING.format(line=start)) from None
            except csv.Error as exc:
                raise ImportFileError(MSG_FILE_CSV.format(line=start, error=exc)) from None
            line_end = self._reader.line_num
            if not values or all(not v.strip() for v in values):
                continue
            row: Dict[str, Optional[str]] = {}
            for key, value in zip(self.header, values):
                if key in STANDARD_FIELDS and not row.get(key):
                    row[key] = value
            extra = max(0, len(values) - width)
            # Trailing empty cells (a common spreadsheet artefact) are not an error.
            if extra and all(not v.strip() for v in values[width:]):
                extra = 0
            yield start, row, extra


# --- Validation -------------------------------------------------------------------------------


_NEEDS_TYPOGRAPHY = re.compile(r"[\u2018\u2019\u02bc`\u00b4\u00a0\u202f]|\s\s|[\t\r\n]")


def _clean(value: Optional[str]) -> Optional[str]:
    if value is None:
        return None
    value = value.strip()
    if _NEEDS_TYPOGRAPHY.search(value):  # most cells are already clean: skip the heavier pass
        value = fix_typography(value)
    return value or None


def _parse_number(value: str) -> Optional[float]:
    try:
        number = float(value.replace(",", ".").replace(" ", ""))
    except ValueError:
        return None
    if number != number or number in (float("inf"), float("-inf")):  # NaN / inf
        return None
    return number


def normalize_phone(value: str) -> Optional[str]:
    """E.164 form allowed by the standard (+33XXXXXXXXX), or None if the number is not usable."""
    if PHONE_RE.match(value):
        return value  # already in the standard's form: nothing to normalise
    for region in PHONE_REGIONS:
        e164 = to_e164(value, region)
        if e164 is not None:
            return e164 if PHONE_RE.match(e164) else None
        if value.strip().startswith("+"):
            break  # an international number does not depend on the region
    return None


def _parse_date(value: str) -> Optional[date]:
    text = value.strip()
    if re.match(r"^\d{4}-\d{2}-\d{2}$", text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    if re.match(r"^\d{2}/\d{2}/\d{4}$", text):  # French JJ/MM/AAAA
        try:
            return datetime.strptime(text, "%d/%m/%Y").date()
        except ValueError:
            return None
    # ISO date-time, as some exports write it (2024-04-02T10:00:00Z)
    match = re.match(r"^(\d{4}-\d{2}-\d{2})[T ]\d{2}:\d{2}", text)
    if match:
        return _parse_date(match.group(1))
    return None


def _enum_field(field_name: str, raw: Optional[str], errors: List[Tuple[str, str]]) -> Optional[str]:
    if not raw:
        return None
    canonical: List[str] = []
    for part in raw.split(MULTI_SEPARATOR):
        part = part.strip()
        if not part:
            continue
        value = canonical_enum_value(field_name, part)
        if value is None:
            errors.append((field_name, MSG_ENUM.format(field=field_name, value=part)))
        elif value not in canonical:
            canonical.append(value)
    return MULTI_SEPARATOR.join(canonical) or None


def _free_multi(raw: Optional[str]) -> Optional[str]:
    if not raw:
        return None
    parts = [p.strip() for p in raw.split(MULTI_SEPARATOR) if p.strip()]
    return MULTI_SEPARATOR.join(parts) or None


def validate_row(row: Dict[str, Optional[str]]) -> Tuple[Dict[str, object], List[Tuple[str, str]]]:
    """Check one row of the standard; return (clean values, [(field, message)])."""
    values: Dict[str, object] = {name: _clean(row.get(name)) for name in STANDARD_FIELDS}
    errors: List[Tuple[str, str]] = []

    for name in REQUIRED_FIELDS:
        if not values[name]:
            errors.append((name, MSG_REQUIRED.format(field=name)))

    pivot = values["pivot"]
    if pivot:
        pivot = str(pivot).replace(" ", "")
        values["pivot"] = pivot
        if not PIVOT_RE.match(pivot):
            errors.append(("pivot", MSG_PIVOT.format(value=row.get("pivot", "").strip())))

    postcode = values["code_postal"]
    if postcode:
        postcode = str(postcode).replace(" ", "")
        values["code_postal"] = postcode
        if not POSTCODE_RE.match(postcode):
            errors.append(("code_postal", MSG_POSTCODE.format(value=values["code_postal"])))

    insee = values["code_insee"]
    if insee:
        insee = str(insee).replace(" ", "").upper()
        values["code_insee"] = insee
        if not INSEE_RE.match(insee):
            errors.append(("code_insee", MSG_INSEE.format(value=insee)))

    coords: Dict[str, Optional[float]] = {}
    for name, limit, msg in (("latitude", 90.0, MSG_LAT_RANGE), ("longitude", 180.0, MSG_LON_RANGE)):
        raw = values[name]
        coords[name] = None
        if raw:
            number = _parse_number(str(raw))
            if number is None:
                errors.append((name, MSG_NUMBER.format(field=name, value=raw)))
            elif not -limit <= number <= limit:
                errors.append((name, msg.format(value=raw)))
            else:
                coords[name] = number
        values[name] = coords[name]
    if (values["latitude"] is None) != (values["longitude"] is None) and not any(
        f in ("latitude", "longitude") for f, _ in errors
    ):
        missing = "latitude" if values["latitude"] is None else "longitude"
        errors.append((missing, MSG_COORD_PAIR.format(field=missing)))

    phone = values["telephone"]
    if phone:
        e164 = normalize_phone(str(phone))
        if e164 is None:
            errors.append(("telephone", MSG_PHONE.format(value=phone)))
        values["telephone"] = e164

    raw_date = values["date_maj"]
    if raw_date:
        parsed = _parse_date(str(raw_date))
        if parsed is None:
            errors.append(("date_maj", MSG_DATE.format(value=raw_date)))
        values["date_maj"] = parsed

    resume = values["presentation_resume"]
    if resume and len(str(resume)) > RESUME_MAX_LENGTH:
        errors.append(
            (
                "presentation_resume",
                MSG_MAX_LENGTH.format(field="presentation_resume", length=len(str(resume)), max=RESUME_MAX_LENGTH),
            )
        )

    for name in ENUMERATIONS:
        values[name] = _enum_field(name, values[name], errors)  # type: ignore[arg-type]
    for name in ("typologie", "courriels", "site_web"):
        values[name] = _free_multi(values[name])  # type: ignore[arg-type]

    return values, errors


def _row_hash(values: Dict[str, object], demo: bool) -> str:
    payload = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items()}
    payload["__demo__"] = demo
    data = json.dumps(payload, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


# --- Import -----------------------------------------------------------------------------------


def _utc_naive(now: Optional[datetime]) -> datetime:
    if now is None:
        return datetime.now(timezone.utc).replace(tzinfo=None)
    if now.tzinfo is not None:
        return now.astimezone(timezone.utc).replace(tzinfo=None)
    return now


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


def import_places(factory, source: Source, *, demo: bool = False, now: Optional[datetime] = None,
                  batch_size: int = BATCH_SIZE) -> ImportReport:
    """Validate and upsert the places of a standard CSV; return what happened.

    `factory` is a SQLAlchemy sessionmaker; `source` a path or an open text file. Raises
    `ImportFileError` (message in French) when the source is not a CSV of the standard, before
    touching the database. Rows are committed in batches of `batch_size`.
    """
    report = ImportReport()
    imported_at = _utc_naive(now)
    own_stream = not hasattr(source, "read")
    stream: TextIO = _open_path(source) if own_stream else source  # type: ignore[arg-type]
    try:
        rows = _Rows(stream)
        seen: Dict[str, int] = {}
        batch: List[Tuple[Dict[str, object], str]] = []
        for line, row, extra in rows:
            values, problems = validate_row(row)
            row_id = values["id"]
            if extra:
                problems.insert(0, ("ligne", MSG_EXTRA_COLUMNS.format(count=extra)))
            if row_id and row_id in seen:
                problems.append(("id", MSG_DUPLICATE.format(value=row_id, line=seen[row_id])))
            if problems:
                report.errors.extend(RowError(line, row_id, f, m) for f, m in problems)  # type: ignore[arg-type]
                continue
            seen[row_id] = line  # type: ignore[index]
            batch.append((values, _row_hash(values, demo)))
            if len(batch) >= batch_size:
                _flush_batch(factory, batch, demo, imported_at, report)
                batch = []
        _flush_batch(factory, batch, demo, imported_at, report)
    finally:
        if own_stream:
            stream.close()
    return report
