"""The safety screen: a person in danger is never missed, whatever words they use."""

from __future__ import annotations

from collections import Counter

import pytest

from bot.core.settings import PROJECT_ROOT
from bot.core.yaml_files import read_yaml
from bot.handoff.services import Orientation
from bot.triage.classify import classify
from bot.triage.emergencies import NUMBERS, expand
from bot.triage.safety import classifier as safety_classifier
from bot.triage.safety.context import figure_of_speech, told_as_over
from bot.triage.safety.cues import CUES, find_cues
from bot.triage.safety.screen import NOTHING, Prediction, possible_numbers, screen

EVAL = PROJECT_ROOT / "tests" / "nlu_eval"

# The messages of issue 10 that got no number at all, and what they should get first.
MISSED_BEFORE = [
    ("J'ai mis de côté toutes mes pilules pour ce soir. Je veux juste que ça s'arrête.", "3114"),
    ("j'ai plus envie de me réveiller le matin", "3114"),
    ("je serai plus là le mois prochain, c'est pas la peine de me rappeler", "3114"),
    ("y a quelqu'un qui est en train de rentrer chez moi par la fenêtre, je suis dans la chambre", "17"),
    ("une voiture brûle sur le parking et il y a quelqu'un dedans", "112"),
    ("la petite voisine de 6 ans est toute seule chez elle depuis trois jours", "119"),
]


@pytest.mark.parametrize("text, number", MISSED_BEFORE)
def test_the_messages_missed_before_get_a_number_or_the_check_first(text, number):
    result = screen(text)
    assert result.tier in (1, 2), result
    assert result.number == number, result


@pytest.mark.parametrize("text", [
    "les impôts vont me tuer avec leur formulaire",
    "j'ai été radié et expulsé de Pôle emploi, je veux me réinscrire",
    "je dois déclarer le décès de mon père à la caf",
    "j'ai été agressée dans le métro en 2023, la CAF me réclame le récépissé de plainte",
    "je vais exploser avec ce captcha lol",
    "mon adresse a changé, je dois la mettre à jour partout maintenant",
    "il fait beau aujourd'hui",
    "bonjour, j'ai besoin d'aide pour ma déclaration trimestrielle",
])
def test_look_alikes_raise_no_alarm(text):
    assert screen(text) == NOTHING


def test_a_certain_emergency_keeps_its_number_and_lists_every_number_given():
    result = screen("mon mari me frappe, il a un couteau")
    assert result.certain and result.number == "3919"
    assert list(result.numbers[:2]) == ["3919", "17"]


def test_distress_gets_3114_with_112_and_another_danger_its_own_number_then_112():
    assert possible_numbers("suicide") == ("3114", "112")
    assert possible_numbers("shelter") == ("115", "112")
    assert possible_numbers("general") == ("112",)


def test_either_the_cues_or_the_classifier_raise_the_check():
    sure, unsure = Prediction(0.95, "medical", {"medical": 1.0}), Prediction(0.01, "medical", {"medical": 1.0})
    only_model = screen("texte sans aucun indice", classify=lambda _: sure)
    assert only_model.possible and only_model.number == "15"
    only_cue = screen("je veux juste que tout s'arrête", classify=lambda _: unsure)
    assert only_cue.possible and only_cue.number == "3114"
    assert screen("texte sans aucun indice", classify=lambda _: unsure) == NOTHING


def test_the_model_intent_raises_the_check_but_payloads_and_empty_texts_never_do():
    assert screen("ça va pas du tout à la maison", "urgence_vitale").possible
    assert screen('/choix{"valeur": "oui"}', "urgence_vitale") == NOTHING
    assert screen("", "urgence_vitale") == NOTHING
    assert screen(None) == NOTHING
    assert screen(b"je veux mourir").certain


