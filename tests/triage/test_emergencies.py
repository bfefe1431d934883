"""Vital emergencies are answered with the right number before any triage."""

from __future__ import annotations

import time

import pytest

from bot.triage import emergencies
from bot.triage.emergencies import NUMBERS, RULES, VitalEmergency, detect_all, detect_emergency


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


# Families of everyday phrasings (SMS spelling, missing accents, typos), one kind per family.
FAMILIES = {
    "suicide": [
        # never wake up, sleep forever
        "je veux plus me reveiller",
        "jveu pu me reveiller",
        "j'aimerais m'endormir et ne jamais me réveiller",
        "jvoudrai dormir pr toujours",
        # disappear, no strength left, life has no meaning
        "j'ai envie de disparaître",
        "je veux disparaître de ce monde",
        "g plu la force de continuer",
        "je n'ai plus le courage de continuer à vivre",
        "ma vie n'a plus de sens",
        "je veux tout arreter jen peux plus de cette vie",
        # plans and means
        "jvais sauter du balcon",
        "je vais me jeter du pont",
        "je vais mettre fin à mes jours ce soir",
        "jvais me foutre en l'air",
        "j'ai mis de côté des cachets",
        "j'ai écrit ma lettre d'adieu",
        # nobody would care
        "personne ne me regretterait",
        "tout le monde serait mieux sans moi",
        "je préfère crever",
        # reported by a relative or a mediator
        "Monsieur dit qu'il va mettre fin à ses jours",
        "ma soeur veut se suicider",
    ],
    "child_danger": [
        "le bébé des voisins est seul depuis deux jours",
        "les petits du 3eme sont tout seuls depuis hier",
        "un bebe tout seul dans la voiture",
        "j'entends l'enfant du voisin hurler toutes les nuits",
        "l'enfant d'en face crie et pleure, on entend des coups",
        "le voisin tabasse son fils",
        "l'ado d'en face se fait frapper par son père",
        "mon petit se fait battre par son pere",
        "ma fille de 12 ans a ete agressee",
        "ses gosses mangent pas depuis 3 jours",
        "le petit n'est pas nourri",
        "ils enferment leur fils dans la cave",
        "l'enfant est enfermé dans sa chambre",
        "il touche ma fille",
        "mon oncle touche ma niece",
        "ma fille de 15 ans a fugué",
        "mon fils de 14 ans a disparu",
        "ma fille a des bleus partout",  # a child's bruises: 119 before 3919
    ],
    "police": [
        "il y a un homme avec un couteau devant ma porte",
        "un type avec une arme dans la cage d'escalier",
        "des jeunes avec des battes dans le hall",
        "un gars armé devant chez moi",
        "il est devant ma porte avec un fusil",
        "on veut me tuer aidez moi",
        "il menace de me tuer",
        "qqn me suit",
        "un mec me suit depuis le metro",
        "je suis suivie par un homme",
        "il y a des cambrioleurs chez moi je me suis cachée",
        "des cambrioleurs sont dans la maison",
        "il me harcèle et il est en bas de chez moi",
        "un homme m'a frappée et je saigne",  # a stranger: police, not the partner line
        "ma voisine crie au secours",
        "appelez la police vite",
    ],
    "violence_women": [
        "mon copain me tape",
        "mon copain ma tapé",
        "il ma frappé",
        "mon mari m'a encore frappée hier soir",
        "il m'étrangle",
        "mon copain m'a serré le cou",
        "mon ex me menace",
        "mon ex me harcèle",
        "j'ai peur de rentrer chez moi",
        "jai peur de rentrer a la maison",
        "j'ai peur de mon mari",
        "il m'enferme à la maison",
        "mon conjoint m'a enfermée dans la chambre",
        "j'ai des bleus partout",
        "mon mari m'a mis une claque",
        "il me met des coups",
        "aidez moi il va me frapper",
    ],
    "shelter": [
        "je dors dehors",
        "jdor dehor ce soir",
        "pas de toit ce soir",
        "ce soir j'ai pas de toit",
        "je vais dormir dans la rue",
        "mis à la porte ce soir",
        "ma mere m'a mis a la porte",
        "on m'a foutu à la porte de chez moi",
        "on m'a viré de chez moi ce soir",
        "on m'a viré du foyer",
        "je sais pas où dormir",
        "jsp ou dormir",
        "je suis SDF",
        "je dors dans ma voiture avec mes enfants",
        "je n ai nul part ou aller",
        "le 115 repond pas je suis dehors avec un bebe",
    ],
    "medical": [
        "il ne respire plus",
        "ma mere ne respire presque plus",
        "mon père est inconscient",
        "ma mère est inconsciente",
        "il fait une crise",
        "mon fils fait une crise il tremble",
        "mon mari a fait une crise d'asthme",
        "elle saigne beaucoup",
        "elle saigne bcp",
        "il est tombé il saigne de la tête",
        "je suis enceinte et je saigne",
        "je crois qu'il fait un AVC",
        "mon bebe convulse",
        "mon bébé a de la fièvre et il est tout mou",
        "il a avalé des médicaments",
        "il a avalé 30 cachets",
        "j'ai pris des medicaments pour mourir",  # an attempt already made: 15 before 3114
        "mon fils a bu de la javel",
        "douleur a la poitrine",
        "il s'est évanoui dans le bus",
        "ma grand mere est tombée elle bouge plus",
        "il faut une ambulance vite",
    ],
    "general": [
        "au secours",
        "Au secours !!! vite",
    ],
}

