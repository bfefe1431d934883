"""Vital emergencies are answered with the right number before any triage."""

from __future__ import annotations

import time

import pytest

from bot import emergencies
from bot.emergencies import NUMBERS, RULES, VitalEmergency, detect_all, detect_emergency


def test_numbers_table():
    assert NUMBERS == {
        "medical": "15",
        "general": "112",
        "police": "17",
        "shelter": "115",
        "violence_women": "3919",
        "suicide": "3114",
        "child_danger": "119",
    }
    # every kind in the review table has a number, and every number has patterns
    assert {kind for kind, _ in RULES} == set(NUMBERS)
    assert all(patterns for _, patterns in RULES)


POSITIVES = {
    "shelter": [
        "je suis a la rue ce soir",
        "Je suis à la rue ce soir",
        "jsuis dehors cette nuit pas de logement",
        "on m'a expulsé je dors dans la voiture",
        "sans abri",
        "je sais pas ou dormir ce soir",
        "on m a expulsé de mon appartement ce matin",
        "chui a la rue",
        "jsui a la ru",
        "je dors dehors depuis 3 jours",
        "ma fille et moi on est sdf",
        "on nous a mis dehors",
        "besoin d'un hébergement d'urgence",
        "pas de logement pour ce soir",
        "on dort dans la gare avec les petits",
    ],
    "violence_women": [
        "mon mari me frappe",
        "mon conjoint me bat",
        "violences conjugales",
        "VIOLENCES CONJUGALES",
        "mon ex m'a frappée hier",
        "il me bas tout les soirs",
        "mon compagnon me menace",
        "mon mari me menace avec un couteau",  # partner is more specific than police
        "je subis des violances conjugal",
        "mon mec me frape",
        "mon mari est violent",
        "je suis victime de violence",
    ],
    "suicide": [
        "je veux mourir",
        "j'ai envie d'en finir",
        "je vais me suicider",
        "jveux plus vivre",
        "g envi de mourir",
        "je vais me sucider",
        "jai plus envie de vivre",
        "envie d'en finir avec la vie",
        "je pense a me tuer",
        "je pense au suicide",
        "j'ai des idées noires",
        "je voudrais mourir, la caf m'a tout coupé",
        "je ve mourir",
    ],
    "medical": [
        "il fait un malaise il respire plus",
        "crise cardiaque",
        "overdose",
        "c'est une urgence vitale",
        "mon pere fait un avc",
        "elle a perdu connaissance",
        "il a avalé toute une boite de medicaments",
        "mon bébé s'étouffe",
        "il respire pas",
        "ma mere fait un malaize",
        "il ne se reveille plus",
        "j'ai une douleur dans la poitrine",
        "il a fait une tentative de suicide",  # attempt in progress: SAMU before the prevention line
    ],
    "police": [
        "quelqu'un essaie d'entrer chez moi",
        "on me menace avec un couteau",
        "qqn essaye d entrer chez moi",
        "je suis en danger",
        "il a une arme",
        "des hommes forcent ma porte",
        "on me menace de mort",
        "je me suis fait agresser",
    ],
    "child_danger": [
        "mon voisin bat son enfant",
        "enfant en danger",
        "mes enfants sont en danger",
        "mon mari frappe mes enfants",  # child victim is more specific than partner violence
        "le voisin maltraite sa fille",
        "mon pere me frappe",
        "mon fils est en danger de mort",
    ],
    "general": [
        "accident grave sur la route",
        "il y a le feu dans la cuisine",
        "fuite de gaz dans l'immeuble",
        "appelez les pompiers",
    ],
}

CASES = [(text, kind) for kind, texts in POSITIVES.items() for text in texts]


@pytest.mark.parametrize("text, kind", CASES)
def test_vital_emergencies_get_the_right_number(text, kind):
    found = detect_emergency(text)
    assert found == VitalEmergency(kind, NUMBERS[kind])


@pytest.mark.parametrize(
    "text",
    [
        "j'habite 12 rue de la paix",
        "je suis a la rue de la paix devant la caf",
        "ma carte vitale",
        "je n'ai pas reçu ma carte vitale",
        "je dois faire une declaration urgente",
        "mon fils est en danger de perdre son apl",  # a right at risk, not the child: triage handles it
        "c'est urgent la caf va couper le rsa",
        "je vais mourir de rire",
        "les impots me tuent",  # figurative: no 3114 for tax jokes
        "ça me tue ces démarches",
        "j'ai été expulsé de pole emploi",  # struck off: administrative
        "je vais etre expulse de mon logement en mars",  # future eviction: social worker, not 115 tonight
        "mot de passe urgent",
        "je veux apprendre a faire des visios",
        "la conseillère qui me suit à france travail",
        "il y a une faute de frappe ma fille a un accent",
        "la caf abuse mes enfants ont faim",
        "ma demande ne bouge plus",
        "mes factures ont explosé",
        "j'ai un accident du travail a declarer",
        "je suis dehors devant la caf",
        "je veux en finir avec ce dossier",
        "ma compagnie d'assurance me relance",
        "j'ai tapé le numéro de mon fils",
        "je me bats pour mes enfants",
        "en bas les enfants jouent",
        "je vais avc ma fille à la caf",
        "j'habite au 115 rue nationale",
        "c'est inconscient de la part de la caf",
        "le dossier de ma fille est bloqué",
        "je ne sais pas me servir d'internet",
        "je veux refaire ma carte d'identité volée",
        "on m'a coupé l'électricité",
        "urgence : ma prime d'activité est suspendue",
        "le logement social c'est pour quand",
        "mon fils de 17 ans doit s'inscrire à pole emploi",
        "il me tape sur les nerfs avec ses papiers",
        "je dois declarer un incendie a mon assurance",
        "",
    ],
)
def test_ordinary_messages_do_not_trigger(text):
    assert detect_emergency(text) is None


def test_detect_all_lists_every_kind_most_specific_first():
    found = detect_all("mon mari me frappe, je suis a la rue ce soir et je veux mourir")
    assert [e.kind for e in found] == ["violence_women", "suicide", "shelter"]
    assert detect_emergency("mon mari me frappe, je suis a la rue ce soir") == VitalEmergency("violence_women", "3919")


def test_result_is_frozen():
    found = detect_emergency("je veux mourir")
    with pytest.raises(Exception):
        found.number = "0"  # type: ignore[union-attr,misc]


def test_long_message_with_emergency_at_the_end_still_triggers():
    text = "j'ai un souci avec mon dossier caf. " * 300 + "et ce soir je dors dehors"
    assert detect_emergency(text) == VitalEmergency("shelter", "115")


def test_typo_correction_does_not_turn_ordinary_words_into_alarms():
    assert emergencies._correct("compagnie") == "compagnie"
    assert emergencies._correct("menage") == "menage"
    assert emergencies._correct("violances") == "violences"
    assert emergencies._correct("sucider") == "suicider"


@pytest.mark.parametrize(
    "text",
    [
        None,
        12,
        b"je veux mourir",
        "\x00\x01\u202e",
        "🙂" * 3000,
        "a" * 10000,
        "je veux mourir " * 700,
        "en danger de " * 800,
        "avale " * 2000,
        "sucider violances " * 600,
        "".join(chr(i) for i in range(0, 3000)),
    ],
)
def test_never_raises_and_stays_fast(text):
    start = time.perf_counter()
    found = detect_emergency(text)
    assert found is None or found.number == NUMBERS[found.kind]
    assert time.perf_counter() - start < 3.0


def test_bytes_are_decoded():
    assert detect_emergency(b"je veux mourir") == VitalEmergency("suicide", "3114")
