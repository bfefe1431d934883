"""Earlier versions of the national standard "lieux de médiation numérique", and how to read them.

Directory files from the field follow every version the standard has had since 2022. This module
holds what is needed to read them as the current version (v1.0.x, `models.ENUMERATIONS`): the
versions and their columns, legacy column names, legacy vocabularies, and the list separators.
It is data and small pure functions; the importer applies them. `docs/standard-versions.md` is
the coordinators' account of the same tables (a test checks that it lists every row).

Where it comes from (https://github.com/LaMednum/standard-mediation-num, "the standard", and the
national map's client, https://github.com/anct-cartographie-nationale/client-application):

- 2022-06: the national map's own format before the standard (client-application 1e2d29db and
  5c6a4e7b, June-July 2022): `publics`, `modalites_access` (free or paying), `types_accompagnement`,
  short values, lists joined by ", ".
- 2022-07: the standard's first draft, `Schema_V1.json` (91b4cd7 to f8f07f7, 2022-07-04; its
  "version" field says 1.0): `conditions_access`, enumerations, lists joined by ",". The map
  published the Conseillers numériques' places in it (client-application 9f64eee0, 2022-07-20).
- 0.1: v0.1.0 (tag, fa1ba16, 2022-08-01) and v0.1.1 (tag, fbd9541, 2022-11-14; its schema.json
  still says 0.1.0, as do ba0f8d9 and 38729f6, which made code_insee required in 2023): 29 columns,
  `;`, 15 services. Most regional exports of 2022-2024 follow it.
- 1.0 draft: April 2024 (3e34f5c "0.2.0" to 6c45fae "v1.0.0"): today's columns, lists joined by
  `;`, long values ("Gratuit : Je peux accéder…"); its example spells `Itinerance`, `modalite_acces`.
- 1.0: v1.0.0 (tag, 953d69a, 2024-04-15, `|`), v1.0.1 (tag, cb557de, services optional), v1.0.2
  (13b05e2, merged 229fab1 on 2024-07-18, untagged: "Étapes numériques(La Poste)"). The same
  columns; `descriptif-des-evolutions` (e347ff4) describes the move from 0.1.1.

The mapping of values follows the standard where it says something (descriptif-des-evolutions,
the 2024 drafts' descriptions) and otherwise the national map's own conversion of its 0.1 files
(client-application 8b2dea59 and 926d8162, 2024-09-12), which was checked value by value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

from bot.core.text import normalize
from bot.directory.models import ENUMERATIONS, MULTI_SEPARATOR, STANDARD_FIELDS

# --- Versions -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StandardVersion:
    label: str  # short, stable: "2022-06", "2022-07", "0.1", "1.0-draft", "1.0"
    title: str  # for coordinators (French)
    published: Tuple[str, ...]  # the schema versions it covers, as the standard numbers them
    sources: Tuple[str, ...]  # where its columns were read: repository@commit (date)
    fields: Tuple[str, ...]  # its column names, in its order
    separators: Tuple[str, ...]  # how its lists are joined

    @property
    def is_current(self) -> bool:
        return self.label == CURRENT_LABEL


CURRENT_LABEL = "1.0"

_FIELDS_0_1 = (
    "id", "pivot", "nom", "commune", "code_postal", "code_insee", "adresse", "complement_adresse", "latitude",
    "longitude", "cle_ban", "typologie", "telephone", "courriel", "site_web", "horaires", "presentation_resume",
    "presentation_detail", "source", "structure_parente", "date_maj", "services", "publics_accueillis",
    "conditions_acces", "labels_nationaux", "labels_autres", "modalites_accompagnement", "accessibilite", "prise_rdv",
)

VERSIONS: Tuple[StandardVersion, ...] = (
    StandardVersion(
        label="2022-06",
        title="format de la cartographie nationale avant le standard (juin 2022)",
        published=(),
        sources=(
            "anct-cartographie-nationale/client-application@1e2d29db (2022-06-28)",
            "anct-cartographie-nationale/client-application@5c6a4e7b (2022-07-13)",
        ),
        fields=(
            "id", "nom", "commune", "code_postal", "code_insee", "adresse", "complement_adresse", "latitude",
            "longitude", "typologie", "telephone", "courriel", "site_web", "horaires", "presentation_resumee",
            "presentation_detail", "source", "structure_parente", "date_maj", "services", "publics",
            "modalites_access", "labels_nationaux", "labels_autres", "types_accompagnement", "accessibilite",
            "prise_rdv",
        ),
        separators=(",",),
    ),
    StandardVersion(
        label="2022-07",
        title="premier brouillon du standard, Schema_V1.json (juillet 2022)",
        published=(),
        sources=(
            "LaMednum/standard-mediation-num@f8f07f7 (2022-07-04)",
            "anct-cartographie-nationale/client-application@9f64eee0 (2022-07-20)",
        ),
        fields=tuple("conditions_access" if name == "conditions_acces" else name for name in _FIELDS_0_1),
        separators=(",",),
    ),
    StandardVersion(
        label="0.1",
        title="standard v0.1 (août 2022 à avril 2024)",
        published=("0.1.0", "0.1.1"),
        sources=(
            "LaMednum/standard-mediation-num@fa1ba16 (tag v0.1.0, 2022-08-01)",
            "LaMednum/standard-mediation-num@fbd9541 (tag v0.1.1, 2022-11-14)",
            "LaMednum/standard-mediation-num@38729f6 (2023-07-20)",
        ),
        fields=_FIELDS_0_1,
        separators=(";",),
    ),
    StandardVersion(
        label="1.0-draft",
        title="brouillon de la v1.0 (avril 2024)",
        published=(),
        sources=(
            "LaMednum/standard-mediation-num@3e34f5c (« 0.2.0 », 2024-04-02)",
            "LaMednum/standard-mediation-num@6c45fae (« v1.0.0 » avant le séparateur |, 2024-04-11)",
        ),
        fields=tuple("modalite_acces" if name == "modalites_acces" else name for name in STANDARD_FIELDS),
        separators=(";",),
    ),
    StandardVersion(
        label=CURRENT_LABEL,
        title="standard v1.0 (depuis avril 2024)",
        published=("1.0.0", "1.0.1", "1.0.2"),
        sources=(
            "LaMednum/standard-mediation-num@953d69a (tag v1.0.0, 2024-04-15)",
            "LaMednum/standard-mediation-num@cb557de (tag v1.0.1, 2024-06-13)",
            "LaMednum/standard-mediation-num@229fab1 (v1.0.2, 2024-07-18)",
        ),
        fields=STANDARD_FIELDS,
        separators=(MULTI_SEPARATOR,),
    ),
)

CURRENT_VERSION = VERSIONS[-1]

# --- Columns ------------------------------------------------------------------------------------

# Legacy column -> the current column(s) its content goes to. Two legacy columns were split in v1.0:
# each of their values goes to the first of these columns whose vocabulary knows it (see
# `translate_cell`). `modalites_access` meant "free or paying" in the map's 2022 format; the same
# misspelling of today's `modalites_acces` would hold access steps: the values tell which.
LEGACY_FIELDS: Dict[str, Tuple[str, ...]] = {
    "courriel": ("courriels",),
    "horaire": ("horaires",),  # Schema_V1.json, 2022-07-04
    "presentation_resumee": ("presentation_resume",),  # the map's 2022 format, and PR #11 of Nov. 2022
    "publics": ("publics_specifiquement_adresses", "prise_en_charge_specifique"),
    "publics_accueillis": ("publics_specifiquement_adresses", "prise_en_charge_specifique"),
    "conditions_acces": ("frais_a_charge",),
    "conditions_access": ("frais_a_charge",),
    "conditions_acce": ("frais_a_charge",),  # a typo that stayed on the standard's main branch for a day
    "modalites_access": ("frais_a_charge", "modalites_acces"),
    "modalite_acces": ("modalites_acces",),  # the 1.0 draft's example
    "labels_nationaux": ("dispositif_programmes_nationaux", "formations_labels"),
    "labels_autres": ("autres_formations_labels",),
    "types_accompagnement": ("modalites_accompagnement",),
    "accessibilite": ("fiche_acces_libre",),
}

# Legacy columns that v1.0 dropped: read, then left out (French reason, for the import summary).
IGNORED_FIELDS: Dict[str, str] = {
    "cle_ban": "clé de la Base Adresse Nationale, supprimée en v1.0",
}


def column_key(name: str) -> str:
    """Header spelling -> column name, whatever the case, accents, spaces, quotes or byte-order mark."""
    return "_".join(normalize(name).split())


_CURRENT_COLUMNS = frozenset(STANDARD_FIELDS)


@lru_cache(maxsize=1024)
def current_fields(column: str) -> Optional[Tuple[str, ...]]:
    """The current column(s) a header column feeds; () when it is ignored, None when no version knows it."""
    key = column_key(column)
    if key in _CURRENT_COLUMNS:
        return (key,)
    if key in LEGACY_FIELDS:
        return LEGACY_FIELDS[key]
    if key in IGNORED_FIELDS:
        return ()
    return None


@dataclass(frozen=True)
class DetectedVersion:
    version: StandardVersion  # the version whose columns the header matches best
    columns: Mapping[str, Tuple[str, ...]]  # each known header column, as written -> current column(s)
    ignored: Tuple[str, ...]  # known columns that v1.0 dropped
    unknown: Tuple[str, ...]  # columns no version has

    @property
    def label(self) -> str:
        return self.version.label

    @property
    def legacy_columns(self) -> Tuple[str, ...]:
        """Header columns with an earlier name (a file may mix names of two versions)."""
        return tuple(name for name in self.columns if column_key(name) in LEGACY_FIELDS)

    @property
    def is_legacy(self) -> bool:
        return not self.version.is_current or bool(self.legacy_columns or self.ignored)


_VERSION_COLUMNS = tuple((version, frozenset(version.fields)) for version in VERSIONS)


def detect_version(header: Sequence[str]) -> DetectedVersion:
    """Which version a header (list of column names) most likely follows, and what each column feeds.

    The version is the one sharing the most columns with the header; on a tie, the newest. Columns
    are mapped whatever the version, so a file that mixes names of two versions is read whole; two
    of its columns may then feed the same current column (`courriel` and `courriels`).
    """
    keys = {column_key(name) for name in header if name and column_key(name)}
    best, best_score = CURRENT_VERSION, 0
    for version, fields in reversed(_VERSION_COLUMNS):
        score = len(keys & fields)
        if score > best_score:
            best, best_score = version, score
    columns: Dict[str, Tuple[str, ...]] = {}
    ignored: List[str] = []
    unknown: List[str] = []
    for name in header:
        if not name:
            continue
        targets = current_fields(name)
        if targets is None:
            unknown.append(name)
        elif not targets:
            ignored.append(name)
        else:
            columns[name] = targets
    return DetectedVersion(best, columns, tuple(ignored), tuple(unknown))


# --- Values -------------------------------------------------------------------------------------


class LegacyValue(NamedTuple):
    legacy: str  # as earlier versions spelt it
    current: Tuple[str, ...]  # today's value(s); () when there is none: the value is dropped


_DEMARCHES = "Aide aux démarches administratives"
_OUTILS = "Maîtrise des outils numériques du quotidien"
_INSERTION = "Insertion professionnelle via le numérique"
_ACCES = "Accès internet et matériel informatique"
_GRATUIT_SOUS_CONDITION = "Gratuit sous condition"
_AUTONOMIE = "En autonomie"
_INDIVIDUEL = "Accompagnement individuel"
_ATELIER = "Dans un atelier collectif"
_LANGUES = ("Langues étrangères (anglais)", "Langues étrangères (autres)")

# Per current column, the values of earlier versions, readable (the doc lists these rows).
# Values of earlier versions that are still current (Surdité, France Services, Gratuit, …) need no row.
LEGACY_VALUE_TABLE: Dict[str, Tuple[LegacyValue, ...]] = {
    "services": (
        # 0.1 and the 2022-07 draft: 15 services, condensed into 9 by v1.0 (descriptif-des-evolutions).
        LegacyValue("Devenir autonome dans les démarches administratives", (_DEMARCHES,)),
        LegacyValue("Réaliser des démarches administratives avec un accompagnement", (_DEMARCHES,)),
        LegacyValue("Accompagner les démarches de santé", (_DEMARCHES,)),
        LegacyValue("Prendre en main un smartphone ou une tablette", (_OUTILS,)),
        LegacyValue("Prendre en main un ordinateur", (_OUTILS,)),
        LegacyValue("Utiliser le numérique au quotidien", (_OUTILS,)),
        LegacyValue("Approfondir ma culture numérique", ("Compréhension du monde numérique",)),
        LegacyValue("Favoriser mon insertion professionnelle", (_INSERTION,)),
        LegacyValue("Créer et développer mon entreprise", (_INSERTION,)),
        LegacyValue("Accéder à une connexion internet", (_ACCES,)),
        LegacyValue("Accéder à du matériel", (_ACCES,)),
        LegacyValue("S'équiper en matériel informatique", ("Acquisition de matériel informatique à prix solidaire",)),
        LegacyValue("Créer avec le numérique", ("Loisirs et créations numériques",)),
        LegacyValue("Soutenir la parentalité et l'éducation avec le numérique",
                    ("Parentalité et éducation avec le numérique",)),
        # No v1.0 service says it; the national map's conversion drops it too.
        LegacyValue("Promouvoir la citoyenneté numérique", ()),
        # The map's 2022-06 format.
        LegacyValue("Gagner en autonomie dans les démarches administratives", (_DEMARCHES,)),
        LegacyValue("Etre accompagné dans les démarches administratives", (_DEMARCHES,)),
    ),
    "publics_specifiquement_adresses": (
        LegacyValue("Seniors (+ 65 ans)", ("Seniors",)),
        LegacyValue("Familles/enfants", ("Familles et/ou enfants",)),
        LegacyValue("Jeunes (16-26 ans)", ("Jeunes",)),
        LegacyValue("Uniquement femmes", ("Femmes",)),
        # Every place welcomes adults: v1.0 lists only publics a place specifically addresses.
        LegacyValue("Adultes", ()),
    ),
    "prise_en_charge_specifique": (
        LegacyValue("Personnes en situation d'illettrisme", ("Illettrisme",)),
        LegacyValue("Illetrisme", ("Illettrisme",)),  # the 2024 drafts' spelling
        LegacyValue("Handicaps mentaux : déficiences limitant les activités d'une personne", ("Handicaps mentaux",)),
        # "Foreign languages" covered both of today's values.
        LegacyValue("Public langues étrangères", _LANGUES),
        LegacyValue("Langues étrangères", _LANGUES),  # 2022-06
        # v1.0 kept mental, not psychic, disability: a different need, not to be merged.
        LegacyValue("Handicaps psychiques : troubles psychiatriques donnant lieu à des atteintes comportementales", ()),
        LegacyValue("Handicaps psychiques", ()),  # 2022-06
    ),
    "frais_a_charge": (
        LegacyValue("Gratuit : Je peux accéder gratuitement au lieu et à ses services", ("Gratuit",)),
        LegacyValue(
            "Gratuit sous condition : La gratuité est conditionnée à des critères "
            "(situation familiale, convention avec un organisme social...)",
            (_GRATUIT_SOUS_CONDITION,),
        ),
        LegacyValue(
            "Gratuit sous condition : La gratuité est conditionnée à des critères "
            "(adhésion, situation familiale, convention avec un organisme social, pass numériques…)",
            (_GRATUIT_SOUS_CONDITION,),
        ),  # 1.0 draft
        LegacyValue("Payant : L'accès au lieu et/ou à ses services est payant", ("Payant",)),
        # The 1.0 draft counts membership and the Pass numérique among the conditions of free access
        # (the national map's conversion made "Adhésion" paying: see the doc).
        LegacyValue(
            "Adhésion : L'accès au lieu et/ou à ses services nécessite d'y adhérer", (_GRATUIT_SOUS_CONDITION,)
        ),
        LegacyValue("Adhésion", (_GRATUIT_SOUS_CONDITION,)),
        LegacyValue(
            "Accepte le Pass numérique : Il est possible d'utiliser un Pass numérique pour accéder au lieu",
            (_GRATUIT_SOUS_CONDITION,),
        ),
        LegacyValue("Accepte le Pass numérique", (_GRATUIT_SOUS_CONDITION,)),
    ),
    "dispositif_programmes_nationaux": (
        LegacyValue("CNFS", ("Conseillers numériques",)),
        LegacyValue("Grandes écoles du numérique", ("Grande école du numérique",)),
        LegacyValue("Point numérique CAF", ("Point d'accès numérique CAF",)),
        LegacyValue("Point relais CAF", ("Point d'accès numérique CAF",)),
        # National labels of 0.1 that v1.0 lists neither as a programme nor as a label.
        LegacyValue("APTIC", ()),
        LegacyValue("Relais pôle emploi", ()),
        LegacyValue("French Tech", ()),
        LegacyValue("Campus connecté", ()),
    ),
    "formations_labels": (
        LegacyValue("Formé à « DUPLEX » (illetrisme)", ("Formé à « DUPLEX » (illettrisme)",)),  # 1.0 draft
        LegacyValue("SUD LABS", ("SUD LABS (PACA)",)),  # the 1.0 draft's example
    ),
    "modalites_accompagnement": (
        LegacyValue("Seul : j'ai accès à du matériel et une connexion", (_AUTONOMIE,)),
        LegacyValue("Avec de l'aide : je suis accompagné seul dans l'usage du numérique", (_INDIVIDUEL,)),
        LegacyValue("Dans un atelier : j'apprends collectivement à utiliser le numérique", (_ATELIER,)),
        # Someone does the procedure for the person, one to one: the nearest v1.0 value.
        LegacyValue("A ma place : une personne habilitée fait les démarches à ma place", (_INDIVIDUEL,)),
        LegacyValue("Seul", (_AUTONOMIE,)),  # 2022-06 and 2022-07
        LegacyValue("Avec de l'aide", (_INDIVIDUEL,)),
        LegacyValue("Dans un atelier", (_ATELIER,)),
        LegacyValue("A ma place", (_INDIVIDUEL,)),
        # 1.0 draft (and the v1.0 description, which still spells them so).
        LegacyValue("Dans un atelier collectif (j'apprends collectivement à utiliser le numérique)", (_ATELIER,)),
        LegacyValue("À distance (par téléphone ou en visioconférence)", ("À distance",)),
    ),
}


@lru_cache(maxsize=16384)
def value_key(value: str) -> str:
    """Comparison key of a value: case, accents, apostrophes, punctuation and spaces do not count.

    Cached: a national export repeats the same few values thousands of times.
    """
    return normalize(value)


# Per current column: normalised legacy value -> current value(s) (() = no equivalent, dropped).
LEGACY_VALUES: Dict[str, Dict[str, Tuple[str, ...]]] = {
    field_name: {value_key(entry.legacy): entry.current for entry in entries}
    for field_name, entries in LEGACY_VALUE_TABLE.items()
}

_CURRENT_VALUES: Dict[str, Dict[str, str]] = {
    field_name: {value_key(value): value for value in values} for field_name, values in ENUMERATIONS.items()
}


def canonical_enum_value(field_name: str, value: str) -> Optional[str]:
    """Today's spelling of `value` for an enumerated field, or None if the current standard does not have it.

    Tolerates case, accents, curly apostrophes and extra spaces ("point d’acces numerique caf")."""
    return _CURRENT_VALUES[field_name].get(value_key(value))


class ItemTranslation(NamedTuple):
    field: str  # the current column the item belongs to
    values: Tuple[str, ...]  # its current value(s); () when it has none


def translate_item(fields: Sequence[str], item: str) -> Optional[ItemTranslation]:
    """Today's value(s) of one list item, in the first of `fields` whose vocabulary knows it; None if none does."""
    return _translate_item(tuple(fields), item)