FAMILY_CASES = [(text, kind) for kind, texts in FAMILIES.items() for text in texts]


@pytest.mark.parametrize("text, kind", FAMILY_CASES)
def test_everyday_phrasings_of_vital_emergencies(text, kind):
    assert detect_emergency(text) == VitalEmergency(kind, NUMBERS[kind])


# The same words used figuratively, administratively or about something else: no emergency number.
LOOKALIKES = [
    # "dead", "kill", "die" about things or procedures
    "mon dossier est mort",
    "mon portable est mort",
    "ma box est morte",
    "je meurs de faim",
    "je meurs de froid dans ce bureau",
    "la caf me tue",
    "la caf me tue avec ses courriers",
    "le site plante, on veut me tuer avec ces papiers",
    "je vais me tuer a la tache pour ce dossier",
    "il veut se tuer au travail avec tous ces papiers",
    # suicide look-alikes
    "je veux disparaître des fichiers de la caf",
    "je veux tout arrêter mes prélèvements",
    "je veux tout arrêter avec free",
    "je vais sauter une étape",
    "je vais sauter le pas et créer mon compte",
    "jvais sauter le repas de midi",
    "j'ai plus la force de continuer ces démarches",
    "plus la force de continuer a remplir ces papiers",
    "personne ne me répond à la caf",
    "j'ai préparé mes papiers pour le rendez-vous",
    "j'ai préparé mes médicaments pour la semaine",
    "je veux plus me réveiller à 5h pour rien",
    "je veux m'endormir tôt ce soir",
    "je veux arrêter de fumer",
    # child look-alikes
    "mon enfant est en danger de redoubler",
    "ma fille doit dormir chez sa grand-mère",
    "mon fils doit dormir chez son père samedi",
    "mon enfant ne mange pas à la cantine il faut payer",
    "ma fille a touché la prime d'activité",
    "il a touché le rsa le mois dernier",
    "mon fils a disparu des écrans de la caf",
    "mes enfants ont disparu de ma déclaration",
    "l'enfant est seul responsable du compte",
    "mon fils vit seul depuis 2 jours dans son nouvel appartement",
    "mon enfant crie quand on va à la caf",
    "j'ai des bleus de travail à acheter",
    # threat look-alikes
    "coupez les oignons avec un couteau",
    "j'ai acheté un couteau de cuisine en ligne",
    "il y a un couteau dans le tiroir",
    "il y a un pistolet a colle",
    "un homme avec un dossier à la main",
    "le conseiller me suit depuis 2 ans",
    "je suis suivie par une assistante sociale",
    "ma conseillère me suit pour mon projet",
    "il est en bas de chez moi pour récupérer un colis",
    "au secours je comprends rien a ce site",
    # partner look-alikes
    "mon ex ne paie pas la pension",
    "mon copain m'a donné un coup de main",
    "il me donne un coup de main pour les papiers",
    "j'ai peur de rentrer mes revenus sur le site",
    "j'ai peur de me tromper",
    # shelter look-alikes
    "on m'a mis à la porte de pôle emploi",
    "j'ai été mis à la porte par mon patron",
    "je dors chez ma soeur en attendant",
    "je dors dans ma chambre",
    # medical look-alikes
    "il a fait une crise de colère au guichet",
    "le monsieur a fait une crise de nerfs à l'accueil",
    "je fais une crise d'angoisse avec ces papiers",
    "mon pere fait une crise de foie",
    "le site est tombé il ne répond plus",
    "la conseillere ne repond plus",
    "je prends mes médicaments le matin",
    "elle a avalé ses médicaments ce matin",
    "ma fille a pris des médocs",  # a daily dose as far as we can tell: no quantity, no purpose
    "c'est vraiment inconscient de la part de la caf",
]


@pytest.mark.parametrize("text", LOOKALIKES)
def test_figurative_and_administrative_lookalikes_do_not_trigger(text):
    assert detect_emergency(text) is None


def test_an_explicit_call_for_police_is_kept_next_to_the_partner_line():
    # "il est violent" is read as the partner (3919 first), the police request stays in detect_all
    assert [e.kind for e in detect_all("la police vite il est violent")] == ["violence_women", "police"]


def test_a_past_burglary_told_for_a_procedure_is_ordinary_triage():
    # the intruder is gone: this is a complaint and an ID card to redo, not a call to 17
    assert detect_emergency("quelqu'un est entré chez moi et a volé mes papiers, je dois refaire ma carte") is None
    assert detect_emergency("quelqu'un est entré chez moi, il est encore là") == VitalEmergency("police", "17")


@pytest.mark.parametrize(
    "text",
    [
        "enfant hurle " * 2000,
        "entend enfant " * 2000,
        "il est tombe " * 2000,
        "a la porte de " * 2000,
        "tout arreter " * 2000,
        "fille de 3 ans " * 1500,
        "plus la force de continuer " * 1000,
    ],
)
def test_new_patterns_stay_fast_on_hostile_input(text):
    start = time.perf_counter()
    detect_emergency(text)
    assert time.perf_counter() - start < 3.0
