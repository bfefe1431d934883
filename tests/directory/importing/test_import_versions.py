"""Import of files in earlier versions of the standard (bot/directory/importing/standard_versions.py through
bot/directory/importing/mapping.py): columns renamed, vocabularies translated, separators, the summary."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from bot.directory.importing.importer import import_places
from tests.directory.stored import places

DATA = Path(__file__).resolve().parents[2] / "data"
LEGACY = DATA / "legacy"




def legacy_row(**overrides):
    """The standard's own v0.1.1 example row, with `overrides`."""
    with open(LEGACY / "exemple-valide-0.1.1.csv", encoding="utf-8", newline="") as source:
        row = next(csv.DictReader(source))
    row.update(overrides)
    return row


def to_csv(rows, delimiter=";"):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=delimiter, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def test_the_0_1_example_is_read_in_the_current_version(factory):
    report = import_places(factory, LEGACY / "exemple-valide-0.1.1.csv")
    assert report.errors == [] and report.created == 1
    place = places(factory)["structure-1"]
    assert place.courriels_list == ["contact@laquincaillerie.tl"]
    assert place.site_web == "https://www.laquincaillerie.tl/|https://m.facebook.com/laquincaillerienumerique/"
    assert place.typologie == "TIERS_LIEUX|ASSO"
    assert place.services_list == ["Aide aux démarches administratives", "Maîtrise des outils numériques du quotidien"]
    assert place.publics_specifiquement_adresses == "Familles et/ou enfants"
    assert place.prise_en_charge_list == ["Déficience visuelle"]
    assert place.frais_a_charge == "Payant|Gratuit sous condition"
    assert place.dispositifs_list == ["France Services", "Point d'accès numérique CAF"]
    assert place.modalites_accompagnement_list == ["En autonomie", "Accompagnement individuel"]
    assert place.fiche_acces_libre.startswith("https://acceslibre.beta.gouv.fr/")
    assert place.autres_formations_labels == "SudLabs;Nièvre médiation numérique"

    lines = report.summary_lines()
    assert any(line.startswith("Version du standard reconnue : 0.1, standard v0.1") for line in lines)
    assert "Colonnes supprimées du standard, ignorées : cle_ban." in lines
    legacy = next(line for line in lines if line.startswith("Colonnes d'une version antérieure"))
    assert "courriel" in legacy and "labels_nationaux" in legacy and "publics_accueillis" in legacy
    # Values the standard abandoned are dropped and counted per value; the place is kept.
    assert report.warning_counts == {"valeur_abandonnee": 2, "position_commune": 1}
    # The example's coordinates (43.52609, 5.41423) are near Aix-en-Provence, not in Reims: the commune's are used.
    assert place.position_approx is True and place.latitude == pytest.approx(49.25, abs=0.1)
    assert "    labels_nationaux « APTIC » : 1 lieu(x)" in lines
    assert "    publics_accueillis « Adultes » : 1 lieu(x)" in lines


def test_the_values_the_issue_saw_rejected_are_translated(factory):
    row = legacy_row(
        id="issue-14",
        labels_nationaux="CNFS;France Services",
        services="Devenir autonome dans les démarches administratives;Prendre en main un smartphone ou une tablette",
        modalites_accompagnement="Dans un atelier : j'apprends collectivement à utiliser le numérique",
    )
    report = import_places(factory, io.StringIO(to_csv([row])))
    assert report.errors == [] and report.created == 1
    place = places(factory)["issue-14"]
    assert place.dispositifs_list == ["Conseillers numériques", "France Services"]
    assert place.services_list == ["Aide aux démarches administratives", "Maîtrise des outils numériques du quotidien"]
    assert place.modalites_accompagnement_list == ["Dans un atelier collectif"]


@pytest.mark.parametrize("name, count", [("2023-05-hub-du-sud-v0.1.json", 25), ("2023-07-charente-v0.1.json", 20),
                                         ("2024-09-hub-du-sud-mixed.json", 10)])
def test_regional_exports_of_v0_1_are_imported_whole(factory, name, count):
    report = import_places(factory, LEGACY / name)
    assert report.errors == [] and report.created == count
    # Besides the abandoned values, only what the commune reference completes (missing INSEE codes,
    # positions of places without coordinates).
    assert set(report.warning_counts) <= {"valeur_abandonnee", "code_insee_deduit", "position_commune"}


def test_a_charente_place_keeps_its_programmes_and_services(factory):
    import_places(factory, LEGACY / "2023-07-charente-v0.1.json")
    place = places(factory)["mediation-numerique-conseiller-numerique-63d29db4e6d6a806f256459a-mediation-numerique"]
    assert place.dispositifs_list == ["Conseillers numériques", "France Services"]
    assert place.services_list == ["Maîtrise des outils numériques du quotidien", "Compréhension du monde numérique"]
    assert place.frais_a_charge == "Gratuit"
    assert place.modalites_accompagnement_list == ["Accompagnement individuel"]


def test_a_json_place_may_have_fields_the_first_one_left_out(factory):
    first = {"id": "a", "pivot": "00000000000000", "nom": "Lieu A", "commune": "Rennes", "code_postal": "35000",
             "adresse": "1 rue A", "date_maj": "2023-01-01", "services": "Prendre en main un ordinateur"}
    second = dict(first, id="b", nom="Lieu B", courriel="b@example.org", labels_nationaux="CNFS")
    report = import_places(factory, io.StringIO(json.dumps([first, second])))
    assert report.created == 2
    stored = places(factory)
    assert stored["b"].courriels_list == ["b@example.org"]
    assert stored["b"].dispositifs_list == ["Conseillers numériques"]
    legacy = next(line for line in report.summary_lines() if line.startswith("Colonnes d'une version antérieure"))
    assert "courriel" in legacy and "labels_nationaux" in legacy


def test_columns_no_version_knows_are_named_in_the_summary(factory):
    row = legacy_row(id="x")
    row["Référent interne"] = "Mme Martin"
    report = import_places(factory, io.StringIO(to_csv([row])))
    assert report.created == 1
    assert "Colonnes inconnues du standard, ignorées : référent interne." in report.summary_lines()
