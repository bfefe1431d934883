"""Earlier versions of the standard: version detection, legacy columns and values, list separators.

Reads only tests/data (legacy/ and standard/): real exports and the standard's own files, whose
sources are in tests/data/legacy/README.md.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from bot.directory.importing.standard_versions import (
    CURRENT_VERSION,
    IGNORED_FIELDS,
    LEGACY_FIELDS,
    LEGACY_VALUE_TABLE,
    LEGACY_VALUES,
    VERSIONS,
    column_key,
    current_fields,
    detect_version,
    field_rows,
    split_items,
    translate_cell,
    translate_item,
    value_key,
    value_rows,
)
from bot.directory.models import ENUMERATIONS, STANDARD_FIELDS

DATA = Path(__file__).resolve().parents[2] / "data"
LEGACY_DIR = DATA / "legacy"
CURRENT_EXAMPLE = DATA / "standard" / "exemple-valide.csv"
DOC = Path(__file__).resolve().parents[3] / "docs" / "standard-versions.md"

# Each fixture, and the version its header follows.
FIXTURES = {
    "2022-06-cartographie-draft.json": "2022-06",
    "2022-07-conseillers-numeriques-draft.json": "2022-07",
    "2023-05-hub-du-sud-v0.1.json": "0.1",
    "2023-07-charente-v0.1.json": "0.1",
    "2024-03-nouvelle-caledonie-v0.1.json": "0.1",
    "2024-09-hub-du-sud-mixed.json": "1.0",
    "exemple-valide-0.1.1.csv": "0.1",
    "exemple-valide-1.0-draft.csv": "1.0-draft",
}
SCHEMAS = ("schema-2022-07-draft.json", "schema-0.1.json", "schema-1.0-draft.json")
LIST_PATTERN = r"\(\?:\(\?:\^\|(?:;|\\\|)\)\((.*)\)\)\+\$"  # the schemas' lists: (?:(?:^|;)(A|B))+$


def read_rows(path: Path):
    """(header, rows) of a fixture: a CSV file, or a JSON array (its header: the keys, in order of appearance)."""
    if path.suffix == ".json":
        rows = json.loads(path.read_text(encoding="utf-8"))
        return list(dict.fromkeys(key for row in rows for key in row)), rows
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        return list(reader.fieldnames or ()), rows


def fixture_path(name: str) -> Path:
    return LEGACY_DIR / name


def enumerated_cells(rows):
    """(column, cell) of every list column that feeds an enumeration."""
    for row in rows:
        for column, cell in row.items():
            targets = current_fields(column) or ()
            if any(name in ENUMERATIONS for name in targets) and cell:
                yield column, cell


def schema_enumerations(text: str):
    """Column -> its values, from an `enum` or a `(?:(?:^|;)(A|B))+$` pattern; lenient (2022-07's JSON is invalid)."""
    found = {}
    for match in re.finditer(r'"name"\s*:\s*"(?P<name>[^"]+)"(?P<body>.*?)(?="name"\s*:|\Z)', text, re.S):
        body, values = match.group("body"), None
        enum = re.search(r'"enum"\s*:\s*\[(.*?)\]', body, re.S)
        if enum:
            values = [json.loads(f'"{item}"') for item in re.findall(r'"((?:[^"\\]|\\.)*)"', enum.group(1))]
        pattern = re.search(r'"pattern"\s*:\s*"((?:[^"\\]|\\.)*)"', body)
        if values is None and pattern:
            alternatives = re.fullmatch(LIST_PATTERN, json.loads(f'"{pattern.group(1)}"'))
            if alternatives:
                values = [re.sub(r"\\(.)", r"\1", item) for item in re.split(r"(?<!\\)\|", alternatives.group(1))]
        if values:
            found[match.group("name")] = values
    return found


# --- Versions -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name, label", sorted(FIXTURES.items()))
def test_each_fixture_header_is_recognised(name, label):
    header, _ = read_rows(fixture_path(name))
    detected = detect_version(header)
    assert detected.label == label
    assert detected.unknown == ()
    assert detected.is_legacy


def test_the_current_example_is_current():
    header, _ = read_rows(CURRENT_EXAMPLE)
    detected = detect_version(header)
    assert detected.version is CURRENT_VERSION and not detected.is_legacy
    assert detected.columns == {name: (name,) for name in STANDARD_FIELDS}


def test_0_1_example_maps_every_column():
    header, _ = read_rows(fixture_path("exemple-valide-0.1.1.csv"))
    detected = detect_version(header)
    assert detected.ignored == ("cle_ban",)
    assert detected.columns["courriel"] == ("courriels",)
    assert detected.columns["accessibilite"] == ("fiche_acces_libre",)
    assert detected.columns["publics_accueillis"] == ("publics_specifiquement_adresses", "prise_en_charge_specifique")
    assert set(detected.legacy_columns) == {
        "courriel", "publics_accueillis", "conditions_acces", "labels_nationaux", "labels_autres", "accessibilite"
    }


def test_a_mixed_file_is_read_whole():
    """The map's 2024 partial conversion: v1.0 columns beside 0.1 ones."""
    header, _ = read_rows(fixture_path("2024-09-hub-du-sud-mixed.json"))
    detected = detect_version(header)
    assert detected.label == "1.0"
    assert set(detected.legacy_columns) == {"labels_nationaux", "publics_accueillis"}
    assert detected.columns["frais_a_charge"] == ("frais_a_charge",)


@pytest.mark.parametrize("version", VERSIONS, ids=lambda version: version.label)
def test_each_version_own_header_is_detected_as_itself(version):
    assert detect_version(version.fields).version is version
    assert detect_version([name.upper() for name in reversed(version.fields)]).version is version


@pytest.mark.parametrize("version", VERSIONS, ids=lambda version: version.label)
def test_every_column_of_every_version_is_mapped_or_ignored(version):
    for name in version.fields:
        assert current_fields(name) is not None, name


def test_header_spellings():
    assert current_fields("\ufeffid") == ("id",)
    assert current_fields(' "Itinerance"') == ("itinerance",)
    assert current_fields("Modalités_accompagnement") == ("modalites_accompagnement",)
    assert current_fields("cle_ban") == ()
    assert current_fields("colonne_perso") is None
    assert column_key("Code Postal") == "code_postal"


def test_unknown_and_empty_columns():
    detected = detect_version(["id", "nom", "commune", "colonne_perso", ""])
    assert detected.label == "1.0" and detected.unknown == ("colonne_perso",)
    assert detect_version([]).version is CURRENT_VERSION


# --- Columns and values -------------------------------------------------------------------------


def test_legacy_fields_point_to_current_fields():
    for legacy, targets in LEGACY_FIELDS.items():
        assert legacy not in STANDARD_FIELDS and targets
        assert all(name in STANDARD_FIELDS for name in targets), legacy
        assert column_key(legacy) == legacy
        # a split column's values are sorted by vocabulary: every target but a single one is enumerated
        assert len(targets) == 1 or all(name in ENUMERATIONS for name in targets), legacy
    assert not set(IGNORED_FIELDS) & (set(LEGACY_FIELDS) | set(STANDARD_FIELDS))


def test_legacy_values_map_to_values_of_the_standard():
    assert set(LEGACY_VALUES) <= set(ENUMERATIONS)
    for field_name, table in LEGACY_VALUES.items():
        current_keys = {value_key(value) for value in ENUMERATIONS[field_name]}
        assert len(table) == len(LEGACY_VALUE_TABLE[field_name]), f"{field_name}: two rows normalise alike"
        for key, values in table.items():
            assert key == value_key(key)
            assert key not in current_keys, f"{field_name}: {key!r} is a current value"
            assert all(value in ENUMERATIONS[field_name] for value in values), (field_name, key, values)
            assert len(set(values)) == len(values)


def test_some_legacy_values_have_no_equivalent():
    """Dropped on purpose, and said so (docs/standard-versions.md)."""
    assert LEGACY_VALUES["services"][value_key("Promouvoir la citoyenneté numérique")] == ()
    assert LEGACY_VALUES["publics_specifiquement_adresses"][value_key("Adultes")] == ()
    assert LEGACY_VALUES["dispositif_programmes_nationaux"][value_key("APTIC")] == ()


def test_one_legacy_value_may_become_two():
    assert LEGACY_VALUES["prise_en_charge_specifique"][value_key("Public langues étrangères")] == (
        "Langues étrangères (anglais)", "Langues étrangères (autres)"
    )


@pytest.mark.parametrize("name", SCHEMAS)
def test_every_value_an_earlier_schema_enumerates_is_known(name):
    enumerations = schema_enumerations((LEGACY_DIR / "schemas" / name).read_text(encoding="utf-8"))
    assert len(enumerations) >= 5
    for column, values in enumerations.items():
        targets = current_fields(column)
        assert targets, column
        for value in values:
            assert translate_item(targets, value) is not None, (name, column, value)


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_every_list_value_of_every_fixture_is_known(name):
    _, rows = read_rows(fixture_path(name))
    cells = list(enumerated_cells(rows))
    assert cells
    for column, cell in cells:
        translation = translate_cell(column, cell)
        assert translation.unknown == (), (column, cell)
        for field_name, values in translation.values.items():
            assert all(value in ENUMERATIONS[field_name] for value in values)


def test_current_values_are_kept_whatever_their_spelling():
    assert translate_item(["services"], "aide aux demarches administratives") == (
        "services", ("Aide aux démarches administratives",)
    )
    assert translate_item(["dispositif_programmes_nationaux"], "Point d’acces numerique CAF").values == (
        "Point d'accès numérique CAF",
    )
    assert translate_item(["services"], "Réparer mon vélo") is None


# --- Cells --------------------------------------------------------------------------------------


def test_a_split_column_spreads_its_values():
    cell = "Seniors (+ 65 ans);Adultes;Surdité;Public langues étrangères;Uniquement femmes"
    translation = translate_cell("publics_accueillis", cell)
    assert translation.values == {
        "publics_specifiquement_adresses": ("Seniors", "Femmes"),
        "prise_en_charge_specifique": ("Surdité", "Langues étrangères (anglais)", "Langues étrangères (autres)"),
    }
    assert translation.dropped == ("Adultes",) and translation.unknown == ()


def test_labels_nationaux_become_programmes_and_labels():
    translation = translate_cell("labels_nationaux", "CNFS;France Services;Fabriques de Territoire;APTIC;Label maison")
    assert translation.values == {
        "dispositif_programmes_nationaux": ("Conseillers numériques", "France Services"),
        "formations_labels": ("Fabriques de Territoire",),
    }
    assert translation.dropped == ("APTIC",) and translation.unknown == ("Label maison",)


def test_modalites_access_is_read_by_its_values():
    """Free or paying in the map's 2022 format; access steps when it misspells today's modalites_acces."""
    assert translate_cell("modalites_access", "Payant, Gratuit").values == {"frais_a_charge": ("Payant", "Gratuit")}
    assert translate_cell("modalites_access", "Se présenter|Téléphoner").values == {
        "modalites_acces": ("Se présenter", "Téléphoner")
    }


def test_the_issue_values_are_translated():
    assert translate_cell("dispositif_programmes_nationaux", "CNFS;France Services").values == {
        "dispositif_programmes_nationaux": ("Conseillers numériques", "France Services")
    }
    services = "Devenir autonome dans les démarches administratives;Prendre en main un smartphone ou une tablette"
    assert translate_cell("services", services).values == {
        "services": ("Aide aux démarches administratives", "Maîtrise des outils numériques du quotidien")
    }
    modality = "Dans un atelier : j'apprends collectivement à utiliser le numérique"
    assert translate_cell("modalites_accompagnement", modality).values == {
        "modalites_accompagnement": ("Dans un atelier collectif",)
    }


def test_values_are_not_repeated():
    cell = "Prendre en main un ordinateur;Utiliser le numérique au quotidien;maitrise des outils numeriques"
    cell += " du quotidien"
    assert translate_cell("services", cell).values == {"services": ("Maîtrise des outils numériques du quotidien",)}


def test_free_text_columns_keep_their_items():
    assert translate_cell("labels_autres", "ZRR;Case numérique").values == {
        "autres_formations_labels": ("ZRR", "Case numérique")
    }
    assert translate_cell("courriel", "").values == {}


# --- Separators ---------------------------------------------------------------------------------

PUBLICS = ("publics_specifiquement_adresses", "prise_en_charge_specifique")
FRAIS = ("frais_a_charge",)
CONDITION_2022 = (
    "Gratuit sous condition : La gratuité est conditionnée à des critères "
    "(situation familiale, convention avec un organisme social...)"
)
CONDITION_2024 = (
    "Gratuit sous condition : La gratuité est conditionnée à des critères "
    "(adhésion, situation familiale, convention avec un organisme social, pass numériques…)"
)


@pytest.mark.parametrize(
    "cell, fields, items",
    [
        ("Jeunes|Femmes", PUBLICS, ["Jeunes", "Femmes"]),
        ("Jeunes (16-26 ans);Familles/enfants", PUBLICS, ["Jeunes (16-26 ans)", "Familles/enfants"]),
        (" Jeunes | ; Femmes ;", PUBLICS, ["Jeunes", "Femmes"]),
        ("Familles et/ou enfants", PUBLICS, ["Familles et/ou enfants"]),
        ("Illetrisme, Langues étrangères (anglais)", PUBLICS, ["Illetrisme", "Langues étrangères (anglais)"]),
        ("Adultes,Jeunes (16-26 ans)", PUBLICS, ["Adultes", "Jeunes (16-26 ans)"]),
        ("Seul, Avec de l'aide", ("modalites_accompagnement",), ["Seul", "Avec de l'aide"]),
        # a value that holds commas stays whole, alone or beside others
        (CONDITION_2022, FRAIS, [CONDITION_2022]),
        (f"Payant, {CONDITION_2024}", FRAIS, ["Payant", CONDITION_2024]),
        (f"Payant;{CONDITION_2024}", FRAIS, ["Payant", CONDITION_2024]),
        # a piece no version knows: the whole part is kept, for the importer to report it
        ("Gratuit, sur rendez-vous", FRAIS, ["Gratuit, sur rendez-vous"]),
        # free text: no vocabulary, no comma split
        ("Structure d'information jeunesse, Case numérique", (), ["Structure d'information jeunesse, Case numérique"]),
        ("ZRR;Case numérique", (), ["ZRR", "Case numérique"]),
        ("", PUBLICS, []),
        ("  ", PUBLICS, []),
        (None, PUBLICS, []),
        (["Jeunes", "Femmes;Seniors"], PUBLICS, ["Jeunes", "Femmes", "Seniors"]),
    ],
)
def test_split_items(cell, fields, items):
    assert split_items(cell, fields) == items


def test_a_long_service_with_a_comma_is_not_cut():
    """The 2022-07 draft's example joins short and long services with ", "."""
    cell = (
        "Gagner en autonomie dans les démarches administratives, Etre accompagné dans les démarches administratives, "
        "Prendre en main un smartphone ou une tablette, Créer et développer mon entreprise"
    )
    assert len(split_items(cell, ("services",))) == 4


# --- The coordinators' document -----------------------------------------------------------------


def test_the_document_lists_every_row():
    text = DOC.read_text(encoding="utf-8")
    rows = field_rows() + [row for field_name in LEGACY_VALUE_TABLE for row in value_rows(field_name)]
    missing = [row for row in rows if row not in text]
    assert not missing, "docs/standard-versions.md lacks:\n" + "\n".join(missing)
    for version in VERSIONS:
        assert f"`{version.label}`" in text, version.label


def test_every_legacy_value_has_a_row():
    for field_name, table in LEGACY_VALUES.items():
        rows = value_rows(field_name)
        assert len(rows) == len(table)
        for entry in LEGACY_VALUE_TABLE[field_name]:
            assert any(row.startswith(f"| {entry.legacy} |") for row in rows)