@lru_cache(maxsize=16384)
def _translate_item(fields: Tuple[str, ...], item: str) -> Optional[ItemTranslation]:
    key = value_key(item)
    for field_name in fields:
        current = _CURRENT_VALUES.get(field_name, {}).get(key)
        if current is not None:
            return ItemTranslation(field_name, (current,))
        legacy = LEGACY_VALUES.get(field_name, {}).get(key)
        if legacy is not None:
            return ItemTranslation(field_name, legacy)
    return None


# --- Lists --------------------------------------------------------------------------------------


def split_items(cell: Union[str, Sequence[str], None], fields: Sequence[str] = ()) -> List[str]:
    """A list cell's items, whatever the version's separator.

    `|` (v1.0) and `;` (0.1, 1.0 draft) always separate items: no value of any version holds them.
    Commas (the 2022 formats, and hand-made files) separate items only where every piece is then a
    known value of `fields`: values such as "Gratuit sous condition : … (situation familiale,
    convention …)" hold commas themselves, and free text ("Structure d'information jeunesse, Case
    numérique") is kept whole. A JSON array is a list of cells.
    """
    if cell is None:
        return []
    if not isinstance(cell, str):
        return [item for element in cell if isinstance(element, str) for item in split_items(element, fields)]
    if not cell.strip():
        return []
    return list(_split_items(cell, tuple(fields)))


