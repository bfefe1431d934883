"""Checking and normalising the values of one place, field by field.

`check_values(row, normalise_list)` takes a row under the current standard's field names and returns
the values to store and the problems found. A value with a problem is dropped (None, or left out of
its list); whether the problem rejects the place is the importer's decision (bot/directory/importing/importer.py):
with --strict every problem does, by default only the `FATAL` ones.

Common variations are accepted and normalised silently: curly apostrophes, extra spaces,
French-style phone numbers, decimal commas, dates written JJ/MM/AAAA or as an ISO date-time. List
values arrive already mapped to the current vocabulary (importing/mapping.py); the items it could not
map become problems here: a value no version knows (an error), a legacy value the standard
abandoned (a note: docs/standard-versions.md says why).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Dict, List, Optional, Tuple

from bot.core.phone import to_e164
from bot.core.text import fix_typography, normalize
from bot.directory.importing import messages as msg
from bot.directory.importing.mapping import MappedRow
from bot.directory.models import MULTI_SEPARATOR, REQUIRED_FIELDS, STANDARD_FIELDS

# --- Constraints of the standard ----------------------------------------------------------------
POSTCODE_RE = re.compile(r"^[0-9]{5}$")  # not \d: "٣٥٠٠٠" is five digits for Python
INSEE_RE = re.compile(r"^([013-9][0-9]|2[AB1-9])[0-9]{3}$")
PIVOT_RE = re.compile(r"^[a-zA-Z0-9]{9,14}$")
PHONE_RE = re.compile(r"^(\+33|\+590|\+594|\+262|\+596|\+269|\+687|\+689|\+508|\+681)([0-9]){6,9}$")
RESUME_MAX_LENGTH = 280
# What exports write for "no value" in a code column.
PLACEHOLDERS = frozenset({"missing", "na", "n a", "nan", "null", "none", "inconnu", "nonrenseigne", "x", ""})

# Regions tried when a number is written nationally (0X XX XX XX XX): metropolitan France first,
# then the overseas territories the standard allows.
PHONE_REGIONS = ("FR", "GP", "GF", "RE", "MQ", "YT", "NC", "PF", "PM", "WF")

# Severities.
FATAL = "fatal"  # the place cannot be used: always rejected
ERROR = "error"  # a value breaks the standard: dropped with a warning, or the place rejected with --strict
NOTE = "note"  # the importer completed or corrected something: a warning, never a rejection


@dataclass(frozen=True)
class Problem:
    field: str
    kind: str  # groups warnings in the summary (messages.WARNING_KINDS)
    message: str
    severity: str = ERROR
    value: Optional[str] = None  # the value dropped, counted per value in the summary


_NEEDS_TYPOGRAPHY = re.compile(r"[\u2018\u2019\u02bc`\u00b4\u00a0\u202f]|\s\s|[\t\r\n]")


def clean(value: object) -> Optional[str]:
    """One cell as text: trimmed, typography fixed; a list `|`-joined; None when empty."""
    if value is None:
        return None
    if isinstance(value, list):  # items are trimmed and non-empty (mapping)
        value = MULTI_SEPARATOR.join(value)
    value = str(value).strip()
    if _NEEDS_TYPOGRAPHY.search(value):  # most cells are already clean: skip the heavier pass
        value = fix_typography(value)
    return value or None


def parse_number(value: str) -> Optional[float]:
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


def parse_date(value: str) -> Optional[date]:
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
        return parse_date(match.group(1))
    return None


def check_values(mapped: MappedRow) -> Tuple[Dict[str, object], List[Problem]]:
    """Values of one place as stored (see the module's docstring), and the problems found."""
    values: Dict[str, object] = dict.fromkeys(STANDARD_FIELDS)
    for name, cell in mapped.fields.items():  # only the fields the file filled
        values[name] = clean(cell)
    problems: List[Problem] = []
    for dropped in mapped.dropped:
        if dropped.abandoned:
            message = msg.MSG_ENUM_ABANDONED.format(field=dropped.column, value=dropped.value)
            problems.append(Problem(dropped.column, "valeur_abandonnee", message, NOTE, dropped.value))
        else:
            message = msg.MSG_ENUM.format(field=dropped.column, value=dropped.value)
            problems.append(Problem(dropped.column, "valeur_inconnue", message, ERROR, dropped.value))

    for name in REQUIRED_FIELDS:
        if name != "id" and not values[name]:  # a missing id is the importer's: derived, or an error
            severity = FATAL if name == "nom" else ERROR
            problems.append(Problem(name, "champ_vide", msg.MSG_REQUIRED.format(field=name), severity, name))

    pivot = values["pivot"]
    if pivot:
        pivot = str(pivot).replace(" ", "")
        if PIVOT_RE.match(pivot):
            values["pivot"] = pivot
        else:
            problems.append(Problem("pivot", "pivot", msg.MSG_PIVOT.format(value=values["pivot"])))
            values["pivot"] = None

    postcode = values["code_postal"]
    if postcode:
        postcode = str(postcode).replace(" ", "")
        if POSTCODE_RE.match(postcode):
            values["code_postal"] = postcode
        else:
            problems.append(Problem("code_postal", "code_postal", msg.MSG_POSTCODE.format(value=postcode)))
            values["code_postal"] = None

    insee = values["code_insee"]
    if insee:
        insee = str(insee).replace(" ", "").upper()
        if INSEE_RE.match(insee):
            values["code_insee"] = insee
        elif normalize(insee) in PLACEHOLDERS:
            values["code_insee"] = None  # "MISSING": an empty cell; the importer derives the code
        else:
            problems.append(Problem("code_insee", "code_insee", msg.MSG_INSEE.format(value=insee), value=insee))
            values["code_insee"] = None

    # Numbers only: whether they can place the place (range, France, near the commune, swapped) is
    # positions.position()'s to say.
    for name in ("latitude", "longitude"):
        raw = values[name]
        values[name] = None
        if raw:
            number = parse_number(str(raw))
            if number is None:
                problems.append(Problem(name, "coordonnee", msg.MSG_NUMBER.format(field=name, value=raw)))
            else:
                values[name] = number
    if (values["latitude"] is None) != (values["longitude"] is None) and not any(
        p.field in ("latitude", "longitude") for p in problems
    ):
        missing = "latitude" if values["latitude"] is None else "longitude"
        problems.append(Problem(missing, "coordonnee", msg.MSG_COORD_PAIR.format(field=missing)))

    phone = values["telephone"]
    if phone:
        e164 = normalize_phone(str(phone))
        if e164 is None:
            problems.append(Problem("telephone", "telephone", msg.MSG_PHONE.format(value=phone)))
        values["telephone"] = e164

    raw_date = values["date_maj"]
    if raw_date:
        parsed = parse_date(str(raw_date))
        if parsed is None:
            problems.append(Problem("date_maj", "date_maj", msg.MSG_DATE.format(value=raw_date)))
        values["date_maj"] = parsed

    resume = values["presentation_resume"]
    if resume and len(str(resume)) > RESUME_MAX_LENGTH:
        problems.append(Problem("presentation_resume", "resume_trop_long", msg.MSG_MAX_LENGTH.format(
            field="presentation_resume", length=len(str(resume)), max=RESUME_MAX_LENGTH)))
        values["presentation_resume"] = None

    return values, problems
