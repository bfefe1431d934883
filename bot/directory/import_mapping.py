"""Where a version of the standard plugs into the importer: field names and list values.

The importer reads a file into records with the file's own field names (bot/directory/import_sources.py),
then asks a `StandardMapping`, chosen once per file from its fields, for two things:

- `map_fields(record) -> row`: the record under the current standard's field names
  (bot.directory.models.STANDARD_FIELDS); fields it does not know are left out;
- `normalise_list(field, raw) -> (canonical, dropped)`: for an enumerated field, the raw cell (text
  or, from JSON, a list) as the current standard's values, in order and without repeats, and the
  values that have no current equivalent (the importer drops them with a warning, or rejects the
  place with --strict).

`CURRENT` is the mapping of the current version (v1.0.2): names as they are, lists split on `|`,
values compared without case, accents, curly apostrophes or extra spaces. The mappings of earlier
versions (legacy names such as `courriel` or `labels_nationaux`, their vocabularies, `;` and `, `
separators) come from bot/directory/standard_versions.py through `choose_mapping`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from bot.core.text import normalize
from bot.directory.models import ENUMERATIONS, MULTI_SEPARATOR, STANDARD_FIELDS

FieldMapper = Callable[[Mapping[str, object]], Dict[str, object]]
ListNormaliser = Callable[[str, object], Tuple[List[str], List[str]]]

# Long forms seen in the standard's description and in real exports -> canonical value.
ENUM_ALIASES = {
    "modalites_accompagnement": {
        "dans un atelier collectif j'apprends collectivement a utiliser le numerique": "Dans un atelier collectif",
        "a distance par telephone ou en visioconference": "À distance",
    },
    "services": {"comprehension du monde numerique": "Compréhension du monde numérique"},
    "formations_labels": {"etapes numeriques la poste": "Étapes numériques(La Poste)"},
}


def _build_enum_lookup() -> Dict[str, Dict[str, str]]:
    lookup: Dict[str, Dict[str, str]] = {}
    for field_name, values in ENUMERATIONS.items():
        table = {normalize(v): v for v in values}
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
    return _ENUM_LOOKUP[field_name].get(normalize(value))


def list_parts(raw: object, separator: str = MULTI_SEPARATOR) -> List[str]:
    """The values of a list cell: a JSON list's items, or a text split on `separator`; trimmed, none empty."""
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else str(raw).split(separator)
    return [str(item).strip() for item in items if str(item).strip()]


def current_fields(record: Mapping[str, object]) -> Dict[str, object]:
    return {name: record[name] for name in STANDARD_FIELDS if name in record}


def current_list(field_name: str, raw: object) -> Tuple[List[str], List[str]]:
    canonical: List[str] = []
    dropped: List[str] = []
    for part in list_parts(raw):
        value = canonical_enum_value(field_name, part)
        if value is None:
            dropped.append(part)
        elif value not in canonical:
            canonical.append(value)
    return canonical, dropped


@dataclass(frozen=True)
class StandardMapping:
    version: str  # shown to the operator: "v1.0.2"
    map_fields: FieldMapper
    normalise_list: ListNormaliser


CURRENT = StandardMapping("v1.0.2", current_fields, current_list)

MappingChooser = Callable[[Sequence[str]], StandardMapping]


def choose_mapping(fields: Sequence[str]) -> StandardMapping:
    """The mapping for a file with these fields (its CSV header, or its first JSON place's fields)."""
    return CURRENT