_SEPARATORS = re.compile(r"[|;]")


@lru_cache(maxsize=8192)
def _split_items(cell: str, fields: Tuple[str, ...]) -> Tuple[str, ...]:
    items: List[str] = []
    for part in _SEPARATORS.split(cell):
        part = part.strip()
        if not part:
            continue
        if "," in part and fields:
            items.extend(_split_commas(part, fields))
        else:
            items.append(part)
    return tuple(items)


def _split_commas(part: str, fields: Tuple[str, ...]) -> List[str]:
    """`part` cut at commas into known values, the longest first; whole when no such cut exists."""
    pieces = part.split(",")
    count = len(pieces)
    cuts: Dict[int, Optional[List[str]]] = {count: []}

    def from_piece(start: int) -> Optional[List[str]]:
        if start not in cuts:
            cuts[start] = None
            for end in range(count, start, -1):
                candidate = ",".join(pieces[start:end]).strip()
                if candidate and translate_item(fields, candidate) is not None:
                    rest = from_piece(end)
                    if rest is not None:
                        cuts[start] = [candidate] + rest
                        break
        return cuts[start]

    found = from_piece(0)
    return found if found is not None else [part]


@dataclass(frozen=True)
class CellTranslation:
    values: Mapping[str, Tuple[str, ...]]  # current column -> its values, in order, without repeats
    dropped: Tuple[str, ...]  # items of earlier versions that have no current equivalent
    unknown: Tuple[str, ...]  # items no version knows