def test_a_minor_threatened_by_someone_gets_119_and_a_partner_threat_3919():
    assert screen("j'ai 15 ans et mon beau-père m'a mis dehors ce soir").number == "119"
    assert screen("son conjoint l'a menacée de la tuer, elle est enfermée à clé").number == "3919"


def test_context_tells_a_danger_that_is_over_and_a_figure_of_speech():
    assert told_as_over(expand("on a eu le feu dans la cuisine en mars, tout est réparé"))
    assert not told_as_over(expand("il m'a frappée l'an dernier et il recommence ce soir"))
    assert figure_of_speech(expand("je vais me pendre avec ce cerfa de 15 pages"))
    assert not figure_of_speech(expand("je vais me pendre ce soir"))


def test_every_cue_names_a_known_kind_and_whole_words_only():
    assert {kind for kind, _, _ in CUES} <= set(NUMBERS)
    assert not find_cues(expand("la feuille de soins"))  # "feu" inside "feuille"


def test_classify_reports_the_check_as_possible_with_every_number():
    services = Orientation(factory=None)
    result = classify("j'ai plus envie de me réveiller le matin", None, {}, services)
    assert result["emergency_kind"] == "possible" and result["possible_kind"] == "suicide"
    assert result["emergency_number"] == "3114" and result["emergency_numbers"] == ["3114", "112"]
    assert result["missing"][0] == "securite" and result["level"] == "hors_champ"
    certain = classify("je suis à la rue ce soir avec mes enfants", None, {}, services)
    assert certain["emergency_kind"] == "shelter" and certain["emergency_numbers"] == ["115"]
    ordinary = classify("je dois faire ma déclaration caf avant vendredi", None, {}, services)
    assert ordinary["emergency_number"] is None and ordinary["emergency_numbers"] == []


def test_a_procedure_with_a_possible_danger_keeps_its_triage_for_after_the_check():
    result = classify("je dois faire ma declaration caf avant vendredi mais je serai plus là le mois prochain",
                      None, {}, Orientation(factory=None))
    assert result["emergency_kind"] == "possible" and result["level"] == "urgence"


# --- the corpus and its split ---------------------------------------------------------------------------

def _load(name):
    return read_yaml(EVAL / name)


def test_the_safety_corpus_is_big_enough_and_diverse():
    items = _load("safety_train.yml") + _load("safety_test.yml")
    emergencies = [i for i in items if i["number"]]
    lookalikes = [i for i in items if not i["number"]]
    assert len(emergencies) >= 500 and len(lookalikes) >= 500
    numbers = Counter(str(i["number"]) for i in emergencies)
    assert set(numbers) == set(NUMBERS.values()) and numbers["3114"] >= 80
    assert sum(1 for i in emergencies if not i["keyword"]) >= len(emergencies) / 2
    registers = Counter(i["register"] for i in items)
    for register in ("sms", "third_party", "professional", "non_native", "short", "rambling", "mixed_procedure"):
        assert registers[register] >= 20, register


def test_the_frozen_test_part_is_never_trained_on():
    test = {i["text"].strip().lower() for i in _load("safety_test.yml")}
    train = {i["text"].strip().lower() for i in _load("safety_train.yml")}
    assert not test & train
    assert safety_classifier.TRAIN_CORPUS.name == "safety_train.yml"
    assert all(text.lower() not in test for text, _ in safety_classifier.training_set()[0])


def test_the_classifier_survives_a_save_and_a_load(tmp_path):
    examples = [("je veux mourir ce soir", "suicide"), ("ma caf est bloquée", "none"),
                ("il y a le feu", "general"), ("aide pour les impots", "none")] * 3
    model = safety_classifier.train(examples)
    path = tmp_path / "safety.npz"
    model.save(path)
    loaded = safety_classifier.SafetyClassifier.load(path)
    for text in ("je veux mourir", "impots en ligne", "le feu"):
        assert loaded.predict(text).danger == pytest.approx(model.predict(text).danger, abs=1e-6)
        assert loaded.predict(text).kind == model.predict(text).kind