def translate_cell(column: str, cell: Union[str, Sequence[str], None]) -> CellTranslation:
    """One cell of a (possibly legacy) list column, as today's values of today's column(s).

    A column outside the enumerations (courriels, autres_formations_labels…) keeps its items as they are.
    """
    targets = current_fields(column) or ()
    enumerated = tuple(name for name in targets if name in ENUMERATIONS)
    items = split_items(cell, enumerated)
    if not enumerated:
        return CellTranslation({targets[0]: tuple(items)} if targets and items else {}, (), ())
    values: Dict[str, List[str]] = {}
    dropped: List[str] = []
    unknown: List[str] = []
    for item in items:
        found = translate_item(enumerated, item)
        if found is None:
            unknown.append(item)
        elif not found.values:
            dropped.append(item)
        else:
            bucket = values.setdefault(found.field, [])
            bucket.extend(value for value in found.values if value not in bucket)
    return CellTranslation({name: tuple(kept) for name, kept in values.items()}, tuple(dropped), tuple(unknown))


# --- Coordinators' tables (docs/standard-versions.md) ---------------------------------------------

NO_EQUIVALENT = "*(aucune : valeur abandonnée)*"


def field_rows() -> List[str]:
    """Markdown rows of the renamed columns: | ancienne colonne | colonne(s) actuelle(s) |."""
    rows = [
        f"| `{legacy}` | {' ou '.join(f'`{name}`' for name in current)} |" for legacy, current in LEGACY_FIELDS.items()
    ]
    rows.extend(f"| `{legacy}` | *(ignorée : {reason})* |" for legacy, reason in IGNORED_FIELDS.items())
    return rows


def value_rows(field_name: str) -> List[str]:
    """Markdown rows of one column's legacy values: | ancienne valeur | valeur(s) actuelle(s) |."""
    return [
        f"| {entry.legacy} | {' ; '.join(entry.current) if entry.current else NO_EQUIVALENT} |"
        for entry in LEGACY_VALUE_TABLE[field_name]
    ]
